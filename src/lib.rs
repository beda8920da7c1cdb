//! clustertop: a terminal dashboard for large bare-metal Kubernetes clusters.
//!
//! Data flows one way: `sources` → `store` → immutable `model::Snapshot` → `app` → `views`.
//! `sources`, `model`, `analysis`, `store` and `sim` never import ratatui or crossterm.

pub mod alloc;
pub mod app;
pub mod cli;
pub mod config;
pub mod event_loop;
pub mod keymap;
pub mod logging;
pub mod report;
pub mod snapshot_cmd;
pub mod sources;
pub mod theme;
pub mod tui;
pub mod viewmodel;
pub mod views;

#[cfg(test)]
pub(crate) mod testkit;

// The layers below the dashboard, each its own crate (see the README's crate diagram), under
// the paths the dashboard and its tests have always used.
pub use clustertop_agent as agent;
pub use clustertop_core::{analysis, format, model, moment, sanitize, store, wire};
pub use clustertop_record as record;
pub use clustertop_sim as sim;
