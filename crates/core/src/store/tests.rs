//! The store's tests: merging, pending facts, incremental pod counts, shared nodes.

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::model::{BgpSession, HostFacts, NodeInfo, Signal};

fn t() -> DateTime<Utc> {
    crate::testkit::T0
}

/// A node's API object in rack `r` behind TORs `a` and `b`.
fn node(name: &str) -> NodeInfo {
    NodeInfo {
        name: name.into(),
        rack: "r".into(),
        tors: ["a".into(), "b".into()],
        ready: true,
        labels: Default::default(),
        signals: Vec::new(),
        bgp_peers: None,
        created: None,
        batch_allocatable: None,
    }
}

#[test]
fn a_repeated_health_is_not_a_change_but_a_new_one_is() {
    let t = t();
    let mut s = ClusterState::new("c", Settings::default());
    let health = |h: SourceHealth, at| Update::Health {
        source: SourceId::Kubernetes,
        scope: String::new(),
        health: h,
        at,
    };
    assert!(s.apply(health(SourceHealth::Ok, t)), "first report");
    assert!(!s.apply(health(SourceHealth::Ok, t + Duration::seconds(10))), "heartbeat");
    let down = SourceHealth::Unreachable { error: "refused".into() };
    assert!(s.apply(health(down.clone(), t + Duration::seconds(20))));
    assert!(!s.apply(health(down, t + Duration::seconds(30))));
    // The heartbeat still moved `updated` on, so staleness is judged from the latest one.
    assert!(s.apply(health(SourceHealth::Ok, t + Duration::seconds(40))));
    let snap = s.snapshot(t + Duration::seconds(41));
    assert_eq!(snap.sources[0].updated, Some(t + Duration::seconds(40)));
    assert!(s.apply(Update::RuntimeClasses(Vec::new())), "data updates count as changes");
}

#[test]
fn metrics_fill_gaps_but_the_node_own_sources_win() {
    use crate::model::NodeMetrics;
    use crate::model::{BgpState, Conntrack};
    let t = t();
    let mut s = ClusterState::new("c", Settings::default());
    let ct = |entries| Conntrack {
        entries,
        limit: 1000,
        insert_failed_per_s: 0.0,
        drop_per_s: 0.0,
        early_drop_per_s: 0.0,
        tcp_established_timeout_s: None,
        bridge_nf_call_iptables: None,
    };
    s.apply(Update::NodeApplied { node: node("n1"), at: t });
    s.apply(Update::NodeApplied { node: node("n2"), at: t });
    let peer = BgpSession::new("p\x1b[2J".into(), "10.0.0.1".into(), 1, 2, BgpState::Established);
    let metrics = NodeMetrics {
        cpu_now: Some(0.5),
        conntrack: Some(ct(900)),
        cilium_ct: None,
        batch_used_cores: None,
        bgp: Some(vec![peer]),
    };
    for n in ["n1", "n2"] {
        s.apply(Update::NodeMetrics { node: n.into(), metrics: metrics.clone(), at: t });
    }
    s.apply(Update::NodeMetrics { node: "ghost".into(), metrics: metrics.clone(), at: t });
    s.apply(Update::Host { node: "late".into(), facts: HostFacts::default(), at: t });
    let own = HostFacts { conntrack: Some(ct(10)), ..HostFacts::default() };
    s.apply(Update::Host { node: "n2".into(), facts: own, at: t });
    let snap = s.snapshot(t);
    assert_eq!(snap.nodes.len(), 2, "metrics never create nodes");
    s.apply(Update::NodeApplied { node: node("late"), at: t });
    let late = s.snapshot(t);
    assert!(late.nodes.iter().any(|n| n.name == "late" && n.host.is_some()), "facts that came first wait");
    let (n1, n2) = (&snap.nodes[0], &snap.nodes[1]);
    assert_eq!((n1.conntrack().map(|c| c.entries), n1.cpu_now()), (Some(900), Some(0.5)));
    assert_eq!(n2.conntrack().map(|c| c.entries), Some(10), "the agent's value wins");
    assert_eq!(n2.cpu_now(), Some(0.5), "the gap is filled");
    // Each fact says where it came from: the agent's own, Prometheus' where it filled a gap.
    let from = |n: &Node| n.host_from.iter().map(|(k, v)| format!("{k}={}", v.label())).collect::<Vec<_>>();
    assert_eq!(from(n1), ["conntrack=prometheus", "cpu_now=prometheus"]);
    assert_eq!(from(n2), ["conntrack=agents", "cpu_now=prometheus"]);
    // In the demo, the simulator plays the agents.
    s.apply(Update::Health {
        source: SourceId::Simulator,
        scope: String::new(),
        health: SourceHealth::Ok,
        at: t,
    });
    let demo = s.snapshot(t);
    let n2 = demo.nodes.iter().find(|n| n.name == "n2").unwrap();
    assert_eq!(from(n2), ["conntrack=sim", "cpu_now=prometheus"]);
    assert_eq!(n1.bgp.len(), 1);
    assert!(!n1.bgp[0].peer.contains('\x1b'), "sanitized");
}

