//! Host facts per node: KVM, conntrack (a bounded random walk), file handles, pids, load, CPU.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::model::{CiliumMaps, Cni, Conntrack, HostFacts, MapFill};

use super::incidents::Incidents;
use super::topology::{CORES, SimNode};

pub(crate) const CT_LIMIT: u64 = 262_144;
/// The kernel default for `nf_conntrack_tcp_timeout_established` (5 days).
pub(crate) const CT_TIMEOUT_DEFAULT: u64 = 432_000;
const FILE_MAX: u64 = 26_214_400;
const PID_MAX: u64 = 4_194_304;

/// The kernel table's fill on a Cilium-only node, as a share of what its pods' connections
/// would make it: only the host's own connections are tracked there.
pub(crate) const KERNEL_ONLY_HOST: f64 = 0.04;
/// A node mid-migration: the share of its pods' connections already on Cilium.
pub(crate) const MIGRATING_SHARE: f64 = 0.5;
/// Cilium's global CT maps (the ones the agent reports pressure for) as shares of the TCP map's fill.
pub(crate) const CILIUM_MAPS: [(&str, f64); 2] = [("ct4_global", 1.0), ("ct_any4_global", 0.55)];

/// Cilium's maps for a TCP CT map fill and CT insertion-failed drops per second.
pub(crate) fn cilium_maps(fill: f64, insert_failed_per_s: f64) -> CiliumMaps {
    CiliumMaps {
        maps: CILIUM_MAPS
            .iter()
            .map(|&(name, share)| MapFill { name: name.into(), pressure: (fill * share).clamp(0.0, 1.0) })
            .collect(),
        insert_failed_per_s: Some(insert_failed_per_s),
    }
}

#[derive(Debug, Clone)]
pub(crate) struct HostState {
    kvm: bool,
    /// Conntrack entries as a share of the limit, walking inside `[lo, hi]`.
    ct_fill: f64,
    ct_lo: f64,
    ct_hi: f64,
    ct_timeout: u64,
    brnf: Option<bool>,
    /// Which tables track the node's pod connections: the kernel's (flannel's bridge) and/or
    /// Cilium's BPF maps; a node running both agents is mid-migration and fills both.
    kernel: bool,
    cilium: bool,
    /// Base insert-failed and drop rates (per second); zero on healthy tables.
    insert_failed: f64,
    drops: f64,
    files: f64,
    pids: f64,
    /// This node's persistent offset from its rack's CPU utilisation.
    cpu_offset: f64,
}

/// A node's fixed host traits (see [`HostState::profile`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct HostProfile {
    /// Conntrack fill band, as shares of the limit.
    pub ct_band: (f64, f64),
    pub ct_timeout: u64,
    /// Base rates per second (zero on healthy tables).
    pub insert_failed_per_s: f64,
    pub drop_per_s: f64,
    /// Offset from the rack's CPU utilisation.
    pub cpu_offset: f64,
    /// Which tables the node's pod connections fill: the kernel's, Cilium's maps, or both.
    pub kernel: bool,
    pub cilium: bool,
}

impl HostState {
    pub(crate) fn new(node: &SimNode, i: usize, inc: &Incidents, rng: &mut ChaCha8Rng) -> HostState {
        let (ct_lo, ct_hi, insert_failed, drops) = if inc.ct_full == Some(i) {
            (0.905, 0.935, rng.random_range(8.0..25.0), rng.random_range(2.0..8.0))
        } else if inc.is_storm(i) {
            let lo = rng.random_range(0.75..0.93);
            (lo, lo + 0.06, rng.random_range(1.0..40.0), rng.random_range(0.5..12.0))
        } else {
            let lo = rng.random_range(0.10..0.30);
            (lo, lo + rng.random_range(0.04..0.15), 0.0, 0.0)
        };
        let ct_fill = rng.random_range(ct_lo..ct_hi);
        // br_netfilter is loaded wherever the flannel bridge (cni0) is.
        let brnf = node.role.runs(Cni::Flannel).then_some(inc.ct_brnf == Some(i));
        let ct_timeout = if inc.ct_timeout == Some(i) { 300 } else { CT_TIMEOUT_DEFAULT };
        let files = if inc.fd_high == Some(i) {
            FILE_MAX as f64 * rng.random_range(0.845..0.855)
        } else {
            rng.random_range(30_000.0..250_000.0)
        };
        HostState {
            kvm: node.kata && inc.kata_no_kvm != Some(i),
            ct_fill,
            ct_lo,
            ct_hi,
            ct_timeout,
            brnf,
            kernel: node.role.runs(Cni::Flannel),
            cilium: node.role.runs(Cni::Cilium),
            insert_failed,
            drops,
            files,
            pids: rng.random_range(1_500.0..6_000.0),
            cpu_offset: rng.random_range(-0.08..0.08),
        }
    }

