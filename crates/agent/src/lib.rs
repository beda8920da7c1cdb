//! `clustertop agent`: a small, read-only HTTP server on each node (a DaemonSet with host
//! networking) that reads what only the node can see: conntrack tables and timeouts,
//! `bridge-nf-call-iptables`, loaded modules, CNI interfaces and config files, KVM, file handles,
//! load, and the BGP sessions of a local BIRD or Cilium agent. It never runs a command and never
//! writes; a missing input makes one field absent, with the reason.
//!
//! - `host.rs`: the facts read from `/proc`, `/sys`, `/dev` and the CNI directory.
//! - `crate::wire`: the `GET /v1/node` JSON (`clustertop.agent/v1`), shared with the poller.
//! - `bird.rs`, `cilium.rs`: BGP sessions from a BIRD control socket / the Cilium agent API.
//! - `collect.rs`: one reading of the node (host facts and BGP peers, each bounded in time).
//! - `server.rs`: the HTTP server (`/v1/node`, `/metrics`, `/healthz`).
//! - `metrics.rs`: the report as Prometheus text.

#[cfg(test)]
pub(crate) use clustertop_core::analysis;
pub(crate) use clustertop_core::{model, wire};

pub mod bird;
pub mod cilium;
pub mod cli;
pub mod collect;
pub mod host;
pub mod metrics;
pub mod server;
pub mod token;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Where the agent reads from and listens.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentConfig {
    pub listen: SocketAddr,
    /// Roots of the host's `/proc`, `/sys` and `/dev` (tests and containers point elsewhere).
    pub proc_root: PathBuf,
    pub sys_root: PathBuf,
    pub dev_root: PathBuf,
    /// CNI config directory (`/etc/cni/net.d`).
    pub cni_dir: PathBuf,
    /// BIRD control socket (`/var/run/calico/bird.ctl`, `/run/bird/bird.ctl`), if any.
    pub bird_socket: Option<PathBuf>,
    /// BIRD 1.x's IPv6 control socket (Calico: `/var/run/calico/bird6.ctl`); when unset, the
    /// `bird6.ctl` beside a `bird.ctl` is read if it exists.
    pub bird6_socket: Option<PathBuf>,
    /// Cilium agent API socket (`/var/run/cilium/cilium.sock`), if any.
    pub cilium_socket: Option<PathBuf>,
    /// The node name reported (`--node-name`, `$NODE_NAME`, else the host name).
    pub node_name: String,
    /// Timeout of each socket conversation.
    pub socket_timeout: Duration,
    /// When set, `/v1/node` and `/metrics` need `Authorization: Bearer <token>` (`/healthz` does
    /// not, for probes).
    pub token: Option<token::Token>,
}

impl AgentConfig {
    /// The IPv6 BIRD socket to read: `--bird6-socket`, else `bird6.ctl` beside a `bird.ctl`.
    pub fn bird6_socket(&self) -> Option<PathBuf> {
        self.bird6_socket.clone().or_else(|| {
            let v4 = self.bird_socket.as_ref().filter(|p| p.file_name().is_some_and(|n| n == "bird.ctl"))?;
            Some(v4.with_file_name("bird6.ctl")).filter(|p| p.exists())
        })
    }
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            listen: SocketAddr::from(([0, 0, 0, 0], 9977)),
            proc_root: "/proc".into(),
            sys_root: "/sys".into(),
            dev_root: "/dev".into(),
            cni_dir: "/etc/cni/net.d".into(),
            bird_socket: None,
            bird6_socket: None,
            cilium_socket: None,
            node_name: String::new(),
            socket_timeout: Duration::from_secs(2),
            token: None,
        }
    }
}
