//! `report capacity` against a real Prometheus (promtool backfill) holding data whose answers are
//! known by construction (`crate::support::known`): each figure within 0.5 % of the exact integral.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::support::known::{Scenario, Scheme, Segment, nodes, ts};
use crate::support::prom::Prom;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use clustertop::analysis::Settings;
use clustertop::app::{Model, View};
use clustertop::model::{Window, WindowFill};
use clustertop::report::CapacityReport;
use clustertop::report::build::{ReportOptions, build};
use clustertop::sources::prometheus::queries::{Queries, offline_pods};
use clustertop::sources::prometheus::{self as prom, Backend, BackendOptions, Interest, PromOptions};
use clustertop::store::ClusterState;
use clustertop::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

/// 10 nodes of 8 CPUs (an 11th joins at noon on 2 Nov), 30 Oct 22:00 to 2 Nov 18:10 UTC:
/// - 31 Oct 01:00-06:00 UTC 20 % online + 50 % offline, 06:00-07:00 30 % + 10 % (the case);
/// - the evening of 31 Oct, offline work fitted to 01:00-06:00 in Kolkata (+05:30) and
///   Kathmandu (+05:45): 10 % from 19:15, 45 % from 19:30 to 00:15, 20 % to 00:30 UTC;
/// - 1 Nov, New York's 25-hour day: 01:00 EDT to 06:00 EST (05:00-11:00 UTC) 20 % + 50 %,
///   then 25 % offline to 11:30;
/// - 2 Nov 01:00-06:00 UTC as on 31 Oct, with Prometheus down from 02:00 to 02:20;
/// - 2 Nov 10:00-14:00 UTC 30 % + 40 %, then 30 % offline to 14:20; node-05 is cordoned at
///   11:00 (its cores stay: its pods keep running), node-11 joins at 12:00 and node-03 reboots at
///   13:00.
///
/// Otherwise 35 % online, no offline work.
pub fn scenario() -> Scenario {
    let seg = |from: &str, to: &str, online, offline| Segment { from: ts(from), to: ts(to), online, offline };
    let mut nodes = nodes(11, 8);
    nodes[10].joins = Some(ts("2026-11-02T12:00"));
    nodes[2].reboots = vec![ts("2026-11-02T13:00")];
    nodes[4].cordoned = Some(ts("2026-11-02T11:00"));
    Scenario {
        start: ts("2026-10-30T22:00"),
        end: ts("2026-11-02T18:10"),
        nodes,
        segments: vec![
            seg("2026-10-31T01:00", "2026-10-31T06:00", 20, 50),
            seg("2026-10-31T06:00", "2026-10-31T07:00", 30, 10),
            seg("2026-10-31T19:15", "2026-10-31T19:30", 35, 10),
            seg("2026-10-31T19:30", "2026-11-01T00:15", 35, 45),
            seg("2026-11-01T00:15", "2026-11-01T00:30", 35, 20),
            seg("2026-11-01T05:00", "2026-11-01T11:00", 20, 50),
            seg("2026-11-01T11:00", "2026-11-01T11:30", 35, 25),
            seg("2026-11-02T01:00", "2026-11-02T06:00", 20, 50),
            seg("2026-11-02T06:00", "2026-11-02T07:00", 30, 10),
            seg("2026-11-02T10:00", "2026-11-02T14:00", 30, 40),
            seg("2026-11-02T14:00", "2026-11-02T14:20", 35, 30),
        ],
        default: (35, 0),
        gaps: vec![(ts("2026-11-02T02:00"), ts("2026-11-02T02:20"))],
        scheme: Scheme::NodeLabel,
        step: crate::support::known::STEP,
        rules: false,
        reclaim: Some(85),
    }
}

struct Case {
    what: &'static str,
    tz: &'static str,
    window: &'static str,
    /// The report's `--end`.
    end: &'static str,
    /// The occurrence in UTC.
    from: &'static str,
    to: &'static str,
}

