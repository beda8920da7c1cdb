//! Semantic themes (embedded `themes/*.toml` or a user file) and glyph sets (`--ascii`).
//!
//! Views pick a slot by meaning (`ok`, `warn`, `crit`, …), never a raw colour, and always pair a
//! status colour with a glyph or word from `Symbols`, so status survives `mono` and colour blindness.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;
use serde::Deserialize;

/// Built-in themes, embedded at build time.
pub const BUILTIN: [(&str, &str); 5] = [
    ("default", include_str!("../themes/default.toml")),
    ("light", include_str!("../themes/light.toml")),
    ("high-contrast", include_str!("../themes/high-contrast.toml")),
    ("colorblind", include_str!("../themes/colorblind.toml")),
    ("mono", include_str!("../themes/mono.toml")),
];

/// Glyphs, in a Unicode and an ASCII flavour.
#[derive(Debug, Clone, PartialEq)]
pub struct Symbols {
    pub ascii: bool,
    pub ok: &'static str,
    pub warn: &'static str,
    pub crit: &'static str,
    pub info: &'static str,
    pub unknown: &'static str,
    pub border: border::Set<'static>,
    /// Eighth-blocks for vertical bars, empty to full (9 entries).
    pub bar_v: [&'static str; 9],
    /// Horizontal gauge fill and empty.
    pub gauge_full: &'static str,
    pub gauge_empty: &'static str,
    /// Chart fills for online and offline series, and the window marker.
    pub chart_online: &'static str,
    pub chart_offline: &'static str,
    pub window_mark: &'static str,
    /// The reclaimed-capacity ceiling drawn over the chart (online plus the batch tier's
    /// allocatable: how high offline work could have filled).
    pub chart_reclaimed: &'static str,
    pub arrow_up: &'static str,
    pub arrow_down: &'static str,
    pub ellipsis: &'static str,
    pub selected: &'static str,
}

impl Symbols {
    pub fn unicode() -> Self {
        Symbols {
            ascii: false,
            ok: "●",
            warn: "▲",
            crit: "✖",
            info: "ℹ",
            unknown: "?",
            border: border::ROUNDED,
            bar_v: [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"],
            gauge_full: "█",
            gauge_empty: "░",
            chart_online: "█",
            chart_offline: "▓",
            window_mark: "▀",
            chart_reclaimed: "╌",
            arrow_up: "▲",
            arrow_down: "▼",
            ellipsis: "…",
            selected: "▶",
        }
    }
    pub fn ascii() -> Self {
        Symbols {
            ascii: true,
            ok: "+",
            warn: "!",
            crit: "X",
            info: "i",
            unknown: "?",
            border: border::Set {
                top_left: "+",
                top_right: "+",
                bottom_left: "+",
                bottom_right: "+",
                vertical_left: "|",
                vertical_right: "|",
                horizontal_top: "-",
                horizontal_bottom: "-",
            },
            bar_v: [" ", ".", ".", ":", ":", "|", "|", "#", "#"],
            gauge_full: "#",
            gauge_empty: ".",
            chart_online: "#",
            chart_offline: "+",
            window_mark: "=",
            chart_reclaimed: "-",
            arrow_up: "^",
            arrow_down: "v",
            ellipsis: "~",
            selected: ">",
        }
    }
}

/// A resolved theme: one `Style` per semantic slot.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub base: Style,
    pub muted: Style,
    pub accent: Style,
    pub title: Style,
    pub border: Style,
    pub header: Style,
    pub selected: Style,
    pub tab: Style,
    pub tab_active: Style,
    pub status_bar: Style,
    pub key: Style,
    pub ok: Style,
    pub warn: Style,
    pub crit: Style,
    pub info: Style,
    pub unknown: Style,
    pub chart_online: Style,
    pub chart_offline: Style,
    pub chart_window: Style,
    pub chart_axis: Style,
    pub sym: Symbols,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: String,
    slots: BTreeMap<String, SlotFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlotFile {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    modifiers: Vec<String>,
}

const SLOTS: [&str; 20] = [
    "base",
    "muted",
    "accent",
    "title",
    "border",
    "header",
    "selected",
    "tab",
    "tab_active",
    "status_bar",
    "key",
    "ok",
    "warn",
    "crit",
    "info",
    "unknown",
    "chart_online",
    "chart_offline",
    "chart_window",
    "chart_axis",
];

fn color(s: &str, slot: &str) -> Result<Color> {
    s.parse::<Color>()
        .map_err(|_| anyhow::anyhow!("slot {slot}: {s:?} is not a colour (use a name, #rrggbb or 0-255)"))
}

fn style(slot: &str, f: &SlotFile) -> Result<Style> {
    let mut st = Style::default();
    if let Some(c) = &f.fg {
        st = st.fg(color(c, slot)?);
    }
    if let Some(c) = &f.bg {
        st = st.bg(color(c, slot)?);
    }
    for m in &f.modifiers {
        st = st.add_modifier(match m.as_str() {
            "bold" => Modifier::BOLD,
            "dim" => Modifier::DIM,
            "italic" => Modifier::ITALIC,
            "underlined" => Modifier::UNDERLINED,
            "reversed" => Modifier::REVERSED,
            other => {
                bail!("slot {slot}: unknown modifier {other:?} (bold, dim, italic, underlined, reversed)")
            }
        });
    }
    Ok(st)
}

impl Theme {
    /// Parse a theme file. Every slot must be present, so a theme never silently lacks one.
    pub fn from_toml(text: &str, ascii: bool) -> Result<Theme> {
        let f: ThemeFile = toml::from_str(text).context("theme is not valid TOML of the expected shape")?;
        for k in f.slots.keys() {
            if !SLOTS.contains(&k.as_str()) {
                bail!("unknown slot {k:?}; slots are: {}", SLOTS.join(", "));
            }
        }
        let get = |k: &str| -> Result<Style> {
            let s = f.slots.get(k).with_context(|| format!("missing slot {k:?}"))?;
            style(k, s)
        };
        Ok(Theme {
            name: f.name.clone(),
            base: get("base")?,
            muted: get("muted")?,
            accent: get("accent")?,
            title: get("title")?,
            border: get("border")?,
            header: get("header")?,
            selected: get("selected")?,
            tab: get("tab")?,
            tab_active: get("tab_active")?,
            status_bar: get("status_bar")?,
            key: get("key")?,
            ok: get("ok")?,
            warn: get("warn")?,
            crit: get("crit")?,
            info: get("info")?,
            unknown: get("unknown")?,
            chart_online: get("chart_online")?,
            chart_offline: get("chart_offline")?,
            chart_window: get("chart_window")?,
            chart_axis: get("chart_axis")?,
            sym: if ascii { Symbols::ascii() } else { Symbols::unicode() },
        })
    }

