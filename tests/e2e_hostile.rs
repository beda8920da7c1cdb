//! Hostile strings: `sim serve --scenario hostile` puts terminal escape sequences (clear screen,
//! cursor moves, window title, OSC 52 clipboard, colours), control characters, bidi overrides and
//! 2,000-character strings in rack names, BGP errors and pod names. Through every view and a
//! node's detail, the screen captured with `tmux capture-pane -e` holds none of them raw (only the
//! dashboard's own colour codes), no line is wider than the terminal, the window title and the
//! clipboard are untouched, and the escaped forms (`\x1b`, `\u{202e}`) are what is shown. The
//! same holds for a node agent's report carrying such strings in every free-text field.

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

/// The pane, captured with `-e`, checked: nothing raw but SGR codes, no line wider than `width`,
/// no OSC title payload as text. Returns the text without the SGR codes.
fn checked_screen(h: &Harness, width: usize, after: &str) -> String {
    let captured = tmux(&["capture-pane", "-p", "-e", "-t", &h.session]);
    let bad = raw_escapes(&captured);
    assert!(bad.is_empty(), "raw escapes or controls after {after}: {bad:?}\n{}", strip_sgr(&captured));
    let text = strip_sgr(&captured);
    for line in text.lines() {
        assert!(line.width() <= width, "line wider than the terminal after {after}:\n{line}");
    }
    assert!(!text.contains("pwned-title"), "the OSC title payload shows as text? {after}\n{text}");
    text
}

/// Whether escaped forms of the hostile strings are on screen.
fn shows_escaped(text: &str) -> bool {
    text.contains("\\u{202e}") || text.contains("\\x1b") || text.contains("\\x0d")
}

/// Send `keys`, let them land (the status line shows on every view), and check the screen.
fn visit(h: &Harness, keys: &[&str]) -> String {
    h.keys(keys);
    poll("a redraw", || h.screen().contains("kube ok").then_some(()), || h.screen());
    std::thread::sleep(std::time::Duration::from_millis(300));
    checked_screen(h, 200, &format!("{keys:?}"))
}

/// Neither the window title nor tmux's paste buffers (the OSC 52 clipboard) changed.
fn title_and_clipboard_untouched(h: &Harness, title: &str) {
    assert_eq!(tmux(&["display", "-p", "-t", &h.session, "#{pane_title}"]), title, "window title unchanged");
    let buffers = tmux(&["list-buffers"]);
    assert!(!buffers.contains("pwned"), "no clipboard write: {buffers}");
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
        seen_escaped |= shows_escaped(&visit(&h, keys));
    }
    assert!(seen_escaped, "the hostile strings were shown (escaped) somewhere");
    title_and_clipboard_untouched(&h, &title);
}

/// Every kind of trouble at once, after `tag` (so each field can be found on screen): clear
/// screen, cursor home and move, OSC 0 title, OSC 52 clipboard, colours, bidi override, C0, DEL,
/// C1 (8-bit CSI).
fn hostile(tag: &str) -> String {
    format!(
        "{tag}\u{1b}[2J\u{1b}[H\u{1b}[10;10Hmoved\u{1b}]0;pwned-title\u{07}\u{1b}]52;c;cHduZWQ=\u{07}\
         \u{202e}desrever\u{202c}\u{1b}[31;1;5mred\u{1b}[0m\r\n\t\u{08}\u{7f}\u{9b}31m\u{1b}"
    )
}

/// A BGP peer as a Cilium agent reports it.
fn peer(name: &str, addr: &str, state: &str, last_error: &str) -> serde_json::Value {
    serde_json::json!({
        "name": name, "neighbor_address": addr, "neighbor_as": 65001, "local_as": 65100,
        "state": state, "since_s": 60, "last_error": last_error, "routes_imported": 3,
        "routes_exported": 1, "hold_time_s": 90, "keepalive_s": 30,
    })
}

