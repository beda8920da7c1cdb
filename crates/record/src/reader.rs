//! Reading a recording: the moment `t` is rebuilt from the last keyframe at or before it, then
//! every recorded batch up to `t` applied in order, through the same store code as live.

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
}

impl Recording {
    /// Open a recording to read, with the analysis settings to judge it by (windows, time zone,
    /// keep-alive: this machine's, as for a live snapshot).
    pub fn open(path: &Path, settings: Settings) -> Result<Recording, Error> {
        let conn = db::open_read(path)?;
        let header = db::read_header(path, &conn)?;
        Ok(Recording { path: path.to_path_buf(), conn, header, settings })
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

    /// Every batch from keyframe `k` on, in order, until `f` breaks; at the next keyframe, stop
    /// unless `through` (then `f` hears of it: its batch is the whole state).
    fn walk(
        &self,
        k: i64,
        through: bool,
        mut f: impl FnMut(Batch, bool) -> ControlFlow<()>,
    ) -> Result<(), Error> {
        let mut st = self
            .conn
            .prepare("SELECT seq, kind, t0, data FROM frames WHERE seq >= ?1 ORDER BY seq")
            .map_err(|e| self.err(e))?;
        let mut rows = st.query([k]).map_err(|e| self.err(e))?;
        let mut dec = StreamDec::default();
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let get = |i| row.get::<_, i64>(i);
            let (seq, kind, t0) = (
                get(0).map_err(|e| self.err(e))?,
                get(1).map_err(|e| self.err(e))?,
                get(2).map_err(|e| self.err(e))?,
            );
            let keyframe = seq > k && kind == KEYFRAME;
            if keyframe && !through {
                break;
            }
            let data: Vec<u8> = row.get(3).map_err(|e| self.err(e))?;
            let damaged = |detail: String| Error::Damaged {
                path: self.path.clone(),
                detail: format!(
                    "frame {seq} ({}): {detail}; it reads up to there",
                    from_ms(t0).format("%Y-%m-%dT%H:%M:%SZ")
                ),
            };
            let raw = if kind == TAIL {
                data
            } else {
                zstd::stream::decode_all(data.as_slice()).map_err(|e| damaged(e.to_string()))?
            };
            for b in dec.frame(&raw).map_err(|e| damaged(e.0))? {
                if f(b, keyframe).is_break() {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// The store as it was at `t`.
    fn state_at(&self, t: DateTime<Utc>) -> Result<ClusterState, Error> {
        let k = self.keyframe_for(t)?;
        let mut state = ClusterState::new(self.header.cluster.clone(), self.settings.clone());
        self.walk(k, false, |b, _| {
            if b.at > t {
                return ControlFlow::Break(());
            }
            b.updates.into_iter().for_each(|u| {
                state.apply(u);
            });
            ControlFlow::Continue(())
        })?;
        Ok(state)
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
        Ok(self.state_at(t)?.snapshot(t))
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
            let (a, b) = (from.max(s.start), to.min(s.end));
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
