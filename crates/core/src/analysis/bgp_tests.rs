use chrono::{Duration, TimeZone};

use super::*;
use crate::model::BgpState::{self, *};

fn s(peer: &str, addr: &str, state: BgpState) -> BgpSession {
    BgpSession::new(peer.into(), addr.into(), 65001, 65101, state)
}
fn tors() -> [String; 2] {
    ["r1-tor-a".into(), "r1-tor-b".into()]
}
fn fams(c: &BgpCounts) -> Vec<(Option<Family>, u32, Option<u32>)> {
    c.families.iter().map(|f| (f.family, f.expected, f.established)).collect()
}
const V4: Option<Family> = Some(Family::Ipv4);
const V6: Option<Family> = Some(Family::Ipv6);

#[test]
fn non_bgp_without_sessions_is_not_applicable() {
    for m in [
        NetMode::BridgeVxlan,
        NetMode::BridgeNat,
        NetMode::CiliumTunnel,
        NetMode::Migrating,
        NetMode::Unknown,
    ] {
        let (v, c) = judge(m, None, None, &[]);
        assert_eq!((v, c.label(v).as_str()), (BgpVerdict::NotApplicable, "-"), "{m:?}");
    }
}

#[test]
fn bgp_without_sessions_is_unknown_never_zero() {
    let (v, c) = judge(NetMode::CiliumBgp, None, Some(&tors()), &[]);
    assert_eq!((v, c.label(v).as_str()), (BgpVerdict::Unknown, "?/2"));
    assert_eq!(fams(&c), vec![(None, 2, None)]);
    // Configured peers but no status: unknown, with what is expected.
    let cfg = [ConfiguredPeer::new("tor-a", "10.0.0.1"), ConfiguredPeer::new("tor-b", "10.0.0.2")];
    let (v, c) = judge(NetMode::CiliumBgp, Some(&cfg), None, &[]);
    assert_eq!((v, c.label(v).as_str()), (BgpVerdict::Unknown, "?/2"));
    assert!(c.missing.is_empty(), "nothing reported: nothing is known to be missing");
}

#[test]
fn single_configured_peer_up_is_healthy_as_configured() {
    let cfg = [ConfiguredPeer::new("tor", "10.0.0.1")];
    let (v, c) = judge(NetMode::CiliumBgp, Some(&cfg), None, &[s("tor", "10.0.0.1", Established)]);
    assert_eq!((v, c.label(v).as_str()), (BgpVerdict::Healthy, "1/1"));
    assert_eq!(c.expected_from, ExpectedFrom::Config);
}

#[test]
fn configured_peer_missing_from_status_is_not_up() {
    let cfg = [ConfiguredPeer::new("tor-a", "10.0.0.1"), ConfiguredPeer::new("tor-b", "10.0.0.2")];
    let (v, c) = judge(NetMode::CiliumBgp, Some(&cfg), None, &[s("tor-a", "10.0.0.1", Established)]);
    assert_eq!((v, c.label(v).as_str()), (BgpVerdict::Degraded, "1/2"));
    assert_eq!(c.missing, vec!["tor-b".to_string()]);
}

#[test]
fn dual_stack_lost_one_tor_on_both_families_is_degraded() {
    // Calico: peersV4 and peersV6 name the same TORs by their two addresses.
    let sessions = [
        s("10.0.0.1", "10.0.0.1", Established),
        s("10.0.0.2", "10.0.0.2", Active),
        s("fd00::1", "fd00::1", Established),
        s("fd00::2", "fd00::2", Connect),
    ];
    let (v, c) = judge(NetMode::CalicoBgp, None, None, &sessions);
    assert_eq!((v, c.label(v).as_str()), (BgpVerdict::Degraded, "1/2"));
    assert_eq!(fams(&c), vec![(V4, 2, Some(1)), (V6, 2, Some(1))]);
}

#[test]
fn families_that_differ_are_shown_apart_and_the_worst_decides() {
    let sessions = [
        s("a", "10.0.0.1", Established),
        s("b", "10.0.0.2", Established),
        s("a6", "fd00::1", Established),
        s("b6", "fd00::2", Idle),
    ];
    let (v, c) = judge(NetMode::CalicoBgp, None, None, &sessions);
    assert_eq!((v, c.label(v).as_str()), (BgpVerdict::Degraded, "v4 2/2 v6 1/2"));
    let sessions = [s("a", "10.0.0.1", Established), s("a6", "fd00::1", Idle)];
    let (v, c) = judge(NetMode::CalicoBgp, None, None, &sessions);
    assert_eq!((v, c.label(v).as_str()), (BgpVerdict::Isolated, "v4 1/1 v6 0/1"));
}

#[test]
fn full_mesh_with_a_peer_in_opensent_is_degraded() {
    let mesh = [
        s("Mesh_10_0_0_2", "10.0.0.2", Established),
        s("Mesh_10_0_0_3", "10.0.0.3", Established),
        s("Mesh_10_0_0_4", "10.0.0.4", OpenSent),
    ];
    let (v, c) = judge(NetMode::CalicoBgp, None, None, &mesh);
    assert_eq!((v, c.label(v).as_str()), (BgpVerdict::Degraded, "2/3"));
}

