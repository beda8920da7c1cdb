//! The immutable picture of the cluster that the views draw.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::{CpuCurve, Finding, Node, NodeCurve, Pods, RuntimeClass, SourceStatus, Window, WindowFill};

/// Shown for a figure that is not known.
pub const UNKNOWN: &str = "?";

/// A figure, or `?` when it is not known.
pub fn or_unknown<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| UNKNOWN.to_string(), |v| v.to_string())
}

#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    /// The time everything is computed against (injected: tests fix it).
    pub now: DateTime<Utc>,
    /// What is being shown: a kube context, or `demo: SCENARIO, N nodes, seed S`.
    pub cluster: String,
    pub sources: Vec<SourceStatus>,
    /// Sorted by name. Shared with the store and the previous snapshot while unchanged.
    pub nodes: Vec<Arc<Node>>,
    #[serde(skip)]
    pub pods: Arc<Pods>,
    pub runtime_classes: Vec<RuntimeClass>,
    /// Sandbox start time per runtime, cluster-wide and per node.
    #[serde(skip)]
    pub sandbox_starts: Arc<super::SandboxStarts>,
    pub cpu: Option<CpuCurve>,
    /// The CPU history of the node whose detail is open, when a metrics backend has it.
    pub node_cpu: Option<NodeCurve>,
    pub tz: Tz,
    pub windows: Vec<Window>,
    pub fills: Vec<WindowFill>,
    /// Most severe first.
    pub findings: Vec<Finding>,
    /// The keep-alive idle time that conntrack timeouts are checked against, seconds.
    pub keepalive_idle_s: u64,
    /// What is not known, and why: every figure derived from it is `?` (`null` in JSON).
    pub unknown: Unknown,
    /// Nodes a node agent or the metrics backend reports that the API does not list.
    pub foreign_nodes: Vec<ForeignNode>,
}

/// A node some source reports that the cluster does not have (a stale agent, a node deleted
/// from the API but still running, a metrics label that is not a node name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForeignNode {
    pub name: String,
    pub sources: Vec<super::SourceId>,
}

/// Kinds whose objects are not known (forbidden, or not listed yet), each with the reason. A kind
/// listed once and unreachable since is not unknown: its last state is shown, with its age.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Unknown {
    pub nodes: Option<String>,
    /// Pod counts, runtime mixes and pod placement.
    pub pods: Option<String>,
    /// RuntimeClasses: which runtime a class's pods run.
    pub runtime_classes: Option<String>,
}

impl Unknown {
    /// Why runtime mixes are unknown (they need the pods and the RuntimeClasses).
    pub fn runtime_mix(&self) -> Option<&str> {
        self.pods.as_deref().or(self.runtime_classes.as_deref())
    }
}

impl Snapshot {
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.binary_search_by(|n| n.name.as_str().cmp(name)).ok().map(|i| &*self.nodes[i])
    }
}
