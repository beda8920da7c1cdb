//! The Prometheus source (any PromQL-compatible backend): the CPU curve with its online/offline
//! split, per-node CPU, conntrack and BGP metrics, and pods with their runtime classes when the pod
//! watch cannot supply them. Every query is aggregated on the server and has a client timeout;
//! the refresh loop runs on its own task and never blocks the UI.
//!
//! Health scopes: `""` is the backend itself (unreachable, or ok); `cpu`, `conntrack` and `bgp`
//! say `no data` with the reason when their queries return nothing, so the panel that needs them
//! can say why it is empty.

pub mod as_history;
pub mod backend;
pub mod history;
pub mod map;
pub mod queries;
pub mod sandbox;
pub mod scheme;
mod templates;

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};

pub use self::backend::{Backend, BackendOptions, QueryError};
use crate::model::Update;
use crate::model::{SourceHealth, SourceId};

/// Step of the CPU curve (the range query's resolution).
pub const CURVE_STEP_S: i64 = 300;
/// History fetched unless the UI asks for more (the 7-day zoom).
pub const DEFAULT_HISTORY_S: i64 = 86_400;
/// At most this much is fetched before the history shown, so the earliest window occurrence on
/// screen (and its pre-window baseline) has all its data (`colocation::needed` says how much;
/// without windows, all of it).
pub const LOOKBACK_S: i64 = 86_400;

/// What the UI is looking at, so the source fetches only that: the 7-day history only while the
/// 7-day zoom is on, one node's curve only while its detail is open, pods only when the pod watch
/// cannot supply them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interest {
    pub history_s: i64,
    pub node: Option<String>,
    pub pods: bool,
}

impl Default for Interest {
    fn default() -> Self {
        Interest { history_s: DEFAULT_HISTORY_S, node: None, pods: false }
    }
}

#[derive(Debug, Clone)]
pub struct PromOptions {
    /// Seconds between refreshes of the instant metrics.
    pub refresh: Duration,
    /// The curve changes every 5 minutes; it is refetched at most this often.
    pub curve_every: Duration,
    pub offline_priority_classes: BTreeSet<String>,
    /// The colocation windows and their zone: the per-rack curves are fetched only around the
    /// occurrences of the last 24 h (they cost per node and step). Without windows, over the
    /// whole history.
    pub windows: Vec<crate::model::Window>,
    pub tz: chrono_tz::Tz,
}

impl Default for PromOptions {
    fn default() -> Self {
        PromOptions {
            refresh: Duration::from_secs(15),
            curve_every: Duration::from_secs(60),
            offline_priority_classes: ["koord-batch", "koord-free"].into_iter().map(String::from).collect(),
            windows: Vec::new(),
            tz: chrono_tz::Tz::UTC,
        }
    }
}

fn health(scope: &str, h: SourceHealth, at: DateTime<Utc>) -> Update {
    Update::Health { source: SourceId::Prometheus, scope: scope.into(), health: h, at }
}

fn family(scope: &str, notes: &[String], got_any: bool, at: DateTime<Utc>) -> Update {
    let h = if got_any {
        SourceHealth::Ok
    } else {
        let reason =
            if notes.is_empty() { "the queries returned no series".into() } else { notes.join("; ") };
        SourceHealth::NoData { reason }
    };
    health(scope, h, at)
}

