//! The CPU curve, colocation windows and how well offline work filled them.

use chrono::{DateTime, NaiveTime, Utc};
use serde::Serialize;

/// CPU in use during one step of a curve, in cores, split into online and offline work.
///
/// A point describes the interval `(t - step, t]` that ENDS at `t`, as a `rate(x[5m])` sample at
/// `t` does: every figure built on points integrates over the intervals they cover
/// (`analysis::interval`), never over `[t, t + step)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CpuPoint {
    /// The end of the interval the point describes.
    pub t: DateTime<Utc>,
    pub online: f64,
    pub offline: f64,
    /// Cores of the nodes in the cluster (or rack) during the interval.
    pub capacity: f64,
    /// Cores whose use was measured in the interval (nodes whose exporter answered), at most
    /// `capacity`: usage is a share of these, and the rest of `capacity` is uncovered, not idle.
    pub measured: f64,
    /// Reclaimed capacity: the batch tier's allocatable in the interval (Koordinator's
    /// `kubernetes.io/batch-cpu` on the nodes that have it), cores. It is what offline work could
    /// have filled on top of the online work; `None` where it is not known (no Koordinator, or no
    /// koordlet series).
    pub reclaimed: Option<f64>,
}

impl CpuPoint {
    /// A point whose whole capacity was measured.
    pub fn new(t: DateTime<Utc>, online: f64, offline: f64, capacity: f64) -> CpuPoint {
        CpuPoint { t, online, offline, capacity, measured: capacity, reclaimed: None }
    }
    pub fn total(&self) -> f64 {
        self.online + self.offline
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RackCurve {
    pub rack: String,
    /// The rack's capacity at its newest point.
    pub capacity_cores: f64,
    pub points: Vec<CpuPoint>,
}

/// Cluster CPU history at a fixed step, oldest first, plus the same per rack. A step with no
/// point is a gap: nothing is known about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CpuCurve {
    pub step_s: u32,
    /// The capacity at the newest point (each point carries its own).
    pub capacity_cores: f64,
    pub points: Vec<CpuPoint>,
    pub racks: Vec<RackCurve>,
}

/// One node's CPU utilisation history, for its detail view (fetched only for the node on screen).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeCurve {
    pub node: String,
    /// `(time, utilisation 0.0..=1.0)`, oldest first.
    pub points: Vec<(DateTime<Utc>, f64)>,
}

/// A daily colocation window in the configured time zone; may cross midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Window {
    /// Parse `HH:MM-HH:MM`.
    pub fn parse(s: &str) -> Result<Window, String> {
        let (a, b) = s.split_once('-').ok_or_else(|| format!("window {s:?}: expected HH:MM-HH:MM"))?;
        let p = |x: &str| {
            NaiveTime::parse_from_str(x.trim(), "%H:%M")
                .map_err(|_| format!("window {s:?}: {x:?} is not a time of day (HH:MM)"))
        };
        let (start, end) = (p(a)?, p(b)?);
        if start == end {
            return Err(format!("window {s:?}: start and end are the same"));
        }
        Ok(Window { start, end })
    }
    pub fn crosses_midnight(&self) -> bool {
        self.end < self.start
    }
    /// Whether a local time of day falls inside the window (start inclusive, end exclusive).
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.crosses_midnight() {
            t >= self.start || t < self.end
        } else {
            t >= self.start && t < self.end
        }
    }
    pub fn label(&self) -> String {
        format!("{}-{}", self.start.format("%H:%M"), self.end.format("%H:%M"))
    }

    /// The minutes of the day the window covers (`[start, end)`, wrapping at midnight).
    fn minutes(&self) -> [bool; DAY_MINUTES] {
        let mut m = [false; DAY_MINUTES];
        let (a, b) = (minute_of(self.start), minute_of(self.end));
        let mut i = a;
        while i != b {
            m[i] = true;
            i = (i + 1) % DAY_MINUTES;
        }
        m
    }

    /// Windows overlap when a minute of the day is in both: the fills would count it twice.
    /// `Err` names the first two that overlap, when (the first shared stretch) and, when their
    /// union is one window, that window: `windows 01:00-06:00 and 05:00-07:00 overlap
    /// (05:00-06:00), which would be counted twice; set them as one window, 01:00-07:00`.
    pub fn check_disjoint(windows: &[Window]) -> Result<(), String> {
        for (i, a) in windows.iter().enumerate() {
            for b in &windows[i + 1..] {
                let (ma, mb) = (a.minutes(), b.minutes());
                let both: Vec<bool> = ma.iter().zip(&mb).map(|(x, y)| *x && *y).collect();
                let Some(shared) = first_run(&both) else { continue };
                let union: Vec<bool> = ma.iter().zip(&mb).map(|(x, y)| *x || *y).collect();
                let merged = match first_run(&union) {
                    Some(w) if union.iter().filter(|x| !**x).count() > 0 => {
                        format!("; set them as one window, {}", w.label())
                    }
                    _ => String::new(),
                };
                if a == b {
                    return Err(format!("window {} is given twice: it would be counted twice", a.label()));
                }
                return Err(format!(
                    "windows {} and {} overlap ({}): that time would be counted twice{merged}",
                    a.label(),
                    b.label(),
                    shared.label()
                ));
            }
        }
        Ok(())
    }
}

