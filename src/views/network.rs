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
use crate::viewmodel::sort::{Column, RackCol};

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
    let scope = match racks.get(cursor) {
        Some(r) if r.nodes.iter().any(|n| !n.bgp.is_empty() || n.net.mode.uses_bgp()) => {
            sessions::Scope::Rack(r)
        }
        _ => sessions::Scope::NotUp { racks: &racks, because: "the selected rack has no BGP node" },
    };
    let (top, rest) = if area.width >= 160 {
        // Side by side, each as wide as it needs when both fit; else the sessions keep their
        // columns and errors whole and the rack table's MODES say how many more instead, down to
        // each rack's main mode; the sessions never get less than SESSIONS_MIN.
        let cols = Columns::of(&racks);
        let (table, least) =
            (cols.natural() + 2, cols.fixed() + 3 + racks.iter().map(modes_min_width).max().unwrap_or(0));
        let list = sessions::natural_width(&scope).max(usize::from(SESSIONS_MIN));
        let w = usize::from(area.width);
        let left = if table + list <= w { table } else { w.saturating_sub(list).max(least) };
        let left = (left as u16).min(area.width - SESSIONS_MIN);
        let [l, r] = area.layout(&Layout::horizontal([Constraint::Length(left), Constraint::Fill(1)]));
        (l, r)
    } else {
        // The rack table takes what it needs, up to half; the sessions get the rest.
        let want = racks.len() as u16 + 3;
        let h = want.min((area.height / 2).max(5)).min(area.height);
        let [a, b] = area.layout(&Layout::vertical([Constraint::Length(h), Constraint::Fill(1)]));
        (a, b)
    };
    rack_table(ctx, &racks, cursor, top, buf);
    sessions::render(ctx, scope, rest, buf);
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

/// Width the session list needs beside the rack table for its columns and a short error.
const SESSIONS_MIN: u16 = 72;

/// The rack's modes, most nodes first: "5 cilium/bgp", "3 bridge/vxlan".
fn mode_parts(rack: &Rack) -> Vec<String> {
    let mut counts: Vec<(usize, NetMode)> =
        NetMode::ALL.iter().map(|m| (rack.count(|n| n.net.mode == *m), *m)).filter(|(c, _)| *c > 0).collect();
    counts.sort_by_key(|(c, _)| std::cmp::Reverse(*c));
    counts.iter().map(|(c, m)| format!("{c} {}", m.label())).collect()
}

/// The first `shown` parts, then how many more: "5 cilium/bgp +1".
fn some_modes(parts: &[String], shown: usize) -> String {
    let mut s = parts[..shown].join(", ");
    if shown < parts.len() {
        s.push_str(&format!(" +{}", parts.len() - shown));
    }
    s
}

/// The rack's modes as many whole as fit in `width`, then how many more ("5 cilium/bgp +1");
/// when not even one fits, how many modes (one mode is cut).
fn modes_text(rack: &Rack, width: usize) -> String {
    let parts = mode_parts(rack);
    match (1..=parts.len()).rev().map(|n| some_modes(&parts, n)).find(|s| s.width() <= width) {
        Some(s) => s,
        None if parts.len() > 1 => format!("{} modes", parts.len()),
        None => parts.concat(),
    }
}

/// The narrowest whole MODES cell of a rack: its main mode and how many more.
fn modes_min_width(rack: &Rack) -> usize {
    let parts = mode_parts(rack);
    if parts.is_empty() { 0 } else { some_modes(&parts, 1).width() }
}

/// The rack table's column widths.
struct Columns {
    rack: usize,
    tor: usize,
    /// The widest MODES cell, whole.
    modes: usize,
}

impl Columns {
    const GAUGE: usize = 8;

    fn of(racks: &[Rack]) -> Columns {
        let rack = racks.iter().map(|r| r.name.width()).max().unwrap_or(4).clamp(4, 16);
        // glyph, name, counts: "● tor-3a 12/16"
        let tor = racks
            .iter()
            .flat_map(|r| {
                (0..2).map(move |i| {
                    let (up, total) = r.tor(i);
                    2 + r.tors[i].width().min(16)
                        + if total > 0 { format!(" {up}/{total}").width() } else { 0 }
                })
            })
            .max()
            .unwrap_or(8)
            .max("TOR A".width());
        let modes = racks.iter().map(|r| modes_text(r, usize::MAX).width()).max().unwrap_or(0).max(5);
        Columns { rack, tor, modes }
    }
    /// Marker, rack, nodes, migration (gauge + pct), BGP, TOR a, TOR b, the spaces between, and
    /// a cell for the sort arrow.
    fn fixed(&self) -> usize {
        2 + self.rack + 5 + (Self::GAUGE + 5) + 15 + 2 * self.tor + 6 + 1
    }
    /// Everything, MODES whole.
    fn natural(&self) -> usize {
        self.fixed() + 1 + self.modes
    }
}

