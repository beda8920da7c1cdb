//! Overview panels as lines: network modes and BGP, runtime mix, fullest conntrack tables.

use ratatui::text::{Line, Span};

use super::super::Ctx;
use super::super::widgets;
use crate::model::{BgpVerdict, NetMode};

/// Mode counts (largest first, as many as fit), migration progress, then BGP health.
pub fn network(ctx: &Ctx, height: u16, width: u16) -> Vec<Line<'static>> {
    let (t, s) = (ctx.theme, ctx.snap);
    let total = s.nodes.len();
    let rows = ctx.rows();
    let counts = &rows.totals.modes;
    let [healthy, degraded, isolated, unknown] = rows.totals.verdicts;
    let bgp_nodes = healthy + degraded + isolated + unknown;

    let mut tail = Vec::new();
    let migrated = counts.iter().find(|(m, _)| *m == NetMode::CiliumBgp).map_or(0, |(_, c)| *c);
    let share = if total == 0 { 0.0 } else { migrated as f64 / total as f64 };
    let gauge_w = usize::from(width).saturating_sub(27).clamp(4, 20);
    tail.push(Line::from(vec![
        Span::styled(" migration ", t.header),
        Span::styled(widgets::gauge(t, share, gauge_w), t.accent),
        Span::styled(format!(" {} cilium/bgp", crate::viewmodel::pct(share)), t.base),
    ]));
    if bgp_nodes == 0 {
        tail.push(Line::from(Span::styled(" BGP  no BGP nodes", t.muted)));
    } else {
        let hs = healthy as f64 / bgp_nodes as f64;
        let (st, g) = widgets::verdict(t, BgpVerdict::Healthy);
        tail.push(Line::from(vec![
            Span::styled(" BGP ", t.header),
            Span::styled(format!("{g} {healthy}/{bgp_nodes} nodes healthy"), st),
            Span::styled(format!(" ({})", crate::viewmodel::pct(hs)), t.muted),
        ]));
        let mut bad = Vec::new();
        for (v, n) in [
            (BgpVerdict::Degraded, degraded),
            (BgpVerdict::Isolated, isolated),
            (BgpVerdict::Unknown, unknown),
        ] {
            if n == 0 && v == BgpVerdict::Unknown {
                continue;
            }
            let (st, g) = widgets::verdict(t, v);
            let st = if n > 0 { st } else { t.muted };
            bad.push(Span::styled(format!(" {g} {n} {} ", v.word()), st));
            bad.push(Span::raw(" "));
        }
        tail.push(Line::from(bad));
    }

    let room = usize::from(height).saturating_sub(tail.len());
    let mut lines: Vec<Line> = Vec::new();
    if total == 0 {
        lines.push(Line::from(Span::styled(" no nodes reported yet", t.muted)));
    }
    let shown = if counts.len() > room { room.saturating_sub(1) } else { counts.len() };
    let shares =
        crate::viewmodel::shares(&counts.iter().map(|(_, c)| *c as f64).collect::<Vec<_>>(), total as f64);
    for ((m, c), share) in counts.iter().zip(shares).take(shown) {
        lines.push(Line::from(vec![
            Span::styled(format!(" {:<14}", m.label()), t.base),
            Span::styled(format!("{c:>5}"), t.accent),
            Span::styled(format!(" {share:>4}"), t.muted),
        ]));
    }
    if shown < counts.len() && room > 0 {
        let rest: usize = counts.iter().skip(shown).map(|(_, c)| c).sum();
        lines.push(Line::from(Span::styled(
            format!(" +{} more modes: {rest} nodes", counts.len() - shown),
            t.muted,
        )));
    }
    lines.extend(tail);
    lines
}

