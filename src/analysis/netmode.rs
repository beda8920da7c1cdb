//! Network-mode detection from evidence.

use crate::model::{NetClass, Signal};

/// Classify a node's network mode from all its signals.
pub fn classify(signals: &[Signal]) -> NetClass {
    let _ = signals;
    NetClass::unknown()
}
