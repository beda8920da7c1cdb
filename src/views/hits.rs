//! Where the views put things, recorded while a frame is drawn (for the mouse and the scroll
//! bounds): the views stay functions of their inputs, and `render_frame` hands what they recorded
//! back to the event loop with the frame.

use std::cell::RefCell;

use ratatui::layout::Rect;

use crate::app::{Hits, TableHit, View};

thread_local! {
    static HITS: RefCell<Option<Hits>> = const { RefCell::new(None) };
}

/// Run `draw` and return what it recorded.
pub fn recording(draw: impl FnOnce()) -> Hits {
    HITS.with(|h| *h.borrow_mut() = Some(Hits::default()));
    draw();
    HITS.with(|h| h.borrow_mut().take()).unwrap_or_default()
}

fn with(f: impl FnOnce(&mut Hits)) {
    HITS.with(|h| {
        if let Some(hits) = h.borrow_mut().as_mut() {
            f(hits);
        }
    });
}

/// A view's title in the tab bar.
pub fn tab(area: Rect, view: View) {
    with(|h| h.tabs.push((area, view)));
}

/// The selectable table: its rows on screen (`rows`, one line each; the first is row `first` of
/// `len`) and its sortable column titles.
pub fn table(rows: Rect, first: usize, len: usize, columns: Vec<(Rect, &'static str)>) {
    let visible = u16::try_from(len.saturating_sub(first)).unwrap_or(u16::MAX);
    let rows = Rect { height: rows.height.min(visible), ..rows };
    with(|h| h.table = Some(TableHit { rows, first, len, columns }));
}

/// How far the scrolled text on screen (help, node detail) can scroll.
pub fn scroll_max(max: usize) {
    with(|h| h.scroll_max = Some(max));
}

/// The column titles of a table laid out left to right from `x` on row `y`: each column's width
/// (`None`: the rest of the row) and its sort name (`None`: not sortable), `spacing` apart.
pub fn columns(
    x: u16,
    y: u16,
    right: u16,
    spacing: u16,
    cols: &[(Option<u16>, Option<&'static str>)],
) -> Vec<(Rect, &'static str)> {
    let mut out = Vec::new();
    let mut at = x;
    for (w, name) in cols {
        let w = w.unwrap_or(right.saturating_sub(at));
        if let Some(name) = name {
            let width = w.min(right.saturating_sub(at));
            out.push((Rect { x: at, y, width, height: 1 }, *name));
        }
        at = at.saturating_add(w).saturating_add(spacing);
    }
    out
}
