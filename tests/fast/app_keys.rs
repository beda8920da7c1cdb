//! Issue 17, interaction: every key does what the footer says, in every view (scripted messages
//! on `App::update`, frames drawn in memory where a click needs to know what is where).

use std::sync::Arc;

use clustertop::analysis::Settings;
use clustertop::app::{Effect, Mode, Model, Mouse, Msg, View, Zoom, row_count, update};
use clustertop::sim::{SimConfig, snapshot_at};
use clustertop::theme::Theme;
use clustertop::viewmodel::SortKey;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

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

fn command(m: &mut Model, line: &str) -> Vec<Effect> {
    let msgs: Vec<Msg> =
        [Msg::StartCommand].into_iter().chain(line.chars().map(Msg::Input)).chain([Msg::Submit]).collect();
    run(m, msgs)
}

/// Draw the screen as the event loop does and tell the model where things are; the screen text.
fn draw(m: &mut Model, w: u16, h: u16) -> String {
    let theme = Theme::builtin("mono", true).expect("mono theme");
    let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
    let hits = clustertop::views::render_frame(m, &theme, buf.area, &mut buf);
    update(m, Msg::Drawn(hits));
    (0..h).map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>() + "\n").collect()
}

fn names(m: &Model, list: &[usize]) -> Vec<String> {
    let snap = m.snap.clone().expect("the fixture has a snapshot");
    list.iter().map(|&i| snap.nodes[i].name.clone()).collect()
}

/// Defect 1: G, End and PageDown never move past the list, one `k` moves up from the last row,
/// and Enter after G opens the last row: in every view with a table.
#[test]
fn the_cursor_stays_on_the_list_in_every_table() {
    for view in [View::Nodes, View::Network, View::Runtime, View::Conntrack, View::Utilization, View::Triage]
    {
        let mut m = model();
        run(&mut m, [Msg::ShowView(view)]);
        let n = row_count(&m, view);
        assert!(n > 1, "{view:?} has rows");
        run(&mut m, [Msg::Bottom, Msg::PageDown, Msg::PageDown, Msg::Down]);
        assert_eq!(m.cursor[view.index()], n - 1, "{view:?}: G and PgDn stop on the last row");
        run(&mut m, [Msg::Up]);
        assert_eq!(m.cursor[view.index()], n - 2, "{view:?}: one k from the last row");
        run(&mut m, [Msg::Top, Msg::PageUp, Msg::Up]);
        assert_eq!(m.cursor[view.index()], 0, "{view:?}");
    }
    // Runtime lists the nodes running Kata or gVisor: G then Enter opens the last of them.
    let mut m = model();
    run(&mut m, [Msg::ShowView(View::Runtime), Msg::Bottom, Msg::Open]);
    let last = names(&m, &m.rows().unwrap().runtime).pop().unwrap();
    assert_eq!(m.mode, Mode::Detail(last));
}

/// Defect 1 in the node detail and help: G goes to the last line drawn, and k moves up at once.
#[test]
fn scrolling_stops_at_the_last_line() {
    let mut m = model();
    run(&mut m, [Msg::ShowView(View::Nodes), Msg::Open]);
    draw(&mut m, 80, 24);
    let max = m.hits.scroll_max.expect("the detail says how far it scrolls");
    assert!(max > 0);
    run(&mut m, [Msg::Bottom, Msg::PageDown]);
    assert_eq!(m.scroll, max);
    run(&mut m, [Msg::Up]);
    assert_eq!(m.scroll, max - 1);
    run(&mut m, [Msg::Back, Msg::ToggleHelp]);
    draw(&mut m, 80, 24);
    run(&mut m, [Msg::Bottom, Msg::Up]);
    assert_eq!(m.scroll, m.hits.scroll_max.unwrap() - 1);
}

/// Defect 6: `s` in Conntrack sorts its table and says by what.
#[test]
fn s_in_conntrack_sorts_the_conntrack_table() {
    let mut m = model();
    run(&mut m, [Msg::ShowView(View::Conntrack)]);
    let before = m.rows().unwrap().conntrack.clone();
    run(&mut m, [Msg::NextSort]);
    let msg = m.message.clone().unwrap_or_default();
    assert!(msg.starts_with("sorted by ins, worst first"), "{msg}");
    let snap = m.snap.clone().unwrap();
    let rows = m.rows().unwrap().conntrack.clone();
    let ins: Vec<f64> =
        rows.iter().filter_map(|&i| snap.nodes[i].conntrack()).map(|c| c.insert_failed_per_s).collect();
    assert!(ins.windows(2).all(|w| w[0] >= w[1]), "{ins:?}");
    assert_eq!(m.view, View::Conntrack);
    // This demo's full table is a Cilium node's CT map: `:sort ctfail` puts it first.
    command(&mut m, "sort ctfail");
    assert_eq!(m.message.as_deref(), Some("sorted by ctfail, worst first"));
    let rows = m.rows().unwrap().conntrack.clone();
    assert_ne!(rows, before, "the rows moved");
    let fails: Vec<f64> =
        rows.iter().filter_map(|&i| snap.nodes[i].cilium_ct().and_then(|c| c.insert_failed_per_s)).collect();
    assert!(fails[0] > 0.0 && fails.windows(2).all(|w| w[0] >= w[1]), "{fails:?}");
}

