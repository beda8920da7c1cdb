//! The store: applies source updates to the cluster state and builds immutable snapshots.
//!
//! Every outside string is sanitized here, once, on the way in.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use foldhash::HashMapExt as _;
use foldhash::HashSetExt as _;

use crate::analysis::{self, Settings};
use crate::model::Update;
use crate::model::{
    Aged, BatchRes, CpuCurve, ForeignNode, Interner, KubeletStart, Node, NodeCurve, Pod, Pods, RuntimeClass,
    RuntimeKind, RuntimeMix, SandboxStarts, Snapshot, SourceHealth, SourceId, SourceStatus, Unknown,
};
use clean::Clean;

mod clean;
mod keyframe;
mod node;

use node::{Counts, NodeEntry};

/// The maps keyed by names that every pod change touches (foldhash: hashbrown's own hasher).
type FastMap<K, V> = foldhash::HashMap<K, V>;

/// Everything the sources have told us, before analysis.
#[derive(Debug, Clone)]
pub struct ClusterState {
    pub cluster: String,
    pub settings: Settings,
    nodes: BTreeMap<String, NodeEntry>,
    /// Shared with the snapshots; a change copies only the changed node's list.
    pods: Arc<Pods>,
    /// Where each pod is: namespace -> name -> node (`""`: not scheduled).
    pod_nodes: FastMap<Arc<str>, FastMap<Arc<str>, Arc<str>>>,
    interner: Interner,
    /// Per node (`""`: unscheduled pods): runtime mix and counts, kept for nodes whose pods did
    /// not change.
    summaries: FastMap<Arc<str>, PodSummary>,
    /// Recount every node (after a relist or a RuntimeClass change).
    recount: bool,
    /// Nodes whose pods changed since the last snapshot.
    dirty: foldhash::HashSet<Arc<str>>,
    classes: Vec<RuntimeClass>,
    /// The kubelet's sandbox start figures from a metrics backend, and their query window.
    kubelet: Option<(String, Vec<KubeletStart>)>,
    /// Counts the updates that can change the sandbox start figures (pods, classes, kubelet).
    starts_gen: u64,
    /// The last figures, with the generation and pod-unknown reason they were built for.
    starts: Option<(StartsKey, Arc<SandboxStarts>)>,
    cpu: Option<CpuCurve>,
    node_cpu: Option<NodeCurve>,
    /// Pods from metrics, used only while the API has given none.
    metric_pods: Option<Arc<Pods>>,
    /// Per-node updates for nodes not seen yet, by node.
    pending: HashMap<String, Vec<Update>>,
    health: BTreeMap<(SourceId, String), SourceStatus>,
}

/// What the sandbox start figures were built for: the generation of the updates that change them,
/// and why the pods are unknown.
type StartsKey = (u64, Option<String>);

/// Sanitize a pod's strings and share its repeated ones.
fn clean_pod(p: &mut Pod, interner: &mut Interner) {
    p.clean();
    interner.share(&mut p.namespace);
    interner.share(&mut p.phase);
    for s in [&mut p.node, &mut p.runtime_class, &mut p.priority_class].into_iter().flatten() {
        interner.share(s);
    }
}

/// One node's pods, counted; finished pods apart.
#[derive(Debug, Clone, Default)]
struct PodSummary {
    runtime: RuntimeMix,
    pods: u32,
    finished: u32,
    /// Koordinator batch resources the running pods request.
    batch: BatchRes,
    /// Pods per RuntimeClass name.
    classes: Vec<(Arc<str>, u32)>,
    /// Sandbox start times (whole seconds) per runtime, finished pods included.
    starts: analysis::start::RuntimeHists,
}

/// RuntimeClass name -> what its handler runs.
fn kinds(classes: &[RuntimeClass]) -> HashMap<&str, RuntimeKind> {
    classes.iter().map(|c| (c.name.as_str(), c.kind)).collect()
}

/// Every node's summary.
fn summarize_all(pods: &Pods, kinds: &HashMap<&str, RuntimeKind>) -> FastMap<Arc<str>, PodSummary> {
    pods.nodes().map(|(n, list)| (n.clone(), summarize(list, kinds))).collect()
}

