//! BGP rules: a peer (a TOR) that every node lost its session to (one finding for the outage,
//! the nodes as evidence), degraded (some expected sessions down; with a TOR pair, ECMP at half
//! bandwidth), isolated (a family with no session up), flapping sessions, and a single configured
//! peer (an info note: healthy as configured, no redundancy).

use std::collections::BTreeMap;

use crate::model::{BgpSession, BgpVerdict, Finding, Node, Rule, Severity, Snapshot};

/// Resets in the last hour at which a session counts as flapping.
pub const BGP_FLAP_RESETS: u32 = 3;

/// Nodes that must have lost their sessions to one peer before the peer itself is suspect (one
/// node alone says nothing about the peer).
pub const PEER_DOWN_NODES: usize = 2;

pub fn check(snap: &Snapshot, out: &mut Vec<Finding>) {
    let dead = dead_peers(snap);
    for n in &snap.nodes {
        match n.bgp_verdict {
            // The peer's finding covers it: one outage, not one warning per node.
            BgpVerdict::Degraded if explained_by(n, &dead) => {}
            BgpVerdict::Degraded => degraded(n, out),
            BgpVerdict::Isolated => isolated(n, out),
            BgpVerdict::Healthy if n.bgp_counts.expected() == 1 => single_peer(n, out),
            _ => {}
        }
        flapping(n, out);
    }
    for d in &dead {
        peer_down(d, out);
    }
}

/// A BGP peer every node that peers with it lost its session to.
#[derive(Debug)]
pub struct DeadPeer<'a> {
    /// The peer's name as the nodes' sessions (or expected peers) name it.
    pub peer: String,
    /// Whether it is one of the nodes' two TORs (by their TOR labels or peer names).
    pub tor: bool,
    /// Each node and its sessions to the peer (none: expected, but no session reported).
    pub nodes: Vec<(&'a Node, Vec<&'a BgpSession>)>,
}

/// Peers (by name and address) that at least [`PEER_DOWN_NODES`] nodes peer with, none of them
/// with a session up: the peer, its link or its uplink is down, not the nodes. Sorted by name.
pub fn dead_peers(snap: &Snapshot) -> Vec<DeadPeer<'_>> {
    type Seen<'a> = BTreeMap<&'a str, (&'a Node, Vec<&'a BgpSession>)>;
    let mut peers: BTreeMap<(String, String), Seen> = BTreeMap::new();
    let bgp_nodes = || snap.nodes.iter().filter(|n| n.net.mode.may_use_bgp() || !n.bgp.is_empty());
    for n in bgp_nodes() {
        for s in &n.bgp {
            let e = peers.entry((s.peer.clone(), s.key())).or_default();
            e.entry(n.name.as_str()).or_insert((n, Vec::new())).1.push(s);
        }
    }
    // After every session is grouped, so that the group does not depend on the nodes' order.
    for n in bgp_nodes() {
        for m in &n.bgp_counts.missing {
            // An expected peer without a session: the group of that name, else one of its own.
            let key = peers.keys().find(|(name, _)| name == m).cloned().unwrap_or((m.clone(), String::new()));
            peers.entry(key).or_default().entry(n.name.as_str()).or_insert((n, Vec::new()));
        }
    }
    peers
        .into_iter()
        .filter(|(_, nodes)| nodes.len() >= PEER_DOWN_NODES)
        .filter(|(_, nodes)| nodes.values().all(|(_, ss)| ss.iter().all(|s| !s.is_up())))
        .map(|((peer, _), nodes)| DeadPeer {
            tor: nodes.values().all(|(n, _)| n.tors.contains(&peer)),
            peer,
            nodes: nodes.into_values().collect(),
        })
        .collect()
}

/// Whether every session `n` lost (and every expected peer it has no session to) is to a dead
/// peer.
fn explained_by(n: &Node, dead: &[DeadPeer]) -> bool {
    let is_dead =
        |name: &str| dead.iter().any(|d| d.peer == name && d.nodes.iter().any(|(x, _)| x.name == n.name));
    down_sessions(n).iter().all(|s| is_dead(&s.peer)) && n.bgp_counts.missing.iter().all(|m| is_dead(m))
}

