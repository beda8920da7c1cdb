//! The view-model: what the views show, derived once per snapshot, filter and sort, from the
//! analysis' own predicates: the node lists, their filtering and sorting, the summaries and
//! tallies. `app` uses it for cursor bounds and the selected row, `views` only lay it out.

pub mod cpu;
pub mod groups;
pub mod percent;
pub mod rows;
pub mod runtime;
pub mod tally;

use crate::model::{Finding, Node, Snapshot};

pub use cpu::{CpuNow, cpu_now};
pub use groups::{Group, group};
pub use percent::{Whole, pct, shares, split};
pub use rows::Rows;
pub use runtime::Summary;
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
    let mut v: Vec<&Finding> = snap.findings.iter().filter(|f| finding_matches(f, filter)).collect();
    v.sort_by_key(|f| f.severity);
    v
}

/// Number of selectable rows (for cursor bounds).
pub fn findings_len(snap: &Snapshot, filter: &str) -> usize {
    findings(snap, filter).len()
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

/// Case-insensitive substring match of the filter against a node's name, rack, TORs, network
/// mode and BGP verdict. Several words must all match (`rack-3 cilium`).
pub fn matches(node: &Node, filter: &str) -> bool {
    if filter.trim().is_empty() {
        return true;
    }
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

fn cmp_f(a: Option<f64>, b: Option<f64>) -> std::cmp::Ordering {
    a.unwrap_or(-1.0).total_cmp(&b.unwrap_or(-1.0))
}

/// The nodes that pass the filter, sorted; ties broken by name so the order is stable.
pub fn node_rows<'a>(snap: &'a Snapshot, filter: &str, sort: SortKey, desc: bool) -> Vec<&'a Node> {
    let passing = (0..snap.nodes.len()).filter(|&i| matches(&snap.nodes[i], filter)).collect();
    node_order(snap, passing, sort, desc).into_iter().map(|i| &*snap.nodes[i]).collect()
}

/// `rows` (indices into `snap.nodes`) sorted by `sort`, ties by name.
fn node_order(snap: &Snapshot, mut rows: Vec<usize>, sort: SortKey, desc: bool) -> Vec<usize> {
    let node = |i: usize| -> &Node { &snap.nodes[i] };
    if sort == SortKey::Name {
        // Already in name order.
        if desc {
            rows.reverse();
        }
        return rows;
    }
    rows.sort_by(|&a, &b| {
        let (ia, ib) = (a, b);
        let (a, b) = (node(a), node(b));
        let o = match sort {
            SortKey::Name => std::cmp::Ordering::Equal,
            SortKey::Rack => a.rack.cmp(&b.rack),
            SortKey::Mode => a.net.mode.cmp(&b.net.mode),
            SortKey::Bgp => a.bgp_verdict.cmp(&b.bgp_verdict).reverse(),
            SortKey::Runtime => a.runtime.map(|r| r.sandboxed()).cmp(&b.runtime.map(|r| r.sandboxed())),
            SortKey::Conntrack => cmp_f(a.conntrack().map(|c| c.fill()), b.conntrack().map(|c| c.fill())),
            SortKey::Cpu => cmp_f(a.cpu_now(), b.cpu_now()),
            SortKey::Pods => a.pods.cmp(&b.pods),
            // Youngest node first; nodes of unknown age last.
            SortKey::Age => b.created.cmp(&a.created),
        };
        let o = if desc { o.reverse() } else { o };
        o.then(ia.cmp(&ib))
    });
    rows
}

/// Case-insensitive match of the filter against a finding's subject, rule id and text.
pub fn finding_matches(f: &crate::model::Finding, filter: &str) -> bool {
    if filter.trim().is_empty() {
        return true;
    }
    let hay = format!("{} {} {} {}", f.subject, f.rule.id(), f.what, f.severity.label()).to_lowercase();
    filter.to_lowercase().split_whitespace().all(|w| hay.contains(w))
}
