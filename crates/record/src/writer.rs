//! Writing a recording: what the thinner keeps is encoded into the tail, written once a second
//! (one transaction); every few minutes the tail is compacted into one zstd chunk; every hour the
//! whole state is written as a keyframe, and the oldest frames beyond the age and size bounds are
//! dropped, a keyframe interval at a time. The state comes from the recorder's own store (what it
//! kept, applied) or, beside the dashboard's store, from that store when asked
//! ([`Writer::keyframes_from_store`]): a second copy of 150,000 pods cost the dashboard about
//! 50 MB of resident memory.

use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, Utc};
use clustertop_core::analysis::Settings;
use clustertop_core::model::{SourceId, Update};
use clustertop_core::store::ClusterState;
use rusqlite::{Connection, OptionalExtension, params};

use crate::codec::Enc;
use crate::db::{self, CHUNK, KEYFRAME, TAIL, db_err, ms};
use crate::stream::StreamEnc;
use crate::thin::{Refresh, Thinner};
use crate::{Error, Header};

#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Frames older than this are dropped (default 7 days).
    pub max_age: Duration,
    /// The file and its WAL are kept under this (default 1 GiB): pages in use under 7/8 of it,
    /// the WAL under a sixteenth (at most 4 MiB).
    pub max_bytes: u64,
    /// How much a crash may lose: the tail is written this often (default 1 s).
    pub flush_every: Duration,
    pub compact_every: Duration,
    /// Bounds the replay behind `snapshot_at` (default 1 h).
    pub keyframe_every: Duration,
    pub refresh: Refresh,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_age: Duration::days(7),
            max_bytes: 1 << 30,
            flush_every: Duration::seconds(1),
            compact_every: Duration::minutes(5),
            keyframe_every: Duration::hours(1),
            refresh: Refresh::default(),
        }
    }
}

/// What the recorder did, for benchmarks and the log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub updates_in: u64,
    pub updates_kept: u64,
    pub keyframes: u64,
    /// Encoded bytes before compression.
    pub raw_bytes: u64,
    /// Frames dropped by the bounds.
    pub pruned_frames: u64,
}

/// Where the keyframes' state comes from.
enum Keyframes {
    /// What was kept, applied to a store of the writer's own.
    Own(Box<ClusterState>),
    /// The feeder's store: the flag is set when a keyframe is due, until the store's state
    /// arrives (`resync`).
    Store(Arc<AtomicBool>),
}

pub struct Writer {
    // Closed before the lock is released (fields drop in order).
    conn: Connection,
    _lock: File,
    path: PathBuf,
    opts: Options,
    keyframes: Keyframes,
    /// The store was asked for its state and has not given it yet.
    asked: bool,
    thin: Thinner,
    senc: StreamEnc,
    pending: Enc,
    pending_t0: Option<DateTime<Utc>>,
    last_at: Option<DateTime<Utc>>,
    session: i64,
    last_flush: DateTime<Utc>,
    last_compact: DateTime<Utc>,
    last_keyframe: DateTime<Utc>,
    last_end: DateTime<Utc>,
    stats: Stats,
}

/// The file, created 0600 (and its directory 0700), locked for this recorder alone.
fn lock(path: &Path) -> Result<File, Error> {
    let io = |e: std::io::Error| Error::Io { path: path.to_path_buf(), detail: e.to_string() };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io)?;
    }
    let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).mode(0o600).open(path);
    let file = file.map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Err(Error::Busy(path.to_path_buf())),
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    Ok(file)
}

