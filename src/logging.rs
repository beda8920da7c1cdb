//! Opt-in logging: `CLUSTERTOP_LOG=/path/to/file` appends plain-text log lines there. Nothing is
//! ever logged to the terminal (it belongs to the dashboard) or to the current directory.

use std::fs::OpenOptions;
use std::sync::Mutex;

/// Start logging if `CLUSTERTOP_LOG` names a file; errors say why it could not be opened.
pub fn init() -> anyhow::Result<()> {
    let Some(path) = std::env::var_os("CLUSTERTOP_LOG").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| anyhow::anyhow!("CLUSTERTOP_LOG={}: {e}", path.to_string_lossy()))?;
    tracing_subscriber::fmt().with_writer(Mutex::new(file)).with_ansi(false).with_target(false).init();
    Ok(())
}
