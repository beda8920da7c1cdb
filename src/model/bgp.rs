//! BGP sessions from a node to its top-of-rack switches.

use chrono::{DateTime, Utc};
use serde::Serialize;

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
    Unknown(String),
}

impl BgpState {
    /// Parse the state strings Cilium (`established`, `open_sent`), Calico (`Established`,
    /// `OpenSent`) and BIRD write; anything else is kept as `Unknown` with its original text.
    pub fn parse(s: &str) -> BgpState {
        let k: String = s.chars().filter(|c| *c != '_' && *c != '-').collect::<String>().to_ascii_lowercase();
        match k.as_str() {
            "idle" => BgpState::Idle,
            "connect" => BgpState::Connect,
            "active" => BgpState::Active,
            "opensent" => BgpState::OpenSent,
            "openconfirm" => BgpState::OpenConfirm,
            "established" => BgpState::Established,
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
            BgpState::Unknown(s) => s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BgpSession {
    /// The peer's name (usually the TOR switch).
    pub peer: String,
    pub peer_addr: String,
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
}

impl BgpSession {
    /// A session with the given identity and state, and nothing else known yet.
    pub fn new(peer: String, peer_addr: String, peer_asn: u32, local_asn: u32, state: BgpState) -> Self {
        BgpSession {
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
        }
    }
    pub fn is_up(&self) -> bool {
        self.state == BgpState::Established
    }
}

/// Per-node verdict: each BGP host peers with both TORs and uses ECMP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BgpVerdict {
    /// 2/2 established.
    Healthy,
    /// 1/2: half the bandwidth, no redundancy.
    Degraded,
    /// 0/2: the node's pods are unreachable from outside the node.
    Isolated,
    /// A BGP node whose sessions nobody reported.
    Unknown,
    /// Not a BGP node (bridge/overlay).
    NotApplicable,
}

impl BgpVerdict {
    pub fn label(self) -> &'static str {
        match self {
            BgpVerdict::Healthy => "2/2",
            BgpVerdict::Degraded => "1/2",
            BgpVerdict::Isolated => "0/2",
            BgpVerdict::Unknown => "?/2",
            BgpVerdict::NotApplicable => "-",
        }
    }
}
