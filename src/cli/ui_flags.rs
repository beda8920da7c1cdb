//! `UiFlags`: what a command was given, whatever its flags (the flags it has, the others at their
//! defaults), and how each command's flag groups map onto it.

use std::path::PathBuf;

use chrono_tz::Tz;

use super::*;
use crate::analysis::Settings;
use crate::theme::Theme;

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
    pub(super) fn ui(&self) -> UiFlags {
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
    pub(super) fn ui(&self) -> Option<UiFlags> {
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
    pub(super) fn ui(&self) -> UiFlags {
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
