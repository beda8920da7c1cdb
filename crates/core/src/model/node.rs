//! One node and the facts gathered about it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{BgpCounts, BgpSession, BgpVerdict, CiliumMaps, Conntrack, NetClass, RuntimeMix, Signal};

/// Node labels naming the two top-of-rack switches a node peers with.
pub const TOR_A_LABEL: &str = "clustertop.io/tor-a";
pub const TOR_B_LABEL: &str = "clustertop.io/tor-b";

/// A value and when it was observed; views show the age against `Snapshot::now`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Aged<T> {
    pub value: T,
    pub at: DateTime<Utc>,
}

impl<T> Aged<T> {
    pub fn new(value: T, at: DateTime<Utc>) -> Self {
        Aged { value, at }
    }
}

/// Host facts a node agent (or the simulator) reads from /proc and /sys.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HostFacts {
    /// `/dev/kvm` present and vmx/svm in the CPU flags: Kata can run here.
    pub kvm: Option<bool>,
    pub conntrack: Option<Conntrack>,
    /// Cilium's BPF CT and NAT maps (Prometheus); `None` when no source has them.
    pub cilium_ct: Option<CiliumMaps>,
    /// `/proc/sys/fs/file-nr`: allocated and maximum file handles.
    pub file_nr: Option<(u64, u64)>,
    /// Running threads/processes and the pid limit.
    pub pids: Option<(u64, u64)>,
    /// 1, 5 and 15 minute load averages.
    pub load: Option<[f64; 3]>,
    pub cpu_cores: Option<u32>,
    /// CPU utilisation now, 0.0..=1.0.
    pub cpu_now: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    pub name: String,
    pub rack: String,
    /// The two top-of-rack switches this node peers with.
    pub tors: [String; 2],
    pub ready: bool,
    pub labels: BTreeMap<String, String>,
    /// Raw networking signals reported by the sources.
    pub signals: Vec<Signal>,
    /// Network mode derived from `signals` (analysis::netmode).
    pub net: NetClass,
    pub bgp: Vec<BgpSession>,
    /// Derived by analysis::bgp from `bgp`, the node's configured peers and `net`.
    pub bgp_verdict: BgpVerdict,
    /// The established and expected sessions per address family behind the verdict.
    pub bgp_counts: BgpCounts,
    /// Pods per runtime; `None` when the pods or RuntimeClasses are not known.
    pub runtime: Option<RuntimeMix>,
    /// Pods on the node that have not finished (Succeeded and Failed pods are `finished_pods`);
    /// `None` when the pods are not known.
    pub pods: Option<u32>,
    /// Succeeded and Failed pods still listed on the node: not in `pods` or `runtime`.
    /// `pods_finished` in JSON, as in the snapshot's summary.
    #[serde(rename = "pods_finished")]
    pub finished_pods: Option<u32>,
    /// Koordinator's batch tier (reclaimed capacity and its batch pods' requests); `None` when
    /// the node has no batch allocatable.
    pub batch: Option<super::BatchTier>,
    /// Host facts with the time they were read; `None` when no source has them.
    pub host: Option<Aged<HostFacts>>,
    /// Where each host fact shown came from, by its name in `host` (`conntrack`, `cpu_now`, …):
    /// the node's agent (the simulator in the demo) or a metrics backend filling its gaps.
    pub host_from: BTreeMap<&'static str, super::SourceId>,
    /// When the node's API object was last seen.
    pub seen: DateTime<Utc>,
    /// `metadata.creationTimestamp`: the node's age as `kubectl get nodes` shows it; `None` when
    /// not reported.
    pub created: Option<DateTime<Utc>>,
}

impl Node {
    pub fn conntrack(&self) -> Option<&Conntrack> {
        self.host.as_ref().and_then(|h| h.value.conntrack.as_ref())
    }
    pub fn cilium_ct(&self) -> Option<&CiliumMaps> {
        self.host.as_ref().and_then(|h| h.value.cilium_ct.as_ref())
    }
    pub fn cpu_now(&self) -> Option<f64> {
        self.host.as_ref().and_then(|h| h.value.cpu_now)
    }
    /// `2/2`, `1/2`, `v4 2/2 v6 1/2`, `?/2`, `-`.
    pub fn bgp_label(&self) -> String {
        self.bgp_counts.label(self.bgp_verdict)
    }
    pub fn kvm(&self) -> Option<bool> {
        self.host.as_ref().and_then(|h| h.value.kvm)
    }
}
