//! Kubernetes objects in their real JSON shapes (checked against the upstream corpus in
//! `tests/fixtures/upstream/`), built from the simulator's slim model. Builders leave
//! `metadata.resourceVersion` and `uid` to the store.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use crate::detail::PodFacts;
use crate::model::NodeInfo;
use crate::model::{BgpSession, BgpState, Cni, Pod, RuntimeClass, Signal};

pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A /24 per node index: `base` for the first 256, then a spill-over range in 100.64.0.0/10.
fn cidr24(base: &str, spill: u32, i: usize) -> String {
    if i < 256 {
        format!("{base}.{i}.0/24")
    } else {
        let hi = (spill as usize + i / 256) % 256;
        format!("100.{hi}.{}.0/24", i % 256)
    }
}

pub(crate) fn pod_cidr(i: usize) -> String {
    cidr24("10.244", 64, i)
}

fn cilium_cidr(i: usize) -> String {
    cidr24("10.0", 128, i)
}

/// Where a node sits: its index in the cluster and its 1-based position in its rack.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Place {
    pub index: usize,
    pub rack: u32,
    pub pos: usize,
}

pub(crate) fn internal_ip(place: Place) -> String {
    let third = 2 + place.pos / 250;
    format!("10.{}.{third}.{}", place.rack, place.pos % 250 + 1)
}

fn condition(kind: &str, status: &str, reason: &str, message: &str, at: &str) -> Value {
    json!({
        "type": kind, "status": status, "reason": reason, "message": message,
        "lastHeartbeatTime": at, "lastTransitionTime": at
    })
}

fn upstream_message(reason: &str) -> &'static str {
    match reason {
        "CiliumIsUp" => "Cilium is running on this node",
        "FlannelIsUp" => "Flannel is running on this node",
        "CalicoIsUp" => "Calico is running on this node",
        _ => "",
    }
}

/// The Node object of `info` as the API serves it at `now`; it was created when the node joined
/// (`info.created`, else `now`).
pub(crate) fn node(info: &NodeInfo, place: Place, now: DateTime<Utc>) -> (BTreeMap<String, String>, Value) {
    let mut labels = info.labels.clone();
    labels.insert("topology.kubernetes.io/zone".into(), info.rack.clone());
    labels.insert("clustertop.io/tor-a".into(), info.tors[0].clone());
    labels.insert("clustertop.io/tor-b".into(), info.tors[1].clone());
    let mut annotations = Map::new();
    let at = ts(now);
    let created = ts(info.created.unwrap_or(now));
    let mut conditions = Vec::new();
    for s in &info.signals {
        match s {
            Signal::Annotation { key, value } => {
                annotations.insert(key.clone(), value.clone().into());
            }
            Signal::ConditionReason { reason } => conditions.push(condition(
                "NetworkUnavailable",
                "False",
                reason,
                upstream_message(reason),
                &at,
            )),
            _ => {}
        }
    }
    conditions.push(if info.ready {
        condition("Ready", "True", "KubeletReady", "kubelet is posting ready status", &at)
    } else {
        condition("Ready", "False", "KubeletNotReady", "container runtime is down", &at)
    });
    let cidr = pod_cidr(place.index);
    let resources = json!({
        "cpu": "64", "memory": "256Gi", "pods": "110", "ephemeral-storage": "1760Gi",
        "kubernetes.io/batch-cpu": "24000", "kubernetes.io/batch-memory": "96Gi"
    });
    let value = json!({
        "kind": "Node", "apiVersion": "v1",
        "metadata": {
            "name": info.name, "creationTimestamp": created, "labels": labels, "annotations": annotations
        },
        "spec": {"podCIDR": cidr, "podCIDRs": [cidr]},
        "status": {
            "conditions": conditions,
            "addresses": [
                {"type": "InternalIP", "address": internal_ip(place)},
                {"type": "Hostname", "address": info.name}
            ],
            "capacity": resources, "allocatable": resources,
            "nodeInfo": {
                "kubeletVersion": "v1.32.0", "kubeProxyVersion": "v1.32.0", "osImage": "Ubuntu 24.04 LTS",
                "kernelVersion": "6.8.0-49-generic", "containerRuntimeVersion": "containerd://1.7.24",
                "operatingSystem": "linux", "architecture": "amd64"
            }
        }
    });
    (labels, value)
}

