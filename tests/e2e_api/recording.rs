//! The flight recorder as a user runs it: `clustertop record` against `sim serve` on loopback and
//! on the simulated cluster, stopped by SIGINT, SIGTERM and SIGKILL (by pid); a second recorder
//! on the same file; damaged files; and a scripted TOR outage (recorded on an injected clock) read
//! back through `snapshot --from --at` and `report incident`. Polls with deadlines.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use clustertop::analysis::Settings;
use clustertop::model::Update;
use clustertop::record::{Header, History, Options, Recording, Span, Writer};
use clustertop::sim::serve::Server;
use clustertop::sim::{Scenario, Sim, SimConfig};
use clustertop_core::testkit::T0;

use crate::support::TempDir;
use crate::support::kube::serve_config;

const BIN: &str = env!("CARGO_BIN_EXE_clustertop");
const DEADLINE: Duration = Duration::from_secs(60);

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env("TZ", "UTC").output().expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn at(s: i64) -> DateTime<Utc> {
    T0 + chrono::Duration::seconds(s)
}

fn rfc(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A recorder child: `clustertop record <args> --out <out>`, its stderr in `<out>.log`.
fn recorder(args: &[&str], out: &Path) -> Child {
    let log = std::fs::File::create(out.with_extension("log")).expect("log");
    Command::new(BIN)
        .arg("record")
        .args(args)
        .arg("--out")
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("clustertop record starts")
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill").args([sig, &child.id().to_string()]).status().expect("kill runs");
    assert!(ok.success(), "kill {sig} {}", child.id());
}

fn wait(child: &mut Child) -> std::process::ExitStatus {
    let end = Instant::now() + DEADLINE;
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return s;
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the recorder did not exit within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The last span of the recording once it holds `nodes` nodes and `secs` seconds.
fn recorded(path: &Path, nodes: usize, secs: i64) -> Span {
    let end = Instant::now() + DEADLINE;
    loop {
        let ready = Recording::open(path, Settings::default()).ok().and_then(|r| {
            let span = *r.spans().ok()?.last()?;
            let snap = r.snapshot_at(span.end).ok()?;
            (snap.nodes.len() == nodes && (span.end - span.start).num_seconds() >= secs).then_some(span)
        });
        if let Some(s) = ready {
            return s;
        }
        let log = std::fs::read_to_string(path.with_extension("log")).unwrap_or_default();
        assert!(Instant::now() < end, "{} never held {nodes} nodes for {secs} s: {log}", path.display());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// SIGINT and SIGTERM: the recorder writes what is left, marks the session closed and exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_against_sim_serve_closes_the_file_on_sigint_and_sigterm() {
    let server = Server::start(serve_config("127.0.0.1:0", &[])).await.expect("sim serve starts");
    let dir = TempDir::new("rec-sig");
    let kubeconfig = dir.0.join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig()).unwrap();
    let k = kubeconfig.to_str().unwrap().to_string();
    for sig in ["-INT", "-TERM"] {
        let out = dir.0.join(format!("rec{sig}.db"));
        let mut child = recorder(&["--kubeconfig", &k], &out);
        let path = out.clone();
        tokio::task::spawn_blocking(move || recorded(&path, crate::support::kube::NODES, 1)).await.unwrap();
        signal(&child, sig);
        let status = tokio::task::spawn_blocking(move || wait(&mut child)).await.unwrap();
        let log = std::fs::read_to_string(out.with_extension("log")).unwrap();
        assert!(status.success(), "{sig}: {status}: {log}");
        assert!(log.contains("closed"), "{log}");
        let r = Recording::open(&out, Settings::default()).expect("opens");
        let span = *r.spans().unwrap().last().unwrap();
        assert!(span.closed, "{sig}: the session is marked closed: {span:?}");
        assert_eq!(r.snapshot_at(span.end).unwrap().nodes.len(), crate::support::kube::NODES);
        assert_eq!(r.header().context, "clustertop-sim");
        let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&out).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o600, "the recording is private");
    }
    server.shutdown().await;
}

