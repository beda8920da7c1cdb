//! `App::update` driven by scripted messages: no tokio, no terminal.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use clustertop::analysis::Settings;
use clustertop::app::{Effect, Mode, Model, Msg, View, Zoom, update};
use clustertop::sim::{SimConfig, snapshot_at};
use clustertop::viewmodel::{SortKey, node_rows};

fn model() -> Model {
    let now = clustertop_core::testkit::T0;
    let snap = Arc::new(snapshot_at(SimConfig::default(), now, Settings::default()));
    let mut m = Model { size: (120, 40), ..Model::default() };
    update(&mut m, Msg::Snapshot(snap));
    m
}

fn run(m: &mut Model, msgs: impl IntoIterator<Item = Msg>) -> Vec<Effect> {
    msgs.into_iter().flat_map(|msg| update(m, msg)).collect()
}

fn typed(s: &str) -> Vec<Msg> {
    s.chars().map(Msg::Input).collect()
}

#[test]
fn view_switching_by_digit_tab_and_command() {
    let mut m = model();
    assert_eq!(m.view, View::Overview);
    run(&mut m, [Msg::ShowView(View::Conntrack)]);
    assert_eq!(m.view, View::Conntrack);
    run(&mut m, [Msg::NextView, Msg::NextView]);
    assert_eq!(m.view, View::Triage);
    run(&mut m, [Msg::NextView]);
    assert_eq!(m.view, View::Overview, "Tab wraps around");
    run(&mut m, [Msg::PrevView]);
    assert_eq!(m.view, View::Triage);
    run(&mut m, [Msg::StartCommand].into_iter().chain(typed("view network")).chain([Msg::Submit]));
    assert_eq!(m.view, View::Network);
    assert_eq!(m.mode, Mode::Browse);
}

#[test]
fn filter_narrows_rows_and_esc_clears_it() {
    let mut m = model();
    run(&mut m, [Msg::ShowView(View::Nodes), Msg::StartFilter]);
    assert_eq!(m.mode, Mode::Filter);
    run(&mut m, typed("rack-3"));
    assert_eq!(m.filter, "rack-3", "the filter applies while typing");
    run(&mut m, [Msg::Submit]);
    assert_eq!(m.mode, Mode::Browse);
    let snap = m.snap.clone().unwrap();
    let rows = node_rows(&snap, &m.filter, m.sorts.nodes.col, m.sorts.nodes.desc);
    assert!(!rows.is_empty() && rows.iter().all(|n| n.rack == "rack-3"));
    // The cursor stays inside the filtered rows.
    run(&mut m, [Msg::Bottom]);
    assert_eq!(m.cursor[View::Nodes.index()], rows.len() - 1);
    run(&mut m, [Msg::Back]);
    assert!(m.filter.is_empty());
    // Esc while editing cancels the edit, and the filter is what it was before.
    run(&mut m, [Msg::StartFilter, Msg::Input('x'), Msg::Back]);
    assert_eq!(m.mode, Mode::Browse);
    assert!(m.input.is_empty() && m.filter.is_empty());
}

#[test]
fn sorting_by_key_and_command() {
    let mut m = model();
    run(&mut m, [Msg::ShowView(View::Nodes), Msg::NextSort]);
    assert_eq!(m.sorts.nodes.col, SortKey::Rack);
    run(&mut m, [Msg::StartCommand].into_iter().chain(typed("sort conntrack")).chain([Msg::Submit]));
    assert_eq!((m.sorts.nodes.col, m.sorts.nodes.desc), (SortKey::Conntrack, true), "fullest first");
    let snap = m.snap.clone().unwrap();
    let fill = |m: &Model| -> Vec<f64> {
        let rows = node_rows(&snap, "", m.sorts.nodes.col, m.sorts.nodes.desc);
        rows.iter().filter_map(|n| clustertop::analysis::conntrack::worst_fill(n)).collect()
    };
    assert!(fill(&m).windows(2).all(|w| w[0] >= w[1]), "descending by conntrack fill");
    run(&mut m, [Msg::ReverseSort]);
    assert!(!m.sorts.nodes.desc);
    assert!(fill(&m).windows(2).all(|w| w[0] <= w[1]), "reversed");
    run(&mut m, [Msg::StartCommand].into_iter().chain(typed("sort nosuch")).chain([Msg::Submit]));
    assert!(m.message.as_deref().unwrap_or("").contains("has no column"), "{:?}", m.message);
}

