//! Prometheus as a `History`: `report incident --prometheus URL` for a moment nobody recorded.
//! A moment is the snapshot `history::updates_at` rebuilds; what changed between two moments is
//! the difference between snapshots sampled a step apart (a minute at the finest: Prometheus
//! holds a sample a scrape interval, and every step costs a round of instant queries).

use chrono::{DateTime, Duration, Utc};
use clustertop_record::diff::{self, Change, DiffOptions};
use clustertop_record::{History, HistoryError, Span};

use super::{Backend, PromOptions, history};
use crate::analysis::Settings;
use crate::model::Snapshot;
use crate::store::ClusterState;

/// The finest step between two moments compared.
pub const MIN_STEP: Duration = Duration::minutes(1);

pub struct PromHistory {
    pub backend: Backend,
    pub opts: PromOptions,
    pub rack_label: String,
    pub settings: Settings,
    /// The name snapshots carry (`prometheus URL`).
    pub cluster: String,
    /// Always `Some` until dropped (see `Drop`).
    rt: Option<tokio::runtime::Runtime>,
}

impl PromHistory {
    pub fn new(
        backend: Backend,
        opts: PromOptions,
        rack_label: String,
        settings: Settings,
    ) -> Result<PromHistory, String> {
        let cluster = format!("prometheus {}", backend.url);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the runtime: {e}"))?;
        Ok(PromHistory { backend, opts, rack_label, settings, cluster, rt: Some(rt) })
    }

    fn at(&self, t: DateTime<Utc>, with_curve: bool) -> Result<Snapshot, HistoryError> {
        let rt = self.rt.as_ref().ok_or_else(|| HistoryError::Unavailable("shut down".into()))?;
        let updates = rt
            .block_on(history::updates_at(&self.backend, &self.opts, &self.rack_label, t, with_curve))
            .map_err(|e| {
                let t = t.format("%Y-%m-%dT%H:%M:%SZ");
                HistoryError::Unavailable(format!("Prometheus at {} (moment {t}): {e}", self.backend.url))
            })?;
        let mut state = ClusterState::new(self.cluster.clone(), self.settings.clone());
        for u in updates {
            state.apply(u);
        }
        Ok(state.snapshot(t))
    }
}

/// The dashboard drops its history on the async loop, where dropping a runtime (which waits for
/// its blocking threads) panics: it is shut down without waiting instead.
impl Drop for PromHistory {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl History for PromHistory {
    fn snapshot_at(&self, t: DateTime<Utc>) -> Result<Snapshot, HistoryError> {
        self.at(t, true)
    }
    fn snapshot_from(&self, t: DateTime<Utc>) -> Result<(Snapshot, &'static str), HistoryError> {
        self.at(t, true).map(|s| (s, "Prometheus"))
    }

    /// Snapshots a step apart (`resolution`, a minute at least), each compared with the one before;
    /// a change is dated at the later sample.
    fn changes(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        resolution: Duration,
    ) -> Result<Vec<Change>, HistoryError> {
        let step = resolution.max(MIN_STEP);
        let opts = DiffOptions::default();
        let mut out = Vec::new();
        let mut prev = self.at(from, false)?;
        let mut t = from;
        while t < to {
            t = (t + step).min(to);
            let snap = self.at(t, false)?;
            out.extend(diff::diff(&prev, &snap, &opts).into_iter().map(|kind| Change { at: t, kind }));
            prev = snap;
        }
        Ok(out)
    }

    /// Whatever the server holds: its retention is not asked, a moment it no longer holds has
    /// no nodes.
    fn spans(&self) -> Result<Vec<Span>, HistoryError> {
        Ok(vec![Span { start: DateTime::<Utc>::MIN_UTC, end: Utc::now(), closed: false }])
    }
}

/// The dashboard's past: its recording first, and Prometheus for a moment the recording does not
/// hold (before it started, or while no dashboard ran).
pub struct Layered {
    pub recording: Option<Box<dyn History + Send>>,
    pub prometheus: PromHistory,
}

impl Layered {
    /// `ask` of the recording, or of Prometheus where the recording does not hold the moment.
    fn either<T>(&self, ask: impl Fn(&dyn History) -> Result<T, HistoryError>) -> Result<T, HistoryError> {
        match self.recording.as_deref().map(|r| ask(r)) {
            None | Some(Err(HistoryError::NotRecorded { .. })) => ask(&self.prometheus),
            Some(r) => r,
        }
    }
}

impl History for Layered {
    fn snapshot_at(&self, t: DateTime<Utc>) -> Result<Snapshot, HistoryError> {
        self.snapshot_from(t).map(|(s, _)| s)
    }
    fn snapshot_from(&self, t: DateTime<Utc>) -> Result<(Snapshot, &'static str), HistoryError> {
        self.either(|h| h.snapshot_from(t))
    }
    fn changes(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        resolution: Duration,
    ) -> Result<Vec<Change>, HistoryError> {
        self.either(|h| h.changes(from, to, resolution))
    }
    fn spans(&self) -> Result<Vec<Span>, HistoryError> {
        self.prometheus.spans()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dashboard builds and drops its Prometheus history on the async loop.
    #[tokio::test]
    async fn made_and_dropped_on_an_async_task() {
        let q = super::super::queries::Queries::new(
            None,
            "topology.kubernetes.io/zone",
            super::super::queries::offline_pods(&["koord-batch".into()], &[]),
            &Default::default(),
        )
        .expect("queries");
        let opts = super::super::BackendOptions {
            url: "http://127.0.0.1:9".into(),
            auth: None,
            timeout: std::time::Duration::from_secs(1),
        };
        let b = Backend::new(&opts, q).expect("backend");
        let h = PromHistory::new(b, PromOptions::default(), "zone".into(), Settings::default());
        drop(h);
    }
}
