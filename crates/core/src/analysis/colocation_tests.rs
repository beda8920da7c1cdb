use super::*;
use crate::model::RackCurve;
use chrono::{NaiveTime, Timelike};

fn at(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).single().expect("valid time")
}
fn now() -> DateTime<Utc> {
    at(24, 12)
}
fn win(s: &str) -> Window {
    Window::parse(s).expect("valid window")
}

/// Hourly points ending 11-23 13:00 .. 11-24 12:00 UTC, 100 cores. By the hour each interval
/// starts in: offline 40 cores in 01-05, then 30, 20 in 06, 07, else 10; online 20 throughout.
fn points() -> Vec<CpuPoint> {
    (1..=24)
        .map(|i| {
            let t = at(23, 12) + Duration::hours(i);
            let offline = match (t - Duration::hours(1)).hour() {
                1..=5 => 40.0,
                6 => 30.0,
                7 => 20.0,
                _ => 10.0,
            };
            CpuPoint::new(t, 20.0, offline, 100.0)
        })
        .collect()
}

fn curve() -> CpuCurve {
    let rack = |name: &str, scale: f64| RackCurve {
        rack: name.into(),
        capacity_cores: 100.0 * scale,
        points: points()
            .into_iter()
            .map(|p| CpuPoint::new(p.t, p.online * scale, p.offline * scale, 100.0 * scale))
            .collect(),
    };
    CpuCurve {
        step_s: 3600,
        capacity_cores: 100.0,
        points: points(),
        racks: vec![rack("r2", 0.5), rack("r1", 1.0)],
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn cluster(f: &[WindowFill]) -> Vec<&WindowFill> {
    f.iter().filter(|f| f.rack.is_none()).collect()
}

#[test]
fn known_numbers() {
    let f = fills(&curve(), &[win("01:00-06:00")], Tz::UTC, now());
    let racks: Vec<Option<&str>> = f.iter().map(|f| f.rack.as_deref()).collect();
    assert_eq!(racks, vec![None, Some("r1"), Some("r2")]);
    let c = &f[0];
    assert_eq!((c.start, c.end), (at(24, 1), at(24, 6)));
    assert!(close(c.avg_util, 0.6), "{}", c.avg_util);
    assert!(close(c.offline_share, 40.0 / 60.0));
    assert!(close(c.idle_core_hours, 200.0));
    assert!(close(c.capacity_core_hours, 500.0) && close(c.coverage, 1.0));
    // Baseline 10; after: 30, 20, 10, 10 => 20 + 10 = 30 core-hours.
    assert!(close(c.spill_core_hours, 30.0), "{}", c.spill_core_hours);
    assert!(c.complete);
    let r2 = &f[2];
    assert!(close(r2.avg_util, 0.6) && close(r2.idle_core_hours, 100.0) && close(r2.spill_core_hours, 15.0));
}

/// The case of issue 20 at the curve's real step: 80 cores, 01:00-06:00 20 % online + 50 %
/// offline, 06:00-07:00 30 % + 10 %, else 35 % online. Read as `[t, t + step)` the figures were
/// 69.4 %, 122.3 and 11.3; a point describes `(t - step, t]`.
#[test]
fn a_point_describes_the_five_minutes_before_it() {
    let points = (1..=288)
        .map(|k| {
            let t = at(24, 0) + Duration::minutes(5 * k);
            let (on, off) = match (t - Duration::minutes(5)).hour() {
                1..=5 => (0.2, 0.5),
                6 => (0.3, 0.1),
                _ => (0.35, 0.0),
            };
            CpuPoint::new(t, on * 80.0, off * 80.0, 80.0)
        })
        .collect();
    let c = CpuCurve { step_s: 300, capacity_cores: 80.0, points, racks: vec![] };
    let f = fills(&c, &[win("01:00-06:00")], Tz::UTC, at(25, 0));
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(close(f[0].avg_util, 0.7) && close(f[0].idle_core_hours, 120.0), "{:?}", f[0]);
    assert!(close(f[0].spill_core_hours, 8.0), "{}", f[0].spill_core_hours);
    assert!(f[0].complete);
    // Edges off the step grid take the part of the edge step they cover: 01:07-05:53.
    let f = fills(&c, &[win("01:07-05:53")], Tz::UTC, at(25, 0));
    let hours = 4.0 + 46.0 / 60.0;
    assert!(close(f[0].avg_util, 0.7) && close(f[0].idle_core_hours, 0.3 * 80.0 * hours), "{:?}", f[0]);
    assert!(close(f[0].capacity_core_hours, 80.0 * hours));
}

#[test]
fn gaps_are_uncovered_not_idle() {
    let mut c = curve();
    // No data for the intervals starting 02:00 and 03:00; a node down (90 of 100 cores measured)
    // in the one starting 04:00.
    c.points.retain(|p| p.t != at(24, 3) && p.t != at(24, 4));
    for p in c.points.iter_mut().filter(|p| p.t == at(24, 5)) {
        p.measured = 90.0;
        p.online = 18.0;
        p.offline = 36.0;
    }
    let f = fills(&c, &[win("01:00-06:00")], Tz::UTC, now());
    let f = cluster(&f)[0];
    assert!(close(f.coverage, (2.0 + 0.9) / 5.0), "{}", f.coverage);
    assert!(close(f.avg_util, 0.6), "{}", f.avg_util);
    assert!(close(f.idle_core_hours, 40.0 * 2.0 + 36.0), "{}", f.idle_core_hours);
    assert!(close(f.capacity_core_hours, 300.0));
    assert!(!f.complete, "a gap makes the figures partial");
    let gaps = interval::uncovered(&c.points, Duration::hours(1), f.start, f.end);
    assert_eq!(gaps, vec![(at(24, 2), at(24, 4), 0.0), (at(24, 4), at(24, 5), 0.9)]);
    // A gap in the 4 spill hours also leaves the occurrence partial.
    let mut c = curve();
    c.points.retain(|p| p.t != at(24, 8));
    let f = fills(&c, &[win("01:00-06:00")], Tz::UTC, now());
    assert!(close(cluster(&f)[0].coverage, 1.0) && !cluster(&f)[0].complete);
}

#[test]
fn an_occurrence_without_data_is_listed_with_unknown_figures() {
    let mut c = curve();
    c.points.retain(|p| p.t <= at(24, 1) || p.t > at(24, 6));
    let f = fills(&c, &[win("01:00-06:00")], Tz::UTC, now());
    let f = cluster(&f)[0];
    assert!(f.avg_util.is_nan() && f.offline_share.is_nan(), "{f:?}");
    assert_eq!((f.coverage, f.idle_core_hours, f.complete), (0.0, 0.0, false));
}

#[test]
fn capacity_is_integrated_over_time() {
    let mut c = curve();
    // 20 more cores from 03:00: 2 h at 100, 3 h at 120.
    for p in c.points.iter_mut().filter(|p| p.t > at(24, 3)) {
        p.capacity = 120.0;
        p.measured = 120.0;
    }
    let f = fills(&c, &[win("01:00-06:00")], Tz::UTC, now());
    let f = cluster(&f)[0];
    assert!(close(f.capacity_core_hours, 560.0));
    assert!(close(f.avg_util, 300.0 / 560.0));
    assert!(close(f.idle_core_hours, 260.0));
}

#[test]
fn incomplete_while_open_or_spill_pending() {
    let f = fills(&curve(), &[win("01:00-06:00")], Tz::UTC, at(24, 9));
    assert!(f.iter().all(|f| !f.complete));
    // A window at the very start of the curve has no baseline: not complete.
    let f = fills(&curve(), &[win("12:00-13:00")], Tz::UTC, now());
    assert_eq!(f[0].start, at(23, 12));
    assert!(!f[0].complete);
}

#[test]
fn background_offline_work_that_only_fluctuates_is_not_spill() {
    // Hourly points ending 23 13:00 .. 24 12:00, offline alternating 8/12 cores, 60 in 01:00-06:00.
    let points = (13..=36)
        .map(|h| {
            let t = at(23, 0) + Duration::hours(h);
            let night = (26..=30).contains(&h);
            let offline = if night {
                60.0
            } else if h % 2 == 0 {
                8.0
            } else {
                12.0
            };
            CpuPoint::new(t, 20.0, offline, 100.0)
        })
        .collect();
    let c = CpuCurve { step_s: 3600, capacity_cores: 100.0, points, racks: Vec::new() };
    let f = fills(&c, &[win("01:00-06:00")], Tz::UTC, at(25, 12));
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].complete);
    assert_eq!(f[0].spill_core_hours, 0.0, "12 after the window is the daytime level, not spill");
}

