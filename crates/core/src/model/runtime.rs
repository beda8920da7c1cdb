//! Container runtimes: RuntimeClasses, slim pods and the per-node mix.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

/// What a RuntimeClass handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuntimeKind {
    Runc,
    Kata,
    Gvisor,
    Other,
}

impl RuntimeKind {
    /// Classify a CRI handler name (`runc`, `kata-qemu`, `kata-clh`, `runsc`, …).
    pub fn from_handler(handler: &str) -> Self {
        let h = handler.to_ascii_lowercase();
        if h == "runc" || h == "crun" || h.is_empty() {
            RuntimeKind::Runc
        } else if h.starts_with("kata") {
            RuntimeKind::Kata
        } else if h == "runsc" || h.starts_with("gvisor") {
            RuntimeKind::Gvisor
        } else {
            RuntimeKind::Other
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            RuntimeKind::Runc => "runc",
            RuntimeKind::Kata => "kata",
            RuntimeKind::Gvisor => "gvisor",
            RuntimeKind::Other => "other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuntimeClass {
    pub name: String,
    pub handler: String,
    pub kind: RuntimeKind,
    /// `overhead.podFixed` cpu (millicores) and memory (bytes).
    pub overhead_cpu_m: Option<u64>,
    pub overhead_mem_bytes: Option<u64>,
    /// `scheduling.nodeSelector`.
    pub node_selector: BTreeMap<String, String>,
    /// Pods using this class, filled in when the snapshot is built; `None` when the pods are not
    /// known.
    pub pods: Option<u32>,
}

/// A pod, slimmed to what clustertop needs (never whole Pod objects). Strings are `Arc<str>` so
/// that the store can intern the repeated ones (`model::pods::Interner`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pod {
    pub namespace: Arc<str>,
    pub name: Arc<str>,
    pub node: Option<Arc<str>>,
    /// `spec.runtimeClassName`; `None` is the node's default runtime (runc).
    pub runtime_class: Option<Arc<str>>,
    pub priority_class: Option<Arc<str>>,
    pub host_network: bool,
    pub phase: Arc<str>,
    /// Offline (batch/colocated) work, by priority class or QoS label.
    pub offline: bool,
}

impl Pod {
    /// Succeeded or Failed: listed until deleted, but no longer running anything.
    pub fn finished(&self) -> bool {
        matches!(&*self.phase, "Succeeded" | "Failed")
    }
}

/// Pod counts per runtime kind on one node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RuntimeMix {
    pub runc: u32,
    pub kata: u32,
    pub gvisor: u32,
    pub other: u32,
}

impl RuntimeMix {
    pub fn add(&mut self, kind: RuntimeKind) {
        match kind {
            RuntimeKind::Runc => self.runc += 1,
            RuntimeKind::Kata => self.kata += 1,
            RuntimeKind::Gvisor => self.gvisor += 1,
            RuntimeKind::Other => self.other += 1,
        }
    }
    pub fn total(&self) -> u32 {
        self.runc + self.kata + self.gvisor + self.other
    }
    /// Pods in a sandboxed runtime (Kata or gVisor).
    pub fn sandboxed(&self) -> u32 {
        self.kata + self.gvisor
    }
    pub fn merge(&mut self, o: &RuntimeMix) {
        self.runc += o.runc;
        self.kata += o.kata;
        self.gvisor += o.gvisor;
        self.other += o.other;
    }
}
