//! The Kubernetes source's mapping, from fixtures written after the upstream schemas
//! (data-sources §1-§3), through the source's own state to `Update`s, then through analysis.

use chrono::{TimeZone, Utc};
use clustertop::analysis::{bgp::judge, netmode::classify};
use clustertop::model::{BgpSession, BgpState, BgpVerdict, Cni, NetMode, RuntimeKind, Signal, SourceHealth};
use clustertop::model::{NodeInfo, Update};
use clustertop::sources::kube::map;
use clustertop::sources::kube::slim::SlimPod;
use clustertop::sources::kube::state::{Ev, Kind, State};
use clustertop::sources::kube::watch::reduce_dynamic;
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::api::node::v1::RuntimeClass;
use kube::api::DynamicObject;
use serde_json::Value;

fn now() -> chrono::DateTime<Utc> {
    clustertop_core::testkit::T0
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/kube/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    serde_json::from_str(&text).expect("fixture is JSON")
}

fn node(name: &str) -> Ev {
    let n: Node = serde_json::from_value(fixture(name)).expect("node");
    let o = map::node_obj(&n);
    Ev::InitApply(o.name.clone(), clustertop::sources::kube::state::Obj::Node(Box::new(o)))
}

fn pod(name: &str) -> Ev {
    let p: SlimPod = serde_json::from_value(fixture(name)).expect("pod");
    let agent = p.metadata.labels.as_ref().and_then(map::agent_cni);
    let pod = map::pod(&p, &["koord-batch".into()], &["BE".into()], &mut Default::default());
    Ev::InitApply(
        format!("{}/{}", pod.namespace, pod.name),
        clustertop::sources::kube::state::Obj::Pod(Box::new(pod), agent),
    )
}

fn dynamic(kind: Kind, name: &str) -> Ev {
    let o: DynamicObject = serde_json::from_value(fixture(name)).expect("dynamic object");
    let (k, obj) = reduce_dynamic(kind, &o, now()).expect("named");
    Ev::InitApply(k, obj)
}

/// The verdict of a node as the store judges it.
fn verdict(info: &NodeInfo, mode: NetMode, s: &[BgpSession]) -> BgpVerdict {
    judge(mode, info.bgp_peers.as_deref(), info.tor_labels().then_some(&info.tors), s).0
}

/// Feed complete initial lists (each kind: Init, items, InitDone) and flush once.
fn run(lists: Vec<(Kind, Vec<Ev>)>) -> (State, Vec<Update>) {
    let mut st = State::new("topology.kubernetes.io/zone");
    for (kind, items) in lists {
        st.apply(kind, Ev::Init);
        for ev in items {
            st.apply(kind, ev);
        }
        st.apply(kind, Ev::InitDone);
    }
    let out = st.flush(now(), false);
    (st, out)
}

fn node_info(out: &[Update], name: &str) -> NodeInfo {
    out.iter()
        .find_map(|u| match u {
            Update::NodeApplied { node, .. } if node.name == name => Some(node.clone()),
            _ => None,
        })
        .expect("node applied")
}

fn sessions(out: &[Update], name: &str) -> Option<Vec<clustertop::model::BgpSession>> {
    out.iter().find_map(|u| match u {
        Update::Bgp { node, sessions, .. } if node == name => Some(sessions.clone()),
        _ => None,
    })
}

#[test]
fn flannel_vxlan_node_is_bridge_vxlan() {
    let (_, out) = run(vec![
        (Kind::Nodes, vec![node("node-flannel.json")]),
        (Kind::Pods, vec![pod("pod-kube-flannel.json"), pod("pod-workload.json")]),
    ]);
    let info = node_info(&out, "r01-n01");
    assert_eq!(info.rack, "r01");
    assert_eq!(info.tors, ["r01-tor-a".to_string(), "r01-tor-b".to_string()]);
    assert!(info.ready);
    // The node's age, as kubectl shows it, comes from its creationTimestamp.
    assert_eq!(info.created, Some(Utc.with_ymd_and_hms(2026, 1, 10, 8, 0, 0).unwrap()));
    assert!(
        info.signals.contains(&Signal::AgentPod { cni: Cni::Flannel, pod: "kube-flannel-ds-7x2kq".into() })
    );
    assert!(info.signals.contains(&Signal::ConditionReason { reason: "FlannelIsUp".into() }));
    // Only CNI annotations are kept.
    assert!(
        !info
            .signals
            .iter()
            .any(|s| matches!(s, Signal::Annotation { key, .. } if key.starts_with("node.alpha")))
    );
    assert_eq!(classify(&info.signals).mode, NetMode::BridgeVxlan);
    // Both pods count (as `kubectl get pods -A` counts them); the Spark executor is offline.
    let pods = out
        .iter()
        .find_map(|u| match u {
            Update::PodsReplaced(p) => Some(p.clone()),
            _ => None,
        })
        .expect("pods replaced after the initial list");
    let names: Vec<&str> = pods.iter().map(|p| &*p.name).collect();
    assert_eq!(names, vec!["spark-exec-17", "kube-flannel-ds-7x2kq"]);
    assert!(pods[0].offline);
    assert_eq!(pods[0].runtime_class.as_deref(), Some("kata-qemu"));
}

