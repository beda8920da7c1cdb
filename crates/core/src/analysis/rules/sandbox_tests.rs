use super::*;
use crate::model::{AddedCap, DevShm, Pods};
use crate::testkit::*;

const GI: u64 = 1024 * 1024 * 1024;
const MI: u64 = 1024 * 1024;

fn classes() -> Vec<RuntimeClass> {
    let mut kata = class("kata", "kata-qemu", &[]);
    kata.overhead_cpu_m = Some(250);
    kata.overhead_mem_bytes = Some(320 * MI);
    vec![kata, class("gvisor", "runsc", &[]), class("runc", "runc", &[])]
}

fn asking(ns: &str, name: &str, class: Option<&str>, f: impl FnOnce(&mut SandboxAsks)) -> Pod {
    let mut p = pod(ns, name, "n1", class);
    let mut a = SandboxAsks::default();
    f(&mut a);
    p.sandbox = a.boxed();
    p
}

fn run_with(nodes: Vec<Node>, classes: Vec<RuntimeClass>, pods: Vec<Pod>) -> Vec<Finding> {
    let mut snap = snapshot(nodes);
    snap.runtime_classes = classes;
    snap.pods = Arc::new(Pods::from_vec(pods));
    let mut out = Vec::new();
    check(&snap, &mut out);
    out
}

fn run(pods: Vec<Pod>) -> Vec<Finding> {
    run_with(vec![with_kvm(node("n1"), Some(true))], classes(), pods)
}

fn keys(f: &[Finding]) -> Vec<(Rule, &str)> {
    f.iter().map(|f| (f.rule, f.subject.as_str())).collect()
}

#[test]
fn kata_host_pid_or_ipc_warns_runc_does_not() {
    let f = run(vec![
        asking("a", "pid", Some("kata"), |a| a.host_pid = true),
        asking("a", "ipc", Some("kata"), |a| a.host_ipc = true),
        asking("a", "runc", Some("runc"), |a| a.host_pid = true),
        asking("a", "default", None, |a| a.host_ipc = true),
    ]);
    assert_eq!(keys(&f), vec![(Rule::KataHostPidIpc, "a/ipc"), (Rule::KataHostPidIpc, "a/pid")]);
    assert!(f[0].evidence.iter().any(|e| e == "spec.hostIPC: true"), "{:?}", f[0].evidence);
    assert_eq!(f[0].severity, Severity::Warning);
}

#[test]
fn kata_shared_process_namespace_is_info_gvisor_is_not_flagged() {
    let f = run(vec![
        asking("a", "k", Some("kata"), |a| a.share_process_namespace = true),
        asking("a", "g", Some("gvisor"), |a| a.share_process_namespace = true),
    ]);
    assert_eq!(keys(&f), vec![(Rule::KataShareProcessNamespace, "a/k")]);
    assert_eq!(f[0].severity, Severity::Info);
}

#[test]
fn kata_sysctls_name_the_sysctls_runc_does_not() {
    let f = run(vec![
        asking("a", "k", Some("kata"), |a| a.sysctls = vec!["net.core.somaxconn".into()]),
        asking("a", "r", Some("runc"), |a| a.sysctls = vec!["net.core.somaxconn".into()]),
    ]);
    assert_eq!(keys(&f), vec![(Rule::KataSysctls, "a/k")]);
    assert!(f[0].evidence[1].contains("net.core.somaxconn"));
}

#[test]
fn kata_large_memory_shm_warns_disk_backed_or_small_does_not() {
    let shm = |memory, size: Option<u64>| {
        move |a: &mut SandboxAsks| {
            a.dev_shm = Some(DevShm { volume: "dshm".into(), memory, size_limit_bytes: size })
        }
    };
    let f = run(vec![
        asking("a", "big", Some("kata"), shm(true, Some(4 * GI))),
        asking("a", "unbounded", Some("kata"), shm(true, None)),
        asking("a", "disk", Some("kata"), shm(false, None)),
        asking("a", "small", Some("kata"), shm(true, Some(GI))),
        asking("a", "runc", Some("runc"), shm(true, Some(4 * GI))),
    ]);
    assert_eq!(keys(&f), vec![(Rule::KataLargeShm, "a/big"), (Rule::KataLargeShm, "a/unbounded")]);
    assert!(f[0].evidence[1].contains("sizeLimit 4Gi"), "{:?}", f[0].evidence);
    assert!(f[1].evidence[1].contains("no sizeLimit"), "{:?}", f[1].evidence);
}

