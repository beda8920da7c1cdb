//! Pure mapping from Kubernetes objects to clustertop's model. No I/O: testable without a server.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Node as K8sNode;
use k8s_openapi::api::node::v1::RuntimeClass as K8sRuntimeClass;

use super::slim::{DEV_SHM, SlimCondition, SlimPod, SlimSpec};
use crate::model::NodeInfo;
use crate::model::{
    AddedCap, BatchRes, Cni, ConfiguredPeer, DevShm, Interner, Pod, RuntimeClass, RuntimeKind, SandboxAsks,
    Signal, SourceHealth,
};

/// Node annotations that carry CNI evidence (data-sources §7). Other annotations are dropped.
pub const NET_ANNOTATIONS: &[&str] = &[
    "flannel.alpha.coreos.com/backend-type",
    "flannel.alpha.coreos.com/backend-data",
    "flannel.alpha.coreos.com/public-ip",
    "flannel.alpha.coreos.com/kube-subnet-manager",
    "projectcalico.org/IPv4Address",
    "projectcalico.org/IPv4VXLANTunnelAddr",
    "projectcalico.org/IPv4IPIPTunnelAddr",
    "projectcalico.org/ASNumber",
    "network.cilium.io/ipv4-cilium-host",
];

/// The rack label used when the configured one is absent.
pub const FALLBACK_RACK_LABEL: &str = "clustertop.io/rack";
pub use crate::model::node::{TOR_A_LABEL, TOR_B_LABEL};
/// The Koordinator QoS label on pods.
pub const QOS_LABEL: &str = "koordinator.sh/qosClass";

/// The CNI whose agent a pod is, by its labels (data-sources §1.1). Canal runs flannel networking.
pub fn agent_cni(labels: &BTreeMap<String, String>) -> Option<Cni> {
    let get = |k: &str| labels.get(k).map(String::as_str);
    match (get("k8s-app"), get("app")) {
        (Some("cilium"), _) => Some(Cni::Cilium),
        (Some("calico-node"), _) => Some(Cni::Calico),
        (Some("canal"), _) | (_, Some("flannel")) => Some(Cni::Flannel),
        _ => None,
    }
}

/// The part of a Node object clustertop keeps.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodeObj {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// Only the `NET_ANNOTATIONS`, in that order.
    pub annotations: Vec<(String, String)>,
    pub ready: bool,
    /// `NetworkUnavailable=False` reason.
    pub net_reason: Option<String>,
    /// `metadata.creationTimestamp`.
    pub created: Option<chrono::DateTime<chrono::Utc>>,
    /// Koordinator's `kubernetes.io/batch-cpu` / `batch-memory` in `status.allocatable`.
    pub batch: Option<BatchRes>,
}

/// Koordinator's batch resources (`apis/extension/resource.go`): batch-cpu is in milli-cores (the
/// slo-controller writes `NewQuantity(milliCPU, DecimalSI)`, e.g. `38120` or `4k`), batch-memory in
/// bytes.
pub const BATCH_CPU: &str = "kubernetes.io/batch-cpu";
pub const BATCH_MEMORY: &str = "kubernetes.io/batch-memory";

/// The batch resources in a resource list; `None` when it has neither.
pub fn batch_res<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Option<BatchRes> {
    let q = |k: &str| get(k).and_then(quantity).map(|v| v.max(0.0).round() as u64);
    let (cpu, mem) = (q(BATCH_CPU), q(BATCH_MEMORY));
    (cpu.is_some() || mem.is_some())
        .then(|| BatchRes { cpu_m: cpu.unwrap_or(0), mem_bytes: mem.unwrap_or(0) })
}

pub fn node_obj(n: &K8sNode) -> NodeObj {
    let name = n.metadata.name.clone().unwrap_or_default();
    let labels = n.metadata.labels.clone().unwrap_or_default();
    let ann = n.metadata.annotations.as_ref();
    let annotations = NET_ANNOTATIONS
        .iter()
        .filter_map(|k| ann.and_then(|a| a.get(*k)).map(|v| (k.to_string(), v.clone())))
        .collect();
    let conds = n.status.as_ref().and_then(|s| s.conditions.as_ref());
    let cond = |t: &str| conds.and_then(|c| c.iter().find(|c| c.type_ == t));
    let ready = cond("Ready").is_some_and(|c| c.status == "True");
    let net_reason = cond("NetworkUnavailable")
        .filter(|c| c.status == "False")
        .and_then(|c| c.reason.clone())
        .filter(|r| !r.is_empty());
    let created = n
        .metadata
        .creation_timestamp
        .as_ref()
        .and_then(|t| chrono::DateTime::from_timestamp(t.0.as_second(), 0));
    let alloc = n.status.as_ref().and_then(|s| s.allocatable.as_ref());
    let batch = alloc.and_then(|a| batch_res(|k| a.get(k).map(|q| q.0.as_str())));
    NodeObj { name, labels, annotations, ready, net_reason, created, batch }
}

