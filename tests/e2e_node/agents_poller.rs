//! The agents poller against real `clustertop agent` processes: two healthy, one hung (SIGSTOP),
//! and a fake agent that streams 10 MB. One round delivers the healthy nodes promptly and marks
//! the hung and oversized ones unreachable with the reason; nothing waits on the bad ones. Fake
//! agents (`crate::support::agent::FakeAgent`) serving a real agent's report answer too slowly, or
//! close the connection in the middle of the body.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::agent::{Agent, FakeAgent, Reply, fixture, ok_json, real_report};
use clustertop::model::Update;
use clustertop::model::{SourceHealth, SourceId};
use clustertop::sources::agents::{self, AgentsOptions};

/// An "agent" that answers every request with a 10 MB body and no Content-Length, so the cap has
/// to be enforced while reading.
fn oversized() -> FakeAgent {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
    FakeAgent::start(move |_| {
        let mut bytes = head.as_bytes().to_vec();
        bytes.resize(head.len() + 160 * 64 * 1024, b' ');
        Reply { delay: Duration::ZERO, bytes }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_round_good_agents_promptly_bad_ones_with_reasons() {
    let dirs: Vec<_> = ["fx-a", "fx-b", "fx-hung"].iter().map(|n| fixture(n)).collect();
    let procs: Vec<Agent> = dirs.iter().map(|d| Agent::start(d)).collect();
    let hung = &procs[2];
    assert!(Command::new("kill").args(["-STOP", &hung.pid()]).status().unwrap().success());
    let oversized = oversized();
    let big = oversized.url();

    let mut urls: Vec<String> = procs.iter().map(Agent::url).collect();
    urls.push(big.clone());
    let opts = AgentsOptions {
        urls: urls.clone(),
        interval: Duration::from_secs(1),
        timeout: Duration::from_secs(2),
        ..AgentsOptions::default()
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let started = Instant::now();
    let poller = tokio::spawn(agents::run(opts, tx));

    // Health per URL, with when it came; hosts per node.
    let mut health: BTreeMap<String, (SourceHealth, Duration)> = BTreeMap::new();
    let mut hosts = BTreeMap::new();
    let mut signals = BTreeMap::new();
    let deadline = Duration::from_secs(1 + 2 + 3);
    while health.len() < urls.len() {
        let left = deadline.saturating_sub(started.elapsed());
        let batch =
            tokio::time::timeout(left, rx.recv()).await.expect("a full round within interval + timeout");
        for u in batch.unwrap() {
            match u {
                Update::Health { source: SourceId::Agents, scope, health: h, .. } => {
                    health.entry(scope).or_insert((h, started.elapsed()));
                }
                Update::Host { node, facts, .. } => {
                    hosts.insert(node, facts);
                }
                Update::HostSignals { node, signals: s } => {
                    signals.insert(node, s);
                }
                _ => {}
            }
        }
    }
    poller.abort();

    for (i, node) in ["fx-a", "fx-b"].iter().enumerate() {
        let (h, at) = &health[&urls[i]];
        assert_eq!(h, &SourceHealth::Ok, "{node}");
        assert!(*at < Duration::from_secs(2), "{node} answered after {at:?}: held up by the hung one?");
        assert!(hosts.contains_key(*node) && signals.contains_key(*node), "{node}: {hosts:?}");
    }
    assert!(!hosts.contains_key("fx-hung"));
    match &health[&urls[2]] {
        (SourceHealth::Unreachable { error }, at) => {
            assert!(error.contains("timed out"), "{error}");
            assert!(error.contains(&urls[2]), "{error}");
            assert!(*at >= Duration::from_secs(2) && *at < Duration::from_secs(5), "{at:?}");
        }
        other => panic!("hung agent: {other:?}"),
    }
    match &health[&big] {
        (SourceHealth::Unreachable { error }, _) => assert!(error.contains("too large"), "{error}"),
        other => panic!("oversized agent: {other:?}"),
    }
    drop(procs); // SIGCONT + kill, by PID
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// `--agents auto` against the simulated API server (which runs no agent): the listing works,
/// finds nothing, and says so in the `discovery` scope.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_discovery_lists_agent_pods_and_says_when_there_are_none() {
    use clustertop::sim::serve::{ServeConfig, Server};
    use clustertop::sources::kube::{self as source, KubeOptions};
    let cfg = ServeConfig { listen: "127.0.0.1:0".parse().unwrap(), ..ServeConfig::default() };
    let server = Server::start(cfg).await.unwrap();
    let dir = crate::support::unique_dir("agents-auto");
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig()).unwrap();
    let opts = KubeOptions { kubeconfig: Some(kubeconfig), ..KubeOptions::default() };
    let (client, _) = source::connect(&opts).await.unwrap();
    assert_eq!(agents::discover(&client).await, Ok(vec![]));
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let task = tokio::spawn(agents::run_discovered(client, AgentsOptions::default(), tx));
    let batch = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.unwrap().unwrap();
    task.abort();
    match &batch[..] {
        [
            Update::Health {
                source: SourceId::Agents, scope, health: SourceHealth::NoData { reason }, ..
            },
        ] => {
            assert_eq!(scope, "discovery");
            assert!(reason.contains("app.kubernetes.io/name=clustertop-agent"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// The poller sends the bearer token of `--agent-token-file`; without it the agent says 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_poller_sends_the_agent_token() {
    let dir = fixture("fx-tok");
    let file = dir.join("token");
    std::fs::write(&file, "poller-t0ken\n").unwrap();
    let agent = Agent::start_with(&dir, &["--token-file".as_ref(), file.as_os_str()]);
    let token = clustertop::agent::token::Token::from_file(&file).unwrap();
    let with = agents::client(Some(&token)).unwrap();
    let report = agents::fetch(&with, &agent.url(), 256 * 1024).await.unwrap();
    assert_eq!(report.node, "fx-tok");
    let without = agents::client(None).unwrap();
    let err = agents::fetch(&without, &agent.url(), 256 * 1024).await.unwrap_err();
    assert!(err.to_string().contains("HTTP 401 for /v1/node"), "{err}");
    // Refused is forbidden, not unreachable: the agent is there, we may not read it.
    let h = err.health(&agent.url());
    assert!(matches!(&h, clustertop::model::SourceHealth::Forbidden { .. }), "{h:?}");
    drop(agent);
    let _ = std::fs::remove_dir_all(dir);
}

/// A real agent's report, renamed to `node`, padded with spaces (still valid JSON) to `len` bytes.
fn report_json(node: &str, len: usize) -> Vec<u8> {
    let mut v = real_report("fx-json");
    v["node"] = node.into();
    let mut body = serde_json::to_vec(&v).unwrap();
    assert!(body.len() <= len, "the report is {} bytes", body.len());
    body.resize(len, b' ');
    body
}

/// Every batch the poller sends within `deadline` or until `done` holds, each with when it came.
async fn collect(
    opts: AgentsOptions,
    deadline: Duration,
    mut done: impl FnMut(&[(Duration, Update)]) -> bool,
) -> Vec<(Duration, Update)> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let started = Instant::now();
    let poller = tokio::spawn(agents::run(opts, tx));
    let mut got = Vec::new();
    while !done(&got) {
        let left = deadline.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(batch)) => got.extend(batch.into_iter().map(|u| (started.elapsed(), u))),
            _ => break,
        }
    }
    poller.abort();
    got
}

/// Each agent's health reports in order, with when they came.
fn healths(got: &[(Duration, Update)], url: &str) -> Vec<(Duration, SourceHealth)> {
    got.iter()
        .filter_map(|(at, u)| match u {
            Update::Health { source: SourceId::Agents, scope, health, .. } if scope == url => {
                Some((*at, health.clone()))
            }
            _ => None,
        })
        .collect()
}

fn host_updates<'a>(got: &'a [(Duration, Update)], node: &str) -> Vec<&'a Update> {
    got.iter().map(|(_, u)| u).filter(|u| matches!(u, Update::Host { node: n, .. } if n == node)).collect()
}

/// A fake agent that sends a valid report only after 6 s, with a 3 s timeout: unreachable,
/// "timed out after 3.0 s", with its URL; a real agent in the same round answers at once, and a
/// fake one that takes 1.5 s (within the timeout) delivers its node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_agent_times_out_alone_and_one_within_the_timeout_delivers() {
    let fast_dir = fixture("fx-fast");
    let fast = Agent::start(&fast_dir);
    let slow_body = report_json("fx-slow", 4000);
    let slow = FakeAgent::start(move |_| Reply { delay: Duration::from_secs(6), bytes: ok_json(&slow_body) });
    let within_body = report_json("fx-within", 4000);
    let within =
        FakeAgent::start(move |_| Reply { delay: Duration::from_millis(1500), bytes: ok_json(&within_body) });
    let urls = vec![fast.url(), slow.url(), within.url()];
    let timeout = Duration::from_secs(3);
    let opts = AgentsOptions {
        urls: urls.clone(),
        interval: Duration::from_secs(30),
        timeout,
        ..AgentsOptions::default()
    };
    let got =
        collect(opts, timeout + Duration::from_secs(3), |g| urls.iter().all(|u| !healths(g, u).is_empty()))
            .await;

    let first = |u: &str| healths(&got, u).into_iter().next().unwrap_or_else(|| panic!("{u}: no health"));
    let (slow_at, slow_h) = first(&urls[1]);
    match &slow_h {
        SourceHealth::Unreachable { error } => {
            assert!(error.contains("timed out after 3.0 s"), "{error}");
            assert!(error.contains(&urls[1]), "{error}");
        }
        other => panic!("slow agent: {other:?}"),
    }
    assert!(slow_at >= timeout && slow_at < timeout + Duration::from_secs(3), "{slow_at:?}");
    let (fast_at, fast_h) = first(&urls[0]);
    assert_eq!(fast_h, SourceHealth::Ok);
    assert!(fast_at < timeout, "the real agent answered after {fast_at:?}: held up by the slow one?");
    let (within_at, within_h) = first(&urls[2]);
    assert_eq!(within_h, SourceHealth::Ok);
    assert!(within_at >= Duration::from_millis(1500) && within_at < slow_at, "{within_at:?}");
    assert_eq!(host_updates(&got, "fx-fast").len(), 1);
    assert_eq!(host_updates(&got, "fx-within").len(), 1);
    assert!(host_updates(&got, "fx-slow").is_empty(), "a timed-out answer delivered data");
    drop(fast);
    let _ = std::fs::remove_dir_all(fast_dir);
}

/// Two fake agents answer a good report to the first request, then cut the body short and close:
/// one declares `Content-Length: 5000` and sends 1000 bytes, the other sends one 1000-byte chunk
/// and never the last chunk. From the second round on each is unreachable with a reason that says
/// the body was cut (not a JSON error), no new facts come for its node (the store keeps the first
/// round's with their age), and every round tries again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_closing_mid_body_is_unreachable_keeps_its_facts_and_is_retried() {
    let body = report_json("fx-cl", 5000);
    let cl = FakeAgent::start(move |n| {
        let mut bytes = ok_json(&body);
        if n > 0 {
            bytes.truncate(bytes.len() - 4000);
        }
        Reply { delay: Duration::ZERO, bytes }
    });
    let body = report_json("fx-chunk", 5000);
    let chunked = FakeAgent::start(move |n| {
        let mut bytes =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                .to_vec();
        let part = if n == 0 { &body[..] } else { &body[..1000] };
        bytes.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        bytes.extend_from_slice(part);
        bytes.extend_from_slice(b"\r\n");
        if n == 0 {
            bytes.extend_from_slice(b"0\r\n\r\n");
        }
        Reply { delay: Duration::ZERO, bytes }
    });
    let urls = vec![cl.url(), chunked.url()];
    let opts = AgentsOptions {
        urls: urls.clone(),
        interval: Duration::from_secs(1),
        timeout: Duration::from_secs(2),
        ..AgentsOptions::default()
    };
    // Three rounds: good, cut, cut again.
    let got = collect(opts, Duration::from_secs(15), |g| urls.iter().all(|u| healths(g, u).len() >= 3)).await;

    for (url, node) in urls.iter().zip(["fx-cl", "fx-chunk"]) {
        let h = healths(&got, url);
        assert!(h.len() >= 3, "{node}: {h:?}");
        assert_eq!(h[0].1, SourceHealth::Ok, "{node}");
        for (_, later) in &h[1..] {
            match later {
                SourceHealth::Unreachable { error } => {
                    assert!(error.contains(url.as_str()), "{error}");
                    assert!(error.contains("closed mid-body"), "{node}: {error}");
                    assert!(!error.contains("malformed"), "{node}: {error}");
                    if node == "fx-cl" {
                        assert!(error.contains(" of 5000 bytes"), "{error}");
                    }
                }
                other => panic!("{node}: {other:?}"),
            }
        }
        assert_eq!(host_updates(&got, node).len(), 1, "{node}: only the first round delivered facts");
    }
    assert!(cl.hits.load(std::sync::atomic::Ordering::SeqCst) >= 3);
    assert!(chunked.hits.load(std::sync::atomic::Ordering::SeqCst) >= 3);

    // The store keeps each node's facts from the good round, with their read time.
    use clustertop::model::NodeInfo;
    use clustertop::store::ClusterState;
    let mut state = ClusterState::new("c", Default::default());
    let t0 = chrono::Utc::now();
    for node in ["fx-cl", "fx-chunk"] {
        let info = NodeInfo {
            name: node.into(),
            rack: "r".into(),
            tors: ["a".into(), "b".into()],
            ready: true,
            labels: Default::default(),
            signals: Vec::new(),
            bgp_peers: None,
            created: None,
            batch_allocatable: None,
        };
        state.apply(Update::NodeApplied { node: info, at: t0 });
    }
    let read_at: BTreeMap<String, _> = got
        .iter()
        .filter_map(|(_, u)| match u {
            Update::Host { node, at, .. } => Some((node.clone(), *at)),
            _ => None,
        })
        .collect();
    for (_, u) in got {
        state.apply(u);
    }
    let snap = state.snapshot(chrono::Utc::now());
    for n in &snap.nodes {
        let host = n.host.as_ref().unwrap_or_else(|| panic!("{}: facts lost", n.name));
        assert_eq!(host.at, read_at[&n.name], "{}", n.name);
        assert!(host.value.conntrack.is_some(), "{}", n.name);
    }
    let down: Vec<_> = snap.sources.iter().filter(|s| !s.health.is_ok()).map(|s| &s.scope).collect();
    assert_eq!(down.len(), 2, "{down:?}");
}
