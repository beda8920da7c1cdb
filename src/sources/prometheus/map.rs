//! Pure mapping from PromQL results to the model: the CPU curve, per-node metrics, BGP sessions
//! and pods. No I/O; unit-tested with hand-built series.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use crate::model::bgp::normalize_addr;
use crate::model::{
    BgpSession, BgpState, CiliumMaps, Conntrack, CpuCurve, CpuPoint, Family, MapFill, NodeMetrics, Pod,
    RackCurve,
};

/// One series of a result: its labels and `(unix seconds, value)` samples, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub labels: HashMap<String, String>,
    pub samples: Vec<(i64, f64)>,
}

impl Series {
    pub fn label(&self, k: &str) -> Option<&str> {
        self.labels.get(k).map(String::as_str).filter(|v| !v.is_empty())
    }
    /// The value of an instant-vector element (its last sample).
    pub fn value(&self) -> Option<f64> {
        self.samples.last().map(|s| s.1).filter(|v| v.is_finite())
    }
}

/// The node a series is about: `node_label`, else the host part of `instance` (`host:port`,
/// `[v6]:port`).
pub fn node_of(s: &Series, node_label: &str) -> Option<String> {
    if let Some(n) = s.label(node_label) {
        return Some(n.to_string());
    }
    let host = strip_port(s.label("instance")?);
    (!host.is_empty()).then(|| host.to_string())
}

/// Values of a single-series result (a `sum(...)`) by timestamp.
fn by_time(series: &[Series]) -> BTreeMap<i64, f64> {
    let mut m = BTreeMap::new();
    for s in series {
        for &(t, v) in &s.samples {
            if v.is_finite() {
                *m.entry(t).or_insert(0.0) += v;
            }
        }
    }
    m
}

/// One curve's series by timestamp.
struct Maps {
    used: BTreeMap<i64, f64>,
    offline: BTreeMap<i64, f64>,
    measured: BTreeMap<i64, f64>,
    capacity: BTreeMap<i64, f64>,
    reclaimed: BTreeMap<i64, f64>,
}

/// A point per timestamp of `used` (the busy cores): offline work clamped to `0..=used`, online
/// the rest. The cores measured default to the capacity when that query returned nothing at
/// all (an override without it); the capacity defaults to the cores measured, and is never
/// below them.
fn points(m: &Maps) -> Vec<CpuPoint> {
    m.used
        .iter()
        .filter_map(|(&t, &u)| {
            let at = DateTime::<Utc>::from_timestamp(t, 0)?;
            let off = m.offline.get(&t).copied().unwrap_or(0.0).clamp(0.0, u.max(0.0));
            let capacity = m.capacity.get(&t).copied();
            let measured = match m.measured.get(&t) {
                Some(&v) => v,
                None if m.measured.is_empty() => capacity.unwrap_or(0.0),
                None => 0.0,
            };
            let capacity = capacity.unwrap_or(measured).max(measured);
            Some(CpuPoint {
                t: at,
                online: (u - off).max(0.0),
                offline: off,
                capacity,
                measured,
                reclaimed: m.reclaimed.get(&t).copied(),
            })
        })
        .collect()
}

/// The results the curve is built from (range queries at `step_s`); `*_by_rack` are grouped by
/// `rack_label`.
pub struct CurveInput<'a> {
    pub step_s: u32,
    pub used: &'a [Series],
    pub offline: &'a [Series],
    pub measured: &'a [Series],
    pub capacity: &'a [Series],
    pub used_by_rack: &'a [Series],
    pub offline_by_rack: &'a [Series],
    pub measured_by_rack: &'a [Series],
    pub capacity_by_rack: &'a [Series],
    /// Koordinator's reclaimed capacity (batch-cpu allocatable), cores; empty without it.
    pub reclaimed: &'a [Series],
    pub reclaimed_by_rack: &'a [Series],
    pub rack_label: &'a str,
}

