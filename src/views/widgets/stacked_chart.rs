//! A stacked CPU chart: online at the bottom, offline on top, one column per time bucket, eighth-block
//! heights, colocation windows shaded and marked on a row under the plot, time labels in local time.
//!
//! Each column is the integral over its own slice of time (`analysis::interval`, the accounting the
//! window fill figures and `report capacity` use): a point at `t` fills the columns its interval
//! `(t - step, t]` overlaps, and a column no point covers is a gap, drawn as `?` on the bottom row,
//! never as 0 %. Heights are shares of the cores measured in the slice. A column is shaded when
//! its middle lies in a window occurrence (`analysis::colocation::occurrences`, so DST days are
//! shaded as the figures count them).
//!
//! Layout inside its area (top to bottom): plot rows, the window-marker row, the time-label row; a
//! y-axis gutter (`100%`, `50%`, `0%`) on the left when there is room.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::Widget;

use crate::analysis::{colocation, interval};
use crate::model::{CpuPoint, Window};
use crate::theme::Theme;

/// Width of the y-axis gutter: `100%` and the axis line.
const GUTTER: u16 = 5;

pub struct StackedChart<'a> {
    /// Oldest first; points outside `start..=end` are ignored.
    pub points: &'a [CpuPoint],
    /// The curve's step, seconds: a point describes the `step_s` seconds before it.
    pub step_s: u32,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub tz: Tz,
    pub windows: &'a [Window],
    pub theme: &'a Theme,
    /// The time cursor, marked by a vertical line when it falls in `start..=end`.
    pub cursor: Option<DateTime<Utc>>,
}

/// Each column's integrals: `n` equal slices of `[start, end)`, each integrated over its slice
/// (no data in any of them for an empty or reversed span).
fn tallies(
    points: &[CpuPoint],
    step_s: u32,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    n: usize,
) -> Vec<interval::Tally> {
    let span = (end - start).num_milliseconds();
    if n == 0 || span <= 0 {
        return vec![interval::Tally::default(); n];
    }
    let step = Duration::seconds(i64::from(step_s.max(1)));
    (0..n)
        .map(|c| {
            let (a, b) = (col_time(start, span, n, c as f64), col_time(start, span, n, c as f64 + 1.0));
            interval::tally(points, step, a, b)
        })
        .collect()
}

/// `(online, offline)` shares of the measured cores per column: `n` equal slices of
/// `[start, end)`, each integrated over its slice; `None` where no point covers the slice.
pub fn buckets(
    points: &[CpuPoint],
    step_s: u32,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    n: usize,
) -> Vec<Option<(f64, f64)>> {
    let cols = tallies(points, step_s, start, end, n);
    cols.iter().map(|t| t.has_data().then(|| (t.online_util(), t.offline_util()))).collect()
}

/// The reclaimed-capacity ceiling per column, as a share of the measured cores: online work plus
/// the batch tier's allocatable, integrated over the column's slice; `None` where a point in the
/// slice does not carry the reclaimed capacity (not known is not drawn).
pub fn ceilings(
    points: &[CpuPoint],
    step_s: u32,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    n: usize,
) -> Vec<Option<f64>> {
    let cols = tallies(points, step_s, start, end, n);
    cols.iter()
        .map(|t| {
            let (reclaimed, _) = t.reclaimed()?;
            t.has_data().then(|| (t.online + reclaimed) / t.measured)
        })
        .collect()
}

fn col_time(start: DateTime<Utc>, span_ms: i64, n: usize, col: f64) -> DateTime<Utc> {
    start + Duration::milliseconds((span_ms as f64 * col / n as f64) as i64)
}

/// Seconds since the epoch on the local wall clock, to align ticks to local hours and midnights.
fn local_secs(t: DateTime<Utc>, tz: Tz) -> i64 {
    t.with_timezone(&tz).naive_local().and_utc().timestamp()
}

