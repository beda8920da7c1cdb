//! The node detail's host-level sections: conntrack (the kernel's and Cilium's maps), the batch
//! tier, and host limits with the CPU history and where each fact came from.

use ratatui::text::{Line, Span};

use super::super::Ctx;
use super::super::widgets;
use super::sections::{LW, label};
use crate::model::Node;

pub(super) fn conntrack(ctx: &Ctx, node: &Node) -> Vec<Line<'static>> {
    let (t, s) = (ctx.theme, ctx.snap);
    let Some(c) = node.conntrack() else {
        return vec![Line::from(vec![
            label(ctx, "Conntrack"),
            Span::styled("no data (node agent?)", t.muted),
        ])];
    };
    let f = c.fill();
    let (st, g) = widgets::conntrack_level(t, f);
    let g = g.unwrap_or(t.sym.ok);
    let rate = |v: f64| if v > 0.0 { t.crit } else { t.base };
    let mut out = vec![Line::from(vec![
        label(ctx, "Conntrack"),
        Span::styled(format!("{}/{} ", widgets::si(c.entries), widgets::si(c.limit)), t.base),
        Span::styled(widgets::gauge(t, f, 20), st),
        Span::styled(format!(" {g} {}", crate::viewmodel::pct(f)), st),
    ])];
    if !crate::analysis::conntrack::tracking(node).kernel {
        out.push(Line::styled(
            "   the host's own connections: pods' go through Cilium's maps (not judged)",
            t.muted,
        ));
    }
    out.extend([Line::from(vec![
        Span::styled(format!("   insert-failed {:.1}/s", c.insert_failed_per_s), rate(c.insert_failed_per_s)),
        Span::styled(format!("  drop {:.1}/s", c.drop_per_s), rate(c.drop_per_s)),
        Span::styled(format!("  early-drop {:.1}/s", c.early_drop_per_s), rate(c.early_drop_per_s)),
    ])]);
    let ka = s.keepalive_idle_s;
    out.push(match c.tcp_established_timeout_s {
        Some(to) if to < ka => Line::from(vec![
            Span::styled(format!("   established timeout {} ", widgets::secs(to)), t.base),
            Span::styled(format!("{} below keep-alive idle {}", t.sym.crit, widgets::secs(ka)), t.crit),
        ]),
        Some(to) => Line::from(vec![
            Span::styled(format!("   established timeout {} ", widgets::secs(to)), t.base),
            Span::styled(format!("{} above keep-alive idle {}", t.sym.ok, widgets::secs(ka)), t.ok),
        ]),
        None => Line::styled("   established timeout unknown", t.muted),
    });
    if c.tcp_established_timeout_s.is_some_and(|to| to < ka) {
        out.push(Line::styled(
            "      idle keep-alive connections lose their NAT entry (intermittent 502s)",
            t.crit,
        ));
    }
    let bridge = node.net.mode.is_bridge();
    out.push(match c.bridge_nf_call_iptables {
        Some(true) if bridge => Line::from(vec![
            Span::styled("   bridge-nf-call-iptables ", t.base),
            Span::styled(format!("{} on, on a bridge node", t.sym.crit), t.crit),
        ]),
        Some(true) => Line::styled("   bridge-nf-call-iptables on", t.base),
        Some(false) => Line::styled("   bridge-nf-call-iptables off", t.base),
        None => Line::styled("   bridge-nf-call-iptables not loaded (br_netfilter absent)", t.muted),
    });
    if c.bridge_nf_call_iptables == Some(true) && bridge {
        out.push(Line::styled("      pod to Service IP to a same-node pod gets no reply", t.crit));
    }
    out
}

/// Koordinator's batch tier: the reclaimed capacity the node offers batch pods and what they
/// request of it; nothing on a node without batch allocatable.
pub(super) fn batch_tier(ctx: &Ctx, node: &Node) -> Vec<Line<'static>> {
    let t = ctx.theme;
    let Some(b) = node.batch else { return Vec::new() };
    let mut out = vec![batch_line(ctx, label(ctx, "Batch tier"), b)];
    let rack = crate::viewmodel::batch::rack_batch(ctx.snap, &node.rack);
    if let Some(r) = rack {
        out.push(batch_line(ctx, Span::styled(format!("   {:<w$}", node.rack, w = LW - 2), t.muted), r));
    }
    let pad = " ".repeat(LW + 1);
    out.push(match (b.used_cores, rack.and_then(|r| r.used_cores)) {
        (Some(n), Some(r)) => {
            Line::styled(format!("{pad}used now: {n:.1} cores, {} {r:.1} cores", node.rack), t.base)
        }
        (Some(n), None) => Line::styled(format!("{pad}used now: {n:.1} cores"), t.base),
        _ => Line::styled(
            format!("{pad}used now {} no metrics (offline pods' CPU is Prometheus')", t.sym.unknown),
            t.unknown,
        ),
    });
    out
}

