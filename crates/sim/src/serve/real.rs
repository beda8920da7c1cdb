//! Realistic object bodies (the default; `--slim` serves the bare shapes of `objects.rs`): the
//! `managedFields`, environment, probes, volumes, tolerations, affinity, owner references and
//! statuses real pods and nodes carry, so a client pays for the bytes a real API server sends
//! (a pod 9-14 KB of JSON, 11.6 KB on average; a node about 7 KB).
//!
//! Shapes follow the upstream-shaped objects in `tests/fixtures/upstream/kube/` (see
//! `tests/fixtures/upstream/kubernetes/SOURCE.md` for where each part comes from). None of the
//! added fields is one clustertop's model reads: the slim and realistic bodies of a cluster
//! decode to the same model.
//!
//! Cheap at 150,000 pods: the large parts that are the same for every pod of a kind (managed
//! fields, env, probes, volumes…) are serialised once into a shared blob, and a stored object
//! holds a marker key `"\u0001<id>":null` in their place, expanded as the body is written. Only
//! the small per-object parts (owner, IPs, container ID) are stored per object.

use std::collections::{BTreeMap, HashMap};
use std::sync::{LazyLock, RwLock};

use axum::body::Bytes;
use serde_json::{Map, Value, json};

use crate::model::Pod;

/// The escaped form of the marker key's first character, as serde_json writes it.
const MARK: &[u8] = b"\\u0001";
const NULL: &[u8] = b":null";

#[derive(Default)]
struct Registry {
    ids: HashMap<String, usize>,
    blobs: Vec<Bytes>,
}

static REGISTRY: LazyLock<RwLock<Registry>> = LazyLock::new(Default::default);

/// The marker key of the blob `key` (the members of the object `make` returns, serialised once).
fn marker(key: &str, make: impl FnOnce() -> Value) -> String {
    let id = {
        let r = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
        r.ids.get(key).copied()
    };
    let id = id.unwrap_or_else(|| {
        let mut r = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
        if let Some(id) = r.ids.get(key) {
            return *id;
        }
        let text = serde_json::to_vec(&make()).unwrap_or_default();
        // `{...}` without its braces: the members, spliced where the marker stood.
        let inner = text.get(1..text.len().saturating_sub(1)).unwrap_or_default();
        let id = r.blobs.len();
        let members: &[u8] = if inner.is_empty() { b"\"-\":null" } else { inner };
        r.blobs.push(Bytes::copy_from_slice(members));
        r.ids.insert(key.to_string(), id);
        id
    });
    format!("\u{1}{id}")
}

fn put_marker(obj: &mut Value, key: &str, make: impl FnOnce() -> Value) {
    if let Some(o) = obj.as_object_mut() {
        o.insert(marker(key, make), Value::Null);
    }
}

/// The members of blob `id` (JSON text without braces), for the protobuf encoder (`proto.rs`),
/// which encodes each blob once.
pub(crate) fn blob(id: usize) -> Option<Bytes> {
    REGISTRY.read().unwrap_or_else(|e| e.into_inner()).blobs.get(id).cloned()
}

/// The blob id of a marker key (`\u{1}<id>`), as a decoded JSON key.
pub(crate) fn marker_id(key: &str) -> Option<usize> {
    key.strip_prefix('\u{1}')?.parse().ok()
}

/// Where the next marker starts in `json` (its opening quote), its blob id and its end.
fn next_marker(json: &[u8], from: usize) -> Option<(usize, usize, usize)> {
    let mut i = from;
    while let Some(off) = json.get(i..)?.iter().position(|&b| b == b'\\') {
        let at = i + off;
        if json[at..].starts_with(MARK) && at > 0 && json[at - 1] == b'"' {
            let digits = &json[at + MARK.len()..];
            let n = digits.iter().take_while(|b| b.is_ascii_digit()).count();
            let rest = &digits[n..];
            if n > 0 && rest.first() == Some(&b'"') && rest[1..].starts_with(NULL) {
                let id = std::str::from_utf8(&digits[..n]).ok()?.parse().ok()?;
                return Some((at - 1, id, at + MARK.len() + n + 1 + NULL.len()));
            }
        }
        i = at + 2;
    }
    None
}

