//! Moving around: the rows a view lists, the cursor, what Enter opens, what `y` copies.

use super::*;

/// Rows a view lists, so the cursor can be clamped (one rule for every table:
/// `viewmodel::selection`).
pub fn row_count(model: &Model, view: View) -> usize {
    match (model.rows(), view.table()) {
        (Some(rows), Some(t)) => rows.len(t),
        _ => 0,
    }
}

/// What the selected row of the view on screen stands for.
pub fn selected(model: &Model) -> Option<Target> {
    let snap = model.snap.as_ref()?;
    let rows = model.rows()?;
    let table = model.view.table()?;
    let cur = selection::clamp(model.cursor[model.view.index()], rows.len(table));
    rows.target(snap, table, cur)
}

pub(super) fn move_cursor(model: &mut Model, m: Move) {
    if let Mode::Detail(_) | Mode::Help | Mode::Diff | Mode::Drain(_) = model.mode {
        model.scroll = match model.hits.scroll_max {
            Some(max) => selection::moved(model.scroll, max + 1, m),
            // Before the first frame the bound is not known yet: the view clamps.
            None => selection::moved(model.scroll, usize::MAX, m),
        };
        return;
    }
    let n = row_count(model, model.view);
    let c = &mut model.cursor[model.view.index()];
    *c = selection::moved(*c, n, m);
}

/// The view a finding about something else than a node, pod or rack belongs to.
fn finding_view(rule: Rule) -> Option<View> {
    match rule {
        Rule::WindowUnderfill | Rule::WindowSpill => Some(View::Utilization),
        Rule::KataClassWithoutKvm
        | Rule::RuntimeClassMismatch
        | Rule::KataWithoutKvm
        | Rule::KataHostNetwork => Some(View::Runtime),
        _ => None,
    }
}

/// Enter: open what the selected row stands for.
pub(super) fn open(model: &mut Model) {
    let Some(target) = selected(model) else { return };
    match target {
        Target::Node(name) => {
            if model.detail.as_ref().is_some_and(|d| d.node != name) {
                model.detail = None;
            }
            model.pod_filter.clear();
            model.mode = Mode::Detail(name);
            model.scroll = 0;
        }
        Target::Rack(rack) => {
            model.back = Some((model.view, model.filter.clone()));
            model.filter = format!("{}{rack}", crate::viewmodel::RACK_EQ);
            model.view = View::Nodes;
            model.cursor[View::Nodes.index()] = 0;
            model.message = Some(format!("the nodes of {rack}; Esc goes back"));
        }
        Target::Window(i) => {
            let Some(f) = model.snap.as_ref().and_then(|s| s.fills.get(i)) else { return };
            model.window = Some((f.window, f.start));
        }
        Target::Finding(i) => {
            let Some(f) = model.snap.as_ref().and_then(|s| s.findings.get(i)) else { return };
            let (rule, subject) = (f.rule, f.subject.clone());
            match finding_view(rule) {
                Some(v) => {
                    model.view = v;
                    model.message = Some(format!("{} is about {subject}: see {}", rule.id(), v.title()));
                }
                None => {
                    model.message =
                        Some(format!("{} is about {subject}, not a node: its evidence is below", rule.id()))
                }
            }
        }
    }
}

/// `y`: the selected node's name, rack or finding, for the clipboard.
pub(super) fn copy_text(model: &Model) -> Option<String> {
    if let Mode::Detail(name) = &model.mode {
        return Some(name.clone());
    }
    let snap = model.snap.as_ref()?;
    if model.view == View::Triage {
        let rows = model.rows()?;
        let cur = selection::clamp(model.cursor[View::Triage.index()], rows.findings.len());
        let f = &snap.findings[*rows.findings.get(cur)?];
        let mut text = format!("{} {} {}: {}", f.severity.label(), f.rule.id(), f.subject, f.what);
        for e in &f.evidence {
            text.push_str(&format!("\n  - {e}"));
        }
        text.push_str(&format!("\n  remedy: {}", f.remedy));
        return Some(text);
    }
    match selected(model)? {
        Target::Node(n) | Target::Rack(n) => Some(n),
        Target::Window(_) | Target::Finding(_) => None,
    }
}
