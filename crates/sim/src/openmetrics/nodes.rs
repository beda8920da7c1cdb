//! What the OpenMetrics face knows per node, taken from the simulator (topology, host profile,
//! BGP sessions, the rack CPU curve), and the per-time values derived from it. Everything is a
//! pure function of (seed, node, time).

use chrono::{DateTime, Utc};

use crate::model::{BgpSession, BgpState};

use super::super::Sim;
use super::super::bgp::FLAP_SESSION;
use super::super::host::{CT_LIMIT, HostProfile, KERNEL_ONLY_HOST, MIGRATING_SHARE};
use super::super::noise::{hash3, smooth, unit};

const SALT_BOOT: u64 = 0x424f_4f54;
const SALT_CT: u64 = 0x4354_5f57;
const SALT_STAT: u64 = 0x5354_4154;
const SALT_FLAP: u64 = 0x464c_4150;
const SALT_UID: u64 = 0x5549_4421;

/// The sample times, and each rack's (online, offline) shares at each of them.
pub(crate) struct Grid {
    pub times: Vec<i64>,
    pub step: i64,
    /// `shares[k][rack_idx]` at `times[k]`.
    pub shares: Vec<Vec<(f64, f64)>>,
}

impl Grid {
    /// Milliseconds of one CPU in one interval.
    pub(crate) fn q(&self) -> u64 {
        self.step.max(1) as u64 * 1000
    }
}

