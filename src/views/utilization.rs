//! The utilization view: the cluster CPU curve over the zoom span, online and offline stacked,
//! colocation windows shaded and marked, and how well offline work filled each window.

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Widget, Wrap};
use unicode_width::UnicodeWidthStr;

use super::Ctx;
use super::widgets::{self, stacked_chart::StackedChart};
use crate::app::View;
use crate::model::{CpuCurve, SourceHealth, SourceId, WindowFill};

/// Spill below this many core-hours is rounding noise, not worth a glyph.
const SPILL_EPS: f64 = 0.05;

pub fn render(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return;
    }
    let (chart_area, fills_area) = if area.width >= 150 {
        let table_w = if shows_reclaimed(ctx) { 76 } else { 66 };
        let [a, b] = Layout::horizontal([Constraint::Min(40), Constraint::Length(table_w)]).areas(area);
        (a, b)
    } else {
        // On very short terminals the chart wins; the window table needs a few rows to be useful.
        let fills_h = if area.height < 14 { 0 } else { (area.height * 2 / 5).clamp(3, 11) };
        let [a, b] = Layout::vertical([Constraint::Min(3), Constraint::Length(fills_h)]).areas(area);
        (a, b)
    };
    chart(ctx, chart_area, buf);
    if !fills_area.is_empty() {
        fills(ctx, fills_area, buf);
    }
}

fn chart(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let (snap, th) = (ctx.snap, ctx.theme);
    let zoom = ctx.model.zoom;
    let title = format!("Cluster CPU {}", zoom.label());
    let block = widgets::block(th, &title);
    let inner = block.inner(area);
    Widget::render(block, area, buf);
    // Rewound: the whole curve as known now (the live one), the cursor marked on it; the figures
    // above it are the cursor's.
    let at_cursor = snap.cpu.as_ref().filter(|c| !c.points.is_empty());
    let live = ctx.model.live.as_deref().and_then(|l| l.cpu.as_ref()).filter(|c| !c.points.is_empty());
    let drawn = if ctx.model.at.is_some() { live.or(at_cursor) } else { at_cursor };
    let Some(curve) = drawn else {
        let mut lines = vec![Line::styled("no CPU history from any source", th.warn)];
        lines.extend(source_lines(ctx));
        Widget::render(Paragraph::new(lines).wrap(Wrap { trim: false }), inner, buf);
        return;
    };
    let (first, last) = match (curve.points.first(), curve.points.last()) {
        (Some(f), Some(l)) => (f.t, l.t),
        _ => return,
    };
    let want = last - chrono::Duration::seconds(zoom.seconds());
    let start = want.max(first);
    let stale = stale_note(ctx, usize::from(inner.width));
    // The staleness gets a line of its own when there is room for it.
    let own_line = stale.is_some() && inner.height >= 10;
    let header_h = if own_line {
        3
    } else if inner.height >= 8 {
        2
    } else {
        1
    };
    let [head, body] = Layout::vertical([Constraint::Length(header_h), Constraint::Min(0)]).areas(inner);
    let inline = if own_line { None } else { stale.clone() };
    let shown = at_cursor.unwrap_or(curve);
    let shown_last = shown.points.last().map_or(last, |p| p.t);
    let mut lines = vec![status_line(ctx, shown, start, want, shown_last, inner.width, inline)];
    lines.push(legend(ctx));
    if let (true, Some(note)) = (own_line, stale) {
        lines.insert(0, Line::styled(format!("{} {note}", ctx.theme.sym.warn), ctx.theme.warn));
    }
    if header_h == 1 {
        let mut l = lines.swap_remove(0);
        l.spans.push(Span::raw("  "));
        l.spans.extend(legend(ctx).spans);
        lines = vec![l];
    }
    Widget::render(Paragraph::new(lines), head, buf);
    let w = StackedChart {
        points: &curve.points,
        step_s: curve.step_s,
        start,
        end: last,
        tz: snap.tz,
        windows: &snap.windows,
        theme: th,
        cursor: ctx.model.at,
    };
    Widget::render(w, body, buf);
}

