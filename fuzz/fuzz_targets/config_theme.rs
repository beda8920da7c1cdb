//! The config file and theme files (TOML): a value or an error that names the file, never a panic.
#![no_main]

use std::path::Path;

use clustertop::config::Config;
use clustertop::theme::Theme;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(e) = Config::parse(text, Path::new("fuzz.toml")) {
        assert!(e.contains("fuzz.toml"), "the error does not name the file: {e}");
    }
    let _ = Theme::from_toml(text, false);
    let _ = Theme::from_toml(text, true);
});
