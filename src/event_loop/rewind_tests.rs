//! The time cursor through the loop, on a real recording: the simulated cluster recorded for 30
//! minutes (injected clock) with TOR `tor-5a` down from minute 10 to minute 20, scrubbed with the
//! keys and `:at`, the rows of rack-5 read off the screen; `:diff` lists the outage's start and
//! end; a moment outside the recording leaves the cursor where it was.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Duration as Span};
use clustertop_record::{Header, History, Options as RecOptions, Recording, Writer};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use futures::channel::mpsc as fmpsc;
use ratatui::backend::TestBackend;

use super::*;
use crate::analysis::Settings;
use crate::app::Past;
use crate::sim::{Scenario, Sim, SimConfig};
use crate::testkit::T0;

/// A fresh directory, removed when dropped.
pub(crate) struct TempDir(pub PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("ct-rewind-{}-{n}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) const OUTAGE: (i64, i64) = (600, 1200);
pub(crate) const END: i64 = 1800;

pub(crate) fn at(s: i64) -> DateTime<Utc> {
    T0 + Span::seconds(s)
}

/// The simulated cluster (`nodes` nodes, healthy) recorded every 5 s for 30 minutes from `T0`,
/// `tor-5a` down from +600 s to +1200 s. Returns the file and the live snapshot at the end.
pub(crate) fn record_outage(dir: &TempDir, nodes: usize) -> (PathBuf, Snapshot) {
    let path = dir.0.join("outage.sqlite");
    let cfg = SimConfig { nodes, scenario: Scenario::Healthy, ..SimConfig::default() };
    let mut sim = Sim::new(cfg, at(0));
    let header = Header { cluster: sim.label(), context: "sim-ctx".into(), version: "test".into() };
    let mut w = Writer::create(&path, &header, RecOptions::default(), at(0)).expect("create the recording");
    let mut live = ClusterState::new(sim.label(), Settings::default());
    let mut put = |t, b: Vec<Update>| {
        w.record(t, &b).expect("record");
        b.into_iter().for_each(|u| {
            live.apply(u);
        });
    };
    put(at(0), sim.initial());
    for s in (5..=END).step_by(5) {
        let mut batch = sim.step(at(s));
        if s == OUTAGE.0 {
            batch.extend(sim.set_tor(5, 0, false, at(s)));
        }
        if s == OUTAGE.1 {
            batch.extend(sim.set_tor(5, 0, true, at(s)));
        }
        put(at(s), batch);
    }
    w.close().expect("close the recording");
    (path, live.snapshot(at(END)))
}

fn key(c: char) -> io::Result<Event> {
    Ok(Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)))
}

fn code(c: KeyCode) -> io::Result<Event> {
    Ok(Event::Key(KeyEvent::new(c, KeyModifiers::NONE)))
}

fn screen(term: &Terminal<TestBackend>) -> String {
    let buf = term.backend().buffer();
    (0..buf.area.height)
        .map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect::<String>() + "\n")
        .collect()
}

struct Running {
    keys: fmpsc::UnboundedSender<io::Result<Event>>,
    snaps: watch::Sender<Option<Arc<Snapshot>>>,
    task: tokio::task::JoinHandle<(Terminal<TestBackend>, Result<LoopStats>)>,
    shots: std::sync::Arc<std::sync::Mutex<String>>,
}

/// The loop at 160x50 in the mono theme, with `rewind` as its past; every frame drawn is kept
/// (the last one) for the test to read.
fn start(rewind: Rewind, ascii: bool) -> Running {
    let (keys, events) = fmpsc::unbounded();
    let (snaps, rx) = watch::channel(None);
    let opts = Options {
        theme: Theme::builtin("mono", ascii).expect("theme"),
        ascii,
        no_color: true,
        started: std::time::Instant::now(),
        interest: None,
        mouse: false,
        detail: None,
    };
    let shots = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let kept = shots.clone();
    let task = tokio::spawn(async move {
        let mut term = Terminal::new(TestBackend::new(160, 50)).expect("terminal");
        let draw = move |t: &mut Terminal<TestBackend>, f: &mut dyn FnMut(&mut ratatui::Frame)| {
            plain_draw(t, f)?;
            *kept.lock().expect("shots") = screen(t);
            Ok(())
        };
        let r = run_main_loop(&mut term, events, rx, opts, rewind, std::future::pending(), draw).await;
        (term, r)
    });
    Running { keys, snaps, task, shots }
}