#[test]
fn incremental_pod_counts_equal_a_recount() {
    use crate::model::RuntimeKind;
    let t = t();
    let applied = |name: &str| Update::NodeApplied { node: node(name), at: t };
    let pod = |i: u32, node: Option<u32>, class: Option<&str>| Pod {
        namespace: format!("ns{}", i % 3).into(),
        name: format!("p{i}").into(),
        node: node.map(|n| format!("n{n}").into()),
        runtime_class: class.map(Into::into),
        priority_class: None,
        host_network: false,
        phase: "Running".into(),
        offline: false,
        sandbox: None,
        batch: None,
        sandbox_start_s: None,
    };
    let classes = Update::RuntimeClasses(vec![RuntimeClass {
        name: "kata".into(),
        handler: "kata-qemu".into(),
        kind: RuntimeKind::Kata,
        overhead_cpu_m: None,
        overhead_mem_bytes: None,
        node_selector: Default::default(),
        pods: None,
    }]);
    let mut live = ClusterState::new("c", Settings::default());
    for n in 0..4 {
        live.apply(applied(&format!("n{n}")));
    }
    live.apply(classes.clone());
    live.apply(Update::PodsReplaced((0..40).map(|i| pod(i, Some(i % 4), None)).collect()));
    // A deterministic mix of creates, moves (scheduling), class changes and deletes, with
    // snapshots in between so the counts are carried over, not recomputed from scratch.
    let mut model: BTreeMap<(String, String), Pod> = (0..40)
        .map(|i| pod(i, Some(i % 4), None))
        .map(|p| ((p.namespace.to_string(), p.name.to_string()), p))
        .collect();
    let mut x = 7u32;
    for step in 0..400 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let i = (x >> 8) % 60;
        let class = (x >> 4).is_multiple_of(3).then_some("kata");
        let u = match (x >> 16) % 4 {
            0 => Update::PodDeleted { namespace: format!("ns{}", i % 3), name: format!("p{i}") },
            1 => Update::PodApplied(pod(i, None, class)),
            _ => Update::PodApplied(pod(i, Some((x >> 20) % 4), class)),
        };
        match &u {
            Update::PodDeleted { namespace, name } => model.remove(&(namespace.clone(), name.clone())),
            Update::PodApplied(p) => model.insert((p.namespace.to_string(), p.name.to_string()), p.clone()),
            _ => None,
        };
        live.apply(u);
        if step % 7 == 0 {
            live.snapshot(t);
        }
    }
    let got = live.snapshot(t);
    let mut listed: Vec<&Pod> = got.pods.iter().collect();
    listed.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    assert_eq!(listed, model.values().collect::<Vec<_>>(), "the pod set is the applied one");
    let mut fresh = ClusterState::new("c", Settings::default());
    for n in 0..4 {
        fresh.apply(applied(&format!("n{n}")));
    }
    fresh.apply(classes);
    fresh.apply(Update::PodsReplaced(got.pods.iter().cloned().collect()));
    let want = fresh.snapshot(t);
    let counts = |s: &Snapshot| s.nodes.iter().map(|n| (n.pods, n.runtime)).collect::<Vec<_>>();
    assert_eq!(counts(&got), counts(&want));
    assert_eq!(got.runtime_classes, want.runtime_classes);
    assert_eq!(got.pods, want.pods);
    let on_nodes: u32 = got.nodes.iter().filter_map(|n| n.pods).sum();
    let unscheduled = got.pods.on_node("").len();
    assert_eq!(on_nodes as usize + unscheduled, got.pods.len());
    assert!(got.nodes.iter().any(|n| n.runtime.is_some_and(|r| r.kata > 0)), "the mix saw some kata pods");
}