/// SIGKILL loses at most the last few seconds, the file still opens, a second recorder is refused
/// while the first runs and appends once it is gone.
#[test]
fn sigkill_loses_seconds_at_most_and_a_second_recorder_is_refused() {
    let dir = TempDir::new("rec-kill");
    let out = dir.0.join("kill.db");
    let demo = ["--demo", "--nodes", "12", "--refresh", "0.2"];
    let mut child = recorder(&demo, &out);
    recorded(&out, 12, 3);

    let second = run(&["record", "--demo", "--nodes", "12", "--for", "1s", "--out", out.to_str().unwrap()]);
    assert_eq!(second.status.code(), Some(2), "{}", text(&second.stderr));
    assert!(
        text(&second.stderr).contains("is being recorded by another clustertop"),
        "{}",
        text(&second.stderr)
    );

    let killed = Utc::now();
    signal(&child, "-KILL");
    wait(&mut child);
    let r = Recording::open(&out, Settings::default()).expect("a killed recorder's file opens");
    let span = *r.spans().unwrap().last().unwrap();
    assert!(!span.closed);
    let lost = killed - span.end;
    assert!(lost <= chrono::Duration::seconds(3), "lost {lost} (span {span:?}, killed at {killed})");
    assert_eq!(r.snapshot_at(span.end).expect("the last moment reads").nodes.len(), 12);
    drop(r);

    // The lock went with the process: the next recorder appends a session.
    let again = run(&["record", "--demo", "--nodes", "12", "--for", "1s", "--out", out.to_str().unwrap()]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    let spans = Recording::open(&out, Settings::default()).unwrap().spans().unwrap();
    assert_eq!(spans.len(), 2, "{spans:?}");
    assert!(spans[1].closed);
    println!("SIGKILL lost {} ms of recording", lost.num_milliseconds());
}

/// Truncated, overwritten in the middle, or not a recording at all: a clear error (exit 1 or 2,
/// never a panic), or the moments before the damage.
#[test]
fn a_damaged_recording_gives_a_clear_error_or_reads_up_to_the_damage() {
    let dir = TempDir::new("rec-damage");
    let good = dir.0.join("good.db");
    let o = run(&[
        "record",
        "--demo",
        "--nodes",
        "12",
        "--refresh",
        "0.2",
        "--for",
        "3s",
        "--out",
        good.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let span = Recording::open(&good, Settings::default()).unwrap().spans().unwrap()[0];
    let mid = rfc(span.start + (span.end - span.start) / 2 + chrono::Duration::milliseconds(999));
    let ok = run(&["snapshot", "--from", good.to_str().unwrap(), "--at", &mid, "--format", "json"]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));

    let bytes = std::fs::read(&good).unwrap();
    let damaged = |name: &str, data: Vec<u8>| -> PathBuf {
        let p = dir.0.join(name);
        std::fs::write(&p, data).unwrap();
        p
    };
    let truncated = damaged("truncated.db", bytes[..bytes.len() / 2].to_vec());
    let mut scribbled = bytes.clone();
    let n = scribbled.len();
    for b in &mut scribbled[n / 3..n / 3 + 8192] {
        *b = 0x5a;
    }
    let scribbled = damaged("scribbled.db", scribbled);
    let garbage = damaged("garbage.db", b"not a database at all\n".repeat(400));
    for p in [&truncated, &scribbled, &garbage] {
        let o = run(&["snapshot", "--from", p.to_str().unwrap(), "--at", &mid, "--format", "json"]);
        let err = text(&o.stderr);
        match o.status.code() {
            Some(0) => {
                let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
                assert_eq!(v["schema"], "clustertop.snapshot/v1");
            }
            Some(1 | 2) => {
                assert!(
                    err.starts_with("clustertop: ") && err.lines().count() == 1,
                    "{}: {err}",
                    p.display()
                );
                assert!(
                    ["damaged", "not a clustertop recording", "not in the recording"]
                        .iter()
                        .any(|w| err.contains(w)),
                    "{}: {err}",
                    p.display()
                );
            }
            c => panic!("{}: exit {c:?}: {err}", p.display()),
        }
    }
    let o = run(&["snapshot", "--from", garbage.to_str().unwrap(), "--at", &mid]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("is not a clustertop recording"), "{}", text(&o.stderr));
}

/// The healthy simulated cluster for 30 minutes (steps of 5 s from T0), TOR tor-5a down from
/// +10 min to +20 min, recorded with the library on that clock.
fn record_outage(path: &Path) {
    let cfg = SimConfig { nodes: 48, scenario: Scenario::Healthy, ..SimConfig::default() };
    let mut sim = Sim::new(cfg, at(0));
    let header = Header { cluster: sim.label(), context: "demo".into(), version: "test".into() };
    let mut w = Writer::create(path, &header, Options::default(), at(0)).expect("create");
    w.record(at(0), &sim.initial()).unwrap();
    for s in (5..=1800).step_by(5) {
        let mut batch: Vec<Update> = sim.step(at(s));
        match s {
            600 => batch.extend(sim.set_tor(5, 0, false, at(s))),
            1200 => batch.extend(sim.set_tor(5, 0, true, at(s))),
            _ => {}
        }
        w.record(at(s), &batch).unwrap();
    }
    w.close().unwrap();
}

/// `established/expected` of each BGP node of rack-5 in a `snapshot --format json`.
fn rack5(json: &[u8]) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(json).expect("snapshot JSON");
    v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["rack"] == "rack-5" && n["bgp"].as_array().is_some_and(|b| !b.is_empty()))
        .map(|n| {
            let b = n["bgp"].as_array().unwrap();
            let up = b.iter().filter(|s| s["state"] == "established").count();
            format!("{up}/{}", b.len())
        })
        .collect()
}

