//! The Conntrack view's summary counts, from the analysis' own thresholds and predicates.

use crate::analysis::conntrack::{
    CONNTRACK_CRIT as CRIT, CONNTRACK_WARN as WARN, bridge_trap, inserts_failing, timeout_trap, tracking,
    worst_fill,
};
use crate::model::Node;

/// The summary line's counts over the listed nodes (derived once per snapshot, in `viewmodel::Rows`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub crit: usize,
    pub warn: usize,
    pub ins: usize,
    pub tmo: usize,
    pub brn: usize,
    pub nodata: usize,
    /// Nodes where Cilium runs but no source reports its maps.
    pub cilium_unknown: usize,
    pub total: usize,
}

impl Tally {
    pub fn of<'a>(nodes: impl Iterator<Item = &'a Node>, keepalive_idle_s: u64) -> Tally {
        let mut t = Tally::default();
        for n in nodes {
            t.total += 1;
            let tr = tracking(n);
            t.cilium_unknown += usize::from(tr.cilium && n.cilium_ct().is_none());
            let Some(f) = worst_fill(n) else {
                t.nodata += 1;
                continue;
            };
            t.crit += usize::from(f >= CRIT);
            t.warn += usize::from(f >= WARN);
            t.ins += usize::from(inserts_failing(n));
            // The traps are the kernel table's.
            if let Some(c) = n.conntrack().filter(|_| tr.kernel) {
                t.tmo += usize::from(timeout_trap(c, keepalive_idle_s));
                t.brn += usize::from(bridge_trap(n, c));
            }
        }
        t
    }
}
