//! Correctness at scale (not timing): the real kube-rs source against `sim serve` with 200 nodes
//! and 6,000 pods churning fast. After more than 10,000 pod changes with a dropped watch and a
//! forced `410 Gone` in between, the snapshot's per-node pod counts and runtime mix equal the
//! server's exactly, and it holds no pod the server does not. Polls with deadlines.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::Utc;
use clustertop::analysis::Settings;
use clustertop::model::Update;
use clustertop::model::{RuntimeKind, RuntimeMix, Snapshot, SourceId};
use clustertop::sim::SimConfig;
use clustertop::sim::serve::{Control, ServeConfig, Server};
use clustertop::sources::kube::{self as source, KubeOptions};
use clustertop::store::ClusterState;
use tokio::sync::mpsc;
use tokio::time::Instant;

const NODES: usize = 200;
const PODS: usize = 6_000;
/// Pod changes per second added by the server (plus the simulator's few per step).
const CHURN: f64 = 1_500.0;

struct Pump {
    state: ClusterState,
    rx: mpsc::Receiver<Vec<Update>>,
}

impl Pump {
    /// Apply updates until `done` holds (checked between batches and every 50 ms); panic after
    /// 60 s (a debug build on two busy cores can take 30 s to work through the churn's backlog
    /// before it sees its watch end; what this test checks is that the end state is exact).
    async fn until(&mut self, what: &str, mut done: impl FnMut(&mut ClusterState) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !done(&mut self.state) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            match tokio::time::timeout(Duration::from_millis(50), self.rx.recv()).await {
                Ok(Some(batch)) => batch.into_iter().for_each(|u| {
                    self.state.apply(u);
                }),
                Ok(None) => panic!("source stopped while waiting for {what}"),
                Err(_) => {}
            }
        }
    }
}

/// Per node: (workload pods, runtime mix), from the server's pod objects. RuntimeClass name to
/// kind as in the simulated cluster's RuntimeClasses (runc: runc, kata: kata-qemu, gvisor: runsc)
/// and as `store.rs` maps them: no class is the default runtime (runc), unknown names are Other.
fn expected(c: &Control) -> (BTreeMap<String, (u32, RuntimeMix)>, BTreeSet<String>) {
    let mut by: BTreeMap<String, (u32, RuntimeMix)> = BTreeMap::new();
    let mut keys = BTreeSet::new();
    // Every pod, CNI agent pods too: totals match `kubectl get pods -A`.
    for p in c.served_pods() {
        keys.insert(p.key);
        let Some(node) = p.node else { continue };
        let kind = match p.runtime_class.as_deref() {
            None | Some("runc") => RuntimeKind::Runc,
            Some("kata") => RuntimeKind::Kata,
            Some("gvisor") => RuntimeKind::Gvisor,
            Some(_) => RuntimeKind::Other,
        };
        let e = by.entry(node).or_default();
        e.0 += 1;
        e.1.add(kind);
    }
    (by, keys)
}

fn shown(s: &Snapshot) -> (BTreeMap<String, (u32, RuntimeMix)>, BTreeSet<String>) {
    let by = s
        .nodes
        .iter()
        .filter_map(|n| Some((n.name.clone(), (n.pods.filter(|p| *p > 0)?, n.runtime.expect("known mix")))))
        .collect();
    let keys = s.pods.iter().map(|p| format!("{}/{}", p.namespace, p.name)).collect();
    (by, keys)
}

/// Pod requests after the first `from` that are lists (`watch` false: paginated or streaming
/// lists) or watches.
fn pod_requests(c: &Control, from: usize, watch: bool) -> usize {
    c.requests()[from.min(c.requests().len())..]
        .iter()
        .filter(|(_, q)| q.starts_with("/api/v1/pods") && is_plain_watch(q) == watch)
        .count()
}

