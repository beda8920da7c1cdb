#![allow(clippy::unwrap_used)]

use crate::app::{Mode, Model};
use crate::testkit::cluster_a as fixture;
use crate::testkit::cluster_b as fb;
use crate::theme::Theme;

fn detail(name: &str) -> Model {
    Model { mode: Mode::Detail(name.into()), ..Model::default() }
}

fn text(model: &Model, w: u16, h: u16) -> String {
    let th = Theme::builtin("default", false).unwrap();
    fb::render(&fixture::snapshot(), model, &th, w, h, super::render).join("\n")
}

#[test]
fn preview_isolated_and_conntrack_nodes() {
    let snap = fixture::snapshot();
    let wide = fb::preview("detail node-07", &snap, &detail("node-07"), super::render);
    assert!(wide.contains("0/2"), "{wide}");
    assert!(wide.contains("connect: connection refused"), "{wide}");
    assert!(wide.contains("bgp-isolated"), "{wide}");
    assert!(wide.contains("batch/ffmpeg-7"), "kata pods listed:\n{wide}");
    let wide = fb::preview("detail node-02", &snap, &detail("node-02"), super::render);
    assert!(wide.contains("on, on a bridge node"), "{wide}");
    assert!(wide.contains("insert-failed 12.5/s"), "{wide}");
    let t = text(&detail("node-03"), 80, 40);
    assert!(t.contains("below keep-alive idle 15m"), "{t}");
    let t = text(&detail("node-05"), 200, 50);
    assert!(t.contains("batch/transcode-2") && t.contains("kata-host-network"), "pod finding shown:\n{t}");
    let t = text(&detail("node-08"), 120, 50);
    assert!(t.contains("not loaded (br_netfilter absent)"), "{t}");
}

#[test]
fn preview_sim_node() {
    let snap = fb::sim();
    let name =
        snap.nodes.iter().find(|n| n.bgp_verdict == crate::model::BgpVerdict::Degraded).unwrap().name.clone();
    fb::preview("detail sim degraded", &snap, &detail(&name), super::render);
}

#[test]
fn gone_node_says_so() {
    let t = text(&detail("node-99"), 80, 21);
    assert!(t.contains("node node-99 is gone from the cluster"), "{t}");
    fb::preview("detail gone", &fixture::snapshot(), &detail("node-99"), super::render);
}

#[test]
fn scroll_is_clamped() {
    let mut m = detail("node-07");
    m.scroll = 10_000;
    let t = text(&m, 80, 12);
    assert!(t.contains("lines"), "{t}");
    let last = t.lines().nth(10).unwrap();
    assert!(!last.trim_matches(['│', ' ']).is_empty(), "last page is full, not blank:\n{t}");
    let no_node = text(&detail("node-09"), 80, 50);
    assert!(no_node.contains("no sessions reported"), "{no_node}");
}

#[test]
fn wrap_fits_width() {
    let t = Theme::builtin("default", true).unwrap();
    assert_eq!(crate::views::widgets::wrap(&t, "one two three four", 9), vec!["one two", "three", "four"]);
    assert_eq!(crate::views::widgets::wrap(&t, "abcdefghijkl x", 5), vec!["abcd~", "x"]);
    assert!(crate::views::widgets::wrap(&t, "", 5).is_empty());
}

#[test]
fn every_label_is_listed_and_the_nodes_age_is_shown() {
    let snap = fb::sim();
    let th = Theme::builtin("default", false).unwrap();
    let t = fb::render(&snap, &detail("r1-n01"), &th, 160, 48, super::render).join("\n");
    for l in [
        "clustertop.io/cni=flannel",
        "node.kubernetes.io/instance-type=bm.64c.512g",
        "topology.kubernetes.io/zone=dc1-zone-a",
    ] {
        assert!(t.contains(l), "{l} listed:\n{t}");
    }
    assert!(!t.contains("more"), "no label is hidden while there is room:\n{t}");
    assert!(t.contains("Age         2y81d  (created 2024-09-03 19:00 UTC)"), "{t}");
    let t = text(&detail("node-09"), 100, 20);
    assert!(t.contains("Age         ? (the API object has no creationTimestamp)"), "{t}");
}

/// A node running two CNI agents (mid-migration) has a finding, not "nothing wrong found".
#[test]
fn a_node_with_two_cni_agents_has_a_finding() {
    let snap = fb::sim();
    let n = snap.nodes.iter().find(|n| n.net.mode == crate::model::NetMode::Migrating).unwrap();
    let th = Theme::builtin("default", false).unwrap();
    let t = fb::render(&snap, &detail(&n.name), &th, 120, 60, super::render).join("\n");
    assert!(t.contains("cni-two-agents") && t.contains("2 CNI agents on one node"), "{t}");
    assert!(!t.contains("nothing wrong found"), "{t}");
}

