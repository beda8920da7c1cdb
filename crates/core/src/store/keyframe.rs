//! A keyframe: the store's whole state as the updates that rebuild it. Applied in order to a fresh
//! `ClusterState` with the same settings, they give the same snapshots as the state they came
//! from (the flight recorder stores them, then replays the updates that followed).

use super::ClusterState;
use crate::model::{SourceHealth, Update};

impl ClusterState {
    /// The updates that rebuild this state in a fresh `ClusterState`.
    pub fn keyframe(&self) -> Vec<Update> {
        let mut out = Vec::with_capacity(4 * self.nodes.len() + self.health.len() + 8);
        for s in self.health.values() {
            let (source, scope) = (s.source, s.scope.clone());
            // `updated` is the last time the source was ok: say so first, then what it is now.
            if let Some(at) = s.updated {
                out.push(Update::Health { source, scope: scope.clone(), health: SourceHealth::Ok, at });
            }
            match (&s.health, s.updated) {
                (SourceHealth::Ok, _) => {}
                (health, at) => out.push(Update::Health {
                    source,
                    scope: scope.clone(),
                    health: health.clone(),
                    at: at.unwrap_or_default(),
                }),
            }
            if let Some(note) = &s.note {
                out.push(Update::Note { source, scope, note: note.clone() });
            }
        }
        out.push(Update::RuntimeClasses(self.classes.clone()));
        for e in self.nodes.values() {
            let node = e.info.name.clone();
            out.push(Update::NodeApplied { node: e.info.clone(), at: e.seen });
            for (source, s) in &e.bgp {
                out.push(Update::Bgp {
                    node: node.clone(),
                    source: *source,
                    sessions: s.value.clone(),
                    at: s.at,
                });
            }
            if let Some(h) = &e.host {
                out.push(Update::Host { node: node.clone(), facts: h.value.clone(), at: h.at });
            }
            if !e.host_signals.is_empty() {
                out.push(Update::HostSignals { node: node.clone(), signals: e.host_signals.clone() });
            }
            if let Some(m) = &e.metrics {
                out.push(Update::NodeMetrics { node, metrics: m.value.clone(), at: m.at });
            }
        }
        // Facts about nodes the API has not shown: they wait again.
        let mut pending: Vec<_> = self.pending.iter().collect();
        pending.sort_by(|a, b| a.0.cmp(b.0));
        out.extend(pending.into_iter().flat_map(|(_, u)| u.iter().cloned()));
        out.push(Update::PodsReplaced(self.pods.iter().cloned().collect()));
        if let Some(c) = &self.cpu {
            out.push(Update::Cpu(c.clone()));
        }
        if let Some(c) = &self.node_cpu {
            let points = c.points.iter().map(|(t, v)| (t.timestamp(), *v)).collect();
            out.push(Update::NodeCpu { node: c.node.clone(), points });
        }
        if let Some((window, starts)) = &self.kubelet {
            out.push(Update::KubeletStarts { window: window.clone(), starts: starts.clone() });
        }
        if let Some(m) = &self.metric_pods {
            out.push(Update::MetricPods(m.iter().cloned().collect()));
        }
        out
    }
}
