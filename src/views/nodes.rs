//! The nodes view: one row per node that passes the filter, sorted by the chosen column.
//!
//! Columns: node, rack, net mode, BGP x/2, runtime mix, conntrack fill, CPU, pods, and the node's
//! age as `kubectl get nodes` writes it (the age of its data is in the node detail). On
//! narrow terminals the lower-priority columns go first (runtime, rack, pods, age); node, mode,
//! BGP, conntrack and CPU always stay. Page-flip scrolling keeps the selected row on screen.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Widget};
use unicode_width::UnicodeWidthStr;

use super::Ctx;
use super::widgets;
use crate::app::View;
use crate::model::Node;
use crate::viewmodel::SortKey;

/// The node column never gets narrower than this.
const NAME_MIN: usize = 8;
/// The node column shrinks to this before any other column is dropped.
const NAME_SOFT: usize = 20;

/// Columns are the sort keys, in display order.
type Col = SortKey;

/// Dropped first to last when the terminal is too narrow.
const DROP: [Col; 4] = [Col::Runtime, Col::Rack, Col::Pods, Col::Age];

fn title(c: Col) -> &'static str {
    match c {
        Col::Name => "NODE",
        Col::Rack => "RACK",
        Col::Mode => "MODE",
        Col::Bgp => "BGP",
        Col::Runtime => "RUNTIME",
        Col::Conntrack => "CONNTRACK",
        Col::Cpu => "CPU",
        Col::Pods => "PODS",
        Col::Age => "AGE",
    }
}

fn right_aligned(c: Col) -> bool {
    matches!(c, Col::Conntrack | Col::Cpu | Col::Pods | Col::Age)
}

/// Which columns to show and how wide (each fits its title plus a sort arrow), for an inner width of `width` cells.
fn columns(rows: &[&Node], width: usize) -> Vec<(Col, usize)> {
    let max = |f: &dyn Fn(&Node) -> usize| rows.iter().map(|n| f(n)).max().unwrap_or(0);
    let name_full = max(&|n| n.name.width()).clamp(NAME_MIN, 64);
    let rack_w = max(&|n| n.rack.width()).clamp(5, 14);
    let runtime_w = max(&|n| widgets::runtime_mix(n.runtime.as_ref()).width()).clamp(8, 16);
    let mut cols: Vec<(Col, usize)> = SortKey::ALL
        .iter()
        .map(|c| {
            let w = match c {
                Col::Name => name_full,
                Col::Rack => rack_w,
                Col::Mode => 13,
                Col::Bgp => 5,
                Col::Runtime => runtime_w,
                Col::Conntrack => 10,
                Col::Cpu => 4,
                Col::Pods => 5,
                Col::Age => 5,
            };
            (*c, w)
        })
        .collect();
    // Marker cells (selection + ready glyph) and one space between columns.
    let total = |cols: &[(Col, usize)]| 3 + cols.iter().map(|(_, w)| w + 1).sum::<usize>();
    let shrink_name = |cols: &mut Vec<(Col, usize)>, floor: usize| {
        let over = total(cols).saturating_sub(width);
        if let Some((_, w)) = cols.iter_mut().find(|(c, _)| *c == Col::Name) {
            *w = w.saturating_sub(over).max(floor.min(*w));
        }
    };
    shrink_name(&mut cols, NAME_SOFT);
    for d in DROP {
        if total(&cols) <= width {
            break;
        }
        cols.retain(|(c, _)| *c != d);
    }
    shrink_name(&mut cols, NAME_MIN);
    // Give what is left back to the name, up to its full width.
    let spare = width.saturating_sub(total(&cols));
    if let Some((_, w)) = cols.iter_mut().find(|(c, _)| *c == Col::Name) {
        *w = (*w + spare).min(name_full);
    }
    cols
}

fn cell<'a>(ctx: &Ctx, node: &Node, col: Col, width: usize) -> Cell<'a> {
    let (t, s, f) = (ctx.theme, ctx.snap, ctx.model.filter.as_str());
    let line = match col {
        Col::Name => widgets::highlight(t, widgets::truncate(t, &node.name, width), f, t.base),
        Col::Rack => widgets::highlight(t, widgets::truncate(t, &node.rack, width), f, t.muted),
        Col::Mode => widgets::highlight(t, node.net.mode.label(), f, t.base),
        Col::Bgp => Line::from(widgets::verdict_span(t, node)),
        Col::Runtime => {
            let st = if node.runtime.is_some_and(|r| r.kata + r.gvisor + r.other > 0) {
                t.accent
            } else {
                t.muted
            };
            Line::styled(widgets::runtime_mix(node.runtime.as_ref()), st)
        }
        // The fullest table the node's pod connections go through (Cilium's maps on Cilium nodes).
        Col::Conntrack => match crate::analysis::conntrack::worst_fill(node) {
            Some(f) => {
                let (st, g) = widgets::conntrack_level(t, f);
                Line::styled(format!("{} {}", g.unwrap_or(""), crate::viewmodel::pct(f)), st)
            }
            None => Line::styled("-", t.muted),
        },
        Col::Cpu => Line::styled(node.cpu_now().map_or("-".to_string(), crate::viewmodel::pct), t.base),
        Col::Pods => Line::styled(widgets::count(node.pods), t.base),
        Col::Age => {
            let age = widgets::age(s.now, node.created);
            let st = if node.created.is_none() { t.unknown } else { t.muted };
            Line::styled(age.kubectl(), st)
        }
    };
    let line = if right_aligned(col) { line.right_aligned() } else { line };
    Cell::from(line)
}