/// Append the served body of a stored object to `out`: its markers replaced by their blobs.
pub(crate) fn write(json: &[u8], out: &mut Vec<u8>) {
    let Some(first) = next_marker(json, 0) else {
        out.extend_from_slice(json);
        return;
    };
    let r = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    let mut at = 0;
    let mut m = Some(first);
    while let Some((start, id, end)) = m {
        out.extend_from_slice(&json[at..start]);
        match r.blobs.get(id) {
            Some(b) => out.extend_from_slice(b),
            None => out.extend_from_slice(b"\"-\":null"),
        }
        at = end;
        m = next_marker(json, end);
    }
    out.extend_from_slice(&json[at..]);
}

/// The served body of a stored object.
pub(crate) fn body(json: &Bytes) -> Bytes {
    if next_marker(json, 0).is_none() {
        return json.clone();
    }
    let mut out = Vec::with_capacity(json.len() * 8);
    write(json, &mut out);
    Bytes::from(out)
}

/// FNV-1a of `parts`, for stable per-object identifiers (container IDs, UIDs, variants).
fn hash(parts: &[&str]) -> u64 {
    seeded(parts, 0)
}

fn seeded(parts: &[&str], seed: u64) -> u64 {
    let mut x: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for p in parts {
        for b in p.bytes().chain([0]) {
            x ^= u64::from(b);
            x = x.wrapping_mul(0x100_0000_01b3);
        }
    }
    x
}

