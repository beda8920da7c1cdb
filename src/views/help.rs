//! The help screen, generated from the keymap: every key with where it works, the `:` commands,
//! the mouse, the compact codes of the tables and the status glyphs. Long entries wrap under
//! their text, never cut; from 160 columns the keys and the rest sit side by side.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};
use unicode_width::UnicodeWidthStr;

use super::{Ctx, widgets};
use crate::keymap;

/// Width of the key column of the keys, and of the commands.
const KEY_W: usize = 15;
const COMMAND_W: usize = 24;

/// One entry: `key` in a column `key_w` wide, then `text` (and `note`, muted) wrapped to `width`
/// under it.
fn entry<'a>(ctx: &Ctx, key: &str, key_w: usize, text: &str, note: &str, width: usize) -> Vec<Line<'a>> {
    let t = ctx.theme;
    let key_w = key_w.max(key.width() + 1);
    let room = width.saturating_sub(2 + key_w).max(12);
    let words = text
        .split_whitespace()
        .map(|w| (w.to_string(), t.base))
        .chain(note.split_whitespace().map(|w| (w.to_string(), t.muted)));
    let mut rows: Vec<Vec<Span<'a>>> = vec![Vec::new()];
    let mut col = 0;
    for (w, st) in words {
        let ww = w.width();
        if col > 0 && col + 1 + ww > room {
            rows.push(Vec::new());
            col = 0;
        }
        let row = rows.last_mut().expect("a row");
        if col > 0 {
            row.push(Span::styled(" ", st));
            col += 1;
        }
        col += ww;
        row.push(Span::styled(w, st));
    }
    rows.into_iter()
        .enumerate()
        .map(|(i, row)| {
            let lead = if i == 0 { format!("  {key:<key_w$}") } else { " ".repeat(2 + key_w) };
            let mut spans = vec![Span::styled(lead, t.key)];
            spans.extend(row);
            Line::from(spans)
        })
        .collect()
}

fn header<'a>(style: Style, title: &'a str) -> Line<'a> {
    Line::from(Span::styled(title, style))
}

/// Every key, with where it works.
fn keys<'a>(ctx: &Ctx, width: usize) -> Vec<Line<'a>> {
    let mut out = vec![header(ctx.theme.header, "Keys (where they work)")];
    for b in keymap::described() {
        out.extend(entry(ctx, b.keys, KEY_W, b.help, &format!("[{}]", keymap::where_(b)), width));
    }
    out
}

/// Commands, mouse, codes and glyphs.
fn reference<'a>(ctx: &Ctx, width: usize) -> Vec<Line<'a>> {
    let t = ctx.theme;
    let mut out = vec![header(t.header, "Commands (: then Tab completes)")];
    for c in keymap::COMMANDS {
        let usage =
            if c.args.is_empty() { format!(":{}", c.name) } else { format!(":{} {}", c.name, c.args) };
        out.extend(entry(ctx, &usage, COMMAND_W, c.help, "", width));
    }
    out.push(Line::default());
    out.push(header(t.header, "Sort columns (s steps through them; :sort NAME picks one)"));
    let sorts = crate::viewmodel::Sorts::default();
    for v in crate::app::View::ALL {
        if let Some(table) = v.table() {
            out.extend(entry(ctx, v.title(), KEY_W, &sorts.get(table).names().join(" "), "", width));
        }
    }
    out.push(Line::default());
    out.push(header(t.header, "Mouse (off: --no-mouse, or mouse = false in the config)"));
    for (k, h) in keymap::MOUSE {
        out.extend(entry(ctx, k, KEY_W, h, "", width));
    }
    out.push(Line::default());
    out.push(header(t.header, "Codes in the tables"));
    for (k, h) in keymap::CODES {
        let h = h.replace('▲', t.sym.warn);
        out.extend(entry(ctx, k, KEY_W, &h, "", width));
    }
    out.push(Line::default());
    out.push(header(t.header, "Status glyphs (colour is never the only signal)"));
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

/// The help lines in one column `width` wide (also what bounds its scrolling).
pub fn lines<'a>(ctx: &Ctx, width: usize) -> Vec<Line<'a>> {
    let mut out = keys(ctx, width);
    out.push(Line::default());
    out.extend(reference(ctx, width));
    out
}

pub fn render(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    if area.width < 10 || area.height < 4 {
        return;
    }
    // Over the whole view: every row is worth having.
    let popup = area;
    Clear.render(popup, buf);
    let inner = widgets::block(ctx.theme, "").inner(popup);
    let h = usize::from(inner.height);
    let columns: Vec<(Rect, Vec<Line>)> = if inner.width >= 156 {
        let [l, r] = inner.layout(&Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).spacing(2));
        vec![(l, keys(ctx, usize::from(l.width))), (r, reference(ctx, usize::from(r.width)))]
    } else {
        vec![(inner, lines(ctx, usize::from(inner.width)))]
    };
    let len = columns.iter().map(|(_, l)| l.len()).max().unwrap_or(0);
    let max = len.saturating_sub(h);
    super::hits::scroll_max(max);
    let scroll = ctx.model.scroll.min(max);
    let mut title = "Help  (Esc, q or ? closes".to_string();
    if max > 0 {
        title.push_str(&format!("; j/k scroll: lines {}-{} of {len}", scroll + 1, (scroll + h).min(len)));
    }
    title.push(')');
    widgets::block(ctx.theme, &title).render(popup, buf);
    for (r, lines) in columns {
        let visible: Vec<Line> = lines.into_iter().skip(scroll).take(h).collect();
        Paragraph::new(visible).style(ctx.theme.base).render(r, buf);
    }
}