#[test]
fn window_crossing_midnight() {
    let f = fills(&curve(), &[win("22:00-02:00")], Tz::UTC, now());
    let c = cluster(&f);
    assert_eq!(c.len(), 1);
    assert_eq!((c[0].start, c[0].end), (at(23, 22), at(24, 2)));
    // 22, 23, 00 at 30 cores, 01 at 60 of 100.
    assert!(close(c[0].avg_util, 0.375), "{}", c[0].avg_util);
    assert!(close(c[0].idle_core_hours, 250.0));
    assert!(c[0].complete);
}

#[test]
fn non_utc_zone() {
    let tz: Tz = "Asia/Shanghai".parse().expect("zone");
    let f = fills(&curve(), &[win("01:00-06:00")], tz, now());
    let c = cluster(&f);
    assert_eq!(c.len(), 1);
    // 01:00-06:00 CST on 11-24 is 17:00-22:00 UTC on 11-23.
    assert_eq!((c[0].start, c[0].end), (at(23, 17), at(23, 22)));
    assert!(close(c[0].avg_util, 0.3));
    assert!(close(c[0].offline_share, 1.0 / 3.0));
    // After 22:00 UTC: 10, 10, 10, then 40 at 01:00 UTC over a baseline of 10.
    assert!(close(c[0].spill_core_hours, 30.0), "{}", c[0].spill_core_hours);
    assert!(c[0].complete);
}

