//! The overview's CPU panel: utilisation now, the current or next colocation window, how the last
//! window was filled, and a 24 h mini-curve of total utilisation with the windows marked under it.

use chrono::{DateTime, Duration, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::super::Ctx;
use super::super::widgets::{self, stacked_chart};
use crate::model::WindowFill;

pub fn panel(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    if area.width < 3 || area.height < 2 {
        return;
    }
    let block = widgets::block(ctx.theme, "CPU vs colocation windows");
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.width >= 90 {
        let [l, _, r] = inner.layout(&Layout::horizontal([
            Constraint::Length(52),
            Constraint::Length(1),
            Constraint::Fill(1),
        ]));
        Paragraph::new(lines(ctx, true)).render(l, buf);
        curve(ctx, r, buf, true);
    } else {
        let text = lines(ctx, false);
        let text_h = (text.len() as u16).min(inner.height);
        let [top, bottom] =
            inner.layout(&Layout::vertical([Constraint::Length(text_h), Constraint::Fill(1)]));
        Paragraph::new(text).render(top, buf);
        if bottom.height >= 2 {
            curve(ctx, bottom, buf, false);
        }
    }
}

/// Cluster CPU now, the window state, the window fill so far and the last complete one.
fn lines(ctx: &Ctx, wide: bool) -> Vec<Line<'static>> {
    let (t, s) = (ctx.theme, ctx.snap);
    let mut out = Vec::new();
    match (s.cpu.as_ref(), crate::viewmodel::cpu_now(s.cpu.as_ref())) {
        (Some(c), Some(now)) => {
            let mut spans = vec![
                Span::styled(" now ", t.header),
                Span::styled(now.total.to_string(), t.accent),
                Span::styled(format!(" = online {} + offline {}", now.online, now.offline), t.base),
            ];
            if wide {
                spans.push(Span::styled(format!(" of {:.0} cores", now.capacity), t.muted));
                if (s.now - now.at).num_seconds() > 2 * i64::from(c.step_s.max(60)) {
                    spans.push(Span::styled(format!(" ({} old)", widgets::age(s.now, Some(now.at))), t.warn));
                }
            }
            out.push(Line::from(spans));
        }
        _ => out.push(Line::from(Span::styled(" no CPU curve yet (Prometheus?)", t.muted))),
    }
    out.push(window_line(ctx));
    let cluster: Vec<&WindowFill> = s.fills.iter().filter(|f| f.rack.is_none()).collect();
    let open = cluster.iter().filter(|f| !f.complete).max_by_key(|f| f.start);
    let last = cluster.iter().filter(|f| f.complete).max_by_key(|f| f.start);
    if let Some(f) = open {
        out.push(Line::from(vec![
            Span::styled(" so far ", t.header),
            Span::styled(
                format!(
                    "avg {}, offline {} of use",
                    crate::viewmodel::pct(f.avg_util),
                    crate::viewmodel::pct(f.offline_share)
                ),
                t.base,
            ),
        ]));
    }
    if let Some(f) = last {
        let day = f.start.with_timezone(&s.tz).format("%a");
        let (avg, off) = (crate::viewmodel::pct(f.avg_util), crate::viewmodel::pct(f.offline_share));
        if wide {
            out.push(Line::from(vec![
                Span::styled(format!(" last ({day}) "), t.header),
                Span::styled(format!("avg {avg}, offline {off} of use"), t.base),
            ]));
            let mut spans = vec![Span::styled(format!("   idle {:.0} core-h", f.idle_core_hours), t.base)];
            if f.spill_core_hours >= 0.05 {
                spans.push(Span::styled(
                    format!("  {} spill {:.1} core-h", t.sym.warn, f.spill_core_hours),
                    t.warn,
                ));
            } else {
                spans.push(Span::styled("  no spill", t.muted));
            }
            out.push(Line::from(spans));
        } else {
            out.push(Line::from(vec![
                Span::styled(" last ", t.header),
                Span::styled(format!("avg {avg}, {off} offline"), t.base),
            ]));
        }
    } else if open.is_none() && !s.windows.is_empty() {
        out.push(Line::from(Span::styled(" no window in the curve yet", t.muted)));
    }
    if wide {
        out.push(Line::from(vec![
            Span::styled(" curve: last 24 h, total CPU; ", t.muted),
            Span::styled(t.sym.window_mark, t.chart_axis),
            Span::styled(" = window", t.muted),
        ]));
    }
    out
}

