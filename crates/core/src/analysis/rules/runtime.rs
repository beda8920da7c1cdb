//! Runtime rules: Kata pods and classes on nodes without KVM, Kata pods with host networking, pods
//! on nodes their RuntimeClass's `scheduling.nodeSelector` does not match. Finished pods
//! (Succeeded, Failed) run nothing and are left out.

use std::collections::HashMap;
use std::sync::Arc;

use super::list;
use crate::model::{Finding, Node, Pod, Rule, RuntimeClass, RuntimeKind, Severity, Snapshot};

/// Nodes named in a class finding's evidence before `... and N more`.
pub const MAX_LISTED_NODES: usize = 10;

pub fn check(snap: &Snapshot, out: &mut Vec<Finding>) {
    mismatch(snap, out);
    let kata: HashMap<&str, &RuntimeClass> = snap
        .runtime_classes
        .iter()
        .filter(|c| c.kind == RuntimeKind::Kata)
        .map(|c| (c.name.as_str(), c))
        .collect();
    if kata.is_empty() {
        return;
    }
    // By node: each node is looked up once, not once per pod (150,000 at scale).
    for (node, pods) in snap.pods.nodes() {
        let no_kvm = snap.node(node).filter(|n| n.kvm() == Some(false));
        // A finished pod (a completed Job) needs no sandbox any more.
        for p in pods.iter().filter(|p| !p.finished()) {
            let Some(class) = p.runtime_class.as_deref().and_then(|c| kata.get(c)) else { continue };
            if let Some(n) = no_kvm {
                pod_without_kvm(p, class, n, out);
            }
            if p.host_network {
                host_network(p, class, out);
            }
        }
    }
    let mut classes: Vec<&&RuntimeClass> = kata.values().collect();
    classes.sort_by(|a, b| a.name.cmp(&b.name));
    for c in classes {
        class_without_kvm(c, &snap.nodes, out);
    }
}

fn subject(p: &Pod) -> String {
    format!("{}/{}", p.namespace, p.name)
}

fn class_line(c: &RuntimeClass) -> String {
    format!("runtimeClassName {} (handler {}, kind {})", c.name, c.handler, c.kind.label())
}

fn pod_without_kvm(p: &Pod, c: &RuntimeClass, n: &Node, out: &mut Vec<Finding>) {
    out.push(Finding {
        rule: Rule::KataWithoutKvm,
        severity: Severity::Critical,
        subject: subject(p),
        since: None,
        what: format!("Kata pod on {}, which has no KVM: its sandbox VM cannot start", n.name),
        evidence: vec![
            class_line(c),
            format!("node {}: /dev/kvm or vmx/svm missing (kvm=false)", n.name),
            format!("pod phase {}", p.phase),
        ],
        remedy: format!(
            "Give RuntimeClass {} a scheduling.nodeSelector that only matches KVM-capable nodes (label \
             them, e.g. katacontainers.io/kata-runtime=true), or enable VT-x/AMD-V in the BIOS and load \
             kvm_intel/kvm_amd on {}; then delete the pod so it is rescheduled.",
            c.name, n.name
        ),
    });
}

fn host_network(p: &Pod, c: &RuntimeClass, out: &mut Vec<Finding>) {
    out.push(Finding {
        rule: Rule::KataHostNetwork,
        severity: Severity::Warning,
        subject: subject(p),
        since: None,
        what: "Kata pod asks for hostNetwork: a VM sandbox cannot share the host network namespace".into(),
        evidence: vec![class_line(c), "spec.hostNetwork: true".into(), format!("pod phase {}", p.phase)],
        remedy: "Run this pod with runc (drop runtimeClassName) if it needs the host network, or drop \
                 hostNetwork and expose it through a Service/hostPort."
            .into(),
    });
}

/// Classes of `kind` that restrict where they run (a non-empty nodeSelector).
pub fn selective(snap: &Snapshot, kind: RuntimeKind) -> impl Iterator<Item = &RuntimeClass> {
    snap.runtime_classes.iter().filter(move |c| c.kind == kind && !c.node_selector.is_empty())
}

/// All selector labels equal the node's labels (an empty selector matches every node).
pub fn selects(c: &RuntimeClass, n: &Node) -> bool {
    c.node_selector.iter().all(|(k, v)| n.labels.get(k) == Some(v))
}

