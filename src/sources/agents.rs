//! The node agent poller: `GET {url}/v1/node` on every agent each round, with bounded
//! concurrency, a per-request timeout and a body cap enforced while reading. Each agent's updates
//! are sent as soon as it answers; an unreachable, slow, oversized or malformed agent marks its
//! own scope (`Health { source: Agents, scope: url }`) unreachable with the reason, and never
//! holds up the others.

pub mod map;
pub mod prometheus;

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use rand::Rng;
use tokio::sync::mpsc;

use self::map::Counters;
use crate::model::Update;
use crate::model::{SourceHealth, SourceId};
use crate::wire::{NodeReport, SCHEMA};

#[derive(Debug, Clone)]
pub struct AgentsOptions {
    /// Agent base URLs (`http://10.0.0.5:9977`).
    pub urls: Vec<String>,
    /// Time between rounds, jittered by ±10 %.
    pub interval: Duration,
    /// Whole-request timeout, body included.
    pub timeout: Duration,
    /// Larger bodies are refused (reading stops at the cap).
    pub max_body: usize,
    /// Agents polled at once.
    pub concurrency: usize,
    /// Sent as `Authorization: Bearer …` to agents that require it.
    pub token: Option<crate::agent::token::Token>,
}

impl Default for AgentsOptions {
    fn default() -> Self {
        AgentsOptions {
            urls: Vec::new(),
            interval: Duration::from_secs(15),
            timeout: Duration::from_secs(2),
            max_body: 256 * 1024,
            concurrency: 32,
            token: None,
        }
    }
}

/// The HTTP client for every agent; with a token, it goes on every request (marked sensitive, so
/// it never shows in logs).
pub fn client(token: Option<&crate::agent::token::Token>) -> Result<reqwest::Client, String> {
    // Plain http needs no TLS, but reqwest's rustls wants a provider installed to build at all.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(t) = token {
        let mut v = reqwest::header::HeaderValue::from_str(&t.header())
            .map_err(|_| "the agent token cannot go in an HTTP header".to_string())?;
        v.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, v);
    }
    let b = reqwest::Client::builder().no_proxy().default_headers(headers);
    b.build().map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// The path every agent serves its report on.
pub const REPORT_PATH: &str = "/v1/node";

/// Why an agent gave no report.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FetchError {
    /// The agent refused us (401: it wants a bearer token; 403): it is reachable, we may not read.
    #[error("HTTP {status} for {REPORT_PATH}: {hint}")]
    Refused { status: u16, hint: &'static str },
    /// Any other HTTP status, with the path asked (a 404 is a wrong port or an older agent).
    #[error("HTTP {status} for {REPORT_PATH}")]
    Status { status: u16 },
    /// The connection failed: the system's words and the URL asked.
    #[error("{0}")]
    Transport(String),
    #[error("timed out after {0:.1} s")]
    Timeout(f64),
    #[error("response too large: {0}")]
    TooLarge(String),
    #[error("{0}")]
    Body(String),
    #[error("{0}")]
    Report(String),
}

impl FetchError {
    /// The health this error means for the agent at `url`: refused is forbidden (the agent is
    /// there), everything else unreachable.
    pub fn health(&self, url: &str) -> SourceHealth {
        match self {
            FetchError::Refused { .. } => SourceHealth::Forbidden {
                verb: "get".into(),
                resource: format!("{url}{REPORT_PATH} ({self})"),
            },
            // It names the URL asked already.
            FetchError::Transport(e) => SourceHealth::Unreachable { error: e.clone() },
            e => SourceHealth::Unreachable { error: format!("{url}: {e}") },
        }
    }
}

/// One agent's report, or why there is none.
pub async fn fetch(http: &reqwest::Client, url: &str, max_body: usize) -> Result<NodeReport, FetchError> {
    let target = format!("{}{REPORT_PATH}", url.trim_end_matches('/'));
    let mut resp = http
        .get(&target)
        .send()
        .await
        .map_err(|e| FetchError::Transport(crate::sources::conn_error::to_server(&e, &target)))?;
    let status = resp.status();
    match status.as_u16() {
        401 => {
            return Err(FetchError::Refused {
                status: 401,
                hint: "the agent wants a token (--agent-token-file)",
            });
        }
        403 => return Err(FetchError::Refused { status: 403, hint: "the agent refused this token" }),
        s if !status.is_success() => return Err(FetchError::Status { status: s }),
        _ => {}
    }
    if let Some(n) = resp.content_length().filter(|n| *n > max_body as u64) {
        return Err(FetchError::TooLarge(format!("{n} bytes, over the {max_body}-byte cap")));
    }
    let mut body = Vec::new();
    let expected = resp.content_length();
    while let Some(chunk) =
        resp.chunk().await.map_err(|e| FetchError::Body(body_error(&e, body.len(), expected)))?
    {
        if body.len() + chunk.len() > max_body {
            return Err(FetchError::TooLarge(format!("over the {max_body}-byte cap")));
        }
        body.extend_from_slice(&chunk);
    }
    let r: NodeReport =
        serde_json::from_slice(&body).map_err(|e| FetchError::Report(format!("malformed report: {e}")))?;
    if r.schema != SCHEMA {
        return Err(FetchError::Report(format!("schema {:?}, expected {SCHEMA:?}", r.schema)));
    }
    if r.node.is_empty() {
        return Err(FetchError::Report("the report names no node".into()));
    }
    Ok(r)
}

