//! What the node lists show, derived once per snapshot, filter and sort (by `app::update`) so that
//! drawing a frame costs the rows on screen, not the nodes off it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, Weak};

use super::{SortKey, matches, node_order};
use crate::model::{BgpVerdict, Conntrack, NetMode, Snapshot};
use crate::viewmodel::Tally;

/// Indices into `Snapshot::nodes`, per list, and the cluster-wide counts the Overview shows.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    /// What these rows were derived from (a `Weak` so the address cannot be reused meanwhile).
    key: Option<(Weak<Snapshot>, String, SortKey, bool)>,
    /// The Nodes table: filtered and sorted.
    pub nodes: Vec<usize>,
    /// The Conntrack table: filtered, fullest first, nodes without data last.
    pub conntrack: Vec<usize>,
    /// The Runtime view's nodes: filtered, running Kata or gVisor pods, by name.
    pub runtime: Vec<usize>,
    /// The Network view's racks (filtered nodes grouped by rack), by rack name.
    pub racks: Vec<RackRows>,
    pub totals: Totals,
    /// The Conntrack view's summary line, over `conntrack`.
    pub conntrack_tally: crate::viewmodel::Tally,
    /// The Runtime view's summary, over every node (the Overview's runtime mix and KVM counts).
    pub runtime_summary: crate::viewmodel::Summary,
}

/// One rack's nodes that pass the filter, and what they add up to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RackRows {
    pub nodes: Vec<usize>,
    /// Nodes at 2/2, 1/2, 0/2 and ?/2.
    pub verdicts: [usize; 4],
    /// Sessions up and in total to each of the rack's TORs (those of its first node).
    pub tors: [(usize, usize); 2],
}

impl RackRows {
    fn of(snap: &Snapshot, nodes: Vec<usize>) -> RackRows {
        let mut r = RackRows { verdicts: [0; 4], tors: [(0, 0); 2], nodes: Vec::new() };
        let tors = nodes.first().map(|&i| &snap.nodes[i].tors);
        for &i in &nodes {
            let n = &snap.nodes[i];
            if let Some(v) = verdict_slot(n.bgp_verdict) {
                r.verdicts[v] += 1;
            }
            for (k, tor) in tors.into_iter().flatten().enumerate() {
                let (up, all) = crate::viewmodel::tor_sessions(n, tor);
                r.tors[k].0 += up;
                r.tors[k].1 += all;
            }
        }
        r.nodes = nodes;
        r
    }
}

/// Counts over every node (the filter does not apply).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    /// Nodes per network mode, most first.
    pub modes: Vec<(NetMode, usize)>,
    /// Nodes at 2/2, 1/2, 0/2 and ?/2.
    pub verdicts: [usize; 4],
    /// Nodes with conntrack data, fullest table first (the Overview shows the first few).
    pub fullest: Vec<usize>,
}

pub const VERDICTS: [BgpVerdict; 4] =
    [BgpVerdict::Healthy, BgpVerdict::Degraded, BgpVerdict::Isolated, BgpVerdict::Unknown];

/// Where a verdict is counted in `verdicts` arrays.
fn verdict_slot(v: BgpVerdict) -> Option<usize> {
    VERDICTS.iter().position(|x| *x == v)
}

/// Node indices by conntrack fill, fullest first; ties by index, which is name order.
fn fullest_first(mut fills: Vec<(f64, usize)>) -> Vec<usize> {
    fills.sort_unstable_by(|(fa, a), (fb, b)| fb.total_cmp(fa).then(a.cmp(b)));
    fills.into_iter().map(|(_, i)| i).collect()
}

impl Rows {
    pub fn compute(snap: &Arc<Snapshot>, filter: &str, sort: SortKey, desc: bool) -> Rows {
        Rows {
            key: Some((Arc::downgrade(snap), filter.to_string(), sort, desc)),
            ..Rows::derive(snap, filter, sort, desc)
        }
    }

    /// The rows of any snapshot, not remembered.
    pub fn derive(snap: &Snapshot, filter: &str, sort: SortKey, desc: bool) -> Rows {
        let nodes = &snap.nodes;
        let passing: Vec<usize> = (0..nodes.len()).filter(|&i| matches(&nodes[i], filter)).collect();
        let fill = |i: usize| nodes[i].conntrack().map_or(-1.0, Conntrack::fill);
        let conntrack = fullest_first(passing.iter().map(|&i| (fill(i), i)).collect());
        let runtime = passing
            .iter()
            .copied()
            .filter(|&i| nodes[i].runtime.is_some_and(|r| r.sandboxed() > 0))
            .collect();
        let mut racks: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for &i in &passing {
            racks.entry(nodes[i].rack.as_str()).or_default().push(i);
        }
        let tally = Tally::of(conntrack.iter().map(|&i| &*nodes[i]), snap.keepalive_idle_s);
        Rows {
            key: None,
            nodes: node_order(snap, passing, sort, desc),
            conntrack,
            runtime,
            racks: racks.into_values().map(|r| RackRows::of(snap, r)).collect(),
            totals: Totals::of(snap),
            conntrack_tally: tally,
            runtime_summary: crate::viewmodel::Summary::of(snap),
        }
    }

