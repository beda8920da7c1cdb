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
    /// `CiliumBGPNodeConfig/<node>` exists, or a BGP v1 peering policy selects the node;
    /// `pod_routes`: whether its advertisements include the pod CIDR (`None`: not known).
    BgpNodeConfig { pod_routes: Option<bool> },
    /// The BGP configuration kind `resource` cannot be read (forbidden, failing, not yet listed).
    BgpConfigUnreadable { resource: String },
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
            Signal::BgpNodeConfig { pod_routes: Some(true) } => {
                "BGP configured, advertising pod routes".into()
            }
            Signal::BgpNodeConfig { pod_routes: Some(false) } => {
                "BGP configured, advertising no pod routes (Service addresses only)".into()
            }
            Signal::BgpNodeConfig { pod_routes: None } => {
                "BGP configured; whether it advertises pod routes is unknown".into()
            }
            Signal::BgpConfigUnreadable { resource } => format!("{resource} cannot be read: BGP unknown"),
            Signal::Interface { name } => format!("interface {name}"),
            Signal::CniConfig { file } => format!("CNI config {file}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NetMode {
    /// Linux bridge with a VXLAN overlay (flannel vxlan).
    BridgeVxlan,
    /// Linux bridge with NAT / host routes, no overlay (flannel host-gw, docker0).
    BridgeNat,
    /// Cilium with BGP-routed pod networks.
    CiliumBgp,
    /// Cilium with a tunnel (VXLAN/Geneve) datapath; BGP, if any, advertises only Service
    /// addresses.
    CiliumTunnel,
    /// Cilium whose routing cannot be told: its BGP configuration cannot be read.
    CiliumUndetermined,
    /// Calico with BIRD BGP (IPIP or native routes).
    CalicoBgp,
    /// Calico with a VXLAN overlay: routed veths, no Linux bridge, no BGP.
    CalicoVxlan,
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
            NetMode::CiliumUndetermined => "cilium/?",
            NetMode::CalicoBgp => "calico/bgp",
            NetMode::CalicoVxlan => "calico/vxlan",
            NetMode::Migrating => "migrating",
            NetMode::Unknown => "unknown",
        }
    }
    /// Nodes whose pods sit behind a Linux bridge (where bridge-nf-call-iptables matters).
    pub fn is_bridge(self) -> bool {
        matches!(self, NetMode::BridgeVxlan | NetMode::BridgeNat)
    }
    /// Nodes whose pod routes BGP announces (expected to peer with both TORs).
    pub fn uses_bgp(self) -> bool {
        matches!(self, NetMode::CiliumBgp | NetMode::CalicoBgp)
    }
    /// Nodes that may route pods by BGP: a BGP node, or one whose routing cannot be told.
    pub fn may_use_bgp(self) -> bool {
        self.uses_bgp() || self == NetMode::CiliumUndetermined
    }
    pub const ALL: [NetMode; 9] = [
        NetMode::BridgeVxlan,
        NetMode::BridgeNat,
        NetMode::CiliumBgp,
        NetMode::CiliumTunnel,
        NetMode::CiliumUndetermined,
        NetMode::CalicoBgp,
        NetMode::CalicoVxlan,
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
