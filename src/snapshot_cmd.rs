//! `clustertop snapshot`: the model and findings once, as stable JSON or as text, for scripts.
//!
//! JSON schema `clustertop.snapshot/v2` (documented in the README): additive changes only;
//! a breaking change bumps the version.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::model::{
    BgpVerdict, Finding, NetMode, Node, RuntimeClass, RuntimeKind, SandboxStart, Severity, Snapshot,
    SourceStatus, UNKNOWN, WindowFill, or_unknown,
};

/// Every count that depends on a kind that is not known is `null` (the reason is in `unknown`).
/// The tallies have every key, zeros included, spelt as the fields they count (`net.mode`,
/// `bgp_verdict`, `severity`).
#[derive(Serialize)]
struct Summary {
    nodes: Option<usize>,
    ready: Option<usize>,
    /// Every pod listed, as `kubectl get pods -A` counts them (finished ones included).
    pods: Option<usize>,
    /// Succeeded and Failed pods among them.
    pods_finished: Option<usize>,
    net_modes: BTreeMap<NetMode, usize>,
    /// BGP nodes by verdict (the others are `not_applicable`, not counted).
    bgp: BTreeMap<BgpVerdict, usize>,
    /// Pods that have not finished, per runtime.
    runtime_pods: Option<BTreeMap<&'static str, u32>>,
    findings: BTreeMap<Severity, usize>,
    /// Latest point of the cluster CPU curve, cores.
    cpu_online_cores: Option<f64>,
    cpu_offline_cores: Option<f64>,
    cpu_capacity_cores: Option<f64>,
}

#[derive(Serialize)]
struct SnapshotJson<'a> {
    schema: &'static str,
    now: chrono::DateTime<chrono::Utc>,
    /// Where the moment came from: `live` (the sources now), `recording` or `prometheus`.
    origin: &'a str,
    cluster: &'a str,
    tz: &'a str,
    keepalive_idle_s: u64,
    sources: &'a [SourceStatus],
    summary: Summary,
    /// What is not known, and why.
    unknown: &'a crate::model::Unknown,
    /// Nodes some source reports that the API does not list.
    foreign_nodes: &'a [crate::model::ForeignNode],
    nodes: Vec<NodeJson<'a>>,
    runtime_classes: Vec<ClassJson<'a>>,
    /// Pods without a RuntimeClass: the node's default runtime (CRI handler `""`).
    default_runtime: DefaultRuntime<'a>,
    windows: Vec<String>,
    fills: &'a [WindowFill],
    findings: &'a [Finding],
}

/// A node with each runtime's sandbox start on it.
#[derive(Serialize)]
struct NodeJson<'a> {
    #[serde(flatten)]
    node: &'a Node,
    sandbox_start: Vec<NodeStartJson<'a>>,
}

#[derive(Serialize)]
struct NodeStartJson<'a> {
    /// `None`: the default runtime.
    runtime_class: Option<&'a str>,
    #[serde(flatten)]
    start: &'a SandboxStart,
}

/// A RuntimeClass with its sandbox start time, or why that is not known.
#[derive(Serialize)]
struct ClassJson<'a> {
    #[serde(flatten)]
    class: &'a RuntimeClass,
    #[serde(flatten)]
    start: StartJson<'a>,
}

#[derive(Serialize)]
struct StartJson<'a> {
    sandbox_start: Option<&'a SandboxStart>,
    sandbox_start_unknown: Option<&'a str>,
}

#[derive(Serialize)]
struct DefaultRuntime<'a> {
    handler: &'static str,
    kind: RuntimeKind,
    #[serde(flatten)]
    start: StartJson<'a>,
}

fn start_json<'a>(s: &'a Snapshot, runtime: Option<&str>) -> StartJson<'a> {
    match s.sandbox_starts.of(runtime) {
        Some(Ok(f)) => StartJson { sandbox_start: Some(f), sandbox_start_unknown: None },
        Some(Err(why)) => StartJson { sandbox_start: None, sandbox_start_unknown: Some(why) },
        None => StartJson { sandbox_start: None, sandbox_start_unknown: Some("not computed") },
    }
}

