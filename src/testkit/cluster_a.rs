//! Test-only: a small hand-made snapshot with BGP sessions in every state, for the Overview, Nodes,
//! Node detail and Network views. Declared from `overview.rs` under `#[cfg(test)]`.
//!
//! rack-1 (tor-1a/tor-1b): bridge nodes, node-02 with a nearly full conntrack table and
//! bridge-nf-call-iptables on; node-04 migrating and NotReady.
//! rack-2 (tor-2a/tor-2b): node-05 2/2, node-06 1/2, node-07 0/2 (isolated), node-08 tunnel,
//! node-09 BGP with no sessions reported and no host facts.
//! rack-3 (tor-3a/tor-3b): tor-3b is dead, every node is 1/2; one node has a very long name.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;
use chrono::{DateTime, Duration, Timelike};

use crate::model::*;

pub use crate::testkit::cluster_b::now;

pub const LONG: &str = "very-long-node-name-from-the-vendor-0001.dc1.example.internal";

fn session(
    peer: &str,
    addr: &str,
    state: BgpState,
    since_min: i64,
    resets: u32,
    err: Option<&str>,
) -> BgpSession {
    let up = state == BgpState::Established;
    BgpSession {
        peer: peer.into(),
        family: crate::model::Family::of_addr(addr),
        peer_addr: addr.into(),
        peer_asn: 65000,
        local_asn: 65101,
        state,
        since: Some(now() - Duration::minutes(since_min)),
        resets_1h: resets,
        routes_received: up.then_some(3),
        routes_advertised: up.then_some(1),
        hold_time_s: up.then_some(90),
        keepalive_s: up.then_some(30),
        last_error: err.map(str::to_string),
        peer_type: None,
        failover: failover(peer),
        reports: Vec::new(),
    }
}

/// rack-2 peers with Cilium's peer config `tor-pod-cidr` less its timers (graceful restart 120 s
/// against helper TORs, 90/30 s); rack-3 with Cilium's default peer config (no graceful restart);
/// other peers say nothing.
fn failover(peer: &str) -> Failover {
    let conf = |gr: bool| Failover {
        graceful_restart: Some(gr),
        restart_time_s: gr.then_some(120),
        peer_graceful_restart: gr.then_some(true),
        hold_time_conf_s: Some(90),
        keepalive_conf_s: Some(30),
    };
    if peer.starts_with("tor-2") {
        conf(true)
    } else if peer.starts_with("tor-3") {
        conf(false)
    } else {
        Failover::default()
    }
}

fn ev(supports: bool, signal: Signal) -> Evidence {
    Evidence { signal, supports }
}

fn evidence(mode: NetMode, name: &str) -> Vec<Evidence> {
    let cilium = Signal::AgentPod { cni: Cni::Cilium, pod: format!("cilium-{}", &name[name.len() - 2..]) };
    let flannel =
        Signal::AgentPod { cni: Cni::Flannel, pod: format!("kube-flannel-ds-{}", &name[name.len() - 2..]) };
    match mode {
        NetMode::CiliumBgp => vec![
            ev(true, cilium),
            ev(true, Signal::CiliumNode),
            ev(true, Signal::BgpNodeConfig { pod_routes: Some(true) }),
            ev(true, Signal::Interface { name: "cilium_host".into() }),
        ],
        NetMode::CiliumTunnel => {
            vec![ev(true, cilium), ev(true, Signal::Interface { name: "cilium_vxlan".into() })]
        }
        NetMode::Migrating => vec![
            ev(true, cilium),
            ev(true, flannel),
            ev(false, Signal::CniConfig { file: "10-flannel.conflist".into() }),
        ],
        _ => vec![
            ev(true, flannel),
            ev(
                true,
                Signal::Annotation {
                    key: "flannel.alpha.coreos.com/backend-type".into(),
                    value: "vxlan".into(),
                },
            ),
            ev(true, Signal::Interface { name: "flannel.1".into() }),
        ],
    }
}

struct Spec {
    name: &'static str,
    rack: u8,
    mode: NetMode,
    /// (state to tor a, state to tor b); `None` = no sessions reported.
    bgp: Option<(BgpState, BgpState)>,
    fill: f64,
    cpu: f64,
    mix: [u32; 3],
    ready: bool,
    host: bool,
}