/// Everything else the API says about a node's networking.
#[derive(Debug, Clone, Default)]
pub struct NodeExtras {
    /// `AgentPod` signals of the Running agent pods on the node, sorted.
    pub agents: Vec<Signal>,
    pub cilium_node: bool,
    /// A CiliumBGPNodeConfig or BGP v1 policy configures the node: `Some(pod_routes)`, where
    /// `pod_routes` says whether it advertises pod routes (`None`: not known).
    pub bgp_config: Option<Option<bool>>,
    /// A BGP configuration kind that cannot be read (its scope).
    pub bgp_unreadable: Option<String>,
    /// The peers the node's BGP configuration names.
    pub bgp_peers: Option<Vec<ConfiguredPeer>>,
    /// Peer names of the node's BGP sessions.
    pub peers: Vec<String>,
}

pub fn node_info(n: &NodeObj, x: &NodeExtras, rack_label: &str) -> NodeInfo {
    let rack = n
        .labels
        .get(rack_label)
        .or_else(|| n.labels.get(FALLBACK_RACK_LABEL))
        .cloned()
        .unwrap_or_else(|| "?".into());
    let tors = match (n.labels.get(TOR_A_LABEL), n.labels.get(TOR_B_LABEL)) {
        (Some(a), Some(b)) => [a.clone(), b.clone()],
        _ => {
            let mut p: Vec<&String> = x.peers.iter().filter(|p| !p.is_empty()).collect();
            p.sort();
            p.dedup();
            let at = |i: usize| p.get(i).map(|s| s.to_string()).unwrap_or_else(|| "?".into());
            [at(0), at(1)]
        }
    };
    let mut signals = x.agents.clone();
    if let Some(reason) = &n.net_reason {
        signals.push(Signal::ConditionReason { reason: reason.clone() });
    }
    for (key, value) in &n.annotations {
        signals.push(Signal::Annotation { key: key.clone(), value: value.clone() });
    }
    if x.cilium_node {
        signals.push(Signal::CiliumNode);
    }
    match (x.bgp_config, &x.bgp_unreadable) {
        (Some(pod_routes), _) => signals.push(Signal::BgpNodeConfig { pod_routes }),
        (None, Some(resource)) => signals.push(Signal::BgpConfigUnreadable { resource: resource.clone() }),
        (None, None) => {}
    }
    NodeInfo {
        name: n.name.clone(),
        rack,
        tors,
        ready: n.ready,
        labels: n.labels.clone(),
        signals,
        bgp_peers: x.bgp_peers.clone(),
        created: n.created,
        batch_allocatable: n.batch,
    }
}

/// Koordinator's priority classes and their `spec.priority` bands (`apis/extension/priority.go`).
pub const KOORD_BANDS: &[(&str, std::ops::RangeInclusive<i32>)] = &[
    ("koord-prod", 9000..=9999),
    ("koord-mid", 7000..=7999),
    ("koord-batch", 5000..=5999),
    ("koord-free", 3000..=3999),
];
/// The Koordinator priority-class label on pods.
pub const KOORD_PRIORITY_LABEL: &str = "koordinator.sh/priority-class";

/// A pod's Koordinator priority class as Koordinator decides it: its `koordinator.sh/priority-
/// class` label, else the band its `spec.priority` falls in.
pub fn koord_class(labels: Option<&BTreeMap<String, String>>, priority: Option<i32>) -> Option<&str> {
    if let Some(c) = labels.and_then(|l| l.get(KOORD_PRIORITY_LABEL)) {
        return Some(c);
    }
    let p = priority?;
    KOORD_BANDS.iter().find(|(_, band)| band.contains(&p)).map(|(c, _)| *c)
}

