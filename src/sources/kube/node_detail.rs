//! A node's pods and Events from the API, on demand (`sources::detail`), with field-selected
//! lists only, never a watch and never a cluster-wide Events list:
//!
//! 1. `GET /api/v1/pods?fieldSelector=spec.nodeName=NODE`: the node's pods (at most the node's
//!    `maxPods`, 110 by default), whole, for their requests, restarts and age;
//! 2. `GET /api/v1/events?fieldSelector=involvedObject.kind=Node,involvedObject.name=NODE`: the
//!    node's events, by name and not uid, so the kubelet's (uid = the node's name) and the node
//!    controller's (the node's uid) both come back, as `kubectl describe node` merges them;
//! 3. per pod, `GET /api/v1/namespaces/NS/events?fieldSelector=involvedObject.kind=Pod,
//!    involvedObject.name=POD`, as `kubectl describe pod` asks, [`CONCURRENCY`] at a time.
//!
//! Events have no field for the node, and field selectors have no set operator, so per pod is
//! what keeps each answer bounded by the pod's own events: a per-namespace list would carry every
//! event of a namespace that may span the whole cluster. A refresh costs 2 + (pods on the node)
//! requests; at 30 pods per node, 32 every [`super::super::detail::REFRESH`] while one detail is
//! open, and none while none is.

use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::Client;
use kube::api::{Api, ListParams};

use super::map;
use crate::model::SourceHealth;
use crate::sanitize::sanitize;
use crate::sources::detail::{EventRow, NodeDetail, Part, PodRow};

/// Pod event lists in flight at once.
pub const CONCURRENCY: usize = 8;

/// What decides that a pod is offline work (the source's configuration).
#[derive(Debug, Clone, Default)]
pub struct Offline {
    pub priority_classes: Vec<String>,
    pub qos: Vec<String>,
}

fn clean(s: &str) -> String {
    sanitize(s).into_owned()
}

/// The reason a list failed, in the words the rest of the dashboard uses: `forbidden`, the
/// API's status line, or the connection error (`conn_error`).
pub fn reason(e: &kube::Error, resource: &str) -> String {
    match map::api_error_health(e, "list", resource).1 {
        SourceHealth::Forbidden { .. } => "forbidden".into(),
        SourceHealth::NotInstalled => "not served".into(),
        SourceHealth::Unreachable { error } => clean(&error),
        other => other.word().into(),
    }
}

fn time(t: &Time) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.0.as_second(), 0)
}

/// A pod's row: requests and restarts summed over its containers.
pub fn pod_row(p: &Pod, offline: &Offline) -> PodRow {
    let m = &p.metadata;
    let spec = p.spec.as_ref();
    let containers = spec.map(|s| s.containers.as_slice()).unwrap_or_default();
    let sum = |key: &str, parse: fn(&str) -> Option<u64>| {
        let asked: Vec<u64> = containers
            .iter()
            .filter_map(|c| c.resources.as_ref()?.requests.as_ref()?.get(key))
            .filter_map(|q| parse(&q.0))
            .collect();
        (!asked.is_empty()).then(|| asked.iter().sum())
    };
    let status = p.status.as_ref();
    let restarts = status
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| cs.iter().map(|c| c.restart_count.max(0) as u32).sum())
        .unwrap_or(0);
    PodRow {
        namespace: clean(m.namespace.as_deref().unwrap_or("")),
        name: clean(m.name.as_deref().unwrap_or("")),
        runtime_class: spec
            .and_then(|s| s.runtime_class_name.as_deref())
            .filter(|s| !s.is_empty())
            .map(clean),
        offline: map::is_offline(
            spec.and_then(|s| s.priority_class_name.as_deref()),
            m.labels.as_ref(),
            spec.and_then(|s| s.priority),
            &offline.priority_classes,
            &offline.qos,
        ),
        phase: clean(status.and_then(|s| s.phase.as_deref()).unwrap_or("Unknown")),
        restarts,
        created: m.creation_timestamp.as_ref().and_then(time),
        cpu_m: sum("cpu", map::cpu_millis),
        mem_bytes: sum("memory", map::mem_bytes),
    }
}

/// An event's row.
pub fn event_row(e: &Event) -> EventRow {
    let o = &e.involved_object;
    let name = o.name.as_deref().unwrap_or("");
    let object = match o.namespace.as_deref().filter(|n| !n.is_empty()) {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    };
    let last = e
        .last_timestamp
        .as_ref()
        .and_then(time)
        .or_else(|| e.event_time.as_ref().and_then(|t| DateTime::from_timestamp(t.0.as_second(), 0)))
        .or_else(|| e.first_timestamp.as_ref().and_then(time));
    let source = e
        .source
        .as_ref()
        .and_then(|s| s.component.clone())
        .or_else(|| e.reporting_component.clone())
        .unwrap_or_default();
    EventRow {
        kind: clean(o.kind.as_deref().unwrap_or("")),
        object: clean(&object),
        warning: e.type_.as_deref() == Some("Warning"),
        reason: clean(e.reason.as_deref().unwrap_or("")),
        message: clean(e.message.as_deref().unwrap_or("")),
        count: e.count.unwrap_or(1).max(1) as u32,
        last,
        source: clean(&source),
    }
}

/// The field selector of one involved object's events.
pub fn involved(kind: &str, name: &str) -> String {
    format!("involvedObject.kind={kind},involvedObject.name={name}")
}

/// Fetch `node`'s detail now.
pub async fn fetch(client: &Client, node: &str, offline: &Offline) -> NodeDetail {
    let at = Utc::now();
    let mut requests = 0;
    let pods_api: Api<Pod> = Api::all(client.clone());
    requests += 1;
    let pods = match pods_api.list(&ListParams::default().fields(&format!("spec.nodeName={node}"))).await {
        Ok(list) => Ok(list.items),
        Err(e) => Err(reason(&e, "pods")),
    };
    let all: Api<Event> = Api::all(client.clone());
    requests += 1;
    let node_events = all.list(&ListParams::default().fields(&involved("Node", node))).await;
    let events = match (node_events, &pods) {
        (Err(e), _) => Part::Failed(reason(&e, "events")),
        (Ok(_), Err(why)) => Part::Failed(format!("unknown while the pods are (pods: {why})")),
        (Ok(list), Ok(pods)) => {
            let keys: Vec<(String, String)> = pods
                .iter()
                .filter_map(|p| Some((p.metadata.namespace.clone()?, p.metadata.name.clone()?)))
                .collect();
            requests += keys.len();
            let per_pod = futures::stream::iter(keys)
                .map(|(ns, name)| {
                    let api: Api<Event> = Api::namespaced(client.clone(), &ns);
                    async move { api.list(&ListParams::default().fields(&involved("Pod", &name))).await }
                })
                .buffer_unordered(CONCURRENCY)
                .map_ok(|l| l.items)
                .try_concat()
                .await;
            match per_pod {
                Ok(more) => Part::Ok(list.items.iter().chain(&more).map(event_row).collect()),
                Err(e) => Part::Failed(reason(&e, "events")),
            }
        }
    };
    let pods = match pods {
        Ok(items) => Part::Ok(items.iter().map(|p| pod_row(p, offline)).collect()),
        Err(why) => Part::Failed(why),
    };
    NodeDetail { node: node.to_string(), at, pods, events, requests }
}
