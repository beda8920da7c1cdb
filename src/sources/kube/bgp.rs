//! Pure mapping of the BGP custom objects: Cilium's `CiliumBGPNodeConfig` (spec peers and status
//! sessions), `CiliumBGPPeerConfig` and `CiliumBGPAdvertisement` (whether pod routes are
//! advertised), the BGP v1 `CiliumBGPPeeringPolicy`, and Calico's `CalicoNodeStatus` (in
//! `crd.projectcalico.org/v1` and `projectcalico.org/v3`; the shapes are the same).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::core::{Selector, SelectorExt};
use serde_json::Value;

use crate::model::bgp::parse_since;
use crate::model::{BgpSession, BgpState, ConfiguredPeer, Failover, Family};

fn str_at<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or_default()
}

fn u32_of(v: Option<&Value>) -> Option<u32> {
    v.and_then(Value::as_u64).and_then(|x| u32::try_from(x).ok())
}

fn time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).ok()
}

/// A label selector as Kubernetes writes it (`matchLabels`, `matchExpressions`); `None` when it
/// does not parse (an unknown operator): it then selects nothing.
pub fn selector(v: &Value) -> Option<Selector> {
    let ls: LabelSelector = serde_json::from_value(v.clone()).ok()?;
    Selector::try_from(ls).ok()
}

/// A `CiliumBGPNodeConfig`: the peers its spec names (with their `peerConfigRef`) and the
/// sessions its status reports (`None` when the status has no instance: status reporting off,
/// or not reconciled yet; BGP unknown, not down).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeConfig {
    pub peers: Vec<(ConfiguredPeer, Option<String>)>,
    pub sessions: Option<Vec<BgpSession>>,
}

pub fn node_config(data: &Value) -> NodeConfig {
    let mut peers = Vec::new();
    let spec = data.pointer("/spec/bgpInstances").and_then(Value::as_array);
    for p in spec.into_iter().flatten().filter_map(|i| i.get("peers")?.as_array()).flatten() {
        let peer = ConfiguredPeer::new(str_at(p, "name"), str_at(p, "peerAddress"));
        let r = p.pointer("/peerConfigRef/name").and_then(Value::as_str).map(str::to_string);
        peers.push((peer, r));
    }
    NodeConfig { peers, sessions: cilium_sessions(data) }
}

/// Sessions from a CiliumBGPNodeConfig's `status.bgpInstances`; `None` when it reports no
/// instance.
pub fn cilium_sessions(data: &Value) -> Option<Vec<BgpSession>> {
    let instances = data.pointer("/status/bgpInstances")?.as_array()?;
    if instances.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for inst in instances {
        let local = u32_of(inst.get("localASN")).unwrap_or(0);
        for p in inst.get("peers").and_then(Value::as_array).into_iter().flatten() {
            let mut x = BgpSession::new(
                str_at(p, "name").to_string(),
                str_at(p, "peerAddress").to_string(),
                u32_of(p.get("peerASN")).unwrap_or(0),
                local,
                BgpState::parse(str_at(p, "peeringState")),
            );
            if x.is_up() {
                x.since = p.get("establishedTime").and_then(Value::as_str).and_then(time);
            }
            if let Some(rc) = p.get("routeCount").and_then(Value::as_array) {
                let sum = |k: &str| rc.iter().filter_map(|r| r.get(k).and_then(Value::as_u64)).sum::<u64>();
                x.routes_received = Some(sum("received"));
                x.routes_advertised = Some(sum("advertised"));
            }
            let timers = p.get("timers");
            x.hold_time_s = u32_of(timers.and_then(|t| t.get("appliedHoldTimeSeconds")));
            x.keepalive_s = u32_of(timers.and_then(|t| t.get("appliedKeepaliveSeconds")));
            out.push(x);
        }
    }
    Some(out)
}

