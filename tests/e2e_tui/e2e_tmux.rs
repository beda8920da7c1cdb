//! End to end: the built binary in a real terminal (tmux), driven by keys, read by capture-pane.
//! Polls with a deadline, never sleeps to synchronise. With `CI=true`, a missing tmux fails.

use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_clustertop");

struct Session(String);

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["kill-session", "-t", &self.0]).output();
    }
}

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux").args(args).output().expect("tmux runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn have_tmux() -> bool {
    let ok = Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success());
    if !ok && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("tmux is required for the end-to-end tests in CI (scripts/setup installs it)");
    }
    ok
}

impl Session {
    fn start(name: &str, w: u16, h: u16, env: &[(&str, &str)], args: &str) -> Session {
        let name = format!("ct-{name}-{}", std::process::id());
        let mut cmd = vec!["new-session".to_string(), "-d".into(), "-s".into(), name.clone()];
        cmd.extend(["-x".into(), w.to_string(), "-y".into(), h.to_string()]);
        cmd.extend(["-e".into(), "TERM=xterm-256color".into()]);
        for (k, v) in env {
            cmd.extend(["-e".into(), format!("{k}={v}")]);
        }
        // The shell reports the exit status on the normal screen once clustertop has left the
        // alternate screen; the session is killed by `Drop`.
        cmd.push(format!("sh -c '{BIN} {args}; echo EXIT=$?; sleep 60'"));
        let s = Session(name);
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        tmux(&args);
        s
    }
    fn screen(&self) -> String {
        tmux(&["capture-pane", "-p", "-t", &self.0])
    }
    fn screen_escapes(&self) -> String {
        tmux(&["capture-pane", "-p", "-e", "-t", &self.0])
    }
    fn keys(&self, keys: &[&str]) {
        let mut a = vec!["send-keys", "-t", &self.0];
        a.extend(keys);
        tmux(&a);
    }
    fn literal(&self, text: &str) {
        tmux(&["send-keys", "-t", &self.0, "-l", text]);
    }
    fn display(&self, fmt: &str) -> String {
        tmux(&["display", "-p", "-t", &self.0, fmt]).trim().to_string()
    }
    /// Wait until the screen satisfies `pred`; panic with the screen after the deadline.
    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}; screen:\n{s}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    fn wait_text(&self, text: &str) -> String {
        self.wait_for(text, |s| s.contains(text))
    }
}

#[test]
fn demo_switches_views_filters_resizes_and_quits() {
    if !have_tmux() {
        eprintln!("skipping: tmux not installed");
        return;
    }
    let s = Session::start("views", 120, 40, &[], "demo --tz UTC");
    s.wait_text("1 Overview");
    // Each view, by digit, shows content of its own.
    for (key, expect) in [
        ("2", "NODE"),
        ("3", "TOR"),
        ("4", "RuntimeClass"),
        ("5", "insert"),
        ("6", "01:00-06:00"),
        ("7", "cilium-map-pressure"),
        ("1", "BGP"),
    ] {
        s.keys(&[key]);
        s.wait_text(expect);
    }
    // Tab moves on to Nodes; filter to one rack.
    s.keys(&["Tab"]);
    s.wait_text("NODE");
    s.keys(&["/"]);
    s.literal("r2-");
    s.keys(&["Enter"]);
    let screen = s.wait_text("filter: r2-");
    assert!(!screen.contains("r1-n01"), "filter should hide rack 1:\n{screen}");
    // Help is generated from the keymap.
    s.keys(&["?"]);
    s.wait_text("Keys (where they work)");
    s.keys(&["Escape"]);
    s.wait_for("help closed", |x| !x.contains("Keys (where they work)"));
    // Shrink to 80x24: still readable.
    tmux(&["resize-window", "-t", &s.0, "-x", "80", "-y", "24"]);
    let small = s.wait_for("80x24 redraw", |x| x.lines().count() <= 24 && x.contains("NODE"));
    assert!(small.lines().all(|l| l.chars().count() <= 80));
    // Quit: exit status 0, and the alternate screen is gone.
    s.keys(&["q"]);
    s.wait_text("EXIT=0");
    assert_eq!(s.display("#{alternate_on}"), "0", "alternate screen left");
    assert_eq!(s.display("#{cursor_flag}"), "1", "cursor shown again");
}

#[test]
fn no_color_writes_no_colour() {
    if !have_tmux() {
        eprintln!("skipping: tmux not installed");
        return;
    }
    let s = Session::start("nocolor", 120, 40, &[("NO_COLOR", "1")], "demo --tz UTC");
    s.wait_text("1 Overview");
    s.keys(&["6"]);
    s.wait_text("01:00-06:00");
    // SGR parameters that set a colour: 30-38, 40-48, 90-97, 100-107. (39/49 select the default
    // colour: tmux writes them itself when it serializes the pane.)
    let colours = |esc: &str| -> Vec<String> {
        let mut found = Vec::new();
        for seq in esc.split("\x1b[").skip(1) {
            let params = seq.split('m').next().unwrap_or("");
            if params
                .split(';')
                .any(|p| matches!(p.parse::<u32>().unwrap_or(0), 30..=38 | 40..=48 | 90..=97 | 100..=107))
            {
                found.push(params.to_string());
            }
        }
        found
    };
    let esc = s.screen_escapes();
    assert!(colours(&esc).is_empty(), "colour SGR under NO_COLOR: {:?}\n{esc}", colours(&esc));
    // The same check sees colour when NO_COLOR is not set, so it can fail.
    let c = Session::start("colour", 120, 40, &[], "demo --tz UTC");
    c.wait_text("1 Overview");
    assert!(!colours(&c.screen_escapes()).is_empty(), "the default theme should use colour");
    c.keys(&["q"]);
    s.keys(&["q"]);
}

