//! The conntrack predicates the rules and the view-model share: which tables a node's pod
//! connections fill (the kernel's `nf_conntrack`, Cilium's BPF maps, or both mid-migration), the
//! keep-alive timeout trap and bridge-nf-call-iptables on a node whose pods sit behind a Linux
//! bridge.

use crate::model::{Cni, Conntrack, NetMode, Node, Signal};

pub use super::rules::conntrack::{CONNTRACK_CRIT, CONNTRACK_WARN};

/// Established entries expire before the proxies' idle keep-alive: NAT entries are gone while
/// the connection is still pooled (intermittent 502s at low QPS).
pub fn timeout_trap(c: &Conntrack, keepalive_idle_s: u64) -> bool {
    c.tcp_established_timeout_s.is_some_and(|t| t < keepalive_idle_s)
}

/// `bridge-nf-call-iptables=1` where a Linux bridge carries pod traffic.
pub fn bridge_trap(n: &Node, c: &Conntrack) -> bool {
    c.bridge_nf_call_iptables == Some(true) && n.net.mode.is_bridge()
}

/// The connection-tracking tables a node's pod traffic fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tracking {
    /// The kernel's `nf_conntrack` (bridge, Calico, kube-proxy nodes; the default when the mode
    /// is not known).
    pub kernel: bool,
    /// Cilium's BPF CT and NAT maps (Cilium nodes; a migrating node running Cilium's agent; a node
    /// of unknown mode whose Cilium maps are reported).
    pub cilium: bool,
}

pub fn tracking(n: &Node) -> Tracking {
    let cilium_agent =
        || n.net.evidence.iter().any(|e| matches!(e.signal, Signal::AgentPod { cni: Cni::Cilium, .. }));
    match n.net.mode {
        NetMode::CiliumBgp | NetMode::CiliumTunnel | NetMode::CiliumUndetermined => {
            Tracking { kernel: false, cilium: true }
        }
        NetMode::Migrating => Tracking { kernel: true, cilium: cilium_agent() || n.cilium_ct().is_some() },
        NetMode::Unknown => Tracking { kernel: true, cilium: n.cilium_ct().is_some() },
        _ => Tracking { kernel: true, cilium: false },
    }
}

/// The fill of the fullest table the node's pod connections go through: `nf_conntrack` where the
/// kernel tracks, Cilium's fullest map where Cilium runs; a node whose tracked table has no data
/// falls back to its kernel table (so it still sorts by what is known). `None` without data.
pub fn worst_fill(n: &Node) -> Option<f64> {
    let t = tracking(n);
    let nf = n.conntrack().map(Conntrack::fill);
    let cilium = n.cilium_ct().and_then(|m| m.fullest()).map(|m| m.pressure);
    let tracked = [nf.filter(|_| t.kernel), cilium].into_iter().flatten().reduce(f64::max);
    tracked.or(nf)
}

/// Whether inserts fail in a table the node's pod connections go through.
pub fn inserts_failing(n: &Node) -> bool {
    let t = tracking(n);
    let nf = t.kernel && n.conntrack().is_some_and(|c| c.insert_failed_per_s > 0.0);
    nf || n.cilium_ct().and_then(|m| m.insert_failed_per_s).is_some_and(|r| r > 0.0)
}
