//! The sections of the node detail, each a list of lines: summary, findings, events and pods
//! (`pods.rs`), BGP sessions, network evidence, conntrack, runtime pods, host limits, labels.

use ratatui::text::{Line, Span};

use super::super::Ctx;
use super::super::widgets;
use crate::format::Age;
use crate::model::{BgpSession, BgpVerdict, ExpectedFrom, Node, Pod, RuntimeKind};

/// Label column width.
const LW: usize = 12;
/// Pods with a non-default runtime listed before "+N more".
const POD_CAP: usize = 12;
/// Evidence items listed per finding before "+N more".
const EVIDENCE_CAP: usize = 6;

/// What is wrong comes first (summary, findings, BGP), then the evidence, then the rest.
pub fn all(ctx: &Ctx, node: &Node, width: u16) -> Vec<Line<'static>> {
    let w = usize::from(width);
    let pods: Vec<&Pod> = ctx.snap.pods.on_node(&node.name).iter().collect();
    let mut out = summary(ctx, node, w);
    for section in [
        findings(ctx, node, &pods, w),
        super::pods::sections(ctx, &node.name, w),
        bgp(ctx, node, w),
        network(ctx, node),
        [conntrack(ctx, node), cilium_maps(ctx, node)].concat(),
        [runtime(ctx, node, &pods), batch_tier(ctx, node)].concat(),
        sandbox_starts(ctx, node),
        host(ctx, node, w),
        labels(ctx, node, w),
    ] {
        out.push(Line::from(""));
        out.extend(section);
    }
    out
}

fn label(ctx: &Ctx, l: &str) -> Span<'static> {
    Span::styled(format!(" {l:<LW$}"), ctx.theme.header)
}

fn summary(ctx: &Ctx, node: &Node, w: usize) -> Vec<Line<'static>> {
    let (t, s) = (ctx.theme, ctx.snap);
    let ready = if node.ready {
        Span::styled(format!("{} Ready", t.sym.ok), t.ok)
    } else {
        Span::styled(format!("{} NotReady", t.sym.crit), t.crit)
    };
    let at = node.host.as_ref().map(|h| h.at);
    let stale = at.is_none_or(|a| (s.now - a).num_seconds() > 60);
    let age = match at {
        Some(_) => format!("host data read {}", ago(s.now, at)),
        None => "no host data (node agent?)".to_string(),
    };
    vec![
        Line::from(vec![
            label(ctx, "Node"),
            Span::styled(widgets::truncate(t, &node.name, w.saturating_sub(LW + 12)), t.accent),
            Span::raw("  "),
            ready,
            Span::styled(format!("   {}  BGP ", node.net.mode.label()), t.base),
            widgets::verdict_span(t, node),
        ]),
        Line::from(vec![
            label(ctx, "Rack"),
            Span::styled(node.rack.clone(), t.base),
            Span::styled("   TORs ", t.muted),
            Span::styled(format!("{}, {}", node.tors[0], node.tors[1]), t.base),
        ]),
        Line::from(vec![
            label(ctx, "Age"),
            match node.created {
                Some(c) => Span::styled(
                    format!(
                        "{}  (created {})",
                        widgets::age(s.now, Some(c)).kubectl(),
                        c.with_timezone(&s.tz).format("%Y-%m-%d %H:%M %Z")
                    ),
                    t.base,
                ),
                None => Span::styled("? (the API object has no creationTimestamp)", t.unknown),
            },
        ]),
        Line::from(vec![
            label(ctx, "Data"),
            Span::styled(age, if stale { t.warn } else { t.base }),
            Span::styled(format!("   API object seen {}", ago(s.now, Some(node.seen))), t.muted),
        ]),
    ]
}

