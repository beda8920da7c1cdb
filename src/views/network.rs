//! The network view, by rack: node count, mode mix and migration progress, BGP health per node
//! (2/2, 1/2, 0/2) and per TOR (sessions up/total to each of the two TORs: a dead TOR shows as
//! every session to it down), then the BGP sessions of the selected rack, worst first.
//!
//! Below 160 columns the session list sits under the rack table, from 160 on to its right. On a
//! rack without BGP nodes the list shows the sessions that are not up in all racks instead.

mod sessions;

#[cfg(test)]
mod tests;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Widget};
use unicode_width::UnicodeWidthStr;

use super::Ctx;
use super::widgets;
use crate::app::View;
use crate::model::{BgpVerdict, NetMode, Node};

/// One rack's nodes (those passing the filter) and what they add up to (`viewmodel::Rows`, counted
/// once per snapshot).
pub struct Rack<'a> {
    pub name: &'a str,
    pub tors: [&'a str; 2],
    pub nodes: Vec<&'a Node>,
    verdicts: [usize; 4],
    tor_sessions: [(usize, usize); 2],
}

impl<'a> Rack<'a> {
    fn count(&self, f: impl Fn(&Node) -> bool) -> usize {
        self.nodes.iter().filter(|n| f(n)).count()
    }
    /// Nodes at 2/2, 1/2, 0/2 and ?/2.
    fn verdicts(&self) -> [usize; 4] {
        self.verdicts
    }
    /// Sessions up and in total to the rack's TOR `i` (0 or 1).
    pub fn tor(&self, i: usize) -> (usize, usize) {
        self.tor_sessions[i.min(1)]
    }
}

/// Racks in name order, as `app::row_count` counts them (`viewmodel::Rows::racks`).
pub fn racks<'a>(ctx: &Ctx<'a>) -> Vec<Rack<'a>> {
    (ctx.rows().racks.iter())
        .map(|r| {
            let nodes = ctx.nodes_at(&r.nodes);
            let name = nodes.first().map_or("", |n| n.rack.as_str());
            let tors = nodes.first().map_or(["", ""], |n| [n.tors[0].as_str(), n.tors[1].as_str()]);
            Rack { name, tors, nodes, verdicts: r.verdicts, tor_sessions: r.tors }
        })
        .collect()
}

pub fn render(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let (t, s, m) = (ctx.theme, ctx.snap, ctx.model);
    if area.width < 3 || area.height < 3 {
        return;
    }
    let racks = racks(ctx);
    if racks.is_empty() {
        let block = widgets::block(t, "Network by rack");
        let inner = block.inner(area);
        block.render(area, buf);
        let msg = if s.nodes.is_empty() {
            "no nodes reported yet".to_string()
        } else {
            format!("no nodes match filter '{}'", m.filter.trim())
        };
        Paragraph::new(Line::styled(format!(" {msg}"), t.warn)).render(inner, buf);
        return;
    }
    let cursor = m.cursor[View::Network.index()].min(racks.len() - 1);
    let (top, rest) = if area.width >= 160 {
        let [l, r] = area.layout(&Layout::horizontal([Constraint::Percentage(55), Constraint::Fill(1)]));
        (l, r)
    } else {
        // The rack table takes what it needs, up to half; the sessions get the rest.
        let want = racks.len() as u16 + 3;
        let h = want.min((area.height / 2).max(5)).min(area.height);
        let [a, b] = area.layout(&Layout::vertical([Constraint::Length(h), Constraint::Fill(1)]));
        (a, b)
    };
    rack_table(ctx, &racks, cursor, top, buf);
    if let Some(r) = racks.get(cursor) {
        let has_bgp = r.nodes.iter().any(|n| !n.bgp.is_empty() || n.net.mode.uses_bgp());
        let scope = if has_bgp {
            sessions::Scope::Rack(r)
        } else {
            sessions::Scope::NotUp { racks: &racks, because: "the selected rack has no BGP node" }
        };
        sessions::render(ctx, scope, rest, buf);
    }
}

fn glyph_for(ctx: &Ctx, up: usize, total: usize) -> (Style, &'static str) {
    let t = ctx.theme;
    match (up, total) {
        (_, 0) => (t.muted, " "),
        (u, n) if u == n => (t.ok, t.sym.ok),
        (0, _) => (t.crit, t.sym.crit),
        _ => (t.warn, t.sym.warn),
    }
}

fn tor_cell<'a>(ctx: &Ctx, rack: &Rack, i: usize, width: usize) -> Cell<'a> {
    let t = ctx.theme;
    let (up, total) = rack.tor(i);
    if total == 0 {
        return Cell::from(Line::styled(
            format!("  {}", widgets::truncate(t, rack.tors[i], width.saturating_sub(2))),
            t.muted,
        ));
    }
    let (st, g) = glyph_for(ctx, up, total);
    let counts = format!(" {up}/{total}");
    let name = widgets::truncate(t, rack.tors[i], width.saturating_sub(2 + counts.width()));
    Cell::from(Line::from(vec![
        Span::styled(format!("{g} "), st),
        Span::styled(name, t.base),
        Span::styled(counts, st),
    ]))
}

