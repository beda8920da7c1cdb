//! The one gate to the terminal: whatever comes in, what comes out has no control character, no
//! bidi control or other hidden format character, at most MAX_CHARS characters, and passes
//! through sanitize unchanged a second time.
#![no_main]

use clustertop::sanitize::{MAX_CHARS, sanitize};
use libfuzzer_sys::fuzz_target;

/// Characters that must never reach the terminal raw. U+200D (the zero-width joiner) is left out:
/// sanitize keeps it between two pictographs, and it moves nothing.
fn forbidden(c: char) -> bool {
    c.is_control()
        || matches!(c as u32,
            0x061c | 0x200b | 0x200c | 0x200e | 0x200f | 0x2028..=0x202e | 0x2060..=0x2064
            | 0x2066..=0x206f | 0xfeff | 0xe0000..=0xe007f)
}

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let out = sanitize(&input);
    if let Some(c) = out.chars().find(|&c| forbidden(c)) {
        panic!("{c:?} survived: {input:?} -> {out:?}");
    }
    assert!(out.chars().count() <= MAX_CHARS, "over the cap: {} chars", out.chars().count());
    assert_eq!(sanitize(&out), out, "not idempotent");
});
