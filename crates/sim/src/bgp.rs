//! BGP sessions of the Cilium/BGP nodes: one to each TOR of the rack, plus the incidents
//! (degraded, isolated, TOR down) and the one session that flaps as time advances.

use std::collections::VecDeque;

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::model::{BgpSession, BgpState};

use super::incidents::Incidents;
use super::topology::SimNode;

pub(crate) const LOCAL_ASN: u32 = 64512;
const HOLD_S: u32 = 9;
const KEEPALIVE_S: u32 = 3;
const ROUTES_ADVERTISED: u64 = 2;

/// What the simulated clusters configure: the `CiliumBGPPeerConfig` `sim serve` serves, graceful
/// restart (120 s) and 9/3 s timers; whether the TORs help is not in Cilium's objects.
fn failover() -> crate::model::Failover {
    crate::model::Failover {
        graceful_restart: Some(true),
        restart_time_s: Some(120),
        peer_graceful_restart: None,
        hold_time_conf_s: Some(HOLD_S),
        keepalive_conf_s: Some(KEEPALIVE_S),
    }
}

fn session(node: &SimNode, i: usize, since: DateTime<Utc>, routes_rx: u64) -> BgpSession {
    let rack = node.rack as u32;
    BgpSession {
        peer: node.tor(i),
        peer_addr: format!("10.{}.{}.1", node.rack, i),
        family: Some(crate::model::Family::Ipv4),
        peer_asn: 65000 + rack * 2 + i as u32,
        local_asn: LOCAL_ASN,
        state: BgpState::Established,
        since: Some(since),
        resets_1h: 0,
        routes_received: Some(routes_rx),
        routes_advertised: Some(ROUTES_ADVERTISED),
        hold_time_s: Some(HOLD_S),
        keepalive_s: Some(KEEPALIVE_S),
        last_error: None,
        peer_type: None,
        failover: failover(),
        reports: Vec::new(),
    }
}

/// Take a session down: no routes, no negotiated timers.
fn down(s: &mut BgpSession, state: BgpState, since: DateTime<Utc>, error: &str) {
    s.state = state;
    s.since = Some(since);
    s.routes_received = Some(0);
    s.routes_advertised = Some(0);
    s.hold_time_s = None;
    s.keepalive_s = None;
    s.last_error = Some(error.into());
}

/// Take TOR `tor` of the node down (`Active`, hold timer expired) or back up (`Established`,
/// routes from the node's other session) at `now`; false when nothing changed.
pub(crate) fn set_tor(sessions: &mut [BgpSession], tor: usize, up: bool, now: DateTime<Utc>) -> bool {
    let routes = sessions.iter().filter_map(|s| s.routes_received).max().unwrap_or(1);
    let Some(s) = sessions.get_mut(tor) else { return false };
    if s.is_up() == up {
        return false;
    }
    if up {
        s.state = BgpState::Established;
        s.since = Some(now);
        s.routes_received = Some(routes);
        s.routes_advertised = Some(ROUTES_ADVERTISED);
        s.hold_time_s = Some(HOLD_S);
        s.keepalive_s = Some(KEEPALIVE_S);
    } else {
        down(s, BgpState::Active, now, "Hold timer expired");
        s.resets_1h += 1;
    }
    true
}

fn ago(start: DateTime<Utc>, rng: &mut ChaCha8Rng, lo_s: i64, hi_s: i64) -> DateTime<Utc> {
    start - Duration::seconds(rng.random_range(lo_s..=hi_s))
}

