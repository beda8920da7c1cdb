//! An independent reader of `clustertop sim openmetrics` output (it parses the text; it does not
//! use clustertop's library), for the figures a Prometheus-backed test should see.
//!
//! Per node: rack (`kube_node_labels`' `label_topology_kubernetes_io_zone`), cores
//! (`kube_node_status_capacity{resource="cpu"}`), and per sample interval (identified by the
//! timestamp of its END): busy cores = sum over CPUs of the `node_cpu_seconds_total{mode="user"}`
//! increase / interval length; offline cores = the same for `container_cpu_usage_seconds_total`
//! series with `container!=""` of offline pods (`kube_pod_info` `priority_class` koord-batch or
//! koord-free, or `kube_pod_labels` `label_koordinator_sh_qos_class="BE"`); pod cores = all pods.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;

#[derive(Debug, Clone, Default)]
pub struct NodeSeries {
    pub rack: String,
    pub cores: f64,
    /// (interval end ts, busy cores, offline cores), by time.
    pub points: Vec<(i64, f64, f64)>,
    /// All pods' cores per interval, aligned with `points`.
    pub pods: Vec<f64>,
}

#[derive(Debug, Clone, Default)]
pub struct Expected {
    pub step: i64,
    pub nodes: BTreeMap<String, NodeSeries>,
}

/// One parsed sample line: name, labels, value, timestamp.
type Sample<'a> = (&'a str, Vec<(&'a str, String)>, f64, i64);

fn parse_line(line: &str) -> Option<Sample<'_>> {
    let (name, rest) = match line.find(['{', ' ']) {
        Some(i) => line.split_at(i),
        None => return None,
    };
    let mut labels = Vec::new();
    let mut rest = rest;
    if let Some(r) = rest.strip_prefix('{') {
        let mut r = r;
        loop {
            if let Some(after) = r.strip_prefix('}') {
                rest = after;
                break;
            }
            let r2 = r.strip_prefix(',').unwrap_or(r);
            let eq = r2.find('=')?;
            let key = &r2[..eq];
            let mut chars = r2[eq + 1..].strip_prefix('"')?.char_indices();
            let mut val = String::new();
            let end = loop {
                let (i, c) = chars.next()?;
                match c {
                    '"' => break i,
                    '\\' => match chars.next()?.1 {
                        'n' => val.push('\n'),
                        c => val.push(c),
                    },
                    c => val.push(c),
                }
            };
            labels.push((key, val));
            r = &r2[eq + 1 + 1 + end + 1..];
        }
    }
    let mut it = rest.split_ascii_whitespace();
    let value = it.next()?.parse().ok()?;
    let ts = it.next()?.parse::<f64>().ok()? as i64;
    Some((name, labels, value, ts))
}

fn label<'a>(labels: &'a [(&str, String)], k: &str) -> &'a str {
    labels.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str()).unwrap_or("")
}

/// A counter's increases, keyed by the end of each interval: (ts, increase, interval seconds).
#[derive(Default)]
struct Incs {
    last: Option<(i64, f64)>,
    out: Vec<(i64, f64, i64)>,
}

impl Incs {
    fn push(&mut self, ts: i64, v: f64) {
        if let Some((t0, v0)) = self.last
            && ts > t0
        {
            // A counter that went down was reset: it counted `v` since.
            let inc = if v >= v0 { v - v0 } else { v };
            self.out.push((ts, inc, ts - t0));
        }
        self.last = Some((ts, v));
    }
}

/// What a series' samples feed.
#[derive(Clone, Copy)]
enum Target {
    Skip,
    Cpu(usize),
    Ctr(usize),
}

