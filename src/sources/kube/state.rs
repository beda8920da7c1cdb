//! The Kubernetes source's own state: what the watchers reported, and what was already sent.
//! `flush` recomputes and returns only what changed since the last flush.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use chrono::{DateTime, Duration, Utc};

use super::bgp;
use super::map::{self, NodeExtras, NodeObj};
use crate::model::{BgpSession, Cni, ConfiguredPeer, Pod, RuntimeClass, Signal, SourceHealth, SourceId};
use crate::model::{NodeInfo, Update};

/// The resource kinds the source watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Nodes,
    Pods,
    RuntimeClasses,
    CiliumNodes,
    BgpNodeConfigs,
    BgpPeerConfigs,
    BgpAdvertisements,
    BgpPeeringPolicies,
    CalicoNodeStatuses,
}

impl Kind {
    /// The health scope (`<plural>.<group>`, or the plural for core kinds).
    pub fn scope(self) -> &'static str {
        match self {
            Kind::Nodes => "nodes",
            Kind::Pods => "pods",
            Kind::RuntimeClasses => "runtimeclasses.node.k8s.io",
            Kind::CiliumNodes => "ciliumnodes.cilium.io",
            Kind::BgpNodeConfigs => "ciliumbgpnodeconfigs.cilium.io",
            Kind::BgpPeerConfigs => "ciliumbgppeerconfigs.cilium.io",
            Kind::BgpAdvertisements => "ciliumbgpadvertisements.cilium.io",
            Kind::BgpPeeringPolicies => "ciliumbgppeeringpolicies.cilium.io",
            Kind::CalicoNodeStatuses => "caliconodestatuses.projectcalico.org",
        }
    }
}

/// One object, already reduced to what clustertop keeps.
#[derive(Debug, Clone, PartialEq)]
/// Boxed variants keep the enum small: the pod cache holds one per pod (150,000 at scale).
pub enum Obj {
    Node(Box<NodeObj>),
    /// A pod; `Some(cni)` for CNI agent pods (not workload pods). Only agent pods stay in the
    /// cache: workload pods go to the store, which keeps them.
    Pod(Box<Pod>, Option<Cni>),
    RuntimeClass(Box<RuntimeClass>),
    /// The object exists (CiliumNode).
    Present,
    /// A CiliumBGPNodeConfig's configured peers and reported sessions.
    BgpNodeConfig(Box<bgp::NodeConfig>),
    /// A CiliumBGPPeerConfig's advertisement selectors, one per family.
    PeerConfig(Vec<Option<kube::core::Selector>>, crate::model::Failover),
    /// A CiliumBGPAdvertisement's labels, and whether it advertises pod routes.
    Advertisement(BTreeMap<String, String>, bool),
    /// A BGP v1 policy.
    BgpPolicy(Box<bgp::Policy>),
    /// A CalicoNodeStatus: its node and sessions.
    Calico(String, Vec<BgpSession>),
}

/// A watcher event with the object reduced, keyed by name (or `ns/name`).
#[derive(Debug, Clone, PartialEq)]
pub enum Ev {
    Init,
    InitApply(String, Obj),
    InitDone,
    Apply(String, Obj),
    Delete(String),
}

#[derive(Default)]
struct Cache {
    items: BTreeMap<String, Obj>,
    buf: Option<BTreeMap<String, Obj>>,
    /// A list's workload pods as they arrive, in chunks: nothing is copied as it grows, and no
    /// key or map node is kept per pod (at 150,000 pods the map took about 35 MB at the sync's
    /// peak, the whole list again).
    pod_buf: Vec<Vec<Pod>>,
    synced: bool,
}

/// Pods per chunk of a list's buffer.
const POD_CHUNK: usize = 4096;

#[derive(Debug)]
struct Track {
    up: bool,
    state: String,
    since: Option<DateTime<Utc>>,
    resets: VecDeque<DateTime<Utc>>,
}

