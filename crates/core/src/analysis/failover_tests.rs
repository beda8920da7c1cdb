use super::*;
use crate::analysis::Settings;
use crate::analysis::rules::findings;
use crate::model::{BgpState, Failover, Rule};
use crate::testkit::{node, session, snapshot};

/// Cilium's `tor-pod-cidr` peer config: graceful restart 120 s, timers 9/3; the TOR's word
/// as given.
fn gr_on(peer: Option<bool>) -> Failover {
    Failover {
        graceful_restart: Some(true),
        restart_time_s: Some(120),
        peer_graceful_restart: peer,
        hold_time_conf_s: Some(9),
        keepalive_conf_s: Some(3),
    }
}

/// BIRD 2's default (`aware`) against a helper TOR, with BIRD's 240/80 timers negotiated.
fn bird_default() -> Failover {
    Failover { graceful_restart: Some(false), peer_graceful_restart: Some(true), ..Failover::default() }
}

fn bgp_node(name: &str, rack: &str, sessions: Vec<(&str, BgpState, Failover)>) -> Node {
    let mut n = node(name);
    n.rack = rack.into();
    n.tors = [format!("{rack}-tor-a"), format!("{rack}-tor-b")];
    n.bgp = sessions
        .into_iter()
        .map(|(peer, st, f)| {
            let mut s = session(&format!("{rack}-{peer}"), st);
            s.failover = f;
            s
        })
        .collect();
    let up = n.bgp.iter().filter(|s| s.is_up()).count();
    n.bgp_verdict = match up {
        0 => BgpVerdict::Isolated,
        x if x == n.bgp.len() => BgpVerdict::Healthy,
        _ => BgpVerdict::Degraded,
    };
    n.bgp_counts.families = vec![crate::model::FamilyCount {
        family: Some(crate::model::Family::Ipv4),
        expected: n.bgp.len() as u32,
        established: Some(up as u32),
    }];
    n
}

fn pair(name: &str, rack: &str, f: Failover) -> Node {
    bgp_node(
        name,
        rack,
        vec![("tor-a", BgpState::Established, f.clone()), ("tor-b", BgpState::Established, f)],
    )
}

#[test]
fn graceful_restart_per_session() {
    let mut s = session("t", BgpState::Established);
    assert_eq!(gr(&s), Gr::Unknown);
    s.failover = gr_on(Some(true));
    assert_eq!(gr(&s), Gr::On { restart_s: Some(120), peer_known: true });
    assert_eq!(gr(&s).label(), "GR 120s");
    s.failover = gr_on(None);
    assert_eq!(gr(&s).label(), "GR 120s (TOR not reported)");
    s.failover = gr_on(Some(false));
    assert_eq!(gr(&s), Gr::PeerOff);
    s.failover = bird_default();
    assert_eq!((gr(&s), gr(&s).label()), (Gr::Off, "no GR".to_string()));
}

#[test]
fn window_with_and_without_graceful_restart() {
    let w = window(&pair("n1", "r1", gr_on(Some(true)))).expect("bgp node");
    assert_eq!(w.restart, RestartCut::None { within_s: Some(120), helpers_known: true });
    assert_eq!(w.hold_s, Some(9));
    assert_eq!(w.restart.describe(), "no cut: the TORs keep its routes up to 120 s");
    // Cilium's CRDs do not say whether the TOR helps.
    let w = window(&pair("n1", "r1", gr_on(None))).expect("bgp node");
    assert_eq!(w.restart, RestartCut::None { within_s: Some(120), helpers_known: false });
    // GR on the node, but one TOR does not advertise it (the BIRD lab's tor2).
    let n = bgp_node(
        "n1",
        "r1",
        vec![
            ("tor-a", BgpState::Established, gr_on(Some(true))),
            ("tor-b", BgpState::Established, gr_on(Some(false))),
        ],
    );
    assert_eq!(window(&n).expect("bgp").restart, RestartCut::Withdrawn { peers: vec!["r1-tor-b".into()] });
    // BIRD's default `aware`: withdrawn by both.
    let mut n = pair("n1", "r1", bird_default());
    n.bgp.iter_mut().for_each(|s| (s.hold_time_s, s.keepalive_s) = (Some(240), Some(80)));
    let w = window(&n).expect("bgp");
    assert_eq!(w.restart.short(), "until up");
    assert_eq!(w.hold_s, Some(240));
    // Nothing reported: unknown, not "no GR".
    let w = window(&pair("n1", "r1", Failover::default())).expect("bgp");
    assert!(matches!(w.restart, RestartCut::Unknown(_)), "{w:?}");
    // Every session down: its routes are gone already; a restart cuts nothing more.
    let n = bgp_node("n1", "r1", vec![("tor-a", BgpState::Active, gr_on(Some(true)))]);
    assert_eq!(window(&n).expect("bgp"), Window { restart: RestartCut::NothingUp, hold_s: None });
    // Not a BGP node.
    assert_eq!(window(&node("plain")), None);
}