/// The cluster curve and one per rack. Offline work is CPU of offline pods (cAdvisor); online is
/// the rest of the node's busy CPU (node_exporter), so `online + offline` is what the nodes used.
/// A timestamp where the busy-CPU query has no value is a gap. `None` when the cluster query
/// returned no points.
pub fn curve(i: &CurveInput) -> Option<CpuCurve> {
    let pts = points(&Maps {
        used: by_time(i.used),
        offline: by_time(i.offline),
        measured: by_time(i.measured),
        capacity: by_time(i.capacity),
        reclaimed: by_time(i.reclaimed),
    });
    let capacity_cores = pts.last()?.capacity;
    let group = |series: &[Series]| -> BTreeMap<String, Vec<Series>> {
        let mut m: BTreeMap<String, Vec<Series>> = BTreeMap::new();
        for s in series {
            let rack = s.label(i.rack_label).unwrap_or("unracked").to_string();
            m.entry(rack).or_default().push(s.clone());
        }
        m
    };
    let used = group(i.used_by_rack);
    let mut offline = group(i.offline_by_rack);
    let mut measured = group(i.measured_by_rack);
    let mut caps = group(i.capacity_by_rack);
    let mut reclaimed = group(i.reclaimed_by_rack);
    let take =
        |m: &mut BTreeMap<String, Vec<Series>>, rack: &str| by_time(&m.remove(rack).unwrap_or_default());
    let racks = used
        .iter()
        .filter_map(|(rack, s)| {
            let points = points(&Maps {
                used: by_time(s),
                offline: take(&mut offline, rack),
                measured: take(&mut measured, rack),
                capacity: take(&mut caps, rack),
                reclaimed: take(&mut reclaimed, rack),
            });
            Some(RackCurve { rack: rack.clone(), capacity_cores: points.last()?.capacity, points })
        })
        .collect();
    Some(CpuCurve { step_s: i.step_s, capacity_cores, points: pts, racks })
}

/// Instant results by template name (`conntrack_entries`, `node_util`, ...), per node.
pub fn node_metrics(results: &HashMap<&str, Vec<Series>>, node_label: &str) -> BTreeMap<String, NodeMetrics> {
    let per_node = |name: &str| -> HashMap<String, f64> {
        let mut m = HashMap::new();
        for s in results.get(name).map(Vec::as_slice).unwrap_or_default() {
            if let (Some(n), Some(v)) = (node_of(s, node_label), s.value()) {
                m.insert(n, v);
            }
        }
        m
    };
    let entries = per_node("conntrack_entries");
    let limit = per_node("conntrack_limit");
    let insert_failed = per_node("conntrack_insert_failed");
    let drop = per_node("conntrack_drop");
    let early = per_node("conntrack_early_drop");
    let timeout = per_node("conntrack_tcp_timeout");
    let brnf = per_node("bridge_nf_call_iptables");
    let util = per_node("node_util");
    let mut out: BTreeMap<String, NodeMetrics> = BTreeMap::new();
    for (n, v) in per_node("batch_used") {
        out.entry(n).or_default().batch_used_cores = Some(v.max(0.0));
    }
    for (n, v) in &util {
        out.entry(n.clone()).or_default().cpu_now = Some(v.clamp(0.0, 1.0));
    }
    for (n, e) in &entries {
        let Some(l) = limit.get(n) else { continue };
        let rate = |m: &HashMap<String, f64>| m.get(n).copied().unwrap_or(0.0).max(0.0);
        out.entry(n.clone()).or_default().conntrack = Some(Conntrack {
            entries: e.max(0.0) as u64,
            limit: l.max(0.0) as u64,
            insert_failed_per_s: rate(&insert_failed),
            drop_per_s: rate(&drop),
            early_drop_per_s: rate(&early),
            tcp_established_timeout_s: timeout.get(n).map(|t| t.max(0.0) as u64),
            bridge_nf_call_iptables: brnf.get(n).map(|b| *b != 0.0),
        });
    }
    for (n, c) in cilium_maps(results, node_label) {
        out.entry(n).or_default().cilium_ct = Some(c);
    }
    for (n, sessions) in bgp_sessions(results, node_label) {
        out.entry(n).or_default().bgp = Some(sessions);
    }
    out
}

