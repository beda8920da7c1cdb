//! What each command does once the flags are parsed.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use tokio::sync::{mpsc, watch};

use super::{CapacityFlags, Format, KubeFlags, ServeFlags, SimFlags, UiFlags, no_color};
use crate::event_loop::{self, Options};
use crate::model::Update;
use crate::model::{SourceHealth, SourceId};
use crate::record::History;
use crate::report::{self, build::ReportOptions};
use crate::sim::Sim;
use crate::sim::serve::{ServeConfig, Server};
use crate::sources::detail;
use crate::sources::kube::{self as kube_source, KubeOptions};
use crate::sources::prometheus::as_history::PromHistory;
use crate::sources::prometheus::queries::{Queries, offline_pods};
use crate::sources::prometheus::{self as prom_source, Backend, BackendOptions, Interest, PromOptions};
use crate::store::ClusterState;

/// A problem with the user's configuration (kubeconfig, context): exit code 2.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}
impl std::error::Error for ConfigError {}

fn kube_options(k: &KubeFlags, ui: &UiFlags) -> KubeOptions {
    KubeOptions {
        kubeconfig: k.kubeconfig.clone(),
        context: k.context.clone(),
        rack_label: ui.rack_label.clone(),
        offline_priority_classes: ui.file.offline.priority_classes.clone(),
        offline_qos: ui.file.offline.qos_classes.clone(),
        ..KubeOptions::default()
    }
}

/// The metrics backend from `--prometheus` / `CLUSTERTOP_PROMETHEUS` / the config file, if any
/// (both checked when parsed).
fn prometheus(ui: &UiFlags) -> Result<Option<(Backend, PromOptions)>> {
    let p = &ui.file.prometheus;
    let Some(url) = ui.prometheus.clone().or_else(|| p.url.clone()) else { return Ok(None) };
    let off = &ui.file.offline;
    let queries = Queries::new(
        p.node_label.as_deref(),
        p.rack_label.as_deref().unwrap_or(&ui.rack_label),
        offline_pods(&off.priority_classes, &off.qos_classes),
        &ui.file.queries,
    )
    .map_err(ConfigError)?;
    let auth = p.secret().map_err(|(key, e)| ConfigError(ui.file.at.error(key, e)))?;
    let opts = BackendOptions { url, auth, timeout: Duration::from_secs_f64(p.timeout_s.unwrap_or(10.0)) };
    let backend = Backend::new(&opts, queries).map_err(ConfigError)?;
    let settings = ui.settings();
    let prom = PromOptions {
        refresh: Duration::from_secs_f64(p.refresh_s.unwrap_or(15.0)),
        offline_priority_classes: off.priority_classes.iter().cloned().collect(),
        windows: settings.windows,
        tz: settings.tz,
        ..PromOptions::default()
    };
    Ok(Some((backend, prom)))
}

/// Where the node agents' facts come from.
enum AgentsFrom {
    /// Polled (no URLs: discovered).
    Poll(crate::sources::agents::AgentsOptions),
    /// Read from the Prometheus that scrapes them.
    Prometheus(Backend),
}

/// The node agents from `--agents` (checked when parsed): URLs, `auto` (no URLs: discovered),
/// `prometheus` (needs --prometheus), `off` (or nothing) for none; with the bearer token of
/// `--agent-token-file`.
fn agents(ui: &UiFlags, prom: Option<&(Backend, PromOptions)>) -> Result<Option<AgentsFrom>> {
    let list = ui.agents.as_deref().unwrap_or("off").trim();
    let urls: Vec<String> = match list {
        "off" | "" => return Ok(None),
        "prometheus" => {
            let Some((b, _)) = prom else {
                return Err(ConfigError(
                    "--agents prometheus reads the agents' facts from Prometheus: give --prometheus URL (or \
                     prometheus.url in the config file)"
                        .into(),
                )
                .into());
            };
            return Ok(Some(AgentsFrom::Prometheus(b.clone())));
        }
        "auto" => Vec::new(),
        _ => list.split(',').map(|u| u.trim().trim_end_matches('/').to_string()).collect(),
    };
    let token = ui.agent_token_file.as_deref().map(crate::agent::token::Token::from_file).transpose();
    let token = token.map_err(|e| ConfigError(format!("--agent-token-file: {e:#}")))?;
    Ok(Some(AgentsFrom::Poll(crate::sources::agents::AgentsOptions { urls, token, ..Default::default() })))
}

