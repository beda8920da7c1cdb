//! Keys → `Msg`, per mode and view. The help screen, the footer and the README's keys table are
//! generated from this one table: a binding says in which modes and views it does something, so
//! the footer of a view offers only keys that work there.

use crossterm::event::{KeyEvent, KeyEventKind};

use crate::app::{Mode, Model, Msg, View};

mod bindings;
pub use bindings::BINDINGS;
use bindings::{TABLES, ch};

/// The modes a binding is active in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
    Browse,
    /// Typing into the `/` filter.
    Filter,
    /// Typing into the `:` command line.
    Command,
    Help,
    Detail,
    /// The list of what changed between two moments (`:diff`, `D`).
    Diff,
}

impl Ctx {
    pub fn of(mode: &Mode) -> Ctx {
        match mode {
            Mode::Browse => Ctx::Browse,
            Mode::Filter => Ctx::Filter,
            Mode::Command => Ctx::Command,
            Mode::Help => Ctx::Help,
            Mode::Detail(_) => Ctx::Detail,
            // A page to read and close, as the changes list.
            Mode::Diff | Mode::Drain(_) => Ctx::Diff,
        }
    }
}

pub struct Binding {
    /// How the keys are written in help, footer and README.
    pub keys: &'static str,
    /// The footer's word for it; empty: not in the footer.
    pub short: &'static str,
    pub help: &'static str,
    pub ctx: &'static [Ctx],
    /// The views it does something in while browsing (the other modes do not depend on the view).
    pub views: &'static [View],
    pub matches: fn(&KeyEvent) -> bool,
    pub msg: fn(&KeyEvent) -> Msg,
}

impl Binding {
    /// Whether the binding does something in this mode and view.
    pub fn applies(&self, ctx: Ctx, view: View) -> bool {
        self.ctx.contains(&ctx) && (ctx != Ctx::Browse || self.views.contains(&view))
    }
}

/// What a command takes, for Tab completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Values {
    None,
    Views,
    Themes,
    SortColumns,
    Zooms,
    /// `drain`, then the snapshot's node names.
    Check,
}

/// A `:` command, for the help screen, the README and Tab completion.
pub struct Command {
    pub name: &'static str,
    pub args: &'static str,
    pub help: &'static str,
    pub values: Values,
}

/// The `:` commands (each view's name is a command too: `:nodes`, `:triage`).
pub const COMMANDS: &[Command] = &[
    Command { name: "q", args: "", help: "quit", values: Values::None },
    Command {
        name: "view",
        args: "NAME",
        help: "show a view: overview, nodes, network, runtime, conntrack, utilization, triage; \
               each view's name is a command too (`:nodes`, `:triage`), and so are `:no` `:net` `:rt` `:ct` `:util` `:tr`",
        values: Values::Views,
    },
    Command {
        name: "sort",
        args: "COLUMN",
        help: "sort the table on screen by COLUMN (again: reverse); Tab lists the view's columns",
        values: Values::SortColumns,
    },
    Command { name: "filter", args: "TEXT", help: "set the filter (as `/` does)", values: Values::None },
    Command {
        name: "zoom",
        args: "1h|6h|24h|7d",
        help: "the Utilization chart's time span",
        values: Values::Zooms,
    },
    Command {
        name: "theme",
        args: "[NAME|FILE.toml]",
        help: "switch theme: default, light, high-contrast, colorblind, mono, or a theme file; \
               without a name, list them",
        values: Values::Themes,
    },
    Command {
        name: "at",
        args: "TIME",
        help: "move the time cursor: 01:55 (today, in --tz), -20m (before now) or \
               2026-12-07T01:55:00Z; the recording must hold the moment",
        values: Values::None,
    },
    Command { name: "live", args: "", help: "the time cursor back to now (as Esc)", values: Values::None },
    Command {
        name: "diff",
        args: "[TIME]",
        help: "what changed between the cursor (or now) and TIME (default -1h; -DURATION counts back \
               from the cursor), in time order",
        values: Values::None,
    },
    Command {
        name: "check",
        args: "drain NODE",
        help: "what draining or restarting NODE does to its rack's ECMP: next-hops per TOR before and \
               after, its sessions, graceful restart and hold time, the expected cut, and warnings",
        values: Values::Check,
    },
    Command {
        name: "export",
        args: "[FILE]",
        help: "write the view on screen, every row of it, to FILE as plain text (markdown when FILE \
               ends in .md); default clustertop-VIEW-YYYYmmdd-HHMMSS.txt here",
        values: Values::None,
    },
];

