//! The runtime view: RuntimeClasses, the cluster runtime mix, KVM capacity against the nodes the
//! Kata class selects, the per-node mix where Kata or gVisor runs, and misplacements.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Widget};
use unicode_width::UnicodeWidthStr;

use super::Ctx;
use super::widgets;
use crate::app::View;
use crate::model::{Finding, Node, Rule, RuntimeKind, Snapshot};
use crate::viewmodel::sort::{Column, RuntimeCol};
use crate::viewmodel::start;

/// The runtime findings the rules made: Kata pods or classes on nodes without KVM, Kata pods on
/// the host network, pods on nodes their RuntimeClass does not select. Most severe first.
fn misplacements(snap: &Snapshot) -> Vec<&Finding> {
    let rules =
        [Rule::KataWithoutKvm, Rule::KataClassWithoutKvm, Rule::KataHostNetwork, Rule::RuntimeClassMismatch];
    let mut v: Vec<&Finding> = snap.findings.iter().filter(|f| rules.contains(&f.rule)).collect();
    v.sort_by_key(|f| f.severity);
    v
}

fn classes(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let (snap, th) = (ctx.snap, ctx.theme);
    let block = widgets::block(th, "RuntimeClasses");
    let inner = block.inner(area);
    Widget::render(block, area, buf);
    let ascii = th.sym.ascii;
    let start_cells = |runtime: Option<&str>, kind| {
        let s = start::cluster(snap, runtime, kind, ascii);
        let st = if s.unknown.is_some() { th.unknown } else { th.base };
        [Cell::from(Span::styled(s.mean, st)), Cell::from(Span::styled(s.reference, th.muted))]
    };
    // The table's last line says what the estimate is, when every row fits above it.
    let n_rows = snap.runtime_classes.len() + 1;
    let unknown = start::unknown_line(snap);
    let wanted = 1 + usize::from(unknown.is_some());
    let legend_h = (usize::from(inner.height).saturating_sub(n_rows + 1)).min(wanted) as u16;
    let fit = usize::from(inner.height.saturating_sub(1 + legend_h));
    // What is left for the selector after the other columns (61) and the gaps between all eight (7).
    let sel_w = usize::from(inner.width).saturating_sub(68).max(1);
    let default = {
        let [mean, reference] = start_cells(None, RuntimeKind::Runc);
        // Pods of no class: the runc count less the pods of classes whose handler is runc.
        let classed: u32 =
            snap.runtime_classes.iter().filter(|c| c.kind == RuntimeKind::Runc).filter_map(|c| c.pods).sum();
        let pods = ctx.rows().runtime_summary.mix.map(|m| m.runc.saturating_sub(classed));
        Row::new([
            Cell::from(Span::styled("(default)", th.muted)),
            Cell::from(Span::styled("\"\"", th.muted)),
            Cell::from(Span::styled("runc", th.base)),
            Cell::from(Span::styled("-", th.muted)),
            Cell::from(Span::styled(widgets::count(pods), th.base)),
            mean,
            reference,
            Cell::from(Span::styled(widgets::truncate(th, "(no RuntimeClass)", sel_w), th.muted)),
        ])
    };
    let rows: Vec<Row> = std::iter::once(default)
        .chain(snap.runtime_classes.iter().map(|c| {
            let cpu = c.overhead_cpu_m.map_or("-".into(), |m| format!("{m}m"));
            let mem = c.overhead_mem_bytes.map_or("-".into(), widgets::bytes);
            let sel: Vec<String> = c.node_selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let sel = if sel.is_empty() { "(any node)".to_string() } else { sel.join(",") };
            let [mean, reference] = start_cells(Some(&c.name), c.kind);
            Row::new([
                Cell::from(Span::styled(widgets::truncate(th, &c.name, 16), th.accent)),
                Cell::from(Span::styled(widgets::truncate(th, &c.handler, 12), th.base)),
                Cell::from(Span::styled(c.kind.label(), th.base)),
                Cell::from(Span::styled(widgets::truncate(th, &format!("{cpu}/{mem}"), 10), th.base)),
                Cell::from(Span::styled(widgets::count(c.pods), th.base)),
                mean,
                reference,
                Cell::from(Span::styled(widgets::truncate(th, &sel, sel_w), th.muted)),
            ])
        }))
        .take(fit)
        .collect();
    let widths = [
        Constraint::Length(16),
        Constraint::Length(12),
        Constraint::Length(6),
        Constraint::Length(10),
        Constraint::Length(7),
        Constraint::Length(6),
        Constraint::Length(4),
        Constraint::Min(1),
    ];
    let header = Row::new(["name", "handler", "kind", "overhead", "pods", "start", "ref", "nodeSelector"])
        .style(th.header);
    let [table, legend] = Layout::vertical([
        Constraint::Length(inner.height.saturating_sub(legend_h)),
        Constraint::Length(legend_h),
    ])
    .areas(inner);
    Widget::render(Table::new(rows, widths).header(header), table, buf);
    let w = usize::from(legend.width);
    let mut notes = vec![Line::styled(widgets::truncate(th, &start::legend(ascii), w), th.muted)];
    if let Some(u) = unknown {
        notes.push(Line::styled(widgets::truncate(th, &format!("{} {u}", th.sym.unknown), w), th.unknown));
    }
    Widget::render(Paragraph::new(notes), legend, buf);
}

