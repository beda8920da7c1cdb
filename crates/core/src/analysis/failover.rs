//! The BGP failover window of a node: what a restart of its BGP speaker (cilium-agent, bird) or
//! the node's death does to its routes, from graceful restart (RFC 4724) and the hold timer, and
//! the pre-drain check (`:check drain NODE`): what taking the node out does to its rack's ECMP.
//!
//! - Graceful restart on (the node restart-capable and the TOR a helper): a restart keeps the
//!   node's routes at the TORs for up to the restart time; the kernel's routes stay, so traffic
//!   continues. No cut if the speaker is back in time.
//! - Without it: a clean restart closes the sessions and the TORs withdraw the node's routes at
//!   once, until the speaker is back and the sessions re-establish; ECMP routes many nodes
//!   announce (service VIPs) rebalance onto the rack's other nodes, the node's own pod CIDR is cut.
//! - A node that dies (or a speaker that hangs) closes nothing: the TORs keep sending to it until
//!   the hold timer expires: the hold time is the blackhole.

use crate::model::{BgpSession, BgpVerdict, Node, Snapshot};

/// Negotiated hold time above which failover is slow, seconds. 9 s (keepalive 3 s) is what
/// data-centre BGP designs use without BFD and what Cilium's documented examples set; the
/// defaults are far above it: Cilium 90 s (`DefaultBGPHoldTimeSeconds`), BIRD 240 s, RFC 4271's
/// suggestion 90 s. A dead node blackholes its share of the rack's ECMP traffic that long.
pub const SLOW_HOLD_S: u32 = 9;

/// Graceful restart of one session, as far as its sources say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gr {
    /// The node is restart-capable and the peer a helper (or, `peer_known: false`, the source
    /// cannot say whether the peer helps: Cilium's CRDs).
    On { restart_s: Option<u32>, peer_known: bool },
    /// The node is restart-capable but the peer does not advertise graceful restart: it
    /// withdraws the routes anyway.
    PeerOff,
    /// The node is not restart-capable (off, or BIRD's helper-only `aware`).
    Off,
    /// No source says.
    Unknown,
}

pub fn gr(s: &BgpSession) -> Gr {
    let f = &s.failover;
    match (f.graceful_restart, f.peer_graceful_restart) {
        (Some(true), Some(false)) => Gr::PeerOff,
        (Some(true), peer) => Gr::On { restart_s: f.restart_time_s, peer_known: peer.is_some() },
        (Some(false), _) => Gr::Off,
        (None, _) => Gr::Unknown,
    }
}

impl Gr {
    /// For a column: `120s`, `on`, `TOR off`, `off`, `?`.
    pub fn short(self) -> String {
        match self {
            Gr::On { restart_s: Some(t), .. } => format!("{t}s"),
            Gr::On { restart_s: None, .. } => "on".into(),
            Gr::PeerOff => "TOR off".into(),
            Gr::Off => "off".into(),
            Gr::Unknown => "?".into(),
        }
    }
    /// `GR 120s`, `GR 120s (TOR not reported)`, `GR on, TOR off`, `no GR`, `GR ?`.
    pub fn label(self) -> String {
        match self {
            Gr::On { restart_s, peer_known } => {
                let t = restart_s.map_or("?".to_string(), |t| format!("{t}s"));
                if peer_known { format!("GR {t}") } else { format!("GR {t} (TOR not reported)") }
            }
            Gr::PeerOff => "GR on, TOR off".into(),
            Gr::Off => "no GR".into(),
            Gr::Unknown => "GR ?".into(),
        }
    }
}

/// What a restart of the node's BGP speaker does to its routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestartCut {
    /// Every session keeps the routes for `within_s` (the shortest restart time): no cut if the
    /// speaker is back in time. `helpers_known`: every TOR said it helps.
    None { within_s: Option<u32>, helpers_known: bool },
    /// Some session withdraws the routes at once (the named peers), until the speaker is back.
    Withdrawn { peers: Vec<String> },
    /// No session is up: its routes are withdrawn already, a restart cuts nothing more.
    NothingUp,
    /// Not known, and why.
    Unknown(String),
}

/// The failover window of one BGP node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub restart: RestartCut,
    /// The longest negotiated hold time of its established sessions, seconds: how long the TORs
    /// keep sending to the node if it dies. `None` when no established session reports one.
    pub hold_s: Option<u32>,
}