fn summary(s: &Snapshot) -> Summary {
    let mut net_modes: BTreeMap<NetMode, usize> = NetMode::ALL.iter().map(|m| (*m, 0)).collect();
    let mut bgp: BTreeMap<BgpVerdict, usize> =
        [BgpVerdict::Healthy, BgpVerdict::Degraded, BgpVerdict::Isolated, BgpVerdict::Unknown]
            .into_iter()
            .map(|v| (v, 0))
            .collect();
    let mut mix = s.unknown.runtime_mix().is_none().then(crate::model::RuntimeMix::default);
    for n in &s.nodes {
        *net_modes.entry(n.net.mode).or_insert(0) += 1;
        if let Some(c) = bgp.get_mut(&n.bgp_verdict) {
            *c += 1;
        }
        if let (Some(m), Some(r)) = (&mut mix, &n.runtime) {
            m.merge(r);
        }
    }
    let mut findings: BTreeMap<Severity, usize> =
        [Severity::Critical, Severity::Warning, Severity::Info].into_iter().map(|v| (v, 0)).collect();
    for f in &s.findings {
        *findings.entry(f.severity).or_insert(0) += 1;
    }
    let last = s.cpu.as_ref().and_then(|c| c.points.last().map(|p| (p, c.capacity_cores)));
    let nodes_known = s.unknown.nodes.is_none();
    let pods_known = s.unknown.pods.is_none();
    Summary {
        nodes: nodes_known.then_some(s.nodes.len()),
        ready: nodes_known.then(|| s.nodes.iter().filter(|n| n.ready).count()),
        pods: pods_known.then_some(s.pods.len()),
        pods_finished: pods_known.then(|| s.pods.iter().filter(|p| p.finished()).count()),
        net_modes,
        bgp,
        runtime_pods: mix.map(|mix| {
            BTreeMap::from([
                ("runc", mix.runc),
                ("kata", mix.kata),
                ("gvisor", mix.gvisor),
                ("other", mix.other),
            ])
        }),
        findings,
        cpu_online_cores: last.map(|(p, _)| p.online),
        cpu_offline_cores: last.map(|(p, _)| p.offline),
        cpu_capacity_cores: last.map(|(_, c)| c),
    }
}

pub fn json(s: &Snapshot) -> String {
    json_from(s, "live")
}

