//! The metric families, one writer per exporter: node_exporter, kube-state-metrics, cAdvisor and
//! the Cilium agent. Each family's series are written one after another, each in time order.

use std::io::{self, Write};

use super::nodes::{Grid, NodePlan, PodKind, node_ms};
use super::text::{OmWriter, Val};

/// What every family writer needs.
pub(crate) struct Families<'a> {
    pub seed: u64,
    pub cpus: u32,
    pub grid: &'a Grid,
    pub nodes: &'a [NodePlan],
    /// Series whose value never changes get a sample every `every` steps (and the last).
    pub every: usize,
}

impl Families<'_> {
    /// Per sample index: the node's (online, offline) milliseconds of one CPU in the interval
    /// ending there (index 0, the first sample, has no interval: (0, 0)).
    pub(crate) fn node_ms(&self, n: &NodePlan) -> Vec<(u64, u64)> {
        let q = self.grid.q();
        let r = n.rack.saturating_sub(1);
        self.grid
            .shares
            .iter()
            .enumerate()
            .map(|(k, racks)| {
                if k == 0 {
                    (0, 0)
                } else {
                    node_ms(racks.get(r).copied().unwrap_or((0.3, 0.0)), n.host.cpu_offset, q)
                }
            })
            .collect()
    }
}

/// A counter from a start value and per-interval increments.
fn counter(start: u64, inc: impl Fn(usize) -> u64) -> impl FnMut(usize) -> u64 {
    let mut acc = start;
    move |k| {
        if k > 0 {
            acc += inc(k);
        }
        acc
    }
}

pub(crate) fn node_exporter<W: Write>(c: &Families, w: &mut OmWriter<W>) -> io::Result<()> {
    let job = ("job", "node-exporter");
    let q = c.grid.q();
    w.family("node_cpu_seconds", "counter", "Seconds the CPUs spent in each mode.")?;
    for n in c.nodes {
        let inst = format!("{}:9100", n.name);
        let ms = c.node_ms(n);
        let uptime = n.uptime_ms(c.seed);
        for cpu in 0..c.cpus {
            let cpu_s = cpu.to_string();
            let user0 = n.boot_ms(c.seed, u64::from(cpu), uptime as f64 / 86_400_000.0, 0.25, 0.2);
            for mode in ["idle", "user"] {
                let labels =
                    [("cpu", cpu_s.as_str()), ("instance", &inst), job, ("mode", mode), ("node", &n.name)];
                let user = mode == "user";
                let start = if user { user0 } else { uptime.saturating_sub(user0) };
                let mut v = counter(start, |k| {
                    let busy = ms[k].0 + ms[k].1;
                    if user { busy } else { q - busy }
                });
                w.series("node_cpu_seconds_total", &labels, |k| Val::Ms(v(k)))?;
            }
        }
    }

    let gauges: [(&str, &str); 2] = [
        ("node_nf_conntrack_entries", "Number of currently allocated flow entries for connection tracking."),
        ("node_nf_conntrack_entries_limit", "Maximum size of connection tracking table."),
    ];
    for (i, (name, help)) in gauges.into_iter().enumerate() {
        w.family(name, "gauge", help)?;
        for n in c.nodes {
            let inst = format!("{}:9100", n.name);
            let labels = [("instance", inst.as_str()), job, ("node", &n.name)];
            if i == 0 {
                w.series(name, &labels, |k| Val::Int(n.ct_entries(c.seed, c.grid.times[k])))?;
            } else {
                w.series_every(name, &labels, c.every, |_| Val::Int(super::super::host::CT_LIMIT))?;
            }
        }
    }

    // node_exporter types these as gauges, but they only grow (per boot).
    let stats: [(&str, &str); 3] = [
        (
            "node_nf_conntrack_stat_insert_failed",
            "Number of entries for which list insertion was attempted but failed.",
        ),
        ("node_nf_conntrack_stat_drop", "Number of packets dropped due to conntrack failure."),
        (
            "node_nf_conntrack_stat_early_drop",
            "Number of dropped conntrack entries to make room for new ones, if maximum table size was reached.",
        ),
    ];
    for (which, (name, help)) in stats.into_iter().enumerate() {
        w.family(name, "gauge", help)?;
        for n in c.nodes {
            let inst = format!("{}:9100", n.name);
            let labels = [("instance", inst.as_str()), job, ("node", &n.name)];
            // Where Cilium alone tracks the pods' connections the kernel's table stays quiet.
            let rate = |t: i64| match which {
                _ if !n.host.kernel => 0.0,
                0 => n.host.insert_failed_per_s,
                1 => n.host.drop_per_s,
                _ if n.ct_fill(c.seed, t) > 0.95 => n.host.drop_per_s * 0.5,
                _ => 0.0,
            };
            let start = (rate(c.grid.times[0]) * 3.0 * 86_400.0).round() as u64;
            let mut v = counter(start, |k| {
                let t = c.grid.times[k];
                n.events(c.seed, which as u64, rate(t), t, c.grid.step)
            });
            w.series(name, &labels, |k| Val::Int(v(k)))?;
        }
    }

    let name = "node_sysctl_net_netfilter_nf_conntrack_tcp_timeout_established";
    w.family(name, "unknown", "sysctl net.netfilter.nf_conntrack_tcp_timeout_established")?;
    for n in c.nodes {
        let inst = format!("{}:9100", n.name);
        let labels = [("instance", inst.as_str()), job, ("node", &n.name)];
        w.series_every(name, &labels, c.every, |_| Val::Int(n.host.ct_timeout))?;
    }
    Ok(())
}

