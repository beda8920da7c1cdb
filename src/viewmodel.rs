//! The view-model: what the views show, derived once per snapshot, filter and sort, from the
//! analysis' own predicates: the node lists, their filtering and sorting, the summaries and
//! tallies. `app` uses it for cursor bounds and the selected row, `views` only lay it out.

pub mod batch;
pub mod cpu;
pub mod groups;
pub mod percent;
pub mod pods;
pub mod provenance;
pub mod rows;
pub mod runtime;
pub mod selection;
pub mod sort;
pub mod start;
pub mod tally;

use crate::model::{Finding, Node, Snapshot};

pub use cpu::{CpuNow, cpu_now};
pub use groups::{Group, group};
pub use percent::{Whole, pct, shares, split};
pub use rows::Rows;
pub use runtime::Summary;
pub use sort::{Sort, Sorts, Table};
pub use tally::Tally;

/// Sessions up and in total from `node` to the peer named `tor`.
pub fn tor_sessions(node: &Node, tor: &str) -> (usize, usize) {
    node.bgp
        .iter()
        .filter(|s| s.peer == tor)
        .fold((0, 0), |(up, all), s| (up + usize::from(s.is_up()), all + 1))
}

/// Findings about `node` or one of its `pods` (`namespace/name`), and a peer it lost (a dead
/// TOR's finding names the TOR, with the node among its evidence); most severe first.
pub fn about_node<'a>(snap: &'a Snapshot, node: &Node, pods: &[&crate::model::Pod]) -> Vec<&'a Finding> {
    let pod = |subject: &str| {
        subject
            .split_once('/')
            .is_some_and(|(ns, name)| pods.iter().any(|p| &*p.namespace == ns && &*p.name == name))
    };
    let lost = |peer: &str| {
        node.bgp.iter().any(|s| s.peer == peer && !s.is_up())
            || node.bgp_counts.missing.iter().any(|m| m == peer)
    };
    let mut v: Vec<&Finding> = snap
        .findings
        .iter()
        .filter(|f| {
            f.subject == node.name
                || pod(&f.subject)
                || (f.rule == crate::model::Rule::BgpPeerDown && lost(&f.subject))
        })
        .collect();
    v.sort_by_key(|f| f.severity);
    v
}

/// Findings that pass the filter (`finding_matches`: subject, rule id, what, severity),
/// most severe first.
pub fn findings<'a>(snap: &'a Snapshot, filter: &str) -> Vec<&'a Finding> {
    finding_order(snap, filter, Sorts::default().findings).into_iter().map(|i| &snap.findings[i]).collect()
}

/// Indices into `snap.findings` of those that pass the filter, sorted.
pub fn finding_order(snap: &Snapshot, filter: &str, sort: Sort<sort::FindingCol>) -> Vec<usize> {
    let mut v: Vec<usize> =
        (0..snap.findings.len()).filter(|&i| finding_matches(&snap.findings[i], filter)).collect();
    sort.apply(&mut v, |c, &i| sort::finding_value(c, &snap.findings[i]));
    v
}

/// What a row stands for, for Enter (and `y`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Node(String),
    Rack(String),
    /// A window occurrence: its index in `Snapshot::fills`.
    Window(usize),
    /// A finding about something that is neither a node, a pod nor a rack: its index in
    /// `Snapshot::findings`.
    Finding(usize),
}

/// What finding `i` is about: its node, the node of the pod it names, its rack, or itself.
pub fn finding_target(snap: &Snapshot, i: usize) -> Option<Target> {
    let subject = &snap.findings.get(i)?.subject;
    if let Some(n) = snap.node(subject) {
        return Some(Target::Node(n.name.clone()));
    }
    if let Some((ns, name)) = subject.split_once('/') {
        let pod = snap.pods.iter().find(|p| &*p.namespace == ns && &*p.name == name);
        if let Some(node) = pod.and_then(|p| p.node.as_deref()).and_then(|n| snap.node(n)) {
            return Some(Target::Node(node.name.clone()));
        }
    }
    if snap.nodes.iter().any(|n| n.rack == *subject) {
        return Some(Target::Rack(subject.clone()));
    }
    Some(Target::Finding(i))
}

