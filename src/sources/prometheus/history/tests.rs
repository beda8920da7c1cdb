//! The Kubernetes side of a past moment, from kube-state-metrics series as kube-state-metrics
//! names them (v2: `kube_node_info{node,…}`, `kube_node_labels{node,label_<key>}`,
//! `kube_node_status_condition{node,condition,status}`, `kube_pod_info{…,created_by_kind,
//! created_by_name}`).

use chrono::TimeZone;

use super::*;
use crate::model::{Cni, NodeInfo};

fn s(labels: &[(&str, &str)], v: f64) -> Series {
    Series {
        labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        samples: vec![(0, v)],
    }
}

fn applied(u: &[Update]) -> Vec<&NodeInfo> {
    u.iter()
        .filter_map(|u| if let Update::NodeApplied { node, .. } = u { Some(node) } else { None })
        .collect()
}

fn health<'a>(u: &'a [Update], scope: &str) -> Option<&'a SourceHealth> {
    u.iter().find_map(|u| match u {
        Update::Health { scope: s, health, .. } if s == scope => Some(health),
        _ => None,
    })
}

#[test]
fn nodes_racks_tors_readiness_and_agents_come_from_kube_state_metrics() {
    let at = Utc.with_ymd_and_hms(2026, 12, 7, 1, 58, 0).unwrap();
    let names = [s(&[("node", "r1-n01")], 1.0), s(&[("node", "r1-n02")], 1.0)];
    let labels = [
        s(
            &[
                ("node", "r1-n01"),
                ("label_topology_kubernetes_io_zone", "rack-1"),
                ("label_clustertop_io_tor_a", "tor-1a"),
                ("label_clustertop_io_tor_b", "tor-1b"),
            ],
            1.0,
        ),
        s(&[("node", "r1-n02")], 1.0),
    ];
    let ready = [s(&[("node", "r1-n01")], 1.0), s(&[("node", "r1-n02")], 0.0)];
    let agents = [
        s(
            &[
                ("node", "r1-n01"),
                ("namespace", "kube-system"),
                ("pod", "cilium-x7k2p"),
                ("created_by_name", "cilium"),
            ],
            1.0,
        ),
        s(
            &[
                ("node", "r1-n01"),
                ("namespace", "kube-system"),
                ("pod", "kube-proxy-abcde"),
                ("created_by_name", "kube-proxy"),
            ],
            1.0,
        ),
        s(
            &[
                ("node", "r1-n02"),
                ("namespace", "kube-flannel"),
                ("pod", "kube-flannel-ds-q9"),
                ("created_by_name", "kube-flannel-ds"),
            ],
            1.0,
        ),
    ];
    let created = vec![s(&[("node", "r1-n01")], 1_764_547_200.0)];
    let ksm = Ksm {
        names: names.to_vec(),
        labels: labels.to_vec(),
        ready: ready.to_vec(),
        created,
        agents: agents.to_vec(),
    };
    let u = nodes(&ksm, &BTreeMap::new(), "topology.kubernetes.io/zone", at);
    let n = applied(&u);
    assert_eq!(n.len(), 2);
    assert_eq!((n[0].name.as_str(), n[0].rack.as_str(), n[0].ready), ("r1-n01", "rack-1", true));
    assert_eq!(n[0].tors, ["tor-1a".to_string(), "tor-1b".to_string()]);
    assert!(n[0].tor_labels());
    assert_eq!(
        n[0].signals,
        vec![
            Signal::AgentPod { cni: Cni::Cilium, pod: "cilium-x7k2p".into() },
            // Whether it routes pods over BGP is in objects Prometheus does not have.
            Signal::BgpConfigUnreadable { resource: CILIUM_BGP_UNKNOWN.into() },
        ]
    );
    assert_eq!((n[1].rack.as_str(), n[1].ready), ("?", false), "no rack label: unknown, not a rack");
    assert_eq!(n[0].created, Utc.timestamp_opt(1_764_547_200, 0).single(), "kube_node_created");
    assert_eq!(n[1].created, None, "no kube_node_created: age unknown");
    assert_eq!(n[1].signals, vec![Signal::AgentPod { cni: Cni::Flannel, pod: "kube-flannel-ds-q9".into() }]);
    assert_eq!(health(&u, "nodes"), Some(&SourceHealth::Ok));
    assert!(
        matches!(health(&u, "runtimeclasses.node.k8s.io"), Some(SourceHealth::NoData { reason }) if reason.contains("RuntimeClass")),
        "which runtime a class runs is not in Prometheus: unknown, with the reason"
    );
}

#[test]
fn no_readiness_or_no_nodes_is_unknown_not_zero() {
    let at = Utc.with_ymd_and_hms(2026, 12, 7, 1, 58, 0).unwrap();
    let ksm = Ksm { names: vec![s(&[("node", "a")], 1.0)], ..Ksm::default() };
    let u = nodes(&ksm, &BTreeMap::new(), "rack", at);
    assert!(
        matches!(health(&u, "nodes"), Some(SourceHealth::NoData { reason }) if reason.contains("readiness"))
    );
    let u = nodes(&Ksm::default(), &BTreeMap::new(), "rack", at);
    assert!(
        matches!(health(&u, "nodes"), Some(SourceHealth::NoData { reason }) if reason.contains("kube_node_info"))
    );
    assert!(applied(&u).is_empty());
}

#[test]
fn the_agent_daemonsets_of_each_project() {
    assert_eq!(agent_daemonset("cilium"), Some(Cni::Cilium));
    assert_eq!(agent_daemonset("calico-node"), Some(Cni::Calico));
    assert_eq!(agent_daemonset("kube-flannel-ds"), Some(Cni::Flannel));
    assert_eq!(agent_daemonset("canal"), Some(Cni::Flannel));
    assert_eq!(agent_daemonset("cilium-operator"), None);
    assert_eq!(agent_daemonset("kube-proxy"), None);
}
