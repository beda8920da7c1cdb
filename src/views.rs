//! Views: pure functions of (`&Snapshot`, `&Model`, `&Theme`) that draw into a `Buffer`.
//! Views never await, lock, read the clock or do I/O. One file per view.

pub mod changes;
pub mod chrome;
pub mod conntrack;
pub mod detail;
pub mod drain;
pub mod help;
pub mod hits;
pub mod network;
pub mod nodes;
pub mod overview;
pub mod runtime;
pub mod triage;
pub mod utilization;
pub mod widgets;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::{Paragraph, Widget};

use crate::app::{Mode, Model, View};
use crate::model::{Node, Snapshot};
use crate::theme::Theme;

/// What every view draws from.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub snap: &'a Snapshot,
    pub model: &'a Model,
    pub theme: &'a Theme,
}

impl<'a> Ctx<'a> {
    /// The node lists of this frame: the model's (derived once per snapshot, filter and sort)
    /// when they are this snapshot's, else derived now.
    pub fn rows(&self) -> std::borrow::Cow<'_, crate::viewmodel::Rows> {
        let m = self.model;
        match &m.snap {
            Some(s) if std::ptr::eq(&**s, self.snap) => m.rows.for_snapshot(s, &m.filter, &m.sorts),
            _ => std::borrow::Cow::Owned(crate::viewmodel::Rows::derive(self.snap, &m.filter, &m.sorts)),
        }
    }

    /// The nodes at `indices` (from `rows()`).
    pub fn nodes_at(&self, indices: &[usize]) -> Vec<&'a Node> {
        indices.iter().map(|&i| &*self.snap.nodes[i]).collect()
    }
}

pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;

/// Draw the whole screen and say where things are on it (for the mouse and scroll bounds).
pub fn render_frame(model: &Model, theme: &Theme, area: Rect, buf: &mut Buffer) -> crate::app::Hits {
    hits::recording(|| render(model, theme, area, buf))
}

/// The view on screen as text, every row of its table: `width` columns, as tall as its table
/// needs to show every row (at least `height`); trailing blanks trimmed. For `:export`.
pub fn text(model: &Model, theme: &Theme, width: u16, height: u16) -> Vec<String> {
    let Some(snap) = model.snap.as_deref() else { return Vec::new() };
    // Show the list from its first row.
    let mut model = model.clone();
    model.cursor[model.view.index()] = 0;
    let ctx = Ctx { snap, model: &model, theme };
    let mut tall = height;
    let mut tries = 0;
    let buf = loop {
        tries += 1;
        let area = Rect::new(0, 0, width, tall);
        let mut buf = Buffer::empty(area);
        let hits = hits::recording(|| view(&ctx, model.view, area, &mut buf));
        // Grow until the table shows every row (the views lay out by height, so measure again).
        let missing = hits.table.map_or(0, |t| t.len.saturating_sub(usize::from(t.rows.height)));
        if missing == 0 || tall >= 8000 || tries > 16 {
            break buf;
        }
        tall = tall.saturating_add(u16::try_from(missing).unwrap_or(u16::MAX)).min(8000);
    };
    let mut lines: Vec<String> = (0..tall)
        .map(|y| (0..width).map(|x| buf[(x, y)].symbol()).collect::<String>().trim_end().to_string())
        .collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// Draw the whole screen: chrome, the current view, and any overlay.
pub fn render(model: &Model, theme: &Theme, area: Rect, buf: &mut Buffer) {
    buf.set_style(area, theme.base);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        chrome::too_small(area, buf, theme.base);
        return;
    }
    match model.snap.as_deref() {
        Some(snap) => screen(&Ctx { snap, model, theme }, area, buf),
        None => Paragraph::new(format!(
            " clustertop: waiting for the first data from the sources{}",
            theme.sym.ellipsis
        ))
        .style(theme.muted)
        .render(area, buf),
    }
    if theme.sym.ascii {
        // Names, labels and errors from the cluster may hold any character: --ascii means none.
        widgets::ascii_only(area, buf);
    }
}

fn screen(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let model = ctx.model;
    let banner_h = u16::from(chrome::has_banner(model));
    let [tabs, status, banner, body, footer] = area.layout(&Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(banner_h),
        Constraint::Fill(1),
        Constraint::Length(1),
    ]));
    chrome::tabs(ctx, tabs, buf);
    chrome::status(ctx, status, buf);
    if banner_h > 0 {
        chrome::banner(ctx, banner, buf);
    }
    match &model.mode {
        Mode::Detail(_) => detail::render(ctx, body, buf),
        Mode::Filter if model.filter_detail.is_some() => detail::render(ctx, body, buf),
        _ => view(ctx, model.view, body, buf),
    }
    if model.mode == Mode::Help {
        help::render(ctx, body, buf);
    }
    if model.mode == Mode::Diff {
        changes::render(ctx, body, buf);
    }
    if let Mode::Drain(node) = &model.mode {
        drain::render(ctx, node, body, buf);
    }
    chrome::footer(ctx, footer, buf);
}

fn view(ctx: &Ctx, v: View, area: Rect, buf: &mut Buffer) {
    match v {
        View::Overview => overview::render(ctx, area, buf),
        View::Nodes => nodes::render(ctx, area, buf),
        View::Network => network::render(ctx, area, buf),
        View::Runtime => runtime::render(ctx, area, buf),
        View::Conntrack => conntrack::render(ctx, area, buf),
        View::Utilization => utilization::render(ctx, area, buf),
        View::Triage => triage::render(ctx, area, buf),
    }
}
