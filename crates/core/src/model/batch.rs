//! The batch tier of a colocated node: Koordinator's reclaimed capacity
//! (`kubernetes.io/batch-cpu`, `kubernetes.io/batch-memory`) and what batch pods request of it.

use serde::Serialize;

/// An amount of Koordinator's batch resources: `kubernetes.io/batch-cpu` is in milli-cores,
/// `kubernetes.io/batch-memory` in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BatchRes {
    pub cpu_m: u64,
    pub mem_bytes: u64,
}

impl BatchRes {
    pub fn add(&mut self, o: &BatchRes) {
        self.cpu_m += o.cpu_m;
        self.mem_bytes += o.mem_bytes;
    }
    /// The larger of each resource.
    pub fn max(&self, o: &BatchRes) -> BatchRes {
        BatchRes { cpu_m: self.cpu_m.max(o.cpu_m), mem_bytes: self.mem_bytes.max(o.mem_bytes) }
    }
}

/// A node's batch tier: the allocatable the slo-controller writes into its status, what the
/// node's running batch pods request of it (`None` when the node's pods are not known), and what
/// its offline pods use.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BatchTier {
    pub allocatable: BatchRes,
    pub requested: Option<BatchRes>,
    /// Cores the node's offline pods use now (cAdvisor, from Prometheus); `None` without metrics.
    pub used_cores: Option<f64>,
}