/// Which columns fall inside a window occurrence (by the column's middle).
pub fn window_columns(
    windows: &[Window],
    tz: Tz,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    n: usize,
) -> Vec<bool> {
    let span = (end - start).num_milliseconds().max(0);
    let spans: Vec<(DateTime<Utc>, DateTime<Utc>)> =
        windows.iter().flat_map(|w| colocation::occurrences(w, tz, start, end)).collect();
    (0..n)
        .map(|c| {
            let mid = col_time(start, span, n, c as f64 + 0.5);
            spans.iter().any(|(a, b)| *a <= mid && mid < *b)
        })
        .collect()
}

/// Which columns are gaps inside the curve: no data, and after the start of the first point's
/// interval (columns before the curve's history are just empty).
pub fn gap_columns(
    cols: &[Option<(f64, f64)>],
    points: &[CpuPoint],
    step_s: u32,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<bool> {
    let n = cols.len();
    let span = (end - start).num_milliseconds().max(0);
    let from = points.first().map(|p| p.t - Duration::seconds(i64::from(step_s)));
    (0..n)
        .map(|c| cols[c].is_none() && from.is_some_and(|f| col_time(start, span, n, c as f64 + 0.5) >= f))
        .collect()
}

impl StackedChart<'_> {
    fn put(buf: &mut Buffer, x: u16, y: u16, sym: &str, st: Style) {
        if let Some(c) = buf.cell_mut((x, y)) {
            c.set_symbol(sym);
            c.set_style(st);
        }
    }

    /// One column of the stack (shares of the measured cores), bottom at `bottom`, `h` rows tall.
    fn column(&self, buf: &mut Buffer, x: u16, bottom: u16, h: u16, (on, off): (f64, f64)) {
        let th = self.theme;
        let eighths = f64::from(h) * 8.0;
        let on_e = (on.clamp(0.0, 1.0) * eighths).round() as u32;
        let tot_e = ((on + off).clamp(0.0, 1.0) * eighths).round().max(f64::from(on_e)) as u32;
        for r in 0..u32::from(h) {
            let (lo, hi) = (r * 8, r * 8 + 8);
            let y = bottom - r as u16;
            if tot_e >= hi {
                if on_e.saturating_sub(lo) >= 4 {
                    Self::put(buf, x, y, th.sym.chart_online, th.chart_online);
                } else {
                    Self::put(buf, x, y, th.sym.chart_offline, th.chart_offline);
                }
            } else if tot_e > lo {
                let k = (tot_e - lo) as usize;
                let st = if on_e >= tot_e { th.chart_online } else { th.chart_offline };
                Self::put(buf, x, y, th.sym.bar_v[k.min(8)], st);
            }
        }
    }

    /// The reclaimed ceiling of one column at `share` of the plot's height, drawn only above the
    /// stack (where offline work reaches the ceiling, the ceiling is filled) and inside the plot.
    fn ceiling(&self, buf: &mut Buffer, x: u16, bottom: u16, h: u16, share: f64, (on, off): (f64, f64)) {
        let eighths = f64::from(h) * 8.0;
        let at = (share * eighths).round();
        let stack = ((on + off).clamp(0.0, 1.0) * eighths).round();
        if !(0.0..eighths).contains(&at) || at < stack.max(1.0) {
            return;
        }
        let row = (at / 8.0) as u16;
        // The row the stack tops out in keeps its partial block.
        if u32::from(row) * 8 < stack as u32 {
            return;
        }
        let th = self.theme;
        Self::put(buf, x, bottom - row, th.sym.chart_reclaimed, th.chart_offline);
    }

    fn labels(&self, buf: &mut Buffer, x0: u16, y: u16, w: u16) {
        let span_s = (self.end - self.start).num_seconds();
        if span_s <= 0 || w == 0 {
            return;
        }
        let days = span_s > 36 * 3600;
        let (fmt, lw): (&str, i64) = if days { ("%a %d", 6) } else { ("%H:%M", 5) };
        let max_labels = (i64::from(w) / (lw + 2)).max(1);
        const HOURS: [i64; 9] = [300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200];
        const DAYS: [i64; 3] = [86_400, 172_800, 604_800];
        let cands: &[i64] = if days { &DAYS } else { &HOURS };
        let interval =
            cands.iter().copied().find(|i| span_s / i <= max_labels).unwrap_or(cands[cands.len() - 1]);
        let n = usize::from(w);
        let span_ms = (self.end - self.start).num_milliseconds();
        let slot =
            |c: usize| local_secs(col_time(self.start, span_ms, n, c as f64), self.tz).div_euclid(interval);
        let mut free_from = 0i64;
        let mut prev = slot(0);
        for c in 1..n {
            let s = slot(c);
            if s == prev {
                continue;
            }
            prev = s;
            let ci = c as i64;
            if ci < free_from || ci + lw > i64::from(w) {
                continue;
            }
            let Some(t) = DateTime::from_timestamp(s * interval, 0) else { continue };
            let text = t.naive_utc().format(fmt).to_string();
            buf.set_stringn(x0 + c as u16, y, &text, lw as usize, self.theme.chart_axis);
            free_from = ci + lw + 1;
        }
    }
}