pub(super) async fn connect(k: &KubeFlags, ui: &UiFlags) -> Result<(::kube::Client, String, KubeOptions)> {
    let opts = kube_options(k, ui);
    match kube_source::connect(&opts).await {
        Ok((client, label)) => Ok((client, label, opts)),
        Err(e) => Err(ConfigError(format!("{e:#}; try `clustertop demo` for the simulated cluster")).into()),
    }
}

/// The store and the UI; with `record`, the recorder too (`Err`: why it cannot, shown as the
/// recorder's health). The UI's future closes the recording once the UI is done.
fn start_ui(
    ui: &UiFlags,
    mut state: ClusterState,
    started: Instant,
    interest: Option<watch::Sender<Interest>>,
    record: Option<std::result::Result<std::path::PathBuf, String>>,
    detail: Option<crate::sources::detail::Link>,
    prometheus_past: bool,
) -> Result<(mpsc::Sender<Vec<Update>>, impl Future<Output = Result<()>>)> {
    let theme = ui.theme()?;
    let (utx, urx) = mpsc::channel(256);
    let (stx, srx) = watch::channel(None);
    let (recorder, rewind) = match record {
        Some(Ok(path)) => {
            let header = super::record::header(&state.cluster);
            let recorder = super::record::start(&path, &header, &mut state, utx.clone());
            // The time cursor reads what this dashboard records (and what it recorded before).
            let rewind = match &recorder {
                Some(_) => match crate::record::Recording::open(&path, ui.settings()) {
                    Ok(r) => event_loop::Rewind::history(Box::new(r)),
                    Err(e) => event_loop::Rewind::none(format!("the recording cannot be read: {e}")),
                },
                None => event_loop::Rewind::none("the recorder stopped (see the status line)"),
            };
            (recorder, rewind)
        }
        Some(Err(error)) => {
            let rewind = event_loop::Rewind::none(format!("not recording: {error}"));
            let health = SourceHealth::Unreachable { error };
            state.apply(Update::Health {
                source: SourceId::Recorder,
                scope: String::new(),
                health,
                at: Utc::now(),
            });
            (None, rewind)
        }
        None => {
            (None, event_loop::Rewind::none("not recording (--no-record, or record = false, or the demo)"))
        }
    };
    let (tap, handle) = recorder.map_or((None, None), |(t, h)| (Some(t), Some(h)));
    let store = tokio::spawn(event_loop::store_task(state, urx, stx, tap));
    let opts = Options {
        theme,
        ascii: ui.ascii,
        no_color: no_color(),
        started,
        interest,
        mouse: ui.mouse(),
        detail,
    };
    let rewind = if prometheus_past { with_prometheus(ui, rewind) } else { rewind };
    let tui = event_loop::run_rewindable(srx, opts, rewind);
    Ok((utx, async move {
        let r = tui.await;
        if let Some(h) = handle {
            // The store sees the UI gone and lets go of the recorder, which writes what is left
            // and closes the file.
            if tokio::time::timeout(Duration::from_secs(5), store).await.is_err() {
                tracing::warn!("the store did not let go of the recorder within 5 s");
            }
            super::record::finish(h).await;
        }
        r
    }))
}

/// With a Prometheus (`--prometheus`), the time cursor reads it for the moments the recording
/// does not hold (or all of them, when nothing is recorded). Not for the demo: its Prometheus, if
/// any, is not its cluster's.
fn with_prometheus(ui: &UiFlags, rewind: event_loop::Rewind) -> event_loop::Rewind {
    let Ok(Some(prometheus)) = prom_history(ui) else { return rewind };
    let recording = rewind.history.ok();
    let layered = crate::sources::prometheus::as_history::Layered { recording, prometheus };
    event_loop::Rewind::history(Box::new(layered))
}