#[test]
fn enter_opens_detail_of_the_selected_node_and_esc_returns() {
    let mut m = model();
    run(&mut m, [Msg::ShowView(View::Nodes), Msg::Down, Msg::Down, Msg::Open]);
    let snap = m.snap.clone().unwrap();
    let third = node_rows(&snap, "", SortKey::Name, false)[2].name.clone();
    assert_eq!(m.mode, Mode::Detail(third));
    run(&mut m, [Msg::Down]);
    assert_eq!(m.scroll, 1, "j scrolls the detail");
    run(&mut m, [Msg::Back]);
    assert_eq!(m.mode, Mode::Browse);
    assert_eq!(m.view, View::Nodes);
}

#[test]
fn help_toggles_and_commands_report_errors() {
    let mut m = model();
    run(&mut m, [Msg::ToggleHelp]);
    assert_eq!(m.mode, Mode::Help);
    run(&mut m, [Msg::ToggleHelp]);
    assert_eq!(m.mode, Mode::Browse);
    run(&mut m, [Msg::StartCommand].into_iter().chain(typed("frobnicate")).chain([Msg::Submit]));
    assert!(m.message.as_deref().unwrap_or("").contains("unknown command"));
    let fx = run(&mut m, [Msg::StartCommand].into_iter().chain(typed("theme mono")).chain([Msg::Submit]));
    assert_eq!(fx, vec![Effect::LoadTheme("mono".into())]);
    run(&mut m, [Msg::StartCommand].into_iter().chain(typed("zoom 7d")).chain([Msg::Submit]));
    assert_eq!((m.view, m.zoom), (View::Utilization, Zoom::D7));
    run(&mut m, [Msg::NextZoom]);
    assert_eq!(m.zoom, Zoom::D7, "zoom stops at the widest span");
}

#[test]
fn quit_by_key_and_by_command() {
    let mut m = model();
    assert_eq!(run(&mut m, [Msg::Quit]), vec![Effect::Quit]);
    assert!(m.quit);
    let mut m = model();
    let fx = run(&mut m, [Msg::StartCommand].into_iter().chain(typed("q")).chain([Msg::Submit]));
    assert_eq!(fx, vec![Effect::Quit]);
}

#[test]
fn cursor_is_clamped_when_a_new_snapshot_has_fewer_rows() {
    let mut m = model();
    run(&mut m, [Msg::ShowView(View::Nodes), Msg::Bottom]);
    assert_eq!(m.cursor[View::Nodes.index()], 47);
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 1).unwrap();
    let small = snapshot_at(SimConfig { nodes: 6, ..SimConfig::default() }, now, Settings::default());
    run(&mut m, [Msg::Snapshot(Arc::new(small))]);
    assert_eq!(m.cursor[View::Nodes.index()], 5);
}

