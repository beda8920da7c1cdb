//! Server-side printing: the `meta.k8s.io/v1` Table that `kubectl get` asks for
//! (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io, …`), with the columns the API server
//! prints for nodes and pods (NAME STATUS ROLES AGE VERSION; NAME READY STATUS RESTARTS AGE, and
//! their `-o wide` columns at priority 1). Other kinds answer the plain object or list, which
//! kubectl prints as NAME and AGE itself.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::kinds::{NODES, PODS};

/// Whether the request's `Accept` asks for a `meta.k8s.io/v1` Table.
pub(crate) fn wanted(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| {
        a.split(',').any(|media| {
            let params: Vec<&str> = media.split(';').map(str::trim).collect();
            params.first().is_some_and(|t| *t == "application/json")
                && params.contains(&"as=Table")
                && params.contains(&"v=v1")
                && params.contains(&"g=meta.k8s.io")
        })
    })
}

/// What each row carries besides its cells (`includeObject`: `None`, `Metadata` (the default),
/// `Object`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Include {
    None,
    Metadata,
    Object,
}

impl Include {
    pub fn parse(v: Option<&str>) -> Include {
        match v {
            Some("None") => Include::None,
            Some("Object") => Include::Object,
            _ => Include::Metadata,
        }
    }
}

fn column(name: &str, format: &str, priority: u8, description: &str) -> Value {
    json!({"name": name, "type": "string", "format": format, "description": description, "priority": priority})
}

fn columns(kind: usize) -> Vec<Value> {
    let name = column("Name", "name", 0, "Name must be unique within a namespace.");
    let age = column(
        "Age",
        "",
        0,
        "CreationTimestamp is a timestamp representing the server time when this object was created.",
    );
    match kind {
        NODES => vec![
            name,
            column("Status", "", 0, "The status of the node"),
            column("Roles", "", 0, "The roles of the node"),
            age,
            column("Version", "", 0, "Kubelet Version reported by the node."),
            column("Internal-IP", "", 1, "List of addresses reachable to the node."),
            column("External-IP", "", 1, "List of addresses reachable to the node."),
            column(
                "OS-Image",
                "",
                1,
                "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
            ),
            column(
                "Kernel-Version",
                "",
                1,
                "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
            ),
            column(
                "Container-Runtime",
                "",
                1,
                "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
            ),
        ],
        PODS => vec![
            name,
            column("Ready", "", 0, "The aggregate readiness state of this pod for accepting traffic."),
            column("Status", "", 0, "The aggregate status of the containers in this pod."),
            column(
                "Restarts",
                "",
                0,
                "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
            ),
            age,
            column(
                "IP",
                "",
                1,
                "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
            ),
            column("Node", "", 1, "NodeName is a request to schedule this pod onto a specific node."),
            column(
                "Nominated Node",
                "",
                1,
                "nominatedNodeName is set when this pod preempts other pods on the node.",
            ),
            column(
                "Readiness Gates",
                "",
                1,
                "If specified, all readiness gates will be evaluated for pod readiness.",
            ),
        ],
        _ => Vec::new(),
    }
}

/// kubectl's `duration.HumanDuration`: `45s`, `3m20s`, `2h15m`, `4d3h`, `120d`, `2y10d`.
pub(crate) fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    let s = secs.max(0);
    let (m, h, d) = (s / 60, s / 3600, s / 86_400);
    let with = |big: i64, unit: &str, small: i64, small_unit: &str| {
        if small == 0 { format!("{big}{unit}") } else { format!("{big}{unit}{small}{small_unit}") }
    };
    match s {
        _ if s < 120 => format!("{s}s"),
        _ if m < 10 => with(m, "m", s % 60, "s"),
        _ if h < 3 => format!("{m}m"),
        _ if h < 8 => with(h, "h", m % 60, "m"),
        _ if h < 48 => format!("{h}h"),
        _ if h < 192 => with(d, "d", h % 24, "h"),
        _ if h < 24 * 365 * 2 => format!("{d}d"),
        _ if h < 24 * 365 * 8 => with(d / 365, "y", d % 365, "d"),
        _ => format!("{}y", d / 365),
    }
}

fn age(o: &Value, now: DateTime<Utc>) -> String {
    o.pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| human_duration((now - t.with_timezone(&Utc)).num_seconds()))
        .unwrap_or_else(|| "<unknown>".into())
}

fn text<'a>(o: &'a Value, pointer: &str) -> &'a str {
    o.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn or_none(s: &str) -> String {
    if s.is_empty() { "<none>".into() } else { s.into() }
}

fn node_cells(o: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let conditions = o.pointer("/status/conditions").and_then(Value::as_array).cloned().unwrap_or_default();
    let ready = conditions.iter().find(|c| c["type"] == "Ready");
    let mut status = vec![match ready {
        Some(c) if c["status"] == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if o.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push("SchedulingDisabled");
    }
    let mut roles: Vec<String> = o
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| match k.strip_prefix("node-role.kubernetes.io/") {
            Some(role) if !role.is_empty() => Some(role.to_string()),
            _ if k == "kubernetes.io/role" => v.as_str().filter(|r| !r.is_empty()).map(String::from),
            _ => None,
        })
        .collect();
    roles.sort();
    roles.dedup();
    let address = |typ: &str| {
        let all = o.pointer("/status/addresses").and_then(Value::as_array).cloned().unwrap_or_default();
        all.iter().find(|a| a["type"] == typ).and_then(|a| a["address"].as_str()).unwrap_or("").to_string()
    };
    let info = |k: &str| or_none(text(o, &format!("/status/nodeInfo/{k}")));
    vec![
        text(o, "/metadata/name").into(),
        status.join(",").into(),
        or_none(&roles.join(",")).into(),
        age(o, now).into(),
        text(o, "/status/nodeInfo/kubeletVersion").into(),
        or_none(&address("InternalIP")).into(),
        or_none(&address("ExternalIP")).into(),
        info("osImage").into(),
        info("kernelVersion").into(),
        info("containerRuntimeVersion").into(),
    ]
}

