//! BGP sessions, down first: node, peer, state, since, resets in the last hour, routes
//! received/advertised, hold/keepalive timers and the last error. Either every session of the
//! selected rack, or (when that rack has no BGP node) the sessions that are not up in all racks.
//! A peer every node lost (a TOR down: the analysis' `bgp-peer-down` finding) is called out above
//! the list.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Widget};
use unicode_width::UnicodeWidthStr;

use super::super::Ctx;
use super::super::widgets;
use super::Rack;
use crate::model::{BgpSession, BgpState, Node, Rule};

/// 0 = down, 1 = trying, 2 = up: the list shows the worst first.
fn rank(s: &BgpState) -> u8 {
    match s {
        BgpState::Idle | BgpState::Unknown(_) => 0,
        BgpState::Established => 2,
        _ => 1,
    }
}

fn opt(v: Option<impl ToString>) -> String {
    v.map_or("-".to_string(), |v| v.to_string())
}

/// What the list covers: the selected rack, or every rack but only the sessions that are not up.
pub enum Scope<'r, 'a> {
    Rack(&'r Rack<'a>),
    NotUp { racks: &'r [Rack<'a>], because: &'a str },
}

/// The sessions a scope lists (worst first), its nodes, its BGP nodes without any session, and
/// how many sessions there are in all.
struct Listing<'a> {
    nodes: Vec<&'a Node>,
    list: Vec<(&'a Node, &'a BgpSession)>,
    silent: Vec<&'a Node>,
    all: usize,
}

fn listing<'a>(scope: &Scope<'_, 'a>) -> Listing<'a> {
    let racks: Vec<&Rack<'a>> = match scope {
        Scope::Rack(r) => vec![*r],
        Scope::NotUp { racks, .. } => racks.iter().collect(),
    };
    let only_down = matches!(scope, Scope::NotUp { .. });
    let nodes: Vec<&'a Node> = racks.iter().flat_map(|r| r.nodes.iter().copied()).collect();
    let all = nodes.iter().map(|n| n.bgp.len()).sum::<usize>();
    let mut list: Vec<(&'a Node, &'a BgpSession)> = nodes
        .iter()
        .flat_map(|n| n.bgp.iter().map(move |s| (*n, s)))
        .filter(|(_, s)| !only_down || !s.is_up())
        .collect();
    list.sort_by(|(na, a), (nb, b)| {
        rank(&a.state)
            .cmp(&rank(&b.state))
            .then(b.resets_1h.cmp(&a.resets_1h))
            .then_with(|| na.name.cmp(&nb.name))
            .then_with(|| a.peer.cmp(&b.peer))
    });
    let silent: Vec<&'a Node> =
        nodes.iter().copied().filter(|n| n.net.mode.uses_bgp() && n.bgp.is_empty()).collect();
    Listing { nodes, list, silent, all }
}

fn node_width(nodes: &[&Node]) -> usize {
    nodes.iter().map(|n| n.name.width()).max().unwrap_or(8).clamp(8, 24)
}

fn peer_width(list: &[(&Node, &BgpSession)]) -> usize {
    list.iter().map(|(_, s)| s.peer.width()).max().unwrap_or(6).clamp(6, 16)
}

/// The width (borders included) at which the list shows every column and its errors whole (up
/// to 48 cells of error).
pub fn natural_width(scope: &Scope) -> usize {
    let l = listing(scope);
    let err =
        l.list.iter().filter_map(|(_, s)| s.last_error.as_deref()).map(|e| e.width()).max().unwrap_or(0);
    let cols = [1, node_width(&l.nodes), peer_width(&l.list), 11, 5, 3, 7, 7];
    2 + cols.iter().map(|w| w + 1).sum::<usize>() + err.clamp("LAST ERROR".len(), 48)
}

