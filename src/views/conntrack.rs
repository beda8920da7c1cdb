//! The conntrack view: nodes by table fill, by network mode: the kernel's `nf_conntrack` (insert
//! failures, drops, the established-timeout vs keep-alive trap, the bridge-nf-call-iptables trap)
//! where the kernel tracks, Cilium's fullest BPF CT/NAT map and its CT insertion-failed drops where
//! Cilium runs; a node mid-migration shows both. A table the node's pod connections do not go
//! through is shown muted.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Widget, Wrap};

use unicode_width::UnicodeWidthStr;

use super::Ctx;
use super::widgets;
use crate::app::View;
use crate::model::Node;

use crate::analysis::conntrack::{
    CONNTRACK_CRIT as CRIT, CONNTRACK_WARN as WARN, Tracking, bridge_trap, timeout_trap, tracking,
};
use crate::viewmodel::Tally;
use crate::viewmodel::sort::{Column, ConntrackCol};

fn summary<'a>(ctx: &Ctx, tally: &Tally) -> Line<'a> {
    let th = ctx.theme;
    let ka = ctx.snap.keepalive_idle_s;
    let Tally { crit, warn, ins, tmo, brn, nodata, cilium_unknown, total } = *tally;
    let item = |n: usize, glyph: &'static str, st: Style, text: String| {
        let st = if n > 0 { st } else { th.muted };
        let g = if n > 0 { glyph } else { th.sym.ok };
        vec![Span::styled(format!("{g} {n} {text}"), st), Span::styled("  ", th.base)]
    };
    let mut spans = Vec::new();
    spans.extend(item(crit, th.sym.crit, th.crit, format!(">={}", crate::viewmodel::pct(CRIT))));
    spans.extend(item(warn, th.sym.warn, th.warn, format!(">={}", crate::viewmodel::pct(WARN))));
    spans.extend(item(ins, th.sym.crit, th.crit, "insert-failing".into()));
    spans.extend(item(tmo, th.sym.warn, th.warn, format!("timeout<{}", widgets::secs(ka))));
    spans.extend(item(brn, th.sym.warn, th.warn, "bridge-nf traps".into()));
    spans.push(Span::styled(format!("of {total} nodes"), th.muted));
    if nodata > 0 {
        spans.push(Span::styled(format!(", {nodata} without data"), th.muted));
    }
    if cilium_unknown > 0 {
        spans.push(Span::styled(
            format!(", {} {cilium_unknown} Cilium maps unknown: no cilium metrics", th.sym.unknown),
            th.unknown,
        ));
    }
    Line::from(spans)
}

fn rate(th: &crate::theme::Theme, v: f64, bad: Style) -> Cell<'static> {
    if v > 0.0 {
        Cell::from(Span::styled(format!("{v:.1}"), bad))
    } else {
        Cell::from(Span::styled("0", th.muted))
    }
}

/// Columns that fit the width: (wide = mode and gauge shown).
fn widths(wide: bool, name_w: u16) -> Vec<Constraint> {
    let mut w = vec![Constraint::Length(name_w)];
    if wide {
        w.push(Constraint::Length(13));
    }
    w.extend([Constraint::Length(if wide { 13 } else { 10 }), Constraint::Length(6)]);
    if wide {
        w.push(Constraint::Length(10));
    }
    // Room for the sort arrow after each title.
    w.extend([Constraint::Length(6), Constraint::Length(7), Constraint::Length(8)]);
    // Cilium's fullest map (and, wide, its CT insertion-failed drops).
    w.push(Constraint::Length(if wide { 22 } else { 5 }));
    if wide {
        w.push(Constraint::Length(10));
    }
    w.push(Constraint::Length(if wide { 24 } else { 12 }));
    w.push(Constraint::Min(5));
    w
}