fn uuid(parts: &[&str]) -> String {
    let (a, b) = (seeded(parts, 0), seeded(parts, 1));
    format!(
        "{:08x}-{:04x}-5{:03x}-9{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

fn hex64(parts: &[&str]) -> String {
    (0..4).map(|i| format!("{:016x}", seeded(parts, 2 + i))).collect()
}

/// What owns a pod: (kind, apiVersion, owner name, template hash label).
fn owner(p: &Pod, agent: bool) -> (&'static str, &'static str, String) {
    let name = &*p.name;
    let base = name.rsplit_once('-').map(|(b, _)| b).unwrap_or(name).to_string();
    if agent || name.starts_with("kube-proxy-") || name.starts_with("node-exporter-") {
        ("DaemonSet", "apps/v1", base)
    } else if matches!(&*p.phase, "Succeeded" | "Failed") {
        ("Job", "batch/v1", base)
    } else {
        let rs = format!("{base}-{:x}", hash(&[&p.namespace, &base]) & 0xff_ffff_ffff);
        ("ReplicaSet", "apps/v1", rs)
    }
}

/// The environment of a container: `n` variables, as Deployments write them (plain values, the
/// downward API, ConfigMap and Secret references, a resource field).
fn env(app: &str, n: usize) -> Value {
    let field = |name: &str, path: &str| json!({"name": name, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}});
    let mut v = vec![
        field("POD_NAME", "metadata.name"),
        field("POD_NAMESPACE", "metadata.namespace"),
        field("NODE_NAME", "spec.nodeName"),
        field("POD_IP", "status.podIP"),
        json!({"name": "GOMAXPROCS", "valueFrom": {"resourceFieldRef": {"divisor": "0", "resource": "limits.cpu"}}}),
        json!({"name": "GOMEMLIMIT", "valueFrom": {"resourceFieldRef": {"divisor": "0", "resource": "limits.memory"}}}),
    ];
    let upper = app.to_uppercase().replace('-', "_");
    let mut i = 0;
    while v.len() < n {
        let e = match i % 5 {
            0 => json!({"name": format!("{upper}_DATABASE_URL_{i}"),
                        "value": format!("postgres://{app}-db-{i}.{app}.svc.cluster.local:5432/{app}?sslmode=verify-full")}),
            1 => json!({"name": format!("{upper}_CACHE_ENDPOINT_{i}"),
                        "value": format!("redis://{app}-cache.{app}.svc.cluster.local:6379/{i}")}),
            2 => json!({"name": format!("{upper}_API_TOKEN_{i}"),
                        "valueFrom": {"secretKeyRef": {"key": "token", "name": format!("{app}-credentials-{i}")}}}),
            3 => json!({"name": format!("{upper}_FEATURE_FLAGS_{i}"),
                        "valueFrom": {"configMapKeyRef": {"key": "flags", "name": format!("{app}-config")}}}),
            _ => json!({"name": format!("OTEL_EXPORTER_OTLP_ENDPOINT_{i}"),
                        "value": "http://otel-collector.observability.svc.cluster.local:4317"}),
        };
        v.push(e);
        i += 1;
    }
    Value::Array(v)
}

fn probe(path: &str, port: u16, initial: u32, period: u32) -> Value {
    json!({
        "failureThreshold": 3,
        "httpGet": {"path": path, "port": port, "scheme": "HTTP"},
        "initialDelaySeconds": initial, "periodSeconds": period, "successThreshold": 1, "timeoutSeconds": 1
    })
}

const SA_MOUNT: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

fn mounts(app: &str) -> Value {
    json!([
        {"mountPath": format!("/etc/{app}"), "name": "config", "readOnly": true},
        {"mountPath": "/tmp", "name": "tmp"},
        {"mountPath": SA_MOUNT, "name": "kube-api-access", "readOnly": true}
    ])
}

/// The members of a container the slim shape leaves out.
fn container_extra(app: &str, n_env: usize) -> Value {
    json!({
        "args": [format!("--config=/etc/{app}/config.yaml"), "--log-format=json", "--metrics-bind-address=:9090"],
        "env": env(app, n_env),
        "imagePullPolicy": "IfNotPresent",
        "livenessProbe": probe("/healthz", 8080, 10, 10),
        "readinessProbe": probe("/readyz", 8080, 5, 5),
        "ports": [
            {"containerPort": 8080, "name": "http", "protocol": "TCP"},
            {"containerPort": 9090, "name": "metrics", "protocol": "TCP"}
        ],
        "securityContext": {
            "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
            "runAsNonRoot": true, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"}
        },
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "volumeMounts": mounts(app)
    })
}

fn tolerations(daemon: bool) -> Value {
    let ne = |key: &str| json!({"effect": "NoExecute", "key": key, "operator": "Exists", "tolerationSeconds": 300});
    if daemon {
        let ns = |key: &str| json!({"effect": "NoSchedule", "key": key, "operator": "Exists"});
        json!([
            {"operator": "Exists"},
            json!({"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists"}),
            json!({"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists"}),
            ns("node.kubernetes.io/disk-pressure"), ns("node.kubernetes.io/memory-pressure"),
            ns("node.kubernetes.io/pid-pressure"), ns("node.kubernetes.io/unschedulable"),
            ns("node.kubernetes.io/network-unavailable")
        ])
    } else {
        json!([ne("node.kubernetes.io/not-ready"), ne("node.kubernetes.io/unreachable")])
    }
}

/// The members of a pod spec the slim shape leaves out.
fn spec_extra(app: &str, kind: &str) -> Value {
    let daemon = kind == "DaemonSet";
    let dns = if daemon { "ClusterFirstWithHostNet" } else { "ClusterFirst" };
    let restart = if kind == "Job" { "Never" } else { "Always" };
    json!({
        "affinity": {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}
            ]}},
            "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
                "podAffinityTerm": {
                    "labelSelector": {"matchLabels": {"app.kubernetes.io/name": app}},
                    "topologyKey": "kubernetes.io/hostname"
                },
                "weight": 100
            }]}
        },
        "dnsPolicy": dns,
        "enableServiceLinks": true,
        "preemptionPolicy": "PreemptLowerPriority",
        "restartPolicy": restart,
        "schedulerName": "default-scheduler",
        "securityContext": {"fsGroup": 65532, "runAsNonRoot": true},
        "serviceAccount": app,
        "serviceAccountName": app,
        "terminationGracePeriodSeconds": 30,
        "tolerations": tolerations(daemon),
        "volumes": [
            {"configMap": {"defaultMode": 420, "name": format!("{app}-config")}, "name": "config"},
            {"emptyDir": {}, "name": "tmp"},
            {"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
                {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}, "path": "namespace"}]}}
            ]}}
        ]
    })
}