/// Three pods of one job with the same finding: said once, the other pods named, not three
/// identical blocks.
#[test]
fn the_same_pod_finding_three_times_is_said_once() {
    let snap = fb::sim();
    let th = Theme::builtin("default", false).unwrap();
    let t = fb::render(&snap, &detail("r6-n06"), &th, 200, 80, super::render).join("\n");
    assert_eq!(t.matches("kata-pod-without-kvm").count(), 1, "{t}");
    assert!(t.contains(" +2  "), "{t}");
    assert!(t.contains("also media-batch/"), "{t}");
    assert!(
        t.contains("3 about this node or its pods") || t.contains("4 about this node or its pods"),
        "{t}"
    );
}

/// A node that lost its session to a dead TOR shows the TOR's finding (it has no ECMP warning of
/// its own any more).
#[test]
fn a_node_behind_a_dead_tor_shows_the_tor_finding() {
    let t = text(&detail("node-10"), 120, 60);
    assert!(t.contains("bgp-peer-down") && t.contains("TOR tor-3b down"), "{t}");
    assert!(!t.contains("nothing wrong found"), "{t}");
    let t = text(&detail("node-05"), 120, 60);
    assert!(!t.contains("bgp-peer-down"), "node-05 is in rack-2: {t}");
}

/// A sandbox compatibility finding about a pod shows in its node's detail and in Triage.
#[test]
fn a_kata_pod_asking_for_host_pid_shows_in_node_detail_and_triage() {
    let mut snap = fb::sim();
    let kata = snap.runtime_classes.iter().find(|c| c.kind == crate::model::RuntimeKind::Kata).unwrap();
    let (class, node) = (kata.name.clone(), snap.nodes[0].name.clone());
    let mut pods = (*snap.pods).clone();
    let mut p = clustertop_core::testkit::pod("shop", "debugger", &node, Some(&class));
    p.sandbox = crate::model::SandboxAsks { host_pid: true, ..Default::default() }.boxed();
    pods.insert(p);
    snap.pods = std::sync::Arc::new(pods);
    snap.findings = crate::analysis::rules::findings(&snap, &Default::default());
    let th = Theme::builtin("default", false).unwrap();
    let t = fb::render(&snap, &detail(&node), &th, 200, 80, super::render).join("\n");
    assert!(t.contains("kata-host-pid-ipc") && t.contains("shop/debugger"), "{t}");
    assert!(t.contains("spec.hostPID: true"), "{t}");
    let t = fb::render(&snap, &Model::default(), &th, 200, 80, crate::views::triage::render).join("\n");
    assert!(t.contains("kata-host-pid-ipc") && t.contains("shop/debugger"), "{t}");
}

/// A Cilium node's detail shows its BPF maps next to its kernel table (which holds only the
/// host's connections there); a Cilium node without Cilium metrics says `?` and why.
#[test]
fn a_cilium_node_shows_its_maps_or_why_they_are_unknown() {
    let snap = fb::snapshot();
    let th = Theme::builtin("default", false).unwrap();
    let t = fb::render(&snap, &detail("node-b1"), &th, 120, 60, super::render).join("\n");
    assert!(t.contains("Cilium maps"), "{t}");
    assert!(t.contains("ct4_global") && t.contains("82%") && t.contains("snat_v4_external"), "{t}");
    assert!(t.contains("CT: Map insertion failed 1.5/s"), "{t}");
    assert!(t.contains("pods' go through Cilium's maps (not judged)"), "{t}");
    let t = fb::render(&snap, &detail("node-b2-k"), &th, 120, 60, super::render).join("\n");
    assert!(t.contains("? no cilium metrics (Prometheus has no cilium_bpf_map_pressure"), "{t}");
    let t = fb::render(&snap, &detail("node-a1"), &th, 120, 60, super::render).join("\n");
    assert!(!t.contains("Cilium maps") && !t.contains("not judged"), "a bridge node: {t}");
}

/// Koordinator's batch tier in a node's detail: the node's and its rack's allocatable against
/// requests, and the offline pods' use once Prometheus says it (`?` and why before).
#[test]
fn the_batch_tier_shows_node_and_rack_and_use_when_known() {
    let mut snap = fb::sim();
    let th = Theme::builtin("default", false).unwrap();
    let t = fb::render(&snap, &detail("r4-n04"), &th, 120, 80, super::render).join("\n");
    assert!(t.contains("Batch tier  alloc 22.4 cores 160Gi  req "), "{t}");
    assert!(t.contains("rack-4    alloc 179.2 cores 1.2Ti"), "{t}");
    assert!(t.contains("used now ? no metrics"), "{t}");
    for n in snap.nodes.iter_mut().filter(|n| n.rack == "rack-4") {
        if let Some(b) = std::sync::Arc::make_mut(n).batch.as_mut() {
            b.used_cores = Some(1.5);
        }
    }
    let t = fb::render(&snap, &detail("r4-n04"), &th, 120, 80, super::render).join("\n");
    assert!(t.contains("used now: 1.5 cores, rack-4 12.0 cores"), "{t}");
}
