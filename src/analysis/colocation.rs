//! Colocation-window fill accounting.
//!
//! A window (`01:00-06:00`) is a daily span of local time in the configured zone. Each day's
//! occurrence is converted to UTC on its own, so DST changes are handled: a start or end that
//! falls into a spring-forward gap is moved forward by the gap's length; one that is ambiguous
//! (fall-back) takes the earlier instant for the start and the later for the end, so the window
//! covers every instant whose wall clock reads inside it. Windows may cross midnight.
//!
//! For each occurrence that overlaps the curve, for the cluster (`rack: None`) and each rack, over
//! the points `p` with `start <= p.t < end` (a point stands for one step of `step_s` seconds):
//!
//! * `avg_util` = mean(`p.total()`) / capacity;
//! * `offline_share` = sum(`p.offline`) / sum(`p.total()`) (0 when nothing ran);
//! * `idle_core_hours` = sum(max(0, capacity - `p.total()`)) * step hours;
//! * `spill_core_hours`: offline work after the window closed above the pre-window level.
//!   baseline = max(`p.offline`) over `[start - 2 h, start)` (0 when there are no such points):
//!   the highest daytime level, so background offline work that merely fluctuates after the
//!   window is not counted as spill;
//!   spill = sum over `[end, end + 4 h)` of max(0, `p.offline` - baseline) * step hours;
//! * `complete` = `end + 4 h <= now`, and the series covers the window and the 4 h after it
//!   (first point at or before `start`, last point's step reaching `end + 4 h`), and the baseline
//!   period has at least one point. Only complete fills have final figures.
//!
//! The result is sorted by start, then rack (`None`, the cluster, first).

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

use crate::model::{CpuCurve, CpuPoint, Window, WindowFill};

/// Hours before the window whose offline level is the baseline for spill.
pub const BASELINE_HOURS: i64 = 2;
/// Hours after the window in which offline work above the baseline counts as spill.
pub const SPILL_HOURS: i64 = 4;

/// Local wall time to UTC (see the module docs for gaps and ambiguous times).
fn resolve(tz: Tz, naive: NaiveDateTime, latest: bool) -> DateTime<Utc> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => if latest { b } else { a }.with_timezone(&Utc),
        LocalResult::None => {
            // In a gap: read the wall time with the offset in force before the gap.
            let before = tz.offset_from_utc_datetime(&(naive - Duration::days(1))).fix();
            naive.and_utc() - Duration::seconds(i64::from(before.local_minus_utc()))
        }
    }
}

/// The UTC spans of every occurrence of `w` in zone `tz` that overlaps `[from, to)`.
pub fn occurrences(
    w: &Window,
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out = Vec::new();
    if to <= from {
        return out;
    }
    let first = from.with_timezone(&tz).date_naive().pred_opt().unwrap_or(from.date_naive());
    let last = to.with_timezone(&tz).date_naive();
    let mut day = first;
    while day <= last {
        let end_day = if w.crosses_midnight() { day.succ_opt() } else { Some(day) };
        if let Some(end_day) = end_day {
            let start = resolve(tz, day.and_time(w.start), false);
            let end = resolve(tz, end_day.and_time(w.end), true);
            if start < end && end > from && start < to {
                out.push((start, end));
            }
        }
        match day.succ_opt() {
            Some(d) => day = d,
            None => break,
        }
    }
    out
}

/// The points with `from <= t < to` (points are oldest first).
fn slice(points: &[CpuPoint], from: DateTime<Utc>, to: DateTime<Utc>) -> &[CpuPoint] {
    let a = points.partition_point(|p| p.t < from);
    let b = points.partition_point(|p| p.t < to).max(a);
    &points[a..b]
}

struct Series<'a> {
    rack: Option<&'a str>,
    capacity: f64,
    points: &'a [CpuPoint],
}

fn fill_one(
    w: &Window,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    s: &Series,
    step: Duration,
    now: DateTime<Utc>,
) -> Option<WindowFill> {
    let inside = slice(s.points, start, end);
    // Without a capacity there is no utilisation or idle capacity to speak of.
    if inside.is_empty() || s.capacity <= 0.0 {
        return None;
    }
    let step_h = step.num_seconds() as f64 / 3600.0;
    let n = inside.len() as f64;
    let total: f64 = inside.iter().map(CpuPoint::total).sum();
    let offline: f64 = inside.iter().map(|p| p.offline).sum();
    let idle: f64 = inside.iter().map(|p| (s.capacity - p.total()).max(0.0)).sum();
    let base = slice(s.points, start - Duration::hours(BASELINE_HOURS), start);
    let baseline = base.iter().map(|p| p.offline).fold(0.0, f64::max);
    let spill_end = end + Duration::hours(SPILL_HOURS);
    let spill: f64 = slice(s.points, end, spill_end).iter().map(|p| (p.offline - baseline).max(0.0)).sum();
    let covered = match (s.points.first(), s.points.last()) {
        (Some(f), Some(l)) => f.t <= start && l.t + step >= spill_end,
        _ => false,
    };
    Some(WindowFill {
        window: *w,
        start,
        end,
        rack: s.rack.map(str::to_string),
        avg_util: total / n / s.capacity,
        offline_share: if total > 0.0 { offline / total } else { 0.0 },
        idle_core_hours: idle * step_h,
        spill_core_hours: spill * step_h,
        complete: spill_end <= now && covered && !base.is_empty(),
    })
}