const CASES: &[Case] = &[
    Case {
        what: "issue 20",
        tz: "UTC",
        window: "01:00-06:00",
        end: "2026-10-31T12:00",
        from: "2026-10-31T01:00",
        to: "2026-10-31T06:00",
    },
    Case {
        what: "unaligned",
        tz: "UTC",
        window: "01:10-05:50",
        end: "2026-10-31T12:00",
        from: "2026-10-31T01:10",
        to: "2026-10-31T05:50",
    },
    Case {
        what: "edges inside steps",
        tz: "UTC",
        window: "01:07-05:53",
        end: "2026-10-31T12:00",
        from: "2026-10-31T01:07",
        to: "2026-10-31T05:53",
    },
    Case {
        what: "+05:30",
        tz: "Asia/Kolkata",
        window: "01:00-06:00",
        end: "2026-11-01T06:00",
        from: "2026-10-31T19:30",
        to: "2026-11-01T00:30",
    },
    Case {
        what: "+05:45",
        tz: "Asia/Kathmandu",
        window: "01:00-06:00",
        end: "2026-11-01T06:00",
        from: "2026-10-31T19:15",
        to: "2026-11-01T00:15",
    },
    Case {
        what: "25-hour day",
        tz: "America/New_York",
        window: "01:00-06:00",
        end: "2026-11-01T16:00",
        from: "2026-11-01T05:00",
        to: "2026-11-01T11:00",
    },
    Case {
        what: "20-minute gap",
        tz: "UTC",
        window: "01:00-06:00",
        end: "2026-11-02T10:30",
        from: "2026-11-02T01:00",
        to: "2026-11-02T06:00",
    },
    Case {
        what: "node joins, node reboots",
        tz: "UTC",
        window: "10:00-14:00",
        end: "2026-11-02T18:05",
        from: "2026-11-02T10:00",
        to: "2026-11-02T14:00",
    },
];

fn backend(url: &str) -> Backend {
    let off = offline_pods(&["koord-batch".into(), "koord-free".into()], &["BE".into()]);
    let q = Queries::new(None, "topology.kubernetes.io/zone", off, &BTreeMap::new()).unwrap();
    Backend::new(&BackendOptions { url: url.into(), auth: None, timeout: Duration::from_secs(20) }, q)
        .unwrap()
}

/// Within 0.5 % of `want` (or 0.01 when `want` is 0).
fn within(got: f64, want: f64, what: &str) {
    let tol = (want.abs() * 0.005).max(0.01);
    assert!((got - want).abs() <= tol, "{what}: got {got}, want {want}");
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::from_timestamp(ts(s), 0).unwrap()
}

