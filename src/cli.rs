//! Command line: parse, build settings, dispatch. `main.rs` only calls `cli::main`.

mod run;

use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono_tz::Tz;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::analysis::Settings;
use crate::config::Config;
use crate::model::Window;
use crate::report::ReportFormat;
use crate::sim::{Scenario, SimConfig};
use crate::theme::Theme;

#[derive(Parser, Debug)]
#[command(
    name = "clustertop",
    version,
    about = "A terminal dashboard for large bare-metal Kubernetes clusters"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub ui: UiFlags,
    #[command(flatten)]
    pub kube: KubeFlags,
}

#[derive(Args, Debug, Clone)]
pub struct KubeFlags {
    /// Kube context to use (default: the kubeconfig's current context).
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster config).
    #[arg(long, global = true)]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// Node label that names a node's rack.
    #[arg(long, global = true, default_value = "topology.kubernetes.io/zone")]
    pub rack_label: String,
}

#[derive(Args, Debug, Clone)]
pub struct UiFlags {
    /// Theme: default, light, high-contrast, colorblind, mono, or a path to a .toml theme file.
    #[arg(long, global = true)]
    pub theme: Option<String>,
    /// Draw with ASCII only: no box-drawing, block or braille characters.
    #[arg(long, global = true)]
    pub ascii: bool,
    /// Leave the mouse to the terminal (no clicks or wheel in the dashboard; the terminal's own
    /// text selection works). Also `mouse = false` in the config file.
    #[arg(long, global = true)]
    pub no_mouse: bool,
    /// Seconds between simulator steps / source refreshes.
    #[arg(long, global = true, default_value_t = 1.0, value_parser = parse_refresh)]
    pub refresh: f64,
    /// Colocation window HH:MM-HH:MM in --tz (repeatable; may cross midnight). Default 01:00-06:00.
    #[arg(long = "window", global = true, value_parser = Window::parse)]
    pub windows: Vec<Window>,
    /// Time zone of the windows and clock, e.g. Asia/Shanghai (default: the local zone).
    #[arg(long, global = true, value_parser = parse_tz)]
    pub tz: Option<Tz>,
    /// Keep-alive idle time (seconds) that conntrack established timeouts are checked against
    /// (default 900).
    #[arg(long, global = true)]
    pub keepalive_idle: Option<u64>,
    /// Prometheus-compatible backend for the CPU curve, conntrack and BGP metrics.
    #[arg(long, global = true, env = "CLUSTERTOP_PROMETHEUS")]
    pub prometheus: Option<String>,
    /// Node agents to poll: comma-separated base URLs (http://10.0.0.5:9977,…), `auto` (the pods
    /// labelled app.kubernetes.io/name=clustertop-agent, port 9977), or `off`.
    #[arg(long, global = true, env = "CLUSTERTOP_AGENTS")]
    pub agents: Option<String>,
    /// Bearer token for agents started with --token-file, read from this file.
    #[arg(long, global = true, env = "CLUSTERTOP_AGENT_TOKEN_FILE")]
    pub agent_token_file: Option<std::path::PathBuf>,
    /// Config file (default: $XDG_CONFIG_HOME/clustertop/config.toml, if it exists).
    #[arg(long, global = true)]
    pub config: Option<std::path::PathBuf>,
    /// The config file's contents, loaded after parsing (flags override it).
    #[arg(skip)]
    pub file: Config,
}

#[derive(Args, Debug, Clone)]
pub struct SimFlags {
    /// Number of simulated nodes.
    #[arg(long, default_value_t = 48, value_parser = clap::value_parser!(u32).range(1..=20000))]
    pub nodes: u32,
    /// Seed of the deterministic simulation.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Scenario: migration, healthy, tor-outage, conntrack-storm, hostile (escape sequences and
    /// control characters in rack names, BGP errors and pod names).
    #[arg(long, default_value = "migration", value_parser = Scenario::parse)]
    pub scenario: Scenario,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The dashboard on the embedded simulated cluster.
    Demo(SimFlags),
    /// The simulated cluster's other faces.
    Sim {
        #[command(subcommand)]
        command: SimCommand,
    },
    /// Reports from the metrics backend alone (no Kubernetes access needed).
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// Serve this node's facts over HTTP for the dashboard (run as a DaemonSet).
    Agent(crate::agent::cli::AgentFlags),
    /// Print the model and findings once, for scripts (the current kube context, or --demo).
    Snapshot {
        /// Use the embedded simulated cluster instead of a kube context.
        #[arg(long)]
        demo: bool,
        /// With a kube context: give up waiting for the initial lists after this many seconds.
        #[arg(long, default_value_t = 60)]
        wait: u64,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        sim: SimFlags,
    },
    /// The dashboard on a recording, read-only, on any machine: the cursor starts at its end;
    /// `[` `]` `{` `}` `:at` move it, `:diff` lists what changed.
    Replay {
        /// The recording (a `.sqlite` file under ~/.local/state/clustertop/recordings/, or one
        /// `clustertop record --out` wrote).
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Capacity review of the colocation windows for the 24 h ending at --end: fill per window and
    /// rack, idle core-hours, spill, the least-filled nodes. Exit 2 when Prometheus is unreachable
    /// or has no data.
    Capacity(CapacityFlags),
}

#[derive(Args, Debug, Clone)]
pub struct CapacityFlags {
    /// End of the reviewed 24 h, RFC3339 (default: now).
    #[arg(long, value_parser = parse_rfc3339)]
    pub end: Option<chrono::DateTime<chrono::Utc>>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    pub format: ReportFormat,
    /// How many under-filled nodes to list.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
}

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
    #[arg(long, value_parser = parse_rfc3339)]
    pub end: Option<chrono::DateTime<chrono::Utc>>,
    /// Seconds between samples (15-300).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(15..=300))]
    pub step: u32,
    /// CPUs per node. node_exporter writes one series per CPU and mode, so this sets most of the
    /// file size (48 nodes, 24 h, 60 s: about 17 MB per CPU; 260 MB in all with 4).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub cpus: u32,
    /// Write to this file instead of stdout.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub sim: SimFlags,
}

