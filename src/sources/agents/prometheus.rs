//! `--agents prometheus`: every agent's report rebuilt from the series Prometheus scraped from it
//! (`GET /metrics`, through `deploy/agent-podmonitor.yaml`), instead of polling 5,000 agents from
//! the SRE's machine, which often cannot reach node addresses at all. The reports then take the
//! poller's own path to updates (`map::updates`), so both give the same node facts.
//!
//! One instant query per round reads every `clustertop_agent_*` series; series are grouped by
//! scrape target (`job`, `instance`), and `clustertop_agent_info{node_name}` names the node. A
//! fact the agent marked `clustertop_agent_fact_absent`, or whose series is missing, is absent:
//! never a zero.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::map::{self, Counters};
use crate::model::{SourceHealth, SourceId, Update};
use crate::sources::prometheus::backend::Backend;
use crate::sources::prometheus::map::Series;
use crate::wire::{BgpPeer, CniConfig, ConntrackFacts, Fact, HostFacts, Interface, NodeReport, SCHEMA};

/// Every series every agent exposes.
pub const QUERY: &str = r#"{__name__=~"clustertop_agent_.+"}"#;
/// The scope of this source's health.
pub const SCOPE: &str = "prometheus";
const P: &str = "clustertop_agent_";
const MISSING: &str = "not in Prometheus";

/// One scrape target's series, by metric name (without the prefix).
#[derive(Default)]
struct Target<'a> {
    by_name: HashMap<&'a str, Vec<&'a Series>>,
}

