//! The UI state machine: `Model`, `Mode`, `Msg` and `update(&mut Model, Msg) -> Vec<Effect>`.
//! No I/O and no clock: testable without tokio or a terminal.

use std::sync::Arc;

use crate::model::Snapshot;
use crate::query::SortKey;

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
}
