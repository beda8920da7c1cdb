//! What a node's detail shows beyond the slim pods: each pod's requests, restarts and age, and the
//! Kubernetes Events of the node and its pods. Derived from names and the moment a pod or node
//! appeared, so `sim serve` (as API objects) and the demo (answered in-process) tell the same.
//!
//! Shapes and wording follow what the kubelet, the scheduler and the node lifecycle controller
//! record (a minikube `kubectl get events -o json` and a kind node's events: see
//! `tests/fixtures/upstream/kube/SOURCE.md`). Events exist for an hour in a real cluster, so only
//! pods that started recently carry their start events; pods that restart carry a `BackOff`
//! warning, pending pods a `FailedMount`, and nodes that are not ready `NodeNotReady` and the
//! kubelet's `ContainerGCFailed`.

use chrono::{DateTime, Duration, Utc};

use crate::model::Pod;

/// A pod's requests (summed over containers), restarts and creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodFacts {
    /// CPU request in millicores; `None`: no request (BestEffort).
    pub cpu_m: Option<u64>,
    pub mem_bytes: Option<u64>,
    pub restarts: u32,
    pub created: DateTime<Utc>,
}

/// One core/v1 Event, with the fields a node's detail reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimEvent {
    /// `metadata.namespace` (the involved pod's; `default` for nodes, as the kubelet writes them).
    pub namespace: String,
    /// `metadata.name`: `<object>.<16 hex digits>`.
    pub name: String,
    /// `involvedObject.kind`: `Pod` or `Node`.
    pub kind: &'static str,
    /// `involvedObject.namespace` (empty for nodes) and `.name`.
    pub object_ns: String,
    pub object: String,
    /// `involvedObject.fieldPath` (`spec.containers{name}`), empty when none.
    pub field_path: String,
    /// `Normal` or `Warning`.
    pub typ: &'static str,
    pub reason: &'static str,
    pub message: String,
    /// `source.component` / `reportingComponent`, and `source.host` (empty when none).
    pub component: &'static str,
    pub host: String,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    pub count: u32,
}

/// FNV-1a of a pod's or node's key, for stable per-object choices.
fn hash(parts: &[&str]) -> u64 {
    let mut x: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(b'/')) {
            x ^= u64::from(b);
            x = x.wrapping_mul(0x100_0000_01b3);
        }
    }
    x
}

const MI: u64 = 1024 * 1024;
const CPU_M: [u64; 6] = [100, 250, 500, 1000, 2000, 4000];
const MEM: [u64; 6] = [128 * MI, 256 * MI, 512 * MI, 1024 * MI, 2048 * MI, 4096 * MI];
/// Events older than this are gone (the API server's default `--event-ttl`).
pub const EVENT_TTL_S: i64 = 3600;

fn container(p: &Pod) -> &str {
    p.name.split('-').next().unwrap_or("main")
}

/// When and how a pod appeared: at `seen` (the server's or the demo's clock); `fresh` when it was
/// created then (churn), not found running when the simulation started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub at: DateTime<Utc>,
    pub fresh: bool,
}

/// A pod's facts.
pub fn pod_facts(p: &Pod, seen: Seen) -> PodFacts {
    let h = hash(&[&p.namespace, &p.name]);
    let requests = !h.is_multiple_of(10);
    // Fresh pods a few seconds before; of the others one in eight started within the hour, the
    // rest days ago.
    let age_s = if seen.fresh {
        5 + (h >> 16) % 55
    } else if (h >> 8).is_multiple_of(8) {
        60 + (h >> 16) % 3000
    } else {
        86_400 + (h >> 16) % (40 * 86_400)
    };
    // A crash-looping container restarts at most about once a minute once its back-off grows.
    let most = 1 + age_s / 60;
    let restarts = if (h >> 12).is_multiple_of(16) { (1 + (h >> 20) % 30).min(most) as u32 } else { 0 };
    PodFacts {
        cpu_m: requests.then(|| CPU_M[((h >> 24) % 6) as usize]),
        mem_bytes: requests.then(|| MEM[((h >> 28) % 6) as usize]),
        restarts: if p.phase.as_ref() == "Succeeded" { 0 } else { restarts },
        created: seen.at - Duration::seconds(age_s as i64),
    }
}

/// The event name the recorder gives: the object's name and a hex timestamp-like suffix.
fn event_name(object: &str, reason: &str) -> String {
    format!("{object}.{:016x}", hash(&[object, reason]) >> 4)
}

