use chrono::TimeZone;

use super::*;

/// When the transcripts are read.
const T0: DateTime<Utc> = DateTime::from_timestamp(1_796_644_800, 0).expect("2026-12-07T12:00:00Z");

/// `show protocols all` of BIRD 2.0.12 on the node of the netns lab, both sessions up (raw
/// control-socket text, with the reply codes).
const UP: &str = include_str!("../../../tests/fixtures/agent/bird-protocols-all.txt");
/// The same a moment after `ip link set veth-n1 down`.
const DOWN: &str = include_str!("../../../tests/fixtures/agent/bird-protocols-all-down.txt");

#[test]
fn both_sessions_established() {
    let peers = parse_protocols_all(UP, T0);
    assert_eq!(peers.len(), 2, "device1 and static1 are not BGP: {peers:#?}");
    let tor1 = &peers[0];
    assert_eq!(
        tor1,
        &BgpPeer {
            name: "tor1".into(),
            neighbor_address: "10.0.1.1".into(),
            neighbor_as: Some(65001),
            local_as: Some(64512),
            state: "Established".into(),
            since_s: None,
            last_error: None,
            routes_imported: Some(1),
            routes_exported: Some(1),
            hold_time_s: Some(9),
            keepalive_s: Some(3),
            family: Some("ipv4".into()),
            since: Some(
                Utc.with_ymd_and_hms(2026, 12, 7, 1, 39, 54).unwrap() + chrono::Duration::milliseconds(471)
            ),
            established_transitions: None,
            // The lab's node has no `graceful restart` statement: BIRD 2's `aware`.
            graceful_restart: Some(false),
            restart_time_s: None,
            peer_graceful_restart: Some(true),
            hold_time_conf_s: None,
            keepalive_conf_s: None,
        }
    );
    assert_eq!(peers[1].name, "tor2");
    assert_eq!(peers[1].neighbor_address, "10.0.2.1");
    assert_eq!(peers[1].neighbor_as, Some(65002));
    assert_eq!(peers[1].state, "Established");
}

#[test]
fn a_lost_neighbour_is_idle_with_its_last_error() {
    let peers = parse_protocols_all(DOWN, T0);
    assert_eq!(peers.len(), 2);
    let tor1 = &peers[0];
    assert_eq!(tor1.state, "Idle");
    assert_eq!(tor1.last_error.as_deref(), Some("Error: Neighbor lost"));
    assert_eq!(tor1.neighbor_address, "10.0.1.1");
    assert_eq!(tor1.neighbor_as, Some(65001));
    // No timers while the session is down; the channel has no Routes line either.
    assert_eq!((tor1.hold_time_s, tor1.keepalive_s), (None, None));
    assert_eq!(peers[1].state, "Established");
    assert_eq!(peers[1].last_error, None);
}

#[test]
fn birdc_output_without_codes_reads_the_same() {
    let stripped: String = UP
        .lines()
        .filter(|l| !l.starts_with("0000"))
        .map(|l| match split_code(l) {
            Some((_, rest)) => format!("{rest}\n"),
            None => format!("{}\n", &l[1.min(l.len())..]),
        })
        .collect();
    assert_eq!(parse_protocols_all(&stripped, T0), parse_protocols_all(UP, T0));
}

#[test]
fn a_truncated_reply_gives_what_it_describes() {
    let cut = &UP[..UP.find("Neighbor AS:      65002").expect("tor2 in fixture")];
    let peers = parse_protocols_all(cut, T0);
    assert_eq!(peers.len(), 2);
    assert_eq!(peers[0], parse_protocols_all(UP, T0)[0]);
    assert_eq!(peers[1].neighbor_address, "10.0.2.1");
    assert_eq!(peers[1].neighbor_as, None);
    // Every prefix of the fixture parses without panicking (cuts inside UTF-8 are not possible:
    // the fixture is ASCII).
    for n in 0..UP.len() {
        let _ = parse_protocols_all(&UP[..n], T0);
    }
}

#[test]
fn garbage_and_foreign_replies_give_no_peers() {
    for text in [
        "",
        "\n\n",
        "0000 ",
        "9001 syntax error, unexpected CF_SYM_UNDEFINED",
        "1002-",
        "1002-x BGP",
        "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\n\r\n<html>",
        "\u{1b}[31m\u{0}\u{ffff}:::://///",
    ] {
        let peers = parse_protocols_all(text, T0);
        assert!(peers.iter().all(|p| p.neighbor_as.is_none()), "{text:?} → {peers:?}");
    }
    // A header row with nothing else is still a (bare) BGP protocol.
    let bare = parse_protocols_all("1002-x BGP", T0);
    assert_eq!(bare.len(), 1);
    assert_eq!(bare[0].state, "");
}