#[test]
fn cilium_node_with_bgp_v2_status_is_cilium_bgp_and_degraded() {
    let (_, out) = run(vec![
        (Kind::Nodes, vec![node("node-cilium.json")]),
        (Kind::Pods, vec![pod("pod-cilium.json")]),
        (Kind::CiliumNodes, vec![dynamic(Kind::CiliumNodes, "ciliumnode.json")]),
        (Kind::BgpNodeConfigs, vec![dynamic(Kind::BgpNodeConfigs, "ciliumbgpnodeconfig.json")]),
    ]);
    let info = node_info(&out, "r02-n07");
    assert!(info.signals.contains(&Signal::CiliumNode));
    // The peer config the node's peers name was never listed: whether pod routes are advertised
    // is unknown, and so is the node's routing.
    assert!(info.signals.contains(&Signal::BgpNodeConfig { pod_routes: None }));
    // No TOR labels: the sorted BGP peer names.
    assert_eq!(info.tors, ["r02-tor-a".to_string(), "r02-tor-b".to_string()]);
    let mode = classify(&info.signals).mode;
    assert_eq!(mode, NetMode::CiliumUndetermined);
    let s = sessions(&out, "r02-n07").expect("bgp update");
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].state, BgpState::Established);
    assert_eq!(s[0].since, Utc.with_ymd_and_hms(2026, 11, 24, 9, 30, 0).single());
    assert_eq!((s[0].routes_received, s[0].routes_advertised), (Some(150), Some(3)));
    assert_eq!((s[0].hold_time_s, s[0].keepalive_s), (Some(9), Some(3)));
    assert_eq!((s[0].local_asn, s[0].peer_asn), (64512, 65002));
    assert_eq!(s[1].state, BgpState::Active);
    assert_eq!(s[1].routes_received, None);
    assert_eq!(verdict(&info, mode, &s), BgpVerdict::Degraded);
}

#[test]
fn calico_node_is_calico_bgp() {
    let (_, out) = run(vec![
        (Kind::Nodes, vec![node("node-calico.json")]),
        (Kind::Pods, vec![pod("pod-calico-node.json")]),
        (Kind::CalicoNodeStatuses, vec![dynamic(Kind::CalicoNodeStatuses, "caliconodestatus.json")]),
    ]);
    let info = node_info(&out, "r03-n02");
    assert_eq!(info.rack, "r03", "fallback rack label");
    assert!(!info.ready);
    let mode = classify(&info.signals).mode;
    assert_eq!(mode, NetMode::CalicoBgp);
    let s = sessions(&out, "r03-n02").expect("calico sessions");
    assert_eq!(s.len(), 2);
    assert!(s.iter().all(|s| s.is_up()));
    assert_eq!(verdict(&info, mode, &s), BgpVerdict::Healthy);
    assert_eq!(info.tors, ["10.3.0.1".to_string(), "10.3.0.2".to_string()]);
}

#[test]
fn node_without_cni_evidence_is_unknown() {
    let (_, out) = run(vec![(Kind::Nodes, vec![node("node-bare.json")]), (Kind::Pods, vec![])]);
    let info = node_info(&out, "r04-n01");
    assert!(info.signals.is_empty());
    assert_eq!(info.tors, ["?".to_string(), "?".to_string()]);
    assert_eq!(classify(&info.signals).mode, NetMode::Unknown);
}

