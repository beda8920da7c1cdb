//! The flight recorder: in the dashboard (on by default, into the context's file under
//! `$XDG_STATE_HOME/clustertop/recordings/`) and headless (`clustertop record`). A recorder that
//! cannot start or stops (a full disk, a file another clustertop records) is a warning source on
//! screen; the dashboard goes on without it.

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use anyhow::{Context, Result, anyhow, bail};
use chrono::Utc;
use clap::Args;
use tokio::sync::{mpsc, watch};

use super::run::{ClusterSources, ConfigError};
use super::{
    AgentsFlags, ConfigFlag, KeepaliveFlag, KubeFlags, PrometheusFlag, RackFlag, RefreshFlag, SimFlags,
    TzFlag, UiFlags, WindowFlags,
};
use crate::model::{SourceHealth, SourceId, Update};
use crate::record::tap::{self, Tap};
use crate::record::{self, Header, Options, Stats, Writer};
use crate::sim::Sim;
use crate::sources::prometheus::Interest;
use crate::store::ClusterState;

#[derive(Args, Debug, Clone)]
pub struct RecordFlags {
    /// The recording to write (created 0600; appended to when it records the same cluster).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Stop after this long (90s, 20m, 1h30m, 7d); default: until SIGINT or SIGTERM.
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_for)]
    pub duration: Option<chrono::Duration>,
    /// Record the embedded simulated cluster instead of a kube context.
    #[arg(long)]
    pub demo: bool,
    #[command(flatten)]
    pub kube: KubeFlags,
    #[command(flatten)]
    pub rack: RackFlag,
    #[command(flatten)]
    pub prometheus: PrometheusFlag,
    #[command(flatten)]
    pub agents: AgentsFlags,
    #[command(flatten)]
    pub windows: WindowFlags,
    #[command(flatten)]
    pub tz: TzFlag,
    #[command(flatten)]
    pub keepalive: KeepaliveFlag,
    #[command(flatten)]
    pub config: ConfigFlag,
    #[command(flatten, next_help_heading = "The simulated cluster (with --demo)")]
    pub sim: SimFlags,
    #[command(flatten)]
    pub refresh: RefreshFlag,
}

fn parse_for(s: &str) -> Result<chrono::Duration, String> {
    let d = crate::moment::parse_duration(s)?;
    if d <= chrono::Duration::zero() {
        return Err(format!("{s:?}: the recording needs a duration above zero"));
    }
    Ok(d)
}

pub type Handle = JoinHandle<Result<Stats, record::Error>>;

/// A recording's header for the dashboard's label (`<context> <server>`, or the server alone).
pub fn header(label: &str) -> Header {
    let context = label.split_once(' ').map_or(label, |(c, _)| c).trim_end_matches(':');
    Header {
        cluster: label.to_string(),
        context: context.to_string(),
        version: env!("CARGO_PKG_VERSION").into(),
    }
}

/// The update that shows the recorder stopped, and why.
fn stopped(why: &dyn std::fmt::Display) -> Update {
    let error = format!("{why}");
    Update::Health {
        source: SourceId::Recorder,
        scope: String::new(),
        health: SourceHealth::Unreachable { error },
        at: Utc::now(),
    }
}

/// Where the dashboard records `label`'s context: `None` with `--no-record` or `record = false`.
pub fn target(ui: &UiFlags, label: &str) -> Option<Result<PathBuf, String>> {
    if ui.no_record || ui.file.record == Some(false) {
        return None;
    }
    Some(
        record::default_path(&header(label).context)
            .ok_or_else(|| "neither $XDG_STATE_HOME nor $HOME is set: nowhere to record".to_string()),
    )
}

