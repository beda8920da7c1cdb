//! What the node lists show, derived once per snapshot, filter and sort (by `app::update`) so that
//! drawing a frame costs the rows on screen, not the nodes off it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, Weak};

use super::sort::{self, Sorts, Table, Val};
use super::{matches, node_order};
use crate::model::{BgpVerdict, NetMode, Snapshot};
use crate::viewmodel::Tally;

/// Indices into `Snapshot::nodes`, per list, and the cluster-wide counts the Overview shows.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    /// What these rows were derived from (a `Weak` so the address cannot be reused meanwhile).
    key: Option<(Weak<Snapshot>, String, Sorts)>,
    /// The Nodes table: filtered and sorted.
    pub nodes: Vec<usize>,
    /// The Conntrack table: filtered and sorted (fullest first unless sorted otherwise), nodes
    /// without data last.
    pub conntrack: Vec<usize>,
    /// The Runtime view's nodes: filtered, running Kata or gVisor pods, sorted.
    pub runtime: Vec<usize>,
    /// The Network view's racks (filtered nodes grouped by rack), sorted.
    pub racks: Vec<RackRows>,
    /// The Triage view's findings (indices into `Snapshot::findings`): filtered and sorted.
    pub findings: Vec<usize>,
    /// The Utilization view's window occurrences for the whole cluster (indices into
    /// `Snapshot::fills`), sorted.
    pub windows: Vec<usize>,
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
    /// Nodes on Cilium/BGP, the migration's target.
    pub migrated: usize,
}

impl RackRows {
    fn of(snap: &Snapshot, nodes: Vec<usize>) -> RackRows {
        let mut r = RackRows { verdicts: [0; 4], tors: [(0, 0); 2], nodes: Vec::new(), migrated: 0 };
        let tors = nodes.first().map(|&i| &snap.nodes[i].tors);
        for &i in &nodes {
            let n = &snap.nodes[i];
            if let Some(v) = verdict_slot(n.bgp_verdict) {
                r.verdicts[v] += 1;
            }
            r.migrated += usize::from(n.net.mode == NetMode::CiliumBgp);
            for (k, tor) in tors.into_iter().flatten().enumerate() {
                let (up, all) = crate::viewmodel::tor_sessions(n, tor);
                r.tors[k].0 += up;
                r.tors[k].1 += all;
            }
        }
        r.nodes = nodes;
        r
    }

    /// The share of the rack's nodes on Cilium/BGP.
    pub fn migration(&self) -> f64 {
        if self.nodes.is_empty() { 0.0 } else { self.migrated as f64 / self.nodes.len() as f64 }
    }

    /// The rack's value in the Network table's column `c`.
    fn value<'a>(&self, snap: &'a Snapshot, c: sort::RackCol) -> Option<Val<'a>> {
        use sort::RackCol;
        let [_, d, i, u] = self.verdicts;
        match c {
            RackCol::Rack => self.nodes.first().map(|&n| Val::Text(snap.nodes[n].rack.as_str())),
            RackCol::Nodes => Some(Val::Num(self.nodes.len() as f64)),
            RackCol::Migration => Some(Val::Num(self.migration())),
            // Isolated nodes outweigh any number of degraded ones, degraded any unknown.
            RackCol::Bgp => Some(Val::Num((i * 1_000_000 + d * 1_000 + u) as f64)),
            // The share of sessions down to the worse of the two TORs.
            RackCol::Tor => {
                let down = |(up, all): (usize, usize)| (all > 0).then(|| (all - up) as f64 / all as f64);
                let worst = self.tors.iter().filter_map(|t| down(*t)).reduce(f64::max)?;
                Some(Val::Num(worst))
            }
        }
    }
}

