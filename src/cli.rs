//! Command line: parse, build settings, dispatch. `main.rs` only calls `cli::main`.
//!
//! Each command takes only the flags it uses (`clustertop agent --help` lists the agent's own),
//! grouped in small `Args` structs that several commands flatten. A bad value is a clap error
//! naming the flag (exit 2); what clap cannot check alone (overlapping `--window`s, a sim flag
//! without `--demo`) is checked right after parsing, the same way.

mod history;
mod parse;
mod record;
mod run;
mod sim_flags;
mod ui_flags;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono_tz::Tz;
use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use self::parse::*;
pub use self::sim_flags::{OpenMetricsFlags, ServeFlags, SimCommand};
pub use self::ui_flags::UiFlags;
use crate::config::Config;
use crate::model::Window;
use crate::report::ReportFormat;
use crate::sim::{Scenario, SimConfig};

#[derive(Parser, Debug)]
#[command(
    name = "clustertop",
    version,
    about = "A terminal dashboard for large bare-metal Kubernetes clusters",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The dashboard's flags (no subcommand: the current kube context).
    #[command(flatten)]
    pub dashboard: DashboardFlags,
}

/// `clustertop` on a kube context.
#[derive(Args, Debug, Clone)]
pub struct DashboardFlags {
    #[command(flatten)]
    pub kube: KubeFlags,
    #[command(flatten)]
    pub rack: RackFlag,
    #[command(flatten)]
    pub prometheus: PrometheusFlag,
    #[command(flatten)]
    pub agents: AgentsFlags,
    #[command(flatten)]
    pub display: DisplayFlags,
    #[command(flatten)]
    pub windows: WindowFlags,
    #[command(flatten)]
    pub tz: TzFlag,
    #[command(flatten)]
    pub keepalive: KeepaliveFlag,
    #[command(flatten)]
    pub record: RecordFlag,
    #[command(flatten)]
    pub config: ConfigFlag,
}

#[derive(Args, Debug, Clone, Default)]
pub struct KubeFlags {
    /// Kube context to use (default: the kubeconfig's current context).
    #[arg(long)]
    pub context: Option<String>,
    /// Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster config).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct RackFlag {
    /// Node label that names a node's rack (falls back to clustertop.io/rack).
    #[arg(long, default_value = "topology.kubernetes.io/zone", value_name = "LABEL", value_parser = parse_label_key)]
    pub rack_label: String,
}

