//! View snapshots (insta) of every view, the node detail and help at 80x24 and 200x50, from a
//! fixed-seed simulated cluster at a fixed `now`; plus style snapshots and glyph/colour invariants.

use std::sync::Arc;

use clustertop::analysis::Settings;
use clustertop::app::{Mode, Model, Msg, View, update};
use clustertop::sim::{SimConfig, snapshot_at};
use clustertop::theme::Theme;
use clustertop::views;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 50)];

fn model(view: View, mode: Mode) -> Model {
    let now = clustertop_core::testkit::T0;
    let snap = Arc::new(snapshot_at(SimConfig::default(), now, Settings::default()));
    let mut m = Model::default();
    update(&mut m, Msg::Snapshot(snap));
    update(&mut m, Msg::ShowView(view));
    m.mode = mode;
    m
}

fn draw(m: &Model, theme: &Theme, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| views::render(m, theme, f.area(), f.buffer_mut())).unwrap();
    t
}

fn buffer(m: &Model, theme: &Theme, w: u16, h: u16) -> Buffer {
    let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
    views::render(m, theme, buf.area, &mut buf);
    buf
}

#[test]
fn every_view_at_both_sizes() {
    let theme = Theme::builtin("default", false).unwrap();
    for view in View::ALL {
        let m = model(view, Mode::Browse);
        for (w, h) in SIZES {
            let name = format!("{}_{w}x{h}", view.title().to_lowercase());
            insta::assert_snapshot!(name, draw(&m, &theme, w, h).backend());
        }
    }
}

/// The degraded-BGP node: sessions, evidence and findings all show in its detail.
#[test]
fn node_detail_and_help_at_both_sizes() {
    let theme = Theme::builtin("default", false).unwrap();
    let detail = model(View::Nodes, Mode::Detail("r4-n04".into()));
    let help = model(View::Overview, Mode::Help);
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("detail_{w}x{h}"), draw(&detail, &theme, w, h).backend());
        insta::assert_snapshot!(format!("help_{w}x{h}"), draw(&help, &theme, w, h).backend());
    }
}

/// `:check drain NODE` on the degraded-BGP node: the overlay, opened through the command line;
/// an unknown node is a message, not an overlay.
#[test]
fn drain_check_at_both_sizes() {
    let theme = Theme::builtin("default", false).unwrap();
    let run = |line: &str| {
        let mut m = model(View::Network, Mode::Browse);
        update(&mut m, Msg::StartCommand);
        line.chars().for_each(|c| drop(update(&mut m, Msg::Input(c))));
        update(&mut m, Msg::Submit);
        m
    };
    let m = run("check drain r4-n04");
    assert_eq!(m.mode, Mode::Drain("r4-n04".into()));
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("drain_{w}x{h}"), draw(&m, &theme, w, h).backend());
    }
    let m = run("check drain nope");
    assert_eq!(
        (m.mode, m.message.as_deref()),
        (Mode::Browse, Some("no node named \"nope\" in this snapshot"))
    );
    let m = run("check r4-n04");
    assert_eq!(m.message.as_deref(), Some("usage: :check drain NODE"));
}

/// A node's detail with its pods and events as the on-demand answer brings them (the simulator's:
/// the same `sim serve` serves): the node whose pods have the most warnings.
fn detail_with_pods() -> Model {
    use clustertop::sim::detail::Seen;
    let mut m = model(View::Nodes, Mode::Browse);
    let snap = m.snap.clone().expect("a snapshot");
    let seen = Seen { at: snap.now - chrono::Duration::minutes(20), fresh: false };
    let since = snap.now - chrono::Duration::minutes(12);
    let of = |n: &clustertop::model::Node| {
        let pods = snap.pods.on_node(&n.name).iter().map(|p| (p, seen));
        clustertop::sources::sim::detail_of(&n.name, Some((n.ready, since)), pods, snap.now)
    };
    let warnings = |d: &clustertop::sources::detail::NodeDetail| {
        d.events.ok().map_or(0, |e| e.iter().filter(|e| e.warning).count())
    };
    // The first node with the most warnings.
    let node = snap.nodes.iter().rev().max_by_key(|n| warnings(&of(n))).expect("nodes");
    let d = of(node);
    m.mode = Mode::Detail(node.name.clone());
    update(&mut m, Msg::NodeDetail(Arc::new(d)));
    m
}

