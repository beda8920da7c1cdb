//! Reading a recording: the moment `t` is rebuilt from the last keyframe at or before it, then
//! every recorded batch up to `t` applied in order, through the same store code as live.

use std::cell::{Cell, RefCell};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use clustertop_core::analysis::Settings;
use clustertop_core::model::Snapshot;
use clustertop_core::store::ClusterState;
use rusqlite::{Connection, OptionalExtension, params};

use crate::db::{self, KEYFRAME, TAIL, db_err, from_ms, ms};
use crate::diff::{self, Change, DiffOptions};
use crate::stream::{Batch, StreamDec};
use crate::{Error, Header, History};

/// The start of each recorded span that counts as its starting state in `changes`.
pub const WARM_UP: Duration = Duration::seconds(60);

/// The first moment from `t` on at which span `s` holds a settled state (after its warm-up).
pub fn settled(s: &Span, t: DateTime<Utc>) -> DateTime<Utc> {
    t.max(s.start + WARM_UP).min(s.end)
}

/// One recording session: from its start to the last moment it wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The recorder closed the file (false: it was killed, or is still recording).
    pub closed: bool,
}

impl Span {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t <= self.end
    }
    pub fn label(&self) -> String {
        format!("{} to {}", self.start.format("%Y-%m-%dT%H:%M:%SZ"), self.end.format("%Y-%m-%dT%H:%M:%SZ"))
    }
}

pub struct Recording {
    path: PathBuf,
    conn: Connection,
    header: Header,
    settings: Settings,
    /// States rebuilt by earlier seeks, to start the next one from (the cursor moves a minute
    /// or a quarter of an hour at a time, mostly within one keyframe's hour).
    checkpoints: RefCell<Vec<Checkpoint>>,
    /// The moment of the last seek: one near it is scrubbing, and leaves checkpoints on its way.
    last_seek: Cell<Option<DateTime<Utc>>>,
}

/// The state after every batch of the frames before `next_seq` (from keyframe `k`), the last of
/// them at `at`, with the stream decoder as it was there.
struct Checkpoint {
    k: i64,
    next_seq: i64,
    /// The frames it read, `[k, next_seq)`, as (count, last seq): the recorder compacts and
    /// drops frames while it runs, and a checkpoint whose frames changed is not used.
    read: (i64, i64),
    at: DateTime<Utc>,
    state: ClusterState,
    dec: StreamDec,
}

/// One recorded frame, decompressed.
struct Frame {
    seq: i64,
    t0: i64,
    /// No batch of it is later.
    t1: i64,
    keyframe: bool,
    raw: Vec<u8>,
}

impl Frame {
    fn damaged(&self, path: &Path, detail: impl std::fmt::Display) -> Error {
        Error::Damaged {
            path: path.to_path_buf(),
            detail: format!(
                "frame {} ({}): {detail}; it reads up to there",
                self.seq,
                from_ms(self.t0).format("%Y-%m-%dT%H:%M:%SZ")
            ),
        }
    }

    /// Its batches, decoded in stream order (`dec` carries the CPU curve between frames).
    fn batches(&self, dec: &mut StreamDec, path: &Path) -> Result<Vec<Batch>, Error> {
        dec.frame(&self.raw).map_err(|e| self.damaged(path, e.0))
    }
}

/// At most this many checkpoints are kept (each a copy of the state: about 27 MB at 5,000 nodes
/// and 150,000 pods), at least [`CHECKPOINT_EVERY_S`] of recorded time apart: half an hour of
/// scrubbing near the cursor without going back to the keyframe.
const CHECKPOINTS: usize = 6;
const CHECKPOINT_EVERY_S: i64 = 300;

impl Recording {
    /// Open a recording to read, with the analysis settings to judge it by (windows, time zone,
    /// keep-alive: this machine's, as for a live snapshot).
    pub fn open(path: &Path, settings: Settings) -> Result<Recording, Error> {
        let conn = db::open_read(path)?;
        let header = db::read_header(path, &conn)?;
        Ok(Recording {
            path: path.to_path_buf(),
            conn,
            header,
            settings,
            checkpoints: RefCell::new(Vec::new()),
            last_seek: Cell::new(None),
        })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        db_err(&self.path, e)
    }

    fn span_of(&self, t: DateTime<Utc>) -> Result<Span, Error> {
        let spans = self.spans()?;
        spans.iter().rev().find(|s| s.contains(t)).copied().ok_or(Error::NotRecorded { at: t, spans })
    }