fn labels(ctx: &Ctx, node: &Node, w: usize) -> Vec<Line<'static>> {
    let t = ctx.theme;
    let mut out = Vec::new();
    let labels: Vec<String> = node
        .labels
        .iter()
        .filter(|(k, _)| k.as_str() != "kubernetes.io/hostname")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if labels.is_empty() {
        out.push(Line::from(vec![label(ctx, "Labels"), Span::styled("none", t.muted)]));
    }
    // Every label: the detail scrolls, and the labels are its last section.
    for (i, l) in labels.iter().enumerate() {
        let head = if i == 0 { label(ctx, "Labels") } else { label(ctx, "") };
        out.push(Line::from(vec![
            head,
            Span::styled(widgets::truncate(t, l, w.saturating_sub(LW + 1)), t.base),
        ]));
    }
    out
}

/// `8s ago`, `just now`, `never`.
fn ago(now: chrono::DateTime<chrono::Utc>, t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    match widgets::age(now, t) {
        Age::Now => "just now".into(),
        Age::Unknown => "never".into(),
        a => format!("{a} ago"),
    }
}

fn network(ctx: &Ctx, node: &Node) -> Vec<Line<'static>> {
    let t = ctx.theme;
    let mut out = vec![Line::from(vec![
        label(ctx, "Network"),
        Span::styled(node.net.mode.label(), t.accent),
        Span::styled(format!(", from {} signals:", node.net.evidence.len()), t.muted),
    ])];
    if node.net.evidence.is_empty() {
        out.push(Line::styled("   no networking signals seen", t.muted));
    }
    for e in &node.net.evidence {
        let (g, st, note) =
            if e.supports { (t.sym.ok, t.ok, "") } else { (t.sym.crit, t.crit, "  (conflicts)") };
        out.push(Line::from(vec![
            Span::styled(format!("   {g} "), st),
            Span::styled(e.signal.describe(), t.base),
            Span::styled(note, st),
        ]));
    }
    out
}

fn timers(s: &BgpSession) -> String {
    match (s.hold_time_s, s.keepalive_s) {
        (None, None) => "-".into(),
        (h, k) => format!(
            "{}/{}s",
            h.map_or("-".into(), |v| v.to_string()),
            k.map_or("-".into(), |v| v.to_string())
        ),
    }
}

fn routes(s: &BgpSession) -> String {
    let f = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    format!("{}/{}", f(s.routes_received), f(s.routes_advertised))
}

