//! The 24 h CPU curve as plain ASCII text, for pasting into a review document.
//!
//! One column per 1/72 of the range (20 minutes for 24 h), [`ROWS`] rows of 10 % each. A column's
//! value is the integral over its slice of time (`analysis::interval`, as the figures and the TUI
//! count it) as a share of the cores measured; a cell is drawn when the stack reaches its
//! midpoint: `#` online, `+` offline on top. A column with no data is `?` on the axis (a gap, not
//! 0 %). Under the axis: hour labels every 3 hours in the report's zone, then each window
//! occurrence as `[label====]`.

use chrono::{DateTime, Duration, Timelike, Utc};

use super::CapacityReport;
use crate::analysis::colocation::occurrences;
use crate::analysis::interval;

pub(super) const COLS: usize = 72;
pub(super) const ROWS: usize = 10;
const ONLINE: char = '#';
const OFFLINE: char = '+';
/// Width of the y-axis labels (`100%`) plus the space before the axis.
const GUTTER: usize = 6;

/// The chart's lines, or one line saying why there is none. ASCII only.
pub(super) fn lines(r: &CapacityReport) -> Vec<String> {
    let span = r.end - r.start;
    if span <= Duration::zero() {
        return vec!["(empty range: no chart)".into()];
    }
    let cols = columns(r, span);
    if cols.iter().all(Option::is_none) {
        return vec!["(no CPU data in the range: no chart)".into()];
    }
    let mut out = Vec::with_capacity(ROWS + 5);
    for row in 0..ROWS {
        let level = ROWS - row; // 1-based from the bottom
        let label = if level.is_multiple_of(2) { format!("{}%", level * 100 / ROWS) } else { String::new() };
        let mid = (level as f64 - 0.5) / ROWS as f64;
        let cells: String = cols
            .iter()
            .map(|c| match c {
                Some((on, _)) if mid < *on => ONLINE,
                Some((on, off)) if mid < on + off => OFFLINE,
                _ => ' ',
            })
            .collect();
        out.push(format!("{label:>4} |{cells}").trim_end().to_string());
    }
    let step = Duration::seconds(i64::from(r.curve.step_s.max(1)));
    let first = r.curve.points.first().map(|p| p.t - step);
    let axis: String = (0..COLS)
        .map(|c| match cols[c] {
            Some(_) => '-',
            None if first.is_some_and(|f| col_start(r, span, c + 1) > f) => '?',
            None => ' ',
        })
        .collect();
    out.push(format!("{:>4} +{axis}", "0%"));
    out.push(hour_labels(r, span));
    out.extend(window_rows(r, span));
    out.push(format!(
        "{:GUTTER$}{ONLINE} online  {OFFLINE} offline  ? no data  [=] colocation window  (times {}, % of the cores measured; {} cores at the end)",
        "",
        r.tz.name(),
        cores(r.capacity_cores)
    ));
    out
}

fn cores(c: f64) -> String {
    if !c.is_finite() {
        "?".into()
    } else if c.fract() == 0.0 {
        format!("{c:.0}")
    } else {
        format!("{c:.1}")
    }
}

/// The column holding instant `t`, if inside the range.
fn col_of(r: &CapacityReport, span: Duration, t: DateTime<Utc>) -> Option<usize> {
    let off = (t - r.start).num_seconds();
    let total = span.num_seconds().max(1);
    if off < 0 || off >= total {
        return None;
    }
    usize::try_from(i128::from(off) * COLS as i128 / i128::from(total)).ok().filter(|c| *c < COLS)
}

fn col_start(r: &CapacityReport, span: Duration, c: usize) -> DateTime<Utc> {
    let secs = i128::from(span.num_seconds()) * c as i128 / COLS as i128;
    r.start + Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 2))
}

/// (online, offline) shares of the cores measured per column; `None` where no point covers it.
fn columns(r: &CapacityReport, span: Duration) -> Vec<Option<(f64, f64)>> {
    let step = Duration::seconds(i64::from(r.curve.step_s.max(1)));
    (0..COLS)
        .map(|c| {
            let t = interval::tally(&r.curve.points, step, col_start(r, span, c), col_start(r, span, c + 1));
            t.has_data().then(|| (t.online_util(), t.offline_util()))
        })
        .collect()
}

/// Local hour labels every 3 hours, written at their column.
fn hour_labels(r: &CapacityReport, span: Duration) -> String {
    let mut line = vec![' '; GUTTER + COLS + 2];
    let local = r.start.with_timezone(&r.tz);
    let first = local.with_minute(0).and_then(|t| t.with_second(0)).and_then(|t| t.with_nanosecond(0));
    let Some(first) = first else { return String::new() };
    let mut t = first.with_timezone(&Utc);
    let mut next_free = 0;
    while t < r.end {
        let hour = t.with_timezone(&r.tz).hour();
        if let Some(c) = col_of(r, span, t).filter(|_| hour.is_multiple_of(3)) {
            let pos = GUTTER + c;
            if pos >= next_free {
                for (i, ch) in format!("{hour:02}").chars().enumerate() {
                    if let Some(slot) = line.get_mut(pos + i) {
                        *slot = ch;
                    }
                }
                next_free = pos + 3;
            }
        }
        t += Duration::hours(1);
    }
    line.into_iter().collect::<String>().trim_end().to_string()
}

