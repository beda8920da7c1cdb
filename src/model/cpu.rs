//! The CPU curve, colocation windows and how well offline work filled them.

use chrono::{DateTime, NaiveTime, Utc};
use serde::Serialize;

/// CPU in use at one instant, in cores, split into online and offline work.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CpuPoint {
    pub t: DateTime<Utc>,
    pub online: f64,
    pub offline: f64,
}

impl CpuPoint {
    pub fn total(&self) -> f64 {
        self.online + self.offline
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RackCurve {
    pub rack: String,
    pub capacity_cores: f64,
    pub points: Vec<CpuPoint>,
}

/// Cluster CPU history at a fixed step, oldest first, plus the same per rack.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CpuCurve {
    pub step_s: u32,
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
}

/// Fill accounting for one occurrence of a window, for the cluster or one rack.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowFill {
    pub window: Window,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// `None` for the whole cluster.
    pub rack: Option<String>,
    /// Average utilisation inside the window, 0.0..=1.0.
    pub avg_util: f64,
    /// Share of the in-window usage that was offline work.
    pub offline_share: f64,
    /// Capacity left idle inside the window, core-hours.
    pub idle_core_hours: f64,
    /// Offline work done in the hours after the window closed (spill), core-hours.
    pub spill_core_hours: f64,
    /// False while the window is still open or its data is partial.
    pub complete: bool,
}