const DAY_MINUTES: usize = 24 * 60;

fn minute_of(t: NaiveTime) -> usize {
    use chrono::Timelike;
    (t.hour() * 60 + t.minute()) as usize
}

fn time_of(minute: usize) -> NaiveTime {
    let m = (minute % DAY_MINUTES) as u32;
    NaiveTime::from_hms_opt(m / 60, m % 60, 0).unwrap_or(NaiveTime::MIN)
}

/// The first stretch of set minutes, going round the clock from a minute that is not set (the
/// stretch may cross midnight); `None` when none is set or all are.
fn first_run(m: &[bool]) -> Option<Window> {
    let gap = m.iter().position(|x| !*x)?;
    let start = (1..=DAY_MINUTES).map(|k| (gap + k) % DAY_MINUTES).find(|i| m[*i])?;
    let len = (0..DAY_MINUTES).take_while(|k| m[(start + k) % DAY_MINUTES]).count();
    Some(Window { start: time_of(start), end: time_of(start + len) })
}

/// Fill accounting for one occurrence of a window, for the cluster or one rack.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowFill {
    pub window: Window,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// `None` for the whole cluster.
    pub rack: Option<String>,
    /// Used / measured core-hours inside the window, 0.0..=1.0 (NaN, shown `?`, without data).
    pub avg_util: f64,
    /// Share of the in-window usage that was offline work (NaN without data).
    pub offline_share: f64,
    /// Measured capacity left idle inside the window, core-hours (uncovered time is not idle).
    pub idle_core_hours: f64,
    /// Offline work done in the hours after the window closed (spill), core-hours.
    pub spill_core_hours: f64,
    /// Capacity integrated over the window's covered time, core-hours.
    pub capacity_core_hours: f64,
    /// Share of the window with data: time with a point, weighted by the share of capacity
    /// measured, 0.0..=1.0.
    pub coverage: f64,
    /// Reclaimed capacity (the batch tier's allocatable) integrated over the window's covered
    /// time, core-hours; `None` unless every point inside the window carries it.
    pub reclaimed_core_hours: Option<f64>,
    /// Of that, what offline work left unused: `max(0, reclaimed - offline)` integrated,
    /// core-hours; `None` as above.
    pub reclaimed_unused_core_hours: Option<f64>,
    /// Why the reclaimed figures are `None`: no batch tier in the curve, or only for part of the
    /// window.
    pub reclaimed_unknown: Option<String>,
    /// False while the window is still open, its spill hours are not over, or its data is
    /// partial (coverage below 1 inside the window or the spill hours).
    pub complete: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Window {
        Window::parse(s).expect("window")
    }

    #[test]
    fn overlapping_windows_are_named_with_their_overlap_and_union() {
        let ok = |ws: &[&str]| Window::check_disjoint(&ws.iter().map(|s| w(s)).collect::<Vec<_>>());
        assert_eq!(ok(&["01:00-06:00"]), Ok(()));
        // Touching is not overlapping: the windows are [start, end).
        assert_eq!(ok(&["01:00-03:00", "03:00-06:00"]), Ok(()));
        assert_eq!(ok(&["22:00-02:00", "02:00-06:00", "12:00-13:00"]), Ok(()));
        assert_eq!(
            ok(&["01:00-06:00", "05:00-07:00"]),
            Err("windows 01:00-06:00 and 05:00-07:00 overlap (05:00-06:00): that time would be \
                 counted twice; set them as one window, 01:00-07:00"
                .into())
        );
        // Across midnight, and one inside the other.
        assert_eq!(
            ok(&["12:00-13:00", "22:00-02:00", "01:00-03:00"]),
            Err("windows 22:00-02:00 and 01:00-03:00 overlap (01:00-02:00): that time would be \
                 counted twice; set them as one window, 22:00-03:00"
                .into())
        );
        let e = ok(&["00:00-06:00", "02:00-03:00"]).unwrap_err();
        assert!(e.contains("overlap (02:00-03:00)") && e.ends_with("one window, 00:00-06:00"), "{e}");
        assert_eq!(
            ok(&["01:00-06:00", "01:00-06:00"]),
            Err("window 01:00-06:00 is given twice: it would be counted twice".into())
        );
        // Together the whole day: no single window to suggest.
        let e = ok(&["06:00-23:00", "22:00-07:00"]).unwrap_err();
        assert!(
            e.starts_with("windows 06:00-23:00 and 22:00-07:00 overlap (") && !e.contains("one window"),
            "{e}"
        );
    }
}
