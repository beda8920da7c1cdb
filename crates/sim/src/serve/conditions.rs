//! A served pod's `status.conditions`, shaped as the kubelet writes them
//! (`pkg/kubelet/status/generate.go`; `tests/fixtures/upstream/kube/pod-*.json`): the five types
//! in the kubelet's order, each with `lastProbeTime: null`, `lastTransitionTime` in whole
//! seconds, and `reason` where the kubelet gives one.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::objects::ts;
use crate::model::Pod;

fn cond(kind: &str, ok: bool, at: DateTime<Utc>, reason: Option<&str>) -> Value {
    let mut c = json!({
        "lastProbeTime": null,
        "lastTransitionTime": ts(at),
        "status": if ok { "True" } else { "False" },
        "type": kind,
    });
    if let (Some(r), Some(o)) = (reason, c.as_object_mut()) {
        o.insert("reason".into(), r.into());
    }
    c
}

/// Scheduled at `created`; the sandbox ready `sandbox_start_s` later; the container ready a
/// second after that. Finished pods' sandboxes are gone (`PodReadyToStartContainers` False).
pub(crate) fn pod(p: &Pod, created: DateTime<Utc>) -> Value {
    if p.node.is_none() {
        return json!([cond("PodScheduled", false, created, Some("Unschedulable"))]);
    }
    let Some(start) = p.sandbox_start_s else {
        // Scheduled, the sandbox not up yet.
        return json!([
            cond("PodReadyToStartContainers", false, created, None),
            cond("Initialized", true, created, None),
            cond("Ready", false, created, Some("ContainersNotReady")),
            cond("ContainersReady", false, created, Some("ContainersNotReady")),
            cond("PodScheduled", true, created, None),
        ]);
    };
    let sandbox = created + Duration::seconds(i64::from(start));
    let ready = sandbox + Duration::seconds(1);
    let (running, end) = match &*p.phase {
        "Succeeded" => (false, Some("PodCompleted")),
        "Failed" => (false, Some("PodFailed")),
        "Running" => (true, None),
        _ => (false, Some("ContainersNotReady")),
    };
    let initialized_reason = (end == Some("PodCompleted")).then_some("PodCompleted");
    json!([
        cond("PodReadyToStartContainers", running || end == Some("ContainersNotReady"), sandbox, None),
        cond("Initialized", true, created, initialized_reason),
        cond("Ready", running, ready, end),
        cond("ContainersReady", running, ready, end),
        cond("PodScheduled", true, created, None),
    ])
}
