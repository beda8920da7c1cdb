//! Realistic bodies (issue 21): `sim serve` serves pods and nodes with the bodies real clusters
//! have by default, `--slim` the bare shapes; the kube source reads the same cluster from both.
//! Two servers built at the same instant from the same seed, neither stepping; polls with
//! deadlines.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::time::Duration;

use crate::support::kube::{Harness, serve_config, start_with};
use clustertop::model::Snapshot;
use clustertop::sim::SimConfig;
use clustertop::sim::serve::ServeConfig;
use serde_json::Value;

fn cfg(nodes: usize, pods: Option<usize>, slim: bool) -> ServeConfig {
    ServeConfig {
        sim: SimConfig { nodes, ..SimConfig::default() },
        pods,
        slim,
        // Nodes and pods in protobuf (the client asks for it), unless a test says JSON.
        no_protobuf: false,
        // Built at one instant and never stepped: both servers hold the same cluster.
        now: Some(clustertop_core::testkit::T0),
        step: Duration::from_secs(3600),
        ..serve_config("127.0.0.1:0", &[])
    }
}

/// The snapshot JSON without what depends on where and when it was read: the server's address
/// (`cluster`), the sources' health, and when each node and BGP report was last seen.
fn model(s: &Snapshot) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(o) => {
                for k in ["cluster", "sources", "seen", "at"] {
                    o.remove(k);
                }
                o.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: Value = serde_json::from_str(&clustertop::snapshot_cmd::json(s)).unwrap();
    strip(&mut v);
    v
}

/// The first place `a` and `b` differ, as a JSON pointer with both values.
fn first_difference(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => x.keys().chain(y.keys()).find_map(|k| {
            first_difference(
                x.get(k).unwrap_or(&Value::Null),
                y.get(k).unwrap_or(&Value::Null),
                &format!("{at}/{k}"),
            )
        }),
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (p, q))| first_difference(p, q, &format!("{at}/{i}")))
        }
        _ if a == b => None,
        _ => Some(format!("{at}: {a} != {b}")),
    }
}

async fn synced(cfg: ServeConfig, within: Duration) -> (Harness, Snapshot) {
    let mut h = start_with(cfg, 500, None).await;
    h.server.control().pause_churn(true);
    let at = clustertop_core::testkit::T0 + chrono::Duration::minutes(5);
    h.until_within("initial sync", within, |s| {
        crate::support::kube::kube_health(s).is_some_and(|x| x.is_ok())
    })
    .await;
    let snap = h.state.snapshot(at);
    (h, snap)
}

async fn bytes_of(h: &Harness, path: &str) -> usize {
    let url = format!("http://{}{path}", h.server.addr);
    reqwest_free_get(&url).await.len()
}

/// A plain HTTP/1.1 GET over loopback (the body's length is all that is read).
async fn reqwest_free_get(url: &str) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let at = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    buf.split_off(at)
}

/// Realistic bodies in protobuf (what the client asks for), the same in JSON (a server that does
/// not offer protobuf: the fallback) and slim bodies in JSON read as one model.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realistic_and_slim_bodies_of_one_cluster_give_the_same_model() {
    let (real, a) = synced(cfg(24, None, false), Duration::from_secs(30)).await;
    let (real_json, c) =
        synced(ServeConfig { no_protobuf: true, ..cfg(24, None, false) }, Duration::from_secs(30)).await;
    let (slim, b) =
        synced(ServeConfig { no_protobuf: true, ..cfg(24, None, true) }, Duration::from_secs(30)).await;
    // A server without streaming lists: paginated lists, the same model.
    let (paged, d) =
        synced(ServeConfig { no_watch_list: true, ..cfg(24, None, false) }, Duration::from_secs(30)).await;
    assert!(!a.nodes.is_empty());
    let (ma, mb, mc, md) = (model(&a), model(&b), model(&c), model(&d));
    assert_eq!(first_difference(&ma, &mb, ""), None);
    assert_eq!(first_difference(&mc, &mb, ""), None);
    assert_eq!(first_difference(&md, &mb, ""), None);
    assert_eq!(ma, mb);
    assert_eq!(mc, mb);
    assert_eq!(md, mb);
    // The sources' health says how each list was made and which encoding it came in.
    let note = |s: &Snapshot, scope: &str| {
        s.sources.iter().find(|x| x.scope == scope).and_then(|x| x.note.clone()).unwrap_or_default()
    };
    for scope in ["nodes", "pods"] {
        assert_eq!(note(&a, scope), "list: watch-list, protobuf");
        assert_eq!(note(&c, scope), "list: watch-list, JSON");
        assert_eq!(note(&d, scope), "list: paginated, protobuf");
    }
    // The server without them was asked once per kind for a streaming list, then only for pages.
    let asked = |path: &str| {
        let reqs = paged.server.control().requests();
        let n = |f: &dyn Fn(&str) -> bool| reqs.iter().filter(|(_, q)| q.starts_with(path) && f(q)).count();
        (n(&|q| q.contains("sendInitialEvents=true")), n(&|q| !q.contains("watch=")))
    };
    for path in ["/api/v1/nodes?", "/api/v1/pods?"] {
        let (streams, pages) = asked(path);
        assert_eq!(streams, 1, "{path}: streaming lists asked of a server without them");
        assert!(pages >= 1, "{path}: no paginated list after the refusal");
    }
    let reqs = paged.server.control().requests();
    assert!(
        reqs.iter().any(|(_, q)| q.starts_with("/api/v1/pods?") && q.contains("continue=")),
        "a second page"
    );
    paged.stop().await;
    real_json.stop().await;
    // The realistic pods are real-sized: 5-15 KB each; the slim ones under 1.5 KB.
    let pod = "/api/v1/namespaces/kube-system/pods";
    let (rb, sb) = (bytes_of(&real, pod).await, bytes_of(&slim, pod).await);
    let n = real.server.control().served_pods().iter().filter(|p| p.key.starts_with("kube-system/")).count();
    assert!(n > 0);
    let per = |b: usize| b / n;
    assert!((5_000..15_000).contains(&per(rb)), "realistic pod {} B", per(rb));
    assert!(per(sb) < 1_500, "slim pod {} B", per(sb));
    let nodes = "/api/v1/nodes";
    let node_bytes = bytes_of(&real, nodes).await / 24;
    assert!((4_000..10_000).contains(&node_bytes), "realistic node {node_bytes} B");
    real.stop().await;
    slim.stop().await;
}

/// 5,000 nodes and 150,000 realistic pods (about 1.5 GB of JSON): the counts are exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_5000_nodes_and_150000_realistic_pods_the_counts_are_exact() {
    let (h, snap) = synced(cfg(5_000, Some(150_000), false), Duration::from_secs(300)).await;
    assert_eq!(snap.nodes.len(), 5_000);
    let mut want = std::collections::BTreeMap::new();
    let served = h.server.control().served_pods();
    assert_eq!(served.len(), 150_000);
    for p in served.iter().filter(|p| !p.finished) {
        if let Some(n) = &p.node {
            *want.entry(n.clone()).or_insert(0u32) += 1;
        }
    }
    assert_eq!(crate::support::kube::pods_per_node(&snap), want);
    h.stop().await;
}