/// Counts over every node (the filter does not apply).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    /// Nodes per network mode, most first.
    pub modes: Vec<(NetMode, usize)>,
    /// Nodes at 2/2, 1/2, 0/2 and ?/2.
    pub verdicts: [usize; 4],
    /// Nodes with conntrack data, fullest table first (the table the node's pod connections go
    /// through: `analysis::conntrack::worst_fill`; the Overview shows the first few).
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
    pub fn compute(snap: &Arc<Snapshot>, filter: &str, sorts: &Sorts) -> Rows {
        Rows {
            key: Some((Arc::downgrade(snap), filter.to_string(), *sorts)),
            ..Rows::derive(snap, filter, sorts)
        }
    }

    /// The rows of any snapshot, not remembered.
    pub fn derive(snap: &Snapshot, filter: &str, sorts: &Sorts) -> Rows {
        let nodes = &snap.nodes;
        let passing: Vec<usize> = (0..nodes.len()).filter(|&i| matches(&nodes[i], filter)).collect();
        let mut conntrack = passing.clone();
        sorts.conntrack.apply(&mut conntrack, |c, &i| sort::conntrack_value(c, &nodes[i]));
        let mut runtime: Vec<usize> = passing
            .iter()
            .copied()
            .filter(|&i| nodes[i].runtime.is_some_and(|r| r.sandboxed() > 0))
            .collect();
        sorts.runtime.apply(&mut runtime, |c, &i| sort::runtime_value(c, &nodes[i]));
        let mut by_rack: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for &i in &passing {
            by_rack.entry(nodes[i].rack.as_str()).or_default().push(i);
        }
        let mut racks: Vec<RackRows> = by_rack.into_values().map(|r| RackRows::of(snap, r)).collect();
        sorts.racks.apply(&mut racks, |c, r| r.value(snap, c));
        let mut windows: Vec<usize> =
            (0..snap.fills.len()).filter(|&i| snap.fills[i].rack.is_none()).collect();
        windows.sort_by_key(|&i| snap.fills[i].start);
        sorts.windows.apply(&mut windows, |c, &i| sort::window_value(c, &snap.fills[i]));
        let tally = Tally::of(conntrack.iter().map(|&i| &*nodes[i]), snap.keepalive_idle_s);
        Rows {
            key: None,
            nodes: node_order(snap, passing, sorts.nodes.col, sorts.nodes.desc),
            conntrack,
            runtime,
            racks,
            findings: super::finding_order(snap, filter, sorts.findings),
            windows,
            totals: Totals::of(snap),
            conntrack_tally: tally,
            runtime_summary: crate::viewmodel::Summary::of(snap),
        }
    }

    /// How many rows `table` has.
    pub fn len(&self, table: Table) -> usize {
        match table {
            Table::Nodes => self.nodes.len(),
            Table::Racks => self.racks.len(),
            Table::Runtime => self.runtime.len(),
            Table::Conntrack => self.conntrack.len(),
            Table::Windows => self.windows.len(),
            Table::Findings => self.findings.len(),
        }
    }

    /// What row `i` of `table` stands for.
    pub fn target(&self, snap: &Snapshot, table: Table, i: usize) -> Option<super::Target> {
        use super::Target;
        let node = |list: &[usize]| list.get(i).map(|&n| Target::Node(snap.nodes[n].name.clone()));
        match table {
            Table::Nodes => node(&self.nodes),
            Table::Runtime => node(&self.runtime),
            Table::Conntrack => node(&self.conntrack),
            Table::Racks => {
                let first = *self.racks.get(i)?.nodes.first()?;
                Some(Target::Rack(snap.nodes[first].rack.clone()))
            }
            Table::Windows => self.windows.get(i).map(|&w| Target::Window(w)),
            Table::Findings => super::finding_target(snap, *self.findings.get(i)?),
        }
    }

    fn is_for(&self, snap: &Arc<Snapshot>, filter: &str, sorts: &Sorts) -> bool {
        self.key
            .as_ref()
            .is_some_and(|(s, f, k)| std::ptr::eq(s.as_ptr(), Arc::as_ptr(snap)) && f == filter && k == sorts)
    }

    /// Bring the rows up to date (a no-op when nothing they depend on changed).
    pub fn refresh(&mut self, snap: Option<&Arc<Snapshot>>, filter: &str, sorts: &Sorts) {
        match snap {
            Some(s) if !self.is_for(s, filter, sorts) => *self = Rows::compute(s, filter, sorts),
            Some(_) => {}
            None => *self = Rows::default(),
        }
    }

    /// These rows when they match, else rows derived now (a model built without `update`).
    pub fn for_snapshot<'a>(&'a self, snap: &Arc<Snapshot>, filter: &str, sorts: &Sorts) -> Cow<'a, Rows> {
        if self.is_for(snap, filter, sorts) {
            Cow::Borrowed(self)
        } else {
            Cow::Owned(Rows::compute(snap, filter, sorts))
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
            (snap.nodes.iter().enumerate())
                .filter_map(|(i, n)| Some((crate::analysis::conntrack::worst_fill(n)?, i)))
                .collect(),
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
    use crate::viewmodel::SortKey;

    fn snap() -> Arc<Snapshot> {
        let now = crate::testkit::T0;
        Arc::new(snapshot_at(SimConfig::default(), now, Settings::default()))
    }

    fn sorted(col: SortKey, desc: bool) -> Sorts {
        Sorts { nodes: crate::viewmodel::Sort { col, desc }, ..Sorts::default() }
    }

    #[test]
    fn derived_once_and_again_only_when_an_input_changes() {
        let s = snap();
        let mut rows = Rows::default();
        rows.refresh(Some(&s), "", &sorted(SortKey::Conntrack, true));
        let first = rows.nodes.clone();
        rows.nodes.clear(); // a refresh with the same inputs keeps what is there
        rows.refresh(Some(&s), "", &sorted(SortKey::Conntrack, true));
        assert!(rows.nodes.is_empty());
        rows.refresh(Some(&s), "", &sorted(SortKey::Conntrack, false));
        assert_eq!(rows.nodes.len(), first.len());
        let other = snap();
        assert!(matches!(rows.for_snapshot(&other, "", &sorted(SortKey::Conntrack, false)), Cow::Owned(_)));
        rows.refresh(None, "", &Sorts::default());
        assert!(rows.nodes.is_empty() && rows.key.is_none());
    }

    #[test]
    fn lists_agree_with_the_filter_and_sort() {
        let s = snap();
        for sort in SortKey::ALL {
            for desc in [false, true] {
                let r = Rows::derive(&s, "rack-2", &sorted(sort, desc));
                let names: Vec<&str> = r.nodes.iter().map(|&i| s.nodes[i].name.as_str()).collect();
                let want: Vec<&str> = super::super::node_rows(&s, "rack-2", sort, desc)
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect();
                assert_eq!(names, want);
                assert!(names.iter().all(|n| s.node(n).is_some_and(|n| n.rack == "rack-2")));
            }
        }
        let by_name = Rows::derive(&s, "", &sorted(SortKey::Name, true)).nodes;
        assert!(by_name.windows(2).all(|w| s.nodes[w[0]].name > s.nodes[w[1]].name), "name, descending");
        let all = Rows::derive(&s, "", &Sorts::default());
        assert_eq!(all.racks.iter().map(|r| r.nodes.len()).sum::<usize>(), s.nodes.len());
        assert_eq!(all.totals.modes.iter().map(|(_, c)| c).sum::<usize>(), s.nodes.len());
        // By the fullest table each node's pod connections go through (Cilium's maps included).
        let fills: Vec<f64> = all
            .conntrack
            .iter()
            .filter_map(|&i| crate::analysis::conntrack::worst_fill(&s.nodes[i]))
            .collect();
        assert_eq!(fills.len(), s.nodes.len());
        assert!(fills.windows(2).all(|w| w[0] >= w[1]), "fullest first");
        assert!(fills[0] > 0.9, "the full table (a Cilium map or the kernel's) first: {fills:?}");
    }

    /// Every table sorts, and a first press on a severity-like column puts the worst first.
    #[test]
    fn every_table_sorts_worst_first_on_a_first_press() {
        let s = snap();
        let mut sorts = Sorts::default();
        sorts.nodes = sorts.nodes.press(SortKey::Bgp);
        sorts.racks = sorts.racks.press(sort::RackCol::Bgp);
        sorts.conntrack = sorts.conntrack.press(sort::ConntrackCol::Drop);
        sorts.runtime = sorts.runtime.press(sort::RuntimeCol::Kvm);
        sorts.windows = sorts.windows.press(sort::WindowCol::Spill);
        sorts.findings = sorts.findings.press(sort::FindingCol::Since).press(sort::FindingCol::Severity);
        let r = Rows::derive(&s, "", &sorts);
        let first = &s.nodes[r.nodes[0]];
        assert_eq!(first.bgp_verdict, BgpVerdict::Isolated, "{}", first.name);
        assert!(r.racks[0].verdicts[2] > 0, "a rack with an isolated node first");
        let drops: Vec<f64> =
            r.conntrack.iter().filter_map(|&i| s.nodes[i].conntrack()).map(|c| c.drop_per_s).collect();
        assert!(drops.windows(2).all(|w| w[0] >= w[1]), "{drops:?}");
        // This seed's full table is a Cilium node's CT map.
        sorts.conntrack = Sorts::default().conntrack.press(sort::ConntrackCol::CtFail);
        let r = Rows::derive(&s, "", &sorts);
        let fails: Vec<f64> = r
            .conntrack
            .iter()
            .filter_map(|&i| s.nodes[i].cilium_ct().and_then(|m| m.insert_failed_per_s))
            .collect();
        assert!(fails[0] > 0.0 && fails.windows(2).all(|w| w[0] >= w[1]), "{fails:?}");
        let spill: Vec<f64> = r.windows.iter().map(|&i| s.fills[i].spill_core_hours).collect();
        assert!(spill.windows(2).all(|w| w[0] >= w[1]), "{spill:?}");
        assert_eq!(s.findings[r.findings[0]].severity, crate::model::Severity::Critical);
        // A second press reverses.
        sorts.nodes = sorts.nodes.press(SortKey::Bgp);
        let r = Rows::derive(&s, "", &sorts);
        assert_eq!(s.nodes[r.nodes[0]].bgp_verdict, BgpVerdict::Healthy);
    }

    #[test]
    fn rack_eq_selects_one_rack_exactly() {
        let mut s = snapshot_at(SimConfig::default(), crate::testkit::T0, Settings::default());
        let last = s.nodes.len() - 1;
        Arc::make_mut(&mut s.nodes[last]).rack = "rack-10".into();
        let loose = Rows::derive(&s, "rack-1", &Sorts::default()).nodes;
        let exact = Rows::derive(&s, "rack=rack-1", &Sorts::default()).nodes;
        assert!(exact.iter().all(|&i| s.nodes[i].rack == "rack-1") && !exact.is_empty());
        assert!(loose.len() > exact.len(), "rack-1 also matches rack-10…");
    }
}