/// Cilium's CT/NAT map pressure and CT insertion-failed drop rate per node: for every node with
/// a map pressure series or any drop counter.
fn cilium_maps(results: &HashMap<&str, Vec<Series>>, node_label: &str) -> BTreeMap<String, CiliumMaps> {
    let get = |n: &str| results.get(n).map(Vec::as_slice).unwrap_or_default();
    let mut maps: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for s in get("cilium_map_pressure") {
        if let (Some(n), Some(m), Some(v)) = (node_of(s, node_label), s.label("map_name"), s.value()) {
            let e = maps.entry(n).or_default().entry(m.to_string()).or_insert(0.0);
            *e = e.max(v.clamp(0.0, 1.0));
        }
    }
    let mut failed: BTreeMap<String, f64> = BTreeMap::new();
    for s in get("cilium_ct_insert_failed") {
        if let (Some(n), Some(v)) = (node_of(s, node_label), s.value()) {
            *failed.entry(n).or_default() += v.max(0.0);
        }
    }
    let seen: BTreeSet<String> =
        get("cilium_agent_seen").iter().filter_map(|s| node_of(s, node_label)).collect();
    let nodes: BTreeSet<&String> = maps.keys().chain(failed.keys()).chain(&seen).collect();
    nodes
        .into_iter()
        .map(|n| {
            let maps = maps
                .get(n)
                .map(|m| m.iter().map(|(name, p)| MapFill { name: name.clone(), pressure: *p }).collect());
            let insert_failed_per_s = failed.get(n).copied().or(seen.contains(n).then_some(0.0));
            (n.clone(), CiliumMaps { maps: maps.unwrap_or_default(), insert_failed_per_s })
        })
        .collect()
}

/// `10.0.0.1:179` → `10.0.0.1`; `[fd00::1]:179` → `fd00::1`.
fn strip_port(a: &str) -> &str {
    if let Some(rest) = a.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match a.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => a,
    }
}

/// The peer address in a Calico BIRD protocol name: `Mesh_10_0_0_2` → `10.0.0.2`,
/// `Node_fd00_20_2__1` → `fd00:20:2::1` (Calico joins the address's parts with `_`).
fn calico_peer_addr(name: &str) -> Option<String> {
    let (_, rest) = name.split_once('_')?;
    let parts: Vec<&str> = rest.split('_').collect();
    let v4 = parts.join(".");
    if v4.parse::<std::net::Ipv4Addr>().is_ok() {
        return Some(v4);
    }
    let v6 = parts.join(":");
    v6.parse::<std::net::Ipv6Addr>().ok().map(|a| a.to_string())
}

fn asn(s: &Series, keys: &[&str]) -> u32 {
    keys.iter().find_map(|k| s.label(k).and_then(|v| v.parse().ok())).unwrap_or(0)
}

