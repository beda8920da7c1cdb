//! A node agent's report as store updates. Pure: the previous report's counters of the same node
//! come in, so conntrack rates can be computed, and the counters to keep go out.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::model::Update;
use crate::model::{BgpSession, BgpState, Conntrack, Family, HostFacts, SourceId};
use crate::wire::{BgpPeer, NodeReport};

/// What is kept of a node's last reports to compute rates from the next one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Counters {
    pub at: Option<DateTime<Utc>>,
    pub stat: BTreeMap<String, u64>,
    /// Per BGP session (family and neighbour), the daemon's established-transitions counter as
    /// read over the last hour, oldest first.
    pub transitions: BTreeMap<String, Vec<(DateTime<Utc>, u64)>>,
}

/// Per-second increase of one counter; 0 on the first report, after a reset (the counter went
/// down: a reboot or module reload) or when time did not advance.
fn rate(prev: &Counters, stat: &BTreeMap<String, u64>, at: DateTime<Utc>, key: &str) -> f64 {
    let (Some(t0), Some(old), Some(new)) = (prev.at, prev.stat.get(key), stat.get(key)) else { return 0.0 };
    let dt = (at - t0).num_milliseconds() as f64 / 1e3;
    if dt <= 0.0 || new < old { 0.0 } else { (new - old) as f64 / dt }
}

fn conntrack(r: &NodeReport, prev: &Counters) -> Option<Conntrack> {
    let (entries, limit) = (*r.host.conntrack.count.value()?, *r.host.conntrack.max.value()?);
    let empty = BTreeMap::new();
    let stat = r.host.conntrack.stat.value().unwrap_or(&empty);
    let rate = |k| rate(prev, stat, r.read_at, k);
    Some(Conntrack {
        entries,
        limit,
        insert_failed_per_s: rate("insert_failed"),
        drop_per_s: rate("drop"),
        early_drop_per_s: rate("early_drop"),
        tcp_established_timeout_s: r.host.conntrack.tcp_timeout_established_s.value().copied(),
        bridge_nf_call_iptables: r.host.bridge_nf_call_iptables.value().copied(),
    })
}

/// Kata needs both `/dev/kvm` and vmx/svm; either one missing settles it, else unknown.
fn kvm(r: &NodeReport) -> Option<bool> {
    match (r.host.dev_kvm.value(), r.host.cpu_virt.value()) {
        (Some(false), _) | (_, Some(None)) => Some(false),
        (Some(true), Some(Some(_))) => Some(true),
        _ => None,
    }
}

/// Calico names BIRD's protocols after the peer type: `Mesh_10_0_0_2` (node-to-node mesh),
/// `Node_…` (a node-specific BGPPeer), `Global_…` (a global BGPPeer).
fn calico_peer_type(name: &str) -> Option<&'static str> {
    match name.split_once('_')?.0 {
        "Mesh" => Some("NodeMesh"),
        "Node" => Some("NodePeer"),
        "Global" => Some("GlobalPeer"),
        _ => None,
    }
}

fn session(p: &BgpPeer, at: DateTime<Utc>) -> BgpSession {
    let mut s = BgpSession::new(
        p.name.clone(),
        p.neighbor_address.clone(),
        p.neighbor_as.unwrap_or(0),
        p.local_as.unwrap_or(0),
        BgpState::parse(&p.state),
    );
    match p.family.as_deref() {
        Some("ipv4") => s.family = Some(Family::Ipv4),
        Some("ipv6") => s.family = Some(Family::Ipv6),
        _ => {}
    }
    s.peer_type = calico_peer_type(&p.name).map(str::to_string);
    s.since = p
        .since
        .or_else(|| p.since_s.and_then(|d| i64::try_from(d).ok()).map(|d| at - chrono::Duration::seconds(d)));
    s.routes_received = p.routes_imported;
    s.routes_advertised = p.routes_exported;
    s.hold_time_s = p.hold_time_s;
    s.keepalive_s = p.keepalive_s;
    s.last_error = p.last_error.clone();
    s.failover = crate::model::Failover {
        graceful_restart: p.graceful_restart,
        restart_time_s: p.restart_time_s,
        peer_graceful_restart: p.peer_graceful_restart,
        hold_time_conf_s: p.hold_time_conf_s,
        keepalive_conf_s: p.keepalive_conf_s,
    };
    s
}

/// The updates for one report; `counters` holds each node's last counters, read and replaced.
pub fn updates_keeping(
    r: &NodeReport,
    counters: &mut std::collections::HashMap<String, Counters>,
) -> Vec<Update> {
    let prev = counters.remove(&r.node).unwrap_or_default();
    let (u, next) = updates(r, &prev);
    counters.insert(r.node.clone(), next);
    u
}

/// The updates for one report, and the counters to pass with the node's next report.
pub fn updates(r: &NodeReport, prev: &Counters) -> (Vec<Update>, Counters) {
    let at = r.read_at;
    let node = r.node.clone();
    let facts = HostFacts {
        kvm: kvm(r),
        conntrack: conntrack(r, prev),
        // Cilium's maps come from Prometheus (the agent does not scrape them).
        cilium_ct: None,
        file_nr: r.host.file_nr.value().copied(),
        pids: None,
        load: r.host.load.value().map(|l| l.0),
        cpu_cores: r.host.cpu_cores.value().copied(),
        cpu_now: None,
    };
    let mut out = vec![
        Update::Host { node: node.clone(), facts, at },
        Update::HostSignals {
            node: node.clone(),
            signals: crate::wire::signals(&r.host.interfaces, &r.host.cni_configs),
        },
    ];
    let daemons = [&r.bgp_bird, &r.bgp_bird6, &r.bgp_cilium];
    let peers: Vec<&BgpPeer> = daemons.iter().filter_map(|d| d.value()).flatten().collect();
    let mut transitions = BTreeMap::new();
    if daemons.iter().any(|d| d.value().is_some()) {
        let sessions = peers
            .into_iter()
            .map(|p| {
                let mut s = session(p, at);
                if let Some(n) = p.established_transitions {
                    s.resets_1h = resets(prev, &mut transitions, &s, at, n);
                }
                s
            })
            .collect();
        out.push(Update::Bgp { node, source: SourceId::Agents, sessions, at });
    }
    let stat = r.host.conntrack.stat.value();
    let next = Counters { at: stat.map(|_| at), stat: stat.cloned().unwrap_or_default(), transitions };
    (out, next)
}

/// Resets in the last hour from a daemon's count of established transitions: each transition
/// after the first is a session that went down and came back. The count's samples of the last
/// hour are kept in `next`; a counter that went down (the daemon restarted) starts over.
fn resets(
    prev: &Counters,
    next: &mut BTreeMap<String, Vec<(DateTime<Utc>, u64)>>,
    s: &BgpSession,
    at: DateTime<Utc>,
    n: u64,
) -> u32 {
    let key = format!("{:?}|{}", s.family, s.key());
    let mut samples: Vec<(DateTime<Utc>, u64)> = prev
        .transitions
        .get(&key)
        .map(|v| v.iter().copied().filter(|(t, c)| at - *t < chrono::Duration::hours(1) && *c <= n).collect())
        .unwrap_or_default();
    samples.push((at, n));
    let first = samples.first().map_or(n, |f| f.1);
    next.insert(key, samples);
    u32::try_from(n - first).unwrap_or(u32::MAX)
}

#[cfg(test)]
#[path = "map_tests.rs"]
mod tests;