/// Columns the Nodes table can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Name,
    Rack,
    Mode,
    Bgp,
    Runtime,
    Conntrack,
    Cpu,
    Pods,
    Age,
}

impl SortKey {
    pub const ALL: [SortKey; 9] = [
        SortKey::Name,
        SortKey::Rack,
        SortKey::Mode,
        SortKey::Bgp,
        SortKey::Runtime,
        SortKey::Conntrack,
        SortKey::Cpu,
        SortKey::Pods,
        SortKey::Age,
    ];
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Rack => "rack",
            SortKey::Mode => "mode",
            SortKey::Bgp => "bgp",
            SortKey::Runtime => "runtime",
            SortKey::Conntrack => "conntrack",
            SortKey::Cpu => "cpu",
            SortKey::Pods => "pods",
            SortKey::Age => "age",
        }
    }
    pub fn parse(s: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|k| k.label() == s)
    }
}

/// The filter word that selects one rack exactly (`rack=rack-1`, not `rack-10` too): what Enter
/// on a rack of the Network view filters the Nodes view by.
pub const RACK_EQ: &str = "rack=";

/// Case-insensitive substring match of the filter against a node's name, rack, TORs, network
/// mode and BGP verdict. Several words must all match (`rack-3 cilium`); `rack=NAME` matches the
/// rack exactly.
pub fn matches(node: &Node, filter: &str) -> bool {
    if filter.trim().is_empty() {
        return true;
    }
    let (exact, words): (Vec<&str>, Vec<&str>) = filter
        .split_whitespace()
        .partition(|w| w.len() > RACK_EQ.len() && w.to_ascii_lowercase().starts_with(RACK_EQ));
    if !exact.iter().all(|w| node.rack.eq_ignore_ascii_case(&w[RACK_EQ.len()..])) {
        return false;
    }
    let filter = words.join(" ");
    let hay = format!(
        "{} {} {} {} {} bgp:{}",
        node.name,
        node.rack,
        node.tors[0],
        node.tors[1],
        node.net.mode.label(),
        node.bgp_label()
    )
    .to_lowercase();
    filter.to_lowercase().split_whitespace().all(|w| hay.contains(w))
}

/// The nodes that pass the filter, sorted; ties broken by name so the order is stable.
pub fn node_rows<'a>(snap: &'a Snapshot, filter: &str, sort: SortKey, desc: bool) -> Vec<&'a Node> {
    let passing = (0..snap.nodes.len()).filter(|&i| matches(&snap.nodes[i], filter)).collect();
    node_order(snap, passing, sort, desc).into_iter().map(|i| &*snap.nodes[i]).collect()
}

/// `rows` (indices into `snap.nodes`, in name order) sorted by `sort`, ties by name.
fn node_order(snap: &Snapshot, mut rows: Vec<usize>, sort: SortKey, desc: bool) -> Vec<usize> {
    let node = |i: usize| -> &Node { &snap.nodes[i] };
    if sort == SortKey::Name {
        // Already in name order.
        if desc {
            rows.reverse();
        }
        return rows;
    }
    Sort { col: sort, desc }.apply(&mut rows, |c, &i| sort::node_value(c, node(i)));
    rows
}

/// Case-insensitive match of the filter against a finding's subject, rule id and text.
pub fn finding_matches(f: &crate::model::Finding, filter: &str) -> bool {
    if filter.trim().is_empty() {
        return true;
    }
    let hay = format!("{} {} {} {}", f.subject, f.rule.id(), f.what, f.severity.label()).to_lowercase();
    // `rack=NAME` (Enter on a rack) is the rack's name here.
    filter.to_lowercase().split_whitespace().all(|w| hay.contains(w.strip_prefix(RACK_EQ).unwrap_or(w)))
}
