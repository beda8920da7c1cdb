//! Views: pure functions of (`&Snapshot`, `&Model`, `&Theme`) that draw into a `Buffer`.
//! Views never await, lock, read the clock or do I/O. One file per view.

pub mod chrome;
pub mod conntrack;
pub mod detail;
pub mod help;
pub mod network;
pub mod nodes;
pub mod overview;
pub mod runtime;
pub mod triage;
pub mod utilization;
pub mod widgets;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use crate::app::Model;
use crate::model::Snapshot;
use crate::theme::Theme;

/// What every view draws from.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub snap: &'a Snapshot,
    pub model: &'a Model,
    pub theme: &'a Theme,
}
