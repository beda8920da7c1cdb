//! One node as the store holds it (its API object, each source's facts) and how it is built
//! into the snapshot's `Node`: its derived verdicts, its pods' counts, its host facts merged.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::analysis;
use crate::model::{
    Aged, BatchRes, BatchTier, BgpSession, HostFacts, Node, NodeInfo, NodeMetrics, RuntimeMix, Signal,
    SourceId,
};

#[derive(Debug, Clone)]
pub(super) struct NodeEntry {
    pub(super) info: NodeInfo,
    pub(super) seen: DateTime<Utc>,
    /// Each source's last word on the node's sessions.
    pub(super) bgp: BTreeMap<SourceId, Aged<Vec<BgpSession>>>,
    pub(super) host: Option<Aged<HostFacts>>,
    pub(super) host_signals: Vec<Signal>,
    /// From a metrics backend; the node's own sources win where both know a value.
    pub(super) metrics: Option<Aged<NodeMetrics>>,
    /// The node as the last snapshot showed it; dropped when anything above changes.
    pub(super) built: Option<Arc<Node>>,
}

impl NodeEntry {
    /// The node with its derived facts and its pods' counts.
    pub(super) fn build(&self, c: &Counts) -> Node {
        let Counts { runtime, pods, finished: finished_pods, batch, agent } = *c;
        let mut signals = self.info.signals.clone();
        signals.extend(self.host_signals.iter().cloned());
        let net = analysis::netmode::classify(&signals);
        let mut reports: Vec<analysis::bgp::SourceSessions> = self
            .bgp
            .iter()
            .map(|(source, s)| analysis::bgp::SourceSessions {
                source: *source,
                at: s.at,
                sessions: &s.value,
            })
            .collect();
        if let Some(m) = &self.metrics
            && let Some(s) = &m.value.bgp
        {
            reports.push(analysis::bgp::SourceSessions {
                source: SourceId::Prometheus,
                at: m.at,
                sessions: s,
            });
        }
        let bgp = analysis::bgp::merge(&reports);
        let tors = self.info.tor_labels().then_some(&self.info.tors);
        let (bgp_verdict, bgp_counts) =
            analysis::bgp::judge(net.mode, self.info.bgp_peers.as_deref(), tors, &bgp);
        let (host, host_from) = merged_host(self.host.as_ref(), self.metrics.as_ref(), agent);
        Node {
            name: self.info.name.clone(),
            rack: self.info.rack.clone(),
            tors: self.info.tors.clone(),
            ready: self.info.ready,
            labels: self.info.labels.clone(),
            signals,
            net,
            bgp,
            bgp_verdict,
            bgp_counts,
            runtime,
            pods,
            finished_pods,
            batch: self.info.batch_allocatable.map(|allocatable| BatchTier {
                allocatable,
                requested: batch,
                used_cores: self.metrics.as_ref().and_then(|m| m.value.batch_used_cores),
            }),
            host,
            host_from,
            seen: self.seen,
            created: self.info.created,
        }
    }
}

/// What a node shows of its pods: `None` where the pods are not known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Counts {
    pub(super) runtime: Option<RuntimeMix>,
    pub(super) pods: Option<u32>,
    pub(super) finished: Option<u32>,
    /// Batch resources its running pods request.
    pub(super) batch: Option<BatchRes>,
    /// The source whose host facts the node's own are: the agents, or the simulator.
    pub(super) agent: SourceId,
}

/// The node's host facts: its own source's (`agent`), with what a metrics backend knows filling
/// the gaps; and where each fact came from.
fn merged_host(
    host: Option<&Aged<HostFacts>>,
    metrics: Option<&Aged<NodeMetrics>>,
    agent: SourceId,
) -> (Option<Aged<HostFacts>>, BTreeMap<&'static str, SourceId>) {
    let mut from = BTreeMap::new();
    let mut h = host.cloned();
    if let Some(h) = &h {
        let HostFacts { kvm, conntrack, cilium_ct, file_nr, pids, load, cpu_cores, cpu_now } = &h.value;
        let known = [
            ("kvm", kvm.is_some()),
            ("conntrack", conntrack.is_some()),
            ("cilium_ct", cilium_ct.is_some()),
            ("file_nr", file_nr.is_some()),
            ("pids", pids.is_some()),
            ("load", load.is_some()),
            ("cpu_cores", cpu_cores.is_some()),
            ("cpu_now", cpu_now.is_some()),
        ];
        from.extend(known.into_iter().filter(|k| k.1).map(|(k, _)| (k, agent)));
    }
    let Some(m) = metrics
        .filter(|m| m.value.conntrack.is_some() || m.value.cpu_now.is_some() || m.value.cilium_ct.is_some())
    else {
        return (h, from);
    };
    let h = h.get_or_insert_with(|| Aged::new(HostFacts::default(), m.at));
    let mut fill = |name: &'static str, known: bool| {
        if known {
            from.entry(name).or_insert(SourceId::Prometheus);
        }
    };
    fill("conntrack", m.value.conntrack.is_some());
    fill("cilium_ct", m.value.cilium_ct.is_some());
    fill("cpu_now", m.value.cpu_now.is_some());
    if h.value.conntrack.is_none() {
        h.value.conntrack = m.value.conntrack.clone();
    }
    if h.value.cilium_ct.is_none() {
        h.value.cilium_ct = m.value.cilium_ct.clone();
    }
    if h.value.cpu_now.is_none() {
        h.value.cpu_now = m.value.cpu_now;
    }
    (Some(h.clone()), from)
}