/// Whether a pod is offline work: its priority class is one of the offline classes, or its
/// Koordinator class is, or its `koordinator.sh/qosClass` label is an offline QoS class.
pub fn is_offline(
    priority_class: Option<&str>,
    labels: Option<&BTreeMap<String, String>>,
    priority: Option<i32>,
    offline_priority_classes: &[String],
    offline_qos: &[String],
) -> bool {
    let pc = priority_class.filter(|s| !s.is_empty());
    let qos = labels.and_then(|l| l.get(QOS_LABEL));
    let is_offline_class = |c: &str| offline_priority_classes.iter().any(|o| o == c);
    pc.is_some_and(is_offline_class)
        || koord_class(labels, priority).is_some_and(is_offline_class)
        || qos.is_some_and(|q| offline_qos.contains(q))
}

/// A pod; offline when its priority class is one of the offline classes, or its Koordinator
/// class is (its `koordinator.sh/priority-class` label, else its `spec.priority` band), or its
/// `koordinator.sh/qosClass` label is an offline QoS class.
pub fn pod(
    p: &SlimPod,
    offline_priority_classes: &[String],
    offline_qos: &[String],
    interner: &mut Interner,
) -> Pod {
    let m = &p.metadata;
    let offline = is_offline(
        p.spec.priority_class_name.as_deref(),
        m.labels.as_ref(),
        p.spec.priority,
        offline_priority_classes,
        offline_qos,
    );
    let mut some = |s: &Option<String>| s.as_deref().filter(|s| !s.is_empty()).map(|s| interner.get(s));
    let (node, runtime_class, priority_class) =
        (some(&p.spec.node_name), some(&p.spec.runtime_class_name), some(&p.spec.priority_class_name));
    Pod {
        namespace: interner.get(m.namespace.as_deref().unwrap_or_default()),
        name: m.name.as_deref().unwrap_or_default().into(),
        node,
        runtime_class,
        priority_class,
        host_network: p.spec.host_network.unwrap_or(false),
        // Empty is unknown too: protobuf bodies carry an unset phase as "" (JSON omits it).
        phase: interner.get(p.status.phase.as_deref().filter(|s| !s.is_empty()).unwrap_or("Unknown")),
        offline,
        sandbox: sandbox_asks(&p.spec).boxed(),
        sandbox_start_s: sandbox_start_s(&p.status.conditions),
        batch: pod_batch(&p.spec).map(Box::new),
    }
}

/// Above this, a pod's `PodScheduled` to `PodReadyToStartContainers` is not a sandbox start: the
/// kubelet moves `PodReadyToStartContainers` whenever it recreates the sandbox (a node reboot, a
/// runtime restart), hours after the pod was scheduled.
pub const MAX_SANDBOX_START_S: i64 = 300;

/// Seconds from `PodScheduled` to `PodReadyToStartContainers` (the sandbox is up and its network
/// configured; Kubernetes 1.29+), both True; where the kubelet does not write
/// `PodReadyToStartContainers` at all, to `Initialized`. Whole seconds, as the condition times
/// are. `None` when a time is missing or unparsable, the sandbox is gone (`False`, a finished
/// pod), or the span is negative or above [`MAX_SANDBOX_START_S`].
pub fn sandbox_start_s(conditions: &[SlimCondition]) -> Option<u16> {
    let find = |t: &str| conditions.iter().find(|c| c.type_ == t);
    let at = |c: &SlimCondition| {
        (c.status == "True").then_some(())?;
        chrono::DateTime::parse_from_rfc3339(c.last_transition_time.as_deref()?).ok()
    };
    let scheduled = at(find("PodScheduled")?)?;
    let started = match find("PodReadyToStartContainers") {
        Some(c) => at(c)?,
        None => at(find("Initialized")?)?,
    };
    let secs = (started - scheduled).num_seconds();
    u16::try_from(secs).ok().filter(|s| i64::from(*s) <= MAX_SANDBOX_START_S)
}