/// The past as the Prometheus of `--prometheus` holds it, if one is configured.
pub(super) fn prom_history(ui: &UiFlags) -> Result<Option<PromHistory>> {
    let Some((backend, opts)) = prometheus(ui)? else { return Ok(None) };
    let rack = ui.file.prometheus.rack_label.clone().unwrap_or_else(|| ui.rack_label.clone());
    PromHistory::new(backend, opts, rack, ui.settings()).map(Some).map_err(|e| anyhow::anyhow!(e))
}

pub async fn demo(ui: &UiFlags, flags: &SimFlags, started: Instant) -> Result<()> {
    let settings = ui.settings();
    let sim = Sim::new(flags.config(settings.tz), Utc::now());
    // A node's pods and events are answered from what the simulator sent, on demand.
    let (link, serve) = detail::link();
    let tracked = Arc::new(Mutex::new(crate::sources::sim::Tracked::default()));
    let t = tracked.clone();
    let answer = move |node: String| {
        let d = t.lock().unwrap_or_else(std::sync::PoisonError::into_inner).detail(&node, Utc::now());
        async move { d }
    };
    tokio::spawn(detail::serve(answer, serve, detail::REFRESH));
    let (tx, tui) =
        start_ui(ui, ClusterState::new(sim.label(), settings), started, None, None, Some(link), false)?;
    let refresh = Duration::from_secs_f64(ui.refresh);
    tokio::spawn(crate::sources::sim::run(sim, tx, refresh, Some(tracked)));
    tui.await
}

/// `clustertop replay FILE`: the dashboard on a recording, with no cluster source.
pub async fn replay(ui: &UiFlags, file: &std::path::Path, started: Instant) -> Result<()> {
    let opts = Options {
        theme: ui.theme()?,
        ascii: ui.ascii,
        no_color: no_color(),
        started,
        interest: None,
        mouse: ui.mouse(),
        detail: None,
    };
    event_loop::replay::run(file, ui.settings(), opts).await
}

/// The dashboard on a real cluster (the current kube context).
pub async fn cluster(ui: &UiFlags, k: &KubeFlags, started: Instant) -> Result<()> {
    ui.theme()?;
    let sources = ClusterSources::connect(ui, k).await?;
    let interest = sources.prom.is_some().then(|| sources.interest.clone());
    let record = super::record::target(ui, &sources.label);
    let state = ClusterState::new(sources.label.clone(), ui.settings());
    let (link, serve) = detail::link();
    let (tx, tui) = start_ui(ui, state, started, interest, record, Some(link), true)?;
    sources.spawn(tx, Some(serve));
    tui.await
}

/// A kube context's sources (the API, its Prometheus and agents), connected, not yet started.
pub(super) struct ClusterSources {
    pub label: String,
    prom: Option<(Backend, PromOptions)>,
    agents: Option<AgentsFrom>,
    client: ::kube::Client,
    opts: KubeOptions,
    /// What the metrics source should fetch (the screen's interest; the default when headless).
    pub interest: watch::Sender<Interest>,
    irx: watch::Receiver<Interest>,
}

impl ClusterSources {
    pub(super) async fn connect(ui: &UiFlags, k: &KubeFlags) -> Result<ClusterSources> {
        let prom = prometheus(ui)?;
        let agents = agents(ui, prom.as_ref())?;
        let (client, label, opts) = connect(k, ui).await?;
        let (interest, irx) = watch::channel(Interest::default());
        Ok(ClusterSources { label, prom, agents, client, opts, interest, irx })
    }

