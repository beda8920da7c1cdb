//! Command line: parse, build settings, dispatch. `main.rs` only calls `cli::main`.
//!
//! Each command takes only the flags it uses (`clustertop agent --help` lists the agent's own),
//! grouped in small `Args` structs that several commands flatten. A bad value is a clap error
//! naming the flag (exit 2); what clap cannot check alone (overlapping `--window`s, a sim flag
//! without `--demo`) is checked right after parsing, the same way.

mod history;
mod record;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono_tz::Tz;
use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

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

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Text,
}

fn parse_rfc3339(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("{s:?} is not an RFC3339 time such as 2026-11-24T12:00:00Z: {e}"))
}

fn parse_past_rfc3339(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    let t = parse_rfc3339(s)?;
    let now = chrono::Utc::now();
    if t > now {
        return Err(format!(
            "{} is in the future (now is {}): Prometheus misbehaves with future samples",
            t.to_rfc3339(),
            now.to_rfc3339()
        ));
    }
    Ok(t)
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

/// A built-in theme, or a theme file that loads.
fn parse_theme(s: &str) -> Result<String, String> {
    Theme::load(s, false).map(|_| s.to_string()).map_err(|e| format!("{e:#}"))
}

fn parse_url(s: &str) -> Result<String, String> {
    crate::config::check_url(s).map(|()| s.to_string())
}

fn parse_agents(s: &str) -> Result<String, String> {
    match s.trim() {
        "auto" | "prometheus" | "off" | "" => Ok(s.trim().to_string()),
        list => {
            for u in list.split(',').map(str::trim) {
                crate::config::check_url(u).map_err(|e| format!("{e}; or give auto, prometheus or off"))?;
            }
            Ok(list.to_string())
        }
    }
}

/// A Kubernetes label key: an optional DNS prefix and `/`, then a name of 1-63 characters.
fn parse_label_key(s: &str) -> Result<String, String> {
    let name = s.rsplit('/').next().unwrap_or("");
    let ok = !name.is_empty()
        && name.len() <= 63
        && s.matches('/').count() <= 1
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not a Kubernetes label key such as topology.kubernetes.io/zone"))
    }
}

fn parse_plural(s: &str) -> Result<String, String> {
    let known = crate::sim::serve::plurals();
    if known.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(format!("sim serve serves no {s:?}; the resources are {}", known.join(", ")))
    }
}

fn parse_keepalive(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(v) if v > 0 => Ok(v),
        _ => Err(format!("{s:?} is not a number of seconds above 0")),
    }
}

fn parse_churn(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("{s:?} is not a number of pod changes per second above 0")),
    }
}

fn refuse_demo_prometheus(_: &str) -> Result<String, String> {
    Err("the demo draws the simulated cluster's own CPU curve, so it takes no Prometheus; use \
         `clustertop --prometheus URL` on a kube context, or `report capacity --prometheus URL`"
        .into())
}

fn refuse_demo_agents(_: &str) -> Result<String, String> {
    Err("the demo's nodes are simulated and have no node agents; use `clustertop --agents …` on a kube \
         context"
        .into())
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

/// What a command was given, whatever its flags: the flags it has (the others at their
/// defaults) and the config file's contents.
#[derive(Debug, Clone)]
pub struct UiFlags {
    pub theme: Option<String>,
    pub ascii: bool,
    pub no_mouse: bool,
    pub no_record: bool,
    pub refresh: f64,
    pub windows: Vec<Window>,
    pub tz: Option<Tz>,
    pub keepalive_idle: Option<u64>,
    pub prometheus: Option<String>,
    pub agents: Option<String>,
    pub agent_token_file: Option<PathBuf>,
    pub rack_label: String,
    pub config: Option<PathBuf>,
    /// The config file's contents, loaded after parsing (flags override it).
    pub file: Config,
}

impl Default for UiFlags {
    fn default() -> Self {
        UiFlags {
            theme: None,
            ascii: false,
            no_mouse: false,
            no_record: false,
            refresh: 1.0,
            windows: Vec::new(),
            tz: None,
            keepalive_idle: None,
            prometheus: None,
            agents: None,
            agent_token_file: None,
            rack_label: "topology.kubernetes.io/zone".into(),
            config: None,
            file: Config::default(),
        }
    }
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

/// The pieces a command has, as one `UiFlags`.
#[derive(Default)]
struct Parts<'a> {
    display: Option<&'a DisplayFlags>,
    refresh: Option<&'a RefreshFlag>,
    windows: Option<&'a WindowFlags>,
    tz: Option<&'a TzFlag>,
    keepalive: Option<&'a KeepaliveFlag>,
    prometheus: Option<&'a PrometheusFlag>,
    agents: Option<&'a AgentsFlags>,
    rack: Option<&'a RackFlag>,
    config: Option<&'a ConfigFlag>,
    record: Option<&'a RecordFlag>,
}

impl Parts<'_> {
    fn ui(&self) -> UiFlags {
        let d = UiFlags::default();
        UiFlags {
            theme: self.display.and_then(|x| x.theme.clone()),
            ascii: self.display.is_some_and(|x| x.ascii),
            no_mouse: self.display.is_some_and(|x| x.no_mouse),
            no_record: self.record.is_some_and(|x| x.no_record),
            refresh: self.refresh.map_or(d.refresh, |x| x.refresh),
            windows: self.windows.map(|x| x.windows.clone()).unwrap_or_default(),
            tz: self.tz.and_then(|x| x.tz),
            keepalive_idle: self.keepalive.and_then(|x| x.keepalive_idle),
            prometheus: self.prometheus.and_then(|x| x.prometheus.clone()),
            agents: self.agents.and_then(|x| x.agents.clone()),
            agent_token_file: self.agents.and_then(|x| x.agent_token_file.clone()),
            rack_label: self.rack.map_or(d.rack_label, |x| x.rack_label.clone()),
            config: self.config.and_then(|x| x.config.clone()),
            file: Config::default(),
        }
    }
}