fn node(s: Spec) -> Node {
    let rack = format!("rack-{}", s.rack);
    let tors = [format!("tor-{}a", s.rack), format!("tor-{}b", s.rack)];
    let bgp = match &s.bgp {
        None => Vec::new(),
        Some((a, b)) => {
            let idx: u32 = s.name.bytes().filter(u8::is_ascii_digit).map(|d| u32::from(d - b'0')).sum();
            let err = |st: &BgpState| match st {
                BgpState::Established => None,
                BgpState::Active => Some("Hold Timer Expired"),
                _ => Some("connect: connection refused"),
            };
            vec![
                session(
                    &tors[0],
                    &format!("10.{}.0.1", s.rack),
                    a.clone(),
                    600 + i64::from(idx),
                    idx % 3,
                    err(a),
                ),
                session(&tors[1], &format!("10.{}.0.2", s.rack), b.clone(), 12, 4, err(b)),
            ]
        }
    };
    let runtime = RuntimeMix { runc: s.mix[0], kata: s.mix[1], gvisor: s.mix[2], other: 0 };
    let mut labels = BTreeMap::new();
    labels.insert("kubernetes.io/hostname".to_string(), s.name.to_string());
    labels.insert("topology.kubernetes.io/zone".to_string(), rack.clone());
    if s.mix[1] > 0 {
        labels.insert("katacontainers.io/kata-runtime".to_string(), "true".to_string());
    }
    let limit = 262_144u64;
    let host = s.host.then(|| {
        Aged::new(
            HostFacts {
                kvm: Some(s.mix[1] > 0 || s.rack == 2),
                conntrack: Some(Conntrack {
                    entries: (limit as f64 * s.fill) as u64,
                    limit,
                    insert_failed_per_s: if s.fill > 0.9 { 12.5 } else { 0.0 },
                    drop_per_s: if s.fill > 0.9 { 3.0 } else { 0.0 },
                    early_drop_per_s: 0.0,
                    tcp_established_timeout_s: Some(if s.name == "node-03" { 600 } else { 432_000 }),
                    bridge_nf_call_iptables: if s.mode.is_bridge() {
                        Some(s.name == "node-02")
                    } else {
                        None
                    },
                }),
                cilium_ct: None,
                file_nr: Some((12_345, 9_223_372)),
                pids: Some((2_345, 4_194_304)),
                load: Some([3.2, 2.9, 2.5]),
                cpu_cores: Some(64),
                cpu_now: Some(s.cpu),
            },
            now() - Duration::seconds(if s.name == "node-01" { 300 } else { 8 }),
        )
    });
    let (bgp_verdict, bgp_counts) = if s.mode.uses_bgp() {
        crate::analysis::bgp::judge(s.mode, None, Some(&tors), &bgp)
    } else {
        (BgpVerdict::NotApplicable, Default::default())
    };
    Node {
        name: s.name.into(),
        rack,
        tors,
        ready: s.ready,
        labels,
        signals: Vec::new(),
        net: NetClass { mode: s.mode, evidence: evidence(s.mode, s.name) },
        bgp_verdict,
        bgp_counts,
        bgp,
        runtime: Some(runtime),
        pods: Some(runtime.total()),
        finished_pods: Some(0),
        batch: None,
        // The agent reads the host; Prometheus fills in the CPU now, as node_exporter has it.
        host_from: host
            .as_ref()
            .map(|h| {
                let mut from: BTreeMap<&'static str, SourceId> =
                    ["kvm", "conntrack", "file_nr", "pids", "load", "cpu_cores"]
                        .into_iter()
                        .map(|k| (k, SourceId::Agents))
                        .collect();
                if h.value.cpu_now.is_some() {
                    from.insert("cpu_now", SourceId::Prometheus);
                }
                from
            })
            .unwrap_or_default(),
        host,
        seen: now(),
        created: created(s.name, s.rack),
    }
}

