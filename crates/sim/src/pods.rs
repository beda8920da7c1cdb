//! Slim pods with realistic names: CNI agents and node daemons, online services (runc), gVisor
//! sandboxes, offline batch work and Kata transcoding jobs; plus the few pods that churn per step.

use chrono::{DateTime, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::model::Pod;
use crate::model::Update;

use super::incidents::Incidents;
use super::starts;
use super::topology::SimNode;

/// The alphabet Kubernetes uses for generated name suffixes and pod-template hashes.
const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
const SPACE: u64 = 27 * 27 * 27 * 27 * 27;
const SALT_PODS: u64 = 0x504f_4453;

/// Five characters that look random but never repeat for distinct `serial`s (below 27^5) with
/// the same `salt`: a multiplication by a unit modulo 27^5 is a bijection.
pub(crate) fn suffix(serial: u64, salt: u64) -> String {
    let mut v = ((serial % SPACE) * (2_654_435_761 % SPACE) + salt.wrapping_mul(7_919) % SPACE) % SPACE;
    let mut out = String::with_capacity(5);
    for _ in 0..5 {
        out.push(char::from(ALPHABET[(v % 27) as usize]));
        v /= 27;
    }
    out
}

fn template_hash(rng: &mut ChaCha8Rng) -> String {
    let len = rng.random_range(8..=10);
    (0..len).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect()
}

/// Online services: (namespace, deployment, priority class).
const ONLINE: &[(&str, &str, Option<&str>)] = &[
    ("shop", "checkout-api", Some("koord-prod")),
    ("shop", "cart", Some("koord-prod")),
    ("shop", "catalog", None),
    ("search", "search-frontend", Some("koord-prod")),
    ("search", "indexer", None),
    ("payments", "ledger", Some("koord-prod")),
    ("payments", "auth-gateway", Some("koord-prod")),
    ("ads", "bidder", None),
    ("ads", "feed-ranker", None),
    ("media", "image-resize", None),
    ("platform", "ingress-nginx-controller", Some("koord-prod")),
    ("notify", "push-sender", None),
];

/// What the batch pods request of Koordinator's batch tier (`kubernetes.io/batch-cpu` milli-cores,
/// `kubernetes.io/batch-memory` bytes): a Kata transcoding job and a Spark executor.
pub(crate) const TRANSCODE_BATCH: crate::model::BatchRes =
    crate::model::BatchRes { cpu_m: 4000, mem_bytes: 8 << 30 };
pub(crate) const SPARK_BATCH: crate::model::BatchRes =
    crate::model::BatchRes { cpu_m: 2000, mem_bytes: 4 << 30 };

/// A plain runc pod, Running on `node`.
pub(crate) fn pod(ns: &str, name: String, node: &str) -> Pod {
    Pod {
        namespace: ns.into(),
        name: name.into(),
        node: Some(node.into()),
        runtime_class: None,
        priority_class: None,
        host_network: false,
        phase: "Running".into(),
        offline: false,
        sandbox: None,
        batch: None,
        sandbox_start_s: None,
    }
}

/// The pods that come and go as time advances.
#[derive(Debug, Clone, Default)]
pub(crate) struct Churn {
    /// Deletable pods: (namespace, name).
    pool: Vec<(String, String)>,
    base: usize,
    serial: u64,
    hashes: Vec<String>,
}

impl Churn {
    fn online(&mut self, which: usize, node: &str) -> Pod {
        let i = which % ONLINE.len();
        let (ns, deploy, prio) = ONLINE[i];
        let hash = self.hashes.get(i).map(String::as_str).unwrap_or("5d4f8b7c9");
        let mut p = pod(ns, format!("{deploy}-{hash}-{}", suffix(self.serial, SALT_PODS)), node);
        p.priority_class = prio.map(Into::into);
        p.sandbox_start_s = Some(starts::start_s(&p.name, starts::RUNC_MS));
        self.serial += 1;
        p
    }

    /// Delete and create a few pods; the count wanders but stays near where it started.
    pub(crate) fn step(&mut self, nodes: &[SimNode], rng: &mut ChaCha8Rng, out: &mut Vec<Update>) {
        if nodes.is_empty() {
            return;
        }
        let mut deletes = rng.random_range(0..=3usize);
        let mut creates = rng.random_range(0..=3usize);
        if self.pool.len() + 50 < self.base {
            deletes = 0;
        }
        if self.pool.len() > self.base + 50 {
            creates = 0;
        }
        for _ in 0..deletes.min(self.pool.len()) {
            let (namespace, name) = self.pool.swap_remove(rng.random_range(0..self.pool.len()));
            out.push(Update::PodDeleted { namespace, name });
        }
        for _ in 0..creates {
            let node = &nodes[rng.random_range(0..nodes.len())];
            let p = self.online(rng.random_range(0..ONLINE.len()), &node.name);
            self.pool.push((p.namespace.to_string(), p.name.to_string()));
            out.push(Update::PodApplied(p));
        }
    }
}

/// All pods at `start` (about 30 per node), and the churn state that continues from them.
pub(crate) fn generate(
    nodes: &[SimNode],
    inc: &Incidents,
    seed: u64,
    start: DateTime<Utc>,
) -> (Vec<Pod>, Churn) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ SALT_PODS);
    let mut churn =
        Churn { hashes: ONLINE.iter().map(|_| template_hash(&mut rng)).collect(), ..Churn::default() };
    let batch_hash = template_hash(&mut rng);
    let fn_hash = template_hash(&mut rng);
    // CronJob-style job ids: minutes since the epoch of tonight's schedules.
    let job_base = (start.timestamp() / 60).max(0) as u64;
    let mut pods = Vec::with_capacity(nodes.len() * 31);
    for (i, node) in nodes.iter().enumerate() {
        let n = i as u64;
        let daemon = |p: &mut Pod| {
            p.priority_class = Some("system-node-critical".into());
            p.host_network = true;
        };
        for (_, ns, name) in &node.agents {
            let mut p = pod(ns, name.clone(), &node.name);
            daemon(&mut p);
            pods.push(p);
        }
        for (ns, prefix, salt) in [("kube-system", "kube-proxy", 13), ("monitoring", "node-exporter", 14)] {
            let mut p = pod(ns, format!("{prefix}-{}", suffix(n, salt)), &node.name);
            daemon(&mut p);
            pods.push(p);
        }
        let mut left = rng.random_range(18..=42usize).saturating_sub(node.agents.len() + 2);
        if node.kata {
            let k = rng.random_range(2..=5usize).min(left);
            for j in 0..k {
                let job = job_base - (job_base % 1440) + 60 + (n % 7) * 10;
                let name = format!("transcode-nightly-{job}-{}", suffix(churn.serial, SALT_PODS));
                churn.serial += 1;
                let mut p = pod("media-batch", name, &node.name);
                p.runtime_class = Some("kata".into());
                p.priority_class = Some("koord-batch".into());
                p.offline = true;
                p.batch = Some(Box::new(TRANSCODE_BATCH));
                p.host_network = j == 0 && inc.kata_hostnet == Some(i);
                pods.push(p);
            }
            left -= k;
        }
        if node.gvisor {
            let k = rng.random_range(3..=8usize).min(left);
            for _ in 0..k {
                let name = format!("user-fn-{fn_hash}-{}", suffix(churn.serial, SALT_PODS));
                churn.serial += 1;
                let mut p = pod("sandbox", name, &node.name);
                p.runtime_class = Some("gvisor".into());
                pods.push(p);
            }
            left -= k;
        }
        for _ in 0..left {
            if rng.random_bool(0.08) {
                let name = format!("spark-exec-{batch_hash}-{}", suffix(churn.serial, SALT_PODS));
                churn.serial += 1;
                let mut p = pod("batch", name, &node.name);
                p.priority_class = Some("koord-batch".into());
                p.offline = true;
                p.batch = Some(Box::new(SPARK_BATCH));
                pods.push(p);
                continue;
            }
            let churnable = churn.serial.is_multiple_of(16);
            let p = churn.online(rng.random_range(0..ONLINE.len()), &node.name);
            if churnable {
                churn.pool.push((p.namespace.to_string(), p.name.to_string()));
            }
            pods.push(p);
        }
    }
    churn.base = churn.pool.len();
    set_starts(&mut pods);
    (pods, churn)
}

