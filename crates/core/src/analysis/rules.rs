//! Finding rules, one file per family. Each family appends its findings; this module sorts them.
//!
//! Thresholds are named `pub const`s at the top of each family's file.

pub mod bgp;
pub mod cni;
pub mod colocation;
pub mod conntrack;
pub mod failover;
pub mod host;
pub mod runtime;
pub mod sandbox;
pub mod sources;
pub mod start;

use super::Settings;
use crate::model::{Finding, Snapshot};

/// Run every rule over a snapshot whose derived fields are filled; most severe first, then by
/// rule, then by subject.
pub fn findings(snap: &Snapshot, settings: &Settings) -> Vec<Finding> {
    let mut out = Vec::new();
    conntrack::check(snap, settings, &mut out);
    bgp::check(snap, &mut out);
    failover::check(snap, &mut out);
    cni::check(snap, &mut out);
    runtime::check(snap, &mut out);
    sandbox::check(snap, &mut out);
    start::check(snap, &mut out);
    host::check(snap, &mut out);
    colocation::check(snap, &mut out);
    sources::check(snap, &mut out);
    out.sort_by(|a, b| (a.severity, a.rule, &a.subject).cmp(&(b.severity, b.rule, &b.subject)));
    out
}

/// `0.873` as `87.3 %`.
pub(crate) fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

pub(crate) use crate::format::span;

/// Up to `max` items joined with `, `, then `... and N more`.
pub(crate) fn list<T: AsRef<str>>(items: &[T], max: usize) -> String {
    let shown: Vec<&str> = items.iter().take(max).map(AsRef::as_ref).collect();
    let mut s = shown.join(", ");
    if items.len() > max {
        s.push_str(&format!(" ... and {} more", items.len() - max));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Rule, Severity, SourceHealth, SourceId};
    use crate::testkit::*;

    #[test]
    fn helpers() {
        assert_eq!(pct(0.8734), "87.3 %");
        assert_eq!(list(&["a", "b", "c"], 2), "a, b ... and 1 more");
    }

    #[test]
    fn empty_snapshot_has_no_findings() {
        assert!(findings(&snapshot(vec![]), &Settings::default()).is_empty());
    }

    #[test]
    fn sorted_by_severity_rule_subject() {
        let mut snap = snapshot(vec![
            node_with_conntrack("n2", ct(95, 100)),
            node_with_conntrack("n1", ct(80, 100)),
            node_with_conntrack("n0", ct(96, 100)),
        ]);
        snap.sources
            .push(source(SourceId::Prometheus, SourceHealth::Unreachable { error: "timeout".into() }));
        let f = findings(&snap, &Settings::default());
        let keys: Vec<(Severity, Rule, &str)> =
            f.iter().map(|f| (f.severity, f.rule, f.subject.as_str())).collect();
        assert_eq!(
            keys,
            vec![
                (Severity::Critical, Rule::ConntrackPressure, "n0"),
                (Severity::Critical, Rule::ConntrackPressure, "n2"),
                (Severity::Critical, Rule::SourceUnreachable, "prometheus"),
                (Severity::Warning, Rule::ConntrackPressure, "n1"),
            ]
        );
    }

    #[test]
    fn through_the_store() {
        use crate::model::{BgpState, Cni, HostFacts, NetMode, Signal};
        use crate::model::{NodeInfo, Update};
        use crate::store::ClusterState;
        let mut st = ClusterState::new("t", Settings::default());
        let info = NodeInfo {
            name: "n1\x1b[2J".into(),
            rack: "r1".into(),
            tors: ["r1-tor-a".into(), "r1-tor-b".into()],
            ready: true,
            labels: Default::default(),
            signals: vec![
                Signal::AgentPod { cni: Cni::Cilium, pod: "cilium-x".into() },
                Signal::BgpNodeConfig { pod_routes: Some(true) },
            ],
            bgp_peers: None,
            created: None,
            batch_allocatable: None,
        };
        st.apply(Update::NodeApplied { node: info, at: now() });
        let name = "n1".to_string();
        let sessions =
            vec![session("r1-tor-a", BgpState::Established), session("r1-tor-b", BgpState::Active)];
        st.apply(Update::Bgp { node: name.clone(), source: SourceId::Kubernetes, sessions, at: now() });
        // A Cilium node: its full kernel table is not where pod connections go, its CT map is.
        let facts = HostFacts { conntrack: Some(ct(95, 100)), ..HostFacts::default() };
        st.apply(Update::Host { node: name.clone(), facts, at: now() });
        let maps = crate::model::CiliumMaps {
            maps: vec![crate::model::MapFill { name: "ct4_global".into(), pressure: 0.95 }],
            insert_failed_per_s: Some(0.0),
        };
        let metrics = crate::model::NodeMetrics { cilium_ct: Some(maps), ..Default::default() };
        st.apply(Update::NodeMetrics { node: name, metrics, at: now() });
        let snap = st.snapshot(now());
        assert_eq!(snap.nodes[0].name, "n1");
        assert_eq!(snap.nodes[0].net.mode, NetMode::CiliumBgp);
        let rules: Vec<Rule> = snap.findings.iter().map(|f| f.rule).collect();
        assert_eq!(rules, vec![Rule::CiliumMapPressure, Rule::BgpDegraded]);
    }
}
