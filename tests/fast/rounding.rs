//! One rounding rule: the dashboard and `snapshot --format text` show the same CPU figures at the
//! same moment, parts add up to their total, and a part that is not 0 never reads 0 %.

use std::sync::Arc;

use clustertop::analysis::Settings;
use clustertop::app::{Model, Msg, View, update};
use clustertop::sim::{SimConfig, snapshot_at};
use clustertop::theme::Theme;
use clustertop::views;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

fn screen(snap: &Arc<clustertop::model::Snapshot>, view: View, w: u16, h: u16) -> String {
    let mut m = Model::default();
    update(&mut m, Msg::Snapshot(snap.clone()));
    update(&mut m, Msg::ShowView(view));
    let theme = Theme::builtin("mono", true).expect("mono theme");
    let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
    views::render(&m, &theme, buf.area, &mut buf);
    (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The whole-percent numbers in `s` after `after`, in order (`66% = online 63% + offline 3%`).
fn numbers_after(s: &str, after: &str) -> Vec<String> {
    let at = s.find(after).unwrap_or_else(|| panic!("{after:?} in:\n{s}"));
    let line = s[at..].lines().next().unwrap_or_default();
    line.split(|c: char| !(c.is_ascii_digit() || c == '<' || c == '>' || c == '%'))
        .filter(|w| w.ends_with('%') && w.len() > 1)
        .take(3)
        .map(|w| w.trim_end_matches('%').to_string())
        .collect()
}

#[test]
fn the_dashboard_and_the_snapshot_agree_and_parts_add_up() {
    for minutes in [0, 7, 95, 600, 1111] {
        let now = clustertop_core::testkit::T0 + chrono::Duration::minutes(minutes);
        let snap = Arc::new(snapshot_at(SimConfig::default(), now, Settings::default()));
        let tui = numbers_after(&screen(&snap, View::Overview, 80, 24), " now ");
        let text = clustertop::snapshot_cmd::text(&snap);
        let cli = numbers_after(&text, "cpu ");
        assert_eq!(cli.len(), 3, "{text}");
        assert_eq!(tui, cli, "at +{minutes}m: TUI {tui:?}, snapshot {cli:?}");
        let util = numbers_after(&screen(&snap, View::Utilization, 80, 24), "now ");
        assert_eq!(util, cli, "Utilization at +{minutes}m");
        let n: Vec<u32> = cli.iter().filter_map(|x| x.parse().ok()).collect();
        if n.len() == 3 {
            assert_eq!(n[0], n[1] + n[2], "at +{minutes}m: {cli:?} adds up");
        }
    }
}

#[test]
fn forty_two_kata_pods_of_1451_are_3_percent_not_2() {
    let snap = Arc::new(snapshot_at(SimConfig::default(), clustertop_core::testkit::T0, Settings::default()));
    let overview = screen(&snap, View::Overview, 80, 24);
    let kata = overview.lines().find(|l| l.contains(" kata ")).unwrap();
    assert!(kata.contains("   42   3% "), "{kata}");
    let runtime = screen(&snap, View::Runtime, 80, 24);
    assert!(runtime.contains("kata 42 (3%)"), "{runtime}");
    let mix: Vec<u32> = ["runc", "kata", "gvisor"]
        .iter()
        .filter_map(|k| {
            let label = format!(" {k} ");
            let line = overview.lines().find(|l| l.contains(&label))?;
            numbers_after(line, &label).first().and_then(|n| n.parse().ok())
        })
        .collect();
    assert_eq!(mix.iter().sum::<u32>(), 100, "the mix adds up: {mix:?}\n{overview}");
}

/// The Runtime view and `snapshot --format text` show each runtime's sandbox start the same way
/// (`viewmodel::start`), the estimate marked `~` in ASCII.
#[test]
fn the_runtime_view_and_the_snapshot_show_the_same_sandbox_starts() {
    let snap = Arc::new(snapshot_at(SimConfig::default(), clustertop_core::testkit::T0, Settings::default()));
    let view = screen(&snap, View::Runtime, 200, 50);
    let text = clustertop::snapshot_cmd::text(&snap);
    let line = text.lines().find(|l| l.starts_with("start ")).unwrap_or_else(|| panic!("{text}"));
    for (runtime, kind) in [(None, "runc"), (Some("kata"), "kata"), (Some("gvisor"), "gvisor")] {
        let f = snap.sandbox_starts.of(runtime).and_then(|r| r.clone().ok()).expect("a figure");
        let shown = format!("~{:.1}s", f.mean_s.expect("a mean"));
        let name = runtime.unwrap_or("(default)");
        assert!(line.contains(&format!("{name} {shown}")), "{kind}: {shown} in {line}");
        let row = view.lines().find(|l| l.contains(&format!("|{name} "))).unwrap_or_else(|| panic!("{view}"));
        assert!(row.contains(&shown), "{kind}: {shown} in {row}");
    }
}