#[test]
fn enter_on_a_finding_or_a_conntrack_row_opens_that_node() {
    let mut m = model();
    run(&mut m, [Msg::ShowView(View::Triage), Msg::Open]);
    let snap = m.snap.clone().unwrap();
    assert_eq!(m.mode, Mode::Detail(snap.findings[0].subject.clone()), "first finding is about a node");
    run(&mut m, [Msg::Back, Msg::ShowView(View::Conntrack), Msg::Open]);
    // By the fullest table the node's pod connections go through (a Cilium map on Cilium nodes).
    let fill = |n: &clustertop::model::Node| clustertop::analysis::conntrack::worst_fill(n).unwrap();
    let fullest = snap.nodes.iter().max_by(|a, b| fill(a).total_cmp(&fill(b)));
    assert_eq!(m.mode, Mode::Detail(fullest.unwrap().name.clone()), "conntrack rows are fullest first");
    // A finding about a pod opens the pod's node.
    let pod_finding = clustertop::viewmodel::findings(&snap, "").iter().position(|f| f.subject.contains('/'));
    let idx = pod_finding.expect("the demo has pod findings");
    m.mode = Mode::Browse;
    run(&mut m, [Msg::ShowView(View::Triage)]);
    m.cursor[View::Triage.index()] = idx;
    run(&mut m, [Msg::Open]);
    assert!(matches!(&m.mode, Mode::Detail(n) if snap.node(n).is_some()));
}

/// In a node's detail `/` filters its pods (not the nodes), Enter and Esc return to the detail;
/// `s`/`r` sort the pods; `R` asks for a refresh; an answer for another node is not shown.
#[test]
fn the_detail_filters_sorts_and_refreshes_its_pods() {
    use clustertop::sources::detail::{NodeDetail, Part};
    use clustertop::viewmodel::pods::PodCol;
    let mut m = model();
    run(&mut m, [Msg::ShowView(View::Nodes), Msg::StartFilter]);
    run(&mut m, typed("rack-2").into_iter().chain([Msg::Submit, Msg::Open]));
    let Mode::Detail(node) = m.mode.clone() else { panic!("detail open: {:?}", m.mode) };
    let answer = |n: &str| {
        Arc::new(NodeDetail {
            node: n.into(),
            at: clustertop_core::testkit::T0,
            pods: Part::Ok(Vec::new()),
            events: Part::Failed("forbidden".into()),
            requests: 2,
        })
    };
    run(&mut m, [Msg::NodeDetail(answer("another-node"))]);
    assert!(m.detail.is_none(), "another node's answer is not this detail's");
    run(&mut m, [Msg::NodeDetail(answer(&node))]);
    assert_eq!(m.detail.as_ref().map(|d| d.node.as_str()), Some(node.as_str()));

    run(&mut m, [Msg::StartFilter]);
    assert_eq!(m.mode, Mode::Filter);
    assert_eq!(m.detail_node(), Some(node.as_str()), "the detail stays on screen while typing");
    run(&mut m, typed("kata"));
    assert_eq!(m.pod_filter, "kata");
    assert_eq!(m.filter, "rack-2", "the nodes' filter is untouched");
    run(&mut m, [Msg::Submit]);
    assert_eq!(m.mode, Mode::Detail(node.clone()));
    assert_eq!(m.pod_filter, "kata");
    run(&mut m, [Msg::StartFilter].into_iter().chain(typed("x")).chain([Msg::Back]));
    assert_eq!(
        (m.mode.clone(), m.pod_filter.as_str()),
        (Mode::Detail(node.clone()), "kata"),
        "Esc gives it back"
    );

    run(&mut m, [Msg::NextSort]);
    assert_eq!(m.pod_sort.col, PodCol::Runtime);
    assert!(m.message.as_deref().is_some_and(|s| s.starts_with("pods sorted by runtime")), "{:?}", m.message);
    assert_eq!(m.sorts.nodes, clustertop::viewmodel::Sorts::default().nodes, "the nodes' sort is untouched");
    run(&mut m, [Msg::ReverseSort]);
    assert!(m.pod_sort.desc);

    let asked = m.detail_asked;
    run(&mut m, [Msg::RefreshDetail]);
    assert_eq!(m.detail_asked, asked + 1);
    run(&mut m, [Msg::Back]);
    assert_eq!(m.mode, Mode::Browse);
    run(&mut m, [Msg::RefreshDetail]);
    assert_eq!(m.detail_asked, asked + 1, "no detail open: nothing to refresh");
}