impl<'a> Target<'a> {
    fn all(&self, name: &str) -> &[&'a Series] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }
    fn one(&self, name: &str) -> Option<f64> {
        self.all(name).first().and_then(|s| s.value())
    }
    fn absent(&self, fact: &str) -> bool {
        self.all("fact_absent").iter().any(|s| s.label("fact") == Some(fact))
    }
    /// A fact from one gauge: absent when marked or when its series is missing.
    fn fact<T>(&self, fact: &str, name: &str, f: impl Fn(f64) -> T) -> Fact<T> {
        match self.one(name) {
            Some(v) if !self.absent(fact) => Fact::Value(f(v)),
            _ => Fact::absent(MISSING),
        }
    }
    /// A fact listed as series (modules, interfaces…): absent only when marked.
    fn list<T>(&self, fact: &str, f: impl Fn() -> T) -> Fact<T> {
        if self.absent(fact) { Fact::absent(MISSING) } else { Fact::Value(f()) }
    }
}

/// A count the agent read from the kernel, as Prometheus's float64 holds it. The kernel's values
/// are longs: the float nearest to LONG_MAX (file-max's default on 64-bit kernels) is 2^63, which
/// comes back as LONG_MAX. Other values above 2^53 come back to the nearest float.
fn u64_of(v: f64) -> u64 {
    if v.is_finite() && v >= 0.0 { (v as u64).min(i64::MAX as u64) } else { 0 }
}

/// A `*_timestamp_seconds` value as a time (to the millisecond the agent wrote it with).
fn time_of(secs: f64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis((secs * 1e3).round() as i64)
}

/// Each agent's report rebuilt from its series; a target without `clustertop_agent_info` (an
/// agent older than it) is an error naming the target.
pub fn reports(series: &[Series]) -> Vec<Result<NodeReport, String>> {
    let mut targets: BTreeMap<(&str, &str), Target> = BTreeMap::new();
    for s in series {
        let Some(name) = s.label("__name__").and_then(|n| n.strip_prefix(P)) else { continue };
        let key = (s.label("job").unwrap_or(""), s.label("instance").unwrap_or(""));
        targets.entry(key).or_default().by_name.entry(name).or_default().push(s);
    }
    targets.into_iter().map(|((job, instance), t)| report(&t).ok_or_else(|| no_info(job, instance))).collect()
}

fn no_info(job: &str, instance: &str) -> String {
    format!("agent {instance} (job {job}) has no {P}info series: an agent older than --agents prometheus")
}

fn report(t: &Target) -> Option<NodeReport> {
    let info = t.all("info").first()?;
    let node = info.label("node_name")?.to_string();
    let read_at = t.one("read_timestamp_seconds").and_then(time_of).unwrap_or_else(Utc::now);
    let stat = t.all("conntrack_stat_total");
    let secs = |v: f64| u64_of(v);
    let conntrack = ConntrackFacts {
        count: t.fact("conntrack_count", "conntrack_entries", u64_of),
        max: t.fact("conntrack_max", "conntrack_max", u64_of),
        stat: if stat.is_empty() || t.absent("conntrack_stat") {
            Fact::absent(MISSING)
        } else {
            Fact::Value(
                stat.iter()
                    .filter_map(|s| Some((s.label("stat")?.to_string(), u64_of(s.value()?))))
                    .collect(),
            )
        },
        tcp_timeout_established_s: t.fact("tcp_timeout_established", "tcp_timeout_established_seconds", secs),
        tcp_timeout_close_wait_s: t.fact("tcp_timeout_close_wait", "tcp_timeout_close_wait_seconds", secs),
        tcp_timeout_time_wait_s: t.fact("tcp_timeout_time_wait", "tcp_timeout_time_wait_seconds", secs),
    };
    // The exposition says only whether Kata can run (both /dev/kvm and vmx/svm, or not).
    let (dev_kvm, cpu_virt) = match t.fact("kvm", "kvm_available", |v| v == 1.0) {
        Fact::Value(true) => (Fact::Value(true), Fact::Value(Some("vmx or svm".to_string()))),
        Fact::Value(false) => (Fact::Value(false), Fact::absent(MISSING)),
        Fact::Absent(a) => (Fact::Absent(a.clone()), Fact::Absent(a)),
    };
    let up: HashMap<&str, bool> =
        t.all("interface_up").iter().filter_map(|s| Some((s.label("name")?, s.value()? == 1.0))).collect();
    let mut interfaces: Vec<Interface> = t
        .all("interface_info")
        .iter()
        .filter_map(|s| {
            let name = s.label("name")?;
            Some(Interface {
                name: name.to_string(),
                kind: s.label("kind").unwrap_or("other").to_string(),
                up: up.get(name).copied().unwrap_or(false),
            })
        })
        .collect();
    interfaces.sort_by(|a, b| a.name.cmp(&b.name));
    let mut cni: Vec<CniConfig> = t
        .all("cni_config_info")
        .iter()
        .filter_map(|s| {
            let types =
                s.label("types").map_or_else(Vec::new, |l| l.split(',').map(str::to_string).collect());
            Some(CniConfig { file: s.label("file")?.to_string(), types })
        })
        .collect();
    cni.sort_by(|a, b| a.file.cmp(&b.file));
    let load = match (t.all("load"), t.one("threads_running"), t.one("threads")) {
        (l, Some(running), Some(total)) if !t.absent("load") => {
            let w = |win: &str| l.iter().find(|s| s.label("window") == Some(win)).and_then(|s| s.value());
            match (w("1m"), w("5m"), w("15m")) {
                (Some(a), Some(b), Some(c)) => Fact::Value(([a, b, c], u64_of(running), u64_of(total))),
                _ => Fact::absent(MISSING),
            }
        }
        _ => Fact::absent(MISSING),
    };
    let file_nr = match (t.one("file_handles_allocated"), t.one("file_handles_max")) {
        (Some(a), Some(m)) if !t.absent("file_nr") => Fact::Value((u64_of(a), u64_of(m))),
        _ => Fact::absent(MISSING),
    };
    let host = HostFacts {
        conntrack,
        bridge_nf_call_iptables: t.fact("bridge_nf_call_iptables", "bridge_nf_call_iptables", |v| v == 1.0),
        ip_forward: t.fact("ip_forward", "ip_forward", |v| v == 1.0),
        modules: t.list("modules", || {
            t.all("module_loaded")
                .iter()
                .filter_map(|s| Some((s.label("module")?.to_string(), s.value()? == 1.0)))
                .collect()
        }),
        interfaces: t.list("interfaces", || interfaces.clone()),
        cni_configs: t.list("cni_configs", || cni.clone()),
        dev_kvm,
        cpu_virt,
        file_nr,
        load,
        cpu_cores: t.fact("cpu_cores", "cpu_cores", |v| u32::try_from(u64_of(v)).unwrap_or(u32::MAX)),
    };
    Some(NodeReport {
        schema: SCHEMA.to_string(),
        node,
        agent_version: info.label("version").unwrap_or("").to_string(),
        read_at,
        host,
        bgp_bird: t.list("bgp_bird", || peers(t, "bird")),
        bgp_bird6: t.list("bgp_bird6", || peers(t, "bird6")),
        bgp_cilium: t.list("bgp_cilium", || peers(t, "cilium")),
    })
}

/// One daemon's sessions, from `bgp_session_info` and the gauges keyed like it.
fn peers(t: &Target, daemon: &str) -> Vec<BgpPeer> {
    let key = |s: &Series| {
        (s.label("peer").unwrap_or("").to_string(), s.label("neighbor").unwrap_or("").to_string())
    };
    let of = |name: &str| -> HashMap<(String, String), f64> {
        t.all(name)
            .iter()
            .filter(|s| s.label("daemon") == Some(daemon))
            .filter_map(|s| Some((key(s), s.value()?)))
            .collect()
    };
    let (since, state_s) = (of("bgp_session_since_timestamp_seconds"), of("bgp_session_state_seconds"));
    let (imported, exported) = (of("bgp_session_routes_imported"), of("bgp_session_routes_exported"));
    let (hold, keepalive) = (of("bgp_session_hold_time_seconds"), of("bgp_session_keepalive_seconds"));
    let transitions = of("bgp_session_established_transitions_total");
    let (gr, restart, peer_gr) = (
        of("bgp_session_graceful_restart"),
        of("bgp_session_restart_time_seconds"),
        of("bgp_session_peer_graceful_restart"),
    );
    let (hold_conf, keepalive_conf) =
        (of("bgp_session_hold_time_configured_seconds"), of("bgp_session_keepalive_configured_seconds"));
    let flag = |m: &HashMap<(String, String), f64>, k: &(String, String)| m.get(k).map(|v| *v == 1.0);
    let num = |m: &HashMap<(String, String), f64>, k: &(String, String)| m.get(k).copied().map(u64_of);
    let small = |m: &HashMap<(String, String), f64>, k: &(String, String)| {
        num(m, k).and_then(|n| u32::try_from(n).ok())
    };
    let text = |s: &Series, l: &str| s.label(l).map(str::to_string);
    let mut out: Vec<BgpPeer> = t
        .all("bgp_session_info")
        .iter()
        .filter(|s| s.label("daemon") == Some(daemon))
        .map(|s| {
            let k = key(s);
            BgpPeer {
                name: k.0.clone(),
                neighbor_address: k.1.clone(),
                neighbor_as: s.label("peer_asn").and_then(|n| n.parse().ok()),
                local_as: s.label("local_asn").and_then(|n| n.parse().ok()),
                state: s.label("state").unwrap_or("").to_string(),
                since_s: num(&state_s, &k),
                last_error: text(s, "last_error"),
                routes_imported: num(&imported, &k),
                routes_exported: num(&exported, &k),
                hold_time_s: small(&hold, &k),
                keepalive_s: small(&keepalive, &k),
                family: text(s, "family"),
                since: since.get(&k).copied().and_then(time_of),
                established_transitions: num(&transitions, &k),
                graceful_restart: flag(&gr, &k),
                restart_time_s: small(&restart, &k),
                peer_graceful_restart: flag(&peer_gr, &k),
                hold_time_conf_s: small(&hold_conf, &k),
                keepalive_conf_s: small(&keepalive_conf, &k),
            }
        })
        .collect();
    out.sort_by(|a, b| (&a.name, &a.neighbor_address).cmp(&(&b.name, &b.neighbor_address)));
    out
}

fn health(health: SourceHealth) -> Update {
    Update::Health { source: SourceId::Agents, scope: SCOPE.into(), health, at: Utc::now() }
}

/// Read every agent's facts from Prometheus each `interval` until `tx` is closed.
pub async fn run(b: Backend, interval: Duration, tx: mpsc::Sender<Vec<Update>>) {
    let mut counters: HashMap<String, Counters> = HashMap::new();
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = tx.closed() => return,
        }
        let batch = round(&b, Utc::now(), &mut counters).await;
        if tx.send(batch).await.is_err() {
            return;
        }
    }
}

/// One round: the updates of every agent Prometheus holds at `at`, and this source's health.
pub async fn round(b: &Backend, at: DateTime<Utc>, counters: &mut HashMap<String, Counters>) -> Vec<Update> {
    let series = match b.instant_expr("agents", QUERY, at.timestamp()).await {
        Ok(s) => s,
        Err(e) => return vec![health(SourceHealth::Unreachable { error: e.to_string() })],
    };
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut agents = 0;
    for r in reports(&series) {
        match r {
            Ok(report) => {
                agents += 1;
                out.extend(map::updates_keeping(&report, counters));
            }
            Err(e) => errors.push(e),
        }
    }
    let h = match (agents, errors.first()) {
        (0, Some(e)) => SourceHealth::NoData { reason: e.clone() },
        (0, None) => SourceHealth::NoData {
            reason: format!(
                "no {P}* series: is deploy/agent-podmonitor.yaml applied, and the agents running?"
            ),
        },
        _ => SourceHealth::Ok,
    };
    out.push(health(h));
    out
}

#[cfg(test)]
#[path = "prometheus_tests.rs"]
mod tests;