/// The snapshot JSON of a moment from `origin` (`live`, `recording`, `prometheus`).
pub fn json_from(s: &Snapshot, origin: &str) -> String {
    let doc = SnapshotJson {
        schema: "clustertop.snapshot/v2",
        now: s.now,
        origin,
        cluster: &s.cluster,
        tz: s.tz.name(),
        keepalive_idle_s: s.keepalive_idle_s,
        sources: &s.sources,
        summary: summary(s),
        unknown: &s.unknown,
        foreign_nodes: &s.foreign_nodes,
        nodes: s
            .nodes
            .iter()
            .map(|n| NodeJson {
                node: n,
                sandbox_start: s
                    .sandbox_starts
                    .on_node(&n.name)
                    .iter()
                    .map(|(k, f)| NodeStartJson { runtime_class: k.as_deref(), start: f })
                    .collect(),
            })
            .collect(),
        runtime_classes: s
            .runtime_classes
            .iter()
            .map(|c| ClassJson { class: c, start: start_json(s, Some(&c.name)) })
            .collect(),
        default_runtime: DefaultRuntime { handler: "", kind: RuntimeKind::Runc, start: start_json(s, None) },
        windows: s.windows.iter().map(|w| w.label()).collect(),
        fills: &s.fills,
        findings: &s.findings,
    };
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// Each runtime's sandbox start beside its reference, as the Runtime view shows it.
fn sandbox_starts(s: &Snapshot) -> String {
    use crate::viewmodel::start;
    let mut parts = vec![format!("(default) {}", shown(start::cluster(s, None, RuntimeKind::Runc, true)))];
    for c in &s.runtime_classes {
        parts.push(format!("{} {}", c.name, shown(start::cluster(s, Some(&c.name), c.kind, true))));
    }
    let estimated = s.sandbox_starts.cluster.iter().any(|(_, f)| f.as_ref().is_ok_and(|f| f.note.is_some()));
    let mut line = parts.join(", ");
    if estimated {
        line.push_str("  (~: mean of pods' condition times, whole seconds)");
    }
    line
}

fn shown(x: crate::viewmodel::start::StartShown) -> String {
    match (x.unknown, x.reference.as_str()) {
        (Some(_), _) => "?".into(),
        (None, "-") => x.mean,
        (None, r) => format!("{} (ref {r})", x.mean),
    }
}

pub fn text(s: &Snapshot) -> String {
    let sum = summary(s);
    let mut o = String::new();
    let _ = writeln!(
        o,
        "cluster   {}  at {}",
        s.cluster,
        s.now.with_timezone(&s.tz).format("%Y-%m-%d %H:%M:%S %Z")
    );
    for src in &s.sources {
        let _ = writeln!(o, "source    {} {}", src.label(), src.health.word());
    }
    let _ = writeln!(
        o,
        "nodes     {} ({} ready), pods {} ({} finished)",
        or_unknown(sum.nodes),
        or_unknown(sum.ready),
        or_unknown(sum.pods),
        or_unknown(sum.pods_finished)
    );
    for (what, why) in
        [("nodes", &s.unknown.nodes), ("pods", &s.unknown.pods), ("runtimes", &s.unknown.runtime_classes)]
    {
        if let Some(why) = why {
            let _ = writeln!(o, "unknown   {what}: {why}");
        }
    }
    for f in &s.foreign_nodes {
        let by: Vec<&str> = f.sources.iter().map(|s| s.label()).collect();
        let _ = writeln!(o, "foreign   {} (reported by {}, not listed by the API)", f.name, by.join(", "));
    }
    let modes: Vec<String> =
        sum.net_modes.iter().filter(|(_, v)| **v > 0).map(|(k, v)| format!("{} {v}", k.label())).collect();
    let _ = writeln!(o, "network   {}", modes.join(", "));
    let bgp: Vec<String> =
        sum.bgp.iter().filter(|(_, v)| **v > 0).map(|(k, v)| format!("{} {v}", k.word())).collect();
    let _ = writeln!(o, "bgp       {}", bgp.join(", "));
    let rt: Vec<String> = match &sum.runtime_pods {
        Some(m) => m.iter().map(|(k, v)| format!("{k} {v}")).collect(),
        None => vec![UNKNOWN.to_string()],
    };
    let _ = writeln!(o, "runtimes  {}", rt.join(", "));
    let _ = writeln!(o, "start     {}", sandbox_starts(s));
    if let Some(u) = crate::viewmodel::start::unknown_line(s) {
        let _ = writeln!(o, "unknown   start of {u}");
    }
    // The same figures as the dashboard's (`viewmodel::cpu_now`).
    if let Some(c) = crate::viewmodel::cpu_now(s.cpu.as_ref()) {
        let _ = writeln!(
            o,
            "cpu       {} of {:.0} cores ({} online, {} offline)",
            c.total, c.capacity, c.online, c.offline
        );
    }
    let _ = writeln!(
        o,
        "\n{:<12} {:<8} {:<14} {:<5} {:>6} {:>5} {:>5}",
        "NODE", "RACK", "MODE", "BGP", "CT%", "CPU%", "PODS"
    );
    for n in &s.nodes {
        let ct =
            n.conntrack().map_or_else(|| "-".into(), |c| crate::viewmodel::percent::share(c.fill()).number());
        let cpu = n.cpu_now().map_or_else(|| "-".into(), |c| crate::viewmodel::percent::share(c).number());
        let _ = writeln!(
            o,
            "{:<12} {:<8} {:<14} {:<5} {ct:>6} {cpu:>5} {:>5}",
            n.name,
            n.rack,
            n.net.mode.label(),
            n.bgp_label(),
            or_unknown(n.pods)
        );
    }
    let _ = writeln!(o, "\nFINDINGS ({})", s.findings.len());
    for f in &s.findings {
        let _ = writeln!(o, "{} {:<34} {:<14} {}", f.severity.label(), f.rule.id(), f.subject, f.what);
    }
    o
}
