//! The Conntrack view's summary counts, from the analysis' own thresholds and predicates.

use crate::analysis::conntrack::{CONNTRACK_CRIT as CRIT, CONNTRACK_WARN as WARN, bridge_trap, timeout_trap};
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
    pub total: usize,
}

impl Tally {
    pub fn of<'a>(nodes: impl Iterator<Item = &'a Node>, keepalive_idle_s: u64) -> Tally {
        let mut t = Tally::default();
        for n in nodes {
            t.total += 1;
            let Some(c) = n.conntrack() else {
                t.nodata += 1;
                continue;
            };
            let f = c.fill();
            t.crit += usize::from(f >= CRIT);
            t.warn += usize::from(f >= WARN);
            t.ins += usize::from(c.insert_failed_per_s > 0.0);
            t.tmo += usize::from(timeout_trap(c, keepalive_idle_s));
            t.brn += usize::from(bridge_trap(n, c));
        }
        t
    }
}
