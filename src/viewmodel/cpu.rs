//! Cluster CPU now, as every output writes it: the newest point of the curve as shares of the
//! cores measured (a node whose exporter is down is neither busy nor idle), online and offline
//! adding up to the total (`viewmodel::split`).

use chrono::{DateTime, Utc};

use super::percent::{Whole, split};
use crate::model::CpuCurve;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuNow {
    pub total: Whole,
    pub online: Whole,
    pub offline: Whole,
    /// Cores of the cluster at that point.
    pub capacity: f64,
    /// The end of the interval the point describes.
    pub at: DateTime<Utc>,
}

/// The newest point of `curve`; `None` when there is none, or no core of it was measured.
pub fn cpu_now(curve: Option<&CpuCurve>) -> Option<CpuNow> {
    let p = curve?.points.last().filter(|p| p.measured > 0.0)?;
    let cap = p.measured;
    let (total, parts) = split(p.total() / cap, &[p.online / cap, p.offline / cap]);
    Some(CpuNow { total, online: parts[0], offline: parts[1], capacity: p.capacity, at: p.t })
}
