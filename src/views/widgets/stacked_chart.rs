//! A stacked CPU chart: online at the bottom, offline on top, one column per time bucket, eighth-block
//! heights, colocation windows shaded and marked on a row under the plot, time labels in local time.
//!
//! Layout inside its area (top to bottom): plot rows, the window-marker row, the time-label row; a
//! y-axis gutter (`100%`, `50%`, `0%`) on the left when there is room.

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::Widget;

use crate::model::{CpuPoint, Window};
use crate::theme::Theme;

/// Width of the y-axis gutter: `100%` and the axis line.
const GUTTER: u16 = 5;

pub struct StackedChart<'a> {
    /// Oldest first; points outside `start..=end` are ignored.
    pub points: &'a [CpuPoint],
    /// The curve's step, seconds: an empty column repeats the last point within one step.
    pub step_s: u32,
    /// 100 % on the y axis, cores.
    pub capacity: f64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub tz: Tz,
    pub windows: &'a [Window],
    pub theme: &'a Theme,
}

/// Average `(online, offline)` per column: `n` equal slices of `start..=end`. A column with no
/// point of its own repeats the latest earlier point if that is at most one step old.
pub fn buckets(
    points: &[CpuPoint],
    step_s: u32,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    n: usize,
) -> Vec<Option<(f64, f64)>> {
    let span = (end - start).num_milliseconds();
    if n == 0 || span <= 0 {
        return vec![None; n];
    }
    let mut sums = vec![(0.0f64, 0.0f64, 0u32); n];
    let first = points.partition_point(|p| p.t < start);
    let last = points.partition_point(|p| p.t <= end);
    for p in points.get(first..last).unwrap_or(&[]) {
        let off = (p.t - start).num_milliseconds() as i128;
        let col = ((off * n as i128) / span as i128).clamp(0, n as i128 - 1) as usize;
        let s = &mut sums[col];
        s.0 += p.online;
        s.1 += p.offline;
        s.2 += 1;
    }
    let hold = i64::from(step_s) * 1000;
    (0..n)
        .map(|c| {
            let (on, off, k) = sums[c];
            if k > 0 {
                return Some((on / f64::from(k), off / f64::from(k)));
            }
            let mid = col_time(start, span, n, c as f64 + 0.5);
            let i = points.partition_point(|p| p.t <= mid);
            let p = points.get(i.checked_sub(1)?)?;
            ((mid - p.t).num_milliseconds() < hold).then_some((p.online, p.offline))
        })
        .collect()
}

fn col_time(start: DateTime<Utc>, span_ms: i64, n: usize, col: f64) -> DateTime<Utc> {
    start + chrono::Duration::milliseconds((span_ms as f64 * col / n as f64) as i64)
}

/// Local time of day at `t`.
fn local_tod(t: DateTime<Utc>, tz: Tz) -> NaiveTime {
    t.with_timezone(&tz).time()
}

/// Seconds since the epoch on the local wall clock, to align ticks to local hours and midnights.
fn local_secs(t: DateTime<Utc>, tz: Tz) -> i64 {
    t.with_timezone(&tz).naive_local().and_utc().timestamp()
}

/// Which columns fall inside any window (by the column's middle, in local time).
pub fn window_columns(
    windows: &[Window],
    tz: Tz,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    n: usize,
) -> Vec<bool> {
    let span = (end - start).num_milliseconds().max(0);
    (0..n)
        .map(|c| {
            let tod = local_tod(col_time(start, span, n, c as f64 + 0.5), tz);
            windows.iter().any(|w| w.contains(tod))
        })
        .collect()
}

impl StackedChart<'_> {
    fn put(buf: &mut Buffer, x: u16, y: u16, sym: &str, st: Style) {
        if let Some(c) = buf.cell_mut((x, y)) {
            c.set_symbol(sym);
            c.set_style(st);
        }
    }

    /// One column of the stack, bottom at `bottom`, `h` rows tall.
    fn column(&self, buf: &mut Buffer, x: u16, bottom: u16, h: u16, (on, off): (f64, f64), cap: f64) {
        let th = self.theme;
        let eighths = f64::from(h) * 8.0;
        let on_e = ((on / cap).clamp(0.0, 1.0) * eighths).round() as u32;
        let tot_e = (((on + off) / cap).clamp(0.0, 1.0) * eighths).round().max(f64::from(on_e)) as u32;
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
        let cap = if self.capacity > 0.0 {
            self.capacity
        } else {
            cols.iter().flatten().map(|(a, b)| a + b).fold(1.0, f64::max)
        };
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
                self.column(buf, x, bottom, plot_h, *v, cap);
            }
        }
        if labels {
            self.labels(buf, x0, bottom + 2, w);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn flat(start: DateTime<Utc>, n: usize, step: i64) -> Vec<CpuPoint> {
        (0..n)
            .map(|i| CpuPoint {
                t: start + chrono::Duration::seconds(step * i as i64),
                online: 50.0,
                offline: 25.0,
            })
            .collect()
    }

    #[test]
    fn buckets_average_and_never_exceed_width() {
        let end = Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap();
        let start = end - chrono::Duration::days(7);
        let pts = flat(start, 7 * 288 + 1, 300);
        let b = buckets(&pts, 300, start, end, 150);
        assert_eq!(b.len(), 150);
        assert!(b.iter().all(|c| c.is_some_and(|(on, off)| (on - 50.0).abs() < 1e-9 && off == 25.0)));
        // Sparse: 1 h of 5-minute points over 150 columns: every column still shows a value.
        let s1 = end - chrono::Duration::hours(1);
        let b = buckets(&pts, 300, s1, end, 150);
        assert!(b.iter().all(Option::is_some));
        // Nothing in range, zero width, reversed range.
        assert!(buckets(&[], 300, s1, end, 10).iter().all(Option::is_none));
        assert!(buckets(&pts, 300, s1, end, 0).is_empty());
        assert!(buckets(&pts, 300, end, s1, 5).iter().all(Option::is_none));
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
                capacity: 100.0,
                start,
                end,
                tz: Tz::UTC,
                windows: &windows,
                theme: &theme,
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
            capacity: 100.0,
            start,
            end,
            tz: Tz::UTC,
            windows: &windows,
            theme: &theme,
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
    use chrono::{TimeZone, Timelike};

    #[test]
    fn offline_columns_line_up_with_marks() {
        let theme = Theme::builtin("mono", true).unwrap();
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let end = Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap();
        let start = end - chrono::Duration::hours(24);
        let pts: Vec<CpuPoint> = (0..=288)
            .map(|i| {
                let t = start + chrono::Duration::seconds(300 * i);
                let h = t.with_timezone(&tz).hour();
                CpuPoint { t, online: 10.0, offline: if (1..6).contains(&h) { 80.0 } else { 0.0 } }
            })
            .collect();
        let windows = [Window::parse("01:00-06:00").unwrap()];
        let (w, h) = (125u16, 12u16);
        let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
        StackedChart {
            points: &pts,
            step_s: 300,
            capacity: 100.0,
            start,
            end,
            tz,
            windows: &windows,
            theme: &theme,
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
