//! Real-process tier: the real kube-rs client over HTTP against `sim serve` (faults, scale,
//! kubectl, unknown kinds).

#[path = "../support/mod.rs"]
mod support;

mod kube_e2e;
mod kube_faults;
mod kube_scale;
mod node_detail;
mod realistic;
mod recording;
mod sandbox_start;
mod sim_serve_kubectl;
mod unknown;