/// The advertisement selectors of a `CiliumBGPPeerConfig`'s families (`spec.families[]
/// .advertisements`); a family without one advertises nothing.
pub fn peer_config(data: &Value) -> Vec<Option<Selector>> {
    let fams = data.pointer("/spec/families").and_then(Value::as_array);
    fams.into_iter().flatten().filter_map(|f| f.get("advertisements")).map(selector).collect()
}

/// Cilium's defaults for what a `CiliumBGPPeerConfig` leaves out (`DefaultBGPHoldTimeSeconds`,
/// `DefaultBGPKeepAliveTimeSeconds`, `DefaultBGPGRRestartTimeSeconds` in
/// `pkg/k8s/apis/cilium.io/v2/bgp_peer_types.go`; graceful restart is off unless enabled).
pub const CILIUM_HOLD_S: u32 = 90;
pub const CILIUM_KEEPALIVE_S: u32 = 30;
pub const CILIUM_RESTART_S: u32 = 120;

/// What a `CiliumBGPPeerConfig` (`cilium.io/v2` or `v2alpha1`: the shapes are the same)
/// configures for failover: `spec.gracefulRestart.{enabled,restartTimeSeconds}` and
/// `spec.timers.{holdTimeSeconds,keepAliveTimeSeconds}`, with Cilium's defaults for what is
/// left out. `None` for a peer without a `peerConfigRef` gives Cilium's default peer config.
pub fn peer_failover(data: Option<&Value>) -> Failover {
    let spec = data.and_then(|d| d.get("spec"));
    let at = |p: &str| spec.and_then(|s| s.pointer(p));
    let on = at("/gracefulRestart/enabled").and_then(Value::as_bool).unwrap_or(false);
    Failover {
        graceful_restart: Some(on),
        restart_time_s: on
            .then(|| u32_of(at("/gracefulRestart/restartTimeSeconds")).unwrap_or(CILIUM_RESTART_S)),
        peer_graceful_restart: None,
        hold_time_conf_s: Some(u32_of(at("/timers/holdTimeSeconds")).unwrap_or(CILIUM_HOLD_S)),
        keepalive_conf_s: Some(u32_of(at("/timers/keepAliveTimeSeconds")).unwrap_or(CILIUM_KEEPALIVE_S)),
    }
}

/// Give each session the configured failover of the configured peer it belongs to (by name,
/// else by address), keeping what a source reported itself. `configs` maps a peer config's
/// name to its failover; `None` while peer configs cannot be read.
pub fn apply_failover(
    sessions: &mut [BgpSession],
    peers: &[(ConfiguredPeer, Option<String>)],
    configs: Option<&BTreeMap<String, Failover>>,
) {
    for s in sessions {
        let peer = peers.iter().find(|(p, _)| p.name == s.peer).or_else(|| {
            peers
                .iter()
                .find(|(p, _)| !p.addr.is_empty() && crate::model::bgp::normalize_addr(&p.addr) == s.key())
        });
        let Some((_, r)) = peer else { continue };
        let conf = match r {
            None => peer_failover(None),
            Some(r) => match configs.and_then(|c| c.get(r)) {
                Some(f) => f.clone(),
                None => continue,
            },
        };
        let f = &mut s.failover;
        f.graceful_restart = f.graceful_restart.or(conf.graceful_restart);
        f.restart_time_s = f.restart_time_s.or(conf.restart_time_s);
        f.hold_time_conf_s = f.hold_time_conf_s.or(conf.hold_time_conf_s);
        f.keepalive_conf_s = f.keepalive_conf_s.or(conf.keepalive_conf_s);
    }
}

/// Whether a `CiliumBGPAdvertisement` advertises pod routes (`PodCIDR`, `CiliumPodIPPool`)
/// rather than only Service addresses.
pub fn advertises_pods(data: &Value) -> bool {
    let ads = data.pointer("/spec/advertisements").and_then(Value::as_array);
    ads.into_iter().flatten().any(|a| matches!(str_at(a, "advertisementType"), "PodCIDR" | "CiliumPodIPPool"))
}

