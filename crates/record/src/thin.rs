//! What is worth recording: every change a view could show, and readings that only repeat (a
//! source's heartbeat, an agent's host facts that moved by noise) no more than once per refresh
//! period. At 5,000 nodes whose agents report every few seconds, recording every reading would be
//! gigabytes a day; recording its material changes and a refresh a minute is not.
//!
//! The recorder applies only what is kept to its own store, so its keyframes are exactly what a
//! reader rebuilds from the recording.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use clustertop_core::model::{CiliumMaps, Conntrack, CpuCurve, HostFacts, NodeMetrics, SourceId, Update};

/// How often readings that did not change materially are recorded anyway.
#[derive(Debug, Clone, Copy)]
pub struct Refresh {
    /// Sources' heartbeats (their `updated` time: below the store's 60 s staleness, so a replayed
    /// source is stale exactly when the live one was, give or take this).
    pub health: Duration,
    /// Node objects, BGP sessions, host facts and node metrics that did not change materially (a
    /// replayed moment shows each reading with the age it had when recorded).
    pub node: Duration,
    /// The cluster CPU curve while its newest point stays the same.
    pub curve: Duration,
}

impl Default for Refresh {
    fn default() -> Self {
        Refresh { health: Duration::seconds(45), node: Duration::minutes(5), curve: Duration::minutes(5) }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Health(SourceId, String),
    Note(SourceId, String),
    Node(String),
    Bgp(String, SourceId),
    Host(String),
    Signals(String),
    Metrics(String),
    Classes,
    Cpu,
    NodeCpu,
    MetricPods,
    Kubelet,
}

/// The last recorded value of each key, and when it was recorded.
#[derive(Default)]
pub struct Thinner {
    refresh: Refresh,
    last: HashMap<Key, (DateTime<Utc>, Update)>,
}

/// Two readings differ by more than noise: `a` and `b` further apart than `abs`, and than `rel`
/// of the larger; or one is zero and the other not. Conntrack fill and used/maximum pairs by 2 %
/// of their maximum, CPU by 5 points, load by 25 % and 1, rates by half and 0.5/s.
fn moved(a: f64, b: f64, abs: f64, rel: f64) -> bool {
    let d = (a - b).abs();
    d > abs && d > rel * a.abs().max(b.abs()) || (a == 0.0) != (b == 0.0)
}

fn opt<T>(a: &Option<T>, b: &Option<T>, f: impl Fn(&T, &T) -> bool) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => f(a, b),
        (None, None) => false,
        _ => true,
    }
}

fn conntrack_moved(a: &Conntrack, b: &Conntrack) -> bool {
    let step = (a.limit.max(b.limit) / 50).max(1) as f64;
    a.limit != b.limit
        || a.tcp_established_timeout_s != b.tcp_established_timeout_s
        || a.bridge_nf_call_iptables != b.bridge_nf_call_iptables
        || moved(a.entries as f64, b.entries as f64, step, 0.0)
        || moved(a.insert_failed_per_s, b.insert_failed_per_s, 0.5, 0.5)
        || moved(a.drop_per_s, b.drop_per_s, 0.5, 0.5)
        || moved(a.early_drop_per_s, b.early_drop_per_s, 0.5, 0.5)
}

/// Cilium's maps: a map appears or goes, a fill moves by 2 points, the drop rate as conntrack's.
fn cilium_moved(a: &CiliumMaps, b: &CiliumMaps) -> bool {
    a.maps.len() != b.maps.len()
        || a.maps
            .iter()
            .zip(&b.maps)
            .any(|(x, y)| x.name != y.name || moved(x.pressure, y.pressure, 0.02, 0.0))
        || opt(&a.insert_failed_per_s, &b.insert_failed_per_s, |x, y| moved(*x, *y, 0.5, 0.5))
}

/// Used of a maximum (file handles, pids): 2 % of the maximum.
fn pair_moved(a: &(u64, u64), b: &(u64, u64)) -> bool {
    a.1 != b.1 || moved(a.0 as f64, b.0 as f64, (a.1.max(b.1) / 50).max(1) as f64, 0.0)
}