    /// The keyframe to start `t` from: the last one at or before `t` in `t`'s session.
    fn keyframe_for(&self, t: DateTime<Utc>) -> Result<i64, Error> {
        let span = self.span_of(t)?;
        let k: Option<i64> = self
            .conn
            .query_row(
                "SELECT seq FROM frames WHERE kind = ?1 AND t0 <= ?2 AND t0 >= ?3 ORDER BY seq DESC LIMIT 1",
                params![KEYFRAME, ms(t), ms(span.start)],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        k.ok_or_else(|| Error::NotRecorded { at: t, spans: self.spans().unwrap_or_default() })
    }

    /// Every frame from `from` on, in order and decompressed, until `f` breaks.
    fn frames(
        &self,
        from: i64,
        mut f: impl FnMut(Frame) -> Result<ControlFlow<()>, Error>,
    ) -> Result<(), Error> {
        let mut st = self
            .conn
            .prepare("SELECT seq, kind, t0, t1, data FROM frames WHERE seq >= ?1 ORDER BY seq")
            .map_err(|e| self.err(e))?;
        let mut rows = st.query([from]).map_err(|e| self.err(e))?;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let get = |i| row.get::<_, i64>(i);
            let (seq, kind, t0, t1) = (
                get(0).map_err(|e| self.err(e))?,
                get(1).map_err(|e| self.err(e))?,
                get(2).map_err(|e| self.err(e))?,
                get(3).map_err(|e| self.err(e))?,
            );
            let data: Vec<u8> = row.get(4).map_err(|e| self.err(e))?;
            let mut frame = Frame { seq, t0, t1, keyframe: kind == KEYFRAME, raw: Vec::new() };
            frame.raw = if kind == TAIL {
                data
            } else {
                zstd::stream::decode_all(data.as_slice()).map_err(|e| frame.damaged(&self.path, e))?
            };
            if f(frame)?.is_break() {
                break;
            }
        }
        Ok(())
    }

    /// Every batch from keyframe `k` on, in order, until `f` breaks; at the next keyframe, stop
    /// unless `through` (then `f` hears of it: its batch is the whole state).
    fn walk(
        &self,
        k: i64,
        through: bool,
        mut f: impl FnMut(Batch, bool) -> ControlFlow<()>,
    ) -> Result<(), Error> {
        let mut dec = StreamDec::default();
        self.frames(k, |frame| {
            let keyframe = frame.seq > k && frame.keyframe;
            if keyframe && !through {
                return Ok(ControlFlow::Break(()));
            }
            for b in frame.batches(&mut dec, &self.path)? {
                if f(b, keyframe).is_break() {
                    return Ok(ControlFlow::Break(()));
                }
            }
            Ok(ControlFlow::Continue(()))
        })
    }

    /// The store as it was at `t`: from the latest checkpoint of `t`'s keyframe at or before `t`
    /// (else the keyframe), every batch up to `t` applied; checkpoints left on the way.
    fn state_at(&self, t: DateTime<Utc>) -> Result<ClusterState, Error> {
        let k = self.keyframe_for(t)?;
        let start = {
            let cps = self.checkpoints.borrow();
            let best =
                cps.iter().enumerate().filter(|(_, c)| c.k == k && c.at <= t).max_by_key(|(_, c)| c.at);
            best.map(|(i, _)| i).and_then(|i| {
                let c = &cps[i];
                (self.frames_read(k, c.next_seq).ok()? == c.read)
                    .then(|| (c.next_seq, c.state.clone(), c.dec.clone(), c.at))
            })
        };
        let (from_seq, mut state, mut dec, mut last) = match start {
            Some(s) => s,
            None => (
                k,
                ClusterState::new(self.header.cluster.clone(), self.settings.clone()),
                StreamDec::default(),
                from_ms(i64::MIN / 4),
            ),
        };
        let mut next_seq = from_seq;
        let mut inside = false;
        // Checkpoints on the way (each a copy of the state, 100 ms or more at 150,000 pods) only
        // when scrubbing: a jump elsewhere leaves only the checkpoints at `t`.
        let reach = CHECKPOINTS as i64 * CHECKPOINT_EVERY_S * 1000;
        let scrubbing = self.last_seek.replace(Some(t)).is_some_and(|l| (ms(l) - ms(t)).abs() <= reach);
        let recent = if scrubbing { ms(t) - reach } else { i64::MAX };
        self.frames(from_seq, |frame| {
            if frame.seq > k && frame.keyframe {
                return Ok(ControlFlow::Break(()));
            }
            let before = dec.clone();
            let batches;
            (batches, inside) =
                dec.frame_until(&frame.raw, Some(t)).map_err(|e| frame.damaged(&self.path, e.0))?;
            if inside {
                // `t` is inside this frame: the state before it is a checkpoint.
                self.checkpoint(k, frame.seq, last, &state, before)?;
            }
            for b in batches {
                last = b.at;
                b.updates.into_iter().for_each(|u| {
                    state.apply(u);
                });
            }
            if inside {
                return Ok(ControlFlow::Break(()));
            }
            next_seq = frame.seq + 1;
            // On the way, a checkpoint every few minutes: the next seek, a minute back, starts
            // near it instead of at the keyframe. Only within the reach of those kept (the
            // older ones would be dropped at once, after a copy of the state each).
            if frame.t1 >= recent {
                self.checkpoint(k, next_seq, last, &state, dec.clone())?;
            }
            Ok(ControlFlow::Continue(()))
        })?;
        if !inside {
            self.checkpoint(k, next_seq, last, &state, dec)?;
        }
        Ok(state)
    }

