//! The flags' value parsers: a bad value is a clap error naming the flag (exit 2).

use chrono_tz::Tz;

use crate::theme::Theme;

pub(super) fn parse_rfc3339(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("{s:?} is not an RFC3339 time such as 2026-11-24T12:00:00Z: {e}"))
}

pub(super) fn parse_past_rfc3339(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
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

pub(super) fn parse_refresh(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.1..=3600.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a refresh interval in seconds between 0.1 and 3600")),
    }
}

pub(super) fn parse_tz(s: &str) -> Result<Tz, String> {
    s.parse::<Tz>()
        .map_err(|_| format!("unknown time zone {s:?} (use an IANA name such as Europe/Berlin or UTC)"))
}

/// A built-in theme, or a theme file that loads.
pub(super) fn parse_theme(s: &str) -> Result<String, String> {
    Theme::load(s, false).map(|_| s.to_string()).map_err(|e| format!("{e:#}"))
}

pub(super) fn parse_url(s: &str) -> Result<String, String> {
    crate::config::check_url(s).map(|()| s.to_string())
}

pub(super) fn parse_agents(s: &str) -> Result<String, String> {
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
pub(super) fn parse_label_key(s: &str) -> Result<String, String> {
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

pub(super) fn parse_plural(s: &str) -> Result<String, String> {
    let known = crate::sim::serve::plurals();
    if known.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(format!("sim serve serves no {s:?}; the resources are {}", known.join(", ")))
    }
}

pub(super) fn parse_keepalive(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(v) if v > 0 => Ok(v),
        _ => Err(format!("{s:?} is not a number of seconds above 0")),
    }
}

pub(super) fn parse_churn(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("{s:?} is not a number of pod changes per second above 0")),
    }
}

pub(super) fn refuse_demo_prometheus(_: &str) -> Result<String, String> {
    Err("the demo draws the simulated cluster's own CPU curve, so it takes no Prometheus; use \
         `clustertop --prometheus URL` on a kube context, or `report capacity --prometheus URL`"
        .into())
}

pub(super) fn refuse_demo_agents(_: &str) -> Result<String, String> {
    Err("the demo's nodes are simulated and have no node agents; use `clustertop --agents …` on a kube \
         context"
        .into())
}

/// The local IANA zone from `TZ` or the system, else UTC.
pub(super) fn local_tz() -> Tz {
    std::env::var("TZ")
        .ok()
        .and_then(|t| t.trim_start_matches(':').parse().ok())
        .or_else(|| iana_time_zone::get_timezone().ok().and_then(|t| t.parse().ok()))
        .unwrap_or(Tz::UTC)
}