/// Cluster-wide pods per runtime, with a share gauge; Kata-capable nodes when there is room.
pub fn runtime(ctx: &Ctx, width: u16) -> Vec<Line<'static>> {
    let (t, s) = (ctx.theme, ctx.snap);
    let rows = ctx.rows();
    let gauge_w = usize::from(width).saturating_sub(24).min(20);
    let mut lines = Vec::new();
    let Some(mix) = rows.runtime_summary.mix_rows() else {
        let why = s.unknown.runtime_mix().unwrap_or_default();
        lines.push(Line::from(Span::styled(
            format!(" {} pods per runtime unknown", t.sym.unknown),
            t.unknown,
        )));
        lines.push(Line::from(Span::styled(format!(" {why}"), t.muted)));
        return lines;
    };
    let total: u32 = mix.iter().map(|(_, n, _)| n).sum();
    for (label, n, share) in mix {
        let f = if total == 0 { 0.0 } else { f64::from(n) / f64::from(total) };
        let mut spans = vec![
            Span::styled(format!(" {label:<7}"), t.base),
            Span::styled(format!("{:>6}", widgets::si(u64::from(n))), t.accent),
            Span::styled(format!(" {share:>4} "), t.muted),
        ];
        if gauge_w >= 4 {
            spans.push(Span::styled(widgets::gauge(t, f, gauge_w), t.accent));
        }
        lines.push(Line::from(spans));
    }
    // The same counts as the Runtime view's: unknown nodes are said, never counted as no.
    let sum = &rows.runtime_summary;
    let (kvm, unknown) = (sum.kvm, sum.kvm_unknown);
    let text = if unknown == s.nodes.len() && !s.nodes.is_empty() {
        format!(" kata-capable (KVM) nodes: {} unknown (node agents?)", t.sym.unknown)
    } else if unknown > 0 {
        format!(" kata-capable (KVM) nodes: {kvm}/{} ({} {unknown} unknown)", s.nodes.len(), t.sym.unknown)
    } else {
        format!(" kata-capable (KVM) nodes: {kvm}/{}", s.nodes.len())
    };
    lines.push(Line::from(Span::styled(text, t.muted)));
    lines
}

/// The `n` fullest conntrack tables (the kernel's or Cilium's maps, by the node's mode): glyph,
/// node, gauge, fill and insert failures.
pub fn conntrack(ctx: &Ctx, n: usize, width: u16) -> Vec<Line<'static>> {
    let (t, s) = (ctx.theme, ctx.snap);
    let rows = ctx.rows();
    let v: Vec<(f64, &crate::model::Node)> = (rows.totals.fullest.iter().take(n))
        .filter_map(|&i| Some((crate::analysis::conntrack::worst_fill(&s.nodes[i])?, &*s.nodes[i])))
        .collect();
    if v.is_empty() {
        return vec![Line::from(Span::styled(" no conntrack data (node agents?)", t.muted))];
    }
    // " ✖ " name " " gauge " 93%" " 12/s fail": 19 cells besides the name and the gauge.
    let free = usize::from(width).saturating_sub(19);
    let gauge_w = (free / 3).min(16);
    let name_w = free.saturating_sub(gauge_w).clamp(8, 40);
    v.into_iter()
        .take(n)
        .map(|(f, nd)| {
            let (st, g) = widgets::conntrack_level(t, f);
            let g = g.unwrap_or(t.sym.ok);
            let mut spans = vec![
                Span::styled(format!(" {g} "), st),
                Span::styled(widgets::fit(t, &nd.name, name_w), t.base),
                Span::raw(" "),
            ];
            if gauge_w >= 4 {
                spans.push(Span::styled(widgets::gauge(t, f, gauge_w), st));
            }
            spans.push(Span::styled(format!(" {:>4}", crate::viewmodel::pct(f)), st));
            let tracked = crate::analysis::conntrack::tracking(nd);
            let kernel = nd.conntrack().filter(|_| tracked.kernel).map_or(0.0, |c| c.insert_failed_per_s);
            let fail = kernel + nd.cilium_ct().and_then(|m| m.insert_failed_per_s).unwrap_or(0.0);
            if fail > 0.0 {
                spans.push(Span::styled(format!(" {fail:.0}/s fail"), t.crit));
            }
            Line::from(spans)
        })
        .collect()
}
