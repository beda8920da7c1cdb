//! Known-answer CPU data for a real Prometheus: every node's CPUs do a fixed share of online and
//! offline work in each minute, so the figures a capacity review must print are exact integrals
//! computed here from first principles (minute by minute), independently of clustertop.
//!
//! The data: node_exporter `node_cpu_seconds_total{mode="idle"|"user"}` per CPU, cAdvisor
//! `container_cpu_usage_seconds_total` of one online pod (`web/online-<n>`) and one offline pod
//! (`batch/batch-<n>`, priority class `koord-batch`) per node, and kube-state-metrics' node
//! capacity, info and labels and the pods' `kube_pod_info`, one sample a minute. Counters are
//! whole milliseconds, so every rate Prometheus computes is exact.
//!
//! Time: the minute `(t - 60, t]` has the usage of the segment holding its start `t - 60`. A node
//! that joins at `J` has its first sample at `J` and works from the minute `(J, J + 60]`. A node
//! that reboots at `R` has counters that restarted from zero at `R - 60`. A gap `(g0, g1)`
//! (Prometheus down) has no sample of any series strictly inside it; work goes on, unobserved.
//! Segment edges, joins and gap ends are on 5-minute marks, so a 5-minute point never mixes two
//! levels and the pre-window baseline (the highest 5-minute level) is the highest minute.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

/// A minute: the resolution of usage (and the sample interval unless `Scenario::step` says
/// otherwise).
pub const STEP: i64 = 60;

/// How node_exporter series name their node (see `data-sources.md` §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// A `node` label (a relabelled scrape), `instance="<node>:9100"`.
    NodeLabel,
    /// kube-prometheus (jsonnet): `instance="<node>"`, no `node` label.
    InstanceName,
    /// kube-prometheus-stack (Helm): `instance="<InternalIP>:9100"` and the exporter pod's
    /// `namespace`/`pod`, no `node` label.
    InstanceIp,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub ip: String,
    pub rack: String,
    pub cpus: u32,
    /// The first sample; `None`: there from the start.
    pub joins: Option<i64>,
    pub reboots: Vec<i64>,
    /// Cordoned from this time on (`kube_node_spec_unschedulable` 1; its cores stay).
    pub cordoned: Option<i64>,
    /// The Job that owns its offline pod (`kube_pod_info`'s `created_by_name`).
    pub workload: String,
}

/// `[from, to)`: every CPU `online` % busy with online work and `offline` % with offline work.
#[derive(Debug, Clone, Copy)]
pub struct Segment {
    pub from: i64,
    pub to: i64,
    pub online: u32,
    pub offline: u32,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    /// First and last sample (multiples of a minute).
    pub start: i64,
    pub end: i64,
    pub nodes: Vec<Node>,
    pub segments: Vec<Segment>,
    /// (online %, offline %) outside every segment.
    pub default: (u32, u32),
    pub gaps: Vec<(i64, i64)>,
    pub scheme: Scheme,
    /// Seconds between samples (a multiple of a minute; segment edges on its multiples).
    pub step: i64,
    /// Also write node-mixin's recording rules as Prometheus would evaluate them every `step`:
    /// `instance:node_cpu_utilisation:rate5m` (the busy share of the 5 minutes before) and
    /// `instance:node_num_cpu:sum`.
    pub rules: bool,
    /// Koordinator's `cpuReclaimThresholdPercent`: with it, each node's koordlet reports the
    /// batch tier's allocatable, `max(0, threshold - online %)` of its CPUs (the slo-controller's
    /// `usage` policy), as `koordlet_node_resource_allocatable` in milli-cores.
    pub reclaim: Option<u32>,
}

/// What a capacity review should say about `[a, b)`, computed minute by minute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Truth {
    pub avg_util: f64,
    pub offline_share: f64,
    pub idle_core_hours: f64,
    pub spill_core_hours: f64,
    /// Observed share of the span.
    pub coverage: f64,
    pub capacity_core_hours: f64,
    /// Reclaimed capacity over the observed minutes, and what offline work left of it (each
    /// minute `max(0, reclaimed - offline)`), core-hours; 0 without `reclaim`.
    pub reclaimed_core_hours: f64,
    pub reclaimed_unused_core_hours: f64,
}

impl Scenario {
    /// (online %, offline %) of the minute starting at `m`.
    pub fn usage(&self, m: i64) -> (u32, u32) {
        self.segments.iter().find(|s| s.from <= m && m < s.to).map_or(self.default, |s| (s.online, s.offline))
    }

    fn present(n: &Node, m: i64) -> bool {
        n.joins.is_none_or(|j| m >= j)
    }

    /// Whether the minute starting at `m` was observed (not inside a gap).
    pub fn observed(&self, m: i64) -> bool {
        !self.gaps.iter().any(|&(g0, g1)| m >= g0 && m + STEP <= g1)
    }