/// When the node joined: racks a year apart, nodes of a rack days apart; node-04 was re-imaged
/// minutes ago and node-09's object carries no creation time.
fn created(name: &str, rack: u8) -> Option<chrono::DateTime<chrono::Utc>> {
    let n: i64 = name.trim_start_matches(|c: char| !c.is_ascii_digit()).parse().unwrap_or(0);
    match name {
        "node-09" => None,
        "node-04" => Some(now() - Duration::seconds(7 * 60 + 30)),
        "node-11" => Some(now() - Duration::hours(5) - Duration::minutes(20)),
        _ => Some(now() - Duration::days(900 - 250 * i64::from(rack) + 3 * n) - Duration::hours(n)),
    }
}

#[allow(clippy::too_many_arguments)]
fn spec(
    name: &'static str,
    rack: u8,
    mode: NetMode,
    bgp: Option<(BgpState, BgpState)>,
    fill: f64,
    cpu: f64,
    mix: [u32; 3],
) -> Spec {
    Spec { name, rack, mode, bgp, fill, cpu, mix, ready: true, host: true }
}

fn finding(rule: Rule, severity: Severity, subject: &str, what: &str) -> Finding {
    Finding {
        rule,
        severity,
        subject: subject.into(),
        since: Some(now() - Duration::minutes(42)),
        what: what.into(),
        evidence: vec![format!("{} evidence", rule.id())],
        remedy: "do the right thing".into(),
    }
}

fn pod(ns: &str, name: &str, node: &str, class: Option<&str>, offline: bool) -> Pod {
    Pod {
        namespace: ns.into(),
        name: name.into(),
        node: Some(node.into()),
        runtime_class: class.map(Into::into),
        priority_class: offline.then(|| "offline".into()),
        host_network: false,
        phase: "Running".into(),
        offline,
        sandbox: None,
        batch: None,
        sandbox_start_s: None,
    }
}

/// 24 h of CPU at 300 s, online peaking in the afternoon, offline in the 01:00-06:00 window.
fn curve(capacity: f64) -> CpuCurve {
    let n = 288;
    let points = (0..=n)
        .map(|i| {
            let t: DateTime<Utc> = now() - Duration::seconds(300 * (n - i));
            // The point ending at t describes the 5 minutes before it.
            let s = t - Duration::seconds(300);
            let h = f64::from(s.hour()) + f64::from(s.minute()) / 60.0;
            let online = capacity * (0.25 + 0.3 * (-((h - 15.0) / 4.0).powi(2)).exp());
            let offline = if (1.0..6.0).contains(&h) { capacity * 0.45 } else { capacity * 0.03 };
            CpuPoint::new(t, online, offline, capacity)
        })
        .collect();
    CpuCurve { step_s: 300, capacity_cores: capacity, points, racks: Vec::new() }
}

