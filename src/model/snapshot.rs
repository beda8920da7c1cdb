//! The immutable picture of the cluster that the views draw.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::{CpuCurve, Finding, Node, NodeCurve, Pods, RuntimeClass, SourceStatus, Window, WindowFill};

#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    /// The time everything is computed against (injected: tests fix it).
    pub now: DateTime<Utc>,
    /// What is being shown: a kube context, or `demo (seed N, scenario S)`.
    pub cluster: String,
    pub sources: Vec<SourceStatus>,
    /// Sorted by name. Shared with the store and the previous snapshot while unchanged.
    pub nodes: Vec<Arc<Node>>,
    #[serde(skip)]
    pub pods: Arc<Pods>,
    pub runtime_classes: Vec<RuntimeClass>,
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
}

impl Snapshot {
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.binary_search_by(|n| n.name.as_str().cmp(name)).ok().map(|i| &*self.nodes[i])
    }
}