/// Defect 6: `:sort cpu` from Conntrack stays in Conntrack and says it has no such column;
/// `:sort drop` sorts Conntrack's table.
#[test]
fn sort_applies_to_the_tables_own_columns() {
    let mut m = model();
    run(&mut m, [Msg::ShowView(View::Conntrack)]);
    command(&mut m, "sort cpu");
    assert_eq!(m.view, View::Conntrack, "no jump to Nodes");
    let msg = m.message.clone().unwrap_or_default();
    assert!(msg.contains("Conntrack has no column \"cpu\"") && msg.contains("fill"), "{msg}");
    assert_eq!(m.sorts.nodes.col, SortKey::Name, "the Nodes sort is untouched");
    command(&mut m, "sort drop");
    assert_eq!(m.message.as_deref(), Some("sorted by drop, worst first"));
    run(&mut m, [Msg::ShowView(View::Overview)]);
    command(&mut m, "sort cpu");
    assert!(m.message.as_deref().unwrap_or("").contains("Overview has no table"), "{:?}", m.message);
}

/// Defect 7: the first press on a severity-like column puts the worst first, a second reverses.
#[test]
fn a_first_sort_on_cpu_puts_the_busiest_node_first() {
    let mut m = model();
    run(&mut m, [Msg::ShowView(View::Nodes)]);
    command(&mut m, "sort cpu");
    let snap = m.snap.clone().unwrap();
    let cpu = |m: &Model| -> Vec<f64> {
        m.rows().unwrap().nodes.iter().filter_map(|&i| snap.nodes[i].cpu_now()).collect()
    };
    let first = cpu(&m);
    assert!(first.windows(2).all(|w| w[0] >= w[1]), "busiest first: {first:?}");
    command(&mut m, "sort cpu");
    assert!(cpu(&m).windows(2).all(|w| w[0] <= w[1]), "a second press reverses");
    // Triage: the first press on severity is critical first.
    run(&mut m, [Msg::ShowView(View::Triage)]);
    command(&mut m, "sort since");
    command(&mut m, "sort severity");
    let f = m.rows().unwrap().findings.clone();
    assert_eq!(snap.findings[f[0]].severity, clustertop::model::Severity::Critical);
}

/// Defect 6: Enter on a rack shows its nodes; Esc comes back to the rack list.
#[test]
fn enter_on_a_rack_shows_its_nodes_and_esc_comes_back() {
    let mut m = model();
    run(&mut m, [Msg::ShowView(View::Network), Msg::Down, Msg::Down, Msg::Open]);
    assert_eq!((m.view, m.filter.as_str()), (View::Nodes, "rack=rack-3"));
    let nodes = names(&m, &m.rows().unwrap().nodes);
    assert!(!nodes.is_empty() && nodes.iter().all(|n| n.starts_with("r3-")), "{nodes:?}");
    run(&mut m, [Msg::Back]);
    assert_eq!((m.view, m.filter.as_str()), (View::Network, ""));
    assert_eq!(m.cursor[View::Network.index()], 2, "the rack is still selected");
}

/// Enter on a window occurrence shows that occurrence by rack; Esc goes back to the latest.
#[test]
fn enter_on_a_window_shows_it_by_rack() {
    let mut m = model();
    run(&mut m, [Msg::ShowView(View::Utilization), Msg::Bottom, Msg::Open]);
    let snap = m.snap.clone().unwrap();
    let last = *m.rows().unwrap().windows.last().unwrap();
    let f = &snap.fills[last];
    assert_eq!(m.window, Some((f.window, f.start)));
    let screen = draw(&mut m, 200, 50);
    let day = f.start.format("%a %m-%d").to_string();
    assert!(screen.contains(&format!("{} {day}, by rack", f.window.label())), "{screen}");
    run(&mut m, [Msg::Back]);
    assert_eq!(m.window, None);
    assert!(draw(&mut m, 200, 50).contains("latest complete"));
}

