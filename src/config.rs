//! The optional config file, `$XDG_CONFIG_HOME/clustertop/config.toml` (fallback
//! `$HOME/.config/clustertop/config.toml`, or `--config FILE`). Flags override the file; the file
//! overrides the defaults. `examples/config.toml` documents every key.
//!
//! Every table rejects unknown keys, so a typo is an error, not a silently ignored setting. Errors
//! are one line naming the file, the line and the dotted key: `config.toml:7: colocation.windows:
//! ...`. Relative `*_file` paths are read relative to the config file's directory.

mod locate;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use serde::{Deserialize, Deserializer};

use crate::model::Window;
use crate::sources::prometheus::queries::TEMPLATES;
use locate::Locator;

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub prometheus: PrometheusConfig,
    pub offline: OfflineConfig,
    pub colocation: ColocationConfig,
    pub conntrack: ConntrackConfig,
    /// Overrides of named PromQL templates, name to query.
    pub queries: BTreeMap<String, String>,
    /// A built-in theme name or a theme file path (relative to the config file's directory).
    pub theme: Option<String>,
    /// `false`: leave the mouse to the terminal (as `--no-mouse`).
    pub mouse: Option<bool>,
    /// Where each key was read (file and line), to name it in errors found later.
    #[serde(skip)]
    pub at: Located,
}

/// The file a config came from and the line of each of its keys.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Located {
    pub origin: Option<PathBuf>,
    lines: BTreeMap<String, usize>,
}

impl Located {
    /// `file:line: key: message` (or `file: key: message` for a key the file does not have).
    pub fn error(&self, key: &str, msg: impl fmt::Display) -> String {
        let file = self.origin.as_deref().map(|p| p.display().to_string()).unwrap_or_else(|| "config".into());
        match self.lines.get(key) {
            Some(line) => format!("{file}:{line}: {key}: {msg}"),
            None => format!("{file}: {key}: {msg}"),
        }
    }
}

/// Where the CPU history comes from. `Debug` never prints the secrets.
#[derive(Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrometheusConfig {
    pub url: Option<String>,
    /// The label that names the node in node-level series (`node`, `instance`, ...).
    pub node_label: Option<String>,
    pub rack_label: Option<String>,
    /// HTTP timeout per request, seconds.
    pub timeout_s: Option<f64>,
    /// How often the curve is re-queried, seconds.
    pub refresh_s: Option<f64>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub password_file: Option<PathBuf>,
    pub bearer_token: Option<String>,
    pub bearer_token_file: Option<PathBuf>,
}

/// Credentials for the Prometheus API. `Debug` never prints the secret.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    Basic { username: String, password: String },
    Bearer(String),
}

