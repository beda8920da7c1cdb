//! Keys → `Msg`, per mode. The help screen and the footer are generated from this one table.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::app::{Mode, Msg, View};

/// The modes a binding is active in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
    Browse,
    /// Typing into the filter or the command line.
    Edit,
    Help,
    Detail,
}

impl Ctx {
    pub fn of(mode: &Mode) -> Ctx {
        match mode {
            Mode::Browse => Ctx::Browse,
            Mode::Filter | Mode::Command => Ctx::Edit,
            Mode::Help => Ctx::Help,
            Mode::Detail(_) => Ctx::Detail,
        }
    }
}

pub struct Binding {
    /// How the keys are written in help and footer.
    pub keys: &'static str,
    pub help: &'static str,
    pub ctx: &'static [Ctx],
    /// Shown in the footer of these contexts.
    pub footer: bool,
    pub matches: fn(&KeyEvent) -> bool,
    pub msg: fn(&KeyEvent) -> Msg,
}

const ALL: &[Ctx] = &[Ctx::Browse, Ctx::Edit, Ctx::Help, Ctx::Detail];
const NAV: &[Ctx] = &[Ctx::Browse, Ctx::Help, Ctx::Detail];
const BROWSE: &[Ctx] = &[Ctx::Browse];
const EDIT: &[Ctx] = &[Ctx::Edit];

fn ch(k: &KeyEvent) -> Option<char> {
    match k.code {
        KeyCode::Char(c) if !k.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => Some(c),
        _ => None,
    }
}
fn ctrl(k: &KeyEvent, c: char) -> bool {
    k.code == KeyCode::Char(c) && k.modifiers.contains(KeyModifiers::CONTROL)
}

/// The table. Order is the order of the help screen.
pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: "q",
        help: "quit",
        ctx: &[Ctx::Browse, Ctx::Detail],
        footer: true,
        matches: |k| ch(k) == Some('q'),
        msg: |_| Msg::Quit,
    },
    Binding {
        keys: "Ctrl-C",
        help: "quit from anywhere",
        ctx: ALL,
        footer: false,
        matches: |k| ctrl(k, 'c'),
        msg: |_| Msg::Quit,
    },
    Binding {
        keys: "?",
        help: "toggle this help",
        ctx: NAV,
        footer: true,
        matches: |k| ch(k) == Some('?'),
        msg: |_| Msg::ToggleHelp,
    },
    Binding {
        keys: "1-7",
        help: "views: Overview Nodes Network Runtime Conntrack Utilization Triage",
        ctx: NAV,
        footer: false,
        matches: |k| matches!(ch(k), Some('1'..='7')),
        msg: |k| match ch(k).and_then(|c| c.to_digit(10)) {
            Some(d @ 1..=7) => Msg::ShowView(View::ALL[d as usize - 1]),
            _ => Msg::Notice(String::new()),
        },
    },
    Binding {
        keys: "Tab/S-Tab",
        help: "next / previous view",
        ctx: BROWSE,
        footer: false,
        matches: |k| k.code == KeyCode::Tab,
        msg: |_| Msg::NextView,
    },
    Binding {
        keys: "",
        help: "",
        ctx: BROWSE,
        footer: false,
        matches: |k| k.code == KeyCode::BackTab,
        msg: |_| Msg::PrevView,
    },
    Binding {
        keys: "j/k Down/Up",
        help: "move down / up",
        ctx: NAV,
        footer: true,
        matches: |k| ch(k) == Some('j') || k.code == KeyCode::Down,
        msg: |_| Msg::Down,
    },
    Binding {
        keys: "",
        help: "",
        ctx: NAV,
        footer: false,
        matches: |k| ch(k) == Some('k') || k.code == KeyCode::Up,
        msg: |_| Msg::Up,
    },
    Binding {
        keys: "PgDn/PgUp",
        help: "page down / up (also Ctrl-F / Ctrl-B)",
        ctx: NAV,
        footer: false,
        matches: |k| k.code == KeyCode::PageDown || ctrl(k, 'f'),
        msg: |_| Msg::PageDown,
    },
    Binding {
        keys: "",
        help: "",
        ctx: NAV,
        footer: false,
        matches: |k| k.code == KeyCode::PageUp || ctrl(k, 'b'),
        msg: |_| Msg::PageUp,
    },
    Binding {
        keys: "g/G",
        help: "first / last row (also Home / End)",
        ctx: NAV,
        footer: false,
        matches: |k| ch(k) == Some('g') || k.code == KeyCode::Home,
        msg: |_| Msg::Top,
    },
    Binding {
        keys: "",
        help: "",
        ctx: NAV,
        footer: false,
        matches: |k| ch(k) == Some('G') || k.code == KeyCode::End,
        msg: |_| Msg::Bottom,
    },
    Binding {
        keys: "Enter",
        help: "node detail of the selected row or finding",
        ctx: BROWSE,
        footer: true,
        matches: |k| k.code == KeyCode::Enter,
        msg: |_| Msg::Open,
    },
    Binding {
        keys: "/",
        help: "filter nodes, racks and findings (words must all match)",
        ctx: BROWSE,
        footer: true,
        matches: |k| ch(k) == Some('/'),
        msg: |_| Msg::StartFilter,
    },
    Binding {
        keys: ":",
        help: "command line (see commands below)",
        ctx: BROWSE,
        footer: true,
        matches: |k| ch(k) == Some(':'),
        msg: |_| Msg::StartCommand,
    },
    Binding {
        keys: "s/r",
        help: "Nodes: sort by next column / reverse the order",
        ctx: BROWSE,
        footer: false,
        matches: |k| ch(k) == Some('s'),
        msg: |_| Msg::NextSort,
    },
    Binding {
        keys: "",
        help: "",
        ctx: BROWSE,
        footer: false,
        matches: |k| ch(k) == Some('r'),
        msg: |_| Msg::ReverseSort,
    },
    Binding {
        keys: "z/Z",
        help: "Utilization: zoom out / in (1h 6h 24h 7d)",
        ctx: BROWSE,
        footer: false,
        matches: |k| ch(k) == Some('z'),
        msg: |_| Msg::NextZoom,
    },
    Binding {
        keys: "",
        help: "",
        ctx: BROWSE,
        footer: false,
        matches: |k| ch(k) == Some('Z'),
        msg: |_| Msg::PrevZoom,
    },
    Binding {
        keys: "Esc",
        help: "back: close overlay, cancel input, clear filter",
        ctx: ALL,
        footer: true,
        matches: |k| k.code == KeyCode::Esc,
        msg: |_| Msg::Back,
    },
    Binding {
        keys: "Enter",
        help: "apply the filter / run the command",
        ctx: EDIT,
        footer: true,
        matches: |k| k.code == KeyCode::Enter,
        msg: |_| Msg::Submit,
    },
    Binding {
        keys: "Backspace",
        help: "delete a character",
        ctx: EDIT,
        footer: false,
        matches: |k| k.code == KeyCode::Backspace,
        msg: |_| Msg::Backspace,
    },
];