/// BGP sessions per node from Cilium (`neighbor` + one of `vrouter`/`instance_name`/`local_asn`;
/// 1 = established), bird_exporter (`name`, `ip_version`; 1 = BIRD's protocol is up; `state` is
/// BIRD's whole info column: `Established`, `Active`, `Connect  Socket: Connection refused`)
/// and frr_exporter (`peer`, `afi`; 1 = established, 0 = down, 2 = administratively down).
/// Peers are sorted by address for a stable order.
///
/// Resets in the last hour come from each series' `changes(…[1h])` (`bgp_*_changes`): every
/// other change is the session going down.
fn bgp_sessions(results: &HashMap<&str, Vec<Series>>, node_label: &str) -> BTreeMap<String, Vec<BgpSession>> {
    let mut out: BTreeMap<String, BTreeMap<String, BgpSession>> = BTreeMap::new();
    let get = |n: &str| results.get(n).map(Vec::as_slice).unwrap_or_default();
    // A series' identity: its node and the labels that name the session.
    let ident = |s: &Series, keys: &[&str]| -> Option<String> {
        let mut id = node_of(s, node_label)?;
        for k in keys {
            id.push('|');
            id.push_str(s.label(k).unwrap_or_default());
        }
        Some(id)
    };
    let changes = |name: &str, keys: &[&str]| -> HashMap<String, f64> {
        get(name).iter().filter_map(|s| Some((ident(s, keys)?, s.value()?))).collect()
    };
    // Down transitions among `changes`, ending up (or not): up→down→up is one reset.
    let resets = |c: Option<&f64>, up: bool| -> u32 {
        let c = c.copied().unwrap_or(0.0).max(0.0).round() as u32;
        if up { c / 2 } else { c.div_ceil(2) }
    };
    const CILIUM: &[&str] = &["neighbor", "vrouter", "instance_name", "local_asn"];
    const BIRD: &[&str] = &["name", "ip_version"];
    const FRR: &[&str] = &["peer", "afi", "safi", "vrf"];
    let (cilium_changes, bird_changes, frr_changes) = (
        changes("bgp_cilium_changes", CILIUM),
        changes("bgp_bird_changes", BIRD),
        changes("bgp_frr_changes", FRR),
    );
    let down = || BgpState::Unknown("not established".into());
    let family = |v: Option<&str>| match v {
        Some("4" | "ipv4" | "IPv4") => Some(Family::Ipv4),
        Some("6" | "ipv6" | "IPv6") => Some(Family::Ipv6),
        _ => None,
    };
    for s in get("bgp_cilium") {
        let (Some(node), Some(nb), Some(v)) = (node_of(s, node_label), s.label("neighbor"), s.value()) else {
            continue;
        };
        let addr = normalize_addr(nb);
        let state = if v == 1.0 { BgpState::Established } else { down() };
        let local = asn(s, &["local_asn", "vrouter"]);
        let mut sess = BgpSession::new(addr.clone(), addr.clone(), asn(s, &["neighbor_asn"]), local, state);
        sess.resets_1h = resets(ident(s, CILIUM).and_then(|i| cilium_changes.get(&i)), sess.is_up());
        out.entry(node).or_default().insert(format!("{:?}{addr}", sess.family), sess);
    }
    for s in get("bgp_bird") {
        let (Some(node), Some(name), Some(v)) = (node_of(s, node_label), s.label("name"), s.value()) else {
            continue;
        };
        // The BGP state is the info column's first word; a protocol that is up is Established.
        let info = s.label("state").and_then(|st| st.split_whitespace().next());
        let state = match info.map(BgpState::parse) {
            _ if v == 1.0 => BgpState::Established,
            Some(BgpState::Established) | None => down(),
            Some(st) => st,
        };
        let addr = calico_peer_addr(name).unwrap_or_default();
        let mut sess = BgpSession::new(name.to_string(), addr, 0, 0, state);
        sess.family = family(s.label("ip_version")).or(sess.family);
        sess.resets_1h = resets(ident(s, BIRD).and_then(|i| bird_changes.get(&i)), sess.is_up());
        out.entry(node).or_default().insert(format!("{:?}{name}", sess.family), sess);
    }
    for s in get("bgp_frr") {
        let (Some(node), Some(peer), Some(v)) = (node_of(s, node_label), s.label("peer"), s.value()) else {
            continue;
        };
        let state = match v as i64 {
            1 => BgpState::Established,
            2 => BgpState::AdminDown,
            _ => down(),
        };
        let mut sess = BgpSession::new(
            peer.to_string(),
            peer.to_string(),
            asn(s, &["peer_as"]),
            asn(s, &["local_as"]),
            state,
        );
        sess.family = family(s.label("afi")).or(sess.family);
        sess.resets_1h = resets(ident(s, FRR).and_then(|i| frr_changes.get(&i)), sess.is_up());
        out.entry(node).or_default().insert(format!("{:?}{peer}", sess.family), sess);
    }
    out.into_iter().map(|(n, m)| (n, m.into_values().collect())).collect()
}

/// Pods from kube-state-metrics, for when the pod watch is off or forbidden: every scheduled pod
/// (`pod_nodes`) with its runtime class (`pod_runtimeclass`) and whether it is offline work.
pub fn pods(pod_nodes: &[Series], runtime: &[Series], offline_classes: &BTreeSet<String>) -> Vec<Pod> {
    let key = |s: &Series| Some((s.label("namespace")?.to_string(), s.label("pod")?.to_string()));
    let classes: HashMap<(String, String), String> =
        runtime.iter().filter_map(|s| Some((key(s)?, s.label("runtimeclass_name")?.to_string()))).collect();
    let mut out: Vec<Pod> = pod_nodes
        .iter()
        .filter_map(|s| {
            let (namespace, name) = key(s)?;
            let priority_class = s.label("priority_class").map(str::to_string);
            let runtime_class = classes.get(&(namespace.clone(), name.clone())).cloned();
            Some(Pod {
                offline: priority_class.as_ref().is_some_and(|p| offline_classes.contains(p)),
                namespace: namespace.into(),
                name: name.into(),
                node: s.label("node").map(Into::into),
                runtime_class: runtime_class.map(Into::into),
                priority_class: priority_class.map(Into::into),
                host_network: false,
                phase: "Running".into(),
                // kube-state-metrics does not carry these spec fields.
                sandbox: None,
                batch: None,
                sandbox_start_s: None,
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    out.dedup_by(|a, b| a.namespace == b.namespace && a.name == b.name);
    out
}

#[cfg(test)]
#[path = "map_tests.rs"]
mod tests;
