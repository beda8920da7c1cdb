//! Network-mode detection from evidence.
//!
//! Each signal is read as a pointer to a CNI (cilium, flannel, calico), to a plain bridge
//! (`cni0`, `docker0`), or to nothing, optionally with a hint at the mode (a flannel backend, a
//! Calico tunnel, a Cilium BGP node config). The decision:
//!
//! 1. Two or more different CNI agent pods on the node: `Migrating`.
//! 2. One agent pod: that CNI. No agent pod: the CNI with the most weighted weak evidence
//!    (condition reason 4, CiliumNode/BGP config/annotation 2, first CNI config file 3, other config
//!    files 1, interface 1); ties go to the condition reason's CNI, then the first config file's.
//!    Only a `cni0`/`docker0` bridge: `BridgeNat`.
//! 3. The mode within the CNI: Cilium with a BGP node config is `CiliumBgp`, else `CiliumTunnel`;
//!    flannel follows its `backend-type` annotation (vxlan/udp/ipip/wireguard: `BridgeVxlan`,
//!    host-gw/alloc/cloud routes: `BridgeNat`), else a `flannel.N` interface (`BridgeVxlan`), else a
//!    bare `cni0` bridge (`BridgeNat`), else flannel's default backend vxlan; Calico with an AS
//!    number is `CalicoBgp`, with a VXLAN tunnel `BridgeVxlan`, with IPIP/`tunl0` or nothing else
//!    `CalicoBgp` (BIRD distributes the routes).
//!
//! Every signal lands in the evidence, most decisive first; `supports` is false when a signal
//! points at another CNI or mode than the chosen one (or at nothing known).

use crate::model::{Cni, Evidence, NetClass, NetMode, Signal};

/// What one signal says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Reading {
    target: Target,
    hint: Option<NetMode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Cni(Cni),
    /// A Linux bridge that any bridge CNI (or docker) creates.
    Bridge,
    Nothing,
}

fn cni(c: Cni, hint: Option<NetMode>) -> Reading {
    Reading { target: Target::Cni(c), hint }
}

const NOTHING: Reading = Reading { target: Target::Nothing, hint: None };

fn cni_of_name(s: &str) -> Option<Cni> {
    let s = s.to_ascii_lowercase();
    if s.contains("cilium") {
        Some(Cni::Cilium)
    } else if s.contains("flannel") || s.contains("canal") {
        Some(Cni::Flannel)
    } else if s.contains("calico") {
        Some(Cni::Calico)
    } else {
        None
    }
}

fn flannel_backend(value: &str) -> NetMode {
    match value.to_ascii_lowercase().as_str() {
        "host-gw" | "alloc" | "aws-vpc" | "gce" | "ali-vpc" | "tencent-vpc" => NetMode::BridgeNat,
        _ => NetMode::BridgeVxlan,
    }
}

fn read(s: &Signal) -> Reading {
    match s {
        Signal::AgentPod { cni: c, .. } => cni(*c, None),
        Signal::ConditionReason { reason } => match reason.as_str() {
            "CiliumIsUp" => cni(Cni::Cilium, None),
            "FlannelIsUp" => cni(Cni::Flannel, None),
            "CalicoIsUp" => cni(Cni::Calico, None),
            _ => NOTHING,
        },
        Signal::Annotation { key, value } => {
            let (prefix, name) = key.split_once('/').unwrap_or(("", key));
            match prefix {
                "flannel.alpha.coreos.com" if name == "backend-type" => {
                    cni(Cni::Flannel, Some(flannel_backend(value)))
                }
                "flannel.alpha.coreos.com" => cni(Cni::Flannel, None),
                "projectcalico.org" => match name {
                    "ASNumber" | "IPv4IPIPTunnelAddr" => cni(Cni::Calico, Some(NetMode::CalicoBgp)),
                    "IPv4VXLANTunnelAddr" | "IPv6VXLANTunnelAddr" => {
                        cni(Cni::Calico, Some(NetMode::CalicoVxlan))
                    }
                    _ => cni(Cni::Calico, None),
                },
                "network.cilium.io" | "cilium.io" => cni(Cni::Cilium, None),
                _ if key.starts_with("io.cilium") => cni(Cni::Cilium, None),
                _ => NOTHING,
            }
        }
        Signal::CiliumNode => cni(Cni::Cilium, None),
        Signal::BgpNodeConfig { pod_routes: Some(true) } => cni(Cni::Cilium, Some(NetMode::CiliumBgp)),
        Signal::BgpNodeConfig { pod_routes: Some(false) } => cni(Cni::Cilium, Some(NetMode::CiliumTunnel)),
        Signal::BgpNodeConfig { pod_routes: None } => cni(Cni::Cilium, Some(NetMode::CiliumUndetermined)),
        // Says nothing about which CNI runs; it only keeps a Cilium node's routing open.
        Signal::BgpConfigUnreadable { .. } => NOTHING,
        Signal::Interface { name } => match name.as_str() {
            "cilium_host" | "cilium_net" => cni(Cni::Cilium, None),
            "cilium_vxlan" | "cilium_geneve" => cni(Cni::Cilium, Some(NetMode::CiliumTunnel)),
            "vxlan.calico" | "vxlan-v6.calico" => cni(Cni::Calico, Some(NetMode::CalicoVxlan)),
            "tunl0" => cni(Cni::Calico, Some(NetMode::CalicoBgp)),
            "cni0" | "docker0" => Reading { target: Target::Bridge, hint: None },
            n if n.starts_with("flannel.") || n.starts_with("flannel-v6.") => {
                cni(Cni::Flannel, Some(NetMode::BridgeVxlan))
            }
            n if n.starts_with("lxc") => cni(Cni::Cilium, None),
            n if n.starts_with("cali") => cni(Cni::Calico, None),
            _ => NOTHING,
        },
        Signal::CniConfig { file } => cni_of_name(file).map_or(NOTHING, |c| cni(c, None)),
    }
}