    /// Cores present during the minute starting at `m`.
    pub fn cores(&self, m: i64) -> f64 {
        self.nodes.iter().filter(|n| Self::present(n, m)).map(|n| f64::from(n.cpus)).sum()
    }

    /// (capacity, used, offline) cores in the minute starting at `m`.
    fn minute(&self, m: i64) -> (f64, f64, f64) {
        let cap = self.cores(m);
        let (on, off) = self.usage(m);
        (cap, cap * f64::from(on + off) / 100.0, cap * f64::from(off) / 100.0)
    }

    /// The review of the window occurrence `[a, b)`: utilisation, offline share, idle core-hours
    /// and coverage over its observed minutes; spill = offline core-hours in the observed minutes
    /// of `[b, b + 4 h)` above the highest offline level of `[a - 2 h, a)`.
    pub fn truth(&self, a: i64, b: i64) -> Truth {
        let minutes = |from: i64, to: i64| (from..to).step_by(STEP as usize).filter(|&m| self.observed(m));
        let (mut cap, mut used, mut off, mut seen) = (0.0, 0.0, 0.0, 0usize);
        for m in minutes(a, b) {
            let (c, u, o) = self.minute(m);
            cap += c;
            used += u;
            off += o;
            seen += 1;
        }
        let baseline = minutes(a - 7200, a).map(|m| self.minute(m).2).fold(0.0, f64::max);
        let spill: f64 = minutes(b, b + 4 * 3600).map(|m| (self.minute(m).2 - baseline).max(0.0)).sum();
        let h = STEP as f64 / 3600.0;
        let (mut rec, mut unused) = (0.0, 0.0);
        for m in minutes(a, b) {
            let r = self.nodes.iter().map(|n| self.node_minute(n, m).1).sum::<f64>();
            rec += r;
            unused += (r - self.minute(m).2).max(0.0);
        }
        Truth {
            avg_util: used / cap,
            offline_share: off / used,
            idle_core_hours: (cap - used) * h,
            spill_core_hours: spill * h,
            coverage: seen as f64 * STEP as f64 / (b - a) as f64,
            capacity_core_hours: cap * h,
            reclaimed_core_hours: rec * h,
            reclaimed_unused_core_hours: unused * h,
        }
    }

    /// Node `n` in the minute starting at `m`: (offline cores, reclaimed cores); zeros when it
    /// is not there.
    fn node_minute(&self, n: &Node, m: i64) -> (f64, f64) {
        if !Self::present(n, m) {
            return (0.0, 0.0);
        }
        let (on, off) = self.usage(m);
        let cpus = f64::from(n.cpus);
        let rec = self.reclaim.map_or(0.0, |p| cpus * f64::from(p.saturating_sub(on)) / 100.0);
        (cpus * f64::from(off) / 100.0, rec)
    }

    /// `[a, b)` widened to whole 5-minute steps (what the report's per-node and per-workload
    /// queries sum over).
    fn steps(a: i64, b: i64) -> impl Iterator<Item = i64> {
        (a.div_euclid(300) * 300..(b + 299).div_euclid(300) * 300).step_by(STEP as usize)
    }

    /// Offline core-hours of each workload in the whole 5-minute steps covering `[a, b)`.
    pub fn workload_hours(&self, a: i64, b: i64) -> std::collections::BTreeMap<String, f64> {
        let mut out = std::collections::BTreeMap::new();
        for m in Self::steps(a, b).filter(|&m| self.observed(m)) {
            for n in &self.nodes {
                *out.entry(n.workload.clone()).or_insert(0.0) +=
                    self.node_minute(n, m).0 * STEP as f64 / 3600.0;
            }
        }
        out
    }

    /// Each node's (reclaimed, unused reclaimed) core-hours in the whole 5-minute steps covering
    /// `[a, b)` (a span without gaps).
    pub fn node_reclaimed(&self, a: i64, b: i64) -> std::collections::BTreeMap<String, (f64, f64)> {
        let h = STEP as f64 / 3600.0;
        self.nodes
            .iter()
            .map(|n| {
                let (mut rec, mut unused) = (0.0, 0.0);
                for m in Self::steps(a, b) {
                    let (off, r) = self.node_minute(n, m);
                    rec += r * h;
                    unused += (r - off).max(0.0) * h;
                }
                (n.name.clone(), (rec, unused))
            })
            .collect()
    }

    /// The sum of `f(usage)` over the minutes of `[m, m + step)`.
    fn over(&self, m: i64, f: impl Fn((u32, u32)) -> u64) -> u64 {
        (m..m + self.step).step_by(STEP as usize).map(|x| f(self.usage(x))).sum()
    }

