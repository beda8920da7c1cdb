//! Sandbox compatibility: pod specs that ask a Kata VM or a gVisor sandbox for something it gives
//! differently from runc, and RuntimeClasses that cannot give their pods a sandbox.
//!
//! Which pods are Kata or gVisor: their RuntimeClass's handler (`RuntimeKind::from_handler`). A
//! pod whose class is not known gets no finding (unknown is not a confident answer), nor does a
//! finished pod (Succeeded, Failed). `hostNetwork` on Kata is `runtime::host_network`.
//!
//! Sources (kata-containers @ `6662ad70`, gVisor docs as published):
//! - Kata `docs/Limitations.md` "Host network" and "Support for joining an existing VM network":
//!   the VM cannot share a host namespace; "Kubernetes hostPath volumes": host paths reach the
//!   guest through filesystem sharing (or are copied in, unsynchronised, in TEEs).
//! - Kata `docs/how-to/how-to-use-sysctls-with-kata.md`: namespaced sysctls are set "inside the
//!   guest", not on the host.
//! - Kata agent `src/agent/src/rpc.rs` (`sandbox_pidns`): a shared PID namespace is the guest's.
//! - kata-deploy `helm-chart/kata-deploy/templates/runtimeclasses.yaml`: the per-shim
//!   `overhead.podFixed` defaults (clh/fc/dragonball 130Mi, qemu 320Mi, 250m cpu); "without
//!   overhead ... the VMM [gets] OOM-killed for small-memory-limit pods".
//! - gVisor, "Docker in gVisor" (gvisor.dev/docs/tutorials/docker-in-gvisor): dockerd must run
//!   with `--iptables=false`; raw sockets need `runsc --net-raw`; google/gvisor#9917: `iptables`
//!   and `iptables-legacy` fail in a default runsc sandbox. gVisor's netstack is its own, not the
//!   host's netfilter.
//! - gVisor compatibility guide (gvisor.dev/docs/user_guide/compatibility) and runsc's gofer:
//!   host files are served through the gofer; runsc's default file access assumes the sandbox
//!   owns its mounts (`--file-access-mounts`), so host-side changes to a hostPath may be unseen.

use std::collections::HashMap;
use std::sync::Arc;

use super::list;
use super::runtime::{MAX_LISTED_NODES, selects};
use crate::model::{Finding, Node, Pod, Rule, RuntimeClass, RuntimeKind, SandboxAsks, Severity, Snapshot};

/// A Kata RuntimeClass's `overhead.podFixed` memory below this is too small for its VM: the
/// smallest default kata-deploy ships for a local VMM (Cloud Hypervisor, Firecracker,
/// Dragonball: 130Mi; QEMU 320Mi).
pub const KATA_MIN_OVERHEAD_MEM: u64 = 130 * 1024 * 1024;
/// The same for cpu: every kata-deploy default is at least 250m.
pub const KATA_MIN_OVERHEAD_CPU_M: u64 = 250;
/// A memory-backed `/dev/shm` larger than this (or without `sizeLimit`) is "large" in a Kata
/// guest: half of Kata's default 2 GiB guest (`default_memory`), which is also tmpfs's default
/// size there, so the shm competes with the workload for the VM's memory, not the node's.
pub const KATA_LARGE_SHM: u64 = 1024 * 1024 * 1024;

pub fn check(snap: &Snapshot, out: &mut Vec<Finding>) {
    let classes: HashMap<&str, &RuntimeClass> = snap
        .runtime_classes
        .iter()
        .filter(|c| matches!(c.kind, RuntimeKind::Kata | RuntimeKind::Gvisor))
        .map(|c| (c.name.as_str(), c))
        .collect();
    if !classes.is_empty() {
        for p in snap.pods.iter().filter(|p| !p.finished()) {
            let Some(asks) = p.sandbox.as_deref() else { continue };
            let Some(c) = p.runtime_class.as_deref().and_then(|c| classes.get(c)) else { continue };
            match c.kind {
                RuntimeKind::Kata => kata_pod(p, asks, c, out),
                RuntimeKind::Gvisor => gvisor_pod(p, asks, c, out),
                RuntimeKind::Runc | RuntimeKind::Other => {}
            }
        }
    }
    for c in &snap.runtime_classes {
        if c.kind == RuntimeKind::Kata {
            overhead(c, out);
        }
        no_runnable_node(c, &snap.nodes, out);
    }
}

/// Bytes as Kubernetes writes memory quantities: `130Mi`, `1.5Gi`.
fn mib(b: u64) -> String {
    let m = b as f64 / (1024.0 * 1024.0);
    if m >= 1024.0 { format!("{}Gi", trim(m / 1024.0)) } else { format!("{}Mi", trim(m)) }
}

