//! JSON and protobuf bodies of the same objects decode to the same model: objects generated from
//! a seeded generator, each encoded with the real types both ways (k8s-openapi for JSON, k8s-pb
//! for protobuf), both decoded as the source decodes them and reduced by `map`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as oa;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as OaQuantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as oameta;
use k8s_pb::api::core::v1 as pbcore;
use k8s_pb::apimachinery::pkg::api::resource::Quantity as PbQ;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as pbmeta;
use k8s_pb::apimachinery::pkg::runtime as pbrt;
use prost::Message as _;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::model::Interner;
use crate::sources::kube::map;

/// `k8s\0` + `runtime.Unknown` holding `raw`, as the API server writes a body.
fn envelope_of(kind: &str, raw: Vec<u8>) -> Vec<u8> {
    let unk = pbrt::Unknown {
        type_meta: Some(pbrt::TypeMeta { api_version: Some("v1".into()), kind: Some(kind.into()) }),
        raw: Some(raw),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    let mut out = MAGIC.to_vec();
    unk.encode(&mut out).expect("encode");
    out
}

fn pick<'a, R: Rng>(r: &mut R, xs: &[&'a str]) -> &'a str {
    xs[r.random_range(0..xs.len())]
}

fn maybe<R: Rng, T>(r: &mut R, f: impl FnOnce(&mut R) -> T) -> Option<T> {
    r.random_bool(0.6).then(|| f(r))
}

const T0: i64 = 1_796_000_000;

fn oa_time(s: i64) -> oameta::Time {
    oameta::Time(k8s_openapi::jiff::Timestamp::from_second(s).expect("time"))
}

fn pb_time(s: i64) -> pbmeta::Time {
    pbmeta::Time { seconds: Some(s), nanos: Some(0) }
}

fn oa_q(m: &BTreeMap<String, String>) -> Option<BTreeMap<String, OaQuantity>> {
    Some(m.iter().map(|(k, v)| (k.clone(), OaQuantity(v.clone()))).collect())
}

fn pb_q(m: &BTreeMap<String, String>) -> BTreeMap<String, PbQ> {
    m.iter().map(|(k, v)| (k.clone(), PbQ { string: Some(v.clone()) })).collect()
}

