//! Colocation-window fill accounting.
//!
//! A window (`01:00-06:00`) is a daily span of local time in the configured zone. Each day's
//! occurrence is converted to UTC on its own, so DST changes are handled: a start or end that
//! falls into a spring-forward gap is moved forward by the gap's length; one that is ambiguous
//! (fall-back) takes the earlier instant for the start and the later for the end, so the window
//! covers every instant whose wall clock reads inside it (01:00-06:00 lasts 4 h on a 23-hour
//! day and 6 h on a 25-hour one). Windows may cross midnight.
//!
//! Every figure is an integral over exactly the span it names (`analysis::interval`: a point at
//! `t` describes `(t - step, t]`), for the cluster (`rack: None`) and each rack:
//!
//! * `avg_util` = used / measured core-seconds inside `[start, end)`;
//! * `offline_share` = offline / used core-seconds inside (0 when nothing ran);
//! * `idle_core_hours` = measured capacity minus use inside, so time without data (a gap, a
//!   node whose exporter was down) is neither used nor idle;
//! * `capacity_core_hours` = capacity integrated over the covered time (nodes join and leave);
//! * `coverage` = the share of the window with data (time, weighted by cores measured);
//! * `reclaimed_core_hours` = the batch tier's allocatable (Koordinator's reclaimed capacity)
//!   integrated inside, and `reclaimed_unused_core_hours` = `max(0, reclaimed - offline)`
//!   integrated: what the offline work left of it; both `None` unless every point inside
//!   carries the reclaimed capacity;
//! * `spill_core_hours`: offline work after the window closed above the pre-window level.
//!   baseline = the highest offline level of the points covering `[start - 2 h, start)`: the
//!   daytime level, so background offline work that merely fluctuates after the window is not
//!   counted as spill; spill = the integral over `[end, end + 4 h)` of max(0, offline - baseline);
//! * `complete` = `end + 4 h <= now`, full coverage of the window and of the 4 h after it, and
//!   a baseline to compare with. Only complete fills have final figures.
//!
//! An occurrence inside the curve's span with no data at all is still listed (coverage 0, its
//! ratios NaN: `?` on screen, `null` in JSON). The result is sorted by start, then rack (`None`,
//! the cluster, first).

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

use super::interval;
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

struct Series<'a> {
    rack: Option<&'a str>,
    points: &'a [CpuPoint],
}

fn fill_one(
    w: &Window,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    s: &Series,
    step: Duration,
    now: DateTime<Utc>,
) -> WindowFill {
    let inside = interval::tally(s.points, step, start, end);
    let baseline = interval::peak_offline(s.points, step, start - Duration::hours(BASELINE_HOURS), start);
    let spill_end = end + Duration::hours(SPILL_HOURS);
    let after = interval::tally(s.points, step, end, spill_end);
    let spill = interval::above(s.points, step, end, spill_end, baseline.unwrap_or(0.0));
    let full = |t: &interval::Tally| t.coverage() >= 1.0 - 1e-9;
    let reclaimed = inside.reclaimed();
    WindowFill {
        window: *w,
        start,
        end,
        rack: s.rack.map(str::to_string),
        avg_util: inside.util(),
        offline_share: inside.offline_share(),
        idle_core_hours: inside.idle / 3600.0,
        spill_core_hours: spill / 3600.0,
        capacity_core_hours: inside.capacity / 3600.0,
        coverage: inside.coverage(),
        reclaimed_core_hours: reclaimed.map(|r| r.0 / 3600.0),
        reclaimed_unused_core_hours: reclaimed.map(|r| r.1 / 3600.0),
        reclaimed_unknown: reclaimed_unknown(&inside),
        complete: spill_end <= now && full(&inside) && full(&after) && baseline.is_some(),
    }
}

/// Why an occurrence's reclaimed figures are not known (`None` when they are).
fn reclaimed_unknown(t: &interval::Tally) -> Option<String> {
    if t.reclaimed().is_some() {
        None
    } else if t.reclaimed_s <= 0.0 {
        Some("no reclaimed capacity known (Koordinator's batch-cpu allocatable)".into())
    } else {
        let pct = (100.0 * t.reclaimed_s / t.present_s.max(1.0)).floor();
        Some(format!("the batch tier's allocatable is known for {pct:.0} % of the window's data only"))
    }
}

/// Fill figures for every occurrence of every window that overlaps the curve's span (from the
/// start of its first point's interval to its last point), for the cluster (`rack: None`) and
/// per rack. See the module docs for the definitions.
pub fn fills(curve: &CpuCurve, windows: &[Window], tz: Tz, now: DateTime<Utc>) -> Vec<WindowFill> {
    let step = Duration::seconds(i64::from(curve.step_s.max(1)));
    let mut series = vec![Series { rack: None, points: &curve.points }];
    series.extend(curve.racks.iter().map(|r| Series { rack: Some(r.rack.as_str()), points: &r.points }));
    let mut out = Vec::new();
    for s in &series {
        let (Some(first), Some(last)) = (s.points.first(), s.points.last()) else { continue };
        for w in windows {
            for span in occurrences(w, tz, first.t - step, last.t) {
                out.push(fill_one(w, span, s, step, now));
            }
        }
    }
    out.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.rack.cmp(&b.rack)));
    out
}

/// A span of time, `[start, end)`.
pub type Span = (DateTime<Utc>, DateTime<Utc>);

/// What a review of `[from, to)` must fetch: the curve from the earliest window occurrence that
/// overlaps it, less the baseline hours (else from `from`), and the per-rack curves only around
/// those occurrences (baseline to spill hours, up to `to`); `None` without an occurrence.
pub fn needed(
    windows: &[Window],
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> (DateTime<Utc>, Option<Span>) {
    let spans: Vec<Span> = windows
        .iter()
        .flat_map(|w| occurrences(w, tz, from, to))
        .map(|(a, b)| (a - Duration::hours(BASELINE_HOURS), (b + Duration::hours(SPILL_HOURS)).min(to)))
        .collect();
    let first = spans.iter().map(|s| s.0).min();
    let last = spans.iter().map(|s| s.1).max();
    (first.map_or(from, |f| f.min(from)), first.zip(last))
}

/// The wall-clock length of a window (what it lasts on a day without a clock change).
pub fn nominal(w: &Window) -> Duration {
    let d = w.end - w.start;
    if d <= Duration::zero() { d + Duration::days(1) } else { d }
}

#[cfg(test)]
#[path = "colocation_tests.rs"]
mod tests;