pub(crate) fn kube_state_metrics<W: Write>(c: &Families, w: &mut OmWriter<W>) -> io::Result<()> {
    let (inst, job) = (("instance", "ksm:8080"), ("job", "kube-state-metrics"));
    let one = |_| Val::Int(1);
    let name = "kube_node_status_capacity";
    w.family(name, "gauge", "The capacity for different resources of a node.")?;
    for n in c.nodes {
        let labels = [inst, job, ("node", n.name.as_str()), ("resource", "cpu"), ("unit", "core")];
        w.series_every(name, &labels, c.every, |_| Val::Int(u64::from(c.cpus)))?;
    }
    let name = "kube_node_labels";
    w.family(name, "gauge", "Kubernetes labels converted to Prometheus labels.")?;
    for n in c.nodes {
        let zone = format!("rack-{}", n.rack);
        let labels = [inst, job, ("label_topology_kubernetes_io_zone", zone.as_str()), ("node", &n.name)];
        w.series_every(name, &labels, c.every, one)?;
    }
    let name = "kube_pod_info";
    w.family(name, "gauge", "Information about pod.")?;
    for n in c.nodes {
        for p in &n.pods {
            let labels = [
                ("created_by_kind", p.created_by.0),
                ("created_by_name", &p.created_by.1),
                ("host_ip", &n.host_ip),
                ("host_network", "false"),
                inst,
                job,
                ("namespace", p.namespace),
                ("node", &n.name),
                ("pod", &p.name),
                ("pod_ip", &p.pod_ip),
                ("priority_class", p.priority_class),
                ("uid", &p.uid),
            ];
            w.series_every(name, &labels, c.every, one)?;
        }
    }
    let name = "kube_pod_labels";
    w.family(name, "gauge", "Kubernetes labels converted to Prometheus labels.")?;
    for n in c.nodes {
        for p in &n.pods {
            let mut labels = vec![inst, job];
            if let Some(q) = p.qos {
                labels.push(("label_koordinator_sh_qos_class", q));
            }
            labels.extend([("namespace", p.namespace), ("pod", &p.name), ("uid", &p.uid)]);
            w.series_every(name, &labels, c.every, one)?;
        }
    }
    let name = "kube_pod_runtimeclass_name_info";
    w.family(name, "gauge", "The runtimeclass associated with the pod.")?;
    for n in c.nodes {
        for p in &n.pods {
            if let Some(rc) = p.runtime_class {
                let labels = [
                    inst,
                    job,
                    ("namespace", p.namespace),
                    ("pod", &p.name),
                    ("runtimeclass_name", rc),
                    ("uid", &p.uid),
                ];
                w.series_every(name, &labels, c.every, one)?;
            }
        }
    }
    Ok(())
}

pub(crate) fn cadvisor<W: Write>(c: &Families, w: &mut OmWriter<W>) -> io::Result<()> {
    w.family("container_cpu_usage_seconds", "counter", "Cumulative cpu time consumed in seconds.")?;
    let cpus = u64::from(c.cpus);
    for n in c.nodes {
        let inst = format!("{}:10250", n.name);
        let ms = c.node_ms(n);
        for (i, p) in n.pods.iter().enumerate() {
            // Online: u_on * C cores; batch 70 % and BE 30 % of u_off * C cores.
            let inc = |k: usize| {
                let (on, off) = ms[k];
                let batch = (7 * cpus * off + 5) / 10;
                match p.kind {
                    PodKind::Online => cpus * on,
                    PodKind::Batch => batch,
                    PodKind::BestEffort => cpus * off - batch,
                }
            };
            let start = n.boot_ms(c.seed, 1000 + i as u64, 2.0 * cpus as f64, 0.05, 0.2);
            // The container, then the pod's cgroup (`container=""`) with the pod's total.
            for (ctr, image, id) in [("main", p.image, &p.ctr_cgroup), ("", "", &p.cgroup)] {
                let labels = [
                    ("container", ctr),
                    ("id", id.as_str()),
                    ("image", image),
                    ("instance", &inst),
                    ("job", "kubelet"),
                    ("metrics_path", "/metrics/cadvisor"),
                    ("namespace", p.namespace),
                    ("node", &n.name),
                    ("pod", &p.name),
                ];
                let mut v = counter(start, inc);
                w.series("container_cpu_usage_seconds_total", &labels, |k| Val::Ms(v(k)))?;
            }
        }
    }
    Ok(())
}

