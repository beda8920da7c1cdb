//! The simulator's third face: OpenMetrics text for `promtool tsdb create-blocks-from openmetrics
//! --max-block-duration=24h`, so a real Prometheus holds the simulated cluster's history.
//!
//! Written from the same simulator as the other faces ([`Sim`]: topology, host profiles, BGP
//! sessions, the rack CPU curve); every value is a pure function of (seed, node, time).
//!
//! Time: samples at `end - n*step, ..., end` with `end` truncated to a multiple of `step` and
//! `n = hours*3600/step`; timestamps in whole seconds. Each series is written in time order and
//! each family's series together; the text ends with `# EOF`.
//!
//! Families, per node `<n>` with `C` CPUs:
//! - node_exporter (`job="node-exporter"`, `instance="<n>:9100"`, `node`):
//!   `node_cpu_seconds_total{cpu,mode="idle"|"user"}`: per CPU, in the interval `(t-step, t]`
//!   `user` grows by `(u_on+u_off)*step` and `idle` by the rest, where the shares are those of
//!   the interval's middle `t - step/2` (the CPU model there, plus the node's offset, quantised to
//!   whole milliseconds), as the in-process curve's points are; conntrack entries/limit, the insert_failed/drop/early_drop counters (typed
//!   gauge, as node_exporter does) and the established timeout sysctl.
//! - kube-state-metrics (`job="kube-state-metrics"`, `instance="ksm:8080"`): node capacity
//!   (`cpu`, `core`) = C, node labels (`label_topology_kubernetes_io_zone="rack-R"`), and three
//!   pods per node: `web/online-<n>` (qos LS), `batch/batch-<n>` (`koord-batch`),
//!   `batch/be-<n>` (qos BE): `kube_pod_info`, `kube_pod_labels`, and
//!   `kube_pod_runtimeclass_name_info` for batch pods on Kata (`kata-qemu`) and gVisor nodes.
//! - cAdvisor (`job="kubelet"`, `metrics_path="/metrics/cadvisor"`, `instance="<n>:10250"`):
//!   `container_cpu_usage_seconds_total`: online `u_on*C` cores, batch 70 % and BE 30 % of
//!   `u_off*C`, each as container `main` and as the pod cgroup (`container=""`, same total).
//! - Cilium agent (`job="cilium-agent"`, `instance="<n>:9962"`): BGP nodes'
//!   `cilium_bgp_control_plane_session_state` per session, in three label generations by rack;
//!   on every Cilium node `cilium_bpf_map_pressure{map_name="ct4_global"|"ct_any4_global"}` (the
//!   node's conntrack walk, halved mid-migration) and
//!   `cilium_drop_count_total{reason="CT: Map insertion failed",direction="EGRESS"}`. A Cilium-only
//!   node's `node_nf_conntrack_entries` holds its host's own connections (4 % of the walk) and its
//!   nf_conntrack stat counters stay flat.
//!
//! - Koordinator's koordlet (`job="koordlet"`, `instance="<n>:9316"`):
//!   `koordlet_node_resource_allocatable{resource="kubernetes.io/batch-cpu",unit="integer"}`, the
//!   node's reclaimed capacity in milli-cores: 85 % of its CPUs less its online work.
//!
//! Series whose value never changes (conntrack limit, sysctl, node capacity, node labels, pod
//! info, pod labels, runtime class) carry a sample every [`CONST_EVERY_S`] seconds (rounded
//! down to whole steps) and at the last step, not at every step: PromQL's 5-minute lookback
//! still finds one at any time in the range, and the file is about a quarter smaller.

mod families;
mod nodes;
mod text;

#[cfg(test)]
mod tests;

use std::io::{self, Write};

use chrono::{DateTime, Utc};

use super::{Sim, SimConfig};

#[derive(Debug, Clone, PartialEq)]
pub struct OmConfig {
    pub sim: SimConfig,
    /// The last sample, truncated to a multiple of `step_s`.
    pub end: DateTime<Utc>,
    pub hours: u32,
    pub step_s: u32,
    /// CPUs per node (node_exporter writes one series per CPU and mode).
    pub cpus: u32,
}

impl OmConfig {
    /// 24 h at 60 s with 8 CPUs per node.
    pub fn new(sim: SimConfig, end: DateTime<Utc>) -> OmConfig {
        OmConfig { sim, end, hours: 24, step_s: 60, cpus: 8 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OmStats {
    pub series: u64,
    pub samples: u64,
    pub bytes: u64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl std::fmt::Display for OmStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} series, {} samples, {:.1} MB, {} .. {}",
            self.series,
            self.samples,
            self.bytes as f64 / 1e6,
            self.start.to_rfc3339(),
            self.end.to_rfc3339()
        )
    }
}

/// Largest gap between the samples of a constant series (below the 5-minute lookback); 0
/// writes them at every step.
pub const CONST_EVERY_S: i64 = 240;

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

fn at(ts: i64) -> io::Result<DateTime<Utc>> {
    DateTime::from_timestamp(ts, 0).ok_or_else(|| invalid(format!("timestamp {ts} out of range")))
}

/// Write the whole text to `out` (buffered internally in 64 KiB chunks).
pub fn write(cfg: &OmConfig, out: &mut impl Write) -> io::Result<OmStats> {
    if cfg.step_s == 0 || cfg.hours == 0 || cfg.cpus == 0 {
        return Err(invalid(format!(
            "hours ({}), step ({}) and cpus ({}) must be positive",
            cfg.hours, cfg.step_s, cfg.cpus
        )));
    }
    let step = i64::from(cfg.step_s);
    let times = nodes::times(cfg.end, cfg.hours, step);
    let (first, last) = (at(times[0])?, at(times[times.len() - 1])?);
    let sim = Sim::new(cfg.sim.clone(), last);
    // The interval ending at t takes the shares of its middle.
    let shares =
        times.iter().map(|&t| at(t - step / 2).map(|t| sim.cpu.rack_shares(t))).collect::<io::Result<_>>()?;
    let grid = nodes::Grid { times, step, shares };
    let plan = nodes::plan(&sim);
    let ctx = families::Families {
        seed: cfg.sim.seed,
        cpus: cfg.cpus,
        grid: &grid,
        nodes: &plan,
        every: (CONST_EVERY_S / step).max(1) as usize,
    };
    let mut w = text::OmWriter::new(out, &grid.times);
    families::node_exporter(&ctx, &mut w)?;
    families::kube_state_metrics(&ctx, &mut w)?;
    families::cadvisor(&ctx, &mut w)?;
    families::cilium(&ctx, &mut w)?;
    families::koordlet(&ctx, &mut w)?;
    w.finish()?;
    Ok(OmStats { series: w.series, samples: w.samples, bytes: w.bytes, start: first, end: last })
}