impl Writer {
    /// Start a recording session in `path` (created, or appended to when it records the same
    /// cluster) at `now`. `Error::Busy` when another recorder has the file.
    pub fn create(path: &Path, header: &Header, opts: Options, now: DateTime<Utc>) -> Result<Writer, Error> {
        let lock = lock(path)?;
        let conn = db::open_write(path, header)?;
        let e = |x| db_err(path, x);
        // The WAL is folded into the file every 1/16 of the size bound (at most 4 MiB) and cut
        // back to that size, so the two together stay within the bound and a sixteenth.
        let wal = (opts.max_bytes / 16).clamp(64 << 10, 4 << 20);
        conn.execute_batch(&format!(
            "PRAGMA journal_size_limit = {wal}; PRAGMA wal_autocheckpoint = {};",
            (wal / 4096).max(16)
        ))
        .map_err(e)?;
        conn.execute(
            "INSERT INTO sessions (start, end, version) VALUES (?1, ?1, ?2)",
            params![ms(now), header.version],
        )
        .map_err(e)?;
        let session = conn.last_insert_rowid();
        let mut w = Writer {
            conn,
            _lock: lock,
            path: path.to_path_buf(),
            opts,
            keyframes: Keyframes::Own(Box::new(ClusterState::new(
                header.cluster.clone(),
                Settings::default(),
            ))),
            asked: false,
            thin: Thinner::new(opts.refresh),
            senc: StreamEnc::default(),
            pending: Enc::default(),
            pending_t0: None,
            last_at: None,
            session,
            last_flush: now,
            last_compact: now,
            last_keyframe: now,
            last_end: now,
            stats: Stats::default(),
        };
        // Every session starts from a keyframe (here: nothing known yet).
        let empty = ClusterState::new(header.cluster.clone(), Settings::default()).keyframe();
        w.keyframe(now, &empty)?;
        Ok(w)
    }

    /// From now on the keyframes come from the feeder's store, not from a state of the writer's
    /// own: when one is due the flag is set, and the feeder answers with `resync` (its whole
    /// state), as after a lost batch.
    pub fn keyframes_from_store(&mut self) -> Arc<AtomicBool> {
        let want = Arc::new(AtomicBool::new(false));
        self.keyframes = Keyframes::Store(want.clone());
        want
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        db_err(&self.path, e)
    }

    /// Record one batch the store received at `at` (times never go back: an earlier `at` counts
    /// as the last one).
    pub fn record(&mut self, at: DateTime<Utc>, updates: &[Update]) -> Result<(), Error> {
        let at = self.last_at.map_or(at, |l| at.max(l));
        self.last_at = Some(at);
        self.stats.updates_in += updates.len() as u64;
        // Pods borrowed, not copied (the first batch is the whole cluster's).
        let mut kept: Vec<Cow<Update>> = updates.iter().filter_map(|u| self.thin.keep(u, at)).collect();
        for u in &mut kept {
            if matches!(**u, Update::Host { .. }) {
                crate::thin::quantize(u.to_mut());
            }
        }
        if !kept.is_empty() {
            self.stats.updates_kept += kept.len() as u64;
            self.senc.batch(&mut self.pending, at, &kept);
            self.pending_t0.get_or_insert(at);
            if let Keyframes::Own(m) = &mut self.keyframes {
                kept.into_iter().for_each(|u| {
                    m.apply(u.into_owned());
                });
            }
        }
        self.tick(at)
    }

    /// Replace the recorder's state by `keyframe` (the store's: after batches were lost on the
    /// way, or asked for when a keyframe was due): written as a keyframe at `at`.
    pub fn resync(&mut self, at: DateTime<Utc>, keyframe: Vec<Update>) -> Result<(), Error> {
        let at = self.last_at.map_or(at, |l| at.max(l));
        self.last_at = Some(at);
        self.flush(at)?;
        self.thin.reset();
        let kept: Vec<Update> = keyframe
            .into_iter()
            .filter_map(|mut u| {
                crate::thin::quantize(&mut u);
                (self.thin.keep(&u, at).is_some()
                    || !matches!(u, Update::Health { source: SourceId::Recorder, .. }))
                .then_some(u)
            })
            .collect();
        self.compact()?;
        self.keyframe(at, &kept)?;
        if let Keyframes::Own(m) = &mut self.keyframes {
            **m = ClusterState::new(m.cluster.clone(), Settings::default());
            kept.into_iter().for_each(|u| {
                m.apply(u);
            });
        }
        Ok(())
    }

