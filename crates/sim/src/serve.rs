//! `sim serve`: the simulator as a Kubernetes-API-compatible HTTP server on loopback.
//!
//! The objects (Node, Pod incl. CNI agent pods, RuntimeClass, CiliumNode, CiliumBGPNodeConfig,
//! CiliumBGPPeerConfig, CiliumBGPAdvertisement) come from an in-process [`Sim`] stepped every
//! [`ServeConfig::step`], in upstream's shapes (`objects.rs`), or from files (`--objects`,
//! `load.rs`). Discovery, list (`limit`/`continue`, label and field selectors), get and
//! watch (bookmarks, `timeoutSeconds`, 410 `Expired` after compaction) are served; anything else
//! is 404 and non-GET methods are 405. Unlike the simulator itself, the server reads the clock.
//!
//! Layout: `kinds` (resource table, discovery), `objects` (JSON shapes), `state` (stores,
//! resourceVersions, history), `select` (selectors), `api` (routing, list, get), `watch`.

mod api;
mod churn;
mod conditions;
mod events;
mod fault;
mod kinds;
mod load;
mod objects;
mod proto;
mod real;
mod select;
mod state;
mod stats;
mod table;
mod watch;

pub use self::fault::Fault;
pub use self::stats::{RequestStats, VERBS, VerbStats};

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use tokio::sync::watch as signal;
use tokio::task::JoinHandle;

use self::state::State;
use super::{Sim, SimConfig};

/// The resources (plurals) `sim serve` can serve, for `--forbid`.
pub fn plurals() -> Vec<&'static str> {
    let mut p: Vec<&'static str> = kinds::KINDS.iter().map(|k| k.plural).collect();
    p.sort_unstable();
    p.dedup();
    p
}

/// Requests remembered for [`Control::requests`].
const REQUEST_LOG: usize = 10_000;

#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Where to listen; tests use `127.0.0.1:0`.
    pub listen: SocketAddr,
    pub sim: SimConfig,
    /// Total pods (CNI agent pods are always kept); `None` = the simulator's ~30 per node.
    pub pods: Option<usize>,
    /// Resource plurals answering 403, e.g. `ciliumbgpnodeconfigs`.
    pub forbid: Vec<String>,
    /// Simulator step period.
    pub step: Duration,
    /// Watch events retained; older resourceVersions answer 410 Gone.
    pub history: usize,
    /// Extra pod changes per second (deletes and creates, in pairs), on top of the simulator's
    /// few per step; `None` = only the simulator's.
    pub churn: Option<f64>,
    /// A fault injected into every API request ([`Fault`]).
    pub fault: Fault,
    /// Serve these objects (JSON files, or directories of them; an object or a `List` per file)
    /// instead of the simulated cluster: a dump of a real cluster, or upstream's examples.
    pub objects: Vec<PathBuf>,
    /// Serve pods and nodes in their bare shapes (only the fields clustertop reads, about 1.1 KB
    /// a pod) instead of the bodies real clusters have (`managedFields`, env, probes, volumes,
    /// statuses: about 10 KB a pod).
    pub slim: bool,
    /// Answer JSON only, also to clients that ask for protobuf (nodes' and pods' lists and
    /// watches are served as protobuf to those that ask by default).
    pub no_protobuf: bool,
    /// Answer as an API server without the WatchList feature: a watch with `sendInitialEvents`
    /// is refused with 422 `Invalid`, as upstream's validation refuses it when the feature gate
    /// is off (clients then fall back to a paginated list).
    pub no_watch_list: bool,
    /// The instant the cluster is built at (default: the clock at start); two servers given the
    /// same instant and seed serve the same objects (tests).
    pub now: Option<chrono::DateTime<Utc>>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            sim: SimConfig::default(),
            pods: None,
            forbid: Vec::new(),
            step: Duration::from_secs(1),
            history: 10_000,
            churn: None,
            fault: Fault::None,
            objects: Vec::new(),
            slim: false,
            no_protobuf: false,
            no_watch_list: false,
            now: None,
        }
    }
}

