//! Commands on a recording: `snapshot --from FILE --at TIME` and `report incident`. A moment the
//! recording does not cover, or a file that is not a recording, is exit status 2 with the range
//! it does cover; a damaged file is exit status 1 (it reads up to the damage).

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};

use super::run::ConfigError;
use super::{Format, UiFlags};
use crate::record::{self, History, Recording};

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentFormat {
    /// A postmortem section: outages, findings, verdict changes, the timeline.
    Markdown,
    /// `{"schema": "clustertop.incident/v1", ...}`.
    Json,
}

#[derive(Args, Debug, Clone)]
pub struct IncidentFlags {
    /// Start: RFC 3339, HH:MM[:SS] (today, in --tz) or -DURATION (-2h).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub since: String,
    /// End, as --since (default: the end of the recording).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub until: Option<String>,
    /// The recording to read (`clustertop record --out`, or the dashboard's under
    /// $XDG_STATE_HOME/clustertop/recordings/). Without it, the Prometheus of --prometheus.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    #[command(flatten)]
    pub prometheus: super::PrometheusFlag,
    #[command(flatten)]
    pub rack: super::RackFlag,
    #[arg(long, value_enum, default_value_t = IncidentFormat::Markdown)]
    pub format: IncidentFormat,
    /// Changes are dated to this at best (smaller is slower on a long window).
    #[arg(long, default_value = "5s", value_parser = crate::moment::parse_duration)]
    pub resolution: chrono::Duration,
    #[command(flatten)]
    pub tz: super::TzFlag,
    #[command(flatten)]
    pub config: super::ConfigFlag,
}

/// A recording error as the CLI reports it: what the user asked for that the file does not hold
/// is exit status 2.
fn failed(e: record::Error) -> anyhow::Error {
    match e {
        record::Error::Damaged { .. } | record::Error::Db { .. } | record::Error::Io { .. } => anyhow!(e),
        e => anyhow!(ConfigError(e.to_string())),
    }
}

fn moment(ui: &UiFlags, flag: &str, s: &str) -> Result<DateTime<Utc>> {
    crate::moment::parse_moment(s, Utc::now(), ui.settings().tz)
        .map_err(|e| anyhow!(ConfigError(format!("{flag}: {e}"))))
}

fn open(ui: &UiFlags, path: &Path) -> Result<Recording> {
    Recording::open(path, ui.settings()).map_err(failed)
}

/// `clustertop snapshot --from FILE --at TIME`.
pub fn snapshot(ui: &UiFlags, from: &Path, at: &str, format: Format) -> Result<()> {
    let t = moment(ui, "--at", at)?;
    let snap = open(ui, from)?.snapshot_at(t).map_err(failed)?;
    super::run::print_from(&snap, format, "recording");
    Ok(())
}

/// `clustertop report incident --from FILE`, or from Prometheus (`--prometheus URL`).
pub fn incident(ui: &UiFlags, f: &IncidentFlags) -> Result<()> {
    let since = moment(ui, "--since", &f.since)?;
    let Some(from) = &f.from else { return incident_from_prometheus(ui, f, since) };
    let r = open(ui, from)?;
    let spans = r.spans().map_err(failed)?;
    let (start, end) = (spans.iter().map(|s| s.start).min(), spans.iter().map(|s| s.end).max());
    let until = match &f.until {
        Some(u) => moment(ui, "--until", u)?,
        None => end.unwrap_or(since).max(since),
    };
    if until < since {
        return Err(ConfigError(format!(
            "--until {} is before --since {}",
            until.format("%Y-%m-%dT%H:%M:%SZ"),
            since.format("%Y-%m-%dT%H:%M:%SZ")
        ))
        .into());
    }
    // Before the start and past the end of the recording there is nothing to tell: the window
    // is cut to it (a window wholly outside it is an error naming what it covers).
    if !spans.iter().any(|s| s.start <= until && since <= s.end) {
        return Err(failed(record::Error::NotRecorded { at: since, spans }));
    }
    let since = match start {
        Some(s) if since < s && until >= s => s,
        _ => since,
    };
    let until = end.map_or(until, |e| until.min(e).max(since));
    let resolution = f.resolution.max(chrono::Duration::seconds(1));
    let inc = record::incident::build(&r, since, until, resolution).map_err(failed)?;
    print_incident(ui, f, &inc)
}

fn print_incident(ui: &UiFlags, f: &IncidentFlags, inc: &record::incident::Incident) -> Result<()> {
    let out = match f.format {
        IncidentFormat::Markdown => crate::report::incident::markdown(inc, ui.settings().tz),
        IncidentFormat::Json => crate::report::incident::json(inc),
    };
    write_out(&out)
}

/// `report incident --prometheus URL`: moments a minute apart at the finest, each rebuilt from
/// Prometheus as `snapshot --prometheus --at` does.
fn incident_from_prometheus(ui: &UiFlags, f: &IncidentFlags, since: DateTime<Utc>) -> Result<()> {
    use crate::sources::prometheus::as_history::MIN_STEP;
    let Some(h) = super::run::prom_history(ui)? else {
        return Err(ConfigError(
            "report incident needs where the past is: --from FILE (a recording), or a Prometheus URL (--prometheus URL, CLUSTERTOP_PROMETHEUS or [prometheus] url in the config file)".into(),
        )
        .into());
    };
    let now = Utc::now();
    let until = match &f.until {
        Some(u) => moment(ui, "--until", u)?.min(now),
        None => now,
    };
    if until <= since {
        return Err(ConfigError(format!(
            "--since {} is not before --until {}",
            since.format("%Y-%m-%dT%H:%M:%SZ"),
            until.format("%Y-%m-%dT%H:%M:%SZ")
        ))
        .into());
    }
    let inc =
        record::incident::build(&h, since, until, f.resolution.max(MIN_STEP)).map_err(|e| anyhow!("{e}"))?;
    print_incident(ui, f, &inc)
}

/// Stdout, where a reader that went away (`| head`) is not an error.
fn write_out(text: &str) -> Result<()> {
    use std::io::Write;
    match writeln!(std::io::stdout().lock(), "{text}") {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