fn bgp(ctx: &Ctx, node: &Node, w: usize) -> Vec<Line<'static>> {
    let (t, snap) = (ctx.theme, ctx.snap);
    let expected = match node.bgp_counts.expected_from {
        ExpectedFrom::Config => "peers from the node's BGP configuration",
        ExpectedFrom::TorLabels => "peers: the node's two TORs",
        ExpectedFrom::Reported => "peers as reported",
        ExpectedFrom::Nothing => "",
    };
    if node.bgp.is_empty() {
        let why = if node.net.mode.may_use_bgp() || node.bgp_verdict == BgpVerdict::Unknown {
            format!(
                "{} no sessions reported (node agent or BGP status missing); {expected}",
                node.bgp_label()
            )
        } else {
            format!("not a BGP node ({})", node.net.mode.label())
        };
        let st = if node.net.mode.may_use_bgp() { t.warn } else { t.muted };
        return vec![Line::from(vec![label(ctx, "BGP"), Span::styled(why, st)])];
    }
    let (vst, _) = widgets::verdict(t, node.bgp_verdict);
    let mut out = vec![Line::from(vec![
        label(ctx, "BGP"),
        Span::styled(format!("{} established", node.bgp_label()), vst),
        Span::styled(format!("  ({expected})"), t.muted),
    ])];
    for m in &node.bgp_counts.missing {
        out.push(Line::styled(format!("   {} {m}: expected, no session reported", t.sym.crit), t.crit));
    }
    let wide = w >= 110;
    if wide {
        out.push(Line::styled(
            format!(
                "     {:<14} {:<16} {:<12} {:<12} {:>6} {:>4} {:>9} {:>8}  {}",
                "PEER", "ADDRESS", "LOCAL>PEER", "STATE", "SINCE", "RST", "RX/TX", "HOLD/KA", "LAST ERROR"
            ),
            t.header,
        ));
    }
    for s in &node.bgp {
        let (st, g) = widgets::session_state(t, &s.state);
        let since = widgets::age(snap.now, s.since);
        let err = s.last_error.clone().unwrap_or_else(|| "-".into());
        let rst_st = if s.resets_1h > 0 { t.warn } else { t.base };
        if wide {
            let err_w = w.saturating_sub(96);
            out.push(Line::from(vec![
                Span::styled(format!("   {g} "), st),
                Span::styled(format!("{} ", widgets::fit(t, &s.peer, 14)), t.base),
                Span::styled(format!("{} ", widgets::fit(t, &s.peer_addr, 16)), t.muted),
                Span::styled(format!("{:<12} ", format!("{}>{}", s.local_asn, s.peer_asn)), t.muted),
                Span::styled(format!("{} ", widgets::fit(t, s.state.label(), 12)), st),
                Span::styled(format!("{since:>6} "), t.base),
                Span::styled(format!("{:>4} ", s.resets_1h), rst_st),
                Span::styled(format!("{:>9} ", routes(s)), t.base),
                Span::styled(format!("{:>8}  ", timers(s)), t.muted),
                Span::styled(widgets::truncate(t, &err, err_w), if s.is_up() { t.muted } else { st }),
            ]));
        } else {
            out.push(Line::from(vec![
                Span::styled(format!("   {g} "), st),
                Span::styled(format!("{} {}", s.peer, s.peer_addr), t.base),
                Span::styled(format!("  AS {}>{}  ", s.local_asn, s.peer_asn), t.muted),
                Span::styled(s.state.label().to_string(), st),
                Span::styled(format!(" {since}"), t.base),
            ]));
            out.push(Line::from(vec![
                Span::styled(format!("       resets 1h {}", s.resets_1h), rst_st),
                Span::styled(format!("  routes rx/tx {}  hold/ka {}", routes(s), timers(s)), t.muted),
            ]));
            if s.last_error.is_some() {
                let e = widgets::truncate(t, &err, w.saturating_sub(14));
                out.push(Line::styled(format!("       error: {e}"), if s.is_up() { t.muted } else { st }));
            }
        }
    }
    out.extend(failover(ctx, node, w));
    // Who said so, and how long ago: the freshest report of each source.
    let mut sources: Vec<(&str, chrono::DateTime<chrono::Utc>)> = Vec::new();
    for r in node.bgp.iter().flat_map(|s| &s.reports) {
        match sources.iter_mut().find(|(l, _)| *l == r.source.label()) {
            Some((_, at)) => *at = (*at).max(r.at),
            None => sources.push((r.source.label(), r.at)),
        }
    }
    if !sources.is_empty() {
        let said: Vec<String> =
            sources.iter().map(|(l, at)| format!("{l} {}", widgets::age(snap.now, Some(*at)))).collect();
        out.push(Line::styled(format!("     reported by {}", said.join(", ")), t.muted));
    }
    out
}

/// The failover window: what a restart of the node's BGP speaker and the node's death do to its
/// routes, then graceful restart and the applied (configured) timers of each session.
fn failover(ctx: &Ctx, node: &Node, w: usize) -> Vec<Line<'static>> {
    use crate::analysis::failover::{self, RestartCut, SLOW_HOLD_S};
    let t = ctx.theme;
    let Some(win) = failover::window(node) else { return Vec::new() };
    let (st, g) = match win.restart {
        RestartCut::None { .. } => (t.ok, t.sym.ok),
        RestartCut::Withdrawn { .. } => (t.warn, t.sym.warn),
        RestartCut::Unknown(_) => (t.unknown, t.sym.unknown),
        RestartCut::NothingUp => (t.muted, "-"),
    };
    let width = w.saturating_sub(22);
    let mut out = vec![Line::from(vec![
        Span::styled(format!("   {g} "), st),
        Span::styled("speaker restart: ", t.muted),
        Span::styled(widgets::truncate(t, &win.restart.describe(), width), st),
    ])];
    let (st, g, text) = match win.hold_s {
        None if win.restart == RestartCut::NothingUp => {
            (t.muted, "-", "nothing more: no session is up".to_string())
        }
        Some(h) if h > SLOW_HOLD_S => (
            t.warn,
            t.sym.warn,
            format!("the TORs keep sending to it up to {h} s (hold time > {SLOW_HOLD_S} s)"),
        ),
        Some(h) => (t.ok, t.sym.ok, format!("the TORs keep sending to it up to {h} s (hold time)")),
        None => (t.unknown, t.sym.unknown, "? (no established session reports a hold time)".to_string()),
    };
    out.push(Line::from(vec![
        Span::styled(format!("   {g} "), st),
        Span::styled("node death:      ", t.muted),
        Span::styled(widgets::truncate(t, &text, width), st),
    ]));
    for s in &node.bgp {
        let text = format!("{}: {}, {}", s.peer, failover::gr(s).label(), failover::timers(s));
        out.push(Line::styled(format!("     {}", widgets::truncate(t, &text, w.saturating_sub(6))), t.muted));
    }
    out
}