/// Labels of a pod: CNI agent labels when `agent` is set, the QoS label for offline work.
pub(crate) fn pod_labels(p: &Pod, agent: Option<Cni>) -> BTreeMap<String, String> {
    let mut l = BTreeMap::new();
    let mut put = |k: &str, v: &str| {
        l.insert(k.to_string(), v.to_string());
    };
    match agent {
        Some(Cni::Cilium) => {
            put("k8s-app", "cilium");
            put("app.kubernetes.io/name", "cilium-agent");
        }
        Some(Cni::Flannel) => {
            put("app", "flannel");
            put("tier", "node");
        }
        Some(Cni::Calico) => put("k8s-app", "calico-node"),
        None if p.name.starts_with("kube-proxy-") => put("k8s-app", "kube-proxy"),
        None if p.name.starts_with("node-exporter-") => put("app.kubernetes.io/name", "node-exporter"),
        None => {}
    }
    if p.offline {
        put("koordinator.sh/qosClass", "BE");
    }
    l
}

/// The Pod object of `p`: created at `facts.created`, its container asking `facts`' requests and
/// restarted `facts.restarts` times.
pub(crate) fn pod(p: &Pod, labels: &BTreeMap<String, String>, facts: &PodFacts) -> Value {
    let created = facts.created;
    let mut spec = Map::new();
    if let Some(n) = &p.node {
        spec.insert("nodeName".into(), n.to_string().into());
    }
    if let Some(rc) = &p.runtime_class {
        spec.insert("runtimeClassName".into(), rc.to_string().into());
    }
    if let Some(pc) = &p.priority_class {
        spec.insert("priorityClassName".into(), pc.to_string().into());
    }
    if p.host_network {
        spec.insert("hostNetwork".into(), true.into());
    }
    let container = p.name.split('-').next().unwrap_or("main");
    let mut c = json!({"name": container, "image": format!("registry.local/{container}:1")});
    let mut requests = Map::new();
    if let Some(m) = facts.cpu_m {
        requests.insert("cpu".into(), format!("{m}m").into());
    }
    if let Some(b) = facts.mem_bytes {
        requests.insert("memory".into(), quantity_mem(b).into());
    }
    if let (false, Some(o)) = (requests.is_empty(), c.as_object_mut()) {
        o.insert("resources".into(), json!({"requests": requests}));
    }
    spec.insert("containers".into(), json!([c]));
    // The container's state as the kubelet reports it, so `kubectl get pods` reads 1/1 Running,
    // 0/1 Completed or Error.
    let state = match p.phase.as_ref() {
        "Running" => json!({"running": {"startedAt": ts(created)}}),
        "Succeeded" => json!({"terminated": {"reason": "Completed", "exitCode": 0}}),
        "Failed" => json!({"terminated": {"reason": "Error", "exitCode": 1}}),
        _ => json!({"waiting": {"reason": "ContainerCreating"}}),
    };
    let ready = p.phase.as_ref() == "Running";
    json!({
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": p.name, "namespace": p.namespace, "creationTimestamp": ts(created), "labels": labels},
        "spec": spec,
        "status": {"phase": p.phase, "conditions": super::conditions::pod(p, created), "containerStatuses": [
            {"name": container, "ready": ready, "restartCount": facts.restarts, "state": state}
        ]}
    })
}

fn quantity_mem(bytes: u64) -> String {
    const MI: u64 = 1024 * 1024;
    if bytes > 0 && bytes.is_multiple_of(MI) { format!("{}Mi", bytes / MI) } else { bytes.to_string() }
}

pub(crate) fn runtime_class(rc: &RuntimeClass, created: DateTime<Utc>) -> Value {
    let mut v = json!({
        "kind": "RuntimeClass", "apiVersion": "node.k8s.io/v1",
        "metadata": {"name": rc.name, "creationTimestamp": ts(created)},
        "handler": rc.handler,
    });
    if let Some(o) = v.as_object_mut() {
        if rc.overhead_cpu_m.is_some() || rc.overhead_mem_bytes.is_some() {
            let mut fixed = Map::new();
            if let Some(c) = rc.overhead_cpu_m {
                fixed.insert("cpu".into(), format!("{c}m").into());
            }
            if let Some(m) = rc.overhead_mem_bytes {
                fixed.insert("memory".into(), quantity_mem(m).into());
            }
            o.insert("overhead".into(), json!({"podFixed": fixed}));
        }
        if !rc.node_selector.is_empty() {
            o.insert("scheduling".into(), json!({"nodeSelector": rc.node_selector}));
        }
    }
    v
}