/// Commands for the `:` line, for the help screen.
pub const COMMANDS: &[(&str, &str)] = &[
    (":q", "quit"),
    (":view NAME", "show a view (overview, nodes, network, runtime, conntrack, utilization, triage)"),
    (":theme NAME|FILE.toml", "switch theme (default, light, high-contrast, colorblind, mono, or a file)"),
    (":sort COLUMN", "sort Nodes by name, rack, mode, bgp, runtime, conntrack, cpu, pods, age"),
    (":zoom 1h|6h|24h|7d", "Utilization time span"),
    (":filter TEXT", "set the filter"),
];

/// Map a key press in a mode to a message; `None` when the key means nothing there.
pub fn map(mode: &Mode, key: &KeyEvent) -> Option<Msg> {
    if key.kind != KeyEventKind::Press {
        return None;
    }
    let ctx = Ctx::of(mode);
    if let Some(b) = BINDINGS.iter().find(|b| b.ctx.contains(&ctx) && (b.matches)(key)) {
        return Some((b.msg)(key));
    }
    match (ctx, ch(key)) {
        (Ctx::Edit, Some(c)) => Some(Msg::Input(c)),
        (Ctx::Help, Some('q')) => Some(Msg::Back),
        _ => None,
    }
}

/// Bindings to describe (help screen) for a context: those with a label.
pub fn described(ctx: Ctx) -> impl Iterator<Item = &'static Binding> {
    BINDINGS.iter().filter(move |b| !b.keys.is_empty() && b.ctx.contains(&ctx))
}

/// The footer's `key help` pairs for a mode.
pub fn footer(mode: &Mode) -> Vec<(&'static str, &'static str)> {
    let ctx = Ctx::of(mode);
    described(ctx).filter(|b| b.footer).map(|b| (b.keys, short(b.help))).collect()
}

fn short(help: &str) -> &str {
    help.split([' ', ':', '(']).next().unwrap_or(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn browse_keys() {
        let m = Mode::Browse;
        assert!(matches!(map(&m, &key(KeyCode::Char('q'))), Some(Msg::Quit)));
        assert!(matches!(map(&m, &key(KeyCode::Char('3'))), Some(Msg::ShowView(View::Network))));
        assert!(matches!(map(&m, &key(KeyCode::Char('j'))), Some(Msg::Down)));
        assert!(matches!(map(&m, &key(KeyCode::Up)), Some(Msg::Up)));
        assert!(matches!(
            map(&m, &KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Msg::Quit)
        ));
        assert!(map(&m, &key(KeyCode::Char('x'))).is_none());
    }

    #[test]
    fn typing_goes_to_the_input_line() {
        let m = Mode::Filter;
        assert!(matches!(map(&m, &key(KeyCode::Char('q'))), Some(Msg::Input('q'))));
        assert!(matches!(map(&m, &key(KeyCode::Char('3'))), Some(Msg::Input('3'))));
        assert!(matches!(map(&m, &key(KeyCode::Enter)), Some(Msg::Submit)));
        assert!(matches!(map(&m, &key(KeyCode::Esc)), Some(Msg::Back)));
        assert!(matches!(
            map(&m, &KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Msg::Quit)
        ));
    }

    #[test]
    fn help_and_footer_come_from_the_table() {
        assert!(footer(&Mode::Browse).iter().any(|(k, _)| *k == "?"));
        assert!(footer(&Mode::Command).iter().any(|(k, h)| *k == "Enter" && *h == "apply"));
        assert!(described(Ctx::Browse).count() >= 10);
    }
}
