//! The store's input: what sources report (`Update`), and the parts of a node each brings.
//! Plain data: sources produce it, the store applies it, the simulator serves it.

use chrono::{DateTime, Utc};

use super::{
    BgpSession, CiliumMaps, ConfiguredPeer, Conntrack, CpuCurve, HostFacts, KubeletStart, Pod, RuntimeClass,
    Signal, SourceHealth, SourceId,
};

/// What a metrics backend knows about one node right now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeMetrics {
    /// CPU utilisation, 0.0..=1.0.
    pub cpu_now: Option<f64>,
    pub conntrack: Option<Conntrack>,
    /// Cilium's BPF CT/NAT map pressure and CT insertion-failed drops.
    pub cilium_ct: Option<CiliumMaps>,
    /// Cores the node's offline pods use now (cAdvisor); `None` when not known.
    pub batch_used_cores: Option<f64>,
    /// `None` when no BGP metric mentions the node.
    pub bgp: Option<Vec<BgpSession>>,
}

/// The part of a node that comes from its API object.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeInfo {
    pub name: String,
    pub rack: String,
    pub tors: [String; 2],
    pub ready: bool,
    pub labels: std::collections::BTreeMap<String, String>,
    /// Networking signals visible in the API (agent pods, condition reasons, annotations, CRs).
    pub signals: Vec<Signal>,
    /// The BGP peers the node's own configuration names (CiliumBGPNodeConfig spec, a BGP v1
    /// policy); `None` when it has none.
    pub bgp_peers: Option<Vec<ConfiguredPeer>>,
    /// `metadata.creationTimestamp`: when the node joined the cluster; `None` when not reported.
    pub created: Option<DateTime<Utc>>,
    /// Koordinator's batch resources in `status.allocatable`; `None` when the node has none.
    pub batch_allocatable: Option<super::BatchRes>,
}

impl NodeInfo {
    /// Whether `tors` come from the node's TOR labels (else they are guessed from peer names).
    pub fn tor_labels(&self) -> bool {
        use super::node::{TOR_A_LABEL, TOR_B_LABEL};
        self.labels.contains_key(TOR_A_LABEL) && self.labels.contains_key(TOR_B_LABEL)
    }
}

/// One change reported by a source. The store applies updates in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// Health of a source, or of one `scope` of it (a resource kind); empty scope = the source.
    Health {
        source: SourceId,
        scope: String,
        health: SourceHealth,
        at: DateTime<Utc>,
    },
    /// What a source found out about its backend (see [`crate::model::SourceStatus::note`]).
    Note {
        source: SourceId,
        scope: String,
        note: String,
    },
    NodeApplied {
        node: NodeInfo,
        at: DateTime<Utc>,
    },
    NodeDeleted {
        name: String,
    },
    /// The full set of a node's BGP sessions as one source reads them, replacing what that
    /// source said before (other sources' reports are kept and merged).
    Bgp {
        node: String,
        source: SourceId,
        sessions: Vec<BgpSession>,
        at: DateTime<Utc>,
    },
    /// Host facts (agent or simulator), replacing what was known for that node.
    Host {
        node: String,
        facts: HostFacts,
        at: DateTime<Utc>,
    },
    /// Host-level networking signals (interfaces, CNI config files), from the agent.
    HostSignals {
        node: String,
        signals: Vec<Signal>,
    },
    PodApplied(Pod),
    PodDeleted {
        namespace: String,
        name: String,
    },
    /// A relist: the complete pod set, replacing everything.
    PodsReplaced(Vec<Pod>),
    RuntimeClasses(Vec<RuntimeClass>),
    Cpu(CpuCurve),
    /// What a metrics backend knows about a node now; merged under what the node's own source
    /// (agent, simulator, API) says, which wins where both have a value.
    NodeMetrics {
        node: String,
        metrics: NodeMetrics,
        at: DateTime<Utc>,
    },
    /// One node's CPU utilisation history (`(unix seconds, 0..1)`), for its detail view.
    NodeCpu {
        node: String,
        points: Vec<(i64, f64)>,
    },
    /// Pods from metrics (kube-state-metrics), used only while no pod came from the API.
    MetricPods(Vec<Pod>),
    /// The kubelet's sandbox start figures from a metrics backend over `window` (`10m`),
    /// replacing the last ones.
    KubeletStarts {
        window: String,
        starts: Vec<KubeletStart>,
    },
}
