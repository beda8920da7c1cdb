//! What is on screen: the seven views and the Utilization chart's zoom.

use crate::viewmodel::Table;

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
    /// The name `:view` and the `:` commands take: `nodes`.
    pub fn name(self) -> &'static str {
        match self {
            View::Overview => "overview",
            View::Nodes => "nodes",
            View::Network => "network",
            View::Runtime => "runtime",
            View::Conntrack => "conntrack",
            View::Utilization => "utilization",
            View::Triage => "triage",
        }
    }
    /// Short names the `:` line takes too (`:net`, `:ct`…).
    pub const ALIASES: [(&'static str, View); 6] = [
        ("no", View::Nodes),
        ("net", View::Network),
        ("rt", View::Runtime),
        ("ct", View::Conntrack),
        ("util", View::Utilization),
        ("tr", View::Triage),
    ];
    /// A view by name, alias or digit.
    pub fn parse(s: &str) -> Option<View> {
        let s = s.trim().to_ascii_lowercase();
        View::ALL
            .into_iter()
            .find(|v| v.name() == s || (v.index() + 1).to_string() == s)
            .or_else(|| View::ALIASES.iter().find(|(a, _)| *a == s).map(|(_, v)| *v))
    }
    /// The table the view's cursor moves in, if it has one.
    pub fn table(self) -> Option<Table> {
        match self {
            View::Overview => None,
            View::Nodes => Some(Table::Nodes),
            View::Network => Some(Table::Racks),
            View::Runtime => Some(Table::Runtime),
            View::Conntrack => Some(Table::Conntrack),
            View::Utilization => Some(Table::Windows),
            View::Triage => Some(Table::Findings),
        }
    }
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
    /// Narrowest to widest.
    pub const ALL: [Zoom; 4] = [Zoom::H1, Zoom::H6, Zoom::H24, Zoom::D7];
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