fn parse_rfc3339(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("{s:?} is not an RFC3339 time such as 2026-11-24T12:00:00Z: {e}"))
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
    #[arg(long)]
    pub kubeconfig_out: Option<std::path::PathBuf>,
    /// Resources (plurals, comma-separated) that answer 403 Forbidden, to test permissions.
    #[arg(long, value_delimiter = ',')]
    pub forbid: Vec<String>,
    /// Serve a cluster that does not change (no pod churn, no BGP flaps), to measure idle cost.
    /// SIGUSR1 toggles between static and changing.
    #[arg(long = "static")]
    pub frozen: bool,
    /// Extra pod changes per second (deletes and creates in pairs), on top of the simulator's
    /// few per step, to measure the cost of a busy cluster.
    #[arg(long, value_name = "PER_SECOND")]
    pub churn: Option<f64>,
    /// Inject a fault into every API request, to test a client against an overloaded or failing
    /// API server: slow=<seconds>s, <status> (500, 503…) or <status>,retry-after=<seconds> (429).
    #[arg(long, default_value = "none")]
    pub fault: crate::sim::serve::Fault,
    /// Serve these Kubernetes objects instead of the simulated cluster: JSON files or
    /// directories of them, one object or a List per file (`kubectl get ... -o json`).
    #[arg(long, value_delimiter = ',', value_name = "PATH")]
    pub objects: Vec<std::path::PathBuf>,
    #[command(flatten)]
    pub sim: SimFlags,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Text,
}

fn parse_refresh(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.1..=3600.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a refresh interval in seconds between 0.1 and 3600")),
    }
}

fn parse_tz(s: &str) -> Result<Tz, String> {
    s.parse::<Tz>()
        .map_err(|_| format!("unknown time zone {s:?} (use an IANA name such as Europe/Berlin or UTC)"))
}

/// The local IANA zone from `TZ` or the system, else UTC.
fn local_tz() -> Tz {
    std::env::var("TZ")
        .ok()
        .and_then(|t| t.trim_start_matches(':').parse().ok())
        .or_else(|| iana_time_zone::get_timezone().ok().and_then(|t| t.parse().ok()))
        .unwrap_or(Tz::UTC)
}

pub(crate) fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

impl UiFlags {
    /// Analysis settings: flags, else the config file, else defaults.
    pub fn settings(&self) -> Settings {
        let f = &self.file;
        let mut s = Settings {
            tz: self.tz.or(f.colocation.tz).unwrap_or_else(local_tz),
            keepalive_idle_s: self.keepalive_idle.or(f.conntrack.keepalive_idle_s).unwrap_or(900),
            ..Settings::default()
        };
        if !self.windows.is_empty() {
            s.windows = self.windows.clone();
        } else if let Some(w) = &f.colocation.windows {
            s.windows = w.clone();
        }
        s
    }
    /// Whether the dashboard takes the mouse: not with `--no-mouse`, else as the config says.
    pub fn mouse(&self) -> bool {
        !self.no_mouse && self.file.mouse.unwrap_or(true)
    }
    pub fn theme(&self) -> Result<Theme> {
        if no_color() {
            return Ok(Theme::mono(self.ascii));
        }
        let name = self.theme.as_deref().or(self.file.theme.as_deref()).unwrap_or("default");
        Theme::load(name, self.ascii)
    }
}

impl SimFlags {
    pub(crate) fn config(&self, tz: Tz) -> SimConfig {
        SimConfig { nodes: self.nodes as usize, seed: self.seed, scenario: self.scenario, tz }
    }
}

pub fn main() -> ExitCode {
    let started = std::time::Instant::now();
    let mut cli = Cli::parse();
    if let Err(e) = crate::logging::init() {
        eprintln!("clustertop: {e:#}");
        return ExitCode::from(2);
    }
    match Config::load(cli.ui.config.as_deref()) {
        Ok(c) => cli.ui.file = c,
        Err(e) => {
            eprintln!("clustertop: {e}");
            return ExitCode::from(2);
        }
    }
    let result = match &cli.command {
        Some(Command::Snapshot { demo: true, format, sim, .. }) => run::snapshot_demo(&cli.ui, *format, sim),
        Some(Command::Snapshot { demo: false, format, wait, .. }) => {
            tokio_main(run::snapshot_cluster(&cli.ui, &cli.kube, *format, *wait))
        }
        Some(Command::Agent(flags)) => tokio_main(crate::agent::cli::run(flags)),
        Some(Command::Demo(flags)) => tokio_main(run::demo(&cli.ui, flags, started)),
        Some(Command::Sim { command: SimCommand::Serve(flags) }) => tokio_main(run::serve(&cli.ui, flags)),
        Some(Command::Report { command: ReportCommand::Capacity(flags) }) => {
            tokio_main(run::report_capacity(&cli.ui, &cli.kube, flags))
        }
        Some(Command::Sim { command: SimCommand::Openmetrics(flags) }) => run::openmetrics(&cli.ui, flags),
        Some(Command::Replay { file }) => tokio_main(run::replay(&cli.ui, file, started)),
        None => tokio_main(run::cluster(&cli.ui, &cli.kube, started)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<run::ConfigError>() || e.is::<crate::report::build::NoReport>() => {
            eprintln!("clustertop: {e:#}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("clustertop: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn tokio_main(fut: impl std::future::Future<Output = Result<()>>) -> Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(fut)
}