#[test]
fn capacity_review_matches_answers_known_by_construction() {
    if !crate::support::require_tools() {
        return;
    }
    let s = scenario();
    let dir = crate::support::TempDir::new("known");
    let om = dir.0.join("known.om");
    s.write(&om);
    let prom = Prom::backfill_and_start(&om);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let b = backend(&prom.url);
    for c in CASES {
        let tz: Tz = c.tz.parse().unwrap();
        let window = Window::parse(c.window).unwrap();
        let o = ReportOptions { end: utc(c.end), windows: vec![window], tz, top: 3 };
        let r = rt.block_on(build(&b, &o)).unwrap();
        let f = r
            .fills
            .iter()
            .find(|f| f.rack.is_none() && f.start == utc(c.from))
            .unwrap_or_else(|| panic!("{}: no occurrence from {}: {:#?}", c.what, c.from, r.fills));
        assert_eq!(f.end, utc(c.to), "{}: the occurrence's end", c.what);
        let t = s.truth(ts(c.from), ts(c.to));
        eprintln!(
            "{}: {:?}\n  report: util {} share {} idle {} spill {} capacity {} coverage {}",
            c.what,
            t,
            f.avg_util,
            f.offline_share,
            f.idle_core_hours,
            f.spill_core_hours,
            f.capacity_core_hours,
            f.coverage
        );
        within(f.avg_util, t.avg_util, &format!("{}: average utilisation", c.what));
        within(f.offline_share, t.offline_share, &format!("{}: offline share", c.what));
        within(f.idle_core_hours, t.idle_core_hours, &format!("{}: idle core-hours", c.what));
        within(f.spill_core_hours, t.spill_core_hours, &format!("{}: spill core-hours", c.what));
        within(f.capacity_core_hours, t.capacity_core_hours, &format!("{}: capacity core-hours", c.what));
        within(f.coverage, t.coverage, &format!("{}: coverage", c.what));
        assert_eq!(f.complete, t.coverage == 1.0, "{}: complete", c.what);
        check_notes(c, &r);
        reclaimed_and_workloads(&s, c, f, &r);

        // The TUI's figures come from the same curve and the same function: equal to the digit.
        let opts = PromOptions { windows: vec![window], tz, ..PromOptions::default() };
        let updates = rt.block_on(prom::refresh(&b, &opts, &Interest::default(), true, utc(c.end))).unwrap();
        let mut state =
            ClusterState::new("known", Settings { windows: vec![window], tz, ..Settings::default() });
        for u in updates {
            state.apply(u);
        }
        let snap = state.snapshot(utc(c.end));
        if c.what == "20-minute gap" {
            gap_on_screen(&snap);
        }
        for rf in &r.fills {
            let tf = snap.fills.iter().find(|x| x.start == rf.start && x.rack == rf.rack);
            let tf = tf.unwrap_or_else(|| panic!("{}: the TUI has no {:?} {}", c.what, rf.rack, rf.start));
            assert!(same(tf, rf), "{}: TUI {tf:?} != report {rf:?}", c.what);
        }
    }

    // The binary says the same, in JSON.
    let c = &CASES[0];
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_clustertop"))
        .args(["report", "capacity", "--prometheus", &prom.url, "--format", "json", "--tz", c.tz])
        .args(["--window", c.window, "--end", &format!("{}:00Z", c.end)])
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", &dir.0)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = json["fills"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rack"].is_null() && f["start"] == "2026-10-31T01:00:00Z")
        .unwrap();
    within(f["avg_util"].as_f64().unwrap(), 0.70, "json average utilisation");
    within(f["idle_core_hours"].as_f64().unwrap(), 120.0, "json idle core-hours");
    within(f["spill_core_hours"].as_f64().unwrap(), 8.0, "json spill core-hours");
    assert_eq!(f["coverage"], 1.0);
    within(f["reclaimed_unused_core_hours"].as_f64().unwrap(), 60.0, "json unused reclaimed core-hours");
    let workloads: Vec<(&str, f64)> = json["top_workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["name"].as_str().unwrap(), w["core_hours"].as_f64().unwrap()))
        .collect();
    // 7 nodes of 8 CPUs 50 % offline for 5 h, then 3 of them.
    assert_eq!(workloads.iter().map(|w| w.0).collect::<Vec<_>>(), ["etl-large", "etl-small"]);
    within(workloads[0].1, 140.0, "json etl-large core-hours");
    within(workloads[1].1, 60.0, "json etl-small core-hours");
}

/// Koordinator's reclaimed capacity (the cluster's, each node's) and the offline workloads'
/// core-hours in the occurrence, against the minute-by-minute truth.
fn reclaimed_and_workloads(s: &Scenario, c: &Case, f: &WindowFill, r: &CapacityReport) {
    let t = s.truth(ts(c.from), ts(c.to));
    let what = |x: &str| format!("{}: {x}", c.what);
    let rec =
        f.reclaimed_core_hours.unwrap_or_else(|| panic!("{}: {:?}", what("reclaimed"), f.reclaimed_unknown));
    within(rec, t.reclaimed_core_hours, &what("reclaimed core-hours"));
    let unused = f.reclaimed_unused_core_hours.unwrap();
    within(unused, t.reclaimed_unused_core_hours, &what("unused reclaimed core-hours"));
    assert!(t.reclaimed_unused_core_hours > 1.0, "{}: the scenario leaves some unused", c.what);
    if !f.complete {
        return;
    }
    // The workloads, most core-hours first, each exact.
    let want = s.workload_hours(ts(c.from), ts(c.to));
    let got: Vec<_> = r.top_workloads.iter().filter(|w| w.start == f.start).collect();
    assert_eq!(got.len(), want.len(), "{}: {got:#?}", what("workloads"));
    assert!(got.windows(2).all(|p| p[0].core_hours >= p[1].core_hours), "{}: {got:#?}", what("order"));
    for w in &got {
        assert_eq!((w.namespace.as_str(), w.kind.as_str()), ("batch", "Job"), "{}", c.what);
        within(w.core_hours, want[&w.name], &what(&format!("workload {}", w.name)));
    }
    // The nodes that left reclaimed capacity unused: the top 3, each exact.
    let want = s.node_reclaimed(ts(c.from), ts(c.to));
    let got: Vec<_> = r.unused_reclaimed.iter().filter(|n| n.start == f.start).collect();
    assert_eq!(got.len(), 3, "{}: {got:#?}", what("unused reclaimed nodes"));
    let most = want.values().map(|v| v.1).fold(0.0, f64::max);
    for n in &got {
        let (rec, unused) = want[&n.node];
        within(n.reclaimed_core_hours, rec, &what(&format!("{} reclaimed", n.node)));
        within(n.unused_core_hours, unused, &what(&format!("{} unused", n.node)));
        within(n.unused_core_hours, most, &what(&format!("{} is among the most unused", n.node)));
        assert!(n.rack.is_some(), "{}: {} has its rack", c.what, n.node);
    }
}