/// A node's online and offline shares, quantised to whole milliseconds of one CPU per interval:
/// the rack's shares from the CPU model plus the node's persistent offset (on online work),
/// with `0 <= on + off <= 1`.
pub(crate) fn node_ms(rack: (f64, f64), cpu_offset: f64, q: u64) -> (u64, u64) {
    let on = (rack.0 + cpu_offset).clamp(0.01, 0.95);
    let off = rack.1.clamp(0.0, 1.0 - on);
    let qf = q as f64;
    let on_ms = ((on * qf).round() as u64).min(q);
    let off_ms = ((off * qf).round() as u64).min(q - on_ms);
    (on_ms, off_ms)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PodKind {
    Online,
    Batch,
    BestEffort,
}

pub(crate) struct PodDef {
    pub kind: PodKind,
    pub namespace: &'static str,
    pub name: String,
    pub uid: String,
    pub pod_ip: String,
    pub priority_class: &'static str,
    pub qos: Option<&'static str>,
    pub runtime_class: Option<&'static str>,
    pub created_by: (&'static str, String),
    pub image: &'static str,
    /// The cgroup path of the pod (`container=""`) and of its one container.
    pub cgroup: String,
    pub ctr_cgroup: String,
}

pub(crate) struct NodePlan {
    pub idx: usize,
    pub name: String,
    pub rack: usize,
    pub host_ip: String,
    pub host: HostProfile,
    pub pods: [PodDef; 3],
    /// BGP sessions as the simulator has them at `end` (empty without BGP).
    pub sessions: Vec<BgpSession>,
    pub flapping: bool,
}

fn uuid(seed: u64, node: usize, which: u64) -> String {
    let a = hash3(seed ^ SALT_UID, node as u64, which);
    let b = hash3(seed ^ SALT_UID, node as u64, which + 100);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

/// The /24 of pod IPs of node `idx`, as `sim serve` assigns pod CIDRs.
fn pod_ip(idx: usize, host: usize) -> String {
    if idx < 256 {
        format!("10.244.{idx}.{host}")
    } else {
        format!("100.{}.{}.{host}", (64 + idx / 256) % 256, idx % 256)
    }
}

fn pods(seed: u64, idx: usize, name: &str, kata: bool, gvisor: bool) -> [PodDef; 3] {
    let pod = |kind: PodKind, which: u64| {
        let (ns, pname, prio, qos, class, owner, image) = match kind {
            PodKind::Online => {
                ("web", format!("online-{name}"), "", Some("LS"), "burstable", "ReplicaSet", "web")
            }
            PodKind::Batch => {
                ("batch", format!("batch-{name}"), "koord-batch", None, "besteffort", "Job", "batch")
            }
            PodKind::BestEffort => ("batch", format!("be-{name}"), "", Some("BE"), "besteffort", "Job", "be"),
        };
        let runtime_class = match kind {
            PodKind::Batch if kata => Some("kata-qemu"),
            PodKind::Batch if gvisor => Some("gvisor"),
            _ => None,
        };
        let uid = uuid(seed, idx, which);
        let cgroup = format!("/kubepods/{class}/pod{uid}");
        let ctr = hash3(seed ^ SALT_UID, idx as u64, which + 200) & 0xffff_ffff_ffff;
        let owner_name = if kind == PodKind::Online { "online-7c9d5b8f4".to_string() } else { pname.clone() };
        PodDef {
            kind,
            namespace: ns,
            uid,
            pod_ip: pod_ip(idx, 2 + which as usize),
            priority_class: prio,
            qos,
            runtime_class,
            created_by: (owner, owner_name),
            image: match image {
                "web" => "registry.local/web:1",
                "batch" => "registry.local/batch:1",
                _ => "registry.local/be:1",
            },
            ctr_cgroup: format!("{cgroup}/{ctr:012x}"),
            cgroup,
            name: pname,
        }
    };
    [pod(PodKind::Online, 0), pod(PodKind::Batch, 1), pod(PodKind::BestEffort, 2)]
}

/// Every node of the simulator, in its order (sorted by name).
pub(crate) fn plan(sim: &Sim) -> Vec<NodePlan> {
    let seed = sim.cfg.seed;
    let mut rack_pos = [0usize; 64];
    sim.nodes
        .iter()
        .zip(&sim.hosts)
        .enumerate()
        .map(|(idx, (n, h))| {
            let pos = rack_pos.get_mut(n.rack % 64).map(|p| {
                *p += 1;
                *p
            });
            let pos = pos.unwrap_or(1);
            NodePlan {
                idx,
                name: n.name.clone(),
                rack: n.rack,
                // As `sim serve` assigns InternalIPs.
                host_ip: format!("10.{}.{}.{}", n.rack, 2 + pos / 250, pos % 250 + 1),
                host: h.profile(),
                pods: pods(seed, idx, &n.name, n.kata, n.gvisor),
                sessions: if n.role.has_bgp() {
                    sim.bgp.get(idx).cloned().unwrap_or_default()
                } else {
                    vec![]
                },
                flapping: sim.inc.bgp_flapping == Some(idx),
            }
        })
        .collect()
}

impl NodePlan {
    /// A starting value: `days` of work at a hashed share between `lo` and `lo + span`.
    pub(crate) fn boot_ms(&self, seed: u64, which: u64, days: f64, lo: f64, span: f64) -> u64 {
        let share = lo + span * unit(hash3(seed ^ SALT_BOOT, self.idx as u64, which));
        (days * 86_400_000.0 * share).round() as u64
    }

    /// Uptime at the first sample, milliseconds: 8 to 12 days.
    pub(crate) fn uptime_ms(&self, seed: u64) -> u64 {
        self.boot_ms(seed, u64::MAX, 1.0, 8.0, 4.0) / 1000 * 1000
    }

    /// Conntrack fill (share of the limit) at `t`: a smooth walk inside the node's band.
    pub(crate) fn ct_fill(&self, seed: u64, t: i64) -> f64 {
        let (lo, hi) = self.host.ct_band;
        lo + (hi - lo) * (0.5 + 0.5 * smooth(seed ^ SALT_CT, self.idx as u64, t, 1800))
    }

    /// The kernel table's entries: a Cilium-only node's hold only the host's own connections.
    pub(crate) fn ct_entries(&self, seed: u64, t: i64) -> u64 {
        let share = if self.host.kernel { 1.0 } else { KERNEL_ONLY_HOST };
        (self.ct_fill(seed, t) * share * CT_LIMIT as f64).round() as u64
    }

    /// The share of the node's connections in Cilium's maps (0 where Cilium does not run).
    pub(crate) fn cilium_share(&self) -> f64 {
        match (self.host.cilium, self.host.kernel) {
            (false, _) => 0.0,
            (true, true) => MIGRATING_SHARE,
            (true, false) => 1.0,
        }
    }

    /// Events in the interval ending at `t` at `rate` per second, jittered 0.5x-1.5x.
    pub(crate) fn events(&self, seed: u64, which: u64, rate: f64, t: i64, step: i64) -> u64 {
        if rate <= 0.0 {
            return 0;
        }
        let j = 0.5 + unit(hash3(seed ^ SALT_STAT, self.idx as u64 * 8 + which, t as u64));
        (rate * j * step as f64).round() as u64
    }

    /// Whether BGP session `i` is established at `t` (`end` is the last sample). A session down
    /// at `end` was up until its `since`; the flapping one toggles during the last 55 minutes.
    pub(crate) fn session_up(&self, seed: u64, i: usize, t: i64, end: i64) -> bool {
        let Some(s) = self.sessions.get(i) else { return false };
        if self.flapping && i == FLAP_SESSION && t > end - 3300 && t < end {
            return unit(hash3(seed ^ SALT_FLAP, self.idx as u64, t as u64)) < 0.6;
        }
        s.state == BgpState::Established || s.since.is_some_and(|since| t < since.timestamp())
    }
}

/// Sample times: `end` truncated to a multiple of `step`, back `hours` (as many whole steps fit).
pub(crate) fn times(end: DateTime<Utc>, hours: u32, step: i64) -> Vec<i64> {
    let step = step.max(1);
    let end = end.timestamp().div_euclid(step) * step;
    let n = i64::from(hours) * 3600 / step;
    (0..=n).map(|k| end - (n - k) * step).collect()
}
