//! Request counts and response bytes per verb, for `GET /debug/requests` and the summary that
//! `clustertop sim serve` prints when it stops. Bytes are counted as the body is sent, so a watch
//! adds its events as they stream.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::response::Response;
use futures::StreamExt;
use serde::Serialize;

/// The verbs counted, in the order of [`RequestStats::verbs`].
pub const VERBS: [&str; 5] = ["discovery", "list", "get", "watch", "other"];

#[derive(Debug, Default)]
pub(crate) struct Counters {
    requests: [AtomicU64; 5],
    bytes: [AtomicU64; 5],
}

/// One verb's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct VerbStats {
    pub requests: u64,
    pub bytes: u64,
}

/// Requests served and response body bytes sent, in all and per verb ([`VERBS`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RequestStats {
    pub requests: u64,
    pub bytes: u64,
    pub verbs: Vec<(String, VerbStats)>,
}

impl RequestStats {
    /// One line: `requests=N bytes=B (list n/b, watch n/b, ...)`.
    pub fn line(&self) -> String {
        let parts: Vec<String> = self
            .verbs
            .iter()
            .filter(|(_, v)| v.requests > 0)
            .map(|(k, v)| format!("{k} {} / {} B", v.requests, v.bytes))
            .collect();
        format!("requests={} bytes={} ({})", self.requests, self.bytes, parts.join(", "))
    }
}

fn index(verb: &str) -> usize {
    VERBS.iter().position(|v| *v == verb).unwrap_or(VERBS.len() - 1)
}

impl Counters {
    pub fn request(&self, verb: &str) {
        self.requests[index(verb)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> RequestStats {
        let verbs: Vec<(String, VerbStats)> = VERBS
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let s = VerbStats {
                    requests: self.requests[i].load(Ordering::Relaxed),
                    bytes: self.bytes[i].load(Ordering::Relaxed),
                };
                (v.to_string(), s)
            })
            .collect();
        RequestStats {
            requests: verbs.iter().map(|(_, v)| v.requests).sum(),
            bytes: verbs.iter().map(|(_, v)| v.bytes).sum(),
            verbs,
        }
    }
}

/// The response with its body bytes added to `verb`'s count as they are sent.
pub(crate) fn counted(counters: Arc<Counters>, verb: &str, resp: Response) -> Response {
    let i = index(verb);
    resp.map(|body| {
        let stream = body.into_data_stream().inspect(move |chunk| {
            if let Ok(b) = chunk {
                counters.bytes[i].fetch_add(b.len() as u64, Ordering::Relaxed);
            }
        });
        Body::from_stream(stream)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_verbs_count_as_other_and_the_line_skips_unused_verbs() {
        let c = Counters::default();
        c.request("list");
        c.request("list");
        c.request("patch");
        c.bytes[1].fetch_add(10, Ordering::Relaxed);
        let s = c.snapshot();
        assert_eq!(s.requests, 3);
        assert_eq!(s.bytes, 10);
        assert_eq!(s.verbs[4].1.requests, 1);
        assert_eq!(s.line(), "requests=3 bytes=10 (list 2 / 10 B, other 1 / 0 B)");
    }
}