#[test]
fn empty_bgp_status_is_unknown_not_isolated() {
    let data = fixture("ciliumbgpnodeconfig-empty-status.json");
    assert_eq!(clustertop::sources::kube::bgp::cilium_sessions(&data), None);
    let mut cilium = fixture("node-cilium.json");
    cilium["metadata"]["name"] = "r02-n08".into();
    let n: Node = serde_json::from_value(cilium).expect("node");
    let o = map::node_obj(&n);
    let (_, out) = run(vec![
        (
            Kind::Nodes,
            vec![Ev::InitApply(o.name.clone(), clustertop::sources::kube::state::Obj::Node(Box::new(o)))],
        ),
        (Kind::BgpNodeConfigs, vec![dynamic(Kind::BgpNodeConfigs, "ciliumbgpnodeconfig-empty-status.json")]),
    ]);
    let info = node_info(&out, "r02-n08");
    let mode = classify(&info.signals).mode;
    assert_eq!(sessions(&out, "r02-n08"), None, "no sessions reported");
    assert_eq!(verdict(&info, mode, &[]), BgpVerdict::Unknown);
}

#[test]
fn slim_pod_ignores_unknown_fields() {
    let p: SlimPod = serde_json::from_value(fixture("pod-workload.json")).expect("slim pod");
    assert_eq!(p.metadata.name.as_deref(), Some("spark-exec-17"));
    assert_eq!(p.metadata.namespace.as_deref(), Some("batch"));
    assert_eq!(p.metadata.uid.as_deref(), Some("u-w1"));
    assert!(p.metadata.annotations.is_none(), "annotations are not kept");
    assert!(p.metadata.managed_fields.is_none(), "managedFields are not kept");
    assert_eq!(p.spec.node_name.as_deref(), Some("r01-n01"));
    assert_eq!(p.status.phase.as_deref(), Some("Running"));
    // A minimal pod (no spec/status) still parses.
    let bare: SlimPod = serde_json::from_value(serde_json::json!({"metadata": {"name": "x"}})).expect("bare");
    assert_eq!(&*map::pod(&bare, &[], &[], &mut Default::default()).phase, "Unknown");
}

#[test]
fn runtime_class_quantities() {
    let rc: RuntimeClass = serde_json::from_value(fixture("runtimeclass-kata.json")).expect("rc");
    let c = map::runtime_class(&rc);
    assert_eq!(c.kind, RuntimeKind::Kata);
    assert_eq!(c.overhead_cpu_m, Some(250));
    assert_eq!(c.overhead_mem_bytes, Some(160 * 1024 * 1024));
    assert_eq!(c.node_selector.get("katacontainers.io/kata-runtime").map(String::as_str), Some("true"));
    assert_eq!(map::cpu_millis("2"), Some(2000));
    assert_eq!(map::cpu_millis("0.5"), Some(500));
    assert_eq!(map::mem_bytes("1G"), Some(1_000_000_000));
    assert_eq!(map::mem_bytes("12e3"), Some(12_000));
    assert_eq!(map::mem_bytes("bogus"), None);
}

fn api_error(code: u16) -> kube::Error {
    let mut s = kube::core::Status::failure("nope", "Forbidden");
    s.code = code;
    kube::Error::Api(Box::new(s))
}

#[test]
fn error_mapping() {
    let scope = "ciliumbgpnodeconfigs.cilium.io";
    let (sc, h) = map::api_error_health(&api_error(403), "list", scope);
    assert_eq!(sc, scope);
    assert_eq!(h, SourceHealth::Forbidden { verb: "list".into(), resource: scope.into() });
    assert_eq!(map::api_error_health(&api_error(404), "list", scope).1, SourceHealth::NotInstalled);
    let w = kube::runtime::watcher::Error::WatchStartFailed(api_error(403));
    let (_, h) = map::watch_error_health(&w, "pods").expect("health");
    assert_eq!(h, SourceHealth::Forbidden { verb: "watch".into(), resource: "pods".into() });
    let gone = kube::runtime::watcher::Error::WatchError(Box::new({
        let mut s = kube::core::Status::failure("too old", "Expired");
        s.code = 410;
        s
    }));
    assert_eq!(map::watch_error_health(&gone, "pods"), None, "410: the watcher relists by itself");
}