fn summary<'a>(ctx: &Ctx) -> Vec<Line<'a>> {
    let (snap, th) = (ctx.snap, ctx.theme);
    let crate::viewmodel::Summary {
        mix,
        kvm,
        kvm_unknown,
        kata_selective,
        kata_nodes,
        kata_no_kvm,
        kata_unknown,
    } = ctx.rows().runtime_summary;
    let mut l1 = vec![Span::styled("pods ", th.header)];
    match ctx.rows().runtime_summary.mix_rows() {
        Some(rows) => {
            for (k, n, share) in rows {
                let share = if mix.is_some_and(|m| m.total() > 0) { share.to_string() } else { "-".into() };
                l1.push(Span::styled(format!("{k} {n} ({share})  "), th.base));
            }
        }
        None => {
            let why = snap.unknown.runtime_mix().unwrap_or_default();
            l1.push(Span::styled(format!("{} runtime mix unknown: {why}", th.sym.unknown), th.unknown));
        }
    }
    let mut l2 = vec![
        Span::styled("KVM-capable ", th.header),
        Span::styled(format!("{kvm}/{} nodes", snap.nodes.len()), th.base),
    ];
    if kvm_unknown > 0 {
        l2.push(Span::styled(format!(" ({} {kvm_unknown} unknown)", th.sym.unknown), th.unknown));
    }
    if !kata_selective {
        l2.push(Span::styled("   no Kata class restricts nodes (no nodeSelector)", th.muted));
    } else {
        l2.push(Span::styled("   Kata-labelled ", th.header));
        l2.push(Span::styled(format!("{kata_nodes}:"), th.base));
        if kata_no_kvm > 0 {
            l2.push(Span::styled(format!(" {} {kata_no_kvm} no KVM", th.sym.crit), th.crit));
        }
        if kata_unknown > 0 {
            l2.push(Span::styled(format!(" {} {kata_unknown} unknown", th.sym.unknown), th.unknown));
        }
        if kata_no_kvm == 0 && kata_unknown == 0 {
            l2.push(Span::styled(format!("  {} all have KVM", th.sym.ok), th.ok));
        }
    }
    vec![Line::from(l1), Line::from(l2)]
}

fn kvm_cell<'a>(ctx: &Ctx, n: &Node) -> Cell<'a> {
    let th = ctx.theme;
    let (st, text): (Style, String) = match n.kvm() {
        Some(true) => (th.ok, format!("{} yes", th.sym.ok)),
        Some(false) if n.runtime.is_some_and(|r| r.kata > 0) => (th.crit, format!("{} no", th.sym.crit)),
        Some(false) => (th.base, "  no".into()),
        None => (th.unknown, format!("{} unknown", th.sym.unknown)),
    };
    Cell::from(Span::styled(text, st))
}