#[test]
fn unchanged_nodes_are_shared_and_changed_ones_rebuilt() {
    let t = t();
    let mut s = ClusterState::new("c", Settings::default());
    for n in ["n1", "n2"] {
        s.apply(Update::NodeApplied { node: node(n), at: t });
    }
    let a = s.snapshot(t);
    let b = s.snapshot(t + Duration::seconds(1));
    assert!(a.nodes.iter().zip(&b.nodes).all(|(x, y)| Arc::ptr_eq(x, y)), "nothing changed");
    let facts = HostFacts { kvm: Some(true), ..HostFacts::default() };
    s.apply(Update::Host { node: "n1".into(), facts, at: t });
    let pod = Pod {
        namespace: "ns".into(),
        name: "p".into(),
        node: Some("n2".into()),
        runtime_class: None,
        priority_class: None,
        host_network: false,
        phase: "Running".into(),
        offline: false,
        sandbox: None,
        batch: None,
        sandbox_start_s: None,
    };
    s.apply(Update::PodApplied(pod));
    let c = s.snapshot(t + Duration::seconds(2));
    assert_eq!(c.nodes[0].kvm(), Some(true), "host facts rebuilt n1");
    assert_eq!(
        (c.nodes[1].pods, c.nodes[1].runtime.map(|r| r.runc)),
        (Some(1), Some(1)),
        "pod counts rebuilt n2"
    );
    s.apply(Update::PodDeleted { namespace: "ns".into(), name: "p".into() });
    let d = s.snapshot(t + Duration::seconds(3));
    assert!(Arc::ptr_eq(&c.nodes[0], &d.nodes[0]));
    assert_eq!(d.nodes[1].pods, Some(0));
}

fn kube_health(scope: &str, health: SourceHealth, at: DateTime<Utc>) -> Update {
    Update::Health { source: SourceId::Kubernetes, scope: scope.into(), health, at }
}

#[test]
fn a_node_only_an_agent_reports_is_shown_once_the_nodes_are_listed() {
    let t = t();
    let mut s = ClusterState::new("c", Settings::default());
    s.apply(kube_health("", SourceHealth::NoData { reason: "waiting".into() }, t));
    s.apply(Update::Host { node: "ghost".into(), facts: HostFacts::default(), at: t });
    // Nodes not listed yet: the agent may simply have answered first.
    let snap = s.snapshot(t);
    assert!(snap.foreign_nodes.is_empty());
    assert!(
        snap.unknown.nodes.as_deref().is_some_and(|r| r.contains("not listed yet")),
        "{:?}",
        snap.unknown
    );
    s.apply(kube_health("nodes", SourceHealth::Ok, t));
    s.apply(kube_health("", SourceHealth::Ok, t));
    s.apply(Update::NodeApplied { node: node("n1"), at: t });
    let snap = s.snapshot(t);
    assert_eq!(snap.unknown.nodes, None);
    let names: Vec<&str> = snap.foreign_nodes.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, vec!["ghost"]);
    assert_eq!(snap.foreign_nodes[0].sources, vec![SourceId::Agents]);
    let f = snap.findings.iter().find(|f| f.subject == "ghost").expect("a finding about it");
    assert_eq!(f.rule.id(), "source-unknown-node");
}

#[test]
fn forbidden_or_unlisted_pods_are_unknown_not_zero() {
    let t = t();
    let mut s = ClusterState::new("c", Settings::default());
    s.apply(kube_health("", SourceHealth::Ok, t));
    s.apply(kube_health("nodes", SourceHealth::Ok, t));
    s.apply(kube_health("runtimeclasses.node.k8s.io", SourceHealth::Ok, t));
    s.apply(Update::NodeApplied { node: node("n1"), at: t });
    let forbidden = SourceHealth::Forbidden { verb: "list".into(), resource: "pods".into() };
    s.apply(kube_health("pods", forbidden, t));
    let snap = s.snapshot(t);
    assert_eq!(snap.unknown.pods.as_deref(), Some("forbidden: cannot list pods"));
    assert_eq!((snap.nodes[0].pods, snap.nodes[0].runtime), (None, None));
    // Listed once, then failing: the last state stays, with its age (not unknown).
    s.apply(kube_health("pods", SourceHealth::Ok, t));
    s.apply(kube_health("pods", SourceHealth::Unreachable { error: "500".into() }, t + Duration::seconds(5)));
    let snap = s.snapshot(t + Duration::seconds(6));
    assert_eq!(snap.unknown.pods, None);
    assert_eq!(snap.nodes[0].pods, Some(0));
}

#[test]
fn a_scope_that_says_ok_follows_its_unreachable_source() {
    let t = t();
    let mut s = ClusterState::new("c", Settings::default());
    let prom = |scope: &str, h: SourceHealth| Update::Health {
        source: SourceId::Prometheus,
        scope: scope.into(),
        health: h,
        at: t,
    };
    s.apply(prom("cpu", SourceHealth::Ok));
    s.apply(prom("", SourceHealth::Unreachable { error: "refused".into() }));
    let snap = s.snapshot(t);
    let cpu = snap.sources.iter().find(|x| x.scope == "cpu").expect("cpu scope");
    assert!(matches!(cpu.health, SourceHealth::Unreachable { .. }), "{cpu:?}");
}