    /// A built-in theme by name.
    pub fn builtin(name: &str, ascii: bool) -> Option<Theme> {
        BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| Theme::from_toml(text, ascii).expect("built-in themes are valid"))
    }

    /// A built-in name, or a path to a `.toml` file; errors say what is wrong.
    pub fn load(name_or_path: &str, ascii: bool) -> Result<Theme> {
        if let Some(t) = Theme::builtin(name_or_path, ascii) {
            return Ok(t);
        }
        if name_or_path.ends_with(".toml") {
            let text = std::fs::read_to_string(name_or_path)
                .with_context(|| format!("cannot read theme file {name_or_path}"))?;
            return Theme::from_toml(&text, ascii).with_context(|| format!("theme file {name_or_path}"));
        }
        bail!(
            "unknown theme {name_or_path:?}; built-in themes: {}, or a path to a .toml file",
            names().join(", ")
        )
    }

    pub fn mono(ascii: bool) -> Theme {
        Theme::builtin("mono", ascii).expect("mono is built in")
    }
    /// True when the theme uses no colour at all.
    pub fn is_colorless(&self) -> bool {
        self.all_styles().iter().all(|s| s.fg.is_none() && s.bg.is_none())
    }
    fn all_styles(&self) -> [Style; 20] {
        [
            self.base,
            self.muted,
            self.accent,
            self.title,
            self.border,
            self.header,
            self.selected,
            self.tab,
            self.tab_active,
            self.status_bar,
            self.key,
            self.ok,
            self.warn,
            self.crit,
            self.info,
            self.unknown,
            self.chart_online,
            self.chart_offline,
            self.chart_window,
            self.chart_axis,
        ]
    }
}

pub fn names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses_and_mono_has_no_colour() {
        for n in names() {
            let t = Theme::builtin(n, false).unwrap();
            assert_eq!(t.name, n);
        }
        assert!(Theme::mono(false).is_colorless());
        assert!(!Theme::builtin("default", false).unwrap().is_colorless());
    }

    #[test]
    fn bad_themes_get_clear_errors() {
        let e = Theme::from_toml("name='x'\n[slots]\nbase={fg='nope'}", false).unwrap_err();
        assert!(format!("{e:#}").contains("not a colour"), "{e:#}");
        let e = Theme::from_toml("name='x'\n[slots]\nbogus={}", false).unwrap_err();
        assert!(format!("{e:#}").contains("unknown slot"), "{e:#}");
        let e = Theme::from_toml("name='x'\n[slots]\nbase={}", false).unwrap_err();
        assert!(format!("{e:#}").contains("missing slot"), "{e:#}");
        let e = Theme::load("nosuch", false).unwrap_err();
        assert!(format!("{e:#}").contains("built-in themes"), "{e:#}");
        let e = Theme::load("/nonexistent/x.toml", false).unwrap_err();
        assert!(format!("{e:#}").contains("cannot read"), "{e:#}");
    }

    #[test]
    fn ascii_symbols_are_ascii() {
        let s = Symbols::ascii();
        let all = [
            s.ok,
            s.warn,
            s.crit,
            s.info,
            s.unknown,
            s.gauge_full,
            s.gauge_empty,
            s.chart_online,
            s.chart_offline,
            s.window_mark,
            s.chart_reclaimed,
            s.arrow_up,
            s.arrow_down,
            s.ellipsis,
            s.selected,
        ];
        assert!(all.iter().chain(s.bar_v.iter()).all(|g| g.is_ascii()));
    }
}
