//! Real-process tier: the release binary driven in tmux (keys, resize, signals, hostile input,
//! idle cost, read-only).

#[path = "../support/mod.rs"]
mod support;

mod e2e_hostile;
mod e2e_idle;
mod e2e_readonly;
mod e2e_record;
mod e2e_signals;
mod e2e_slow_api;
mod e2e_tmux;