fn summarize(pods: &[Pod], kinds: &HashMap<&str, RuntimeKind>) -> PodSummary {
    let mut s = PodSummary::default();
    for p in pods {
        if let Some(secs) = p.sandbox_start_s {
            analysis::start::add_pod(&mut s.starts, p.runtime_class.as_ref(), secs);
        }
        if p.finished() {
            s.finished += 1;
            continue;
        }
        s.pods += 1;
        if let Some(b) = &p.batch {
            s.batch.add(b);
        }
        // Pods without a class run the node's default runtime (runc).
        let kind = match &p.runtime_class {
            None => RuntimeKind::Runc,
            Some(c) => {
                match s.classes.iter_mut().find(|(n, _)| n == c) {
                    Some((_, k)) => *k += 1,
                    None => s.classes.push((c.clone(), 1)),
                }
                kinds.get(&**c).copied().unwrap_or(RuntimeKind::Other)
            }
        };
        s.runtime.add(kind);
    }
    s
}

/// Nodes whose facts may wait for their API object; beyond this, such facts are dropped.
const MAX_PENDING_NODES: usize = 20_000;

/// Which source an update waiting for its node came from.
fn update_source(u: &Update) -> Option<SourceId> {
    match u {
        Update::Bgp { source, .. } => Some(*source),
        Update::Host { .. } | Update::HostSignals { .. } => Some(SourceId::Agents),
        Update::NodeMetrics { .. } => Some(SourceId::Prometheus),
        _ => None,
    }
}

/// The node an update is about, for the updates that only add to a known node.
fn per_node(u: &Update) -> Option<&str> {
    match u {
        Update::Bgp { node, .. }
        | Update::Host { node, .. }
        | Update::HostSignals { node, .. }
        | Update::NodeMetrics { node, .. } => Some(node),
        _ => None,
    }
}

impl ClusterState {
    pub fn new(cluster: impl Into<String>, settings: Settings) -> Self {
        ClusterState {
            cluster: cluster.into(),
            settings,
            nodes: BTreeMap::new(),
            pods: Arc::default(),
            pod_nodes: FastMap::new(),
            interner: Interner::default(),
            summaries: FastMap::new(),
            recount: true,
            dirty: foldhash::HashSet::new(),
            classes: Vec::new(),
            kubelet: None,
            starts_gen: 0,
            starts: None,
            cpu: None,
            node_cpu: None,
            metric_pods: None,
            pending: HashMap::new(),
            health: BTreeMap::new(),
        }
    }