    /// Start every source, sending to `tx`; with `detail`, the on-demand pods and events of the
    /// node whose detail is open.
    pub(super) fn spawn(self, tx: mpsc::Sender<Vec<Update>>, detail: Option<detail::Serve>) {
        if let Some(serve) = detail {
            let offline = kube_source::node_detail::Offline {
                priority_classes: self.opts.offline_priority_classes.clone(),
                qos: self.opts.offline_qos.clone(),
            };
            let client = self.client.clone();
            let fetch = move |node: String| {
                let (c, o) = (client.clone(), offline.clone());
                async move { kube_source::node_detail::fetch(&c, &node, &o).await }
            };
            tokio::spawn(detail::serve(fetch, serve, detail::REFRESH));
        }
        if let Some((backend, popts)) = self.prom {
            tokio::spawn(prom_source::run(backend, popts, tx.clone(), self.irx));
        }
        match self.agents {
            Some(AgentsFrom::Poll(a)) if a.urls.is_empty() => {
                tokio::spawn(crate::sources::agents::run_discovered(self.client.clone(), a, tx.clone()));
            }
            Some(AgentsFrom::Poll(a)) => {
                tokio::spawn(crate::sources::agents::run(a, tx.clone()));
            }
            Some(AgentsFrom::Prometheus(b)) => {
                let every = crate::sources::agents::AgentsOptions::default().interval;
                tokio::spawn(crate::sources::agents::prometheus::run(b, every, tx.clone()));
            }
            None => {}
        }
        tokio::spawn(kube_source::run(self.client, self.opts, tx));
    }
}

pub(super) fn print(snap: &crate::model::Snapshot, format: Format) {
    print_from(snap, format, "live");
}

/// Print a snapshot of a moment from `origin` (`recording`, `prometheus`): JSON names it.
pub(super) fn print_from(snap: &crate::model::Snapshot, format: Format, origin: &str) {
    let out = match format {
        Format::Json => crate::snapshot_cmd::json_from(snap, origin),
        Format::Text => crate::snapshot_cmd::text(snap),
    };
    println!("{out}");
}

pub fn snapshot_demo(ui: &UiFlags, format: Format, flags: &SimFlags) -> Result<()> {
    let settings = ui.settings();
    print(&crate::sim::snapshot_at(flags.config(settings.tz), Utc::now(), settings), format);
    Ok(())
}

/// `snapshot --at TIME`: the cluster as Prometheus saw it then.
pub fn snapshot_prometheus(ui: &UiFlags, at: &str, format: Format) -> Result<()> {
    let Some(past) = prom_history(ui)? else {
        return Err(ConfigError(
            "snapshot --at needs where the past is: --from FILE (a recording), or a Prometheus URL (--prometheus URL, CLUSTERTOP_PROMETHEUS or [prometheus] url in the config file)".into(),
        )
        .into());
    };
    let now = Utc::now();
    let at = crate::moment::parse_moment(at, now, past.settings.tz)
        .map_err(|e| ConfigError(format!("--at: {e}")))?;
    if at > now {
        return Err(
            ConfigError(format!("--at {}: that is in the future", at.format("%Y-%m-%dT%H:%M:%SZ"))).into()
        );
    }
    print_from(&past.snapshot_at(at).map_err(|e| anyhow::anyhow!("{e}"))?, format, "prometheus");
    Ok(())
}

/// One snapshot of a real cluster: wait until every initial list is complete, print, exit.
pub async fn snapshot_cluster(ui: &UiFlags, k: &KubeFlags, format: Format, wait: u64) -> Result<()> {
    let (client, label, opts) = connect(k, ui).await?;
    let mut state = ClusterState::new(label, ui.settings());
    let (tx, mut rx) = mpsc::channel(256);
    let source = tokio::spawn(kube_source::run(client, opts, tx));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    let synced = |u: &Update| matches!(u, Update::Health { source: SourceId::Kubernetes, scope, health: SourceHealth::Ok, .. } if scope.is_empty());
    let mut last_error = None;
    loop {
        let batch = match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(b)) => b,
            Ok(None) => bail!("the Kubernetes source stopped before its initial lists completed"),
            Err(_) => {
                source.abort();
                let why = last_error.map(|e| format!(": {e}")).unwrap_or_default();
                bail!("the initial lists did not complete within {wait} s{why}");
            }
        };
        let done = batch.iter().any(synced);
        for u in batch {
            if let Update::Health { health: SourceHealth::Unreachable { error }, .. } = &u {
                last_error = Some(error.clone());
            }
            state.apply(u);
        }
        if done {
            break;
        }
    }
    source.abort();
    print(&state.snapshot(Utc::now()), format);
    Ok(())
}