fn header<'a>(ctx: &Ctx, cols: &[(Col, usize)]) -> Row<'a> {
    let t = ctx.theme;
    let m = ctx.model;
    let mut cells = vec![Cell::from("")];
    for (c, _) in cols {
        let title = if *c == m.sorts.nodes.col {
            let arrow = if m.sorts.nodes.desc { t.sym.arrow_down } else { t.sym.arrow_up };
            format!("{}{arrow}", title(*c))
        } else {
            title(*c).to_string()
        };
        let line = Line::from(title);
        cells.push(Cell::from(if right_aligned(*c) { line.right_aligned() } else { line }));
    }
    Row::new(cells).style(t.header)
}

pub fn render(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let (t, s, m) = (ctx.theme, ctx.snap, ctx.model);
    if area.width < 3 || area.height < 3 {
        return;
    }
    let order = ctx.rows();
    let rows = ctx.nodes_at(&order.nodes);
    let inner_h = usize::from(area.height.saturating_sub(3));
    let (cur, offset) = widgets::scroll(rows.len(), m.cursor[View::Nodes.index()], inner_h.max(1));
    let mut title = match &s.unknown.nodes {
        None => format!("Nodes {}/{}", rows.len(), s.nodes.len()),
        Some(why) => format!("Nodes {}/? ({why})", rows.len()),
    };
    if !m.filter.trim().is_empty() {
        title.push_str(&format!("  filter: {}", m.filter.trim()));
    }
    let dir = if m.sorts.nodes.desc { t.sym.arrow_down } else { t.sym.arrow_up };
    title.push_str(&format!("  sort: {}{dir}", m.sorts.nodes.col.label()));
    if rows.len() > inner_h && inner_h > 0 {
        let last = (offset + inner_h).min(rows.len());
        title.push_str(&format!("  rows {}-{last}", offset + 1));
    }
    let block = widgets::block(t, &title);
    let inner = block.inner(area);
    block.render(area, buf);

    if rows.is_empty() {
        let msg = if s.nodes.is_empty() {
            "no nodes reported yet".to_string()
        } else {
            format!("no nodes match filter '{}'", m.filter.trim())
        };
        Paragraph::new(vec![
            Line::styled(format!(" {msg}"), t.warn),
            Line::styled(" press / to change the filter, or clear it with an empty filter", t.muted),
        ])
        .render(inner, buf);
        return;
    }

    // Column widths fit the rows on screen: the cost of a frame does not grow with rows off screen.
    let visible = rows.get(offset..(offset + inner_h).min(rows.len())).unwrap_or(&[]);
    let cols = columns(visible, usize::from(inner.width));
    let body: Vec<Row> = rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(inner_h)
        .map(|(i, n)| {
            let selected = i == cur;
            let ready = if n.ready { Span::raw(" ") } else { Span::styled(t.sym.crit, t.crit) };
            let mark = Line::from(vec![Span::raw(widgets::select_mark(t, selected)), ready]);
            let mut cells = vec![Cell::from(mark)];
            cells.extend(cols.iter().map(|(c, w)| cell(ctx, n, *c, *w)));
            let row = Row::new(cells);
            if selected { row.style(t.selected) } else { row }
        })
        .collect();
    let widths: Vec<Constraint> = std::iter::once(Constraint::Length(2))
        .chain(cols.iter().map(|(_, w)| Constraint::Length(*w as u16)))
        .collect();
    let titles: Vec<(Option<u16>, Option<&'static str>)> = std::iter::once((Some(2), None))
        .chain(cols.iter().map(|(c, w)| (Some(*w as u16), Some(c.label()))))
        .collect();
    let columns = super::hits::columns(inner.x, inner.y, inner.right(), 1, &titles);
    let body_area = Rect { y: inner.y + 1, height: inner.height.saturating_sub(1), ..inner };
    super::hits::table(body_area, offset, rows.len(), columns);
    Table::new(body, widths).header(header(ctx, &cols)).column_spacing(1).render(inner, buf);
}

#[cfg(test)]
mod tests;
