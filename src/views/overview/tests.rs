#![allow(clippy::unwrap_used)]

use super::fixture;
use crate::app::Model;
use crate::theme::Theme;
use crate::views::utilization::fixture as fb;

#[test]
fn preview_fixture() {
    let snap = fixture::snapshot();
    let wide = fb::preview("overview fixture", &snap, &Model::default(), super::render);
    assert!(wide.contains("13 nodes"), "{wide}");
    assert!(wide.contains("1 at 0/2"), "{wide}");
    assert!(wide.contains("BGP isolated"), "{wide}");
    let th = Theme::builtin("default", false).unwrap();
    let small = fb::render(&snap, &Model::default(), &th, 80, 21, super::render).join("\n");
    assert!(small.contains("node-02"), "fullest conntrack shown:\n{small}");
    assert!(small.contains("94%"), "{small}");
    assert!(small.contains("next window 01:00-06:00 in 13h00m"), "{small}");
    assert!(small.contains("CRIT"), "{small}");
}

#[test]
fn preview_sim() {
    let snap = fb::sim();
    fb::preview("overview sim", &snap, &Model::default(), super::render);
}

#[test]
fn empty_cluster() {
    let mut snap = fixture::snapshot();
    snap.nodes.clear();
    snap.findings.clear();
    snap.cpu = None;
    snap.fills.clear();
    let text = fb::preview("overview empty", &snap, &Model::default(), super::render);
    assert!(text.contains("no findings"), "{text}");
}