/// `b`'s fields that moved materially from `a`, and `a`'s others: a reading kept because one
/// figure moved records that figure, not every figure's noise.
fn host_merged(a: &HostFacts, b: &HostFacts) -> HostFacts {
    fn pick<T: Clone>(a: &T, b: &T, moved: bool) -> T {
        if moved { b.clone() } else { a.clone() }
    }
    let HostFacts { kvm, conntrack, cilium_ct, file_nr, pids, load, cpu_cores, cpu_now } = a;
    HostFacts {
        kvm: pick(kvm, &b.kvm, *kvm != b.kvm),
        conntrack: pick(conntrack, &b.conntrack, opt(conntrack, &b.conntrack, conntrack_moved)),
        cilium_ct: pick(cilium_ct, &b.cilium_ct, opt(cilium_ct, &b.cilium_ct, cilium_moved)),
        file_nr: pick(file_nr, &b.file_nr, opt(file_nr, &b.file_nr, pair_moved)),
        pids: pick(pids, &b.pids, opt(pids, &b.pids, pair_moved)),
        load: pick(
            load,
            &b.load,
            opt(load, &b.load, |x, y| x.iter().zip(y).any(|(x, y)| moved(*x, *y, 1.0, 0.25))),
        ),
        cpu_cores: pick(cpu_cores, &b.cpu_cores, *cpu_cores != b.cpu_cores),
        cpu_now: pick(cpu_now, &b.cpu_now, opt(cpu_now, &b.cpu_now, |x, y| moved(*x, *y, 0.05, 0.0))),
    }
}

fn metrics_moved(a: &NodeMetrics, b: &NodeMetrics) -> bool {
    let NodeMetrics { cpu_now, conntrack, cilium_ct, batch_used_cores, bgp } = a;
    *bgp != b.bgp
        || opt(conntrack, &b.conntrack, conntrack_moved)
        || opt(cilium_ct, &b.cilium_ct, cilium_moved)
        || opt(batch_used_cores, &b.batch_used_cores, |x, y| moved(*x, *y, 0.5, 0.05))
        || opt(cpu_now, &b.cpu_now, |x, y| moved(*x, *y, 0.05, 0.0))
}

fn newest(c: &CpuCurve) -> Option<DateTime<Utc>> {
    c.points.last().map(|p| p.t)
}

impl Thinner {
    pub fn new(refresh: Refresh) -> Self {
        Thinner { refresh, last: HashMap::new() }
    }

    /// Forget everything (after a keyframe from elsewhere replaced the recorder's state).
    pub fn reset(&mut self) {
        self.last.clear();
    }