#[test]
fn node_detail_with_pods_and_events_at_both_sizes() {
    let theme = Theme::builtin("default", false).unwrap();
    let mut m = detail_with_pods();
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("detail_pods_{w}x{h}"), draw(&m, &theme, w, h).backend());
    }
    // Scrolled to the pods, filtered and sorted by restarts.
    m.scroll = 8;
    m.pod_filter = "online".into();
    update(&mut m, Msg::NextSort);
    for _ in 0..3 {
        update(&mut m, Msg::NextSort);
    }
    insta::assert_snapshot!("detail_pods_filtered_200x50", draw(&m, &theme, 200, 50).backend());
}

/// Styles recorded cell by cell, for the default theme and for mono.
#[test]
fn overview_styles_default_and_mono() {
    let m = model(View::Overview, Mode::Browse);
    for name in ["default", "mono"] {
        let theme = Theme::builtin(name, false).unwrap();
        insta::assert_debug_snapshot!(format!("styles_overview_{name}"), buffer(&m, &theme, 80, 24));
    }
}

/// Mono draws no colour anywhere; --ascii draws no non-ASCII glyph anywhere.
#[test]
fn mono_has_no_colour_and_ascii_has_no_unicode_in_any_view() {
    let mono = Theme::builtin("mono", true).unwrap();
    let mut screens: Vec<Model> = View::ALL.iter().map(|v| model(*v, Mode::Browse)).collect();
    screens.push(model(View::Nodes, Mode::Detail("r4-n04".into())));
    screens.push(detail_with_pods());
    screens.push(model(View::Overview, Mode::Help));
    for m in &screens {
        for (w, h) in SIZES {
            let buf = buffer(m, &mono, w, h);
            for cell in buf.content() {
                assert!(
                    matches!(cell.fg, Color::Reset) && matches!(cell.bg, Color::Reset),
                    "colour in mono at {w}x{h}, {:?} / {:?}",
                    m.view,
                    m.mode
                );
                assert!(
                    cell.symbol().is_ascii(),
                    "non-ASCII {:?} with --ascii in {:?} / {:?}",
                    cell.symbol(),
                    m.view,
                    m.mode
                );
            }
        }
    }
}

/// Tiny and odd terminal sizes never panic, in any view.
#[test]
fn tiny_terminals_do_not_panic() {
    let theme = Theme::builtin("default", false).unwrap();
    for view in View::ALL {
        let m = model(view, Mode::Browse);
        for (w, h) in [(20, 5), (1, 1), (40, 10), (41, 11), (300, 8), (60, 100)] {
            buffer(&m, &theme, w, h);
        }
    }
    let m = model(View::Nodes, Mode::Detail("r4-n04".into()));
    buffer(&m, &theme, 40, 10);
    let gone = model(View::Nodes, Mode::Detail("no-such-node".into()));
    buffer(&gone, &theme, 80, 24);
}

/// The footer of every view and mode at 80 and 200 columns: only keys that do something there,
/// and never cut (at 80 columns the least needed go first, `? help` lists them all).
#[test]
fn footers_of_every_view_and_mode() {
    let theme = Theme::builtin("default", false).unwrap();
    for w in [80, 200] {
        let mut out = String::new();
        let mut line = |label: &str, m: &Model| {
            let buf = buffer(m, &theme, w, 24);
            let row: String = (0..w).map(|x| buf[(x, 23)].symbol()).collect();
            out.push_str(&format!("{label:<22}|{}|\n", row.trim_end()));
        };
        for view in View::ALL {
            let mut m = model(view, Mode::Browse);
            line(view.title(), &m);
            m.filter = "r3".into();
            m.rows.refresh(m.snap.as_ref(), &m.filter, &m.sorts);
            line(&format!("{} filtered", view.title()), &m);
        }
        line("detail", &model(View::Nodes, Mode::Detail("r4-n04".into())));
        line("help", &model(View::Nodes, Mode::Help));
        let mut m = model(View::Nodes, Mode::Browse);
        update(&mut m, Msg::StartFilter);
        "r3 cil".chars().for_each(|c| drop(update(&mut m, Msg::Input(c))));
        line("filter line", &m);
        let mut m = model(View::Conntrack, Mode::Browse);
        update(&mut m, Msg::StartCommand);
        "sort ".chars().for_each(|c| drop(update(&mut m, Msg::Input(c))));
        update(&mut m, Msg::Complete);
        line("command line, Tab", &m);
        insta::assert_snapshot!(format!("footers_{w}"), out);
    }
}