pub struct State {
    rack_label: String,
    caches: BTreeMap<Kind, Cache>,
    pod_updates: BTreeMap<String, Option<Pod>>,
    /// The workload pods of a relist, not yet flushed.
    pods_replaced: Option<Vec<Pod>>,
    dirty_nodes: bool,
    dirty_rc: bool,
    sent_nodes: BTreeMap<String, NodeInfo>,
    sent_bgp: BTreeMap<String, Vec<BgpSession>>,
    sent_rc: Option<Vec<RuntimeClass>>,
    tracks: BTreeMap<(String, String), Track>,
    health: BTreeMap<String, SourceHealth>,
    health_out: Vec<(String, SourceHealth)>,
    /// Notes (the encoding a kind was listed in), sent when they change.
    notes: BTreeMap<String, String>,
    notes_out: Vec<(String, String)>,
}

impl State {
    pub fn new(rack_label: &str) -> Self {
        State {
            rack_label: rack_label.to_string(),
            caches: BTreeMap::new(),
            pod_updates: BTreeMap::new(),
            pods_replaced: None,
            dirty_nodes: false,
            dirty_rc: false,
            sent_nodes: BTreeMap::new(),
            sent_bgp: BTreeMap::new(),
            sent_rc: None,
            tracks: BTreeMap::new(),
            health: BTreeMap::new(),
            health_out: Vec::new(),
            notes: BTreeMap::new(),
            notes_out: Vec::new(),
        }
    }

    /// A scope's note (`list: watch-list, protobuf`), queued for the next flush when it changed.
    pub fn set_note(&mut self, scope: &str, note: String) {
        if self.notes.get(scope) != Some(&note) {
            self.notes.insert(scope.to_string(), note.clone());
            self.notes_out.push((scope.to_string(), note));
        }
    }

    /// Register a kind whose initial list the first `Ok` waits for.
    pub fn expect(&mut self, kind: Kind) {
        self.caches.entry(kind).or_default();
    }

    /// Every expected kind has listed once, or is known to be absent or forbidden.
    pub fn settled(&self) -> bool {
        self.caches.iter().all(|(k, c)| {
            c.synced
                || matches!(
                    self.health.get(k.scope()),
                    Some(SourceHealth::NotInstalled | SourceHealth::Forbidden { .. })
                )
        })
    }

    pub fn health(&self, scope: &str) -> Option<&SourceHealth> {
        self.health.get(scope)
    }

    /// Record a scope's health; queued for the next flush when it changed (or `force`).
    pub fn set_health(&mut self, scope: &str, h: SourceHealth, force: bool) {
        if force || self.health.get(scope) != Some(&h) {
            self.health.insert(scope.to_string(), h.clone());
            self.health_out.retain(|(s, _)| s != scope);
            self.health_out.push((scope.to_string(), h));
        }
    }

    /// Say again that every kind whose watch answers is healthy: a quiet watch (no object
    /// changed, as on a still cluster, or nodes between their 5-minute status reports) is not a
    /// stale one. A watch that fails says so through its errors.
    pub fn reassert_ok(&mut self) {
        let ok: Vec<String> = self
            .health
            .iter()
            .filter(|(scope, h)| !scope.is_empty() && **h == SourceHealth::Ok)
            .map(|(scope, _)| scope.clone())
            .collect();
        for scope in ok {
            self.set_health(&scope, SourceHealth::Ok, true);
        }
    }

