//! Building the capacity review from a Prometheus backend: the curve for the 24 h ending at `end`,
//! window fill accounting (`analysis::colocation`, judged as of `end`), and the least-filled
//! nodes of each complete window occurrence.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::{CapacityReport, NodeFill};
use crate::analysis::colocation;
use crate::model::{CpuCurve, Window, WindowFill};
use crate::sources::prometheus::map::{Series, node_of};
use crate::sources::prometheus::{Backend, CURVE_STEP_S, QueryError};

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
    let fetched = b.curve(o.end, RANGE_S, CURVE_STEP_S).await.map_err(|e| unreachable(b, e))?;
    let mut notes = fetched.notes;
    let Some(curve) = fetched.curve else {
        let why =
            if notes.is_empty() { "the CPU queries returned no series".into() } else { notes.join("; ") };
        return Err(NoReport(format!(
            "Prometheus at {} has no CPU data for the 24 h ending {}: {why}",
            b.url,
            o.end.format("%Y-%m-%dT%H:%M:%SZ")
        )));
    };
    let end = curve.points.last().map(|p| p.t).unwrap_or(o.end);
    let start = end - Duration::seconds(RANGE_S);
    let fills = colocation::fills(&curve, &o.windows, o.tz, o.end);
    for f in fills.iter().filter(|f| f.rack.is_none() && !f.complete) {
        notes.push(format!(
            "{} from {} is partial: the 24 h range or the data cuts it or the {} h after it short",
            f.window.label(),
            f.start.with_timezone(&o.tz).format("%a %d %b %H:%M"),
            colocation::SPILL_HOURS
        ));
    }
    if o.windows.is_empty() {
        notes.push("no colocation window configured".into());
    }
    let mut under_filled = Vec::new();
    for f in fills.iter().filter(|f| f.rack.is_none() && f.complete) {
        match node_fills(b, f).await {
            Ok(n) => under_filled.extend(n),
            Err(QueryError::Transport(e)) => return Err(unreachable(b, QueryError::Transport(e))),
            Err(QueryError::Query(e)) => notes.push(format!("under-filled nodes: {e}")),
        }
    }
    under_filled.sort_by(|a, b| a.avg_util.total_cmp(&b.avg_util).then_with(|| a.node.cmp(&b.node)));
    under_filled.truncate(o.top);
    let mut fills = fills;
    fills.sort_by(|a, b| {
        a.rack.is_some().cmp(&b.rack.is_some()).then(a.start.cmp(&b.start)).then(a.rack.cmp(&b.rack))
    });
    Ok(CapacityReport {
        start,
        end,
        tz: o.tz,
        source: b.url.clone(),
        capacity_cores: curve.capacity_cores,
        windows: o.windows.clone(),
        fills,
        under_filled,
        curve: CpuCurve { racks: Vec::new(), ..curve },
        notes,
    })
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
