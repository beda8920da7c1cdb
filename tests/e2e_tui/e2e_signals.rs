//! The terminal is restored when the dashboard is stopped by SIGTERM or SIGHUP (an SSH session
//! dropped), and when it panics (`CLUSTERTOP_TEST_PANIC`, debug builds only): after it exits, tmux says the pane left the alternate screen and shows the cursor,
//! and `stty` in the same terminal says canonical mode (raw mode off). Polls with deadlines; the
//! server and the tmux session are stopped on drop.

#![allow(clippy::unwrap_used)]

use std::process::Command;

use crate::support::tui::{Harness, have_tmux, poll, tmux};

/// After the dashboard: one line saying whether the terminal is in canonical mode.
const THEN: &str = r#"stty -a | tr " " "\n" | grep -x -e icanon -e -icanon | sed s/^/MODE=/;"#;

fn stopped_by(signal: &str) {
    let h = Harness::start_then(&format!("e2e-{}", signal.to_lowercase()), &[], THEN);
    let screen = || h.screen();
    poll("the kube source to be ok", || screen().contains("kube ok").then_some(()), screen);
    assert_eq!(tmux(&["display", "-p", "-t", &h.session, "#{alternate_on}"]).trim(), "1", "running");
    let pid = poll("the dashboard's pid", || h.dashboard_pid(), screen);
    assert!(Command::new("kill").args([&format!("-{signal}"), &pid]).status().unwrap().success());
    let text = restored(&h, &format!("SIG{signal}"));
    assert!(!text.contains("panicked"), "{text}");
}

/// The checks after the dashboard has exited: alternate screen left, cursor shown, raw mode off.
fn restored(h: &Harness, why: &str) -> String {
    let screen = || h.screen();
    let text = poll("the dashboard to exit", || screen().contains("MODE=").then(screen), screen);
    let state = tmux(&["display", "-p", "-t", &h.session, "#{alternate_on} #{cursor_flag}"]);
    assert_eq!(state.trim(), "0 1", "alternate screen left, cursor shown after {why}:\n{text}");
    assert!(text.contains("MODE=icanon"), "raw mode off after {why}:\n{text}");
    text
}

#[test]
fn a_panic_restores_the_terminal_and_says_why() {
    if !have_tmux() {
        return;
    }
    let h = Harness::start_then("e2e-panic", &[format!("{}=1", clustertop::event_loop::TEST_PANIC)], THEN);
    let text = restored(&h, "a panic");
    assert!(text.contains("panicking after the first frame") && text.contains("EXIT=101"), "{text}");
}

#[test]
fn sigterm_restores_the_terminal() {
    if have_tmux() {
        stopped_by("TERM");
    }
}

#[test]
fn sighup_restores_the_terminal() {
    if have_tmux() {
        stopped_by("HUP");
    }
}

/// Shrunk to 20x5 the dashboard says it is too small (no panic, nothing drawn outside); grown back
/// to 200x50 it draws everything again, and still quits cleanly with the terminal restored.
#[test]
fn shrunk_to_20x5_and_grown_back() {
    if !have_tmux() {
        return;
    }
    let h = Harness::start_then("e2e-resize", &[], THEN);
    let screen = || h.screen();
    poll("the kube source to be ok", || screen().contains("kube ok").then_some(()), screen);
    for view in ["2", "3", "6"] {
        h.keys(&[view]);
        tmux(&["resize-window", "-t", &h.session, "-x", "20", "-y", "5"]);
        poll("the too-small notice", || screen().contains("terminal 20x5 is too").then_some(()), screen);
        tmux(&["resize-window", "-t", &h.session, "-x", "200", "-y", "50"]);
        poll("the full screen again", || screen().contains("kube ok").then_some(()), screen);
    }
    h.keys(&["q"]);
    let text = restored(&h, "q after resizes");
    assert!(text.contains("EXIT=0") && !text.contains("panicked"), "{text}");
}
