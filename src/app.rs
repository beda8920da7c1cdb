//! The UI state machine: `Model`, `Mode`, `Msg` and `update(&mut Model, Msg) -> Vec<Effect>`.
//! No I/O and no clock: testable without tokio or a terminal.

mod command;
pub mod input;
pub mod mouse;
mod navigate;
pub mod rewind;
mod view;

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::model::{Rule, Snapshot};
use crate::viewmodel::selection::{self, Move};
use crate::viewmodel::{Sorts, Target};
pub use input::{Completion, History, LineEditor};
pub use mouse::{Hits, Mouse, TableHit};
use navigate::{copy_text, move_cursor, open};
pub use navigate::{row_count, selected};
pub use rewind::{DiffList, Past};
pub use view::{View, Zoom};

/// Rows PageUp and PageDown move.
const PAGE: isize = 10;

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
    /// What changed between two moments (`:diff`, `D`): `Model::diff`.
    Diff,
    /// The pre-drain check of the named node (`:check drain NODE`).
    Drain(String),
}

/// All UI state. Views read it; only `update` writes it.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// What the views draw: the latest live snapshot, or the recorded one at the time cursor.
    pub snap: Option<Arc<Snapshot>>,
    /// The latest live snapshot (in a replay: the end of the recording), shown or not.
    pub live: Option<Arc<Snapshot>>,
    /// The time cursor: `None` is live; rewound, `snap` is the recording at this moment.
    pub at: Option<DateTime<Utc>>,
    /// The moment asked of the history and not answered yet (the latest ask wins: an answer for
    /// any other moment, or one that comes after `:live`, is dropped).
    pub seeking: Option<DateTime<Utc>>,
    /// Where the moment on screen came from, when the history says (the banner shows it).
    pub at_from: Option<&'static str>,
    /// Whether there is a history to rewind in, and what kind.
    pub past: Past,
    /// The list `:diff` / `D` showed last (`Mode::Diff`).
    pub diff: Option<DiffList>,
    pub view: View,
    pub mode: Mode,
    /// The applied filter (node name, rack, mode…); empty = everything.
    pub filter: String,
    /// The filter as it was when `/` was pressed (Esc gives it back).
    pub filter_before: String,
    /// The line being edited in Filter or Command mode.
    pub input: LineEditor,
    /// Lines entered before, one history per kind of line.
    pub filter_history: History,
    pub command_history: History,
    /// Tab completion in progress on the command line.
    pub completion: Option<Completion>,
    /// Shown next to the input line (the completions).
    pub hint: Option<String>,
    /// How each table is sorted.
    pub sorts: Sorts,
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
    /// The node lists for `snap`, `filter` and `sorts`, derived once (not per frame).
    pub rows: crate::viewmodel::Rows,
    /// Where Esc returns to after Enter on a rack showed its nodes: the view and its filter.
    pub back: Option<(View, String)>,
    /// The window occurrence opened with Enter in Utilization: its window and start.
    pub window: Option<(crate::model::Window, DateTime<Utc>)>,
    /// Where things were on the last frame (mouse clicks, scroll bounds).
    pub hits: Hits,
    /// The open node's pods and events as last fetched on demand (`sources::detail`); `None`,
    /// or another node's, while loading.
    pub detail: Option<Arc<crate::sources::detail::NodeDetail>>,
    /// Refreshes of the open detail asked for (`R`).
    pub detail_asked: u64,
    /// How the detail's pods are sorted (`s`/`r` in the detail) and filtered (`/`).
    pub pod_sort: crate::viewmodel::pods::PodSort,
    pub pod_filter: String,
    /// While the pod filter is typed: the node whose detail it returns to.
    pub filter_detail: Option<String>,
}

impl Model {
    /// The node whose detail is on screen (also while its pod filter is typed).
    pub fn detail_node(&self) -> Option<&str> {
        match &self.mode {
            Mode::Detail(n) => Some(n),
            Mode::Filter => self.filter_detail.as_deref(),
            _ => None,
        }
    }

