//! The test kit every crate's tests share: the fixed test time, and small builders of nodes,
//! sessions, pods, classes and snapshots (there is no simulator dependency here). Built for the
//! crate's own tests and, with the `testkit` feature, for the other crates' tests.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::model::{
    Aged, BgpSession, BgpState, BgpVerdict, Conntrack, HostFacts, NetClass, NetMode, Node, Pod, RuntimeClass,
    RuntimeKind, RuntimeMix, Snapshot, SourceHealth, SourceId, SourceStatus, Window,
};

/// The fixed time tests compute against: 2026-11-24T12:00:00Z.
pub const T0: DateTime<Utc> = match DateTime::from_timestamp(1_795_521_600, 0) {
    Some(t) => t,
    None => panic!("a valid time"),
};

/// [`T0`].
pub fn now() -> DateTime<Utc> {
    T0
}

pub fn snapshot(nodes: Vec<Node>) -> Snapshot {
    let mut nodes = nodes;
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    Snapshot {
        now: now(),
        cluster: "test".into(),
        sources: Vec::new(),
        nodes: nodes.into_iter().map(Arc::new).collect(),
        pods: Arc::default(),
        runtime_classes: Vec::new(),
        sandbox_starts: Default::default(),
        cpu: None,
        node_cpu: None,
        tz: Tz::UTC,
        windows: vec![Window::parse("01:00-06:00").expect("valid window")],
        fills: Vec::new(),
        findings: Vec::new(),
        keepalive_idle_s: 900,
        unknown: Default::default(),
        foreign_nodes: Vec::new(),
    }
}

pub fn node(name: &str) -> Node {
    Node {
        name: name.into(),
        rack: "r1".into(),
        tors: ["r1-tor-a".into(), "r1-tor-b".into()],
        ready: true,
        labels: BTreeMap::new(),
        signals: Vec::new(),
        net: NetClass::unknown(),
        bgp: Vec::new(),
        bgp_verdict: BgpVerdict::NotApplicable,
        bgp_counts: Default::default(),
        runtime: Some(RuntimeMix::default()),
        pods: Some(0),
        finished_pods: Some(0),
        batch: None,
        host: None,
        host_from: Default::default(),
        seen: now(),
        created: Some(now() - chrono::Duration::days(30)),
    }
}

pub fn with_mode(mut n: Node, mode: NetMode) -> Node {
    n.net = NetClass { mode, evidence: Vec::new() };
    n
}

pub fn with_host(mut n: Node, facts: HostFacts) -> Node {
    n.host = Some(Aged::new(facts, now()));
    n
}

pub fn with_kvm(n: Node, kvm: Option<bool>) -> Node {
    with_host(n, HostFacts { kvm, ..HostFacts::default() })
}

/// A quiet table: no failures, a 5-day established timeout, no br_netfilter.
pub fn ct(entries: u64, limit: u64) -> Conntrack {
    Conntrack {
        entries,
        limit,
        insert_failed_per_s: 0.0,
        drop_per_s: 0.0,
        early_drop_per_s: 0.0,
        tcp_established_timeout_s: Some(432_000),
        bridge_nf_call_iptables: None,
    }
}

pub fn node_with_conntrack(name: &str, c: Conntrack) -> Node {
    with_host(node(name), HostFacts { conntrack: Some(c), ..HostFacts::default() })
}

pub fn source(source: SourceId, health: SourceHealth) -> SourceStatus {
    SourceStatus { source, scope: String::new(), health, updated: Some(now()), note: None }
}

pub fn session(peer: &str, state: BgpState) -> BgpSession {
    BgpSession {
        peer: peer.into(),
        peer_addr: format!("10.0.0.{}", peer.bytes().last().unwrap_or(b'0')),
        family: Some(crate::model::Family::Ipv4),
        peer_asn: 65001,
        local_asn: 65101,
        state,
        since: None,
        resets_1h: 0,
        routes_received: Some(12),
        routes_advertised: Some(1),
        hold_time_s: Some(9),
        keepalive_s: Some(3),
        last_error: None,
        peer_type: None,
        failover: Default::default(),
        reports: Vec::new(),
    }
}

pub fn pod(ns: &str, name: &str, node: &str, class: Option<&str>) -> Pod {
    Pod {
        namespace: ns.into(),
        name: name.into(),
        node: Some(node.into()),
        runtime_class: class.map(Into::into),
        priority_class: None,
        host_network: false,
        phase: "Running".into(),
        offline: false,
        sandbox: None,
        batch: None,
        sandbox_start_s: None,
    }
}

pub fn class(name: &str, handler: &str, selector: &[(&str, &str)]) -> RuntimeClass {
    RuntimeClass {
        name: name.into(),
        handler: handler.into(),
        kind: RuntimeKind::from_handler(handler),
        overhead_cpu_m: None,
        overhead_mem_bytes: None,
        node_selector: selector.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        pods: Some(0),
    }
}