fn peer_down(d: &DeadPeer, out: &mut Vec<Finding>) {
    let sessions: Vec<&BgpSession> = d.nodes.iter().flat_map(|(_, ss)| ss.iter().copied()).collect();
    let n = d.nodes.len();
    let what = if d.tor {
        format!("TOR {} down: {n} nodes lost a BGP session; the rack runs on its other TOR alone", d.peer)
    } else {
        format!("BGP peer {} down: {n} nodes lost their session to it", d.peer)
    };
    let mut evidence = vec![format!(
        "every node that peers with {} has its session down ({} sessions, none established)",
        d.peer,
        sessions.len()
    )];
    for (node, ss) in &d.nodes {
        let state = match ss.as_slice() {
            [] => format!("{}: expected, no session reported", d.peer),
            ss => ss.iter().map(|s| describe(s)).collect::<Vec<_>>().join("; "),
        };
        evidence.push(format!("{} ({} established): {state}", node.name, node.bgp_label()));
    }
    let isolated: Vec<&str> = d
        .nodes
        .iter()
        .filter(|(n, _)| n.bgp_verdict == BgpVerdict::Isolated)
        .map(|(n, _)| n.name.as_str())
        .collect();
    if !isolated.is_empty() {
        evidence.push(format!("isolated (no other session up either): {}", isolated.join(", ")));
    }
    let who = if d.tor { "TOR" } else { "peer" };
    out.push(Finding {
        rule: Rule::BgpPeerDown,
        severity: Severity::Critical,
        subject: d.peer.clone(),
        // The outage began when the first of its sessions went down.
        since: sessions.iter().filter_map(|s| s.since).min(),
        what,
        evidence,
        remedy: format!(
            "Look at the {who}, not the nodes: its power and console, its uplinks and its BGP process \
             (`show bgp summary` / `show ip bgp neighbors` on {}), and the links to it (LLDP, optics). Until it is \
             back every node listed has no redundancy: do not drain, reboot or upgrade the other TOR of their rack.",
            d.peer
        ),
    });
}

fn describe(s: &BgpSession) -> String {
    let mut line = format!("{} ({}, AS{}): {}", s.peer, s.peer_addr, s.peer_asn, s.state.label());
    if let Some(t) = s.since {
        line.push_str(&format!(" since {}", t.format("%Y-%m-%d %H:%M:%SZ")));
    }
    if let Some(t) = &s.peer_type {
        line.push_str(&format!(", {t}"));
    }
    if s.resets_1h > 0 {
        line.push_str(&format!(", {} resets in 1h", s.resets_1h));
    }
    if let Some(r) = s.routes_received {
        line.push_str(&format!(", {r} routes received"));
    }
    if let Some(e) = &s.last_error {
        line.push_str(&format!(", last error: {e}"));
    }
    let sources: Vec<&str> = s.reports.iter().map(|r| r.source.label()).collect();
    if !sources.is_empty() {
        line.push_str(&format!(" [{}]", sources.join(", ")));
    }
    line
}

/// Sessions that are not established.
fn down_sessions(n: &Node) -> Vec<&BgpSession> {
    n.bgp.iter().filter(|s| !s.is_up()).collect()
}

/// Evidence: every session, where the expected peers came from, then expected peers that no
/// source reported a session for.
fn evidence(n: &Node) -> Vec<String> {
    let mut ev: Vec<String> = n.bgp.iter().map(describe).collect();
    ev.push(format!(
        "expected peers from {}",
        match n.bgp_counts.expected_from {
            crate::model::ExpectedFrom::Config => "the node's BGP configuration",
            crate::model::ExpectedFrom::TorLabels => "the node's TOR labels",
            crate::model::ExpectedFrom::Reported => "the sessions reported",
            crate::model::ExpectedFrom::Nothing => "nothing",
        }
    ));
    for p in &n.bgp_counts.missing {
        ev.push(format!("{p}: no session reported"));
    }
    ev
}

/// The first down session or missing peer, for the one-line summary.
fn first_down(n: &Node) -> String {
    match down_sessions(n).first() {
        Some(d) => {
            let mut s = format!("{} is {}", d.peer, d.state.label());
            if let Some(e) = &d.last_error {
                s.push_str(&format!(" ({e})"));
            }
            s
        }
        None => n.bgp_counts.missing.first().map(|p| format!("{p} reports no session")).unwrap_or_default(),
    }
}

