#![allow(clippy::unwrap_used)]

use crate::app::{Model, View};
use crate::testkit::cluster_a as fixture;
use crate::testkit::cluster_b as fb;
use crate::theme::Theme;
use crate::viewmodel::SortKey;

/// Sorted by `col`, descending.
fn sorted(col: SortKey) -> crate::viewmodel::Sorts {
    crate::viewmodel::Sorts { nodes: crate::viewmodel::Sort { col, desc: true }, ..Default::default() }
}

fn text(model: &Model, w: u16, h: u16) -> String {
    let th = Theme::builtin("default", false).unwrap();
    fb::render(&fixture::snapshot(), model, &th, w, h, super::render).join("\n")
}

#[test]
fn preview_fixture_and_sim() {
    let wide = fb::preview("nodes fixture", &fixture::snapshot(), &Model::default(), super::render);
    assert!(wide.contains(fixture::LONG), "full name at 200 columns:\n{wide}");
    let m = Model { sorts: sorted(SortKey::Cpu), ..Model::default() };
    fb::preview("nodes sim", &fb::sim(), &m, super::render);
}

#[test]
fn columns_at_80_keep_the_essentials() {
    let t = text(&Model::default(), 80, 21);
    let header = t.lines().nth(1).unwrap();
    for col in ["NODE", "MODE", "BGP", "CONNTRACK", "CPU"] {
        assert!(header.contains(col), "{col} missing at 80 columns:\n{t}");
    }
    let isolated = t.lines().find(|l| l.contains("node-07")).unwrap();
    assert!(isolated.contains("0/2"), "{isolated}");
    assert!(t.contains("Nodes 13/13"), "{t}");
    assert!(header.contains("NODE▲"), "sort column marked:\n{t}");
}

#[test]
fn sorted_by_conntrack_descending() {
    let m = Model { sorts: sorted(SortKey::Conntrack), ..Model::default() };
    let t = text(&m, 120, 20);
    let first = t.lines().nth(2).unwrap();
    assert!(
        first.contains("node-02") && first.contains("94%"),
        "fullest first, 0.94 rounded not floored:\n{t}"
    );
    assert!(t.lines().nth(1).unwrap().contains("CONNTRACK▼"), "{t}");
    // No host facts: last.
    let last = t.lines().nth(14).unwrap();
    assert!(last.contains("node-09"), "{t}");
}

#[test]
fn filter_and_empty_result() {
    let m = Model { filter: "rack-3".into(), ..Model::default() };
    let t = text(&m, 80, 21);
    assert!(t.contains("Nodes 4/13") && t.contains("filter: rack-3"), "{t}");
    assert!(!t.contains("node-01"), "{t}");
    let m = Model { filter: "xyz".into(), ..Model::default() };
    let t = text(&m, 80, 21);
    assert!(t.contains("no nodes match filter 'xyz'"), "{t}");
}

#[test]
fn cursor_is_clamped_and_paged() {
    let mut m = Model::default();
    m.cursor[View::Nodes.index()] = 999;
    // 10 rows: border, header, 7 body rows, border. The last node is on the second page.
    let t = text(&m, 80, 10);
    assert!(t.contains("rows 8-13"), "{t}");
    let sel = t.lines().find(|l| l.contains("▶")).unwrap();
    assert!(sel.contains("very-long"), "{t}");
    assert!(!t.contains("node-01"), "{t}");
}

#[test]
fn age_is_the_nodes_age_as_kubectl_writes_it() {
    let t = text(&Model::default(), 160, 20);
    let row = |name: &str| t.lines().find(|l| l.contains(name)).unwrap().trim_end_matches('│').trim_end();
    assert!(row("node-04").ends_with(" 7m30s"), "re-imaged minutes ago:\n{t}");
    assert!(row("node-11").ends_with(" 5h20m"), "{t}");
    assert!(row("node-09").ends_with(" ?"), "no creationTimestamp is unknown, not 0:\n{t}");
    assert!(row("node-01").ends_with(" 653d"), "{t}");
    assert!(!t.contains(" now"), "the data's age is not the node's:\n{t}");
}
