//! BGP failover rules, one finding per rack (a cluster-wide setting would otherwise give one
//! warning per node): nodes whose sessions lack graceful restart (a restart of their BGP
//! speaker withdraws their routes at once), and nodes whose hold time makes failover slow
//! (a dead node blackholes its ECMP share until the hold timer expires). See
//! `analysis::failover` for the window and `SLOW_HOLD_S` for the threshold.

use std::collections::BTreeMap;

use crate::analysis::failover::{self, Gr, SLOW_HOLD_S};
use crate::model::{Finding, Node, Rule, Severity, Snapshot};

use super::list;

pub fn check(snap: &Snapshot, out: &mut Vec<Finding>) {
    let mut no_gr: BTreeMap<&str, Vec<(&Node, Vec<String>)>> = BTreeMap::new();
    let mut slow: BTreeMap<&str, Vec<(&Node, u32)>> = BTreeMap::new();
    for n in &snap.nodes {
        if failover::window(n).is_none() {
            continue;
        }
        // Configuration, not the moment: sessions that are down count too.
        let peers: Vec<String> = n
            .bgp
            .iter()
            .filter(|s| matches!(failover::gr(s), Gr::Off | Gr::PeerOff))
            .map(|s| s.peer.clone())
            .collect();
        if !peers.is_empty() {
            no_gr.entry(&n.rack).or_default().push((n, peers));
        }
        if let Some(h) = n.bgp.iter().filter_map(failover::slow_hold).max() {
            slow.entry(&n.rack).or_default().push((n, h));
        }
    }
    for (rack, nodes) in no_gr {
        let evidence = nodes
            .iter()
            .map(|(n, peers)| {
                let lines: Vec<String> =
                    n.bgp.iter().filter(|s| peers.contains(&s.peer)).map(failover::session_line).collect();
                format!("{}: {}", n.name, lines.join("; "))
            })
            .collect();
        let names: Vec<&str> = nodes.iter().map(|(n, _)| n.name.as_str()).collect();
        out.push(Finding {
            rule: Rule::BgpNoGracefulRestart,
            severity: Severity::Warning,
            subject: rack.to_string(),
            since: None,
            what: format!(
                "{} BGP nodes without graceful restart ({}): restarting their BGP speaker (an agent upgrade) withdraws \
                 their routes at once",
                nodes.len(),
                list(&names, 3)
            ),
            evidence,
            remedy: "Enable graceful restart on both ends: Cilium `spec.gracefulRestart: {enabled: true, \
                     restartTimeSeconds: 120}` in the CiliumBGPPeerConfig; BIRD `graceful restart on;` in the bgp \
                     protocol or template (its default `aware` only helps others); and graceful restart (helper) on the \
                     TORs. Until then, drain a node before restarting its agent."
                .into(),
        });
    }
    for (rack, nodes) in slow {
        let worst = nodes.iter().map(|(_, h)| *h).max().unwrap_or(0);
        let evidence = nodes
            .iter()
            .map(|(n, h)| {
                let lines: Vec<String> = n.bgp.iter().map(failover::timers).collect();
                format!("{}: hold {h} s ({})", n.name, lines.join("; "))
            })
            .collect();
        out.push(Finding {
            rule: Rule::BgpSlowHold,
            severity: Severity::Warning,
            subject: rack.to_string(),
            since: None,
            what: format!(
                "{} BGP nodes with hold time above {SLOW_HOLD_S} s (up to {worst} s): if one dies, the TORs keep sending \
                 its share of ECMP traffic to it that long",
                nodes.len()
            ),
            evidence,
            remedy: format!(
                "Lower the timers to hold {SLOW_HOLD_S} s / keepalive 3 s (Cilium CiliumBGPPeerConfig `spec.timers: \
                 {{holdTimeSeconds: {SLOW_HOLD_S}, keepAliveTimeSeconds: 3}}`, default 90/30; BIRD `hold time {SLOW_HOLD_S}; \
                 keepalive time 3;`, default 240/80), or run BFD on the sessions (clustertop cannot see BFD). The \
                 negotiated time is the lower of both ends: check the TOR's too."
            ),
        });
    }
}