fn class_without_kvm(c: &RuntimeClass, nodes: &[Arc<Node>], out: &mut Vec<Finding>) {
    let bad: Vec<&str> =
        nodes.iter().filter(|n| n.kvm() == Some(false) && selects(c, n)).map(|n| n.name.as_str()).collect();
    if bad.is_empty() {
        return;
    }
    let selector = if c.node_selector.is_empty() {
        "no scheduling.nodeSelector: every node is eligible".to_string()
    } else {
        let kv: Vec<String> = c.node_selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("scheduling.nodeSelector {}", kv.join(","))
    };
    out.push(Finding {
        rule: Rule::KataClassWithoutKvm,
        severity: Severity::Warning,
        subject: c.name.clone(),
        since: None,
        what: format!("Kata RuntimeClass {} selects {} node(s) without KVM", c.name, bad.len()),
        evidence: vec![
            format!("handler {}, {selector}", c.handler),
            format!("nodes with kvm=false it selects: {}", list(&bad, MAX_LISTED_NODES)),
        ],
        remedy: format!(
            "Narrow RuntimeClass {}'s scheduling.nodeSelector to KVM-capable nodes, or remove the \
             selecting labels from the nodes listed; pods of this class that land there fail to start.",
            c.name
        ),
    });
}

/// Pods running on a node their class's `scheduling.nodeSelector` does not select (the node's
/// labels changed after scheduling, or the pod bypassed the scheduler with `spec.nodeName`).
fn mismatch(snap: &Snapshot, out: &mut Vec<Finding>) {
    let classes: HashMap<&str, &RuntimeClass> = snap
        .runtime_classes
        .iter()
        .filter(|c| !c.node_selector.is_empty())
        .map(|c| (c.name.as_str(), c))
        .collect();
    if classes.is_empty() {
        return;
    }
    let classes = &classes;
    // By node: each node is looked up once, not once per pod.
    let pods = snap.pods.nodes().filter_map(|(node, pods)| Some((snap.node(node)?, pods)));
    for (n, p, c) in pods.flat_map(|(n, pods)| {
        pods.iter()
            .filter(|p| !p.finished())
            .filter_map(move |p| Some((n, p, *classes.get(p.runtime_class.as_deref()?)?)))
    }) {
        if selects(c, n) {
            continue;
        }
        let kv: Vec<String> = c.node_selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let diff: Vec<String> = c
            .node_selector
            .iter()
            .filter(|(k, v)| n.labels.get(*k) != Some(*v))
            .map(|(k, v)| match n.labels.get(k) {
                Some(have) => format!("node label {k}={have} (class wants {v})"),
                None => format!("node label {k} absent (class wants {v})"),
            })
            .collect();
        let mut evidence = vec![class_line(c), format!("scheduling.nodeSelector {}", kv.join(","))];
        evidence.extend(diff);
        evidence.push(format!("pod phase {}", p.phase));
        out.push(Finding {
            rule: Rule::RuntimeClassMismatch,
            severity: Severity::Warning,
            subject: subject(p),
            since: None,
            what: format!("Pod runs on {}, which RuntimeClass {} does not select", n.name, c.name),
            evidence,
            remedy: format!(
                "Relabel {} to match RuntimeClass {}'s scheduling.nodeSelector if it can run handler {}, \
                 or delete the pod so the scheduler places it on a matching node (and do not set \
                 spec.nodeName by hand).",
                n.name, c.name, c.handler
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;
    use std::sync::Arc;

    fn labelled(name: &str, kvm: Option<bool>, labels: &[(&str, &str)]) -> Node {
        let mut n = with_kvm(node(name), kvm);
        n.labels = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        n
    }
    fn run(nodes: Vec<Node>, classes: Vec<RuntimeClass>, pods: Vec<Pod>) -> Vec<Finding> {
        let mut snap = snapshot(nodes);
        snap.runtime_classes = classes;
        snap.pods = Arc::new(crate::model::Pods::from_vec(pods));
        let mut out = Vec::new();
        check(&snap, &mut out);
        out
    }
    fn keys(f: &[Finding]) -> Vec<(Rule, Severity, &str)> {
        f.iter().map(|f| (f.rule, f.severity, f.subject.as_str())).collect()
    }

    #[test]
    fn kata_pod_on_node_without_kvm_is_critical() {
        let sel = [("kvm", "yes")];
        let nodes = vec![labelled("good", Some(true), &sel), labelled("bad", Some(false), &[])];
        let classes = vec![class("kata", "kata-qemu", &sel), class("runc", "runc", &[])];
        let pods = vec![
            pod("batch", "job-1", "bad", Some("kata")),
            pod("batch", "job-2", "good", Some("kata")),
            pod("web", "api", "bad", Some("runc")),
            pod("web", "plain", "bad", None),
        ];
        let f = run(nodes, classes, pods);
        // job-1 also sits outside the class's selector (kvm=yes): that is the mismatch warning.
        assert_eq!(
            keys(&f),
            vec![
                (Rule::RuntimeClassMismatch, Severity::Warning, "batch/job-1"),
                (Rule::KataWithoutKvm, Severity::Critical, "batch/job-1"),
            ]
        );
        assert!(f[1].evidence[1].contains("node bad"));
    }

    #[test]
    fn finished_pods_raise_no_placement_finding() {
        let sel = [("kvm", "yes")];
        let nodes = vec![labelled("bad", Some(false), &[])];
        let classes = vec![class("kata", "kata-qemu", &sel)];
        let mut done = pod("batch", "job-1", "bad", Some("kata"));
        done.phase = "Succeeded".into();
        let mut failed = pod("batch", "job-2", "bad", Some("kata"));
        failed.phase = "Failed".into();
        failed.host_network = true;
        let f = run(nodes, classes, vec![done, failed]);
        let pods: Vec<&str> = f.iter().map(|f| f.subject.as_str()).filter(|s| s.contains('/')).collect();
        assert!(pods.is_empty(), "{f:#?}");
    }

    #[test]
    fn unknown_kvm_is_not_a_finding() {
        let f = run(
            vec![labelled("n", None, &[])],
            vec![class("kata", "kata-clh", &[])],
            vec![pod("a", "b", "n", Some("kata"))],
        );
        assert!(f.is_empty());
    }

    #[test]
    fn class_selecting_a_node_without_kvm_warns() {
        let sel = [("pool", "batch")];
        let nodes = vec![
            labelled("b1", Some(false), &[("pool", "batch"), ("zone", "x")]),
            labelled("b2", Some(true), &sel),
            labelled("w1", Some(false), &[("pool", "web")]),
        ];
        let f = run(nodes, vec![class("kata-batch", "kata-qemu", &sel)], vec![]);
        assert_eq!(keys(&f), vec![(Rule::KataClassWithoutKvm, Severity::Warning, "kata-batch")]);
        assert!(f[0].evidence[1].ends_with(": b1"), "{:?}", f[0].evidence);
        // No selector: every node without KVM is eligible.
        let f = run(vec![labelled("w1", Some(false), &[])], vec![class("kata", "kata", &[])], vec![]);
        assert_eq!(f.len(), 1);
        assert!(f[0].evidence[0].contains("every node is eligible"));
        // gVisor classes are not Kata.
        assert!(
            run(vec![labelled("w1", Some(false), &[])], vec![class("gv", "runsc", &[])], vec![]).is_empty()
        );
    }

    #[test]
    fn kata_pod_with_host_network_warns() {
        let mut p = pod("net", "probe", "n", Some("kata"));
        p.host_network = true;
        let f = run(vec![labelled("n", Some(true), &[])], vec![class("kata", "kata-qemu", &[])], vec![p]);
        assert_eq!(keys(&f), vec![(Rule::KataHostNetwork, Severity::Warning, "net/probe")]);
    }

    #[test]
    fn pod_on_node_outside_class_selector_warns() {
        let sel = [("sandbox", "gvisor"), ("pool", "batch")];
        let nodes = vec![
            labelled("ok", Some(true), &[("sandbox", "gvisor"), ("pool", "batch")]),
            labelled("off", Some(true), &[("pool", "web")]),
        ];
        let classes = vec![class("gvisor", "runsc", &sel), class("runc", "runc", &[])];
        let pods = vec![
            pod("a", "fine", "ok", Some("gvisor")),
            pod("a", "stray", "off", Some("gvisor")),
            pod("a", "plain", "off", Some("runc")),
            pod("a", "none", "off", None),
        ];
        let f = run(nodes, classes, pods);
        assert_eq!(keys(&f), vec![(Rule::RuntimeClassMismatch, Severity::Warning, "a/stray")]);
        let ev = f[0].evidence.join("; ");
        assert!(ev.contains("node label pool=web (class wants batch)"), "{ev}");
        assert!(ev.contains("node label sandbox absent (class wants gvisor)"), "{ev}");
        assert_eq!(Rule::RuntimeClassMismatch.id(), "runtimeclass-node-mismatch");
    }

    #[test]
    fn mismatch_needs_a_known_node_and_a_selector() {
        let classes = vec![class("gvisor", "runsc", &[("sandbox", "gvisor")])];
        // Unknown node (not in the snapshot): nothing to compare.
        let f = run(vec![], classes.clone(), vec![pod("a", "p", "ghost", Some("gvisor"))]);
        assert!(f.is_empty());
        // Unknown class: nothing either.
        let f = run(vec![labelled("n", None, &[])], classes, vec![pod("a", "p", "n", Some("nope"))]);
        assert!(f.is_empty());
    }
}
