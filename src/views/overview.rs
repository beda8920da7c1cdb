//! The Overview (1): the whole cluster on one screen.
//!
//! ```text
//! ┌ Network ──────────┐┌ BGP (to both TORs) ┐┌ Runtimes ─────────┐
//! │ mode split        ││ 2/2 1/2 0/2 ?/2    ││ runc kata gvisor  │
//! └───────────────────┘└────────────────────┘└───────────────────┘
//! ┌ Conntrack, fullest ───────────┐┌ CPU now vs windows ──────────┐
//! └───────────────────────────────┘└──────────────────────────────┘
//! ┌ Top findings ──────────────────────────────────────────────────┐
//! └────────────────────────────────────────────────────────────────┘
//! ┌ CPU 24h ───────────────────────────────────────────────────────┐
//! │ ▁▂▃▅▇█▇▅▃▂ (total utilisation, eighth blocks)                  │
//! │   ▀▀▀▀     (colocation windows)                                │
//! └────────────────────────────────────────────────────────────────┘
//! ```

use chrono::Duration;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::Ctx;
use super::widgets::{self, stacked_chart};
use crate::analysis::rules::conntrack::{CONNTRACK_CRIT, CONNTRACK_WARN};
use crate::model::{BgpVerdict, NetMode, RuntimeMix};
use crate::theme::Theme;

pub fn render(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let tall = area.height >= 40;
    let [top, mid, findings, curve] = area.layout(&Layout::vertical([
        Constraint::Length(if tall { 9 } else { 6 }),
        Constraint::Length(if tall { 7 } else { 5 }),
        Constraint::Fill(1),
        Constraint::Length(if tall { 8 } else { 4 }),
    ]));
    let [net, bgp, rt] = top.layout(&Layout::horizontal([Constraint::Ratio(1, 3); 3]));
    let [ct, cpu] = mid.layout(&Layout::horizontal([Constraint::Ratio(1, 2); 2]));
    panel(ctx, "Network", network_lines(ctx), net, buf);
    panel(ctx, "BGP to both TORs", bgp_lines(ctx), bgp, buf);
    panel(ctx, "Runtimes", runtime_lines(ctx), rt, buf);
    panel(ctx, "Conntrack, fullest", conntrack_lines(ctx, ct.width.saturating_sub(2)), ct, buf);
    panel(ctx, "CPU now vs windows", cpu_lines(ctx), cpu, buf);
    panel(
        ctx,
        "Top findings (7 Triage)",
        finding_lines(ctx, findings.width.saturating_sub(2)),
        findings,
        buf,
    );
    mini_curve(ctx, curve, buf);
}

fn panel(ctx: &Ctx, title: &str, lines: Vec<Line>, area: Rect, buf: &mut Buffer) {
    Paragraph::new(lines).block(widgets::block(ctx.theme, title)).style(ctx.theme.base).render(area, buf);
}

fn share(n: usize, of: usize) -> String {
    if of == 0 { "-".into() } else { format!("{:.0}%", n as f64 * 100.0 / of as f64) }
}

fn network_lines<'a>(ctx: &Ctx) -> Vec<Line<'a>> {
    let (s, t) = (ctx.snap, ctx.theme);
    let total = s.nodes.len();
    let count = |m: NetMode| s.nodes.iter().filter(|n| n.net.mode == m).count();
    let bgp = count(NetMode::CiliumBgp) + count(NetMode::CalicoBgp);
    let not_ready = s.nodes.iter().filter(|n| !n.ready).count();
    let mut head = vec![
        Span::styled(format!("{total} nodes "), t.accent),
        Span::styled(format!("BGP-routed {} ", share(bgp, total)), t.base),
    ];
    if not_ready > 0 {
        head.push(Span::styled(format!("{} {not_ready} not ready", t.sym.warn), t.warn));
    }
    let mut lines = vec![Line::from(head)];
    let mut modes: Vec<(NetMode, usize)> =
        NetMode::ALL.iter().map(|m| (*m, count(*m))).filter(|x| x.1 > 0).collect();
    modes.sort_by_key(|m| std::cmp::Reverse(m.1));
    for (m, n) in modes {
        let st = if m == NetMode::Unknown || m == NetMode::Migrating { t.warn } else { t.base };
        lines.push(Line::from(Span::styled(format!("{:<14}{n:>4} {:>4}", m.label(), share(n, total)), st)));
    }
    lines
}