/// Sessions per node (empty for nodes without BGP), as they are at `start`.
pub(crate) fn initial_sessions(
    nodes: &[SimNode],
    inc: &Incidents,
    start: DateTime<Utc>,
    rng: &mut ChaCha8Rng,
) -> Vec<Vec<BgpSession>> {
    let bgp_nodes = nodes.iter().filter(|n| n.role.has_bgp()).count() as u64;
    // Every other BGP node's pod CIDR, plus a default route.
    let routes_rx = bgp_nodes.saturating_sub(1) + 1;
    let outage_since = ago(start, rng, 12 * 60, 25 * 60);
    nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            if !node.role.has_bgp() {
                return Vec::new();
            }
            let mut s: Vec<BgpSession> = (0..2)
                .map(|t| session(node, t, ago(start, rng, 3 * 86_400, 40 * 86_400), routes_rx))
                .collect();
            if inc.bgp_degraded == Some(i) {
                let since = ago(start, rng, 20 * 60, 3 * 3600);
                down(&mut s[1], BgpState::Active, since, "Hold timer expired");
                s[1].resets_1h = u32::from(start - since < Duration::hours(1));
            }
            if inc.bgp_isolated == Some(i) {
                let since = ago(start, rng, 10 * 60, 40 * 60);
                down(&mut s[0], BgpState::Idle, since, "Connection refused");
                down(&mut s[1], BgpState::Connect, since + Duration::seconds(4), "Connection refused");
            }
            if inc.tor_down == Some(node.rack) {
                down(&mut s[0], BgpState::Active, outage_since, "Hold timer expired");
            }
            s
        })
        .collect()
}

/// The flapping session: toggles Established <-> Idle every 20-40 s.
#[derive(Debug, Clone)]
pub(crate) struct Flap {
    pub node: usize,
    up: bool,
    since: DateTime<Utc>,
    next: DateTime<Utc>,
    /// Times the session left Established, oldest first.
    resets: VecDeque<DateTime<Utc>>,
    routes_rx: u64,
}

pub(crate) const FLAP_SESSION: usize = 0;

impl Flap {
    pub(crate) fn new(node: usize, start: DateTime<Utc>, routes_rx: u64, rng: &mut ChaCha8Rng) -> Flap {
        let n = rng.random_range(3..=5);
        let mut resets: Vec<DateTime<Utc>> = (0..n).map(|_| ago(start, rng, 120, 3300)).collect();
        resets.sort();
        let since = ago(start, rng, 30, 100);
        Flap {
            node,
            up: true,
            since,
            next: start + Duration::seconds(rng.random_range(20..=40)),
            resets: resets.into(),
            routes_rx,
        }
    }

    /// Write the flapping session's current state into the node's sessions.
    pub(crate) fn apply(&self, sessions: &mut [BgpSession], now: DateTime<Utc>) {
        let Some(s) = sessions.get_mut(FLAP_SESSION) else { return };
        if self.up {
            s.state = BgpState::Established;
            s.since = Some(self.since);
            s.routes_received = Some(self.routes_rx);
            s.routes_advertised = Some(ROUTES_ADVERTISED);
            s.hold_time_s = Some(HOLD_S);
            s.keepalive_s = Some(KEEPALIVE_S);
            s.last_error = Some("Hold timer expired".into());
        } else {
            down(s, BgpState::Idle, self.since, "Hold timer expired");
        }
        let hour_ago = now - Duration::hours(1);
        s.resets_1h = self.resets.iter().filter(|t| **t > hour_ago).count() as u32;
    }

    /// Advance to `now`; true when the session changed.
    pub(crate) fn advance(
        &mut self,
        now: DateTime<Utc>,
        sessions: &mut [BgpSession],
        rng: &mut ChaCha8Rng,
    ) -> bool {
        let before = sessions.get(FLAP_SESSION).cloned();
        if now - self.next > Duration::hours(2) {
            // A long jump: skip the toggles nobody could have seen.
            self.next = now - Duration::hours(1);
        }
        while self.next <= now {
            if self.up {
                self.resets.push_back(self.next);
            }
            self.up = !self.up;
            self.since = self.next;
            self.next += Duration::seconds(rng.random_range(20..=40));
        }
        let hour_ago = now - Duration::hours(1);
        while self.resets.front().is_some_and(|t| *t <= hour_ago) {
            self.resets.pop_front();
        }
        self.apply(sessions, now);
        sessions.get(FLAP_SESSION).cloned() != before
    }
}
