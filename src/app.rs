//! The UI state machine: `Model`, `Mode`, `Msg` and `update(&mut Model, Msg) -> Vec<Effect>`.
//! No I/O and no clock: testable without tokio or a terminal.

use std::sync::Arc;

use crate::model::Snapshot;
use crate::viewmodel::SortKey;

/// The seven views, in key order (1-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    #[default]
    Overview,
    Nodes,
    Network,
    Runtime,
    Conntrack,
    Utilization,
    Triage,
}

impl View {
    pub const ALL: [View; 7] = [
        View::Overview,
        View::Nodes,
        View::Network,
        View::Runtime,
        View::Conntrack,
        View::Utilization,
        View::Triage,
    ];
    pub fn index(self) -> usize {
        View::ALL.iter().position(|v| *v == self).unwrap_or(0)
    }
    pub fn title(self) -> &'static str {
        match self {
            View::Overview => "Overview",
            View::Nodes => "Nodes",
            View::Network => "Network",
            View::Runtime => "Runtime",
            View::Conntrack => "Conntrack",
            View::Utilization => "Utilization",
            View::Triage => "Triage",
        }
    }
    pub fn parse(s: &str) -> Option<View> {
        let s = s.to_ascii_lowercase();
        View::ALL
            .into_iter()
            .find(|v| v.title().to_ascii_lowercase() == s || (v.index() + 1).to_string() == s)
    }
}

/// What the keyboard is talking to. One at a time; no bag of booleans.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Browse,
    /// Editing the `/` filter.
    Filter,
    /// Editing a `:` command.
    Command,
    Help,
    /// Node detail for the named node.
    Detail(String),
}

/// Time span shown by the Utilization chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Zoom {
    H1,
    H6,
    #[default]
    H24,
    D7,
}

impl Zoom {
    pub fn seconds(self) -> i64 {
        match self {
            Zoom::H1 => 3600,
            Zoom::H6 => 6 * 3600,
            Zoom::H24 => 24 * 3600,
            Zoom::D7 => 7 * 24 * 3600,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Zoom::H1 => "1h",
            Zoom::H6 => "6h",
            Zoom::H24 => "24h",
            Zoom::D7 => "7d",
        }
    }
}

/// All UI state. Views read it; only `update` writes it.
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub snap: Option<Arc<Snapshot>>,
    pub view: View,
    pub mode: Mode,
    /// The applied filter (node name, rack, mode…); empty = everything.
    pub filter: String,
    /// The line being edited in Filter or Command mode.
    pub input: String,
    pub sort: SortKey,
    pub sort_desc: bool,
    /// Selected row per view (index into that view's rows).
    pub cursor: [usize; 7],
    /// Scroll offset inside the node detail and help screens.
    pub scroll: usize,
    pub zoom: Zoom,
    pub theme: String,
    /// A one-line message (command errors, confirmations) shown in the footer.
    pub message: Option<String>,
    pub quit: bool,
    /// Terminal size, columns x rows.
    pub size: (u16, u16),
    /// The node lists for `snap`, `filter` and `sort`, derived once (not per frame).
    pub rows: crate::viewmodel::Rows,
}

impl Model {
    /// The node lists for the current snapshot, filter and sort (derived now if `update` has
    /// not, as in a model built by hand); `None` before the first snapshot.
    pub fn rows(&self) -> Option<std::borrow::Cow<'_, crate::viewmodel::Rows>> {
        let s = self.snap.as_ref()?;
        Some(self.rows.for_snapshot(s, &self.filter, self.sort, self.sort_desc))
    }
}

/// Everything that can happen to the UI. Keys become `Msg`s through `keymap`.
#[derive(Debug, Clone)]
pub enum Msg {
    Snapshot(Arc<Snapshot>),
    Resize(u16, u16),
    Quit,
    ShowView(View),
    NextView,
    PrevView,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Enter: open the selected row's detail.
    Open,
    /// Esc: close the overlay, cancel the edit, or clear the filter.
    Back,
    StartFilter,
    StartCommand,
    ToggleHelp,
    /// A character typed into the filter or command line.
    Input(char),
    Backspace,
    /// Enter in the filter or command line.
    Submit,
    NextSort,
    ReverseSort,
    NextZoom,
    PrevZoom,
    /// A message to show in the footer (e.g. a theme that failed to load).
    Notice(String),
}

