//! clustertop: a terminal dashboard for large bare-metal Kubernetes clusters.
//!
//! Data flows one way: `sources` → `store` → immutable `model::Snapshot` → `app` → `views`.
//! `sources`, `model`, `analysis`, `store` and `sim` never import ratatui or crossterm.

pub mod agent;
pub mod analysis;
pub mod app;
pub mod cli;
pub mod config;
pub mod event_loop;
pub mod keymap;
pub mod logging;
pub mod model;
pub mod report;
pub mod sanitize;
pub mod sim;
pub mod snapshot_cmd;
pub mod sources;
pub mod store;
pub mod theme;
pub mod tui;
pub mod viewmodel;
pub mod views;
pub mod wire;