impl Expected {
    pub fn parse(path: &Path) -> Expected {
        let f = std::fs::File::open(path).expect("open OpenMetrics file");
        let mut rack: HashMap<String, String> = HashMap::new();
        let mut cores: HashMap<String, f64> = HashMap::new();
        // (namespace, pod) -> (node, offline by priority class)
        let mut pod_info: HashMap<(String, String), (String, bool)> = HashMap::new();
        let mut be: HashSet<(String, String)> = HashSet::new();
        // Counter series: (node, cpu) and (namespace, pod, container) with the container's node.
        let mut cpu_idx: HashMap<(String, String), usize> = HashMap::new();
        let mut cpu: Vec<((String, String), Incs)> = Vec::new();
        let mut ctr_idx: HashMap<(String, String, String), usize> = HashMap::new();
        let mut ctr: Vec<((String, String, String), String, Incs)> = Vec::new();
        // Lines of one series usually follow each other: labels are parsed when the series
        // text changes.
        let (mut prev, mut target) = (String::new(), Target::Skip);
        let mut reader = BufReader::new(f);
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).expect("read line") == 0 {
                break;
            }
            let line = line.trim_end_matches('\n');
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let cut = line.rfind('}').map(|i| i + 1).or_else(|| line.find(' ')).unwrap_or(line.len());
            let series = &line[..cut];
            if series != prev {
                let Some((name, l, v, _)) = parse_line(line) else { panic!("bad line: {line}") };
                prev = series.to_string();
                target = Target::Skip;
                match name {
                    "kube_node_labels" => {
                        rack.insert(
                            label(&l, "node").into(),
                            label(&l, "label_topology_kubernetes_io_zone").into(),
                        );
                    }
                    "kube_node_status_capacity" if label(&l, "resource") == "cpu" => {
                        cores.insert(label(&l, "node").into(), v);
                    }
                    "kube_pod_info" => {
                        let offline = matches!(label(&l, "priority_class"), "koord-batch" | "koord-free");
                        let key = (label(&l, "namespace").into(), label(&l, "pod").into());
                        pod_info.insert(key, (label(&l, "node").into(), offline));
                    }
                    "kube_pod_labels" if label(&l, "label_koordinator_sh_qos_class") == "BE" => {
                        be.insert((label(&l, "namespace").into(), label(&l, "pod").into()));
                    }
                    "node_cpu_seconds_total" if label(&l, "mode") == "user" => {
                        let key = (label(&l, "node").to_string(), label(&l, "cpu").to_string());
                        let i = *cpu_idx.entry(key.clone()).or_insert_with(|| {
                            cpu.push((key, Incs::default()));
                            cpu.len() - 1
                        });
                        target = Target::Cpu(i);
                    }
                    "container_cpu_usage_seconds_total" if !label(&l, "container").is_empty() => {
                        let key = (
                            label(&l, "namespace").into(),
                            label(&l, "pod").into(),
                            label(&l, "container").into(),
                        );
                        let i = *ctr_idx.entry(key.clone()).or_insert_with(|| {
                            ctr.push((key, label(&l, "node").to_string(), Incs::default()));
                            ctr.len() - 1
                        });
                        target = Target::Ctr(i);
                    }
                    _ => {}
                }
            }
            if matches!(target, Target::Skip) {
                continue;
            }
            let mut it = line[cut..].split_ascii_whitespace();
            let v: f64 = it.next().and_then(|s| s.parse().ok()).expect("value");
            let ts = it.next().and_then(|s| s.parse::<f64>().ok()).expect("timestamp") as i64;
            match target {
                Target::Cpu(i) => cpu[i].1.push(ts, v),
                Target::Ctr(i) => ctr[i].2.push(ts, v),
                Target::Skip => {}
            }
        }

        // Interval length: the most common one between consecutive CPU samples.
        let mut gaps: HashMap<i64, usize> = HashMap::new();
        for (_, i) in &cpu {
            for &(_, _, d) in &i.out {
                *gaps.entry(d).or_default() += 1;
            }
        }
        let step = gaps.into_iter().max_by_key(|&(d, n)| (n, d)).map(|(d, _)| d).unwrap_or(0);

        // node -> ts -> (busy, offline, pods)
        let mut acc: BTreeMap<String, BTreeMap<i64, (f64, f64, f64)>> = BTreeMap::new();
        for ((node, _), i) in &cpu {
            let m = acc.entry(node.clone()).or_default();
            for &(ts, inc, d) in &i.out {
                m.entry(ts).or_default().0 += inc / d as f64;
            }
        }
        for ((ns, pod, _), ctr_node, i) in &ctr {
            let key = (ns.clone(), pod.clone());
            let (node, by_class) = pod_info.get(&key).cloned().unwrap_or((ctr_node.clone(), false));
            let offline = by_class || be.contains(&key);
            let m = acc.entry(node).or_default();
            for &(ts, inc, d) in &i.out {
                let e = m.entry(ts).or_default();
                let cores = inc / d as f64;
                e.2 += cores;
                if offline {
                    e.1 += cores;
                }
            }
        }
        let nodes = acc
            .into_iter()
            .map(|(node, m)| {
                let s = NodeSeries {
                    rack: rack.get(&node).cloned().unwrap_or_default(),
                    cores: cores.get(&node).copied().unwrap_or(0.0),
                    points: m.iter().map(|(&ts, &(b, o, _))| (ts, b, o)).collect(),
                    pods: m.values().map(|v| v.2).collect(),
                };
                (node, s)
            })
            .collect();
        Expected { step, nodes }
    }

    /// Mean over the intervals whose end lies in `(from, to]` of the busy and offline cores
    /// summed over the nodes (of `rack`): what `sum(rate(...[to-from]))` evaluated at `to` reads.
    pub fn mean(&self, rack: Option<&str>, from_ts: i64, to_ts: i64) -> (f64, f64) {
        let (b, o, _) = self.mean_all(rack, from_ts, to_ts);
        (b, o)
    }

    /// Like [`Expected::mean`], plus all pods' cores.
    pub fn mean_all(&self, rack: Option<&str>, from_ts: i64, to_ts: i64) -> (f64, f64, f64) {
        let mut by_ts: BTreeMap<i64, (f64, f64, f64)> = BTreeMap::new();
        for n in self.nodes.values().filter(|n| rack.is_none_or(|r| n.rack == r)) {
            for (i, &(ts, b, o)) in n.points.iter().enumerate() {
                if ts > from_ts && ts <= to_ts {
                    let e = by_ts.entry(ts).or_default();
                    e.0 += b;
                    e.1 += o;
                    e.2 += n.pods.get(i).copied().unwrap_or(0.0);
                }
            }
        }
        let k = by_ts.len().max(1) as f64;
        let sum = by_ts.values().fold((0.0, 0.0, 0.0), |a, v| (a.0 + v.0, a.1 + v.1, a.2 + v.2));
        (sum.0 / k, sum.1 / k, sum.2 / k)
    }

    /// Total cores (of `rack`).
    pub fn cores(&self, rack: Option<&str>) -> f64 {
        self.nodes.values().filter(|n| rack.is_none_or(|r| n.rack == r)).map(|n| n.cores).sum()
    }
}

#[test]
fn parses_labels_with_escapes() {
    let (name, l, v, ts) = parse_line(r#"m{a="x\"y",b="",c="p\\q\nr"} 1.5 1700000000"#).expect("parses");
    assert_eq!((name, v, ts), ("m", 1.5, 1_700_000_000));
    assert_eq!(l, vec![("a", "x\"y".to_string()), ("b", String::new()), ("c", "p\\q\nr".to_string())]);
    assert_eq!(parse_line("up 1 5").map(|p| (p.0, p.2, p.3)), Some(("up", 1.0, 5)));
}
