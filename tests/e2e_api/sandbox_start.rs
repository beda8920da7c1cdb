//! Sandbox start latency against `sim serve`: the served pods' conditions, read by the real
//! kube-rs source, give each pod's start and each runtime's figures.

use std::collections::BTreeMap;

use crate::support::kube::{sim, start};
use chrono::Utc;
use clustertop::analysis::Settings;
use clustertop::model::{Rule, StartSource};
use clustertop::sim::snapshot_at;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};

/// Each pod's PodScheduled to PodReadyToStartContainers as the server says, read with the full
/// k8s-openapi Pod (an independent path from the source's slim decoding).
async fn server_starts(client: &kube::Client) -> BTreeMap<(String, String), Option<u16>> {
    let pods: Api<Pod> = Api::all(client.clone());
    let mut out = BTreeMap::new();
    for p in pods.list(&ListParams::default()).await.expect("pods listed") {
        let conds = p.status.and_then(|s| s.conditions).unwrap_or_default();
        let at =
            |t: &str| conds.iter().find(|c| c.type_ == t && c.status == "True")?.last_transition_time.clone();
        let secs = match (at("PodScheduled"), at("PodReadyToStartContainers")) {
            (Some(a), Some(b)) => Some((b.0.as_second() - a.0.as_second()) as u16),
            _ => None,
        };
        out.insert((p.metadata.namespace.unwrap_or_default(), p.metadata.name.unwrap_or_default()), secs);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_pod_conditions_give_each_runtimes_start_and_the_slow_node() {
    let mut h = start(&[], 500).await;
    h.synced().await;
    h.server.control().pause_churn(true);
    let want = server_starts(&h.client).await;
    let shown = |s: &clustertop::model::Snapshot| -> BTreeMap<(String, String), Option<u16>> {
        s.pods.iter().map(|p| ((p.namespace.to_string(), p.name.to_string()), p.sandbox_start_s)).collect()
    };
    let snap = h.until("every pod's start equals the server's", |s| shown(s) == want).await;
    assert!(want.values().all(Option::is_some), "every served pod is scheduled and has its sandbox");

    // The figures: pod conditions, near the simulator's delays (runc 0.5 s, gVisor 0.8 s, Kata
    // 1.1 s, one Kata node at 4 s), over whole seconds.
    let fig = |c: Option<&str>| snap.sandbox_starts.of(c).and_then(|r| r.clone().ok()).expect("known");
    let (runc, kata) = (fig(None), fig(Some("kata")));
    assert_eq!(runc.source, StartSource::PodConditions);
    let mean = |f: &clustertop::model::SandboxStart| f.mean_s.expect("a mean");
    assert!((0.35..0.65).contains(&mean(&runc)), "runc {runc:?}");
    assert!((1.0..2.2).contains(&mean(&kata)), "kata {kata:?}");
    // The slow Kata node is the one the in-process simulator makes slow.
    let slow = |s: &clustertop::model::Snapshot| -> Vec<String> {
        s.findings.iter().filter(|f| f.rule == Rule::SandboxStartSlow).map(|f| f.subject.clone()).collect()
    };
    let expected = snapshot_at(sim(), Utc::now(), Settings::default());
    assert_eq!(slow(&expected).len(), 1, "{:?}", expected.sandbox_starts.nodes);
    assert_eq!(slow(&snap), slow(&expected));
    h.stop().await;
}