fn trim(x: f64) -> String {
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map_or(s.clone(), str::to_string)
}

fn subject(p: &Pod) -> String {
    format!("{}/{}", p.namespace, p.name)
}

fn class_line(c: &RuntimeClass) -> String {
    format!("runtimeClassName {} (handler {}, kind {})", c.name, c.handler, c.kind.label())
}

fn pod_finding(
    p: &Pod,
    c: &RuntimeClass,
    rule: Rule,
    what: String,
    ev: Vec<String>,
    remedy: String,
) -> Finding {
    let mut evidence = vec![class_line(c)];
    evidence.extend(ev);
    evidence.push(format!("node {}, pod phase {}", p.node.as_deref().unwrap_or("(unscheduled)"), p.phase));
    Finding { rule, severity: Severity::Warning, subject: subject(p), since: None, what, evidence, remedy }
}

fn kata_pod(p: &Pod, a: &SandboxAsks, c: &RuntimeClass, out: &mut Vec<Finding>) {
    if a.host_pid || a.host_ipc {
        let fields: Vec<&str> = [(a.host_pid, "spec.hostPID: true"), (a.host_ipc, "spec.hostIPC: true")]
            .into_iter()
            .filter_map(|(on, f)| on.then_some(f))
            .collect();
        out.push(pod_finding(
            p,
            c,
            Rule::KataHostPidIpc,
            "Kata pod asks for the host's PID/IPC namespace: a VM sandbox cannot join host namespaces, \
             it sees only the guest's"
                .into(),
            fields.iter().map(|f| f.to_string()).collect(),
            "Run this pod with runc (drop runtimeClassName) if it must see host processes or host IPC; \
             otherwise drop hostPID/hostIPC."
                .into(),
        ));
    }
    if a.share_process_namespace {
        let mut f = pod_finding(
            p,
            c,
            Rule::KataShareProcessNamespace,
            "Kata pod shares its process namespace: the shared PID namespace lives in the guest VM, so \
             its containers see each other but nothing of the host"
                .into(),
            vec!["spec.shareProcessNamespace: true".into()],
            "Fine for sidecars that signal each other inside the pod; if a container expects host PIDs \
             (node debugging, host process agents) run it with runc instead."
                .into(),
        );
        f.severity = Severity::Info;
        out.push(f);
    }
    if !a.sysctls.is_empty() {
        let mut f = pod_finding(
            p,
            c,
            Rule::KataSysctls,
            format!(
                "Kata pod sets {} sysctl(s): Kata applies them inside the guest kernel, not the node's",
                a.sysctls.len()
            ),
            vec![format!("spec.securityContext.sysctls: {}", list(&a.sysctls, 8))],
            "Check the workload only needs them inside its own VM (net.*, kernel.shm*, kernel.msg*, \
             kernel.sem, fs.mqueue.*); unsafe ones still need the kubelet's --allowed-unsafe-sysctls. \
             Host-level tuning belongs on the node, not in the pod."
                .into(),
        );
        f.severity = Severity::Info;
        out.push(f);
    }
    if let Some(shm) = a.dev_shm.as_ref().filter(|s| s.memory) {
        let large = shm.size_limit_bytes.is_none_or(|b| b > KATA_LARGE_SHM);
        if large {
            let size =
                shm.size_limit_bytes.map_or("no sizeLimit".to_string(), |b| format!("sizeLimit {}", mib(b)));
            out.push(pod_finding(
                p,
                c,
                Rule::KataLargeShm,
                "Kata pod wants a large memory-backed /dev/shm: in a VM it is a tmpfs in guest memory, \
                 bounded by the VM's size, not the node's"
                    .into(),
                vec![format!(
                    "volume {} (emptyDir medium Memory, {size}) mounted at /dev/shm; above {} counts as large",
                    shm.volume,
                    mib(KATA_LARGE_SHM)
                )],
                "Give the pod a memory limit that covers the shm (Kata sizes the VM from the limits), set \
                 emptyDir.sizeLimit to what it needs, or run it with runc."
                    .into(),
            ));
        }
    }
}

fn gvisor_pod(p: &Pod, a: &SandboxAsks, c: &RuntimeClass, out: &mut Vec<Finding>) {
    let net_admin: Vec<&str> = a
        .init_caps
        .iter()
        .filter(|x| x.capability.trim_start_matches("CAP_") == "NET_ADMIN")
        .map(|x| x.container.as_str())
        .collect();
    if !net_admin.is_empty() {
        out.push(pod_finding(
            p,
            c,
            Rule::GvisorInitNetAdmin,
            "gVisor pod's init container adds NET_ADMIN to program iptables: gVisor's netstack is not \
             the host's netfilter, and iptables fails there by default"
                .into(),
            vec![format!("initContainers adding NET_ADMIN: {}", list(&net_admin, 8))],
            "Move the redirect out of the pod (a CNI plugin such as istio-cni, or ambient mode), or run \
             the pod with runc; test the init container under runsc before relying on it."
                .into(),
        ));
    }
    if !a.host_paths.is_empty() {
        out.push(pod_finding(
            p,
            c,
            Rule::GvisorHostPath,
            "gVisor pod mounts hostPath: host files are served through runsc's gofer, and changes made on \
             the host may not be seen inside the sandbox"
                .into(),
            vec![format!("hostPath volumes: {}", list(&a.host_paths, 8))],
            "Use a volume the pod owns (emptyDir, PVC, ConfigMap), or run the pod with runc if it must \
             share live host files."
                .into(),
        ));
    }
}