#[test]
fn tor_labels_expect_both_tors() {
    let (v, c) = judge(NetMode::CiliumBgp, None, Some(&tors()), &[s("r1-tor-a", "10.0.0.1", Established)]);
    assert_eq!((v, c.label(v).as_str()), (BgpVerdict::Degraded, "1/2"));
    assert_eq!(c.missing, vec!["r1-tor-b".to_string()]);
    let (v, _) = judge(
        NetMode::CiliumBgp,
        None,
        Some(&tors()),
        &[s("r1-tor-a", "", Idle), s("r1-tor-b", "", Connect)],
    );
    assert_eq!(v, BgpVerdict::Isolated);
    // Sessions not named after the TORs: judged on what is reported.
    let (v, c) = judge(NetMode::CiliumBgp, None, Some(&tors()), &[s("10.0.0.1", "10.0.0.1", Established)]);
    assert_eq!((v, c.expected_from), (BgpVerdict::Healthy, ExpectedFrom::Reported));
}

#[test]
fn migrating_node_with_sessions_is_judged_on_them() {
    let (v, _) = judge(
        NetMode::Migrating,
        None,
        Some(&tors()),
        &[s("r1-tor-a", "", Established), s("r1-tor-b", "", Established)],
    );
    assert_eq!(v, BgpVerdict::Healthy);
}

#[test]
fn merge_keeps_one_session_per_peer_names_stable_and_resets_max() {
    let t0 = Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap();
    let mut api = s("r1-tor-a", "10.0.0.1", Active);
    api.resets_1h = 3;
    let agent = s("Node_10_0_0_1", "10.0.0.1", Established);
    let prom = s("10.0.0.1:179", "10.0.0.1:179", Established);
    let reports = [
        SourceSessions {
            source: SourceId::Kubernetes,
            at: t0 - Duration::seconds(30),
            sessions: std::slice::from_ref(&api),
        },
        SourceSessions { source: SourceId::Agents, at: t0, sessions: std::slice::from_ref(&agent) },
        SourceSessions {
            source: SourceId::Prometheus,
            at: t0 - Duration::seconds(10),
            sessions: std::slice::from_ref(&prom),
        },
    ];
    let m = merge(&reports);
    assert_eq!(m.len(), 1, "{m:#?}");
    assert_eq!(m[0].peer, "r1-tor-a", "the API's name wins whoever is freshest");
    assert_eq!(m[0].state, Established, "the freshest report's state");
    assert_eq!(m[0].resets_1h, 3);
    let sources: Vec<SourceId> = m[0].reports.iter().map(|r| r.source).collect();
    assert_eq!(sources, vec![SourceId::Agents, SourceId::Prometheus, SourceId::Kubernetes]);
    // The v6 session of the same TOR stays its own.
    let v6 = s("r1-tor-a", "fd00::1", Established);
    let both = [api.clone(), v6];
    let m = merge(&[SourceSessions { source: SourceId::Kubernetes, at: t0, sessions: &both }]);
    assert_eq!(m.len(), 2);
}

#[test]
fn merge_joins_a_session_known_only_by_name() {
    let t0 = Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap();
    let a = s("tor1", "10.0.0.1", Established);
    let b = s("tor1", "", Established);
    let m = merge(&[
        SourceSessions { source: SourceId::Agents, at: t0, sessions: std::slice::from_ref(&a) },
        SourceSessions { source: SourceId::Prometheus, at: t0, sessions: std::slice::from_ref(&b) },
    ]);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].peer_addr, "10.0.0.1");
}

#[test]
fn addresses_normalize_across_sources() {
    assert_eq!(normalize_addr("10.0.0.1:179"), "10.0.0.1");
    assert_eq!(normalize_addr("10.0.0.1/32"), "10.0.0.1");
    assert_eq!(normalize_addr("[FD00:0::1]:179"), "fd00::1");
    assert_eq!(normalize_addr("fd00::1"), "fd00::1");
    assert_eq!(Family::of_addr("fd00:10:1::2/128"), V6);
    assert_eq!(Family::of_addr("tor-a"), None);
}

#[test]
fn bird_since_forms_become_times() {
    use crate::model::bgp::parse_since;
    let now = Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap();
    assert_eq!(parse_since("09:23:22", now), Some(Utc.with_ymd_and_hms(2026, 12, 7, 9, 23, 22).unwrap()));
    // Later than now on the clock: yesterday.
    assert_eq!(parse_since("13:00:00", now), Some(Utc.with_ymd_and_hms(2026, 12, 6, 13, 0, 0).unwrap()));
    assert_eq!(parse_since("2016-11-21", now), Some(Utc.with_ymd_and_hms(2016, 11, 21, 0, 0, 0).unwrap()));
    assert_eq!(
        parse_since("2026-12-07 01:39:54", now),
        Some(Utc.with_ymd_and_hms(2026, 12, 7, 1, 39, 54).unwrap())
    );
    assert!(parse_since("01:39:53.532", now).is_some());
    assert_eq!(parse_since("never", now), None);
}
