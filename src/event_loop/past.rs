//! The past the time cursor moves in, read off the loop: one read at a time on a blocking
//! thread, so keys, live snapshots and redraws go on while SQLite and the replay work (a first
//! read into another hour takes about a second at 5,000 nodes). A seek asked while another read
//! runs replaces any seek still waiting: the latest ask wins, and the model drops answers for
//! moments it no longer wants (`app::rewind::sought`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use clustertop_record::{History, HistoryError};
use tokio::task::JoinHandle;

use crate::app::{DiffList, Found, Msg, Past};

type Shared = Arc<Mutex<Box<dyn History + Send>>>;

/// The past the time cursor moves in: a history (a recording), or why there is none.
pub struct Rewind {
    pub history: Result<Box<dyn History + Send>, String>,
    /// `clustertop replay`: the recording's context (there is no live source).
    pub replay: Option<String>,
}

impl Rewind {
    /// No history, for this reason (the time keys say it).
    pub fn none(why: impl Into<String>) -> Rewind {
        Rewind { history: Err(why.into()), replay: None }
    }
    /// A recording (or another history) behind the live dashboard.
    pub fn history(h: Box<dyn History + Send>) -> Rewind {
        Rewind { history: Ok(h), replay: None }
    }
    pub(super) fn past(&self) -> Past {
        match (&self.history, &self.replay) {
            (Err(why), _) => Past::None(why.clone()),
            (Ok(_), Some(context)) => Past::Replay { context: context.clone() },
            (Ok(_), None) => Past::Recorded,
        }
    }
}

/// A question for the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    Seek { at: DateTime<Utc>, to_start: bool },
    Diff { from: DateTime<Utc>, to: DateTime<Utc> },
}

/// Asks the history one question at a time, off the loop.
pub struct Reader {
    history: Result<Shared, String>,
    running: Option<JoinHandle<Msg>>,
    waiting: VecDeque<Ask>,
}

impl Reader {
    pub fn new(history: Result<Box<dyn History + Send>, String>) -> Reader {
        Reader { history: history.map(|h| Arc::new(Mutex::new(h))), running: None, waiting: VecDeque::new() }
    }

    /// Whether an answer is to come.
    pub fn busy(&self) -> bool {
        self.running.is_some()
    }

    /// Queue a question; a seek replaces a seek that has not started.
    pub fn ask(&mut self, ask: Ask) {
        if matches!(ask, Ask::Seek { .. }) {
            self.waiting.retain(|a| !matches!(a, Ask::Seek { .. }));
        }
        self.waiting.push_back(ask);
        self.start();
    }

    fn start(&mut self) {
        if self.running.is_some() {
            return;
        }
        let Some(ask) = self.waiting.pop_front() else { return };
        let history = self.history.clone();
        self.running = Some(tokio::task::spawn_blocking(move || answer(&history, ask)));
    }

    /// The answer to the question being read (pending until there is one; cancel-safe: nothing
    /// changes until the read has finished).
    pub async fn answer(&mut self) -> Msg {
        let Some(running) = self.running.as_mut() else { return std::future::pending().await };
        let msg = running.await.unwrap_or_else(|e| Msg::Notice(format!("reading the recording failed: {e}")));
        self.running = None;
        self.start();
        msg
    }
}

fn answer(history: &Result<Shared, String>, ask: Ask) -> Msg {
    let h = match history {
        Ok(h) => h.lock().unwrap_or_else(|p| p.into_inner()),
        Err(why) => {
            let notice = format!("no recording ({why})");
            return match ask {
                Ask::Seek { at, .. } => Msg::Sought(at, Err(notice)),
                Ask::Diff { .. } => Msg::Notice(notice),
            };
        }
    };
    match ask {
        Ask::Seek { at, to_start } => Msg::Sought(at, seek(h.as_ref(), at, to_start)),
        Ask::Diff { from, to } => diff(h.as_ref(), from, to),
    }
}

/// The snapshot at `at`; with `to_start`, a moment before the recording is its first moment.
fn seek(h: &(dyn History + Send), at: DateTime<Utc>, to_start: bool) -> Result<Found, String> {
    let found = |t, (s, from)| Found { at: t, snap: Arc::new(s), from };
    match h.snapshot_from(at) {
        Ok(s) => Ok(found(at, s)),
        Err(HistoryError::NotRecorded { spans, .. })
            if to_start && spans.first().is_some_and(|s| at < s.start) =>
        {
            let first = spans[0].start;
            h.snapshot_from(first).map(|s| found(first, s)).map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    }
}

/// What changed in `(from, to]`, with the runtime mixes of the two moments.
fn diff(h: &(dyn History + Send), from: DateTime<Utc>, to: DateTime<Utc>) -> Msg {
    let mut changes = match h.changes(from, to, diff_resolution(from, to)) {
        Ok(c) => c,
        Err(e) => return Msg::Notice(format!("diff: {e}")),
    };
    // Runtime mixes move with every pod scheduled: only between the two moments.
    if let (Ok(a), Ok(b)) = (h.snapshot_at(from), h.snapshot_at(to)) {
        let opts = clustertop_record::diff::DiffOptions { runtime_mix: true };
        let mixes = clustertop_record::diff::diff(&a, &b, &opts)
            .into_iter()
            .filter(|k| matches!(k, clustertop_record::ChangeKind::RuntimeMix { .. }))
            .map(|kind| clustertop_record::Change { at: to, kind });
        changes.extend(mixes);
    }
    changes.sort_by_key(|c| c.at);
    Msg::Changes(DiffList { from, to, changes })
}

/// How finely `:diff` samples the recording: changes shorter than this between two samples may
/// be missed (a flap shorter than it shows as nothing). 1/360 of the span, 1 s to 1 min.
pub fn diff_resolution(from: DateTime<Utc>, to: DateTime<Utc>) -> chrono::Duration {
    ((to - from) / 360).clamp(chrono::Duration::seconds(1), chrono::Duration::minutes(1))
}
