//! core/v1 Event objects in the shape the API serves them (a minimal `kubectl get events -o json`
//! from minikube, and a kind node's `NodeReady`: `tests/fixtures/upstream/kube/SOURCE.md`).

use serde_json::{Value, json};

use super::objects::ts;
use crate::detail::SimEvent;

/// The Event object of `e`; `uid` is the involved object's (the kubelet's node events name the
/// node by its name, as upstream's do).
pub(crate) fn event(e: &SimEvent, uid: &str) -> Value {
    let mut involved = json!({"kind": e.kind, "name": e.object, "uid": uid});
    if let Some(o) = involved.as_object_mut() {
        if !e.object_ns.is_empty() {
            o.insert("namespace".into(), e.object_ns.clone().into());
        }
        if e.kind == "Pod" {
            o.insert("apiVersion".into(), "v1".into());
        }
        if !e.field_path.is_empty() {
            o.insert("fieldPath".into(), e.field_path.clone().into());
        }
    }
    let mut source = json!({"component": e.component});
    if let (false, Some(o)) = (e.host.is_empty(), source.as_object_mut()) {
        o.insert("host".into(), e.host.clone().into());
    }
    json!({
        "kind": "Event", "apiVersion": "v1",
        "metadata": {"name": e.name, "namespace": e.namespace, "creationTimestamp": ts(e.first)},
        "involvedObject": involved,
        "reason": e.reason,
        "message": e.message,
        "source": source,
        "firstTimestamp": ts(e.first),
        "lastTimestamp": ts(e.last),
        "count": e.count,
        "type": e.typ,
        "eventTime": null,
        "reportingComponent": e.component,
        "reportingInstance": e.host,
    })
}
