//! Extra pod churn at a set rate ([`super::ServeConfig::churn`]), on top of the simulator's few
//! changes per step: a workload pod is deleted and a new one is created on the node of another
//! workload pod, with that pod's runtime class, so the per-node counts and runtime mix wander while
//! every pod stays on a node that can run it. Deterministic for a given seed and call sequence.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::model::Pod;
use crate::model::Update;

use super::state::{Key, State};

#[derive(Debug)]
pub(crate) struct Churn {
    /// Changes per second.
    rate: f64,
    /// Changes owed from earlier steps (fractions carry over).
    owed: f64,
    /// Workload pods that may be deleted; entries deleted by the simulator are skipped.
    pool: Vec<Key>,
    serial: u64,
    rng: ChaCha8Rng,
}

impl Churn {
    pub fn new(rate: f64, seed: u64) -> Churn {
        Churn {
            rate: rate.max(0.0),
            owed: 0.0,
            pool: Vec::new(),
            serial: 0,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x4348_5552),
        }
    }

    fn refill(&mut self, st: &State) {
        let mut keys: Vec<Key> = st
            .pod_meta
            .iter()
            .filter(|(_, m)| !m.agent && m.node.is_some())
            .map(|(k, _)| k.clone())
            .collect();
        keys.sort();
        self.pool = keys;
    }

    /// A live pool entry, removed from the pool when `take`.
    fn pick(&mut self, st: &State, take: bool) -> Option<Key> {
        for _ in 0..64 {
            if self.pool.is_empty() {
                self.refill(st);
                if self.pool.is_empty() {
                    return None;
                }
            }
            let i = self.rng.random_range(0..self.pool.len());
            if !st.pod_meta.contains_key(&self.pool[i]) {
                self.pool.swap_remove(i);
                continue;
            }
            return Some(if take { self.pool.swap_remove(i) } else { self.pool[i].clone() });
        }
        None
    }

    /// Apply the changes owed for `secs` seconds to `st`; returns how many were made.
    pub fn step(&mut self, st: &mut State, secs: f64) -> u64 {
        self.owed += self.rate * secs.max(0.0);
        let mut made = 0;
        while self.owed >= 2.0 {
            self.owed -= 2.0;
            let Some(victim) = self.pick(st, true) else { break };
            let Some(model) = self.pick(st, false) else { break };
            let Some(meta) = st.pod_meta.get(&model).cloned() else { break };
            st.apply(Update::PodDeleted { namespace: victim.0.clone(), name: victim.1 });
            let name = format!("churn-{}", super::super::pods::suffix(self.serial, 0x4348));
            self.serial += 1;
            let kind = crate::starts::kind_of(meta.runtime_class.as_deref());
            let start = crate::starts::start_s(&name, crate::starts::delay_ms(kind, false));
            let pod = Pod {
                namespace: model.0.into(),
                name: name.into(),
                node: meta.node,
                runtime_class: meta.runtime_class,
                priority_class: None,
                host_network: false,
                phase: "Running".into(),
                offline: false,
                sandbox: None,
                sandbox_start_s: Some(start),
                batch: None,
            };
            self.pool.push((pod.namespace.to_string(), pod.name.to_string()));
            st.apply(Update::PodApplied(pod));
            made += 2;
        }
        made
    }
}