/// A node agent for `r4-n01` (a BGP node of the simulated cluster) whose report carries hostile
/// text in every free-text field: interface names and kinds, CNI config files and plugin types,
/// BGP peer names, addresses, states and last errors (one of 2,000 characters), the agent
/// version, the CPU flag and the reasons of absent facts. A second agent answers JSON that
/// does not parse, whose error quotes a hostile key, so the reason shown for it is hostile too.
/// The dashboard, against `sim serve --scenario hostile`, shows them inert in the Network,
/// Conntrack and Triage views, the status line and the node's detail, at 200 and 100 columns.
/// (Of these fields the dashboard displays the peers, interface names, CNI files and the parse
/// error; the version, kinds, plugin types, CPU flag and absent reasons are not shown at all.)
#[test]
fn hostile_agent_reports_reach_the_screen_inert() {
    use support::agent::{FakeAgent, Reply, ok_json, real_report};
    if !have_tmux() {
        eprintln!("skipping: tmux not installed");
        return;
    }
    let mut r = real_report("r4-n01");
    r["agent_version"] = hostile("ver").into();
    r["interfaces"] = serde_json::json!({"value": [
        {"name": "cilium_host", "kind": "veth", "up": true},
        {"name": hostile("lxcIFACE"), "kind": hostile("kind"), "up": true},
        {"name": hostile("cilium_vxlan"), "kind": "vxlan", "up": true},
    ]});
    r["cni_configs"] =
        serde_json::json!({"value": [{"file": hostile("05-CNIFILE"), "types": [hostile("cilium-cni")]}]});
    r["cpu_virt"] = serde_json::json!({"value": hostile("vmx")});
    r["modules"] = serde_json::json!({"absent": hostile("modules")});
    r["bgp_bird"] = serde_json::json!({"absent": hostile("bird")});
    let long = format!("LONGERR{}", "-long".repeat(400));
    r["bgp_cilium"] = serde_json::json!({"value": [
        peer(&hostile("PEERNAME"), &hostile("PEERADDR"), &hostile("STATE"), &hostile("PEERERR")),
        peer("tor-4a", "10.4.0.1", "idle", &long),
        peer(&"p".repeat(2000), "10.4.0.2", "active", &hostile("ERR2")),
    ]});
    let good = serde_json::to_vec(&r).unwrap();
    let agent = FakeAgent::start(move |_| Reply { delay: std::time::Duration::ZERO, bytes: ok_json(&good) });
    let mut bad = real_report("r4-n02");
    bad["bgp_bird"] = serde_json::json!({ hostile("BADKEY"): 1 });
    let bad = serde_json::to_vec(&bad).unwrap();
    let broken = FakeAgent::start(move |_| Reply { delay: std::time::Duration::ZERO, bytes: ok_json(&bad) });

    let env = [format!("CLUSTERTOP_AGENTS={},{}", agent.url(), broken.url())];
    let h = Harness::start_full("e2e-hostile-agent", &["--scenario", "hostile"], &env, "");
    let screen = || h.screen();
    poll("the kube source to be ok", || screen().contains("kube ok").then_some(()), screen);
    let title = tmux(&["display", "-p", "-t", &h.session, "#{pane_title}"]);

    // The node's detail, found by filtering the Nodes view, once the agent's report is in.
    h.keys(&["2", "/", "r4-n01", "Enter", "Enter"]);
    poll("the agent's BGP peers in the detail", || screen().contains("PEERNAME").then_some(()), screen);
    let mut seen = String::new();
    seen += &checked_screen(&h, 200, "the node detail");
    for keys in [&["Escape"][..], &["Escape", "3"], &["5"], &["7"], &["1"], &["6"], &["4"]] {
        seen += &visit(&h, keys);
    }
    // Narrower: the detail's one-line-per-field layout. The filter is kept: edit it anew.
    tmux(&["resize-window", "-t", &h.session, "-x", "100", "-y", "40"]);
    h.keys(&["2", "/"]);
    h.keys(&["BSpace"; 20]);
    h.keys(&["r4-n01", "Enter", "Enter"]);
    poll("the detail at 100 columns", || screen().contains("PEERNAME").then_some(()), screen);
    std::thread::sleep(std::time::Duration::from_millis(300));
    seen += &checked_screen(&h, 100, "the node detail at 100 columns");
    h.keys(&["Escape", "Escape", "3"]);
    poll("the Network view at 100 columns", || screen().contains("PEERERR").then_some(()), screen);
    seen += &checked_screen(&h, 100, "the Network view at 100 columns");

    for shown in ["PEERNAME", "PEERADDR", "PEERERR", "LONGERR", "lxcIFACE", "05-CNIFILE", "BADKEY"] {
        assert!(seen.contains(shown), "{shown} never reached the screen:\n{seen}");
    }
    assert!(shows_escaped(&seen), "the hostile strings were shown escaped:\n{seen}");
    title_and_clipboard_untouched(&h, &title);
    drop(h);
    drop((agent, broken));
}