    pub fn apply(&mut self, kind: Kind, ev: Ev) {
        // Any event but `Init` (said before the list request) shows the server answered; the end
        // of the first list says the kind is known (the store shows `?` for it until then).
        let was = self.health.get(kind.scope());
        if !matches!(ev, Ev::Init) && !matches!(was, None | Some(SourceHealth::Ok))
            || matches!(ev, Ev::InitDone) && was.is_none()
        {
            self.set_health(kind.scope(), SourceHealth::Ok, false);
        }
        let cache = self.caches.entry(kind).or_default();
        let mut pod_change: Option<(String, Option<Pod>)> = None;
        let mut relisted = None;
        match ev {
            Ev::Init => {
                cache.buf = Some(BTreeMap::new());
                cache.pod_buf = Vec::new();
            }
            Ev::InitApply(_, Obj::Pod(p, None)) if kind == Kind::Pods => {
                if cache.pod_buf.last().is_none_or(|c| c.len() == POD_CHUNK) {
                    cache.pod_buf.push(Vec::with_capacity(POD_CHUNK));
                }
                if let Some(chunk) = cache.pod_buf.last_mut() {
                    chunk.push(*p);
                }
            }
            Ev::InitApply(k, o) => {
                cache.buf.get_or_insert_with(BTreeMap::new).insert(k, o);
            }
            Ev::InitDone => {
                let items = cache.buf.take().unwrap_or_default();
                if kind == Kind::Pods {
                    // Pods move to the store here, each chunk freed as it is copied: only CNI
                    // agent pods also stay (they are node signals, and pods like any other in
                    // the totals).
                    let chunks = std::mem::take(&mut cache.pod_buf);
                    let mut pods =
                        Vec::with_capacity(chunks.iter().map(Vec::len).sum::<usize>() + items.len());
                    chunks.into_iter().for_each(|c| pods.extend(c));
                    for o in items.values() {
                        if let Obj::Pod(p, Some(_)) = o {
                            pods.push((**p).clone());
                        }
                    }
                    relisted = Some(pods);
                }
                cache.items = items;
                cache.synced = true;
            }
            // A workload pod: to the store (it may have been an agent pod before).
            Ev::Apply(k, Obj::Pod(p, None)) if kind == Kind::Pods => {
                if cache.items.remove(&k).is_some() {
                    self.dirty_nodes = true;
                }
                pod_change = Some((k, Some(*p)));
            }
            Ev::Apply(k, o) => {
                if let Obj::Pod(p, _) = &o {
                    // An agent pod: a pod in the store too.
                    pod_change = Some((k.clone(), Some((**p).clone())));
                    self.dirty_nodes = true;
                }
                cache.items.insert(k, o);
            }
            Ev::Delete(k) => {
                let cached = cache.items.remove(&k).is_some();
                // Every pod is the store's; a cached one is also a CNI agent pod (node signals).
                if kind == Kind::Pods {
                    self.dirty_nodes |= cached;
                    pod_change = Some((k, None));
                }
            }
        }
        match kind {
            Kind::Pods => {
                if let Some(pods) = relisted {
                    self.pods_replaced = Some(pods);
                    self.pod_updates.clear();
                    self.dirty_nodes = true;
                } else if let Some((k, p)) = pod_change {
                    self.pod_updates.insert(k, p);
                }
            }
            Kind::RuntimeClasses => self.dirty_rc = true,
            _ => self.dirty_nodes = true,
        }
    }

    /// Whether a kind's objects are known: listed, or known not to exist. A kind that is
    /// forbidden, failing or not yet listed is not.
    /// A kind that is not watched at all is known to have nothing.
    fn known(&self, kind: Kind) -> bool {
        self.caches.get(&kind).is_none_or(|c| c.synced)
            || matches!(self.health.get(kind.scope()), Some(SourceHealth::NotInstalled))
    }

    fn items(&self, kind: Kind) -> impl Iterator<Item = (&String, &Obj)> {
        self.caches.get(&kind).into_iter().flat_map(|c| c.items.iter())
    }