#[test]
fn gvisor_init_net_admin_warns_main_container_or_other_caps_do_not() {
    let cap = |c: &str, k: &str| AddedCap { container: c.into(), capability: k.into() };
    let f = run(vec![
        asking("a", "mesh", Some("gvisor"), |a| a.init_caps = vec![cap("istio-init", "NET_ADMIN")]),
        asking("a", "raw", Some("gvisor"), |a| a.init_caps = vec![cap("init", "NET_RAW")]),
        // The mapping records init containers' capabilities only: a main container's NET_ADMIN
        // never reaches `init_caps` (tests/fast/kube_mapping.rs).
        asking("a", "main", Some("gvisor"), |_| {}),
        asking("a", "kata", Some("kata"), |a| a.init_caps = vec![cap("istio-init", "NET_ADMIN")]),
    ]);
    assert_eq!(keys(&f), vec![(Rule::GvisorInitNetAdmin, "a/mesh")]);
    assert!(f[0].evidence[1].ends_with(": istio-init"), "{:?}", f[0].evidence);
}

#[test]
fn gvisor_host_path_warns_kata_and_runc_do_not() {
    let hp = |a: &mut SandboxAsks| a.host_paths = vec!["/var/log".into()];
    let f = run(vec![
        asking("a", "g", Some("gvisor"), hp),
        asking("a", "k", Some("kata"), hp),
        asking("a", "r", Some("runc"), hp),
    ]);
    assert_eq!(keys(&f), vec![(Rule::GvisorHostPath, "a/g")]);
    assert!(f[0].evidence[1].contains("/var/log"));
}

#[test]
fn unknown_class_and_finished_pods_get_nothing() {
    let mut done = asking("a", "done", Some("kata"), |a| a.host_pid = true);
    done.phase = "Succeeded".into();
    let f = run(vec![done, asking("a", "unknown", Some("nope"), |a| a.host_pid = true)]);
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn kata_class_without_or_with_small_overhead_warns() {
    let mut small = class("kata-clh", "kata-clh", &[]);
    (small.overhead_cpu_m, small.overhead_mem_bytes) = (Some(250), Some(64 * MI));
    let mut ok = class("kata-fc", "kata-fc", &[]);
    (ok.overhead_cpu_m, ok.overhead_mem_bytes) = (Some(250), Some(130 * MI));
    let none = class("kata-bare", "kata-qemu", &[]);
    let gvisor = class("gvisor", "runsc", &[]);
    let f = run_with(vec![with_kvm(node("n1"), Some(true))], vec![small, ok, none, gvisor], vec![]);
    assert_eq!(keys(&f), vec![(Rule::KataClassOverhead, "kata-clh"), (Rule::KataClassOverhead, "kata-bare")]);
    assert!(f[0].what.contains("64Mi"), "{}", f[0].what);
    assert!(f[1].what.contains("declares no overhead"), "{}", f[1].what);
}

#[test]
fn class_selecting_no_runnable_node_warns() {
    let labelled = |name: &str, kvm: Option<bool>, l: &[(&str, &str)]| {
        let mut n = with_kvm(node(name), kvm);
        n.labels = l.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        n
    };
    let sel = [("katacontainers.io/kata-runtime", "true")];
    let with_overhead = |mut c: RuntimeClass| {
        (c.overhead_cpu_m, c.overhead_mem_bytes) = (Some(250), Some(320 * MI));
        c
    };
    let nodes = || {
        vec![
            labelled("a", Some(false), &sel),
            labelled("b", Some(true), &[]),
            labelled("c", None, &[("sandbox", "gvisor")]),
        ]
    };
    // Kata selecting only nodes without KVM; gVisor selecting a label nobody has.
    let f = run_with(
        nodes(),
        vec![with_overhead(class("kata", "kata-qemu", &sel)), class("gv", "runsc", &[("sandbox", "runsc")])],
        vec![],
    );
    assert_eq!(
        keys(&f),
        vec![(Rule::RuntimeClassNoRunnableNode, "kata"), (Rule::RuntimeClassNoRunnableNode, "gv")]
    );
    assert!(f[0].evidence[1].ends_with(": a"), "{:?}", f[0].evidence);
    // Near misses: a selected node with KVM unknown, a gVisor class matching a node, no nodes known.
    let mut n = nodes();
    n[0] = labelled("a", None, &sel);
    let f = run_with(
        n,
        vec![with_overhead(class("kata", "kata-qemu", &sel)), class("gv", "runsc", &[("sandbox", "gvisor")])],
        vec![],
    );
    assert!(f.is_empty(), "{f:#?}");
    assert!(run_with(vec![], vec![class("gv", "runsc", &[("x", "y")])], vec![]).is_empty());
}