/// The window of a node; `None` for a node without BGP.
pub fn window(n: &Node) -> Option<Window> {
    if n.bgp_verdict == BgpVerdict::NotApplicable {
        return None;
    }
    let hold_s = n.bgp.iter().filter(|s| s.is_up()).filter_map(|s| s.hold_time_s).max();
    Some(Window { restart: restart_cut(&n.bgp), hold_s })
}

fn restart_cut(sessions: &[BgpSession]) -> RestartCut {
    // Sessions that are down carry no routes a restart could cut: judge the established ones.
    if sessions.is_empty() {
        return RestartCut::Unknown("no BGP session reported".into());
    }
    let judged: Vec<&BgpSession> = sessions.iter().filter(|s| s.is_up()).collect();
    if judged.is_empty() {
        return RestartCut::NothingUp;
    }
    let withdrawn: Vec<String> =
        judged.iter().filter(|s| matches!(gr(s), Gr::Off | Gr::PeerOff)).map(|s| s.peer.clone()).collect();
    if !withdrawn.is_empty() {
        return RestartCut::Withdrawn { peers: withdrawn };
    }
    if judged.iter().any(|s| gr(s) == Gr::Unknown) {
        return RestartCut::Unknown(
            "graceful restart not reported (no agent; peer config not readable)".into(),
        );
    }
    let within_s = judged
        .iter()
        .map(|s| match gr(s) {
            Gr::On { restart_s, .. } => restart_s,
            _ => None,
        })
        .collect::<Option<Vec<u32>>>()
        .and_then(|v| v.into_iter().min());
    let helpers_known = judged.iter().all(|s| matches!(gr(s), Gr::On { peer_known: true, .. }));
    RestartCut::None { within_s, helpers_known }
}

impl RestartCut {
    /// One line for a panel: what a restart of the speaker does.
    pub fn describe(&self) -> String {
        match self {
            RestartCut::None { within_s, helpers_known } => {
                let t = within_s.map_or("the restart time (?)".to_string(), |t| format!("{t} s"));
                let tail = if *helpers_known { "" } else { " if the TORs help (not reported)" };
                format!("no cut: the TORs keep its routes up to {t}{tail}")
            }
            RestartCut::Withdrawn { peers } => format!(
                "routes withdrawn at once by {} until the speaker is back and re-established",
                peers.join(", ")
            ),
            RestartCut::NothingUp => {
                "nothing more to cut: no session is up, its routes are withdrawn already".into()
            }
            RestartCut::Unknown(why) => format!("? ({why})"),
        }
    }
    /// A word for a column: `none`, `until up`, `?`.
    pub fn short(&self) -> &'static str {
        match self {
            RestartCut::None { .. } => "none",
            RestartCut::Withdrawn { .. } => "until up",
            RestartCut::NothingUp => "-",
            RestartCut::Unknown(_) => "?",
        }
    }
}

/// Whether the negotiated (else configured) hold time of a session makes failover slow.
pub fn slow_hold(s: &BgpSession) -> Option<u32> {
    let hold = if s.is_up() { s.hold_time_s } else { None }.or(s.failover.hold_time_conf_s)?;
    (hold > SLOW_HOLD_S).then_some(hold)
}

/// ECMP next-hops one TOR has for the rack's nodes, before and after the drain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TorEcmp {
    pub tor: String,
    /// Rack nodes with an established session to the TOR now.
    pub now: u32,
    /// The same without the drained node.
    pub after: u32,
    /// Whether the drained node has an established session to it.
    pub via_node: bool,
}

/// What draining (or restarting) a node does to its rack's ECMP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrainCheck {
    pub node: String,
    pub rack: String,
    /// `None`: not a BGP node (draining it changes no route).
    pub window: Option<Window>,
    /// One line per session of the node: peer, state, GR and timers.
    pub sessions: Vec<String>,
    /// BGP nodes of the rack (the drained one included).
    pub rack_bgp_nodes: u32,
    pub tors: Vec<TorEcmp>,
    pub warnings: Vec<String>,
}