/// Whether a node's configuration advertises pod routes: `Some(true)` when a peer's peer config
/// selects an advertisement of pod routes, `Some(false)` when every peer's chain resolves to
/// none, `None` when a link is unknown (a peer config or advertisement that is not readable).
pub fn pod_routes(
    peers: &[(ConfiguredPeer, Option<String>)],
    peer_configs: Option<&BTreeMap<String, Vec<Option<Selector>>>>,
    adverts: Option<&[(BTreeMap<String, String>, bool)]>,
) -> Option<bool> {
    let mut unknown = false;
    for (_, r) in peers {
        // No reference: Cilium's default peer config, which advertises nothing.
        let Some(r) = r else { continue };
        let Some(sels) = peer_configs.and_then(|p| p.get(r)) else {
            unknown = true;
            continue;
        };
        let Some(adverts) = adverts else {
            unknown |= !sels.is_empty();
            continue;
        };
        let pods =
            sels.iter().flatten().any(|s| adverts.iter().any(|(labels, pods)| *pods && s.matches(labels)));
        if pods {
            return Some(true);
        }
    }
    (!unknown).then_some(false)
}

/// A BGP v1 `CiliumBGPPeeringPolicy`: which nodes it selects, the neighbours it configures, and
/// whether its virtual routers export the pod CIDR.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// `None`: the selector does not parse; the policy selects nothing.
    pub selector: Option<Selector>,
    pub neighbors: Vec<ConfiguredPeer>,
    pub pod_routes: bool,
}

impl Policy {
    pub fn selects(&self, labels: &BTreeMap<String, String>) -> bool {
        self.selector.as_ref().is_some_and(|s| s.matches(labels))
    }
}

pub fn policy(data: &Value) -> Policy {
    // No nodeSelector: every node.
    let selector = match data.pointer("/spec/nodeSelector") {
        None | Some(Value::Null) => Some(Selector::default()),
        Some(s) => selector(s),
    };
    let routers = data.pointer("/spec/virtualRouters").and_then(Value::as_array);
    let mut neighbors = Vec::new();
    let mut pod_routes = false;
    for r in routers.into_iter().flatten() {
        pod_routes |= r.get("exportPodCIDR").and_then(Value::as_bool).unwrap_or(false)
            || r.get("podIPPoolSelector").is_some_and(|s| !s.is_null());
        for n in r.get("neighbors").and_then(Value::as_array).into_iter().flatten() {
            let addr = str_at(n, "peerAddress");
            neighbors.push(ConfiguredPeer::new(addr.split('/').next().unwrap_or(addr), addr));
        }
    }
    Policy { selector, neighbors, pod_routes }
}

/// The node a CalicoNodeStatus is about (`spec.node`, else its name) and its sessions from
/// `status.bgp.peersV4` and `peersV6`, each with its family and peer type (`NodeMesh`,
/// `NodePeer`, `GlobalPeer`); the local ASN is not reported there (0). `since` is BIRD's (a
/// time of day or a date), read against `now`.
pub fn calico_sessions(name: &str, data: &Value, now: DateTime<Utc>) -> (String, Vec<BgpSession>) {
    let node = data.pointer("/spec/node").and_then(Value::as_str).unwrap_or(name).to_string();
    let mut out = Vec::new();
    for (list, fam) in [("/status/bgp/peersV4", Family::Ipv4), ("/status/bgp/peersV6", Family::Ipv6)] {
        for p in data.pointer(list).and_then(Value::as_array).into_iter().flatten() {
            let ip = str_at(p, "peerIP").to_string();
            let mut x = BgpSession::new(ip.clone(), ip, 0, 0, BgpState::parse(str_at(p, "state")));
            x.family = Some(fam);
            x.since = p.get("since").and_then(Value::as_str).and_then(|s| parse_since(s, now));
            x.peer_type = p.get("type").and_then(Value::as_str).filter(|t| !t.is_empty()).map(str::to_string);
            out.push(x);
        }
    }
    (node, out)
}