/// The dashboard shows the gap as one: `?` columns on the curve (never 0 %), the occurrence's
/// share of data in its status.
fn gap_on_screen(snap: &clustertop::model::Snapshot) {
    use clustertop::views::widgets::stacked_chart::{buckets, ceilings, gap_columns};
    let curve = snap.cpu.as_ref().unwrap();
    let (a, b) = (utc("2026-11-02T01:30"), utc("2026-11-02T02:30"));
    let cols = buckets(&curve.points, curve.step_s, a, b, 12);
    let gaps = gap_columns(&cols, &curve.points, curve.step_s, a, b);
    let shown: Vec<usize> = (0..12).filter(|&i| gaps[i]).collect();
    assert_eq!(shown, vec![6, 7, 8, 9], "02:00-02:20 is 4 gap columns of 5 minutes: {cols:?}");
    assert!(
        cols.iter()
            .flatten()
            .all(|(on, off)| (on + off - 0.7).abs() < 1e-9 || (on + off - 0.35).abs() < 1e-9)
    );
    // The reclaimed ceiling: 20 % online plus 85 % - 20 % reclaimed, where there is data.
    let ceil = ceilings(&curve.points, curve.step_s, a, b, 12);
    for (i, c) in ceil.iter().enumerate() {
        match (gaps[i], c) {
            (true, None) => {}
            (false, Some(c)) => assert!((c - 0.85).abs() < 1e-9, "column {i}: {ceil:?}"),
            _ => panic!("column {i}: gap {} ceiling {c:?}", gaps[i]),
        }
    }
    let model = Model {
        snap: Some(Arc::new(snap.clone())),
        view: View::Utilization,
        size: (160, 40),
        ..Model::default()
    };
    let area = Rect::new(0, 0, 160, 40);
    let mut buf = Buffer::empty(area);
    clustertop::views::render(&model, &Theme::mono(true), area, &mut buf);
    let screen: String =
        (0..40).map(|y| (0..160).map(|x| buf[(x, y)].symbol()).collect::<String>() + "\n").collect();
    assert!(screen.contains("7% gap"), "{screen}");
    assert!(screen.contains("reclaimed") && screen.contains("recl idle"), "{screen}");
}

/// NaN-aware equality of two fills.
fn same(a: &WindowFill, b: &WindowFill) -> bool {
    let eq = |x: f64, y: f64| x == y || (x.is_nan() && y.is_nan());
    a.window == b.window
        && a.end == b.end
        && eq(a.avg_util, b.avg_util)
        && eq(a.offline_share, b.offline_share)
        && eq(a.idle_core_hours, b.idle_core_hours)
        && eq(a.spill_core_hours, b.spill_core_hours)
        && eq(a.capacity_core_hours, b.capacity_core_hours)
        && eq(a.coverage, b.coverage)
        && a.reclaimed_core_hours == b.reclaimed_core_hours
        && a.reclaimed_unused_core_hours == b.reclaimed_unused_core_hours
        && a.complete == b.complete
}

