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
use crate::format::Age;
use crate::keymap;
use crate::model::{Severity, SourceHealth, SourceStatus};

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

/// Scopes of one source listed one by one in the status line; more are summarised.
const MAX_SCOPES_SHOWN: usize = 5;

pub fn status(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let (t, s) = (ctx.theme, ctx.snap);
    let local = s.now.with_timezone(&s.tz);
    let count = |sev| s.findings.iter().filter(|f| f.severity == sev).count();
    let (crit, warn) = (count(Severity::Critical), count(Severity::Warning));
    let mut spans = vec![
        Span::styled(format!(" {} {crit} crit", t.sym.crit), if crit > 0 { t.crit } else { t.muted }),
        Span::styled(format!(" {} {warn} warn ", t.sym.warn), if warn > 0 { t.warn } else { t.muted }),
    ];
    // Per source: its own health, then its scopes that are not ok (a kind that is not installed
    // is not a problem: it is simply not shown). A source without a health of its own (the
    // agents: one scope per agent) shows its scopes. Many scopes are one summary, styled by the
    // worst; Triage has the details.
    let listed: Vec<&SourceStatus> =
        s.sources.iter().filter(|x| x.health != SourceHealth::NotInstalled).collect();
    for group in listed.chunk_by(|a, b| a.source == b.source) {
        let has_root = group.iter().any(|x| x.scope.is_empty());
        let shown: Vec<&&SourceStatus> =
            group.iter().filter(|x| !has_root || x.scope.is_empty() || !x.health.is_ok()).collect();
        if shown.len() <= MAX_SCOPES_SHOWN {
            for src in shown {
                let (st, g) = widgets::source_health(t, src);
                // A source that stopped answering: how old is what is on screen?
                let old = match (&src.health, src.updated) {
                    (SourceHealth::Unreachable { .. } | SourceHealth::Stale { .. }, Some(at)) => {
                        match widgets::age(s.now, Some(at)) {
                            Age::Now => String::new(),
                            age => format!(", data {age} old"),
                        }
                    }
                    _ => String::new(),
                };
                spans.push(Span::styled(format!(" {g} {} {}{old}", src.label(), src.word()), st));
            }
            continue;
        }
        let ok = group.iter().filter(|x| x.health.is_ok()).count();
        let worst = group.iter().find(|x| matches!(x.health, SourceHealth::Unreachable { .. }));
        let worst = worst.or_else(|| group.iter().find(|x| !x.health.is_ok())).unwrap_or(&group[0]);
        let (st, g) = widgets::source_health(t, worst);
        spans.push(Span::styled(format!(" {g} {} {ok}/{} ok", group[0].source.label(), group.len()), st));
    }
    if !s.foreign_nodes.is_empty() {
        let n = s.foreign_nodes.len();
        spans.push(Span::styled(
            format!(" {} {n} unknown node{}", t.sym.warn, if n == 1 { "" } else { "s" }),
            t.warn,
        ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Model;
    use crate::model::SourceId;
    use crate::testkit::cluster_b as fixture;

    #[test]
    fn many_agents_are_one_summary_in_the_status_line() {
        let mut snap = fixture::snapshot();
        snap.sources.retain(|s| s.source != SourceId::Agents);
        for i in 0..40 {
            let health = if i == 7 {
                SourceHealth::Unreachable { error: "timed out".into() }
            } else {
                SourceHealth::Ok
            };
            snap.sources.push(SourceStatus {
                source: SourceId::Agents,
                scope: format!("http://10.0.0.{i}:9977"),
                health,
                updated: None,
                note: None,
            });
        }
        snap.sources.sort_by(|a, b| (a.source, &a.scope).cmp(&(b.source, &b.scope)));
        let th = crate::theme::Theme::builtin("mono", true).unwrap();
        let line = fixture::render(&snap, &Model::default(), &th, 200, 1, status).join("");
        assert!(line.contains("X agents 39/40 ok"), "{line}");
        assert!(!line.contains("10.0.0."), "{line}");
    }

    #[test]
    fn a_source_that_stopped_answering_says_how_old_its_data_is() {
        let mut snap = fixture::snapshot();
        snap.sources.retain(|s| s.source != SourceId::Kubernetes);
        snap.sources.push(SourceStatus {
            source: SourceId::Kubernetes,
            scope: String::new(),
            health: SourceHealth::Unreachable { error: "connection refused".into() },
            updated: Some(snap.now - chrono::Duration::seconds(40)),
            note: None,
        });
        snap.sources.sort_by(|a, b| (a.source, &a.scope).cmp(&(b.source, &b.scope)));
        let th = crate::theme::Theme::builtin("mono", true).unwrap();
        let line = fixture::render(&snap, &Model::default(), &th, 200, 1, status).join("");
        assert!(line.contains("kube unreachable, data 40s old"), "{line}");
    }
}
