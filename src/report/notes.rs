//! What the capacity review must say besides its figures, from the curve alone (pure): why an
//! occurrence is partial (and which spans had no data), days that daylight saving made short or
//! long, and the capacity changes in the range.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use super::CapacityChange;
use crate::analysis::{colocation, interval};
use crate::model::{CpuCurve, WindowFill};

fn local(tz: Tz, t: DateTime<Utc>, fmt: &str) -> String {
    t.with_timezone(&tz).format(fmt).to_string()
}

fn hours(d: Duration) -> String {
    let m = d.num_minutes();
    if m % 60 == 0 { format!("{} h", m / 60) } else { format!("{} h {:02} min", m / 60, m % 60) }
}

/// `02:00-02:20 no data, 03:00-04:00 90 % of the cores measured`.
fn spans(tz: Tz, uncovered: &[(DateTime<Utc>, DateTime<Utc>, f64)]) -> String {
    uncovered
        .iter()
        .map(|(a, b, share)| {
            let what = if *share <= 0.0 {
                "no data".to_string()
            } else {
                format!("{} % of the cores measured", crate::viewmodel::percent::share(*share).number())
            };
            format!("{}-{} {what}", local(tz, *a, "%H:%M"), local(tz, *b, "%H:%M"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a cluster occurrence is partial, judged as of `end` (the report's end).
pub(super) fn partial(curve: &CpuCurve, f: &WindowFill, tz: Tz, end: DateTime<Utc>) -> String {
    let step = Duration::seconds(i64::from(curve.step_s.max(1)));
    let spill_end = f.end + Duration::hours(colocation::SPILL_HOURS);
    let day = |t| local(tz, t, "%a %d %b %H:%M");
    let why = if f.end > end {
        "still open at the end of the range".to_string()
    } else if f.coverage < 1.0 - 1e-9 {
        let gaps = interval::uncovered(&curve.points, step, f.start, f.end);
        format!(
            "data covers {} % of it ({}); its figures count only the time with data, which is neither busy nor idle",
            crate::viewmodel::percent::share(f.coverage).number(),
            spans(tz, &gaps)
        )
    } else if spill_end > end {
        format!("spill is counted only until the end of the range; final after {}", day(spill_end))
    } else {
        let gaps = interval::uncovered(&curve.points, step, f.end, spill_end);
        if gaps.is_empty() {
            "no data in the 2 hours before it to compare spill with".to_string()
        } else {
            format!("the 4 spill hours after it are not fully covered ({})", spans(tz, &gaps))
        }
    };
    format!("{} from {} is partial: {why}", f.window.label(), day(f.start))
}

/// Hours of the local day `d` in `tz` (23 or 25 on daylight-saving days).
fn day_length(tz: Tz, d: NaiveDate) -> Option<Duration> {
    use chrono::TimeZone;
    let start = |d: NaiveDate| tz.from_local_datetime(&d.and_hms_opt(0, 0, 0)?).earliest();
    Some(start(d.succ_opt()?)? - start(d)?)
}

/// A note for an occurrence that daylight saving made shorter or longer than its wall-clock span.
pub(super) fn clock_change(f: &WindowFill, tz: Tz) -> Option<String> {
    let lasted = f.end - f.start;
    let nominal = colocation::nominal(&f.window);
    if lasted == nominal {
        return None;
    }
    let day = f.start.with_timezone(&tz).date_naive();
    let days = [day, f.end.with_timezone(&tz).date_naive()];
    let odd =
        days.iter().find_map(|d| day_length(tz, *d).filter(|l| *l != Duration::hours(24)).map(|l| (*d, l)));
    let (how, which) = match odd {
        Some((d, l)) => (
            if l < Duration::hours(24) { "went forward" } else { "went back" },
            format!(", a {}-hour day", l.num_hours())
                .replace(", a", &format!(" on {}, a", d.format("%a %d %b"))),
        ),
        None => (if lasted < nominal { "went forward" } else { "went back" }, String::new()),
    };
    Some(format!(
        "{} on {} lasted {}, not {}: the clocks {how} ({}{which}); its figures cover the wall-clock span",
        f.window.label(),
        local(tz, f.start, "%a %d %b"),
        hours(lasted),
        hours(nominal),
        tz.name()
    ))
}

/// The steps where the cluster's capacity changed, oldest first (names filled in by the
/// builder); a change across a gap is dated at the first step with the new value.
pub(super) fn capacity_changes(curve: &CpuCurve) -> Vec<CapacityChange> {
    let step = Duration::seconds(i64::from(curve.step_s.max(1)));
    curve
        .points
        .windows(2)
        .filter(|w| (w[1].capacity - w[0].capacity).abs() > 1e-9)
        .map(|w| CapacityChange {
            at: w[1].t - step,
            cores_before: w[0].capacity,
            cores_after: w[1].capacity,
            joined: Vec::new(),
            left: Vec::new(),
            cordoned: Vec::new(),
            uncordoned: Vec::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::model::{CpuPoint, Window};

    fn fill(w: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> WindowFill {
        WindowFill {
            window: Window::parse(w).expect("window"),
            start,
            end,
            rack: None,
            avg_util: 0.5,
            offline_share: 0.5,
            idle_core_hours: 1.0,
            spill_core_hours: 0.0,
            capacity_core_hours: 1.0,
            coverage: 1.0,
            reclaimed_core_hours: None,
            reclaimed_unused_core_hours: None,
            reclaimed_unknown: None,
            complete: true,
        }
    }

    #[test]
    fn short_and_long_days_are_named() {
        let ny: Tz = "America/New_York".parse().expect("zone");
        let t = |m, d, h| Utc.with_ymd_and_hms(2026, m, d, h, 0, 0).single().expect("time");
        let long = clock_change(&fill("01:00-06:00", t(11, 1, 5), t(11, 1, 11)), ny).expect("a note");
        assert_eq!(
            long,
            "01:00-06:00 on Sun 01 Nov lasted 6 h, not 5 h: the clocks went back (America/New_York on Sun 01 Nov, a 25-hour day); its figures cover the wall-clock span"
        );
        let short = clock_change(&fill("01:00-06:00", t(3, 8, 6), t(3, 8, 10)), ny).expect("a note");
        assert!(
            short.contains("lasted 4 h, not 5 h: the clocks went forward") && short.contains("23-hour day"),
            "{short}"
        );
        assert_eq!(clock_change(&fill("01:00-06:00", t(11, 2, 6), t(11, 2, 11)), ny), None);
    }

    #[test]
    fn changes_and_gaps_are_described() {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 2, 10, 0, 0).single().expect("time");
        let points: Vec<CpuPoint> = (1..=48)
            .filter(|k| !(5..=8).contains(k))
            .map(|k| {
                let cap = if k > 24 { 88.0 } else { 80.0 };
                CpuPoint::new(t0 + Duration::minutes(5 * k), 10.0, 0.0, cap)
            })
            .collect();
        let c = CpuCurve { step_s: 300, capacity_cores: 88.0, points, racks: vec![] };
        let ch = capacity_changes(&c);
        assert_eq!(ch.len(), 1);
        assert_eq!((ch[0].at, ch[0].cores_before, ch[0].cores_after), (t0 + Duration::hours(2), 80.0, 88.0));
        let mut f = fill("10:00-14:00", t0, t0 + Duration::hours(4));
        f.coverage = 0.9;
        f.complete = false;
        let n = partial(&c, &f, Tz::UTC, t0 + Duration::hours(20));
        assert!(n.contains("data covers 90 % of it (10:20-10:40 no data)"), "{n}");
    }
}
