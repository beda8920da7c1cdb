//! The event loop: source tasks → store task → watch channel → UI loop.
//!
//! The UI task owns the `Model`; data arrives as `Arc<Snapshot>`. It redraws only when something
//! changed (a snapshot, a key, a resize), at most `MAX_FPS` times a second, bursts coalesced. The
//! loop (`run_main_loop`) is generic over the ratatui backend and the event stream, so it is
//! tested in-process on a `TestBackend` with scripted events under tokio's paused time.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::Utc;
use crossterm::event::{Event, EventStream, MouseButton, MouseEventKind};
use futures::{Stream, StreamExt};
use ratatui::backend::Backend;
use ratatui::{DefaultTerminal, Terminal};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::app::{Effect, Model, Mouse, Msg, Zoom, update};
use crate::model::Update;
use crate::model::{Snapshot, SourceId};
use crate::record::tap::Tap;
use crate::sources::prometheus::{self, Interest};
use crate::store::ClusterState;
use crate::theme::Theme;
use crate::{keymap, tui, views};

const MAX_FPS: u64 = 30;
/// Rebuild the snapshot at least this often, so staleness shows even when no source sends.
pub const RESNAPSHOT: Duration = Duration::from_secs(15);
/// `CLUSTERTOP_LOG_FRAMES=1`: log `frame N` after every frame drawn (with `CLUSTERTOP_LOG`).
pub const LOG_FRAMES: &str = "CLUSTERTOP_LOG_FRAMES";
/// Debug builds only: panic after the first frame with data (the terminal-restore test).
pub const TEST_PANIC: &str = "CLUSTERTOP_TEST_PANIC";

/// Apply batches of updates and publish a snapshot after each burst that changed something, and
/// at least every `RESNAPSHOT` (ages and staleness move on even when nothing else does). With a
/// recorder's `tap`, each batch is handed to it too (never waited for).
pub async fn store_task(
    mut state: ClusterState,
    mut rx: mpsc::Receiver<Vec<Update>>,
    tx: watch::Sender<Option<Arc<Snapshot>>>,
    mut tap: Option<Tap>,
) {
    let mut last = tokio::time::Instant::now();
    loop {
        let mut changed = false;
        let mut apply = |b: Vec<Update>| {
            if let Some(t) = tap.as_mut() {
                t.send(Utc::now(), &b, || state.keyframe());
            }
            b.into_iter().for_each(|u| changed |= state.apply(u))
        };
        tokio::select! {
            batch = rx.recv() => match batch {
                Some(b) => {
                    apply(b);
                    while let Ok(b) = rx.try_recv() {
                        apply(b);
                    }
                }
                None => break,
            },
            // The UI is gone: the recorder gets what it missed, then closes its file.
            _ = tx.closed() => break,
            _ = tokio::time::sleep_until(last + RESNAPSHOT) => changed = true,
        }
        if !changed && last.elapsed() < RESNAPSHOT {
            continue;
        }
        last = tokio::time::Instant::now();
        if tx.send(Some(Arc::new(state.snapshot(Utc::now())))).is_err() {
            break;
        }
    }
    if let Some(mut t) = tap {
        t.finish(Utc::now(), || state.keyframe());
    }
}

pub struct Options {
    pub theme: Theme,
    pub ascii: bool,
    /// `NO_COLOR` is set: only colourless themes may be switched to.
    pub no_color: bool,
    /// When the process started, to log the time to the first frame with data.
    pub started: std::time::Instant,
    /// Tells a metrics source what is on screen, so it fetches only that.
    pub interest: Option<watch::Sender<Interest>>,
    /// Clicks and the wheel (off with `--no-mouse` or `mouse = false`).
    pub mouse: bool,
    /// Where a node's pods and events are asked for while its detail is open (none: replay).
    pub detail: Option<crate::sources::detail::Link>,
}

/// Bytes for the terminal outside a frame: the OSC 52 clipboard sequence of `y`.
pub trait Passthrough {
    fn passthrough(&mut self, bytes: &[u8]) -> std::io::Result<()>;
}

impl<W: std::io::Write> Passthrough for ratatui::backend::CrosstermBackend<W> {
    fn passthrough(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        self.write_all(bytes)?;
        Write::flush(self)
    }
}