#[test]
fn a_recorded_tor_outage_reads_back_through_snapshot_and_report_incident() {
    let dir = TempDir::new("rec-outage");
    let file = dir.0.join("outage.db");
    record_outage(&file);
    let f = file.to_str().unwrap();
    for (t, want) in [(300, "2/2"), (900, "1/2"), (1500, "2/2")] {
        let o = run(&["snapshot", "--from", f, "--at", &rfc(at(t)), "--format", "json"]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let nodes = rack5(&o.stdout);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["origin"], "recording", "the moment says where it came from");
        assert!(nodes.len() >= 4, "{nodes:?}");
        assert!(nodes.iter().all(|n| n == want), "at +{t}s: {nodes:?}");
    }
    let o = run(&["snapshot", "--from", f, "--at", &rfc(at(900)), "--format", "text"]);
    assert!(o.status.success() && !o.stdout.is_empty(), "{}", text(&o.stderr));

    // Outside the recording: exit 2, naming the range it covers.
    let o = run(&["snapshot", "--from", f, "--at", &rfc(at(-3600))]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("not in the recording")
            && err.contains(&format!("recorded: {} to {}", rfc(at(0)), rfc(at(1800)))),
        "{err}"
    );

    let o = run(&[
        "report",
        "incident",
        "--from",
        f,
        "--since",
        &rfc(at(300)),
        "--until",
        &rfc(at(1500)),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("incident JSON");
    assert_eq!(v["schema"], "clustertop.incident/v1");
    let tor = v["tors"].as_array().unwrap().iter().find(|t| t["name"] == "tor-5a").expect("tor-5a listed");
    let time = |x: &serde_json::Value| {
        DateTime::parse_from_rfc3339(x.as_str().unwrap()).unwrap().with_timezone(&Utc)
    };
    assert_eq!((time(&tor["start"]), time(&tor["end"])), (at(600), at(1200)), "{tor}");
    assert_eq!(tor["rack"], "rack-5");

    let o = run(&["report", "incident", "--from", f, "--since", &rfc(at(300)), "--until", &rfc(at(1500))]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let md = text(&o.stdout);
    let row = md.lines().find(|l| l.starts_with("| tor-5a |")).unwrap_or_else(|| panic!("{md}"));
    assert!(
        row.contains("2026-11-24 12:10:00") && row.contains("2026-11-24 12:20:00") && row.contains("10m"),
        "{row}"
    );
    assert!(md.contains("BGP 2/2 → 1/2") && md.contains("BGP 1/2 → 2/2"), "{md}");
}
