//! The one accounting of CPU over time, shared by the window fill figures, the TUI's curve (its
//! columns and its shading) and `report capacity`, so they agree to the last digit.
//!
//! A point at `t` on a curve of step `s` describes the interval `(t - s, t]` (a `rate(x[5m])`
//! sample at `t` is the average over the 5 minutes before it). The figures for any span
//! `[from, to)` are integrals: each point contributes its values times the seconds its interval
//! shares with the span, so a span whose edges are not on a step boundary takes the part of
//! each edge step it covers. A step without a point is a gap: it adds nothing, not even idle
//! capacity, and lowers the coverage. Within a point, only `measured` cores count towards
//! utilisation and idle capacity; the rest of `capacity` is uncovered.

use chrono::{DateTime, Duration, Utc};

use crate::model::CpuPoint;

/// Integrals over one span, in core-seconds (and seconds for the span and its coverage).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tally {
    pub span_s: f64,
    /// Seconds with a point, each weighted by its `measured / capacity` share.
    pub covered_s: f64,
    /// Seconds with a point.
    pub present_s: f64,
    pub capacity: f64,
    pub measured: f64,
    pub used: f64,
    pub online: f64,
    pub offline: f64,
    /// Measured capacity left idle: `max(0, measured - used)` per point.
    pub idle: f64,
    /// Seconds with a point that carries the reclaimed capacity.
    pub reclaimed_s: f64,
    /// Reclaimed capacity (the batch tier's allocatable) over those seconds.
    pub reclaimed: f64,
    /// Reclaimed capacity offline work left unused: `max(0, reclaimed - offline)` per point.
    pub reclaimed_unused: f64,
}

/// NaN (shown `?` / `null`) for a ratio with nothing to divide by.
fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::NAN }
}

impl Tally {
    /// Share of the span with data, 0.0..=1.0.
    pub fn coverage(&self) -> f64 {
        if self.span_s > 0.0 { (self.covered_s / self.span_s).clamp(0.0, 1.0) } else { 0.0 }
    }
    /// Used / measured core-seconds; NaN without data.
    pub fn util(&self) -> f64 {
        ratio(self.used, self.measured)
    }
    pub fn online_util(&self) -> f64 {
        ratio(self.online, self.measured)
    }
    pub fn offline_util(&self) -> f64 {
        ratio(self.offline, self.measured)
    }
    /// Offline / used; 0 when nothing ran, NaN without data.
    pub fn offline_share(&self) -> f64 {
        if self.measured > 0.0 && self.used <= 0.0 { 0.0 } else { ratio(self.offline, self.used) }
    }
    pub fn has_data(&self) -> bool {
        self.measured > 0.0
    }
    /// `(reclaimed, unused)` core-seconds, when every point in the span carries the reclaimed
    /// capacity; `None` otherwise (not known for part of the span is not known).
    pub fn reclaimed(&self) -> Option<(f64, f64)> {
        (self.present_s > 0.0 && self.reclaimed_s >= self.present_s - 1e-6)
            .then_some((self.reclaimed, self.reclaimed_unused))
    }
}

/// Seconds the interval of the point ending at `t` shares with `[from, to)`.
fn overlap(t: DateTime<Utc>, step: Duration, from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    let a = (t - step).max(from);
    let b = t.min(to);
    ((b - a).num_milliseconds() as f64 / 1000.0).max(0.0)
}

/// The points whose intervals overlap `[from, to)` with their overlap in seconds (points are
/// oldest first, one step apart or more).
pub fn overlapping(
    points: &[CpuPoint],
    step: Duration,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> impl Iterator<Item = (&CpuPoint, f64)> {
    let a = points.partition_point(|p| p.t <= from);
    let b = points.partition_point(|p| p.t - step < to).max(a);
    points[a..b].iter().map(move |p| (p, overlap(p.t, step, from, to))).filter(|(_, w)| *w > 0.0)
}

/// The integrals over `[from, to)`.
pub fn tally(points: &[CpuPoint], step: Duration, from: DateTime<Utc>, to: DateTime<Utc>) -> Tally {
    let mut t =
        Tally { span_s: ((to - from).num_milliseconds() as f64 / 1000.0).max(0.0), ..Tally::default() };
    for (p, w) in overlapping(points, step, from, to) {
        let measured = p.measured.max(0.0);
        let share = if p.capacity > 0.0 { (measured / p.capacity).min(1.0) } else { 0.0 };
        t.present_s += w;
        t.covered_s += w * share;
        t.capacity += w * p.capacity;
        t.measured += w * measured;
        t.used += w * p.total();
        t.online += w * p.online;
        t.offline += w * p.offline;
        t.idle += w * (measured - p.total()).max(0.0);
        if let Some(r) = p.reclaimed {
            t.reclaimed_s += w;
            t.reclaimed += w * r;
            t.reclaimed_unused += w * (r - p.offline).max(0.0);
        }
    }
    t
}

/// Core-seconds of offline work above `baseline` cores in `[from, to)`.
pub fn above(
    points: &[CpuPoint],
    step: Duration,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    baseline: f64,
) -> f64 {
    overlapping(points, step, from, to).map(|(p, w)| w * (p.offline - baseline).max(0.0)).sum()
}

/// The highest offline level (cores) among the points overlapping `[from, to)`; `None` without
/// any.
pub fn peak_offline(
    points: &[CpuPoint],
    step: Duration,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Option<f64> {
    overlapping(points, step, from, to).map(|(p, _)| p.offline).reduce(f64::max)
}

/// The spans inside `[from, to)` not fully covered: runs of missing steps and of points with
/// fewer cores measured than capacity, as `(start, end, measured share)` (0 for a gap).
pub fn uncovered(
    points: &[CpuPoint],
    step: Duration,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>, f64)> {
    let mut out: Vec<(DateTime<Utc>, DateTime<Utc>, f64)> = Vec::new();
    let mut push = |a: DateTime<Utc>, b: DateTime<Utc>, share: f64| {
        let (a, b) = (a.max(from), b.min(to));
        if a >= b {
            return;
        }
        match out.last_mut() {
            Some(last) if last.1 == a && (last.2 - share).abs() < 1e-9 => last.1 = b,
            _ => out.push((a, b, share)),
        }
    };
    let mut cursor = from;
    for (p, _) in overlapping(points, step, from, to) {
        let start = p.t - step;
        if start > cursor {
            push(cursor, start, 0.0);
        }
        let share = if p.capacity > 0.0 { (p.measured / p.capacity).min(1.0) } else { 0.0 };
        if share < 1.0 - 1e-9 {
            push(start, p.t, share);
        }
        cursor = cursor.max(p.t);
    }
    if cursor < to {
        push(cursor, to, 0.0);
    }
    out
}

#[cfg(test)]
#[path = "interval_tests.rs"]
mod tests;