fn pod_cells(o: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let total = o.pointer("/spec/containers").and_then(Value::as_array).map_or(0, Vec::len);
    let statuses =
        o.pointer("/status/containerStatuses").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut reason = match text(o, "/status/reason") {
        "" => text(o, "/status/phase").to_string(),
        r => r.to_string(),
    };
    let (mut ready, mut restarts, mut running) = (0, 0, false);
    for c in statuses.iter().rev() {
        restarts += c["restartCount"].as_i64().unwrap_or(0);
        let waiting = c.pointer("/state/waiting/reason").and_then(Value::as_str).unwrap_or("");
        let terminated = c.pointer("/state/terminated");
        if !waiting.is_empty() {
            reason = waiting.into();
        } else if let Some(t) = terminated {
            reason = match (t["reason"].as_str(), t["signal"].as_i64()) {
                (Some(r), _) if !r.is_empty() => r.into(),
                (_, Some(sig)) if sig != 0 => format!("Signal:{sig}"),
                _ => format!("ExitCode:{}", t["exitCode"].as_i64().unwrap_or(0)),
            };
        } else if c["ready"] == true && c.pointer("/state/running").is_some() {
            running = true;
            ready += 1;
        }
    }
    if reason == "Completed" && running {
        reason = "Running".into();
    }
    if o.pointer("/metadata/deletionTimestamp").is_some() {
        reason = "Terminating".into();
    }
    vec![
        text(o, "/metadata/name").into(),
        format!("{ready}/{total}").into(),
        reason.into(),
        restarts.to_string().into(),
        age(o, now).into(),
        or_none(text(o, "/status/podIP")).into(),
        or_none(text(o, "/spec/nodeName")).into(),
        or_none(text(o, "/status/nominatedNodeName")).into(),
        "<none>".into(),
    ]
}

/// A Table of `objects` (their JSON) of kind `kind`, or `None` for a kind printed client-side.
/// `metadata`: the list's (resourceVersion, continue).
pub(crate) fn table(
    kind: usize,
    objects: &[&[u8]],
    metadata: Value,
    include: Include,
    now: DateTime<Utc>,
) -> Option<Value> {
    let cells: fn(&Value, DateTime<Utc>) -> Vec<Value> = match kind {
        NODES => node_cells,
        PODS => pod_cells,
        _ => return None,
    };
    let rows: Vec<Value> = objects
        .iter()
        .map(|bytes| {
            let o: Value = serde_json::from_slice(bytes).unwrap_or_default();
            let mut row = json!({"cells": cells(&o, now)});
            let object = match include {
                Include::None => None,
                Include::Object => Some(o),
                Include::Metadata => Some(json!({
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": o.get("metadata").cloned().unwrap_or_default(),
                })),
            };
            if let (Some(obj), Some(r)) = (object, row.as_object_mut()) {
                r.insert("object".into(), obj);
            }
            row
        })
        .collect();
    Some(json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": columns(kind),
        "rows": rows,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectls_accept_header_asks_for_a_table() {
        let kubectl = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert!(wanted(Some(kubectl)));
        assert!(!wanted(Some("application/json")));
        assert!(!wanted(Some("application/json;as=Table;v=v1beta1;g=meta.k8s.io")));
        assert!(!wanted(None));
    }

    #[test]
    fn durations_as_kubectl_prints_them() {
        for (s, want) in [
            (0, "0s"),
            (119, "119s"),
            (200, "3m20s"),
            (600, "10m"),
            (3 * 3600 + 60, "3h1m"),
            (8 * 3600, "8h"),
            (4 * 86_400 + 3 * 3600, "4d3h"),
            (120 * 86_400, "120d"),
            (740 * 86_400, "2y10d"),
            (9 * 365 * 86_400, "9y"),
        ] {
            assert_eq!(human_duration(s), want, "{s}");
        }
    }

    #[test]
    fn node_and_pod_cells() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T12:00:00Z").unwrap().with_timezone(&Utc);
        let node = json!({
            "metadata": {"name": "r1-n01", "creationTimestamp": "2026-11-30T12:00:00Z",
                         "labels": {"node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/infra": ""}},
            "spec": {"unschedulable": true},
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                       "addresses": [{"type": "InternalIP", "address": "10.1.2.2"}],
                       "nodeInfo": {"kubeletVersion": "v1.32.0", "osImage": "Ubuntu 24.04 LTS",
                                    "kernelVersion": "6.8.0", "containerRuntimeVersion": "containerd://1.7.24"}}
        });
        let cells = node_cells(&node, now);
        assert_eq!(
            cells,
            [
                "r1-n01",
                "Ready,SchedulingDisabled",
                "infra,worker",
                "7d",
                "v1.32.0",
                "10.1.2.2",
                "<none>",
                "Ubuntu 24.04 LTS",
                "6.8.0",
                "containerd://1.7.24"
            ]
        );
        let pod = json!({
            "metadata": {"name": "p", "creationTimestamp": "2026-12-07T11:59:00Z"},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}], "nodeName": "r1-n01"},
            "status": {"phase": "Running", "containerStatuses": [
                {"ready": true, "restartCount": 2, "state": {"running": {}}},
                {"ready": false, "restartCount": 1, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
            ]}
        });
        assert_eq!(
            pod_cells(&pod, now),
            ["p", "1/2", "CrashLoopBackOff", "3", "60s", "<none>", "r1-n01", "<none>", "<none>"]
        );
    }
}