/// Enter on a finding about a window goes to Utilization; on a pod, to its node.
#[test]
fn enter_on_a_finding_opens_what_it_is_about() {
    let mut m = model();
    run(&mut m, [Msg::ShowView(View::Triage)]);
    let snap = m.snap.clone().unwrap();
    let rows = m.rows().unwrap().findings.clone();
    let window = rows.iter().position(|&i| snap.findings[i].rule.id().starts_with("window-")).unwrap();
    m.cursor[View::Triage.index()] = window;
    run(&mut m, [Msg::Open]);
    assert_eq!(m.view, View::Utilization);
    assert!(m.message.as_deref().unwrap_or("").contains("see Utilization"));
}

/// Defect 9: zoom stops at either end instead of wrapping from 7d to 1h.
#[test]
fn zoom_stops_at_the_ends() {
    let mut m = model();
    run(&mut m, [Msg::ShowView(View::Utilization)]);
    run(&mut m, [Msg::NextZoom, Msg::NextZoom, Msg::NextZoom]);
    assert_eq!(m.zoom, Zoom::D7);
    assert!(m.message.as_deref().unwrap_or("").contains("7d is the widest"), "{:?}", m.message);
    run(&mut m, [Msg::PrevZoom, Msg::PrevZoom, Msg::PrevZoom, Msg::PrevZoom]);
    assert_eq!(m.zoom, Zoom::H1);
    assert!(m.message.as_deref().unwrap_or("").contains("narrowest"));
}

/// `/` starts a fresh filter; Esc gives the old one back; Up recalls earlier filters.
#[test]
fn slash_starts_a_fresh_filter_with_a_history() {
    let mut m = model();
    run(&mut m, [Msg::ShowView(View::Nodes), Msg::StartFilter]);
    run(&mut m, "r3".chars().map(Msg::Input));
    run(&mut m, [Msg::Submit, Msg::StartFilter]);
    assert!(m.input.is_empty(), "a fresh line");
    assert_eq!(m.filter, "", "the list shows everything while the new filter is empty");
    run(&mut m, [Msg::Back]);
    assert_eq!(m.filter, "r3", "Esc: the filter as it was");
    run(&mut m, [Msg::StartFilter, Msg::Input('x'), Msg::HistoryPrev]);
    assert_eq!((m.input.text(), m.filter.as_str()), ("r3", "r3"));
    run(&mut m, [Msg::HistoryNext]);
    assert_eq!(m.input.text(), "x", "back to what was typed");
}

/// The input line edits like a shell: cursor movement, Ctrl-U, Ctrl-W.
#[test]
fn the_input_line_edits_like_a_shell() {
    let mut m = model();
    run(&mut m, [Msg::StartCommand]);
    run(&mut m, "sort cpu".chars().map(Msg::Input));
    run(&mut m, [Msg::KillWord]);
    assert_eq!(m.input.text(), "sort ");
    run(&mut m, "rack".chars().map(Msg::Input));
    run(&mut m, [Msg::CursorHome, Msg::Delete, Msg::Delete, Msg::Delete, Msg::Delete, Msg::Input('v')]);
    assert_eq!(m.input.text(), "v rack");
    run(&mut m, [Msg::CursorEnd, Msg::CursorLeft, Msg::CursorLeft, Msg::KillLine]);
    assert_eq!((m.input.text(), m.input.cursor()), ("ck", 0));
}

/// Tab completes commands, then their values (views, themes, the view's sort columns, zooms).
#[test]
fn tab_completes_commands_and_values() {
    let mut m = model();
    let tab = |m: &mut Model, typed: &str| -> String {
        run(m, [Msg::StartCommand]);
        run(m, typed.chars().map(Msg::Input));
        run(m, [Msg::Complete]);
        m.input.text().to_string()
    };
    assert_eq!(tab(&mut m, "exp"), "export ");
    assert_eq!(tab(&mut m, "view tr"), "view triage");
    assert_eq!(tab(&mut m, "theme high"), "theme high-contrast");
    assert_eq!(tab(&mut m, "zoom 7"), "zoom 7d");
    // Several candidates: the common prefix, the list beside the line, then each in turn.
    assert_eq!(tab(&mut m, "view n"), "view n");
    assert_eq!(m.hint.as_deref(), Some("nodes network"));
    run(&mut m, [Msg::Complete]);
    assert_eq!(m.input.text(), "view nodes");
    run(&mut m, [Msg::Complete]);
    assert_eq!(m.input.text(), "view network");
    // Sort columns are the view's own.
    run(&mut m, [Msg::Back, Msg::ShowView(View::Conntrack)]);
    assert_eq!(tab(&mut m, "sort ea"), "sort early");
    run(&mut m, [Msg::Back, Msg::ShowView(View::Nodes)]);
    assert_eq!(tab(&mut m, "sort cp"), "sort cpu");
    // `:check drain NODE`: the word, then the snapshot's node names.
    run(&mut m, [Msg::Back]);
    assert_eq!(tab(&mut m, "check d"), "check drain");
    run(&mut m, [Msg::Back]);
    assert_eq!(tab(&mut m, "check drain r4-n0"), "check drain r4-n0");
    assert_eq!(m.hint.as_deref(), Some("r4-n01 r4-n02 r4-n03 r4-n04 r4-n05 r4-n06 r4-n07 r4-n08"));
}

