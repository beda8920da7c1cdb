//! The served objects: one store per kind, a global resourceVersion and a bounded history of
//! watch events. Objects are serialised once per change and shared as bytes.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use axum::body::Bytes;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::model::{BgpSession, Cni, Pod, Signal};
use crate::model::{NodeInfo, Update};

use super::kinds::{
    BGP_ADVERTISEMENTS, BGP_NODE_CONFIGS, BGP_PEER_CONFIGS, CILIUM_NODES, EVENTS, KINDS, NODES, PODS,
    RUNTIME_CLASSES,
};
use super::objects::{self, Place};
use crate::detail::{self, Seen, SimEvent};

/// One stored object: the fields selectors look at, and its JSON.
#[derive(Debug)]
pub(crate) struct Obj {
    pub ns: String,
    pub name: String,
    pub node: String,
    pub labels: BTreeMap<String, String>,
    pub json: Bytes,
}

#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub rv: u64,
    pub kind: usize,
    pub typ: &'static str,
    pub obj: Arc<Obj>,
}

pub(crate) type Key = (String, String);

/// What the served Pod object says about placement: (node, runtimeClassName, CNI agent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PodMeta {
    pub node: Option<Arc<str>>,
    pub runtime_class: Option<Arc<str>>,
    pub agent: bool,
    /// When the pod appeared (its age, restarts and events follow from it: `crate::detail`).
    pub seen: Seen,
    /// Its events' keys in the event store.
    pub events: Vec<Key>,
    /// Succeeded or Failed.
    pub finished: bool,
}

#[derive(Debug)]
pub(crate) struct State {
    pub rv: u64,
    pub stores: Vec<BTreeMap<Key, Arc<Obj>>>,
    pub history: VecDeque<Event>,
    cap: usize,
    /// Events at or below this resourceVersion are gone from the history.
    pub compacted: u64,
    /// Bumped by `expire`: open watches end with 410.
    pub epoch: u64,
    /// Recording watch events (off while loading the initial state).
    record: bool,
    places: HashMap<String, Place>,
    rack_pos: HashMap<String, usize>,
    agents: HashMap<String, (Cni, String, String)>,
    pub bgp: HashMap<String, Vec<BgpSession>>,
    pods_target: Option<usize>,
    filler: u64,
    pub now: DateTime<Utc>,
    /// Every served pod's placement, kept with the pod store (for tests and the churn).
    pub pod_meta: HashMap<Key, PodMeta>,
    /// Pod watch events recorded since the initial load (ADDED, MODIFIED, DELETED).
    pub pod_events: u64,
    /// Each node's events' keys in the event store.
    node_events: HashMap<String, Vec<Key>>,
    /// Pods and nodes with the bodies real clusters have (`real.rs`); false for `--slim`.
    pub realistic: bool,
}