/// Each pod's sandbox start; Kata is slow on the first node with at least 5 Kata pods (enough
/// for the `sandbox-start-slow` finding to speak).
fn set_starts(pods: &mut [Pod]) {
    let mut kata: Vec<(&str, usize)> = Vec::new();
    for p in pods.iter().filter(|p| p.runtime_class.as_deref() == Some("kata")) {
        let node = p.node.as_deref().unwrap_or_default();
        match kata.iter_mut().find(|(n, _)| *n == node) {
            Some((_, k)) => *k += 1,
            None => kata.push((node, 1)),
        }
    }
    let slow: Option<std::sync::Arc<str>> =
        kata.iter().find(|(_, k)| *k >= 5).map(|(n, _)| std::sync::Arc::from(*n));
    for p in pods.iter_mut() {
        let kind = starts::kind_of(p.runtime_class.as_deref());
        let on_slow = slow.is_some() && p.node == slow;
        p.sandbox_start_s = Some(starts::start_s(&p.name, starts::delay_ms(kind, on_slow)));
    }
}

/// A CNI agent's pod on `node`: host network, system-node-critical, in its CNI's namespace.
pub(crate) fn agent_pod(cni: crate::model::Cni, name: &str, node: &str) -> Pod {
    let ns = if cni == crate::model::Cni::Flannel { "kube-flannel" } else { "kube-system" };
    Pod {
        namespace: ns.into(),
        name: name.into(),
        node: Some(node.into()),
        runtime_class: None,
        priority_class: Some("system-node-critical".into()),
        host_network: true,
        phase: "Running".into(),
        offline: false,
        sandbox: None,
        batch: None,
        sandbox_start_s: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_are_unique_and_safe() {
        let mut seen = std::collections::HashSet::new();
        for s in 0..200_000u64 {
            let x = suffix(s, 5);
            assert_eq!(x.len(), 5);
            assert!(x.bytes().all(|b| ALPHABET.contains(&b)));
            assert!(seen.insert(x));
        }
    }
}
