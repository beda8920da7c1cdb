//! The `:` command line: running a command, and the Tab completion of commands and their values.

use super::input::{Completion, common_prefix};
use super::{Effect, Model, Msg, View, Zoom, update};
use crate::keymap::{COMMANDS, Values};

/// Run one command line (without its `:`).
pub(super) fn run(model: &mut Model, line: &str) -> Vec<Effect> {
    let mut words = line.split_whitespace();
    let cmd = words.next().unwrap_or("").to_ascii_lowercase();
    let arg = words.collect::<Vec<_>>().join(" ");
    let say = |model: &mut Model, m: String| model.message = Some(m);
    match (cmd.as_str(), arg.as_str()) {
        ("", _) => {}
        ("q" | "q!" | "quit" | "qa", _) => return update(model, Msg::Quit),
        ("theme", "") => say(model, format!("themes: {}", crate::theme::names().join(", "))),
        ("theme", name) => return vec![Effect::LoadTheme(name.to_string())],
        ("view", v) => match View::parse(v) {
            Some(v) => return update(model, Msg::ShowView(v)),
            None => say(model, format!("unknown view {v:?}: {}", view_names().join(", "))),
        },
        ("sort", col) => sort(model, col),
        ("zoom", z) => match Zoom::ALL.into_iter().find(|x| x.label() == z) {
            Some(z) => {
                model.zoom = z;
                model.view = View::Utilization;
            }
            None => say(model, format!("unknown zoom {z:?}: 1h, 6h, 24h, 7d")),
        },
        ("filter", f) => {
            model.filter = f.to_string();
            model.back = None;
        }
        ("export", file) => return export(model, file),
        ("at", moment) => return super::rewind::at(model, moment),
        ("live" | "now", _) => return update(model, Msg::Live),
        ("diff", moment) => return super::rewind::diff(model, moment),
        ("check", what) => check(model, what),
        ("ctx" | "context", _) => {
            say(model, "this session shows one cluster; restart with --context to switch".into())
        }
        (other, "") if View::parse(other).is_some() => {
            return update(model, Msg::ShowView(View::parse(other).unwrap_or_default()));
        }
        (other, _) => say(model, format!("unknown command :{other} (Tab completes, ? for help)")),
    }
    Vec::new()
}

/// `:check drain NODE`: the pre-drain check as an overlay; a message when there is no such node.
fn check(model: &mut Model, what: &str) {
    let mut words = what.split_whitespace();
    let (Some("drain"), Some(node), None) = (words.next(), words.next(), words.next()) else {
        model.message = Some("usage: :check drain NODE".into());
        return;
    };
    let Some(snap) = &model.snap else {
        model.message = Some("no data yet to check against".into());
        return;
    };
    match crate::analysis::failover::drain(snap, node) {
        Ok(_) => {
            model.mode = super::Mode::Drain(node.to_string());
            model.scroll = 0;
        }
        Err(e) => model.message = Some(e),
    }
}

pub fn view_names() -> Vec<&'static str> {
    View::ALL.iter().map(|v| v.name()).collect()
}

/// `:sort COLUMN` sorts the table of the view on screen; a second time reverses it.
fn sort(model: &mut Model, col: &str) {
    let view = model.view;
    let Some(table) = view.table() else {
        model.message = Some(format!("{} has no table to sort", view.title()));
        return;
    };
    let s = model.sorts.get_mut(table);
    model.message = Some(if col.is_empty() {
        format!("{}; columns: {}", s.describe(), s.names().join(", "))
    } else if s.press_name(col) {
        s.describe()
    } else {
        format!("{} has no column {col:?} to sort by: {}", view.title(), s.names().join(", "))
    });
}

