//! Conntrack table state of one node.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conntrack {
    /// `nf_conntrack_count` and `nf_conntrack_max`.
    pub entries: u64,
    pub limit: u64,
    /// Per-second rates from `/proc/net/stat/nf_conntrack`.
    pub insert_failed_per_s: f64,
    pub drop_per_s: f64,
    pub early_drop_per_s: f64,
    /// `nf_conntrack_tcp_timeout_established`, seconds.
    pub tcp_established_timeout_s: Option<u64>,
    /// `net.bridge.bridge-nf-call-iptables`; `None` when br_netfilter is not loaded.
    pub bridge_nf_call_iptables: Option<bool>,
}

impl Conntrack {
    /// Table fill, 0.0..=1.0 (or above, if the limit was lowered under the count).
    pub fn fill(&self) -> f64 {
        if self.limit == 0 { 0.0 } else { self.entries as f64 / self.limit as f64 }
    }
}
