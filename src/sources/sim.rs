//! The simulator as a source: drives `crate::sim::Sim` on a clock and sends its updates.
