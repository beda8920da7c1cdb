//! clustertop's model and analysis: plain data and pure functions, shared by the dashboard, the
//! node agent and the simulator. No async runtime, no terminal, no Kubernetes client.
//!
//! - `model`: what the views draw and what sources report (`Snapshot`, `Update`, …);
//! - `analysis`: network mode, BGP verdicts, window accounting, the finding rules;
//! - `store`: applies `Update`s and builds immutable snapshots;
//! - `format`: durations and ages, written one way everywhere;
//! - `moment`: moments and durations read from the command line (`01:55`, `-20m`, RFC 3339);
//! - `sanitize`: every outside string passes it before it can reach a terminal;
//! - `wire`: the node agent's report (`clustertop.agent/v1`), for the agent and the poller.

pub mod analysis;
pub mod format;
pub mod model;
pub mod moment;
pub mod sanitize;
pub mod store;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod wire;