/// The mouse, for the help screen and the README (on unless `--no-mouse` or `mouse = false`).
pub const MOUSE: &[(&str, &str)] = &[
    (
        "click",
        "a tab: its view; a row: select it, click it again to open it; a column title: sort by it, again to reverse",
    ),
    ("wheel", "move through the list, scroll help and node detail"),
];

/// The compact codes of the tables, for the help screen and the README.
pub const CODES: &[(&str, &str)] = &[
    ("34r 2k 4g", "pods on a node by runtime: runc, Kata, gVisor (o: other); `-` none, `?` unknown"),
    ("2/2 1/2 0/2", "BGP sessions established / expected (worst address family: `v4 2/2 v6 1/2`)"),
    (
        "ins drop early",
        "nf_conntrack insert failures, drops and early drops per second (muted, fill in parentheses, where only Cilium tracks)",
    ),
    (
        "bpf",
        "Cilium's fullest BPF CT/NAT map (`cilium map` when wide); `-` Cilium not running, `?` not reported",
    ),
    ("ct-fail", "packets Cilium dropped per second: \"CT: Map insertion failed\""),
    ("br-nf", "net.bridge.bridge-nf-call-iptables (▲ on: the trap on a bridge node)"),
    ("c-h", "core-hours (idle: measured capacity left unused in a window; spill: offline work after it)"),
    ("?", "not known, with the reason next to it or in Triage; never a zero"),
];

/// Map a key press to a message, in a mode and view; `None` when the key means nothing there.
pub fn map(mode: &Mode, view: View, key: &KeyEvent) -> Option<Msg> {
    if key.kind != KeyEventKind::Press {
        return None;
    }
    let ctx = Ctx::of(mode);
    if let Some(b) = BINDINGS.iter().find(|b| b.applies(ctx, view) && (b.matches)(key)) {
        return Some((b.msg)(key));
    }
    match (ctx, ch(key)) {
        (Ctx::Filter | Ctx::Command, Some(c)) => Some(Msg::Input(c)),
        _ => None,
    }
}

/// Bindings with a label (the first of a pair), in table order.
pub fn described() -> impl Iterator<Item = &'static Binding> {
    BINDINGS.iter().filter(|b| !b.keys.is_empty())
}

/// The footer's `key word` pairs for the model's mode and view: only keys that do something there.
pub fn footer(model: &Model) -> Vec<(&'static str, &'static str)> {
    let ctx = Ctx::of(&model.mode);
    let esc_does_something = ctx != Ctx::Browse
        || !model.filter.is_empty()
        || model.back.is_some()
        || model.at.is_some()
        || (model.view == View::Utilization && model.window.is_some());
    let time = crate::app::rewind::available(model);
    described()
        .filter(|b| b.applies(ctx, model.view) && !b.short.is_empty())
        .filter(|b| b.keys != "Esc" || esc_does_something)
        .filter(|b| b.keys != "[/]" || time)
        .map(|b| (b.keys, b.short))
        .collect()
}

