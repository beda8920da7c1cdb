//! The kubelet's sandbox start histogram (`kubelet_run_podsandbox_duration_seconds`, by
//! `runtime_handler`) and its error counter (`kubelet_run_podsandbox_errors_total`): p50, p95,
//! mean and count per handler, cluster-wide and per node, over the last hour.

use std::collections::{BTreeMap, HashMap};

use futures::future::join_all;

use super::backend::{Backend, QueryError};
use super::map::Series;
use crate::model::KubeletStart;

/// The window the templates look back over.
pub const WINDOW: &str = "1h";

const CLUSTER: [&str; 4] = ["sandbox_p50", "sandbox_p95", "sandbox_mean", "sandbox_count"];
const NODE: [&str; 5] = [
    "sandbox_node_p50",
    "sandbox_node_p95",
    "sandbox_node_mean",
    "sandbox_node_count",
    "sandbox_node_errors",
];

/// A query the backend rejected (an override's bad PromQL) gives nothing; an unreachable backend
/// is an error.
pub async fn fetch(b: &Backend, at: i64) -> Result<Vec<KubeletStart>, QueryError> {
    let names: Vec<&str> = CLUSTER.iter().chain(NODE.iter()).copied().collect();
    let results = join_all(names.iter().map(|n| b.instant(n, None, at))).await;
    let mut by_name: HashMap<&str, Vec<Series>> = HashMap::new();
    for (n, r) in names.iter().zip(results) {
        match r {
            Ok(s) => {
                by_name.insert(n, s);
            }
            Err(QueryError::Transport(e)) => return Err(QueryError::Transport(e)),
            Err(QueryError::Query(_)) => {}
        }
    }
    Ok(starts(&by_name))
}

/// Per (handler, node): the figures of the queries that answered. The count decides whether a
/// handler is there at all (a quantile of no sandbox starts is NaN, and dropped).
pub fn starts(by_name: &HashMap<&str, Vec<Series>>) -> Vec<KubeletStart> {
    let mut out: BTreeMap<(String, Option<String>), KubeletStart> = BTreeMap::new();
    let mut put = |name: &str, node: bool, set: fn(&mut KubeletStart, f64)| {
        for s in by_name.get(name).into_iter().flatten() {
            let Some(v) = s.value() else { continue };
            let handler = s.labels.get("runtime_handler").cloned().unwrap_or_default();
            let n = if node {
                match s.label("node") {
                    Some(n) => Some(n.to_string()),
                    None => continue,
                }
            } else {
                None
            };
            let e = out.entry((handler.clone(), n.clone())).or_insert_with(|| KubeletStart {
                handler,
                node: n,
                mean_s: None,
                p50_s: None,
                p95_s: None,
                samples: 0.0,
                errors: None,
            });
            set(e, v);
        }
    };
    put("sandbox_count", false, |e, v| e.samples = v);
    put("sandbox_p50", false, |e, v| e.p50_s = Some(v));
    put("sandbox_p95", false, |e, v| e.p95_s = Some(v));
    put("sandbox_mean", false, |e, v| e.mean_s = Some(v));
    put("sandbox_node_count", true, |e, v| e.samples = v);
    put("sandbox_node_p50", true, |e, v| e.p50_s = Some(v));
    put("sandbox_node_p95", true, |e, v| e.p95_s = Some(v));
    put("sandbox_node_mean", true, |e, v| e.mean_s = Some(v));
    put("sandbox_node_errors", true, |e, v| e.errors = Some(v));
    out.into_values().collect()
}
