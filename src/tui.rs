//! The terminal, set up and restored in one place.
//!
//! `ratatui::try_init` enables raw mode, enters the alternate screen and installs a panic hook
//! that restores the terminal before the panic message is printed. `Guard` restores it again on
//! every other exit path (errors, signals, normal quit); restoring twice is harmless.

use std::io::{Write, stdout};

use anyhow::{Context, Result};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use ratatui::DefaultTerminal;

pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        // The terminal may already be gone (SSH dropped): nothing useful to do with an error.
        let _ = ratatui::try_restore();
    }
}

pub fn init() -> Result<(DefaultTerminal, Guard)> {
    let term = ratatui::try_init().context("cannot set up the terminal (is stdout a terminal?)")?;
    Ok((term, Guard))
}

/// Draw one frame inside a synchronized update, so large tables never tear.
pub fn draw(term: &mut DefaultTerminal, f: impl FnOnce(&mut ratatui::Frame)) -> Result<()> {
    let mut out = stdout();
    crossterm::queue!(out, BeginSynchronizedUpdate)?;
    term.draw(f)?;
    crossterm::queue!(out, EndSynchronizedUpdate)?;
    out.flush()?;
    Ok(())
}