    fn is_for(&self, snap: &Arc<Snapshot>, filter: &str, sort: SortKey, desc: bool) -> bool {
        self.key.as_ref().is_some_and(|(s, f, k, d)| {
            std::ptr::eq(s.as_ptr(), Arc::as_ptr(snap)) && f == filter && *k == sort && *d == desc
        })
    }

    /// Bring the rows up to date (a no-op when nothing they depend on changed).
    pub fn refresh(&mut self, snap: Option<&Arc<Snapshot>>, filter: &str, sort: SortKey, desc: bool) {
        match snap {
            Some(s) if !self.is_for(s, filter, sort, desc) => *self = Rows::compute(s, filter, sort, desc),
            Some(_) => {}
            None => *self = Rows::default(),
        }
    }

    /// These rows when they match, else rows derived now (a model built without `update`).
    pub fn for_snapshot<'a>(
        &'a self,
        snap: &Arc<Snapshot>,
        filter: &str,
        sort: SortKey,
        desc: bool,
    ) -> Cow<'a, Rows> {
        if self.is_for(snap, filter, sort, desc) {
            Cow::Borrowed(self)
        } else {
            Cow::Owned(Rows::compute(snap, filter, sort, desc))
        }
    }
}

impl Totals {
    fn of(snap: &Snapshot) -> Totals {
        let mut t = Totals::default();
        let mut modes: BTreeMap<NetMode, usize> = BTreeMap::new();
        for n in &snap.nodes {
            *modes.entry(n.net.mode).or_default() += 1;
            if let Some(v) = verdict_slot(n.bgp_verdict) {
                t.verdicts[v] += 1;
            }
        }
        t.fullest = fullest_first(
            (snap.nodes.iter().enumerate()).filter_map(|(i, n)| Some((n.conntrack()?.fill(), i))).collect(),
        );
        t.modes = modes.into_iter().collect();
        t.modes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Settings;
    use crate::sim::{SimConfig, snapshot_at};

    fn snap() -> Arc<Snapshot> {
        let now = crate::testkit::T0;
        Arc::new(snapshot_at(SimConfig::default(), now, Settings::default()))
    }

    #[test]
    fn derived_once_and_again_only_when_an_input_changes() {
        let s = snap();
        let mut rows = Rows::default();
        rows.refresh(Some(&s), "", SortKey::Conntrack, true);
        let first = rows.nodes.clone();
        rows.nodes.clear(); // a refresh with the same inputs keeps what is there
        rows.refresh(Some(&s), "", SortKey::Conntrack, true);
        assert!(rows.nodes.is_empty());
        rows.refresh(Some(&s), "", SortKey::Conntrack, false);
        assert_eq!(rows.nodes.len(), first.len());
        let other = snap();
        assert!(matches!(rows.for_snapshot(&other, "", SortKey::Conntrack, false), Cow::Owned(_)));
        rows.refresh(None, "", SortKey::Name, false);
        assert!(rows.nodes.is_empty() && rows.key.is_none());
    }

    #[test]
    fn lists_agree_with_the_filter_and_sort() {
        let s = snap();
        for sort in SortKey::ALL {
            for desc in [false, true] {
                let r = Rows::derive(&s, "rack-2", sort, desc);
                let names: Vec<&str> = r.nodes.iter().map(|&i| s.nodes[i].name.as_str()).collect();
                let want: Vec<&str> = super::super::node_rows(&s, "rack-2", sort, desc)
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect();
                assert_eq!(names, want);
                assert!(names.iter().all(|n| s.node(n).is_some_and(|n| n.rack == "rack-2")));
            }
        }
        let by_name = Rows::derive(&s, "", SortKey::Name, true).nodes;
        assert!(by_name.windows(2).all(|w| s.nodes[w[0]].name > s.nodes[w[1]].name), "name, descending");
        let all = Rows::derive(&s, "", SortKey::Name, false);
        assert_eq!(all.racks.iter().map(|r| r.nodes.len()).sum::<usize>(), s.nodes.len());
        assert_eq!(all.totals.modes.iter().map(|(_, c)| c).sum::<usize>(), s.nodes.len());
        let fills: Vec<f64> =
            all.conntrack.iter().filter_map(|&i| s.nodes[i].conntrack().map(Conntrack::fill)).collect();
        assert!(fills.windows(2).all(|w| w[0] >= w[1]), "fullest first");
    }
}