    /// Keep a checkpoint of `state` (after the frames before `next_seq`, the last batch at `at`)
    /// unless one of keyframe `k` is near it; the oldest others go first.
    fn checkpoint(
        &self,
        k: i64,
        next_seq: i64,
        at: DateTime<Utc>,
        state: &ClusterState,
        dec: StreamDec,
    ) -> Result<(), Error> {
        let mut cps = self.checkpoints.borrow_mut();
        if cps.iter().any(|c| c.k == k && (c.at - at).num_seconds().abs() < CHECKPOINT_EVERY_S) {
            return Ok(());
        }
        let read = self.frames_read(k, next_seq)?;
        if cps.len() >= CHECKPOINTS {
            cps.remove(0);
        }
        cps.push(Checkpoint { k, next_seq, read, at, state: state.clone(), dec });
        Ok(())
    }

    /// How many frames `[k, next)` holds and the last one's seq.
    fn frames_read(&self, k: i64, next: i64) -> Result<(i64, i64), Error> {
        self.conn
            .query_row(
                "SELECT count(*), coalesce(max(seq), -1) FROM frames WHERE seq >= ?1 AND seq < ?2",
                params![k, next],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(e))
    }

    /// Changes within one session, `(from, to]`.
    fn changes_in(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        step: Duration,
        prev: &mut Option<Snapshot>,
        out: &mut Vec<Change>,
    ) -> Result<(), Error> {
        let k = self.keyframe_for(from)?;
        let mut state = ClusterState::new(self.header.cluster.clone(), self.settings.clone());
        let mut started = false;
        let mut last = from;
        let opts = DiffOptions::default();
        let mut sample = |state: &mut ClusterState, at: DateTime<Utc>, prev: &mut Option<Snapshot>| {
            let snap = state.snapshot(at);
            if let Some(p) = prev.as_ref() {
                out.extend(diff::diff(p, &snap, &opts).into_iter().map(|kind| Change { at, kind }));
            }
            *prev = Some(snap);
        };
        let cluster = self.header.cluster.clone();
        self.walk(k, true, |b, keyframe| {
            if b.at > to {
                return ControlFlow::Break(());
            }
            if keyframe {
                // The whole state again (after lost batches, not only a restatement).
                state = ClusterState::new(cluster.clone(), self.settings.clone());
            }
            if b.at > from && !started {
                started = true;
                sample(&mut state, from, prev);
            }
            b.updates.into_iter().for_each(|u| {
                state.apply(u);
            });
            // After each batch, at most once per step: what changed is dated at the batch.
            if started && b.at - last >= step {
                sample(&mut state, b.at, prev);
                last = b.at;
            }
            ControlFlow::Continue(())
        })?;
        if !started {
            sample(&mut state, from, prev);
        }
        sample(&mut state, to, prev);
        Ok(())
    }
}

impl History for Recording {
    fn snapshot_at(&self, t: DateTime<Utc>) -> Result<Snapshot, Error> {
        let snap = self.state_at(t)?.snapshot(t);
        // A session's first instants, before any source said anything: not an empty cluster.
        if snap.sources.is_empty() {
            return Err(Error::Unavailable(format!(
                "nothing was recorded yet at {}: the recording had started, no source had reported",
                t.format("%Y-%m-%dT%H:%M:%SZ")
            )));
        }
        Ok(snap)
    }

    fn changes(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        resolution: Duration,
    ) -> Result<Vec<Change>, Error> {
        let mut out = Vec::new();
        let mut prev = None;
        let step = resolution.max(Duration::milliseconds(1));
        for s in self.spans()? {
            // What a recording learns in its first minute (the sources' first lists and reports)
            // is its starting state, not a change: "source absent → ok" and findings "first seen"
            // as the data arrives would be noise in every diff and incident that reaches back
            // to the start.
            let (a, b) = (settled(&s, from), to.min(s.end));
            if a <= b {
                self.changes_in(a, b, step, &mut prev, &mut out)?;
            }
        }
        if prev.is_none() {
            return Err(Error::NotRecorded { at: from, spans: self.spans()? });
        }
        Ok(out)
    }

    fn spans(&self) -> Result<Vec<Span>, Error> {
        let mut st = self
            .conn
            .prepare("SELECT start, end, closed FROM sessions ORDER BY start, id")
            .map_err(|e| self.err(e))?;
        let rows = st.query_map([], |r| {
            Ok(Span { start: from_ms(r.get(0)?), end: from_ms(r.get(1)?), closed: r.get::<_, i64>(2)? != 0 })
        });
        rows.and_then(|r| r.collect()).map_err(|e| self.err(e))
    }
}
