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
    /// What the spec asks of the host that a VM or user-space-kernel sandbox cannot give in the
    /// same way; `None` when it asks none of it (most pods: 8 bytes each).
    pub sandbox: Option<Box<SandboxAsks>>,
    /// Seconds from `PodScheduled` to `PodReadyToStartContainers` (else `Initialized`), from
    /// whole-second condition times; `None` when the pod has not got that far or does not say.
    pub sandbox_start_s: Option<u16>,
    /// Koordinator batch resources its containers request (`kubernetes.io/batch-cpu`,
    /// `kubernetes.io/batch-memory`); `None` when it requests none (most pods: 8 bytes each).
    pub batch: Option<Box<super::BatchRes>>,
}

/// The parts of a pod spec the sandbox compatibility rules read (`analysis::rules::sandbox`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SandboxAsks {
    /// `spec.hostPID`.
    pub host_pid: bool,
    /// `spec.hostIPC`.
    pub host_ipc: bool,
    /// `spec.shareProcessNamespace`.
    pub share_process_namespace: bool,
    /// `spec.securityContext.sysctls[].name`.
    pub sysctls: Vec<String>,
    /// The emptyDir volume some container mounts at `/dev/shm`.
    pub dev_shm: Option<DevShm>,
    /// `spec.volumes[].hostPath.path`.
    pub host_paths: Vec<String>,
    /// Capabilities init containers add (`securityContext.capabilities.add`).
    pub init_caps: Vec<AddedCap>,
}

impl SandboxAsks {
    /// `None` when nothing is asked, so that most pods carry no allocation.
    pub fn boxed(self) -> Option<Box<SandboxAsks>> {
        (self != SandboxAsks::default()).then(|| Box::new(self))
    }
}

/// An emptyDir mounted at `/dev/shm`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DevShm {
    pub volume: String,
    /// `emptyDir.medium: Memory` (a tmpfs); else disk-backed.
    pub memory: bool,
    /// `emptyDir.sizeLimit` in bytes.
    pub size_limit_bytes: Option<u64>,
}

/// One capability an init container adds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AddedCap {
    pub container: String,
    pub capability: String,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// 150,000 pods: the sandbox and batch fields cost one pointer each (8 bytes, 1.2 MB) unless
    /// a pod asks.
    #[test]
    fn a_pod_stays_small() {
        assert_eq!(std::mem::size_of::<Option<Box<SandboxAsks>>>(), 8);
        assert_eq!(std::mem::size_of::<Option<Box<super::super::BatchRes>>>(), 8);
        assert_eq!(
            std::mem::size_of::<Pod>(),
            120,
            "was 104 before `sandbox`, 112 before `batch`; `sandbox_start_s` fits the padding"
        );
        assert!(SandboxAsks::default().boxed().is_none());
    }
}