/// The events of a pod, oldest first, as they stand at `seen.at`.
pub fn pod_events(p: &Pod, seen: Seen) -> Vec<SimEvent> {
    let facts = pod_facts(p, seen);
    let now = seen.at;
    let Some(node) = p.node.as_deref() else { return Vec::new() };
    let c = container(p);
    let image = format!("registry.local/{c}:1");
    let t = facts.created;
    let ev =
        |reason: &'static str, typ: &'static str, component: &'static str, msg: String, at: i64| SimEvent {
            namespace: p.namespace.to_string(),
            name: event_name(&p.name, reason),
            kind: "Pod",
            object_ns: p.namespace.to_string(),
            object: p.name.to_string(),
            field_path: if component == "kubelet" {
                format!("spec.containers{{{c}}}")
            } else {
                String::new()
            },
            typ,
            reason,
            message: msg,
            component,
            host: if component == "kubelet" { node.to_string() } else { String::new() },
            first: t + Duration::seconds(at),
            last: t + Duration::seconds(at),
            count: 1,
        };
    let mut out = Vec::new();
    let recent = (now - t).num_seconds() < EVENT_TTL_S;
    let oldest = now - Duration::seconds(EVENT_TTL_S - 60);
    if recent {
        let msg = format!("Successfully assigned {}/{} to {node}", p.namespace, p.name);
        out.push(ev("Scheduled", "Normal", "default-scheduler", msg, 0));
    }
    if p.phase.as_ref() == "Pending" {
        let mut e = ev(
            "FailedMount",
            "Warning",
            "kubelet",
            format!("MountVolume.SetUp failed for volume \"config\" : configmap \"{c}-config\" not found"),
            2,
        );
        e.field_path.clear();
        e.count = 1 + (hash(&[&p.name, "mount"]) % 12) as u32;
        e.first = e.first.max(oldest);
        e.last = (now - Duration::seconds(5)).max(e.first);
        out.push(e);
        return out;
    }
    if recent {
        let pulled = format!("Container image \"{image}\" already present on machine");
        out.push(ev("Pulled", "Normal", "kubelet", pulled, 1));
        out.push(ev("Created", "Normal", "kubelet", format!("Created container {c}"), 2));
        out.push(ev("Started", "Normal", "kubelet", format!("Started container {c}"), 3));
    }
    if facts.restarts > 0 {
        let uid = format!("{:08x}", hash(&[&p.namespace, &p.name, "uid"]) >> 32);
        let msg =
            format!("Back-off restarting failed container {c} in pod {}_{}({uid})", p.name, p.namespace);
        let mut e = ev("BackOff", "Warning", "kubelet", msg, 60);
        e.count = facts.restarts;
        e.first = e.first.max(oldest).min(now);
        e.last = (now - Duration::seconds(10 + (hash(&[&p.name, "backoff"]) % 300) as i64)).max(e.first);
        out.push(e);
    }
    out
}

/// The events of a node that (re)appeared at `seen`: a node that is not ready has the node
/// lifecycle controller's `NodeNotReady` and the kubelet's warning about its container runtime.
pub fn node_events(name: &str, ready: bool, seen: DateTime<Utc>) -> Vec<SimEvent> {
    if ready {
        return Vec::new();
    }
    let n = name;
    let ev = |reason: &'static str, typ: &'static str, component: &'static str, msg: String, host: &str| {
        SimEvent {
            namespace: "default".into(),
            name: event_name(n, reason),
            kind: "Node",
            object_ns: String::new(),
            object: n.to_string(),
            field_path: String::new(),
            typ,
            reason,
            message: msg,
            component,
            host: host.to_string(),
            first: seen - Duration::seconds(240),
            last: seen - Duration::seconds(240),
            count: 1,
        }
    };
    let not_ready = format!("Node {n} status is now: NodeNotReady");
    let mut gc = ev(
        "ContainerGCFailed",
        "Warning",
        "kubelet",
        "rpc error: code = Unavailable desc = connection error: desc = \"transport: Error while dialing: dial unix /run/containerd/containerd.sock: connect: connection refused\"".into(),
        n,
    );
    gc.count = 4;
    gc.last = seen - Duration::seconds(60);
    vec![ev("NodeNotReady", "Normal", "node-controller", not_ready, ""), gc]
}

#[cfg(test)]
mod tests {
    use super::*;
    use clustertop_core::testkit::T0;

    fn pod(name: &str, phase: &str) -> Pod {
        let mut p = crate::pods::pod("shop", name.into(), "r1-n01");
        p.phase = phase.into();
        p
    }

    #[test]
    fn facts_and_events_are_stable_and_bounded() {
        let pods: Vec<Pod> = (0..400).map(|i| pod(&format!("cart-5d4f8b7c9-{i:05}"), "Running")).collect();
        let seen = Seen { at: T0, fresh: false };
        let events: Vec<SimEvent> = pods.iter().flat_map(|p| pod_events(p, seen)).collect();
        assert_eq!(pod_events(&pods[3], seen), pod_events(&pods[3], seen));
        // Some pods started within the hour, some restart; most carry no events at all.
        assert!(events.iter().any(|e| e.reason == "Started"));
        let backoff: Vec<&SimEvent> = events.iter().filter(|e| e.reason == "BackOff").collect();
        assert!(!backoff.is_empty() && backoff.iter().all(|e| e.typ == "Warning" && e.count > 0));
        let with_events = pods.iter().filter(|p| !pod_events(p, seen).is_empty()).count();
        assert!(with_events < pods.len() / 3, "{with_events} of {}", pods.len());
        // Every event is within the TTL, and last is never before first.
        assert!(events.iter().all(|e| e.last >= e.first && (T0 - e.first).num_seconds() <= EVENT_TTL_S));
        let pending = pod_events(&pod("cart-x", "Pending"), Seen { at: T0, fresh: true });
        assert_eq!(pending.iter().map(|e| e.reason).collect::<Vec<_>>(), ["Scheduled", "FailedMount"]);
        let f = pod_facts(&pods[0], Seen { at: T0, fresh: true });
        assert!(f.created < T0 && (T0 - f.created).num_seconds() < 60);
    }
}
