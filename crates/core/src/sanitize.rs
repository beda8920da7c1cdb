//! The one gate every outside string passes before it can reach the terminal.
//!
//! What it does, in order of appearance in the input:
//!
//! * **Escape sequences are removed whole** when they are complete and recognisable:
//!   CSI (`ESC [` params intermediates final, or 8-bit `U+009B`), OSC (`ESC ]` … `BEL` | `ESC \`
//!   | `U+009C`, or 8-bit `U+009D`), DCS/SOS/PM/APC (`ESC P`/`X`/`^`/`_`, or `U+0090`/`U+0098`/
//!   `U+009E`/`U+009F`) up to the string terminator, and the short `ESC` sequences (`ESC c`,
//!   `ESC 7`, `ESC ( B`, `ESC O A`, …).
//! * **Every other control character is shown escaped** as `\xNN` (two lower-case hex digits):
//!   C0 (`U+0000`-`U+001F`, so TAB is `\x09`, LF `\x0a`, CR `\x0d`, a lone ESC `\x1b`), DEL
//!   (`\x7f`) and C1 (`U+0080`-`U+009F`, e.g. a lone ST is `\x9c`). An incomplete sequence (no
//!   final byte, no terminator) is not removed: its introducer is escaped and the rest is text.
//! * **Invisible format characters that could reorder or hide text are shown escaped** as
//!   `\u{XXXX}`: bidi embeddings/overrides/isolates (`U+202A`-`U+202E`, `U+2066`-`U+2069`),
//!   marks (`U+200E`, `U+200F`, `U+061C`), zero-width chars (`U+200B`, `U+200C`, `U+2060`,
//!   `U+FEFF`, invisible operators `U+2061`-`U+2064`, deprecated `U+206A`-`U+206F`), line/paragraph
//!   separators (`U+2028`, `U+2029`) and Unicode tag characters (`U+E0000`-`U+E007F`, "ASCII
//!   smuggling"). The zero-width joiner `U+200D` is kept only between two pictographs (emoji
//!   sequences such as a family or a profession); anywhere else it is escaped.
//! * **The result is capped at [`MAX_CHARS`] characters**, ending in `…` when cut (never in the
//!   middle of an escape, never just after a joiner).
//!
//! Plain text (any script, emoji) comes back as `Cow::Borrowed` without allocating.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Longest result, in characters, including the trailing ellipsis when cut.
pub const MAX_CHARS: usize = 1024;

const ESC: u8 = 0x1b;
const ELLIPSIS: char = '…';

/// Remove or escape control characters, escape sequences and bidi overrides.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    // Most strings (names, phases, addresses) are printable ASCII under the cap: a byte scan.
    if s.len() <= MAX_CHARS && s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Cow::Borrowed(s);
    }
    let Some(first) = s.char_indices().find(|&(_, c)| is_special(c)).map(|(i, _)| i) else {
        if s.len() <= MAX_CHARS || s.chars().count() <= MAX_CHARS {
            return Cow::Borrowed(s);
        }
        let mut out: String = s.chars().take(MAX_CHARS - 1).collect();
        out.push(ELLIPSIS);
        return Cow::Owned(out);
    };
    let out = Cleaner::default().run(s, first);
    // Emoji joined by U+200D take the slow path but come back unchanged.
    if out == s { Cow::Borrowed(s) } else { Cow::Owned(out) }
}

/// Characters that need more than copying.
fn is_special(c: char) -> bool {
    let u = c as u32;
    u < 0x20 || (0x7f..=0x9f).contains(&u) || is_hidden_format(c)
}

/// Invisible format characters that are shown as `\u{XXXX}` (see the module docs).
fn is_hidden_format(c: char) -> bool {
    matches!(c as u32,
        0x061c | 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x2064 | 0x2066..=0x206f
        | 0xfeff | 0xe0000..=0xe007f)
}

/// Emoji-ish code points between which a zero-width joiner is legitimate.
fn is_pictograph(c: char) -> bool {
    matches!(c as u32, 0x2300..=0x23ff | 0x2600..=0x27bf | 0x2b00..=0x2bff | 0x1f000..=0x1faff | 0xfe0f)
}

#[derive(Default)]
struct Cleaner {
    out: String,
    chars: usize,
    /// Byte length of `out` before the first unit that would not fit under the cap.
    cut: Option<usize>,
}