/// `:export [FILE]`: the current view as text (markdown for `.md`); by default
/// `clustertop-VIEW-YYYYmmdd-HHMMSS.txt` in the current directory, at the snapshot's time.
fn export(model: &mut Model, file: &str) -> Vec<Effect> {
    let Some(snap) = &model.snap else {
        model.message = Some("nothing to export before the first data".into());
        return Vec::new();
    };
    let path = if file.is_empty() {
        let at = snap.now.with_timezone(&snap.tz).format("%Y%m%d-%H%M%S");
        format!("clustertop-{}-{at}.txt", model.view.name())
    } else {
        file.to_string()
    };
    let markdown = path.to_ascii_lowercase().ends_with(".md");
    vec![Effect::Export { path: path.into(), markdown }]
}

/// The words Tab can put at the cursor: command names first, then each command's values.
fn candidates(model: &Model, before: &str) -> (usize, Vec<String>) {
    let start = before.rfind(' ').map_or(0, |i| before[..=i].chars().count());
    let word = before.rsplit(' ').next().unwrap_or("").to_ascii_lowercase();
    let words: Vec<&str> = before.split_whitespace().collect();
    let done = if before.ends_with(' ') { words.len() } else { words.len().saturating_sub(1) };
    let all: Vec<String> = match done {
        0 => {
            let mut v: Vec<String> = COMMANDS.iter().map(|c| c.name.to_string()).collect();
            v.extend(view_names().iter().map(|s| s.to_string()));
            v
        }
        1 => {
            let cmd = words[0].to_ascii_lowercase();
            match COMMANDS.iter().find(|c| c.name == cmd).map(|c| c.values) {
                Some(Values::Views) => view_names().iter().map(|s| s.to_string()).collect(),
                Some(Values::Themes) => crate::theme::names().iter().map(|s| s.to_string()).collect(),
                Some(Values::SortColumns) => match model.view.table() {
                    Some(t) => model.sorts.get(t).names().iter().map(|s| s.to_string()).collect(),
                    None => Vec::new(),
                },
                Some(Values::Zooms) => Zoom::ALL.iter().map(|z| z.label().to_string()).collect(),
                Some(Values::Check) => vec!["drain".to_string()],
                Some(Values::None) | None => Vec::new(),
            }
        }
        // `:check drain NODE`: the snapshot's nodes.
        2 if words[0].eq_ignore_ascii_case("check") && words[1].eq_ignore_ascii_case("drain") => {
            model.snap.iter().flat_map(|s| s.nodes.iter().map(|n| n.name.clone())).collect()
        }
        _ => Vec::new(),
    };
    let mut found: Vec<String> = all.into_iter().filter(|c| c.starts_with(&word)).collect();
    found.dedup();
    (start, found)
}

/// Tab: complete the word before the cursor; when several fit, their common prefix, then each in
/// turn on the next presses. The candidates are listed next to the line.
pub(super) fn complete(model: &mut Model) {
    // Candidates listed already: each press puts the next in the line.
    if let Some(c) = &mut model.completion {
        let next = c.shown.map_or(0, |i| (i + 1) % c.candidates.len().max(1));
        c.shown = Some(next);
        let (start, word) = (c.start, c.candidates[next].clone());
        model.input.replace_before_cursor(start, &word);
        return;
    }
    let (start, found) = candidates(model, model.input.before_cursor());
    match found.len() {
        0 => {
            model.completion = None;
            model.hint = Some("no completion".into());
        }
        1 => {
            let takes_arg = start == 0 && COMMANDS.iter().any(|c| c.name == found[0] && !c.args.is_empty());
            let word = if takes_arg { format!("{} ", found[0]) } else { found[0].clone() };
            model.input.replace_before_cursor(start, &word);
            model.completion = None;
            model.hint = None;
        }
        _ => {
            // As far as they agree; the list beside the line; the next press picks the first.
            let prefix = common_prefix(&found);
            model.input.replace_before_cursor(start, &prefix);
            model.hint = Some(found.join(" "));
            model.completion = Some(Completion { candidates: found, shown: None, start });
        }
    }
}