    /// The node lists for the current snapshot, filter and sort (derived now if `update` has
    /// not, as in a model built by hand); `None` before the first snapshot.
    pub fn rows(&self) -> Option<std::borrow::Cow<'_, crate::viewmodel::Rows>> {
        let s = self.snap.as_ref()?;
        Some(self.rows.for_snapshot(s, &self.filter, &self.sorts))
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
    /// Any cursor movement (the named ones above are shorthands).
    Move(Move),
    /// Enter: open what the selected row stands for.
    Open,
    /// Esc: close the overlay, cancel the edit, go back, or clear the filter.
    Back,
    StartFilter,
    StartCommand,
    ToggleHelp,
    /// A character typed into the filter or command line.
    Input(char),
    Backspace,
    Delete,
    CursorLeft,
    CursorRight,
    CursorHome,
    CursorEnd,
    /// Ctrl-U: delete to the start of the line.
    KillLine,
    /// Ctrl-W: delete the word before the cursor.
    KillWord,
    /// Up / Down in the input line.
    HistoryPrev,
    HistoryNext,
    /// Tab in the command line.
    Complete,
    /// Enter in the filter or command line.
    Submit,
    NextSort,
    ReverseSort,
    /// `z`: a wider span (up to 7d).
    NextZoom,
    /// `Z`: a narrower span (down to 1h).
    PrevZoom,
    /// `y`: copy the selected node's name or the selected finding.
    Copy,
    Mouse(Mouse),
    /// What the last frame drew where (not a change: nothing to redraw).
    Drawn(Hits),
    /// A message to show in the footer (e.g. a theme that failed to load).
    Notice(String),
    /// `[` `]` `{` `}`: move the time cursor by this many seconds (negative: back).
    Step(i64),
    /// `:live`: the time cursor back to now.
    Live,
    /// `D`: what changed in the hour before the cursor (or now).
    DiffBack,
    /// The history's snapshot at this moment: the cursor moves there.
    Rewound(DateTime<Utc>, Arc<Snapshot>),
    /// The history's answer to `Effect::Seek` for a moment: the moment shown (the recording's
    /// first when a step went before it) and its snapshot, or why the cursor stays.
    Sought(DateTime<Utc>, Result<Found, String>),
    /// The history's changes between two moments (`Effect::Diff`).
    Changes(DiffList),
    /// A node's pods and events, fetched on demand.
    NodeDetail(Arc<crate::sources::detail::NodeDetail>),
    /// `R` in a node's detail: fetch its pods and events again now.
    RefreshDetail,
}

/// A moment the history found: when (the recording's first when a step went before it), its
/// snapshot, and where it came from (`"the recording"`, `"Prometheus"`).
#[derive(Debug, Clone)]
pub struct Found {
    pub at: DateTime<Utc>,
    pub snap: Arc<Snapshot>,
    pub from: &'static str,
}

/// Work for the runtime to do on the model's behalf (the only way `update` causes I/O).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Quit,
    /// Load a built-in theme or a theme file; success or failure comes back as `Msg::Notice`.
    LoadTheme(String),
    /// Put this text on the clipboard (OSC 52, through the terminal).
    Copy(String),
    /// Write the current view to a file, as plain text or markdown; the outcome comes back as
    /// `Msg::Notice`.
    Export {
        path: PathBuf,
        markdown: bool,
    },
    /// Ask the history for the snapshot at this moment, off the loop; `Msg::Sought` comes back.
    /// `to_start`: a moment before the recording shows its first moment instead (the time keys
    /// stop at the start, as zoom stops at either end).
    Seek {
        at: DateTime<Utc>,
        to_start: bool,
    },
    /// Ask the history what changed in `(from, to]`; `Msg::Changes` or a notice comes back.
    Diff {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
}

/// The whole UI logic: apply one message to the model; return effects for the runtime.
pub fn update(model: &mut Model, msg: Msg) -> Vec<Effect> {
    let effects = apply(model, msg);
    model.rows.refresh(model.snap.as_ref(), &model.filter, &model.sorts);
    effects
}

/// What an edit of the input line does: the completion and history browsing start over, and
/// the filter follows what is typed.
fn edited(model: &mut Model) {
    model.completion = None;
    model.hint = None;
    if model.mode == Mode::Filter {
        if model.filter_detail.is_some() {
            model.pod_filter = model.input.text().trim().to_string();
            return;
        }
        model.filter = model.input.text().trim().to_string();
        model.cursor[model.view.index()] = 0;
    }
}

