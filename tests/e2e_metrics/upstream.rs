//! The upstream corpus through the real code paths (see `crate::support::upstream`): every case of every
//! project's `expected.json` must give the verdict an SRE would give.

use std::collections::BTreeMap;

use crate::support::prom::Prom;
use crate::support::upstream::{cases, check, root, run};

/// Run every case of `dir`, sharing one backfilled Prometheus per metrics file, and fail with
/// every disagreement at once.
async fn corpus(dir: &str) {
    corpus_of(dir, |_| true).await
}

async fn corpus_of(dir: &str, pick: impl Fn(&str) -> bool) {
    let mut proms: BTreeMap<String, Prom> = BTreeMap::new();
    let mut bad = Vec::new();
    let all: Vec<_> = cases(dir).into_iter().filter(|c| pick(&c.name)).collect();
    assert!(!all.is_empty(), "{dir}: no cases");
    for case in &all {
        let prom = match &case.metrics {
            Some(m) if crate::support::require_tools() => {
                Some(&*proms.entry(m.clone()).or_insert_with(|| Prom::backfill_and_start(&root().join(m))))
            }
            _ => None,
        };
        let snap = run(case, prom).await;
        bad.extend(check(case, &snap));
    }
    assert!(bad.is_empty(), "{} of {} {dir} cases disagree:\n{}", bad.len(), all.len(), bad.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cilium() {
    corpus("cilium").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubernetes_workloads() {
    corpus("kube").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn koordinator() {
    corpus("koordinator").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calico() {
    corpus("calico").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bird() {
    corpus("bird").await;
}

/// BGP from bird_exporter (a sidecar pod reading Calico's BIRD 1.x v4 and v6 sockets: its series
/// reach their node through kube_pod_info) and frr_exporter (on the host's address: through
/// kube_node_info's InternalIP).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bgp_exporters() {
    corpus_of("metrics", |name| name.contains("bird") || name.contains("frr")).await;
}
