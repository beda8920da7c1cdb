//! The Kubernetes source: watchers on nodes, slim pods, RuntimeClasses and the CNI/BGP CRDs,
//! reduced to `Update`s. Read-only: only get/list/watch requests (see `deploy/rbac.yaml`).

pub mod bgp;
pub mod discovery;
pub mod map;
pub mod node_detail;
pub mod pb;
pub mod pipeline;
pub mod retry_after;
pub mod slim;
pub mod state;
pub mod stream_list;
pub mod watch;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use chrono::Utc;
use kube::Client;
use kube::config::{Config, KubeConfigOptions, Kubeconfig, KubeconfigError};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use self::state::{Kind, State};
use self::watch::Msg;

use crate::model::SourceHealth;
use crate::model::Update;

/// A watcher's error not repeated for this long (after any Retry-After) is over: failing watchers
/// retry at least every ~2 s (`watch::reconnect_backoff`).
const ERROR_FORGOTTEN_AFTER: Duration = Duration::from_secs(3);

/// The connection's health until every kind has listed once (an API server answering slowly).
pub const WAITING: &str = "waiting for the API server's first answers";

/// How often changes are coalesced into one batch.
pub const FLUSH_EVERY: Duration = Duration::from_millis(150);
/// How often a healthy source says so (the store marks a source stale after 60 s of silence).
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(10);
/// Every this many heartbeats all nodes are recomputed, so BGP resets age out of the last hour.
const RECOMPUTE_EVERY_BEATS: u32 = 6;

#[derive(Debug, Clone, PartialEq)]
pub struct KubeOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// Node label holding the rack (fallback `clustertop.io/rack`).
    pub rack_label: String,
    /// Priority classes whose pods are offline (batch) work.
    pub offline_priority_classes: Vec<String>,
    /// Values of the `koordinator.sh/qosClass` pod label that mark offline work.
    pub offline_qos: Vec<String>,
    /// List page size for the initial lists.
    pub page_size: u32,
}

impl Default for KubeOptions {
    fn default() -> Self {
        KubeOptions {
            kubeconfig: None,
            context: None,
            rack_label: "topology.kubernetes.io/zone".into(),
            offline_priority_classes: vec!["koord-batch".into(), "koord-free".into()],
            offline_qos: vec!["BE".into()],
            page_size: 500,
        }
    }
}

/// `contexts`: the kubeconfig's, to list when the one asked for is not among them.
fn config_error(
    e: KubeconfigError,
    opts: &KubeOptions,
    path: Option<&PathBuf>,
    contexts: &[String],
) -> anyhow::Error {
    let file = path.map(|p| format!("kubeconfig {}", p.display())).unwrap_or_else(|| "kubeconfig".into());
    match (&e, &opts.context) {
        (KubeconfigError::LoadContext(_), Some(c)) => {
            let have = match contexts {
                [] => "it has no contexts".to_string(),
                some => format!("its contexts: {}", some.join(", ")),
            };
            anyhow!("context \"{c}\" not found in {file}; {have}")
        }
        (KubeconfigError::ReadConfig(io, _), _) if io.kind() == std::io::ErrorKind::NotFound => {
            anyhow!("{file}: no such file")
        }
        _ => anyhow!("{file}: {}", map::one_line(&e.to_string())),
    }
}

fn context_names(kc: &Kubeconfig) -> Vec<String> {
    kc.contexts.iter().map(|c| c.name.clone()).collect()
}

/// Build a client from --kubeconfig / KUBECONFIG / ~/.kube/config / in-cluster, with --context.
/// The error is one line; the caller adds a hint.
pub async fn connect(opts: &KubeOptions) -> anyhow::Result<(Client, String)> {
    let kco = KubeConfigOptions { context: opts.context.clone(), ..Default::default() };
    let (mut config, context) = if let Some(path) = &opts.kubeconfig {
        if !path.exists() {
            return Err(anyhow!("kubeconfig {}: no such file", path.display()));
        }
        let kc = Kubeconfig::read_from(path).map_err(|e| config_error(e, opts, Some(path), &[]))?;
        let ctx = opts.context.clone().or_else(|| kc.current_context.clone());
        let contexts = context_names(&kc);
        let cfg = Config::from_custom_kubeconfig(kc, &kco)
            .await
            .map_err(|e| config_error(e, opts, Some(path), &contexts))?;
        (cfg, ctx)
    } else if opts.context.is_some() {
        let contexts = Kubeconfig::read().map(|kc| context_names(&kc)).unwrap_or_default();
        let cfg = Config::from_kubeconfig(&kco).await.map_err(|e| config_error(e, opts, None, &contexts))?;
        (cfg, opts.context.clone())
    } else {
        let cfg = Config::infer()
            .await
            .map_err(|e| anyhow!("no kubeconfig or in-cluster config: {}", map::one_line(&e.to_string())))?;
        let ctx = Kubeconfig::read().ok().and_then(|k| k.current_context);
        (cfg, ctx)
    };
    // kube's own retry of 429/503/504 (up to 15 times, with a backoff growing to minutes) would
    // hide an overloaded API server and keep a watcher away long after it recovers. The watchers
    // retry on their own short backoff instead, and `retry_after` makes a watcher's next request
    // wait the time the server names.
    config.default_retry = false;
    let server = config.cluster_url.to_string();
    let label = match context {
        Some(c) => format!("{c} {}", server.trim_end_matches('/')),
        None => server.trim_end_matches('/').to_string(),
    };
    let client = kube::client::ClientBuilder::try_from(config)
        .map_err(|e| anyhow!("{label}: {}", super::conn_error::describe(&e)))?
        .with_layer(&retry_after::RetryAfterLayer::default())
        .with_layer(&super::conn_error::AtServerLayer::new(&server))
        .build();
    Ok((client, label))
}

