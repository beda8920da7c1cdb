//! The node agent's wire format, `GET /v1/node` (`clustertop.agent/v1`): what the agent read.
//! Every fact is either a value or the reason it is absent, so a missing file degrades one field,
//! never the report. The agent encodes this module's types and the poller (`sources/agents.rs`)
//! decodes them; the networking signals a reading carries are read here too, for both.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const SCHEMA: &str = "clustertop.agent/v1";

/// A value, or why there is none: `{"value": 262144}` or `{"absent": "…: no such file"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fact<T> {
    Value(T),
    Absent(String),
}

impl<T> Fact<T> {
    pub fn value(&self) -> Option<&T> {
        match self {
            Fact::Value(v) => Some(v),
            Fact::Absent(_) => None,
        }
    }
    pub fn absent(reason: impl Into<String>) -> Self {
        Fact::Absent(reason.into())
    }
}

impl<T, E: std::fmt::Display> From<Result<T, E>> for Fact<T> {
    fn from(r: Result<T, E>) -> Self {
        match r {
            Ok(v) => Fact::Value(v),
            Err(e) => Fact::Absent(e.to_string()),
        }
    }
}

/// `/proc/sys/net/netfilter/*` and `/proc/net/stat/nf_conntrack`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConntrackFacts {
    pub count: Fact<u64>,
    pub max: Fact<u64>,
    pub tcp_timeout_established_s: Fact<u64>,
    pub tcp_timeout_close_wait_s: Fact<u64>,
    pub tcp_timeout_time_wait_s: Fact<u64>,
    /// Columns of `/proc/net/stat/nf_conntrack` by their header names (`insert_failed`, `drop`,
    /// `early_drop`, `found`, `invalid`, `search_restart`, `clashres`, …), summed over the CPU
    /// rows, except `entries`, which every row repeats (taken once). Counters since boot.
    pub stat: Fact<BTreeMap<String, u64>>,
}

/// One network interface from `/sys/class/net`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interface {
    pub name: String,
    /// `bridge`, `vxlan`, `veth`, `dummy`, `geneve`, `ipip`, `device` (physical) or `other`.
    pub kind: String,
    /// `operstate` is `up` (or `unknown` with the IFF_UP flag set).
    pub up: bool,
}

/// One CNI config file from the CNI config directory and the plugin types it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CniConfig {
    pub file: String,
    /// `type` of the config or of each plugin of a `.conflist`, in order (`cilium-cni`,
    /// `flannel`, `calico`, `portmap`, …); empty when the file does not parse.
    pub types: Vec<String>,
}

/// What a BGP daemon on the node says about one session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BgpPeer {
    /// BIRD protocol name (`tor1`, `Mesh_10_0_0_2`) or Cilium's peer address.
    pub name: String,
    pub neighbor_address: String,
    pub neighbor_as: Option<u32>,
    pub local_as: Option<u32>,
    /// RFC 4271 state as the daemon writes it (`Established`, `Active`, `established`, …).
    pub state: String,
    /// Seconds in the current state, when known.
    pub since_s: Option<u64>,
    pub last_error: Option<String>,
    pub routes_imported: Option<u64>,
    pub routes_exported: Option<u64>,
    pub hold_time_s: Option<u32>,
    pub keepalive_s: Option<u32>,
    /// `ipv4` or `ipv6`: the socket's (BIRD 1.x serves IPv6 on `bird6.ctl`), else the neighbour
    /// address's. Absent from agents before it was added, like the fields below.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// When the session entered its state (BIRD's `since` column, read on the node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// Times the session reached Established since the daemon started, where the daemon counts
    /// (BIRD's `FSM established transitions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub established_transitions: Option<u64>,
    /// Whether the daemon is restart-capable on this session (BIRD: `Restart time` under its
    /// local capabilities; its default `aware` is helper only: `false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graceful_restart: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_time_s: Option<u32>,
    /// Whether the neighbour advertised graceful restart (it can keep our routes as a helper).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_graceful_restart: Option<bool>,
    /// The hold and keepalive times the daemon is configured with (Cilium reports them; BIRD
    /// prints only the negotiated ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_time_conf_s: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keepalive_conf_s: Option<u32>,
}

