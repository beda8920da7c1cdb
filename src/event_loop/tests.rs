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
    keys: Keys,
    snaps: Snaps,
    interest: watch::Receiver<Interest>,
    task: LoopTask,
}

/// The loop's options: theme `theme`, no colour unless the theme has it, no mouse, no sources.
fn opts(theme: &str, ascii: bool) -> Options {
    Options {
        theme: Theme::builtin(theme, ascii).expect("theme"),
        ascii,
        no_color: theme == "mono",
        started: std::time::Instant::now(),
        interest: None,
        mouse: false,
        detail: None,
    }
}

/// The loop on a 120x40 test terminal, with the default theme, the mouse and a metrics source's
/// interest.
fn start() -> Running {
    let (itx, interest) = watch::channel(Interest::default());
    let (keys, snaps, task) = spawn(Options { interest: Some(itx), mouse: true, ..opts("default", false) });
    Running { keys, snaps, interest, task }
}

type LoopTask = tokio::task::JoinHandle<(Terminal<TestBackend>, Result<LoopStats>)>;
type Keys = fmpsc::UnboundedSender<io::Result<Event>>;
type Snaps = watch::Sender<Option<Arc<Snapshot>>>;

/// The loop with `opts` on a 120x40 test terminal: its keys, its snapshots and its task.
fn spawn(opts: Options) -> (Keys, Snaps, LoopTask) {
    let (keys, events) = fmpsc::unbounded();
    let (snaps, rx) = watch::channel(None);
    let task = tokio::spawn(async move {
        let mut term = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
        let r = run_main_loop(
            &mut term,
            events,
            rx,
            opts,
            Rewind::none("test"),
            std::future::pending(),
            plain_draw,
        )
        .await;
        (term, r)
    });
    (keys, snaps, task)
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
    drop(keys);
    let mut term = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    let stats = run_main_loop(
        &mut term,
        events,
        rx.clone(),
        opts("mono", false),
        Rewind::none("test"),
        std::future::pending(),
        plain_draw,
    )
    .await
    .expect("events ended: a clean stop");
    assert_eq!(stats.frames, 1, "the first (empty) frame only");
    let (_keys, events) = fmpsc::unbounded::<io::Result<Event>>();
    let quit = tokio::time::sleep(Duration::from_secs(1));
    run_main_loop(&mut term, events, rx, opts("mono", false), Rewind::none("test"), quit, plain_draw)
        .await
        .expect("SIGTERM-like stop");
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

/// Defect 1 through the loop: in Runtime, `G` then Enter opens the last node of the list, and
/// one `k` from there moves up at once.
#[tokio::test(start_paused = true)]
async fn g_then_enter_in_runtime_opens_the_last_row() {
    let r = start();
    let s = snap();
    r.snaps.send_replace(Some(s.clone()));
    run_for(Duration::from_millis(100)).await;
    for k in [key('4'), key('G'), key('k'), key('G'), enter()] {
        r.keys.unbounded_send(k).expect("alive");
    }
    run_for(Duration::from_millis(200)).await;
    let rows = crate::viewmodel::Rows::derive(&s, "", &Default::default());
    let last = &s.nodes[*rows.runtime.last().expect("Kata or gVisor nodes")].name;
    let (term, _) = r.quit().await;
    let text = screen(&term);
    assert!(text.contains(&format!("Node {last}")), "the detail of {last}:\n{text}");
}

/// `y` writes OSC 52 with the selected node's name, base64, through the terminal backend: the
/// exact bytes, on a crossterm backend writing into memory.
#[tokio::test(start_paused = true)]
async fn y_puts_the_selected_node_on_the_clipboard_with_osc_52() {
    use ratatui::backend::CrosstermBackend;
    use ratatui::layout::Rect;
    use ratatui::{TerminalOptions, Viewport};
    let (keys, events) = fmpsc::unbounded();
    let (_snaps, rx) = watch::channel(Some(snap()));
    let opts = self::opts("mono", true);
    /// What the backend writes, kept for the test to read.
    #[derive(Clone, Default)]
    struct Tape(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl io::Write for Tape {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().expect("tape").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let tape = Tape::default();
    let backend = CrosstermBackend::new(tape.clone());
    let viewport = Viewport::Fixed(Rect::new(0, 0, 80, 24));
    let mut term = Terminal::with_options(backend, TerminalOptions { viewport }).expect("terminal");
    for k in [key('2'), key('j'), key('y'), key('q')] {
        keys.unbounded_send(k).expect("alive");
    }
    run_main_loop(&mut term, events, rx, opts, Rewind::none("test"), std::future::pending(), plain_draw)
        .await
        .expect("clean stop");
    let written = tape.0.lock().expect("tape").clone();
    let second = "r1-n02";
    let want = format!("\x1b]52;c;{}\x07", "cjEtbjAy");
    assert_eq!(osc52(second), want.as_bytes(), "base64 of {second}");
    let found = written.windows(want.len()).filter(|w| *w == want.as_bytes()).count();
    assert_eq!(found, 1, "the sequence once, intact, among {} bytes written", written.len());
}

/// The mouse through the loop: a click on a tab shows its view, a click on a row selects it.
#[tokio::test(start_paused = true)]
async fn clicks_reach_the_model_through_the_loop() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let r = start();
    r.snaps.send_replace(Some(snap()));
    run_for(Duration::from_millis(100)).await;
    let click = |x: u16, y: u16| {
        Ok(Event::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        }))
    };
    // "5 Conntrack" in the tab bar at 120 columns: " clustertop  1 Overview 2 Nodes 3 Network 4 Runtime 5 Conntrack".
    r.keys.unbounded_send(click(52, 0)).expect("alive");
    run_for(Duration::from_millis(100)).await;
    // The fourth row of the table: below the tabs, the status line, the block's top, two lines
    // of summary and the header (rows 0-5), the rows start at 6.
    r.keys.unbounded_send(click(5, 6 + 3)).expect("alive");
    run_for(Duration::from_millis(100)).await;
    r.keys.unbounded_send(code(KeyCode::Enter)).expect("alive");
    run_for(Duration::from_millis(100)).await;
    let (term, _) = r.quit().await;
    let text = screen(&term);
    let s = snap();
    let rows = crate::viewmodel::Rows::derive(&s, "", &Default::default());
    let fourth = &s.nodes[rows.conntrack[3]].name;
    assert!(text.contains(&format!("Node {fourth}")), "{fourth}:\n{text}");
}