/// The simulated cluster (48 nodes) recorded every 5 s for 30 minutes from `T0` (12:00 UTC),
/// TOR `tor-5a` down from 12:10 to 12:20: the file a replay is run on.
fn record_outage(path: &std::path::Path) {
    use clustertop_core::testkit::T0;
    use clustertop_record::{Header, Options, Writer};
    use clustertop_sim::{Scenario, Sim, SimConfig};
    let at = |s: i64| T0 + chrono::Duration::seconds(s);
    let mut sim =
        Sim::new(SimConfig { nodes: 48, scenario: Scenario::Healthy, ..SimConfig::default() }, at(0));
    let header = Header { cluster: sim.label(), context: "e2e-ctx".into(), version: "test".into() };
    let mut w = Writer::create(path, &header, Options::default(), at(0)).expect("create the recording");
    w.record(at(0), &sim.initial()).expect("record");
    for s in (5..=1800).step_by(5) {
        let mut batch = sim.step(at(s));
        if s == 600 {
            batch.extend(sim.set_tor(5, 0, false, at(s)));
        }
        if s == 1200 {
            batch.extend(sim.set_tor(5, 0, true, at(s)));
        }
        w.record(at(s), &batch).expect("record");
    }
    w.close().expect("close the recording");
}

/// Rack-5's BGP cells on the Nodes view filtered to it: every one shows `want`.
fn rack5_all(screen: &str, want: &str) -> bool {
    let rows: Vec<&str> =
        screen.lines().filter(|l| l.contains("r5-n0") && l.contains("cilium/bgp")).collect();
    rows.len() >= 4 && rows.iter().all(|l| l.contains(want))
}

#[test]
fn replay_scrubs_a_recorded_tor_outage() {
    if !have_tmux() {
        eprintln!("skipping: tmux not installed");
        return;
    }
    let dir = crate::support::TempDir::new("replay");
    let file = dir.0.join("outage.sqlite");
    record_outage(&file);
    let s = Session::start("replay", 160, 50, &[], &format!("replay --tz UTC {}", file.display()));
    s.wait_text("REPLAY of e2e-ctx at 12:30:00 UTC · the end of the recording");
    // The Nodes view, rack-5 only: after the outage, 2/2.
    s.keys(&["2", "/"]);
    s.literal("rack=rack-5");
    s.keys(&["Enter"]);
    s.wait_for("rack-5 at 2/2 at the end", |x| x.contains("filter: rack=rack-5") && rack5_all(x, "2/2"));
    // `{`: 12:15, during the outage.
    s.keys(&["{"]);
    s.wait_for("12:15 at 1/2", |x| x.contains("REPLAY of e2e-ctx at 12:15:00 UTC") && rack5_all(x, "1/2"));
    // `[`: one minute back.
    s.keys(&["["]);
    s.wait_for("12:14 at 1/2", |x| {
        x.contains("REPLAY of e2e-ctx at 12:14:00 UTC · 16m before the end") && rack5_all(x, "1/2")
    });
    // `:at 12:05`: before.
    s.keys(&[":"]);
    s.literal("at 12:05");
    s.keys(&["Enter"]);
    s.wait_for("12:05 at 2/2", |x| x.contains("REPLAY of e2e-ctx at 12:05:00 UTC") && rack5_all(x, "2/2"));
    // `:at` RFC 3339, then `:diff -20m` lists the outage's start and end.
    s.keys(&[":"]);
    s.literal("at 2026-11-24T12:25:00Z");
    s.keys(&["Enter"]);
    s.wait_for("12:25 at 2/2", |x| x.contains("REPLAY of e2e-ctx at 12:25:00 UTC") && rack5_all(x, "2/2"));
    s.keys(&[":"]);
    s.literal("diff -20m");
    s.keys(&["Enter"]);
    let list = s.wait_text("Changes ");
    assert!(list.lines().any(|l| l.contains("12:10:00") && l.contains("BGP 2/2 → 1/2")), "{list}");
    assert!(list.lines().any(|l| l.contains("12:20:00") && l.contains("BGP 1/2 → 2/2")), "{list}");
    // Esc closes the list (wait: Esc then a key at once reads as Alt+key), then q quits.
    s.keys(&["Escape"]);
    s.wait_for("the list closed", |x| {
        !x.contains("Changes ") && x.contains("REPLAY of e2e-ctx at 12:25:00 UTC")
    });
    s.keys(&["q"]);
    s.wait_text("EXIT=0");
}