    /// Everything that changed since the last flush, in apply order, health last. `recompute`
    /// forces node/BGP recomputation (resets age out of the hour).
    pub fn flush(&mut self, now: DateTime<Utc>, recompute: bool) -> Vec<Update> {
        let mut out = Vec::new();
        if let Some(pods) = self.pods_replaced.take() {
            out.push(Update::PodsReplaced(pods));
        }
        for (k, p) in std::mem::take(&mut self.pod_updates) {
            out.push(match p {
                Some(p) => Update::PodApplied(p),
                None => {
                    let (ns, name) = k.split_once('/').unwrap_or(("", &k));
                    Update::PodDeleted { namespace: ns.to_string(), name: name.to_string() }
                }
            });
        }
        if std::mem::take(&mut self.dirty_rc) {
            let rcs: Vec<RuntimeClass> = self
                .items(Kind::RuntimeClasses)
                .filter_map(|(_, o)| match o {
                    Obj::RuntimeClass(r) => Some((**r).clone()),
                    _ => None,
                })
                .collect();
            if self.sent_rc.as_ref() != Some(&rcs) {
                self.sent_rc = Some(rcs.clone());
                out.push(Update::RuntimeClasses(rcs));
            }
        }
        if std::mem::take(&mut self.dirty_nodes) || recompute {
            self.nodes(now, &mut out);
        }
        for (scope, health) in std::mem::take(&mut self.health_out) {
            out.push(Update::Health { source: SourceId::Kubernetes, scope, health, at: now });
        }
        for (scope, note) in std::mem::take(&mut self.notes_out) {
            out.push(Update::Note { source: SourceId::Kubernetes, scope, note });
        }
        out
    }