/// `:export FILE.md` writes the view on screen as markdown, every row of it.
#[tokio::test(start_paused = true)]
async fn export_writes_the_view_as_markdown() {
    let dir = std::env::temp_dir().join(format!("clustertop-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("incident.md");
    let r = start();
    r.snaps.send_replace(Some(snap()));
    run_for(Duration::from_millis(100)).await;
    r.keys.unbounded_send(key('5')).expect("alive");
    for c in format!(":export {}", path.display()).chars() {
        r.keys.unbounded_send(key(c)).expect("alive");
    }
    r.keys.unbounded_send(enter()).expect("alive");
    run_for(Duration::from_millis(200)).await;
    let (term, _) = r.quit().await;
    let text = std::fs::read_to_string(&path).expect("exported");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(text.starts_with("# clustertop Conntrack: "), "{text}");
    assert!(text.contains("```text\n") && text.trim_end().ends_with("```"), "{text}");
    let s = snap();
    assert!(s.nodes.iter().all(|n| text.contains(&n.name)), "every node, not only those on screen:\n{text}");
    assert!(screen(&term).contains("exported Conntrack to"), "{}", screen(&term));
    // A directory that does not exist: a clear message, no panic.
    let bad = crate::app::Model { snap: Some(s), ..crate::app::Model::default() };
    let theme = Theme::builtin("mono", true).expect("theme");
    let msg = export(&bad, &theme, std::path::Path::new("/nonexistent/dir/x.txt"), false);
    assert!(msg.starts_with("export to /nonexistent/dir/x.txt failed: "), "{msg}");
}

/// The on-demand detail through the loop: opening a node's detail wants that node at once (no
/// other event follows), the answer is drawn, `R` asks again, and Esc wants nothing any more.
#[tokio::test(start_paused = true)]
async fn a_nodes_detail_is_wanted_only_while_open_and_its_answer_is_drawn() {
    use crate::sources::detail::{self, EventRow, NodeDetail, Part, PodRow};
    let (link, mut serve) = detail::link();
    let (keys, snaps, task) = spawn(Options { detail: Some(link), ..opts("mono", false) });
    snaps.send_replace(Some(snap()));
    run_for(Duration::from_millis(100)).await;
    assert_eq!(serve.want.borrow().node, None, "nothing wanted before a detail opens");
    keys.unbounded_send(key('2')).expect("alive");
    keys.unbounded_send(enter()).expect("alive");
    tokio::time::timeout(Duration::from_secs(1), serve.want.wait_for(|w| w.node.is_some()))
        .await
        .expect("the open node is wanted without another event")
        .expect("open");
    let node = serve.want.borrow_and_update().node.clone().expect("a node");
    let pod = PodRow {
        namespace: "batch".into(),
        name: "transcode-7".into(),
        runtime_class: Some("kata".into()),
        offline: true,
        phase: "Running".into(),
        restarts: 3,
        created: Some(crate::testkit::T0),
        cpu_m: Some(2000),
        mem_bytes: Some(1 << 30),
    };
    let event = EventRow {
        kind: "Pod".into(),
        object: "batch/transcode-7".into(),
        warning: true,
        reason: "BackOff".into(),
        message: "Back-off restarting failed container".into(),
        count: 3,
        last: Some(crate::testkit::T0),
        source: "kubelet".into(),
    };
    let answer = NodeDetail {
        node: node.clone(),
        at: crate::testkit::T0,
        pods: Part::Ok(vec![pod]),
        events: Part::Ok(vec![event]),
        requests: 3,
    };
    serve.out.send(Arc::new(answer)).await.expect("the loop takes answers");
    run_for(Duration::from_millis(100)).await;
    keys.unbounded_send(key('R')).expect("alive");
    tokio::time::timeout(Duration::from_secs(1), serve.want.wait_for(|w| w.asked == 1))
        .await
        .expect("R asks again at once")
        .expect("open");
    run_for(Duration::from_millis(100)).await;
    keys.unbounded_send(code(KeyCode::Esc)).expect("alive");
    tokio::time::timeout(Duration::from_secs(1), serve.want.wait_for(|w| w.node.is_none()))
        .await
        .expect("closing the detail wants nothing")
        .expect("open");
    keys.unbounded_send(code(KeyCode::Enter)).expect("alive");
    run_for(Duration::from_millis(100)).await;
    let text = {
        keys.unbounded_send(key('q')).expect("alive");
        let (term, r) = task.await.expect("loop task");
        r.expect("clean end");
        screen(&term)
    };
    assert!(text.contains("batch/transcode-7"), "the answer is drawn when the detail opens again:\n{text}");
    assert!(text.contains("BackOff x3"), "{text}");
}