/// `alloc … cores …Gi  req … cores (…%) …Gi (…%)` after `head`.
fn batch_line(ctx: &Ctx, head: Span<'static>, b: crate::model::BatchTier) -> Line<'static> {
    let t = ctx.theme;
    let a = b.allocatable;
    let cores = |m: u64| format!("{:.1} cores", m as f64 / 1000.0);
    let mut spans =
        vec![head, Span::styled(format!("alloc {} {}", cores(a.cpu_m), widgets::bytes(a.mem_bytes)), t.base)];
    match b.requested {
        None => spans.push(Span::styled(format!("  req {} pods not known", t.sym.unknown), t.unknown)),
        Some(r) => {
            let share = |used: u64, of: u64| {
                if of == 0 {
                    String::new()
                } else {
                    format!(" ({})", crate::viewmodel::pct(used as f64 / of as f64))
                }
            };
            spans.push(Span::styled(
                format!(
                    "  req {}{} {}{}",
                    cores(r.cpu_m),
                    share(r.cpu_m, a.cpu_m),
                    widgets::bytes(r.mem_bytes),
                    share(r.mem_bytes, a.mem_bytes)
                ),
                t.base,
            ));
        }
    }
    Line::from(spans)
}

/// Cilium's BPF CT and NAT maps, where Cilium runs or its maps are reported; nothing elsewhere.
pub(super) fn cilium_maps(ctx: &Ctx, node: &Node) -> Vec<Line<'static>> {
    let t = ctx.theme;
    let Some(m) = node.cilium_ct() else {
        if !crate::analysis::conntrack::tracking(node).cilium {
            return Vec::new();
        }
        return vec![Line::from(vec![
            label(ctx, "Cilium maps"),
            Span::styled(
                format!(
                    "{} no cilium metrics (Prometheus has no cilium_bpf_map_pressure for this node)",
                    t.sym.unknown
                ),
                t.unknown,
            ),
        ])];
    };
    let mut out = vec![Line::from(label(ctx, "Cilium maps"))];
    if m.maps.is_empty() {
        out.push(Line::styled(format!("   {} map pressure not reported", t.sym.unknown), t.unknown));
    }
    let name_w = m.maps.iter().map(|f| f.name.len()).max().unwrap_or(0);
    for f in &m.maps {
        let (st, g) = widgets::conntrack_level(t, f.pressure);
        out.push(Line::from(vec![
            Span::styled(format!("   {:<name_w$} ", f.name), t.base),
            Span::styled(widgets::gauge(t, f.pressure, 20), st),
            Span::styled(format!(" {} {}", g.unwrap_or(t.sym.ok), crate::viewmodel::pct(f.pressure)), st),
        ]));
    }
    out.push(match m.insert_failed_per_s {
        None => Line::styled(
            format!("   {} CT insertion-failed drops unknown (no drop counters)", t.sym.unknown),
            t.unknown,
        ),
        Some(r) => Line::styled(
            format!("   CT: Map insertion failed {r:.1}/s"),
            if r > 0.0 { t.crit } else { t.base },
        ),
    });
    out
}

/// The node's CPU history as one line of bars (one per bucket of points), when the metrics
/// backend has sent it for this node.
fn cpu_history(ctx: &Ctx, node: &Node, w: usize) -> Option<Line<'static>> {
    let c = ctx.snap.node_cpu.as_ref().filter(|c| c.node == node.name && !c.points.is_empty())?;
    let t = ctx.theme;
    let cols = w.saturating_sub(LW + 24).clamp(1, 144);
    let per = c.points.len().div_ceil(cols).max(1);
    let bars: String = c
        .points
        .chunks(per)
        .map(|ch| {
            let avg = ch.iter().map(|p| p.1).sum::<f64>() / ch.len() as f64;
            let i = (avg.clamp(0.0, 1.0) * 8.0).round() as usize;
            t.sym.bar_v[i.min(8)]
        })
        .collect();
    let max = c.points.iter().map(|p| p.1).fold(0.0, f64::max);
    let span = c.points.last().map(|l| l.0 - c.points[0].0).unwrap_or_default();
    let hours = (span.num_minutes() as f64 / 60.0).round();
    Some(Line::from(vec![
        label(ctx, &format!("CPU {hours:.0}h")),
        Span::styled(bars, t.chart_online),
        Span::styled(format!(" peak {}", crate::viewmodel::pct(max)), t.muted),
    ]))
}

pub(super) fn host(ctx: &Ctx, node: &Node, w: usize) -> Vec<Line<'static>> {
    let t = ctx.theme;
    let history = cpu_history(ctx, node, w);
    let Some(h) = node.host.as_ref().map(|h| &h.value) else {
        let mut v =
            vec![Line::from(vec![label(ctx, "Host"), Span::styled("no data (node agent?)", t.muted)])];
        v.extend(history);
        return v;
    };
    let used = |name: &str, v: Option<(u64, u64)>| match v {
        Some((a, m)) if m > 0 => {
            let f = a as f64 / m as f64;
            Span::styled(
                format!("{name} {}/{} ({})  ", widgets::si(a), widgets::si(m), crate::viewmodel::pct(f)),
                widgets::level(t, f, 0.8, 0.95),
            )
        }
        _ => Span::styled(format!("{name} -  "), t.muted),
    };
    let cpu = match (h.cpu_now, h.cpu_cores) {
        (Some(c), Some(n)) => format!("CPU {} of {n} cores", crate::viewmodel::pct(c)),
        (Some(c), None) => format!("CPU {}", crate::viewmodel::pct(c)),
        _ => "CPU -".into(),
    };
    let load = h.load.map_or("load -".to_string(), |l| format!("load {:.2} {:.2} {:.2}", l[0], l[1], l[2]));
    let mut lines = vec![
        Line::from(vec![label(ctx, "Host"), Span::styled(format!("{cpu}   {load}"), t.base)]),
        Line::from(vec![Span::raw("   "), used("file-nr", h.file_nr), used("pids", h.pids)]),
    ];
    if let Some(from) = crate::viewmodel::provenance::host(node) {
        lines.push(Line::styled(format!("   from {from}"), t.muted));
    }
    lines.into_iter().chain(history).collect()
}
