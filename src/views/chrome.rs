//! The frame around every view: tab bar and status line on top, footer at the bottom.
//!
//! ```text
//! ┌ tabs:   clustertop  1 Overview  2 Nodes … 7 Triage                          ┐
//! │ status: ✖ 3 crit ▲ 9 warn  ● sim ok  12:00:00 UTC demo: migration, …  filter: x │
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

/// One source's word in the status line (`● kube ok`, `▲ agents 39/40 ok`), and how bad it is
/// (0 ok, 1 warning, 2 critical) for the summary.
struct Badge {
    text: String,
    style: Style,
    glyph: &'static str,
    rank: u8,
}

fn rank(h: &SourceHealth) -> u8 {
    match h {
        SourceHealth::Ok | SourceHealth::NotInstalled => 0,
        SourceHealth::Unreachable { .. } => 2,
        _ => 1,
    }
}

/// Per source: its own health, then its scopes that are not ok (a kind that is not installed is
/// not a problem: it is simply not shown). A source without a health of its own (the agents: one
/// scope per agent) shows its scopes. Many scopes are one badge, styled by the worst; Triage has
/// the details. Nodes that only some source reports are one more badge.
fn badges(ctx: &Ctx) -> Vec<Badge> {
    let (t, s) = (ctx.theme, ctx.snap);
    let mut out = Vec::new();
    let listed: Vec<&SourceStatus> =
        s.sources.iter().filter(|x| x.health != SourceHealth::NotInstalled).collect();
    for group in listed.chunk_by(|a, b| a.source == b.source) {
        let has_root = group.iter().any(|x| x.scope.is_empty());
        let shown: Vec<&&SourceStatus> =
            group.iter().filter(|x| !has_root || x.scope.is_empty() || !x.health.is_ok()).collect();
        if shown.len() <= MAX_SCOPES_SHOWN {
            for src in shown {
                let (style, glyph) = widgets::source_health(t, src);
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
                let text = format!("{} {}{old}", src.label(), src.word());
                out.push(Badge { text, style, glyph, rank: rank(&src.health) });
            }
            continue;
        }
        let ok = group.iter().filter(|x| x.health.is_ok()).count();
        let worst = group.iter().max_by_key(|x| rank(&x.health)).unwrap_or(&group[0]);
        let (style, glyph) = widgets::source_health(t, worst);
        let text = format!("{} {ok}/{} ok", group[0].source.label(), group.len());
        out.push(Badge { text, style, glyph, rank: rank(&worst.health) });
    }
    if !s.foreign_nodes.is_empty() {
        let n = s.foreign_nodes.len();
        let text = format!("{n} unknown node{}", if n == 1 { "" } else { "s" });
        out.push(Badge { text, style: t.warn, glyph: t.sym.warn, rank: 1 });
    }
    out
}

/// How much of the sources the status line shows.
#[derive(Clone, Copy, PartialEq)]
enum Sources {
    /// Every badge.
    All,
    /// One: `● 3 sources ok`, or the worst badge and how many others (`▲ prometheus stale +2`).
    Summary,
    /// The worst glyph and how many are ok: `▲ 2/3 ok`.
    Count,
}

fn source_spans(ctx: &Ctx, badges: &[Badge], how: Sources) -> Vec<Span<'static>> {
    let t = ctx.theme;
    let worst =
        badges.iter().enumerate().max_by_key(|(i, b)| (b.rank, std::cmp::Reverse(*i))).map(|(_, b)| b);
    let Some(worst) = worst else { return Vec::new() };
    let n = badges.len();
    let ok = badges.iter().filter(|b| b.rank == 0).count();
    match how {
        Sources::All => {
            badges.iter().map(|b| Span::styled(format!(" {} {}", b.glyph, b.text), b.style)).collect()
        }
        Sources::Summary if n == 1 => {
            vec![Span::styled(format!(" {} {}", worst.glyph, worst.text), worst.style)]
        }
        Sources::Summary if worst.rank == 0 => {
            vec![Span::styled(format!(" {} {n} sources ok", t.sym.ok), t.ok)]
        }
        Sources::Summary => {
            vec![Span::styled(format!(" {} {} +{}", worst.glyph, worst.text, n - 1), worst.style)]
        }
        Sources::Count => vec![Span::styled(format!(" {} {ok}/{n} ok", worst.glyph), worst.style)],
    }
}

fn width(spans: &[Span]) -> usize {
    spans.iter().map(|s| s.content.width()).sum()
}