const CHECK_PEER: &str = "On the node: `birdc show protocols all` (Calico/BIRD) or `cilium bgp peers` \
    (Cilium); on the peer: the neighbor state and its log. Check the link (ip -s link, ethtool, LLDP), \
    MTU and the peer's ASN/password. Until every session is up the node has less redundancy: \
    avoid draining its rack peer or the other TOR.";

fn degraded(n: &Node, out: &mut Vec<Finding>) {
    let label = n.bgp_label();
    // A TOR pair (two expected sessions per family) loses half its ECMP paths.
    let ecmp = n.bgp_counts.families.iter().all(|f| f.expected == 2);
    let mut what = if ecmp {
        format!("ECMP degraded: {label} sessions, half bandwidth, no redundancy")
    } else {
        format!("BGP degraded: {label} sessions established")
    };
    let down = first_down(n);
    if !down.is_empty() {
        what.push_str(&format!("; {down}"));
    }
    out.push(Finding {
        rule: Rule::BgpDegraded,
        severity: Severity::Warning,
        subject: n.name.clone(),
        since: down_sessions(n).iter().filter_map(|s| s.since).max(),
        what,
        evidence: evidence(n),
        remedy: CHECK_PEER.into(),
    });
}

fn isolated(n: &Node, out: &mut Vec<Finding>) {
    let dead: Vec<&str> = n
        .bgp_counts
        .families
        .iter()
        .filter(|f| f.established == Some(0))
        .filter_map(|f| f.family.map(|f| f.label()))
        .collect();
    let scope = if dead.is_empty() || dead.len() == n.bgp_counts.families.len() {
        "pod routes are not announced to the fabric".to_string()
    } else {
        format!("{} pod routes are not announced to the fabric", dead.join(" and "))
    };
    out.push(Finding {
        rule: Rule::BgpIsolated,
        severity: Severity::Critical,
        subject: n.name.clone(),
        // The node became isolated when its last session went down.
        since: n.bgp.iter().filter(|s| !s.is_up()).filter_map(|s| s.since).max(),
        what: format!("BGP isolated: {} sessions established; {scope}", n.bgp_label()),
        evidence: evidence(n),
        remedy: format!(
            "Cordon the node (its pods are unreachable from other nodes), then: {CHECK_PEER} \
             If the peers are fine, restart the BGP speaker (bird / cilium-agent) on the node."
        ),
    });
}

fn single_peer(n: &Node, out: &mut Vec<Finding>) {
    out.push(Finding {
        rule: Rule::BgpSinglePeer,
        severity: Severity::Info,
        subject: n.name.clone(),
        since: None,
        what: format!("BGP {} as configured, but with one peer: no redundancy", n.bgp_label()),
        evidence: evidence(n),
        remedy: "Healthy as configured. If the design expects two TORs, add the second peer to the \
                 node's BGP configuration; until then, maintenance on that peer or its link isolates the \
                 node."
            .into(),
    });
}

