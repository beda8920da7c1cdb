//! BGP rules: ECMP degraded (1/2), isolated (0/2) and flapping sessions.

use crate::analysis::bgp::{peer_counts, peer_key};
use crate::model::{BgpSession, BgpVerdict, Finding, Node, Rule, Severity, Snapshot};

/// Resets in the last hour at which a session counts as flapping.
pub const BGP_FLAP_RESETS: u32 = 3;

/// Peers each BGP node is expected to have (its two TORs).
const EXPECTED_PEERS: usize = 2;

pub fn check(snap: &Snapshot, out: &mut Vec<Finding>) {
    for n in &snap.nodes {
        match n.bgp_verdict {
            BgpVerdict::Degraded => degraded(n, out),
            BgpVerdict::Isolated => isolated(n, out),
            _ => {}
        }
        flapping(n, out);
    }
}

fn describe(s: &BgpSession) -> String {
    let mut line = format!("{} ({}, AS{}): {}", s.peer, s.peer_addr, s.peer_asn, s.state.label());
    if let Some(t) = s.since {
        line.push_str(&format!(" since {}", t.format("%Y-%m-%d %H:%M:%SZ")));
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
    line
}

/// Sessions to peers with no Established session at all.
fn down_sessions(n: &Node) -> Vec<&BgpSession> {
    n.bgp.iter().filter(|s| !n.bgp.iter().any(|o| o.is_up() && peer_key(o) == peer_key(s))).collect()
}

/// Evidence: every session, then TORs of the node that reported no session at all.
fn evidence(n: &Node) -> Vec<String> {
    let mut ev: Vec<String> = n.bgp.iter().map(describe).collect();
    let named_after_tors = n.bgp.iter().any(|s| n.tors.contains(&s.peer));
    if named_after_tors {
        for tor in n.tors.iter().filter(|t| !n.bgp.iter().any(|s| &s.peer == *t)) {
            ev.push(format!("{tor}: no session reported"));
        }
    }
    ev
}

const CHECK_PEER: &str = "On the node: `birdc show protocols all` (Calico/BIRD) or `cilium bgp peers` \
    (Cilium); on the TOR: the neighbor state and its log. Check the link (ip -s link, ethtool, LLDP), \
    MTU and the peer's ASN/password. Until both sessions are up the node has no redundancy: \
    avoid draining its rack peer or the other TOR.";

fn degraded(n: &Node, out: &mut Vec<Finding>) {
    let (peers, up) = peer_counts(&n.bgp);
    let total = peers.max(EXPECTED_PEERS);
    let down = down_sessions(n);
    let mut since = down.iter().filter_map(|s| s.since).max();
    let mut what = format!("ECMP degraded: {up}/{total} sessions, half bandwidth, no redundancy");
    if let Some(d) = down.first() {
        what.push_str(&format!("; {} is {}", d.peer, d.state.label()));
        if let Some(e) = &d.last_error {
            what.push_str(&format!(" ({e})"));
        }
    } else {
        // Only one peer reported: the other TOR is missing altogether.
        since = None;
    }
    out.push(Finding {
        rule: Rule::BgpDegraded,
        severity: Severity::Warning,
        subject: n.name.clone(),
        since,
        what,
        evidence: evidence(n),
        remedy: CHECK_PEER.into(),
    });
}

fn isolated(n: &Node, out: &mut Vec<Finding>) {
    let (peers, _) = peer_counts(&n.bgp);
    out.push(Finding {
        rule: Rule::BgpIsolated,
        severity: Severity::Critical,
        subject: n.name.clone(),
        // The node became isolated when its last session went down.
        since: n.bgp.iter().filter_map(|s| s.since).max(),
        what: format!(
            "BGP isolated: 0/{} sessions established; pod routes are not announced to the fabric",
            peers.max(EXPECTED_PEERS)
        ),
        evidence: evidence(n),
        remedy: format!(
            "Cordon the node (its pods are unreachable from other nodes), then: {CHECK_PEER} \
             If both TORs are fine, restart the BGP speaker (bird / cilium-agent) on the node."
        ),
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
    use super::super::fixtures::*;
    use super::*;
    use crate::analysis::bgp::verdict;
    use crate::model::{BgpState, NetMode};
    use chrono::Duration;

    fn bgp_node(sessions: Vec<BgpSession>) -> Node {
        let mut n = with_mode(node("n1"), NetMode::CiliumBgp);
        n.bgp_verdict = verdict(NetMode::CiliumBgp, &sessions);
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
    fn non_bgp_nodes_are_ignored() {
        assert!(run(with_mode(node("n1"), NetMode::BridgeVxlan)).is_empty());
    }
}