/// The node facts of a `NodeReport` that come from files (everything but BGP); `agent::host`
/// reads them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostFacts {
    pub conntrack: ConntrackFacts,
    pub bridge_nf_call_iptables: Fact<bool>,
    pub ip_forward: Fact<bool>,
    /// From `/proc/modules`: whether each module of interest (`br_netfilter`, `vxlan`,
    /// `overlay`) is loaded. Built-in modules are not listed there: absent ≠ unavailable.
    pub modules: Fact<BTreeMap<String, bool>>,
    pub interfaces: Fact<Vec<Interface>>,
    pub cni_configs: Fact<Vec<CniConfig>>,
    /// `/dev/kvm` exists.
    pub dev_kvm: Fact<bool>,
    /// `vmx` or `svm` in `/proc/cpuinfo` flags; `None` when neither is there.
    pub cpu_virt: Fact<Option<String>>,
    /// `/proc/sys/fs/file-nr`: allocated and maximum file handles.
    pub file_nr: Fact<(u64, u64)>,
    /// `/proc/loadavg`: 1, 5, 15 minute loads and running / total threads.
    pub load: Fact<([f64; 3], u64, u64)>,
    pub cpu_cores: Fact<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeReport {
    pub schema: String,
    /// `--node-name`, else `$NODE_NAME` (the DaemonSet's downward API), else the host name.
    pub node: String,
    pub agent_version: String,
    pub read_at: DateTime<Utc>,
    /// Everything read from files, as top-level keys of the JSON.
    #[serde(flatten)]
    pub host: HostFacts,
    pub bgp_bird: Fact<Vec<BgpPeer>>,
    /// BIRD 1.x's IPv6 daemon (`bird6.ctl`); absent from agents before it was read.
    #[serde(default = "not_reported")]
    pub bgp_bird6: Fact<Vec<BgpPeer>>,
    pub bgp_cilium: Fact<Vec<BgpPeer>>,
}

fn not_reported<T>() -> Fact<T> {
    Fact::absent("not reported by this agent version")
}

/// Whether an interface name tells the network-mode classifier something: the CNIs' own devices
/// (`cilium_host`, `flannel.1`, `vxlan.calico`, `tunl0`, `cni0`, …). Per-pod veths (`lxc…`,
/// `cali…`) are many; `host_signals` keeps only the first of each.
fn infra_interface(name: &str) -> bool {
    matches!(
        name,
        "cilium_host"
            | "cilium_net"
            | "cilium_vxlan"
            | "cilium_geneve"
            | "vxlan.calico"
            | "vxlan-v6.calico"
            | "tunl0"
            | "cni0"
            | "docker0"
    ) || name.starts_with("flannel.")
        || name.starts_with("flannel-v6.")
}

/// Network-mode signals for the poller: the interfaces the classifier knows (one per-pod veth of
/// each kind at most) and every CNI config file.
pub fn host_signals(h: &HostFacts) -> Vec<crate::model::Signal> {
    signals(&h.interfaces, &h.cni_configs)
}

/// The networking signals in a reading's interfaces and CNI config files (what the poller turns
/// into `Update::HostSignals`).
pub fn signals(
    interfaces: &Fact<Vec<Interface>>,
    cni_configs: &Fact<Vec<CniConfig>>,
) -> Vec<crate::model::Signal> {
    let mut out = Vec::new();
    if let Some(ifaces) = interfaces.value() {
        let mut veth_seen = [false; 2];
        for i in ifaces {
            let keep = if infra_interface(&i.name) {
                true
            } else if let Some(k) = ["lxc", "cali"].iter().position(|p| i.name.starts_with(p)) {
                !std::mem::replace(&mut veth_seen[k], true)
            } else {
                false
            };
            if keep {
                out.push(crate::model::Signal::Interface { name: i.name.clone() });
            }
        }
    }
    if let Some(cfgs) = cni_configs.value() {
        out.extend(cfgs.iter().map(|c| crate::model::Signal::CniConfig { file: c.file.clone() }));
    }
    out
}