/// The pre-drain check of `node`; an error when there is no such node.
pub fn drain(snap: &Snapshot, node: &str) -> Result<DrainCheck, String> {
    let n = snap
        .nodes
        .iter()
        .find(|n| n.name == node)
        .ok_or_else(|| format!("no node named {node:?} in this snapshot"))?;
    let window = window(n);
    let rack: Vec<&Node> = snap.nodes.iter().map(|x| &**x).filter(|x| x.rack == n.rack).collect();
    let bgp_rack: Vec<&Node> =
        rack.iter().copied().filter(|x| x.bgp_verdict != BgpVerdict::NotApplicable).collect();
    let mut check = DrainCheck {
        node: n.name.clone(),
        rack: n.rack.clone(),
        window: window.clone(),
        sessions: n.bgp.iter().map(session_line).collect(),
        rack_bgp_nodes: bgp_rack.len() as u32,
        tors: Vec::new(),
        warnings: Vec::new(),
    };
    let Some(window) = window else {
        return Ok(check);
    };
    // The TORs: the node's own peers, else its TOR labels.
    let mut tors: Vec<String> = n.bgp.iter().map(|s| s.peer.clone()).collect();
    if tors.is_empty() {
        tors = n.tors.iter().filter(|t| !t.is_empty()).cloned().collect();
    }
    tors.dedup();
    let up_to = |x: &Node, tor: &str| x.bgp.iter().any(|s| s.peer == tor && s.is_up());
    for tor in &tors {
        let now = bgp_rack.iter().filter(|x| up_to(x, tor)).count() as u32;
        let via_node = up_to(n, tor);
        check.tors.push(TorEcmp { tor: tor.clone(), now, after: now - u32::from(via_node), via_node });
    }
    let w = &mut check.warnings;
    for t in check.tors.iter().filter(|t| t.via_node && t.after == 0) {
        w.push(format!(
            "last node of {} with a session to {}: the rack's ECMP routes via {} go with it",
            n.rack, t.tor, t.tor
        ));
    }
    let down: Vec<String> = bgp_rack
        .iter()
        .filter(|x| x.name != n.name && x.bgp_verdict != BgpVerdict::Healthy)
        .map(|x| format!("{} ({} {})", x.name, x.bgp_verdict.word(), x.bgp_label()))
        .collect();
    if !down.is_empty() {
        w.push(format!("other nodes of {} are already down or degraded: {}", n.rack, down.join(", ")));
    }
    match n.bgp_verdict {
        BgpVerdict::Healthy => {}
        BgpVerdict::Isolated => w.push(format!(
            "{} itself is isolated ({}): its routes are withdrawn already",
            n.name,
            n.bgp_label()
        )),
        v => w.push(format!(
            "{} itself is {} ({}): its routes are already partly gone",
            n.name,
            v.word(),
            n.bgp_label()
        )),
    }
    match &window.restart {
        RestartCut::Withdrawn { peers } => w.push(format!(
            "no graceful restart towards {}: restarting its BGP speaker (not a drain) withdraws its pod CIDR at once",
            peers.join(", ")
        )),
        RestartCut::Unknown(why) => w.push(format!("graceful restart unknown: {why}")),
        RestartCut::None { .. } | RestartCut::NothingUp => {}
    }
    if let Some(h) = window.hold_s.filter(|h| *h > SLOW_HOLD_S) {
        w.push(format!(
            "hold time {h} s: if the node dies instead, the TORs blackhole its share of traffic up to {h} s"
        ));
    }
    Ok(check)
}

/// `r1-tor-a established, GR 120s, hold 9s/keepalive 3s (configured 9/3)`.
pub fn session_line(s: &BgpSession) -> String {
    format!("{} {}, {}, {}", s.peer, s.state.label(), gr(s).label(), timers(s))
}

/// `hold 9s keepalive 3s (configured 9/3)`; `?` for what no source says.
pub fn timers(s: &BgpSession) -> String {
    let q = |x: Option<u32>| x.map_or("?".to_string(), |x| format!("{x}s"));
    let mut out = format!("hold {} keepalive {}", q(s.hold_time_s), q(s.keepalive_s));
    let f = &s.failover;
    if f.hold_time_conf_s.is_some() || f.keepalive_conf_s.is_some() {
        let c = |x: Option<u32>| x.map_or("?".to_string(), |x| x.to_string());
        out.push_str(&format!(" (configured {}/{})", c(f.hold_time_conf_s), c(f.keepalive_conf_s)));
    }
    out
}

#[cfg(test)]
#[path = "failover_tests.rs"]
mod tests;