/// A `TestBackend` keeps cells, not bytes: nothing to pass through (the bytes are tested on a
/// `CrosstermBackend` writing into memory).
impl Passthrough for ratatui::backend::TestBackend {
    fn passthrough(&mut self, _bytes: &[u8]) -> std::io::Result<()> {
        Ok(())
    }
}

/// OSC 52: ask the terminal to put `text` on the clipboard (`c`). The payload is base64, so no
/// byte of it can end the sequence early; it works over SSH and through tmux
/// (`set-clipboard on`).
pub fn osc52(text: &str) -> Vec<u8> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("\x1b]52;c;{b64}\x07").into_bytes()
}

/// Write the view on screen to `path` (`:export`): plain text, or markdown (a heading and the
/// view in a fenced block) when `markdown`. Returns the message for the footer.
pub fn export(model: &Model, theme: &Theme, path: &std::path::Path, markdown: bool) -> String {
    let Some(snap) = &model.snap else { return "nothing to export yet".into() };
    let (w, h) = model.size;
    let lines = views::text(model, theme, w.max(80), h.max(24));
    let at = snap.now.with_timezone(&snap.tz).format("%Y-%m-%d %H:%M:%S %Z");
    let title = format!("clustertop {}: {} at {at}", model.view.title(), snap.cluster);
    let mut out = String::new();
    if markdown {
        out.push_str(&format!("# {title}\n\n"));
        if !model.filter.is_empty() {
            out.push_str(&format!("Filter: `{}`\n\n", model.filter.replace('`', "'")));
        }
        out.push_str("```text\n");
    } else {
        out.push_str(&format!("{title}\n"));
        if !model.filter.is_empty() {
            out.push_str(&format!("filter: {}\n", model.filter));
        }
        out.push('\n');
    }
    for l in &lines {
        out.push_str(l);
        out.push('\n');
    }
    if markdown {
        out.push_str("```\n");
    }
    match std::fs::write(path, out) {
        Ok(()) => format!("exported {} to {} ({} lines)", model.view.title(), path.display(), lines.len()),
        Err(e) => format!("export to {} failed: {e}", path.display()),
    }
}

/// What the metrics source should fetch for the screen as it is: the 7-day history only under
/// the 7-day zoom, one node's curve while its detail is open, pods while the pod watch fails.
pub fn interest(model: &Model) -> Interest {
    let history_s = if model.zoom == Zoom::D7 { 7 * 86_400 } else { prometheus::DEFAULT_HISTORY_S };
    let node = model.detail_node().map(str::to_string);
    let pods = model.snap.as_ref().is_some_and(|s| {
        let kube =
            |scope: &str| s.sources.iter().find(|x| x.source == SourceId::Kubernetes && x.scope == scope);
        let bad = |scope: &str| kube(scope).is_some_and(|x| !x.health.is_ok());
        bad("") || bad("pods")
    });
    Interest { history_s, node, pods }
}

/// What the on-demand detail source should fetch: the open node's pods and events (live only),
/// and how many refreshes were asked for.
pub fn detail_want(model: &Model) -> crate::sources::detail::Want {
    let node = model.detail_node().filter(|_| model.at.is_none()).map(str::to_string);
    crate::sources::detail::Want { node, asked: model.detail_asked }
}

/// The dashboard until it quits, with a past for the time cursor (the recording; `clustertop
/// replay`), or the reason there is none.
pub async fn run_rewindable(
    snaps: watch::Receiver<Option<Arc<Snapshot>>>,
    opts: Options,
    rewind: Rewind,
) -> Result<()> {
    let (mut term, _guard) = tui::init(opts.mouse)?;
    let mut sigterm = signal(SignalKind::terminate()).context("SIGTERM handler")?;
    let mut sighup = signal(SignalKind::hangup()).context("SIGHUP handler")?;
    let mut sigint = signal(SignalKind::interrupt()).context("SIGINT handler")?;
    let quit = async move {
        tokio::select! {
            _ = sigterm.recv() => {}
            _ = sighup.recv() => {}
            _ = sigint.recv() => {}
        }
    };
    let synced = |t: &mut DefaultTerminal, f: &mut dyn FnMut(&mut ratatui::Frame)| tui::draw(t, f);
    run_main_loop(&mut term, EventStream::new(), snaps, opts, rewind, quit, synced).await.map(|_| ())
}

/// Draw straight onto any backend (tests).
pub fn plain_draw<B: Backend>(t: &mut Terminal<B>, f: &mut dyn FnMut(&mut ratatui::Frame)) -> Result<()>
where
    B::Error: Send + Sync + 'static,
{
    t.draw(|frame| f(frame))?;
    Ok(())
}

