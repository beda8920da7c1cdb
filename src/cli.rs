//! Command line: parse, build settings, dispatch. `main.rs` only calls `cli::main`.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::Utc;
use chrono_tz::Tz;
use clap::{Args, Parser, Subcommand, ValueEnum};
use tokio::sync::{mpsc, watch};

use crate::analysis::Settings;
use crate::model::Window;
use crate::runtime::{self, Options};
use crate::sim::{Scenario, Sim, SimConfig};
use crate::store::ClusterState;
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
    /// Kube context to use (Kubernetes source: not in this build yet).
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// Kubeconfig file (Kubernetes source: not in this build yet).
    #[arg(long, global = true, env = "KUBECONFIG")]
    pub kubeconfig: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct UiFlags {
    /// Theme: default, light, high-contrast, colorblind, mono, or a path to a .toml theme file.
    #[arg(long, global = true)]
    pub theme: Option<String>,
    /// Draw with ASCII only: no box-drawing, block or braille characters.
    #[arg(long, global = true)]
    pub ascii: bool,
    /// Seconds between simulator steps / source refreshes.
    #[arg(long, global = true, default_value_t = 1.0, value_parser = parse_refresh)]
    pub refresh: f64,
    /// Colocation window HH:MM-HH:MM in --tz (repeatable; may cross midnight). Default 01:00-06:00.
    #[arg(long = "window", global = true, value_parser = Window::parse)]
    pub windows: Vec<Window>,
    /// Time zone of the windows and clock, e.g. Asia/Shanghai (default: the local zone).
    #[arg(long, global = true, value_parser = parse_tz)]
    pub tz: Option<Tz>,
    /// Keep-alive idle time (seconds) that conntrack established timeouts are checked against.
    #[arg(long, global = true, default_value_t = 900)]
    pub keepalive_idle: u64,
}

#[derive(Args, Debug, Clone)]
pub struct SimFlags {
    /// Number of simulated nodes.
    #[arg(long, default_value_t = 48, value_parser = clap::value_parser!(u32).range(1..=20000))]
    pub nodes: u32,
    /// Seed of the deterministic simulation.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Scenario: migration, healthy, tor-outage, conntrack-storm.
    #[arg(long, default_value = "migration", value_parser = Scenario::parse)]
    pub scenario: Scenario,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The dashboard on the embedded simulated cluster.
    Demo(SimFlags),
    /// Print the model and findings once, for scripts.
    Snapshot {
        /// Use the embedded simulated cluster.
        #[arg(long)]
        demo: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        sim: SimFlags,
    },
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

fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

impl UiFlags {
    pub fn settings(&self) -> Settings {
        let mut s = Settings {
            tz: self.tz.unwrap_or_else(local_tz),
            keepalive_idle_s: self.keepalive_idle,
            ..Settings::default()
        };
        if !self.windows.is_empty() {
            s.windows = self.windows.clone();
        }
        s
    }
    pub fn theme(&self) -> Result<Theme> {
        if no_color() {
            return Ok(Theme::mono(self.ascii));
        }
        Theme::load(self.theme.as_deref().unwrap_or("default"), self.ascii)
    }
}

impl SimFlags {
    fn config(&self, tz: Tz) -> SimConfig {
        SimConfig { nodes: self.nodes as usize, seed: self.seed, scenario: self.scenario, tz }
    }
}

async fn demo(ui: &UiFlags, flags: &SimFlags, started: std::time::Instant) -> Result<()> {
    let theme = ui.theme()?;
    let settings = ui.settings();
    let sim = Sim::new(flags.config(settings.tz), Utc::now());
    let state = ClusterState::new(sim.label(), settings);
    let (utx, urx) = mpsc::channel(64);
    let (stx, srx) = watch::channel(None);
    tokio::spawn(crate::sources::sim::run(sim, utx, Duration::from_secs_f64(ui.refresh)));
    tokio::spawn(runtime::store_task(state, urx, stx));
    runtime::run(srx, Options { theme, ascii: ui.ascii, no_color: no_color(), started }).await
}

fn snapshot(ui: &UiFlags, demo: bool, format: Format, flags: &SimFlags) -> Result<()> {
    if !demo {
        bail!("only --demo is available until the Kubernetes source lands; try `clustertop snapshot --demo`");
    }
    let settings = ui.settings();
    let now = Utc::now();
    let snap = crate::sim::snapshot_at(flags.config(settings.tz), now, settings);
    let out = match format {
        Format::Json => crate::snapshot_cmd::json(&snap),
        Format::Text => crate::snapshot_cmd::text(&snap),
    };
    println!("{out}");
    Ok(())
}

pub fn main() -> ExitCode {
    let started = std::time::Instant::now();
    let cli = Cli::parse();
    if let Err(e) = crate::logging::init() {
        eprintln!("clustertop: {e:#}");
        return ExitCode::from(2);
    }
    let result = match &cli.command {
        Some(Command::Snapshot { demo, format, sim }) => snapshot(&cli.ui, *demo, *format, sim),
        Some(Command::Demo(flags)) => tokio_main(demo(&cli.ui, flags, started)),
        None => {
            eprintln!(
                "clustertop: this build has no Kubernetes source yet, so it cannot show a real cluster; \
                 try `clustertop demo`"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
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