fn status_line<'a>(
    ctx: &Ctx,
    curve: &CpuCurve,
    start: DateTime<Utc>,
    want: DateTime<Utc>,
    last: DateTime<Utc>,
    width: u16,
    stale: Option<String>,
) -> Line<'a> {
    let th = ctx.theme;
    let mut spans = Vec::new();
    if let Some(note) = stale {
        spans.push(Span::styled(format!("{} {note}  ", th.sym.warn), th.warn));
    }
    // A curve one step short of the span is complete enough; say so only when history is missing.
    if (start - want).num_seconds() > i64::from(curve.step_s) {
        let have = span_label((last - start).num_seconds());
        let z = ctx.model.zoom.label();
        spans
            .push(Span::styled(format!("{} only {have} of history ({z} requested)  ", th.sym.warn), th.warn));
    }
    if curve.points.last().is_some_and(|p| p.measured <= 0.0) {
        if let Some(p) = curve.points.last() {
            let msg =
                format!("now {:.0} cores in use ({:.0} offline); capacity unknown", p.total(), p.offline);
            spans.push(Span::styled(msg, th.accent));
        }
    } else if let Some(now) = crate::viewmodel::cpu_now(Some(curve)) {
        let (all, on, off) = (now.total, now.online, now.offline);
        spans.push(Span::styled(format!("now {all}"), th.accent));
        let rest = if width >= 100 {
            format!(" (online {on}, offline {off}) of {:.0} cores", curve.capacity_cores)
        } else {
            format!(" = {on}+{off} of {:.0}c", curve.capacity_cores)
        };
        spans.push(Span::styled(rest, th.base));
    }
    spans.push(Span::styled(format!("  at {}", local(ctx, last, "%a %H:%M")), th.muted));
    Line::from(spans)
}