impl Widget for StackedChart<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let area = area.intersection(buf.area);
        if area.is_empty() {
            return;
        }
        let th = self.theme;
        let gutter = if area.width >= 16 { GUTTER } else { 0 };
        let (plot_h, marker, labels) = match area.height {
            1 => (1, false, false),
            2 => (1, true, false),
            3 => (2, true, false),
            h => (h - 2, true, true),
        };
        let x0 = area.x + gutter;
        let w = area.width - gutter;
        let top = area.y;
        let bottom = top + plot_h - 1;
        let n = usize::from(w);

        if gutter > 0 {
            let axis = th.sym.border.vertical_left;
            for y in top..=bottom {
                StackedChart::put(buf, x0 - 1, y, axis, th.chart_axis);
            }
            let mut ylab = vec![(top, "100%"), (bottom, "0%")];
            if plot_h >= 5 {
                ylab.push((top + plot_h / 2, "50%"));
            }
            for (y, s) in ylab {
                let pad = format!("{s:>4}");
                buf.set_stringn(area.x, y, pad, 4, th.chart_axis);
            }
        }

        let in_win = window_columns(self.windows, self.tz, self.start, self.end, n);
        let cols = buckets(self.points, self.step_s, self.start, self.end, n);
        let gaps = gap_columns(&cols, self.points, self.step_s, self.start, self.end);
        let ceilings = ceilings(self.points, self.step_s, self.start, self.end, n);
        for (c, (col, win)) in cols.iter().zip(&in_win).enumerate() {
            let x = x0 + c as u16;
            if *win {
                for y in top..=bottom {
                    if let Some(cell) = buf.cell_mut((x, y)) {
                        cell.set_style(th.chart_window);
                    }
                }
                if marker {
                    StackedChart::put(
                        buf,
                        x,
                        bottom + 1,
                        th.sym.window_mark,
                        th.chart_window.patch(th.accent),
                    );
                }
            }
            if let Some(v) = col {
                self.column(buf, x, bottom, plot_h, *v);
                if let Some(share) = ceilings[c] {
                    self.ceiling(buf, x, bottom, plot_h, share, *v);
                }
            } else if gaps[c] {
                StackedChart::put(buf, x, bottom, th.sym.unknown, th.unknown);
            }
        }
        if let Some(c) = self.cursor.and_then(|t| cursor_column(self.start, self.end, n, t)) {
            let (line, st) =
                (th.sym.border.vertical_left, th.warn.add_modifier(ratatui::style::Modifier::BOLD));
            for y in top..=bottom {
                StackedChart::put(buf, x0 + c as u16, y, line, st);
            }
            if marker {
                StackedChart::put(buf, x0 + c as u16, bottom + 1, th.sym.arrow_up, st);
            }
        }
        if labels {
            self.labels(buf, x0, bottom + 2, w);
        }
    }
}

