//! The conntrack predicates the rules and the view-model share: the keep-alive timeout trap and
//! bridge-nf-call-iptables on a node whose pods sit behind a Linux bridge.

use crate::model::{Conntrack, Node};

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
