//! BGP verdict per node.
//!
//! Every BGP host peers with the two top-of-rack switches of its rack and spreads traffic over
//! both with ECMP. The verdict counts the distinct peers (by name, or by address when the name is
//! empty) with at least one Established session: an IPv4 and an IPv6 session to the same TOR
//! count once.

use std::collections::BTreeSet;

use crate::model::{BgpSession, BgpVerdict, NetMode};

/// The key that identifies a peer (a TOR) across its address families.
pub fn peer_key(s: &BgpSession) -> &str {
    if s.peer.is_empty() { &s.peer_addr } else { &s.peer }
}

/// Distinct peers reported, and distinct peers with an Established session.
pub fn peer_counts(sessions: &[BgpSession]) -> (usize, usize) {
    let all: BTreeSet<&str> = sessions.iter().map(peer_key).collect();
    let up: BTreeSet<&str> = sessions.iter().filter(|s| s.is_up()).map(peer_key).collect();
    (all.len(), up.len())
}

/// 2/2, 1/2, 0/2 or unknown for BGP nodes; not applicable for others.
///
/// A node in any mode that reports sessions (e.g. `Migrating`) is judged on them.
pub fn verdict(mode: NetMode, sessions: &[BgpSession]) -> BgpVerdict {
    if sessions.is_empty() {
        return if mode.uses_bgp() { BgpVerdict::Unknown } else { BgpVerdict::NotApplicable };
    }
    match peer_counts(sessions).1 {
        0 => BgpVerdict::Isolated,
        1 => BgpVerdict::Degraded,
        _ => BgpVerdict::Healthy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BgpState;

    fn s(peer: &str, addr: &str, state: BgpState) -> BgpSession {
        BgpSession::new(peer.into(), addr.into(), 65001, 65101, state)
    }
    use BgpState::*;

    #[test]
    fn non_bgp_without_sessions_is_not_applicable() {
        for m in [
            NetMode::BridgeVxlan,
            NetMode::BridgeNat,
            NetMode::CiliumTunnel,
            NetMode::Migrating,
            NetMode::Unknown,
        ] {
            assert_eq!(verdict(m, &[]), BgpVerdict::NotApplicable, "{m:?}");
        }
    }

    #[test]
    fn bgp_without_sessions_is_unknown() {
        assert_eq!(verdict(NetMode::CiliumBgp, &[]), BgpVerdict::Unknown);
        assert_eq!(verdict(NetMode::CalicoBgp, &[]), BgpVerdict::Unknown);
    }

    #[test]
    fn counts_established_distinct_peers() {
        let up_a = s("tor-a", "10.0.0.1", Established);
        let up_b = s("tor-b", "10.0.0.2", Established);
        let down_b = s("tor-b", "10.0.0.2", Active);
        let m = NetMode::CiliumBgp;
        assert_eq!(verdict(m, &[up_a.clone(), up_b.clone()]), BgpVerdict::Healthy);
        assert_eq!(verdict(m, &[up_a.clone(), down_b.clone()]), BgpVerdict::Degraded);
        assert_eq!(verdict(m, &[s("tor-a", "", Idle), down_b.clone()]), BgpVerdict::Isolated);
        // v4 and v6 sessions to the same TOR count once.
        let up_a6 = s("tor-a", "fd00::1", Established);
        assert_eq!(verdict(m, &[up_a.clone(), up_a6, down_b.clone()]), BgpVerdict::Degraded);
        // Unnamed peers are told apart by address.
        assert_eq!(
            verdict(m, &[s("", "10.0.0.1", Established), s("", "10.0.0.2", Established)]),
            BgpVerdict::Healthy
        );
        // Only one session reported at all.
        assert_eq!(verdict(m, std::slice::from_ref(&up_a)), BgpVerdict::Degraded);
        // A migrating node with sessions is judged on them.
        assert_eq!(verdict(NetMode::Migrating, &[up_a, up_b]), BgpVerdict::Healthy);
        assert_eq!(verdict(NetMode::Migrating, &[down_b]), BgpVerdict::Isolated);
    }
}
