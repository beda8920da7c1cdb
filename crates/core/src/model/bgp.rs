//! BGP sessions from a node to its peers (usually the two top-of-rack switches of its rack), the
//! peers the node's own configuration expects, and the verdict per address family.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::SourceId;

/// RFC 4271 session states, plus what a reader could not map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BgpState {
    Idle,
    Connect,
    Active,
    OpenSent,
    OpenConfirm,
    Established,
    /// Shut down by configuration (frr's "Idle (Admin)", BIRD's disabled protocol).
    AdminDown,
    Unknown(String),
}

impl BgpState {
    /// Parse the state strings Cilium (`established`, `open_sent`), Calico (`Established`,
    /// `OpenSent`), BIRD and frr write; anything else is kept as `Unknown` with its text.
    pub fn parse(s: &str) -> BgpState {
        let k: String = s.chars().filter(|c| *c != '_' && *c != '-').collect::<String>().to_ascii_lowercase();
        match k.as_str() {
            "idle" => BgpState::Idle,
            "connect" => BgpState::Connect,
            "active" => BgpState::Active,
            "opensent" => BgpState::OpenSent,
            "openconfirm" => BgpState::OpenConfirm,
            "established" => BgpState::Established,
            "admindown" | "idle (admin)" | "administrativelydown" => BgpState::AdminDown,
            _ => BgpState::Unknown(s.to_string()),
        }
    }
    pub fn label(&self) -> &str {
        match self {
            BgpState::Idle => "idle",
            BgpState::Connect => "connect",
            BgpState::Active => "active",
            BgpState::OpenSent => "opensent",
            BgpState::OpenConfirm => "openconfirm",
            BgpState::Established => "established",
            BgpState::AdminDown => "admin down",
            BgpState::Unknown(s) => s,
        }
    }
}

/// The address family of a session (the family of its transport address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    /// The family of an address as sources write it: `10.0.0.1`, `10.0.0.1/32`, `10.0.0.1:179`,
    /// `[fd00::1]:179`, `fd00::1`; `None` for anything else (an empty address, a name).
    pub fn of_addr(addr: &str) -> Option<Family> {
        let a = normalize_addr(addr);
        if a.parse::<std::net::Ipv4Addr>().is_ok() {
            Some(Family::Ipv4)
        } else if a.parse::<std::net::Ipv6Addr>().is_ok() {
            Some(Family::Ipv6)
        } else {
            None
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Family::Ipv4 => "v4",
            Family::Ipv6 => "v6",
        }
    }
}

/// An address without port, brackets or a host prefix length, in its canonical text form
/// (`fd00:0::1` and `FD00::1` are the same peer): the identity of a peer across sources.
pub fn normalize_addr(addr: &str) -> String {
    let a = addr.trim();
    let a = a.split_once('/').map_or(a, |(ip, _)| ip);
    let a = match a.strip_prefix('[') {
        Some(rest) => rest.split_once(']').map_or(rest, |(ip, _)| ip),
        // `ip:port` for IPv4 only: an IPv6 address has several colons.
        None if a.matches(':').count() == 1 => a.split_once(':').map_or(a, |(ip, _)| ip),
        None => a,
    };
    match a.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => a.to_string(),
    }
}

/// One source's word on a session: who said it, when, and what state it saw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub source: SourceId,
    pub at: DateTime<Utc>,
    pub state: BgpState,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BgpSession {
    /// The peer's name (the TOR switch, a BIRD protocol name, or its address).
    pub peer: String,
    pub peer_addr: String,
    /// From the transport address, or from where the source found it (Calico's `peersV6`,
    /// BIRD's `bird6.ctl`); `None` when neither says.
    pub family: Option<Family>,
    pub peer_asn: u32,
    pub local_asn: u32,
    pub state: BgpState,
    /// When the session entered its current state.
    pub since: Option<DateTime<Utc>>,
    /// Times the session left Established in the last hour.
    pub resets_1h: u32,
    pub routes_received: Option<u64>,
    pub routes_advertised: Option<u64>,
    /// Negotiated hold time and keepalive interval, seconds.
    pub hold_time_s: Option<u32>,
    pub keepalive_s: Option<u32>,
    pub last_error: Option<String>,
    /// Calico's peer type (`NodeMesh`, `NodePeer`, `GlobalPeer`) where the source says.
    pub peer_type: Option<String>,
    /// Graceful restart and the configured timers: what decides how long a restart of the
    /// node's BGP speaker cuts its routes.
    pub failover: Failover,
    /// Every source that reported this session, most recent first; filled when the store merges
    /// the sources' reports (empty on a session a source has just read).
    pub reports: Vec<Report>,
}

impl BgpSession {
    /// A session with the given identity and state, and nothing else known yet. The family is
    /// the address's.
    pub fn new(peer: String, peer_addr: String, peer_asn: u32, local_asn: u32, state: BgpState) -> Self {
        BgpSession {
            family: Family::of_addr(&peer_addr),
            peer,
            peer_addr,
            peer_asn,
            local_asn,
            state,
            since: None,
            resets_1h: 0,
            routes_received: None,
            routes_advertised: None,
            hold_time_s: None,
            keepalive_s: None,
            last_error: None,
            peer_type: None,
            failover: Failover::default(),
            reports: Vec::new(),
        }
    }
    pub fn is_up(&self) -> bool {
        self.state == BgpState::Established
    }
    /// The peer's identity across sources and refreshes: its address when known, else its name.
    pub fn key(&self) -> String {
        if self.peer_addr.is_empty() { self.peer.clone() } else { normalize_addr(&self.peer_addr) }
    }
}