/// Why reading a body failed, in plain words. reqwest's own text ("error decoding response body")
/// reads like a JSON problem; the innermost cause says what happened (`end of file before message
/// length reached`, `connection closed before message completed`).
fn body_error(e: &reqwest::Error, got: usize, expected: Option<u64>) -> String {
    let mut root: &dyn std::error::Error = e;
    let mut eof = false;
    while let Some(s) = root.source() {
        root = s;
        eof |= s
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::UnexpectedEof)
            || s.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_incomplete_message);
    }
    let of = expected.map(|n| format!(" of {n}")).unwrap_or_default();
    if eof {
        format!("the connection closed mid-body, after {got}{of} bytes ({root})")
    } else {
        format!("reading the body failed after {got}{of} bytes: {root}")
    }
}

fn health(url: &str, health: SourceHealth) -> Update {
    Update::Health { source: SourceId::Agents, scope: url.into(), health, at: Utc::now() }
}

/// `fetch` within `timeout`.
async fn fetch_within(
    http: &reqwest::Client,
    url: &str,
    o: &AgentsOptions,
) -> Result<NodeReport, FetchError> {
    match tokio::time::timeout(o.timeout, fetch(http, url, o.max_body)).await {
        Ok(r) => r,
        Err(_) => Err(FetchError::Timeout(o.timeout.as_secs_f64())),
    }
}

/// Poll one round, sending each agent's updates as it answers. `counters` holds each node's last
/// conntrack counters (for rates). Returns false when the receiver is gone.
pub async fn round(
    http: &reqwest::Client,
    o: &AgentsOptions,
    counters: &mut HashMap<String, Counters>,
    tx: &mpsc::Sender<Vec<Update>>,
) -> bool {
    // Owned per request: a future borrowing from the closure's argument is not `Send` enough for
    // `tokio::spawn`.
    let mut results = futures::stream::iter(o.urls.clone())
        .map(|url| {
            let (http, o) = (http.clone(), o.clone());
            async move {
                let r = fetch_within(&http, &url, &o).await;
                (url, r)
            }
        })
        .buffer_unordered(o.concurrency.max(1));
    while let Some((url, r)) = results.next().await {
        let batch = match r {
            Ok(report) => {
                let mut u = map::updates_keeping(&report, counters);
                u.push(health(&url, SourceHealth::Ok));
                u
            }
            Err(e) => {
                tracing::info!("agent {url}: {e}");
                vec![health(&url, e.health(&url))]
            }
        };
        if tx.send(batch).await.is_err() {
            return false;
        }
    }
    true
}

/// The interval ±10 %.
fn jittered(d: Duration) -> Duration {
    d.mul_f64(rand::rng().random_range(0.9..=1.1))
}

/// The label agents' pods carry (`deploy/agent.yaml`).
pub const AGENT_SELECTOR: &str = "app.kubernetes.io/name=clustertop-agent";
/// The agent's port on the host network.
pub const AGENT_PORT: u16 = 9977;
/// How often `--agents auto` lists the agent pods again.
const REDISCOVER: Duration = Duration::from_secs(60);

/// Base URLs of the running agent pods (host network: the pod IP is the node's).
pub async fn discover(client: &kube::Client) -> Result<Vec<String>, String> {
    use k8s_openapi::api::core::v1::Pod;
    let api: kube::Api<Pod> = kube::Api::all(client.clone());
    let lp = kube::api::ListParams::default().labels(AGENT_SELECTOR);
    let pods = api.list(&lp).await.map_err(|e| format!("listing pods {AGENT_SELECTOR}: {e}"))?;
    let mut urls: Vec<String> = pods
        .items
        .iter()
        .filter_map(|p| p.status.as_ref()?.pod_ip.as_deref())
        .map(|ip| {
            if ip.contains(':') {
                format!("http://[{ip}]:{AGENT_PORT}")
            } else {
                format!("http://{ip}:{AGENT_PORT}")
            }
        })
        .collect();
    urls.sort();
    urls.dedup();
    Ok(urls)
}

/// Poll until the receiver is gone.
pub async fn run(opts: AgentsOptions, tx: mpsc::Sender<Vec<Update>>) {
    run_with(opts, None, tx).await
}

/// `--agents auto`: poll the agent pods found through the Kubernetes API, listed again every
/// minute. A failed listing keeps the last set and says why in the `discovery` scope.
pub async fn run_discovered(client: kube::Client, opts: AgentsOptions, tx: mpsc::Sender<Vec<Update>>) {
    run_with(opts, Some(client), tx).await
}

async fn run_with(mut opts: AgentsOptions, kube: Option<kube::Client>, tx: mpsc::Sender<Vec<Update>>) {
    let http = match client(opts.token.as_ref()) {
        Ok(c) => c,
        Err(e) => {
            let _ = tx.send(vec![health("", SourceHealth::Unreachable { error: e })]).await;
            return;
        }
    };
    let mut counters = HashMap::new();
    let mut listed: Option<tokio::time::Instant> = None;
    loop {
        let started = tokio::time::Instant::now();
        if let Some(c) = kube.as_ref().filter(|_| listed.is_none_or(|t| t.elapsed() >= REDISCOVER)) {
            listed = Some(started);
            let h = match discover(c).await {
                Ok(urls) if urls.is_empty() => {
                    opts.urls = urls;
                    SourceHealth::NoData { reason: format!("no running pod labelled {AGENT_SELECTOR}") }
                }
                Ok(urls) => {
                    opts.urls = urls;
                    SourceHealth::Ok
                }
                Err(error) => SourceHealth::Unreachable { error },
            };
            if tx.send(vec![health("discovery", h)]).await.is_err() {
                return;
            }
        }
        if !round(&http, &opts, &mut counters, &tx).await {
            return;
        }
        let next = started + jittered(opts.interval.max(Duration::from_millis(100)));
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {}
            _ = tx.closed() => return,
        }
    }
}

#[cfg(test)]
#[path = "agents/fetch_tests.rs"]
mod fetch_tests;