fn uid(kind: usize, ns: &str, name: &str) -> String {
    // FNV-1a, twice with different offsets, shaped like a UUID.
    let h = |seed: u64| {
        let mut x = seed;
        for b in [kind as u8].iter().chain(ns.as_bytes()).chain(b"/").chain(name.as_bytes()) {
            x ^= u64::from(*b);
            x = x.wrapping_mul(0x100_0000_01b3);
        }
        x
    };
    let (a, b) = (h(0xcbf2_9ce4_8422_2325), h(0x8422_2325_cbf2_9ce4));
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

impl State {
    pub fn new(history: usize, pods_target: Option<usize>, now: DateTime<Utc>) -> State {
        State {
            rv: 1,
            stores: KINDS.iter().map(|_| BTreeMap::new()).collect(),
            history: VecDeque::new(),
            cap: history.max(1),
            compacted: 1,
            epoch: 0,
            record: false,
            places: HashMap::new(),
            rack_pos: HashMap::new(),
            agents: HashMap::new(),
            bgp: HashMap::new(),
            pods_target,
            filler: 0,
            now,
            pod_meta: HashMap::new(),
            pod_events: 0,
            node_events: HashMap::new(),
            realistic: true,
        }
    }

    /// Load objects as they are (`--objects`): each under its kind, pods placed by their
    /// `spec.nodeName`. No watch events; the history starts after them.
    pub fn load_objects(&mut self, objects: Vec<(usize, Value)>) {
        self.record = false;
        for (kind, value) in objects {
            let labels: BTreeMap<String, String> = value
                .pointer("/metadata/labels")
                .and_then(|l| serde_json::from_value(l.clone()).ok())
                .unwrap_or_default();
            let node = match kind {
                PODS => value.pointer("/spec/nodeName").and_then(Value::as_str).unwrap_or("").to_string(),
                _ => String::new(),
            };
            self.put(kind, &node, labels, value);
        }
        self.compacted = self.rv;
        self.record = true;
    }

    /// Load the initial state: no watch events, and the history starts after it.
    pub fn load(&mut self, updates: Vec<Update>) {
        self.record = false;
        let peer_config = objects::bgp_peer_config(self.now);
        self.put(BGP_PEER_CONFIGS, "", BTreeMap::new(), peer_config);
        let advert = objects::bgp_advertisement(self.now);
        self.put(BGP_ADVERTISEMENTS, "", [("advertise".to_string(), "pod-cidr".to_string())].into(), advert);
        for u in updates {
            self.apply(u);
        }
        self.compacted = self.rv;
        self.record = true;
    }

    fn push(&mut self, kind: usize, typ: &'static str, obj: Arc<Obj>) {
        if !self.record {
            return;
        }
        if kind == PODS {
            self.pod_events += 1;
        }
        self.history.push_back(Event { rv: self.rv, kind, typ, obj });
        while self.history.len() > self.cap {
            if let Some(e) = self.history.pop_front() {
                self.compacted = e.rv;
            }
        }
    }

    fn put(&mut self, kind: usize, node: &str, labels: BTreeMap<String, String>, mut value: Value) {
        let meta = value.get("metadata");
        let text = |k: &str| meta.and_then(|m| m.get(k)).and_then(Value::as_str).unwrap_or("").to_string();
        let (ns, name) = (text("namespace"), text("name"));
        self.rv += 1;
        if let Some(m) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            m.insert("uid".into(), uid(kind, &ns, &name).into());
            m.insert("resourceVersion".into(), self.rv.to_string().into());
        }
        let json = Bytes::from(serde_json::to_vec(&value).unwrap_or_default());
        let obj = Arc::new(Obj { ns: ns.clone(), name: name.clone(), node: node.to_string(), labels, json });
        let typ = match self.stores[kind].insert((ns, name), obj.clone()) {
            Some(_) => "MODIFIED",
            None => "ADDED",
        };
        self.push(kind, typ, obj);
    }

    fn delete(&mut self, kind: usize, ns: &str, name: &str) {
        let key = (ns.to_string(), name.to_string());
        if kind == PODS
            && let Some(m) = self.pod_meta.remove(&key)
        {
            self.drop_events(&m.events);
        }
        if let Some(old) = self.stores[kind].remove(&key) {
            self.rv += 1;
            // The deleted object carries the deletion's resourceVersion.
            let mut v: Value = serde_json::from_slice(&old.json).unwrap_or(Value::Null);
            if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
                m.insert("resourceVersion".into(), self.rv.to_string().into());
            }
            let json = Bytes::from(serde_json::to_vec(&v).unwrap_or_default());
            let obj = Arc::new(Obj {
                ns: old.ns.clone(),
                name: old.name.clone(),
                node: old.node.clone(),
                labels: old.labels.clone(),
                json,
            });
            self.push(kind, "DELETED", obj);
        }
    }

    fn place(&mut self, info: &NodeInfo) -> Place {
        if let Some(p) = self.places.get(&info.name) {
            return *p;
        }
        let index = self.places.len();
        let pos = self.rack_pos.entry(info.rack.clone()).or_insert(0);
        *pos += 1;
        let rack = info.rack.trim_start_matches(|c: char| !c.is_ascii_digit()).parse().unwrap_or(0);
        let p = Place { index, rack, pos: *pos };
        self.places.insert(info.name.clone(), p);
        p
    }

    fn put_pod(&mut self, p: &Pod) {
        let agent = self.agents.get(&*p.name).map(|a| a.0);
        let labels = objects::pod_labels(p, agent);
        let key = (p.namespace.to_string(), p.name.to_string());
        // A pod keeps the moment it appeared; one created after the initial load is fresh.
        let old = self.pod_meta.remove(&key);
        let seen = old.as_ref().map(|m| m.seen).unwrap_or(Seen { at: self.now, fresh: self.record });
        if let Some(m) = &old {
            self.drop_events(&m.events);
        }
        let facts = detail::pod_facts(p, seen);
        let mut value = objects::pod(p, &labels, &facts);
        if self.realistic {
            let host_ip =
                p.node.as_deref().and_then(|n| self.places.get(n)).map(|pl| objects::internal_ip(*pl));
            super::real::pod(&mut value, p, &labels, host_ip.as_deref(), agent.is_some());
        }
        self.put(PODS, p.node.as_deref().unwrap_or(""), labels, value);
        let uid = self.stores[PODS].get(&key).map(|o| uid(PODS, &o.ns, &o.name)).unwrap_or_default();
        let events = detail::pod_events(p, seen).iter().map(|e| self.put_event(e, &uid)).collect();
        let meta = PodMeta {
            node: p.node.clone(),
            runtime_class: p.runtime_class.clone(),
            agent: agent.is_some(),
            seen,
            events,
            finished: matches!(&*p.phase, "Succeeded" | "Failed"),
        };
        self.pod_meta.insert(key, meta);
    }

    /// Store an event (not in the watch history: nothing watches Events here, and a node's detail
    /// lists them on demand).
    fn put_event(&mut self, e: &SimEvent, involved_uid: &str) -> Key {
        let value = super::events::event(e, involved_uid);
        let record = std::mem::replace(&mut self.record, false);
        self.put(EVENTS, "", BTreeMap::new(), value);
        self.record = record;
        (e.namespace.clone(), e.name.clone())
    }

    fn drop_events(&mut self, keys: &[Key]) {
        for k in keys {
            self.stores[EVENTS].remove(k);
        }
    }

    /// The events of `node` and of the pods on it, as (involved kind, namespace/name, reason),
    /// sorted: what a node's detail must list (a test helper).
    pub fn events_of_node(&self, node: &str) -> Vec<(String, String, String)> {
        let mut keys: Vec<&Key> = self.node_events.get(node).map(|v| v.iter().collect()).unwrap_or_default();
        keys.extend(
            self.pod_meta.values().filter(|m| m.node.as_deref() == Some(node)).flat_map(|m| &m.events),
        );
        let mut out: Vec<(String, String, String)> = keys
            .into_iter()
            .filter_map(|k| self.stores[EVENTS].get(k))
            .filter_map(|o| serde_json::from_slice::<Value>(&o.json).ok())
            .map(|v| {
                let text = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or("").to_string();
                let ns = text("/involvedObject/namespace");
                let name = text("/involvedObject/name");
                let object = if ns.is_empty() { name } else { format!("{ns}/{name}") };
                (text("/involvedObject/kind"), object, text("/reason"))
            })
            .collect();
        out.sort();
        out
    }

    fn put_bgp(&mut self, node: &str) {
        let sessions = self.bgp.get(node).cloned().unwrap_or_default();
        let value = objects::bgp_node_config(node, &sessions, self.now);
        self.put(BGP_NODE_CONFIGS, node, BTreeMap::new(), value);
    }

    /// Force one BGP session's state (a test hook); false when the node or peer is unknown.
    pub fn set_bgp_state(&mut self, node: &str, peer: &str, state: &str) -> bool {
        let now = self.now;
        let Some(s) = self.bgp.get_mut(node).and_then(|v| v.iter_mut().find(|s| s.peer == peer)) else {
            return false;
        };
        s.state = crate::model::BgpState::parse(state);
        s.since = Some(now);
        if s.is_up() {
            s.hold_time_s = s.hold_time_s.or(Some(9));
            s.keepalive_s = s.keepalive_s.or(Some(3));
        } else {
            s.routes_received = Some(0);
            s.routes_advertised = Some(0);
            s.hold_time_s = None;
            s.keepalive_s = None;
        }
        self.put_bgp(node);
        true
    }

    /// Drop the history: every older resourceVersion now answers 410, open watches end.
    pub fn expire(&mut self) {
        self.history.clear();
        // Every resourceVersion handed out so far becomes too old.
        self.rv += 1;
        self.compacted = self.rv;
        self.epoch += 1;
    }

    pub fn apply(&mut self, u: Update) {
        match u {
            Update::NodeApplied { node, .. } => self.apply_node(&node),
            Update::NodeDeleted { name } => {
                for kind in [NODES, CILIUM_NODES, BGP_NODE_CONFIGS] {
                    self.delete(kind, "", &name);
                }
            }
            Update::Bgp { node, sessions, .. } => {
                self.bgp.insert(node.clone(), sessions);
                if self.stores[BGP_NODE_CONFIGS].contains_key(&(String::new(), node.clone())) {
                    self.put_bgp(&node);
                }
            }
            Update::PodApplied(p) => self.put_pod(&p),
            Update::PodDeleted { namespace, name } => self.delete(PODS, &namespace, &name),
            Update::PodsReplaced(pods) => self.replace_pods(pods),
            // Metrics are not part of the Kubernetes API.
            Update::NodeMetrics { .. }
            | Update::NodeCpu { .. }
            | Update::MetricPods(_)
            | Update::KubeletStarts { .. }
            | Update::Note { .. } => {}
            Update::RuntimeClasses(classes) => {
                let keep: Vec<Key> = classes.iter().map(|c| (String::new(), c.name.clone())).collect();
                let gone: Vec<Key> =
                    self.stores[RUNTIME_CLASSES].keys().filter(|k| !keep.contains(k)).cloned().collect();
                for (ns, name) in gone {
                    self.delete(RUNTIME_CLASSES, &ns, &name);
                }
                for rc in &classes {
                    let value = objects::runtime_class(rc, self.now);
                    self.put(RUNTIME_CLASSES, "", BTreeMap::new(), value);
                }
            }
            Update::Health { .. } | Update::Host { .. } | Update::HostSignals { .. } | Update::Cpu(_) => {}
        }
    }

    fn apply_node(&mut self, info: &NodeInfo) {
        let place = self.place(info);
        let (labels, mut value) = objects::node(info, place, self.now);
        if self.realistic {
            let created = objects::ts(info.created.unwrap_or(self.now));
            super::real::node(&mut value, &info.name, &created);
        }
        let was_ready = self.stores[NODES]
            .get(&(String::new(), info.name.clone()))
            .map(|o| !String::from_utf8_lossy(&o.json).contains("\"KubeletNotReady\""));
        self.put(NODES, &info.name, labels, value);
        if was_ready != Some(info.ready) {
            let old = self.node_events.remove(&info.name).unwrap_or_default();
            self.drop_events(&old);
            let keys = detail::node_events(&info.name, info.ready, self.now)
                .iter()
                .map(|e| self.put_event(e, &info.name))
                .collect();
            self.node_events.insert(info.name.clone(), keys);
        }
        let mut cilium = false;
        let mut bgp = false;
        for s in &info.signals {
            match s {
                Signal::AgentPod { cni, pod } => {
                    let ns = if *cni == Cni::Flannel { "kube-flannel" } else { "kube-system" };
                    self.agents.insert(pod.clone(), (*cni, ns.to_string(), info.name.clone()));
                }
                Signal::CiliumNode => cilium = true,
                Signal::BgpNodeConfig { .. } => bgp = true,
                _ => {}
            }
        }
        let key = (String::new(), info.name.clone());
        if cilium {
            let value = objects::cilium_node(&info.name, place, self.now);
            self.put(CILIUM_NODES, &info.name, BTreeMap::new(), value);
        } else {
            self.delete(CILIUM_NODES, "", &info.name);
        }
        if bgp && !self.stores[BGP_NODE_CONFIGS].contains_key(&key) {
            self.put_bgp(&info.name);
        } else if !bgp {
            self.delete(BGP_NODE_CONFIGS, "", &info.name);
        }
    }

    /// A relist from the simulator: its pods, the CNI agent pods it did not list, and filler
    /// (or fewer workload pods) to reach the configured total.
    fn replace_pods(&mut self, mut pods: Vec<Pod>) {
        let mut listed: std::collections::HashSet<Key> =
            pods.iter().map(|p| (p.namespace.to_string(), p.name.to_string())).collect();
        let mut agents: Vec<(&String, &(Cni, String, String))> = self.agents.iter().collect();
        agents.sort();
        for (name, (cni, ns, node)) in agents {
            if listed.insert((ns.clone(), name.clone())) {
                pods.push(crate::pods::agent_pod(*cni, name, node));
            }
        }
        if let Some(target) = self.pods_target {
            self.fit(&mut pods, target);
        }
        let keep: std::collections::HashSet<Key> =
            pods.iter().map(|p| (p.namespace.to_string(), p.name.to_string())).collect();
        let gone: Vec<Key> = self.stores[PODS].keys().filter(|k| !keep.contains(*k)).cloned().collect();
        for (ns, name) in gone {
            self.delete(PODS, &ns, &name);
        }
        for p in &pods {
            self.put_pod(p);
        }
    }

    /// Trim workload pods or add filler pods (spread over the nodes) to reach `target`.
    fn fit(&mut self, pods: &mut Vec<Pod>, target: usize) {
        if pods.len() > target {
            let agents = &self.agents;
            let mut extra = pods.len() - target;
            pods.retain(|p| {
                if extra > 0 && !agents.contains_key(&*p.name) {
                    extra -= 1;
                    return false;
                }
                true
            });
            return;
        }
        let mut nodes: Vec<(&String, &Place)> = self.places.iter().collect();
        nodes.sort_by_key(|(_, p)| p.index);
        if nodes.is_empty() {
            return;
        }
        while pods.len() < target {
            let node = nodes[(self.filler as usize) % nodes.len()].0.clone();
            let name = format!("filler-{}", super::super::pods::suffix(self.filler, 0x46_494c));
            self.filler += 1;
            pods.push(super::super::pods::pod("load", name, &node));
        }
    }

    pub fn counts(&self) -> (usize, usize) {
        (self.stores[NODES].len(), self.stores[PODS].len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Sim, SimConfig};

    fn loaded(pods: Option<usize>) -> State {
        let now = clustertop_core::testkit::T0;
        let mut sim = Sim::new(SimConfig { nodes: 12, ..SimConfig::default() }, now);
        let mut st = State::new(100, pods, now);
        st.load(sim.initial());
        st
    }

    #[test]
    fn initial_load_builds_every_kind_without_history() {
        let st = loaded(None);
        assert_eq!(st.counts().0, 12);
        assert!(st.counts().1 > 12 * 15);
        assert_eq!(st.stores[RUNTIME_CLASSES].len(), 3);
        assert!(!st.stores[CILIUM_NODES].is_empty());
        assert!(!st.stores[BGP_NODE_CONFIGS].is_empty());
        assert!(st.history.is_empty());
        assert_eq!(st.compacted, st.rv);
        let agent = st.stores[PODS].values().find(|o| o.name.starts_with("cilium-")).expect("agent");
        assert_eq!(agent.labels.get("k8s-app").map(String::as_str), Some("cilium"));
        assert_eq!(agent.ns, "kube-system");
        // Nodes are served with the time they joined, not the time the server started.
        let node = st.stores[NODES].values().find(|o| o.name == "r1-n01").expect("node");
        let text = String::from_utf8_lossy(&node.json).to_string();
        let created = clustertop_core::testkit::T0 - chrono::Duration::days(812) + chrono::Duration::hours(7);
        let want = format!("\"creationTimestamp\":\"{}\"", created.format("%Y-%m-%dT%H:%M:%SZ"));
        assert!(text.contains(&want), "{want} in {text}");
    }

    #[test]
    fn pods_target_trims_or_fills() {
        assert_eq!(loaded(Some(1000)).counts().1, 1000);
        let few = loaded(Some(5));
        assert!(few.counts().1 >= 5 && few.counts().1 <= 40, "agents are kept: {}", few.counts().1);
    }

    #[test]
    fn changes_append_bounded_history_and_expire_compacts() {
        let mut st = loaded(None);
        st.cap = 2;
        let node = st.bgp.iter().find(|(_, s)| !s.is_empty()).map(|(n, _)| n.clone()).expect("bgp node");
        let peer = st.bgp[&node][0].peer.clone();
        for state in ["idle", "established", "active"] {
            assert!(st.set_bgp_state(&node, &peer, state));
        }
        assert_eq!(st.history.len(), 2);
        assert_eq!(st.compacted, st.rv - 2);
        assert!(st.history.iter().all(|e| e.typ == "MODIFIED" && e.kind == BGP_NODE_CONFIGS));
        let text = String::from_utf8_lossy(&st.history[1].obj.json).to_string();
        assert!(text.contains("\"peeringState\":\"active\""), "{text}");
        let before = st.rv;
        st.expire();
        assert!(st.history.is_empty());
        assert!(before < st.compacted);
        assert_eq!(st.compacted, st.rv);
        assert!(!st.set_bgp_state("nope", &peer, "idle"));
    }
}
