//! Conntrack by network mode from a real Prometheus: `tests/fixtures/upstream/metrics/cilium-ct-maps.om`
//! (Cilium agent series as the cilium-agent ServiceMonitor labels them, see SOURCE.md) backfilled
//! with promtool. Each node's Cilium CT map pressure and "CT: Map insertion failed" drop rate are
//! the known values; through the store, a Cilium node is judged on its maps and a migrating node
//! on both tables.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::support::prom::Prom;
use chrono::DateTime;
use clustertop::analysis::Settings;
use clustertop::model::{Cni, NodeInfo, NodeMetrics, Rule, Severity, Signal, Update};
use clustertop::sources::prometheus::queries::Queries;
use clustertop::sources::prometheus::{self as prom, Backend, BackendOptions, Interest, PromOptions};
use clustertop::store::ClusterState;

const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/upstream/metrics/cilium-ct-maps.om");
/// 2026-12-07T12:00:00Z, the file's last sample.
const AT: i64 = 1_796_644_800;

fn node(name: &str, agents: &[Cni]) -> NodeInfo {
    NodeInfo {
        name: name.into(),
        rack: "r1".into(),
        tors: ["r1-tor-a".into(), "r1-tor-b".into()],
        ready: true,
        labels: BTreeMap::new(),
        signals: agents
            .iter()
            .map(|&cni| Signal::AgentPod { cni, pod: format!("{}-x", cni.label()) })
            .collect(),
        bgp_peers: None,
        created: None,
        batch_allocatable: None,
    }
}

fn close(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() <= 1e-9 + want.abs() * 1e-9, "{what}: got {got}, want {want}");
}

#[test]
fn cilium_map_pressure_and_ct_insert_failures_from_a_backfilled_prometheus() {
    if !crate::support::require_tools() {
        return;
    }
    let at = DateTime::from_timestamp(AT, 0).unwrap();
    let mut p = Prom::backfill_and_start(Path::new(FILE));
    let q = Queries::new(None, "topology.kubernetes.io/zone", String::new(), &BTreeMap::new()).unwrap();
    let b =
        Backend::new(&BackendOptions { url: p.url.clone(), auth: None, timeout: Duration::from_secs(10) }, q)
            .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let updates =
        rt.block_on(prom::refresh(&b, &PromOptions::default(), &Interest::default(), false, at)).unwrap();
    let metrics: BTreeMap<String, NodeMetrics> = updates
        .iter()
        .filter_map(|u| match u {
            Update::NodeMetrics { node, metrics, .. } => Some((node.clone(), metrics.clone())),
            _ => None,
        })
        .collect();
    // (node, ct4_global, ct_any4_global, insertion-failed drops/s: None = no drop counters)
    let want = [
        ("bm-r1-n01", 0.93, 0.41, Some(4.0)),
        ("bm-r1-n02", 0.3, 0.12, Some(0.0)),
        ("bm-r1-n03", 0.77, 0.2, None),
        ("bm-r1-n04", 0.5, 0.25, Some(0.0)),
    ];
    assert_eq!(metrics.keys().collect::<Vec<_>>(), want.iter().map(|w| w.0).collect::<Vec<_>>());
    for (n, ct4, any4, failed) in want {
        let c = metrics[n].cilium_ct.as_ref().unwrap_or_else(|| panic!("{n}: no Cilium maps"));
        let names: Vec<&str> = c.maps.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["ct4_global", "ct_any4_global"], "{n}: map_name as the agent writes it");
        close(c.maps[0].pressure, ct4, &format!("{n} ct4_global"));
        close(c.maps[1].pressure, any4, &format!("{n} ct_any4_global"));
        match (c.insert_failed_per_s, failed) {
            (Some(got), Some(want)) => close(got, want, &format!("{n} CT insertion failed/s")),
            (got, want) => assert_eq!(got, want, "{n}"),
        }
    }
    // The migrating node also has its kernel table (node_exporter): 200000 of 262144.
    let nf = metrics["bm-r1-n04"].conntrack.as_ref().unwrap();
    assert_eq!((nf.entries, nf.limit), (200_000, 262_144));
    assert!(metrics["bm-r1-n01"].conntrack.is_none());

    // Through the store: n01-n03 run Cilium, n04 is mid-migration (flannel and Cilium agents).
    let mut st = ClusterState::new("t", Settings::default());
    for n in ["bm-r1-n01", "bm-r1-n02", "bm-r1-n03"] {
        st.apply(Update::NodeApplied { node: node(n, &[Cni::Cilium]), at });
    }
    st.apply(Update::NodeApplied { node: node("bm-r1-n04", &[Cni::Cilium, Cni::Flannel]), at });
    for u in updates {
        st.apply(u);
    }
    let snap = st.snapshot(at);
    let mut got: Vec<(Rule, Severity, &str)> = snap
        .findings
        .iter()
        .filter(|f| f.subject.starts_with("bm-r1"))
        .map(|f| (f.rule, f.severity, f.subject.as_str()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (Rule::ConntrackPressure, Severity::Warning, "bm-r1-n04"),
            (Rule::CiliumMapPressure, Severity::Critical, "bm-r1-n01"),
            (Rule::CiliumMapPressure, Severity::Warning, "bm-r1-n03"),
            (Rule::CiliumCtInsertFailed, Severity::Critical, "bm-r1-n01"),
            (Rule::CniTwoAgents, Severity::Warning, "bm-r1-n04"),
        ]
    );
    let f = snap.findings.iter().find(|f| f.rule == Rule::CiliumCtInsertFailed).unwrap();
    assert!(f.evidence[0].contains("4.00/s"), "{:?}", f.evidence);
    p.stop();
}
