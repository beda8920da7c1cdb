//! `clustertop report capacity`: the capacity review of night-time offline fill, for the 24 h
//! ending at `--end`, from Prometheus alone. Building the report (queries, fill accounting) is in
//! `build`; each output format has its own file and is a pure function of [`CapacityReport`].

pub mod build;
pub mod incident;
mod notes;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::model::{CpuCurve, Window, WindowFill};

mod chart;
mod csv;
mod json;
mod markdown;

/// Output format of `clustertop report capacity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// A review document: summary, tables, an ASCII chart of the curve, notes.
    Markdown,
    /// One RFC 4180 table: cluster, rack and under-filled node rows (see the `csv` module).
    Csv,
    /// The whole report, `{"schema": "clustertop.capacity/v1", ...}`.
    Json,
}

/// The report in the chosen format (pure: no clock, no I/O).
pub fn render(r: &CapacityReport, f: ReportFormat) -> String {
    match f {
        ReportFormat::Markdown => markdown::render(r),
        ReportFormat::Csv => csv::render(r),
        ReportFormat::Json => json::render(r),
    }
}

/// One node's use of one window occurrence, for the "top under-filled nodes" list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeFill {
    pub node: String,
    /// `None` when the backend has no rack label for the node.
    pub rack: Option<String>,
    pub window: Window,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Average utilisation inside the window occurrence, 0.0..=1.0.
    pub avg_util: f64,
    /// Capacity the node left idle inside the occurrence, core-hours.
    pub idle_core_hours: f64,
}

/// One offline workload's CPU inside one complete window occurrence, for the "top offline
/// workloads" list: its pods' owner as kube-state-metrics' `kube_pod_info` names it
/// (`created_by_kind`/`created_by_name`; `<none>` for pods without an owner).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkloadHours {
    pub window: Window,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub namespace: String,
    pub kind: String,
    pub name: String,
    /// CPU its offline pods used inside the occurrence (its whole 5-minute steps), core-hours.
    pub core_hours: f64,
}

/// One node's reclaimed capacity (Koordinator's batch-cpu allocatable) inside one complete window
/// occurrence, and what its offline pods left of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeReclaimed {
    pub node: String,
    pub rack: Option<String>,
    pub window: Window,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub reclaimed_core_hours: f64,
    /// `max(0, reclaimed - offline use)` integrated, core-hours.
    pub unused_core_hours: f64,
}

/// A change of the cluster's capacity seen in the range: nodes that joined or left (capacity
/// integrates them over time), and nodes cordoned or uncordoned (their cores stay in the
/// capacity: their pods keep running).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacityChange {
    /// The start of the first step with the new capacity; for a cordon alone, the first sample
    /// that shows it.
    pub at: DateTime<Utc>,
    pub cores_before: f64,
    pub cores_after: f64,
    pub joined: Vec<String>,
    pub left: Vec<String>,
    pub cordoned: Vec<String>,
    pub uncordoned: Vec<String>,
}

/// Everything the capacity review says; the formats only lay it out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacityReport {
    /// The reviewed range: `end - 24 h .. end`.
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The zone windows are read in, and times are printed in.
    #[serde(serialize_with = "tz_name")]
    pub tz: Tz,
    /// Where the data came from (the Prometheus base URL, credentials never included).
    pub source: String,
    /// Which series the figures come from: the label scheme and recording rules detected, and
    /// whether downsampled data may be used.
    pub series: String,
    pub capacity_cores: f64,
    pub windows: Vec<Window>,
    /// Window occurrences overlapping the range: the cluster (`rack: None`) first, then each rack,
    /// sorted by start. `complete == false` marks an occurrence the range or the data cuts short.
    pub fills: Vec<WindowFill>,
    /// The least-filled nodes inside complete window occurrences, lowest utilisation first.
    pub under_filled: Vec<NodeFill>,
    /// The offline workloads that used the most CPU in each complete window occurrence, by
    /// occurrence (oldest first), then core-hours (most first).
    pub top_workloads: Vec<WorkloadHours>,
    /// The nodes that left the most reclaimed capacity unused in each complete window occurrence,
    /// by occurrence, then unused core-hours (most first); empty without Koordinator's koordlet
    /// series (a note says so).
    pub unused_reclaimed: Vec<NodeReclaimed>,
    /// The cluster curve over the range (online and offline cores), for the chart; racks dropped.
    pub curve: CpuCurve,
    /// Capacity changes in the range, oldest first.
    pub capacity_changes: Vec<CapacityChange>,
    /// Caveats the reader must see (a query that returned nothing, a window cut by the range).
    pub notes: Vec<String>,
}

fn tz_name<S: serde::Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(tz.name())
}
