//! The real kube-rs source against `sim serve` over real HTTP on loopback, and a TCP forwarder
//! standing in for a load balancer in front of the API server. Each test starts its own server
//! on port 0 and stops it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use clustertop::analysis::Settings;
use clustertop::model::Update;
use clustertop::model::{Snapshot, SourceHealth, SourceId};
use clustertop::sim::SimConfig;
use clustertop::sim::serve::{ServeConfig, Server};
use clustertop::sources::kube::{self as source, KubeOptions};
use clustertop::store::ClusterState;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use tokio::sync::{mpsc, watch};

use super::TempDir;

pub const NODES: usize = 24;

pub fn sim() -> SimConfig {
    SimConfig { nodes: NODES, ..SimConfig::default() }
}

pub fn serve_config(listen: &str, forbid: &[&str]) -> ServeConfig {
    ServeConfig {
        listen: listen.parse().expect("a socket address"),
        sim: sim(),
        forbid: forbid.iter().map(|s| s.to_string()).collect(),
        step: Duration::from_millis(200),
        ..ServeConfig::default()
    }
}

pub struct Harness {
    pub server: Server,
    pub state: ClusterState,
    pub rx: mpsc::Receiver<Vec<Update>>,
    pub client: kube::Client,
    pub task: tokio::task::JoinHandle<()>,
    _dir: TempDir,
}

pub async fn start(forbid: &[&str], page_size: u32) -> Harness {
    start_with(serve_config("127.0.0.1:0", forbid), page_size, None).await
}

/// Start `sim serve` with `cfg` and the source against it, through `via` when given: the
/// kubeconfig then names the forwarder, which is pointed at the server.
pub async fn start_with(cfg: ServeConfig, page_size: u32, via: Option<&Forward>) -> Harness {
    let server = Server::start(cfg).await.expect("sim serve starts");
    let dir = TempDir::new("kube-e2e");
    let kubeconfig = dir.0.join("kubeconfig");
    let mut text = server.kubeconfig();
    if let Some(via) = via {
        via.retarget(server.addr);
        text = text.replace(&server.addr.to_string(), &via.addr.to_string());
    }
    std::fs::write(&kubeconfig, text).expect("kubeconfig written");
    let opts = KubeOptions { kubeconfig: Some(kubeconfig), page_size, ..KubeOptions::default() };
    let (client, label) = source::connect(&opts).await.expect("connects through the kubeconfig");
    let (tx, rx) = mpsc::channel(256);
    let task = tokio::spawn(source::run(client.clone(), opts, tx));
    Harness { server, state: ClusterState::new(label, Settings::default()), rx, client, task, _dir: dir }
}

/// The connection-wide Kubernetes health (scope "").
pub fn kube_health(s: &Snapshot) -> Option<&SourceHealth> {
    s.sources.iter().find(|x| x.source == SourceId::Kubernetes && x.scope.is_empty()).map(|x| &x.health)
}

/// Any Kubernetes health (any scope) that is unreachable with an error containing `text`.
pub fn kube_error_with(s: &Snapshot, text: &str) -> bool {
    s.sources.iter().any(|x| {
        x.source == SourceId::Kubernetes
            && matches!(&x.health, SourceHealth::Unreachable { error } if error.contains(text))
    })
}

impl Harness {
    /// Apply updates until `pred` holds for a fresh snapshot; panic after `within`.
    pub async fn until_within(
        &mut self,
        what: &str,
        within: Duration,
        pred: impl Fn(&Snapshot) -> bool,
    ) -> Snapshot {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let snap = self.state.snapshot(Utc::now());
            if pred(&snap) {
                return snap;
            }
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(batch)) => batch.into_iter().for_each(|u| {
                    self.state.apply(u);
                }),
                Ok(None) => panic!("source stopped while waiting for {what}"),
                Err(_) => panic!("timed out waiting for {what}; sources: {:?}", snap.sources),
            }
        }
    }
    pub async fn until(&mut self, what: &str, pred: impl Fn(&Snapshot) -> bool) -> Snapshot {
        self.until_within(what, Duration::from_secs(30), pred).await
    }
    pub async fn synced(&mut self) -> Snapshot {
        self.until("initial sync", |s| kube_health(s).is_some_and(SourceHealth::is_ok)).await
    }
    /// Keep applying updates for `d` (the source is never blocked on a full channel).
    pub async fn drain_for(&mut self, d: Duration) {
        let end = tokio::time::Instant::now() + d;
        while let Ok(got) = tokio::time::timeout_at(end, self.rx.recv()).await {
            match got {
                Some(b) => b.into_iter().for_each(|u| {
                    self.state.apply(u);
                }),
                None => break,
            }
        }
    }
    /// Pods per node as the API server has them right now (an independent path).
    pub async fn server_pods(&self) -> BTreeMap<String, u32> {
        self.server_view().await.0
    }
    /// Pods per node (CNI agent pods too, as `kubectl get pods -A` counts them; finished ones
    /// apart) and per runtime class name, from the API server.
    pub async fn server_view(&self) -> (BTreeMap<String, u32>, BTreeMap<String, u32>) {
        let mut classes = BTreeMap::new();
        let pods: Api<Pod> = Api::all(self.client.clone());
        let mut by = BTreeMap::new();
        for p in pods.list(&ListParams::default()).await.expect("pods listed") {
            let phase = p.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default();
            let finished = matches!(phase.as_str(), "Succeeded" | "Failed");
            let spec = p.spec.unwrap_or_default();
            if let (false, Some(n)) = (finished, spec.node_name) {
                *by.entry(n).or_insert(0) += 1;
                *classes.entry(spec.runtime_class_name.unwrap_or_else(|| "runc".into())).or_insert(0) += 1;
            }
        }
        (by, classes)
    }
    pub async fn stop(self) {
        self.task.abort();
        self.server.shutdown().await;
    }
}

pub fn pods_per_node(s: &Snapshot) -> BTreeMap<String, u32> {
    s.nodes.iter().filter_map(|n| Some((n.name.clone(), n.pods.filter(|p| *p > 0)?))).collect()
}

/// A TCP forwarder on loopback, standing in for the load balancer a kubeconfig names: the API
/// server behind it can move to another port ([`Forward::retarget`]); open connections are then
/// reset, as a load balancer failing over does. Stopped on drop.
pub struct Forward {
    pub addr: SocketAddr,
    /// Connections accepted so far.
    pub accepted: Arc<std::sync::atomic::AtomicUsize>,
    target: Arc<Mutex<SocketAddr>>,
    cut: watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl Forward {
    /// A forwarder with no target yet (connections are refused until [`Forward::retarget`]).
    pub async fn start() -> Forward {
        let target = SocketAddr::from(([127, 0, 0, 1], 1));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local address");
        let target = Arc::new(Mutex::new(target));
        let cut = watch::channel(0u64).0;
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (t, c, n) = (target.clone(), cut.clone(), accepted.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut down, _)) = listener.accept().await {
                n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let to = *t.lock().unwrap_or_else(|e| e.into_inner());
                let mut cut = c.subscribe();
                tokio::spawn(async move {
                    let Ok(mut up) = tokio::net::TcpStream::connect(to).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut down, &mut up) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Forward { addr, accepted, target, cut, task }
    }

    /// Send new connections to `to`, and reset the open ones.
    pub fn retarget(&self, to: SocketAddr) {
        *self.target.lock().unwrap_or_else(|e| e.into_inner()) = to;
        self.cut.send_modify(|v| *v += 1);
    }
}

impl Drop for Forward {
    fn drop(&mut self) {
        self.task.abort();
        self.cut.send_modify(|v| *v += 1);
    }
}
