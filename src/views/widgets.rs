//! Small pieces shared by the views: blocks, status glyphs, number and age formatting.

pub mod stacked_chart;

use chrono::{DateTime, Utc};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders};
use unicode_width::UnicodeWidthStr;

use crate::format::{Age, Precision, duration};

use crate::model::{BgpVerdict, Severity};
use crate::theme::Theme;

/// A bordered block with a title, in the theme's border and title styles and glyph set.
pub fn block<'a>(theme: &Theme, title: &'a str) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_set(theme.sym.border)
        .border_style(theme.border)
        .title(Span::styled(format!(" {title} "), theme.title))
}

/// How long ago `t` was: "42s", "7m", "3h", "2d"; "-" when unknown; "now" for future times.
pub fn age(now: DateTime<Utc>, t: Option<DateTime<Utc>>) -> Age {
    Age::since(now, t)
}

/// A duration in seconds, exact: `300s` is `5m`, `5400s` is `1h 30m`.
pub fn secs(s: u64) -> String {
    duration(s, Precision::Exact)
}

/// Style and glyph for a severity; the glyph carries the meaning without colour.
pub fn severity(theme: &Theme, sev: Severity) -> (Style, &'static str) {
    match sev {
        Severity::Critical => (theme.crit, theme.sym.crit),
        Severity::Warning => (theme.warn, theme.sym.warn),
        Severity::Info => (theme.info, theme.sym.info),
    }
}

/// `● CRIT`, `▲ WARN`, `ℹ INFO`.
pub fn severity_span(theme: &Theme, sev: Severity) -> Span<'static> {
    let (st, g) = severity(theme, sev);
    Span::styled(format!("{g} {}", sev.label()), st)
}

/// Style and glyph for a BGP verdict.
pub fn verdict(theme: &Theme, v: BgpVerdict) -> (Style, &'static str) {
    match v {
        BgpVerdict::Healthy => (theme.ok, theme.sym.ok),
        BgpVerdict::Degraded => (theme.warn, theme.sym.warn),
        BgpVerdict::Isolated => (theme.crit, theme.sym.crit),
        BgpVerdict::Unknown => (theme.unknown, theme.sym.unknown),
        BgpVerdict::NotApplicable => (theme.muted, " "),
    }
}

/// `● 2/2`, `▲ 1/2`, `✖ 0/2`, `▲ v4 2/2 v6 1/2`, `? ?/2`, `-`.
pub fn verdict_span(theme: &Theme, node: &crate::model::Node) -> Span<'static> {
    let (st, g) = verdict(theme, node.bgp_verdict);
    if node.bgp_verdict == BgpVerdict::NotApplicable {
        Span::styled("-", st)
    } else {
        Span::styled(format!("{g} {}", node.bgp_label()), st)
    }
}

/// Style for a 0..1 fill against warn/crit thresholds.
pub fn level(theme: &Theme, f: f64, warn: f64, crit: f64) -> Style {
    if f >= crit {
        theme.crit
    } else if f >= warn {
        theme.warn
    } else {
        theme.ok
    }
}

/// Style and glyph for a source's health, matching the severity of the finding it produces
/// (stale and forbidden warn, unreachable is critical).
pub fn source_health(theme: &Theme, h: &crate::model::SourceHealth) -> (Style, &'static str) {
    use crate::model::SourceHealth;
    match h {
        SourceHealth::Ok => (theme.ok, theme.sym.ok),
        SourceHealth::Stale { .. } | SourceHealth::Forbidden { .. } | SourceHealth::NoData { .. } => {
            (theme.warn, theme.sym.warn)
        }
        SourceHealth::Unreachable { .. } => (theme.crit, theme.sym.crit),
        SourceHealth::NotInstalled => (theme.muted, theme.sym.info),
    }
}