fn runtime(ctx: &Ctx, node: &Node, pods: &[&Pod]) -> Vec<Line<'static>> {
    let (t, s) = (ctx.theme, ctx.snap);
    let kvm = match node.kvm() {
        Some(true) => Span::styled(format!("{} yes (/dev/kvm and vmx/svm)", t.sym.ok), t.ok),
        Some(false) => Span::styled(format!("{} no: Kata cannot run here", t.sym.warn), t.warn),
        None => Span::styled(format!("{} unknown", t.sym.unknown), t.unknown),
    };
    let mut out = vec![
        Line::from(vec![
            label(ctx, "Runtime"),
            Span::styled(widgets::runtime_mix(node.runtime.as_ref()), t.accent),
            Span::styled(
                match (node.pods, node.finished_pods) {
                    (Some(p), Some(f)) if f > 0 => format!("  ({p} pods, {f} finished)"),
                    (Some(p), _) => format!("  ({p} pods)"),
                    (None, _) => format!("  (? pods: {})", s.unknown.pods.as_deref().unwrap_or("not known")),
                },
                t.muted,
            ),
        ]),
        Line::from(vec![label(ctx, "  KVM"), kvm]),
    ];
    let kind = |class: &str| {
        s.runtime_classes.iter().find(|c| c.name == class).map_or(RuntimeKind::Other, |c| c.kind)
    };
    let pods: Vec<(RuntimeKind, &Pod)> = pods
        .iter()
        .copied()
        .filter_map(|p| p.runtime_class.as_deref().map(|c| (kind(c), p)))
        .filter(|(k, _)| *k != RuntimeKind::Runc)
        .collect();
    for (k, p) in pods.iter().take(POD_CAP) {
        let st = if *k == RuntimeKind::Kata && node.kvm() == Some(false) { t.crit } else { t.base };
        let mut spans = vec![
            Span::styled(format!("   {:<7}", k.label()), st),
            Span::styled(format!("{}/{}", p.namespace, p.name), t.base),
            Span::styled(format!("  {}", p.phase), t.muted),
        ];
        if p.offline {
            spans.push(Span::styled("  offline", t.muted));
        }
        if p.host_network {
            spans.push(Span::styled(format!("  {} hostNetwork", t.sym.warn), t.warn));
        }
        out.push(Line::from(spans));
    }
    if pods.len() > POD_CAP {
        out.push(Line::styled(format!("   +{} more non-runc pods", pods.len() - POD_CAP), t.muted));
    }
    out
}