pub(crate) fn cilium_node(name: &str, place: Place, created: DateTime<Utc>) -> Value {
    let cidr = cilium_cidr(place.index);
    let router = cidr.trim_end_matches("0/24").to_string() + "1";
    json!({
        "kind": "CiliumNode", "apiVersion": "cilium.io/v2",
        "metadata": {"name": name, "creationTimestamp": ts(created)},
        "spec": {
            "addresses": [
                {"type": "InternalIP", "ip": internal_ip(place)},
                {"type": "CiliumInternalIP", "ip": router}
            ],
            "ipam": {"podCIDRs": [cidr]}
        }
    })
}

fn peer_status(s: &BgpSession) -> Value {
    let mut p = json!({
        "name": s.peer, "peerAddress": s.peer_addr, "peerASN": s.peer_asn, "peeringState": s.state.label(),
        "routeCount": [{
            "afi": "ipv4", "safi": "unicast",
            "received": s.routes_received.unwrap_or(0), "advertised": s.routes_advertised.unwrap_or(0)
        }]
    });
    if let Some(o) = p.as_object_mut() {
        if s.state == BgpState::Established
            && let Some(since) = s.since
        {
            o.insert("establishedTime".into(), ts(since).into());
        }
        if let (Some(h), Some(k)) = (s.hold_time_s, s.keepalive_s) {
            o.insert("timers".into(), json!({"appliedHoldTimeSeconds": h, "appliedKeepaliveSeconds": k}));
        }
    }
    p
}

pub(crate) fn bgp_node_config(node: &str, sessions: &[BgpSession], created: DateTime<Utc>) -> Value {
    let asn = sessions.first().map(|s| s.local_asn).unwrap_or(super::super::bgp::LOCAL_ASN);
    let name = format!("instance-{asn}");
    let spec_peers: Vec<Value> = sessions
        .iter()
        .map(|s| {
            json!({"name": s.peer, "peerAddress": s.peer_addr, "peerASN": s.peer_asn,
                   "peerConfigRef": {"name": PEER_CONFIG}})
        })
        .collect();
    let status_peers: Vec<Value> = sessions.iter().map(peer_status).collect();
    json!({
        "kind": "CiliumBGPNodeConfig", "apiVersion": "cilium.io/v2",
        "metadata": {"name": node, "creationTimestamp": ts(created)},
        "spec": {"bgpInstances": [{"name": name, "localASN": asn, "peers": spec_peers}]},
        "status": {"bgpInstances": [{"name": name, "localASN": asn, "peers": status_peers}]}
    })
}

/// The one CiliumBGPPeerConfig every simulated BGP node's peers name, as Cilium's docs write it:
/// the pod CIDR advertised to the TORs (`advertise: pod-cidr`).
pub(crate) const PEER_CONFIG: &str = "tor-pod-cidr";

pub(crate) fn bgp_peer_config(created: DateTime<Utc>) -> Value {
    json!({
        "apiVersion": "cilium.io/v2", "kind": "CiliumBGPPeerConfig",
        "metadata": {"name": PEER_CONFIG, "creationTimestamp": ts(created), "generation": 1},
        "spec": {
            "ebgpMultihop": 1,
            "families": [{"afi": "ipv4", "safi": "unicast",
                          "advertisements": {"matchLabels": {"advertise": "pod-cidr"}}}],
            "gracefulRestart": {"enabled": true, "restartTimeSeconds": 120},
            "timers": {"connectRetryTimeSeconds": 5, "holdTimeSeconds": 9, "keepAliveTimeSeconds": 3}
        }
    })
}

pub(crate) fn bgp_advertisement(created: DateTime<Utc>) -> Value {
    json!({
        "apiVersion": "cilium.io/v2", "kind": "CiliumBGPAdvertisement",
        "metadata": {"name": "pod-cidr", "labels": {"advertise": "pod-cidr"},
                     "creationTimestamp": ts(created), "generation": 1},
        "spec": {"advertisements": [{"advertisementType": "PodCIDR"}]}
    })
}