/// `in window 01:00-06:00, closes in 2h10m` or `next window 01:00-06:00 in 13h00m`.
fn window_line(ctx: &Ctx) -> Line<'static> {
    let (t, s) = (ctx.theme, ctx.snap);
    if s.windows.is_empty() {
        return Line::from(Span::styled(" no colocation windows configured", t.muted));
    }
    let local = s.now.with_timezone(&s.tz).time();
    let secs_of = |x: chrono::NaiveTime| i64::from(chrono::Timelike::num_seconds_from_midnight(&x));
    let until = |x: chrono::NaiveTime| (secs_of(x) - secs_of(local)).rem_euclid(86_400).unsigned_abs();
    if let Some(w) = s.windows.iter().find(|w| w.contains(local)) {
        return Line::from(vec![
            Span::styled(" in window ", t.header),
            Span::styled(w.label(), t.accent),
            Span::styled(format!(", closes in {}", widgets::secs(until(w.end))), t.base),
        ]);
    }
    let next = s.windows.iter().min_by_key(|w| until(w.start));
    match next {
        Some(w) => Line::from(vec![
            Span::styled(" next window ", t.header),
            Span::styled(w.label(), t.accent),
            Span::styled(format!(" in {}", widgets::secs(until(w.start))), t.base),
        ]),
        None => Line::from(""),
    }
}

/// Total utilisation over the last 24 h, eighth-block columns; the bottom row marks the windows
/// (and, when `labels`, a second row holds time labels).
fn curve(ctx: &Ctx, area: Rect, buf: &mut Buffer, labels: bool) {
    let (t, s) = (ctx.theme, ctx.snap);
    let Some(c) = s.cpu.as_ref().filter(|c| !c.points.is_empty()) else {
        return;
    };
    let label_rows = if labels && area.height >= 4 { 1 } else { 0 };
    let plot_h = area.height.saturating_sub(1 + label_rows);
    let n = usize::from(area.width);
    if plot_h == 0 || n == 0 {
        return;
    }
    let end: DateTime<Utc> = s.now;
    let start = end - Duration::hours(24);
    let cols = stacked_chart::buckets(&c.points, c.step_s, start, end, n);
    let gaps = stacked_chart::gap_columns(&cols, &c.points, c.step_s, start, end);
    let values: Vec<Option<f64>> = cols.into_iter().map(|b| b.map(|(on, off)| on + off)).collect();
    let in_window = stacked_chart::window_columns(&s.windows, s.tz, start, end, n);
    let rows = widgets::bar_rows(t, &values, usize::from(plot_h));
    for (r, row) in rows.iter().enumerate() {
        let y = area.y + r as u16;
        for (i, g) in row.iter().enumerate() {
            let st = if in_window.get(i).copied().unwrap_or(false) {
                t.chart_online.patch(t.chart_window)
            } else {
                t.chart_online
            };
            if let Some(cell) = buf.cell_mut((area.x + i as u16, y)) {
                cell.set_symbol(g);
                cell.set_style(st);
            }
        }
    }
    // A gap is `?` on the bottom row, never an empty (0 %) column.
    for (i, _) in gaps.iter().enumerate().filter(|(_, g)| **g) {
        if let Some(cell) = buf.cell_mut((area.x + i as u16, area.y + plot_h - 1)) {
            cell.set_symbol(t.sym.unknown);
            cell.set_style(t.unknown);
        }
    }
    let my = area.y + plot_h;
    for (i, w) in in_window.iter().enumerate() {
        if *w && let Some(cell) = buf.cell_mut((area.x + i as u16, my)) {
            cell.set_symbol(t.sym.window_mark);
            cell.set_style(t.chart_axis);
        }
    }
    if label_rows == 1 {
        let ly = my + 1;
        let put = |buf: &mut Buffer, x: u16, text: &str| {
            buf.set_stringn(x, ly, text, usize::from(area.right().saturating_sub(x)), t.chart_axis);
        };
        put(buf, area.x, "-24h");
        if area.width >= 20 {
            put(buf, area.x + area.width / 2 - 2, "-12h");
        }
        if area.width >= 8 {
            put(buf, area.right() - 3, "now");
        }
    } else if area.width >= 12 {
        // Narrow: the ends of the marker row say what the curve spans, where no mark is.
        for (x, text) in [(area.x, "-24h"), (area.right() - 3, "now")] {
            let free = (x..x + text.len() as u16)
                .all(|cx| !in_window.get(usize::from(cx - area.x)).copied().unwrap_or(false));
            if free {
                buf.set_stringn(x, my, text, text.len(), t.chart_axis);
            }
        }
    }
}