/// The column of moment `t` among `n` slices of `[start, end]`; `None` outside it.
pub fn cursor_column(start: DateTime<Utc>, end: DateTime<Utc>, n: usize, t: DateTime<Utc>) -> Option<usize> {
    let span = (end - start).num_milliseconds();
    if n == 0 || span <= 0 || t < start || t > end {
        return None;
    }
    let c = ((t - start).num_milliseconds() as f64 / span as f64 * n as f64) as usize;
    Some(c.min(n - 1))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn flat(start: DateTime<Utc>, n: usize, step: i64) -> Vec<CpuPoint> {
        (0..n)
            .map(|i| CpuPoint::new(start + chrono::Duration::seconds(step * i as i64), 50.0, 25.0, 100.0))
            .collect()
    }

    #[test]
    fn buckets_average_and_never_exceed_width() {
        let end = crate::testkit::T0;
        let start = end - chrono::Duration::days(7);
        let pts = flat(start, 7 * 288 + 1, 300);
        let b = buckets(&pts, 300, start, end, 150);
        assert_eq!(b.len(), 150);
        assert!(
            b.iter().all(|c| c.is_some_and(|(on, off)| (on - 0.5).abs() < 1e-9 && (off - 0.25).abs() < 1e-9))
        );
        // Sparse: 1 h of 5-minute points over 150 columns: every column still shows a value.
        let s1 = end - chrono::Duration::hours(1);
        let b = buckets(&pts, 300, s1, end, 150);
        assert!(b.iter().all(Option::is_some));
        // Nothing in range, zero width, reversed range.
        assert!(buckets(&[], 300, s1, end, 10).iter().all(Option::is_none));
        assert!(buckets(&pts, 300, s1, end, 0).is_empty());
        assert!(buckets(&pts, 300, end, s1, 5).iter().all(Option::is_none));
        // A gap of 20 minutes inside the curve: its columns are None and marked as gaps; the
        // columns before the curve's first point are not gaps.
        let holed: Vec<CpuPoint> = pts
            .iter()
            .copied()
            .filter(|p| {
                !(p.t > end - chrono::Duration::minutes(40) && p.t <= end - chrono::Duration::minutes(20))
            })
            .collect();
        let b = buckets(&holed, 300, end - chrono::Duration::hours(1), end, 12);
        let none: Vec<usize> = (0..12).filter(|&c| b[c].is_none()).collect();
        assert_eq!(none, vec![4, 5, 6, 7]);
        let before = end - chrono::Duration::days(8);
        let b = buckets(&holed, 300, before, end, 8);
        let gaps = gap_columns(&b, &holed, 300, before, end);
        assert_eq!(gaps, vec![false; 8], "the 20 minutes are inside a day-wide column with data");
        let b = buckets(&holed, 300, end - chrono::Duration::hours(1), end, 12);
        let gaps = gap_columns(&b, &holed, 300, end - chrono::Duration::hours(1), end);
        assert_eq!(gaps.iter().filter(|g| **g).count(), 4);
    }

    #[test]
    fn the_time_cursor_is_one_column_inside_the_span_and_none_outside() {
        let end = Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap();
        let start = end - chrono::Duration::hours(24);
        assert_eq!(cursor_column(start, end, 96, start), Some(0));
        assert_eq!(cursor_column(start, end, 96, end), Some(95));
        assert_eq!(cursor_column(start, end, 96, end - chrono::Duration::hours(12)), Some(48));
        assert_eq!(cursor_column(start, end, 96, start - chrono::Duration::seconds(1)), None);
        assert_eq!(cursor_column(start, end, 96, end + chrono::Duration::seconds(1)), None);
        assert_eq!(cursor_column(start, start, 96, start), None, "an empty span");
    }

    #[test]
    fn chart_draws_within_area_and_marks_windows() {
        let theme = Theme::builtin("mono", true).unwrap();
        let end = Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap();
        let start = end - chrono::Duration::hours(24);
        let pts = flat(start, 289, 300);
        let windows = [Window::parse("01:00-06:00").unwrap()];
        let chart = |w: u16, h: u16| {
            let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
            let c = StackedChart {
                points: &pts,
                step_s: 300,
                start,
                end,
                tz: Tz::UTC,
                windows: &windows,
                theme: &theme,
                cursor: None,
            };
            c.render(buf.area, &mut buf);
            buf
        };
        for (w, h) in [(1, 1), (5, 2), (20, 5), (29, 12)] {
            chart(w, h);
        }
        // Drawn inside an inner area of a larger buffer: nothing lands outside it.
        let mut buf = Buffer::empty(Rect::new(0, 0, 40, 20));
        let inner = Rect::new(3, 2, 30, 10);
        StackedChart {
            points: &pts,
            step_s: 300,
            start,
            end,
            tz: Tz::UTC,
            windows: &windows,
            theme: &theme,
            cursor: None,
        }
        .render(inner, &mut buf);
        for y in 0..20 {
            for x in 0..40 {
                if !inner.contains(ratatui::layout::Position { x, y }) {
                    assert_eq!(buf[(x, y)].symbol(), " ", "drawn outside at {x},{y}");
                }
            }
        }
        // 24 plot columns (29 - 5 gutter): one hour each; hours 01..05 are in the window.
        let buf = chart(29, 12);
        let marker_row = 10;
        for c in 0..24u16 {
            let sym = buf[(5 + c, marker_row)].symbol().to_string();
            assert_eq!(sym == "=", (1..6).contains(&c), "column {c}: {sym:?}");
        }
        // 75 % of capacity: the bottom row online, some offline above.
        assert_eq!(buf[(6, 9)].symbol(), "#");
        assert!((0..10).any(|y| buf[(6, y)].symbol() == "+"));
        let text: String =
            (0..12).flat_map(|y| (0..29).map(move |x| (x, y))).map(|p| buf[p].symbol()).collect();
        assert!(text.is_ascii());
        assert!(text.contains("100%") && text.contains("12:00"), "{text}");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod alignment {
    use super::*;
    use chrono::Timelike;

    #[test]
    fn offline_columns_line_up_with_marks() {
        let theme = Theme::builtin("mono", true).unwrap();
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let end = crate::testkit::T0;
        let start = end - chrono::Duration::hours(24);
        let pts: Vec<CpuPoint> = (0..=288)
            .map(|i| {
                let t = start + chrono::Duration::seconds(300 * i);
                // The point ending at t describes the 5 minutes before it.
                let h = (t - chrono::Duration::minutes(5)).with_timezone(&tz).hour();
                CpuPoint::new(t, 10.0, if (1..6).contains(&h) { 80.0 } else { 0.0 }, 100.0)
            })
            .collect();
        let windows = [Window::parse("01:00-06:00").unwrap()];
        let (w, h) = (125u16, 12u16);
        let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
        StackedChart {
            points: &pts,
            step_s: 300,
            start,
            end,
            tz,
            windows: &windows,
            theme: &theme,
            cursor: None,
        }
        .render(buf.area, &mut buf);
        let row = |y: u16| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>();
        let top = row(2);
        let marks = row(10);
        let a: Vec<usize> =
            top.char_indices().filter(|(i, c)| *i >= 5 && *c != ' ').map(|(i, _)| i).collect();
        let b: Vec<usize> = marks.char_indices().filter(|(_, c)| *c == '=').map(|(i, _)| i).collect();
        assert_eq!((a.first(), a.last()), (b.first(), b.last()), "{top}\n{marks}");
    }
}
