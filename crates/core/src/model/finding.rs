//! Findings: what is wrong, where, since when, why we think so, and what to do.

use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Critical => "CRIT",
            Severity::Warning => "WARN",
            Severity::Info => "INFO",
        }
    }
}

/// The rule that produced a finding; one family per file in `src/analysis/rules/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    ConntrackPressure,
    ConntrackInsertFailed,
    ConntrackDrops,
    ConntrackTimeoutBelowKeepalive,
    BridgeNfCallIptables,
    CiliumMapPressure,
    CiliumCtInsertFailed,
    BgpPeerDown,
    BgpDegraded,
    BgpIsolated,
    BgpFlapping,
    BgpSinglePeer,
    BgpNoGracefulRestart,
    BgpSlowHold,
    CniTwoAgents,
    KataWithoutKvm,
    KataClassWithoutKvm,
    KataHostNetwork,
    RuntimeClassMismatch,
    KataHostPidIpc,
    KataShareProcessNamespace,
    KataSysctls,
    KataLargeShm,
    GvisorInitNetAdmin,
    GvisorHostPath,
    KataClassOverhead,
    RuntimeClassNoRunnableNode,
    SandboxStartSlow,
    SandboxCreateErrors,
    FdExhaustion,
    WindowUnderfill,
    WindowSpill,
    SourceStale,
    SourceForbidden,
    SourceUnreachable,
    SourceNoData,
    ForeignNode,
}

impl Rule {
    pub fn id(self) -> &'static str {
        match self {
            Rule::ConntrackPressure => "conntrack-pressure",
            Rule::ConntrackInsertFailed => "conntrack-insert-failed",
            Rule::ConntrackDrops => "conntrack-drops",
            Rule::ConntrackTimeoutBelowKeepalive => "conntrack-timeout-below-keepalive",
            Rule::BridgeNfCallIptables => "bridge-nf-call-iptables",
            Rule::CiliumMapPressure => "cilium-map-pressure",
            Rule::CiliumCtInsertFailed => "cilium-ct-insert-failed",
            Rule::BgpPeerDown => "bgp-peer-down",
            Rule::BgpDegraded => "bgp-ecmp-degraded",
            Rule::BgpIsolated => "bgp-isolated",
            Rule::BgpFlapping => "bgp-flapping",
            Rule::BgpSinglePeer => "bgp-single-peer",
            Rule::BgpNoGracefulRestart => "bgp-no-graceful-restart",
            Rule::BgpSlowHold => "bgp-slow-failover",
            Rule::CniTwoAgents => "cni-two-agents",
            Rule::KataWithoutKvm => "kata-pod-without-kvm",
            Rule::KataClassWithoutKvm => "kata-class-selects-node-without-kvm",
            Rule::KataHostNetwork => "kata-host-network",
            Rule::RuntimeClassMismatch => "runtimeclass-node-mismatch",
            Rule::KataHostPidIpc => "kata-host-pid-ipc",
            Rule::KataShareProcessNamespace => "kata-share-process-namespace",
            Rule::KataSysctls => "kata-sysctls",
            Rule::KataLargeShm => "kata-large-dev-shm",
            Rule::GvisorInitNetAdmin => "gvisor-init-net-admin",
            Rule::GvisorHostPath => "gvisor-host-path",
            Rule::KataClassOverhead => "kata-class-overhead",
            Rule::RuntimeClassNoRunnableNode => "runtimeclass-no-runnable-node",
            Rule::SandboxStartSlow => "sandbox-start-slow",
            Rule::SandboxCreateErrors => "sandbox-create-errors",
            Rule::FdExhaustion => "fd-exhaustion",
            Rule::WindowUnderfill => "window-underfill",
            Rule::WindowSpill => "window-spill",
            Rule::SourceStale => "source-stale",
            Rule::SourceForbidden => "source-forbidden",
            Rule::SourceUnreachable => "source-unreachable",
            Rule::SourceNoData => "source-no-data",
            Rule::ForeignNode => "source-unknown-node",
        }
    }
}

/// Rules serialize as their stable ids (`conntrack-pressure`, …).
impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: Rule,
    pub severity: Severity,
    /// What it is about: a node, rack, pod (`ns/name`), RuntimeClass or source.
    pub subject: String,
    /// When the condition started, where known.
    pub since: Option<DateTime<Utc>>,
    /// One line: what is wrong.
    pub what: String,
    /// The signals and values that led to it.
    pub evidence: Vec<String>,
    /// What an SRE should do about it.
    pub remedy: String,
}
