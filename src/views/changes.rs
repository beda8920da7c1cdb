//! What changed between two moments (`:diff`, `D`): one line per change, in time order, over the
//! whole view; scrolled like the help.

use chrono::{DateTime, Utc};
use clustertop_record::{Change, ChangeKind};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};

use super::{Ctx, widgets};
use crate::app::DiffList;
use crate::model::{BgpVerdict, Severity};

fn local(ctx: &Ctx, t: DateTime<Utc>, fmt: &str) -> String {
    t.with_timezone(&ctx.snap.tz).format(fmt).to_string()
}

fn severity(ctx: &Ctx, s: Severity) -> (Style, &'static str) {
    let t = ctx.theme;
    match s {
        Severity::Critical => (t.crit, t.sym.crit),
        Severity::Warning => (t.warn, t.sym.warn),
        _ => (t.info, t.sym.info),
    }
}

fn verdict(ctx: &Ctx, v: BgpVerdict) -> (Style, &'static str) {
    let t = ctx.theme;
    match v {
        BgpVerdict::Healthy => (t.ok, t.sym.ok),
        BgpVerdict::Degraded => (t.warn, t.sym.warn),
        BgpVerdict::Isolated => (t.crit, t.sym.crit),
        _ => (t.unknown, t.sym.unknown),
    }
}

/// The glyph, its style and the words of one change.
fn describe(ctx: &Ctx, c: &Change) -> (Style, &'static str, String) {
    let t = ctx.theme;
    let arrow = if t.sym.ascii { "->" } else { "→" };
    match &c.kind {
        ChangeKind::FindingAppeared { rule, severity: s, subject, what } => {
            let (st, g) = severity(ctx, *s);
            (st, g, format!("{} {} appeared: {subject}: {what}", s.label(), rule.id()))
        }
        ChangeKind::FindingCleared { rule, severity: s, subject, .. } => {
            (t.ok, t.sym.ok, format!("{} {} cleared: {subject}", s.label(), rule.id()))
        }
        ChangeKind::Verdict { node, rack, tors, to, from_label, to_label, .. } => {
            let (st, g) = verdict(ctx, *to);
            let tors = tors.iter().filter(|x| !x.is_empty()).cloned().collect::<Vec<_>>().join(" ");
            (st, g, format!("{node} ({rack}; {tors}) BGP {from_label} {arrow} {to_label}"))
        }
        ChangeKind::Mode { node, rack, from, to } => (
            t.warn,
            t.sym.warn,
            format!("{node} ({rack}) network mode {} {arrow} {}", from.label(), to.label()),
        ),
        ChangeKind::Session { node, peer, from, to, .. } => {
            let (st, g) = if to == "established" { (t.ok, t.sym.ok) } else { (t.warn, t.sym.warn) };
            (st, g, format!("{node} session to {peer}: {from} {arrow} {to}"))
        }
        ChangeKind::NodeAdded { node, rack } => (t.info, t.sym.info, format!("{node} ({rack}) joined")),
        ChangeKind::NodeRemoved { node, rack } => (t.warn, t.sym.warn, format!("{node} ({rack}) left")),
        ChangeKind::Source { source, from, to } => {
            let (st, g) = if to == "ok" { (t.ok, t.sym.ok) } else { (t.warn, t.sym.warn) };
            (st, g, format!("source {source}: {from} {arrow} {to}"))
        }
        ChangeKind::RuntimeMix { node, from, to } => (
            t.info,
            t.sym.info,
            format!(
                "{node} runtime mix {} {arrow} {}",
                widgets::runtime_mix(from.as_ref()),
                widgets::runtime_mix(to.as_ref())
            ),
        ),
    }
}

/// The lines of the list (also what bounds its scrolling).
pub fn lines<'a>(ctx: &Ctx, list: &DiffList) -> Vec<Line<'a>> {
    let t = ctx.theme;
    let day = list.from.with_timezone(&ctx.snap.tz).date_naive()
        != list.to.with_timezone(&ctx.snap.tz).date_naive();
    let fmt = if day { "%m-%d %H:%M:%S" } else { "%H:%M:%S" };
    let mut out = Vec::new();
    let mut rest = list.changes.as_slice();
    while let Some(c) = rest.first() {
        let run = membership_run(rest);
        let taken = if run > MEMBERSHIP_RUN { run } else { 1 };
        let (st, g, text) = if taken > 1 { joined_or_left(ctx, &rest[..taken]) } else { describe(ctx, c) };
        out.push(Line::from(vec![
            Span::styled(format!(" {} ", local(ctx, c.at, fmt)), t.muted),
            Span::styled(format!("{g} "), st),
            Span::styled(text, t.base),
        ]));
        rest = &rest[taken..];
    }
    out
}