fn bgp_cell<'a>(ctx: &Ctx, rack: &Rack) -> Cell<'a> {
    let t = ctx.theme;
    let [h, d, i, u] = rack.verdicts();
    if h + d + i + u == 0 {
        return Cell::from(Line::styled("  no BGP nodes", t.muted));
    }
    let mut spans = Vec::new();
    for (v, n) in [(BgpVerdict::Healthy, h), (BgpVerdict::Degraded, d), (BgpVerdict::Isolated, i)] {
        let (st, g) = widgets::verdict(t, v);
        spans.push(Span::styled(format!("{g}{n:>3} "), if n > 0 { st } else { t.muted }));
    }
    if u > 0 {
        let (st, g) = widgets::verdict(t, BgpVerdict::Unknown);
        spans.push(Span::styled(format!("{g}{u}"), st));
    }
    Cell::from(Line::from(spans))
}

fn modes_text(rack: &Rack) -> String {
    NetMode::ALL
        .iter()
        .filter_map(|m| {
            let c = rack.count(|n| n.net.mode == *m);
            (c > 0).then(|| format!("{c} {}", m.label()))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn rack_table(ctx: &Ctx, racks: &[Rack], cursor: usize, area: Rect, buf: &mut Buffer) {
    let t = ctx.theme;
    let inner_h = usize::from(area.height.saturating_sub(3)).max(1);
    let (cur, offset) = widgets::scroll(racks.len(), cursor, inner_h);
    let nodes: usize = racks.iter().map(|r| r.nodes.len()).sum();
    let mut title = format!("Network by rack: {} racks, {nodes} nodes", racks.len());
    if !ctx.model.filter.trim().is_empty() {
        title.push_str(&format!("  filter: {}", ctx.model.filter.trim()));
    }
    let block = widgets::block(t, &title);
    let inner = block.inner(area);
    block.render(area, buf);

    let w = usize::from(inner.width);
    let rack_w = racks.iter().map(|r| r.name.width()).max().unwrap_or(4).clamp(4, 16);
    let tor_w =
        racks.iter().flat_map(|r| r.tors.iter().map(|x| x.width())).max().unwrap_or(6).clamp(6, 16) + 8;
    let gauge_w = 8;
    // marker, rack, nodes, migration (gauge + pct), BGP, TOR a, TOR b, and the spaces between.
    let fixed = 2 + rack_w + 5 + (gauge_w + 5) + 15 + 2 * tor_w + 6;
    let mix_w = w.saturating_sub(fixed + 1);
    let show_mix = mix_w >= 16;
    let mut header = vec!["", "RACK", "NODES", "MIGRATION", "BGP 2/2 1/2 0/2", "TOR A", "TOR B"];
    let mut widths = vec![2, rack_w, 5, gauge_w + 5, 15, tor_w, tor_w];
    if show_mix {
        header.push("MODES");
        widths.push(mix_w);
    }
    let rows: Vec<Row> = racks
        .iter()
        .enumerate()
        .skip(offset)
        .take(inner_h)
        .map(|(i, r)| {
            let migrated = r.count(|n| n.net.mode == NetMode::CiliumBgp);
            let share = if r.nodes.is_empty() { 0.0 } else { migrated as f64 / r.nodes.len() as f64 };
            let mut cells = vec![
                Cell::from(widgets::select_mark(t, i == cur)),
                Cell::from(Line::styled(widgets::truncate(t, r.name, rack_w), t.base)),
                Cell::from(Line::styled(r.nodes.len().to_string(), t.base).right_aligned()),
                Cell::from(Line::from(vec![
                    Span::styled(widgets::gauge(t, share, gauge_w), t.accent),
                    Span::styled(format!("{:>5}", crate::viewmodel::pct(share)), t.base),
                ])),
                bgp_cell(ctx, r),
                tor_cell(ctx, r, 0, tor_w),
                tor_cell(ctx, r, 1, tor_w),
            ];
            if show_mix {
                cells.push(Cell::from(Line::styled(widgets::truncate(t, &modes_text(r), mix_w), t.muted)));
            }
            let row = Row::new(cells);
            if i == cur { row.style(t.selected) } else { row }
        })
        .collect();
    let widths: Vec<Constraint> = widths.into_iter().map(|w| Constraint::Length(w as u16)).collect();
    Table::new(rows, widths).header(Row::new(header).style(t.header)).column_spacing(1).render(inner, buf);
}