/// What a run of the loop did, for tests and the log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoopStats {
    pub frames: u64,
}

/// The loop itself, on any backend and any event stream: redraw only when something changed, at
/// most `MAX_FPS` frames a second (the first frame with data at once), bursts coalesced; apply
/// each message, then tell the metrics source what is on screen; return on `Effect::Quit`, when
/// `quit` resolves or the events end.
pub async fn run_main_loop<B, E>(
    term: &mut Terminal<B>,
    mut events: E,
    mut snaps: watch::Receiver<Option<Arc<Snapshot>>>,
    opts: Options,
    rewind: Rewind,
    quit: impl Future<Output = ()>,
    draw: impl Fn(&mut Terminal<B>, &mut dyn FnMut(&mut ratatui::Frame)) -> Result<()>,
) -> Result<LoopStats>
where
    B: Backend + Passthrough,
    E: Stream<Item = std::io::Result<Event>> + Unpin,
{
    let mut theme = opts.theme;
    let mut detail = opts.detail;
    let size = term.get_frame().area();
    let mut model = Model {
        theme: theme.name.clone(),
        size: (size.width, size.height),
        past: rewind.past(),
        ..Model::default()
    };
    let mut reader = past::Reader::new(rewind.history);
    if let Some(s) = snaps.borrow_and_update().clone() {
        update(&mut model, Msg::Snapshot(s));
    }
    let frame = Duration::from_millis(1000 / MAX_FPS);
    let mut dirty = true;
    let mut last_draw = Instant::now() - frame;
    let mut stats = LoopStats::default();
    let mut logged_first = false;
    // One log line per drawn frame, for the idle-redraw test (`tests/e2e_idle.rs`).
    let log_frames = std::env::var_os(LOG_FRAMES).is_some_and(|v| v == "1");
    let mut quit = std::pin::pin!(quit);
    let mut told: Option<Interest> = None;

    loop {
        // The frame cap never delays the first frame with data.
        if dirty && (last_draw.elapsed() >= frame || (!logged_first && model.snap.is_some())) {
            let mut hits = None;
            draw(term, &mut |f| hits = Some(views::render_frame(&model, &theme, f.area(), f.buffer_mut())))?;
            // Where things are on screen: for clicks and scroll bounds, not a change to draw.
            if let Some(h) = hits {
                update(&mut model, Msg::Drawn(h));
            }
            last_draw = Instant::now();
            dirty = false;
            stats.frames += 1;
            if log_frames {
                tracing::info!("frame {}", stats.frames);
            }
            if !logged_first && model.snap.is_some() {
                logged_first = true;
                tracing::info!(
                    "first frame with data after {:.1} ms",
                    opts.started.elapsed().as_secs_f64() * 1e3
                );
                // The panic path's terminal restore is tested on debug builds only
                // (`tests/e2e_signals.rs`); release builds have no such switch.
                #[cfg(debug_assertions)]
                if std::env::var_os(TEST_PANIC).is_some() {
                    panic!("{TEST_PANIC} is set: panicking after the first frame with data");
                }
            }
        }
        let mut msgs = Vec::new();
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) => msgs.extend(keymap::map(&model.mode, model.view, &k)),
                Some(Ok(Event::Mouse(m))) if opts.mouse => msgs.extend(mouse(&m)),
                Some(Ok(Event::Resize(w, h))) => msgs.push(Msg::Resize(w, h)),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e).context("reading terminal input"),
                None => return Ok(stats),
            },
            changed = snaps.changed() => {
                if changed.is_err() {
                    anyhow::bail!("the data pipeline stopped unexpectedly");
                }
                if let Some(s) = snaps.borrow_and_update().clone() {
                    msgs.push(Msg::Snapshot(s));
                }
            }
            Some(d) = async {
                match detail.as_mut() {
                    Some(l) => l.got.recv().await,
                    None => std::future::pending().await,
                }
            } => msgs.push(Msg::NodeDetail(d)),
            _ = tokio::time::sleep_until(last_draw + frame), if dirty => {}
            answer = reader.answer(), if reader.busy() => msgs.push(answer),
            _ = &mut quit => return Ok(stats),
        }
        for msg in msgs {
            dirty = true;
            for effect in update(&mut model, msg) {
                match effect {
                    Effect::Quit => {
                        tracing::info!("quit after {} frames", stats.frames);
                        return Ok(stats);
                    }
                    Effect::LoadTheme(name) => {
                        let notice = match Theme::load(&name, opts.ascii) {
                            Ok(t) if opts.no_color && !t.is_colorless() => {
                                format!(
                                    "NO_COLOR is set: keeping {} (theme {} has colours)",
                                    theme.name, t.name
                                )
                            }
                            Ok(t) => {
                                theme = t;
                                model.theme = theme.name.clone();
                                format!("theme {}", theme.name)
                            }
                            Err(e) => format!("{e:#}"),
                        };
                        update(&mut model, Msg::Notice(notice));
                    }
                    Effect::Copy(text) => {
                        if let Err(e) = term.backend_mut().passthrough(&osc52(&text)) {
                            update(&mut model, Msg::Notice(format!("copy failed: {e}")));
                        }
                    }
                    Effect::Export { path, markdown } => {
                        let notice = export(&model, &theme, &path, markdown);
                        update(&mut model, Msg::Notice(notice));
                    }
                    // The history is read off the loop (a first read into another hour can take
                    // a second at 5,000 nodes): keys and live data go on meanwhile.
                    Effect::Seek { at, to_start } => reader.ask(past::Ask::Seek { at, to_start }),
                    Effect::Diff { from, to } => reader.ask(past::Ask::Diff { from, to }),
                }
            }
        }
        // After the messages are applied: the node just opened, the zoom just chosen, reach the
        // metrics source now, not at the next event.
        if let Some(l) = &detail {
            let want = detail_want(&model);
            l.want.send_if_modified(|cur| (*cur != want).then(|| *cur = want).is_some());
        }
        if let Some(tx) = &opts.interest {
            let want = interest(&model);
            if told.as_ref() != Some(&want) {
                tx.send_if_modified(|cur| (*cur != want).then(|| *cur = want.clone()).is_some());
                told = Some(want);
            }
        }
    }
}

