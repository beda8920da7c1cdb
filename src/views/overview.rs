//! The overview: the whole cluster on one screen. Headline counts, the network-mode split and
//! migration progress, BGP health, the runtime mix, the fullest conntrack tables, CPU against the
//! colocation windows with a 24 h mini-curve, and the top findings.
//!
//! At 80x24 two rows of two panels sit above the findings; at 120+ columns the top row holds three
//! panels and the CPU panel spans the width with a taller curve.

mod cpu;
mod panels;

#[cfg(test)]
mod tests;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::Ctx;
use super::widgets;
use crate::model::{Finding, Severity};

pub fn render(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let [head, rest] = area.layout(&Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]));
    Paragraph::new(headline(ctx, area.width >= 100)).render(head, buf);
    if area.width >= 120 {
        wide(ctx, rest, buf);
    } else {
        narrow(ctx, rest, buf);
    }
}

/// Up to 119 columns: [Network | CPU], [Conntrack | Runtime], findings; panels are dropped
/// bottom-up when the height runs out, findings keep at least three lines.
fn narrow(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let h = area.height;
    let (a, b) = match h {
        17.. => (8, 5),
        11.. => (8, 0),
        _ => (0, 0),
    };
    let [ra, rb, rf] =
        area.layout(&Layout::vertical([Constraint::Length(a), Constraint::Length(b), Constraint::Fill(1)]));
    let halves = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]);
    if a > 0 {
        if area.width >= 64 {
            let [l, r] = ra.layout(&halves);
            panel(
                ctx,
                "Network",
                panels::network(ctx, l.height.saturating_sub(2), l.width.saturating_sub(2)),
                l,
                buf,
            );
            cpu::panel(ctx, r, buf);
        } else {
            panel(
                ctx,
                "Network",
                panels::network(ctx, ra.height.saturating_sub(2), ra.width.saturating_sub(2)),
                ra,
                buf,
            );
        }
    }
    if b > 0 {
        if area.width >= 64 {
            let [l, r] = rb.layout(&halves);
            let n = l.height.saturating_sub(2) as usize;
            panel(ctx, "Conntrack: fullest", panels::conntrack(ctx, n, l.width.saturating_sub(2)), l, buf);
            panel(ctx, "Runtime mix (pods)", panels::runtime(ctx, r.width.saturating_sub(2)), r, buf);
        } else {
            let n = rb.height.saturating_sub(2) as usize;
            panel(ctx, "Conntrack: fullest", panels::conntrack(ctx, n, rb.width.saturating_sub(2)), rb, buf);
        }
    }
    findings(ctx, rf, buf);
}

/// 120+ columns: [Network | Runtime | Conntrack], CPU across the width, findings.
fn wide(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let h = area.height;
    let top = if h >= 24 { 9 } else { 8.min(h / 2) };
    let cpu_h = if h >= 30 { ((h - top) / 3).clamp(7, 14) } else { 7.min(h.saturating_sub(top + 3)) };
    let [rt, rc, rf] = area.layout(&Layout::vertical([
        Constraint::Length(top),
        Constraint::Length(cpu_h),
        Constraint::Fill(1),
    ]));
    let [l, m, r] = rt.layout(&Layout::horizontal([
        Constraint::Percentage(36),
        Constraint::Percentage(28),
        Constraint::Percentage(36),
    ]));
    panel(
        ctx,
        "Network",
        panels::network(ctx, l.height.saturating_sub(2), l.width.saturating_sub(2)),
        l,
        buf,
    );
    panel(ctx, "Runtime mix (pods)", panels::runtime(ctx, m.width.saturating_sub(2)), m, buf);
    let n = r.height.saturating_sub(2) as usize;
    panel(ctx, "Conntrack: fullest", panels::conntrack(ctx, n, r.width.saturating_sub(2)), r, buf);
    if cpu_h > 2 {
        cpu::panel(ctx, rc, buf);
    }
    findings(ctx, rf, buf);
}

/// A bordered panel holding lines; lines wider than the panel are clipped.
fn panel(ctx: &Ctx, title: &str, lines: Vec<Line<'static>>, area: Rect, buf: &mut Buffer) {
    if area.width < 3 || area.height < 2 {
        return;
    }
    Paragraph::new(lines).block(widgets::block(ctx.theme, title)).render(area, buf);
}

