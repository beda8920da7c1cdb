//! The three label schemes of upstream setups (`tests/fixtures/upstream/metrics/`, see its
//! SOURCE.md), each backfilled into a real Prometheus: the scheme is detected, and the per-node
//! CPU and conntrack figures equal `expected.json`'s.
//!
//! - `kube-prometheus.om`: kube-prometheus-stack, `instance="IP:9100"` and no `node` label;
//! - `node-relabelled.om`: the same with a `node` label added by relabelling;
//! - `node-instance-nodename.om`: kube-prometheus jsonnet, `instance="<node name>"`.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::support::prom::Prom;
use chrono::DateTime;
use clustertop::model::SourceId;
use clustertop::model::Update;
use clustertop::sources::prometheus::queries::{Queries, offline_pods};
use clustertop::sources::prometheus::scheme::Scheme;
use clustertop::sources::prometheus::{self as prom, Backend, BackendOptions, Interest, PromOptions};
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/upstream/metrics");

fn backend(url: &str) -> Backend {
    let off = offline_pods(&["koord-batch".into(), "koord-free".into()], &["BE".into()]);
    let q = Queries::new(None, "topology.kubernetes.io/zone", off, &BTreeMap::new()).unwrap();
    Backend::new(&BackendOptions { url: url.into(), auth: None, timeout: Duration::from_secs(10) }, q)
        .unwrap()
}

fn close(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() <= 1e-6 + want.abs() * 1e-6, "{what}: got {got}, want {want}");
}

#[test]
fn node_cpu_and_conntrack_under_each_label_scheme() {
    if !crate::support::require_tools() {
        return;
    }
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(Path::new(DIR).join("expected.json")).unwrap())
            .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    for (file, scheme) in [
        ("kube-prometheus.om", Scheme::InstanceIp),
        ("node-relabelled.om", Scheme::Label("node".into())),
        ("node-instance-nodename.om", Scheme::InstanceName),
    ] {
        let case = expected["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["metrics"] == format!("metrics/{file}"))
            .unwrap_or_else(|| panic!("{file} in expected.json"));
        let at = DateTime::parse_from_rfc3339(case["at"].as_str().unwrap()).unwrap().to_utc();
        let mut p = Prom::backfill_and_start(&Path::new(DIR).join(file));
        let b = backend(&p.url);
        // The nodes' figures now, and one node's CPU history (its detail view).
        let want_node = Interest { node: Some("mx-r4-n02".into()), ..Interest::default() };
        let updates = rt.block_on(prom::refresh(&b, &PromOptions::default(), &want_node, false, at)).unwrap();
        let history = updates.iter().find_map(|u| match u {
            Update::NodeCpu { node, points } if node == "mx-r4-n02" => Some(points.clone()),
            _ => None,
        });
        let history = history.unwrap_or_default();
        assert!(history.len() >= 10, "{file}: mx-r4-n02's history: {history:?}");
        let last = history.last().unwrap();
        assert_eq!(last.0, at.timestamp());
        close(last.1, 0.62, &format!("{file} mx-r4-n02 cpu history at the end"));
        let d = b.detected();
        assert_eq!(d.scheme, scheme, "{file}: {}", d.describe());
        assert!(d.node_rules, "{file}: the node-exporter recording rules are in the file");
        let note = updates.iter().find_map(|u| match u {
            Update::Note { source: SourceId::Prometheus, note, .. } => Some(note.clone()),
            _ => None,
        });
        assert_eq!(note, Some(d.describe()), "{file}: the source says which scheme it detected");
        let metrics: BTreeMap<String, _> = updates
            .iter()
            .filter_map(|u| match u {
                Update::NodeMetrics { node, metrics, .. } => Some((node.clone(), metrics.clone())),
                _ => None,
            })
            .collect();
        let want = case["expect"].as_object().unwrap();
        assert_eq!(
            metrics.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{file}: per-node figures are keyed by the node's name"
        );
        for (node, e) in want {
            let m = &metrics[node];
            let what = |w: &str| format!("{file} {node} {w}");
            close(m.cpu_now.unwrap(), e["cpu_utilisation"].as_f64().unwrap(), &what("cpu"));
            let ct = m.conntrack.as_ref().unwrap();
            close(
                ct.entries as f64 / ct.limit as f64,
                e["conntrack_fill"].as_f64().unwrap(),
                &what("conntrack fill"),
            );
            let r = &e["conntrack_rates"];
            close(ct.insert_failed_per_s, r["insert_failed"].as_f64().unwrap(), &what("insert_failed/s"));
            close(ct.drop_per_s, r["drop"].as_f64().unwrap(), &what("drop/s"));
            close(ct.early_drop_per_s, r["early_drop"].as_f64().unwrap(), &what("early_drop/s"));
        }
        // kube-prometheus-stack also has cAdvisor and kube-state-metrics: the cluster's offline
        // work is the koord-batch pods' CPU, Kata and gVisor pods (pod cgroups only) included.
        if file == "kube-prometheus.om" {
            let want: f64 = want.values().map(|e| e["cpu_cores"]["offline"].as_f64().unwrap()).sum();
            let c = rt.block_on(b.curve(at, 3600, 300)).unwrap().curve.unwrap();
            let last = c.points.last().unwrap();
            assert_eq!(last.t, at);
            assert!((last.offline - want).abs() <= want * 0.005, "offline cores {} vs {want}", last.offline);
            assert_eq!(last.measured, 24.0, "three nodes of 8 CPUs measured");
        }
        p.stop();
    }
}