    /// Apply one update. Returns false when it changed nothing a view shows (a heartbeat that
    /// repeats a source's health), so the caller can skip rebuilding the snapshot.
    pub fn apply(&mut self, update: Update) -> bool {
        if matches!(
            update,
            Update::PodApplied(_)
                | Update::PodDeleted { .. }
                | Update::PodsReplaced(_)
                | Update::RuntimeClasses(_)
                | Update::KubeletStarts { .. }
                | Update::MetricPods(_)
        ) {
            self.starts_gen += 1;
        }
        // Per-node facts about a node the API has not shown yet (an agent or the metrics backend
        // answered first) wait for it, the latest of each kind, instead of being lost.
        if let Some(node) = per_node(&update)
            && !self.nodes.contains_key(node)
        {
            if self.pending.len() < MAX_PENDING_NODES || self.pending.contains_key(node) {
                let kinds = self.pending.entry(node.to_string()).or_default();
                kinds.retain(|u| std::mem::discriminant(u) != std::mem::discriminant(&update));
                kinds.push(update);
            }
            return false;
        }
        match update {
            Update::Health { source, mut scope, mut health, at } => {
                scope.clean();
                health.clean();
                let key = (source, scope);
                let previous = self.health.get(&key).map(|s| s.health.clone());
                let updated =
                    if health.is_ok() { Some(at) } else { self.health.get(&key).and_then(|s| s.updated) };
                let changed = previous.as_ref() != Some(&health);
                let note = self.health.get(&key).and_then(|s| s.note.clone());
                let status = SourceStatus { source, scope: key.1.clone(), health, updated, note };
                self.health.insert(key, status);
                return changed;
            }
            Update::Note { source, mut scope, mut note } => {
                scope.clean();
                note.clean();
                let key = (source, scope);
                let status = self.health.entry(key.clone()).or_insert_with(|| SourceStatus {
                    source,
                    scope: key.1.clone(),
                    health: SourceHealth::Ok,
                    updated: None,
                    note: None,
                });
                let changed = status.note.as_deref() != Some(note.as_str());
                status.note = Some(note);
                return changed;
            }
            Update::NodeApplied { mut node, at } => {
                node.clean();
                match self.nodes.get_mut(&node.name) {
                    Some(e) => {
                        e.info = node;
                        e.seen = at;
                        e.built = None;
                    }
                    None => {
                        let name = node.name.clone();
                        let entry = NodeEntry {
                            info: node,
                            seen: at,
                            bgp: BTreeMap::new(),
                            host: None,
                            host_signals: Vec::new(),
                            metrics: None,
                            built: None,
                        };
                        let waiting = self.pending.remove(&name).unwrap_or_default();
                        self.nodes.insert(name, entry);
                        for u in waiting {
                            self.apply(u);
                        }
                    }
                }
            }
            Update::NodeDeleted { mut name } => {
                name.clean();
                self.nodes.remove(&name);
            }
            Update::Bgp { node, source, mut sessions, at } => {
                if let Some(e) = self.nodes.get_mut(&node) {
                    sessions.clean();
                    e.bgp.insert(source, Aged::new(sessions, at));
                    e.built = None;
                }
            }
            Update::Host { node, mut facts, at } => {
                if let Some(e) = self.nodes.get_mut(&node) {
                    facts.clean();
                    e.host = Some(Aged::new(facts, at));
                    e.built = None;
                }
            }
            Update::HostSignals { node, mut signals } => {
                if let Some(e) = self.nodes.get_mut(&node) {
                    signals.clean();
                    e.host_signals = signals;
                    e.built = None;
                }
            }
            Update::PodApplied(mut pod) => {
                clean_pod(&mut pod, &mut self.interner);
                let node = pod.node.clone().unwrap_or_else(|| self.interner.get(""));
                let names = self.pod_nodes.entry(pod.namespace.clone()).or_default();
                let pods = Arc::make_mut(&mut self.pods);
                if let Some(old) = names.insert(pod.name.clone(), node.clone())
                    && old != node
                {
                    pods.remove(&old, &pod.namespace, &pod.name);
                    self.dirty.insert(old);
                }
                pods.insert(pod);
                self.dirty.insert(node);
            }
            Update::PodDeleted { mut namespace, mut name } => {
                namespace.clean();
                name.clean();
                let Some(names) = self.pod_nodes.get_mut(namespace.as_str()) else { return false };
                let Some(node) = names.remove(name.as_str()) else { return false };
                if names.is_empty() {
                    self.pod_nodes.remove(namespace.as_str());
                }
                Arc::make_mut(&mut self.pods).remove(&node, &namespace, &name);
                self.dirty.insert(node);
            }
            Update::PodsReplaced(mut pods) => {
                self.interner.prune();
                pods.iter_mut().for_each(|p| clean_pod(p, &mut self.interner));
                let pods = Pods::from_vec(pods);
                self.pod_nodes.clear();
                for (node, list) in pods.nodes() {
                    for p in list {
                        let names = self.pod_nodes.entry(p.namespace.clone()).or_default();
                        names.insert(p.name.clone(), node.clone());
                    }
                }
                self.pods = Arc::new(pods);
                self.recount = true;
            }
            Update::RuntimeClasses(mut classes) => {
                classes.clean();
                classes.sort_by(|a, b| a.name.cmp(&b.name));
                self.classes = classes;
                self.recount = true;
            }
            Update::Cpu(mut curve) => {
                curve.clean();
                self.cpu = Some(curve)
            }
            Update::NodeMetrics { node, mut metrics, at } => {
                if let Some(e) = self.nodes.get_mut(&node) {
                    metrics.clean();
                    e.metrics = Some(Aged::new(metrics, at));
                    e.built = None;
                }
            }
            Update::NodeCpu { mut node, points } => {
                node.clean();
                let points = points
                    .into_iter()
                    .filter_map(|(t, v)| Some((DateTime::<Utc>::from_timestamp(t, 0)?, v)))
                    .collect();
                self.node_cpu = Some(NodeCurve { node, points });
            }
            Update::KubeletStarts { mut window, mut starts } => {
                window.clean();
                starts.clean();
                self.kubelet = Some((window, starts));
            }
            Update::MetricPods(mut pods) => {
                pods.iter_mut().for_each(|p| clean_pod(p, &mut self.interner));
                self.metric_pods = Some(Arc::new(Pods::from_vec(pods)));
            }
        }
        true
    }

