//! Data sources. Each runs as a tokio task and sends `Update`s to the store; none touches the
//! terminal or holds UI state.
//!
//! - `sim`: the embedded simulated cluster (`clustertop demo`).
//! - `kube`: Kubernetes watchers (issue: Kubernetes source).
//! - `prometheus`: metrics, the CPU curve, and pods from kube-state-metrics as a fallback.
//! - `agents`: node agent poller (issue: node agent).
//! - `conn_error`: connection errors worded for all of them (`connection refused to URL`).

pub mod agents;
/// Connection errors in the system's words with the URL asked, for every source.
pub mod conn_error;
/// A node's pods and Events, on demand while its detail is open.
pub mod detail;
pub mod kube;
pub mod prometheus;
pub mod sim;
