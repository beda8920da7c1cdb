//! The frame around every view: tab bar and status line on top, footer at the bottom.
//!
//! ```text
//! ┌ tabs:   clustertop  1 Overview  2 Nodes … 7 Triage                          ┐
//! │ status: demo (48 nodes…)  12:00 UTC  sim ok  ✖ 3 crit ▲ 9 warn  filter: x    │
//! │ body (the view)                                                              │
//! └ footer: key hints, or the input line, or a message                           ┘
//! ```

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::{Ctx, widgets};
use crate::app::{Mode, View};
use crate::keymap;
use crate::model::{Severity, SourceHealth};

/// Titles short enough for 80 columns.
fn short_title(v: View) -> &'static str {
    match v {
        View::Overview => "Overview",
        View::Nodes => "Nodes",
        View::Network => "Net",
        View::Runtime => "Runtime",
        View::Conntrack => "Conntrack",
        View::Utilization => "Util",
        View::Triage => "Triage",
    }
}

pub fn tabs(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let t = ctx.theme;
    let wide = area.width >= 96;
    let mut spans = vec![Span::styled(" clustertop ", t.title)];
    for v in View::ALL {
        let title = if wide { v.title() } else { short_title(v) };
        let st = if v == ctx.model.view { t.tab_active } else { t.tab };
        spans.push(Span::raw(" "));
        spans.push(Span::styled(format!("{} {title}", v.index() + 1), st));
    }
    Paragraph::new(Line::from(spans)).style(t.base).render(area, buf);
}

pub fn status(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let (t, s) = (ctx.theme, ctx.snap);
    let local = s.now.with_timezone(&s.tz);
    let count = |sev| s.findings.iter().filter(|f| f.severity == sev).count();
    let (crit, warn) = (count(Severity::Critical), count(Severity::Warning));
    let mut spans = vec![
        Span::styled(format!(" {} {crit} crit", t.sym.crit), if crit > 0 { t.crit } else { t.muted }),
        Span::styled(format!(" {} {warn} warn ", t.sym.warn), if warn > 0 { t.warn } else { t.muted }),
    ];
    // A kind that is not installed is not a problem: it is simply not shown.
    for src in s.sources.iter().filter(|x| x.health != SourceHealth::NotInstalled) {
        let (st, g) = widgets::source_health(t, &src.health);
        spans.push(Span::styled(format!(" {g} {} {}", src.label(), src.health.word()), st));
    }
    spans.push(Span::styled(format!("  {} ", local.format("%H:%M:%S %Z")), t.muted));
    spans.push(Span::styled(s.cluster.clone(), t.accent));
    if !ctx.model.filter.is_empty() && ctx.model.mode != Mode::Filter {
        spans.push(Span::styled(format!("  filter: {}", ctx.model.filter), t.accent));
    }
    Paragraph::new(Line::from(spans)).style(t.status_bar).render(area, buf);
}

pub fn footer(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let t = ctx.theme;
    let m = ctx.model;
    let line = match &m.mode {
        Mode::Filter => edit_line(ctx, "/", &m.input),
        Mode::Command => edit_line(ctx, ":", &m.input),
        _ if m.message.is_some() => {
            Line::from(Span::styled(format!(" {}", m.message.as_deref().unwrap_or("")), t.warn))
        }
        mode => {
            let mut spans = Vec::new();
            for (k, h) in keymap::footer(mode) {
                spans.push(Span::styled(format!(" {k}"), t.key));
                spans.push(Span::styled(format!(" {h} "), t.muted));
            }
            Line::from(spans)
        }
    };
    Paragraph::new(line).style(t.base).render(area, buf);
}

fn edit_line<'a>(ctx: &Ctx, prompt: &'a str, text: &str) -> Line<'a> {
    let t = ctx.theme;
    Line::from(vec![
        Span::styled(prompt, t.key),
        Span::styled(text.to_string(), t.base),
        Span::styled(" ", t.selected),
        Span::styled("   Enter apply  Esc cancel", t.muted),
    ])
}

/// Shown instead of everything when the terminal is too small to be useful.
pub fn too_small(area: Rect, buf: &mut Buffer, style: Style) {
    let msg = format!("terminal {}x{} is too small; clustertop needs 40x10", area.width, area.height);
    Paragraph::new(msg).style(style).wrap(ratatui::widgets::Wrap { trim: true }).render(area, buf);
}