pub(crate) fn cilium<W: Write>(c: &Families, w: &mut OmWriter<W>) -> io::Result<()> {
    let name = "cilium_bgp_control_plane_session_state";
    w.family(name, "gauge", "Current state of the BGP session with the peer, Up = 1 or Down = 0")?;
    let end = c.grid.times.last().copied().unwrap_or(0);
    for n in c.nodes {
        let inst = format!("{}:9962", n.name);
        for (i, s) in n.sessions.iter().enumerate() {
            let neighbor = format!("{}:179", s.peer_addr);
            let (local, peer) = (s.local_asn.to_string(), s.peer_asn.to_string());
            let mut labels = vec![("instance", inst.as_str()), ("job", "cilium-agent"), ("node", &n.name)];
            // Three label generations of the metric, by rack.
            match n.rack {
                4 => labels.extend([
                    ("neighbor", neighbor.as_str()),
                    ("neighbor_asn", &peer),
                    ("vrouter", &local),
                ]),
                6 => labels.extend([
                    ("instance_name", "default"),
                    ("local_asn", &local),
                    ("neighbor", &neighbor),
                    ("neighbor_asn", &peer),
                ]),
                _ => labels.extend([("neighbor", neighbor.as_str()), ("vrouter", &local)]),
            }
            w.series(name, &labels, |k| Val::Int(u64::from(n.session_up(c.seed, i, c.grid.times[k], end))))?;
        }
    }

    // The global CT maps' pressure (the agent's `map_name` drops `cilium_`) on Cilium nodes.
    let name = "cilium_bpf_map_pressure";
    w.family(name, "gauge", "Fill percentage of map, tagged by map name")?;
    for n in c.nodes.iter().filter(|n| n.host.cilium) {
        let inst = format!("{}:9962", n.name);
        for (map, share) in super::super::host::CILIUM_MAPS {
            let labels =
                [("instance", inst.as_str()), ("job", "cilium-agent"), ("map_name", map), ("node", &n.name)];
            w.series(name, &labels, |k| {
                let p = n.ct_fill(c.seed, c.grid.times[k]) * n.cilium_share() * share;
                Val::Ms((p.clamp(0.0, 1.0) * 1000.0).round() as u64)
            })?;
        }
    }
    // Packets dropped because a CT entry could not be inserted: a counter per Cilium node (flat
    // where the maps have room).
    let name = "cilium_drop_count_total";
    w.family(
        "cilium_drop_count",
        "counter",
        "Total dropped packets, tagged by drop reason and ingress/egress direction",
    )?;
    for n in c.nodes.iter().filter(|n| n.host.cilium) {
        let inst = format!("{}:9962", n.name);
        let labels = [
            ("direction", "EGRESS"),
            ("instance", inst.as_str()),
            ("job", "cilium-agent"),
            ("node", &n.name),
            ("reason", "CT: Map insertion failed"),
        ];
        let rate = n.host.insert_failed_per_s * n.cilium_share();
        let start = (rate * 3.0 * 86_400.0).round() as u64;
        let mut v = counter(start, |k| {
            let t = c.grid.times[k];
            n.events(c.seed, 3, rate, t, c.grid.step)
        });
        w.series(name, &labels, |k| Val::Int(v(k)))?;
    }
    Ok(())
}

/// Koordinator's koordlet (`job="koordlet"`, `instance="<n>:9316"`): each node's batch tier
/// allocatable, `koordlet_node_resource_allocatable{resource="kubernetes.io/batch-cpu",
/// unit="integer"}` in milli-cores, as the sim's cluster reclaims it (`cpu::reclaimed`: 85 % of the
/// node's CPUs less its online work in the interval ending at the sample).
pub(crate) fn koordlet<W: Write>(c: &Families, w: &mut OmWriter<W>) -> io::Result<()> {
    w.family(
        "koordlet_node_resource_allocatable",
        "gauge",
        "the node allocatable of resources updated by koordinator",
    )?;
    let cpus = u64::from(c.cpus);
    let q = c.grid.q();
    for n in c.nodes {
        let inst = format!("{}:9316", n.name);
        let ms = c.node_ms(n);
        let labels = [
            ("instance", inst.as_str()),
            ("job", "koordlet"),
            ("node", &n.name),
            ("resource", "kubernetes.io/batch-cpu"),
            ("unit", "integer"),
        ];
        w.series("koordlet_node_resource_allocatable", &labels, |k| {
            // The first sample has no interval: no online work measured yet.
            let on = ms[k].0;
            let threshold = (crate::cpu::RECLAIM_THRESHOLD * q as f64).round() as u64;
            Val::Int(cpus * threshold.saturating_sub(on) * 1000 / q)
        })?;
    }
    Ok(())
}
