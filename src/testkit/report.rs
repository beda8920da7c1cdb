//! A hand-built capacity report for the format tests: Asia/Shanghai (UTC+8), the 24 h ending at
//! 12:00 local on Tue 24 Nov 2026, windows 21:00-00:30 (crosses midnight) and 01:00-06:00, racks
//! r1 and r2, r2's 01:00-06:00 occurrence partial, and a note.

use chrono::{DateTime, Duration, TimeZone, Timelike, Utc};

use crate::model::{CpuCurve, CpuPoint, Window, WindowFill};
use crate::report::{CapacityReport, NodeFill};

fn utc(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, d, h, m, 0).single().expect("valid fixture time")
}

fn win(s: &str) -> Window {
    Window::parse(s).expect("valid fixture window")
}

/// Cluster cores in use at a local time of day: daytime online load, offline work in the windows
/// and a tail after 06:00.
fn point(t: DateTime<Utc>) -> CpuPoint {
    let tz = chrono_tz::Asia::Shanghai;
    let l = t.with_timezone(&tz);
    let h = f64::from(l.hour()) + f64::from(l.minute()) / 60.0;
    let online = match l.hour() {
        9..=20 => 720.0,
        21..=23 => 480.0,
        _ => 300.0,
    };
    let offline = if (21.0..24.0).contains(&h) || h < 0.5 {
        300.0
    } else if (1.0..6.0).contains(&h) {
        640.0
    } else if (6.0..7.0).contains(&h) {
        280.0
    } else if (7.0..8.0).contains(&h) {
        150.0
    } else {
        60.0
    };
    CpuPoint::new(t, online, offline, 1200.0)
}

#[allow(clippy::too_many_arguments)]
fn fill(
    w: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    rack: Option<&str>,
    avg_util: f64,
    offline_share: f64,
    idle_core_hours: f64,
    spill_core_hours: f64,
    complete: bool,
) -> WindowFill {
    WindowFill {
        window: win(w),
        start,
        end,
        rack: rack.map(str::to_string),
        avg_util,
        offline_share,
        idle_core_hours,
        spill_core_hours,
        capacity_core_hours: if rack.is_some() { 600.0 } else { 1200.0 } * (end - start).num_seconds() as f64
            / 3600.0,
        coverage: if complete { 1.0 } else { 0.8 },
        reclaimed_core_hours: None,
        reclaimed_unused_core_hours: None,
        reclaimed_unknown: None,
        complete,
    }
}

fn workload(
    w: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    ns: &str,
    kind: &str,
    name: &str,
    core_hours: f64,
) -> crate::report::WorkloadHours {
    crate::report::WorkloadHours {
        window: win(w),
        start,
        end,
        namespace: ns.into(),
        kind: kind.into(),
        name: name.into(),
        core_hours,
    }
}

pub(crate) fn fixture() -> CapacityReport {
    let end = utc(24, 4, 0); // 12:00 in Shanghai
    let start = end - Duration::hours(24);
    let step = 1800;
    // Each point describes the half hour before it: the level of that half hour's start.
    let points = (1..=48)
        .map(|i| CpuPoint {
            t: start + Duration::seconds(i * step),
            ..point(start + Duration::seconds((i - 1) * step))
        })
        .collect();
    let (late_s, late_e) = (utc(23, 13, 0), utc(23, 16, 30)); // 21:00-00:30 local
    let (night_s, night_e) = (utc(23, 17, 0), utc(23, 22, 0)); // 01:00-06:00 local
    let late = "21:00-00:30";
    let night = "01:00-06:00";
    CapacityReport {
        start,
        end,
        tz: chrono_tz::Asia::Shanghai,
        source: "http://prometheus.monitoring:9090".into(),
        series: "node_exporter `instance` is IP:port, mapped to nodes by kube_node_info's internal_ip (kube-prometheus-stack); node CPU from recording rules instance:node_cpu_utilisation:rate5m and instance:node_num_cpu:sum; pod CPU from raw container_cpu_usage_seconds_total".into(),
        capacity_cores: 1200.0,
        windows: vec![win(late), win(night)],
        fills: vec![
            fill(late, late_s, late_e, None, 0.6286, 0.3977, 1560.0, 0.0, true),
            fill(late, late_s, late_e, Some("r1"), 0.6667, 0.4120, 700.0, 0.0, true),
            fill(late, late_s, late_e, Some("r2"), 0.6190, 0.3695, 800.0, 2.5, true),
            WindowFill {
                reclaimed_core_hours: Some(2900.0),
                reclaimed_unused_core_hours: Some(642.5),
                ..fill(night, night_s, night_e, None, 0.7833, 0.6809, 1300.0, 40.0, true)
            },
            fill(night, night_s, night_e, Some("r1"), 0.8333, 0.7000, 500.0, 30.05, true),
            fill(night, night_s, night_e, Some("r2"), 0.7333, 0.6591, 800.0, 11.2, false),
        ],
        under_filled: vec![
            NodeFill {
                node: "node-r2-07".into(),
                rack: Some("r2".into()),
                window: win(night),
                start: night_s,
                end: night_e,
                avg_util: 0.2104,
                idle_core_hours: 252.67,
            },
            NodeFill {
                node: "node-r1-03".into(),
                rack: Some("r1".into()),
                window: win(night),
                start: night_s,
                end: night_e,
                avg_util: 0.34,
                idle_core_hours: 211.2,
            },
            NodeFill {
                node: "gpu-spare-01".into(),
                rack: None,
                window: win(late),
                start: late_s,
                end: late_e,
                avg_util: 0.4,
                idle_core_hours: 134.4,
            },
        ],
        top_workloads: vec![
            workload(night, night_s, night_e, "spark", "SparkApplication", "nightly-etl", 1820.5),
            workload(night, night_s, night_e, "media", "Job", "transcode-4k-20261124", 640.25),
            workload(late, late_s, late_e, "spark", "SparkApplication", "nightly-etl", 402.0),
        ],
        unused_reclaimed: vec![crate::report::NodeReclaimed {
            node: "node-r2-07".into(),
            rack: Some("r2".into()),
            window: win(night),
            start: night_s,
            end: night_e,
            reclaimed_core_hours: 160.0,
            unused_core_hours: 118.4,
        }],
        curve: CpuCurve { step_s: step as u32, capacity_cores: 1200.0, points, racks: vec![] },
        capacity_changes: vec![crate::report::CapacityChange {
            at: utc(23, 20, 0),
            cores_before: 1152.0,
            cores_after: 1200.0,
            joined: vec!["node-r2-12".into()],
            left: vec![],
            cordoned: vec![],
            uncordoned: vec![],
        }],
        notes: vec![
            "rack r2: no data after 07:30 on Tue 24 Nov; its 01:00-06:00 figures are partial.".into(),
        ],
    }
}