fn overhead(c: &RuntimeClass, out: &mut Vec<Finding>) {
    let (cpu, mem) = (c.overhead_cpu_m, c.overhead_mem_bytes);
    let what = match (cpu, mem) {
        (None, None) => format!(
            "Kata RuntimeClass {} declares no overhead: the scheduler and kubelet do not count its VM",
            c.name
        ),
        (_, Some(m)) if m < KATA_MIN_OVERHEAD_MEM => {
            format!("Kata RuntimeClass {}'s overhead memory {} is below what its VM needs", c.name, mib(m))
        }
        (Some(m), _) if m < KATA_MIN_OVERHEAD_CPU_M => {
            format!("Kata RuntimeClass {}'s overhead cpu {m}m is below what its VM needs", c.name)
        }
        (None, _) | (_, None) => format!("Kata RuntimeClass {} declares only part of its overhead", c.name),
        _ => return,
    };
    let show = |x: Option<String>| x.unwrap_or_else(|| "unset".into());
    out.push(Finding {
        rule: Rule::KataClassOverhead,
        severity: Severity::Warning,
        subject: c.name.clone(),
        since: None,
        what,
        evidence: vec![
            format!("handler {}", c.handler),
            format!(
                "overhead.podFixed cpu {}, memory {}",
                show(cpu.map(|m| format!("{m}m"))),
                show(mem.map(mib))
            ),
            format!(
                "threshold: cpu {KATA_MIN_OVERHEAD_CPU_M}m, memory {} (kata-deploy's smallest local-VMM default)",
                mib(KATA_MIN_OVERHEAD_MEM)
            ),
        ],
        remedy: format!(
            "Set RuntimeClass {}'s overhead.podFixed to at least cpu 250m and memory 130Mi (Cloud Hypervisor, \
             Firecracker) or 320Mi (QEMU), measured as Kata's how-to-size-sandbox-overhead guide says; \
             without it nodes are overcommitted by one VM per pod.",
            c.name
        ),
    });
}

/// A class whose `scheduling.nodeSelector` selects no node at all, or (Kata, KVM known on every
/// node it selects) only nodes without KVM. Needs a known node list.
fn no_runnable_node(c: &RuntimeClass, nodes: &[Arc<Node>], out: &mut Vec<Finding>) {
    if nodes.is_empty() {
        return;
    }
    let selected: Vec<&Node> = nodes.iter().map(|n| &**n).filter(|n| selects(c, n)).collect();
    let kv: Vec<String> = c.node_selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let selector = if kv.is_empty() {
        "no scheduling.nodeSelector".to_string()
    } else {
        format!("scheduling.nodeSelector {}", kv.join(","))
    };
    let mut evidence = vec![format!("handler {}, {selector}", c.handler)];
    let what = if selected.is_empty() {
        evidence.push(format!("no node of {} has these labels", nodes.len()));
        format!("RuntimeClass {} selects no node: its pods stay Pending", c.name)
    } else if c.kind == RuntimeKind::Kata && selected.iter().all(|n| n.kvm() == Some(false)) {
        let names: Vec<&str> = selected.iter().map(|n| n.name.as_str()).collect();
        evidence.push(format!("every node it selects has kvm=false: {}", list(&names, MAX_LISTED_NODES)));
        format!("Kata RuntimeClass {} selects only nodes without KVM: none can start its VMs", c.name)
    } else {
        return;
    };
    if let Some(n) = c.pods {
        evidence.push(format!("{n} pod(s) use this class"));
    }
    out.push(Finding {
        rule: Rule::RuntimeClassNoRunnableNode,
        severity: Severity::Warning,
        subject: c.name.clone(),
        since: None,
        what,
        evidence,
        remedy: format!(
            "Label the nodes that can run handler {} so RuntimeClass {}'s scheduling.nodeSelector matches \
             them (kata-deploy labels them katacontainers.io/kata-runtime=true), or fix the selector.",
            c.handler, c.name
        ),
    });
}

#[cfg(test)]
#[path = "sandbox_tests.rs"]
mod tests;
