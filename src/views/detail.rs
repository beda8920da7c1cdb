//! Node detail, drawn over the Nodes view in `Mode::Detail(name)`: everything about one node with
//! its evidence (network signals, BGP sessions, runtime pods, conntrack traps, host limits) and
//! the findings about it or its pods. One scrolled column; `model.scroll` is clamped here.

mod host;
mod pods;
mod sections;

#[cfg(test)]
mod tests;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget};

use super::Ctx;
use super::widgets;

pub fn render(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let t = ctx.theme;
    if area.width < 3 || area.height < 3 {
        return;
    }
    let name = ctx.model.detail_node().unwrap_or("");
    let Some(node) = ctx.snap.node(name) else {
        super::hits::scroll_max(0);
        let title = format!("Node {name}");
        let block = widgets::block(t, &title);
        let inner = block.inner(area);
        block.render(area, buf);
        Paragraph::new(vec![
            Line::styled(format!(" {} node {name} is gone from the cluster", t.sym.warn), t.warn),
            Line::styled(" it was deleted or renamed since it was selected; Esc goes back", t.muted),
        ])
        .render(inner, buf);
        return;
    };
    let width = area.width.saturating_sub(2);
    let lines = sections::all(ctx, node, width);
    let inner_h = usize::from(area.height.saturating_sub(2));
    let max_scroll = lines.len().saturating_sub(inner_h);
    super::hits::scroll_max(max_scroll);
    let scroll = ctx.model.scroll.min(max_scroll);
    let mut title = format!("Node {}", node.name);
    if max_scroll > 0 {
        let last = (scroll + inner_h).min(lines.len());
        title.push_str(&format!(
            "  lines {}-{last} of {}  {}{} scroll",
            scroll + 1,
            lines.len(),
            t.sym.arrow_up,
            t.sym.arrow_down
        ));
    }
    let title = widgets::truncate(t, &title, usize::from(width.saturating_sub(2)));
    let block = widgets::block(t, &title);
    let inner = block.inner(area);
    block.render(area, buf);
    let visible: Vec<Line> = lines.into_iter().skip(scroll).take(inner_h).collect();
    Paragraph::new(visible).render(inner, buf);
}