    /// Write, compact, keyframe and prune as they fall due at `now`.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Result<(), Error> {
        let now = self.last_at.map_or(now, |l| now.max(l));
        if now - self.last_keyframe >= self.opts.keyframe_every && !self.asked {
            self.flush(now)?;
            self.compact()?;
            match &self.keyframes {
                Keyframes::Own(m) => {
                    let k = m.keyframe();
                    self.keyframe(now, &k)?;
                }
                // The store's state comes before its next batch.
                Keyframes::Store(w) => {
                    w.store(true, Ordering::Relaxed);
                    self.asked = true;
                }
            }
            self.prune(now)?;
            // The hour's big transactions grew the WAL: fold it in and cut it to nothing (a
            // reader in the way only delays this to the next hour).
            let _ = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        } else if now - self.last_compact >= self.opts.compact_every {
            self.flush(now)?;
            self.compact()?;
            self.prune(now)?;
        } else if now - self.last_flush >= self.opts.flush_every {
            self.last_flush = now;
            // Nothing new: say how far the session got every 10 s only.
            if !self.pending.buf.is_empty() || now - self.last_end >= Duration::seconds(10) {
                self.flush(now)?;
            }
        }
        Ok(())
    }

    /// The tail so far, and how far the session got, in one transaction.
    pub fn flush(&mut self, now: DateTime<Utc>) -> Result<(), Error> {
        let now = self.last_at.map_or(now, |l| now.max(l));
        self.last_flush = now;
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        if let Some(t0) = self.pending_t0.take() {
            let data = std::mem::take(&mut self.pending.buf);
            self.stats.raw_bytes += data.len() as u64;
            tx.execute(
                "INSERT INTO frames (kind, t0, t1, data) VALUES (?1, ?2, ?3, ?4)",
                params![TAIL, ms(t0), ms(now), data],
            )
            .map_err(|e| self.err(e))?;
        }
        tx.execute("UPDATE sessions SET end = ?1 WHERE id = ?2", params![ms(now), self.session])
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        self.last_end = now;
        Ok(())
    }

    /// The tail's rows as one compressed chunk. Read one row at a time, by rowid: asked for in
    /// one query, in seq order, SQLite sorted the rows with their data (the index it uses is by
    /// kind and time), and the first compaction after the initial sync of 150,000 pods (a 12 MB
    /// tail) took about 80 MB of SQLite's memory at the dashboard's peak.
    fn compact(&mut self) -> Result<(), Error> {
        self.last_compact = self.last_at.unwrap_or(self.last_compact);
        let seqs: Vec<i64> = {
            let mut st = self
                .conn
                .prepare("SELECT seq FROM frames WHERE kind = ?1 ORDER BY seq")
                .map_err(|e| self.err(e))?;
            let rows = st.query_map([TAIL], |r| r.get(0));
            rows.and_then(|r| r.collect::<rusqlite::Result<_>>()).map_err(|e| self.err(e))?
        };
        let (Some(&seq0), Some(&seq1)) = (seqs.first(), seqs.last()) else { return Ok(()) };
        let (mut raw, mut t0, mut t1) = (Vec::new(), None, 0i64);
        {
            let mut st = self
                .conn
                .prepare("SELECT t0, t1, data FROM frames WHERE seq = ?1")
                .map_err(|e| self.err(e))?;
            for seq in seqs {
                st.query_row([seq], |r| {
                    t0.get_or_insert(r.get::<_, i64>(0)?);
                    t1 = r.get(1)?;
                    let data = r.get_ref(2)?;
                    let blob = data.as_blob().map_err(|e| {
                        rusqlite::Error::FromSqlConversionFailure(2, data.data_type(), Box::new(e))
                    })?;
                    raw.extend_from_slice(blob);
                    Ok(())
                })
                .map_err(|e| self.err(e))?;
            }
        }
        let t0 = t0.unwrap_or_default();
        let data = compress(&raw, &self.path)?;
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        tx.execute("DELETE FROM frames WHERE kind = ?1 AND seq BETWEEN ?2 AND ?3", params![TAIL, seq0, seq1])
            .map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO frames (seq, kind, t0, t1, data) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![seq0, CHUNK, t0, t1, data],
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        // The raw tail's pages go back to the file system.
        db::vacuum(&self.conn).map_err(|e| self.err(e))
    }

    fn keyframe(&mut self, now: DateTime<Utc>, state: &[Update]) -> Result<(), Error> {
        self.last_keyframe = now;
        self.last_compact = now;
        // Whatever asked for it is answered.
        self.asked = false;
        if let Keyframes::Store(w) = &self.keyframes {
            w.store(false, Ordering::Relaxed);
        }
        self.senc = StreamEnc::default();
        let mut e = Enc::default();
        self.senc.batch(&mut e, now, state);
        self.stats.raw_bytes += e.buf.len() as u64;
        self.stats.keyframes += 1;
        let data = compress(&e.buf, &self.path)?;
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO frames (kind, t0, t1, data) VALUES (?1, ?2, ?2, ?3)",
            params![KEYFRAME, ms(now), data],
        )
        .map_err(|e| self.err(e))?;
        tx.execute("UPDATE sessions SET end = ?1 WHERE id = ?2", params![ms(now), self.session])
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// Drop the oldest keyframe intervals beyond the age bound, then while over the size bound
    /// (never the newest keyframe and what follows it).
    fn prune(&mut self, now: DateTime<Utc>) -> Result<(), Error> {
        let cutoff = ms(now - self.opts.max_age);
        let first_kept: Option<i64> = self
            .conn
            .query_row(
                "SELECT seq FROM frames WHERE kind = ?1 AND t0 >= ?2 ORDER BY seq LIMIT 1",
                params![KEYFRAME, cutoff],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        if let Some(k) = first_kept {
            self.drop_before(k)?;
        }
        loop {
            // Pages in use within 7/8 of the bound: the WAL (a sixteenth) and pages not yet
            // given back keep the file on disk within it.
            let used = db::used_bytes(&self.conn).map_err(|e| self.err(e))?;
            if used <= self.opts.max_bytes / 8 * 7 {
                break;
            }
            // The second keyframe: everything before it goes.
            let second: Option<i64> = self
                .conn
                .query_row(
                    "SELECT seq FROM frames WHERE kind = ?1 ORDER BY seq LIMIT 1 OFFSET 1",
                    [KEYFRAME],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| self.err(e))?;
            let Some(k) = second else { break };
            self.drop_before(k)?;
        }
        Ok(())
    }

    fn drop_before(&mut self, seq: i64) -> Result<(), Error> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let t0: i64 = tx
            .query_row("SELECT t0 FROM frames WHERE seq = ?1", [seq], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let n = tx.execute("DELETE FROM frames WHERE seq < ?1", [seq]).map_err(|e| self.err(e))?;
        tx.execute("DELETE FROM sessions WHERE end < ?1", [t0]).map_err(|e| self.err(e))?;
        tx.execute("UPDATE sessions SET start = ?1 WHERE start < ?1", [t0]).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        if n > 0 {
            self.stats.pruned_frames += n as u64;
            db::vacuum(&self.conn).map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// Write what is left and mark the session closed.
    pub fn close(mut self) -> Result<(), Error> {
        let now = self.last_at.unwrap_or(self.last_end).max(self.last_end);
        self.flush(now)?;
        self.compact()?;
        self.conn
            .execute("UPDATE sessions SET closed = 1 WHERE id = ?1", [self.session])
            .map_err(|e| self.err(e))?;
        let _ = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        Ok(())
    }
}

/// zstd level 9: a tenth smaller than the default level 3 at 5,000 nodes, for no measurable CPU
/// (the examples/bench figures in the README).
fn compress(raw: &[u8], path: &Path) -> Result<Vec<u8>, Error> {
    zstd::bulk::compress(raw, 9)
        .map_err(|e| Error::Io { path: path.to_path_buf(), detail: format!("compress: {e}") })
}