#[test]
fn relist_replaces_pods_and_counts_bgp_resets() {
    let (mut st, _) = run(vec![
        (Kind::Nodes, vec![node("node-cilium.json")]),
        (Kind::Pods, vec![pod("pod-cilium.json"), pod("pod-workload.json")]),
        (Kind::BgpNodeConfigs, vec![dynamic(Kind::BgpNodeConfigs, "ciliumbgpnodeconfig.json")]),
    ]);
    // A relist without the workload pod: PodsReplaced without it (the ghost goes).
    st.apply(Kind::Pods, Ev::Init);
    st.apply(Kind::Pods, pod("pod-cilium.json"));
    st.apply(Kind::Pods, Ev::InitDone);
    let out = st.flush(now(), false);
    let replaced = out.iter().find_map(|u| match u {
        Update::PodsReplaced(p) => Some(p.iter().map(|p| p.name.to_string()).collect::<Vec<_>>()),
        _ => None,
    });
    assert_eq!(replaced, Some(vec!["cilium-4hq9z".to_string()]), "only the agent pod is left: {out:?}");
    // tor-a leaves established: one reset in the last hour.
    let mut cfg = fixture("ciliumbgpnodeconfig.json");
    cfg["status"]["bgpInstances"][0]["peers"][0]["peeringState"] = "idle".into();
    let o: DynamicObject = serde_json::from_value(cfg).expect("cfg");
    let (k, obj) = reduce_dynamic(Kind::BgpNodeConfigs, &o, now()).expect("named");
    st.apply(Kind::BgpNodeConfigs, Ev::Apply(k, obj));
    let out = st.flush(now(), false);
    let s = sessions(&out, "r02-n07").expect("changed");
    assert_eq!((s[0].state.clone(), s[0].resets_1h, s[0].since), (BgpState::Idle, 1, Some(now())));
    // An hour later the reset has aged out.
    let out = st.flush(now() + chrono::Duration::minutes(61), true);
    let s = sessions(&out, "r02-n07").expect("aged out");
    assert_eq!(s[0].resets_1h, 0);
    // Nothing changed: nothing sent.
    assert!(st.flush(now() + chrono::Duration::minutes(62), false).is_empty());
}

#[test]
fn health_waits_for_every_expected_kind() {
    let mut st = State::new("topology.kubernetes.io/zone");
    st.expect(Kind::Nodes);
    st.expect(Kind::CalicoNodeStatuses);
    st.apply(Kind::Nodes, Ev::Init);
    st.apply(Kind::Nodes, Ev::InitDone);
    assert!(!st.settled());
    st.set_health(Kind::CalicoNodeStatuses.scope(), SourceHealth::NotInstalled, false);
    assert!(st.settled());
    let out = st.flush(now(), false);
    assert!(out.iter().any(|u| matches!(u, Update::Health { scope, health: SourceHealth::NotInstalled, .. } if scope == "caliconodestatuses.projectcalico.org")));
}

/// `run` against a server that refuses connections: no panic, `Unreachable` for the whole source
/// (after, perhaps, `NoData` while waiting for its first answers), never `Ok`, and it returns once
/// the receiver is dropped.
#[tokio::test]
async fn run_reports_unreachable_and_stops_when_receiver_closes() {
    let config = kube::Config::new("http://127.0.0.1:9".parse().expect("uri"));
    let client = kube::Client::try_from(config).expect("client");
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let task = tokio::spawn(clustertop::sources::kube::run(client, Default::default(), tx));
    let mut saw = None;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while !matches!(saw, Some(SourceHealth::Unreachable { .. })) {
        let batch =
            tokio::time::timeout_at(deadline, rx.recv()).await.expect("a batch in time").expect("open");
        for u in batch {
            if let Update::Health { scope, health, .. } = u {
                assert_ne!(health, SourceHealth::Ok, "never ok while unreachable");
                if scope.is_empty() {
                    assert!(
                        matches!(health, SourceHealth::Unreachable { .. } | SourceHealth::NoData { .. }),
                        "{health:?}"
                    );
                    saw = Some(health);
                }
            }
        }
    }
    drop(rx);
    tokio::time::timeout(std::time::Duration::from_secs(5), task)
        .await
        .expect("run returns")
        .expect("no panic");
}