/// Style and glyph for a conntrack table fill against the analysis thresholds (75 % / 90 %);
/// the glyph is `None` below the warning level, where callers draw their own (or nothing).
pub fn conntrack_level(theme: &Theme, fill: f64) -> (Style, Option<&'static str>) {
    use crate::analysis::rules::conntrack::{CONNTRACK_CRIT, CONNTRACK_WARN};
    let st = level(theme, fill, CONNTRACK_WARN, CONNTRACK_CRIT);
    let glyph = if fill >= CONNTRACK_CRIT {
        Some(theme.sym.crit)
    } else if fill >= CONNTRACK_WARN {
        Some(theme.sym.warn)
    } else {
        None
    };
    (st, glyph)
}

/// Cut a string to at most `width` terminal cells, ending in the theme's ellipsis when cut.
pub fn truncate(theme: &Theme, s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let ell = theme.sym.ellipsis;
    let mut out = String::new();
    let mut w = 0;
    for ch in s.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0);
        if w + cw + ell.width() > width {
            break;
        }
        out.push(ch);
        w += cw;
    }
    out.push_str(ell);
    out
}

/// The ASCII stand-in for a character the `--ascii` glyph set has no place for: punctuation by
/// its look, anything else `?`.
pub fn ascii_char(c: char) -> char {
    match c {
        c if c.is_ascii() => c,
        '\u{2026}' => '~',
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{2500}' | '\u{2501}' | '\u{2574}'..='\u{257f}' => '-',
        '\u{2018}' | '\u{2019}' | '\u{2032}' => '\'',
        '\u{201c}' | '\u{201d}' | '\u{00ab}' | '\u{00bb}' | '\u{2033}' => '"',
        '\u{2022}' | '\u{00b7}' | '\u{2219}' => '.',
        '\u{00d7}' => 'x',
        '\u{2192}' | '\u{21d2}' | '\u{2265}' | '\u{203a}' => '>',
        '\u{2190}' | '\u{21d0}' | '\u{2264}' | '\u{2039}' => '<',
        '\u{2191}' | '\u{25b2}' => '^',
        '\u{2193}' | '\u{25bc}' => 'v',
        '\u{2502}' | '\u{2503}' => '|',
        '\u{00a0}' | '\u{2000}'..='\u{200a}' => ' ',
        _ => '?',
    }
}

/// Replace every non-ASCII cell of `area` by its ASCII stand-in (`--ascii`: data from the cluster
/// can hold any character). A wide character's trailing cell is already blank.
pub fn ascii_only(area: ratatui::layout::Rect, buf: &mut ratatui::buffer::Buffer) {
    let area = area.intersection(buf.area);
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            let Some(cell) = buf.cell_mut((x, y)) else { continue };
            if !cell.symbol().is_ascii() {
                let s: String = cell.symbol().chars().next().map(ascii_char).into_iter().collect();
                cell.set_symbol(&s);
            }
        }
    }
}

/// A group's subject: the first subject and `+N` for the others, cut to `width` cells keeping
/// the count.
pub fn counted(theme: &Theme, subject: &str, count: usize, width: usize) -> String {
    if count <= 1 {
        return truncate(theme, subject, width);
    }
    let tail = format!(" +{}", count - 1);
    format!("{}{tail}", truncate(theme, subject, width.saturating_sub(tail.width())))
}

/// Greedy word wrap to `width` cells; a word longer than a line is cut with the theme ellipsis.
pub fn wrap(theme: &Theme, text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        let word = truncate(theme, word, width);
        let need = if cur.is_empty() { word.width() } else { cur.width() + 1 + word.width() };
        if need > width && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&word);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A horizontal gauge of `width` cells: filled part, then empty part.
pub fn gauge(theme: &Theme, f: f64, width: usize) -> String {
    let n = ((f.clamp(0.0, 1.0) * width as f64).round() as usize).min(width);
    format!("{}{}", theme.sym.gauge_full.repeat(n), theme.sym.gauge_empty.repeat(width - n))
}