impl Running {
    /// Send keys, let the loop draw, return the screen.
    async fn press(&self, keys: Vec<io::Result<Event>>) -> String {
        for k in keys {
            self.keys.unbounded_send(k).expect("loop alive");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.shots.lock().expect("shots").clone()
    }
    async fn command(&self, line: &str) -> String {
        let mut keys = vec![key(':')];
        keys.extend(line.chars().map(key));
        keys.push(code(KeyCode::Enter));
        self.press(keys).await
    }
    async fn quit(self) -> Terminal<TestBackend> {
        self.keys.unbounded_send(key('q')).expect("loop alive");
        let (term, r) = self.task.await.expect("loop task");
        r.expect("loop ends cleanly");
        term
    }
}

/// The BGP cells of rack-5's BGP nodes, as the Nodes view filtered `rack=rack-5` shows them.
fn rack5_bgp(screen: &str, names: &[String]) -> Vec<String> {
    names
        .iter()
        .map(|n| {
            let line = screen
                .lines()
                .find(|l| l.contains(n.as_str()))
                .unwrap_or_else(|| panic!("{n} on screen:\n{screen}"));
            ["2/2", "1/2", "0/2"]
                .iter()
                .find(|v| line.contains(*v))
                .map_or("?".to_string(), |v| v.to_string())
        })
        .collect()
}

fn rack5_names(s: &Snapshot) -> Vec<String> {
    let bgp = s
        .nodes
        .iter()
        .filter(|n| n.rack == "rack-5" && n.bgp_verdict != crate::model::BgpVerdict::NotApplicable);
    bgp.map(|n| n.name.clone()).collect()
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[tokio::test(start_paused = true)]
async fn scrubbing_a_recorded_tor_outage_shows_before_during_and_after() {
    let dir = TempDir::new("scrub");
    let (path, live) = record_outage(&dir, 48);
    let names = rack5_names(&live);
    assert!(names.len() >= 4, "rack-5 has BGP nodes: {names:?}");
    let rec = Recording::open(&path, Settings::default()).expect("open");
    let r = start(Rewind::history(Box::new(rec)), false);
    r.snaps.send_replace(Some(Arc::new(live.clone())));
    // The Nodes view, rack-5 only.
    let mut keys = vec![key('2'), key('/')];
    keys.extend("rack=rack-5".chars().map(key));
    keys.push(code(KeyCode::Enter));
    let s = r.press(keys).await;
    assert_eq!(rack5_bgp(&s, &names), vec!["2/2"; names.len()], "live, after the outage:\n{s}");
    assert!(!s.contains("REWOUND"), "{s}");

    // `{`: 15 minutes back, +900 s, inside the outage.
    let s = r.press(vec![key('{')]).await;
    assert_eq!(rack5_bgp(&s, &names), vec!["1/2"; names.len()], "during:\n{s}");
    let moment = at(900).format("%H:%M:%S UTC").to_string();
    assert!(s.contains(&format!("◀◀ REWOUND {moment} · 15m ago · Esc: live")), "the banner:\n{s}");

    // `[` twice: +780 s, still inside; `]` once: +840 s.
    let s = r.press(vec![key('['), key('['), key(']')]).await;
    assert!(s.contains(&format!("REWOUND {} · 16m ago", at(840).format("%H:%M:%S UTC"))), "{s}");
    assert_eq!(rack5_bgp(&s, &names), vec!["1/2"; names.len()]);

    // `:at -25m`: +300 s, before the outage.
    let s = r.command("at -25m").await;
    assert_eq!(rack5_bgp(&s, &names), vec!["2/2"; names.len()], "before:\n{s}");
    assert!(s.contains("REWOUND") && s.contains("25m ago"), "{s}");

    // `:at HH:MM:SS` (today, in the cluster's zone: UTC here) and RFC 3339.
    let s = r.command(&format!("at {}", at(1000).format("%H:%M:%S"))).await;
    assert_eq!(rack5_bgp(&s, &names), vec!["1/2"; names.len()], "at +1000 s:\n{s}");
    let s = r.command(&format!("at {}", rfc3339(at(1500)))).await;
    assert_eq!(rack5_bgp(&s, &names), vec!["2/2"; names.len()], "after:\n{s}");

    // A moment the recording does not hold: a message naming what it holds; the cursor stays.
    let s = r.command(&format!("at {}", rfc3339(at(-3600)))).await;
    assert!(s.contains("is not in the recording; recorded: "), "{s}");
    assert!(s.contains(&format!("{} to {}", rfc3339(at(0)), rfc3339(at(END)))), "the range:\n{s}");
    assert!(s.contains(&format!("REWOUND {}", at(1500).format("%H:%M:%S UTC"))), "the cursor stayed:\n{s}");

    // `:diff -20m` from +1500 s: the outage's start and end, in time order.
    let s = r.command("diff -20m").await;
    let start = format!("{} ", at(OUTAGE.0).format("%H:%M:%S"));
    let end = format!("{} ", at(OUTAGE.1).format("%H:%M:%S"));
    let down: Vec<&str> = s.lines().filter(|l| l.contains(&start) && l.contains("BGP 2/2 → 1/2")).collect();
    let up: Vec<&str> = s.lines().filter(|l| l.contains(&end) && l.contains("BGP 1/2 → 2/2")).collect();
    assert!(!down.is_empty() && !up.is_empty(), "the outage's start and end:\n{s}");
    let first_down = s.find("BGP 2/2 → 1/2").expect("start");
    let first_up = s.find("BGP 1/2 → 2/2").expect("end");
    assert!(first_down < first_up, "in time order:\n{s}");
    assert!(s.contains("tor-5a"), "the TOR is named:\n{s}");

    // Esc closes the list (its first meaning), then the filter goes, then back to live.
    let s = r.press(vec![code(KeyCode::Esc)]).await;
    assert!(s.contains("REWOUND") && !s.contains("Changes "), "{s}");
    let s = r.press(vec![code(KeyCode::Esc)]).await;
    assert!(s.contains("REWOUND"), "the filter is cleared first:\n{s}");
    let s = r.press(vec![code(KeyCode::Esc)]).await;
    assert!(!s.contains("REWOUND"), "live again:\n{s}");
    r.quit().await;
}

/// Rewound, live snapshots keep arriving but are not shown; `:live` shows the newest.
#[tokio::test(start_paused = true)]
async fn rewound_the_live_updates_arrive_but_are_not_shown() {
    let dir = TempDir::new("live");
    let (path, live) = record_outage(&dir, 24);
    let rec = Recording::open(&path, Settings::default()).expect("open");
    let r = start(Rewind::history(Box::new(rec)), true);
    r.snaps.send_replace(Some(Arc::new(live.clone())));
    let s = r.press(vec![key('{')]).await;
    assert!(
        s.contains(&format!("<< REWOUND {} - 15m ago - Esc: live", at(900).format("%H:%M:%S UTC"))),
        "ASCII:\n{s}"
    );
    // `D`: the hour before the cursor (the recording holds its last 15 minutes): the outage's start.
    let s = r.press(vec![key('D')]).await;
    let start = format!("{} ", at(OUTAGE.0).format("%H:%M:%S"));
    assert!(s.lines().any(|l| l.contains(&start) && l.contains("BGP 2/2 -> 1/2")), "D lists the start:\n{s}");
    let s = r.press(vec![code(KeyCode::Esc)]).await;
    assert!(s.contains("REWOUND") && !s.contains("Changes "), "{s}");
    let mut later = live.clone();
    later.now = at(END + 60);
    r.snaps.send_replace(Some(Arc::new(later)));
    let s = r.press(vec![]).await;
    assert!(s.contains(&format!("REWOUND {}", at(900).format("%H:%M:%S UTC"))), "still rewound:\n{s}");
    assert!(s.contains(&at(900).format("%H:%M:%S UTC").to_string()), "{s}");
    let s = r.command("live").await;
    assert!(!s.contains("REWOUND"), "{s}");
    assert!(s.contains(&at(END + 60).format("%H:%M:%S UTC").to_string()), "the newest live snapshot:\n{s}");
    // `]` when live: nothing to go forward to.
    let s = r.press(vec![key(']')]).await;
    assert!(s.contains("already live"), "{s}");
    r.quit().await;
}

/// The recording behind a gate: each `snapshot_at` waits until the test opens it once.
struct Gated {
    rec: Recording,
    gate: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
}

impl History for Gated {
    fn snapshot_at(
        &self,
        t: DateTime<Utc>,
    ) -> std::result::Result<Snapshot, clustertop_record::HistoryError> {
        let _ = self.gate.lock().expect("gate").recv();
        self.rec.snapshot_at(t)
    }
    fn changes(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        resolution: chrono::Duration,
    ) -> std::result::Result<Vec<clustertop_record::Change>, clustertop_record::HistoryError> {
        self.rec.changes(from, to, resolution)
    }
    fn spans(&self) -> std::result::Result<Vec<clustertop_record::Span>, clustertop_record::HistoryError> {
        self.rec.spans()
    }
}

/// Poll the screen until `want` holds (real time: the history reads on a blocking thread).
async fn screen_until(r: &Running, what: &str, want: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let s = r.shots.lock().expect("shots").clone();
        if want(&s) {
            return s;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: not on screen in 20 s:\n{s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A read of the history never holds the keys: while a moment is read the views still switch,
/// keys pressed meanwhile step on from the moment being read (the latest ask wins), and an
/// answer that comes after Esc is dropped instead of rewinding a live screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keys_go_on_while_the_history_is_read() {
    let dir = TempDir::new("gated");
    let (path, live) = record_outage(&dir, 24);
    let (open, gate) = std::sync::mpsc::channel();
    let rec = Recording::open(&path, Settings::default()).expect("open");
    let r = start(Rewind::history(Box::new(Gated { rec, gate: std::sync::Mutex::new(gate) })), false);
    r.snaps.send_replace(Some(Arc::new(live)));
    screen_until(&r, "the live snapshot", |s| s.contains(&at(END).format("%H:%M:%S UTC").to_string())).await;

    // `{` asks for +900 s; the read waits at the gate. `2` still switches to Nodes, `[` asks for
    // +840 s (from the moment being read, not from now).
    r.keys.unbounded_send(key('{')).expect("loop alive");
    screen_until(&r, "the reading notice", |s| s.contains("reading ") && s.contains("from the recording…"))
        .await;
    r.keys.unbounded_send(key('2')).expect("loop alive");
    r.keys.unbounded_send(key('[')).expect("loop alive");
    let s = screen_until(&r, "the Nodes view while reading", |s| s.contains("NODE")).await;
    assert!(!s.contains("REWOUND"), "nothing is rewound before an answer:\n{s}");
    // The first read (+900 s) answers: dropped, +840 s is wanted now; the second answers.
    open.send(()).expect("gate");
    open.send(()).expect("gate");
    let want = format!("REWOUND {}", at(840).format("%H:%M:%S UTC"));
    let s = screen_until(&r, "the latest moment asked", |s| s.contains(&want)).await;
    assert!(!s.contains(&format!("REWOUND {}", at(900).format("%H:%M:%S UTC"))), "{s}");

    // `[` again, and Esc before the answer: live it stays.
    r.keys.unbounded_send(key('[')).expect("loop alive");
    screen_until(&r, "the reading notice", |s| s.contains("reading ")).await;
    r.keys.unbounded_send(code(KeyCode::Esc)).expect("loop alive");
    screen_until(&r, "live again", |s| !s.contains("REWOUND")).await;
    open.send(()).expect("gate");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let s = r.shots.lock().expect("shots").clone();
    assert!(!s.contains("REWOUND"), "a late answer rewound a live screen:\n{s}");
    r.quit().await;
}

/// A step back past the start of the recording stops at its first moment and says so; `:at` a
/// moment before it names what is recorded and leaves the cursor.
#[tokio::test(start_paused = true)]
async fn stepping_before_the_recording_stops_at_its_start() {
    let dir = TempDir::new("start");
    let (path, live) = record_outage(&dir, 24);
    let rec = Recording::open(&path, Settings::default()).expect("open");
    let r = start(Rewind::history(Box::new(rec)), false);
    r.snaps.send_replace(Some(Arc::new(live)));
    let s = r.press(vec![key('{'), key('{'), key('{')]).await;
    assert!(s.contains(&format!("REWOUND {} · 30m ago", at(0).format("%H:%M:%S UTC"))), "{s}");
    assert!(s.contains("the recording starts at") && s.contains("its first moment is shown"), "{s}");
    let s = r.command(&format!("at {}", rfc3339(at(-60)))).await;
    assert!(
        s.contains("is not in the recording")
            && s.contains(&format!("REWOUND {}", at(0).format("%H:%M:%S UTC"))),
        "{s}"
    );
    r.quit().await;
}

/// Without a history the time keys say why, instead of doing nothing.
#[tokio::test(start_paused = true)]
async fn without_a_recording_the_time_keys_say_why() {
    let r = start(Rewind::none("--no-record"), false);
    let live =
        crate::sim::snapshot_at(SimConfig { nodes: 12, ..SimConfig::default() }, T0, Settings::default());
    r.snaps.send_replace(Some(Arc::new(live)));
    let s = r.press(vec![key('[')]).await;
    assert!(s.contains("no recording (--no-record)"), "{s}");
    let s = r.command("at -20m").await;
    assert!(s.contains("no recording (--no-record)"), "{s}");
    let s = r.press(vec![key('D')]).await;
    assert!(s.contains("no recording (--no-record)"), "{s}");
    assert!(!s.contains("REWOUND"));
    r.quit().await;
}

/// `clustertop replay`: the cursor starts at the end of the recording, the header says replay
/// and the context, Esc comes back to the end.
#[tokio::test(start_paused = true)]
async fn a_replay_starts_at_the_end_and_names_its_context() {
    let dir = TempDir::new("replay");
    let (path, _) = record_outage(&dir, 24);
    let (rec, end) = replay::open(&path, Settings::default()).expect("open the replay");
    assert_eq!(end.now, at(END));
    let (tx, rx, rewind) = replay::channel(rec, end);
    let r = start(rewind, false);
    // The test's own channel is not used: the replay's is.
    let _end = r.snaps.send_replace(rx.borrow().clone());
    let s = r.press(vec![]).await;
    assert!(
        s.contains(&format!(
            "◀◀ REPLAY of sim-ctx at {} · the end of the recording",
            at(END).format("%H:%M:%S UTC")
        )),
        "{s}"
    );
    let s = r.press(vec![key('{')]).await;
    assert!(
        s.contains(&format!(
            "◀◀ REPLAY of sim-ctx at {} · 15m before the end",
            at(END - 900).format("%H:%M:%S UTC")
        )),
        "{s}"
    );
    let s = r.press(vec![key('}'), key('}')]).await;
    assert!(s.contains("the end of the recording"), "{s}");
    drop(tx);
    r.quit().await;
}

/// Not found, not a recording: clear errors before any terminal is taken.
#[test]
fn a_replay_of_a_missing_or_foreign_file_is_a_clear_error() {
    let dir = TempDir::new("bad");
    let e = replay::open(&dir.0.join("nope.sqlite"), Settings::default()).err().expect("missing");
    assert!(e.to_string().contains("nope.sqlite"), "{e}");
    let junk = dir.0.join("junk.sqlite");
    std::fs::write(&junk, b"not a database at all, not even close").expect("write");
    let e = replay::open(&junk, Settings::default()).err().expect("junk");
    assert!(e.to_string().contains("junk.sqlite"), "{e}");
}

/// Benchmark (`cargo test --release -p clustertop --lib cursor_bench -- --ignored --nocapture`):
/// 5,000 simulated nodes and 150,000 pods recorded for a day (`CT_BENCH_HOURS`, default 24) in
/// 10 s steps with 100 pod changes a second (the budget's load: 500 pods deleted and 500 created
/// each step, on top of the simulator's own), then the cursor moved to moments across that day:
/// the history's snapshot (`snapshot_at`: the keyframe before it and the batches since), the
/// model's rows and a 200x50 frame of the Nodes view, each timed. `CT_BENCH_KEYFRAME_MIN`
/// records with another keyframe interval than the default, to compare.
#[test]
#[ignore = "benchmark: run with --release --ignored --nocapture"]
fn cursor_bench() {
    crate::alloc::tune();
    let hours: i64 = std::env::var("CT_BENCH_HOURS").ok().and_then(|h| h.parse().ok()).unwrap_or(24);
    let nodes = 5000;
    let dir = TempDir::new("bench");
    let path = dir.0.join("day.sqlite");
    let cfg = SimConfig { nodes, scenario: Scenario::Migration, ..SimConfig::default() };
    let mut sim = Sim::new(cfg, at(0));
    let header = Header { cluster: sim.label(), context: "bench".into(), version: "test".into() };
    let t = std::time::Instant::now();
    let mut opts = RecOptions::default();
    if let Some(m) = std::env::var("CT_BENCH_KEYFRAME_MIN").ok().and_then(|m| m.parse().ok()) {
        opts.keyframe_every = Span::minutes(m);
    }
    let mut w = Writer::create(&path, &header, opts, at(0)).expect("create");
    let initial = sim.initial();
    let mut pods: Vec<crate::model::Pod> = initial
        .iter()
        .find_map(|u| if let Update::PodsReplaced(p) = u { Some(p.clone()) } else { None })
        .unwrap_or_default();
    assert!(pods.len() >= 140_000, "{} pods", pods.len());
    w.record(at(0), &initial).expect("record");
    let end = hours * 3600;
    let mut next = 0usize;
    for s in (10..=end).step_by(10) {
        let mut b = sim.step(at(s));
        for _ in 0..500 {
            let i = next % pods.len();
            next += 7919;
            let p = &mut pods[i];
            b.push(Update::PodDeleted { namespace: p.namespace.to_string(), name: p.name.to_string() });
            p.name = format!("churn-{s}-{i}").into();
            b.push(Update::PodApplied(p.clone()));
        }
        w.record(at(s), &b).expect("record");
    }
    let stats = w.stats();
    w.close().expect("close");
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "recorded {hours} h of {nodes} nodes, {} pods, 100 pod changes/s, a keyframe every {} min, in {:.1} s: \
         {} updates in, {} kept, {} keyframes, {:.1} MB",
        pods.len(),
        opts.keyframe_every.num_minutes(),
        t.elapsed().as_secs_f64(),
        stats.updates_in,
        stats.updates_kept,
        stats.keyframes,
        size as f64 / 1e6
    );
    let rec = Recording::open(&path, Settings::default()).expect("open");
    let live = Arc::new(rec.snapshot_at(at(end)).expect("the end"));
    let theme = Theme::builtin("default", false).expect("theme");
    let mut model = Model { past: Past::Recorded, ..Model::default() };
    update(&mut model, Msg::Snapshot(live));
    update(&mut model, Msg::ShowView(crate::app::View::Nodes));
    let mut seek_ms = Vec::new();
    let mut total_ms = Vec::new();
    // Moments across the day, and the worst case: just before a keyframe (an hour of batches).
    let mut moments: Vec<i64> = (1..=12).map(|i| end * i / 13).collect();
    moments.extend((1..hours).map(|h| h * 3600 - 10).take(6));
    for m in moments {
        let t0 = std::time::Instant::now();
        let snap = rec.snapshot_at(at(m)).expect("snapshot");
        let seek = t0.elapsed();
        update(&mut model, Msg::Rewound(at(m), Arc::new(snap)));
        let mut buf = ratatui::buffer::Buffer::empty(ratatui::layout::Rect::new(0, 0, 200, 50));
        views::render(&model, &theme, buf.area, &mut buf);
        let all = t0.elapsed();
        seek_ms.push(seek.as_secs_f64() * 1e3);
        total_ms.push(all.as_secs_f64() * 1e3);
    }
    // Scrubbing as an SRE does: from late in an hour, `[` ten times (a minute each), then `]`.
    let mut scrub_ms = Vec::new();
    let from = end - 600;
    for step in (0..10).map(|i| from - 60 * i).chain((1..5).map(|i| from - 600 + 60 * i)) {
        let t0 = std::time::Instant::now();
        rec.snapshot_at(at(step)).expect("snapshot");
        scrub_ms.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    let show = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        format!("median {:.0} ms, max {:.0} ms", v[v.len() / 2], v[v.len() - 1])
    };
    println!("cursor to a moment of the last {hours} h at {nodes} nodes ({} moments):", seek_ms.len());
    println!("  history snapshot_at: {}", show(&mut seek_ms));
    println!("  snapshot + rows + 200x50 frame: {}", show(&mut total_ms));
    println!("  scrubbing a minute at a time ([ x10, ] x4): {}", show(&mut scrub_ms));
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS")).map(str::to_string));
    println!("  resident with the reader's checkpoints: {}", rss.unwrap_or_default());
}
