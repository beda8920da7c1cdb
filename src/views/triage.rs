//! The triage view: source health on top, every finding by severity, and the selected finding's
//! evidence and remedy below.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Widget, Wrap};
use unicode_width::UnicodeWidthStr;

use super::Ctx;
use super::widgets;
use crate::app::View;
use crate::model::{Finding, Snapshot, SourceHealth, SourceStatus};
use crate::viewmodel::sort::{Column, FindingCol};

/// Why a source is not ok, else what it found out about its backend (its note).
fn health_detail(ctx: &Ctx, s: &SourceStatus) -> String {
    match &s.health {
        SourceHealth::Ok => s.note.clone().unwrap_or_default(),
        SourceHealth::Stale { since } => format!("no data for {}", widgets::age(ctx.snap.now, Some(*since))),
        SourceHealth::Forbidden { verb, resource } => format!("may not {verb} {resource}"),
        SourceHealth::Unreachable { error } => error.clone(),
        SourceHealth::NotInstalled => "not installed here".into(),
        SourceHealth::NoData { reason } => reason.clone(),
    }
}

fn source_row<'a>(ctx: &Ctx, s: &SourceStatus) -> Row<'a> {
    let th = ctx.theme;
    let (st, glyph) = widgets::source_health(ctx.theme, &s.health);
    let detail = health_detail(ctx, s);
    Row::new([
        Cell::from(Span::styled(format!("{glyph} {}", s.label()), st)),
        Cell::from(Span::styled(s.health.word(), st)),
        Cell::from(Span::styled(widgets::age(ctx.snap.now, s.updated).to_string(), th.muted)),
        Cell::from(Span::styled(detail, th.base)),
    ])
}

fn sources(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let th = ctx.theme;
    let block = widgets::block(th, "Sources");
    let inner = block.inner(area);
    Widget::render(block, area, buf);
    if ctx.snap.sources.is_empty() {
        Widget::render(Line::styled("no source has reported yet", th.muted), inner, buf);
        return;
    }
    let rows: Vec<Row> = ctx.snap.sources.iter().map(|s| source_row(ctx, s)).collect();
    let label_w = ctx.snap.sources.iter().map(|s| s.label().width() + 2).max().unwrap_or(0).clamp(14, 48);
    let widths = [
        Constraint::Length(label_w as u16),
        Constraint::Length(13),
        Constraint::Length(6),
        Constraint::Min(10),
    ];
    let header = Row::new(["source", "state", "since", "detail"]).style(th.header);
    Widget::render(Table::new(rows, widths).header(header), inner, buf);
}

fn consulted(snap: &Snapshot) -> String {
    if snap.sources.is_empty() {
        return "no source has reported yet".into();
    }
    let v: Vec<String> =
        snap.sources.iter().map(|s| format!("{} ({})", s.label(), s.health.word())).collect();
    format!("consulted {}", v.join(", "))
}