/// Cilium's cells: its fullest map and (wide) its CT insertion-failed drops; `-` where Cilium does
/// not run, `?` where it does and no source reports its maps.
fn cilium_cells(ctx: &Ctx, n: &Node, t: Tracking, wide: bool) -> Vec<Cell<'static>> {
    let th = ctx.theme;
    let dash = || Cell::from(Span::styled("-", th.muted));
    let unknown = |why: &str| {
        let text = if wide { format!("{} {why}", th.sym.unknown) } else { th.sym.unknown.to_string() };
        Cell::from(Span::styled(text, th.unknown))
    };
    let Some(m) = n.cilium_ct() else {
        let c = if t.cilium { unknown("no cilium metrics") } else { dash() };
        return if wide { vec![c.clone(), if t.cilium { unknown("") } else { dash() }] } else { vec![c] };
    };
    let map = match m.fullest() {
        None => unknown("no map pressure"),
        Some(f) => {
            let (st, glyph) = widgets::conntrack_level(th, f.pressure);
            let p = crate::viewmodel::pct(f.pressure);
            let text = if wide {
                format!("{} {} {p}", glyph.unwrap_or(" "), f.name)
            } else {
                format!("{}{p:>4}", glyph.unwrap_or(" "))
            };
            Cell::from(Span::styled(text, st))
        }
    };
    let mut cells = vec![map];
    if wide {
        cells.push(match m.insert_failed_per_s {
            None => unknown("no drops"),
            Some(r) => rate(th, r, th.crit),
        });
    }
    cells
}

fn row<'a>(ctx: &Ctx, n: &Node, selected: bool, wide: bool, name_w: usize) -> Row<'a> {
    let th = ctx.theme;
    let f = ctx.model.filter.as_str();
    let mut name = widgets::highlight(th, widgets::truncate(th, &n.name, name_w), f, th.base);
    name.spans.insert(0, Span::styled(widgets::select_mark(th, selected), th.base));
    let mut cells = vec![Cell::from(name)];
    if wide {
        cells.push(Cell::from(widgets::highlight(th, n.net.mode.label(), f, th.muted)));
    }
    let t = tracking(n);
    let Some(c) = n.conntrack() else {
        if n.cilium_ct().is_none() {
            cells.push(Cell::from(Span::styled(format!("{} no data", th.sym.unknown), th.unknown)));
            return Row::new(cells);
        }
        // Cilium's maps without the kernel's table.
        let pad = if wide { 6 } else { 5 };
        cells.push(Cell::from(Span::styled(format!("{} no nf_conntrack", th.sym.unknown), th.unknown)));
        cells.extend((1..pad).map(|_| Cell::from("")));
        cells.extend(cilium_cells(ctx, n, t, wide));
        return Row::new(cells);
    };
    let f = c.fill();
    // The kernel's table on a Cilium-only node holds the host's own connections: not judged.
    let judged = |st: Style| if t.kernel { st } else { th.muted };
    let (st, glyph) = widgets::conntrack_level(th, f);
    let st = judged(st);
    let glyph = glyph.filter(|_| t.kernel).unwrap_or(" ");
    cells.push(Cell::from(Span::styled(
        format!("{}/{}", widgets::si(c.entries), widgets::si(c.limit)),
        judged(th.base),
    )));
    // Parenthesised as well as muted, so it reads without colour too.
    let fill = if t.kernel {
        format!("{glyph}{:>4}", crate::viewmodel::pct(f))
    } else {
        format!("{:>5}", format!("({})", crate::viewmodel::pct(f)))
    };
    cells.push(Cell::from(Span::styled(fill, st)));
    if wide {
        cells.push(Cell::from(Span::styled(widgets::gauge(th, f, 10), st)));
    }
    cells.push(rate(th, c.insert_failed_per_s, judged(th.crit)));
    cells.push(rate(th, c.drop_per_s, judged(th.crit)));
    cells.push(rate(th, c.early_drop_per_s, judged(th.warn)));
    cells.extend(cilium_cells(ctx, n, t, wide));
    let ka = ctx.snap.keepalive_idle_s;
    cells.push(match c.tcp_established_timeout_s {
        None => Cell::from(Span::styled("n/a", th.muted)),
        Some(t) if tracking(n).kernel && timeout_trap(c, ka) => {
            let (t, k) = (widgets::secs(t), widgets::secs(ka));
            let text = if wide {
                format!("{} {t} < {k} keep-alive", th.sym.warn)
            } else {
                format!("{} {t}<{k}", th.sym.warn)
            };
            Cell::from(Span::styled(text, th.warn))
        }
        Some(t) => Cell::from(Span::styled(format!("  {}", widgets::secs(t)), th.base)),
    });
    cells.push(match c.bridge_nf_call_iptables {
        None => Cell::from(Span::styled("n/a", th.muted)),
        Some(false) => Cell::from(Span::styled("off", th.base)),
        Some(true) if bridge_trap(n, c) => Cell::from(Span::styled(format!("{} on", th.sym.warn), th.warn)),
        Some(true) => Cell::from(Span::styled("on", th.base)),
    });
    Row::new(cells)
}

