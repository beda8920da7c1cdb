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
use unicode_width::UnicodeWidthStr;

use super::{Ctx, widgets};
use crate::app::{Mode, Past, View};
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
    let mut x = area.x + 12;
    for v in View::ALL {
        let title = if wide { v.title() } else { short_title(v) };
        let st = if v == ctx.model.view { t.tab_active } else { t.tab };
        let label = format!("{} {title}", v.index() + 1);
        let w = label.width() as u16;
        super::hits::tab(Rect { x: x + 1, y: area.y, width: w, height: 1 }.intersection(area), v);
        x += 1 + w;
        spans.push(Span::raw(" "));
        spans.push(Span::styled(label, st));
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
                let (st, g) = widgets::source_health(t, &src.health);
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
                spans.push(Span::styled(format!(" {g} {} {}{old}", src.label(), src.health.word()), st));
            }
            continue;
        }
        let ok = group.iter().filter(|x| x.health.is_ok()).count();
        let worst = group.iter().find(|x| matches!(x.health, SourceHealth::Unreachable { .. }));
        let worst = worst.or_else(|| group.iter().find(|x| !x.health.is_ok())).unwrap_or(&group[0]);
        let (st, g) = widgets::source_health(t, &worst.health);
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

/// Whether the banner line is shown: rewound, or replaying a recording.
pub fn has_banner(model: &crate::app::Model) -> bool {
    model.at.is_some() || matches!(model.past, Past::Replay { .. })
}

/// The banner's words: the moment on screen, its distance from now (in a replay: from the end
/// of the recording), and the way back.
pub fn banner_text(ctx: &Ctx) -> String {
    let (t, m, s) = (ctx.theme, ctx.model, ctx.snap);
    let (glyph, dot) = if t.sym.ascii { ("<<", "-") } else { ("◀◀", "·") };
    let shown = m.at.unwrap_or(s.now);
    let now = m.live.as_ref().map_or(s.now, |l| l.now);
    let local = shown.with_timezone(&s.tz);
    let same_day = local.date_naive() == now.with_timezone(&s.tz).date_naive();
    let when = local.format(if same_day { "%H:%M:%S %Z" } else { "%Y-%m-%d %H:%M:%S %Z" });
    let ago = crate::format::duration(
        (now - shown).num_seconds().max(0).unsigned_abs(),
        crate::format::Precision::Exact,
    );
    match (&m.past, m.at) {
        (Past::Replay { context }, Some(_)) => {
            format!(" {glyph} REPLAY of {context} at {when} {dot} {ago} before the end {dot} Esc: the end ")
        }
        (Past::Replay { context }, None) => {
            format!(
                " {glyph} REPLAY of {context} at {when} {dot} the end of the recording {dot} [ {{ :at go back "
            )
        }
        _ => format!(" {glyph} REWOUND {when} {dot} {ago} ago {dot} Esc: live "),
    }
}

/// The banner: a full-width line that cannot be missed (reversed, bold, a glyph and a word, so
/// it survives `NO_COLOR` and `--ascii`).
pub fn banner(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let t = ctx.theme;
    let style = t.warn.add_modifier(ratatui::style::Modifier::REVERSED | ratatui::style::Modifier::BOLD);
    buf.set_style(area, style);
    Paragraph::new(Line::from(Span::styled(banner_text(ctx), style))).style(style).render(area, buf);
}

pub fn footer(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let t = ctx.theme;
    let m = ctx.model;
    let line = match &m.mode {
        Mode::Filter => edit_line(ctx, "/", area.width),
        Mode::Command => edit_line(ctx, ":", area.width),
        _ if m.message.is_some() => {
            Line::from(Span::styled(format!(" {}", m.message.as_deref().unwrap_or("")), t.warn))
        }
        _ => {
            let mut keys = keymap::footer(m);
            // Too many for the width: these go first (`?` lists them all).
            let width =
                |keys: &[(&str, &str)]| keys.iter().map(|(k, h)| k.width() + h.width() + 3).sum::<usize>();
            for drop in ["y", ":", "s/r", "q"] {
                if width(&keys) <= usize::from(area.width) {
                    break;
                }
                keys.retain(|(k, _)| *k != drop);
            }
            let mut spans = Vec::new();
            for (k, h) in keys {
                spans.push(Span::styled(format!(" {k}"), t.key));
                spans.push(Span::styled(format!(" {h} "), t.muted));
            }
            Line::from(spans)
        }
    };
    Paragraph::new(line).style(t.base).render(area, buf);
}

/// The input line: the prompt, the text with its cursor, then the completions (or the keys that
/// work in it). A line longer than the footer scrolls so the cursor stays in view.
fn edit_line<'a>(ctx: &Ctx, prompt: &'a str, width: u16) -> Line<'a> {
    let (t, m) = (ctx.theme, ctx.model);
    let chars: Vec<char> = m.input.text().chars().collect();
    let cur = m.input.cursor().min(chars.len());
    let room = usize::from(width).saturating_sub(prompt.width() + 1).max(1);
    let first = (cur + 1).saturating_sub(room);
    let before: String = chars[first..cur].iter().collect();
    let at: String = chars.get(cur).map_or(" ".to_string(), |c| c.to_string());
    let after: String = chars.iter().skip(cur + 1).collect();
    let hint = match &m.hint {
        Some(h) => format!("   {h}"),
        None => {
            let keys: Vec<String> = keymap::footer(m).iter().map(|(k, h)| format!("{k} {h}")).collect();
            format!("   {}", keys.join("  "))
        }
    };
    Line::from(vec![
        Span::styled(prompt, t.key),
        Span::styled(before, t.base),
        Span::styled(at, t.selected),
        Span::styled(after, t.base),
        Span::styled(hint, t.muted),
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