impl Cleaner {
    fn run(mut self, s: &str, first: usize) -> String {
        self.push_str(&s[..first]);
        let mut i = first;
        while i < s.len() && self.chars <= MAX_CHARS {
            let rest = &s[i..];
            if let Some(n) = sequence_len(rest.as_bytes()) {
                i += n;
                continue;
            }
            let Some(c) = rest.chars().next() else { break };
            let u = c as u32;
            if u < 0x20 || (0x7f..=0x9f).contains(&u) {
                self.push_unit(&format!("\\x{u:02x}"), 4);
            } else if c == '\u{200d}' && self.zwj_allowed(&rest[c.len_utf8()..]) {
                self.push_unit("\u{200d}", 1);
            } else if is_hidden_format(c) {
                let mut e = String::new();
                let _ = write!(e, "\\u{{{u:04x}}}");
                let n = e.chars().count();
                self.push_unit(&e, n);
            } else {
                let mut buf = [0u8; 4];
                self.push_unit(c.encode_utf8(&mut buf), 1);
            }
            i += c.len_utf8();
        }
        if self.chars > MAX_CHARS {
            let cut = self.cut.unwrap_or(self.out.len());
            self.out.truncate(cut);
            // A joiner kept before the cut now joins nothing; a second pass would escape it.
            if self.out.ends_with('\u{200d}') {
                self.out.pop();
            }
            self.out.push(ELLIPSIS);
        }
        self.out
    }

    fn zwj_allowed(&self, after: &str) -> bool {
        self.out.chars().next_back().is_some_and(is_pictograph)
            && after.chars().next().is_some_and(is_pictograph)
    }

    fn push_str(&mut self, s: &str) {
        for c in s.chars() {
            let mut buf = [0u8; 4];
            self.push_unit(c.encode_utf8(&mut buf), 1);
            if self.chars > MAX_CHARS {
                return;
            }
        }
    }

    fn push_unit(&mut self, unit: &str, chars: usize) {
        if self.cut.is_none() && self.chars + chars > MAX_CHARS - 1 {
            self.cut = Some(self.out.len());
        }
        self.out.push_str(unit);
        self.chars += chars;
    }
}

/// Byte length of a complete escape sequence at the start of `b`, or `None`.
fn sequence_len(b: &[u8]) -> Option<usize> {
    match b {
        [ESC, b'[', ..] => csi_len(b, 2),
        [0xc2, 0x9b, ..] => csi_len(b, 2),
        [ESC, b']', ..] => string_len(b, 2, true),
        [0xc2, 0x9d, ..] => string_len(b, 2, true),
        [ESC, b'P' | b'X' | b'^' | b'_', ..] => string_len(b, 2, false),
        [0xc2, 0x90 | 0x98 | 0x9e | 0x9f, ..] => string_len(b, 2, false),
        // Single shifts take the next character as their argument.
        [ESC, b'N' | b'O', c, ..] if (0x20..=0x7e).contains(c) => Some(3),
        [ESC, ..] => short_len(b),
        _ => None,
    }
}

/// `ESC` intermediates (0x20-0x2F)* final (0x30-0x7E).
fn short_len(b: &[u8]) -> Option<usize> {
    let mut i = 1;
    while i < b.len() && (0x20..=0x2f).contains(&b[i]) {
        i += 1;
    }
    match b.get(i) {
        Some(c) if (0x30..=0x7e).contains(c) => Some(i + 1),
        _ => None,
    }
}

/// CSI: parameters (0x30-0x3F)*, intermediates (0x20-0x2F)*, final (0x40-0x7E).
fn csi_len(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    while i < b.len() && (0x30..=0x3f).contains(&b[i]) {
        i += 1;
    }
    while i < b.len() && (0x20..=0x2f).contains(&b[i]) {
        i += 1;
    }
    match b.get(i) {
        Some(c) if (0x40..=0x7e).contains(c) => Some(i + 1),
        _ => None,
    }
}