pub fn render(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return;
    }
    let th = ctx.theme;
    let sort = ctx.model.sorts.conntrack;
    let title = if sort == crate::viewmodel::Sorts::default().conntrack {
        "Conntrack by table fill".to_string()
    } else {
        format!("Conntrack  {}", sort.describe())
    };
    let block = widgets::block(th, &title);
    let inner = block.inner(area);
    Widget::render(block, area, buf);
    if inner.is_empty() {
        return;
    }
    let order = ctx.rows();
    let rows = ctx.nodes_at(&order.conntrack);
    let head_h = if inner.width >= 120 { 1 } else { 2 };
    let [head, body] = Layout::vertical([Constraint::Length(head_h), Constraint::Min(0)]).areas(inner);
    Widget::render(Paragraph::new(summary(ctx, &order.conntrack_tally)).wrap(Wrap { trim: true }), head, buf);
    if rows.is_empty() {
        let msg = if ctx.snap.nodes.is_empty() {
            "no nodes reported yet".to_string()
        } else {
            format!("no node matches filter {:?}", ctx.model.filter)
        };
        Widget::render(Line::styled(msg, th.muted), body, buf);
        return;
    }
    let wide = inner.width >= 120;
    let sel_w = th.sym.selected.width();
    let name_w = if wide { 28 } else { usize::from(inner.width).saturating_sub(68 + sel_w).clamp(8, 24) };
    let height = usize::from(body.height.saturating_sub(1));
    let (cur, off) = widgets::scroll(rows.len(), ctx.model.cursor[View::Conntrack.index()], height);
    let visible: Vec<Row> = rows
        .iter()
        .enumerate()
        .skip(off)
        .take(height)
        .map(|(i, n)| {
            let r = row(ctx, n, i == cur, wide, name_w);
            if i == cur { r.style(th.selected) } else { r }
        })
        .collect();
    let ka = widgets::secs(ctx.snap.keepalive_idle_s);
    // Column titles with their sort names; the sorted one gets an arrow.
    let mut cols: Vec<(String, Option<ConntrackCol>)> =
        vec![(format!("{}node", " ".repeat(sel_w)), Some(ConntrackCol::Node))];
    if wide {
        cols.push(("mode".into(), Some(ConntrackCol::Mode)));
    }
    cols.extend([
        ((if wide { "entries/limit" } else { "used/max" }).to_string(), None),
        ("fill".into(), Some(ConntrackCol::Fill)),
    ]);
    if wide {
        cols.push((String::new(), None));
    }
    cols.extend([
        ("ins/s".into(), Some(ConntrackCol::Ins)),
        ("drop/s".into(), Some(ConntrackCol::Drop)),
        ("early/s".into(), Some(ConntrackCol::Early)),
        ((if wide { "cilium map" } else { "bpf" }).to_string(), Some(ConntrackCol::Cilium)),
    ]);
    if wide {
        cols.push(("ct-fail/s".into(), Some(ConntrackCol::CtFail)));
    }
    cols.push((
        if wide { format!("est. timeout (ka {ka})") } else { "est.timeout".into() },
        Some(ConntrackCol::Timeout),
    ));
    cols.push(("br-nf".into(), Some(ConntrackCol::BrNf)));
    let arrow = if sort.desc { th.sym.arrow_down } else { th.sym.arrow_up };
    let header: Vec<String> = cols
        .iter()
        .map(|(t, c)| if *c == Some(sort.col) { format!("{t}{arrow}") } else { t.clone() })
        .collect();
    let widths = widths(wide, (name_w + sel_w) as u16);
    let titles: Vec<(Option<u16>, Option<&'static str>)> = widths
        .iter()
        .zip(&cols)
        .map(|(w, (_, c))| (if let Constraint::Length(n) = w { Some(*n) } else { None }, c.map(|c| c.name())))
        .collect();
    let columns = super::hits::columns(body.x, body.y, body.right(), 1, &titles);
    let rows_area = Rect { y: body.y + 1, height: body.height.saturating_sub(1), ..body };
    super::hits::table(rows_area, off, rows.len(), columns);
    let table = Table::new(visible, widths).header(Row::new(header).style(th.header)).column_spacing(1);
    Widget::render(table, body, buf);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::app::Model;
    use crate::testkit::cluster_b as fixture;

    #[test]
    fn preview_sorted_by_fill() {
        let snap = fixture::snapshot();
        let model = Model::default();
        let wide = fixture::preview("conntrack", &snap, &model, render);
        let pos = |s: &str| wide.find(s).unwrap_or_else(|| panic!("{s} missing:\n{wide}"));
        // By the fullest table each node's pod connections go through: node-b1 (Cilium) by its
        // CT map's 82 %, not its kernel table's 20 %.
        assert!(pos("node-a1") < pos("node-b1") && pos("node-b1") < pos("node-a2"));
        assert!(pos("node-a2") < pos("node-b2-k") && pos("node-b2-k") < pos("node-c1"));
        assert!(wide.contains("5m < 15m keep-alive"), "{wide}");
        assert!(wide.contains("no data"));
        assert!(wide.contains("▲ ct4_global 82%"), "{wide}");
        assert!(wide.contains("? no cilium metrics"), "node-b2-k runs Cilium, unreported: {wide}");
        assert!(wide.contains("? 1 Cilium maps unknown: no cilium metrics"), "{wide}");
        let rows = |f: &str| crate::viewmodel::Rows::derive(&snap, f, &Default::default()).conntrack;
        let names: Vec<&str> = rows("").iter().map(|&i| snap.nodes[i].name.as_str()).collect();
        assert_eq!(names, ["node-a1", "node-b1", "node-a2", "node-b2-k", "node-c1"]);
        assert_eq!(rows("rack-b").len(), 2);
    }

    #[test]
    fn cursor_pages_and_filter_empty() {
        let mut snap = fixture::snapshot();
        let base = (*snap.nodes[0]).clone();
        snap.nodes = (0..500)
            .map(|i| std::sync::Arc::new(crate::model::Node { name: format!("n{i:04}"), ..base.clone() }))
            .collect();
        let mut model = Model::default();
        model.cursor[View::Conntrack.index()] = 450;
        let th = crate::theme::Theme::builtin("mono", true).unwrap();
        let text = fixture::render(&snap, &model, &th, 80, 24, render).join("\n");
        assert!(text.contains(">n0450"), "{text}");
        model.filter = "nothing-matches".into();
        let text = fixture::render(&snap, &model, &th, 80, 24, render).join("\n");
        assert!(text.contains("no node matches filter"), "{text}");
    }
}
