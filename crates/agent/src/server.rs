//! The agent's HTTP server: `GET /v1/node` (JSON), `GET /metrics` (Prometheus text),
//! `GET /healthz`. HEAD works where GET does; other methods get 405 with `Allow`, other paths 404.
//! Reads are fresh per request but coalesced: requests within a second share one collection.
//! Every body stays under 64 KiB: long lists are cut and the JSON names them in `truncated`.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::Mutex;

use super::{AgentConfig, collect, metrics};
use crate::wire::{Fact, NodeReport};

/// The largest body the agent sends.
pub const MAX_BODY: usize = 64 * 1024;
/// Requests closer together than this share one reading.
const COALESCE: Duration = Duration::from_secs(1);

struct Agent {
    cfg: AgentConfig,
    last: Mutex<Option<(Instant, Arc<NodeReport>)>>,
}

impl Agent {
    /// The last reading if it is under a second old, else a new one. The lock is held while
    /// reading, so concurrent requests wait for the same collection instead of starting their own.
    async fn report(&self) -> Arc<NodeReport> {
        let mut last = self.last.lock().await;
        if let Some((t, r)) = last.as_ref()
            && t.elapsed() < COALESCE
        {
            return r.clone();
        }
        let r = Arc::new(collect::collect(&self.cfg).await);
        *last = Some((Instant::now(), r.clone()));
        r
    }
}

fn halve<T>(f: &mut Fact<Vec<T>>) -> usize {
    match f {
        Fact::Value(v) => {
            let n = v.len();
            v.truncate(n / 2);
            n
        }
        Fact::Absent(_) => 0,
    }
}

/// The report as JSON under `max` bytes: the longest lists are halved until it fits, and named
/// in an extra `truncated` field (the poller ignores it).
pub fn json_body(r: &NodeReport, max: usize) -> String {
    let mut r = r.clone();
    let mut cut: Vec<&str> = Vec::new();
    for _ in 0..64 {
        let mut v = match serde_json::to_value(&r) {
            Ok(v) => v,
            Err(e) => return format!("{{\"error\":{:?}}}", e.to_string()),
        };
        if !cut.is_empty()
            && let Some(o) = v.as_object_mut()
        {
            o.insert("truncated".into(), cut.iter().map(|s| serde_json::Value::from(*s)).collect());
        }
        let s = v.to_string();
        if s.len() < max {
            return s;
        }
        let lens = [
            ("interfaces", r.host.interfaces.value().map_or(0, |v| v.len())),
            ("cni_configs", r.host.cni_configs.value().map_or(0, |v| v.len())),
            ("bgp_bird", r.bgp_bird.value().map_or(0, |v| v.len())),
            ("bgp_cilium", r.bgp_cilium.value().map_or(0, |v| v.len())),
        ];
        let Some(&(name, n)) = lens.iter().max_by_key(|(_, n)| *n) else { break };
        if n == 0 {
            break;
        }
        match name {
            "interfaces" => halve(&mut r.host.interfaces),
            "cni_configs" => halve(&mut r.host.cni_configs),
            "bgp_bird" => halve(&mut r.bgp_bird),
            _ => halve(&mut r.bgp_cilium),
        };
        if !cut.contains(&name) {
            cut.push(name);
        }
    }
    "{\"error\":\"report too large\"}".into()
}

async fn node(State(a): State<Arc<Agent>>) -> Response {
    let body = json_body(&*a.report().await, MAX_BODY);
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn prometheus(State(a): State<Arc<Agent>>) -> Response {
    let body = metrics::fit(metrics::render(&*a.report().await), MAX_BODY);
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], body).into_response()
}

async fn healthz() -> &'static str {
    "ok"
}

async fn not_found() -> (StatusCode, &'static str) {
    (StatusCode::NOT_FOUND, "not found: try /v1/node, /metrics or /healthz\n")
}

/// With `--token-file`, every route but `/healthz` needs the bearer token: 401 otherwise.
async fn authorize(State(a): State<Arc<Agent>>, req: Request, next: Next) -> Response {
    let Some(token) = &a.cfg.token else { return next.run(req).await };
    let header = req.headers().get(header::AUTHORIZATION).map(|h| h.as_bytes());
    if req.uri().path() == "/healthz" || token.accepts(header) {
        return next.run(req).await;
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "unauthorized: send the agent's bearer token\n",
    )
        .into_response()
}

fn router(cfg: AgentConfig) -> Router {
    let agent = Arc::new(Agent { cfg, last: Mutex::new(None) });
    Router::new()
        .route("/v1/node", get(node))
        .route("/metrics", get(prometheus))
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(agent.clone(), authorize))
        .with_state(agent)
}

/// Serve on `listener` until `shutdown` completes.
pub async fn serve(
    cfg: AgentConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    axum::serve(listener, router(cfg)).with_graceful_shutdown(shutdown).await.context("agent server failed")
}

/// `clustertop agent`: bind `cfg.listen`, say where on stderr, serve until SIGTERM or SIGINT.
pub async fn run(cfg: AgentConfig) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    // Handlers first: once the address is printed, a signal must stop the server cleanly.
    let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|e| crate::cli::BadSetting(format!("--listen {}: {e}", cfg.listen)))?;
    let addr = listener.local_addr().context("no local address")?;
    eprintln!("clustertop agent: listening on http://{addr} (node {:?})", cfg.node_name);
    let stop = async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    };
    serve(cfg, listener, stop).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Interface;

    #[tokio::test]
    async fn a_huge_interface_list_is_cut_and_said() {
        let mut r = collect::collect(&AgentConfig::default()).await;
        let ifs = (0..5000).map(|i| Interface { name: format!("lxc{i:08}"), kind: "veth".into(), up: true });
        r.host.interfaces = Fact::Value(ifs.collect());
        let s = json_body(&r, MAX_BODY);
        assert!(s.len() < MAX_BODY);
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["truncated"], serde_json::json!(["interfaces"]));
        let back: NodeReport = serde_json::from_value(v).unwrap();
        assert!(back.host.interfaces.value().is_some_and(|l| !l.is_empty()));
        let m = metrics::fit(metrics::render(&r), MAX_BODY);
        assert!(m.len() <= MAX_BODY && m.ends_with("truncated at 64 KiB\n"));
    }

    #[tokio::test]
    async fn requests_within_a_second_share_one_reading() {
        let a = Agent { cfg: AgentConfig::default(), last: Mutex::new(None) };
        let (r1, r2) = tokio::join!(a.report(), a.report());
        assert!(Arc::ptr_eq(&r1, &r2));
        assert!(Arc::ptr_eq(&r1, &a.report().await));
        *a.last.lock().await = Some((Instant::now() - COALESCE, r1.clone()));
        assert!(!Arc::ptr_eq(&r1, &a.report().await), "an older reading is not reused");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(metrics::escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
