//! Pure functions from state to derived facts: network mode, BGP verdicts, window fill, findings.
//! No I/O, no clock: everything is computed against `Snapshot::now`.

pub mod bgp;
pub mod colocation;
pub mod conntrack;
pub mod failover;
pub mod interval;
pub mod netmode;
pub mod rules;
pub mod start;

use chrono_tz::Tz;

use crate::model::Window;

/// Knobs the analysis depends on (from flags, config file or defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Keep-alive idle time of the proxies/clients in front of the pods, seconds; an established
    /// conntrack timeout below it drops idle connections' NAT entries (intermittent 502s).
    pub keepalive_idle_s: u64,
    pub windows: Vec<Window>,
    pub tz: Tz,
    /// A source whose last delivery is older than this is stale, seconds.
    pub stale_after_s: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            keepalive_idle_s: 900,
            windows: vec![Window::parse("01:00-06:00").expect("valid default window")],
            tz: Tz::UTC,
            stale_after_s: 60,
        }
    }
}