/// `:nodes`, `:triage` and short aliases show their views.
#[test]
fn every_view_has_a_command() {
    for (line, view) in [
        ("overview", View::Overview),
        ("nodes", View::Nodes),
        ("no", View::Nodes),
        ("net", View::Network),
        ("runtime", View::Runtime),
        ("ct", View::Conntrack),
        ("util", View::Utilization),
        ("triage", View::Triage),
        ("view conntrack", View::Conntrack),
    ] {
        let mut m = model();
        command(&mut m, line);
        assert_eq!(m.view, view, ":{line}");
    }
}

/// `y` copies the selected node's name, or the whole finding in Triage.
#[test]
fn y_copies_the_selected_node_or_finding() {
    let mut m = model();
    run(&mut m, [Msg::ShowView(View::Nodes), Msg::Down]);
    let second = names(&m, &m.rows().unwrap().nodes)[1].clone();
    assert_eq!(run(&mut m, [Msg::Copy]), vec![Effect::Copy(second.clone())]);
    run(&mut m, [Msg::Open]);
    assert_eq!(run(&mut m, [Msg::Copy]), vec![Effect::Copy(second)], "in the node detail too");
    run(&mut m, [Msg::Back, Msg::ShowView(View::Triage)]);
    let fx = run(&mut m, [Msg::Copy]);
    let snap = m.snap.clone().unwrap();
    let f = &snap.findings[m.rows().unwrap().findings[0]];
    let Some(Effect::Copy(text)) = fx.first() else { panic!("{fx:?}") };
    assert!(text.starts_with(&format!("CRIT {} {}: {}", f.rule.id(), f.subject, f.what)), "{text}");
    assert!(text.contains("remedy: "), "{text}");
}

/// `:export` writes the view on screen: a default name with the view and the time.
#[test]
fn export_names_the_file_after_the_view_and_the_time() {
    let mut m = model();
    run(&mut m, [Msg::ShowView(View::Conntrack)]);
    let fx = command(&mut m, "export");
    assert_eq!(
        fx,
        vec![Effect::Export { path: "clustertop-conntrack-20261124-120000.txt".into(), markdown: false }]
    );
    let fx = command(&mut m, "export /tmp/incident.md");
    assert_eq!(fx, vec![Effect::Export { path: "/tmp/incident.md".into(), markdown: true }]);
}

/// The mouse: a tab shows its view, a row is selected and opened when clicked again, a column
/// title sorts (again: reverses), the wheel moves.
#[test]
fn clicks_and_the_wheel() {
    let mut m = model();
    let screen = draw(&mut m, 120, 40);
    let tabs = screen.lines().next().unwrap();
    let x = tabs.find("5 Conntrack").unwrap() as u16;
    run(&mut m, [Msg::Mouse(Mouse::Click { x: x + 2, y: 0 })]);
    assert_eq!(m.view, View::Conntrack);
    let screen = draw(&mut m, 120, 40);
    let t = m.hits.table.clone().expect("the conntrack table is clickable");
    // The third row on screen.
    run(&mut m, [Msg::Mouse(Mouse::Click { x: t.rows.x + 3, y: t.rows.y + 2 })]);
    assert_eq!(m.cursor[View::Conntrack.index()], 2);
    run(&mut m, [Msg::Mouse(Mouse::Click { x: t.rows.x + 3, y: t.rows.y + 2 })]);
    let third = names(&m, &m.rows().unwrap().conntrack)[2].clone();
    assert_eq!(m.mode, Mode::Detail(third), "a second click opens");
    run(&mut m, [Msg::Back]);
    // The title "drop/s" sorts by drops, worst first.
    let header = screen.lines().nth(usize::from(t.rows.y) - 1).unwrap();
    let x = header.find("drop/s").unwrap() as u16;
    run(&mut m, [Msg::Mouse(Mouse::Click { x, y: t.rows.y - 1 })]);
    assert_eq!(m.message.as_deref(), Some("sorted by drop, worst first"));
    draw(&mut m, 120, 40);
    run(&mut m, [Msg::Mouse(Mouse::WheelDown), Msg::Mouse(Mouse::WheelDown)]);
    assert_eq!(m.cursor[View::Conntrack.index()], 8, "two notches from the third row");
    run(&mut m, [Msg::Mouse(Mouse::WheelUp)]);
    assert_eq!(m.cursor[View::Conntrack.index()], 5);
}
