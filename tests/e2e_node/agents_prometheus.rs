//! `--agents prometheus` against a real Prometheus scraping real `clustertop agent` processes:
//! the node facts read from Prometheus are the ones polling the same agents gives.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use chrono::Utc;
use clustertop::model::{SourceHealth, SourceId, Update};
use clustertop::sources::agents::{self, AgentsOptions, prometheus as from_prom};
use clustertop::sources::prometheus::queries::{Queries, offline_pods};
use clustertop::sources::prometheus::{Backend, BackendOptions};

use crate::support::agent::{Agent, fixture};
use crate::support::prom::Prom;
use crate::support::require_tools;

/// What the views show of a node from its agent: host facts (without the reading time) and
/// networking signals.
type Facts = BTreeMap<String, (String, String)>;

fn facts(updates: &[Update]) -> Facts {
    let mut out: Facts = BTreeMap::new();
    for u in updates {
        match u {
            Update::Host { node, facts, .. } => out.entry(node.clone()).or_default().0 = format!("{facts:?}"),
            Update::HostSignals { node, signals } => {
                out.entry(node.clone()).or_default().1 = format!("{signals:?}")
            }
            _ => {}
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_read_from_prometheus_give_the_facts_polling_gives() {
    if !require_tools() {
        return;
    }
    let nodes = ["prom-a", "prom-b"];
    let procs: Vec<Agent> = nodes.iter().map(|n| Agent::start(&fixture(n))).collect();
    let urls: Vec<String> = procs.iter().map(Agent::url).collect();
    let targets: Vec<String> = procs.iter().map(|a| a.addr.to_string()).collect();
    let prom = Prom::scraping(&targets);

    // Polled, one round.
    let opts = AgentsOptions { urls: urls.clone(), ..AgentsOptions::default() };
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let poller = tokio::spawn(agents::run(opts, tx));
    let mut polled = Vec::new();
    while facts(&polled).len() < nodes.len() {
        let batch = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("a round").unwrap();
        polled.extend(batch);
    }
    poller.abort();

    // From Prometheus, once it has scraped both agents.
    let q =
        Queries::new(None, "topology.kubernetes.io/zone", offline_pods(&[], &[]), &BTreeMap::new()).unwrap();
    let b = Backend::new(
        &BackendOptions { url: prom.url.clone(), auth: None, timeout: Duration::from_secs(5) },
        q,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let read = loop {
        let mut counters = HashMap::new();
        let u = from_prom::round(&b, Utc::now(), &mut counters).await;
        if facts(&u).len() == nodes.len() {
            break u;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus did not scrape both agents in 30 s: {u:?}\n{}",
            prom.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let ok = read.iter().any(|u| {
        matches!(u, Update::Health { source: SourceId::Agents, scope, health: SourceHealth::Ok, .. } if scope == from_prom::SCOPE)
    });
    assert!(ok, "the source says ok: {read:?}");
    let (want, got) = (facts(&polled), facts(&read));
    assert_eq!(got.keys().collect::<Vec<_>>(), nodes.iter().collect::<Vec<_>>());
    assert_eq!(got, want, "the same node facts from Prometheus as from polling");
    // The facts are as old as the scrape: the reading time is the agent's own.
    for u in &read {
        if let Update::Host { at, .. } = u {
            assert!(Utc::now() - *at < chrono::Duration::seconds(10), "reading time {at}");
        }
    }
    // A past moment from Prometheus alone (`snapshot --prometheus URL --at TIME`) carries them too.
    let hist = clustertop::sources::prometheus::history::updates_at(
        &b,
        &clustertop::sources::prometheus::PromOptions::default(),
        "topology.kubernetes.io/zone",
        Utc::now(),
        false,
    )
    .await
    .expect("history");
    assert_eq!(facts(&hist), want, "the agents' facts at a moment, from Prometheus");
    drop(procs);
}

/// Agents that Prometheus does not scrape: no data, with the reason (never zero facts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_agent_series_is_no_data_with_the_reason() {
    if !require_tools() {
        return;
    }
    let prom = Prom::scraping(&[]);
    let q =
        Queries::new(None, "topology.kubernetes.io/zone", offline_pods(&[], &[]), &BTreeMap::new()).unwrap();
    let b = Backend::new(
        &BackendOptions { url: prom.url.clone(), auth: None, timeout: Duration::from_secs(5) },
        q,
    )
    .unwrap();
    let u = from_prom::round(&b, Utc::now(), &mut HashMap::new()).await;
    assert_eq!(u.len(), 1, "{u:?}");
    let Update::Health { health: SourceHealth::NoData { reason }, .. } = &u[0] else { panic!("{u:?}") };
    assert!(reason.contains("agent-podmonitor.yaml"), "{reason}");
}
