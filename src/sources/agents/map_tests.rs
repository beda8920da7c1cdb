#![allow(clippy::unwrap_used)]

use super::*;
use crate::model::Signal;
use crate::wire::{CniConfig, ConntrackFacts, Fact, Interface, SCHEMA};

fn t0() -> DateTime<Utc> {
    crate::testkit::T0
}

fn stat(insert_failed: u64, drop: u64) -> Fact<BTreeMap<String, u64>> {
    Fact::Value([("insert_failed".to_string(), insert_failed), ("drop".into(), drop)].into())
}

fn peer(name: &str, state: &str) -> BgpPeer {
    BgpPeer {
        name: name.into(),
        neighbor_address: "10.0.0.1".into(),
        neighbor_as: Some(65001),
        local_as: Some(65100),
        state: state.into(),
        since_s: Some(60),
        last_error: None,
        routes_imported: Some(3),
        routes_exported: Some(1),
        hold_time_s: Some(90),
        keepalive_s: Some(30),
        family: None,
        since: None,
        established_transitions: None,
        graceful_restart: None,
        restart_time_s: None,
        peer_graceful_restart: None,
        hold_time_conf_s: None,
        keepalive_conf_s: None,
    }
}

fn report(at: DateTime<Utc>) -> NodeReport {
    let iface = |n: &str, k: &str| Interface { name: n.into(), kind: k.into(), up: true };
    NodeReport {
        schema: SCHEMA.into(),
        node: "n1".into(),
        agent_version: "0.1.0".into(),
        read_at: at,
        host: crate::wire::HostFacts {
            conntrack: ConntrackFacts {
                count: Fact::Value(500),
                max: Fact::Value(1000),
                tcp_timeout_established_s: Fact::Value(432_000),
                tcp_timeout_close_wait_s: Fact::absent("no file"),
                tcp_timeout_time_wait_s: Fact::absent("no file"),
                stat: stat(100, 10),
            },
            bridge_nf_call_iptables: Fact::Value(true),
            ip_forward: Fact::Value(true),
            modules: Fact::absent("x"),
            interfaces: Fact::Value(vec![
                iface("lo", "other"),
                iface("cilium_host", "veth"),
                iface("lxc1", "veth"),
                iface("lxc2", "veth"),
                iface("eth0", "device"),
                iface("flannel.1", "vxlan"),
            ]),
            cni_configs: Fact::Value(vec![CniConfig { file: "05-cilium.conflist".into(), types: vec![] }]),
            dev_kvm: Fact::Value(true),
            cpu_virt: Fact::Value(Some("vmx".into())),
            file_nr: Fact::Value((1000, 9000)),
            load: Fact::Value(([1.0, 2.0, 3.0], 4, 500)),
            cpu_cores: Fact::Value(64),
        },
        bgp_bird: Fact::absent("no --bird-socket"),
        bgp_bird6: Fact::absent("no --bird6-socket"),
        bgp_cilium: Fact::Value(vec![peer("10.0.0.1", "established"), peer("10.0.0.2", "active")]),
    }
}

fn host(u: &[Update]) -> &HostFacts {
    u.iter().find_map(|u| if let Update::Host { facts, .. } = u { Some(facts) } else { None }).unwrap()
}

#[test]
fn first_report_has_zero_rates_then_per_second_increases() {
    let (u, c) = updates(&report(t0()), &Counters::default());
    let h = host(&u);
    let ct = h.conntrack.as_ref().unwrap();
    assert_eq!((ct.entries, ct.limit, ct.insert_failed_per_s, ct.drop_per_s), (500, 1000, 0.0, 0.0));
    assert_eq!(ct.tcp_established_timeout_s, Some(432_000));
    assert_eq!(ct.bridge_nf_call_iptables, Some(true));
    assert_eq!(
        (h.kvm, h.file_nr, h.load, h.cpu_cores, h.pids),
        (Some(true), Some((1000, 9000)), Some([1.0, 2.0, 3.0]), Some(64), None)
    );
    let mut r2 = report(t0() + chrono::Duration::seconds(10));
    r2.host.conntrack.stat = stat(150, 5);
    let (u2, c2) = updates(&r2, &c);
    let ct2 = host(&u2).conntrack.clone().unwrap();
    assert_eq!(ct2.insert_failed_per_s, 5.0);
    assert_eq!(ct2.drop_per_s, 0.0, "a counter that went down is a reset, not a negative rate");
    assert_eq!(c2.stat["insert_failed"], 150);
}

