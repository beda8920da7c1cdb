#![allow(clippy::unwrap_used)]

use crate::app::{Model, View};
use crate::testkit::cluster_a as fixture;
use crate::testkit::cluster_b as fb;
use crate::theme::Theme;

fn at_rack(i: usize) -> Model {
    let mut m = Model::default();
    m.cursor[View::Network.index()] = i;
    m
}

fn text(model: &Model, w: u16, h: u16) -> String {
    let th = Theme::builtin("default", false).unwrap();
    fb::render(&fixture::snapshot(), model, &th, w, h, super::render).join("\n")
}

#[test]
fn preview_fixture_and_sim() {
    let wide = fb::preview("network fixture rack-3", &fixture::snapshot(), &at_rack(2), super::render);
    assert!(wide.contains("TOR tor-3b down: 4 nodes lost a BGP session"), "dead TOR called out:\n{wide}");
    fb::preview("network fixture rack-2", &fixture::snapshot(), &at_rack(1), super::render);
    let snap = fb::sim();
    fb::preview("network sim", &snap, &at_rack(3), super::render);
    let tor = crate::sim::snapshot_at(
        crate::sim::SimConfig { scenario: crate::sim::Scenario::TorOutage, ..Default::default() },
        fixture::now(),
        crate::analysis::Settings::default(),
    );
    let t = fb::render(&tor, &at_rack(4), &Theme::builtin("default", false).unwrap(), 80, 21, super::render);
    let t = t.join("\n");
    println!("--- network sim tor-outage 80x21\n{t}");
    assert!(t.contains("tor-5a down"), "{t}");
}

#[test]
fn racks_tors_and_verdicts() {
    let t = text(&at_rack(1), 80, 21);
    let rack2 = t.lines().find(|l| l.contains("rack-2")).unwrap();
    // node-05 2/2, node-06 1/2, node-07 0/2, node-09 unknown.
    assert!(rack2.contains("●  1") && rack2.contains("▲  1") && rack2.contains("✖  1"), "{rack2}");
    assert!(rack2.contains("tor-2a 2/3") && rack2.contains("tor-2b 1/3"), "{rack2}");
    let rack3 = t.lines().find(|l| l.contains("rack-3") && l.contains("tor-3b")).unwrap();
    assert!(rack3.contains("✖ tor-3b 0/4"), "dead TOR:\n{t}");
    // The selected rack's sessions, worst first: node-07's idle session on top.
    let first = t.lines().skip_while(|l| !l.contains("PEER")).nth(1).unwrap();
    assert!(first.contains("node-07") && first.contains("idle"), "{t}");
    assert!(t.contains("no sessions"), "node-09 listed as silent:\n{t}");
}

#[test]
fn filter_cursor_and_tiny() {
    let mut m = at_rack(99);
    m.filter = "rack-1".into();
    let t = text(&m, 80, 21);
    assert!(t.contains("1 racks, 4 nodes") && t.contains("no BGP sessions reported anywhere"), "{t}");
    let t = text(&at_rack(0), 80, 21);
    assert!(t.contains("not up, all racks: 7 of 14") && t.contains("node-07"), "{t}");
    m.filter = "nothing-like-this".into();
    let t = text(&m, 80, 21);
    assert!(t.contains("no nodes match filter 'nothing-like-this'"), "{t}");
    let t = text(&at_rack(0), 20, 5);
    assert!(!t.is_empty());
}

/// The MODES cell says whole modes, most nodes first, and how many more when they do not all
/// fit; at 160 and 200 columns the rack table gets the width its MODES need.
#[test]
fn modes_are_whole_and_get_their_room() {
    let th = Theme::builtin("default", false).unwrap();
    let snap = fixture::snapshot();
    // rack-1: 2 bridge/vxlan, 1 bridge/nat, 1 migrating.
    let t = fb::render(&snap, &at_rack(0), &th, 260, 30, super::render).join("\n");
    let rack1 = t.lines().find(|l| l.contains("rack-1")).unwrap();
    assert!(rack1.contains("2 bridge/vxlan, 1 bridge/nat, 1 migrating"), "{rack1}");
    // At 200 the sessions keep their errors whole; the modes say how many more, cut nowhere.
    let t = fb::render(&snap, &at_rack(0), &th, 200, 30, super::render).join("\n");
    let (rack1, sessions) = t.lines().find(|l| l.contains("rack-1")).unwrap().split_once("││").unwrap();
    assert!(rack1.contains("2 bridge/vxlan +2"), "{rack1}");
    assert!(sessions.contains("the rack runs on its other TOR alone"), "{t}");
    let first = t.lines().find(|l| l.contains("node-10") && l.contains("idle")).unwrap();
    assert!(!first.contains(th.sym.ellipsis), "error whole: {first}");
    let t = fb::render(&snap, &at_rack(0), &th, 160, 30, super::render).join("\n");
    assert!(t.contains("MODES"), "{t}");
    let rack1 = t.lines().find(|l| l.contains("rack-1")).unwrap().split("││").next().unwrap();
    // The main mode whole and how many more (the gauge gives cells), not a cut.
    assert!(rack1.contains("2 bridge/vxlan +2"), "{rack1}");
    assert!(!rack1.contains(&th.sym.ellipsis.to_string()), "no mode cut: {rack1}");
    let tor = crate::sim::snapshot_at(
        crate::sim::SimConfig { scenario: crate::sim::Scenario::TorOutage, ..Default::default() },
        fixture::now(),
        crate::analysis::Settings::default(),
    );
    let t = fb::render(&tor, &at_rack(4), &th, 160, 40, super::render).join("\n");
    let rack5 = t.lines().find(|l| l.contains("rack-5") && l.contains("tor-5a")).unwrap();
    assert!(rack5.contains("8 cilium/bgp"), "{t}");
    let rack3 = t.lines().find(|l| l.contains("rack-3") && l.contains("tor-3a")).unwrap();
    assert!(rack3.contains("3 bridge/vxlan +3"), "the main mode whole, and how many more: {t}");
    assert!(t.contains("TOR tor-5a down: 8 nodes lost a BGP session"), "{t}");
}