fn f(keys: &[&str]) -> Value {
    let mut m = Map::new();
    m.insert(".".into(), json!({}));
    for k in keys {
        m.insert(format!("f:{k}"), json!({}));
    }
    Value::Object(m)
}

fn keyed(field: &str, value: &str) -> String {
    format!("k:{{\"{field}\":\"{value}\"}}")
}

/// What the controller that made the pod and the kubelet own of it (`managedFields`), shaped as
/// the API server's field manager writes them.
fn managed_fields(app: &str, container: &str, kind: &str, labels: &[&String], n_env: usize) -> Value {
    let env = env(app, n_env);
    let mut env_fields = Map::new();
    env_fields.insert(".".into(), json!({}));
    for e in env.as_array().into_iter().flatten() {
        let name = e.get("name").and_then(Value::as_str).unwrap_or("");
        let value = if e.get("value").is_some() { "value" } else { "valueFrom" };
        env_fields.insert(keyed("name", name), f(&["name", value]));
    }
    let mut label_fields = f(&[]);
    if let Some(o) = label_fields.as_object_mut() {
        for l in labels {
            o.insert(format!("f:{l}"), json!({}));
        }
    }
    let mut mount_fields = f(&[]);
    if let Some(o) = mount_fields.as_object_mut() {
        for m in [format!("/etc/{app}"), "/tmp".into()] {
            o.insert(keyed("mountPath", &m), f(&["mountPath", "name", "readOnly"]));
        }
    }
    let probe_fields = json!({".": {}, "f:failureThreshold": {}, "f:httpGet": {".": {}, "f:path": {}, "f:port": {}, "f:scheme": {}},
        "f:initialDelaySeconds": {}, "f:periodSeconds": {}, "f:successThreshold": {}, "f:timeoutSeconds": {}});
    let container_fields = json!({
        ".": {}, "f:args": {}, "f:env": env_fields, "f:image": {}, "f:imagePullPolicy": {},
        "f:livenessProbe": probe_fields.clone(), "f:name": {},
        "f:ports": {".": {},
            "k:{\"containerPort\":8080,\"protocol\":\"TCP\"}": f(&["containerPort", "name", "protocol"]),
            "k:{\"containerPort\":9090,\"protocol\":\"TCP\"}": f(&["containerPort", "name", "protocol"])},
        "f:readinessProbe": probe_fields, "f:resources": {".": {}, "f:requests": {".": {}, "f:cpu": {}, "f:memory": {}}},
        "f:securityContext": f(&["allowPrivilegeEscalation", "readOnlyRootFilesystem", "runAsNonRoot", "runAsUser"]),
        "f:terminationMessagePath": {}, "f:terminationMessagePolicy": {}, "f:volumeMounts": mount_fields
    });
    let mut containers = f(&[]);
    if let Some(o) = containers.as_object_mut() {
        o.insert(keyed("name", container), container_fields);
    }
    let owner_uid = uuid(&[kind, app]);
    let cond = |t: &str| (keyed("type", t), f(&["lastProbeTime", "lastTransitionTime", "status", "type"]));
    let conditions: Map<String, Value> = std::iter::once((".".to_string(), json!({})))
        .chain(
            ["ContainersReady", "Initialized", "PodReadyToStartContainers", "PodScheduled", "Ready"]
                .map(cond),
        )
        .collect();
    json!([
        {
            "apiVersion": "v1", "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {
                    "f:generateName": {}, "f:labels": label_fields,
                    "f:ownerReferences": {".": {}, keyed("uid", &owner_uid): {}}
                },
                "f:spec": {
                    "f:affinity": {".": {}, "f:nodeAffinity": {".": {}, "f:requiredDuringSchedulingIgnoredDuringExecution": {}},
                                   "f:podAntiAffinity": {".": {}, "f:preferredDuringSchedulingIgnoredDuringExecution": {}}},
                    "f:containers": containers,
                    "f:dnsPolicy": {}, "f:enableServiceLinks": {}, "f:restartPolicy": {}, "f:schedulerName": {},
                    "f:securityContext": f(&["fsGroup", "runAsNonRoot"]),
                    "f:serviceAccount": {}, "f:serviceAccountName": {}, "f:terminationGracePeriodSeconds": {},
                    "f:tolerations": {},
                    "f:volumes": {".": {},
                        "k:{\"name\":\"config\"}": {".": {}, "f:configMap": f(&["defaultMode", "name"]), "f:name": {}},
                        "k:{\"name\":\"tmp\"}": {".": {}, "f:emptyDir": {}, "f:name": {}}}
                }
            },
            "manager": "kube-controller-manager", "operation": "Update", "time": "2026-11-30T03:14:02Z"
        },
        {
            "apiVersion": "v1", "fieldsType": "FieldsV1",
            "fieldsV1": {"f:status": {
                "f:conditions": conditions, "f:containerStatuses": {}, "f:hostIP": {},
                "f:hostIPs": {}, "f:phase": {}, "f:podIP": {}, "f:podIPs": {}, "f:startTime": {}
            }},
            "manager": "kubelet", "operation": "Update", "subresource": "status", "time": "2026-11-30T03:14:09Z"
        }
    ])
}

