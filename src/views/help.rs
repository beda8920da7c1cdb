//! The help screen, generated from the keymap.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};

use super::{Ctx, widgets};
use crate::keymap::{self, Ctx as KCtx};

/// The help lines (also used to bound scrolling).
pub fn lines<'a>(ctx: &Ctx) -> Vec<Line<'a>> {
    let t = ctx.theme;
    let mut out = Vec::new();
    let sections = [
        (KCtx::Browse, "Browsing"),
        (KCtx::Detail, "Node detail"),
        (KCtx::Edit, "Filter (/) and command (:) line"),
    ];
    for (kctx, title) in sections {
        out.push(Line::from(Span::styled(title, t.header)));
        for b in keymap::described(kctx) {
            out.push(Line::from(vec![
                Span::styled(format!("  {:<12}", b.keys), t.key),
                Span::styled(b.help, t.base),
            ]));
        }
        out.push(Line::default());
    }
    out.push(Line::from(Span::styled("Commands", t.header)));
    for (c, h) in keymap::COMMANDS {
        out.push(Line::from(vec![Span::styled(format!("  {c:<24}"), t.key), Span::styled(*h, t.base)]));
    }
    out.push(Line::default());
    out.push(Line::from(Span::styled("Status glyphs (colour is never the only signal)", t.header)));
    let s = &t.sym;
    out.push(Line::from(vec![
        Span::styled(format!("  {} ok/2of2  ", s.ok), t.ok),
        Span::styled(format!("{} warning/1of2  ", s.warn), t.warn),
        Span::styled(format!("{} critical/0of2  ", s.crit), t.crit),
        Span::styled(format!("{} info  ", s.info), t.info),
        Span::styled(format!("{} unknown", s.unknown), t.unknown),
    ]));
    out
}

pub fn render(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let w = area.width.saturating_sub(4).min(100);
    let h = area.height.saturating_sub(2);
    let popup = Rect { x: area.x + (area.width - w) / 2, y: area.y + 1, width: w, height: h };
    Clear.render(popup, buf);
    let lines = lines(ctx);
    let max = lines.len().saturating_sub(h.saturating_sub(2) as usize);
    let scroll = ctx.model.scroll.min(max) as u16;
    Paragraph::new(lines)
        .block(widgets::block(ctx.theme, "Help  (Esc or ? to close, j/k to scroll)"))
        .style(ctx.theme.base)
        .scroll((scroll, 0))
        .render(popup, buf);
}