/// A mouse event as the model sees it: a left click, or a wheel notch.
fn mouse(m: &crossterm::event::MouseEvent) -> Option<Msg> {
    let ev = match m.kind {
        MouseEventKind::Down(MouseButton::Left) => Mouse::Click { x: m.column, y: m.row },
        MouseEventKind::ScrollDown => Mouse::WheelDown,
        MouseEventKind::ScrollUp => Mouse::WheelUp,
        _ => return None,
    };
    Some(Msg::Mouse(ev))
}

#[path = "event_loop/past.rs"]
mod past;
pub use past::{Rewind, diff_resolution};

#[path = "event_loop/replay.rs"]
pub mod replay;

#[cfg(test)]
#[path = "event_loop/tests.rs"]
mod loop_tests;

#[cfg(test)]
#[path = "event_loop/rewind_tests.rs"]
mod rewind_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Mode;
    use crate::model::{SourceHealth, SourceStatus};

    fn model(kube: &[(&str, SourceHealth)]) -> Model {
        let mut snap = crate::testkit::cluster_b::snapshot();
        snap.sources = kube
            .iter()
            .map(|(scope, health)| SourceStatus {
                source: SourceId::Kubernetes,
                scope: scope.to_string(),
                health: health.clone(),
                updated: None,
                note: None,
            })
            .collect();
        Model { snap: Some(Arc::new(snap)), ..Model::default() }
    }

    #[test]
    fn the_metrics_source_is_asked_only_for_what_is_on_screen() {
        let forbidden = SourceHealth::Forbidden { verb: "list".into(), resource: "pods".into() };
        let mut m = model(&[("", SourceHealth::Ok)]);
        assert_eq!(interest(&m), Interest::default(), "24 h, no node, pods from the API");
        m.zoom = Zoom::D7;
        m.mode = Mode::Detail("r1-n01".into());
        let i = interest(&m);
        assert_eq!((i.history_s, i.node.as_deref(), i.pods), (7 * 86_400, Some("r1-n01"), false));
        assert!(interest(&model(&[("", SourceHealth::Ok), ("pods", forbidden)])).pods, "pod watch forbidden");
        let down = SourceHealth::Unreachable { error: "refused".into() };
        assert!(interest(&model(&[("", down)])).pods, "API down");
        assert!(!interest(&model(&[])).pods, "not before the API has answered once");
    }
}