/// Shared by the handlers, the stepper and [`Control`].
#[derive(Debug)]
pub(crate) struct App {
    state: Mutex<State>,
    /// Bumped after every change of `state`; watches wait on it.
    changed: signal::Sender<u64>,
    shutdown: signal::Sender<bool>,
    /// Bumped by [`Control::drop_watches`]: open watch streams end.
    pub(crate) cut: signal::Sender<u64>,
    pub(crate) counters: Arc<stats::Counters>,
    forbidden: Mutex<HashSet<String>>,
    requests: Mutex<VecDeque<(String, String)>>,
    paused: AtomicBool,
    fault: Mutex<Fault>,
    /// `--scenario hostile`: fault messages carry escape sequences too.
    hostile: bool,
    /// Nodes and pods in protobuf to clients that ask for it.
    pub(crate) protobuf: bool,
    /// Streaming lists (`sendInitialEvents=true`) are served.
    pub(crate) watch_list: bool,
    /// The kinds served (indices into `kinds::KINDS`).
    pub(crate) served: Vec<usize>,
    addr: String,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl App {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
    fn notify(&self) {
        self.changed.send_modify(|v| *v += 1);
    }
    pub(crate) fn log(&self, method: &str, path: &str) {
        let mut r = lock(&self.requests);
        if r.len() >= REQUEST_LOG {
            r.pop_front();
        }
        r.push_back((method.to_string(), path.to_string()));
    }
    pub(crate) fn fault(&self) -> Fault {
        *lock(&self.fault)
    }
    pub(crate) fn is_forbidden(&self, plural: &str) -> bool {
        lock(&self.forbidden).contains(plural)
    }
}

/// A running server.
#[derive(Debug)]
pub struct Server {
    pub addr: SocketAddr,
    app: Arc<App>,
    server: JoinHandle<()>,
    stepper: JoinHandle<()>,
}

/// A pod as served ([`Control::served_pods`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedPod {
    /// `namespace/name`.
    pub key: String,
    pub node: Option<String>,
    pub runtime_class: Option<String>,
    /// A CNI agent pod (evidence about its node, not a workload pod).
    pub agent: bool,
    /// Succeeded or Failed.
    pub finished: bool,
}

/// Test and CLI hooks into a running server.
#[derive(Debug, Clone)]
pub struct Control {
    app: Arc<App>,
}

impl Server {
    /// Bind, load the simulator's initial state, spawn the server and the stepper, return.
    pub async fn start(cfg: ServeConfig) -> anyhow::Result<Server> {
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .with_context(|| format!("--listen {}", cfg.listen))?;
        let addr = listener.local_addr()?;
        let (sim_cfg, history, pods, slim, at) = (cfg.sim.clone(), cfg.history, cfg.pods, cfg.slim, cfg.now);
        let objects = if cfg.objects.is_empty() {
            None
        } else {
            Some(load::read_all(&cfg.objects).context("--objects")?)
        };
        let mut served = kinds::SIMULATED.to_vec();
        if let Some(o) = &objects {
            served = kinds::CORE.to_vec();
            served.extend(o.iter().map(|(k, _)| *k));
            served.sort();
            served.dedup();
        }
        let (sim, st) = tokio::task::spawn_blocking(move || {
            let now = at.unwrap_or_else(Utc::now);
            let mut st = State::new(history, pods, now);
            st.realistic = !slim;
            let sim = match objects {
                Some(o) => {
                    st.load_objects(o);
                    None
                }
                None => {
                    let mut sim = Sim::new(sim_cfg, now);
                    st.load(sim.initial());
                    Some(sim)
                }
            };
            (sim, st)
        })
        .await
        .context("loading the cluster")?;
        let app = Arc::new(App {
            state: Mutex::new(st),
            changed: signal::channel(0).0,
            shutdown: signal::channel(false).0,
            cut: signal::channel(0).0,
            counters: Arc::default(),
            forbidden: Mutex::new(cfg.forbid.iter().cloned().collect()),
            requests: Mutex::new(VecDeque::new()),
            paused: AtomicBool::new(false),
            fault: Mutex::new(cfg.fault),
            hostile: cfg.sim.scenario == super::Scenario::Hostile,
            protobuf: !cfg.no_protobuf,
            watch_list: !cfg.no_watch_list,
            served,
            addr: addr.to_string(),
        });
        let router = axum::Router::new().fallback(api::handle).with_state(app.clone());
        let mut stop = app.shutdown.subscribe();
        let server = tokio::spawn(async move {
            let graceful = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(graceful).await {
                tracing::warn!("sim serve: {e}");
            }
        });
        let churn = cfg.churn.map(|rate| churn::Churn::new(rate, cfg.sim.seed));
        let period = cfg.step.max(Duration::from_millis(10));
        // Objects as given stay as they are: nothing steps them.
        let stepper = match sim {
            Some(sim) => tokio::spawn(step_loop(app.clone(), sim, churn, period)),
            None => tokio::spawn(std::future::pending()),
        };
        Ok(Server { addr, app, server, stepper })
    }