/// Which pods count as offline (batch) work.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OfflineConfig {
    /// Pod `priorityClassName` values.
    pub priority_classes: Vec<String>,
    /// `koordinator.sh/qosClass` label values.
    pub qos_classes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColocationConfig {
    #[serde(deserialize_with = "de_windows")]
    pub windows: Option<Vec<Window>>,
    #[serde(deserialize_with = "de_tz")]
    pub tz: Option<Tz>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConntrackConfig {
    /// Keep-alive idle time of the proxies in front of the pods, seconds.
    pub keepalive_idle_s: Option<u64>,
}

impl Default for OfflineConfig {
    fn default() -> Self {
        OfflineConfig {
            priority_classes: vec!["koord-batch".into(), "koord-free".into()],
            qos_classes: vec!["BE".into()],
        }
    }
}

/// Upper bounds that catch a unit mistake (milliseconds typed as seconds).
const MAX_TIMEOUT_S: f64 = 300.0;
const MAX_REFRESH_S: f64 = 3600.0;

impl Config {
    /// `$XDG_CONFIG_HOME/clustertop/config.toml`, else `$HOME/.config/clustertop/config.toml`.
    pub fn default_path() -> Option<PathBuf> {
        default_path_from(std::env::var_os("XDG_CONFIG_HOME"), std::env::var_os("HOME"))
    }

    /// `explicit` = `--config FILE`: must exist. Otherwise the default path; a missing default file
    /// is `Ok(Config::default())`.
    pub fn load(explicit: Option<&Path>) -> Result<Config, String> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => match Config::default_path() {
                Some(p) if p.exists() => p,
                _ => return Ok(Config::default()),
            },
        };
        let text = std::fs::read_to_string(&path).map_err(|e| match explicit {
            Some(_) => format!("--config {}: {e}", path.display()),
            None => format!("config file {}: {e}", path.display()),
        })?;
        Config::parse(&text, &path)
    }

    /// Parse and validate a config document; `origin` names it in errors and anchors relative
    /// `*_file` paths.
    pub fn parse(text: &str, origin: &Path) -> Result<Config, String> {
        let loc = Locator::new(text);
        let mut cfg: Config = toml::from_str(text).map_err(|e| toml_error(&e, &loc, origin))?;
        cfg.at = Located { origin: Some(origin.to_path_buf()), lines: loc.lines() };
        if let Some(dir) = origin.parent() {
            let p = &mut cfg.prometheus;
            for f in [&mut p.password_file, &mut p.bearer_token_file].into_iter().flatten() {
                if f.is_relative() {
                    *f = dir.join(&*f);
                }
            }
            if let Some(t) = cfg.theme.as_mut().filter(|t| t.ends_with(".toml") && Path::new(t).is_relative())
            {
                *t = dir.join(&*t).display().to_string();
            }
        }
        cfg.validate().map_err(|(key, msg)| cfg.at.error(&key, msg))?;
        Ok(cfg)
    }

    /// Checks serde cannot express; the error is `(dotted key, message)`.
    fn validate(&self) -> Result<(), (String, String)> {
        self.validate_static().map_err(|(k, m)| (k.to_string(), m))?;
        for (name, q) in &self.queries {
            let key = format!("queries.{name}");
            if !TEMPLATES.iter().any(|t| t.0 == name) {
                let names: Vec<&str> = TEMPLATES.iter().map(|t| t.0).collect();
                return Err((key, format!("no such query; the names are {}", names.join(", "))));
            }
            if q.trim().is_empty() {
                return Err((key, "the query is empty".into()));
            }
        }
        if let Some(t) = &self.theme {
            if t.trim().is_empty() {
                return Err(("theme".into(), "is empty".into()));
            }
            crate::theme::Theme::load(t, false).map_err(|e| ("theme".to_string(), format!("{e:#}")))?;
        }
        Ok(())
    }

    fn validate_static(&self) -> Result<(), (&'static str, String)> {
        let p = &self.prometheus;
        if let Some(url) = &p.url {
            check_url(url).map_err(|m| ("prometheus.url", m))?;
        }
        for (key, v) in [("prometheus.node_label", &p.node_label), ("prometheus.rack_label", &p.rack_label)] {
            if let Some(v) = v.as_deref().filter(|v| !is_label_name(v)) {
                return Err((key, format!("{v:?} is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)")));
            }
        }
        for (key, v, max) in [
            ("prometheus.timeout_s", p.timeout_s, MAX_TIMEOUT_S),
            ("prometheus.refresh_s", p.refresh_s, MAX_REFRESH_S),
        ] {
            if let Some(v) = v.filter(|v| !(v.is_finite() && *v > 0.0 && *v <= max)) {
                return Err((key, format!("must be more than 0 and at most {max} seconds, got {v}")));
            }
        }
        let exclusive = "are exclusive: set one";
        if p.password.is_some() && p.password_file.is_some() {
            return Err(("prometheus.password_file", format!("password and password_file {exclusive}")));
        }
        if p.bearer_token.is_some() && p.bearer_token_file.is_some() {
            return Err((
                "prometheus.bearer_token_file",
                format!("bearer_token and bearer_token_file {exclusive}"),
            ));
        }
        let basic = p.password.is_some() || p.password_file.is_some();
        let bearer = p.bearer_token.is_some() || p.bearer_token_file.is_some();
        if p.username.is_some() && !basic {
            return Err(("prometheus.username", "needs password or password_file".into()));
        }
        if basic && p.username.is_none() {
            let key = if p.password.is_some() { "prometheus.password" } else { "prometheus.password_file" };
            return Err((key, "needs username".into()));
        }
        if basic && bearer {
            let key = if p.bearer_token.is_some() {
                "prometheus.bearer_token"
            } else {
                "prometheus.bearer_token_file"
            };
            return Err((key, format!("basic auth (username/password) and a bearer token {exclusive}")));
        }
        let lists = [
            ("offline.priority_classes", &self.offline.priority_classes),
            ("offline.qos_classes", &self.offline.qos_classes),
        ];
        for (key, list) in lists {
            if list.iter().any(|s| s.trim().is_empty()) {
                return Err((key, "has an empty entry".into()));
            }
        }
        if self.conntrack.keepalive_idle_s == Some(0) {
            return Err(("conntrack.keepalive_idle_s", "must be more than 0 seconds".into()));
        }
        if let Some(w) = &self.colocation.windows {
            Window::check_disjoint(w).map_err(|m| ("colocation.windows", m))?;
        }
        Ok(())
    }
}