/// BIRD 1.6 (Calico's fork) puts the channel lines first and has no `Local AS` line (hand-written
/// after that layout, not captured from a real BIRD 1.6).
#[test]
fn bird1_layout() {
    let text = "2002-Name       Proto      Table      State  Since         Info\n\
1002-Mesh_10_0_0_2 BGP      master   up     2026-11-24  Established\n\
1006-  Description:    Connection to BGP peer\n  \
  Preference:     100\n  \
  Input filter:   ACCEPT\n  \
  Routes:         4 imported, 2 exported, 3 preferred\n  \
  BGP state:          Established\n  \
    Neighbor address: 10.0.0.2\n  \
    Neighbor AS:      64512\n  \
    Hold timer:       220/240\n  \
    Keepalive timer:  28/80\n\
0000 \n";
    let peers = parse_protocols_all(text, T0);
    assert_eq!(peers.len(), 1);
    let p = &peers[0];
    assert_eq!((p.name.as_str(), p.state.as_str()), ("Mesh_10_0_0_2", "Established"));
    assert_eq!((p.neighbor_as, p.local_as), (Some(64512), None));
    assert_eq!((p.routes_imported, p.routes_exported), (Some(4), Some(2)));
    assert_eq!((p.hold_time_s, p.keepalive_s), (Some(240), Some(80)));
}

#[test]
fn routes_of_two_channels_are_summed() {
    let text = "1002-t BGP --- up 00:00 Established\n1006-  Routes: 2 imported, 1 exported, 2 preferred\n \
     Routes: 3 imported, 0 filtered, 4 exported, 3 preferred\n0000 \n";
    let p = &parse_protocols_all(text, T0)[0];
    assert_eq!((p.routes_imported, p.routes_exported), (Some(5), Some(5)));
}

#[test]
fn timers_and_codes() {
    assert_eq!(timer("6.050/9"), Some(9));
    assert_eq!(timer("9"), Some(9));
    assert_eq!(timer("x/"), None);
    assert_eq!(final_code("0000 "), Some("0000"));
    assert_eq!(final_code("9001 syntax error"), Some("9001"));
    assert_eq!(final_code("1002-tor1"), None);
    assert_eq!(final_code(" tor1"), None);
}

/// Real BIRD 2.0.12 replies (tests/fixtures/upstream/bird/failover/): the node's `graceful
/// restart` setting, the TOR's capability, and the negotiated timers.
#[test]
fn graceful_restart_from_real_transcripts() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/upstream/bird/failover/");
    let read = |f: &str| std::fs::read_to_string(format!("{dir}{f}")).expect("fixture");
    let gr = |p: &BgpPeer| {
        (
            p.name.clone(),
            p.graceful_restart,
            p.restart_time_s,
            p.peer_graceful_restart,
            p.hold_time_s,
            p.keepalive_s,
        )
    };
    // No `graceful restart` statement: BIRD 2's default `aware` is helper only. tor2 runs
    // `graceful restart off` and advertises nothing.
    let peers = parse_protocols_all(&read("gr-default-aware.node.ctl.show-protocols-all.txt"), T0);
    assert_eq!(
        peers.iter().map(gr).collect::<Vec<_>>(),
        vec![
            ("tor1".into(), Some(false), None, Some(true), Some(240), Some(80)),
            ("tor2".into(), Some(false), None, Some(false), Some(240), Some(80)),
        ]
    );
    // `graceful restart on; graceful restart time 90; hold time 9; keepalive time 3;`
    let peers = parse_protocols_all(&read("gr-on-hold9.node.ctl.show-protocols-all.txt"), T0);
    assert_eq!(
        peers.iter().map(gr).collect::<Vec<_>>(),
        vec![
            ("tor1".into(), Some(true), Some(90), Some(true), Some(9), Some(3)),
            ("tor2".into(), Some(true), Some(90), Some(false), Some(9), Some(3)),
        ]
    );
    // The existing lab (Calico-style template with `graceful restart;`, default timers).
    let a = std::fs::read_to_string(format!("{dir}../2.0.12/a-established.bird.ctl.show-protocols-all.txt"))
        .expect("fixture");
    assert!(
        parse_protocols_all(&a, T0)
            .iter()
            .all(|p| (p.graceful_restart, p.restart_time_s) == (Some(true), Some(120)))
    );
    // A session that is down prints no capabilities: unknown, not off.
    let b = std::fs::read_to_string(format!("{dir}../2.0.12/b-tor2-down.bird.ctl.show-protocols-all.txt"))
        .expect("fixture");
    let down: Vec<_> = parse_protocols_all(&b, T0).into_iter().filter(|p| p.state != "Established").collect();
    assert!(
        !down.is_empty()
            && down.iter().all(|p| p.graceful_restart.is_none() && p.peer_graceful_restart.is_none())
    );
}

#[test]
fn bird1_neighbor_caps_say_whether_the_peer_helps() {
    let text = "1002-Node_10_0_0_1 BGP master up 13:05:29 Established\n1006-  BGP state: Established\n \
       Neighbor caps:    refresh enhanced-refresh restart-aware llgr-aware AS4\n\
1002-Node_10_0_0_2 BGP master up 13:05:29 Established\n1006-  BGP state: Established\n \
       Neighbor caps:    refresh AS4\n0000 \n";
    let p = parse_protocols_all(text, T0);
    assert_eq!(
        p.iter().map(|p| (p.peer_graceful_restart, p.graceful_restart)).collect::<Vec<_>>(),
        vec![(Some(true), None), (Some(false), None)]
    );
}
