//! Hostile strings: `sim serve --scenario hostile` puts terminal escape sequences (clear screen,
//! cursor moves, window title, OSC 52 clipboard, colours), control characters, bidi overrides and
//! 2,000-character strings in rack names, BGP errors and pod names. Through every view and a
//! node's detail, the screen captured with `tmux capture-pane -e` holds none of them raw (only the
//! dashboard's own colour codes), no line is wider than the terminal, the window title and the
//! clipboard are untouched, and the escaped forms (`\x1b`, `\u{202e}`) are what is shown.

#![allow(clippy::unwrap_used)]

mod support;

use support::tui::{Harness, have_tmux, poll, tmux};
use unicode_width::UnicodeWidthStr;

/// What may be left raw on a captured screen: SGR colour/attribute codes (`ESC [ … m`) only.
fn raw_escapes(captured: &str) -> Vec<String> {
    let mut bad = Vec::new();
    for (i, c) in captured.char_indices() {
        if c == '\u{1b}' {
            let rest = &captured[i + 1..];
            let sgr = rest.starts_with('[')
                && rest[1..]
                    .find(|ch: char| !(ch.is_ascii_digit() || ch == ';' || ch == ':'))
                    .is_some_and(|j| rest.as_bytes()[1 + j] == b'm');
            if !sgr {
                bad.push(rest.chars().take(12).collect());
            }
        } else if (c.is_control() && c != '\n')
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
        {
            bad.push(format!("{c:?}"));
        }
    }
    bad
}

fn strip_sgr(captured: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for c in captured.chars() {
        match (skipping, c) {
            (false, '\u{1b}') => skipping = true,
            (true, 'm') => skipping = false,
            (true, _) => {}
            (false, c) => out.push(c),
        }
    }
    out
}

#[test]
fn hostile_strings_reach_the_screen_inert() {
    if !have_tmux() {
        eprintln!("skipping: tmux not installed");
        return;
    }
    let h = Harness::start_full("e2e-hostile", &["--scenario", "hostile"], &[], "");
    let screen = || h.screen();
    poll("the kube source to be ok", || screen().contains("kube ok").then_some(()), screen);
    let title = tmux(&["display", "-p", "-t", &h.session, "#{pane_title}"]);
    let mut seen_escaped = false;
    for keys in [&["1"][..], &["2"], &["2", "Enter"], &["Escape"], &["3"], &["4"], &["5"], &["6"], &["7"]] {
        h.keys(keys);
        // Let the keys land: the tabs line shows on every view, the detail has "Findings".
        poll("a redraw", || screen().contains("kube ok").then_some(()), screen);
        std::thread::sleep(std::time::Duration::from_millis(300));
        let captured = tmux(&["capture-pane", "-p", "-e", "-t", &h.session]);
        let bad = raw_escapes(&captured);
        assert!(bad.is_empty(), "raw escapes or controls after {keys:?}: {bad:?}\n{}", strip_sgr(&captured));
        let text = strip_sgr(&captured);
        for line in text.lines() {
            assert!(line.width() <= 200, "line wider than the terminal after {keys:?}:\n{line}");
        }
        assert!(!text.contains("pwned-title"), "the OSC title payload shows as text? {keys:?}\n{text}");
        seen_escaped |= text.contains("\\u{202e}") || text.contains("\\x1b") || text.contains("\\x0d");
    }
    assert!(seen_escaped, "the hostile strings were shown (escaped) somewhere");
    assert_eq!(tmux(&["display", "-p", "-t", &h.session, "#{pane_title}"]), title, "window title unchanged");
    let buffers = tmux(&["list-buffers"]);
    assert!(!buffers.contains("pwned"), "no clipboard write: {buffers}");
}
