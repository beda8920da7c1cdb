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

/// Cilium's BPF connection-tracking and NAT maps on one node, from the Cilium agent's metrics:
/// on a Cilium node these (not `nf_conntrack`) are the tables that fill.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CiliumMaps {
    /// `cilium_bpf_map_pressure` of each CT and NAT map the agent reports, by name as in its
    /// `map_name` label (`ct4_global`, `ct_any4_global`, `snat_v4_external`, …), sorted. Empty
    /// when the agent reports drops but no map pressure (pressure unknown).
    pub maps: Vec<MapFill>,
    /// Packets dropped with reason "CT: Map insertion failed" per second
    /// (`cilium_drop_count_total`, all directions); 0 when the agent has drop counters but none
    /// for that reason (Cilium creates one at the first such drop); `None` when it has no drop
    /// counters at all.
    pub insert_failed_per_s: Option<f64>,
}

/// One BPF map's fill, 0.0..=1.0.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapFill {
    pub name: String,
    pub pressure: f64,
}

impl CiliumMaps {
    /// The fullest map; `None` when no pressure is known.
    pub fn fullest(&self) -> Option<&MapFill> {
        self.maps.iter().max_by(|a, b| a.pressure.total_cmp(&b.pressure))
    }
}
