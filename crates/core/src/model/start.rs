//! Sandbox start latency per runtime: how long the kubelet takes from scheduling to a running pod
//! sandbox, per RuntimeClass (and the default runtime), cluster-wide and per node.

use std::collections::BTreeMap;

use serde::Serialize;

/// Where a start figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StartSource {
    /// The kubelet's `kubelet_run_podsandbox_duration_seconds` histogram (via Prometheus).
    Kubelet,
    /// Pods' `PodScheduled` to `PodReadyToStartContainers` (else `Initialized`) condition times.
    PodConditions,
}

/// What the pod-condition estimate is, said wherever it is shown.
pub const CONDITIONS_NOTE: &str =
    "estimate: condition times have whole-second resolution, so only the mean over many pods is meaningful";

/// One runtime's sandbox start time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SandboxStart {
    pub mean_s: Option<f64>,
    pub p50_s: Option<f64>,
    pub p95_s: Option<f64>,
    /// Sandboxes measured: pods with both condition times, or the kubelet's sandbox starts in the
    /// query window (rounded).
    pub samples: u64,
    pub source: StartSource,
    /// How to read the figure (the pod-condition estimate's resolution); `None` for the kubelet's.
    pub note: Option<&'static str>,
}

/// What the kubelet's metrics say about one runtime handler, cluster-wide (`node: None`) or on
/// one node, over the query window.
#[derive(Debug, Clone, PartialEq)]
pub struct KubeletStart {
    /// `runtime_handler` (`""`: the default runtime).
    pub handler: String,
    pub node: Option<String>,
    pub mean_s: Option<f64>,
    pub p50_s: Option<f64>,
    pub p95_s: Option<f64>,
    /// Sandbox starts in the window (`increase` of the histogram's `_count`).
    pub samples: f64,
    /// `kubelet_run_podsandbox_errors_total` increase in the window.
    pub errors: Option<f64>,
}

/// A runtime: `None` is the default runtime (pods without a RuntimeClass), else the class name.
pub type RuntimeKey = Option<String>;

/// Sandbox creation errors the kubelet counted for one handler on one node in the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SandboxErrors {
    pub handler: String,
    pub node: String,
    pub errors: f64,
}

/// Every runtime's start time, cluster-wide and per node; what is unknown says why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SandboxStarts {
    /// Per runtime: its figure, or why there is none.
    pub cluster: Vec<(RuntimeKey, Result<SandboxStart, String>)>,
    /// Per node, per runtime with samples there.
    pub nodes: BTreeMap<String, Vec<(RuntimeKey, SandboxStart)>>,
    /// The query window of the kubelet's figures, when they are used (`10m`).
    pub window: Option<String>,
    pub errors: Vec<SandboxErrors>,
}

impl SandboxStarts {
    /// The cluster figure of one runtime.
    pub fn of(&self, runtime: Option<&str>) -> Option<&Result<SandboxStart, String>> {
        self.cluster.iter().find(|(k, _)| k.as_deref() == runtime).map(|(_, v)| v)
    }
    /// The figures on one node.
    pub fn on_node(&self, node: &str) -> &[(RuntimeKey, SandboxStart)] {
        self.nodes.get(node).map_or(&[], |v| v.as_slice())
    }
}

/// The seed's reference figures (iQIYI: runc about 0.5 s, Kata a little over 1 s), by runtime kind.
pub fn reference_s(kind: super::RuntimeKind) -> Option<f64> {
    match kind {
        super::RuntimeKind::Runc => Some(0.5),
        super::RuntimeKind::Kata => Some(1.0),
        _ => None,
    }
}