fn rack_table(ctx: &Ctx, racks: &[Rack], cursor: usize, area: Rect, buf: &mut Buffer) {
    let t = ctx.theme;
    let inner_h = usize::from(area.height.saturating_sub(3)).max(1);
    let (cur, offset) = widgets::scroll(racks.len(), cursor, inner_h);
    let nodes: usize = racks.iter().map(|r| r.nodes.len()).sum();
    let mut title = format!("Network by rack: {} racks, {nodes} nodes", racks.len());
    if ctx.model.sorts.racks != crate::viewmodel::Sorts::default().racks {
        title.push_str(&format!("  {}", ctx.model.sorts.racks.describe()));
    }
    if !ctx.model.filter.trim().is_empty() {
        title.push_str(&format!("  filter: {}", ctx.model.filter.trim()));
    }
    let block = widgets::block(t, &title);
    let inner = block.inner(area);
    block.render(area, buf);

    let w = usize::from(inner.width);
    let sizes = Columns::of(racks);
    let room = w.saturating_sub(sizes.fixed() + 1);
    // The migration gauge gives up to half its cells when that lets each rack's main mode show
    // whole (the column's header still fits).
    let short = racks.iter().map(modes_min_width).max().unwrap_or(0);
    let give = short.saturating_sub(room);
    let gauge_w = Columns::GAUGE - if give <= Columns::GAUGE / 2 { give } else { 0 };
    let (rack_w, tor_w) = (sizes.rack, sizes.tor);
    let mix_w = (room + Columns::GAUGE - gauge_w).min(sizes.modes);
    // Room for one mode ("12 cilium/bgp") or the count of modes.
    let show_mix = mix_w >= 12.min(sizes.modes);
    let mut cols: Vec<(&str, Option<RackCol>)> = vec![
        ("", None),
        ("RACK", Some(RackCol::Rack)),
        ("NODES", Some(RackCol::Nodes)),
        ("MIGRATION", Some(RackCol::Migration)),
        ("BGP 2/2 1/2 0/2", Some(RackCol::Bgp)),
        ("TOR A", Some(RackCol::Tor)),
        ("TOR B", Some(RackCol::Tor)),
    ];
    let mut widths = vec![2, rack_w, 5, gauge_w + 5, 15, tor_w, tor_w];
    if show_mix {
        cols.push(("MODES", None));
        widths.push(mix_w);
    }
    let sort = ctx.model.sorts.racks;
    let arrow = if sort.desc { t.sym.arrow_down } else { t.sym.arrow_up };
    let mut arrowed = false;
    let header: Vec<String> = cols
        .iter()
        .zip(widths.iter_mut())
        .map(|((title, c), w)| match c {
            Some(c) if *c == sort.col && !arrowed => {
                arrowed = true;
                let titled = format!("{title}{arrow}");
                // The cell `fixed` keeps for the arrow.
                *w = (*w).max(titled.width());
                titled
            }
            _ => title.to_string(),
        })
        .collect();
    let titles: Vec<(Option<u16>, Option<&'static str>)> =
        widths.iter().zip(&cols).map(|(w, (_, c))| (Some(*w as u16), c.map(|c| c.name()))).collect();
    let columns = super::hits::columns(inner.x, inner.y, inner.right(), 1, &titles);
    let rows_area = Rect { y: inner.y + 1, height: inner.height.saturating_sub(1), ..inner };
    super::hits::table(rows_area, offset, racks.len(), columns);
    let f = ctx.model.filter.as_str();
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
                Cell::from(widgets::highlight(t, widgets::truncate(t, r.name, rack_w), f, t.base)),
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
                cells.push(Cell::from(widgets::highlight(
                    t,
                    widgets::truncate(t, &modes_text(r, mix_w), mix_w),
                    f,
                    t.muted,
                )));
            }
            let row = Row::new(cells);
            if i == cur { row.style(t.selected) } else { row }
        })
        .collect();
    let widths: Vec<Constraint> = widths.into_iter().map(|w| Constraint::Length(w as u16)).collect();
    Table::new(rows, widths).header(Row::new(header).style(t.header)).column_spacing(1).render(inner, buf);
}