/// `clustertop report capacity`: from Prometheus alone.
pub async fn report_capacity(ui: &UiFlags, f: &CapacityFlags) -> Result<()> {
    let Some((backend, _)) = prometheus(ui)? else {
        return Err(ConfigError(
            "report capacity needs a Prometheus URL: --prometheus URL, CLUSTERTOP_PROMETHEUS or [prometheus] url in the config file".into(),
        )
        .into());
    };
    let settings = ui.settings();
    let end = f.end.unwrap_or_else(Utc::now);
    let o = ReportOptions { end, windows: settings.windows, tz: settings.tz, top: f.top.into() };
    let r = report::build::build(&backend, &o).await?;
    print!("{}", report::render(&r, f.format));
    Ok(())
}

/// `clustertop sim serve`: until SIGINT/SIGTERM.
pub async fn serve(ui: &UiFlags, f: &ServeFlags) -> Result<()> {
    let cfg = ServeConfig {
        listen: f.listen,
        sim: f.sim.config(ui.settings().tz),
        pods: f.pods,
        forbid: f.forbid.clone(),
        step: Duration::from_secs_f64(ui.refresh),
        churn: f.churn,
        fault: f.fault,
        objects: f.objects.clone(),
        slim: f.slim,
        no_protobuf: f.no_protobuf,
        no_watch_list: f.no_watch_list,
        ..ServeConfig::default()
    };
    // What can fail here is the address (--listen) or the files (--objects): a bad setting.
    let server = Server::start(cfg).await.map_err(|e| ConfigError(format!("{e:#}")))?;
    server.control().pause_churn(f.frozen);
    if let Some(path) = &f.kubeconfig_out {
        if let Err(e) = std::fs::write(path, server.kubeconfig()) {
            server.shutdown().await;
            return Err(ConfigError(format!("--kubeconfig-out {}: {e}", path.display())).into());
        }
        eprintln!("clustertop sim serve: kubeconfig written to {}", path.display());
    }
    eprintln!("clustertop sim serve: Kubernetes API on http://{} (Ctrl-C to stop)", server.addr);
    if f.fault != crate::sim::serve::Fault::None {
        eprintln!("clustertop sim serve: every API request gets the fault {}", f.fault);
    }
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut usr1 = signal(SignalKind::user_defined1())?;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            _ = usr1.recv() => {
                let c = server.control();
                c.pause_churn(!c.churn_paused());
                let now = if c.churn_paused() { "static" } else { "changing" };
                eprintln!("clustertop sim serve: SIGUSR1: the cluster is now {now}");
            }
        }
    }
    let stats = server.control().request_stats();
    eprintln!("clustertop sim serve: {} pod changes; {}", server.control().pod_changes(), stats.line());
    server.shutdown().await;
    Ok(())
}

/// `clustertop sim openmetrics`: the simulated history as OpenMetrics text, to a file or stdout.
pub fn openmetrics(ui: &UiFlags, f: &super::OpenMetricsFlags) -> Result<()> {
    use crate::sim::openmetrics::{self, OmConfig};
    let end = f.end.unwrap_or(Utc::now() - chrono::Duration::seconds(120));
    let cfg =
        OmConfig { sim: f.sim.config(ui.settings().tz), end, hours: f.hours, step_s: f.step, cpus: f.cpus };
    let stats = match &f.out {
        Some(path) => {
            let mut file = std::fs::File::create(path)
                .map_err(|e| ConfigError(format!("--out {}: {e}", path.display())))?;
            openmetrics::write(&cfg, &mut file).with_context(|| format!("cannot write {}", path.display()))?
        }
        None => openmetrics::write(&cfg, &mut std::io::stdout().lock()).context("cannot write to stdout")?,
    };
    eprintln!("clustertop sim openmetrics: {stats}");
    Ok(())
}
