//! BGP rules: degraded (some expected sessions down; with a TOR pair, ECMP at half bandwidth),
//! isolated (a family with no session up), flapping sessions, and a single configured peer (an
//! info note: healthy as configured, no redundancy).

use crate::model::{BgpSession, BgpVerdict, Finding, Node, Rule, Severity, Snapshot};

/// Resets in the last hour at which a session counts as flapping.
pub const BGP_FLAP_RESETS: u32 = 3;

pub fn check(snap: &Snapshot, out: &mut Vec<Finding>) {
    for n in &snap.nodes {
        match n.bgp_verdict {
            BgpVerdict::Degraded => degraded(n, out),
            BgpVerdict::Isolated => isolated(n, out),
            BgpVerdict::Healthy if n.bgp_counts.expected() == 1 => single_peer(n, out),
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

    #[test]
    fn non_bgp_nodes_are_ignored() {
        assert!(run(with_mode(node("n1"), NetMode::BridgeVxlan)).is_empty());
    }
}
