//! The real kube-rs source against `sim serve` over real HTTP on loopback: each test starts its
//! own server on port 0 and stops it. Polls with deadlines; never sleeps to synchronise.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::time::Duration;

use crate::support::kube::{NODES, pods_per_node, sim, start};
use chrono::Utc;
use clustertop::analysis::Settings;
use clustertop::model::{BgpState, NetMode, Snapshot, SourceHealth};
use clustertop::sim::snapshot_at;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, ListParams};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_matches_the_simulated_cluster() {
    let mut h = start(&[], 10).await;
    let snap = h.synced().await;
    // Topology and network modes equal the simulator's own (time-independent) view.
    let expected = snapshot_at(sim(), Utc::now(), Settings::default());
    let modes = |s: &Snapshot| s.nodes.iter().map(|n| (n.name.clone(), n.net.mode)).collect::<Vec<_>>();
    assert_eq!(modes(&snap), modes(&expected));
    assert!(snap.nodes.iter().any(|n| n.net.mode == NetMode::CiliumBgp));
    assert!(snap.nodes.iter().any(|n| n.net.mode == NetMode::BridgeVxlan));
    // BGP peers per node equal the simulator's.
    let peers = |s: &Snapshot| {
        s.nodes
            .iter()
            .map(|n| (n.name.clone(), n.bgp.iter().map(|b| b.peer.clone()).collect::<Vec<_>>()))
            .collect::<Vec<_>>()
    };
    assert_eq!(peers(&snap), peers(&expected));
    let racks = |s: &Snapshot| s.nodes.iter().map(|n| (n.rack.clone(), n.tors.clone())).collect::<Vec<_>>();
    assert_eq!(racks(&snap), racks(&expected));
    // Runtime mix and pod counts per node equal the server's, once churn is paused.
    h.server.control().pause_churn(true);
    let (want, classes) = h.server_view().await;
    let snap = h.until("pod counts equal the server's", |s| pods_per_node(s) == want).await;
    let mut mix = clustertop::model::RuntimeMix::default();
    snap.nodes.iter().filter_map(|n| n.runtime.as_ref()).for_each(|r| mix.merge(r));
    let count = |c: &str| classes.get(c).copied().unwrap_or(0);
    assert!(mix.kata > 0, "the simulated cluster runs Kata pods");
    assert_eq!((mix.runc, mix.kata, mix.gvisor), (count("runc"), count("kata"), count("gvisor")));
    assert_eq!(snap.runtime_classes.len(), expected.runtime_classes.len());
    // Nodes and pods came by streaming lists (`sim serve` offers them); the paginated lists are
    // exercised against a server without them (realistic.rs, kube_faults.rs).
    let reqs = h.server.control().requests();
    for path in ["/api/v1/nodes?", "/api/v1/pods?"] {
        let streamed = |q: &str| q.starts_with(path) && q.contains("sendInitialEvents=true");
        assert!(reqs.iter().any(|(_, q)| streamed(q)), "{path}: {reqs:?}");
        // (The test's own view of the server is one unpaginated list.)
        let pages: Vec<_> =
            reqs.iter().filter(|(_, q)| q.starts_with(path) && q.contains("limit=")).collect();
        assert!(pages.is_empty(), "{path}: pages {pages:?}");
    }
    // Read-only: every request was a GET.
    assert!(reqs.iter().all(|(m, _)| m == "GET"), "{:?}", reqs.iter().find(|(m, _)| m != "GET"));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bgp_state_change_on_the_server_shows_up() {
    let mut h = start(&[], 500).await;
    let snap = h.synced().await;
    let node = snap
        .nodes
        .iter()
        .find(|n| n.net.mode == NetMode::CiliumBgp && n.bgp.iter().all(|b| b.is_up()))
        .unwrap();
    let (name, peer) = (node.name.clone(), node.bgp[0].peer.clone());
    h.server.control().set_bgp_state(&name, &peer, "idle");
    h.until("the session goes idle", |s| {
        s.node(&name).is_some_and(|n| n.bgp.iter().any(|b| b.peer == peer && b.state == BgpState::Idle))
    })
    .await;
    h.server.control().set_bgp_state(&name, &peer, "established");
    let snap = h
        .until("the session comes back", |s| {
            s.node(&name).is_some_and(|n| n.bgp.iter().any(|b| b.peer == peer && b.is_up()))
        })
        .await;
    let resets = snap.node(&name).unwrap().bgp.iter().find(|b| b.peer == peer).unwrap().resets_1h;
    assert!(resets >= 1, "the source counts the reset it saw");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_410_gone_relists_with_no_lost_or_ghost_objects() {
    let mut h = start(&[], 50).await;
    h.synced().await;
    // Churn continues while every watch is expired, so the relist must remove deleted pods.
    let before = h.server.control().requests().len();
    h.server.control().expire();
    let relisted = |c: &clustertop::sim::serve::Control| {
        c.requests()[before..].iter().any(|(_, q)| {
            q.starts_with("/api/v1/pods")
                && (!q.contains("watch=true") || q.contains("sendInitialEvents=true"))
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !relisted(&h.server.control()) {
        assert!(std::time::Instant::now() < deadline, "the 410 did not lead to a relist of pods");
        // Keep applying updates while we wait, so the source is never blocked on a full channel.
        h.drain_for(Duration::from_millis(50)).await;
    }
    h.server.control().pause_churn(true);
    let want = h.server_pods().await;
    let snap = h.until("pods equal the server's after the relist", |s| pods_per_node(s) == want).await;
    let nodes: Api<Node> = Api::all(h.client.clone());
    let names: Vec<String> = nodes
        .list(&ListParams::default())
        .await
        .unwrap()
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    assert_eq!(
        snap.nodes.iter().map(|n| n.name.clone()).collect::<Vec<_>>(),
        names,
        "no lost or ghost nodes"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forbidden_kind_leaves_the_others_working() {
    let mut h = start(&["ciliumbgpnodeconfigs"], 500).await;
    let snap = h
        .until("the forbidden kind is reported", |s| {
            s.sources.iter().any(|x| {
                matches!(&x.health, SourceHealth::Forbidden { resource, .. } if resource.contains("ciliumbgpnodeconfigs"))
            })
        })
        .await;
    // Pods are listed on their own watch: they may land after the nodes (poll, never assume).
    let pods = |s: &Snapshot| s.nodes.iter().any(|n| n.runtime.is_some_and(|r| r.total() > 0));
    let snap = if snap.nodes.len() == NODES && pods(&snap) {
        snap
    } else {
        h.until("all nodes, and pods still arrive", |s| s.nodes.len() == NODES && pods(s)).await
    };
    assert!(snap.nodes.iter().all(|n| n.bgp.is_empty()), "no BGP data without permission");
    assert!(
        snap.findings.iter().any(|f| f.rule == clustertop::model::Rule::SourceForbidden),
        "the Triage view gets a finding"
    );
    h.stop().await;
}
