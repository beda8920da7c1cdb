//! `clustertop replay FILE`: the TUI on a recording, read-only, with no cluster source. The end
//! of the recording plays the part of "live" (the cursor starts there; Esc comes back to it).

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use clustertop_record::{History, Recording};
use tokio::sync::watch;

use super::{Options, Rewind, run_rewindable};
use crate::analysis::Settings;
use crate::model::Snapshot;

/// Open the recording and build its last moment: the errors (no such file, not a recording,
/// damaged) come before the terminal is taken.
pub fn open(path: &Path, settings: Settings) -> Result<(Recording, Snapshot)> {
    let rec = Recording::open(path, settings).map_err(|e| anyhow!("{e}"))?;
    let spans = rec.spans().map_err(|e| anyhow!("{e}"))?;
    let end =
        spans.last().map(|s| s.end).ok_or_else(|| anyhow!("{} has no recorded moment", path.display()))?;
    let snap =
        rec.snapshot_at(end).map_err(|e| anyhow!("{e}")).context("reading the end of the recording")?;
    Ok((rec, snap))
}

/// The snapshots the loop reads (the live ones; in a replay, the end of the recording only).
pub type Snapshots = watch::Receiver<Option<Arc<Snapshot>>>;

/// The replay's pieces for the loop: the end snapshot on a channel whose sender the caller
/// keeps (nothing else is ever sent), and the recording as the past.
pub fn channel(rec: Recording, end: Snapshot) -> (watch::Sender<Option<Arc<Snapshot>>>, Snapshots, Rewind) {
    let context = rec.header().context.clone();
    let (tx, rx) = watch::channel(Some(Arc::new(end)));
    (tx, rx, Rewind { history: Ok(Box::new(rec)), replay: Some(context) })
}

pub async fn run(path: &Path, settings: Settings, opts: Options) -> Result<()> {
    let (rec, end) = open(path, settings)?;
    let (tx, rx, rewind) = channel(rec, end);
    let r = run_rewindable(rx, opts, rewind).await;
    drop(tx);
    r
}