/// Work for the runtime to do on the model's behalf (the only way `update` causes I/O).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Quit,
    /// Load a built-in theme or a theme file; success or failure comes back as `Msg::Notice`.
    LoadTheme(String),
}

/// Rows a view lists, so the cursor can be clamped. Views clamp again when drawing.
pub fn row_count(model: &Model, view: View) -> usize {
    let (Some(snap), Some(rows)) = (&model.snap, model.rows()) else { return 0 };
    match view {
        View::Conntrack => rows.conntrack.len(),
        View::Nodes => rows.nodes.len(),
        View::Network => rows.racks.len(),
        View::Runtime => snap.nodes.len().max(snap.runtime_classes.len()),
        View::Triage => {
            snap.findings.iter().filter(|f| crate::viewmodel::finding_matches(f, &model.filter)).count()
        }
        View::Overview | View::Utilization => 0,
    }
}

const PAGE: usize = 10;

/// The node behind the selected row: the row itself in node lists; in Triage the finding's
/// subject when it is a node, or the node of the pod it names.
fn selected_node(model: &Model, snap: &Snapshot) -> Option<String> {
    let cur = model.cursor[model.view.index()];
    let f = &model.filter;
    let node = match model.view {
        View::Nodes | View::Conntrack | View::Runtime => {
            let rows = model.rows()?;
            let list = match model.view {
                View::Nodes => &rows.nodes,
                View::Conntrack => &rows.conntrack,
                _ => &rows.runtime,
            };
            list.get(cur).map(|&i| &*snap.nodes[i])
        }
        View::Triage => {
            let subject = &crate::viewmodel::findings(snap, f).get(cur)?.subject;
            snap.node(subject).or_else(|| {
                let (ns, name) = subject.split_once('/')?;
                let pod = snap.pods.iter().find(|p| &*p.namespace == ns && &*p.name == name)?;
                snap.node(pod.node.as_deref()?)
            })
        }
        View::Overview | View::Network | View::Utilization => None,
    };
    node.map(|n| n.name.clone())
}

fn move_cursor(model: &mut Model, delta: isize) {
    if let Mode::Detail(_) | Mode::Help = model.mode {
        model.scroll = model.scroll.saturating_add_signed(delta);
        return;
    }
    let n = row_count(model, model.view);
    let c = &mut model.cursor[model.view.index()];
    *c = if n == 0 { 0 } else { c.saturating_add_signed(delta).min(n - 1) };
}

fn run_command(model: &mut Model, line: &str) -> Vec<Effect> {
    let mut words = line.split_whitespace();
    let cmd = words.next().unwrap_or("");
    let arg = words.collect::<Vec<_>>().join(" ");
    match (cmd, arg.as_str()) {
        ("", _) => {}
        ("q" | "q!" | "quit" | "qa", _) => return update(model, Msg::Quit),
        ("theme", "") => model.message = Some(format!("themes: {}", crate::theme::names().join(", "))),
        ("theme", name) => return vec![Effect::LoadTheme(name.to_string())],
        ("view", v) => match View::parse(v) {
            Some(v) => return update(model, Msg::ShowView(v)),
            None => {
                model.message = Some(format!(
                    "unknown view {v:?}: overview, nodes, network, runtime, conntrack, utilization, triage"
                ))
            }
        },
        ("sort", k) => match crate::viewmodel::SortKey::parse(k) {
            Some(k) => {
                model.sort = k;
                model.view = View::Nodes;
            }
            None => {
                let all: Vec<_> = crate::viewmodel::SortKey::ALL.iter().map(|k| k.label()).collect();
                model.message = Some(format!("unknown sort column {k:?}: {}", all.join(", ")));
            }
        },
        ("zoom", z) => match [Zoom::H1, Zoom::H6, Zoom::H24, Zoom::D7].into_iter().find(|x| x.label() == z) {
            Some(z) => {
                model.zoom = z;
                model.view = View::Utilization;
            }
            None => model.message = Some(format!("unknown zoom {z:?}: 1h, 6h, 24h, 7d")),
        },
        ("filter", f) => model.filter = f.to_string(),
        ("ctx" | "context", _) => {
            model.message = Some("this session shows one cluster; restart with --context to switch".into())
        }
        (other, _) => model.message = Some(format!("unknown command :{other} (press ? for help)")),
    }
    Vec::new()
}