/// The batch resources a pod requests, as the scheduler accounts a pod's requests
/// (`resource.PodRequests`): the app containers and the sidecars (init containers with
/// `restartPolicy: Always`) summed, or the largest one-off init container together with the
/// sidecars started before it, whichever is larger, per resource. `None` when no container asks
/// for any.
pub fn pod_batch(spec: &SlimSpec) -> Option<BatchRes> {
    let req = |c: &super::slim::SlimContainer| batch_res(|k| c.resources.requests.get(k).map(String::as_str));
    let mut any = false;
    let mut apps = BatchRes::default();
    for b in spec.containers.iter().filter_map(req) {
        any = true;
        apps.add(&b);
    }
    let (mut sidecars, mut init) = (BatchRes::default(), BatchRes::default());
    for c in &spec.init_containers {
        let b = req(c);
        any |= b.is_some();
        let b = b.unwrap_or_default();
        if c.restart_policy.as_deref() == Some("Always") {
            sidecars.add(&b);
            init = init.max(&sidecars);
        } else {
            let mut with = sidecars;
            with.add(&b);
            init = init.max(&with);
        }
    }
    apps.add(&sidecars);
    any.then(|| apps.max(&init))
}

/// What the spec asks that a sandbox gives differently (`analysis::rules::sandbox`).
pub fn sandbox_asks(spec: &SlimSpec) -> SandboxAsks {
    let shm_volume = spec
        .containers
        .iter()
        .chain(&spec.init_containers)
        .flat_map(|c| &c.volume_mounts)
        .find(|m| m.mount_path.trim_end_matches('/') == DEV_SHM)
        .map(|m| m.name.as_str());
    let dev_shm = shm_volume.and_then(|name| {
        let v = spec.volumes.iter().find(|v| v.name == name)?;
        let e = v.empty_dir.as_ref()?;
        Some(DevShm {
            volume: v.name.clone(),
            memory: e.medium.as_deref() == Some("Memory"),
            size_limit_bytes: e.size_limit.as_deref().and_then(mem_bytes),
        })
    });
    SandboxAsks {
        host_pid: spec.host_pid.unwrap_or(false),
        host_ipc: spec.host_ipc.unwrap_or(false),
        share_process_namespace: spec.share_process_namespace.unwrap_or(false),
        sysctls: spec.security_context.iter().flat_map(|s| &s.sysctls).map(|s| s.name.clone()).collect(),
        dev_shm,
        host_paths: spec.volumes.iter().filter_map(|v| Some(v.host_path.as_ref()?.path.clone())).collect(),
        init_caps: spec
            .init_containers
            .iter()
            .flat_map(|c| {
                let add = c.security_context.iter().flat_map(|s| s.capabilities.iter()).flat_map(|c| &c.add);
                add.map(|cap| AddedCap { container: c.name.clone(), capability: cap.clone() })
            })
            .collect(),
    }
}

pub fn runtime_class(rc: &K8sRuntimeClass) -> RuntimeClass {
    let fixed = rc.overhead.as_ref().and_then(|o| o.pod_fixed.as_ref());
    let q = |k: &str| fixed.and_then(|f| f.get(k)).map(|q| q.0.as_str());
    RuntimeClass {
        name: rc.metadata.name.clone().unwrap_or_default(),
        handler: rc.handler.clone(),
        kind: RuntimeKind::from_handler(&rc.handler),
        overhead_cpu_m: q("cpu").and_then(cpu_millis),
        overhead_mem_bytes: q("memory").and_then(mem_bytes),
        node_selector: rc.scheduling.as_ref().and_then(|s| s.node_selector.clone()).unwrap_or_default(),
        pods: None,
    }
}

/// A Kubernetes quantity in base units (`250m` = 0.25, `160Mi` = 167772160, `1e3` = 1000).
pub fn quantity(s: &str) -> Option<f64> {
    let s = s.trim();
    let split =
        s.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-')).unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        e if e.starts_with(['e', 'E']) => 10f64.powi(e[1..].parse::<i32>().ok()?),
        _ => return None,
    };
    let v = n * mult;
    (v.is_finite() && v >= 0.0).then_some(v)
}

pub fn cpu_millis(s: &str) -> Option<u64> {
    quantity(s).map(|v| (v * 1000.0).round() as u64)
}

pub fn mem_bytes(s: &str) -> Option<u64> {
    quantity(s).map(|v| v.round() as u64)
}

/// The health a kube client error means for `resource`, and its scope: API refusals (403) and
/// absences (404) belong to the resource; anything else is the connection (scope "").
pub fn api_error_health(e: &kube::Error, verb: &str, resource: &str) -> (String, SourceHealth) {
    match e {
        kube::Error::Api(s) if s.code == 403 => {
            (resource.into(), SourceHealth::Forbidden { verb: verb.into(), resource: resource.into() })
        }
        kube::Error::Api(s) if s.code == 404 => (resource.into(), SourceHealth::NotInstalled),
        kube::Error::Api(s) => {
            let retry = match retry_after_secs(s) {
                0 => String::new(),
                n => format!(" (retry after {n} s)"),
            };
            let error = one_line(&format!("{} {}: {}{retry}", s.code, s.reason, s.message));
            (resource.into(), SourceHealth::Unreachable { error })
        }
        kube::Error::Discovery(_) => (resource.into(), SourceHealth::NotInstalled),
        other => {
            (String::new(), SourceHealth::Unreachable { error: crate::sources::conn_error::describe(other) })
        }
    }
}