fn history(model: &mut Model, up: bool) {
    let h = match model.mode {
        Mode::Filter => &mut model.filter_history,
        Mode::Command => &mut model.command_history,
        _ => return,
    };
    let line =
        if up { h.older(model.input.text()).map(str::to_string) } else { h.newer().map(str::to_string) };
    if let Some(l) = line {
        model.input.set(&l);
        model.completion = None;
        model.hint = None;
        if model.mode == Mode::Filter && model.filter_detail.is_some() {
            model.pod_filter = l.trim().to_string();
        } else if model.mode == Mode::Filter {
            model.filter = l.trim().to_string();
        }
    }
}

fn apply(model: &mut Model, msg: Msg) -> Vec<Effect> {
    if !matches!(
        msg,
        Msg::Snapshot(_)
            | Msg::Resize(..)
            | Msg::Notice(_)
            | Msg::Drawn(_)
            | Msg::Rewound(..)
            | Msg::Sought(..)
            | Msg::NodeDetail(_)
    ) {
        model.message = None;
    }
    let editing = matches!(model.mode, Mode::Filter | Mode::Command);
    match msg {
        Msg::Snapshot(s) => {
            // Rewound, live snapshots keep arriving but are not shown.
            model.live = Some(s.clone());
            if model.at.is_none() {
                model.snap = Some(s);
                rewind::clamp_cursors(model);
            }
        }
        Msg::Resize(w, h) => model.size = (w, h),
        Msg::Drawn(hits) => {
            if let Some(max) = hits.scroll_max {
                model.scroll = model.scroll.min(max);
            }
            model.hits = hits;
        }
        Msg::Quit => {
            model.quit = true;
            return vec![Effect::Quit];
        }
        Msg::ShowView(v) => {
            model.view = v;
            model.mode = Mode::Browse;
            model.back = None;
        }
        Msg::NextView => {
            model.view = View::ALL[(model.view.index() + 1) % 7];
            model.back = None;
        }
        Msg::PrevView => {
            model.view = View::ALL[(model.view.index() + 6) % 7];
            model.back = None;
        }
        Msg::Up => move_cursor(model, Move::By(-1)),
        Msg::Down => move_cursor(model, Move::By(1)),
        Msg::PageUp => move_cursor(model, Move::By(-PAGE)),
        Msg::PageDown => move_cursor(model, Move::By(PAGE)),
        Msg::Top => move_cursor(model, Move::First),
        Msg::Bottom => move_cursor(model, Move::Last),
        Msg::Move(m) => move_cursor(model, m),
        Msg::Open => open(model),
        Msg::Back => match model.mode {
            Mode::Browse if model.view == View::Utilization && model.window.is_some() => model.window = None,
            Mode::Browse if model.back.is_some() => {
                if let Some((v, f)) = model.back.take() {
                    model.view = v;
                    model.filter = f;
                }
            }
            Mode::Browse if !model.filter.is_empty() => model.filter.clear(),
            // Last: a rewound cursor comes back to now.
            Mode::Browse if model.at.is_some() => rewind::go_live(model),
            Mode::Browse => {}
            Mode::Filter => {
                let before = std::mem::take(&mut model.filter_before);
                match model.filter_detail.take() {
                    Some(node) => {
                        model.pod_filter = before;
                        model.mode = Mode::Detail(node);
                    }
                    None => {
                        model.filter = before;
                        model.mode = Mode::Browse;
                    }
                }
                model.input.clear();
            }
            _ => {
                model.mode = Mode::Browse;
                model.input.clear();
                model.completion = None;
                model.hint = None;
            }
        },
        Msg::StartFilter => {
            // A fresh filter: the one in force comes back with Esc (or Up). In a node's detail
            // it is the pods' filter, and Enter or Esc return to the detail.
            if let Mode::Detail(node) = &model.mode {
                model.filter_detail = Some(node.clone());
                model.filter_before = std::mem::take(&mut model.pod_filter);
                model.input.clear();
                model.filter_history.reset();
                model.hint = None;
                model.mode = Mode::Filter;
                return Vec::new();
            }
            model.filter_before = std::mem::take(&mut model.filter);
            model.input.clear();
            model.filter_history.reset();
            model.hint = None;
            model.mode = Mode::Filter;
            model.back = None;
        }
        Msg::StartCommand => {
            model.input.clear();
            model.command_history.reset();
            model.completion = None;
            model.hint = None;
            model.mode = Mode::Command;
        }
        Msg::ToggleHelp => {
            model.mode = if model.mode == Mode::Help { Mode::Browse } else { Mode::Help };
            model.scroll = 0;
        }
        Msg::Input(c) if editing => {
            model.input.insert(c);
            edited(model);
        }
        Msg::Backspace if editing => {
            model.input.backspace();
            edited(model);
        }
        Msg::Delete if editing => {
            model.input.delete();
            edited(model);
        }
        Msg::KillLine if editing => {
            model.input.kill_to_start();
            edited(model);
        }
        Msg::KillWord if editing => {
            model.input.kill_word();
            edited(model);
        }
        Msg::CursorLeft if editing => model.input.left(),
        Msg::CursorRight if editing => model.input.right(),
        Msg::CursorHome if editing => model.input.home(),
        Msg::CursorEnd if editing => model.input.end(),
        Msg::HistoryPrev => history(model, true),
        Msg::HistoryNext => history(model, false),
        Msg::Complete if model.mode == Mode::Command => command::complete(model),
        Msg::Input(_)
        | Msg::Backspace
        | Msg::Delete
        | Msg::KillLine
        | Msg::KillWord
        | Msg::CursorLeft
        | Msg::CursorRight
        | Msg::CursorHome
        | Msg::CursorEnd
        | Msg::Complete => {}
        Msg::Submit => {
            let line = model.input.text().trim().to_string();
            model.input.clear();
            model.completion = None;
            model.hint = None;
            let mode = std::mem::take(&mut model.mode);
            match mode {
                Mode::Filter if model.filter_detail.is_some() => {
                    model.filter_history.push(&line);
                    model.pod_filter = line;
                    model.mode = Mode::Detail(model.filter_detail.take().unwrap_or_default());
                }
                Mode::Filter => {
                    model.filter_history.push(&line);
                    model.filter = line;
                }
                Mode::Command => {
                    model.command_history.push(&line);
                    return command::run(model, line.trim_start_matches(':'));
                }
                other => model.mode = other,
            }
        }
        Msg::NextSort | Msg::ReverseSort if matches!(model.mode, Mode::Detail(_)) => {
            let s = &mut model.pod_sort;
            *s = if matches!(msg, Msg::NextSort) { s.next() } else { s.reversed() };
            model.message = Some(format!("pods {} (s: next column, r: reverse)", s.describe()));
        }
        Msg::NextSort | Msg::ReverseSort => match model.view.table() {
            Some(t) => {
                let s = model.sorts.get_mut(t);
                if matches!(msg, Msg::NextSort) {
                    s.next()
                } else {
                    s.reverse()
                }
                model.message = Some(format!("{} (s: next column, r: reverse)", s.describe()));
            }
            None => model.message = Some(format!("{} has no table to sort", model.view.title())),
        },
        Msg::NextZoom | Msg::PrevZoom => {
            let i = Zoom::ALL.iter().position(|z| *z == model.zoom).unwrap_or(2);
            let wider = matches!(msg, Msg::NextZoom);
            let j = if wider { Some(i + 1) } else { i.checked_sub(1) };
            match j.and_then(|j| Zoom::ALL.get(j)) {
                Some(z) => model.zoom = *z,
                None => {
                    let end = if wider { "widest" } else { "narrowest" };
                    model.message = Some(format!("zoom: {} is the {end} span", model.zoom.label()));
                }
            }
        }
        Msg::Copy => match copy_text(model) {
            Some(text) => {
                let first = text.lines().next().unwrap_or("").to_string();
                model.message =
                    Some(format!("copied {first:?} (OSC 52: the terminal puts it on the clipboard)"));
                return vec![Effect::Copy(text)];
            }
            None => model.message = Some("nothing to copy here".into()),
        },
        Msg::Mouse(m) => mouse::handle(model, m),
        Msg::Notice(s) => model.message = Some(s),
        Msg::Step(secs) => return rewind::step(model, secs),
        Msg::Live => rewind::go_live(model),
        Msg::DiffBack => return rewind::diff(model, ""),
        Msg::Rewound(t, s) => rewind::rewound(model, t, s),
        Msg::Sought(t, answer) => rewind::sought(model, t, answer),
        Msg::Changes(list) => rewind::changes(model, list),
        Msg::NodeDetail(d) => {
            if model.detail_node() == Some(d.node.as_str()) {
                model.detail = Some(d);
            }
        }
        Msg::RefreshDetail => {
            if let Some(n) = model.detail_node() {
                model.message = Some(format!("fetching the pods and events of {n} again"));
                model.detail_asked += 1;
            }
        }
    }
    Vec::new()
}