fn bgp_lines<'a>(ctx: &Ctx) -> Vec<Line<'a>> {
    let (s, t) = (ctx.snap, ctx.theme);
    let count = |v: BgpVerdict| s.nodes.iter().filter(|n| n.bgp_verdict == v).count();
    let bgp_nodes = s.nodes.iter().filter(|n| n.bgp_verdict != BgpVerdict::NotApplicable).count();
    let flapping = s.nodes.iter().filter(|n| n.bgp.iter().any(|b| b.resets_1h >= 3)).count();
    let mut lines = vec![Line::from(Span::styled(format!("{bgp_nodes} BGP nodes"), t.accent))];
    for (v, what) in [
        (BgpVerdict::Healthy, "ok"),
        (BgpVerdict::Degraded, "degraded"),
        (BgpVerdict::Isolated, "isolated"),
        (BgpVerdict::Unknown, "no data"),
    ] {
        let n = count(v);
        let (st, g) = widgets::verdict(t, v);
        let st = if n == 0 && v != BgpVerdict::Healthy { t.muted } else { st };
        lines.push(Line::from(Span::styled(
            format!("{g} {} {n:>4} {:>4} {what}", v.label(), share(n, bgp_nodes)).trim_end().to_string(),
            st,
        )));
    }
    let st = if flapping > 0 { t.warn } else { t.muted };
    lines.push(Line::from(Span::styled(format!("{} {flapping} flapping (>=3 resets/h)", t.sym.warn), st)));
    lines
}

fn runtime_lines<'a>(ctx: &Ctx) -> Vec<Line<'a>> {
    let (s, t) = (ctx.snap, ctx.theme);
    let mut mix = RuntimeMix::default();
    s.nodes.iter().for_each(|n| mix.merge(&n.runtime));
    let total = mix.total() as usize;
    let kvm = s.nodes.iter().filter(|n| n.kvm() == Some(true)).count();
    let mut lines = vec![Line::from(Span::styled(format!("{total} pods on nodes"), t.accent))];
    for (name, n) in [("runc", mix.runc), ("kata", mix.kata), ("gvisor", mix.gvisor), ("other", mix.other)] {
        if n > 0 || name != "other" {
            lines.push(Line::from(format!("{name:<8}{n:>7} {:>5}", share(n as usize, total))));
        }
    }
    lines.push(Line::from(Span::styled(format!("KVM-capable nodes {kvm}/{}", s.nodes.len()), t.muted)));
    lines
}

fn conntrack_lines<'a>(ctx: &Ctx, width: u16) -> Vec<Line<'a>> {
    let (s, t) = (ctx.snap, ctx.theme);
    let mut rows: Vec<(f64, &str, f64)> = s
        .nodes
        .iter()
        .filter_map(|n| n.conntrack().map(|c| (c.fill(), n.name.as_str(), c.insert_failed_per_s)))
        .collect();
    if rows.is_empty() {
        return vec![Line::from(Span::styled("no conntrack data from any source", t.muted))];
    }
    rows.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    let gauge_w = (width as usize).saturating_sub(34).clamp(4, 30);
    rows.iter()
        .take(5)
        .map(|(f, name, ins)| {
            let st = widgets::level(t, *f, CONNTRACK_WARN, CONNTRACK_CRIT);
            let glyph = if *f >= CONNTRACK_CRIT {
                t.sym.crit
            } else if *f >= CONNTRACK_WARN {
                t.sym.warn
            } else {
                " "
            };
            let mut spans = vec![
                Span::styled(format!("{:<12}", widgets::truncate(t, name, 12)), t.base),
                Span::styled(format!("{glyph}{:>4} ", widgets::pct(*f)), st),
                Span::styled(widgets::gauge(t, *f, gauge_w), st),
            ];
            if *ins > 0.0 {
                spans.push(Span::styled(format!(" ins-fail {ins:.1}/s"), t.crit));
            }
            Line::from(spans)
        })
        .collect()
}