pub fn snapshot() -> Snapshot {
    use BgpState::*;
    use NetMode::*;
    let up = || Some((Established, Established));
    let mut specs = vec![
        spec("node-01", 1, BridgeVxlan, None, 0.41, 0.35, [28, 0, 0]),
        spec("node-02", 1, BridgeVxlan, None, 0.94, 0.71, [40, 0, 0]),
        spec("node-03", 1, BridgeNat, None, 0.78, 0.52, [22, 0, 1]),
        Spec { ready: false, ..spec("node-04", 1, Migrating, None, 0.12, 0.05, [3, 0, 0]) },
        spec("node-05", 2, CiliumBgp, up(), 0.33, 0.62, [28, 3, 0]),
        spec("node-06", 2, CiliumBgp, Some((Established, Active)), 0.52, 0.58, [25, 0, 2]),
        spec("node-07", 2, CiliumBgp, Some((Idle, Connect)), 0.21, 0.44, [18, 2, 0]),
        spec("node-08", 2, CiliumTunnel, None, 0.30, 0.49, [20, 0, 0]),
        Spec { host: false, ..spec("node-09", 2, CiliumBgp, None, 0.0, 0.0, [0, 0, 0]) },
        spec("node-10", 3, CiliumBgp, Some((Established, Idle)), 0.48, 0.66, [30, 0, 0]),
        spec("node-11", 3, CiliumBgp, Some((Established, Active)), 0.55, 0.69, [31, 1, 0]),
        Spec {
            ready: false,
            ..spec("node-12", 3, CiliumBgp, Some((Established, Idle)), 0.60, 0.10, [5, 0, 0])
        },
        spec(LONG, 3, CiliumBgp, Some((Established, Connect)), 0.81, 0.73, [12, 0, 0]),
    ];
    specs.sort_by(|a, b| a.name.cmp(b.name));
    let nodes: Vec<Node> = specs.into_iter().map(node).collect();
    let mut pods = vec![
        pod("batch", "transcode-1", "node-05", Some("kata"), true),
        pod("batch", "transcode-2", "node-05", Some("kata"), true),
        pod("batch", "transcode-3", "node-05", Some("kata"), true),
        pod("sandbox", "untrusted-1", "node-06", Some("gvisor"), false),
        pod("sandbox", "untrusted-2", "node-06", Some("gvisor"), false),
        pod("batch", "ffmpeg-7", "node-07", Some("kata"), true),
        pod("batch", "ffmpeg-8", "node-07", Some("kata"), true),
        pod("web", "frontend-1", "node-05", None, false),
    ];
    pods.extend((0..12).map(|i| pod("batch", &format!("job-{i}"), "node-11", Some("kata"), true)));
    let classes = vec![
        RuntimeClass {
            name: "kata".into(),
            handler: "kata-qemu".into(),
            kind: RuntimeKind::Kata,
            overhead_cpu_m: Some(250),
            overhead_mem_bytes: None,
            node_selector: BTreeMap::new(),
            pods: Some(17),
        },
        RuntimeClass {
            name: "gvisor".into(),
            handler: "runsc".into(),
            kind: RuntimeKind::Gvisor,
            overhead_cpu_m: None,
            overhead_mem_bytes: None,
            node_selector: BTreeMap::new(),
            pods: Some(2),
        },
    ];
    let window = Window::parse("01:00-06:00").unwrap();
    let day = now().date_naive();
    let at = |h: u32| day.and_hms_opt(h, 0, 0).unwrap().and_utc();
    let fills = vec![WindowFill {
        window,
        start: at(1),
        end: at(6),
        rack: None,
        avg_util: 0.78,
        offline_share: 0.42,
        idle_core_hours: 118.0,
        spill_core_hours: 6.5,
        capacity_core_hours: 5.0 * 96.0,
        coverage: 1.0,
        reclaimed_core_hours: None,
        reclaimed_unused_core_hours: None,
        reclaimed_unknown: None,
        complete: true,
    }];
    let findings = vec![
        finding(Rule::BgpIsolated, Severity::Critical, "node-07", "BGP isolated: 0/2 sessions established"),
        finding(
            Rule::BgpPeerDown,
            Severity::Critical,
            "tor-3b",
            "TOR tor-3b down: 4 nodes lost a BGP session; the rack runs on its other TOR alone",
        ),
        finding(Rule::ConntrackPressure, Severity::Critical, "node-02", "conntrack table 94% full"),
        finding(Rule::BgpDegraded, Severity::Warning, "node-06", "BGP degraded: 1/2 sessions (tor-2b down)"),
        finding(
            Rule::BridgeNfCallIptables,
            Severity::Warning,
            "node-02",
            "bridge-nf-call-iptables=1 on a bridge node",
        ),
        finding(
            Rule::KataHostNetwork,
            Severity::Warning,
            "batch/transcode-2",
            "Kata pod asks for host network",
        ),
        finding(
            Rule::ConntrackTimeoutBelowKeepalive,
            Severity::Warning,
            "node-03",
            "established timeout 600s < keep-alive 900s",
        ),
        finding(Rule::WindowUnderfill, Severity::Info, "cluster", "window 01:00-06:00 left 118 core-h idle"),
    ];
    Snapshot {
        now: now(),
        cluster: "fixture-a".into(),
        sources: vec![SourceStatus {
            scope: String::new(),
            source: SourceId::Simulator,
            health: SourceHealth::Ok,
            updated: Some(now()),
            note: None,
        }],
        nodes: nodes.into_iter().map(Arc::new).collect(),
        pods: Arc::new(Pods::from_vec(pods)),
        runtime_classes: classes,
        sandbox_starts: Default::default(),
        cpu: Some(curve(13.0 * 64.0)),
        node_cpu: None,
        tz: chrono_tz::Tz::UTC,
        windows: vec![window],
        fills,
        findings,
        keepalive_idle_s: 900,
        unknown: Default::default(),
        foreign_nodes: Vec::new(),
    }
}