/// The status line: finding counts, the sources, the clock and what is shown (the kube context,
/// or the demo), and the filter. The clock and the context always stay: when the line is short
/// the counts lose their words, the sources are summarised, the filter goes, and last the
/// context is cut.
pub fn status(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let (t, s) = (ctx.theme, ctx.snap);
    let local = s.now.with_timezone(&s.tz);
    let count = |sev| s.findings.iter().filter(|f| f.severity == sev).count();
    let (crit, warn) = (count(Severity::Critical), count(Severity::Warning));
    let counts = |words: bool| {
        let (c, w) = if words { (" crit", " warn") } else { ("", "") };
        vec![
            Span::styled(format!(" {} {crit}{c}", t.sym.crit), if crit > 0 { t.crit } else { t.muted }),
            Span::styled(format!(" {} {warn}{w} ", t.sym.warn), if warn > 0 { t.warn } else { t.muted }),
        ]
    };
    let badges = badges(ctx);
    let clock = Span::styled(format!("  {} ", local.format("%H:%M:%S %Z")), t.muted);
    let filter = (!ctx.model.filter.is_empty() && ctx.model.mode != Mode::Filter)
        .then(|| Span::styled(format!("  filter: {}", ctx.model.filter), t.accent));
    let avail = usize::from(area.width);
    let layouts = [
        (true, Sources::All, true),
        (false, Sources::All, true),
        (false, Sources::Summary, true),
        (false, Sources::Summary, false),
        (false, Sources::Count, false),
    ];
    let mut line = Vec::new();
    for (i, (words, how, with_filter)) in layouts.into_iter().enumerate() {
        let mut spans = counts(words);
        spans.extend(source_spans(ctx, &badges, how));
        spans.push(clock.clone());
        let cluster_at = spans.len();
        spans.push(Span::styled(s.cluster.clone(), t.accent));
        if with_filter {
            spans.extend(filter.clone());
        }
        let last = i + 1 == layouts.len();
        if width(&spans) <= avail || last {
            if last {
                // The context, cut to what is left (at least a few cells of it).
                let room = avail.saturating_sub(width(&spans[..cluster_at])).max(8);
                spans[cluster_at] = Span::styled(widgets::truncate(t, &s.cluster, room), t.accent);
            }
            line = spans;
            break;
        }
    }
    Paragraph::new(Line::from(line)).style(t.status_bar).render(area, buf);
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
        // Where the moment came from, when it is not the dashboard's own recording.
        _ => match m.at_from.filter(|f| *f != "the recording") {
            Some(from) => {
                format!(" {glyph} REWOUND {when} {dot} {ago} ago {dot} from {from} {dot} Esc: live ")
            }
            None => format!(" {glyph} REWOUND {when} {dot} {ago} ago {dot} Esc: live "),
        },
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

    fn status_at(snap: &crate::model::Snapshot, w: u16) -> String {
        let th = crate::theme::Theme::builtin("mono", true).unwrap();
        fixture::render(snap, &Model::default(), &th, w, 1, status).join("")
    }

    fn push(snap: &mut crate::model::Snapshot, source: SourceId, scope: &str, health: SourceHealth) {
        let updated = Some(snap.now - chrono::Duration::seconds(90));
        snap.sources.push(SourceStatus { source, scope: scope.into(), health, updated, note: None });
        snap.sources.sort_by(|a, b| (a.source, &a.scope).cmp(&(b.source, &b.scope)));
    }

    #[test]
    fn at_80_columns_the_clock_and_context_stay_whatever_the_sources() {
        let mut snap = fixture::snapshot();
        snap.cluster = "prod-eu-west-bm-7".into();
        snap.sources.clear();
        push(&mut snap, SourceId::Kubernetes, "", SourceHealth::Ok);
        let since = snap.now;
        push(&mut snap, SourceId::Prometheus, "", SourceHealth::Stale { since });
        for i in 0..3 {
            push(&mut snap, SourceId::Agents, &format!("http://10.0.0.{i}:9977"), SourceHealth::Ok);
        }
        let wide = status_at(&snap, 200);
        assert!(wide.contains("+ kube ok ! prometheus stale, data 90s old + agents http://10.0.0.0:9977 ok"));
        let line = status_at(&snap, 80);
        assert!(line.contains("13:00:00 CET prod-eu-west-bm-7"), "clock and context:\n{line}");
        assert!(
            line.contains("! prometheus stale, data 90s old +4"),
            "the worst source and the rest:\n{line}"
        );
        // All ok: one summary badge.
        snap.sources.iter_mut().for_each(|s| s.health = SourceHealth::Ok);
        snap.cluster = "a-very-long-kube-context-name-for-the-production-fleet-in-eu-west".into();
        let line = status_at(&snap, 80);
        assert!(line.contains("13:00:00 CET a-very-long-kube-context"), "{line}");
        assert!(line.contains("+ 5/5 ok") || line.contains("+ 5 sources ok"), "{line}");
        // The narrowest terminal still shows the clock and the start of the context.
        let line = status_at(&snap, 40);
        assert!(line.contains("13:00:00 CET a-very"), "{line}");
    }

    #[test]
    fn the_demo_label_is_whole_at_80_columns_in_every_scenario() {
        let now = clustertop_core::testkit::T0;
        for scenario in crate::sim::Scenario::ALL {
            let cfg = crate::sim::SimConfig { scenario, ..Default::default() };
            let snap = crate::sim::snapshot_at(cfg, now, Default::default());
            let line = status_at(&snap, 80);
            let label = format!("demo: {}, 48 nodes, seed 42", scenario.name());
            assert!(line.contains(&label), "{label} in\n{line}");
            assert!(line.contains("+ sim ok"), "{line}");
        }
        // A large demo loses its seed first, never the scenario.
        let cfg = crate::sim::SimConfig {
            nodes: 5000,
            seed: 1234567,
            scenario: crate::sim::Scenario::ConntrackStorm,
            ..Default::default()
        };
        let mut snap = crate::sim::snapshot_at(cfg, now, Default::default());
        snap.findings.clear();
        let line = status_at(&snap, 80);
        assert!(line.contains("demo: conntrack-storm, 5000 nodes"), "{line}");
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
