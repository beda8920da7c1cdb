//! An idle dashboard does not redraw: the built binary against a frozen `sim serve --static`, in a
//! real terminal (tmux), with no input and no new data for a few seconds.
//!
//! Design: frames are counted, never timed. The dashboard runs with `CLUSTERTOP_LOG=<file>` and
//! `CLUSTERTOP_LOG_FRAMES=1`, so the UI loop logs `frame N` after each frame it draws, and
//! `quit after N frames` when `q` is pressed. The test
//! 1. waits (polling, with a deadline) for the kube source to be ok on screen and for the frame
//!    count to stop moving for `SETTLE` (the initial lists and their bursts are over); a dashboard
//!    that redraws more often than that never settles and fails here;
//! 2. watches the log for `IDLE`, with no keys sent and a server that does not change;
//! 3. presses `q` and checks that the quit line's count equals the last `frame N` line (the two
//!    counters agree, so no frame went unlogged).
//!
//! The store rebuilds a snapshot at least every `RESNAPSHOT` (15 s) even when nothing changed, so
//! ages and staleness move on; each such snapshot is one legitimate frame. The idle window is kept
//! well under 15 s after the last frame, and the assertion allows exactly as many frames as whole
//! `RESNAPSHOT` periods fit between that last frame and the end of the window (zero, unless the
//! machine stalls for seconds). Every process is stopped by PID; the tmux session is killed.
//! With `CI=true`, a missing tmux fails.

use std::time::{Duration, Instant};

use crate::support::tui::{Harness, have_tmux, poll, read};
use clustertop::event_loop::{LOG_FRAMES, RESNAPSHOT};

/// How long the frame count must stay put before the idle window starts.
const SETTLE: Duration = Duration::from_millis(1500);
/// The idle window: a few seconds, well under `RESNAPSHOT`.
const IDLE: Duration = Duration::from_secs(5);

/// The number in the last `frame N` line of the log (0 before the first frame).
fn frames(log: &str) -> u64 {
    log.lines()
        .filter_map(|l| l.rsplit_once(" frame ").and_then(|(_, n)| n.trim().parse().ok()))
        .next_back()
        .unwrap_or(0)
}

fn quit_count(log: &str) -> Option<u64> {
    log.lines().find_map(|l| {
        let rest = l.split_once("quit after ")?.1;
        rest.strip_suffix(" frames")?.trim().parse().ok()
    })
}

#[test]
fn an_idle_dashboard_draws_no_frames() {
    if !have_tmux() {
        eprintln!("skipping: tmux not installed");
        return;
    }
    let h = Harness::start("e2e-idle", &[format!("{LOG_FRAMES}=1")]);
    let log = h.log.clone();
    let screen = || h.screen();
    poll("the kube source to be ok", || screen().contains("kube ok").then_some(()), screen);

    // Settle: the frame count has not moved for SETTLE.
    let (mut seen, mut since) = (frames(&read(&log)), Instant::now());
    let (before, last_frame_at) = poll(
        "the frame count to settle (a dashboard that keeps redrawing never settles)",
        || {
            let n = frames(&read(&log));
            if n != seen {
                (seen, since) = (n, Instant::now());
            }
            (since.elapsed() >= SETTLE).then_some((seen, since))
        },
        || read(&log),
    );
    assert!(before >= 1, "no frame logged; is {LOG_FRAMES} honoured?\n{}", read(&log));

    // Idle: no keys, a frozen server. Observe, do not act.
    let start = Instant::now();
    while start.elapsed() < IDLE {
        std::thread::sleep(Duration::from_millis(100));
    }
    let after = frames(&read(&log));
    let window = last_frame_at.elapsed();

    h.keys(&["q"]);
    let quit = poll("the quit line", || quit_count(&read(&log)), || read(&log));
    poll("the dashboard to exit", || screen().contains("EXIT=0").then_some(()), screen);
    assert_eq!(quit, frames(&read(&log)), "quit count and frame lines disagree:\n{}", read(&log));

    let allowed = (window.as_secs_f64() / RESNAPSHOT.as_secs_f64()).floor() as u64;
    assert!(
        after - before <= allowed,
        "{} frame(s) drawn while idle for {:.1} s (allowed {allowed}: one per {} s re-snapshot):\n{}",
        after - before,
        window.as_secs_f64(),
        RESNAPSHOT.as_secs(),
        read(&log)
    );
}