/// A control string up to ST (`ESC \` or `U+009C`), or also `BEL` for OSC.
fn string_len(b: &[u8], start: usize, bel_ends: bool) -> Option<usize> {
    let mut i = start;
    while i < b.len() {
        match &b[i..] {
            [0x07, ..] if bel_ends => return Some(i + 1),
            [ESC, b'\\', ..] | [0xc2, 0x9c, ..] => return Some(i + 2),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(s: &str) -> String {
        let r = sanitize(s);
        assert!(matches!(r, Cow::Owned(_)), "expected a change for {s:?}");
        r.into_owned()
    }

    #[test]
    fn plain_text_is_borrowed() {
        for s in
            ["", "node-a01", "kube-system/coredns-5d78c9869d-abcde", "节点-北京-01", "🚀 ok ✅", "naïve café"]
        {
            assert!(matches!(sanitize(s), Cow::Borrowed(x) if x == s), "{s:?}");
        }
    }

    #[test]
    fn emoji_zwj_sequences_are_kept() {
        for s in ["👩\u{200d}💻", "👨\u{200d}👩\u{200d}👧", "🏳\u{fe0f}\u{200d}🌈"] {
            assert_eq!(sanitize(s), s);
        }
        assert_eq!(owned("ad\u{200d}min"), "ad\\u{200d}min");
    }

    #[test]
    fn csi_is_removed() {
        assert_eq!(owned("a\x1b[2Jb"), "ab");
        assert_eq!(owned("\x1b[1;31mred\x1b[0m"), "red");
        assert_eq!(owned("x\x1b[?1049hy"), "xy");
        assert_eq!(owned("x\u{9b}2Jy"), "xy");
    }

    #[test]
    fn osc_is_removed() {
        assert_eq!(owned("a\x1b]0;title\x07b"), "ab");
        assert_eq!(owned("a\x1b]0;title\x1b\\b"), "ab");
        assert_eq!(owned("a\u{9d}0;title\u{9c}b"), "ab");
        // OSC 52 writes the clipboard.
        assert_eq!(owned("pod\x1b]52;c;cm0gLXJmIH4=\x07name"), "podname");
        assert_eq!(owned("x\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\"), "xlink");
    }

    #[test]
    fn device_control_strings_are_removed() {
        assert_eq!(owned("a\x1bPq#0;2;0;0;0\x1b\\b"), "ab");
        assert_eq!(owned("a\x1b_hidden\x1b\\b"), "ab");
        assert_eq!(owned("a\x1b^pm\x1b\\b\x1bXsos\u{9c}c"), "abc");
        assert_eq!(owned("a\u{90}dcs\u{9c}b"), "ab");
    }

    #[test]
    fn short_escape_sequences_are_removed() {
        assert_eq!(owned("a\x1bcb"), "ab"); // RIS: full reset
        assert_eq!(owned("a\x1b7b\x1b8"), "ab");
        assert_eq!(owned("a\x1b(Bb"), "ab");
        assert_eq!(owned("a\x1bOAb"), "ab");
    }

    #[test]
    fn other_controls_are_escaped() {
        assert_eq!(owned("a\x1b"), "a\\x1b");
        assert_eq!(owned("a\x1b[12"), "a\\x1b[12");
        assert_eq!(owned("a\x1b]0;never ends"), "a\\x1b]0;never ends");
        assert_eq!(owned("bell\x07"), "bell\\x07");
        assert_eq!(owned("one\ntwo\r\tthree\x08"), "one\\x0atwo\\x0d\\x09three\\x08");
        assert_eq!(owned("nul\0del\x7f"), "nul\\x00del\\x7f");
        assert_eq!(owned("nel\u{85}st\u{9c}"), "nel\\x85st\\x9c");
        assert_eq!(owned("\x1b\u{e9}"), "\\x1b\u{e9}");
    }

    #[test]
    fn bidi_and_invisible_chars_are_escaped() {
        assert_eq!(owned("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(owned("\u{2066}a\u{2069}"), "\\u{2066}a\\u{2069}");
        assert_eq!(owned("\u{200e}\u{200f}\u{061c}"), "\\u{200e}\\u{200f}\\u{061c}");
        assert_eq!(owned("kube\u{200b}-system"), "kube\\u{200b}-system");
        assert_eq!(owned("\u{feff}x\u{2060}"), "\\u{feff}x\\u{2060}");
        assert_eq!(owned("a\u{e0041}"), "a\\u{e0041}");
    }

    #[test]
    fn long_strings_are_capped() {
        let long = "x".repeat(5000);
        let r = owned(&long);
        assert_eq!(r.chars().count(), MAX_CHARS);
        assert!(r.ends_with('…'));
        let exact = "é".repeat(MAX_CHARS);
        assert!(matches!(sanitize(&exact), Cow::Borrowed(_)));
        let cjk = "节".repeat(MAX_CHARS + 1);
        assert_eq!(owned(&cjk).chars().count(), MAX_CHARS);
    }

    #[test]
    fn cap_never_splits_an_escape() {
        let s = format!("{}\n\n\n", "a".repeat(MAX_CHARS - 3));
        let r = owned(&s);
        assert!(r.chars().count() <= MAX_CHARS);
        assert!(r.ends_with("a…"), "{}", &r[r.len() - 10..]);
        let s = "\x07".repeat(10_000);
        let r = owned(&s);
        assert!(r.chars().count() <= MAX_CHARS);
        assert!(r.ends_with("\\x07…"));
        // A joiner just before the cut is dropped with what it joined.
        let s = format!("{}\u{1f468}\u{200d}\u{1f469}\u{1f469}", "a".repeat(MAX_CHARS - 3));
        assert!(owned(&s).ends_with("a\u{1f468}…"));
        // Escapes that fit exactly are not cut.
        let s = format!("{}\n", "a".repeat(MAX_CHARS - 4));
        assert_eq!(owned(&s).chars().count(), MAX_CHARS);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut seed = 7u32;
        for _ in 0..2000 {
            let s: String = (0..40)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    let pool =
                        ['\x1b', '[', ']', '\x07', '\\', 'P', 'a', '\u{9b}', '\u{9c}', '\u{200d}', '😀', '1'];
                    pool[(seed >> 16) as usize % pool.len()]
                })
                .collect();
            let r = sanitize(&s);
            assert!(!r.contains('\x1b') && !r.contains('\x07') && !r.contains('\u{9b}'), "{s:?} -> {r:?}");
        }
    }
}