fn flapping(n: &Node, out: &mut Vec<Finding>) {
    let flaps: Vec<&BgpSession> = n.bgp.iter().filter(|s| s.resets_1h >= BGP_FLAP_RESETS).collect();
    if flaps.is_empty() {
        return;
    }
    let names: Vec<&str> = flaps.iter().map(|s| s.peer.as_str()).collect();
    let max = flaps.iter().map(|s| s.resets_1h).max().unwrap_or(0);
    let mut evidence: Vec<String> = flaps.iter().map(|s| describe(s)).collect();
    evidence.push(format!("threshold {BGP_FLAP_RESETS} resets in 1h"));
    out.push(Finding {
        rule: Rule::BgpFlapping,
        severity: Severity::Warning,
        subject: n.name.clone(),
        since: None,
        what: format!("BGP flapping: {} reset up to {max} times in the last hour", names.join(", ")),
        evidence,
        remedy: "Flaps are usually the link or the timers: check interface errors and optics (ip -s link, \
                 ethtool -S), hold/keepalive timers and BFD on both ends, and CPU starvation of the BGP \
                 daemon. Each flap withdraws the node's routes from that TOR for the reconvergence time."
            .into(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::bgp::judge;
    use crate::model::{BgpState, ConfiguredPeer, NetMode};
    use crate::testkit::*;
    use chrono::Duration;

    fn bgp_node(sessions: Vec<BgpSession>) -> Node {
        configured_node(None, sessions)
    }
    fn configured_node(cfg: Option<&[ConfiguredPeer]>, sessions: Vec<BgpSession>) -> Node {
        let mut n = with_mode(node("n1"), NetMode::CiliumBgp);
        (n.bgp_verdict, n.bgp_counts) = judge(NetMode::CiliumBgp, cfg, Some(&n.tors), &sessions);
        n.bgp = sessions;
        n
    }
    fn run(n: Node) -> Vec<Finding> {
        let mut out = Vec::new();
        check(&snapshot(vec![n]), &mut out);
        out
    }

    #[test]
    fn healthy_has_no_findings() {
        let n = bgp_node(vec![
            session("r1-tor-a", BgpState::Established),
            session("r1-tor-b", BgpState::Established),
        ]);
        assert!(run(n).is_empty());
    }

    #[test]
    fn degraded_names_the_down_peer() {
        let since = now() - Duration::minutes(42);
        let mut down = session("r1-tor-b", BgpState::Active);
        down.since = Some(since);
        down.last_error = Some("Hold timer expired".into());
        let f = run(bgp_node(vec![session("r1-tor-a", BgpState::Established), down]));
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].rule, f[0].severity), (Rule::BgpDegraded, Severity::Warning));
        assert!(f[0].what.starts_with("ECMP degraded: 1/2 sessions, half bandwidth, no redundancy"));
        assert!(f[0].what.contains("r1-tor-b is active (Hold timer expired)"), "{}", f[0].what);
        assert_eq!(f[0].since, Some(since));
        assert!(f[0].evidence[1].contains("last error: Hold timer expired"));
    }

    #[test]
    fn degraded_with_a_missing_tor() {
        let f = run(bgp_node(vec![session("r1-tor-a", BgpState::Established)]));
        assert_eq!(f[0].rule, Rule::BgpDegraded);
        assert!(f[0].what.starts_with("ECMP degraded: 1/2"));
        assert!(f[0].evidence.iter().any(|e| e == "r1-tor-b: no session reported"));
    }

    #[test]
    fn isolated_is_critical() {
        let f =
            run(bgp_node(vec![session("r1-tor-a", BgpState::Idle), session("r1-tor-b", BgpState::Connect)]));
        assert_eq!((f[0].rule, f[0].severity), (Rule::BgpIsolated, Severity::Critical));
        assert!(f[0].what.contains("0/2"));
    }

    #[test]
    fn flapping_boundary() {
        let mk = |r| {
            let mut s = session("r1-tor-a", BgpState::Established);
            s.resets_1h = r;
            bgp_node(vec![s, session("r1-tor-b", BgpState::Established)])
        };
        assert!(run(mk(2)).is_empty());
        let f = run(mk(3));
        assert_eq!((f[0].rule, f[0].severity), (Rule::BgpFlapping, Severity::Warning));
        assert!(f[0].what.contains("r1-tor-a reset up to 3 times"));
    }

    #[test]
    fn a_single_configured_peer_is_an_info_note_not_ecmp_degraded() {
        let s = session("tor", BgpState::Established);
        let cfg = [ConfiguredPeer::new("tor", s.peer_addr.clone())];
        let f = run(configured_node(Some(&cfg), vec![s]));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!((f[0].rule, f[0].severity), (Rule::BgpSinglePeer, Severity::Info));
        assert!(f[0].what.contains("1/1"), "{}", f[0].what);
    }

    #[test]
    fn three_peers_with_one_down_is_degraded_without_the_ecmp_words() {
        let mut a = session("mesh-a", BgpState::Established);
        a.peer_addr = "10.0.0.2".into();
        let mut b = session("mesh-b", BgpState::Established);
        b.peer_addr = "10.0.0.3".into();
        let mut c = session("mesh-c", BgpState::OpenSent);
        c.peer_addr = "10.0.0.4".into();
        let mut n = with_mode(node("n1"), NetMode::CalicoBgp);
        n.tors = ["?".into(), "?".into()];
        let sessions = vec![a, b, c];
        (n.bgp_verdict, n.bgp_counts) = judge(NetMode::CalicoBgp, None, None, &sessions);
        n.bgp = sessions;
        let f = run(n);
        assert_eq!(f[0].rule, Rule::BgpDegraded);
        assert!(
            f[0].what.starts_with("BGP degraded: 2/3 sessions established; mesh-c is opensent"),
            "{}",
            f[0].what
        );
    }

    fn rack(states: &[(BgpState, BgpState)]) -> Vec<Finding> {
        let nodes = states
            .iter()
            .enumerate()
            .map(|(i, (a, b))| {
                let mut down = session("r1-tor-a", a.clone());
                down.since = Some(now() - Duration::minutes(24 + i as i64));
                down.last_error = Some("Hold timer expired".into());
                let mut n = bgp_node(vec![down, session("r1-tor-b", b.clone())]);
                n.name = format!("r1-n{:02}", i + 1);
                n
            })
            .collect();
        let mut out = Vec::new();
        check(&snapshot(nodes), &mut out);
        out
    }

    #[test]
    fn a_tor_that_every_node_lost_is_one_finding_with_the_nodes_as_evidence() {
        use BgpState::{Active, Established, Idle};
        let f = rack(&vec![(Active, Established); 8]);
        assert_eq!(f.len(), 1, "one outage, not eight ECMP warnings: {f:#?}");
        assert_eq!(
            (f[0].rule, f[0].severity, f[0].subject.as_str()),
            (Rule::BgpPeerDown, Severity::Critical, "r1-tor-a")
        );
        assert_eq!(f[0].rule.id(), "bgp-peer-down");
        assert!(f[0].what.starts_with("TOR r1-tor-a down: 8 nodes lost a BGP session"), "{}", f[0].what);
        for i in 1..=8 {
            let node = format!("r1-n{i:02} (1/2 established): r1-tor-a");
            assert!(f[0].evidence.iter().any(|e| e.starts_with(&node)), "{node} in {:#?}", f[0].evidence);
        }
        assert_eq!(f[0].since, Some(now() - Duration::minutes(31)), "since the first session went down");
        // A node that lost the other TOR too stays its own (critical) finding, and is named.
        let mut states = vec![(Active, Established); 4];
        states[2] = (Idle, Idle);
        let f = rack(&states);
        let rules: Vec<(Rule, &str)> = f.iter().map(|f| (f.rule, f.subject.as_str())).collect();
        assert_eq!(rules, vec![(Rule::BgpIsolated, "r1-n03"), (Rule::BgpPeerDown, "r1-tor-a")]);
        assert!(
            f[1].evidence.iter().any(|e| e == "isolated (no other session up either): r1-n03"),
            "{:#?}",
            f[1].evidence
        );
    }

    #[test]
    fn eight_nodes_that_lost_tor_b_are_one_critical_finding_even_when_one_reports_no_session() {
        // The first node has no session to r1-tor-b at all (its speaker dropped it); the group
        // must not depend on the nodes' order.
        let nodes = (1..=8)
            .map(|i| {
                let b = (i > 1).then(|| session("r1-tor-b", BgpState::Connect));
                let mut n = bgp_node(
                    [Some(session("r1-tor-a", BgpState::Established)), b].into_iter().flatten().collect(),
                );
                n.name = format!("r1-n{i:02}");
                n
            })
            .collect();
        let mut f = Vec::new();
        check(&snapshot(nodes), &mut f);
        assert_eq!(f.len(), 1, "no per-node ECMP warnings: {f:#?}");
        assert_eq!(
            (f[0].rule, f[0].severity, f[0].subject.as_str()),
            (Rule::BgpPeerDown, Severity::Critical, "r1-tor-b")
        );
        let nodes: Vec<&String> = f[0].evidence.iter().filter(|e| e.starts_with("r1-n")).collect();
        assert_eq!(nodes.len(), 8, "{:#?}", f[0].evidence);
        assert!(nodes[0].ends_with("r1-tor-b: expected, no session reported"), "{}", nodes[0]);
    }

    #[test]
    fn one_node_or_a_tor_still_up_elsewhere_is_per_node() {
        use BgpState::{Active, Established};
        let f = rack(&[(Active, Established)]);
        assert_eq!(
            f.iter().map(|f| f.rule).collect::<Vec<_>>(),
            vec![Rule::BgpDegraded],
            "one node says nothing about the TOR"
        );
        let f = rack(&[(Active, Established), (Active, Established), (Established, Established)]);
        assert_eq!(
            f.iter().map(|f| f.rule).collect::<Vec<_>>(),
            vec![Rule::BgpDegraded; 2],
            "r1-tor-a answers r1-n03"
        );
    }

    #[test]
    fn non_bgp_nodes_are_ignored() {
        assert!(run(with_mode(node("n1"), NetMode::BridgeVxlan)).is_empty());
    }
}