/// Where a binding applies, in words: "every view", "Nodes, Runtime, Conntrack", "input line".
pub fn where_(b: &Binding) -> String {
    let mut parts: Vec<String> = Vec::new();
    if b.ctx.contains(&Ctx::Browse) {
        parts.push(if b.views.len() == View::ALL.len() {
            "every view".into()
        } else if b.views == TABLES {
            "every table".into()
        } else {
            b.views.iter().map(|v| v.title()).collect::<Vec<_>>().join(", ")
        });
    }
    if b.ctx.contains(&Ctx::Detail) {
        parts.push("node detail".into());
    }
    if b.ctx.contains(&Ctx::Help) && !b.ctx.contains(&Ctx::Browse) {
        parts.push("help".into());
    }
    if b.ctx.contains(&Ctx::Diff) {
        parts.push("changes list, drain check".into());
    }
    match (b.ctx.contains(&Ctx::Filter), b.ctx.contains(&Ctx::Command)) {
        (true, true) if b.ctx.contains(&Ctx::Browse) => parts = vec!["anywhere".into()],
        (true, true) => parts.push("input line".into()),
        (false, true) => parts.push("command line".into()),
        (true, false) => parts.push("filter line".into()),
        (false, false) => {}
    }
    parts.join("; ")
}

/// The README's keys section (between its markers), from the tables above.
pub fn markdown() -> String {
    let esc = |s: &str| s.replace('|', "\\|");
    let code = |s: &str| {
        s.split('/')
            .map(|k| if k.is_empty() { "`/`".to_string() } else { format!("`{}`", esc(k)) })
            .collect::<Vec<_>>()
            .join(" / ")
    };
    let mut out = String::from("| key | does | where |\n|---|---|---|\n");
    for b in described() {
        let keys = if b.keys == "/" { "`/`".to_string() } else { code(b.keys) };
        out.push_str(&format!("| {keys} | {} | {} |\n", esc(b.help), where_(b)));
    }
    out.push_str("\n| command | does |\n|---|---|\n");
    for c in COMMANDS {
        let usage =
            if c.args.is_empty() { format!(":{}", c.name) } else { format!(":{} {}", c.name, c.args) };
        out.push_str(&format!("| `{}` | {} |\n", esc(&usage), esc(c.help)));
    }
    out.push_str("\n| mouse | does |\n|---|---|\n");
    for (k, h) in MOUSE {
        out.push_str(&format!("| {k} | {} |\n", esc(h)));
    }
    out.push_str("\n| code | means |\n|---|---|\n");
    for (k, h) in CODES {
        out.push_str(&format!("| `{k}` | {} |\n", esc(h)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::bindings::FILTERED;
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn browse_keys() {
        let m = Mode::Browse;
        let v = View::Nodes;
        assert!(matches!(map(&m, v, &key(KeyCode::Char('q'))), Some(Msg::Quit)));
        assert!(matches!(map(&m, v, &key(KeyCode::Char('3'))), Some(Msg::ShowView(View::Network))));
        assert!(matches!(map(&m, v, &key(KeyCode::Char('j'))), Some(Msg::Down)));
        assert!(matches!(map(&m, v, &key(KeyCode::Up)), Some(Msg::Up)));
        assert!(matches!(
            map(&m, v, &KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Msg::Quit)
        ));
        assert!(map(&m, v, &key(KeyCode::Char('x'))).is_none());
    }

    #[test]
    fn keys_do_nothing_where_they_have_nothing_to_do() {
        let m = Mode::Browse;
        assert!(map(&m, View::Overview, &key(KeyCode::Char('j'))).is_none(), "no table in the Overview");
        assert!(map(&m, View::Overview, &key(KeyCode::Enter)).is_none());
        assert!(map(&m, View::Nodes, &key(KeyCode::Char('z'))).is_none(), "zoom is Utilization's");
        assert!(matches!(map(&m, View::Utilization, &key(KeyCode::Char('z'))), Some(Msg::NextZoom)));
        assert!(matches!(map(&m, View::Network, &key(KeyCode::Enter)), Some(Msg::Open)));
        assert!(matches!(map(&m, View::Conntrack, &key(KeyCode::Char('s'))), Some(Msg::NextSort)));
    }

    #[test]
    fn typing_goes_to_the_input_line() {
        let m = Mode::Filter;
        let v = View::Nodes;
        assert!(matches!(map(&m, v, &key(KeyCode::Char('q'))), Some(Msg::Input('q'))));
        assert!(matches!(map(&m, v, &key(KeyCode::Char('3'))), Some(Msg::Input('3'))));
        assert!(matches!(map(&m, v, &key(KeyCode::Enter)), Some(Msg::Submit)));
        assert!(matches!(map(&m, v, &key(KeyCode::Esc)), Some(Msg::Back)));
        assert!(matches!(map(&m, v, &key(KeyCode::Left)), Some(Msg::CursorLeft)));
        assert!(matches!(map(&m, v, &key(KeyCode::Up)), Some(Msg::HistoryPrev)));
        assert!(matches!(
            map(&m, v, &KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL)),
            Some(Msg::KillWord)
        ));
        assert!(map(&m, v, &key(KeyCode::Tab)).is_none(), "no completion of filters");
        assert!(matches!(map(&Mode::Command, v, &key(KeyCode::Tab)), Some(Msg::Complete)));
        assert!(matches!(
            map(&m, v, &KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Msg::Quit)
        ));
        assert!(matches!(map(&Mode::Help, v, &key(KeyCode::Char('q'))), Some(Msg::Back)));
    }

    /// Every key the footer offers does something in that view, and every view's footer offers
    /// the keys that matter there.
    #[test]
    fn the_footer_offers_only_keys_that_work_in_the_view() {
        let mut m = Model::default();
        for v in View::ALL {
            m.view = v;
            let f = footer(&m);
            let has = |k: &str| f.iter().any(|(key, _)| *key == k);
            assert_eq!(has("j/k"), v != View::Overview, "{v:?}: {f:?}");
            assert_eq!(has("Enter"), v != View::Overview, "{v:?}: {f:?}");
            assert_eq!(has("z/Z"), v == View::Utilization, "{v:?}");
            assert_eq!(has("/"), FILTERED.contains(&v), "{v:?}");
            assert!(!has("Esc"), "{v:?}: Esc does nothing without a filter");
            for (k, _) in &f {
                let b = described().find(|b| b.keys == *k && b.applies(Ctx::Browse, v));
                assert!(b.is_some(), "{v:?}: {k} offered but not bound");
            }
        }
        m.view = View::Network;
        assert!(footer(&m).contains(&("Enter", "nodes")));
        m.filter = "r3".into();
        assert!(footer(&m).iter().any(|(k, _)| *k == "Esc"));
        m.mode = Mode::Command;
        assert!(footer(&m).contains(&("Enter", "apply")) && footer(&m).contains(&("Tab", "complete")));
        m.mode = Mode::Detail("n".into());
        assert!(footer(&m).contains(&("y", "copy")) && footer(&m).contains(&("j/k", "move")));
    }

    /// The README's keys section is this table, rendered (`UPDATE_README=1 cargo test --lib
    /// keymap` rewrites it).
    #[test]
    fn the_readme_keys_section_is_generated_from_the_keymap() {
        const BEGIN: &str =
            "<!-- keys: generated from src/keymap.rs; UPDATE_README=1 cargo test --lib keymap -->\n";
        const END: &str = "<!-- keys: end -->";
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let readme = std::fs::read_to_string(path).expect("README.md");
        let (a, rest) = readme.split_once(BEGIN).expect("the README has the keys markers");
        let (old, b) = rest.split_once(END).expect("the README has the end marker");
        let new = markdown();
        if std::env::var_os("UPDATE_README").is_some() {
            std::fs::write(path, format!("{a}{BEGIN}{new}{END}{b}")).expect("README.md written");
            return;
        }
        assert!(old == new, "README keys section is stale: run UPDATE_README=1 cargo test --lib keymap");
    }
}
