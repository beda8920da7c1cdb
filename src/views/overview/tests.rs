#![allow(clippy::unwrap_used)]

use crate::app::Model;
use crate::testkit::cluster_a as fixture;
use crate::testkit::cluster_b as fb;
use crate::theme::Theme;

#[test]
fn preview_fixture() {
    let snap = fixture::snapshot();
    let wide = fb::preview("overview fixture", &snap, &Model::default(), super::render);
    assert!(wide.contains("13 nodes"), "{wide}");
    assert!(wide.contains("1 isolated"), "{wide}");
    assert!(wide.contains("BGP isolated"), "{wide}");
    let th = Theme::builtin("default", false).unwrap();
    let small = fb::render(&snap, &Model::default(), &th, 80, 21, super::render).join("\n");
    assert!(small.contains("node-02"), "fullest conntrack shown:\n{small}");
    assert!(small.contains("94%"), "{small}");
    assert!(small.contains("next window 01:00-06:00 in 13h"), "{small}");
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

#[test]
fn full_screen_sim() {
    use crate::app::{Mode, View};
    let th = Theme::builtin("default", false).unwrap();
    for (view, mode) in [
        (View::Overview, Mode::Browse),
        (View::Nodes, Mode::Browse),
        (View::Network, Mode::Browse),
        (View::Nodes, Mode::Detail("r5-n08".into())),
    ] {
        let m = Model { view, mode, ..Model::default() };
        for (w, h) in [(80, 24), (120, 40)] {
            println!("--- screen {view:?} {w}x{h}\n{}", fb::screen(fb::sim(), &m, &th, w, h));
        }
    }
}

#[test]
fn same_findings_share_a_line() {
    let mut snap = fixture::snapshot();
    let i = snap.findings.iter().position(|f| f.rule == crate::model::Rule::KataHostNetwork).unwrap();
    let mut f = snap.findings[i].clone();
    f.subject = "batch/transcode-3".into();
    snap.findings.insert(i + 1, f);
    let th = Theme::builtin("default", false).unwrap();
    let t = fb::render(&snap, &Model::default(), &th, 80, 24, super::render).join("\n");
    assert!(t.contains("batch/transc… +1"), "{t}");
    assert_eq!(t.matches("Kata pod asks").count(), 1, "{t}");
}
