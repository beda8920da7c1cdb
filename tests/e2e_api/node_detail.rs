//! A node's pods and Events, on demand, from `sim serve` over real HTTP with the real kube-rs
//! client: exactly the server's pods and events for that node, with field-selected GETs only,
//! never an Events watch, and nothing at all while no detail is open.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::kube::start;
use clustertop::sources::detail::{self, NodeDetail, Part, Want};
use clustertop::sources::kube::node_detail::{Offline, fetch};

/// `%3D` → `=`, `%2C` → `,`, `%2F` → `/`, and kube-rs's `?&` → `?`: the log holds the query as sent.
fn decode(s: &str) -> String {
    s.replace("?&", "?")
        .replace("%3D", "=")
        .replace("%3d", "=")
        .replace("%2C", ",")
        .replace("%2c", ",")
        .replace("%2F", "/")
}

/// Requests about events, or the field-selected pod list: (path?query decoded).
fn detail_requests(all: &[(String, String)]) -> Vec<String> {
    all.iter()
        .map(|(m, q)| {
            assert_eq!(m, "GET", "read-only: {q}");
            decode(q)
        })
        .filter(|q| q.contains("/events") || q.contains("fieldSelector=spec.nodeName="))
        .collect()
}

/// The node of the served cluster with the most events (warnings among them).
fn busiest(h: &crate::support::kube::Harness) -> String {
    let nodes: BTreeSet<String> =
        h.server.control().served_pods().into_iter().filter_map(|p| p.node).collect();
    let score = |n: &String| {
        let ev = h.server.control().node_events(n);
        (ev.iter().filter(|e| e.2 == "BackOff" || e.2 == "FailedMount").count(), ev.len())
    };
    nodes.iter().max_by_key(|n| score(n)).cloned().unwrap()
}

fn keys(d: &NodeDetail) -> (BTreeSet<String>, Vec<(String, String, String)>) {
    let pods = match &d.pods {
        Part::Ok(p) => p.iter().map(|p| format!("{}/{}", p.namespace, p.name)).collect(),
        Part::Failed(why) => panic!("pods failed: {why}"),
    };
    let mut events: Vec<(String, String, String)> = match &d.events {
        Part::Ok(e) => e.iter().map(|e| (e.kind.clone(), e.object.clone(), e.reason.clone())).collect(),
        Part::Failed(why) => panic!("events failed: {why}"),
    };
    events.sort();
    (pods, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nodes_detail_lists_exactly_the_servers_pods_and_events_with_field_selected_gets() {
    let mut h = start(&[], 500).await;
    h.synced().await;
    h.server.control().pause_churn(true);
    let node = busiest(&h);
    let before = h.server.control().requests().len();
    let d = fetch(&h.client, &node, &Offline::default()).await;
    let (pods, events) = keys(&d);

    // Exactly what the server holds for the node.
    let served: BTreeSet<String> = h
        .server
        .control()
        .served_pods()
        .into_iter()
        .filter(|p| p.node.as_deref() == Some(node.as_str()))
        .map(|p| p.key)
        .collect();
    assert_eq!(pods, served);
    assert_eq!(events, h.server.control().node_events(&node));
    assert!(events.iter().any(|e| e.2 == "BackOff" || e.2 == "FailedMount"), "{events:?}");
    // A pod's BackOff counts its restarts; its requests and age came with it.
    let rows = d.pods.ok().unwrap();
    for e in d.events.ok().unwrap().iter().filter(|e| e.reason == "BackOff") {
        let p = rows.iter().find(|p| format!("{}/{}", p.namespace, p.name) == e.object).unwrap();
        assert!(e.warning);
        assert_eq!(e.count, p.restarts, "{}", e.object);
    }
    assert!(rows.iter().any(|p| p.cpu_m.is_some() && p.mem_bytes.is_some()));
    assert!(rows.iter().all(|p| p.created.is_some()));

    // The requests: one pod list and one node-event list, field-selected; one event list per pod,
    // in its namespace, field-selected to it; no watch, no unselected list.
    let all = h.server.control().requests();
    let reqs = detail_requests(&all[before..]);
    assert_eq!(d.requests, reqs.len());
    assert_eq!(reqs.len(), 2 + pods.len(), "{reqs:#?}");
    let pod_list = format!("/api/v1/pods?fieldSelector=spec.nodeName={node}");
    assert_eq!(reqs.iter().filter(|q| q.as_str() == pod_list).count(), 1, "{reqs:#?}");
    let node_events =
        format!("/api/v1/events?fieldSelector=involvedObject.kind=Node,involvedObject.name={node}");
    assert_eq!(reqs.iter().filter(|q| q.as_str() == node_events).count(), 1, "{reqs:#?}");
    for key in &pods {
        let (ns, name) = key.split_once('/').unwrap();
        let want = format!(
            "/api/v1/namespaces/{ns}/events?fieldSelector=involvedObject.kind=Pod,involvedObject.name={name}"
        );
        assert_eq!(reqs.iter().filter(|q| **q == want).count(), 1, "{want} in {reqs:#?}");
    }
    // No Events watch, ever, by anyone in this process (the cluster source included).
    assert!(!all.iter().any(|(_, q)| q.contains("/events") && q.contains("watch=")), "{all:#?}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_events_still_show_the_pods() {
    let mut h = start(&["events"], 500).await;
    h.synced().await;
    let node = h.server.control().served_pods().into_iter().find_map(|p| p.node).unwrap();
    let d = fetch(&h.client, &node, &Offline::default()).await;
    assert!(matches!(&d.pods, Part::Ok(p) if !p.is_empty()));
    assert_eq!(d.events, Part::Failed("forbidden".into()));
    // Forbidden at the node's list: no per-pod lists follow.
    assert_eq!(d.requests, 2);
    h.stop().await;
}

/// The on-demand loop over the real client: no request while no detail is open, the node's lists
/// at once when one opens, again while it stays open, none after it closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_made_only_while_a_detail_is_open() {
    let mut h = start(&[], 500).await;
    h.synced().await;
    h.server.control().pause_churn(true);
    let node = busiest(&h);
    let (mut ui, serve) = detail::link();
    let client = h.client.clone();
    let fetcher = move |n: String| {
        let c = client.clone();
        async move { fetch(&c, &n, &Offline::default()).await }
    };
    let task = tokio::spawn(detail::serve(fetcher, serve, Duration::from_millis(300)));
    let count = || detail_requests(&h.server.control().requests()).len();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(count(), 0, "no detail open: no request");

    ui.want.send_replace(Want { node: Some(node.clone()), asked: 0 });
    let d = tokio::time::timeout(Duration::from_secs(20), ui.got.recv()).await.unwrap().unwrap();
    assert_eq!(d.node, node);
    let one = d.requests;
    let d2 = tokio::time::timeout(Duration::from_secs(20), ui.got.recv()).await.unwrap().unwrap();
    assert_eq!(d2.requests, one, "a refresh asks the same lists again");

    ui.want.send_replace(Want { node: None, asked: 0 });
    // Whatever was in flight lands; then nothing more.
    while tokio::time::timeout(Duration::from_millis(700), ui.got.recv()).await.is_ok() {}
    let after = count();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(count(), after, "closed: no more requests");
    assert_eq!(after % one, 0, "only whole refreshes: {after} requests, {one} each");
    drop(ui);
    tokio::time::timeout(Duration::from_secs(5), task).await.unwrap().unwrap();
    h.stop().await;
}