#[tokio::test]
async fn connect_errors_are_one_clear_line() {
    use clustertop::sources::kube::{KubeOptions, connect};
    let missing = KubeOptions { kubeconfig: Some("/nonexistent/k.yaml".into()), ..Default::default() };
    let e = connect(&missing).await.err().expect("error").to_string();
    assert_eq!(e, "kubeconfig /nonexistent/k.yaml: no such file");
    let dir = std::env::temp_dir().join(format!("clustertop-kube-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let path = dir.join("config");
    let yaml = "apiVersion: v1\nkind: Config\ncurrent-context: a\nclusters:\n- name: c\n  cluster:\n    server: https://10.0.0.1:6443\ncontexts:\n- name: a\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: t\n";
    std::fs::write(&path, yaml).expect("write kubeconfig");
    let bad =
        KubeOptions { kubeconfig: Some(path.clone()), context: Some("foo".into()), ..Default::default() };
    let e = connect(&bad).await.err().expect("error").to_string();
    assert_eq!(e, format!("context \"foo\" not found in kubeconfig {}; its contexts: a", path.display()));
    assert!(!e.contains('\n'));
    let good = KubeOptions { kubeconfig: Some(path.clone()), ..Default::default() };
    let (_, label) = connect(&good).await.expect("client");
    assert_eq!(label, "a https://10.0.0.1:6443");
    let _ = std::fs::remove_dir_all(&dir);
}

fn upstream_pod(name: &str) -> SlimPod {
    let path = format!("{}/tests/fixtures/upstream/kube/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    serde_json::from_str(&text).expect("pod JSON")
}

/// Istio's injected init container (NET_ADMIN, NET_RAW) under gVisor, and the Kubernetes docs'
/// sysctl example under Kata: the spec fields reach the model; a memory emptyDir that is not
/// mounted at /dev/shm is not a /dev/shm.
#[test]
fn sandbox_fields_of_upstream_pods_reach_the_model() {
    use clustertop::model::{AddedCap, SandboxAsks};
    let istio =
        map::pod(&upstream_pod("pod-istio-gvisor-productpage.json"), &[], &[], &mut Default::default());
    assert_eq!(&*istio.name, "productpage-v1-6b746f74dc-9stvs");
    assert_eq!(istio.runtime_class.as_deref(), Some("gvisor"));
    let cap = |k: &str| AddedCap { container: "istio-init".into(), capability: k.into() };
    assert_eq!(
        istio.sandbox.as_deref(),
        Some(&SandboxAsks { init_caps: vec![cap("NET_ADMIN"), cap("NET_RAW")], ..SandboxAsks::default() })
    );

    let sysctl = map::pod(&upstream_pod("pod-sysctl-example-kata.json"), &[], &[], &mut Default::default());
    let want = ["kernel.shm_rmid_forced", "net.core.somaxconn", "kernel.msgmax"].map(String::from).to_vec();
    assert_eq!(sysctl.sandbox.as_deref(), Some(&SandboxAsks { sysctls: want, ..SandboxAsks::default() }));

    // A plain pod carries no allocation.
    let web = map::pod(&upstream_pod("pod-web-running.json"), &[], &[], &mut Default::default());
    assert!(web.sandbox.is_none());
}

/// The remaining fields, on the Istio pod edited: hostPID/IPC, shareProcessNamespace, a memory
/// emptyDir at /dev/shm with its sizeLimit, hostPath; a main container's NET_ADMIN is not an init
/// container's.
#[test]
fn host_namespaces_dev_shm_and_host_paths_are_mapped() {
    use clustertop::model::DevShm;
    let mut v: Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{}/tests/fixtures/upstream/kube/pod-istio-gvisor-productpage.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("fixture"),
    )
    .expect("json");
    let spec = &mut v["spec"];
    spec["hostPID"] = true.into();
    spec["hostIPC"] = true.into();
    spec["shareProcessNamespace"] = true.into();
    spec["initContainers"] = serde_json::json!([]);
    spec["containers"][0]["securityContext"] = serde_json::json!({"capabilities": {"add": ["NET_ADMIN"]}});
    spec["containers"][0]["volumeMounts"] = serde_json::json!([{"mountPath": "/dev/shm", "name": "dshm"}]);
    spec["volumes"] = serde_json::json!([
        {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "2Gi"}},
        {"name": "logs", "hostPath": {"path": "/var/log", "type": "Directory"}}
    ]);
    let p: SlimPod = serde_json::from_value(v).expect("pod");
    let a = map::pod(&p, &[], &[], &mut Default::default()).sandbox.expect("asks");
    assert!(a.host_pid && a.host_ipc && a.share_process_namespace);
    assert_eq!(
        a.dev_shm,
        Some(DevShm { volume: "dshm".into(), memory: true, size_limit_bytes: Some(2 << 30) })
    );
    assert_eq!(a.host_paths, ["/var/log"]);
    assert!(a.init_caps.is_empty(), "{:?}", a.init_caps);
}

fn upstream(path: &str) -> DynamicObject {
    let path = format!("{}/tests/fixtures/upstream/cilium/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    serde_json::from_str(&text).expect("dynamic object")
}

/// Configured failover from upstream-shaped `CiliumBGPPeerConfig`s: graceful restart with its
/// restart time and custom timers, graceful restart off with Cilium's default timers, v2alpha1,
/// and an object that leaves both out (Cilium's defaults: off, 90/30 s).
#[test]
fn peer_config_failover_with_and_without_graceful_restart() {
    use clustertop::sources::kube::bgp::peer_failover;
    let f = |path: &str| {
        let x = peer_failover(Some(&upstream(path).data));
        (x.graceful_restart, x.restart_time_s, x.hold_time_conf_s, x.keepalive_conf_s)
    };
    assert_eq!(f("crd/v2/ciliumbgppeerconfig-tor-pod-cidr.json"), (Some(true), Some(120), Some(9), Some(3)));
    assert_eq!(
        f("crd/v2alpha1/ciliumbgppeerconfig-tor-pod-cidr.json"),
        (Some(true), Some(120), Some(9), Some(3))
    );
    assert_eq!(
        f("crd/v2/ciliumbgppeerconfig-tor-service-vips.json"),
        (Some(false), None, Some(90), Some(30))
    );
    let mut bare = upstream("crd/v2/ciliumbgppeerconfig-tor-pod-cidr.json");
    bare.data["spec"].as_object_mut().expect("spec").retain(|k, _| k == "families");
    let x = peer_failover(Some(&bare.data));
    assert_eq!(
        (x.graceful_restart, x.restart_time_s, x.hold_time_conf_s, x.keepalive_conf_s),
        (Some(false), None, Some(90), Some(30))
    );
    bare.data["spec"]["gracefulRestart"] = serde_json::json!({"enabled": true});
    bare.data["spec"]["timers"] = serde_json::json!({"holdTimeSeconds": 30});
    let x = peer_failover(Some(&bare.data));
    assert_eq!(
        (x.graceful_restart, x.restart_time_s, x.hold_time_conf_s, x.keepalive_conf_s),
        (Some(true), Some(120), Some(30), Some(30))
    );
}

/// The node's sessions (from the CiliumBGPNodeConfig status, applied timers) carry the
/// configured side of their peer's `peerConfigRef`; unknown while peer configs are unreadable.
#[test]
fn sessions_carry_their_peer_configs_failover() {
    let ev = |kind: Kind, path: &str| {
        let (k, obj) = reduce_dynamic(kind, &upstream(path), now()).expect("named");
        Ev::InitApply(k, obj)
    };
    let node_ev = || {
        let path =
            format!("{}/tests/fixtures/upstream/cilium/kube/node-bm-r1-n01.json", env!("CARGO_MANIFEST_DIR"));
        let n: Node = serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("node");
        let o = map::node_obj(&n);
        Ev::InitApply(o.name.clone(), clustertop::sources::kube::state::Obj::Node(Box::new(o)))
    };
    let (_, out) = run(vec![
        (Kind::Nodes, vec![node_ev()]),
        (Kind::BgpNodeConfigs, vec![ev(Kind::BgpNodeConfigs, "crd/v2/ciliumbgpnodeconfig-bm-r1-n01.json")]),
        (
            Kind::BgpPeerConfigs,
            vec![ev(Kind::BgpPeerConfigs, "crd/v2/ciliumbgppeerconfig-tor-pod-cidr.json")],
        ),
    ]);
    let s = sessions(&out, "bm-r1-n01").expect("sessions");
    assert_eq!(s.len(), 2);
    for x in &s {
        let f = &x.failover;
        assert_eq!(
            (f.graceful_restart, f.restart_time_s, f.hold_time_conf_s, f.keepalive_conf_s),
            (Some(true), Some(120), Some(9), Some(3))
        );
        assert_eq!((x.hold_time_s, x.keepalive_s), (Some(9), Some(3)), "applied");
        assert_eq!(f.peer_graceful_restart, None, "the CRDs do not say whether the TOR helps");
    }
    // No peer config listed: the reference cannot be resolved, so the configured side is unknown.
    let (_, out) = run(vec![
        (Kind::Nodes, vec![node_ev()]),
        (Kind::BgpNodeConfigs, vec![ev(Kind::BgpNodeConfigs, "crd/v2/ciliumbgpnodeconfig-bm-r1-n01.json")]),
    ]);
    let s = sessions(&out, "bm-r1-n01").expect("sessions");
    assert!(s.iter().all(|x| x.failover.graceful_restart.is_none() && x.failover.hold_time_conf_s.is_none()));
}

/// A node's detail rows from upstream objects: the events of a node and of pods (scheduler,
/// kubelet, a Warning with a count), and a pod's requests, restarts, age and class.
#[test]
fn upstream_events_map_to_detail_rows() {
    use clustertop::sources::kube::node_detail::{Offline, event_row, pod_row};
    use k8s_openapi::api::core::v1::{Event, Pod};
    let upstream = |name: &str| -> Value {
        let path = format!("{}/tests/fixtures/upstream/kube/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON")
    };
    let list = upstream("events-node-and-pod.json");
    let events: Vec<Event> = serde_json::from_value(list["items"].clone()).expect("events");
    let rows: Vec<_> = events.iter().map(event_row).collect();
    let brief: Vec<(&str, &str, &str, bool, u32, &str)> = rows
        .iter()
        .map(|r| {
            (r.kind.as_str(), r.object.as_str(), r.reason.as_str(), r.warning, r.count, r.source.as_str())
        })
        .collect();
    assert_eq!(
        brief,
        [
            ("Pod", "kube-system/coredns-6f6b679f8f-5m7kq", "Scheduled", false, 1, "default-scheduler"),
            ("Pod", "kube-system/coredns-6f6b679f8f-5m7kq", "Pulled", false, 1, "kubelet"),
            ("Pod", "kube-system/coredns-6f6b679f8f-rgq7r", "Unhealthy", true, 4, "kubelet"),
            ("Node", "events-exporter-test-control-plane", "NodeReady", false, 1, "kubelet"),
        ]
    );
    // The last time it happened, not the first.
    assert_eq!(rows[2].last, Some(Utc.with_ymd_and_hms(2024, 11, 17, 10, 20, 12).unwrap()));

    let pod: Pod = serde_json::from_value(upstream("pod-kata-running.json")).expect("pod");
    let offline = Offline { priority_classes: vec![], qos: vec!["BE".into()] };
    let row = pod_row(&pod, &offline);
    assert_eq!((row.namespace.as_str(), row.name.as_str()), ("sandbox", "kata-build-5f7b9c6d4-9qw2v"));
    assert_eq!(row.runtime_class.as_deref(), Some("kata-qemu"));
    assert_eq!((row.cpu_m, row.mem_bytes), (Some(2000), Some(4 << 30)));
    assert_eq!((row.phase.as_str(), row.restarts), ("Running", 0));
    assert_eq!(row.created, Some(Utc.with_ymd_and_hms(2026, 12, 7, 9, 47, 2).unwrap()));
}

/// Sandbox start from the pods' conditions: PodScheduled to PodReadyToStartContainers, whole
/// seconds (the kubelet's condition shapes, `pkg/kubelet/status/generate.go`).
#[test]
fn sandbox_start_from_upstream_pod_conditions() {
    let start = |p: &SlimPod| map::pod(p, &[], &[], &mut Default::default()).sandbox_start_s;
    // Kata: scheduled 09:47:02, sandbox ready 09:47:08 (Initialized is 09:47:02: no init
    // containers, so it says nothing about the sandbox).
    assert_eq!(start(&upstream_pod("pod-kata-running.json")), Some(6));
    assert_eq!(start(&upstream_pod("pod-gvisor-running.json")), Some(2));
    assert_eq!(start(&upstream_pod("pod-web-running.json")), Some(2));
    // Init containers run after the sandbox: 03:12:30 -> 03:12:32, not Initialized's 03:12:38.
    assert_eq!(start(&upstream_pod("pod-kube-flannel-ds.json")), Some(2));
    // A finished pod's sandbox is gone (PodReadyToStartContainers False): no figure, and no
    // fallback to Initialized.
    assert_eq!(start(&upstream_pod("pod-kata-job-succeeded.json")), None);
    assert_eq!(start(&upstream_pod("pod-failed.json")), None);
    assert_eq!(start(&upstream_pod("pod-pending-unscheduled.json")), None);

    let edited = |f: &dyn Fn(&mut Value)| {
        let path =
            format!("{}/tests/fixtures/upstream/kube/pod-web-running.json", env!("CARGO_MANIFEST_DIR"));
        let mut v: Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON");
        f(&mut v["status"]["conditions"]);
        serde_json::from_value::<SlimPod>(v).expect("pod")
    };
    // A kubelet without PodReadyToStartContainers (before 1.29): Initialized, 16:40:22 -> 16:40:22.
    let old = edited(&|c| {
        c.as_array_mut().expect("list").retain(|c| c["type"] != "PodReadyToStartContainers");
    });
    assert_eq!(start(&old), Some(0));
    // The sandbox recreated half an hour later (a node reboot): not a start time.
    let recreated = edited(&|c| {
        for c in c.as_array_mut().expect("list") {
            if c["type"] == "PodReadyToStartContainers" {
                c["lastTransitionTime"] = "2026-12-05T17:11:34Z".into();
            }
        }
    });
    assert_eq!(start(&recreated), None);
}

/// Koordinator's batch tier from upstream-shaped objects (`tests/fixtures/upstream/koordinator/`,
/// see its SOURCE.md): the node's `kubernetes.io/batch-cpu` (milli-cores, printed `38120`) and
/// `batch-memory` (`152044012Ki`) in `status.allocatable`; a pod's requests (`4k` = 4000 milli-cores,
/// `8Gi`); a pod without batch resources requests none; through the store, the node's batch
/// tier is its allocatable and its running pods' requests.
#[test]
fn koordinator_batch_allocatable_and_requests() {
    use clustertop::model::BatchRes;
    let up = |name: &str| -> Value {
        let path = format!("{}/tests/fixtures/upstream/koordinator/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture exists")).expect("JSON")
    };
    let n: Node = serde_json::from_value(up("node-wk-r3-n02.json")).expect("node");
    let o = map::node_obj(&n);
    let alloc = BatchRes { cpu_m: 38_120, mem_bytes: 152_044_012 * 1024 };
    assert_eq!(o.batch, Some(alloc));
    let info = map::node_info(&o, &Default::default(), "topology.kubernetes.io/zone");
    assert_eq!(info.batch_allocatable, Some(alloc));
    let mut plain: Node = serde_json::from_value(fixture("node-flannel.json")).expect("node");
    plain.metadata.name = Some("wk-r3-n01".into());
    assert_eq!(map::node_obj(&plain).batch, None, "a node without batch resources");

    let pod = |name: &str| -> clustertop::model::Pod {
        let p: SlimPod = serde_json::from_value(up(name)).expect("pod");
        map::pod(&p, &["koord-batch".into()], &["BE".into()], &mut Default::default())
    };
    let a = pod("pod-a-batch-label-priority-5500.json");
    assert_eq!(a.batch.as_deref(), Some(&BatchRes { cpu_m: 4000, mem_bytes: 8 << 30 }));
    let d = pod("pod-d-priorityclassname-koord-batch.json");
    assert_eq!(d.batch.as_deref(), Some(&BatchRes { cpu_m: 2500, mem_bytes: 4 << 30 }));
    let c = pod("pod-c-priority-9500.json");
    assert_eq!(c.batch, None);

    let mut st = clustertop::store::ClusterState::new("t", Default::default());
    st.apply(Update::NodeApplied { node: info, at: now() });
    let on_node = |mut p: clustertop::model::Pod| {
        p.node = Some("wk-r3-n02".into());
        p
    };
    let (a, c) = (on_node(a), on_node(c));
    let mut done = on_node(d.clone());
    done.name = "finished".into();
    done.phase = "Succeeded".into();
    st.apply(Update::PodsReplaced(vec![a, c, on_node(d), done]));
    let snap = st.snapshot(now());
    let b = snap.node("wk-r3-n02").and_then(|n| n.batch).expect("batch tier");
    assert_eq!(b.allocatable, alloc);
    assert_eq!(b.requested, Some(BatchRes { cpu_m: 6500, mem_bytes: 12 << 30 }), "running pods only");
}
