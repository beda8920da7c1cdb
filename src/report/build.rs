//! Building the capacity review from a Prometheus backend: the curve for the 24 h ending at `end`,
//! window fill accounting (`analysis::colocation`, judged as of `end`, the same function the TUI
//! uses), the capacity changes in the range, and the least-filled nodes of each complete window
//! occurrence (`bottomk` on the server).

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::{CapacityChange, CapacityReport, NodeFill, NodeReclaimed, WorkloadHours, notes};
use crate::analysis::colocation;
use crate::model::{CpuCurve, Window, WindowFill};
use crate::sources::prometheus::backend::DOWNSAMPLED_AFTER_S;
use crate::sources::prometheus::map::{Series, node_of};
use crate::sources::prometheus::{Backend, CURVE_STEP_S, LOOKBACK_S, QueryError};

/// The reviewed span.
pub const RANGE_S: i64 = 86_400;

#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub end: DateTime<Utc>,
    pub windows: Vec<Window>,
    pub tz: Tz,
    /// How many under-filled nodes to list.
    pub top: usize,
}

/// Why there is no report (exit code 2): the backend is unreachable or has no data.
#[derive(Debug, Clone, PartialEq)]
pub struct NoReport(pub String);

impl std::fmt::Display for NoReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for NoReport {}

fn unreachable(b: &Backend, e: QueryError) -> NoReport {
    let e = e.to_string();
    // A connection error names the URL already ("connection refused to URL").
    if e.contains(b.url.trim_end_matches('/')) {
        NoReport(format!("cannot query Prometheus: {e}"))
    } else {
        NoReport(format!("cannot query Prometheus at {}: {e}", b.url))
    }
}

pub async fn build(b: &Backend, o: &ReportOptions) -> Result<CapacityReport, NoReport> {
    let detected = b.detect(aligned(o.end)).await.map_err(|e| unreachable(b, e))?;
    // The range, the occurrences that overlap it with their baseline hours, and the racks only
    // around those occurrences.
    let to = DateTime::from_timestamp(aligned(o.end), 0).unwrap_or(o.end);
    let (from, racks) = colocation::needed(&o.windows, o.tz, to - Duration::seconds(RANGE_S), to);
    let span = (to - from).num_seconds().clamp(RANGE_S, RANGE_S + LOOKBACK_S);
    let racks = racks.map(|(a, z)| (a.timestamp(), z.timestamp()));
    let (fetched, cordoned) = futures::join!(
        b.curve_racks(o.end, span, CURVE_STEP_S, racks),
        b.range("cordoned", None, aligned(o.end) - RANGE_S, aligned(o.end), CURVE_STEP_S)
    );
    let fetched = fetched.map_err(|e| unreachable(b, e))?;
    let Some(curve) = fetched.curve else {
        let why = if fetched.notes.is_empty() {
            "the CPU queries returned no series".into()
        } else {
            fetched.notes.join("; ")
        };
        return Err(NoReport(format!(
            "Prometheus at {} has no CPU data for the 24 h ending {}: {why}",
            b.url,
            o.end.format("%Y-%m-%dT%H:%M:%SZ")
        )));
    };
    let mut r = assemble(curve, o, &b.url, fetched.notes);
    r.series = detected.describe();
    if span > DOWNSAMPLED_AFTER_S {
        r.series.push_str(&format!(
            "; the {} h range queries pass max_source_resolution=auto (Thanos then reads raw data at this {}-minute step)",
            span / 3600,
            CURVE_STEP_S / 60
        ));
    }
    changes(b, &mut r, &cordoned.unwrap_or_default()).await.map_err(|e| unreachable(b, e))?;
    let mut under_filled = Vec::new();
    let occurrences: Vec<WindowFill> =
        r.fills.iter().filter(|f| f.rack.is_none() && f.complete).cloned().collect();
    for f in &occurrences {
        under_filled.extend(noted(b, &mut r.notes, "under-filled nodes", node_fills(b, f, o.top).await)?);
    }
    under_filled.sort_by(|a, b| a.avg_util.total_cmp(&b.avg_util).then_with(|| a.node.cmp(&b.node)));
    under_filled.truncate(o.top);
    r.under_filled = under_filled;
    for f in &occurrences {
        let (w, n) = futures::join!(workloads(b, f, o.top), reclaimed_nodes(b, f, o.top));
        r.top_workloads.extend(noted(b, &mut r.notes, "top offline workloads", w)?);
        r.unused_reclaimed.extend(noted(b, &mut r.notes, "unused reclaimed capacity", n)?);
    }
    if !occurrences.is_empty() && occurrences.iter().all(|f| f.reclaimed_core_hours.is_none()) {
        r.notes.push(
            "reclaimed capacity: no koordlet_node_resource_allocatable{resource=\"kubernetes.io/batch-cpu\"} series \
             in the complete window occurrences (Koordinator's koordlet not installed or not scraped)"
                .into(),
        );
    }
    Ok(r)
}