    /// Bring each node's pod summary up to date, recounting only the nodes whose pods changed.
    fn recount(&mut self) {
        let dirty = std::mem::take(&mut self.dirty);
        let kinds = kinds(&self.classes);
        let (pods, sums) = (&self.pods, &mut self.summaries);
        if std::mem::replace(&mut self.recount, false) {
            *sums = summarize_all(pods, &kinds);
            return;
        }
        for node in dirty {
            match pods.on_node(&node) {
                [] => sums.remove(&node),
                list => sums.insert(node, summarize(list, &kinds)),
            };
        }
    }

    /// Why a kind of the API source is not known: forbidden, or never listed (a kind listed once
    /// and failing since keeps its last state, shown with its age). `None` when it is known, or
    /// when no API source runs (the simulator knows everything).
    fn kind_unknown(&self, scope: &str) -> Option<String> {
        let root = self.health.get(&(SourceId::Kubernetes, String::new()))?;
        match self.health.get(&(SourceId::Kubernetes, scope.to_string())) {
            Some(SourceStatus { health: SourceHealth::Forbidden { verb, resource }, .. }) => {
                Some(format!("forbidden: cannot {verb} {resource}"))
            }
            Some(SourceStatus { health: SourceHealth::NotInstalled, .. }) => None,
            Some(s) if s.updated.is_some() => None,
            Some(SourceStatus { health: SourceHealth::Unreachable { error }, .. }) => {
                Some(format!("{scope} not listed yet: {error}"))
            }
            // A source that cannot have the kind (history from metrics has no RuntimeClasses).
            Some(SourceStatus { health: SourceHealth::NoData { reason }, .. }) => {
                Some(format!("{scope}: {reason}"))
            }
            _ => match &root.health {
                SourceHealth::Unreachable { error } => Some(format!("{scope} not listed yet: {error}")),
                _ => Some(format!("{scope} not listed yet")),
            },
        }
    }

    fn unknown(&self) -> Unknown {
        Unknown {
            nodes: self.kind_unknown("nodes"),
            // Pods from kube-state-metrics stand in for pods the API does not give.
            pods: self.kind_unknown("pods").filter(|_| self.metric_pods.is_none()),
            runtime_classes: self.kind_unknown("runtimeclasses.node.k8s.io"),
        }
    }

