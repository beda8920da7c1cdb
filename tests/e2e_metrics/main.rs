//! Real-process tier: a real Prometheus (backfilled with promtool) behind the Prometheus source
//! and `report capacity`, and the upstream corpus through every real path.

#[path = "../support/mod.rs"]
mod support;

mod capacity_known;
mod cilium_conntrack;
mod history_at;
mod prometheus_backfill;
mod prometheus_e2e;
mod prometheus_labels;
mod sandbox_start;
mod upstream;
