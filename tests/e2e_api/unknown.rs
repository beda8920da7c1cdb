//! Unknown is never zero: against `sim serve` with each kind forbidden in turn, and against an
//! API server that fails every request from the start, no figure derived from the missing kind
//! is shown as a number: the snapshot JSON has `null` with the reason, the views `?`.

use std::sync::Arc;

use crate::support::kube::{kube_health, serve_config, start_with};
use clustertop::app::{Model, Msg, View, update};
use clustertop::model::{NetMode, Snapshot};
use clustertop::sim::serve::Fault;
use clustertop::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use serde_json::Value;

/// Every view at 160x45, as text.
fn screens(snap: &Snapshot) -> Vec<(View, String)> {
    let theme = Theme::builtin("mono", true).expect("mono theme");
    let mut m = Model::default();
    update(&mut m, Msg::Snapshot(Arc::new(snap.clone())));
    View::ALL
        .iter()
        .map(|&v| {
            update(&mut m, Msg::ShowView(v));
            let mut buf = Buffer::empty(Rect::new(0, 0, 160, 45));
            clustertop::views::render(&m, &theme, buf.area, &mut buf);
            let text: Vec<String> = (0..buf.area.height)
                .map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol().to_string()).collect())
                .collect();
            (v, text.join("\n"))
        })
        .collect()
}

/// The snapshot's JSON, checked against the README's schema (the kube source's spellings, the
/// forbidden states, the tallies with every key).
fn json(snap: &Snapshot) -> Value {
    let doc = serde_json::from_str(&clustertop::snapshot_cmd::json(snap)).expect("snapshot JSON");
    let problems = crate::support::snapshot_schema::check(&doc);
    assert!(problems.is_empty(), "the README's snapshot schema:\n{}", problems.join("\n"));
    doc
}

/// `path` (a `/`-separated pointer, `*` for every array element) is `null` everywhere it exists.
fn all_null(doc: &Value, path: &str) -> Result<(), String> {
    fn walk(v: &Value, parts: &[&str], at: String) -> Result<(), String> {
        match parts {
            [] if v.is_null() => Ok(()),
            [] => Err(format!("{at} is {v}, not null")),
            ["*", rest @ ..] => v
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
                .try_for_each(|(i, x)| walk(x, rest, format!("{at}/{i}"))),
            [k, rest @ ..] => match v.get(*k) {
                Some(x) => walk(x, rest, format!("{at}/{k}")),
                None => Err(format!("{at}/{k} is missing")),
            },
        }
    }
    walk(doc, &path.split('/').filter(|p| !p.is_empty()).collect::<Vec<_>>(), String::new())
}

async fn forbidden(kind: &str) -> Snapshot {
    let mut h = start_with(serve_config("127.0.0.1:0", &[kind]), 500, None).await;
    let snap = h.synced().await;
    h.stop().await;
    snap
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_pods_leave_no_pod_figure() {
    let snap = forbidden("pods").await;
    let doc = json(&snap);
    assert!(doc["unknown"]["pods"].as_str().is_some_and(|r| r.contains("forbidden")), "{}", doc["unknown"]);
    for p in
        ["summary/pods", "summary/pods_finished", "summary/runtime_pods", "nodes/*/pods", "nodes/*/runtime"]
    {
        all_null(&doc, p).unwrap_or_else(|e| panic!("{p}: {e}"));
    }
    all_null(&doc, "runtime_classes/*/pods").expect("RuntimeClass pod counts unknown");
    assert!(doc["summary"]["nodes"].as_u64().is_some_and(|n| n > 0), "nodes are still known");
    for (view, text) in screens(&snap) {
        for zero in [" 0 pods", "runc 0", "runc      0", "(0 pods)"] {
            assert!(!text.contains(zero), "{view:?} shows {zero:?} with pods forbidden:\n{text}");
        }
    }
    let screens = screens(&snap);
    let overview = &screens[0].1;
    assert!(overview.contains("? pods"), "{overview}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_nodes_leave_no_node_count() {
    let snap = forbidden("nodes").await;
    let doc = json(&snap);
    assert!(doc["unknown"]["nodes"].as_str().is_some_and(|r| r.contains("forbidden")), "{}", doc["unknown"]);
    all_null(&doc, "summary/nodes").expect("node count unknown");
    all_null(&doc, "summary/ready").expect("ready count unknown");
    let screens = screens(&snap);
    assert!(screens[0].1.contains("? nodes"), "{}", screens[0].1);
    assert!(!screens[0].1.contains(" 0 nodes"), "{}", screens[0].1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_runtimeclasses_leave_no_runtime_mix() {
    let snap = forbidden("runtimeclasses").await;
    let doc = json(&snap);
    all_null(&doc, "summary/runtime_pods").expect("mix unknown");
    all_null(&doc, "nodes/*/runtime").expect("per-node mix unknown");
    assert!(doc["summary"]["pods"].as_u64().is_some_and(|n| n > 0), "pods are still counted");
    for (view, text) in screens(&snap) {
        assert!(!text.contains("runc 0 ("), "{view:?}:\n{text}");
    }
}

/// The BGP kinds: a Cilium node whose BGP configuration cannot be read is never called a tunnel
/// node, and its BGP is unknown, never isolated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_bgp_kinds_never_turn_bgp_nodes_into_tunnel_nodes() {
    let truth = forbidden("none").await;
    let bgp_nodes: Vec<String> =
        truth.nodes.iter().filter(|n| n.net.mode == NetMode::CiliumBgp).map(|n| n.name.clone()).collect();
    assert!(!bgp_nodes.is_empty(), "the simulated cluster has BGP nodes");
    for kind in ["ciliumbgpnodeconfigs", "ciliumbgppeerconfigs", "ciliumbgpadvertisements"] {
        let snap = forbidden(kind).await;
        for name in &bgp_nodes {
            let n = snap.node(name).expect("node listed");
            assert_eq!(
                n.net.mode,
                NetMode::CiliumUndetermined,
                "{kind} forbidden: {name} is {:?}",
                n.net.mode
            );
            if kind == "ciliumbgpnodeconfigs" {
                assert_eq!(n.bgp_label(), "?/2", "{kind} forbidden: {name}");
            }
        }
        let doc = json(&snap);
        let undetermined = doc["summary"]["net_modes"]["cilium_undetermined"].as_u64();
        assert!(undetermined.is_some_and(|n| n >= bgp_nodes.len() as u64), "{kind}: {}", doc["summary"]);
    }
}

/// An API server that fails every request from the start: nothing was ever listed, so nothing
/// is counted, and the views say why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_server_failing_from_the_start_leaves_everything_unknown() {
    for fault in
        [Fault::Status { code: 500, retry_after: None }, Fault::Status { code: 403, retry_after: None }]
    {
        let cfg = clustertop::sim::serve::ServeConfig { fault, ..serve_config("127.0.0.1:0", &[]) };
        let mut h = start_with(cfg, 500, None).await;
        let snap =
            h.until("the source says the server fails", |s| kube_health(s).is_some_and(|h| !h.is_ok())).await;
        h.stop().await;
        let doc = json(&snap);
        for p in ["summary/nodes", "summary/pods", "summary/runtime_pods"] {
            all_null(&doc, p).unwrap_or_else(|e| panic!("{fault:?} {p}: {e}"));
        }
        let overview = &screens(&snap)[0].1;
        assert!(overview.contains("? nodes") && !overview.contains(" 0 pods"), "{fault:?}:\n{overview}");
    }
}
