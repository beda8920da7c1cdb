//! The dashboard's flight recorder in a real terminal: on by default into
//! `$XDG_STATE_HOME/clustertop/recordings/<context>.db`, closed cleanly on quit; off with
//! `record = false`; a target that cannot be written (not a directory, a file size limit standing
//! in for a full disk) is a visible warning while the dashboard goes on.

use std::path::Path;

use clustertop::analysis::Settings;
use clustertop::record::{History, Recording};

use crate::support::tui::{Harness, have_tmux, poll};

const THEN: &str = "";

fn dashboard_up(h: &Harness) {
    poll("the dashboard with its nodes", || h.screen().contains("48 nodes").then_some(()), || h.screen());
}

fn quit(h: &Harness) {
    h.keys(&["q"]);
    poll("the dashboard to exit", || h.screen().contains("EXIT=0").then_some(()), || h.screen());
}

#[test]
fn the_dashboard_records_by_default_and_closes_the_file_on_quit() {
    if !have_tmux() {
        return;
    }
    let h = Harness::start_then("e2e-rec-on", &[], THEN);
    dashboard_up(&h);
    let file = h.dir.join("state/clustertop/recordings/clustertop-sim.db");
    poll(
        "the recording to hold the cluster",
        || {
            let r = Recording::open(&file, Settings::default()).ok()?;
            let span = *r.spans().ok()?.last()?;
            (r.snapshot_at(span.end).ok()?.nodes.len() == 48).then_some(())
        },
        || format!("{}\n{}", file.display(), crate::support::tui::read(&h.log)),
    );
    assert!(h.screen().contains("48 nodes") && !h.screen().contains("recorder"), "{}", h.screen());
    quit(&h);
    let r = Recording::open(&file, Settings::default()).expect("the recording opens");
    let span = *r.spans().expect("spans").last().expect("a span");
    assert!(span.closed, "quitting closes the recording: {span:?}");
    assert_eq!(r.snapshot_at(span.end).expect("the last moment").nodes.len(), 48);
}

#[test]
fn record_false_in_the_config_records_nothing() {
    if !have_tmux() {
        return;
    }
    let cfg = crate::support::unique_dir("e2e-rec-off-cfg");
    std::fs::create_dir_all(cfg.join("clustertop")).expect("config dir");
    std::fs::write(cfg.join("clustertop/config.toml"), "record = false\n").expect("config");
    let h = Harness::start_then("e2e-rec-off", &[format!("XDG_CONFIG_HOME={}", cfg.display())], THEN);
    dashboard_up(&h);
    quit(&h);
    assert!(!h.dir.join("state/clustertop").exists(), "nothing recorded");
    let _ = std::fs::remove_dir_all(&cfg);
}

fn stopped_with_notice(h: &Harness) -> String {
    dashboard_up(h);
    let line = poll(
        "the recorder's notice",
        || h.screen().lines().find(|l| l.contains("recording stopped")).map(str::to_string),
        || h.screen(),
    );
    let screen = h.screen();
    assert!(screen.contains("▲ recorder stopped"), "{screen}");
    assert!(screen.contains("48 nodes"), "the dashboard goes on: {screen}");
    // Still alive: a key is answered.
    h.keys(&["2"]);
    poll("the Nodes view", || (!h.screen().contains("Top findings")).then_some(()), || h.screen());
    println!("notice: {}", line.trim());
    line
}

#[test]
fn a_recording_target_that_is_not_a_directory_is_a_warning_and_the_dashboard_goes_on() {
    if !have_tmux() {
        return;
    }
    let h = Harness::start_then("e2e-rec-notdir", &["XDG_STATE_HOME=/dev/null".into()], THEN);
    let notice = stopped_with_notice(&h);
    assert!(notice.contains("Not a directory"), "{notice}");
}

#[test]
fn a_full_disk_stops_the_recording_with_a_notice_and_the_dashboard_goes_on() {
    if !have_tmux() {
        return;
    }
    // A file size limit of 160 KiB stands in for the full disk: writes past it fail (EFBIG; the
    // signal that would kill the process is ignored, as a full disk sends none).
    let h = Harness::start_shell("e2e-rec-full", &[], &[], "trap \"\" XFSZ; ulimit -f 320;", THEN);
    stopped_with_notice(&h);
    let file = h.dir.join("state/clustertop/recordings/clustertop-sim.db");
    assert!(Path::new(&file).exists(), "it started recording: {}", h.screen());
}