/// Graceful restart (RFC 4724) and timers of one session, as far as its sources say; every
/// field `None` where they do not. The negotiated timers are the session's `hold_time_s` and
/// `keepalive_s`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Failover {
    /// Whether the node's speaker is restart-capable on this session (it advertises a restart
    /// time): Cilium's `gracefulRestart.enabled`, BIRD's `Restart time` under its local
    /// capabilities. BIRD 2's default (`aware`: helper only) is `false`.
    pub graceful_restart: Option<bool>,
    /// How long the peer keeps the node's routes while the speaker restarts, seconds.
    pub restart_time_s: Option<u32>,
    /// Whether the peer (the TOR) advertises graceful restart, i.e. can keep the node's routes
    /// as a helper: BIRD's `Neighbor capabilities`. Cilium does not report it.
    pub peer_graceful_restart: Option<bool>,
    /// The hold and keepalive times the node asks for (Cilium's `CiliumBGPPeerConfig` timers);
    /// BIRD prints only the negotiated ones.
    pub hold_time_conf_s: Option<u32>,
    pub keepalive_conf_s: Option<u32>,
}

/// A peer the node's own BGP configuration names (a `CiliumBGPNodeConfig` spec peer, a BGP v1
/// policy neighbour).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfiguredPeer {
    pub name: String,
    /// Empty when the peer is found by auto-discovery.
    pub addr: String,
    pub family: Option<Family>,
}

impl ConfiguredPeer {
    pub fn new(name: impl Into<String>, addr: impl Into<String>) -> Self {
        let addr = addr.into();
        ConfiguredPeer { name: name.into(), family: Family::of_addr(&addr), addr }
    }
}

/// Where a node's expected peers came from, best first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpectedFrom {
    /// The node's own BGP configuration (CiliumBGPNodeConfig spec, a BGP v1 policy).
    Config,
    /// The node's two TOR labels, matched to sessions by name.
    TorLabels,
    /// What the sources reported (BIRD's protocols and Calico's peers are the whole config).
    Reported,
    /// Nothing: no configuration and no session.
    #[default]
    Nothing,
}

/// Established and expected sessions of one address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FamilyCount {
    /// `None` when no source says which family the sessions carry.
    pub family: Option<Family>,
    pub expected: u32,
    /// `None` when no source reported any session: unknown, not zero.
    pub established: Option<u32>,
}

/// Per-node verdict: the worst address family's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BgpVerdict {
    /// Every expected session established.
    Healthy,
    /// Some but not all of a family's expected sessions established.
    Degraded,
    /// No session of some family established: its routes are not announced.
    Isolated,
    /// A BGP node whose sessions nobody reported.
    Unknown,
    /// Not a BGP node (bridge/overlay).
    NotApplicable,
}

impl BgpVerdict {
    /// A word for the verdict (the counts are `BgpCounts::label`).
    pub fn word(self) -> &'static str {
        match self {
            BgpVerdict::Healthy => "healthy",
            BgpVerdict::Degraded => "degraded",
            BgpVerdict::Isolated => "isolated",
            BgpVerdict::Unknown => "unknown",
            BgpVerdict::NotApplicable => "not applicable",
        }
    }
}

/// The counts behind a node's BGP verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BgpCounts {
    pub expected_from: ExpectedFrom,
    pub families: Vec<FamilyCount>,
    /// Expected peers no source reported a session for.
    pub missing: Vec<String>,
}

impl BgpCounts {
    /// `2/2`, `1/2`, `2/3`, `1/1`; `v4 2/2 v6 1/2` where the families differ; `?/2` or `?` when
    /// nothing was reported; `-` for a node without BGP.
    pub fn label(&self, verdict: BgpVerdict) -> String {
        if verdict == BgpVerdict::NotApplicable {
            return "-".into();
        }
        let count = |f: &FamilyCount| match f.established {
            Some(e) => format!("{e}/{}", f.expected),
            None => format!("?/{}", f.expected),
        };
        match self.families.as_slice() {
            [] => "?".into(),
            [one, rest @ ..]
                if rest.iter().all(|f| (f.expected, f.established) == (one.expected, one.established)) =>
            {
                count(one)
            }
            all => all
                .iter()
                .map(|f| format!("{} {}", f.family.map_or("?", Family::label), count(f)))
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
    /// Expected sessions of the family that expects most (for sizing columns and bars).
    pub fn expected(&self) -> u32 {
        self.families.iter().map(|f| f.expected).max().unwrap_or(0)
    }
}

/// When a session entered its state, from a `since` as BIRD prints it and Calico copies it: a
/// time of day (`09:23:22`, `09:23:22.532`: the most recent such moment at or before `now`), a
/// date (`2016-11-21`: its midnight), both (`2026-12-07 09:23:22`), or RFC 3339. Times are UTC
/// (BIRD prints the daemon's local time, which is UTC in Calico's and most node containers).
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
    let t = text.trim();
    if let Ok(x) = DateTime::parse_from_rfc3339(t) {
        return Some(x.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%d-%m-%Y %H:%M:%S"] {
        if let Ok(x) = NaiveDateTime::parse_from_str(t, f) {
            return Some(x.and_utc());
        }
    }
    for f in ["%Y-%m-%d", "%d-%m-%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(t, f) {
            return d.and_hms_opt(0, 0, 0).map(|x| x.and_utc());
        }
    }
    let time = NaiveTime::parse_from_str(t, "%H:%M:%S%.f").ok()?;
    let today = now.date_naive().and_time(time).and_utc();
    Some(if today <= now { today } else { today - chrono::Duration::days(1) })
}