fn node_mix(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let th = ctx.theme;
    let order = ctx.rows();
    let rows = ctx.nodes_at(&order.runtime);
    let sort = ctx.model.sorts.runtime;
    let mut title = format!("Nodes running Kata or gVisor: {}", rows.len());
    if sort != crate::viewmodel::Sorts::default().runtime {
        title.push_str(&format!("  {}", sort.describe()));
    }
    let block = widgets::block(th, &title);
    let inner = block.inner(area);
    Widget::render(block, area, buf);
    if rows.is_empty() {
        let msg = if ctx.model.filter.trim().is_empty() {
            "no node runs Kata or gVisor pods".to_string()
        } else {
            format!("no Kata/gVisor node matches filter {:?}", ctx.model.filter)
        };
        Widget::render(Line::styled(msg, th.muted), inner, buf);
        return;
    }
    let height = usize::from(inner.height.saturating_sub(1));
    let (cur, off) = widgets::scroll(rows.len(), ctx.model.cursor[View::Runtime.index()], height);
    let sel_w = th.sym.selected.width();
    let name_w = usize::from(inner.width).saturating_sub(sel_w + 43).clamp(8, 24);
    let visible: Vec<Row> = rows
        .iter()
        .enumerate()
        .skip(off)
        .take(height)
        .map(|(i, n)| {
            let f = ctx.model.filter.as_str();
            let mut name = widgets::highlight(th, widgets::truncate(th, &n.name, name_w), f, th.base);
            name.spans.insert(0, Span::styled(widgets::select_mark(th, i == cur), th.base));
            let r = Row::new([
                Cell::from(name),
                Cell::from(widgets::highlight(th, widgets::truncate(th, &n.rack, 8), f, th.muted)),
                Cell::from(Span::styled(widgets::count(n.runtime.map(|r| r.runc)), th.base)),
                Cell::from(Span::styled(widgets::count(n.runtime.map(|r| r.kata)), th.base)),
                Cell::from(Span::styled(widgets::count(n.runtime.map(|r| r.gvisor)), th.base)),
                kvm_cell(ctx, n),
            ]);
            if i == cur { r.style(th.selected) } else { r }
        })
        .collect();
    let widths = [
        Constraint::Length((name_w + sel_w) as u16),
        Constraint::Length(8),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Length(7),
        Constraint::Min(5),
    ];
    let arrow = if sort.desc { th.sym.arrow_down } else { th.sym.arrow_up };
    let cols = [
        (format!("{}node", " ".repeat(sel_w)), RuntimeCol::Node),
        ("rack".into(), RuntimeCol::Rack),
        ("runc".into(), RuntimeCol::Runc),
        ("kata".into(), RuntimeCol::Kata),
        ("gvisor".into(), RuntimeCol::Gvisor),
        ("kvm".into(), RuntimeCol::Kvm),
    ];
    let header =
        Row::new(cols.iter().map(|(t, c)| if *c == sort.col { format!("{t}{arrow}") } else { t.clone() }))
            .style(th.header);
    let titles: Vec<(Option<u16>, Option<&'static str>)> = widths
        .iter()
        .zip(&cols)
        .map(|(w, (_, c))| (if let Constraint::Length(n) = w { Some(*n) } else { None }, Some(c.name())))
        .collect();
    let columns = super::hits::columns(inner.x, inner.y, inner.right(), 1, &titles);
    let rows_area = Rect { y: inner.y + 1, height: inner.height.saturating_sub(1), ..inner };
    super::hits::table(rows_area, off, rows.len(), columns);
    Widget::render(Table::new(visible, widths).header(header), inner, buf);
}

fn misplaced(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let th = ctx.theme;
    let all = misplacements(ctx.snap);
    let items = crate::viewmodel::group(all.iter().copied());
    let title = format!("Misplacements: {}", all.len());
    let block = widgets::block(th, &title);
    let inner = block.inner(area);
    Widget::render(block, area, buf);
    if items.is_empty() {
        let msg = format!("{} no Kata pod without KVM or host network, no selector mismatch", th.sym.ok);
        Widget::render(Paragraph::new(Line::styled(msg, th.ok)), inner, buf);
        return;
    }
    let fit = usize::from(inner.height);
    let more = items.len().saturating_sub(fit);
    let shown = if more > 0 { fit.saturating_sub(1) } else { fit };
    let mut lines: Vec<Line> = items
        .iter()
        .take(shown)
        .map(|g| {
            let m = g.first();
            let head = format!(" {} ", m.rule.id());
            let subject =
                widgets::counted(th, &m.subject, g.count(), usize::from(inner.width / 3).clamp(8, 40));
            let used = 6 + head.width() + subject.width() + 2;
            let what = widgets::truncate(th, &m.what, usize::from(inner.width).saturating_sub(used));
            Line::from(vec![
                widgets::severity_span(th, m.severity),
                Span::styled(head, th.muted),
                Span::styled(subject, th.accent),
                Span::styled(format!(": {what}"), th.base),
            ])
        })
        .collect();
    if more > 0 {
        let hidden: usize = items.iter().skip(shown).map(|g| g.count()).sum();
        lines.push(Line::styled(format!("+{hidden} more in Triage (7)"), th.muted));
    }
    Widget::render(Paragraph::new(lines), inner, buf);
}

pub fn render(ctx: &Ctx, area: Rect, buf: &mut Buffer) {
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return;
    }
    // The default runtime's row, the classes', the header, the legend (and why a start is
    // unknown) and the borders.
    let n_classes = ctx.snap.runtime_classes.len() as u16 + 1;
    let notes = 1 + u16::from(start::unknown_line(ctx.snap).is_some());
    let classes_h = (n_classes + 3 + notes).min(area.height / 3).max(3.min(area.height));
    let [top, sum, rest] =
        Layout::vertical([Constraint::Length(classes_h), Constraint::Length(2), Constraint::Min(0)])
            .areas(area);
    classes(ctx, top, buf);
    Widget::render(Paragraph::new(summary(ctx)), sum, buf);
    let [a, b] = if area.width >= 140 {
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(rest)
    } else {
        Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(rest)
    };
    node_mix(ctx, a, buf);
    misplaced(ctx, b, buf);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::app::Model;
    use crate::testkit::cluster_b as fixture;

    #[test]
    fn preview_and_content() {
        let snap = fixture::snapshot();
        let model = Model::default();
        let wide = fixture::preview("runtime", &snap, &model, render);
        assert!(wide.contains("kata-qemu") && wide.contains("250m/160Mi"), "{wide}");
        assert!(wide.contains("KVM-capable 2/5 nodes"), "{wide}");
        assert!(
            wide.contains("Kata-labelled 3: ") && wide.contains("1 no KVM") && wide.contains("1 unknown")
        );
        assert!(wide.contains("kata-pod-without-kvm node-a2"), "{wide}");
        // node-b1 runs gVisor pods; node-b2-k too; node-a2 runs Kata: three rows.
        assert_eq!(crate::viewmodel::Rows::derive(&snap, "", &Default::default()).runtime.len(), 3);
    }

    /// Three pods of one job on a node without KVM: one row with a count, not three rows that
    /// look the same.
    #[test]
    fn the_same_finding_on_three_pods_is_one_row() {
        let th = crate::theme::Theme::builtin("default", false).unwrap();
        let snap = fixture::sim();
        assert_eq!(snap.findings.iter().filter(|f| f.rule == Rule::KataWithoutKvm).count(), 3);
        let t = fixture::render(&snap, &Model::default(), &th, 200, 50, render).join("\n");
        let rows: Vec<&str> = t.lines().filter(|l| l.contains("kata-pod-without-kvm")).collect();
        assert_eq!(rows.len(), 1, "{t}");
        assert!(rows[0].contains("+2: Kata pod on r6-n06"), "{}", rows[0]);
        assert!(t.contains("Misplacements: 5"), "{t}");
    }

    /// The kubelet's figure plainly, the estimate marked, an unknown one `?` with its reason,
    /// each beside the reference for its kind.
    #[test]
    fn start_figures_beside_the_reference_and_unknown_with_its_reason() {
        use crate::model::{SandboxStart, StartSource};
        let mut snap = fixture::snapshot();
        let fig = |mean: f64, source: StartSource| SandboxStart {
            mean_s: Some(mean),
            p50_s: Some(mean),
            p95_s: Some(2.0 * mean),
            samples: 300,
            source,
            note: None,
        };
        std::sync::Arc::make_mut(&mut snap.sandbox_starts).cluster = vec![
            (None, Ok(fig(0.52, StartSource::Kubelet))),
            (Some("gvisor".into()), Err("pods unknown (forbidden)".into())),
            (Some("kata".into()), Ok(fig(1.26, StartSource::PodConditions))),
        ];
        let th = crate::theme::Theme::builtin("default", false).unwrap();
        let t = fixture::render(&snap, &Model::default(), &th, 200, 50, render).join("\n");
        let row =
            |name: &str| t.lines().find(|l| l.contains(&format!("│{name} "))).unwrap_or_default().to_string();
        assert!(row("(default)").contains("0.5s   0.5s"), "{t}");
        assert!(row("kata").contains("≈1.3s  1.0s"), "{t}");
        assert!(row("gvisor").contains("?      -"), "{t}");
        assert!(t.contains("? gvisor: pods unknown (forbidden)"), "{t}");
    }

    #[test]
    fn the_rules_mismatch_findings_are_the_misplacements() {
        let mut snap = fixture::snapshot();
        std::sync::Arc::make_mut(&mut snap.nodes[2]).labels.clear(); // node-b1 loses its kata label
        let pod = crate::model::Pod {
            namespace: "batch".into(),
            name: "render-1".into(),
            node: Some(snap.nodes[2].name.as_str().into()),
            runtime_class: Some("kata".into()),
            priority_class: None,
            host_network: false,
            phase: "Running".into(),
            offline: true,
            sandbox: None,
            batch: None,
            sandbox_start_s: None,
        };
        snap.pods = std::sync::Arc::new(crate::model::Pods::from_vec(vec![pod]));
        snap.findings = crate::analysis::rules::findings(&snap, &Default::default());
        let m = misplacements(&snap);
        let f =
            m.iter().find(|f| f.rule == Rule::RuntimeClassMismatch).expect("the rule's finding is listed");
        assert_eq!(f.subject, "batch/render-1");
        assert!(f.what.contains("node-b1"), "{}", f.what);
    }
}