/// Make the slim Pod object `v` of `p` realistic: `host_ip` is its node's address, `agent` says
/// it is a CNI agent (a DaemonSet's pod).
pub(crate) fn pod(
    v: &mut Value,
    p: &Pod,
    labels: &BTreeMap<String, String>,
    host_ip: Option<&str>,
    agent: bool,
) {
    let container = p.name.split('-').next().unwrap_or("main").to_string();
    let app = container.as_str();
    let (kind, api_version, owner_name) = owner(p, agent);
    let h = hash(&[&p.namespace, &p.name]);
    // 10, 20 or 30 variables: pods of one app differ little, apps differ more.
    let n_env = 10 + 10 * (hash(&[app, &p.namespace]) % 3) as usize;
    let label_keys: Vec<&String> = labels.keys().collect();
    let key = format!(
        "{app}/{kind}/{n_env}/{}",
        label_keys.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
    );
    if let Some(m) = v.get_mut("metadata") {
        if let Some(o) = m.as_object_mut() {
            o.insert("generateName".into(), format!("{owner_name}-").into());
            o.insert("generation".into(), 1.into());
            o.insert(
                "ownerReferences".into(),
                json!([{"apiVersion": api_version, "blockOwnerDeletion": true, "controller": true,
                        "kind": kind, "name": owner_name, "uid": uuid(&[kind, &p.namespace, &owner_name])}]),
            );
        }
        put_marker(m, &format!("meta/{key}"), || {
            json!({
                "annotations": {
                    "kubectl.kubernetes.io/default-container": app,
                    "prometheus.io/port": "9090", "prometheus.io/scrape": "true"
                },
                "managedFields": managed_fields(app, &container, kind, &label_keys, n_env)
            })
        });
    }
    if let Some(s) = v.get_mut("spec") {
        put_marker(s, &format!("spec/{app}/{kind}"), || spec_extra(app, kind));
        if let Some(c) = s.pointer_mut("/containers/0") {
            put_marker(c, &format!("container/{app}/{n_env}"), || container_extra(app, n_env));
        }
    }
    let running = p.node.is_some() && p.sandbox_start_s.is_some();
    let requests = v.pointer("/spec/containers/0/resources/requests").is_some();
    let created = v.pointer("/metadata/creationTimestamp").cloned();
    if let Some(st) = v.get_mut("status").and_then(Value::as_object_mut) {
        let qos = if requests { "Burstable" } else { "BestEffort" };
        st.insert("qosClass".into(), qos.into());
        st.insert("observedGeneration".into(), 1.into());
        if let (Some(ip), true) = (host_ip, p.node.is_some()) {
            st.insert("hostIP".into(), ip.into());
            st.insert("hostIPs".into(), json!([{"ip": ip}]));
            let pod_ip = if p.host_network {
                ip.to_string()
            } else {
                format!("10.{}.{}.{}", 128 + (h >> 40) % 64, (h >> 16) % 256, 2 + (h >> 8) % 250)
            };
            if running {
                st.insert("podIP".into(), pod_ip.clone().into());
                st.insert("podIPs".into(), json!([{"ip": pod_ip}]));
            }
            if let Some(t) = created {
                st.insert("startTime".into(), t);
            }
        }
    }
    if let Some(cs) = v.pointer_mut("/status/containerStatuses/0")
        && let Some(o) = cs.as_object_mut()
    {
        if running {
            o.insert(
                "containerID".into(),
                format!("containerd://{}", hex64(&[&p.namespace, &p.name])).into(),
            );
            o.insert("started".into(), true.into());
        }
        put_marker(cs, &format!("status/{app}"), || {
            json!({
                "image": format!("registry.local/{app}:1"),
                "imageID": format!("registry.local/{app}@sha256:{}", hex64(&[app])),
                "lastState": {},
                "volumeMounts": [
                    {"mountPath": format!("/etc/{app}"), "name": "config", "readOnly": true, "recursiveReadOnly": "Disabled"},
                    {"mountPath": "/tmp", "name": "tmp"},
                    {"mountPath": SA_MOUNT, "name": "kube-api-access", "readOnly": true, "recursiveReadOnly": "Disabled"}
                ]
            })
        });
    }
}