/// A count in short form: 950, 12.3k, 812k, 1.2M.
pub fn si(n: u64) -> String {
    let f = n as f64;
    match n {
        0..=9_999 => n.to_string(),
        10_000..=99_949 => format!("{:.1}k", f / 1e3),
        99_950..=999_499 => format!("{:.0}k", f / 1e3),
        999_500..=99_949_999 => format!("{:.1}M", f / 1e6),
        _ => format!("{:.0}M", f / 1e6),
    }
}

/// Bytes in binary units: `160Mi`, `2Gi`, `512Ki`, `100B`.
pub fn bytes(b: u64) -> String {
    const UNITS: [(&str, u64); 4] = [("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)];
    for (u, m) in UNITS {
        if b >= m {
            let v = b as f64 / m as f64;
            return if b.is_multiple_of(m) { format!("{}{u}", b / m) } else { format!("{v:.1}{u}") };
        }
    }
    format!("{b}B")
}

pub use crate::viewmodel::selection::{page_offset, scroll};

/// The style of the parts of a cell that match the filter: underlined and bold (so it shows in
/// `mono` too), in the accent colour.
pub fn match_style(theme: &Theme, base: Style) -> Style {
    base.patch(theme.accent).add_modifier(Modifier::UNDERLINED | Modifier::BOLD)
}

/// `text` in `style`, with every part that matches a word of `filter` (case-insensitive; the
/// name of `rack=NAME`) in the match style.
pub fn highlight<'a>(theme: &Theme, text: impl Into<String>, filter: &str, style: Style) -> Line<'a> {
    let text: String = text.into();
    let words: Vec<Vec<char>> = filter
        .split_whitespace()
        .map(|w| {
            let w = w.to_lowercase();
            w.strip_prefix(crate::viewmodel::RACK_EQ).unwrap_or(&w).chars().collect::<Vec<char>>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Line::styled(text, style);
    }
    let chars: Vec<char> = text.chars().collect();
    let lower: Vec<char> = chars.iter().map(|c| c.to_lowercase().next().unwrap_or(*c)).collect();
    let mut hit = vec![false; chars.len()];
    for w in &words {
        for i in 0..lower.len().saturating_sub(w.len() - 1) {
            if lower[i..].starts_with(w) {
                hit[i..i + w.len()].iter_mut().for_each(|h| *h = true);
            }
        }
    }
    let on = match_style(theme, style);
    let mut spans = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let j = (i..chars.len()).find(|&j| hit[j] != hit[i]).unwrap_or(chars.len());
        spans.push(Span::styled(chars[i..j].iter().collect::<String>(), if hit[i] { on } else { style }));
        i = j;
    }
    Line::from(spans)
}

/// The leading cell of a selectable row: the selection glyph, or blanks of the same width.
pub fn select_mark(theme: &Theme, selected: bool) -> String {
    if selected { theme.sym.selected.to_string() } else { " ".repeat(theme.sym.selected.width()) }
}

/// A count, or `?` when it is not known.
pub fn count<T: std::fmt::Display>(v: Option<T>) -> String {
    crate::model::or_unknown(v)
}

/// A node's pod mix per runtime, compact: `28r 2k 1g` (`o` for other runtimes); `-` for no pods;
/// `?` when not known.
pub fn runtime_mix(m: Option<&crate::model::RuntimeMix>) -> String {
    let Some(m) = m else { return crate::model::UNKNOWN.to_string() };
    let parts: Vec<String> = [(m.runc, "r"), (m.kata, "k"), (m.gvisor, "g"), (m.other, "o")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, s)| format!("{n}{s}"))
        .collect();
    if parts.is_empty() { "-".into() } else { parts.join(" ") }
}

/// A text cut to `width` cells (theme ellipsis) and padded with spaces to exactly `width` cells.
pub fn fit(theme: &Theme, s: &str, width: usize) -> String {
    let t = truncate(theme, s, width);
    let pad = width.saturating_sub(t.width());
    format!("{t}{}", " ".repeat(pad))
}

/// Style and glyph for one BGP session: up is ok, a session trying to come up is a warning,
/// idle or unknown is critical.
pub fn session_state(theme: &Theme, st: &crate::model::BgpState) -> (Style, &'static str) {
    use crate::model::BgpState;
    match st {
        BgpState::Established => (theme.ok, theme.sym.ok),
        BgpState::Connect
        | BgpState::Active
        | BgpState::OpenSent
        | BgpState::OpenConfirm
        | BgpState::AdminDown => (theme.warn, theme.sym.warn),
        BgpState::Idle | BgpState::Unknown(_) => (theme.crit, theme.sym.crit),
    }
}

/// Eighth-block bar rows (top row first) for values in 0..=1, one column per value, `height`
/// rows tall; `None` columns stay blank.
pub fn bar_rows(theme: &Theme, values: &[Option<f64>], height: usize) -> Vec<Vec<&'static str>> {
    let bars = theme.sym.bar_v;
    (0..height)
        .map(|row| {
            let from_bottom = height - 1 - row;
            values
                .iter()
                .map(|v| match v {
                    None => bars[0],
                    Some(v) => {
                        let eighths = (v.clamp(0.0, 1.0) * height as f64 * 8.0).round() as usize;
                        bars[eighths.saturating_sub(from_bottom * 8).min(8)]
                    }
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ascii_only_leaves_no_other_character() {
        use ratatui::buffer::Buffer;
        use ratatui::layout::Rect;
        let mut buf = Buffer::empty(Rect::new(0, 0, 24, 1));
        buf.set_string(0, 0, "a…b—c“d”→ 北x", ratatui::style::Style::default());
        ascii_only(buf.area, &mut buf);
        let text: String = buf.content().iter().map(|c| c.symbol()).collect();
        assert_eq!(text.trim_end(), "a~b-c\"d\"> ? x");
    }

    use super::*;
    use crate::model::RuntimeMix;

    #[test]
    fn pages() {
        assert_eq!(page_offset(0, 10), 0);
        assert_eq!(page_offset(10, 10), 10);
        assert_eq!(page_offset(25, 10), 20);
    }

    #[test]
    fn truncate_respects_width() {
        let t = Theme::builtin("default", false).unwrap();
        assert_eq!(truncate(&t, "abcdef", 10), "abcdef");
        assert_eq!(truncate(&t, "abcdef", 4), "abc…");
        let a = Theme::builtin("default", true).unwrap();
        assert_eq!(truncate(&a, "abcdef", 4), "abc~");
    }

    #[test]
    fn short_numbers() {
        assert_eq!(si(950), "950");
        assert_eq!(si(12_345), "12.3k");
        assert_eq!(si(812_000), "812k");
        assert_eq!(si(1_048_576), "1.0M");
        assert_eq!(si(999_700), "1.0M");
        assert_eq!(si(99_990), "100k");
        assert_eq!(secs(300), "5m");
        assert_eq!(secs(5400), "1h 30m");
        assert_eq!(bytes(160 << 20), "160Mi");
        assert_eq!(bytes(1536), "1.5Ki");
        assert_eq!(bytes(10), "10B");
        assert_eq!(scroll(0, 5, 10), (0, 0));
        assert_eq!(scroll(25, 30, 10), (24, 20));
    }

    #[test]
    fn mixes_spans_and_bars() {
        let t = Theme::builtin("default", false).unwrap();
        assert_eq!(runtime_mix(Some(&RuntimeMix { runc: 28, kata: 2, gvisor: 1, other: 0 })), "28r 2k 1g");
        assert_eq!(runtime_mix(Some(&RuntimeMix::default())), "-");
        assert_eq!(runtime_mix(None), "?");
        assert_eq!(fit(&t, "abc", 5), "abc  ");
        assert_eq!(fit(&t, "abcdef", 4), "abc…");
        assert_eq!(
            bar_rows(&t, &[Some(1.0), Some(0.5), None, Some(0.0)], 2),
            vec![vec!["█", " ", " ", " "], vec!["█", "█", " ", " "]]
        );
        assert_eq!(bar_rows(&t, &[Some(0.25)], 1), vec![vec!["▂"]]);
    }
}