/// Rank for "most decisive first".
fn rank(s: &Signal) -> u8 {
    match s {
        Signal::AgentPod { .. } => 0,
        Signal::BgpNodeConfig { .. } | Signal::BgpConfigUnreadable { .. } => 1,
        Signal::ConditionReason { .. } => 2,
        Signal::Annotation { .. } => 3,
        Signal::CiliumNode => 4,
        Signal::CniConfig { .. } => 5,
        Signal::Interface { .. } => 6,
    }
}

/// The CNI config file that sorts first: the one the kubelet/CRI uses for new pods.
fn first_config(signals: &[Signal]) -> Option<&str> {
    signals
        .iter()
        .filter_map(|s| match s {
            Signal::CniConfig { file } => Some(file.as_str()),
            _ => None,
        })
        .min()
}

/// The CNI whose config file sorts first in `/etc/cni/net.d`, i.e. the one new pods get.
pub fn new_pod_cni(signals: &[Signal]) -> Option<(Cni, String)> {
    let f = first_config(signals)?;
    cni_of_name(f).map(|c| (c, f.to_string()))
}

fn weight(s: &Signal, first_cfg: Option<&str>) -> u32 {
    match s {
        Signal::AgentPod { .. } => 8,
        Signal::ConditionReason { .. } => 4,
        Signal::CniConfig { file } if Some(file.as_str()) == first_cfg => 3,
        Signal::CniConfig { .. } | Signal::Interface { .. } => 1,
        Signal::Annotation { .. } | Signal::CiliumNode | Signal::BgpNodeConfig { .. } => 2,
        Signal::BgpConfigUnreadable { .. } => 0,
    }
}

fn weak_choice(signals: &[Signal]) -> Option<Cni> {
    let first_cfg = first_config(signals);
    let mut score =
        [(Cni::Cilium, 0u32, false, false), (Cni::Flannel, 0, false, false), (Cni::Calico, 0, false, false)];
    for s in signals {
        if let Target::Cni(c) = read(s).target
            && let Some(e) = score.iter_mut().find(|e| e.0 == c)
        {
            e.1 += weight(s, first_cfg);
            e.2 |= matches!(s, Signal::ConditionReason { .. });
            e.3 |= matches!(s, Signal::CniConfig { file } if Some(file.as_str()) == first_cfg);
        }
    }
    score.iter().filter(|e| e.1 > 0).max_by_key(|e| (e.1, e.2, e.3, std::cmp::Reverse(e.0))).map(|e| e.0)
}