impl PrometheusConfig {
    /// The credentials to send, reading `password_file` / `bearer_token_file` (a trailing newline
    /// is dropped). `parse` has already checked that at most one kind is set. The error is
    /// `(dotted key, message)`, for [`Located::error`].
    pub fn secret(&self) -> Result<Option<Auth>, (&'static str, String)> {
        if let Some(token) = &self.bearer_token {
            return Ok(Some(Auth::Bearer(token.clone())));
        }
        if let Some(f) = &self.bearer_token_file {
            let key = "prometheus.bearer_token_file";
            return Ok(Some(Auth::Bearer(read_secret(f).map_err(|m| (key, m))?)));
        }
        let password = match (&self.password, &self.password_file) {
            (Some(p), _) => p.clone(),
            (None, Some(f)) => read_secret(f).map_err(|m| ("prometheus.password_file", m))?,
            (None, None) => return Ok(None),
        };
        let username =
            self.username.clone().ok_or(("prometheus.password", "is set without a username".to_string()))?;
        Ok(Some(Auth::Basic { username, password }))
    }
}

fn read_secret(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let secret = text.trim_end_matches(['\n', '\r']);
    if secret.is_empty() {
        return Err(format!("{}: the file is empty", path.display()));
    }
    Ok(secret.to_string())
}

const HIDDEN: &str = "***";

impl fmt::Debug for PrometheusConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hide = |s: &Option<String>| s.as_ref().map(|_| HIDDEN);
        f.debug_struct("PrometheusConfig")
            .field("url", &self.url)
            .field("node_label", &self.node_label)
            .field("rack_label", &self.rack_label)
            .field("timeout_s", &self.timeout_s)
            .field("refresh_s", &self.refresh_s)
            .field("username", &self.username)
            .field("password", &hide(&self.password))
            .field("password_file", &self.password_file)
            .field("bearer_token", &hide(&self.bearer_token))
            .field("bearer_token_file", &self.bearer_token_file)
            .finish()
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Basic { username, .. } => {
                f.debug_struct("Basic").field("username", username).field("password", &HIDDEN).finish()
            }
            Auth::Bearer(_) => f.debug_tuple("Bearer").field(&HIDDEN).finish(),
        }
    }
}

/// The default path from the two environment values (pure, for tests). A relative or empty
/// `XDG_CONFIG_HOME` is ignored, as the XDG spec asks.
pub fn default_path_from(xdg_config_home: Option<OsString>, home: Option<OsString>) -> Option<PathBuf> {
    let xdg = xdg_config_home.map(PathBuf::from).filter(|p| p.is_absolute());
    let base = xdg.or_else(|| home.filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("clustertop").join("config.toml"))
}

/// One line for a toml error: `file:line: key: message`.
fn toml_error(e: &toml::de::Error, loc: &Locator<'_>, origin: &Path) -> String {
    let msg = unknown_key_message(e.message()).unwrap_or_else(|| e.message().trim().to_string());
    let Some(span) = e.span() else { return format!("{}: {msg}", origin.display()) };
    let line = loc.line_at(span.start);
    match loc.path_at(span.start) {
        Some(path) => format!("{}:{line}: {path}: {msg}", origin.display()),
        None => format!("{}:{line}: {msg}", origin.display()),
    }
}

/// serde's "unknown field `x`, expected one of `a`, `b`" as "unknown key; valid keys: a, b".
fn unknown_key_message(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("unknown field ")?;
    let valid = rest
        .split_once(", expected ")
        .map(|(_, v)| v.trim_start_matches("one of ").replace('`', "").replace(" or ", ", "));
    Some(match valid {
        Some(v) => format!("unknown key; valid keys: {v}"),
        None => "unknown key".to_string(),
    })
}

/// An http:// or https:// URL with a host (the config's `prometheus.url`, `--prometheus`,
/// `--agents`).
pub(crate) fn check_url(url: &str) -> Result<(), String> {
    let bad = || format!("{url:?} is not an http:// or https:// URL with a host");
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://")).ok_or_else(bad)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(bad());
    }
    Ok(())
}

fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A window string parsed during deserialization, so the error carries the element's position.
struct WindowDe(Window);

impl<'de> Deserialize<'de> for WindowDe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Window::parse(&s).map(WindowDe).map_err(serde::de::Error::custom)
    }
}

fn de_windows<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Window>>, D::Error> {
    let v: Vec<WindowDe> = Vec::deserialize(d)?;
    Ok(Some(v.into_iter().map(|w| w.0).collect()))
}

fn de_tz<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Tz>, D::Error> {
    let s = String::deserialize(d)?;
    s.parse::<Tz>().map(Some).map_err(|_| {
        serde::de::Error::custom(format!(
            "{s:?} is not a time zone; use an IANA name such as \"Asia/Shanghai\" or \"UTC\""
        ))
    })
}
