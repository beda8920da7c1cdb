//! Network mode per node and the evidence behind it.

use serde::Serialize;

/// A CNI whose agent may run on a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cni {
    Cilium,
    Flannel,
    Calico,
}

impl Cni {
    pub fn label(self) -> &'static str {
        match self {
            Cni::Cilium => "cilium",
            Cni::Flannel => "flannel",
            Cni::Calico => "calico",
        }
    }
}

/// One observed signal about a node's networking. Sources report signals; analysis decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signal {
    /// A running CNI agent pod on the node (by label selector).
    AgentPod { cni: Cni, pod: String },
    /// `NetworkUnavailable=False` with reason `CiliumIsUp`/`FlannelIsUp`/`CalicoIsUp`.
    ConditionReason { reason: String },
    /// A node annotation such as `flannel.alpha.coreos.com/backend-type=vxlan`.
    Annotation { key: String, value: String },
    /// `CiliumNode/<node>` exists.
    CiliumNode,
    /// `CiliumBGPNodeConfig/<node>` exists, or a BGP v1 peering policy selects the node.
    BgpNodeConfig,
    /// A network interface on the host (`cilium_host`, `flannel.1`, `cni0`, …), from the agent.
    Interface { name: String },
    /// A CNI config file in `/etc/cni/net.d`, from the agent; the first in sort order wins.
    CniConfig { file: String },
}

impl Signal {
    /// Short human text for evidence lists.
    pub fn describe(&self) -> String {
        match self {
            Signal::AgentPod { cni, pod } => format!("{} agent pod {pod} running", cni.label()),
            Signal::ConditionReason { reason } => format!("condition NetworkUnavailable reason {reason}"),
            Signal::Annotation { key, value } => format!("annotation {key}={value}"),
            Signal::CiliumNode => "CiliumNode object exists".into(),
            Signal::BgpNodeConfig => "CiliumBGPNodeConfig exists".into(),
            Signal::Interface { name } => format!("interface {name}"),
            Signal::CniConfig { file } => format!("CNI config {file}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NetMode {
    /// Linux bridge with a VXLAN overlay (flannel vxlan, Calico VXLAN).
    BridgeVxlan,
    /// Linux bridge with NAT / host routes, no overlay (flannel host-gw, docker0).
    BridgeNat,
    /// Cilium with BGP-routed pod networks.
    CiliumBgp,
    /// Cilium in tunnel mode (no BGP yet): typical mid-migration.
    CiliumTunnel,
    /// Calico with BIRD BGP.
    CalicoBgp,
    /// Two CNI agents on one node: a migration in flight.
    Migrating,
    Unknown,
}

impl NetMode {
    pub fn label(self) -> &'static str {
        match self {
            NetMode::BridgeVxlan => "bridge/vxlan",
            NetMode::BridgeNat => "bridge/nat",
            NetMode::CiliumBgp => "cilium/bgp",
            NetMode::CiliumTunnel => "cilium/tunnel",
            NetMode::CalicoBgp => "calico/bgp",
            NetMode::Migrating => "migrating",
            NetMode::Unknown => "unknown",
        }
    }
    /// Nodes whose pods sit behind a Linux bridge (where bridge-nf-call-iptables matters).
    pub fn is_bridge(self) -> bool {
        matches!(self, NetMode::BridgeVxlan | NetMode::BridgeNat)
    }
    /// Nodes expected to peer with both TORs.
    pub fn uses_bgp(self) -> bool {
        matches!(self, NetMode::CiliumBgp | NetMode::CalicoBgp)
    }
    pub const ALL: [NetMode; 7] = [
        NetMode::BridgeVxlan,
        NetMode::BridgeNat,
        NetMode::CiliumBgp,
        NetMode::CiliumTunnel,
        NetMode::CalicoBgp,
        NetMode::Migrating,
        NetMode::Unknown,
    ];
}

/// A signal that was used to reach the classification, with whether it supported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub signal: Signal,
    /// True when the signal agrees with the chosen mode; false when it conflicts.
    pub supports: bool,
}

/// The classification and everything that led to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetClass {
    pub mode: NetMode,
    pub evidence: Vec<Evidence>,
}

impl NetClass {
    pub fn unknown() -> Self {
        NetClass { mode: NetMode::Unknown, evidence: Vec::new() }
    }
}
