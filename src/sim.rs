//! The deterministic simulated cluster.
