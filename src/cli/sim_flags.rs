//! The flags of `clustertop sim`: the simulated cluster served as a Kubernetes API, or written
//! as OpenMetrics history.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::parse::{parse_churn, parse_past_rfc3339, parse_plural};
use super::{ConfigFlag, RefreshFlag, SimFlags, TzFlag};

#[derive(Subcommand, Debug)]
pub enum SimCommand {
    /// Serve the simulated cluster as a Kubernetes API over HTTP on loopback (for the real
    /// client, kubectl, and tests).
    Serve(ServeFlags),
    /// Write the simulated cluster's history as OpenMetrics text, for `promtool tsdb
    /// create-blocks-from openmetrics --max-block-duration=24h`.
    Openmetrics(OpenMetricsFlags),
}

#[derive(Args, Debug, Clone)]
pub struct OpenMetricsFlags {
    /// Hours of history (1-168).
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=168))]
    pub hours: u32,
    /// Time of the last sample, RFC3339 (default: now - 120 s); truncated to a multiple of --step.
    /// Must not be in the future.
    #[arg(long, value_parser = parse_past_rfc3339, value_name = "RFC3339")]
    pub end: Option<chrono::DateTime<chrono::Utc>>,
    /// Seconds between samples (15-300).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(15..=300))]
    pub step: u32,
    /// CPUs per node. node_exporter writes one series per CPU and mode, so this sets most of the
    /// file size (48 nodes, 24 h, 60 s: about 17 MB per CPU; 260 MB in all with 4).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub cpus: u32,
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub sim: SimFlags,
    #[command(flatten)]
    pub tz: TzFlag,
    #[command(flatten)]
    pub config: ConfigFlag,
}

#[derive(Args, Debug, Clone)]
pub struct ServeFlags {
    /// Address to listen on (loopback; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8001")]
    pub listen: std::net::SocketAddr,
    /// Total pods to serve (default about 30 per node).
    #[arg(long)]
    pub pods: Option<usize>,
    /// Write a kubeconfig for the server to this file.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Resources (plurals, comma-separated) that answer 403 Forbidden, to test permissions.
    #[arg(long, value_delimiter = ',', value_name = "PLURAL,…", value_parser = parse_plural)]
    pub forbid: Vec<String>,
    /// Serve a cluster that does not change (no pod churn, no BGP flaps), to measure idle cost.
    /// SIGUSR1 toggles between static and changing.
    #[arg(long = "static")]
    pub frozen: bool,
    /// Extra pod changes per second (deletes and creates in pairs), on top of the simulator's
    /// few per step, to measure the cost of a busy cluster.
    #[arg(long, value_name = "PER_SECOND", value_parser = parse_churn)]
    pub churn: Option<f64>,
    /// Inject a fault into every API request, to test a client against an overloaded or failing
    /// API server: slow=<seconds>s, <status> (500, 503…), <status>,retry-after=<seconds> (429),
    /// or cut-protobuf (protobuf list bodies cut short halfway).
    #[arg(long, default_value = "none")]
    pub fault: crate::sim::serve::Fault,
    /// Serve these Kubernetes objects instead of the simulated cluster: JSON files or
    /// directories of them, one object or a List per file (`kubectl get ... -o json`).
    #[arg(long, value_delimiter = ',', value_name = "PATH")]
    pub objects: Vec<PathBuf>,
    /// Serve pods and nodes in bare shapes (about 1.1 KB of JSON a pod) instead of the bodies
    /// real clusters have (managedFields, env, probes, volumes, statuses: about 10 KB a pod).
    #[arg(long)]
    pub slim: bool,
    /// Answer JSON only, also to clients that ask for protobuf (by default nodes' and pods'
    /// lists and watches are protobuf to clients that ask for it, as a real API server's are).
    #[arg(long)]
    pub no_protobuf: bool,
    /// Refuse streaming lists (watches with sendInitialEvents=true, the WatchList feature) with
    /// 422 Invalid, as an API server without the feature does; clients fall back to pages.
    #[arg(long)]
    pub no_watch_list: bool,
    #[command(flatten)]
    pub sim: SimFlags,
    #[command(flatten)]
    pub refresh: RefreshFlag,
    #[command(flatten)]
    pub tz: TzFlag,
    #[command(flatten)]
    pub config: ConfigFlag,
}