    /// The node's fixed traits, for faces that compute values as a function of time
    /// (`sim openmetrics`).
    pub(crate) fn profile(&self) -> HostProfile {
        HostProfile {
            ct_band: (self.ct_lo, self.ct_hi),
            ct_timeout: self.ct_timeout,
            insert_failed_per_s: self.insert_failed,
            drop_per_s: self.drops,
            cpu_offset: self.cpu_offset,
            kernel: self.kernel,
            cilium: self.cilium,
        }
    }

    /// Let the walking values move for `dt` seconds.
    pub(crate) fn advance(&mut self, dt: f64, rng: &mut ChaCha8Rng) {
        let scale = dt.clamp(0.0, 60.0).sqrt();
        if scale == 0.0 {
            return;
        }
        let span = (self.ct_hi - self.ct_lo).max(1e-6);
        let mut f = self.ct_fill + rng.random_range(-1.0..1.0) * span * 0.05 * scale;
        // Reflect at the band edges.
        if f < self.ct_lo {
            f = 2.0 * self.ct_lo - f;
        }
        if f > self.ct_hi {
            f = 2.0 * self.ct_hi - f;
        }
        self.ct_fill = f.clamp(self.ct_lo, self.ct_hi);
        let fmax = FILE_MAX as f64;
        self.files =
            (self.files * (1.0 + rng.random_range(-0.002..0.002) * scale)).clamp(1_000.0, fmax * 0.99);
        self.pids = (self.pids + rng.random_range(-20.0..20.0) * scale).clamp(500.0, 30_000.0);
    }

    /// The facts an agent would report now, given the rack's CPU utilisation.
    pub(crate) fn facts(&self, rack_util: f64, rng: &mut ChaCha8Rng) -> HostFacts {
        let cpu = (rack_util + self.cpu_offset + rng.random_range(-0.02..0.02)).clamp(0.01, 0.99);
        let cores = f64::from(CORES);
        let load1 = cpu * cores * rng.random_range(0.9..1.1);
        let jitter = |rng: &mut ChaCha8Rng, base: f64| {
            if base == 0.0 { 0.0 } else { base * rng.random_range(0.5..1.5) }
        };
        let insert_failed_per_s = jitter(rng, self.insert_failed);
        let drop_per_s = jitter(rng, self.drops);
        let early_drop_per_s = if self.ct_fill > 0.95 { jitter(rng, self.drops * 0.5) } else { 0.0 };
        // On a Cilium-only node the pods' connections fill Cilium's maps; the kernel's table
        // holds the host's own few.
        let (nf_fill, nf_rates) =
            if self.kernel { (self.ct_fill, 1.0) } else { (self.ct_fill * KERNEL_ONLY_HOST, 0.0) };
        let cilium_ct = self.cilium.then(|| {
            let share = if self.kernel { MIGRATING_SHARE } else { 1.0 };
            cilium_maps(self.ct_fill * share, insert_failed_per_s * share)
        });
        HostFacts {
            kvm: Some(self.kvm),
            conntrack: Some(Conntrack {
                entries: (nf_fill * CT_LIMIT as f64).round() as u64,
                limit: CT_LIMIT,
                insert_failed_per_s: insert_failed_per_s * nf_rates,
                drop_per_s: drop_per_s * nf_rates,
                early_drop_per_s: early_drop_per_s * nf_rates,
                tcp_established_timeout_s: Some(self.ct_timeout),
                bridge_nf_call_iptables: self.brnf,
            }),
            cilium_ct,
            file_nr: Some((self.files.round() as u64, FILE_MAX)),
            pids: Some((self.pids.round() as u64, PID_MAX)),
            load: Some([load1, cpu * cores * 0.97, cpu * cores * 0.95]),
            cpu_cores: Some(CORES),
            cpu_now: Some(cpu),
        }
    }
}