    /// What to record of `u`, received at `now`, if anything; remembers it. A host reading kept
    /// for one figure that moved keeps the last recorded value of the others (each within its
    /// noise of the reading), until the refresh period records the reading whole.
    /// `u` if it is worth recording at `now`: pods and deletions as they are (not copied: a
    /// relist is the whole cluster's pods), a host reading merged with the last one recorded.
    pub fn keep<'a>(&mut self, u: &'a Update, now: DateTime<Utc>) -> Option<Cow<'a, Update>> {
        let r = self.refresh;
        let (key, period) = match u {
            // What the recorder says of itself is not the cluster's history.
            Update::Health { source: SourceId::Recorder, .. } => return None,
            Update::Health { source, scope, .. } => (Key::Health(*source, scope.clone()), r.health),
            Update::Note { source, scope, .. } => (Key::Note(*source, scope.clone()), Duration::MAX),
            Update::NodeApplied { node, .. } => (Key::Node(node.name.clone()), r.node),
            Update::Bgp { node, source, .. } => (Key::Bgp(node.clone(), *source), r.node),
            Update::Host { node, .. } => (Key::Host(node.clone()), r.node),
            Update::HostSignals { node, .. } => (Key::Signals(node.clone()), Duration::MAX),
            Update::NodeMetrics { node, .. } => (Key::Metrics(node.clone()), r.node),
            Update::RuntimeClasses(_) => (Key::Classes, Duration::MAX),
            Update::Cpu(_) => (Key::Cpu, r.curve),
            Update::NodeCpu { .. } => (Key::NodeCpu, Duration::MAX),
            Update::MetricPods(_) => (Key::MetricPods, Duration::MAX),
            Update::KubeletStarts { .. } => (Key::Kubelet, r.curve),
            Update::NodeDeleted { name } => {
                self.last.retain(|k, _| match k {
                    Key::Node(n) | Key::Bgp(n, _) | Key::Host(n) | Key::Signals(n) | Key::Metrics(n) => {
                        n != name
                    }
                    _ => true,
                });
                return Some(Cow::Borrowed(u));
            }
            Update::PodApplied(_) | Update::PodDeleted { .. } | Update::PodsReplaced(_) => {
                return Some(Cow::Borrowed(u));
            }
        };
        // The time is that of the last whole record.
        let (keep, since) = match self.last.get(&key) {
            Some((at, prev)) if now - *at < period => match (prev, u) {
                (Update::Host { facts: a, .. }, Update::Host { node, facts: b, at: t }) => {
                    let facts = host_merged(a, b);
                    let moved = facts != *a;
                    (moved.then(|| Update::Host { node: node.clone(), facts, at: *t }), *at)
                }
                (prev, u) => (differs(prev, u).then(|| u.clone()), now),
            },
            _ => (Some(u.clone()), now),
        };
        if let Some(k) = &keep {
            self.last.insert(key, (since, k.clone()));
        }
        keep.map(Cow::Owned)
    }
}

/// Whether `u` says something a view shows that `prev` (the same key's last record) did not. (A
/// host reading is merged field by field instead: `host_merged`.)
fn differs(prev: &Update, u: &Update) -> bool {
    match (prev, u) {
        (Update::Health { health: a, .. }, Update::Health { health: b, .. }) => a != b,
        (Update::NodeApplied { node: a, .. }, Update::NodeApplied { node: b, .. }) => a != b,
        (Update::Bgp { sessions: a, .. }, Update::Bgp { sessions: b, .. }) => a != b,
        (Update::NodeMetrics { metrics: a, .. }, Update::NodeMetrics { metrics: b, .. }) => {
            metrics_moved(a, b)
        }
        (Update::Cpu(a), Update::Cpu(b)) => {
            a.racks.len() != b.racks.len() || newest(a) != newest(b) && a != b
        }
        (a, b) => a != b,
    }
}

/// Round what a host reading holds finer than any view shows, so that it records in a few bytes
/// (`host_delta`): load averages to 0.01 (as /proc/loadavg prints them), CPU to 0.01 %, conntrack
/// rates to 0.01/s, the reading's time to the millisecond. Other updates are left as they are.
pub fn quantize(u: &mut Update) {
    use crate::host_delta::{CPU_SCALE, LOAD_SCALE, PRESSURE_SCALE, RATE_SCALE};
    let Update::Host { facts, at, .. } = u else { return };
    let round = |v: &mut f64, scale: f64| {
        if v.is_finite() {
            *v = (*v * scale).round() / scale;
        }
    };
    if let Some(ms) = DateTime::from_timestamp_millis(at.timestamp_millis()) {
        *at = ms;
    }
    if let Some(l) = &mut facts.load {
        l.iter_mut().for_each(|v| round(v, LOAD_SCALE));
    }
    if let Some(c) = &mut facts.cpu_now {
        round(c, CPU_SCALE);
    }
    if let Some(c) = &mut facts.conntrack {
        for r in [&mut c.insert_failed_per_s, &mut c.drop_per_s, &mut c.early_drop_per_s] {
            round(r, RATE_SCALE);
        }
    }
    if let Some(c) = &mut facts.cilium_ct {
        c.maps.iter_mut().for_each(|m| round(&mut m.pressure, PRESSURE_SCALE));
        if let Some(r) = &mut c.insert_failed_per_s {
            round(r, RATE_SCALE);
        }
    }
}