/// Everything a snapshot shows, for comparing two of them.
fn shown(s: &Snapshot) -> String {
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        s.sandbox_starts,
        s.sources,
        s.nodes,
        s.pods,
        s.runtime_classes,
        s.cpu,
        s.node_cpu,
        s.fills,
        s.findings,
        s.unknown,
        s.foreign_nodes
    )
}

#[test]
fn a_keyframe_rebuilds_the_same_state() {
    use crate::model::{BgpState, CpuCurve, CpuPoint, NodeMetrics};
    use crate::testkit::{class, ct, pod, session};
    let t = t();
    let at = |s: i64| t + Duration::seconds(s);
    let mut s = ClusterState::new("c", Settings::default());
    let kube = |scope: &str, h: SourceHealth, at| Update::Health {
        source: SourceId::Kubernetes,
        scope: scope.into(),
        health: h,
        at,
    };
    s.apply(kube("", SourceHealth::Ok, at(0)));
    s.apply(kube("", SourceHealth::Unreachable { error: "refused".into() }, at(30)));
    s.apply(kube("pods", SourceHealth::Ok, at(0)));
    s.apply(kube("nodes", SourceHealth::Ok, at(0)));
    s.apply(kube("cronjobs", SourceHealth::Forbidden { verb: "list".into(), resource: "x".into() }, at(1)));
    s.apply(Update::Note {
        source: SourceId::Prometheus,
        scope: String::new(),
        note: "recording rules".into(),
    });
    s.apply(Update::RuntimeClasses(vec![class("kata", "kata-qemu", &[])]));
    s.apply(Update::NodeApplied { node: node("n1"), at: at(2) });
    s.apply(Update::NodeApplied { node: node("n2"), at: at(3) });
    let sessions = vec![session("a", BgpState::Established), session("b", BgpState::Active)];
    s.apply(Update::Bgp {
        node: "n1".into(),
        source: SourceId::Agents,
        sessions: sessions.clone(),
        at: at(4),
    });
    s.apply(Update::Bgp { node: "n1".into(), source: SourceId::Kubernetes, sessions, at: at(5) });
    let facts = HostFacts { conntrack: Some(ct(900, 1000)), kvm: Some(false), ..HostFacts::default() };
    s.apply(Update::Host { node: "n2".into(), facts, at: at(6) });
    s.apply(Update::HostSignals { node: "n2".into(), signals: vec![Signal::CiliumNode] });
    let metrics = NodeMetrics { cpu_now: Some(0.5), ..NodeMetrics::default() };
    s.apply(Update::NodeMetrics { node: "n1".into(), metrics, at: at(7) });
    s.apply(Update::Host { node: "ghost".into(), facts: HostFacts::default(), at: at(8) });
    s.apply(Update::PodsReplaced(vec![pod("a", "p1", "n1", Some("kata")), pod("a", "p2", "n2", None)]));
    s.apply(Update::PodApplied(pod("b", "p3", "n2", None)));
    s.apply(Update::PodDeleted { namespace: "a".into(), name: "p2".into() });
    let point = CpuPoint::new(at(0), 1.0, 0.5, 4.0);
    s.apply(Update::Cpu(CpuCurve {
        step_s: 300,
        capacity_cores: 4.0,
        points: vec![point],
        racks: Vec::new(),
    }));
    s.apply(Update::NodeCpu { node: "n1".into(), points: vec![(at(0).timestamp(), 0.25)] });
    let k = crate::model::KubeletStart {
        handler: "kata-qemu".into(),
        node: Some("n1".into()),
        mean_s: Some(1.1),
        p50_s: Some(1.0),
        p95_s: Some(2.0),
        samples: 12.0,
        errors: Some(1.0),
    };
    s.apply(Update::KubeletStarts {
        window: "1h".into(),
        starts: vec![k.clone(), crate::model::KubeletStart { node: None, ..k }],
    });
    let now = at(40);
    let want = shown(&s.snapshot(now));

    let mut rebuilt = ClusterState::new("c", Settings::default());
    for u in s.keyframe() {
        rebuilt.apply(u);
    }
    assert_eq!(shown(&rebuilt.snapshot(now)), want);
    // And later updates land the same on both.
    for st in [&mut s, &mut rebuilt] {
        st.apply(Update::NodeApplied { node: node("ghost"), at: at(41) });
        st.apply(Update::PodApplied(pod("a", "p4", "ghost", None)));
    }
    assert_eq!(shown(&rebuilt.snapshot(at(42))), shown(&s.snapshot(at(42))));
}