#[test]
fn slow_hold_boundary() {
    let mut s = session("t", BgpState::Established);
    assert_eq!(slow_hold(&s), None, "9 s is the threshold itself");
    s.hold_time_s = Some(10);
    assert_eq!(slow_hold(&s), Some(10));
    // A session that is down: its configured hold time (Cilium's default 90 s).
    s.state = BgpState::Active;
    s.hold_time_s = None;
    assert_eq!(slow_hold(&s), None);
    s.failover.hold_time_conf_s = Some(90);
    assert_eq!(slow_hold(&s), Some(90));
}

#[test]
fn findings_one_per_rack() {
    let mut slow = pair("r2-n1", "r2", bird_default());
    slow.bgp.iter_mut().for_each(|s| s.hold_time_s = Some(240));
    let snap = snapshot(vec![
        pair("r1-n1", "r1", gr_on(Some(true))),
        pair("r1-n2", "r1", gr_on(Some(true))),
        slow,
        pair("r2-n2", "r2", bird_default()),
        bgp_node("r3-n1", "r3", vec![("tor-a", BgpState::Active, bird_default())]),
    ]);
    let f = findings(&snap, &Settings::default());
    let got: Vec<(Rule, &str)> = f
        .iter()
        .filter(|f| matches!(f.rule, Rule::BgpNoGracefulRestart | Rule::BgpSlowHold))
        .map(|f| (f.rule, f.subject.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (Rule::BgpNoGracefulRestart, "r2"),
            (Rule::BgpNoGracefulRestart, "r3"),
            (Rule::BgpSlowHold, "r2")
        ]
    );
    let no_gr = &f[f.iter().position(|f| f.rule == Rule::BgpNoGracefulRestart).expect("finding")];
    assert!(no_gr.what.starts_with("2 BGP nodes without graceful restart (r2-n1, r2-n2)"), "{}", no_gr.what);
    assert_eq!(no_gr.evidence.len(), 2);
    let slow = &f[f.iter().position(|f| f.rule == Rule::BgpSlowHold).expect("finding")];
    assert_eq!(
        slow.evidence,
        vec!["r2-n1: hold 240 s (hold 240s keepalive 3s; hold 240s keepalive 3s)".to_string()]
    );
}

#[test]
fn drain_normal_case() {
    let snap = snapshot(vec![
        pair("r1-n1", "r1", gr_on(Some(true))),
        pair("r1-n2", "r1", gr_on(Some(true))),
        pair("r1-n3", "r1", gr_on(Some(true))),
        pair("r2-n1", "r2", gr_on(Some(true))),
    ]);
    let c = drain(&snap, "r1-n2").expect("node");
    assert_eq!((c.rack.as_str(), c.rack_bgp_nodes), ("r1", 3));
    assert_eq!(
        c.tors,
        vec![
            TorEcmp { tor: "r1-tor-a".into(), now: 3, after: 2, via_node: true },
            TorEcmp { tor: "r1-tor-b".into(), now: 3, after: 2, via_node: true },
        ]
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.sessions[0], "r1-tor-a established, GR 120s, hold 9s keepalive 3s (configured 9/3)");
    assert_eq!(drain(&snap, "nope").unwrap_err(), "no node named \"nope\" in this snapshot");
}

#[test]
fn drain_last_healthy_node_of_the_rack() {
    let snap = snapshot(vec![
        pair("r1-n1", "r1", bird_default()),
        bgp_node(
            "r1-n2",
            "r1",
            vec![
                ("tor-a", BgpState::Active, gr_on(Some(true))),
                ("tor-b", BgpState::Active, gr_on(Some(true))),
            ],
        ),
    ]);
    let c = drain(&snap, "r1-n1").expect("node");
    assert_eq!(c.tors.iter().map(|t| (t.now, t.after)).collect::<Vec<_>>(), vec![(1, 0), (1, 0)]);
    assert_eq!(
        c.warnings,
        vec![
            "last node of r1 with a session to r1-tor-a: the rack's ECMP routes via r1-tor-a go with it".to_string(),
            "last node of r1 with a session to r1-tor-b: the rack's ECMP routes via r1-tor-b go with it".to_string(),
            "other nodes of r1 are already down or degraded: r1-n2 (isolated 0/2)".to_string(),
            "no graceful restart towards r1-tor-a, r1-tor-b: restarting its BGP speaker (not a drain) withdraws its pod \
             CIDR at once"
                .to_string(),
        ]
    );
    // A node without BGP: no window, nothing to say about ECMP.
    let snap = snapshot(vec![node("plain")]);
    let c = drain(&snap, "plain").expect("node");
    assert_eq!((c.window, c.tors.len(), c.warnings.len()), (None, 0, 0));
}
