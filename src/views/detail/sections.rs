//! The sections of the node detail, each a list of lines: summary, findings, events and pods
//! (`pods.rs`), BGP sessions, network evidence, conntrack, runtime pods, host limits (`host.rs`),
//! labels.

use ratatui::text::{Line, Span};

use super::super::Ctx;
use super::super::widgets;
use crate::format::Age;
use crate::model::{BgpSession, BgpVerdict, ExpectedFrom, Node, Pod, RuntimeKind};

/// Label column width.
pub(super) const LW: usize = 12;
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
        [super::host::conntrack(ctx, node), super::host::cilium_maps(ctx, node)].concat(),
        [runtime(ctx, node, &pods), super::host::batch_tier(ctx, node)].concat(),
        sandbox_starts(ctx, node),
        super::host::host(ctx, node, w),
        labels(ctx, node, w),
    ] {
        out.push(Line::from(""));
        out.extend(section);
    }
    out
}

pub(super) fn label(ctx: &Ctx, l: &str) -> Span<'static> {
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