    /// Nodes some source reported that the API, once it listed the nodes, does not have.
    fn foreign_nodes(&self, unknown: &Unknown) -> Vec<ForeignNode> {
        if unknown.nodes.is_some() || self.nodes.is_empty() && self.health.is_empty() {
            return Vec::new();
        }
        let mut out: Vec<ForeignNode> = self
            .pending
            .iter()
            .map(|(name, updates)| {
                let mut sources: Vec<SourceId> = updates.iter().filter_map(update_source).collect();
                sources.sort();
                sources.dedup();
                ForeignNode { name: name.clone(), sources }
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// The sources' health as shown: a scope that says ok while its source as a whole is
    /// unreachable or stale follows the source at once.
    fn shown_health(&self, now: DateTime<Utc>) -> Vec<SourceStatus> {
        let stale_after = self.settings.stale_after_s;
        let aged = |s: &SourceStatus| match (&s.health, s.updated) {
            (SourceHealth::Ok, Some(t)) if (now - t).num_seconds() > stale_after => {
                SourceStatus { health: SourceHealth::Stale { since: t }, ..s.clone() }
            }
            _ => s.clone(),
        };
        self.health
            .values()
            .map(|s| {
                let root =
                    self.health.get(&(s.source, String::new())).filter(|_| !s.scope.is_empty()).map(aged);
                match root {
                    Some(r)
                        if s.health.is_ok()
                            && matches!(
                                r.health,
                                SourceHealth::Unreachable { .. } | SourceHealth::Stale { .. }
                            ) =>
                    {
                        SourceStatus { health: r.health, ..s.clone() }
                    }
                    _ => aged(s),
                }
            })
            .collect()
    }

    /// Build the immutable snapshot at `now`, with all derived facts and findings.
    pub fn snapshot(&mut self, now: DateTime<Utc>) -> Snapshot {
        self.recount();
        let unknown = self.unknown();
        // Host facts come from the agents; in the demo, from the simulator that plays them.
        let has = |id: SourceId| self.health.keys().any(|(s, _)| *s == id);
        let agent = if !has(SourceId::Agents) && has(SourceId::Simulator) {
            SourceId::Simulator
        } else {
            SourceId::Agents
        };
        let metric_sums: FastMap<Arc<str>, PodSummary>;
        let (pods, sums) = match &self.metric_pods {
            Some(m) if self.pods.is_empty() => {
                let kinds = kinds(&self.classes);
                metric_sums = summarize_all(m, &kinds);
                (m.clone(), &metric_sums)
            }
            _ => (self.pods.clone(), &self.summaries),
        };
        let settings = &self.settings;
        let mut class_pods: HashMap<&str, u32> = HashMap::new();
        for s in sums.values() {
            for (c, k) in &s.classes {
                *class_pods.entry(c).or_default() += k;
            }
        }

        // Nodes that did not change (and whose pod counts did not) are shared, not rebuilt.
        let nodes: Vec<Arc<Node>> = self
            .nodes
            .values_mut()
            .map(|e| {
                let (runtime, pods, finished, batch) = sums
                    .get(e.info.name.as_str())
                    .map_or_else(Default::default, |s| (s.runtime, s.pods, s.finished, s.batch));
                let pods_known = unknown.pods.is_none();
                let c = Counts {
                    runtime: unknown.runtime_mix().is_none().then_some(runtime),
                    pods: pods_known.then_some(pods),
                    finished: pods_known.then_some(finished),
                    batch: pods_known.then_some(batch),
                    agent,
                };
                if let Some(b) = &e.built
                    && (b.runtime, b.pods, b.finished_pods, b.batch.and_then(|t| t.requested))
                        == (c.runtime, c.pods, c.finished, c.batch.filter(|_| b.batch.is_some()))
                    && b.host_from.values().all(|s| *s == SourceId::Prometheus || *s == agent)
                {
                    return b.clone();
                }
                let node = Arc::new(e.build(&c));
                e.built = Some(node.clone());
                node
            })
            .collect();

        // Rebuilt only when the pods, classes or kubelet figures changed (or whether the pods are
        // known): a heartbeat's snapshot shares the last one.
        let key = (self.starts_gen, unknown.pods.clone());
        let sandbox_starts = match &self.starts {
            Some((k, s)) if *k == key => s.clone(),
            _ => {
                let kubelet =
                    self.kubelet.as_ref().map(|(window, starts)| analysis::start::Kubelet { window, starts });
                let s = Arc::new(analysis::start::starts(
                    sums.iter().map(|(n, s)| (&**n, &s.starts)),
                    &self.classes,
                    kubelet,
                    unknown.pods.as_deref(),
                ));
                self.starts = Some((key, s.clone()));
                s
            }
        };

        let runtime_classes = self
            .classes
            .iter()
            .map(|c| RuntimeClass {
                pods: unknown.pods.is_none().then(|| class_pods.get(c.name.as_str()).copied().unwrap_or(0)),
                ..c.clone()
            })
            .collect();

        let sources = self.shown_health(now);
        let foreign_nodes = self.foreign_nodes(&unknown);

        let fills = match &self.cpu {
            Some(c) => analysis::colocation::fills(c, &settings.windows, settings.tz, now),
            None => Vec::new(),
        };

        let mut snap = Snapshot {
            now,
            cluster: self.cluster.clone(),
            sources,
            nodes,
            pods,
            runtime_classes,
            sandbox_starts,
            cpu: self.cpu.clone(),
            node_cpu: self.node_cpu.clone(),
            tz: settings.tz,
            windows: settings.windows.clone(),
            fills,
            findings: Vec::new(),
            keepalive_idle_s: settings.keepalive_idle_s,
            unknown,
            foreign_nodes,
        };
        snap.findings = analysis::rules::findings(&snap, settings);
        snap
    }
}

#[cfg(test)]
mod tests;