/// `--ascii` prints only ASCII, whatever the theme, the scenario (the hostile one's names and
/// errors included), the view, the overlay or the size; so does the screen before the first data.
#[test]
fn ascii_prints_only_ascii_in_every_view_and_scenario() {
    use clustertop::sim::Scenario;
    let now = clustertop_core::testkit::T0;
    let mut bad: Vec<String> = Vec::new();
    for theme in ["default", "mono"] {
        let theme = Theme::builtin(theme, true).unwrap();
        let mut check = |m: &Model, what: &str| {
            for (w, h) in SIZES {
                let buf = buffer(m, &theme, w, h);
                let odd: String =
                    buf.content().iter().map(|c| c.symbol()).filter(|s| !s.is_ascii()).collect();
                if !odd.is_empty() {
                    bad.push(format!("{} {what} {w}x{h}: {odd:?}", theme.name));
                }
            }
        };
        check(&Model::default(), "waiting for data");
        // Data from a cluster may hold any character: a label, a finding's text.
        let mut odd = snapshot_at(SimConfig::default(), now, Settings::default());
        let mut n = (*odd.nodes[0]).clone();
        n.labels.insert("topology.kubernetes.io/zone".into(), "zürich-nord→süd 北京".into());
        odd.nodes[0] = Arc::new(n);
        let mut f = odd.findings[0].clone();
        (f.subject, f.what) =
            (odd.nodes[0].name.clone(), "a finding — with “quotes” … and ≥ 3 arrows →".into());
        odd.findings.push(f);
        let odd = Arc::new(odd);
        let first = odd.nodes[0].name.clone();
        for (view, mode) in
            [(View::Overview, Mode::Browse), (View::Triage, Mode::Browse), (View::Nodes, Mode::Detail(first))]
        {
            let mut m = Model::default();
            update(&mut m, Msg::Snapshot(odd.clone()));
            update(&mut m, Msg::ShowView(view));
            m.mode = mode.clone();
            check(&m, &format!("non-ASCII data {view:?} {mode:?}"));
        }
        for scenario in Scenario::ALL {
            let snap = Arc::new(snapshot_at(
                SimConfig { scenario, ..SimConfig::default() },
                now,
                Settings::default(),
            ));
            let worst = snap.nodes.iter().find(|n| snap.findings.iter().any(|f| f.subject == n.name));
            let mut screens: Vec<(View, Mode)> = View::ALL.iter().map(|v| (*v, Mode::Browse)).collect();
            screens.push((View::Overview, Mode::Help));
            for n in [snap.nodes.first(), worst, snap.nodes.last()].into_iter().flatten() {
                screens.push((View::Nodes, Mode::Detail(n.name.clone())));
            }
            for (view, mode) in screens {
                let mut m = Model::default();
                update(&mut m, Msg::Snapshot(snap.clone()));
                update(&mut m, Msg::ShowView(view));
                m.mode = mode.clone();
                check(&m, &format!("{} {view:?} {mode:?}", scenario.name()));
            }
        }
    }
    assert!(bad.is_empty(), "non-ASCII with --ascii:\n{}", bad.join("\n"));
}

/// Rewound 20 minutes: the banner (glyph, word, moment, distance, the way back) over the
/// Utilization view, whose curve marks the cursor; in mono and ASCII the glyph and word remain.
#[test]
fn the_rewound_banner_at_both_sizes() {
    use clustertop::app::Past;
    let now = clustertop_core::testkit::T0;
    let then = now - chrono::Duration::minutes(20);
    let live = Arc::new(snapshot_at(SimConfig::default(), now, Settings::default()));
    let past = Arc::new(snapshot_at(SimConfig::default(), then, Settings::default()));
    let mut m = Model { past: Past::Recorded, ..Model::default() };
    update(&mut m, Msg::Snapshot(live));
    update(&mut m, Msg::Rewound(then, past));
    update(&mut m, Msg::ShowView(View::Utilization));
    let theme = Theme::builtin("default", false).unwrap();
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("rewound_{w}x{h}"), draw(&m, &theme, w, h).backend());
    }
    let mono = Theme::builtin("mono", true).unwrap();
    let buf = buffer(&m, &mono, 80, 24);
    let line: String = (0..80).map(|x| buf[(x, 2)].symbol().to_string()).collect();
    assert!(line.starts_with(" << REWOUND 11:40:00 UTC - 20m ago - Esc: live"), "{line}");
}
