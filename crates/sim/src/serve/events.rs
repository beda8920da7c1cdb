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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detail::{Seen, node_events, pod_events};
    use clustertop_core::testkit::T0;
    use std::collections::BTreeSet;

    fn keys(v: &Value, at: &str) -> BTreeSet<String> {
        v.pointer(at).and_then(Value::as_object).map(|o| o.keys().cloned().collect()).unwrap_or_default()
    }

    /// The served events carry the fields upstream's do, at the top, in `involvedObject` and in
    /// `source` (`tests/fixtures/upstream/kube/events-node-and-pod.json`).
    #[test]
    fn events_have_upstreams_fields() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/upstream/kube/events-node-and-pod.json"
        );
        let upstream: Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
        let items = upstream["items"].as_array().expect("items");
        let (pod_kubelet, node_kubelet) = (&items[1], &items[3]);
        let mut p = crate::pods::pod("shop", "cart-5d4f8b7c9-abcde".into(), "r1-n01");
        p.phase = "Pending".into();
        let pod = pod_events(&p, Seen { at: T0, fresh: true });
        let ours = event(pod.iter().find(|e| e.reason == "Scheduled").expect("scheduled"), "uid");
        let mut top = keys(pod_kubelet, "");
        top.remove("metadata");
        let mut mine = keys(&ours, "");
        mine.remove("metadata");
        mine.remove("kind");
        mine.remove("apiVersion");
        assert_eq!(mine, top);
        let kubelet = pod_events(
            &crate::pods::pod("shop", "cart-5d4f8b7c9-abcde".into(), "r1-n01"),
            Seen { at: T0, fresh: true },
        );
        let pulled = event(kubelet.iter().find(|e| e.reason == "Pulled").expect("pulled"), "uid");
        for at in ["/involvedObject", "/source"] {
            let want: BTreeSet<String> =
                keys(pod_kubelet, at).into_iter().filter(|k| k != "resourceVersion").collect();
            assert_eq!(keys(&pulled, at), want, "{at}");
        }
        let node = node_events("r1-n01", false, T0);
        let gc = event(node.iter().find(|e| e.component == "kubelet").expect("kubelet's"), "r1-n01");
        assert_eq!(keys(&gc, "/involvedObject"), keys(node_kubelet, "/involvedObject"));
        assert_eq!(gc["involvedObject"]["uid"], "r1-n01", "the kubelet names its node by name");
        assert_eq!(gc["metadata"]["namespace"], "default");
    }
}