/// A list the report can do without: a query's error becomes a note (and no rows), an unreachable
/// backend ends the report.
fn noted<T>(
    b: &Backend,
    notes: &mut Vec<String>,
    what: &str,
    r: Result<Vec<T>, QueryError>,
) -> Result<Vec<T>, NoReport> {
    match r {
        Ok(v) => Ok(v),
        Err(QueryError::Transport(e)) => Err(unreachable(b, QueryError::Transport(e))),
        Err(QueryError::Query(e)) => {
            notes.push(format!("{what}: {e}"));
            Ok(Vec::new())
        }
    }
}

/// The steps covering occurrence `f` at the curve's step, its edges aligned outwards to `(from,
/// to]`: the evaluation time `to` and the `$range` (`to - from - 1` seconds) that selects the
/// steps ending in `(from, to]`.
fn steps(f: &WindowFill) -> (i64, i64) {
    let step = CURVE_STEP_S;
    let to = (f.end.timestamp() + step - 1).div_euclid(step) * step;
    let from = f.start.timestamp().div_euclid(step) * step;
    (to, to - from - 1)
}

/// The `top` offline workloads by core-hours inside occurrence `f` (`topk` on the server).
async fn workloads(b: &Backend, f: &WindowFill, top: usize) -> Result<Vec<WorkloadHours>, QueryError> {
    if top == 0 || !b.queries.has_offline() {
        return Ok(Vec::new());
    }
    let (to, range) = steps(f);
    let hours = b.render("offline_workload_hours", None, Some(range));
    if hours.is_empty() {
        return Ok(Vec::new());
    }
    let found = b.instant_expr("top offline workloads", &format!("topk({top}, {hours})"), to).await?;
    let mut out: Vec<WorkloadHours> = found
        .iter()
        .filter_map(|s| {
            let label = |l: &str| s.label(l).filter(|v| !v.is_empty()).unwrap_or("<none>").to_string();
            Some(WorkloadHours {
                window: f.window,
                start: f.start,
                end: f.end,
                namespace: label("namespace"),
                kind: label("created_by_kind"),
                name: label("created_by_name"),
                core_hours: s.value().filter(|v| v.is_finite())?.max(0.0),
            })
        })
        .collect();
    out.sort_by(|a, b| b.core_hours.total_cmp(&a.core_hours).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}

/// The `top` nodes by reclaimed capacity left unused inside occurrence `f` (only nodes that left
/// some), with their reclaimed core-hours and rack.
async fn reclaimed_nodes(b: &Backend, f: &WindowFill, top: usize) -> Result<Vec<NodeReclaimed>, QueryError> {
    // Without offline classes nothing counts as using it (the curve's note says so).
    if top == 0 || !b.queries.has_offline() {
        return Ok(Vec::new());
    }
    let (to, range) = steps(f);
    let unused = b.render("node_reclaimed_unused_hours", None, Some(range));
    if unused.is_empty() {
        return Ok(Vec::new());
    }
    let ranked =
        b.instant_expr("unused reclaimed capacity", &format!("topk({top}, {unused} > 0)"), to).await?;
    let nodes: Vec<(String, f64)> = ranked
        .iter()
        .filter_map(|s| Some((s.label("node")?.to_string(), s.value().filter(|v| v.is_finite())?)))
        .collect();
    if nodes.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<String> = nodes.iter().map(|(n, _)| n.clone()).collect();
    let re = alternation(&names);
    let reclaimed = b.render("node_reclaimed_hours", None, Some(range));
    let only = format!(r#"({reclaimed}) and on (node) kube_node_info{{node=~"{re}"}}"#);
    let (hours, racks) = futures::join!(
        b.instant_expr("reclaimed capacity", &only, to),
        b.instant("node_racks", Some(&re), to)
    );
    let (hours, racks) = (node_values(&hours?), node_racks(b, &racks?));
    let mut out: Vec<NodeReclaimed> = nodes
        .into_iter()
        .map(|(node, unused)| NodeReclaimed {
            rack: racks.get(&node).cloned(),
            window: f.window,
            start: f.start,
            end: f.end,
            reclaimed_core_hours: hours.get(&node).copied().unwrap_or(f64::NAN),
            unused_core_hours: unused,
            node,
        })
        .collect();
    out.sort_by(|a, b| b.unused_core_hours.total_cmp(&a.unused_core_hours).then_with(|| a.node.cmp(&b.node)));
    Ok(out)
}

fn aligned(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(CURVE_STEP_S) * CURVE_STEP_S
}

/// At most this many capacity changes are named (one small query each).
const MAX_CHANGES: usize = 20;

/// The capacity changes of the curve (dated at the start of the first step with the new
/// capacity) and the cordon changes of `cordoned` (the count of cordoned nodes over the range,
/// dated at the first sample that shows them), each named by one instant query at the step it
/// shows in.
async fn changes(b: &Backend, r: &mut CapacityReport, cordoned: &[Series]) -> Result<(), QueryError> {
    let step = Duration::seconds(CURVE_STEP_S);
    // (change, when to ask who changed)
    let mut list: Vec<(CapacityChange, i64)> = notes::capacity_changes(&r.curve)
        .into_iter()
        .map(|c| (c.clone(), (c.at + step).timestamp()))
        .collect();
    if let Some(c) = cordoned.first() {
        for w in c.samples.windows(2).filter(|w| w[0].1 != w[1].1) {
            let Some(t) = DateTime::from_timestamp(w[1].0, 0) else { continue };
            if t > r.start && !list.iter().any(|(_, q)| *q == t.timestamp()) {
                let cores = r.curve.points.iter().find(|p| p.t == t).map_or(f64::NAN, |p| p.capacity);
                let change = CapacityChange {
                    at: t,
                    cores_before: cores,
                    cores_after: cores,
                    joined: vec![],
                    left: vec![],
                    cordoned: vec![],
                    uncordoned: vec![],
                };
                list.push((change, t.timestamp()));
            }
        }
    }
    list.sort_by_key(|c| c.0.at);
    if list.len() > MAX_CHANGES {
        r.notes.push(format!(
            "{} capacity changes in the range; the first {MAX_CHANGES} are listed",
            list.len()
        ));
        list.truncate(MAX_CHANGES);
    }
    for (c, at) in &mut list {
        let found = match b.instant("capacity_changes", None, *at).await {
            Ok(s) => s,
            Err(QueryError::Query(e)) => {
                r.notes.push(format!("capacity changes: {e}"));
                break;
            }
            Err(e) => return Err(e),
        };
        for s in &found {
            let (Some(node), Some(kind)) = (s.label("node"), s.label("change")) else { continue };
            let into = match kind {
                "joined" => &mut c.joined,
                "left" => &mut c.left,
                "cordoned" => &mut c.cordoned,
                _ => &mut c.uncordoned,
            };
            into.push(node.to_string());
        }
        for v in [&mut c.joined, &mut c.left, &mut c.cordoned, &mut c.uncordoned] {
            v.sort();
        }
    }
    r.capacity_changes = list.into_iter().map(|(c, _)| c).collect();
    Ok(())
}

/// The report from a curve that reaches back `LOOKBACK_S` before the range (so an occurrence
/// that began before it, last night's window in a report run at 02:00, is computed in full): every window
/// occurrence that overlaps `[end - 24 h, end)` with figures over its whole span, judged as of
/// `end` (one still open, whose spill hours are not over, or whose data has gaps is partial and
/// says why; one that daylight saving made short or long says so); the chart shows the range
/// only.
pub fn assemble(curve: CpuCurve, o: &ReportOptions, source: &str, mut notes: Vec<String>) -> CapacityReport {
    let end = curve.points.last().map(|p| p.t).unwrap_or(o.end);
    let start = end - Duration::seconds(RANGE_S);
    let mut fills: Vec<WindowFill> = colocation::fills(&curve, &o.windows, o.tz, o.end)
        .into_iter()
        .filter(|f| f.end > start && f.start < end)
        .collect();
    for f in fills.iter().filter(|f| f.rack.is_none()) {
        if !f.complete {
            notes.push(notes::partial(&curve, f, o.tz, o.end));
        }
        notes.extend(notes::clock_change(f, o.tz));
    }
    if o.windows.is_empty() {
        notes.push("no colocation window configured".into());
    }
    fills.sort_by(|a, b| {
        a.rack.is_some().cmp(&b.rack.is_some()).then(a.start.cmp(&b.start)).then(a.rack.cmp(&b.rack))
    });
    let step = Duration::seconds(i64::from(curve.step_s.max(1)));
    // The points whose intervals overlap the range.
    let points = curve.points.into_iter().filter(|p| p.t > start && p.t - step < end).collect();
    CapacityReport {
        start,
        end,
        tz: o.tz,
        source: source.to_string(),
        series: String::new(),
        capacity_cores: curve.capacity_cores,
        windows: o.windows.clone(),
        fills,
        under_filled: Vec::new(),
        top_workloads: Vec::new(),
        unused_reclaimed: Vec::new(),
        curve: CpuCurve { racks: Vec::new(), points, ..curve },
        capacity_changes: Vec::new(),
        notes,
    }
}

/// The `top` least-filled nodes of one window occurrence: `bottomk` over each node's average
/// utilisation (a subquery over the `node_util` template at the curve's step, over the steps
/// covering the occurrence), computed on the server; then the cores and rack of just those
/// nodes. A node without a known capacity has unknown idle core-hours (NaN, shown `n/a`).
async fn node_fills(b: &Backend, f: &WindowFill, top: usize) -> Result<Vec<NodeFill>, QueryError> {
    // Ranked by the exporter's own node key; only the `top` results are mapped to node names.
    let (to, range) = steps(f);
    let util = b.render("node_window_util", None, Some(range));
    if util.is_empty() || top == 0 {
        return Ok(Vec::new());
    }
    let ranked = format!("bottomk({top}, {util})");
    let expr = b.detected().to_node(&ranked);
    let avg = b.instant_expr("under-filled nodes", &expr, to).await?;
    let nodes: Vec<(String, f64)> =
        avg.iter().filter_map(|s| Some((node_of(s, "node")?, s.value()?.clamp(0.0, 1.0)))).collect();
    if nodes.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<String> = nodes.iter().map(|(n, _)| n.clone()).collect();
    let re = alternation(&names);
    let (cores, racks) =
        futures::join!(b.instant("node_cores", Some(&re), to), b.instant("node_racks", Some(&re), to));
    let (cores, racks) = (node_values(&cores?), node_racks(b, &racks?));
    let hours = (f.end - f.start).num_seconds() as f64 / 3600.0;
    Ok(nodes
        .into_iter()
        .map(|(node, avg_util)| {
            let c = cores.get(&node).copied().unwrap_or(f64::NAN);
            NodeFill {
                rack: racks.get(&node).cloned(),
                window: f.window,
                start: f.start,
                end: f.end,
                avg_util,
                idle_core_hours: (1.0 - avg_util) * c * hours,
                node,
            }
        })
        .collect())
}

/// Each node's value in `v` (series with a `node` label).
fn node_values(v: &[Series]) -> HashMap<String, f64> {
    v.iter().filter_map(|s| Some((s.label("node")?.to_string(), s.value()?))).collect()
}

/// Each node's rack in `v` (the `node_racks` template's series).
fn node_racks(b: &Backend, v: &[Series]) -> HashMap<String, String> {
    let rack = b.queries.rack_label();
    v.iter().filter_map(|s| Some((s.label("node")?.to_string(), s.label(rack)?.to_string()))).collect()
}

/// Node names as a PromQL regex alternation (regex metacharacters escaped; the caller quotes it).
fn alternation(names: &[String]) -> String {
    names
        .iter()
        .map(|n| {
            n.chars()
                .flat_map(|c| if r"\.+*?()|[]{}^$".contains(c) { vec!['\\', c] } else { vec![c] })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("|")
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::model::CpuPoint;

    /// 48 h of a flat curve: 40 cores online, 40 offline from 01:00 to 06:00 UTC, of 100.
    fn curve(end: DateTime<Utc>) -> CpuCurve {
        let n = (RANGE_S + LOOKBACK_S) / CURVE_STEP_S;
        let points = (0..=n)
            .map(|k| {
                let t = end - Duration::seconds((n - k) * CURVE_STEP_S);
                let night = (1..6).contains(&chrono::Timelike::hour(&(t - Duration::seconds(CURVE_STEP_S))));
                CpuPoint::new(t, 40.0, if night { 40.0 } else { 0.0 }, 100.0)
            })
            .collect();
        CpuCurve { step_s: CURVE_STEP_S as u32, capacity_cores: 100.0, points, racks: Vec::new() }
    }

    fn report(end: DateTime<Utc>) -> CapacityReport {
        let o =
            ReportOptions { end, windows: vec![Window::parse("01:00-06:00").unwrap()], tz: Tz::UTC, top: 5 };
        assemble(curve(end), &o, "http://p", Vec::new())
    }

    #[test]
    fn an_occurrence_straddling_the_range_start_is_reported_in_full() {
        // Run at 03:00: the range starts at 03:00 yesterday, inside yesterday's window.
        let end = Utc.with_ymd_and_hms(2026, 11, 24, 3, 0, 0).unwrap();
        let r = report(end);
        let cluster: Vec<&WindowFill> = r.fills.iter().filter(|f| f.rack.is_none()).collect();
        assert_eq!(cluster.len(), 2, "{cluster:#?}");
        let y = cluster[0];
        assert_eq!(y.start, Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap());
        assert!(y.complete, "yesterday's window has all its data");
        assert!((y.avg_util - 0.8).abs() < 1e-9 && (y.offline_share - 0.5).abs() < 1e-9);
        assert!((y.idle_core_hours - 100.0).abs() < 1e-9, "20 cores idle for 5 h");
        // Today's window straddles the range end: still open, partial, figures so far.
        let t = cluster[1];
        assert!(!t.complete);
        assert!((t.avg_util - 0.8).abs() < 1e-9, "so far");
        assert!(r.notes.iter().any(|n| n.contains("still open")), "{:?}", r.notes);
        assert_eq!(
            r.curve.points.first().unwrap().t,
            end - Duration::seconds(RANGE_S - CURVE_STEP_S),
            "chart shows the range only: the first point is the one describing its first step"
        );
    }

    #[test]
    fn spill_hours_not_over_make_an_occurrence_partial_with_the_time_it_becomes_final() {
        let end = Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap();
        let r = report(end);
        let today = r.fills.iter().rfind(|f| f.rack.is_none()).unwrap();
        assert!(!today.complete);
        assert!(r.notes.iter().any(|n| n.contains("final after Tue 24 Nov 10:00")), "{:?}", r.notes);
        let end = crate::testkit::T0;
        let r = report(end);
        assert_eq!(
            r.fills.iter().filter(|f| f.rack.is_none()).count(),
            1,
            "yesterday's ended before the range"
        );
        assert!(r.fills[0].complete && r.notes.is_empty(), "{:?}", r.notes);
    }
}