    fn nodes(&mut self, now: DateTime<Utc>, out: &mut Vec<Update>) {
        let mut agents: BTreeMap<String, Vec<Signal>> = BTreeMap::new();
        for (_, o) in self.items(Kind::Pods) {
            if let Obj::Pod(p, Some(cni)) = o
                && &*p.phase == "Running"
                && let Some(n) = &p.node
            {
                agents
                    .entry(n.to_string())
                    .or_default()
                    .push(Signal::AgentPod { cni: *cni, pod: p.name.to_string() });
            }
        }
        let mut bgp: BTreeMap<String, Vec<BgpSession>> = BTreeMap::new();
        let mut configs: BTreeMap<String, Vec<(ConfiguredPeer, Option<String>)>> = BTreeMap::new();
        for (name, o) in self.items(Kind::BgpNodeConfigs) {
            if let Obj::BgpNodeConfig(c) = o {
                configs.insert(name.clone(), c.peers.clone());
                bgp.entry(name.clone()).or_default().extend(c.sessions.iter().flatten().cloned());
            }
        }
        for (_, o) in self.items(Kind::CalicoNodeStatuses) {
            if let Obj::Calico(node, s) = o {
                bgp.entry(node.clone()).or_default().extend(s.iter().cloned());
            }
        }
        let policies: Vec<bgp::Policy> = self
            .items(Kind::BgpPeeringPolicies)
            .filter_map(|(_, o)| match o {
                Obj::BgpPolicy(p) => Some((**p).clone()),
                _ => None,
            })
            .collect();
        // Peer configs and advertisements: `None` while their kind is not readable.
        let peer_configs: Option<BTreeMap<String, Vec<Option<kube::core::Selector>>>> =
            self.known(Kind::BgpPeerConfigs).then(|| {
                self.items(Kind::BgpPeerConfigs)
                    .filter_map(|(k, o)| match o {
                        Obj::PeerConfig(s, _) => Some((k.clone(), s.clone())),
                        _ => None,
                    })
                    .collect()
            });
        let failovers: Option<BTreeMap<String, crate::model::Failover>> =
            self.known(Kind::BgpPeerConfigs).then(|| {
                self.items(Kind::BgpPeerConfigs)
                    .filter_map(|(k, o)| match o {
                        Obj::PeerConfig(_, f) => Some((k.clone(), f.clone())),
                        _ => None,
                    })
                    .collect()
            });
        let adverts: Option<Vec<(BTreeMap<String, String>, bool)>> =
            self.known(Kind::BgpAdvertisements).then(|| {
                self.items(Kind::BgpAdvertisements)
                    .filter_map(|(_, o)| match o {
                        Obj::Advertisement(l, p) => Some((l.clone(), *p)),
                        _ => None,
                    })
                    .collect()
            });
        // A BGP configuration kind that cannot be read: no node's BGP can be ruled out.
        let unreadable = [Kind::BgpNodeConfigs, Kind::BgpPeeringPolicies]
            .into_iter()
            .find(|k| !self.known(*k))
            .map(|k| k.scope().to_string());
        let cilium: BTreeSet<String> = self.items(Kind::CiliumNodes).map(|(k, _)| k.clone()).collect();
        let nodes: Vec<NodeObj> = self
            .items(Kind::Nodes)
            .filter_map(|(_, o)| match o {
                Obj::Node(n) => Some((**n).clone()),
                _ => None,
            })
            .collect();
        let mut seen_tracks = BTreeSet::new();
        let mut infos = Vec::new();
        let mut sessions_by_node = BTreeMap::new();
        for n in &nodes {
            let mut sessions = bgp.remove(&n.name).unwrap_or_default();
            self.track(&n.name, &mut sessions, now, &mut seen_tracks);
            let mut node_agents = agents.remove(&n.name).unwrap_or_default();
            node_agents.sort_by_key(|a| a.describe());
            let mut bgp_config = None;
            let mut bgp_peers: Option<Vec<ConfiguredPeer>> = None;
            if let Some(peers) = configs.get(&n.name) {
                bgp::apply_failover(&mut sessions, peers, failovers.as_ref());
                bgp_config = Some(bgp::pod_routes(peers, peer_configs.as_ref(), adverts.as_deref()));
                bgp_peers = Some(peers.iter().map(|(p, _)| p.clone()).collect());
            }
            for p in policies.iter().filter(|p| p.selects(&n.labels)) {
                bgp_config = Some(Some(p.pod_routes || bgp_config.flatten() == Some(true)));
                bgp_peers.get_or_insert_with(Vec::new).extend(p.neighbors.iter().cloned());
            }
            // Only where Cilium runs does an unreadable BGP configuration leave the routing open.
            let runs_cilium = cilium.contains(&n.name)
                || n.net_reason.as_deref() == Some("CiliumIsUp")
                || node_agents.iter().any(|a| matches!(a, Signal::AgentPod { cni: Cni::Cilium, .. }));
            let extras = NodeExtras {
                cilium_node: cilium.contains(&n.name),
                agents: node_agents,
                bgp_config,
                bgp_unreadable: unreadable.clone().filter(|_| runs_cilium),
                bgp_peers,
                peers: sessions.iter().map(|s| s.peer.clone()).collect(),
            };
            infos.push(map::node_info(n, &extras, &self.rack_label));
            sessions_by_node.insert(n.name.clone(), sessions);
        }
        self.tracks.retain(|k, _| seen_tracks.contains(k));
        let live: BTreeSet<&String> = nodes.iter().map(|n| &n.name).collect();
        let gone: Vec<String> = self.sent_nodes.keys().filter(|k| !live.contains(k)).cloned().collect();
        for name in gone {
            self.sent_nodes.remove(&name);
            self.sent_bgp.remove(&name);
            out.push(Update::NodeDeleted { name });
        }
        for info in infos {
            if self.sent_nodes.get(&info.name) != Some(&info) {
                self.sent_nodes.insert(info.name.clone(), info.clone());
                out.push(Update::NodeApplied { node: info, at: now });
            }
        }
        for (node, sessions) in sessions_by_node {
            let before = self.sent_bgp.get(&node);
            if before.map_or(!sessions.is_empty(), |b| *b != sessions) {
                self.sent_bgp.insert(node.clone(), sessions.clone());
                out.push(Update::Bgp { node, source: SourceId::Kubernetes, sessions, at: now });
            }
        }
    }