fn findings(ctx: &Ctx, rows: &[&Finding], area: Rect, buf: &mut Buffer) {
    let (th, snap) = (ctx.theme, ctx.snap);
    let sort = ctx.model.sorts.findings;
    let mut title = format!("Findings {}/{}", rows.len(), snap.findings.len());
    if sort != crate::viewmodel::Sorts::default().findings {
        title.push_str(&format!("  {}", sort.describe()));
    }
    let block = widgets::block(th, &title);
    let inner = block.inner(area);
    Widget::render(block, area, buf);
    if rows.is_empty() {
        let lines = if snap.findings.is_empty() {
            vec![
                Line::styled(format!("{} no findings", th.sym.ok), th.ok),
                Line::styled(consulted(snap), th.muted),
            ]
        } else {
            let f = &ctx.model.filter;
            vec![Line::styled(
                format!("no finding matches filter {f:?} ({} in all)", snap.findings.len()),
                th.muted,
            )]
        };
        Widget::render(Paragraph::new(lines).wrap(Wrap { trim: true }), inner, buf);
        return;
    }
    let height = usize::from(inner.height.saturating_sub(1));
    let (cur, off) = widgets::scroll(rows.len(), ctx.model.cursor[View::Triage.index()], height);
    let sel_w = th.sym.selected.width();
    // Rule, subject and text whole when they fit; else the rule whole from 120 columns and the
    // subject as wide as leaves the text 50 cells.
    let most = |f: fn(&Finding) -> usize| rows.iter().map(|r| f(r)).max().unwrap_or(0);
    let (rule_n, subject_n, what_n) = (
        most(|f| f.rule.id().width()).min(40),
        most(|f| f.subject.width()).min(64),
        most(|f| f.what.width()),
    );
    let room = usize::from(inner.width).saturating_sub(sel_w + 6 + 5 + 4);
    let narrow = usize::from(inner.width / 5).clamp(10, 40).min(subject_n.max(10));
    let (rule_w, subject_w) = if rule_n + subject_n + what_n <= room {
        (rule_n.max(4), subject_n.max(7))
    } else if inner.width >= 120 {
        (rule_n.max(4), room.saturating_sub(rule_n + 50).clamp(narrow, subject_n.max(narrow)))
    } else {
        (18, narrow)
    };
    let what_w = room.saturating_sub(rule_w + subject_w).max(10);
    let visible: Vec<Row> = rows
        .iter()
        .enumerate()
        .skip(off)
        .take(height)
        .map(|(i, f)| {
            let (st, g) = widgets::severity(th, f.severity);
            let flt = ctx.model.filter.as_str();
            let r = Row::new([
                Cell::from(Span::styled(
                    format!("{}{g} {}", widgets::select_mark(th, i == cur), f.severity.label()),
                    st,
                )),
                Cell::from(widgets::highlight(th, widgets::truncate(th, f.rule.id(), rule_w), flt, th.muted)),
                Cell::from(widgets::highlight(
                    th,
                    widgets::truncate(th, &f.subject, subject_w),
                    flt,
                    th.accent,
                )),
                Cell::from(Span::styled(widgets::age(snap.now, f.since).to_string(), th.muted)),
                Cell::from(widgets::highlight(th, widgets::truncate(th, &f.what, what_w), flt, th.base)),
            ]);
            if i == cur { r.style(th.selected) } else { r }
        })
        .collect();
    let widths = [
        Constraint::Length((sel_w + 6) as u16),
        Constraint::Length(rule_w as u16),
        Constraint::Length(subject_w as u16),
        Constraint::Length(6),
        Constraint::Min(10),
    ];
    let arrow = if sort.desc { th.sym.arrow_down } else { th.sym.arrow_up };
    let cols = [
        (format!("{}sev", " ".repeat(sel_w)), Some(FindingCol::Severity)),
        ("rule".into(), Some(FindingCol::Rule)),
        ("subject".into(), Some(FindingCol::Subject)),
        ("since".into(), Some(FindingCol::Since)),
        ("what".into(), None),
    ];
    let header = Row::new(
        cols.iter().map(|(t, c)| if *c == Some(sort.col) { format!("{t}{arrow}") } else { t.clone() }),
    )
    .style(th.header);
    let titles: Vec<(Option<u16>, Option<&'static str>)> = widths
        .iter()
        .zip(&cols)
        .map(|(w, (_, c))| (if let Constraint::Length(n) = w { Some(*n) } else { None }, c.map(|c| c.name())))
        .collect();
    let columns = super::hits::columns(inner.x, inner.y, inner.right(), 1, &titles);
    let rows_area = Rect { y: inner.y + 1, height: inner.height.saturating_sub(1), ..inner };
    super::hits::table(rows_area, off, rows.len(), columns);
    Widget::render(Table::new(visible, widths).header(header), inner, buf);
}

/// Rows `lines` take when word-wrapped to `width` (greedy, as the paragraph wraps).
fn wrapped_height(lines: &[Line], width: u16) -> u16 {
    let w = usize::from(width.max(1));
    let mut n = 0usize;
    for l in lines {
        let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
        let (mut rows, mut col) = (1usize, 0usize);
        for word in text.split(' ') {
            let ww = word.width();
            let need = if col == 0 { ww } else { col + 1 + ww };
            if need <= w {
                col = need;
            } else {
                rows += 1 + ww / w;
                col = ww % w;
            }
        }
        n += rows;
    }
    u16::try_from(n).unwrap_or(u16::MAX)
}

fn detail_lines<'a>(ctx: &Ctx, f: &Finding) -> Vec<Line<'a>> {
    let th = ctx.theme;
    let (st, g) = widgets::severity(th, f.severity);
    let mut head =
        vec![Span::styled(format!("{g} {} ", f.severity.label()), st), Span::styled(f.what.clone(), th.base)];
    if f.since.is_some() {
        head.push(Span::styled(format!("  since {}", widgets::age(ctx.snap.now, f.since)), th.muted));
    }
    let mut lines = vec![Line::from(head)];
    if !f.evidence.is_empty() {
        lines.push(Line::styled("evidence", th.header));
        lines.extend(f.evidence.iter().map(|e| Line::styled(format!("  - {e}"), th.base)));
    }
    lines.push(Line::from(vec![Span::styled("remedy ", th.header), Span::styled(f.remedy.clone(), th.base)]));
    lines
}

fn detail(ctx: &Ctx, f: &Finding, lines: Vec<Line>, area: Rect, buf: &mut Buffer) {
    let title = format!("{} on {}", f.rule.id(), f.subject);
    let block = widgets::block(ctx.theme, &title);
    let inner = block.inner(area);
    Widget::render(block, area, buf);
    Widget::render(Paragraph::new(lines).wrap(Wrap { trim: false }), inner, buf);
}

/// Source health as wrapped text, for short terminals.
fn sources_compact<'a>(ctx: &Ctx) -> Vec<Line<'a>> {
    let th = ctx.theme;
    let mut spans = vec![Span::styled("sources ", th.header)];
    if ctx.snap.sources.is_empty() {
        spans.push(Span::styled("none has reported yet", th.muted));
    }
    for s in &ctx.snap.sources {
        let (st, glyph) = widgets::source_health(ctx.theme, &s.health);
        spans.push(Span::styled(format!("{glyph} {} {}", s.label(), s.health.word()), st));
        let d = health_detail(ctx, s);
        if !d.is_empty() {
            spans.push(Span::styled(format!(" ({d})"), th.muted));
        }
        spans.push(Span::raw("  "));
    }
    vec![Line::from(spans)]
}

pub fn render(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return;
    }
    let order = ctx.rows();
    let rows: Vec<&Finding> = order.findings.iter().map(|&i| &ctx.snap.findings[i]).collect();
    let compact = area.height < 30;
    let compact_lines = sources_compact(ctx);
    let src_h = if compact {
        wrapped_height(&compact_lines, area.width).min(3).min(area.height / 4)
    } else {
        (ctx.snap.sources.len().max(1) as u16 + 3).min(area.height / 3)
    };
    let selected = rows.get(ctx.model.cursor[View::Triage.index()].min(rows.len().saturating_sub(1)));
    let lines = selected.map(|f| detail_lines(ctx, f)).unwrap_or_default();
    let detail_h = match selected {
        // On very short terminals the list wins; the detail needs room to be useful.
        _ if area.height.saturating_sub(src_h) < 12 => 0,
        None => 0,
        Some(_) => {
            let want = wrapped_height(&lines, area.width.saturating_sub(2)).saturating_add(2);
            // Keep at least five findings in view; the rest may go to the selected one's detail.
            want.min(area.height.saturating_sub(src_h + 8)).max(3.min(area.height))
        }
    };
    let [top, mid, bottom] =
        Layout::vertical([Constraint::Length(src_h), Constraint::Min(3), Constraint::Length(detail_h)])
            .areas(area);
    if compact {
        Widget::render(Paragraph::new(compact_lines).wrap(Wrap { trim: true }), top, buf);
    } else if src_h >= 3 {
        sources(ctx, top, buf);
    }
    findings(ctx, &rows, mid, buf);
    if let (Some(f), false) = (selected, bottom.is_empty()) {
        detail(ctx, f, lines, bottom, buf);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::app::Model;
    use crate::testkit::cluster_b as fixture;

    #[test]
    fn preview_and_selection() {
        let snap = fixture::snapshot();
        let mut model = Model::default();
        model.cursor[View::Triage.index()] = 2;
        let wide = fixture::preview("triage", &snap, &model, render);
        assert!(wide.contains("conntrack-timeout-below-keepalive on node-a1"), "{wide}");
        assert!(wide.contains("connect: connection refused") && wide.contains("may not list pods"));
        assert!(wide.contains("remedy Do the obvious thing"));
        let pos = |s: &str| wide.find(s).unwrap_or(usize::MAX);
        assert!(pos("CRIT") < pos("WARN") && pos("WARN") < pos("INFO"));
    }

    /// At 200 columns the list has room for every rule, subject and text whole.
    #[test]
    fn nothing_is_cut_at_200_columns() {
        let th = crate::theme::Theme::builtin("default", false).unwrap();
        let snap = fixture::sim();
        let text = fixture::render(&snap, &Model::default(), &th, 200, 50, render).join("\n");
        let list: String =
            text.lines().take_while(|l| !l.contains("on r4-n06 ")).collect::<Vec<_>>().join("\n");
        for f in &snap.findings {
            let row = list.lines().find(|l| l.contains(f.rule.id()) && l.contains(&f.subject));
            assert!(row.is_some_and(|r| r.contains(&f.what)), "{} {} whole:\n{list}", f.rule.id(), f.subject);
        }
        assert!(!list.contains(th.sym.ellipsis), "{list}");
    }

    #[test]
    fn filter_and_empty() {
        let mut snap = fixture::snapshot();
        assert_eq!(crate::viewmodel::findings(&snap, "KATA").len(), 2);
        assert_eq!(crate::viewmodel::findings(&snap, "node-a1 keep-alive").len(), 1);
        let th = crate::theme::Theme::builtin("default", false).unwrap();
        let model = Model { filter: "zzz".into(), ..Model::default() };
        let text = fixture::render(&snap, &model, &th, 80, 24, render).join("\n");
        assert!(text.contains("no finding matches filter \"zzz\""), "{text}");
        snap.findings.clear();
        let text = fixture::preview("triage-empty", &snap, &Model::default(), render);
        assert!(
            text.contains("no findings") && text.contains("consulted kube (ok), prometheus (unreachable)")
        );
    }
}
