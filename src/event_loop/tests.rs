//! The loop in-process: a `TestBackend`, scripted key events, snapshots on a watch channel, and
//! tokio's paused time, so frame coalescing, redraw-on-change and effects are checked without a
//! terminal.

use std::io;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use futures::channel::mpsc as fmpsc;
use ratatui::backend::TestBackend;

use super::*;
use crate::analysis::Settings;
use crate::sim::{SimConfig, snapshot_at};

fn snap() -> Arc<Snapshot> {
    let now = crate::testkit::T0;
    Arc::new(snapshot_at(SimConfig { nodes: 12, ..SimConfig::default() }, now, Settings::default()))
}

fn key(c: char) -> io::Result<Event> {
    Ok(Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)))
}

fn enter() -> io::Result<Event> {
    Ok(Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)))
}

struct Running {
    keys: fmpsc::UnboundedSender<io::Result<Event>>,
    snaps: watch::Sender<Option<Arc<Snapshot>>>,
    interest: watch::Receiver<Interest>,
    task: tokio::task::JoinHandle<(Terminal<TestBackend>, Result<LoopStats>)>,
}

fn start() -> Running {
    let (keys, events) = fmpsc::unbounded();
    let (snaps, rx) = watch::channel(None);
    let (itx, interest) = watch::channel(Interest::default());
    let opts = Options {
        theme: Theme::builtin("default", false).expect("theme"),
        ascii: false,
        no_color: false,
        started: std::time::Instant::now(),
        interest: Some(itx),
        mouse: true,
    };
    let task = tokio::spawn(async move {
        let mut term = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
        let r = run_main_loop(&mut term, events, rx, opts, std::future::pending(), plain_draw).await;
        (term, r)
    });
    Running { keys, snaps, interest, task }
}

impl Running {
    async fn quit(self) -> (Terminal<TestBackend>, LoopStats) {
        self.keys.unbounded_send(key('q')).expect("loop alive");
        let (term, r) = self.task.await.expect("loop task");
        (term, r.expect("loop ends cleanly"))
    }
}

/// Let the loop run `d` of (paused) time.
async fn run_for(d: Duration) {
    tokio::time::sleep(d).await;
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_snapshots_is_one_frame_and_an_idle_screen_none() {
    let r = start();
    run_for(Duration::from_millis(100)).await;
    let s = snap();
    // 100 snapshots at once (the loop runs between them): the first drawn at once, the rest
    // coalesced into one frame.
    for _ in 0..100 {
        r.snaps.send_replace(Some(s.clone()));
        tokio::task::yield_now().await;
    }
    run_for(Duration::from_millis(200)).await;
    // Ten quiet seconds: nothing to draw.
    run_for(Duration::from_secs(10)).await;
    let (term, stats) = r.quit().await;
    // The empty first frame, the first with data, one for the rest of the burst, none idle.
    assert_eq!(stats.frames, 3, "{stats:?}");
    let text: String = term.backend().buffer().content().iter().map(|c| c.symbol()).collect();
    assert!(text.contains("Overview"), "{text}");
}

#[tokio::test(start_paused = true)]
async fn opening_a_node_reaches_the_metrics_source_at_once() {
    let mut r = start();
    r.snaps.send_replace(Some(snap()));
    run_for(Duration::from_millis(100)).await;
    r.keys.unbounded_send(key('2')).expect("alive");
    r.keys.unbounded_send(enter()).expect("alive");
    // No other event follows: the interest must already say which node is open.
    tokio::time::timeout(Duration::from_secs(1), r.interest.wait_for(|i| i.node.is_some()))
        .await
        .expect("the open node reached the metrics source without another event")
        .expect("interest channel open");
    let (_, stats) = r.quit().await;
    assert!(stats.frames >= 2);
}

#[tokio::test(start_paused = true)]
async fn a_theme_command_loads_the_theme_and_quit_ends_the_loop() {
    let r = start();
    r.snaps.send_replace(Some(snap()));
    for c in ":theme mono".chars() {
        r.keys.unbounded_send(key(c)).expect("alive");
    }
    r.keys.unbounded_send(enter()).expect("alive");
    run_for(Duration::from_millis(200)).await;
    let (term, _) = r.quit().await;
    let text: String = term.backend().buffer().content().iter().map(|c| c.symbol()).collect();
    assert!(text.contains("theme mono"), "{text}");
}

#[tokio::test(start_paused = true)]
async fn the_loop_ends_with_its_events_or_its_quit_signal() {
    let (keys, events) = fmpsc::unbounded::<io::Result<Event>>();
    let (_snaps, rx) = watch::channel(None);
    let opts = Options {
        theme: Theme::builtin("mono", false).expect("theme"),
        ascii: false,
        no_color: true,
        started: std::time::Instant::now(),
        interest: None,
        mouse: false,
    };
    drop(keys);
    let mut term = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    let stats = run_main_loop(&mut term, events, rx.clone(), opts, std::future::pending(), plain_draw)
        .await
        .expect("events ended: a clean stop");
    assert_eq!(stats.frames, 1, "the first (empty) frame only");
    let (_keys, events) = fmpsc::unbounded::<io::Result<Event>>();
    let opts = Options {
        theme: Theme::builtin("mono", false).expect("theme"),
        ascii: false,
        no_color: true,
        started: std::time::Instant::now(),
        interest: None,
        mouse: false,
    };
    let quit = tokio::time::sleep(Duration::from_secs(1));
    run_main_loop(&mut term, events, rx, opts, quit, plain_draw).await.expect("SIGTERM-like stop");
}