/// "2d 4h", "5h 20m", "40m": a span of history, to the minute.
fn span_label(secs: i64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h) {
        (0, 0) => format!("{m}m"),
        (0, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

fn legend<'a>(ctx: &Ctx) -> Line<'a> {
    let (th, snap) = (ctx.theme, ctx.snap);
    let wins: Vec<String> = snap.windows.iter().map(|w| w.label()).collect();
    let wins = if wins.is_empty() { "no windows".to_string() } else { wins.join(" ") };
    let mut spans = vec![
        Span::styled(th.sym.chart_online, th.chart_online),
        Span::styled(" online  ", th.base),
        Span::styled(th.sym.chart_offline, th.chart_offline),
        Span::styled(" offline  ", th.base),
    ];
    if shows_reclaimed(ctx) {
        spans.push(Span::styled(th.sym.chart_reclaimed, th.chart_offline));
        spans.push(Span::styled(" reclaimed  ", th.base));
    }
    spans.extend([
        Span::styled(th.sym.window_mark, th.chart_window.patch(th.accent)),
        Span::styled(format!(" window {wins}  "), th.base),
        Span::styled(format!("times {}", snap.tz.name()), th.muted),
    ]);
    Line::from(spans)
}

fn local(ctx: &Ctx, t: DateTime<Utc>, fmt: &str) -> String {
    t.with_timezone(&ctx.snap.tz).format(fmt).to_string()
}

/// Why there is no curve: each source that is not ok on its own line, with its reason.
fn source_lines<'a>(ctx: &Ctx) -> Vec<Line<'a>> {
    let th = ctx.theme;
    if ctx.snap.sources.is_empty() {
        return vec![Line::styled("no source has reported yet", th.muted)];
    }
    let mut ok = Vec::new();
    let mut out = Vec::new();
    for s in ctx.snap.sources.iter().filter(|s| s.health != SourceHealth::NotInstalled) {
        let detail = match &s.health {
            SourceHealth::Ok => {
                ok.push(s.label());
                continue;
            }
            SourceHealth::NoData { reason } => format!("no data: {reason}"),
            SourceHealth::Unreachable { error } => format!("unreachable: {error}"),
            h => h.word().to_string(),
        };
        out.push(Line::styled(format!("{} {}: {detail}", th.sym.warn, s.label()), th.warn));
    }
    if !ok.is_empty() {
        out.push(Line::styled(format!("ok: {}", ok.join(", ")), th.muted));
    }
    out
}

/// The metrics backend's trouble, if the curve on screen is not current: "prometheus
/// unreachable (…); curve as of 4m ago", in `width` cells: a long reason (a URL and an error chain)
/// is cut with `…` so that the curve's age always shows.
fn stale_note(ctx: &Ctx, width: usize) -> Option<String> {
    let snap = ctx.snap;
    let bad = snap.sources.iter().find(|s| {
        s.source == SourceId::Prometheus
            && (s.scope.is_empty() || s.scope == "cpu")
            && !matches!(s.health, SourceHealth::Ok | SourceHealth::NotInstalled)
    })?;
    let reason = match &bad.health {
        SourceHealth::Unreachable { error } => Some(error),
        SourceHealth::NoData { reason } => Some(reason),
        _ => None,
    };
    let head = format!("{} {}", bad.label(), bad.health.word());
    let tail = format!("; curve as of {} ago", widgets::age(snap.now, bad.updated));
    let Some(reason) = reason else { return Some(format!("{head}{tail}")) };
    // The warning glyph and a space come before the note; " (" and ")" around the reason.
    let room = width.saturating_sub(2 + head.width() + tail.width() + 3).max(8);
    Some(format!("{head} ({}){tail}", widgets::truncate(ctx.theme, reason, room)))
}

fn num(v: f64) -> String {
    if !v.is_finite() {
        return "?".into();
    }
    // Never "-0.0".
    format!("{:.1}", if v.abs() < 0.05 { 0.0 } else { v })
}

/// Why an occurrence's figures are not final yet: still open, the data does not cover it (with
/// the share that is a gap), spill hours still running.
fn pending(ctx: &Ctx, f: &WindowFill) -> String {
    let now = ctx.snap.now;
    if now < f.end {
        "open".into()
    } else if f.coverage <= 0.0 {
        "no data".into()
    } else if f.coverage < 1.0 - 1e-9 {
        // The uncovered share: any gap shows (`<1%`, never 0).
        format!("{} gap", crate::viewmodel::pct(1.0 - f.coverage))
    } else if now < f.end + chrono::Duration::hours(crate::analysis::colocation::SPILL_HOURS) {
        format!("spill{}", ctx.theme.sym.ellipsis)
    } else {
        "partial".into()
    }
}

fn spill_cell<'a>(ctx: &Ctx, f: &WindowFill) -> Cell<'a> {
    let th = ctx.theme;
    if f.spill_core_hours >= SPILL_EPS {
        Cell::from(Span::styled(format!("{} {}", th.sym.warn, num(f.spill_core_hours)), th.warn))
    } else {
        Cell::from(Span::styled(format!("  {}", num(f.spill_core_hours)), th.muted))
    }
}

/// The figure columns of an occurrence; with `recl`, the reclaimed capacity offline work left
/// idle (`?` where the batch tier's allocatable is not known for the whole occurrence).
fn fill_cells<'a>(ctx: &Ctx, f: &WindowFill, recl: bool) -> Vec<Cell<'a>> {
    let th = ctx.theme;
    let mut cells = vec![
        Cell::from(Span::styled(crate::viewmodel::pct(f.avg_util), th.base)),
        Cell::from(Span::styled(crate::viewmodel::pct(f.offline_share), th.base)),
        Cell::from(Span::styled(num(f.idle_core_hours), th.base)),
        spill_cell(ctx, f),
    ];
    if recl {
        cells.push(match f.reclaimed_unused_core_hours {
            Some(v) => Cell::from(Span::styled(num(v), th.base)),
            None => Cell::from(Span::styled(th.sym.unknown, th.unknown)),
        });
    }
    cells
}

const NUM_COLS: [Constraint; 4] =
    [Constraint::Length(5), Constraint::Length(7), Constraint::Length(8), Constraint::Length(9)];
const RECL_COL: Constraint = Constraint::Length(9);

/// The figure columns' widths, with the reclaimed column when shown.
fn num_cols(recl: bool) -> Vec<Constraint> {
    let mut w = NUM_COLS.to_vec();
    if recl {
        w.push(RECL_COL);
    }
    w
}

/// Whether any occurrence knows the batch tier (Koordinator's reclaimed capacity): without it the
/// column is left out rather than filled with `?`.
fn shows_reclaimed(ctx: &Ctx) -> bool {
    ctx.snap.fills.iter().any(|f| f.reclaimed_core_hours.is_some())
}

fn fills(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let (snap, th) = (ctx.snap, ctx.theme);
    let sort = ctx.model.sorts.windows;
    let title = if sort == crate::viewmodel::Sorts::default().windows {
        "Colocation windows".to_string()
    } else {
        format!("Colocation windows  {}", sort.describe())
    };
    let block = widgets::block(th, &title);
    let inner = block.inner(area);
    Widget::render(block, area, buf);
    if inner.is_empty() {
        return;
    }
    if snap.windows.is_empty() {
        let p = Paragraph::new("no colocation window configured (--window HH:MM-HH:MM)").style(th.muted);
        Widget::render(p, inner, buf);
        return;
    }
    // The occurrences in the order chosen (newest first unless sorted otherwise).
    let order = ctx.rows();
    let cluster: Vec<&WindowFill> = order.windows.iter().map(|&i| &snap.fills[i]).collect();
    if cluster.is_empty() {
        let msg = "no window occurrence covered by the CPU curve yet";
        Widget::render(Paragraph::new(msg).style(th.muted), inner, buf);
        return;
    }
    // By rack: the occurrence opened with Enter, else the latest complete one.
    let opened =
        ctx.model.window.and_then(|(w, start)| cluster.iter().find(|f| f.window == w && f.start == start));
    let latest = cluster.iter().filter(|f| f.complete).max_by_key(|f| f.start);
    let shown_racks = opened.or(latest).copied();
    let mut racks: Vec<&WindowFill> = shown_racks
        .map(|l| {
            snap.fills
                .iter()
                .filter(|f| f.rack.is_some() && f.start == l.start && f.window == l.window)
                .collect()
        })
        .unwrap_or_default();
    racks.sort_by(|a, b| a.rack.cmp(&b.rack));
    let latest = shown_racks;
    // The cluster total heads the per-rack table.
    if let (Some(l), false) = (latest, racks.is_empty()) {
        racks.insert(0, l);
    }

    // Cluster occurrences on top, the latest complete one per rack below.
    let clamp16 = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
    let (cluster_need, rack_need) = (clamp16(cluster.len() + 1), clamp16(racks.len() + 2));
    let rack_h = if racks.is_empty() {
        0
    } else if opened.is_some() && inner.height < cluster_need + rack_need {
        // The occurrence opened with Enter gets the room; Esc gives the list back.
        inner.height
    } else {
        let cluster_h = cluster_need.min(inner.height.saturating_sub(rack_need).max(4));
        let h = inner.height.saturating_sub(cluster_h).min(rack_need);
        // Title, header, the cluster total and at least one rack, or nothing.
        if h >= 4 { h } else { 0 }
    };
    let [top, bottom] = Layout::vertical([Constraint::Min(0), Constraint::Length(rack_h)]).areas(inner);

    let recl = shows_reclaimed(ctx);
    let figures: &[&str] = if recl {
        &["util", "offline", "idle c-h", "spill c-h", "recl idle"]
    } else {
        &["util", "offline", "idle c-h", "spill c-h"]
    };
    let header = |first: &str, second: &str| {
        Row::new(
            [first, second].into_iter().chain(figures.iter().copied()).chain(["status"]).map(String::from),
        )
        .style(th.header)
    };
    let rows_fit = usize::from(top.height.saturating_sub(1));
    let (cur, off) =
        widgets::scroll(cluster.len(), ctx.model.cursor[View::Utilization.index()], rows_fit.max(1));
    let rows: Vec<Row> = cluster
        .iter()
        .enumerate()
        .skip(off)
        .take(rows_fit)
        .map(|(i, f)| {
            let open = opened.is_some_and(|o| std::ptr::eq(*o, *f));
            let mut cells = vec![
                Cell::from(Span::styled(
                    format!("{}{}", widgets::select_mark(th, i == cur), f.window.label()),
                    if open { th.accent } else { th.base },
                )),
                Cell::from(Span::styled(local(ctx, f.start, "%a %m-%d"), th.base)),
            ];
            cells.extend(fill_cells(ctx, f, recl));
            cells.push(if f.complete {
                Cell::from(Span::styled("complete", th.muted))
            } else {
                Cell::from(Span::styled(format!("{} {}", th.sym.unknown, pending(ctx, f)), th.info))
            });
            let row = Row::new(cells);
            if i == cur { row.style(th.selected) } else { row }
        })
        .collect();
    let sel_w = th.sym.selected.width() as u16;
    let widths = [
        [Constraint::Length(11 + sel_w), Constraint::Length(9)].as_slice(),
        &num_cols(recl),
        &[Constraint::Min(8)],
    ]
    .concat();
    let mut names =
        vec![Some("window"), Some("date"), Some("util"), Some("offline"), Some("idle"), Some("spill")];
    if recl {
        names.push(Some("reclaimed"));
    }
    names.push(None);
    let titles: Vec<(Option<u16>, Option<&'static str>)> = widths
        .iter()
        .zip(names)
        .map(|(w, n)| (if let Constraint::Length(x) = w { Some(*x) } else { None }, n))
        .collect();
    let columns = super::hits::columns(top.x, top.y, top.right(), 1, &titles);
    let rows_area = Rect { y: top.y + 1, height: top.height.saturating_sub(1), ..top };
    super::hits::table(rows_area, off, cluster.len(), columns);
    let first = format!("{}window", " ".repeat(usize::from(sel_w)));
    Widget::render(Table::new(rows, widths).header(header(&first, "date")), top, buf);

    if let (Some(l), false) = (latest, bottom.is_empty()) {
        let [title, table] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(bottom);
        let which = if opened.is_some() { "" } else { "latest complete " };
        let mut t = format!("{which}{} {}, by rack", l.window.label(), local(ctx, l.start, "%a %m-%d"));
        if top.height == 0 {
            t.push_str("  (Esc: the list)");
        }
        Widget::render(Line::styled(t, th.title), title, buf);
        let fit = usize::from(table.height.saturating_sub(1));
        let more = racks.len().saturating_sub(fit);
        let shown = if more > 0 { fit.saturating_sub(1) } else { fit };
        let rows: Vec<Row> = racks
            .iter()
            .take(shown)
            .map(|f| {
                let name = match f.rack.as_deref() {
                    Some(r) => Span::styled(widgets::truncate(th, r, 20), th.base),
                    None => Span::styled("cluster total", th.accent),
                };
                let mut cells = vec![Cell::from(name)];
                cells.extend(fill_cells(ctx, f, recl));
                Row::new(cells)
            })
            .collect();
        if more > 0 && table.height > 1 {
            let spill = racks.iter().skip(shown).filter(|f| f.spill_core_hours >= SPILL_EPS).count();
            let msg = format!("+{} more racks, {spill} of them with spill", racks.len() - shown);
            let y = table.y + table.height - 1;
            Widget::render(Line::styled(msg, th.muted), Rect { y, height: 1, ..table }, buf);
        }
        let widths = [[Constraint::Length(20)].as_slice(), &num_cols(recl)].concat();
        let head = Row::new(["rack"].iter().chain(figures).copied()).style(th.header);
        let rows_area = Rect { height: table.height.min(clamp16(shown + 1)), ..table };
        Widget::render(Table::new(rows, widths).header(head), rows_area, buf);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::app::{Model, Zoom};
    use crate::testkit::cluster_b as fixture;

    #[test]
    fn preview_and_content() {
        let snap = fixture::snapshot();
        let model = Model::default();
        let wide = fixture::preview("utilization", &snap, &model, render);
        assert!(wide.contains("Cluster CPU 24h") && wide.contains("times Europe/Berlin"), "{wide}");
        assert!(
            wide.contains("130.5") && wide.contains("by rack") && wide.contains("cluster total"),
            "{wide}"
        );
        let model = Model { zoom: Zoom::D7, ..Model::default() };
        let wide = fixture::preview("utilization-7d", &snap, &model, render);
        assert!(!wide.contains("of history"));
        assert_eq!(span_label(6 * 86_400 + 23 * 3600 + 55 * 60), "6d 23h");
        assert_eq!(span_label(5 * 3600 + 20 * 60), "5h 20m");
    }

    #[test]
    fn short_curve_and_no_curve() {
        let mut snap = fixture::snapshot();
        snap.cpu = Some(fixture::curve(snap.tz, 2));
        let model = Model { zoom: Zoom::D7, ..Model::default() };
        let th = crate::theme::Theme::builtin("default", false).unwrap();
        let text = fixture::render(&snap, &model, &th, 80, 24, render).join("\n");
        assert!(text.contains("only 2d 0h of history (7d requested)"), "{text}");
        snap.cpu = None;
        snap.fills.clear();
        let text = fixture::preview("utilization-none", &snap, &model, render);
        assert!(text.contains("no CPU history from any source"), "{text}");
        assert!(text.contains("prometheus: unreachable: connect"), "{text}");
    }

    #[test]
    fn a_long_reason_is_cut_so_the_curves_age_shows() {
        let mut snap = fixture::snapshot();
        snap.sources.retain(|s| s.source != SourceId::Prometheus);
        let error = format!("http://prometheus.monitoring.svc:9090: {}", "error sending request ".repeat(8));
        snap.sources.push(crate::model::SourceStatus {
            source: SourceId::Prometheus,
            scope: String::new(),
            health: SourceHealth::Unreachable { error },
            updated: Some(snap.now - chrono::Duration::minutes(4)),
            note: None,
        });
        let th = crate::theme::Theme::builtin("mono", true).unwrap();
        for (w, h) in [(80, 24), (120, 40), (200, 50)] {
            let text = fixture::render(&snap, &Model::default(), &th, w, h, render).join("\n");
            assert!(text.contains("prometheus unreachable (http://prometheus"), "{w}x{h}:\n{text}");
            let cut = format!("{}); curve as of 4m ago", th.sym.ellipsis);
            assert!(text.contains(&cut), "{w}x{h}:\n{text}");
        }
    }

    #[test]
    fn window_marker_under_night_columns() {
        // UTC, 24 h: the marker row has marks over the 5 h of 01:00-06:00, i.e. 5/24 of the columns.
        let mut snap = fixture::snapshot();
        snap.tz = chrono_tz::Tz::UTC;
        let model = Model::default();
        let th = crate::theme::Theme::builtin("mono", true).unwrap();
        let rows = fixture::render(&snap, &model, &th, 200, 50, render);
        let mark_row = rows.iter().find(|r| r.contains("=====")).expect("a marker row");
        let marks = mark_row.matches('=').count();
        let chart_cols = 200 - 66 - 2 - 5;
        let expect = chart_cols as f64 * 5.0 / 24.0;
        assert!((marks as f64 - expect).abs() <= 2.0, "{marks} marks, expected ~{expect}");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod analyzed {
    use crate::app::Model;
    use crate::testkit::cluster_b as fixture;

    /// Every view over the hand-made cluster with the real analysis' fills and findings.
    #[test]
    fn preview_with_real_analysis() {
        let snap = fixture::analyzed();
        assert!(!snap.fills.is_empty() && !snap.findings.is_empty());
        let m = Model::default();
        fixture::preview("A-utilization", &snap, &m, super::render);
        fixture::preview("A-runtime", &snap, &m, crate::views::runtime::render);
        fixture::preview("A-conntrack", &snap, &m, crate::views::conntrack::render);
        fixture::preview("A-triage", &snap, &m, crate::views::triage::render);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod simulated {
    use crate::app::{Model, View, Zoom};
    use crate::testkit::cluster_b as fixture;
    use crate::theme::Theme;

    /// The four views on the simulated cluster, full screen, as a user would see them.
    #[test]
    fn preview_simulated_cluster() {
        let snap = fixture::sim();
        for view in [View::Runtime, View::Conntrack, View::Utilization, View::Triage] {
            for (theme, ascii) in [("default", false), ("mono", true)] {
                let th = Theme::builtin(theme, ascii).unwrap();
                for (w, h) in [(80, 24), (200, 50)] {
                    let zoom = if w == 200 { Zoom::D7 } else { Zoom::H1 };
                    let model = Model { view, zoom, ..Model::default() };
                    let text = fixture::screen(snap.clone(), &model, &th, w, h);
                    println!("=== sim {view:?} {w}x{h} {theme} ascii={ascii}\n{text}");
                    if ascii {
                        assert!(text.is_ascii(), "{text}");
                    }
                }
            }
        }
    }
}
