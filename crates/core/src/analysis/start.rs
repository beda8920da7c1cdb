//! Sandbox start time per runtime, cluster-wide and per node: from the kubelet's
//! `kubelet_run_podsandbox_duration_seconds` histogram where a metrics backend has it for the
//! runtime's handler, else estimated from pods' condition times.
//!
//! The estimate: each pod's `PodScheduled` to `PodReadyToStartContainers` (else `Initialized`) in
//! whole seconds (condition times have whole-second resolution). A sandbox that starts in 0.4 s
//! reads 0 s or 1 s depending on where the second boundary falls, so one pod says little; the
//! mean over many pods is the estimate. Quantiles are nearest-rank over the whole seconds.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use crate::model::start::CONDITIONS_NOTE;
use crate::model::{KubeletStart, RuntimeClass, SandboxErrors, SandboxStart, SandboxStarts, StartSource};

/// Whole-second start times and how many pods had each, sorted by seconds.
pub type Hist = Vec<(u16, u32)>;

/// Per runtime (`None`: the default runtime), its pods' start times.
pub type RuntimeHists = Vec<(Option<Arc<str>>, Hist)>;

pub fn add(h: &mut Hist, s: u16, n: u32) {
    match h.binary_search_by_key(&s, |(v, _)| *v) {
        Ok(i) => h[i].1 += n,
        Err(i) => h.insert(i, (s, n)),
    }
}

/// Count one pod's start under its runtime.
pub fn add_pod(hists: &mut RuntimeHists, runtime: Option<&Arc<str>>, s: u16) {
    match hists.iter_mut().find(|(k, _)| k.as_ref() == runtime) {
        Some((_, h)) => add(h, s, 1),
        None => hists.push((runtime.cloned(), vec![(s, 1)])),
    }
}

/// The smallest value with at least `ceil(q * n)` of the `n` samples at or below it.
pub fn quantile(h: &Hist, q: f64) -> Option<u16> {
    let n: u64 = h.iter().map(|(_, c)| u64::from(*c)).sum();
    let rank = ((q * n as f64).ceil() as u64).max(1);
    let mut seen = 0u64;
    for (v, c) in h {
        seen += u64::from(*c);
        if seen >= rank {
            return Some(*v);
        }
    }
    None
}

/// The estimate from whole-second samples; `None` without samples.
pub fn from_conditions(h: &Hist) -> Option<SandboxStart> {
    let n: u64 = h.iter().map(|(_, c)| u64::from(*c)).sum();
    if n == 0 {
        return None;
    }
    let total: u64 = h.iter().map(|(v, c)| u64::from(*v) * u64::from(*c)).sum();
    Some(SandboxStart {
        mean_s: Some(total as f64 / n as f64),
        p50_s: quantile(h, 0.5).map(f64::from),
        p95_s: quantile(h, 0.95).map(f64::from),
        samples: n,
        source: StartSource::PodConditions,
        note: Some(CONDITIONS_NOTE),
    })
}

fn from_kubelet(k: &KubeletStart) -> SandboxStart {
    SandboxStart {
        mean_s: k.mean_s,
        p50_s: k.p50_s,
        p95_s: k.p95_s,
        samples: k.samples.max(0.0).round() as u64,
        source: StartSource::Kubelet,
        note: None,
    }
}

/// What the kubelet's metrics said, over which window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Kubelet<'a> {
    pub window: &'a str,
    pub starts: &'a [KubeletStart],
}

/// Every runtime's figures: the default runtime first, then the classes in order. `pods_unknown`
/// is why the pods are not known (then only the kubelet's figures can be had).
pub fn starts<'a>(
    per_node: impl Iterator<Item = (&'a str, &'a RuntimeHists)>,
    classes: &[RuntimeClass],
    kubelet: Option<Kubelet<'_>>,
    pods_unknown: Option<&str>,
) -> SandboxStarts {
    let mut runtimes: Vec<(Option<String>, String)> = vec![(None, String::new())];
    runtimes.extend(classes.iter().map(|c| (Some(c.name.clone()), c.handler.clone())));

    // The kubelet's figures by handler: the cluster's, and each node's.
    let mut k_cluster: HashMap<&str, &KubeletStart> = HashMap::new();
    let mut k_nodes: HashMap<&str, Vec<&KubeletStart>> = HashMap::new();
    for k in kubelet.iter().flat_map(|k| k.starts) {
        match &k.node {
            None if k.samples > 0.0 => {
                k_cluster.insert(&k.handler, k);
            }
            None => {}
            Some(_) => k_nodes.entry(&k.handler).or_default().push(k),
        }
    }

    // Runtimes whose figures the kubelet gives (their per-node figures come from it, below).
    let by_kubelet: HashSet<Option<&str>> = runtimes
        .iter()
        .filter(|(_, h)| k_cluster.contains_key(h.as_str()))
        .map(|(k, _)| k.as_deref())
        .collect();
    let mut cluster_hists: HashMap<Option<&str>, Hist> = HashMap::new();
    let mut nodes: BTreeMap<String, Vec<(Option<String>, SandboxStart)>> = BTreeMap::new();
    if pods_unknown.is_none() {
        for (node, hists) in per_node {
            for (runtime, h) in hists {
                let into = cluster_hists.entry(runtime.as_deref()).or_default();
                h.iter().for_each(|(v, c)| add(into, *v, *c));
                if node.is_empty() || by_kubelet.contains(&runtime.as_deref()) {
                    continue;
                }
                if let Some(f) = from_conditions(h) {
                    nodes.entry(node.to_string()).or_default().push((runtime.as_deref().map(Into::into), f));
                }
            }
        }
    }

    let mut cluster = Vec::with_capacity(runtimes.len());
    for (key, handler) in &runtimes {
        let figure = if let Some(k) = k_cluster.get(handler.as_str()) {
            for n in k_nodes.get(handler.as_str()).into_iter().flatten().filter(|n| n.samples > 0.0) {
                let node = n.node.clone().unwrap_or_default();
                nodes.entry(node).or_default().push((key.clone(), from_kubelet(n)));
            }
            Ok(from_kubelet(k))
        } else if let Some(why) = pods_unknown {
            Err(format!("pods unknown ({why}), and no kubelet_run_podsandbox_duration_seconds"))
        } else {
            cluster_hists.get(&key.as_deref()).and_then(from_conditions).ok_or_else(|| {
                let h = if handler.is_empty() { "\"\"" } else { handler };
                format!(
                    "no sample: no pod of this runtime reports PodScheduled and PodReadyToStartContainers \
                     (or Initialized) times, and no kubelet_run_podsandbox_duration_seconds for handler {h}"
                )
            })
        };
        cluster.push((key.clone(), figure));
    }
    for v in nodes.values_mut() {
        v.sort_by(|a, b| a.0.cmp(&b.0));
    }

    let mut errors: Vec<SandboxErrors> = kubelet
        .iter()
        .flat_map(|k| k.starts)
        .filter_map(|k| {
            let (node, errors) = (k.node.as_ref()?, k.errors?);
            (errors > 0.0).then(|| SandboxErrors { handler: k.handler.clone(), node: node.clone(), errors })
        })
        .collect();
    errors.sort_by(|a, b| (&a.node, &a.handler).cmp(&(&b.node, &b.handler)));
    SandboxStarts { cluster, nodes, window: kubelet.map(|k| k.window.to_string()), errors }
}

#[cfg(test)]
#[path = "start_tests.rs"]
mod tests;