fn mode_for(c: Cni, signals: &[Signal]) -> NetMode {
    let hints: Vec<(NetMode, &Signal)> = signals
        .iter()
        .filter_map(|s| read(s).hint.filter(|_| read(s).target == Target::Cni(c)).map(|h| (h, s)))
        .collect();
    let has = |m: NetMode| hints.iter().any(|(h, _)| *h == m);
    match c {
        // What the datapath does: BGP advertising the pod CIDR routes pods by BGP; BGP advertising
        // no pod routes (Service addresses only), or a tunnel device, is a tunnel node; a BGP
        // configuration that cannot be read (or whose advertisements cannot) leaves the routing
        // unknown; no BGP configuration at all is Cilium's default, the tunnel.
        Cni::Cilium => {
            let unreadable = signals.iter().any(|s| matches!(s, Signal::BgpConfigUnreadable { .. }));
            if has(NetMode::CiliumBgp) {
                NetMode::CiliumBgp
            } else if has(NetMode::CiliumTunnel) {
                NetMode::CiliumTunnel
            } else if has(NetMode::CiliumUndetermined) || unreadable {
                NetMode::CiliumUndetermined
            } else {
                NetMode::CiliumTunnel
            }
        }
        Cni::Flannel => {
            let backend = hints.iter().find(|(_, s)| matches!(s, Signal::Annotation { .. }));
            let bridge_only = signals.iter().any(|s| read(s).target == Target::Bridge);
            match backend {
                Some((m, _)) => *m,
                None if has(NetMode::BridgeVxlan) => NetMode::BridgeVxlan,
                None if bridge_only => NetMode::BridgeNat,
                None => NetMode::BridgeVxlan,
            }
        }
        Cni::Calico => {
            let asn = signals
                .iter()
                .any(|s| matches!(s, Signal::Annotation { key, .. } if key == "projectcalico.org/ASNumber"));
            if asn {
                NetMode::CalicoBgp
            } else if has(NetMode::CalicoVxlan) {
                NetMode::CalicoVxlan
            } else {
                NetMode::CalicoBgp
            }
        }
    }
}

/// Classify a node's network mode from all its signals.
pub fn classify(signals: &[Signal]) -> NetClass {
    if signals.is_empty() {
        return NetClass::unknown();
    }
    let mut agents: Vec<Cni> = signals
        .iter()
        .filter_map(|s| match s {
            Signal::AgentPod { cni, .. } => Some(*cni),
            _ => None,
        })
        .collect();
    agents.sort();
    agents.dedup();

    let (mode, cnis): (NetMode, Vec<Cni>) = match agents.as_slice() {
        [] => match weak_choice(signals) {
            Some(c) => (mode_for(c, signals), vec![c]),
            None if signals.iter().any(|s| read(s).target == Target::Bridge) => (NetMode::BridgeNat, vec![]),
            None => (NetMode::Unknown, vec![]),
        },
        [c] => (mode_for(*c, signals), vec![*c]),
        many => (NetMode::Migrating, many.to_vec()),
    };

    let supports = |s: &Signal| -> bool {
        let r = read(s);
        match r.target {
            Target::Nothing => false,
            Target::Bridge => mode.is_bridge() || mode == NetMode::Migrating,
            Target::Cni(c) => {
                cnis.contains(&c) && (mode == NetMode::Migrating || r.hint.is_none_or(|h| h == mode))
            }
        }
    };
    let first_cfg = first_config(signals);
    let mut evidence: Vec<Evidence> =
        signals.iter().map(|s| Evidence { signal: s.clone(), supports: supports(s) }).collect();
    evidence.sort_by_key(|e| {
        let cfg_order = match &e.signal {
            Signal::CniConfig { file } if Some(file.as_str()) == first_cfg => 0,
            _ => 1,
        };
        (rank(&e.signal), !e.supports, cfg_order)
    });
    if mode == NetMode::Migrating {
        // Right after the agent pods: which config new pods get.
        if let Some(i) = evidence
            .iter()
            .position(|e| matches!(&e.signal, Signal::CniConfig { file } if Some(file.as_str()) == first_cfg))
        {
            let e = evidence.remove(i);
            let at = evidence.iter().take_while(|e| matches!(e.signal, Signal::AgentPod { .. })).count();
            evidence.insert(at, e);
        }
    }
    NetClass { mode, evidence }
}