/// Start recording into `path` for the dashboard. When it cannot start, `state` shows why; when
/// it stops later, the store hears of it through `utx`.
pub fn start(
    path: &Path,
    header: &Header,
    state: &mut ClusterState,
    utx: mpsc::Sender<Vec<Update>>,
) -> Option<(Tap, Handle)> {
    let w = match Writer::create(path, header, Options::default(), Utc::now()) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!("not recording: {e}");
            state.apply(stopped(&e));
            return None;
        }
    };
    tracing::info!("recording to {}", path.display());
    let on_stop = Box::new(move |e: &record::Error| {
        tracing::warn!("recording stopped: {e}");
        let _ = utx.blocking_send(vec![stopped(e)]);
    });
    match tap::spawn_beside(w, Box::new(Utc::now), on_stop) {
        Ok(x) => Some(x),
        Err(e) => {
            state.apply(stopped(&e));
            None
        }
    }
}

/// Wait (5 s at most) for the recorder to write what is left and close its file.
pub async fn finish(h: Handle) -> Option<Result<Stats, record::Error>> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while !h.is_finished() {
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!("the recorder did not close its file within 5 s");
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    h.join().ok()
}

/// The sources of `clustertop record`: the simulated cluster, or the kube context with its
/// Prometheus and agents. Returns the cluster's label, the updates' channel and what keeps the
/// metrics source's interest alive.
async fn sources(
    ui: &UiFlags,
    k: &KubeFlags,
    f: &RecordFlags,
) -> Result<(String, mpsc::Receiver<Vec<Update>>, Option<watch::Sender<Interest>>)> {
    let (tx, rx) = mpsc::channel(256);
    if f.demo {
        let sim = Sim::new(f.sim.config(ui.settings().tz), Utc::now());
        let label = sim.label();
        let refresh = std::time::Duration::from_secs_f64(ui.refresh);
        tokio::spawn(crate::sources::sim::run(sim, tx, refresh, None));
        return Ok((label, rx, None));
    }
    let sources = ClusterSources::connect(ui, k).await?;
    let (label, interest) = (sources.label.clone(), sources.interest.clone());
    sources.spawn(tx, None);
    Ok((label, rx, Some(interest)))
}

/// `clustertop record`: until `--for` is over, or SIGINT/SIGTERM; then the file is closed.
pub async fn run(ui: &UiFlags, k: &KubeFlags, f: &RecordFlags) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    let (label, mut rx, _interest) = sources(ui, k, f).await?;
    let w = Writer::create(&f.out, &header(&label), Options::default(), Utc::now()).map_err(|e| match e {
        record::Error::Busy(_) | record::Error::OtherCluster { .. } | record::Error::NotARecording(_) => {
            anyhow!(ConfigError(e.to_string()))
        }
        e => anyhow!(e),
    })?;
    let (mut tap, handle) =
        tap::spawn(w, Box::new(Utc::now), Box::new(|_| {})).context("cannot start the recorder")?;
    let until = f.duration.and_then(|d| d.to_std().ok()).map(|d| tokio::time::Instant::now() + d);
    let how = match f.duration {
        Some(d) => format!(
            "for {}",
            crate::format::duration(d.num_seconds().max(0) as u64, crate::format::Precision::Exact)
        ),
        None => "until SIGINT/SIGTERM".into(),
    };
    eprintln!("clustertop record: recording {label} into {} {how}", f.out.display());
    let mut why = "stopped";
    loop {
        tokio::select! {
            b = rx.recv() => match b {
                Some(b) => {
                    if !tokio::task::block_in_place(|| tap.send_wait(Utc::now(), b)) {
                        break;
                    }
                }
                None => break,
            },
            _ = int.recv() => { why = "SIGINT"; break }
            _ = term.recv() => { why = "SIGTERM"; break }
            _ = async { tokio::time::sleep_until(until.unwrap_or_else(tokio::time::Instant::now)).await }, if until.is_some() => {
                why = "done";
                break
            }
        }
    }
    tap.close();
    drop(tap);
    match tokio::task::spawn_blocking(move || handle.join()).await {
        Ok(Ok(Ok(s))) => {
            eprintln!(
                "clustertop record: {why}; {} closed ({} updates in, {} recorded, {} keyframes)",
                f.out.display(),
                s.updates_in,
                s.updates_kept,
                s.keyframes
            );
            Ok(())
        }
        Ok(Ok(Err(e))) => bail!("recording stopped: {e}"),
        _ => bail!("the recorder thread failed"),
    }
}
