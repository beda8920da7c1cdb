//! CNI rules: a node on which two CNI agents run (a migration in flight), so that which plugin
//! wires a new pod depends on a file order, and both agents program routes and filters.

use crate::analysis::netmode::new_pod_cni;
use crate::model::{Finding, NetMode, Node, Rule, Severity, Signal, Snapshot};

pub fn check(snap: &Snapshot, out: &mut Vec<Finding>) {
    for n in snap.nodes.iter().filter(|n| n.net.mode == NetMode::Migrating) {
        two_agents(n, out);
    }
}

fn two_agents(n: &Node, out: &mut Vec<Finding>) {
    let mut agents: Vec<(&'static str, &str)> = n
        .signals
        .iter()
        .filter_map(|s| match s {
            Signal::AgentPod { cni, pod } => Some((cni.label(), pod.as_str())),
            _ => None,
        })
        .collect();
    agents.sort();
    let mut cnis: Vec<&str> = agents.iter().map(|a| a.0).collect();
    cnis.dedup();
    let mut evidence: Vec<String> =
        agents.iter().map(|(c, pod)| format!("{c} agent pod {pod} runs on the node")).collect();
    evidence.push(match new_pod_cni(&n.signals) {
        Some((c, f)) => format!("new pods get {}: {f} sorts first in /etc/cni/net.d", c.label()),
        None => "which CNI new pods get is unknown: no CNI config files reported (node agent)".into(),
    });
    out.push(Finding {
        rule: Rule::CniTwoAgents,
        severity: Severity::Warning,
        subject: n.name.clone(),
        since: None,
        // The same text on every such node, so that the views group them.
        what: format!("{} CNI agents on one node ({}): a migration in flight", cnis.len(), cnis.join(", ")),
        evidence,
        remedy:
            "Finish the node's migration: cordon and drain it, remove the old CNI's agent (its DaemonSet \
                 must no longer select the node) and its config from /etc/cni/net.d, reboot or clean its \
                 interfaces and routes, then uncordon. Until then pods created here get whichever plugin's \
                 config sorts first, and both agents program routes and filters."
                .into(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::netmode::classify;
    use crate::model::Cni;
    use crate::testkit::*;

    fn with_signals(name: &str, signals: Vec<Signal>) -> Node {
        let mut n = node(name);
        n.net = classify(&signals);
        n.signals = signals;
        n
    }
    fn agent(cni: Cni, pod: &str) -> Signal {
        Signal::AgentPod { cni, pod: pod.into() }
    }

    #[test]
    fn two_cni_agents_on_a_node_are_a_finding() {
        let cfg = |f: &str| Signal::CniConfig { file: f.into() };
        let n = with_signals(
            "node-04",
            vec![
                agent(Cni::Flannel, "kube-flannel-ds-x1"),
                agent(Cni::Cilium, "cilium-x1"),
                cfg("10-flannel.conflist"),
                cfg("05-cilium.conflist"),
            ],
        );
        let mut out = Vec::new();
        check(&snapshot(vec![n]), &mut out);
        assert_eq!(out.len(), 1, "{out:#?}");
        let f = &out[0];
        assert_eq!(
            (f.rule, f.severity, f.subject.as_str()),
            (Rule::CniTwoAgents, Severity::Warning, "node-04")
        );
        assert_eq!(f.rule.id(), "cni-two-agents");
        assert_eq!(f.what, "2 CNI agents on one node (cilium, flannel): a migration in flight");
        assert_eq!(
            f.evidence,
            vec![
                "cilium agent pod cilium-x1 runs on the node",
                "flannel agent pod kube-flannel-ds-x1 runs on the node",
                "new pods get cilium: 05-cilium.conflist sorts first in /etc/cni/net.d",
            ]
        );
    }

    #[test]
    fn one_agent_is_no_finding() {
        let n = with_signals(
            "n1",
            vec![agent(Cni::Cilium, "cilium-x1"), Signal::Interface { name: "cni0".into() }],
        );
        let mut out = Vec::new();
        check(&snapshot(vec![n]), &mut out);
        assert!(out.is_empty(), "{out:#?}");
    }
}