/// The whole UI logic: apply one message to the model; return effects for the runtime.
pub fn update(model: &mut Model, msg: Msg) -> Vec<Effect> {
    let effects = apply(model, msg);
    model.rows.refresh(model.snap.as_ref(), &model.filter, model.sort, model.sort_desc);
    effects
}

fn apply(model: &mut Model, msg: Msg) -> Vec<Effect> {
    if !matches!(msg, Msg::Snapshot(_) | Msg::Resize(..) | Msg::Notice(_)) {
        model.message = None;
    }
    match msg {
        Msg::Snapshot(s) => {
            model.snap = Some(s);
            model.rows.refresh(model.snap.as_ref(), &model.filter, model.sort, model.sort_desc);
            for v in View::ALL {
                let n = row_count(model, v);
                let c = &mut model.cursor[v.index()];
                *c = (*c).min(n.saturating_sub(1));
            }
        }
        Msg::Resize(w, h) => model.size = (w, h),
        Msg::Quit => {
            model.quit = true;
            return vec![Effect::Quit];
        }
        Msg::ShowView(v) => {
            model.view = v;
            model.mode = Mode::Browse;
        }
        Msg::NextView => model.view = View::ALL[(model.view.index() + 1) % 7],
        Msg::PrevView => model.view = View::ALL[(model.view.index() + 6) % 7],
        Msg::Up => move_cursor(model, -1),
        Msg::Down => move_cursor(model, 1),
        Msg::PageUp => move_cursor(model, -(PAGE as isize)),
        Msg::PageDown => move_cursor(model, PAGE as isize),
        Msg::Top => move_cursor(model, isize::MIN / 2),
        Msg::Bottom => move_cursor(model, isize::MAX / 2),
        Msg::Open => {
            if let Some(name) = model.snap.as_deref().and_then(|s| selected_node(model, s)) {
                model.mode = Mode::Detail(name);
                model.scroll = 0;
            }
        }
        Msg::Back => match model.mode {
            Mode::Browse if !model.filter.is_empty() => model.filter.clear(),
            Mode::Browse => {}
            _ => {
                model.mode = Mode::Browse;
                model.input.clear();
            }
        },
        Msg::StartFilter => {
            model.input = model.filter.clone();
            model.mode = Mode::Filter;
        }
        Msg::StartCommand => {
            model.input.clear();
            model.mode = Mode::Command;
        }
        Msg::ToggleHelp => {
            model.mode = if model.mode == Mode::Help { Mode::Browse } else { Mode::Help };
            model.scroll = 0;
        }
        Msg::Input(c) => {
            if matches!(model.mode, Mode::Filter | Mode::Command)
                && !c.is_control()
                && model.input.len() < 256
            {
                model.input.push(c);
                if model.mode == Mode::Filter {
                    model.filter = model.input.clone();
                    model.cursor[model.view.index()] = 0;
                }
            }
        }
        Msg::Backspace => {
            model.input.pop();
            if model.mode == Mode::Filter {
                model.filter = model.input.clone();
            }
        }
        Msg::Submit => {
            let line = std::mem::take(&mut model.input);
            let mode = std::mem::take(&mut model.mode);
            match mode {
                Mode::Filter => model.filter = line.trim().to_string(),
                Mode::Command => return run_command(model, line.trim().trim_start_matches(':')),
                other => model.mode = other,
            }
        }
        Msg::NextSort | Msg::ReverseSort => {
            if matches!(msg, Msg::NextSort) {
                let all = crate::viewmodel::SortKey::ALL;
                let i = all.iter().position(|k| *k == model.sort).unwrap_or(0);
                model.sort = all[(i + 1) % all.len()];
            } else {
                model.sort_desc = !model.sort_desc;
            }
            model.message = Some(format!(
                "sorted by {} {}",
                model.sort.label(),
                if model.sort_desc { "descending" } else { "ascending" }
            ));
        }
        Msg::NextZoom | Msg::PrevZoom => {
            let all = [Zoom::H1, Zoom::H6, Zoom::H24, Zoom::D7];
            let i = all.iter().position(|z| *z == model.zoom).unwrap_or(2);
            model.zoom = if matches!(msg, Msg::NextZoom) { all[(i + 1) % 4] } else { all[(i + 3) % 4] };
        }
        Msg::Notice(s) => model.message = Some(s),
    }
    Vec::new()
}