/// Human lines that explain a classification beyond its signals (for detail views).
pub fn explain(class: &NetClass) -> Vec<String> {
    let mut out = Vec::new();
    let signals: Vec<Signal> = class.evidence.iter().map(|e| e.signal.clone()).collect();
    if class.mode == NetMode::Migrating {
        let mut agents: Vec<&'static str> = signals
            .iter()
            .filter_map(|s| match s {
                Signal::AgentPod { cni, .. } => Some(cni.label()),
                _ => None,
            })
            .collect();
        agents.sort();
        agents.dedup();
        out.push(format!(
            "{} CNI agents run on this node ({}): a migration in flight",
            agents.len(),
            agents.join(", ")
        ));
        match new_pod_cni(&signals) {
            Some((c, f)) => {
                out.push(format!("new pods get {}: {f} sorts first in /etc/cni/net.d", c.label()))
            }
            None => out
                .push("which CNI new pods get is unknown: no CNI config files reported (node agent)".into()),
        }
    }
    let conflicts = class.evidence.iter().filter(|e| !e.supports).count();
    if conflicts > 0 && class.mode != NetMode::Unknown {
        out.push(format!(
            "{conflicts} signal(s) do not fit {} (leftovers of an earlier CNI?)",
            class.mode.label()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(c: Cni) -> Signal {
        Signal::AgentPod { cni: c, pod: format!("{}-x1", c.label()) }
    }
    fn ann(k: &str, v: &str) -> Signal {
        Signal::Annotation { key: k.into(), value: v.into() }
    }
    fn iface(n: &str) -> Signal {
        Signal::Interface { name: n.into() }
    }
    fn cfg(f: &str) -> Signal {
        Signal::CniConfig { file: f.into() }
    }
    fn reason(r: &str) -> Signal {
        Signal::ConditionReason { reason: r.into() }
    }
    fn all_support(c: &NetClass) -> bool {
        c.evidence.iter().all(|e| e.supports)
    }

    const BGP_PODS: Signal = Signal::BgpNodeConfig { pod_routes: Some(true) };

    #[test]
    fn cilium_bgp_for_services_only_is_a_tunnel_node_and_unreadable_bgp_is_unknown() {
        let svc = Signal::BgpNodeConfig { pod_routes: Some(false) };
        let c = classify(&[pod(Cni::Cilium), Signal::CiliumNode, svc]);
        assert_eq!(c.mode, NetMode::CiliumTunnel);
        assert!(all_support(&c));
        let unknown = Signal::BgpNodeConfig { pod_routes: None };
        assert_eq!(classify(&[pod(Cni::Cilium), unknown.clone()]).mode, NetMode::CiliumUndetermined);
        // The advertisements unknown, but a tunnel device says how pods are routed.
        assert_eq!(classify(&[pod(Cni::Cilium), unknown, iface("cilium_vxlan")]).mode, NetMode::CiliumTunnel);
        // A forbidden CiliumBGPNodeConfig never turns a node into a tunnel node.
        let forbidden = Signal::BgpConfigUnreadable { resource: "ciliumbgpnodeconfigs.cilium.io".into() };
        assert_eq!(classify(&[pod(Cni::Cilium), forbidden.clone()]).mode, NetMode::CiliumUndetermined);
        // ...and says nothing about flannel nodes.
        assert_eq!(classify(&[pod(Cni::Flannel), forbidden]).mode, NetMode::BridgeVxlan);
    }

    #[test]
    fn no_signals_is_unknown() {
        assert_eq!(classify(&[]), NetClass::unknown());
        let c = classify(&[iface("eth0")]);
        assert_eq!(c.mode, NetMode::Unknown);
        assert_eq!(c.evidence.len(), 1);
        assert!(!c.evidence[0].supports);
    }

    #[test]
    fn cilium_with_and_without_bgp() {
        let c = classify(&[iface("cilium_host"), pod(Cni::Cilium), Signal::CiliumNode, BGP_PODS]);
        assert_eq!(c.mode, NetMode::CiliumBgp);
        assert!(all_support(&c));
        assert_eq!(c.evidence[0].signal, pod(Cni::Cilium));
        assert_eq!(c.evidence[1].signal, BGP_PODS);
        let c =
            classify(&[pod(Cni::Cilium), Signal::CiliumNode, iface("cilium_vxlan"), reason("CiliumIsUp")]);
        assert_eq!(c.mode, NetMode::CiliumTunnel);
        assert!(all_support(&c));
    }

    #[test]
    fn flannel_backends() {
        let vx = classify(&[pod(Cni::Flannel), ann("flannel.alpha.coreos.com/backend-type", "vxlan")]);
        assert_eq!(vx.mode, NetMode::BridgeVxlan);
        let hg = classify(&[
            pod(Cni::Flannel),
            ann("flannel.alpha.coreos.com/backend-type", "host-gw"),
            iface("cni0"),
        ]);
        assert_eq!(hg.mode, NetMode::BridgeNat);
        assert!(all_support(&hg));
        assert_eq!(
            classify(&[pod(Cni::Flannel), iface("flannel.1"), iface("cni0")]).mode,
            NetMode::BridgeVxlan
        );
        assert_eq!(classify(&[pod(Cni::Flannel), iface("cni0")]).mode, NetMode::BridgeNat);
        // Only a bridge, no CNI at all.
        assert_eq!(classify(&[iface("docker0")]).mode, NetMode::BridgeNat);
    }

    #[test]
    fn calico_modes() {
        let bgp = classify(&[pod(Cni::Calico), ann("projectcalico.org/ASNumber", "64512"), iface("tunl0")]);
        assert_eq!(bgp.mode, NetMode::CalicoBgp);
        assert!(all_support(&bgp));
        let vx = classify(&[
            pod(Cni::Calico),
            ann("projectcalico.org/IPv4VXLANTunnelAddr", "10.1.2.3"),
            iface("vxlan.calico"),
        ]);
        assert_eq!(vx.mode, NetMode::CalicoVxlan);
        assert!(!vx.mode.is_bridge(), "Calico routes veths with proxy ARP: no Linux bridge");
        assert!(all_support(&vx));
    }

    #[test]
    fn two_agents_is_migrating_and_first_config_is_explained() {
        let sig = [
            iface("flannel.1"),
            cfg("10-flannel.conflist"),
            cfg("05-cilium.conflist"),
            pod(Cni::Flannel),
            pod(Cni::Cilium),
            ann("projectcalico.org/IPv4Address", "10.0.0.1/24"),
        ];
        let c = classify(&sig);
        assert_eq!(c.mode, NetMode::Migrating);
        assert!(matches!(c.evidence[0].signal, Signal::AgentPod { .. }));
        assert!(matches!(c.evidence[1].signal, Signal::AgentPod { .. }));
        assert_eq!(c.evidence[2].signal, cfg("05-cilium.conflist"));
        // A third CNI's leftover annotation conflicts.
        let calico = c.evidence.iter().find(|e| matches!(e.signal, Signal::Annotation { .. }));
        assert_eq!(calico.map(|e| e.supports), Some(false));
        let text = explain(&c).join("\n");
        assert!(text.contains("cilium, flannel"), "{text}");
        assert!(text.contains("new pods get cilium: 05-cilium.conflist"), "{text}");
        assert_eq!(new_pod_cni(&sig), Some((Cni::Cilium, "05-cilium.conflist".into())));
    }

    #[test]
    fn conflicting_evidence_is_marked() {
        // Cilium agent, but flannel leftovers remain.
        let c = classify(&[iface("flannel.1"), pod(Cni::Cilium), reason("FlannelIsUp"), Signal::CiliumNode]);
        assert_eq!(c.mode, NetMode::CiliumTunnel);
        let bad: Vec<&Signal> = c.evidence.iter().filter(|e| !e.supports).map(|e| &e.signal).collect();
        assert_eq!(bad, vec![&reason("FlannelIsUp"), &iface("flannel.1")]);
        // Cilium BGP node that still has a tunnel device: the device conflicts with the mode.
        let c = classify(&[pod(Cni::Cilium), BGP_PODS, iface("cilium_vxlan")]);
        assert_eq!(c.mode, NetMode::CiliumBgp);
        assert!(!c.evidence[2].supports);
        assert!(explain(&c)[0].contains("1 signal(s) do not fit cilium/bgp"));
    }

    #[test]
    fn weak_signals_decide_without_agent_pods() {
        let c = classify(&[reason("CiliumIsUp"), Signal::CiliumNode, BGP_PODS, iface("flannel.1")]);
        assert_eq!(c.mode, NetMode::CiliumBgp);
        assert_eq!(c.evidence[0].signal, BGP_PODS);
        let c =
            classify(&[ann("flannel.alpha.coreos.com/backend-type", "vxlan"), cfg("10-flannel.conflist")]);
        assert_eq!(c.mode, NetMode::BridgeVxlan);
        // The condition reason outweighs interface leftovers.
        let c = classify(&[reason("FlannelIsUp"), iface("cilium_host"), iface("cilium_net")]);
        assert_eq!(c.mode, NetMode::BridgeVxlan);
        // The config file that sorts first (used for new pods) weighs more than leftovers.
        let c = classify(&[
            cfg("10-flannel.conflist"),
            cfg("05-cilium.conflist"),
            iface("flannel.1"),
            iface("cilium_host"),
        ]);
        assert_eq!(c.mode, NetMode::CiliumTunnel);
    }
}