#[test]
fn dst_transitions() {
    let ny: Tz = "America/New_York".parse().expect("zone");
    let t = |m, d, h, mi| Utc.with_ymd_and_hms(2026, m, d, h, mi, 0).single().expect("time");
    // Fall back on 2026-11-01: 01:00 is ambiguous (EDT first), 06:00 is EST: 6 hours.
    let o = occurrences(&win("01:00-06:00"), ny, t(11, 1, 0, 0), t(11, 1, 23, 0));
    assert_eq!(o, vec![(t(11, 1, 5, 0), t(11, 1, 11, 0))]);
    // Spring forward on 2026-03-08: 02:30 does not exist and moves to 03:30 EDT.
    let o = occurrences(&win("02:30-06:00"), ny, t(3, 8, 0, 0), t(3, 8, 23, 0));
    assert_eq!(o, vec![(t(3, 8, 7, 30), t(3, 8, 10, 0))]);
    // 01:00-06:00 on that day is 4 hours.
    let o = occurrences(&win("01:00-06:00"), ny, t(3, 8, 0, 0), t(3, 8, 23, 0));
    assert_eq!(o, vec![(t(3, 8, 6, 0), t(3, 8, 10, 0))]);
    // A plain day before it: EST.
    let o = occurrences(&win("02:30-06:00"), ny, t(3, 7, 0, 0), t(3, 7, 23, 0));
    assert_eq!(o, vec![(t(3, 7, 7, 30), t(3, 7, 11, 0))]);
    assert_eq!(nominal(&win("22:00-02:00")), Duration::hours(4));
}

#[test]
fn empty_and_degenerate_curves() {
    let empty = CpuCurve { step_s: 0, capacity_cores: 0.0, points: vec![], racks: vec![] };
    assert!(fills(&empty, &[win("01:00-06:00")], Tz::UTC, now()).is_empty());
    let zero = CpuCurve {
        step_s: 3600,
        capacity_cores: 0.0,
        points: points().into_iter().map(|p| CpuPoint::new(p.t, 0.0, 0.0, 0.0)).collect(),
        racks: vec![],
    };
    let f = fills(&zero, &[win("01:00-06:00")], Tz::UTC, now());
    assert!(f.iter().all(|f| f.avg_util.is_nan() && f.idle_core_hours == 0.0 && !f.complete), "{f:?}");
    let w = Window { start: NaiveTime::MIN, end: NaiveTime::MIN };
    assert!(fills(&curve(), &[w], Tz::UTC, now()).is_empty());
}

#[test]
fn a_review_fetches_its_occurrences_with_their_baseline_and_racks_only_around_them() {
    let w = [win("01:00-06:00")];
    // Run at 12:00: today's window, 23:00 (baseline) to 10:00 (spill).
    let (from, racks) = needed(&w, Tz::UTC, at(23, 12), at(24, 12));
    assert_eq!((from, racks), (at(23, 12), Some((at(23, 23), at(24, 10)))));
    // Run at 03:00: yesterday's window straddles the start: from 23:00 two days ago.
    let (from, racks) = needed(&w, Tz::UTC, at(23, 3), at(24, 3));
    assert_eq!((from, racks), (at(22, 23), Some((at(22, 23), at(24, 3)))));
    assert_eq!(needed(&[], Tz::UTC, at(23, 3), at(24, 3)), (at(23, 3), None));
}