/// The health a watcher error means; `None` for errors the watcher recovers from by itself
/// (410 Gone: it relists).
pub fn watch_error_health(
    e: &kube::runtime::watcher::Error,
    resource: &str,
) -> Option<(String, SourceHealth)> {
    use kube::runtime::watcher::Error as W;
    match e {
        W::InitialListFailed(k) => Some(api_error_health(k, "list", resource)),
        W::WatchStartFailed(k) | W::WatchFailed(k) => Some(api_error_health(k, "watch", resource)),
        W::WatchError(s) if s.code == 410 => None,
        W::WatchError(s) => Some(api_error_health(&kube::Error::Api(s.clone()), "watch", resource)),
        W::NoResourceVersion => None,
    }
}

/// How long the server asked the client to wait before retrying (`details.retryAfterSeconds` of
/// a 429 or 503 Status); zero when it did not say.
pub fn retry_after(e: &kube::runtime::watcher::Error) -> std::time::Duration {
    use kube::runtime::watcher::Error as W;
    let status = match e {
        W::InitialListFailed(kube::Error::Api(s))
        | W::WatchStartFailed(kube::Error::Api(s))
        | W::WatchFailed(kube::Error::Api(s)) => Some(&**s),
        W::WatchError(s) => Some(&**s),
        _ => None,
    };
    std::time::Duration::from_secs(status.map_or(0, retry_after_secs).into())
}

/// `details.retryAfterSeconds` of a Status; zero when absent.
fn retry_after_secs(s: &kube::core::Status) -> u32 {
    s.details.as_ref().map_or(0, |d| d.retry_after_seconds)
}

/// Collapse whitespace so an error fits the status line.
pub fn one_line(s: &str) -> String {
    let t: Vec<&str> = s.split_whitespace().collect();
    let mut out = t.join(" ");
    if out.len() > 300 {
        let cut = (0..=300).rev().find(|i| out.is_char_boundary(*i)).unwrap_or(0);
        out.truncate(cut);
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pod spec from its JSON (only the fields the slim spec reads).
    fn spec(json: serde_json::Value) -> SlimSpec {
        serde_json::from_value(json).expect("spec")
    }

    fn ctr(name: &str, cpu: &str, restart: Option<&str>) -> serde_json::Value {
        let mut c = serde_json::json!({
            "name": name,
            "resources": { "requests": { "kubernetes.io/batch-cpu": cpu, "kubernetes.io/batch-memory": "1Gi" } }
        });
        if let Some(r) = restart {
            c["restartPolicy"] = r.into();
        }
        c
    }

    #[test]
    fn batch_requests_are_counted_as_the_scheduler_counts_a_pods_requests() {
        let res = |cpu_m, gib: u64| Some(BatchRes { cpu_m, mem_bytes: gib << 30 });
        // Two app containers: summed.
        let s = spec(serde_json::json!({ "containers": [ctr("a", "1000", None), ctr("b", "500", None)] }));
        assert_eq!(pod_batch(&s), res(1500, 2));
        // A one-off init container larger than the apps: the pod needs it while it runs.
        let s = spec(serde_json::json!({
            "initContainers": [ctr("setup", "4k", None)],
            "containers": [ctr("a", "1000", None), ctr("b", "500", None)]
        }));
        assert_eq!(pod_batch(&s), res(4000, 2));
        // A sidecar (restartPolicy Always) runs beside the apps, and beside the init containers
        // started after it.
        let s = spec(serde_json::json!({
            "initContainers": [ctr("proxy", "250", Some("Always")), ctr("setup", "2000", None)],
            "containers": [ctr("a", "1000", None)]
        }));
        assert_eq!(pod_batch(&s), res(2250, 2));
        // Nothing asked: unknown to the batch tier, not zero.
        assert_eq!(pod_batch(&spec(serde_json::json!({ "containers": [{ "name": "a" }] }))), None);
    }
}