/// What each case's report must say besides its figures.
fn check_notes(c: &Case, r: &CapacityReport) {
    let notes = r.notes.join("\n");
    match c.what {
        "25-hour day" => assert!(
            notes.contains("01:00-06:00 on Sun 01 Nov lasted 6 h, not 5 h: the clocks went back"),
            "{notes}"
        ),
        "20-minute gap" => {
            assert!(notes.contains("data covers 93 % of it (02:00-02:20 no data)"), "{notes}")
        }
        "node joins, node reboots" => {
            let ch: Vec<String> = r
                .capacity_changes
                .iter()
                .map(|c| {
                    let at = c.at.format("%H:%M");
                    format!(
                        "{at} {}->{} +{:?} cordoned {:?}",
                        c.cores_before, c.cores_after, c.joined, c.cordoned
                    )
                })
                .collect();
            assert_eq!(
                ch,
                ["11:00 80->80 +[] cordoned [\"node-05\"]", "12:00 80->88 +[\"node-11\"] cordoned []"]
            );
            // The reboot at 13:00 (counters back to zero) is no spike: every step of the window
            // reads 70 %.
            let step = Duration::from_secs(300);
            for p in r
                .curve
                .points
                .iter()
                .filter(|p| p.t > utc("2026-11-02T10:00") && p.t <= utc("2026-11-02T14:00"))
            {
                assert!((p.total() / p.measured - 0.7).abs() < 1e-6, "{p:?} (step {step:?})");
            }
        }
        _ => {}
    }
}

/// The benchmark's data (`scripts/bench-report`): `$KNOWN_BENCH_NODES` (default 5,000) nodes of 2
/// CPUs in racks of 40, kube-prometheus-stack labels (`instance="IP:9100"`), node-mixin's
/// recording rules, samples every 5 minutes from 29 Nov 10:00 to 30 Nov 12:00 UTC; the issue's
/// day (01:00-06:00 20 % online + 50 % offline, 06:00-07:00 30 % + 10 %, else 35 % online).
/// Written to `$KNOWN_BENCH_OM`, with the expected figures printed.
#[test]
#[ignore]
fn write_bench_om() {
    let Ok(path) = std::env::var("KNOWN_BENCH_OM") else { return };
    let n = std::env::var("KNOWN_BENCH_NODES").ok().and_then(|v| v.parse().ok()).unwrap_or(5000);
    let seg = |from: &str, to: &str, online, offline| Segment { from: ts(from), to: ts(to), online, offline };
    let s = Scenario {
        start: ts("2026-11-29T10:00"),
        end: ts("2026-11-30T12:00"),
        nodes: crate::support::known::nodes_in_racks(n, 2, 40),
        segments: vec![
            seg("2026-11-30T01:00", "2026-11-30T06:00", 20, 50),
            seg("2026-11-30T06:00", "2026-11-30T07:00", 30, 10),
        ],
        default: (35, 0),
        gaps: vec![],
        scheme: Scheme::InstanceIp,
        step: 300,
        rules: true,
        reclaim: None,
    };
    s.write(std::path::Path::new(&path));
    let t = s.truth(ts("2026-11-30T01:00"), ts("2026-11-30T06:00"));
    println!(
        "expected 01:00-06:00 UTC on 30 Nov: util {:.4} idle {:.1} spill {:.1} capacity {:.1}",
        t.avg_util, t.idle_core_hours, t.spill_core_hours, t.capacity_core_hours
    );
}

/// Writes the scenario to `$KNOWN_OM` and prints the expected figures (for measuring a build).
#[test]
#[ignore]
fn write_known_om() {
    let s = scenario();
    let Ok(path) = std::env::var("KNOWN_OM") else { return };
    s.write(std::path::Path::new(&path));
    for (what, a, b) in [
        ("base", "2026-10-31T01:00", "2026-10-31T06:00"),
        ("unaligned", "2026-10-31T01:10", "2026-10-31T05:50"),
        ("kolkata", "2026-10-31T19:30", "2026-11-01T00:30"),
        ("kathmandu", "2026-10-31T19:15", "2026-11-01T00:15"),
        ("dst", "2026-11-01T05:00", "2026-11-01T11:00"),
        ("gap", "2026-11-02T01:00", "2026-11-02T06:00"),
        ("join", "2026-11-02T10:00", "2026-11-02T14:00"),
    ] {
        println!("{what}: {:?}", s.truth(ts(a), ts(b)));
    }
}