/// More nodes than this joining (or leaving) at one moment are one line: a recording's start, or
/// a relist, lists every node.
const MEMBERSHIP_RUN: usize = 3;

/// How many changes at the head of `changes` are nodes joining (or leaving) at its moment.
fn membership_run(changes: &[Change]) -> usize {
    let Some(first) = changes.first() else { return 0 };
    let same = |c: &Change| {
        c.at == first.at
            && matches!(
                (&first.kind, &c.kind),
                (ChangeKind::NodeAdded { .. }, ChangeKind::NodeAdded { .. })
                    | (ChangeKind::NodeRemoved { .. }, ChangeKind::NodeRemoved { .. })
            )
    };
    changes.iter().take_while(|c| same(c)).count()
}

/// "48 nodes joined: rack-1 8, rack-2 8, …".
fn joined_or_left(ctx: &Ctx, run: &[Change]) -> (Style, &'static str, String) {
    let t = ctx.theme;
    let mut racks: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for c in run {
        if let ChangeKind::NodeAdded { rack, .. } | ChangeKind::NodeRemoved { rack, .. } = &c.kind {
            *racks.entry(rack.as_str()).or_default() += 1;
        }
    }
    let by_rack: Vec<String> = racks.iter().map(|(r, n)| format!("{r} {n}")).collect();
    match run.first().map(|c| &c.kind) {
        Some(ChangeKind::NodeRemoved { .. }) => {
            (t.warn, t.sym.warn, format!("{} nodes left: {}", run.len(), by_rack.join(", ")))
        }
        _ => (t.info, t.sym.info, format!("{} nodes joined: {}", run.len(), by_rack.join(", "))),
    }
}

pub fn render(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let Some(list) = ctx.model.diff.as_ref() else { return };
    if area.width < 10 || area.height < 4 {
        return;
    }
    Clear.render(area, buf);
    let inner = widgets::block(ctx.theme, "").inner(area);
    let h = usize::from(inner.height);
    let all = lines(ctx, list);
    let len = all.len();
    let max = len.saturating_sub(h);
    super::hits::scroll_max(max);
    let scroll = ctx.model.scroll.min(max);
    let fmt = "%Y-%m-%d %H:%M:%S %Z";
    let mut title = format!(
        "Changes {} to {}: {len} (Esc or q closes",
        local(ctx, list.from, fmt),
        local(ctx, list.to, "%H:%M:%S")
    );
    if max > 0 {
        title.push_str(&format!("; j/k scroll: {}-{}", scroll + 1, (scroll + h).min(len)));
    }
    title.push(')');
    widgets::block(ctx.theme, &title).render(area, buf);
    let visible: Vec<Line> = all.into_iter().skip(scroll).take(h).collect();
    Paragraph::new(visible).style(ctx.theme.base).render(inner, buf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Model;
    use crate::testkit::cluster_a as fixture;
    use crate::theme::Theme;
    use chrono::TimeZone;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_764_000_000 + s, 0).single().expect("a time")
    }

    /// A recording's first moment lists every node: one line with the count and racks, not one
    /// line per node; a few nodes joining stay one line each, and other changes are untouched.
    #[test]
    fn many_nodes_joining_at_one_moment_are_one_line() {
        let joined = |i: usize, s| Change {
            at: at(s),
            kind: ChangeKind::NodeAdded {
                node: format!("r{}-n{i:02}", 1 + i / 8),
                rack: format!("rack-{}", 1 + i / 8),
            },
        };
        let mut changes: Vec<Change> = (0..16).map(|i| joined(i, 0)).collect();
        changes.push(Change {
            at: at(0),
            kind: ChangeKind::Source { source: "sim".into(), from: "absent".into(), to: "ok".into() },
        });
        changes.extend((0..2).map(|i| joined(i, 60)));
        let list = DiffList { from: at(-3600), to: at(120), changes };
        let (snap, model, theme) =
            (fixture::snapshot(), Model::default(), Theme::builtin("mono", true).expect("mono"));
        let ctx = Ctx { snap: &snap, model: &model, theme: &theme };
        let text: Vec<String> = lines(&ctx, &list).iter().map(|l| l.to_string()).collect();
        assert_eq!(text.len(), 4, "{text:#?}");
        assert!(text[0].contains("16 nodes joined: rack-1 8, rack-2 8"), "{}", text[0]);
        assert!(text[1].contains("source sim: absent -> ok"), "{}", text[1]);
        assert!(
            text[2].contains("r1-n00 (rack-1) joined") && text[3].contains("r1-n01 (rack-1) joined"),
            "{text:#?}"
        );
    }
}