/// The container images a node has pulled (`status.images`), as the kubelet lists them.
fn images() -> Value {
    let img = |name: &str, tag: &str, size: u64| {
        let digest = hex64(&[name, tag]);
        json!({"names": [format!("{name}@sha256:{digest}"), format!("{name}:{tag}")], "sizeBytes": size})
    };
    json!([
        img("quay.io/cilium/cilium", "v1.18.4", 246_839_204),
        img("docker.io/flannel/flannel", "v0.28.9", 35_107_384),
        img("docker.io/calico/node", "v3.32.0", 133_718_002),
        img("registry.k8s.io/kube-proxy", "v1.36.4", 30_218_441),
        img("quay.io/prometheus/node-exporter", "v1.9.1", 12_918_433),
        img("registry.local/app", "1", 88_112_930),
        img("registry.local/load", "1", 61_220_013),
        img("registry.k8s.io/pause", "3.10", 320_368),
        img("registry.k8s.io/coredns/coredns", "v1.12.1", 22_384_805)
    ])
}

/// Make the slim Node object `v` realistic.
pub(crate) fn node(v: &mut Value, name: &str, created: &str) {
    if let Some(m) = v.get_mut("metadata") {
        if let Some(a) = m.get_mut("annotations").and_then(Value::as_object_mut) {
            for (k, val) in [
                ("kubeadm.alpha.kubernetes.io/cri-socket", "unix:///var/run/containerd/containerd.sock"),
                ("node.alpha.kubernetes.io/ttl", "0"),
                ("volumes.kubernetes.io/controller-managed-attach-detach", "true"),
            ] {
                a.entry(k).or_insert_with(|| val.into());
            }
            a.insert(
                "csi.volume.kubernetes.io/nodeid".into(),
                format!("{{\"csi.tigera.io\":\"{name}\"}}").into(),
            );
        }
        put_marker(m, "node/meta", || json!({"managedFields": node_managed_fields()}));
    }
    if let Some(st) = v.get_mut("status") {
        if let Some(o) = st.as_object_mut() {
            if let Some(c) = o.get_mut("conditions").and_then(Value::as_array_mut) {
                for (t, reason, msg) in [
                    (
                        "MemoryPressure",
                        "KubeletHasSufficientMemory",
                        "kubelet has sufficient memory available",
                    ),
                    ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                ] {
                    let at =
                        c.last().and_then(|l| l.get("lastHeartbeatTime")).cloned().unwrap_or(Value::Null);
                    let pos = c.len().saturating_sub(1);
                    c.insert(
                        pos,
                        json!({"lastHeartbeatTime": at, "lastTransitionTime": created,
                        "message": msg, "reason": reason, "status": "False", "type": t}),
                    );
                }
            }
            if let Some(i) = o.get_mut("nodeInfo").and_then(Value::as_object_mut) {
                i.insert("bootID".into(), uuid(&["boot", name]).into());
                i.insert("machineID".into(), hex64(&["machine", name])[..32].to_string().into());
                i.insert("systemUUID".into(), uuid(&["system", name]).into());
            }
        }
        put_marker(st, "node/status", || {
            json!({
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "features": {"supplementalGroupsPolicy": true},
                "images": images(),
                "runtimeHandlers": [
                    {"features": {"recursiveReadOnlyMounts": true, "userNamespaces": true}, "name": "runc"},
                    {"features": {"recursiveReadOnlyMounts": true, "userNamespaces": true}, "name": ""}
                ]
            })
        });
    }
}

