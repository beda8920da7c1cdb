//! clustertop's flight recorder: the store's input (`Update`s), thinned to what a view could
//! show, with an hourly keyframe of the whole state, in SQLite; and any recorded moment read back
//! through the same store code (`History::snapshot_at`), with what changed between two moments
//! (`History::changes`) and an incident timeline built on them.
//!
//! No async runtime, terminal or Kubernetes client: the dashboard feeds it from its store task
//! through [`tap::spawn`], `clustertop record` from its sources.

pub mod codec;
mod db;
pub mod diff;
mod host_delta;
pub mod incident;
pub mod reader;
pub mod stream;
pub mod tap;
pub mod thin;
pub mod writer;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clustertop_core::model::Snapshot;

pub use db::{SCHEMA_VERSION, wal_path};
pub use diff::{Change, ChangeKind};
pub use reader::{Recording, Span};
pub use writer::{Options, Stats, Writer};

/// What a recording records: which cluster, through which context, by which clustertop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The label the dashboard shows (a kube context, or `demo (…)`).
    pub cluster: String,
    /// The kube context (the file name of the default recording).
    pub context: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Another recorder writes this file.
    Busy(PathBuf),
    Missing(PathBuf),
    NotARecording(PathBuf),
    NewerSchema {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    /// Written before the encoding changed (`SCHEMA_VERSION`): its frames would not decode.
    OlderSchema {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    OtherCluster {
        path: PathBuf,
        found: Box<Header>,
        wanted: Box<Header>,
    },
    /// SQLite finds the file damaged, or a frame does not decode.
    Damaged {
        path: PathBuf,
        detail: String,
    },
    Db {
        path: PathBuf,
        detail: String,
    },
    Io {
        path: PathBuf,
        detail: String,
    },
    /// The moment is outside every recorded span.
    NotRecorded {
        at: DateTime<Utc>,
        spans: Vec<Span>,
    },
    /// A history other than a recording (Prometheus) could not answer: the reason.
    Unavailable(String),
}

/// Errors of a history (a recording today; Prometheus later).
pub type HistoryError = Error;

fn show(p: &Path) -> String {
    p.display().to_string()
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Busy(p) => write!(f, "{} is being recorded by another clustertop", show(p)),
            Error::Missing(p) => write!(f, "{}: no such recording", show(p)),
            Error::NotARecording(p) => write!(f, "{} is not a clustertop recording", show(p)),
            Error::NewerSchema { path, found, supported } => write!(
                f,
                "{} was written by a newer clustertop (recording schema {found}; this one reads up to \
                 {supported}): upgrade clustertop to read it",
                show(path)
            ),
            Error::OlderSchema { path, found, supported } => write!(
                f,
                "{} was written by an older clustertop (recording schema {found}; this one reads \
                 {supported}): read it with that clustertop, or record to a new file",
                show(path)
            ),
            Error::OtherCluster { path, found, wanted } => write!(
                f,
                "{} records {:?} (context {:?}), not {:?} (context {:?}): use another file",
                show(path),
                found.cluster,
                found.context,
                wanted.cluster,
                wanted.context
            ),
            Error::Damaged { path, detail } => write!(f, "recording {} is damaged: {detail}", show(path)),
            Error::Db { path, detail } => write!(f, "recording {}: {detail}", show(path)),
            Error::Io { path, detail } => write!(f, "recording {}: {detail}", show(path)),
            Error::Unavailable(e) => f.write_str(e),
            Error::NotRecorded { at, spans } => {
                write!(f, "{} is not in the recording", at.format("%Y-%m-%dT%H:%M:%SZ"))?;
                if spans.is_empty() {
                    return write!(f, " (it has no recorded span)");
                }
                let list: Vec<String> = spans.iter().map(Span::label).collect();
                write!(f, "; recorded: {}", list.join(", "))
            }
        }
    }
}

impl std::error::Error for Error {}

/// The past of a cluster: a recording, later Prometheus too.
pub trait History {
    /// The same snapshot the live store built (or would have built) at `t`.
    fn snapshot_at(&self, t: DateTime<Utc>) -> Result<Snapshot, HistoryError>;
    /// The snapshot at `t` and where it came from (`"the recording"`, `"Prometheus"`), for the
    /// screen to say.
    fn snapshot_from(&self, t: DateTime<Utc>) -> Result<(Snapshot, &'static str), HistoryError> {
        self.snapshot_at(t).map(|s| (s, "the recording"))
    }
    /// What changed in `(from, to]`, in time order, at `resolution` at most (between two
    /// samples, changes are dated at the later one).
    fn changes(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        resolution: chrono::Duration,
    ) -> Result<Vec<Change>, HistoryError>;
    /// The spans of time it covers, oldest first.
    fn spans(&self) -> Result<Vec<Span>, HistoryError>;
}

/// `$XDG_STATE_HOME/clustertop/recordings/<context>.db` (`~/.local/state` without it): the
/// default recording of a context. Characters a file name should not have become `_`.
pub fn default_path(context: &str) -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".local/state"))
        })?;
    let name: String = context
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@') { c } else { '_' })
        .collect();
    let name = if name.is_empty() || name.starts_with('.') { format!("_{name}") } else { name };
    Some(state.join("clustertop/recordings").join(format!("{name}.db")))
}

#[cfg(test)]
mod tests;
