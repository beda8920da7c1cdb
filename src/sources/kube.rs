//! The Kubernetes source: watchers on nodes, slim pods, RuntimeClasses and the CNI/BGP CRDs,
//! reduced to `Update`s. Read-only: only get/list/watch requests (see `deploy/rbac.yaml`).

pub mod map;
pub mod slim;
pub mod state;
pub mod watch;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::anyhow;
use chrono::Utc;
use kube::Client;
use kube::config::{Config, KubeConfigOptions, Kubeconfig, KubeconfigError};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use self::state::{Kind, State};
use self::watch::Msg;

/// A watcher's connection error not repeated for this long is over: failing watchers retry at
/// least every ~2 s (`watch::reconnect_backoff`).
const ERROR_FORGOTTEN_AFTER: Duration = Duration::from_secs(3);
use crate::model::SourceHealth;
use crate::sources::Update;

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

fn config_error(e: KubeconfigError, opts: &KubeOptions, path: Option<&PathBuf>) -> anyhow::Error {
    let file = path.map(|p| format!("kubeconfig {}", p.display())).unwrap_or_else(|| "kubeconfig".into());
    match (&e, &opts.context) {
        (KubeconfigError::LoadContext(_), Some(c)) => anyhow!("context \"{c}\" not found in {file}"),
        (KubeconfigError::ReadConfig(io, _), _) if io.kind() == std::io::ErrorKind::NotFound => {
            anyhow!("{file}: no such file")
        }
        _ => anyhow!("{file}: {}", map::one_line(&e.to_string())),
    }
}

/// Build a client from --kubeconfig / KUBECONFIG / ~/.kube/config / in-cluster, with --context.
/// The error is one line; the caller adds a hint.
pub async fn connect(opts: &KubeOptions) -> anyhow::Result<(Client, String)> {
    let kco = KubeConfigOptions { context: opts.context.clone(), ..Default::default() };
    let (config, context) = if let Some(path) = &opts.kubeconfig {
        if !path.exists() {
            return Err(anyhow!("kubeconfig {}: no such file", path.display()));
        }
        let kc = Kubeconfig::read_from(path).map_err(|e| config_error(e, opts, Some(path)))?;
        let ctx = opts.context.clone().or_else(|| kc.current_context.clone());
        let cfg =
            Config::from_custom_kubeconfig(kc, &kco).await.map_err(|e| config_error(e, opts, Some(path)))?;
        (cfg, ctx)
    } else if opts.context.is_some() {
        let cfg = Config::from_kubeconfig(&kco).await.map_err(|e| config_error(e, opts, None))?;
        (cfg, opts.context.clone())
    } else {
        let cfg = Config::infer()
            .await
            .map_err(|e| anyhow!("no kubeconfig or in-cluster config: {}", map::one_line(&e.to_string())))?;
        let ctx = Kubeconfig::read().ok().and_then(|k| k.current_context);
        (cfg, ctx)
    };
    let server = config.cluster_url.to_string();
    let label = match context {
        Some(c) => format!("{c} {}", server.trim_end_matches('/')),
        None => server.trim_end_matches('/').to_string(),
    };
    let client =
        Client::try_from(config).map_err(|e| anyhow!("{label}: {}", map::one_line(&e.to_string())))?;
    Ok((client, label))
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
    for crd in watch::CRDS {
        st.expect(crd.kind);
        tasks.spawn(watch::crd(client.clone(), crd, ps, itx.clone()));
    }
    drop(itx);

    let mut flush = tokio::time::interval(FLUSH_EVERY);
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut heartbeat = tokio::time::interval(HEARTBEAT_EVERY);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Each watcher's connection error and when it came, cleared by that watcher's next good event
    // or when it has not repeated for `ERROR_FORGOTTEN_AFTER`: a watch that resumes after an
    // outage sends nothing until something changes, while a failing one retries every 1-2 s.
    let mut conn_errors: std::collections::BTreeMap<state::Kind, (String, std::time::Instant)> =
        Default::default();
    let mut beats = 0u32;
    loop {
        let mut beat = false;
        tokio::select! {
            m = irx.recv() => match m {
                Some(Msg::Ev(kind, ev)) => {
                    conn_errors.remove(&kind);
                    st.apply(kind, ev);
                    continue;
                }
                Some(Msg::Health(kind, scope, h)) => {
                    if scope.is_empty() {
                        if let SourceHealth::Unreachable { error } = &h {
                            conn_errors.insert(kind, (error.clone(), std::time::Instant::now()));
                        }
                    } else {
                        // The server answered this kind (forbidden, not installed…): it is reachable.
                        if !matches!(h, SourceHealth::Unreachable { .. }) {
                            conn_errors.remove(&kind);
                        }
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
        conn_errors.retain(|_, (_, at)| at.elapsed() < ERROR_FORGOTTEN_AFTER);
        match conn_errors.values().next() {
            Some((e, _)) => st.set_health("", SourceHealth::Unreachable { error: e.clone() }, beat),
            None if st.settled() => st.set_health("", SourceHealth::Ok, beat),
            None => {}
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