/// Fill figures for every occurrence of every window covered by the curve, for the cluster
/// (`rack: None`) and per rack. See the module docs for the definitions.
pub fn fills(curve: &CpuCurve, windows: &[Window], tz: Tz, now: DateTime<Utc>) -> Vec<WindowFill> {
    let step = Duration::seconds(i64::from(curve.step_s.max(1)));
    let mut series = vec![Series { rack: None, capacity: curve.capacity_cores, points: &curve.points }];
    series.extend(curve.racks.iter().map(|r| Series {
        rack: Some(r.rack.as_str()),
        capacity: r.capacity_cores,
        points: &r.points,
    }));
    let mut out = Vec::new();
    for s in &series {
        let (Some(first), Some(last)) = (s.points.first(), s.points.last()) else { continue };
        for w in windows {
            for span in occurrences(w, tz, first.t, last.t + step) {
                out.extend(fill_one(w, span, s, step, now));
            }
        }
    }
    out.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.rack.cmp(&b.rack)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RackCurve;
    use chrono::NaiveTime;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).single().expect("valid time")
    }
    fn now() -> DateTime<Utc> {
        at(24, 12)
    }
    fn win(s: &str) -> Window {
        Window::parse(s).expect("valid window")
    }

    /// Hourly points from 11-23 12:00 to 11-24 11:00 UTC. Offline: 10 cores before 01:00,
    /// 40 inside 01:00-06:00, then 30, 20, 10, 10 from 06:00; online 20 throughout.
    fn points() -> Vec<CpuPoint> {
        (0..24)
            .map(|i| {
                let t = at(23, 12) + Duration::hours(i);
                let offline = match t.format("%H").to_string().as_str() {
                    "01" | "02" | "03" | "04" | "05" => 40.0,
                    "06" => 30.0,
                    "07" => 20.0,
                    _ => 10.0,
                };
                CpuPoint { t, online: 20.0, offline }
            })
            .collect()
    }

    fn curve() -> CpuCurve {
        let rack = |name: &str, scale: f64| RackCurve {
            rack: name.into(),
            capacity_cores: 100.0 * scale,
            points: points()
                .into_iter()
                .map(|p| CpuPoint { online: p.online * scale, offline: p.offline * scale, ..p })
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
        // Baseline 10; after: 30, 20, 10, 10 => 20 + 10 = 30 core-hours.
        assert!(close(c.spill_core_hours, 30.0), "{}", c.spill_core_hours);
        assert!(c.complete);
        let r2 = &f[2];
        assert!(
            close(r2.avg_util, 0.6) && close(r2.idle_core_hours, 100.0) && close(r2.spill_core_hours, 15.0)
        );
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
        // Hourly points from 23 12:00, offline alternating 8/12 cores, 60 inside 01:00-06:00 on the 24th.
        let points = (12..36)
            .map(|h| {
                let t = at(23, 0) + Duration::hours(h);
                let night = (25..30).contains(&h);
                CpuPoint {
                    t,
                    online: 20.0,
                    offline: if night {
                        60.0
                    } else if h % 2 == 0 {
                        8.0
                    } else {
                        12.0
                    },
                }
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
        let c: Vec<&WindowFill> = f.iter().filter(|f| f.rack.is_none()).collect();
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
        let c: Vec<&WindowFill> = f.iter().filter(|f| f.rack.is_none()).collect();
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
        // A plain day before it: EST.
        let o = occurrences(&win("02:30-06:00"), ny, t(3, 7, 0, 0), t(3, 7, 23, 0));
        assert_eq!(o, vec![(t(3, 7, 7, 30), t(3, 7, 11, 0))]);
    }

    #[test]
    fn empty_and_degenerate_curves() {
        let empty = CpuCurve { step_s: 0, capacity_cores: 0.0, points: vec![], racks: vec![] };
        assert!(fills(&empty, &[win("01:00-06:00")], Tz::UTC, now()).is_empty());
        let zero = CpuCurve { step_s: 0, capacity_cores: 0.0, points: points(), racks: vec![] };
        let f = fills(&zero, &[win("01:00-06:00")], Tz::UTC, now());
        assert!(f.iter().all(|f| f.avg_util == 0.0 && f.idle_core_hours == 0.0));
        let w = Window { start: NaiveTime::MIN, end: NaiveTime::MIN };
        assert!(fills(&curve(), &[w], Tz::UTC, now()).is_empty());
    }
}
