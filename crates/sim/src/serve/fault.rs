//! Faults `sim serve` injects into every Kubernetes API request (not `/debug/…`), so clients can
//! be tested against an overloaded or failing API server: `--fault slow=10s`, `--fault 500`,
//! `--fault 429,retry-after=5`, or [`super::Control::set_fault`].

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::json;

use super::api;
use crate::hostile::SAMPLES;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    #[default]
    None,
    /// Every answer's headers come this late (a watch's stream starts this late).
    Slow(Duration),
    /// Every request answers this HTTP status with a Kubernetes `Status` body, and with
    /// `Retry-After` (header and `details.retryAfterSeconds`, as API Priority and Fairness does)
    /// when given.
    Status { code: u16, retry_after: Option<u32> },
    /// Protobuf list bodies (nodes, pods) are cut short halfway, the response otherwise
    /// complete: a proxy or server that dropped the rest (`cut-protobuf`).
    CutProtobuf,
    /// Streaming lists (watches with `sendInitialEvents=true`) end after half of their initial
    /// events, before the `k8s.io/initial-events-end` bookmark: a server or proxy that dropped
    /// the connection mid-list (`cut-watch-list`).
    CutWatchList,
}

impl Fault {
    /// The answer for `Status` faults; with `hostile`, its message carries the hostile scenario's
    /// escape sequences (a message is free text an API server or a proxy in front of it writes).
    pub(crate) fn response(&self, hostile: bool) -> Option<Response> {
        let Fault::Status { code, retry_after } = *self else { return None };
        let (reason, message) = match code {
            429 => ("TooManyRequests", "Too many requests, please try again later."),
            503 => ("ServiceUnavailable", "The server is currently unable to handle the request"),
            _ => ("InternalError", "Internal error occurred: injected by sim serve --fault"),
        };
        let message = if hostile { format!("{message}{}", SAMPLES.concat()) } else { message.to_string() };
        let details = retry_after.map(|s| json!({ "retryAfterSeconds": s }));
        let body =
            serde_json::to_vec(&api::status_value(code, reason, &message, details)).unwrap_or_default();
        let sc = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = api::json_bytes(sc, body.into());
        if let Some(s) = retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        Some(resp)
    }
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Fault, String> {
        let bad = || {
            format!(
                "{s:?} is not a fault: use none, slow=<seconds>s, <status>, <status>,retry-after=<seconds>, cut-protobuf or cut-watch-list"
            )
        };
        if s == "none" {
            return Ok(Fault::None);
        }
        if s == "cut-protobuf" {
            return Ok(Fault::CutProtobuf);
        }
        if s == "cut-watch-list" {
            return Ok(Fault::CutWatchList);
        }
        if let Some(d) = s.strip_prefix("slow=") {
            let secs: f64 = d.trim_end_matches('s').parse().map_err(|_| bad())?;
            if !(0.0..=3600.0).contains(&secs) {
                return Err(bad());
            }
            return Ok(Fault::Slow(Duration::from_secs_f64(secs)));
        }
        let (code, rest) = s.split_once(',').map_or((s, None), |(c, r)| (c, Some(r)));
        let code: u16 = code.parse().ok().filter(|c| (400..=599).contains(c)).ok_or_else(bad)?;
        let retry_after = match rest {
            None => None,
            Some(r) => Some(r.strip_prefix("retry-after=").and_then(|v| v.parse().ok()).ok_or_else(bad)?),
        };
        Ok(Fault::Status { code, retry_after })
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::None => write!(f, "none"),
            Fault::CutProtobuf => write!(f, "cut-protobuf"),
            Fault::CutWatchList => write!(f, "cut-watch-list"),
            Fault::Slow(d) => write!(f, "slow={}s", d.as_secs_f64()),
            Fault::Status { code, retry_after: None } => write!(f, "{code}"),
            Fault::Status { code, retry_after: Some(s) } => write!(f, "{code},retry-after={s}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_each_form() {
        for s in [
            "none",
            "cut-protobuf",
            "cut-watch-list",
            "slow=10s",
            "slow=0.5s",
            "500",
            "429,retry-after=5",
            "503",
        ] {
            let f: Fault = s.parse().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(f.to_string(), s);
        }
        assert_eq!("slow=10".parse(), Ok(Fault::Slow(Duration::from_secs(10))));
        for bad in ["", "slow", "slow=-1s", "200", "429,retry-after=x", "429,5", "fast"] {
            let e = bad.parse::<Fault>().unwrap_err();
            assert!(e.contains("is not a fault"), "{e}");
        }
    }

    #[test]
    fn a_429_says_when_to_retry_in_the_header_and_the_status() {
        let r = Fault::Status { code: 429, retry_after: Some(5) }.response(false).unwrap();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()[header::RETRY_AFTER], "5");
        assert!(Fault::Slow(Duration::from_secs(1)).response(false).is_none());
    }
}