/// A watch that is not a streaming list (`sendInitialEvents=true` lists).
fn is_plain_watch(q: &str) -> bool {
    q.contains("watch=true") && !q.contains("sendInitialEvents=true")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_10k_pod_changes_a_dropped_watch_and_a_410_the_snapshot_equals_the_server() {
    let cfg = ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        sim: SimConfig { nodes: NODES, ..SimConfig::default() },
        pods: Some(PODS),
        step: Duration::from_millis(100),
        history: 100_000,
        churn: Some(CHURN),
        ..ServeConfig::default()
    };
    let server = Server::start(cfg).await.expect("sim serve starts");
    let c = server.control();
    assert_eq!(c.counts().0, NODES);
    let dir = std::env::temp_dir().join(format!(
        "clustertop-kube-scale-{}-{}",
        std::process::id(),
        server.addr.port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig()).unwrap();
    let opts = KubeOptions { kubeconfig: Some(kubeconfig), page_size: 500, ..KubeOptions::default() };
    let (client, label) = source::connect(&opts).await.expect("connects through the kubeconfig");
    let (tx, rx) = mpsc::channel(256);
    let task = tokio::spawn(source::run(client, opts, tx));
    let mut p = Pump { state: ClusterState::new(label, Settings::default()), rx };

    p.until("the initial sync", |st| {
        let s = st.snapshot(Utc::now());
        s.nodes.len() == NODES
            && s.sources
                .iter()
                .any(|x| x.source == SourceId::Kubernetes && x.scope.is_empty() && x.health.is_ok())
    })
    .await;
    let start = c.pod_changes();

    // (a) A watch interruption: every open watch ends; the source must resume.
    p.until("3,000 pod changes", |_| c.pod_changes() >= start + 3_000).await;
    let before = c.requests().len();
    c.drop_watches();
    p.until("a new pod watch after the drop", |_| pod_requests(&c, before, true) > 0).await;

    // (b) A forced 410 Gone: the history is compacted; the source must relist.
    p.until("6,500 pod changes", |_| c.pod_changes() >= start + 6_500).await;
    let before = c.requests().len();
    c.expire();
    p.until("a pod relist after the 410", |_| pod_requests(&c, before, false) > 0).await;

    p.until("10,000 pod changes", |_| c.pod_changes() >= start + 10_000).await;
    c.pause_churn(true);
    // Let a step that was under way finish before reading the server's state.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let changes = c.pod_changes() - start;
    let (want, want_keys) = expected(&c);
    assert!(want_keys.len() > PODS / 2, "{} workload pods", want_keys.len());
    p.until("the snapshot equals the server", |st| {
        shown(&st.snapshot(Utc::now())) == (want.clone(), want_keys.clone())
    })
    .await;

    let snap = p.state.snapshot(Utc::now());
    let (by, keys) = shown(&snap);
    assert_eq!(by, want, "per-node pod counts and runtime mix");
    assert_eq!(keys, want_keys, "no lost and no ghost pods");
    assert!(changes >= 10_000, "{changes} pod changes");
    let mut mix = RuntimeMix::default();
    snap.nodes.iter().filter_map(|n| n.runtime.as_ref()).for_each(|r| mix.merge(r));
    assert!(mix.kata > 0 && mix.gvisor > 0 && mix.runc > 0, "a mixed cluster: {mix:?}");
    assert_eq!(snap.nodes.len(), NODES);

    // The request figures count lists and watches with the bytes they sent.
    let stats = c.request_stats();
    let verb = |v: &str| stats.verbs.iter().find(|(k, _)| k == v).map(|(_, s)| *s).unwrap_or_default();
    // Nodes and pods are listed by streaming lists, which are watches.
    assert!(verb("list").requests >= 2 && verb("list").bytes > 0, "{}", stats.line());
    assert!(verb("watch").requests >= 2 && verb("watch").bytes > 1_000_000, "{}", stats.line());
    assert_eq!(stats.requests, c.requests().len() as u64, "{}", stats.line());

    task.abort();
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