/// `13 nodes  ● 11 ready  ✖ 2 not ready  1234 pods  findings ✖ 2 ▲ 4 ℹ 1`.
fn headline(ctx: &Ctx, wide: bool) -> Line<'static> {
    let (t, s) = (ctx.theme, ctx.snap);
    let ready = s.nodes.iter().filter(|n| n.ready).count();
    let not_ready = s.nodes.len() - ready;
    let mut spans = match &s.unknown.nodes {
        None => vec![
            Span::styled(format!(" {} nodes ", s.nodes.len()), t.accent),
            Span::styled(format!(" {} {ready} ready ", t.sym.ok), t.ok),
            if not_ready > 0 {
                Span::styled(format!(" {} {not_ready} not ready ", t.sym.crit), t.crit)
            } else {
                Span::styled(" 0 not ready ", t.muted)
            },
        ],
        Some(why) => vec![Span::styled(format!(" {} ? nodes ({why}) ", t.sym.unknown), t.unknown)],
    };
    spans.push(match &s.unknown.pods {
        None => Span::styled(format!("  {} pods", widgets::si(s.pods.len() as u64)), t.accent),
        Some(_) if s.unknown.nodes.is_some() => Span::styled("  ? pods", t.unknown),
        Some(why) => Span::styled(format!("  ? pods ({why})"), t.unknown),
    });
    spans.push(Span::styled("   findings ", t.muted));
    for sev in [Severity::Critical, Severity::Warning, Severity::Info] {
        let n = s.findings.iter().filter(|f| f.severity == sev).count();
        let (st, g) = widgets::severity(t, sev);
        let st = if n > 0 { st } else { t.muted };
        let word = if wide { format!(" {}", sev.label().to_lowercase()) } else { String::new() };
        spans.push(Span::styled(format!("{g} {n}{word} "), st));
    }
    Line::from(spans)
}

/// The most severe findings first, one per line; findings with the same rule and text (say three
/// Kata pods on one node without KVM) share a line with a `+N` count. The last line says how many
/// more there are.
fn findings(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let (t, s) = (ctx.theme, ctx.snap);
    if area.width < 3 || area.height < 2 {
        return;
    }
    let n = usize::from(area.height.saturating_sub(2));
    let width = usize::from(area.width.saturating_sub(2));
    let mut order: Vec<&Finding> = s.findings.iter().collect();
    order.sort_by_key(|f| f.severity);
    let groups = crate::viewmodel::group(order);
    let title = format!("Top findings ({})", s.findings.len());
    let mut lines: Vec<Line> = Vec::new();
    if groups.is_empty() {
        lines.push(Line::from(Span::styled(
            format!(" {} no findings: nothing needs attention", t.sym.ok),
            t.ok,
        )));
    }
    let shown = if groups.len() > n { n.saturating_sub(1) } else { groups.len() };
    let with_rule = width >= 150;
    let with_since = width >= 100;
    let subject_w = if with_since { 28 } else { 16 };
    for g in groups.iter().take(shown) {
        let f = g.first();
        let mut spans = vec![Span::raw(" "), widgets::severity_span(t, f.severity), Span::raw(" ")];
        let subject = widgets::counted(t, &f.subject, g.count(), subject_w);
        spans.push(Span::styled(widgets::fit(t, &subject, subject_w), t.accent));
        spans.push(Span::raw(" "));
        let mut used = 8 + subject_w + 1;
        if with_since {
            spans.push(Span::styled(format!("{:>5} ", widgets::age(s.now, f.since)), t.muted));
            used += 6;
        }
        if with_rule {
            spans.push(Span::styled(widgets::fit(t, f.rule.id(), 34), t.muted));
            used += 34;
        }
        spans.push(Span::raw(widgets::truncate(t, &f.what, width.saturating_sub(used))));
        lines.push(Line::from(spans));
    }
    if shown < groups.len() {
        let more: usize = groups.iter().skip(shown).map(|g| g.count()).sum();
        lines.push(Line::from(Span::styled(
            format!(" {} {more} more: press 7 for Triage", t.sym.ellipsis),
            t.muted,
        )));
    }
    panel(ctx, &title, lines, area, buf);
}
