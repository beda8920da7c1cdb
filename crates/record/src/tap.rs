//! The recorder on its own thread, fed copies of the store's batches through a bounded channel.
//! The store never waits for it: when the channel is full the batch is not sent, and the next
//! one that fits is preceded by the store's keyframe (the recording then resumes exactly). Beside
//! the dashboard's store ([`spawn_beside`]) the hourly keyframes are the store's too, asked for
//! the same way, so the recorder keeps no copy of the state. When writing fails (a full disk),
//! the thread reports the error once and stops; the store goes on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

use chrono::{DateTime, Utc};
use clustertop_core::model::Update;

use crate::{Error, Stats, Writer};

/// Batches in flight to the recorder (seconds of updates: a slow disk is absorbed, a stuck one
/// is not waited for).
const DEPTH: usize = 64;

enum Msg {
    Batch(DateTime<Utc>, Vec<Update>),
    Resync(DateTime<Utc>, Vec<Update>),
}

/// The store's end.
pub struct Tap {
    tx: Option<SyncSender<Msg>>,
    /// A batch was not sent: the next send starts with a keyframe.
    lost: bool,
    /// The recorder asks for the store's state (its keyframe is due).
    wanted: Option<Arc<AtomicBool>>,
}

pub type Clock = Box<dyn Fn() -> DateTime<Utc> + Send>;

impl Tap {
    /// Whether the recorder still records (false once it stopped or was never started).
    pub fn active(&self) -> bool {
        self.tx.is_some()
    }

    /// A copy of `batch`, received at `at`, for the recorder; never waits. `keyframe` is the
    /// store's state before `batch`, asked for only after a batch was lost or when the recorder
    /// wants it.
    pub fn send(&mut self, at: DateTime<Utc>, batch: &[Update], keyframe: impl FnOnce() -> Vec<Update>) {
        let Some(tx) = &self.tx else { return };
        let wanted = self.wanted.as_ref().is_some_and(|w| w.swap(false, Ordering::Relaxed));
        if self.lost || wanted {
            match tx.try_send(Msg::Resync(at, keyframe())) {
                Ok(()) => self.lost = false,
                Err(TrySendError::Full(_)) => {
                    // Neither it nor the batch went: a keyframe again with the next one.
                    self.lost = true;
                    return;
                }
                Err(TrySendError::Disconnected(_)) => {
                    self.tx = None;
                    return;
                }
            }
        }
        match tx.try_send(Msg::Batch(at, batch.to_vec())) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => self.lost = true,
            Err(TrySendError::Disconnected(_)) => self.tx = None,
        }
    }

    /// A batch for a recorder nothing else waits on (`clustertop record`): waits for room.
    /// False once the recorder stopped.
    pub fn send_wait(&mut self, at: DateTime<Utc>, batch: Vec<Update>) -> bool {
        match &self.tx {
            Some(tx) if tx.send(Msg::Batch(at, batch)).is_ok() => true,
            _ => {
                self.tx = None;
                false
            }
        }
    }

    /// Stop recording: the thread writes what is left and closes the file.
    pub fn close(&mut self) {
        self.tx = None;
    }

    /// Stop recording, after the store's state at `at` when a batch was lost since the last one
    /// that reached the recorder (waits for room for it: at the end only).
    pub fn finish(&mut self, at: DateTime<Utc>, keyframe: impl FnOnce() -> Vec<Update>) {
        if let Some(tx) = self.tx.take()
            && self.lost
        {
            let _ = tx.send(Msg::Resync(at, keyframe()));
        }
    }
}

type Spawned = std::io::Result<(Tap, JoinHandle<Result<Stats, Error>>)>;

/// Run `writer` on its own thread. `on_stop` hears of the error that stopped it, once; the
/// thread's result is the writer's statistics once it closed the file.
pub fn spawn(writer: Writer, clock: Clock, on_stop: Box<dyn FnOnce(&Error) + Send>) -> Spawned {
    start(writer, None, clock, on_stop)
}

