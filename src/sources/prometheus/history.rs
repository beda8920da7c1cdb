//! A past moment from Prometheus alone: the nodes, their CNI agents and readiness from
//! kube-state-metrics, everything the live Prometheus source reads (conntrack, BGP sessions,
//! the CPU curve, pods and their runtime classes), and the clustertop agents' own series where
//! Prometheus scrapes them (`--agents prometheus`), all evaluated at that moment. For a moment no
//! recording covers, or a fleet nobody was watching.
//!
//! What kube-state-metrics does not have stays unknown, with the reason: RuntimeClass objects
//! (so which runtime a class runs), node annotations, CiliumNodes and BGP configuration objects.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};

use super::map::Series;
use super::queries::ksm_label;
use super::{Backend, DEFAULT_HISTORY_S, Interest, PromOptions, refresh};
use crate::model::{Cni, Signal, SourceHealth, SourceId, Update};
use crate::sources::kube::map::{
    FALLBACK_RACK_LABEL, NodeExtras, NodeObj, TOR_A_LABEL, TOR_B_LABEL, node_info,
};

/// The CNI agents' DaemonSets as their projects name them (Cilium's `cilium`, Calico's
/// `calico-node`, flannel's `kube-flannel-ds`, Canal's `canal`): kube-state-metrics names a pod's
/// owner in `kube_pod_info`'s `created_by_name`, and keeps pod labels only when allowlisted.
pub fn agent_daemonset(name: &str) -> Option<Cni> {
    match name {
        "cilium" => Some(Cni::Cilium),
        "calico-node" => Some(Cni::Calico),
        "kube-flannel-ds" | "kube-flannel" | "flannel" | "canal" => Some(Cni::Flannel),
        _ => None,
    }
}

const NODES: &str = "max by (node) (kube_node_info)";
const CREATED: &str = "max by (node) (kube_node_created)";
const READY: &str = r#"max by (node) (kube_node_status_condition{condition="Ready",status="true"})"#;
/// CNI agent pods not known to be in another phase than Running.
const AGENTS: &str = r#"max by (namespace, pod, node, created_by_name) (kube_pod_info{created_by_kind="DaemonSet",node!=""}) unless on (namespace, pod) (kube_pod_status_phase{phase!="Running"} == 1)"#;

/// Why a Cilium node's routing mode is not known from metrics.
const CILIUM_BGP_UNKNOWN: &str = "ciliumbgpnodeconfigs (not in Prometheus)";

/// The label keys clustertop reads from a node (kube-state-metrics exports each as
/// `label_<sanitised key>`, when its allowlist lets it).
fn known_keys(rack_label: &str) -> Vec<&str> {
    let mut keys = vec![rack_label, FALLBACK_RACK_LABEL, TOR_A_LABEL, TOR_B_LABEL];
    keys.dedup();
    keys
}

/// The updates that rebuild the cluster as Prometheus saw it at `at`. Err: the backend could not
/// be reached or refused a query.
pub async fn updates_at(
    b: &Backend,
    opts: &PromOptions,
    rack_label: &str,
    at: DateTime<Utc>,
    with_curve: bool,
) -> Result<Vec<Update>, String> {
    let t = at.timestamp();
    let get = |what: &'static str, expr: &'static str| async move {
        b.instant_expr(what, expr, t).await.map_err(|e| e.to_string())
    };
    let ksm = Ksm {
        names: get("nodes (kube_node_info)", NODES).await?,
        labels: get("node labels (kube_node_labels)", "kube_node_labels").await?,
        ready: get("node readiness (kube_node_status_condition)", READY).await?,
        created: get("node creation (kube_node_created)", CREATED).await?,
        agents: get("CNI agent pods (kube_pod_info)", AGENTS).await?,
    };
    let interest = Interest { history_s: DEFAULT_HISTORY_S, node: None, pods: true };
    let metrics = refresh(b, opts, &interest, with_curve, at).await?;
    // The agents' own series, where Prometheus scrapes them: read a minute before too, so that
    // their conntrack counters give rates (one reading alone would say 0/s).
    let mut counters = std::collections::HashMap::new();
    crate::sources::agents::prometheus::round(b, at - chrono::Duration::seconds(60), &mut counters).await;
    let mut agents = crate::sources::agents::prometheus::round(b, at, &mut counters).await;
    if !agents.iter().any(|u| matches!(u, Update::Host { .. })) {
        agents.clear();
    }
    // The nodes first (the store keeps other facts of a node it does not know yet apart), with
    // the peers of their sessions (the TORs, where no TOR labels name them).
    let mut peers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for u in metrics.iter().chain(&agents) {
        let (node, sessions): (_, Vec<&String>) = match u {
            Update::NodeMetrics { node, metrics, .. } => {
                (node, metrics.bgp.iter().flatten().map(|s| &s.peer).collect())
            }
            Update::Bgp { node, sessions, .. } => (node, sessions.iter().map(|s| &s.peer).collect()),
            _ => continue,
        };
        peers.entry(node.clone()).or_default().extend(sessions.into_iter().cloned());
    }
    let mut out = nodes(&ksm, &peers, rack_label, at);
    out.extend(metrics);
    out.extend(agents);
    Ok(out)
}

