//! The detail view.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::Ctx;

pub fn render(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let _ = (ctx, area, buf);
}
