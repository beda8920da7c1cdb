//! The simulator as a source: drives `crate::sim::Sim` on a clock and sends its updates; and
//! answers a node's detail (`sources::detail`) from what it sent ([`Tracked`]), with the same
//! requests, restarts, ages and Events `sim serve` serves (`crate::sim::detail`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc::Sender;
use tokio::time::MissedTickBehavior;

use crate::model::{Pod, Update};
use crate::sanitize::sanitize;
use crate::sim::Sim;
use crate::sim::detail::{self as facts, Seen, SimEvent};
use crate::sources::detail::{EventRow, NodeDetail, Part, PodRow};

/// The pods and nodes the simulator has sent, each with when it appeared: what the demo answers
/// a node's detail from.
#[derive(Debug, Default)]
pub struct Tracked {
    pods: HashMap<(Arc<str>, Arc<str>), (Pod, Seen)>,
    /// Node → (ready, since when).
    nodes: HashMap<String, (bool, DateTime<Utc>)>,
    loaded: bool,
}

impl Tracked {
    /// Take in one batch sent at `at`. Pods present in the first batch are not fresh.
    pub fn apply(&mut self, updates: &[Update], at: DateTime<Utc>) {
        let fresh = self.loaded;
        let seen = |old: Option<&(Pod, Seen)>| old.map(|o| o.1).unwrap_or(Seen { at, fresh });
        for u in updates {
            match u {
                Update::PodsReplaced(pods) => {
                    let mut next = HashMap::with_capacity(pods.len());
                    for p in pods {
                        let key = (p.namespace.clone(), p.name.clone());
                        let s = seen(self.pods.get(&key));
                        next.insert(key, (p.clone(), s));
                    }
                    self.pods = next;
                }
                Update::PodApplied(p) => {
                    let key = (p.namespace.clone(), p.name.clone());
                    let s = seen(self.pods.get(&key));
                    self.pods.insert(key, (p.clone(), s));
                }
                Update::PodDeleted { namespace, name } => {
                    self.pods.remove(&(namespace.as_str().into(), name.as_str().into()));
                }
                Update::NodeApplied { node, .. } => {
                    let since = match self.nodes.get(&node.name) {
                        Some((r, t)) if *r == node.ready => *t,
                        _ => at,
                    };
                    self.nodes.insert(node.name.clone(), (node.ready, since));
                }
                Update::NodeDeleted { name } => {
                    self.nodes.remove(name);
                }
                _ => {}
            }
        }
        self.loaded = true;
    }

    /// The detail of `node` at `now`.
    pub fn detail(&self, node: &str, now: DateTime<Utc>) -> NodeDetail {
        let pods = self.pods.values().filter(|(p, _)| p.node.as_deref() == Some(node)).map(|(p, s)| (p, *s));
        detail_of(node, self.nodes.get(node).copied(), pods, now)
    }
}

fn clean(s: &str) -> String {
    sanitize(s).into_owned()
}

fn event_row(e: &SimEvent) -> EventRow {
    let object =
        if e.object_ns.is_empty() { e.object.clone() } else { format!("{}/{}", e.object_ns, e.object) };
    EventRow {
        kind: e.kind.into(),
        object: clean(&object),
        warning: e.typ == "Warning",
        reason: e.reason.into(),
        message: clean(&e.message),
        count: e.count,
        last: Some(e.last),
        source: e.component.into(),
    }
}

/// A node's detail from its pods (each with when it appeared) and its readiness (since when).
pub fn detail_of<'a>(
    node: &str,
    ready: Option<(bool, DateTime<Utc>)>,
    pods: impl Iterator<Item = (&'a Pod, Seen)>,
    now: DateTime<Utc>,
) -> NodeDetail {
    let mut rows = Vec::new();
    let mut events: Vec<EventRow> = match ready {
        Some((r, since)) => facts::node_events(node, r, since).iter().map(event_row).collect(),
        None => Vec::new(),
    };
    for (p, seen) in pods {
        let f = facts::pod_facts(p, seen);
        rows.push(PodRow {
            namespace: clean(&p.namespace),
            name: clean(&p.name),
            runtime_class: p.runtime_class.as_deref().map(clean),
            offline: p.offline,
            phase: clean(&p.phase),
            restarts: f.restarts,
            created: Some(f.created),
            cpu_m: f.cpu_m,
            mem_bytes: f.mem_bytes,
        });
        events.extend(facts::pod_events(p, seen).iter().map(event_row));
    }
    NodeDetail {
        node: node.to_string(),
        at: now,
        pods: Part::Ok(rows),
        events: Part::Ok(events),
        requests: 0,
    }
}

/// Send `sim.initial()` at once, then `sim.step(now)` every `period`; return when the receiver
/// is gone. This is the only place the simulator meets the wall clock. With `tracked`, every
/// batch is noted there too (for the demo's node detail).
pub async fn run(
    mut sim: Sim,
    tx: Sender<Vec<Update>>,
    period: Duration,
    tracked: Option<Arc<Mutex<Tracked>>>,
) {
    let note = |batch: &[Update]| {
        if let Some(t) = &tracked {
            t.lock().unwrap_or_else(std::sync::PoisonError::into_inner).apply(batch, Utc::now());
        }
    };
    let first = sim.initial();
    note(&first);
    if tx.send(first).await.is_err() {
        return;
    }
    let mut tick = tokio::time::interval(period.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    // The first tick completes at once; the initial updates stand for it.
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = tx.closed() => return,
        }
        // `Sim::step` never goes back in time, even if the wall clock does.
        let batch = sim.step(Utc::now());
        note(&batch);
        if tx.send(batch).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimConfig;

    #[tokio::test]
    async fn sends_initial_then_steps_and_stops_when_receiver_is_gone() {
        let sim = Sim::new(SimConfig { nodes: 6, ..SimConfig::default() }, chrono::Utc::now());
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        let task = tokio::spawn(run(sim, tx, Duration::from_millis(10), None));
        let deadline = Duration::from_secs(10);
        let first = tokio::time::timeout(deadline, rx.recv()).await.ok().flatten().unwrap_or_default();
        assert!(first.iter().any(|u| matches!(u, Update::PodsReplaced(_))));
        let second = tokio::time::timeout(deadline, rx.recv()).await.ok().flatten().unwrap_or_default();
        assert!(second.iter().any(|u| matches!(u, Update::Health { .. })));
        assert!(!second.iter().any(|u| matches!(u, Update::PodsReplaced(_))));
        drop(rx);
        assert!(tokio::time::timeout(deadline, task).await.is_ok(), "task ends without a receiver");
    }
}
