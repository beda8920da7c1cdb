//! Building the capacity review from a Prometheus backend: the curve for the 24 h ending at `end`,
//! window fill accounting (`analysis::colocation`, judged as of `end`), and the least-filled
//! nodes of each complete window occurrence.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::{CapacityReport, NodeFill};
use crate::analysis::colocation;
use crate::model::{CpuCurve, Window, WindowFill};
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
    NoReport(format!("cannot query Prometheus at {}: {e}", b.url))
}

pub async fn build(b: &Backend, o: &ReportOptions) -> Result<CapacityReport, NoReport> {
    let fetched = b.curve(o.end, RANGE_S + LOOKBACK_S, CURVE_STEP_S).await.map_err(|e| unreachable(b, e))?;
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
    let mut under_filled = Vec::new();
    let occurrences: Vec<WindowFill> =
        r.fills.iter().filter(|f| f.rack.is_none() && f.complete).cloned().collect();
    for f in &occurrences {
        match node_fills(b, f).await {
            Ok(n) => under_filled.extend(n),
            Err(QueryError::Transport(e)) => return Err(unreachable(b, QueryError::Transport(e))),
            Err(QueryError::Query(e)) => r.notes.push(format!("under-filled nodes: {e}")),
        }
    }
    under_filled.sort_by(|a, b| a.avg_util.total_cmp(&b.avg_util).then_with(|| a.node.cmp(&b.node)));
    under_filled.truncate(o.top);
    r.under_filled = under_filled;
    Ok(r)
}

/// The report from a curve that reaches back `LOOKBACK_S` before the range (so an occurrence
/// that began before it, last night's window in a report run at 02:00, is computed in full): every window
/// occurrence that overlaps `[end - 24 h, end)` with figures over its whole span, judged as of
/// `end` (one still open, or whose spill hours are not over, is partial and says why); the chart
/// shows the range only.
pub fn assemble(curve: CpuCurve, o: &ReportOptions, source: &str, mut notes: Vec<String>) -> CapacityReport {
    let end = curve.points.last().map(|p| p.t).unwrap_or(o.end);
    let start = end - Duration::seconds(RANGE_S);
    let mut fills: Vec<WindowFill> = colocation::fills(&curve, &o.windows, o.tz, o.end)
        .into_iter()
        .filter(|f| f.end > start && f.start < end)
        .collect();
    let local = |t: DateTime<Utc>| t.with_timezone(&o.tz).format("%a %d %b %H:%M").to_string();
    for f in fills.iter().filter(|f| f.rack.is_none() && !f.complete) {
        let spill_end = f.end + Duration::hours(colocation::SPILL_HOURS);
        let why = if f.end > o.end {
            "still open at the end of the range".to_string()
        } else if spill_end > o.end {
            format!("spill is counted only until the end of the range; final after {}", local(spill_end))
        } else {
            "the data does not cover it and the hours around it".to_string()
        };
        notes.push(format!("{} from {} is partial: {why}", f.window.label(), local(f.start)));
    }
    if o.windows.is_empty() {
        notes.push("no colocation window configured".into());
    }
    fills.sort_by(|a, b| {
        a.rack.is_some().cmp(&b.rack.is_some()).then(a.start.cmp(&b.start)).then(a.rack.cmp(&b.rack))
    });
    let points = curve.points.into_iter().filter(|p| p.t >= start).collect();
    CapacityReport {
        start,
        end,
        tz: o.tz,
        source: source.to_string(),
        capacity_cores: curve.capacity_cores,
        windows: o.windows.clone(),
        fills,
        under_filled: Vec::new(),
        curve: CpuCurve { racks: Vec::new(), points, ..curve },
        notes,
    }
}

/// Every node's average utilisation inside one window occurrence (a subquery over the
/// `node_util` template evaluated at the occurrence's end), with its cores and rack.
async fn node_fills(b: &Backend, f: &WindowFill) -> Result<Vec<NodeFill>, QueryError> {
    let util = b.queries.render("node_util", None);
    if util.is_empty() {
        return Ok(Vec::new());
    }
    let span = (f.end - f.start).num_seconds();
    let expr = format!("avg_over_time(({util})[{span}s:{CURVE_STEP_S}s])");
    let at = f.end.timestamp();
    let (avg, cores, racks) = futures::join!(
        b.instant_expr("node fill", &expr, at),
        b.instant("node_cores", None, at),
        b.instant("node_racks", None, at),
    );
    let label = b.queries.node_label().to_string();
    let by_node = |v: Vec<Series>, value: &dyn Fn(&Series) -> Option<String>| {
        v.iter()
            .filter_map(|s| Some((node_of(s, &label)?, value(s)?)))
            .collect::<std::collections::HashMap<_, _>>()
    };
    let cores = by_node(cores?, &|s| s.value().map(|v| v.to_string()));
    let rack_label = b.queries.rack_label().to_string();
    let racks = by_node(racks?, &|s| s.label(&rack_label).map(str::to_string));
    let hours = span as f64 / 3600.0;
    Ok(avg?
        .iter()
        .filter_map(|s| {
            let node = node_of(s, &label)?;
            let avg_util = s.value()?.clamp(0.0, 1.0);
            let c: f64 = cores.get(&node).and_then(|c| c.parse().ok()).unwrap_or(0.0);
            Some(NodeFill {
                rack: racks.get(&node).cloned(),
                window: f.window,
                start: f.start,
                end: f.end,
                avg_util,
                idle_core_hours: (1.0 - avg_util) * c * hours,
                node,
            })
        })
        .collect())
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
                let night = (1..6).contains(&chrono::Timelike::hour(&t));
                CpuPoint { t, online: 40.0, offline: if night { 40.0 } else { 0.0 } }
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
            end - Duration::seconds(RANGE_S),
            "chart shows the range only"
        );
    }

    #[test]
    fn spill_hours_not_over_make_an_occurrence_partial_with_the_time_it_becomes_final() {
        let end = Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap();
        let r = report(end);
        let today = r.fills.iter().rfind(|f| f.rack.is_none()).unwrap();
        assert!(!today.complete);
        assert!(r.notes.iter().any(|n| n.contains("final after Tue 24 Nov 10:00")), "{:?}", r.notes);
        let end = Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap();
        let r = report(end);
        assert_eq!(
            r.fills.iter().filter(|f| f.rack.is_none()).count(),
            1,
            "yesterday's ended before the range"
        );
        assert!(r.fills[0].complete && r.notes.is_empty(), "{:?}", r.notes);
    }
}