/// One row per window with each of its occurrences drawn as `[label===]`, clipped to the range.
/// A label too long for its span goes just after it, or just before it, where the row is free.
fn window_rows(r: &CapacityReport, span: Duration) -> Vec<String> {
    r.windows
        .iter()
        .map(|w| {
            let label: Vec<char> = w.label().chars().collect();
            let mut row = vec![' '; COLS + label.len() + 1];
            let mut spans = Vec::new();
            for (s, e) in occurrences(w, r.tz, r.start, r.end) {
                let a = col_of(r, span, s.max(r.start)).unwrap_or(0);
                let b = col_of(r, span, e - Duration::seconds(1)).unwrap_or(COLS - 1);
                if b < a {
                    continue;
                }
                for (i, slot) in row.iter_mut().enumerate().take(b + 1).skip(a) {
                    *slot = if i == a && s >= r.start {
                        '['
                    } else if i == b && e <= r.end {
                        ']'
                    } else {
                        '='
                    };
                }
                spans.push((a, b));
            }
            for (a, b) in spans {
                let n = label.len();
                let free = |row: &[char], from: usize| {
                    row.get(from..from + n).is_some_and(|c| c.iter().all(|c| *c == ' '))
                };
                let at = if b - a + 1 >= n + 2 {
                    Some(a + 1)
                } else if free(&row, b + 2) && row.get(b + 1) == Some(&' ') {
                    Some(b + 2)
                } else {
                    a.checked_sub(n + 1).filter(|p| free(&row, *p) && row.get(p + n) == Some(&' '))
                };
                if let Some(at) = at {
                    row[at..at + n].copy_from_slice(&label);
                }
            }
            format!("{:GUTTER$}{}", "", row.into_iter().collect::<String>()).trim_end().to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::report::fixture;

    #[test]
    fn ascii_and_bounded_width() {
        for l in lines(&fixture()) {
            assert!(l.is_ascii(), "{l}");
            assert!(l.len() <= GUTTER + COLS + 80, "{l}");
        }
        let l = lines(&fixture());
        assert_eq!(l[0].len(), l[0].trim_end().len());
        assert!(l.iter().any(|l| l.contains('#')) && l.iter().any(|l| l.contains('+')));
    }

    #[test]
    fn degenerate_inputs_say_why() {
        let mut r = fixture();
        r.curve.points.clear();
        assert_eq!(lines(&r), vec!["(no CPU data in the range: no chart)".to_string()]);
        // No cores measured anywhere: no data, whatever the capacity says.
        let mut r = fixture();
        r.curve.points.iter_mut().for_each(|p| p.measured = 0.0);
        assert_eq!(lines(&r), vec!["(no CPU data in the range: no chart)".to_string()]);
        // A gap is `?` on the axis.
        let mut r = fixture();
        r.curve.points.retain(|p| p.t < r.start + Duration::hours(2) || p.t > r.start + Duration::hours(3));
        let axis = lines(&r).into_iter().find(|l| l.trim_start().starts_with("0% +")).expect("axis");
        assert!(axis.contains("-????-"), "{axis}");
        let mut r = fixture();
        r.end = r.start;
        assert_eq!(lines(&r), vec!["(empty range: no chart)".to_string()]);
    }

    #[test]
    fn over_capacity_and_nan_points_do_not_panic() {
        let mut r = fixture();
        for (i, p) in r.curve.points.iter_mut().enumerate() {
            match i % 3 {
                0 => p.online = f64::NAN,
                1 => p.offline = 1e12,
                _ => p.online = -5.0,
            }
        }
        let l = lines(&r);
        assert!(l.len() > ROWS && l.iter().all(|l| l.is_ascii()));
    }

    #[test]
    fn occurrences_cut_by_the_range_have_no_bracket_on_the_cut_side() {
        let mut r = fixture();
        // Start the range at 23:00 local: the 21:00-00:30 occurrence is cut on the left.
        r.start += Duration::hours(11);
        r.end += Duration::hours(11);
        let l = lines(&r);
        let late = l.iter().find(|l| l.contains("21:00-00:30")).expect("window row");
        assert!(late.trim_start().starts_with("====") && late.contains("] 21:00-00:30"), "{late}");
        assert!(l.iter().all(|l| l.len() <= GUTTER + COLS + 80));
    }
}
