//! The terminal, set up and restored in one place.
//!
//! `ratatui::try_init` enables raw mode, enters the alternate screen and installs a panic hook
//! that restores the terminal before the panic message is printed. `Guard` restores it again on
//! every other exit path (errors, signals, normal quit); restoring twice is harmless. Mouse
//! capture, when on, is turned off on every one of those paths too (a shell left with mouse
//! reporting on prints escape codes at every mouse move).

use std::io::{Write, stdout};

use anyhow::{Context, Result};
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use ratatui::DefaultTerminal;

pub struct Guard {
    mouse: bool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        // The terminal may already be gone (SSH dropped): nothing useful to do with an error.
        if self.mouse {
            let _ = crossterm::execute!(stdout(), DisableMouseCapture);
        }
        let _ = ratatui::try_restore();
    }
}

/// Raw mode, the alternate screen, and mouse capture when `mouse`.
pub fn init(mouse: bool) -> Result<(DefaultTerminal, Guard)> {
    let term = ratatui::try_init().context("cannot set up the terminal (is stdout a terminal?)")?;
    if mouse {
        crossterm::execute!(stdout(), EnableMouseCapture).context("turning on mouse capture")?;
        // ratatui's panic hook restores the screen; mouse capture must go off before it.
        let restore = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = crossterm::execute!(stdout(), DisableMouseCapture);
            restore(info);
        }));
    }
    Ok((term, Guard { mouse }))
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