impl Command {
    /// The flags this command has, as `UiFlags`; `None` for the agent (no config file, no UI).
    fn ui(&self) -> Option<UiFlags> {
        let p = match self {
            Command::Agent(_) => return None,
            Command::Record(f) => Parts {
                refresh: Some(&f.refresh),
                windows: Some(&f.windows),
                tz: Some(&f.tz),
                keepalive: Some(&f.keepalive),
                prometheus: Some(&f.prometheus),
                agents: Some(&f.agents),
                rack: Some(&f.rack),
                config: Some(&f.config),
                ..Parts::default()
            },
            Command::Replay(f) => Parts {
                display: Some(&f.display),
                windows: Some(&f.windows),
                tz: Some(&f.tz),
                keepalive: Some(&f.keepalive),
                config: Some(&f.config),
                ..Parts::default()
            },
            Command::Report { command: ReportCommand::Incident(f) } => Parts {
                // Only without a recording is Prometheus read.
                prometheus: f.from.is_none().then_some(&f.prometheus),
                rack: Some(&f.rack),
                tz: Some(&f.tz),
                config: Some(&f.config),
                ..Parts::default()
            },
            Command::Demo(f) => Parts {
                display: Some(&f.display),
                refresh: Some(&f.refresh),
                windows: Some(&f.windows),
                tz: Some(&f.tz),
                keepalive: Some(&f.keepalive),
                config: Some(&f.config),
                ..Parts::default()
            },
            Command::Snapshot(f) => Parts {
                // Only a past moment reads Prometheus ($CLUSTERTOP_PROMETHEUS is not checked otherwise).
                prometheus: f.at.is_some().then_some(&f.prometheus),
                windows: Some(&f.windows),
                tz: Some(&f.tz),
                keepalive: Some(&f.keepalive),
                rack: Some(&f.rack),
                config: Some(&f.config),
                ..Parts::default()
            },
            Command::Report { command: ReportCommand::Capacity(f) } => Parts {
                prometheus: Some(&f.prometheus),
                rack: Some(&f.rack),
                windows: Some(&f.windows),
                tz: Some(&f.tz),
                config: Some(&f.config),
                ..Parts::default()
            },
            Command::Sim { command: SimCommand::Serve(f) } => Parts {
                refresh: Some(&f.refresh),
                tz: Some(&f.tz),
                config: Some(&f.config),
                ..Parts::default()
            },
            Command::Sim { command: SimCommand::Openmetrics(f) } => {
                Parts { tz: Some(&f.tz), config: Some(&f.config), ..Parts::default() }
            }
        };
        Some(p.ui())
    }
}

impl DashboardFlags {
    fn ui(&self) -> UiFlags {
        Parts {
            display: Some(&self.display),
            windows: Some(&self.windows),
            tz: Some(&self.tz),
            keepalive: Some(&self.keepalive),
            prometheus: Some(&self.prometheus),
            agents: Some(&self.agents),
            rack: Some(&self.rack),
            config: Some(&self.config),
            record: Some(&self.record),
            ..Parts::default()
        }
        .ui()
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
