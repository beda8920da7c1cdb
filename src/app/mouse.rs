//! The mouse: what is where on the last frame (recorded by the views as they draw), and what a
//! click or the wheel does there: a tab shows its view, a column title sorts by it (again:
//! reverses), a row is selected (clicked again: opened), the wheel moves through the list.

use ratatui::layout::{Position, Rect};

use super::{Mode, Model, Msg, View, apply};
use crate::viewmodel::selection::Move;

/// Rows the wheel moves per notch.
pub const WHEEL_ROWS: isize = 3;

/// What a mouse event is, in cells of the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mouse {
    Click { x: u16, y: u16 },
    WheelDown,
    WheelUp,
}

/// Where things were on the last frame.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hits {
    /// Each view's title in the tab bar.
    pub tabs: Vec<(Rect, View)>,
    /// The selectable table of the view on screen.
    pub table: Option<TableHit>,
    /// How far the help or node detail can scroll (the last first line).
    pub scroll_max: Option<usize>,
}

/// A selectable table on screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableHit {
    /// The rows on screen: row `k` of this area is row `first + k` of the list.
    pub rows: Rect,
    pub first: usize,
    pub len: usize,
    /// The column titles that sort: where each is, and the column's name for `:sort`.
    pub columns: Vec<(Rect, &'static str)>,
}

pub(super) fn handle(model: &mut Model, m: Mouse) {
    let page = matches!(model.mode, Mode::Detail(_) | Mode::Help | Mode::Diff | Mode::Drain(_));
    match m {
        Mouse::WheelDown if page || model.mode == Mode::Browse => {
            apply(model, Msg::Move(Move::By(WHEEL_ROWS)));
        }
        Mouse::WheelUp if page || model.mode == Mode::Browse => {
            apply(model, Msg::Move(Move::By(-WHEEL_ROWS)));
        }
        Mouse::Click { x, y } => click(model, Position { x, y }),
        _ => {}
    }
}

fn click(model: &mut Model, at: Position) {
    if matches!(model.mode, Mode::Filter | Mode::Command) {
        return;
    }
    if let Some((_, v)) = model.hits.tabs.iter().find(|(r, _)| r.contains(at)) {
        let v = *v;
        apply(model, Msg::ShowView(v));
        return;
    }
    if model.mode != Mode::Browse {
        return;
    }
    let Some(t) = model.hits.table.clone() else { return };
    if let Some((_, name)) = t.columns.iter().find(|(r, _)| r.contains(at)) {
        super::command::run(model, &format!("sort {name}"));
        return;
    }
    if t.rows.contains(at) {
        let i = t.first + usize::from(at.y - t.rows.y);
        if i >= t.len {
            return;
        }
        if model.cursor[model.view.index()] == i {
            apply(model, Msg::Open);
        } else {
            apply(model, Msg::Move(Move::To(i)));
        }
    }
}
