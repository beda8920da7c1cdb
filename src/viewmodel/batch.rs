//! Koordinator's batch tier summed over a rack's nodes.

use crate::model::{BatchRes, BatchTier, Snapshot};

/// The batch tier of rack `rack`: the allocatable of its nodes that have one, and what their
/// batch pods request and what its offline pods use (each `None` when any such node's figure is not
/// known); `None` when no node of the rack has batch allocatable.
pub fn rack_batch(snap: &Snapshot, rack: &str) -> Option<BatchTier> {
    let mut allocatable = BatchRes::default();
    let mut requested = Some(BatchRes::default());
    let mut used = Some(0.0);
    let mut any = false;
    for b in snap.nodes.iter().filter(|n| n.rack == rack).filter_map(|n| n.batch) {
        any = true;
        allocatable.add(&b.allocatable);
        requested = requested.zip(b.requested).map(|(mut sum, r)| {
            sum.add(&r);
            sum
        });
        used = used.zip(b.used_cores).map(|(a, u)| a + u);
    }
    any.then_some(BatchTier { allocatable, requested, used_cores: used })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clustertop_core::testkit::{node, snapshot};

    #[test]
    fn a_racks_batch_tier_is_the_sum_of_its_nodes_and_unknown_if_one_is() {
        let tier = |cpu_m, req: Option<u64>| {
            Some(BatchTier {
                allocatable: BatchRes { cpu_m, mem_bytes: cpu_m << 20 },
                requested: req.map(|r| BatchRes { cpu_m: r, mem_bytes: r << 20 }),
                used_cores: req.map(|r| r as f64 / 2000.0),
            })
        };
        let mk = |name: &str, rack: &str, b| {
            let mut n = node(name);
            n.rack = rack.into();
            n.batch = b;
            n
        };
        let snap = snapshot(vec![
            mk("a", "r1", tier(20_000, Some(4000))),
            mk("b", "r1", tier(10_000, Some(500))),
            mk("c", "r1", None),
            mk("d", "r2", tier(8000, None)),
            mk("e", "r3", None),
        ]);
        assert_eq!(rack_batch(&snap, "r1"), tier(30_000, Some(4500)));
        assert_eq!(rack_batch(&snap, "r2"), tier(8000, None), "pods not known: requested unknown");
        assert_eq!(rack_batch(&snap, "r3"), None);
    }
}
