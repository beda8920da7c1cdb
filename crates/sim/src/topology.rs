//! Racks, nodes, TORs and the raw networking signals of a cluster in mid-migration.
//!
//! Racks 1-2 run flannel (bridge/VXLAN), racks 4-6 Cilium with BGP, rack 3 is mixed: some
//! flannel, one node running both agents, one Cilium node in tunnel mode, the rest Cilium/BGP.
//! Only raw signals are emitted; analysis derives the mode.

use std::collections::BTreeMap;

use crate::model::NodeInfo;
use crate::model::{Cni, ConfiguredPeer, Signal};

use super::pods::suffix;

pub(crate) const KATA_LABEL: &str = "katacontainers.io/kata-runtime";
pub(crate) const SANDBOX_LABEL: &str = "clustertop.io/sandbox";
pub(crate) const RACK_LABEL: &str = "clustertop.io/rack";
pub(crate) const MAX_RACKS: usize = 6;

/// Cores per simulated node.
pub(crate) const CORES: u32 = 64;

/// How a node is networked, as the simulator set it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// flannel with the VXLAN backend behind the `cni0` bridge.
    Flannel,
    /// Cilium with BGP-routed pod networks.
    CiliumBgp,
    /// Cilium in tunnel mode: no BGP node config yet.
    CiliumTunnel,
    /// Both agents running: the migration is in flight on this node.
    Migrating,
}