/// (Flags read from the environment too are checked in [`check`], not by clap: clap reads the
/// dashboard's environment variables even when a subcommand runs.)
#[derive(Args, Debug, Clone, Default)]
pub struct PrometheusFlag {
    /// Prometheus-compatible backend (http:// or https://) for the CPU curve, conntrack and BGP
    /// metrics.
    #[arg(long, env = "CLUSTERTOP_PROMETHEUS", value_name = "URL")]
    pub prometheus: Option<String>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct AgentsFlags {
    /// Node agents: comma-separated base URLs to poll (http://10.0.0.5:9977,…), `auto` (poll the
    /// pods labelled app.kubernetes.io/name=clustertop-agent, port 9977), `prometheus` (read
    /// their facts from --prometheus, which scrapes them: deploy/agent-podmonitor.yaml), or `off`.
    #[arg(long, env = "CLUSTERTOP_AGENTS", value_name = "URL,…|auto|prometheus|off")]
    pub agents: Option<String>,
    /// Bearer token for agents started with --token-file, read from this file.
    #[arg(long, env = "CLUSTERTOP_AGENT_TOKEN_FILE", value_name = "FILE")]
    pub agent_token_file: Option<PathBuf>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct DisplayFlags {
    /// Theme: default, light, high-contrast, colorblind, mono, or a path to a .toml theme file.
    #[arg(long, value_name = "NAME|FILE.toml", value_parser = parse_theme)]
    pub theme: Option<String>,
    /// Draw with ASCII only: no box-drawing, block or braille characters.
    #[arg(long)]
    pub ascii: bool,
    /// Leave the mouse to the terminal (no clicks or wheel in the dashboard; the terminal's own
    /// text selection works). Also `mouse = false` in the config file.
    #[arg(long)]
    pub no_mouse: bool,
}

#[derive(Args, Debug, Clone, Default)]
pub struct WindowFlags {
    /// Colocation window HH:MM-HH:MM in --tz (repeatable, must not overlap; may cross
    /// midnight). Default 01:00-06:00.
    #[arg(long = "window", value_name = "HH:MM-HH:MM", value_parser = Window::parse)]
    pub windows: Vec<Window>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct TzFlag {
    /// Time zone of the windows and clock, e.g. Asia/Shanghai (default: the local zone).
    #[arg(long, value_name = "ZONE", value_parser = parse_tz)]
    pub tz: Option<Tz>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct KeepaliveFlag {
    /// Keep-alive idle time (seconds) that conntrack established timeouts are checked against
    /// (default 900).
    #[arg(long, value_name = "SECS", value_parser = parse_keepalive)]
    pub keepalive_idle: Option<u64>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct ConfigFlag {
    /// Config file (default: $XDG_CONFIG_HOME/clustertop/config.toml, if it exists).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct RecordFlag {
    /// Do not record (the dashboard records its cluster by default into
    /// $XDG_STATE_HOME/clustertop/recordings/<context>.db; config key `record = false`).
    #[arg(long)]
    pub no_record: bool,
}

#[derive(Args, Debug, Clone)]
pub struct RefreshFlag {
    /// Seconds between simulator steps (0.1-3600).
    #[arg(long, default_value_t = 1.0, value_name = "SECS", value_parser = parse_refresh)]
    pub refresh: f64,
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
    Demo(DemoFlags),
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
    /// Record the cluster headless (for a systemd unit or a cron job), until --for is over or
    /// SIGINT/SIGTERM; the file is then closed cleanly.
    Record(record::RecordFlags),
    /// Print the model and findings once, for scripts (the current kube context, or --demo, or a
    /// past moment: --at TIME with --from FILE, a recording, or --prometheus URL).
    Snapshot(SnapshotFlags),
    /// The dashboard on a recording, read-only, on any machine: the cursor starts at its end;
    /// `[` `]` `{` `}` `:at` move it, `:diff` lists what changed.
    Replay(ReplayFlags),
}

#[derive(Args, Debug, Clone)]
pub struct ReplayFlags {
    /// The recording (a `.db` file under ~/.local/state/clustertop/recordings/, or one
    /// `clustertop record --out` wrote).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub display: DisplayFlags,
    #[command(flatten)]
    pub windows: WindowFlags,
    #[command(flatten)]
    pub tz: TzFlag,
    #[command(flatten)]
    pub keepalive: KeepaliveFlag,
    #[command(flatten)]
    pub config: ConfigFlag,
}

#[derive(Args, Debug, Clone)]
pub struct DemoFlags {
    #[command(flatten)]
    pub sim: SimFlags,
    #[command(flatten)]
    pub refresh: RefreshFlag,
    #[command(flatten)]
    pub display: DisplayFlags,
    #[command(flatten)]
    pub windows: WindowFlags,
    #[command(flatten)]
    pub tz: TzFlag,
    #[command(flatten)]
    pub keepalive: KeepaliveFlag,
    #[command(flatten)]
    pub config: ConfigFlag,
    /// Refused with the reason: the demo's CPU curve is the simulator's.
    #[arg(long, hide = true, value_name = "URL", value_parser = refuse_demo_prometheus)]
    pub prometheus: Option<String>,
    /// Refused with the reason: the demo's nodes have no agents.
    #[arg(long, hide = true, value_name = "URL,…", value_parser = refuse_demo_agents)]
    pub agents: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct SnapshotFlags {
    /// Use the embedded simulated cluster instead of a kube context.
    #[arg(long, conflicts_with = "from")]
    pub demo: bool,
    /// A recording to read the moment --at from.
    #[arg(long, value_name = "FILE", requires = "at")]
    pub from: Option<PathBuf>,
    /// A past moment, from a recording (--from FILE) or Prometheus (--prometheus URL): RFC 3339,
    /// HH:MM[:SS] (today, in --tz) or -DURATION (-20m).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub at: Option<String>,
    /// With a kube context: give up waiting for the initial lists after this many seconds.
    #[arg(long, default_value_t = 60, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub wait: u64,
    /// Output format: the JSON documented in the README (clustertop.snapshot/v2), or text.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// With --at: the moment from Prometheus (nodes and pods from kube-state-metrics) instead of
    /// a recording.
    #[command(flatten)]
    pub prometheus: PrometheusFlag,
    #[command(flatten)]
    pub kube: KubeFlags,
    #[command(flatten)]
    pub rack: RackFlag,
    #[command(flatten)]
    pub windows: WindowFlags,
    #[command(flatten)]
    pub tz: TzFlag,
    #[command(flatten)]
    pub keepalive: KeepaliveFlag,
    #[command(flatten)]
    pub config: ConfigFlag,
    #[command(flatten, next_help_heading = "The simulated cluster (with --demo)")]
    pub sim: SimFlags,
}

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Capacity review of the colocation windows for the 24 h ending at --end: fill per window and
    /// rack, idle core-hours, spill, the least-filled nodes. Exit 2 when Prometheus is unreachable
    /// or has no data.
    Capacity(CapacityFlags),
    /// A timeline of what changed between --since and --until (first and last time of each
    /// finding, TOR and rack outages, verdict changes per node), for a postmortem: from a
    /// recording (--from FILE), or from Prometheus (moments a minute apart at the finest).
    Incident(history::IncidentFlags),
}

#[derive(Args, Debug, Clone)]
pub struct CapacityFlags {
    /// End of the reviewed 24 h, RFC3339 (default: now).
    #[arg(long, value_parser = parse_rfc3339, value_name = "RFC3339")]
    pub end: Option<chrono::DateTime<chrono::Utc>>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    pub format: ReportFormat,
    /// How many under-filled nodes to list.
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub top: u16,
    #[command(flatten)]
    pub prometheus: PrometheusFlag,
    #[command(flatten)]
    pub rack: RackFlag,
    #[command(flatten)]
    pub windows: WindowFlags,
    #[command(flatten)]
    pub tz: TzFlag,
    #[command(flatten)]
    pub config: ConfigFlag,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Text,
}

pub(crate) fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

impl SimFlags {
    pub(crate) fn config(&self, tz: Tz) -> SimConfig {
        SimConfig { nodes: self.nodes as usize, seed: self.seed, scenario: self.scenario, tz }
    }
}

/// The innermost subcommand's matches.
fn leaf(m: &ArgMatches) -> &ArgMatches {
    match m.subcommand() {
        Some((_, sub)) => leaf(sub),
        None => m,
    }
}

/// The command line's innermost subcommand, for its usage line in errors.
fn leaf_command(mut cmd: clap::Command, m: &ArgMatches) -> clap::Command {
    let mut m = m;
    while let Some((name, sub)) = m.subcommand() {
        match cmd.find_subcommand(name) {
            Some(c) => cmd = c.clone(),
            None => break,
        }
        m = sub;
    }
    cmd
}

fn id_env(id: &str) -> String {
    format!("CLUSTERTOP_{}", id.to_ascii_uppercase())
}

/// Checks across flags, after parsing; the error is clap's, naming the flag.
fn check(cli: &Cli, matches: &ArgMatches, ui: &UiFlags) -> Result<(), clap::Error> {
    let mut root = Cli::command();
    root.build();
    let mut cmd = leaf_command(root, matches);
    let leaf_matches = leaf(matches);
    type Parse = fn(&str) -> Result<String, String>;
    let env_checked: [(&str, &str, Option<&String>, Parse); 2] = [
        ("prometheus", "URL", ui.prometheus.as_ref(), parse_url),
        ("agents", "URL,…|auto|prometheus|off", ui.agents.as_ref(), parse_agents),
    ];
    for (id, value_name, value, parse) in env_checked {
        if let Some(v) = value
            && let Err(e) = parse(v)
        {
            let from = match leaf_matches.value_source(id) {
                Some(ValueSource::EnvVariable) => format!(" (from ${})", id_env(id)),
                _ => String::new(),
            };
            let msg = format!("invalid value '{v}' for '--{id} <{value_name}>'{from}: {e}");
            return Err(cmd.error(ErrorKind::ValueValidation, msg));
        }
    }
    Window::check_disjoint(&ui.windows)
        .map_err(|e| cmd.error(ErrorKind::ArgumentConflict, format!("--window: {e}")))?;
    if let Some(Command::Snapshot(f)) = &cli.command {
        let given = |id: &str| leaf(matches).value_source(id) == Some(ValueSource::CommandLine);
        let (needs, unused) = if f.demo {
            (None, ["context", "kubeconfig", "wait"].iter().find(|id| given(id)))
        } else {
            (["nodes", "seed", "scenario"].iter().find(|id| given(id)), None)
        };
        if let Some(id) = needs {
            let msg = format!("--{id} sets the simulated cluster: add --demo");
            return Err(cmd.error(ErrorKind::ArgumentConflict, msg));
        }
        if let Some(id) = unused {
            let msg = format!("--{id} is for a kube context; --demo uses the simulated cluster");
            return Err(cmd.error(ErrorKind::ArgumentConflict, msg));
        }
        if f.demo && f.at.is_some() {
            let msg = "--at reads a past moment from a recording (--from FILE) or Prometheus (--prometheus URL), not from --demo";
            return Err(cmd.error(ErrorKind::ArgumentConflict, msg));
        }
        if f.from.is_some() && given("prometheus") {
            let msg = "--from reads the moment from a recording, --prometheus from the metrics: give one";
            return Err(cmd.error(ErrorKind::ArgumentConflict, msg));
        }
        if f.at.is_none() && given("prometheus") {
            let msg = "--prometheus with snapshot reads a past moment: add --at TIME (a live snapshot reads the kube context)";
            return Err(cmd.error(ErrorKind::ArgumentConflict, msg));
        }
    }
    Ok(())
}

pub fn main() -> ExitCode {
    let started = std::time::Instant::now();
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    if let Err(e) = crate::logging::init() {
        eprintln!("clustertop: {e:#}");
        return ExitCode::from(2);
    }
    let mut ui = match &cli.command {
        Some(c) => c.ui(),
        None => Some(cli.dashboard.ui()),
    };
    if let Some(ui) = &mut ui {
        if let Err(e) = check(&cli, &matches, ui) {
            e.exit();
        }
        match Config::load(ui.config.as_deref()) {
            Ok(c) => ui.file = c,
            Err(e) => {
                eprintln!("clustertop: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let ui = ui.unwrap_or_default();
    let result = match &cli.command {
        Some(Command::Snapshot(SnapshotFlags { from: Some(from), at: Some(at), format, .. })) => {
            history::snapshot(&ui, from, at, *format)
        }
        Some(Command::Snapshot(f)) if f.demo => run::snapshot_demo(&ui, f.format, &f.sim),
        Some(Command::Record(flags)) => tokio_main(record::run(&ui, &flags.kube, flags)),
        Some(Command::Report { command: ReportCommand::Incident(flags) }) => history::incident(&ui, flags),
        Some(Command::Snapshot(SnapshotFlags { at: Some(at), format, .. })) => {
            run::snapshot_prometheus(&ui, at, *format)
        }
        Some(Command::Snapshot(f)) => tokio_main(run::snapshot_cluster(&ui, &f.kube, f.format, f.wait)),
        Some(Command::Agent(flags)) => tokio_main(crate::agent::cli::run(flags)),
        Some(Command::Demo(flags)) => tokio_main(run::demo(&ui, &flags.sim, started)),
        Some(Command::Sim { command: SimCommand::Serve(flags) }) => tokio_main(run::serve(&ui, flags)),
        Some(Command::Report { command: ReportCommand::Capacity(flags) }) => {
            tokio_main(run::report_capacity(&ui, flags))
        }
        Some(Command::Sim { command: SimCommand::Openmetrics(flags) }) => run::openmetrics(&ui, flags),
        Some(Command::Replay(flags)) => tokio_main(run::replay(&ui, &flags.file, started)),
        None => tokio_main(run::cluster(&ui, &cli.dashboard.kube, started)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e)
            if e.is::<run::ConfigError>()
                || e.is::<crate::report::build::NoReport>()
                || e.is::<crate::agent::cli::BadSetting>() =>
        {
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