fn labels<R: Rng>(r: &mut R) -> BTreeMap<String, String> {
    let pool = [
        ("k8s-app", "cilium"),
        ("k8s-app", "calico-node"),
        ("app", "flannel"),
        ("koordinator.sh/qosClass", "BE"),
        ("koordinator.sh/qosClass", "LS"),
        ("koordinator.sh/priority-class", "koord-batch"),
        ("topology.kubernetes.io/zone", "r1"),
        ("clustertop.io/tor-a", "tor-1a"),
        ("clustertop.io/tor-b", "tor-1b"),
        ("team", "søk"),
    ];
    (0..r.random_range(0..5))
        .map(|_| pool[r.random_range(0..pool.len())])
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn requests<R: Rng>(r: &mut R) -> BTreeMap<String, String> {
    let pool = [
        ("cpu", "250m"),
        ("memory", "4Gi"),
        ("kubernetes.io/batch-cpu", "1000"),
        ("kubernetes.io/batch-cpu", "4k"),
        ("kubernetes.io/batch-memory", "2Gi"),
        ("nvidia.com/gpu", "1"),
    ];
    (0..r.random_range(0..4))
        .map(|_| pool[r.random_range(0..pool.len())])
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A container both ways: `/dev/shm` and other mounts, requests, added capabilities, env and
/// probes (noise the slim decoders skip).
fn container<R: Rng>(r: &mut R, init: bool) -> (oa::Container, pbcore::Container) {
    let name = pick(r, &["main", "proxy", "setup", "sidecar"]).to_string();
    let mounts: Vec<(String, String)> = (0..r.random_range(0..3))
        .map(|_| {
            let path = pick(r, &["/dev/shm", "/dev/shm/", "/var/run/secrets", "/data"]);
            (pick(r, &["shm", "data", "kube-api-access"]).to_string(), path.to_string())
        })
        .collect();
    let req = maybe(r, requests);
    let caps: Option<Vec<String>> = maybe(r, |r| {
        (0..r.random_range(0..3)).map(|_| pick(r, &["NET_ADMIN", "SYS_ADMIN"]).to_string()).collect()
    });
    let restart = if init { maybe(r, |r| pick(r, &["Always", "OnFailure"]).to_string()) } else { None };
    let env = [("A".to_string(), "1".to_string()), ("NODE".to_string(), "x".repeat(40))];
    let o = oa::Container {
        name: name.clone(),
        image: Some("registry.local/x:1".into()),
        env: Some(
            env.iter()
                .map(|(n, v)| oa::EnvVar { name: n.clone(), value: Some(v.clone()), ..Default::default() })
                .collect(),
        ),
        liveness_probe: Some(oa::Probe {
            http_get: Some(oa::HTTPGetAction {
                path: Some("/healthz".into()),
                port: k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(8080),
                ..Default::default()
            }),
            ..Default::default()
        }),
        volume_mounts: Some(
            mounts
                .iter()
                .map(|(n, p)| oa::VolumeMount {
                    name: n.clone(),
                    mount_path: p.clone(),
                    ..Default::default()
                })
                .collect(),
        ),
        resources: req.as_ref().map(|q| oa::ResourceRequirements { requests: oa_q(q), ..Default::default() }),
        security_context: caps.as_ref().map(|c| oa::SecurityContext {
            capabilities: Some(oa::Capabilities { add: Some(c.clone()), ..Default::default() }),
            ..Default::default()
        }),
        restart_policy: restart.clone(),
        ..Default::default()
    };
    let p = pbcore::Container {
        name: Some(name),
        image: Some("registry.local/x:1".into()),
        env: env
            .iter()
            .map(|(n, v)| pbcore::EnvVar {
                name: Some(n.clone()),
                value: Some(v.clone()),
                ..Default::default()
            })
            .collect(),
        volume_mounts: mounts
            .iter()
            .map(|(n, p)| pbcore::VolumeMount {
                name: Some(n.clone()),
                mount_path: Some(p.clone()),
                ..Default::default()
            })
            .collect(),
        resources: req
            .as_ref()
            .map(|q| pbcore::ResourceRequirements { requests: pb_q(q), ..Default::default() }),
        security_context: caps.map(|c| pbcore::SecurityContext {
            capabilities: Some(pbcore::Capabilities { add: c, ..Default::default() }),
            ..Default::default()
        }),
        restart_policy: restart,
        ..Default::default()
    };
    (o, p)
}

fn pod<R: Rng>(r: &mut R, i: usize) -> (oa::Pod, pbcore::Pod) {
    let (name, ns) = (format!("pod-{i}"), pick(r, &["default", "kube-system", "batch"]).to_string());
    let labels = labels(r);
    let node = maybe(r, |r| pick(r, &["node-1", "node-2", ""]).to_string());
    let rc = maybe(r, |r| pick(r, &["kata", "runc", ""]).to_string());
    let pc = maybe(r, |r| pick(r, &["koord-batch", "koord-prod", "system-node-critical", ""]).to_string());
    let prio = maybe(r, |r| r.random_range(-10..10_000));
    let flags: [Option<bool>; 4] = std::array::from_fn(|_| maybe(r, |r| r.random_bool(0.5)));
    let sysctls: Option<Vec<String>> = maybe(r, |r| {
        (0..r.random_range(0..3))
            .map(|_| pick(r, &["net.core.somaxconn", "kernel.shm_rmid_forced"]).into())
            .collect()
    });
    // Volumes: (name, emptyDir (medium, sizeLimit), hostPath, configMap).
    type Vol = (String, Option<(Option<String>, Option<String>)>, Option<String>, bool);
    let vols: Vec<Vol> = (0..r.random_range(0..4))
        .map(|_| {
            let name = pick(r, &["shm", "data", "host", "cfg"]).to_string();
            match r.random_range(0..3) {
                0 => (
                    name,
                    Some((
                        maybe(r, |r| pick(r, &["Memory", ""]).into()),
                        maybe(r, |r| pick(r, &["1Gi", "512Mi"]).into()),
                    )),
                    None,
                    false,
                ),
                1 => (name, None, Some(pick(r, &["/var/log", "/proc"]).into()), false),
                _ => (name, None, None, true),
            }
        })
        .collect();
    let ctrs: Vec<_> = (0..r.random_range(1..4)).map(|_| container(r, false)).collect();
    let inits: Vec<_> = (0..r.random_range(0..3)).map(|_| container(r, true)).collect();
    let phase = maybe(r, |r| pick(r, &["Running", "Pending", "Succeeded", ""]).to_string());
    let conds: Vec<(String, String, Option<i64>)> = (0..r.random_range(0..5))
        .map(|_| {
            let t = pick(
                r,
                &["PodScheduled", "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady"],
            );
            let s = pick(r, &["True", "False"]);
            (t.to_string(), s.to_string(), maybe(r, |r| T0 + r.random_range(0..400)))
        })
        .collect();
    let managed = r.random_bool(0.7);

    let o = oa::Pod {
        metadata: oameta::ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(ns.clone()),
            uid: Some(format!("uid-{i}")),
            resource_version: Some(i.to_string()),
            labels: (!labels.is_empty()).then(|| labels.clone()),
            managed_fields: managed.then(|| {
                vec![oameta::ManagedFieldsEntry {
                    manager: Some("kubelet".into()),
                    operation: Some("Update".into()),
                    fields_v1: Some(oameta::FieldsV1(serde_json::json!({"f:status": {"f:phase": {}}}))),
                    ..Default::default()
                }]
            }),
            ..Default::default()
        },
        spec: Some(oa::PodSpec {
            node_name: node.clone(),
            runtime_class_name: rc.clone(),
            priority_class_name: pc.clone(),
            priority: prio,
            host_network: flags[0],
            host_pid: flags[1],
            host_ipc: flags[2],
            share_process_namespace: flags[3],
            security_context: sysctls.as_ref().map(|s| oa::PodSecurityContext {
                sysctls: Some(s.iter().map(|n| oa::Sysctl { name: n.clone(), value: "1".into() }).collect()),
                ..Default::default()
            }),
            volumes: Some(
                vols.iter()
                    .map(|(n, e, h, c)| oa::Volume {
                        name: n.clone(),
                        empty_dir: e.as_ref().map(|(m, s)| oa::EmptyDirVolumeSource {
                            medium: m.clone(),
                            size_limit: s.clone().map(OaQuantity),
                            ..Default::default()
                        }),
                        host_path: h
                            .as_ref()
                            .map(|p| oa::HostPathVolumeSource { path: p.clone(), ..Default::default() }),
                        config_map: c
                            .then(|| oa::ConfigMapVolumeSource { name: "cfg".into(), ..Default::default() }),
                        ..Default::default()
                    })
                    .collect(),
            ),
            containers: ctrs.iter().map(|c| c.0.clone()).collect(),
            init_containers: Some(inits.iter().map(|c| c.0.clone()).collect()),
            ..Default::default()
        }),
        status: Some(oa::PodStatus {
            phase: phase.clone(),
            conditions: Some(
                conds
                    .iter()
                    .map(|(t, s, at)| oa::PodCondition {
                        type_: t.clone(),
                        status: s.clone(),
                        last_transition_time: at.map(oa_time),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }),
    };
    let p = pbcore::Pod {
        metadata: Some(pbmeta::ObjectMeta {
            name: Some(name),
            namespace: Some(ns),
            uid: Some(format!("uid-{i}")),
            resource_version: Some(i.to_string()),
            labels,
            managed_fields: if managed {
                vec![pbmeta::ManagedFieldsEntry {
                    manager: Some("kubelet".into()),
                    operation: Some("Update".into()),
                    fields_v1: Some(pbmeta::FieldsV1 {
                        raw: Some(br#"{"f:status":{"f:phase":{}}}"#.to_vec()),
                    }),
                    ..Default::default()
                }]
            } else {
                Vec::new()
            },
            ..Default::default()
        }),
        spec: Some(pbcore::PodSpec {
            node_name: node,
            runtime_class_name: rc,
            priority_class_name: pc,
            priority: prio,
            host_network: flags[0],
            host_pid: flags[1],
            host_ipc: flags[2],
            share_process_namespace: flags[3],
            security_context: sysctls.map(|s| pbcore::PodSecurityContext {
                sysctls: s
                    .into_iter()
                    .map(|n| pbcore::Sysctl { name: Some(n), value: Some("1".into()) })
                    .collect(),
                ..Default::default()
            }),
            volumes: vols
                .into_iter()
                .map(|(n, e, h, c)| pbcore::Volume {
                    name: Some(n),
                    volume_source: Some(pbcore::VolumeSource {
                        empty_dir: e.map(|(m, s)| pbcore::EmptyDirVolumeSource {
                            medium: m,
                            size_limit: s.map(|s| PbQ { string: Some(s) }),
                        }),
                        host_path: h
                            .map(|p| pbcore::HostPathVolumeSource { path: Some(p), ..Default::default() }),
                        config_map: c.then(|| pbcore::ConfigMapVolumeSource {
                            local_object_reference: Some(pbcore::LocalObjectReference {
                                name: Some("cfg".into()),
                            }),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                })
                .collect(),
            containers: ctrs.into_iter().map(|c| c.1).collect(),
            init_containers: inits.into_iter().map(|c| c.1).collect(),
            ..Default::default()
        }),
        status: Some(pbcore::PodStatus {
            phase,
            conditions: conds
                .into_iter()
                .map(|(t, s, at)| pbcore::PodCondition {
                    r#type: Some(t),
                    status: Some(s),
                    last_transition_time: at.map(pb_time),
                    reason: Some(String::new()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }),
    };
    (o, p)
}

fn node<R: Rng>(r: &mut R, i: usize) -> (oa::Node, pbcore::Node) {
    let name = format!("node-{i}");
    let labels = labels(r);
    let ann: BTreeMap<String, String> = (0..r.random_range(0..4))
        .map(|_| {
            let k = pick(
                r,
                &[
                    map::NET_ANNOTATIONS[0],
                    map::NET_ANNOTATIONS[4],
                    map::NET_ANNOTATIONS[8],
                    "node.alpha.kubernetes.io/ttl",
                ],
            );
            (k.to_string(), pick(r, &["vxlan", "10.0.0.1", "0"]).to_string())
        })
        .collect();
    let created = maybe(r, |r| T0 - r.random_range(0..1_000_000));
    let conds: Vec<(String, String, Option<String>)> = (0..r.random_range(0..3))
        .map(|_| {
            let t = pick(r, &["Ready", "NetworkUnavailable", "MemoryPressure"]);
            let s = pick(r, &["True", "False", "Unknown"]);
            (
                t.to_string(),
                s.to_string(),
                maybe(r, |r| pick(r, &["CiliumIsUp", "KubeletReady", ""]).to_string()),
            )
        })
        .collect();
    let alloc = maybe(r, requests);
    let o = oa::Node {
        metadata: oameta::ObjectMeta {
            name: Some(name.clone()),
            labels: (!labels.is_empty()).then(|| labels.clone()),
            annotations: (!ann.is_empty()).then(|| ann.clone()),
            creation_timestamp: created.map(oa_time),
            ..Default::default()
        },
        spec: Some(oa::NodeSpec { pod_cidr: Some("10.244.0.0/24".into()), ..Default::default() }),
        status: Some(oa::NodeStatus {
            allocatable: alloc.as_ref().and_then(oa_q),
            capacity: alloc.as_ref().and_then(oa_q),
            conditions: Some(
                conds
                    .iter()
                    .map(|(t, s, reason)| oa::NodeCondition {
                        type_: t.clone(),
                        status: s.clone(),
                        reason: reason.clone(),
                        message: Some("m".into()),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }),
    };
    let p = pbcore::Node {
        metadata: Some(pbmeta::ObjectMeta {
            name: Some(name),
            labels,
            annotations: ann,
            creation_timestamp: created.map(pb_time),
            ..Default::default()
        }),
        spec: Some(pbcore::NodeSpec { pod_cidr: Some("10.244.0.0/24".into()), ..Default::default() }),
        status: Some(pbcore::NodeStatus {
            allocatable: alloc.as_ref().map(pb_q).unwrap_or_default(),
            capacity: alloc.as_ref().map(pb_q).unwrap_or_default(),
            conditions: conds
                .into_iter()
                .map(|(t, s, reason)| pbcore::NodeCondition {
                    r#type: Some(t),
                    status: Some(s),
                    reason,
                    message: Some("m".into()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }),
    };
    (o, p)
}

fn pod_model(p: &SlimPod) -> (crate::model::Pod, Option<crate::model::Cni>) {
    let offline = ["koord-batch".to_string()];
    let qos = ["BE".to_string()];
    let agent = p.metadata.labels.as_ref().and_then(map::agent_cni);
    (map::pod(p, &offline, &qos, &mut Interner::default()), agent)
}

#[test]
fn json_and_protobuf_bodies_of_the_same_pods_decode_to_the_same_model() {
    let mut r = ChaCha8Rng::seed_from_u64(21);
    for round in 0..40 {
        let (json, pb): (Vec<oa::Pod>, Vec<pbcore::Pod>) =
            (0..25).map(|i| pod(&mut r, round * 25 + i)).unzip();
        let list = pbcore::PodList {
            metadata: Some(pbmeta::ListMeta {
                resource_version: Some("7".into()),
                r#continue: Some("next".into()),
                ..Default::default()
            }),
            items: pb.clone(),
        };
        let body = envelope_of("PodList", list.encode_to_vec());
        assert_eq!(head(&body).and_then(|m| m.continue_).as_deref(), Some("next"));
        let (meta, from_pb) = SlimPod::list(&body).expect("protobuf list");
        assert_eq!(meta.resource_version.as_deref(), Some("7"));
        for ((o, p), got) in json.iter().zip(&pb).zip(&from_pb) {
            let from_json: SlimPod =
                serde_json::from_slice(&serde_json::to_vec(o).expect("json")).expect("slim json");
            assert_eq!(
                pod_model(got),
                pod_model(&from_json),
                "{}",
                serde_json::to_string(o).unwrap_or_default()
            );
            // One object (a watch event's) decodes the same.
            let one = SlimPod::one(&envelope_of("Pod", p.encode_to_vec())).expect("one");
            assert_eq!(pod_model(&one), pod_model(&from_json));
        }
    }
}

#[test]
fn json_and_protobuf_bodies_of_the_same_nodes_decode_to_the_same_model() {
    let mut r = ChaCha8Rng::seed_from_u64(15000);
    let (json, pb): (Vec<oa::Node>, Vec<pbcore::Node>) = (0..1000).map(|i| node(&mut r, i)).unzip();
    let body = envelope_of("NodeList", pbcore::NodeList { metadata: None, items: pb }.encode_to_vec());
    let (_, from_pb) = core::Node::list(&body).expect("protobuf list");
    assert_eq!(from_pb.len(), json.len());
    for (o, got) in json.iter().zip(&from_pb) {
        let from_json: core::Node =
            serde_json::from_slice(&serde_json::to_vec(o).expect("json")).expect("node json");
        assert_eq!(
            map::node_obj(got),
            map::node_obj(&from_json),
            "{}",
            serde_json::to_string(o).unwrap_or_default()
        );
    }
}

#[test]
fn a_body_cut_short_is_an_error_never_fewer_items() {
    let mut r = ChaCha8Rng::seed_from_u64(1);
    let items = (0..20).map(|i| pod(&mut r, i).1).collect();
    let body = envelope_of("PodList", pbcore::PodList { metadata: None, items }.encode_to_vec());
    assert_eq!(SlimPod::list(&body).expect("whole").1.len(), 20);
    for cut in [body.len() - 1, body.len() / 2, 10, 3] {
        assert!(SlimPod::list(&body[..cut]).is_err(), "cut at {cut} of {}", body.len());
    }
    assert!(matches!(SlimPod::list(b"{\"items\":[]}"), Err(Error::Magic)));
}

#[test]
fn a_watch_stream_is_length_delimited_frames() {
    let ev = PbWatchEvent { r#type: Some("ADDED".into()), object: Some(PbRaw { raw: Some(vec![1, 2, 3]) }) };
    let body = ev.encode_to_vec();
    let mut stream = (body.len() as u32).to_be_bytes().to_vec();
    stream.extend_from_slice(&body);
    assert_eq!(frame(&stream[..stream.len() - 1]), None, "incomplete");
    let (f, used) = frame(&stream).expect("frame");
    assert_eq!((f, used), (&body[..], stream.len()));
    assert_eq!(PbWatchEvent::decode(f).expect("event"), ev);
}

#[test]
fn an_error_status_in_protobuf_gives_its_code_and_message() {
    let st = pbmeta::Status {
        status: Some("Failure".into()),
        message: Some("too old resource version: 1 (5)".into()),
        reason: Some("Expired".into()),
        code: Some(410),
        ..Default::default()
    };
    let s = status(&envelope_of("Status", st.encode_to_vec())).expect("status");
    assert_eq!((s.code, s.reason.as_str()), (410, "Expired"));
    assert!(s.message.contains("too old"));
}