/// A watcher's error that holds until `until` unless it repeats.
struct Transient {
    /// "" for the connection, else the kind's scope.
    scope: String,
    error: String,
    until: Instant,
}

/// Watch everything and send batches of updates until `tx` is closed. API errors become health.
pub async fn run(client: Client, opts: KubeOptions, tx: mpsc::Sender<Vec<Update>>) {
    let (itx, mut irx) = mpsc::channel::<Msg>(512);
    let mut tasks = JoinSet::new();
    let mut st = State::new(&opts.rack_label);
    let ps = opts.page_size;
    let reduce = watch::Reduce {
        offline_priority_classes: opts.offline_priority_classes.clone(),
        offline_qos: opts.offline_qos.clone(),
    };
    for k in [Kind::Nodes, Kind::Pods, Kind::RuntimeClasses] {
        st.expect(k);
    }
    tasks.spawn(watch::nodes(client.clone(), ps, itx.clone()));
    tasks.spawn(watch::pods(client.clone(), ps, reduce, itx.clone()));
    tasks.spawn(watch::runtime_classes(client.clone(), ps, itx.clone()));
    let discovery = discovery::Discovery::new(client.clone());
    for crd in watch::CRDS {
        st.expect(crd.kind);
        tasks.spawn(watch::crd(discovery.clone(), crd, ps, itx.clone()));
    }
    drop(itx);

    let mut flush = tokio::time::interval(FLUSH_EVERY);
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut heartbeat = tokio::time::interval(HEARTBEAT_EVERY);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The errors that hold only while they repeat: each watcher's connection error (scope "")
    // or its kind's server error (500, 429…). A watch that resumes after an outage sends nothing
    // until something changes, while a failing one retries every 1-2 s (or after the server's
    // Retry-After): an error not repeated for `ERROR_FORGOTTEN_AFTER` past that is over.
    let mut transient: BTreeMap<Kind, Transient> = BTreeMap::new();
    let mut beats = 0u32;
    loop {
        let mut beat = false;
        tokio::select! {
            m = irx.recv() => match m {
                Some(Msg::Ev(kind, ev)) => {
                    // kube's watcher says `Init` before it asks the server: no news of it.
                    if !matches!(ev, state::Ev::Init) {
                        transient.remove(&kind);
                    }
                    st.apply(kind, ev);
                    continue;
                }
                Some(Msg::Note(kind, note)) => {
                    st.set_note(kind.scope(), note);
                    continue;
                }
                Some(Msg::Health(kind, scope, h, retry)) => {
                    if let SourceHealth::Unreachable { error } = &h {
                        let until = Instant::now() + ERROR_FORGOTTEN_AFTER + retry;
                        transient.insert(kind, Transient { scope: scope.clone(), error: error.clone(), until });
                    } else if !scope.is_empty() {
                        // The server answered this kind (forbidden, not installed…): it is reachable.
                        transient.remove(&kind);
                    }
                    if !scope.is_empty() {
                        st.set_health(&scope, h, false);
                    }
                    continue;
                }
                None => break,
            },
            _ = flush.tick() => {}
            _ = heartbeat.tick() => beat = true,
            _ = tx.closed() => break,
        }
        let now = Utc::now();
        let instant = Instant::now();
        transient.retain(|_, t| {
            let over = t.until <= instant;
            if over
                && !t.scope.is_empty()
                && matches!(st.health(&t.scope), Some(SourceHealth::Unreachable { .. }))
            {
                st.set_health(&t.scope, SourceHealth::Ok, false);
            }
            !over
        });
        if beat {
            st.reassert_ok();
        }
        match transient.values().find(|t| t.scope.is_empty()) {
            Some(t) => st.set_health("", SourceHealth::Unreachable { error: t.error.clone() }, beat),
            None if st.settled() => st.set_health("", SourceHealth::Ok, beat),
            // Honest about a slow API server: no data yet, and why.
            None => st.set_health("", SourceHealth::NoData { reason: WAITING.into() }, beat),
        }
        let recompute = beat && {
            beats = beats.wrapping_add(1);
            beats.is_multiple_of(RECOMPUTE_EVERY_BEATS)
        };
        let batch = st.flush(now, recompute);
        if !batch.is_empty() && tx.send(batch).await.is_err() {
            break;
        }
    }
    tasks.abort_all();
}