fn node_managed_fields() -> Value {
    let cond = |t: &str| {
        (keyed("type", t), f(&["lastHeartbeatTime", "lastTransitionTime", "message", "reason", "status"]))
    };
    let conditions: Map<String, Value> = std::iter::once((".".to_string(), json!({})))
        .chain(["DiskPressure", "MemoryPressure", "PIDPressure", "Ready"].map(cond))
        .collect();
    json!([
        {"apiVersion": "v1", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:metadata": {"f:annotations": {".": {}, "f:volumes.kubernetes.io/controller-managed-attach-detach": {}},
            "f:labels": f(&["beta.kubernetes.io/arch", "beta.kubernetes.io/os", "kubernetes.io/arch", "kubernetes.io/hostname", "kubernetes.io/os"])}},
         "manager": "kubelet", "operation": "Update", "time": "2026-10-14T08:21:37Z"},
        {"apiVersion": "v1", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:metadata": {"f:annotations": {"f:kubeadm.alpha.kubernetes.io/cri-socket": {}},
            "f:labels": {"f:node-role.kubernetes.io/worker": {}, "f:topology.kubernetes.io/zone": {}}}},
         "manager": "kubeadm", "operation": "Update", "time": "2026-10-14T08:21:39Z"},
        {"apiVersion": "v1", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:metadata": {"f:annotations": {"f:node.alpha.kubernetes.io/ttl": {}}},
            "f:spec": {"f:podCIDR": {}, "f:podCIDRs": {".": {}, "v:\"10.244.0.0/24\"": {}}}},
         "manager": "kube-controller-manager", "operation": "Update", "time": "2026-10-14T08:21:52Z"},
        {"apiVersion": "v1", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:metadata": {"f:annotations": {"f:csi.volume.kubernetes.io/nodeid": {}}},
            "f:status": {"f:allocatable": {"f:ephemeral-storage": {}, "f:kubernetes.io/batch-cpu": {}, "f:kubernetes.io/batch-memory": {}},
                "f:capacity": {"f:ephemeral-storage": {}}, "f:conditions": conditions, "f:images": {},
                "f:nodeInfo": {"f:bootID": {}, "f:containerRuntimeVersion": {}, "f:kernelVersion": {}, "f:kubeletVersion": {}},
                "f:runtimeHandlers": {}}},
         "manager": "kubelet", "operation": "Update", "subresource": "status", "time": "2026-12-07T11:58:47Z"},
        {"apiVersion": "v1", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:status": {"f:conditions": {"k:{\"type\":\"NetworkUnavailable\"}": f(&["lastHeartbeatTime", "lastTransitionTime", "message", "reason", "status", "type"])}}},
         "manager": "cni-agent", "operation": "Update", "subresource": "status", "time": "2026-11-30T03:12:55Z"}
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_expand_into_valid_json_and_plain_bodies_pass_through() {
        let mut v = json!({"a": {"x": 1}, "b": [1, 2]});
        put_marker(v.get_mut("a").expect("a"), "test/one", || json!({"y": [1, 2, 3], "z": "w\u{1}"}));
        put_marker(&mut v, "test/two", || json!({"c": true}));
        let stored = Bytes::from(serde_json::to_vec(&v).expect("json"));
        let served = body(&stored);
        let back: Value = serde_json::from_slice(&served).expect("valid JSON");
        assert_eq!(back, json!({"a": {"x": 1, "y": [1, 2, 3], "z": "w\u{1}"}, "b": [1, 2], "c": true}));
        let plain = Bytes::from_static(br#"{"a":"\\u0001","b":"x\"y"}"#);
        assert_eq!(body(&plain), plain);
    }
}