/// What kube-state-metrics says about the nodes (one query result each).
#[derive(Debug, Default)]
pub struct Ksm {
    pub names: Vec<Series>,
    pub labels: Vec<Series>,
    pub ready: Vec<Series>,
    pub created: Vec<Series>,
    pub agents: Vec<Series>,
}

/// The Kubernetes side of [`updates_at`].
pub fn nodes(
    ksm: &Ksm,
    peers: &BTreeMap<String, Vec<String>>,
    rack_label: &str,
    at: DateTime<Utc>,
) -> Vec<Update> {
    let Ksm { names, labels, ready, created, agents } = ksm;
    let node = |s: &Series| s.label("node").filter(|n| !n.is_empty()).map(str::to_string);
    let mut objs: BTreeMap<String, NodeObj> = BTreeMap::new();
    for s in names.iter().chain(labels.iter()) {
        if let Some(n) = node(s) {
            objs.entry(n.clone()).or_insert_with(|| NodeObj { name: n, ..NodeObj::default() });
        }
    }
    let keys = known_keys(rack_label);
    for s in labels {
        let Some(o) = node(s).and_then(|n| objs.get_mut(&n)) else { continue };
        for k in &keys {
            if let Some(v) = s.label(&ksm_label(k)).filter(|v| !v.is_empty()) {
                o.labels.insert(k.to_string(), v.to_string());
            }
        }
    }
    for s in created {
        if let (Some(o), Some(t)) = (node(s).and_then(|n| objs.get_mut(&n)), s.value()) {
            o.created = Utc.timestamp_opt(t as i64, 0).single();
        }
    }
    let ready_known = !ready.is_empty();
    for s in ready {
        if let Some(o) = node(s).and_then(|n| objs.get_mut(&n)) {
            o.ready = s.value() == Some(1.0);
        }
    }
    let mut extras: BTreeMap<String, NodeExtras> = BTreeMap::new();
    for s in agents {
        let (Some(n), Some(cni)) = (node(s), s.label("created_by_name").and_then(agent_daemonset)) else {
            continue;
        };
        let pod = s.label("pod").unwrap_or_default().to_string();
        extras.entry(n).or_default().agents.push(Signal::AgentPod { cni, pod });
    }
    let mut out = vec![
        Update::Health { source: SourceId::Kubernetes, scope: String::new(), health: SourceHealth::Ok, at },
        Update::Note {
            source: SourceId::Kubernetes,
            scope: String::new(),
            note: format!(
                "from kube-state-metrics in Prometheus at {} (no annotations, CiliumNodes or BGP objects)",
                at.format("%Y-%m-%dT%H:%M:%SZ")
            ),
        },
    ];
    let nodes_health = if objs.is_empty() {
        SourceHealth::NoData { reason: "kube-state-metrics had no kube_node_info series then".into() }
    } else if !ready_known {
        SourceHealth::NoData { reason: "no kube_node_status_condition series: readiness unknown".into() }
    } else {
        SourceHealth::Ok
    };
    out.push(Update::Health {
        source: SourceId::Kubernetes,
        scope: "nodes".into(),
        health: nodes_health,
        at,
    });
    out.push(Update::Health {
        source: SourceId::Kubernetes,
        scope: "runtimeclasses.node.k8s.io".into(),
        health: SourceHealth::NoData {
            reason: "kube-state-metrics has no RuntimeClass objects, so no pod's runtime is known".into(),
        },
        at,
    });
    for (name, o) in objs {
        let mut x = extras.remove(&name).unwrap_or_default();
        x.agents.sort_by_key(|a| format!("{a:?}"));
        x.peers = peers.get(&name).cloned().unwrap_or_default();
        if x.agents.iter().any(|a| matches!(a, Signal::AgentPod { cni: Cni::Cilium, .. })) {
            // Whether Cilium routes pods over BGP is in its BGP objects, which metrics lack:
            // sessions up prove only that it peers (it may advertise Service IPs alone).
            x.bgp_unreadable = Some(CILIUM_BGP_UNKNOWN.into());
        }
        out.push(Update::NodeApplied { node: node_info(&o, &x, rack_label), at });
    }
    out
}

#[cfg(test)]
mod tests;