#[test]
fn signals_keep_the_cni_interfaces_and_one_pod_interface_per_prefix() {
    let (u, _) = updates(&report(t0()), &Counters::default());
    let sig =
        u.iter().find_map(|u| if let Update::HostSignals { signals, .. } = u { Some(signals) } else { None });
    let names: Vec<String> = sig.unwrap().iter().map(Signal::describe).collect();
    assert_eq!(
        names,
        ["interface cilium_host", "interface lxc1", "interface flannel.1", "CNI config 05-cilium.conflist"]
    );
}

#[test]
fn bgp_sessions_from_whichever_daemon_answered() {
    let (u, _) = updates(&report(t0()), &Counters::default());
    let s = u.iter().find_map(|u| if let Update::Bgp { sessions, .. } = u { Some(sessions) } else { None });
    let s = s.unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!((s[0].state.clone(), s[1].state.clone()), (BgpState::Established, BgpState::Active));
    assert_eq!(s[0].since, Some(t0() - chrono::Duration::seconds(60)));
    assert_eq!((s[0].peer_asn, s[0].routes_received), (65001, Some(3)));
    let mut r = report(t0());
    r.bgp_cilium = Fact::absent("no --cilium-socket");
    let (u, _) = updates(&r, &Counters::default());
    assert!(!u.iter().any(|u| matches!(u, Update::Bgp { .. })), "no daemon: sessions unknown, not zero");
}

#[test]
fn absent_facts_stay_unknown() {
    let mut r = report(t0());
    r.host.conntrack.max = Fact::absent("no file");
    r.host.dev_kvm = Fact::absent("no /dev");
    r.host.interfaces = Fact::absent("no /sys");
    let (u, c) = updates(&r, &Counters::default());
    let h = host(&u);
    assert_eq!((h.conntrack.clone(), h.kvm), (None, None));
    assert_eq!(c.at, Some(t0()));
    r.host.cpu_virt = Fact::Value(None);
    assert_eq!(host(&updates(&r, &c).0).kvm, Some(false), "no vmx/svm settles it");
}

/// The real BIRD 2.0.12 transcripts with and without graceful restart, through the agent's
/// parser and this mapping, to the failover window an SRE would state.
#[test]
fn bird_transcripts_give_the_failover_window() {
    use crate::analysis::failover::{self, RestartCut};
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/upstream/bird/failover/");
    let node = |file: &str| {
        let text = std::fs::read_to_string(format!("{dir}{file}")).unwrap();
        let mut n = clustertop_core::testkit::node("n1");
        n.bgp =
            crate::agent::bird::parse_protocols_all(&text, t0()).iter().map(|p| session(p, t0())).collect();
        n.bgp_verdict = crate::model::BgpVerdict::Healthy;
        n
    };
    // BIRD's default (`aware`): not restart-capable; default timers 240/80.
    let n = node("gr-default-aware.node.ctl.show-protocols-all.txt");
    let w = failover::window(&n).unwrap();
    assert_eq!(w.restart, RestartCut::Withdrawn { peers: vec!["tor1".into(), "tor2".into()] });
    assert_eq!(w.hold_s, Some(240));
    assert_eq!(n.bgp.iter().filter_map(failover::slow_hold).collect::<Vec<_>>(), vec![240, 240]);
    assert_eq!(failover::session_line(&n.bgp[0]), "tor1 established, no GR, hold 240s keepalive 80s");
    // `graceful restart on; graceful restart time 90; hold time 9; keepalive time 3;`: tor1
    // helps, tor2 (`graceful restart off`) withdraws anyway.
    let n = node("gr-on-hold9.node.ctl.show-protocols-all.txt");
    let w = failover::window(&n).unwrap();
    assert_eq!(w.restart, RestartCut::Withdrawn { peers: vec!["tor2".into()] });
    assert_eq!(w.hold_s, Some(9));
    assert!(n.bgp.iter().all(|s| failover::slow_hold(s).is_none()));
    assert_eq!(
        n.bgp.iter().map(failover::session_line).collect::<Vec<_>>(),
        vec![
            "tor1 established, GR 90s, hold 9s keepalive 3s",
            "tor2 established, GR on, TOR off, hold 9s keepalive 3s"
        ]
    );
    // Only tor1: no cut within 90 s.
    let mut n = n;
    n.bgp.truncate(1);
    assert_eq!(
        failover::window(&n).unwrap().restart,
        RestartCut::None { within_s: Some(90), helpers_known: true }
    );
}