/// One refresh: the updates to send, or the transport error that made the backend unreachable.
pub async fn refresh(
    b: &Backend,
    opts: &PromOptions,
    interest: &Interest,
    with_curve: bool,
    now: DateTime<Utc>,
) -> Result<Vec<Update>, String> {
    let at = now.timestamp();
    let mut out = Vec::new();
    let detected = b.detect(at).await.map_err(|e| e.to_string())?;
    out.push(Update::Note { source: SourceId::Prometheus, scope: String::new(), note: detected.describe() });
    let (nodes, notes) = b.node_metrics(at).await.map_err(|e| e.to_string())?;
    let conntrack = nodes.values().any(|m| m.conntrack.is_some());
    let bgp = nodes.values().any(|m| m.bgp.is_some());
    let ct_notes: Vec<String> = notes.iter().filter(|n| n.starts_with("conntrack")).cloned().collect();
    let bgp_notes: Vec<String> = notes.iter().filter(|n| n.starts_with("bgp")).cloned().collect();
    out.push(family("conntrack", &ct_notes, conntrack, now));
    if bgp {
        out.push(family("bgp", &bgp_notes, true, now));
    } else {
        // Clusters without BGP have no BGP metrics: not an error.
        out.push(health("bgp", SourceHealth::NotInstalled, now));
    }
    out.extend(nodes.into_iter().map(|(node, metrics)| Update::NodeMetrics { node, metrics, at: now }));
    if with_curve {
        // The history shown, back to the baseline of a window occurrence straddling its start;
        // the racks only around the last 24 h's occurrences. Without windows: a day more.
        let (span, racks) = if opts.windows.is_empty() {
            (interest.history_s + LOOKBACK_S, None)
        } else {
            use crate::analysis::colocation::needed;
            let ago = |s: i64| now - chrono::Duration::seconds(s);
            let (from, _) = needed(&opts.windows, opts.tz, ago(interest.history_s), now);
            let (_, r) = needed(&opts.windows, opts.tz, ago(DEFAULT_HISTORY_S), now);
            let racks = r.map(|(a, z)| (a.timestamp(), z.timestamp())).unwrap_or((at, at));
            ((now - from).num_seconds().max(interest.history_s), Some(racks))
        };
        let f = b.curve_racks(now, span, CURVE_STEP_S, racks).await.map_err(|e| e.to_string())?;
        // An hour's sandbox starts move little in a minute, and the per-node quantiles cost per
        // node, handler and bucket: fetched with the curve, once a minute.
        let starts = sandbox::fetch(b, at).await.map_err(|e| e.to_string())?;
        out.push(Update::KubeletStarts { window: sandbox::WINDOW.into(), starts });
        out.push(family("cpu", &f.notes, f.curve.is_some(), now));
        if let Some(c) = f.curve {
            out.push(Update::Cpu(c));
        }
    }
    if let Some(node) = &interest.node {
        let pts = b.node_util(node, at, DEFAULT_HISTORY_S, CURVE_STEP_S).await.map_err(|e| e.to_string())?;
        out.push(Update::NodeCpu { node: node.clone(), points: pts });
    }
    if interest.pods {
        let pods = b.pods(at, &opts.offline_priority_classes).await.map_err(|e| e.to_string())?;
        out.push(Update::MetricPods(pods));
    }
    out.push(health("", SourceHealth::Ok, now));
    Ok(out)
}

/// Refresh until the receiver is gone. A failed refresh marks the backend unreachable and keeps
/// the last data (the store shows its age); the next success replaces it.
pub async fn run(
    b: Backend,
    opts: PromOptions,
    tx: mpsc::Sender<Vec<Update>>,
    mut interest: watch::Receiver<Interest>,
) {
    let mut last_curve: Option<(std::time::Instant, Interest)> = None;
    let mut tick = tokio::time::interval(opts.refresh.max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            r = interest.changed() => { if r.is_err() { return; } }
            _ = tx.closed() => return,
        }
        let want = interest.borrow_and_update().clone();
        let with_curve = match &last_curve {
            None => true,
            Some((t, i)) => t.elapsed() >= opts.curve_every || i.history_s != want.history_s,
        };
        let now = Utc::now();
        let started = std::time::Instant::now();
        let queries = backend::NODE_QUERIES.len()
            + if with_curve { backend::CURVE_QUERIES.len() } else { 0 }
            + usize::from(want.node.is_some())
            + if want.pods { 2 } else { 0 };
        let result = refresh(&b, &opts, &want, with_curve, now).await;
        tracing::info!(
            "prometheus refresh: {queries} queries in {:.0} ms",
            started.elapsed().as_secs_f64() * 1e3
        );
        let updates = match result {
            Ok(u) => {
                if with_curve {
                    last_curve = Some((std::time::Instant::now(), want));
                }
                u
            }
            Err(e) => {
                let error = format!("{}: {e}", b.url);
                vec![health("", SourceHealth::Unreachable { error }, now)]
            }
        };
        if tx.send(updates).await.is_err() {
            return;
        }
    }
}