    /// Count transitions out of Established seen in the last hour; fill `since` for sessions
    /// whose source gives none, from when this source saw the state change.
    fn track(
        &mut self,
        node: &str,
        sessions: &mut [BgpSession],
        now: DateTime<Utc>,
        seen: &mut BTreeSet<(String, String)>,
    ) {
        for s in sessions.iter_mut() {
            let key = (node.to_string(), format!("{}|{:?}|{}", s.key(), s.family, s.peer));
            let up = s.is_up();
            let label = s.state.label().to_string();
            let t = self.tracks.entry(key.clone()).or_insert_with(|| Track {
                up,
                state: label.clone(),
                since: None,
                resets: VecDeque::new(),
            });
            if t.up && !up {
                t.resets.push_back(now);
            }
            if t.state != label {
                t.since = Some(now);
            }
            t.up = up;
            t.state = label;
            while t.resets.front().is_some_and(|r| now - *r >= Duration::hours(1)) {
                t.resets.pop_front();
            }
            s.resets_1h = u32::try_from(t.resets.len()).unwrap_or(u32::MAX);
            if s.since.is_none() {
                s.since = t.since;
            }
            seen.insert(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quiet_watch_is_said_to_be_healthy_again_on_each_heartbeat() {
        let t = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let mut st = State::new("zone");
        st.set_health("nodes", SourceHealth::Ok, false);
        st.set_health(
            "pods",
            SourceHealth::Forbidden { verb: "list".into(), resource: "pods".into() },
            false,
        );
        let health = |u: &[Update]| -> Vec<String> {
            u.iter()
                .filter_map(|u| match u {
                    Update::Health { scope, health, .. } => Some(format!("{scope}={}", health.word())),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(health(&st.flush(t, false)), ["nodes=ok", "pods=forbidden"]);
        assert!(health(&st.flush(t, false)).is_empty(), "nothing new, nothing said");
        st.reassert_ok();
        assert_eq!(health(&st.flush(t, false)), ["nodes=ok"], "only what is healthy is said again");
    }

    fn pod(name: &str) -> Pod {
        clustertop_core::testkit::pod("default", name, "n1", None)
    }

    fn list(st: &mut State, names: impl Iterator<Item = String>) {
        for n in names {
            st.apply(Kind::Pods, Ev::InitApply(format!("default/{n}"), Obj::Pod(Box::new(pod(&n)), None)));
        }
    }

    fn replaced(out: &[Update]) -> Vec<String> {
        let pods = out.iter().find_map(|u| match u {
            Update::PodsReplaced(p) => Some(p),
            _ => None,
        });
        pods.into_iter().flatten().map(|p| p.name.to_string()).collect()
    }

    /// A list longer than a chunk of the buffer gives every pod once, the CNI agent pod with
    /// them (and kept as a node signal); a list begun again drops what the first one gave.
    #[test]
    fn a_list_of_many_chunks_gives_every_pod_once_and_a_new_list_starts_afresh() {
        let t = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let mut st = State::new("zone");
        st.apply(Kind::Pods, Ev::Init);
        list(&mut st, (0..100).map(|i| format!("old-{i}")));
        // The list failed half-way; the relist:
        st.apply(Kind::Pods, Ev::Init);
        let n = 2 * POD_CHUNK + 3;
        list(&mut st, (0..n).map(|i| format!("p-{i}")));
        st.apply(
            Kind::Pods,
            Ev::InitApply(
                "kube-system/cilium-1".into(),
                Obj::Pod(Box::new(pod("cilium-1")), Some(Cni::Cilium)),
            ),
        );
        st.apply(Kind::Pods, Ev::InitDone);
        let got = replaced(&st.flush(t, false));
        let mut want: Vec<String> = (0..n).map(|i| format!("p-{i}")).collect();
        want.push("cilium-1".into());
        assert_eq!(got, want);
        assert_eq!(
            st.items(Kind::Pods).map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["kube-system/cilium-1"]
        );
    }
}