    /// A kubeconfig (JSON, which is valid YAML) pointing at this server.
    pub fn kubeconfig(&self) -> String {
        let name = "clustertop-sim";
        let v = serde_json::json!({
            "apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": name, "cluster": {"server": format!("http://{}", self.addr)}}],
            "users": [{"name": name, "user": {}}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name
        });
        serde_json::to_string_pretty(&v).unwrap_or_default()
    }

    pub fn control(&self) -> Control {
        Control { app: self.app.clone() }
    }

    /// Stop stepping, end open watches and stop accepting connections.
    pub async fn shutdown(mut self) {
        self.stop().await;
    }

    /// The same, keeping the value (a test then starts another server on the same address).
    pub async fn stop(&mut self) {
        self.stepper.abort();
        self.app.shutdown.send_replace(true);
        if tokio::time::timeout(Duration::from_secs(5), &mut self.server).await.is_err() {
            self.server.abort();
        }
    }
}

async fn step_loop(app: Arc<App>, mut sim: Sim, mut churn: Option<churn::Churn>, period: Duration) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    let mut last = tokio::time::Instant::now();
    loop {
        tick.tick().await;
        let secs = last.elapsed().as_secs_f64();
        last = tokio::time::Instant::now();
        if app.paused.load(Ordering::Relaxed) {
            continue;
        }
        let now = Utc::now();
        let updates = sim.step(now);
        {
            let mut st = app.lock();
            st.now = now;
            for u in updates {
                st.apply(u);
            }
            if let Some(c) = &mut churn {
                c.step(&mut st, secs);
            }
        }
        app.notify();
    }
}

impl Control {
    /// Compact the history: open watches get a 410 `Expired` ERROR event and end; lists
    /// continued from, and watches started at, older resourceVersions get 410.
    pub fn expire(&self) {
        self.app.lock().expire();
        self.app.notify();
    }

    /// Replace the set of resource plurals answering 403.
    pub fn set_forbidden(&self, plurals: &[&str]) {
        *lock(&self.app.forbidden) = plurals.iter().map(|p| p.to_string()).collect();
    }

    /// Force one BGP session's state (`established`, `idle`, `active`, ...); emits a watch
    /// event. Unknown nodes or peers are ignored.
    pub fn set_bgp_state(&self, node: &str, peer: &str, state: &str) {
        let changed = {
            let mut st = self.app.lock();
            st.now = Utc::now();
            st.set_bgp_state(node, peer, state)
        };
        if changed {
            self.app.notify();
        }
    }

    /// Inject `fault` into every API request from now on (`Fault::None` ends it).
    pub fn set_fault(&self, fault: Fault) {
        *lock(&self.app.fault) = fault;
    }

    /// Stop (or resume) stepping the simulator: no pod churn and no BGP flaps while paused.
    pub fn pause_churn(&self, paused: bool) {
        self.app.paused.store(paused, Ordering::Relaxed);
    }

    /// Every request seen (the last 10,000): (method, path?query).
    pub fn requests(&self) -> Vec<(String, String)> {
        lock(&self.app.requests).iter().cloned().collect()
    }

    /// End every open watch stream (a clean end of the HTTP body, as when a connection drops);
    /// clients resume from their last resourceVersion.
    pub fn drop_watches(&self) {
        self.app.cut.send_modify(|v| *v += 1);
    }

    /// Pod watch events (ADDED, MODIFIED, DELETED) since the initial load.
    pub fn pod_changes(&self) -> u64 {
        self.app.lock().pod_events
    }

    /// Every served pod as (namespace/name, nodeName, runtimeClassName, is a CNI agent pod),
    /// sorted by namespace/name.
    pub fn served_pods(&self) -> Vec<ServedPod> {
        let st = self.app.lock();
        let mut v: Vec<ServedPod> = st
            .pod_meta
            .iter()
            .map(|((ns, name), m)| ServedPod {
                key: format!("{ns}/{name}"),
                node: m.node.as_deref().map(str::to_string),
                runtime_class: m.runtime_class.as_deref().map(str::to_string),
                agent: m.agent,
                finished: m.finished,
            })
            .collect();
        v.sort_by(|a, b| a.key.cmp(&b.key));
        v
    }

    /// The events of `node` and of the pods on it, as (involved kind, namespace/name or node name,
    /// reason), sorted.
    pub fn node_events(&self, node: &str) -> Vec<(String, String, String)> {
        self.app.lock().events_of_node(node)
    }

    /// Requests served and response bytes sent, per verb.
    pub fn request_stats(&self) -> RequestStats {
        self.app.counters.snapshot()
    }

    /// Whether stepping is paused ([`Control::pause_churn`]).
    pub fn churn_paused(&self) -> bool {
        self.app.paused.load(Ordering::Relaxed)
    }

    /// (nodes, pods including CNI agent pods).
    pub fn counts(&self) -> (usize, usize) {
        self.app.lock().counts()
    }

    /// The BGP peers of a node, as served (a test helper).
    pub fn bgp_peers(&self, node: &str) -> Vec<String> {
        self.app.lock().bgp.get(node).map(|s| s.iter().map(|s| s.peer.clone()).collect()).unwrap_or_default()
    }
}