    fn times(&self, n: &Node) -> impl Iterator<Item = i64> + '_ {
        let first = n.joins.unwrap_or(self.start).max(self.start);
        (first..=self.end)
            .step_by(self.step as usize)
            .filter(|&t| !self.gaps.iter().any(|&(g0, g1)| t > g0 && t < g1))
    }

    /// A counter of node `n` sampled at its times: `start` at the first sample, then `inc(m)`
    /// milliseconds for each minute `m` it was there, from zero again after a reboot.
    fn counter(&self, n: &Node, start: u64, inc: impl Fn(i64) -> u64) -> Vec<(i64, u64)> {
        let first = n.joins.unwrap_or(self.start).max(self.start);
        let mut acc = start;
        let mut out = Vec::new();
        let mut t = first;
        while t <= self.end {
            if t > first {
                acc = if n.reboots.contains(&t) { inc(t - self.step) } else { acc + inc(t - self.step) };
            }
            if !self.gaps.iter().any(|&(g0, g1)| t > g0 && t < g1) {
                out.push((t, acc));
            }
            t += self.step;
        }
        out
    }

    fn exporter_labels(&self, n: &Node) -> String {
        match self.scheme {
            Scheme::NodeLabel => {
                format!(r#"instance="{}:9100",job="node-exporter",node="{}""#, n.name, n.name)
            }
            Scheme::InstanceName => format!(r#"instance="{}",job="node-exporter""#, n.name),
            Scheme::InstanceIp => format!(
                r#"instance="{}:9100",job="node-exporter",namespace="monitoring",pod="node-exporter-{}""#,
                n.ip,
                n.name.trim_start_matches("node-")
            ),
        }
    }

    /// The recording rules' series, evaluated at each sample time with 5 minutes of data.
    fn write_rules(&self, s: &mut String) {
        let _ = writeln!(s, "# TYPE instance:node_cpu_utilisation:rate5m gauge");
        for n in &self.nodes {
            let labels = self.exporter_labels(n);
            let first = n.joins.unwrap_or(self.start).max(self.start) + 300;
            for t in self.times(n).filter(|t| *t >= first) {
                let busy: u32 =
                    (t - 300..t).step_by(STEP as usize).map(|m| self.usage(m)).map(|(a, b)| a + b).sum();
                let _ = writeln!(
                    s,
                    "instance:node_cpu_utilisation:rate5m{{{labels}}} {} {t}",
                    f64::from(busy) / 500.0
                );
            }
        }
        let _ = writeln!(s, "# TYPE instance:node_num_cpu:sum gauge");
        for n in &self.nodes {
            let labels = self.exporter_labels(n);
            for t in self.times(n) {
                let _ = writeln!(s, "instance:node_num_cpu:sum{{{labels}}} {} {t}", n.cpus);
            }
        }
    }

    /// kube-state-metrics' series of family `name` about node `n`: (labels, value).
    fn ksm(&self, name: &str, n: &Node) -> Vec<(String, u32)> {
        match name {
            "kube_node_status_capacity" => {
                vec![(format!(r#"node="{}",resource="cpu",unit="core""#, n.name), n.cpus)]
            }
            "kube_node_info" => vec![(format!(r#"internal_ip="{}",node="{}""#, n.ip, n.name), 1)],
            "kube_node_labels" => {
                vec![(format!(r#"label_topology_kubernetes_io_zone="{}",node="{}""#, n.rack, n.name), 1)]
            }
            _ => {
                let mut v = vec![
                    (format!(r#"namespace="web",node="{0}",pod="online-{0}",priority_class="""#, n.name), 1),
                    (
                        format!(
                            r#"created_by_kind="Job",created_by_name="{1}",namespace="batch",node="{0}",pod="batch-{0}",priority_class="koord-batch""#,
                            n.name, n.workload
                        ),
                        1,
                    ),
                ];
                if self.scheme == Scheme::InstanceIp {
                    let pod = format!("node-exporter-{}", n.name.trim_start_matches("node-"));
                    v.push((
                        format!(
                            r#"host_ip="{}",namespace="monitoring",node="{}",pod="{pod}",priority_class="system-node-critical""#,
                            n.ip, n.name
                        ),
                        1,
                    ));
                }
                v
            }
        }
    }

    /// The OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`.
    pub fn write(&self, path: &Path) {
        let f = std::fs::File::create(path).expect("create OpenMetrics file");
        let mut w = std::io::BufWriter::new(f);
        let mut s = String::new();
        let ms = |v: u64| format!("{}.{:03}", v / 1000, v % 1000);
        let flush = |w: &mut std::io::BufWriter<std::fs::File>, s: &mut String| {
            w.write_all(s.as_bytes()).expect("write");
            s.clear();
        };
        s.push_str("# TYPE node_cpu_seconds counter\n");
        for n in &self.nodes {
            let labels = self.exporter_labels(n);
            for cpu in 0..n.cpus {
                for (mode, busy) in [("idle", false), ("user", true)] {
                    let per = |m: i64| {
                        self.over(m, |(on, off)| {
                            let b = u64::from(on + off) * 600;
                            if busy { b } else { 60_000 - b }
                        })
                    };
                    let start = if busy { 1_000_000 } else { 5_000_000 };
                    for (t, v) in self.counter(n, start, per) {
                        let _ = writeln!(
                            s,
                            r#"node_cpu_seconds_total{{cpu="{cpu}",{labels},mode="{mode}"}} {} {t}"#,
                            ms(v)
                        );
                    }
                    flush(&mut w, &mut s);
                }
            }
        }
        if self.rules {
            self.write_rules(&mut s);
            flush(&mut w, &mut s);
        }
        s.push_str("# TYPE container_cpu_usage_seconds counter\n");
        for n in &self.nodes {
            for (pod, ns, offline) in
                [(format!("online-{}", n.name), "web", false), (format!("batch-{}", n.name), "batch", true)]
            {
                let per = |m: i64| {
                    self.over(m, |(on, off)| {
                        u64::from(if offline { off } else { on }) * 600 * u64::from(n.cpus)
                    })
                };
                for (t, v) in self.counter(n, 2_000_000, per) {
                    let _ = writeln!(
                        s,
                        r#"container_cpu_usage_seconds_total{{container="main",image="registry.local/{ns}:1",instance="{}:10250",job="kubelet",metrics_path="/metrics/cadvisor",namespace="{ns}",node="{}",pod="{pod}"}} {} {t}"#,
                        n.ip,
                        n.name,
                        ms(v)
                    );
                }
                flush(&mut w, &mut s);
            }
        }
        let ksm = r#"instance="ksm:8080",job="kube-state-metrics""#;
        for name in ["kube_node_status_capacity", "kube_node_info", "kube_node_labels", "kube_pod_info"] {
            let _ = writeln!(s, "# TYPE {name} gauge");
            for n in &self.nodes {
                for (labels, v) in self.ksm(name, n) {
                    for t in self.times(n) {
                        let _ = writeln!(s, "{name}{{{ksm},{labels}}} {v} {t}");
                    }
                    flush(&mut w, &mut s);
                }
            }
        }
        if let Some(p) = self.reclaim {
            let _ = writeln!(s, "# TYPE koordlet_node_resource_allocatable gauge");
            for n in &self.nodes {
                // Each sample describes the minute that ends at it, as the CPU counters count it:
                // a node that joins at J reports from J + 1 min.
                for t in self.times(n).filter(|&t| n.joins.is_none_or(|j| t > j)) {
                    let (on, _) = self.usage(t - STEP);
                    let milli = u64::from(n.cpus) * u64::from(p.saturating_sub(on)) * 10;
                    let _ = writeln!(
                        s,
                        r#"koordlet_node_resource_allocatable{{instance="{}:9316",job="koordlet",node="{}",resource="kubernetes.io/batch-cpu",unit="integer"}} {milli} {t}"#,
                        n.ip, n.name
                    );
                }
                flush(&mut w, &mut s);
            }
        }
        let _ = writeln!(s, "# TYPE kube_node_spec_unschedulable gauge");
        for n in &self.nodes {
            for t in self.times(n) {
                let v = u8::from(n.cordoned.is_some_and(|c| t >= c));
                let _ = writeln!(s, r#"kube_node_spec_unschedulable{{{ksm},node="{}"}} {v} {t}"#, n.name);
            }
            flush(&mut w, &mut s);
        }
        s.push_str("# EOF\n");
        flush(&mut w, &mut s);
        w.flush().expect("flush");
    }
}

/// `n` nodes `node-01`.. of `cpus` CPUs in racks of five (`rack-1`, ...), IPs `10.<rack>.<i>`.
pub fn nodes(n: usize, cpus: u32) -> Vec<Node> {
    nodes_in_racks(n, cpus, 5)
}

/// `n` nodes of `cpus` CPUs, `per_rack` to a rack.
pub fn nodes_in_racks(n: usize, cpus: u32, per_rack: usize) -> Vec<Node> {
    let width = n.to_string().len().max(2);
    (1..=n)
        .map(|i| Node {
            name: format!("node-{i:0width$}"),
            ip: format!("10.{}.{}.{}", (i - 1) / per_rack + 1, i / 250, i % 250 + 1),
            rack: format!("rack-{}", (i - 1) / per_rack + 1),
            cpus,
            joins: None,
            reboots: Vec::new(),
            cordoned: None,
            workload: if i <= 3 { "etl-small" } else { "etl-large" }.to_string(),
        })
        .collect()
}

/// Unix seconds of a UTC `YYYY-MM-DDTHH:MM`.
pub fn ts(s: &str) -> i64 {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").expect("time").and_utc().timestamp()
}