/// Each runtime's sandbox start on this node beside its cluster figure and the reference.
fn sandbox_starts(ctx: &Ctx, node: &Node) -> Vec<Line<'static>> {
    let (t, s) = (ctx.theme, ctx.snap);
    let rows = crate::viewmodel::start::on_node(s, &node.name, t.sym.ascii);
    if rows.is_empty() {
        let why = match &s.unknown.pods {
            Some(w) => format!("{} pods unknown: {w}", t.sym.unknown),
            None => "no pod here reports its sandbox start (PodScheduled, PodReadyToStartContainers)".into(),
        };
        return vec![Line::from(vec![label(ctx, "Start"), Span::styled(why, t.muted)])];
    }
    rows.into_iter()
        .enumerate()
        .map(|(i, r)| {
            let st = if r.slow { t.warn } else { t.base };
            let mut spans = vec![
                label(ctx, if i == 0 { "Start" } else { "" }),
                Span::styled(format!("{:<12}", r.name), t.accent),
                Span::styled(format!("{:<7}", r.here.mean), st),
                Span::styled(format!("{:<10}{:<7}", r.here.p95, r.here.samples), t.muted),
                Span::styled(format!("cluster {}  ref {}", r.cluster.mean, r.cluster.reference), t.muted),
            ];
            if r.slow {
                spans.push(Span::styled(format!("  {} slow here", t.sym.warn), t.warn));
            }
            Line::from(spans)
        })
        .collect()
}

fn conntrack(ctx: &Ctx, node: &Node) -> Vec<Line<'static>> {
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
fn batch_tier(ctx: &Ctx, node: &Node) -> Vec<Line<'static>> {
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
fn cilium_maps(ctx: &Ctx, node: &Node) -> Vec<Line<'static>> {
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

fn host(ctx: &Ctx, node: &Node, w: usize) -> Vec<Line<'static>> {
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

/// Findings whose subject is this node or one of its pods (`namespace/name`).
fn findings(ctx: &Ctx, node: &Node, pods: &[&Pod], w: usize) -> Vec<Line<'static>> {
    let (t, s) = (ctx.theme, ctx.snap);
    let list = crate::viewmodel::about_node(s, node, pods);
    let mut out = vec![Line::from(vec![
        label(ctx, "Findings"),
        Span::styled(format!("{} about this node or its pods", list.len()), t.base),
    ])];
    if list.is_empty() {
        out.push(Line::styled(format!("   {} nothing wrong found", t.sym.ok), t.ok));
    }
    const IND: usize = 10;
    let width = w.saturating_sub(IND).max(10);
    for g in crate::viewmodel::group(list) {
        let f = g.first();
        let subject = match g.count() {
            _ if f.subject == node.name => String::new(),
            1 => format!("{}  ", f.subject),
            n => format!("{} +{}  ", f.subject, n - 1),
        };
        let since = f.since.map_or(String::new(), |_| format!("since {} ago", widgets::age(s.now, f.since)));
        out.push(Line::from(vec![
            Span::raw("   "),
            widgets::severity_span(t, f.severity),
            Span::styled(format!(" {}  ", f.rule.id()), t.muted),
            Span::styled(subject, t.accent),
            Span::styled(since, t.muted),
        ]));
        let pad = " ".repeat(IND);
        for l in widgets::wrap(t, &f.what, width) {
            out.push(Line::styled(format!("{pad}{l}"), t.base));
        }
        if g.count() > 1 {
            // The same finding about other subjects (pods of one job): named once, not repeated.
            let others: Vec<&str> = g.members[1..].iter().map(|f| f.subject.as_str()).collect();
            for l in widgets::wrap(t, &format!("also {}", others.join(", ")), width) {
                out.push(Line::styled(format!("{pad}{l}"), t.accent));
            }
        }
        for e in f.evidence.iter().take(EVIDENCE_CAP) {
            for (i, l) in widgets::wrap(t, e, width.saturating_sub(2)).into_iter().enumerate() {
                let lead = if i == 0 { "- " } else { "  " };
                out.push(Line::styled(format!("{pad}{lead}{l}"), t.muted));
            }
        }
        if f.evidence.len() > EVIDENCE_CAP {
            out.push(Line::styled(format!("{pad}+{} more", f.evidence.len() - EVIDENCE_CAP), t.muted));
        }
        for (i, l) in widgets::wrap(t, &f.remedy, width.saturating_sub(5)).into_iter().enumerate() {
            let lead = if i == 0 { "fix: " } else { "     " };
            out.push(Line::styled(format!("{pad}{lead}{l}"), t.accent));
        }
    }
    out
}
