use chrono::TimeZone;

use super::*;

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, h, m, 0).single().expect("time")
}

/// 5-minute points ending 00:05 .. 03:00: 10 cores in use of 20, 4 of it offline; 30 of 40
/// cores (all measured) in the step ending 01:00.
fn points() -> Vec<CpuPoint> {
    (1..=36)
        .map(|k| {
            let t = at(0, 0) + Duration::minutes(5 * k);
            if t == at(1, 0) { CpuPoint::new(t, 20.0, 10.0, 40.0) } else { CpuPoint::new(t, 6.0, 4.0, 20.0) }
        })
        .collect()
}

const STEP: Duration = Duration::minutes(5);

#[test]
fn a_point_counts_for_the_interval_before_it() {
    let p = points();
    // [00:55, 01:00) is the point at 01:00, not the one at 00:55.
    let t = tally(&p, STEP, at(0, 55), at(1, 0));
    assert_eq!((t.used, t.capacity, t.span_s), (30.0 * 300.0, 40.0 * 300.0, 300.0));
    // [01:00, 01:05) is the point at 01:05.
    let t = tally(&p, STEP, at(1, 0), at(1, 5));
    assert_eq!(t.used, 10.0 * 300.0);
}

#[test]
fn edges_off_the_grid_take_their_share_of_the_step() {
    let p = points();
    // 00:57-01:02: 3 minutes of the step ending 01:00 and 2 of the one ending 01:05.
    let t = tally(&p, STEP, at(0, 57), at(1, 2));
    assert!((t.used - (30.0 * 180.0 + 10.0 * 120.0)).abs() < 1e-9);
    assert!((t.capacity - (40.0 * 180.0 + 20.0 * 120.0)).abs() < 1e-9);
    assert!((t.coverage() - 1.0).abs() < 1e-12);
    assert!((t.idle - (10.0 * 180.0 + 10.0 * 120.0)).abs() < 1e-9);
}

#[test]
fn ratios_without_data_are_nan_and_gaps_lower_coverage() {
    let p = points();
    let none = tally(&p, STEP, at(5, 0), at(6, 0));
    assert!(none.util().is_nan() && none.offline_share().is_nan() && !none.has_data());
    assert_eq!(none.coverage(), 0.0);
    // Half of [02:30, 03:30) has points.
    let half = tally(&p, STEP, at(2, 30), at(3, 30));
    assert!((half.coverage() - 0.5).abs() < 1e-12);
    assert!((half.util() - 0.5).abs() < 1e-12 && (half.offline_share() - 0.4).abs() < 1e-12);
    let idle = CpuPoint::new(at(0, 5), 0.0, 0.0, 8.0);
    assert_eq!(tally(&[idle], STEP, at(0, 0), at(0, 5)).offline_share(), 0.0);
}

#[test]
fn offline_above_a_baseline_and_its_peak() {
    let p = points();
    assert_eq!(peak_offline(&p, STEP, at(0, 0), at(2, 0)), Some(10.0));
    assert_eq!(peak_offline(&p, STEP, at(4, 0), at(5, 0)), None);
    // Above 5 cores: only the step ending 01:00 (10 cores), 5 x 300 core-seconds.
    assert_eq!(above(&p, STEP, at(0, 0), at(2, 0), 5.0), 1500.0);
}

#[test]
fn uncovered_spans() {
    let mut p = points();
    p.retain(|p| p.t != at(1, 30) && p.t != at(1, 35));
    if let Some(x) = p.iter_mut().find(|x| x.t == at(2, 0)) {
        x.measured = 15.0;
    }
    let u = uncovered(&p, STEP, at(1, 0), at(3, 30));
    assert_eq!(u, vec![(at(1, 25), at(1, 35), 0.0), (at(1, 55), at(2, 0), 0.75), (at(3, 0), at(3, 30), 0.0)]);
}