pub fn render(ctx: &Ctx, scope: Scope, area: Rect, buf: &mut Buffer) {
    let t = ctx.theme;
    if area.width < 3 || area.height < 3 {
        return;
    }
    let Listing { nodes, list, silent, all } = listing(&scope);
    let title = match &scope {
        Scope::Rack(r) => {
            format!("BGP sessions {}: {}/{all} up", r.name, list.iter().filter(|(_, s)| s.is_up()).count())
        }
        Scope::NotUp { .. } => format!("BGP sessions not up, all racks: {} of {all}", list.len()),
    };
    let block = widgets::block(t, &title);
    let inner = block.inner(area);
    block.render(area, buf);

    let mut notes: Vec<Line> = Vec::new();
    if let Scope::NotUp { because, .. } = &scope {
        notes.push(Line::styled(format!(" {because}"), t.muted));
    }
    // A peer every node lost (a dead TOR) is the analysis' finding, said whole (wrapped).
    let peers_here = |peer: &str| {
        nodes
            .iter()
            .any(|n| n.bgp.iter().any(|s| s.peer == peer) || n.bgp_counts.missing.iter().any(|m| m == peer))
    };
    for f in ctx.snap.findings.iter().filter(|f| f.rule == Rule::BgpPeerDown && peers_here(&f.subject)) {
        let (st, g) = widgets::severity(t, f.severity);
        let lead = format!(" {g} ");
        for (i, l) in widgets::wrap(t, &f.what, usize::from(inner.width).saturating_sub(lead.width()))
            .into_iter()
            .enumerate()
        {
            let lead = if i == 0 { lead.clone() } else { " ".repeat(lead.width()) };
            notes.push(Line::styled(format!("{lead}{l}"), st));
        }
    }
    let nothing = list.is_empty() && silent.is_empty();
    match &scope {
        Scope::Rack(r) if nothing => notes.push(Line::styled(
            format!(" no BGP sessions in {}: no node here peers with the TORs", r.name),
            t.muted,
        )),
        Scope::NotUp { .. } if nothing && all > 0 => {
            notes.push(Line::styled(format!(" {} all {all} BGP sessions are established", t.sym.ok), t.ok))
        }
        Scope::NotUp { .. } if nothing => {
            notes.push(Line::styled(" no BGP sessions reported anywhere", t.muted))
        }
        _ => {}
    }
    let notes_h = (notes.len() as u16).min(inner.height);
    let [top, table] = inner.layout(&Layout::vertical([Constraint::Length(notes_h), Constraint::Fill(1)]));
    Paragraph::new(notes).render(top, buf);
    if nothing {
        return;
    }

    let w = usize::from(table.width);
    let (node_w, peer_w) = (node_width(&nodes), peer_width(&list));
    let mut cols: Vec<(&str, usize)> =
        vec![("", 1), ("NODE", node_w), ("PEER", peer_w), ("STATE", 11), ("SINCE", 5), ("RST", 3)];
    let show_routes = w >= 60 + node_w.saturating_sub(8);
    let show_timers = w >= 70 + node_w.saturating_sub(8);
    // Graceful restart where the last error keeps room enough to be read.
    let show_gr = w >= 90 + node_w.saturating_sub(8);
    if show_routes {
        cols.push(("RX/TX", 7));
    }
    if show_timers {
        cols.push(("HOLD/KA", 7));
    }
    if show_gr {
        cols.push(("GR", 7));
    }
    let used: usize = cols.iter().map(|(_, w)| w + 1).sum();
    let err_w = w.saturating_sub(used);
    cols.push(("LAST ERROR", err_w));

    let rows_h = usize::from(table.height.saturating_sub(1));
    let total = list.len() + silent.len();
    let shown = if total > rows_h { rows_h.saturating_sub(1) } else { total };
    let mut rows: Vec<Row> = Vec::new();
    for (n, s) in list.iter().take(shown) {
        let (st, g) = widgets::session_state(t, &s.state);
        let timers = match (s.hold_time_s, s.keepalive_s) {
            (None, None) => "-".to_string(),
            (h, k) => format!("{}/{}", opt(h), opt(k)),
        };
        let mut cells = vec![
            Cell::from(Span::styled(g, st)),
            Cell::from(widgets::truncate(t, &n.name, node_w)),
            Cell::from(Span::styled(widgets::truncate(t, &s.peer, peer_w), t.base)),
            Cell::from(Span::styled(widgets::truncate(t, s.state.label(), 11), st)),
            Cell::from(Line::styled(widgets::age(ctx.snap.now, s.since).to_string(), t.base).right_aligned()),
            Cell::from(
                Line::styled(s.resets_1h.to_string(), if s.resets_1h > 0 { t.warn } else { t.muted })
                    .right_aligned(),
            ),
        ];
        if show_routes {
            let r = format!("{}/{}", opt(s.routes_received), opt(s.routes_advertised));
            cells.push(Cell::from(Line::styled(r, t.base).right_aligned()));
        }
        if show_timers {
            cells.push(Cell::from(Line::styled(timers, t.muted).right_aligned()));
        }
        if show_gr {
            let gr = crate::analysis::failover::gr(s);
            let st = match gr {
                crate::analysis::failover::Gr::On { .. } => t.muted,
                crate::analysis::failover::Gr::Unknown => t.unknown,
                _ => t.warn,
            };
            cells.push(Cell::from(Line::styled(gr.short(), st).right_aligned()));
        }
        let err = s.last_error.as_deref().unwrap_or("");
        cells.push(Cell::from(Span::styled(
            widgets::truncate(t, err, err_w),
            if s.is_up() { t.muted } else { st },
        )));
        rows.push(Row::new(cells));
    }
    for n in silent.iter().take(shown.saturating_sub(rows.len())) {
        rows.push(Row::new(vec![
            Cell::from(Span::styled(t.sym.unknown, t.unknown)),
            Cell::from(widgets::truncate(t, &n.name, node_w)),
            Cell::from(Span::styled("-", t.muted)),
            Cell::from(Span::styled("no sessions", t.unknown)),
        ]));
    }
    if shown < total {
        rows.push(Row::new(vec![
            Cell::from(""),
            Cell::from(Span::styled(format!("+{} more", total - shown), t.muted)),
        ]));
    }
    let header = Row::new(cols.iter().map(|(h, _)| *h).collect::<Vec<_>>()).style(t.header);
    let widths: Vec<Constraint> = cols.iter().map(|(_, w)| Constraint::Length(*w as u16)).collect();
    Table::new(rows, widths).header(header).column_spacing(1).render(table, buf);
}