fn cpu_lines<'a>(ctx: &Ctx) -> Vec<Line<'a>> {
    let (s, t) = (ctx.snap, ctx.theme);
    let Some(curve) = s.cpu.as_ref().filter(|c| !c.points.is_empty() && c.capacity_cores > 0.0) else {
        return vec![Line::from(Span::styled("no CPU history from any source", t.muted))];
    };
    let last = curve.points[curve.points.len() - 1];
    let cap = curve.capacity_cores;
    let local = s.now.with_timezone(&s.tz).time();
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("now {:.0}% ", last.total() / cap * 100.0), t.accent),
        Span::styled(
            format!(
                "online {:.0}% offline {:.0}% of {cap:.0} cores",
                last.online / cap * 100.0,
                last.offline / cap * 100.0
            ),
            t.base,
        ),
    ])];
    for w in &s.windows {
        let state = if w.contains(local) { "open now" } else { "closed" };
        lines.push(Line::from(Span::styled(format!("window {} {state}", w.label()), t.muted)));
        if let Some(f) = s.fills.iter().rev().find(|f| f.rack.is_none() && f.window == *w && f.complete) {
            let spill = f.spill_core_hours > 0.0
                && s.findings.iter().any(|x| x.rule == crate::model::Rule::WindowSpill);
            let date = f.start.with_timezone(&s.tz).format("%a %d");
            lines.push(Line::from(vec![
                Span::styled(
                    format!(
                        "last ({date}) filled {:.0}%, offline {:.0}%",
                        f.avg_util * 100.0,
                        f.offline_share * 100.0
                    ),
                    t.base,
                ),
                Span::styled(
                    format!(" spill {:.0} core-h", f.spill_core_hours),
                    if spill { t.warn } else { t.muted },
                ),
            ]));
        }
    }
    lines
}

fn finding_lines<'a>(ctx: &Ctx, width: u16) -> Vec<Line<'a>> {
    let (s, t) = (ctx.snap, ctx.theme);
    if s.findings.is_empty() {
        return vec![Line::from(Span::styled(format!("{} no findings", t.sym.ok), t.ok))];
    }
    s.findings
        .iter()
        .take(20)
        .map(|f| {
            let head = format!("{:<12} ", widgets::truncate(t, &f.subject, 12));
            let rest = (width as usize).saturating_sub(head.len() + 7);
            Line::from(vec![
                widgets::severity_span(t, f.severity),
                Span::raw(" "),
                Span::styled(head, t.accent),
                Span::styled(widgets::truncate(t, &f.what, rest), t.base),
            ])
        })
        .collect()
}

/// Total utilisation over the last 24 h as eighth-block bars, windows marked underneath.
fn mini_curve(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let t = ctx.theme;
    let block = widgets::block(t, "CPU last 24h (6 Utilization)");
    let inner = block.inner(area);
    block.render(area, buf);
    let Some(curve) = ctx.snap.cpu.as_ref().filter(|c| !c.points.is_empty()) else {
        Paragraph::new("no CPU history from any source").style(t.muted).render(inner, buf);
        return;
    };
    if inner.height < 2 || inner.width < 2 {
        return;
    }
    let end = curve.points[curve.points.len() - 1].t;
    let start = end - Duration::hours(24);
    let n = inner.width as usize;
    let cols = stacked_chart::buckets(&curve.points, curve.step_s, start, end, n);
    let wins = stacked_chart::window_columns(&ctx.snap.windows, ctx.snap.tz, start, end, n);
    let rows = inner.height - 1;
    for (i, col) in cols.iter().enumerate() {
        let x = inner.x + i as u16;
        let util = col.map_or(0.0, |(on, off)| (on + off) / curve.capacity_cores.max(1e-9));
        bar(buf, t, x, inner.y + rows - 1, rows, util, wins[i]);
        if wins[i]
            && let Some(c) = buf.cell_mut((x, inner.y + rows))
        {
            c.set_symbol(t.sym.window_mark).set_style(t.chart_axis);
        }
    }
}

fn bar(buf: &mut Buffer, t: &Theme, x: u16, bottom: u16, rows: u16, util: f64, window: bool) {
    let eighths = (util.clamp(0.0, 1.0) * f64::from(rows) * 8.0).round() as u16;
    for r in 0..rows {
        let fill = eighths.saturating_sub(r * 8).min(8) as usize;
        if let Some(c) = buf.cell_mut((x, bottom - r)) {
            let st = if window { t.chart_online.patch(t.chart_window) } else { t.chart_online };
            c.set_symbol(t.sym.bar_v[fill]).set_style(st);
        }
    }
}