impl Role {
    pub(crate) fn has_bgp(self) -> bool {
        self == Role::CiliumBgp
    }
    pub(crate) fn is_bridge(self) -> bool {
        self == Role::Flannel
    }
    pub(crate) fn runs(self, cni: Cni) -> bool {
        match cni {
            Cni::Flannel => matches!(self, Role::Flannel | Role::Migrating),
            Cni::Cilium => self != Role::Flannel,
            Cni::Calico => false,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct SimNode {
    pub name: String,
    /// 1-based rack number.
    pub rack: usize,
    /// 1-based position in the rack.
    pub pos: usize,
    pub role: Role,
    /// Labelled `katacontainers.io/kata-runtime=true`.
    pub kata: bool,
    /// Labelled `clustertop.io/sandbox=gvisor`.
    pub gvisor: bool,
    /// CNI agent pods on the node: (cni, namespace, pod name).
    pub agents: Vec<(Cni, &'static str, String)>,
}

/// Node counts per rack: up to six racks, as even as possible.
pub(crate) fn rack_sizes(nodes: usize) -> Vec<usize> {
    let racks = nodes.min(MAX_RACKS);
    (0..racks).map(|r| nodes / racks + usize::from(r < nodes % racks)).collect()
}

fn digits(n: usize) -> usize {
    n.max(1).to_string().len()
}

/// Rack 3: the first 3/8 flannel, then one node running both agents, one Cilium node in tunnel
/// mode, and the rest Cilium/BGP.
fn rack3_role(i: usize, size: usize) -> Role {
    let flannel = size * 3 / 8;
    match i {
        _ if i < flannel => Role::Flannel,
        _ if i == flannel => Role::Migrating,
        _ if i == flannel + 1 => Role::CiliumTunnel,
        _ => Role::CiliumBgp,
    }
}

/// All nodes, sorted by name (rack-major, zero-padded positions).
pub(crate) fn layout(nodes: usize) -> Vec<SimNode> {
    let sizes = rack_sizes(nodes);
    let width = digits(sizes.iter().copied().max().unwrap_or(0)).max(2);
    let mut out = Vec::with_capacity(nodes);
    for (r, &size) in sizes.iter().enumerate() {
        let rack = r + 1;
        for i in 0..size {
            let pos = i + 1;
            let role = match rack {
                1 | 2 => Role::Flannel,
                3 => rack3_role(i, size),
                _ => Role::CiliumBgp,
            };
            let serial = out.len() as u64;
            let mut agents = Vec::new();
            if role.runs(Cni::Flannel) {
                agents.push((
                    Cni::Flannel,
                    "kube-flannel",
                    format!("kube-flannel-ds-{}", suffix(serial, 11)),
                ));
            }
            if role.runs(Cni::Cilium) {
                agents.push((Cni::Cilium, "kube-system", format!("cilium-{}", suffix(serial, 12))));
            }
            out.push(SimNode {
                name: format!("r{rack}-n{pos:0width$}"),
                rack,
                pos,
                role,
                kata: pos % 4 == 2,
                gvisor: pos % 6 == 5,
                agents,
            });
        }
    }
    out
}

impl SimNode {
    pub(crate) fn rack_idx(&self) -> usize {
        self.rack.saturating_sub(1)
    }
    pub(crate) fn rack_name(&self) -> String {
        format!("rack-{}", self.rack)
    }
    /// TOR `i` (0 = `a`, 1 = `b`) of the node's rack.
    pub(crate) fn tor(&self, i: usize) -> String {
        format!("tor-{}{}", self.rack, if i == 0 { 'a' } else { 'b' })
    }
    fn zone(&self) -> &'static str {
        if self.rack <= 3 { "dc1-zone-a" } else { "dc1-zone-b" }
    }

    /// How long before the simulation starts the node joined the cluster: racks 1-2 are the oldest
    /// (over two years), rack 3 about a year, the Cilium racks months; nodes of a rack joined hours
    /// apart, and a few were replaced recently (days, hours and minutes ago).
    pub(crate) fn joined_before_start(&self) -> chrono::Duration {
        use chrono::Duration;
        let pos = i64::try_from(self.pos).unwrap_or(1);
        match (self.rack, self.pos) {
            (2, 3) => Duration::days(5) + Duration::hours(4),
            (5, 2) => Duration::hours(5) + Duration::minutes(12),
            (6, 8) => Duration::minutes(47),
            _ => {
                let days = [812, 790, 365, 140, 96, 61].get(self.rack_idx()).copied().unwrap_or(30);
                Duration::days(days) - Duration::hours(7 * pos)
            }
        }
    }

    /// The share of a node's CPUs (per cent) and the memory Koordinator's batch tier gets.
    pub(crate) const BATCH_SHARE_PCT: u64 = 35;
    pub(crate) const BATCH_MEM_BYTES: u64 = 160 << 30;

    /// The node's API object: labels and the networking signals visible in the API; it joined
    /// the cluster [`Self::joined_before_start`] before `start`.
    pub(crate) fn node_info(&self, start: chrono::DateTime<chrono::Utc>) -> NodeInfo {
        let mut labels = BTreeMap::new();
        let mut label = |k: &str, v: &str| {
            labels.insert(k.to_string(), v.to_string());
        };
        label("kubernetes.io/hostname", &self.name);
        label("kubernetes.io/os", "linux");
        label("kubernetes.io/arch", "amd64");
        label("node.kubernetes.io/instance-type", "bm.64c.512g");
        label("topology.kubernetes.io/region", "dc1");
        label("topology.kubernetes.io/zone", self.zone());
        label(RACK_LABEL, &self.rack_name());
        let cni = match self.role {
            Role::Flannel => "flannel",
            Role::Migrating => "migrating",
            Role::CiliumBgp | Role::CiliumTunnel => "cilium",
        };
        label("clustertop.io/cni", cni);
        if self.kata {
            label(KATA_LABEL, "true");
        }
        if self.gvisor {
            label(SANDBOX_LABEL, "gvisor");
        }

        let mut signals: Vec<Signal> = self
            .agents
            .iter()
            .map(|(cni, _, pod)| Signal::AgentPod { cni: *cni, pod: pod.clone() })
            .collect();
        let reason = if self.role.runs(Cni::Flannel) { "FlannelIsUp" } else { "CiliumIsUp" };
        signals.push(Signal::ConditionReason { reason: reason.into() });
        if self.role.runs(Cni::Flannel) {
            signals.push(Signal::Annotation {
                key: "flannel.alpha.coreos.com/backend-type".into(),
                value: "vxlan".into(),
            });
        }
        if self.role.runs(Cni::Cilium) {
            signals.push(Signal::CiliumNode);
        }
        if self.role.has_bgp() {
            signals.push(Signal::BgpNodeConfig { pod_routes: Some(true) });
        }

        NodeInfo {
            name: self.name.clone(),
            rack: self.rack_name(),
            tors: [self.tor(0), self.tor(1)],
            ready: true,
            labels,
            signals,
            // Each BGP node's CiliumBGPNodeConfig names its two TORs (as `sim::bgp` addresses them).
            bgp_peers: self.role.has_bgp().then(|| {
                (0..2).map(|i| ConfiguredPeer::new(self.tor(i), format!("10.{}.{i}.1", self.rack))).collect()
            }),
            created: Some(start - self.joined_before_start()),
            // Koordinator's slo-controller reclaims about a third of each node for the batch tier.
            batch_allocatable: Some(crate::model::BatchRes {
                cpu_m: u64::from(CORES) * 1000 * Self::BATCH_SHARE_PCT / 100,
                mem_bytes: Self::BATCH_MEM_BYTES,
            }),
        }
    }

    /// Host-level signals an agent would read: interfaces and CNI config files.
    pub(crate) fn host_signals(&self) -> Vec<Signal> {
        let iface = |name: &str| Signal::Interface { name: name.into() };
        let conf = |file: &str| Signal::CniConfig { file: file.into() };
        let mut s = Vec::with_capacity(6);
        if self.role.runs(Cni::Cilium) {
            s.push(iface("cilium_host"));
            s.push(iface("cilium_net"));
        }
        if matches!(self.role, Role::CiliumTunnel | Role::Migrating) {
            s.push(iface("cilium_vxlan"));
        }
        if self.role.runs(Cni::Flannel) {
            s.push(iface("flannel.1"));
            s.push(iface("cni0"));
        }
        if self.role.runs(Cni::Cilium) {
            s.push(conf("05-cilium.conflist"));
        }
        if self.role.runs(Cni::Flannel) {
            s.push(conf("10-flannel.conflist"));
        }
        s
    }
}