/// [`spawn`], for a feeder that keeps the state (the dashboard's store): its keyframes are asked
/// of it through [`Tap::send`] instead of kept by the recorder.
pub fn spawn_beside(mut writer: Writer, clock: Clock, on_stop: Box<dyn FnOnce(&Error) + Send>) -> Spawned {
    let wanted = writer.keyframes_from_store();
    start(writer, Some(wanted), clock, on_stop)
}

fn start(
    writer: Writer,
    wanted: Option<Arc<AtomicBool>>,
    clock: Clock,
    on_stop: Box<dyn FnOnce(&Error) + Send>,
) -> Spawned {
    let (tx, rx) = sync_channel(DEPTH);
    let handle = std::thread::Builder::new().name("recorder".into()).spawn(move || {
        lower_priority();
        let r = run(writer, &rx, clock);
        if let Err(e) = &r {
            on_stop(e);
        }
        r
    })?;
    Ok((Tap { tx: Some(tx), lost: false, wanted }, handle))
}

/// The recorder yields the CPU to the dashboard: on 2 cores, the initial sync of 150,000 pods
/// took 7.2 s to a complete table with the recorder encoding beside it, 4.6 s without. Its
/// batches wait in the channel meanwhile (a lost one costs a keyframe, not data).
#[allow(unsafe_code)]
fn lower_priority() {
    // SAFETY: setpriority only sets this thread's nice value (Linux applies PRIO_PROCESS with
    // id 0 to the calling thread); a failure leaves it as it was.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
}

fn run(mut w: Writer, rx: &Receiver<Msg>, clock: Clock) -> Result<Stats, Error> {
    loop {
        match rx.recv_timeout(std::time::Duration::from_secs(1)) {
            Ok(Msg::Batch(at, b)) => w.record(at, &b)?,
            Ok(Msg::Resync(at, k)) => w.resync(at, k)?,
            Err(RecvTimeoutError::Timeout) => w.tick(clock())?,
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    let stats = w.stats();
    w.close()?;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use clustertop_core::model::{SourceHealth, SourceId};
    use clustertop_core::testkit::T0;

    use super::*;

    fn tap(depth: usize) -> (Tap, Receiver<Msg>, Arc<AtomicBool>) {
        let (tx, rx) = sync_channel(depth);
        let wanted = Arc::new(AtomicBool::new(false));
        (Tap { tx: Some(tx), lost: false, wanted: Some(wanted.clone()) }, rx, wanted)
    }

    fn batch() -> Vec<Update> {
        let health = SourceHealth::Ok;
        vec![Update::Health { source: SourceId::Simulator, scope: String::new(), health, at: T0 }]
    }

    fn kinds(rx: &Receiver<Msg>) -> Vec<&'static str> {
        rx.try_iter().map(|m| if matches!(m, Msg::Batch(..)) { "batch" } else { "keyframe" }).collect()
    }

    /// The recorder wants a keyframe: the store's state goes first, once, then the batch.
    #[test]
    fn a_wanted_keyframe_is_sent_once_before_the_batch() {
        let (mut tap, rx, wanted) = tap(8);
        let mut asked = 0;
        tap.send(T0, &batch(), || unreachable!("not wanted"));
        wanted.store(true, Ordering::Relaxed);
        tap.send(T0, &batch(), || {
            asked += 1;
            batch()
        });
        tap.send(T0, &batch(), || unreachable!("sent already"));
        assert_eq!((kinds(&rx), asked), (vec!["batch", "keyframe", "batch", "batch"], 1));
        assert!(!wanted.load(Ordering::Relaxed));
    }

    /// No room for a wanted keyframe: nor for its batch; the next send that fits brings both.
    #[test]
    fn a_wanted_keyframe_without_room_comes_with_the_next_batch() {
        let (mut tap, rx, wanted) = tap(1);
        tap.send(T0, &batch(), Vec::new);
        wanted.store(true, Ordering::Relaxed);
        tap.send(T0, &batch(), batch);
        assert_eq!(kinds(&rx), ["batch"]);
        tap.send(T0, &batch(), batch);
        assert_eq!(
            kinds(&rx),
            ["keyframe"],
            "the keyframe took the only room: the batch is lost, the next keyframe has it"
        );
        tap.send(T0, &batch(), batch);
        assert_eq!(kinds(&rx), ["keyframe"], "lost again: the state again, which has the batch");
    }
}
