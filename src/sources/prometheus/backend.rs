//! One configured Prometheus-compatible backend: an HTTP client with a timeout on every request
//! and optional credentials, the query templates, and typed fetches built on them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use prometheus_http_query::response::Data;
use prometheus_http_query::{Client, Error};
use reqwest::header;

use super::map::{self, CurveInput, Series};
use super::queries::Queries;
use super::scheme::{self, Detected, Scheme};
use crate::config::Auth;
use crate::model::NodeMetrics;
use crate::model::{CpuCurve, Pod};

/// Why a query gave nothing usable.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryError {
    /// The backend could not be reached or did not answer in time: the whole source is down.
    Transport(String),
    /// The backend answered with an error (bad PromQL in an override, a server-side timeout).
    Query(String),
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryError::Transport(e) | QueryError::Query(e) => f.write_str(e),
        }
    }
}

/// `url`: the backend's, named in a connection error.
fn classify(url: &str, name: &str, e: Error) -> QueryError {
    match e {
        Error::Prometheus(pe) => QueryError::Query(format!("{name}: {}", one_line(&pe.to_string()))),
        Error::Client(ce) => {
            let msg = match ce.inner() {
                Some(r) if r.is_timeout() => "no answer within the timeout".to_string(),
                Some(r) if r.is_connect() => {
                    crate::sources::conn_error::to_server(r, url.trim_end_matches('/'))
                }
                Some(r) if r.status().is_some() => {
                    format!("HTTP {}", r.status().map(|s| s.as_u16()).unwrap_or(0))
                }
                _ => one_line(&ce.to_string()),
            };
            QueryError::Transport(msg)
        }
        other => QueryError::Transport(one_line(&other.to_string())),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn series(data: Data) -> Vec<Series> {
    match data {
        Data::Vector(v) => v
            .into_iter()
            .map(|iv| {
                let (labels, s) = iv.into_inner();
                Series { labels, samples: vec![(s.timestamp() as i64, s.value())] }
            })
            .collect(),
        Data::Matrix(m) => m
            .into_iter()
            .map(|rv| {
                let (labels, samples) = rv.into_inner();
                Series {
                    labels,
                    samples: samples.iter().map(|s| (s.timestamp() as i64, s.value())).collect(),
                }
            })
            .collect(),
        Data::Scalar(s) => {
            vec![Series { labels: HashMap::new(), samples: vec![(s.timestamp() as i64, s.value())] }]
        }
    }
}

/// The connection settings of a backend.
#[derive(Debug, Clone)]
pub struct BackendOptions {
    pub url: String,
    pub auth: Option<Auth>,
    /// Client-side timeout of every request (the API's own `timeout` is only server-side).
    pub timeout: Duration,
}

#[derive(Clone)]
pub struct Backend {
    client: Client,
    pub queries: Queries,
    /// The base URL, for messages (credentials are never in it: they go in headers).
    pub url: String,
    timeout: Duration,
    /// The label scheme and recording rules, once the probes found node_exporter data.
    detected: std::sync::Arc<std::sync::OnceLock<Detected>>,
}

/// Range queries longer than this ask Thanos for `max_source_resolution=auto` (it then picks
/// downsampled data only when the step is at least five times the resolution: never at the
/// curve's 5-minute step); Prometheus and Mimir ignore the parameter.
pub const DOWNSAMPLED_AFTER_S: i64 = 40 * 3600;

/// The instant templates of one metrics refresh, queried together.
pub const NODE_QUERIES: &[&str] = &[
    "node_util",
    "conntrack_entries",
    "conntrack_limit",
    "conntrack_insert_failed",
    "conntrack_drop",
    "conntrack_early_drop",
    "conntrack_tcp_timeout",
    "bridge_nf_call_iptables",
    "bgp_cilium",
    "bgp_bird",
    "bgp_frr",
    "bgp_cilium_changes",
    "bgp_bird_changes",
    "bgp_frr_changes",
    "cilium_map_pressure",
    "cilium_ct_insert_failed",
    "cilium_agent_seen",
    "batch_used",
];

/// The range queries of one curve, in the order [`map::CurveInput`] takes them.
pub const CURVE_QUERIES: &[&str] = &[
    "cpu_used",
    "cpu_offline",
    "cpu_measured",
    "capacity",
    "cpu_used_by_rack",
    "cpu_offline_by_rack",
    "cpu_measured_by_rack",
    "capacity_by_rack",
    "reclaimed",
    "reclaimed_by_rack",
];

/// A curve and what its fetch could not get (a query that returned nothing or failed).
#[derive(Debug, Clone, Default)]
pub struct CurveFetch {
    pub curve: Option<CpuCurve>,
    pub notes: Vec<String>,
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend")
            .field("url", &self.url)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Backend {
    pub fn new(opts: &BackendOptions, queries: Queries) -> Result<Backend, String> {
        let mut headers = header::HeaderMap::new();
        if let Some(auth) = &opts.auth {
            let value = match auth {
                Auth::Basic { username, password } => {
                    use base64::Engine;
                    let raw = format!("{username}:{password}");
                    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
                }
                Auth::Bearer(token) => format!("Bearer {token}"),
            };
            let mut v = header::HeaderValue::from_str(&value).map_err(|_| {
                "the Prometheus credentials contain characters not allowed in a header".to_string()
            })?;
            v.set_sensitive(true);
            headers.insert(header::AUTHORIZATION, v);
        }
        // kube and reqwest share rustls; ring is the one crypto provider built in. Installing it
        // twice is harmless (the second call reports that one is already there).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(opts.timeout)
            .connect_timeout(opts.timeout.min(Duration::from_secs(5)))
            .default_headers(headers)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {}", one_line(&e.to_string())))?;
        let url = opts.url.trim_end_matches('/').to_string();
        let client = Client::from(http, &url)
            .map_err(|e| format!("Prometheus URL {url:?}: {}", one_line(&e.to_string())))?;
        Ok(Backend { client, queries, url, timeout: opts.timeout, detected: Default::default() })
    }

    /// The label scheme and rules in use: as detected, else the configured node label (or
    /// `node`) and raw series.
    pub fn detected(&self) -> Detected {
        self.detected.get().cloned().unwrap_or_else(|| Detected {
            scheme: Scheme::Label(self.queries.node_label().unwrap_or("node").to_string()),
            ..Detected::default()
        })
    }

    /// Probe the label scheme and the recording rules at `at` (two instant queries), once: the
    /// answer is cached when the probes found node_exporter data, else probed again next time.
    pub async fn detect(&self, at: i64) -> Result<Detected, QueryError> {
        if let Some(d) = self.detected.get() {
            return Ok(d.clone());
        }
        let (sp, rp) = (scheme::scheme_probe(), scheme::rules_probe());
        let (s, r) = futures::join!(
            self.instant_expr("label scheme probe", &sp, at),
            self.instant_expr("recording rules probe", &rp, at)
        );
        let keep = |r: Result<Vec<Series>, QueryError>| match r {
            Err(QueryError::Transport(e)) => Err(QueryError::Transport(e)),
            Err(QueryError::Query(_)) => Ok(Vec::new()),
            Ok(v) => Ok(v),
        };
        let d = scheme::interpret(&keep(s)?, &keep(r)?, self.queries.node_label());
        if d.probed {
            let _ = self.detected.set(d.clone());
        }
        Ok(d)
    }

    /// The PromQL of a template for the detected scheme (`range_s`: a range query's span).
    pub fn render(&self, name: &str, node: Option<&str>, range_s: Option<i64>) -> String {
        self.queries.render(&self.detected(), name, node, range_s)
    }

    fn server_timeout_ms(&self) -> i64 {
        self.timeout.as_millis().min(i64::MAX as u128) as i64
    }

    /// One instant query at `at`; an empty or unknown template gives no series.
    pub async fn instant(&self, name: &str, node: Option<&str>, at: i64) -> Result<Vec<Series>, QueryError> {
        let q = self.render(name, node, None);
        if q.is_empty() {
            return Ok(Vec::new());
        }
        self.instant_expr(name, &q, at).await
    }

    /// An expression built from templates (labelled `what` in errors), at `at`.
    pub async fn instant_expr(&self, what: &str, expr: &str, at: i64) -> Result<Vec<Series>, QueryError> {
        let r = self.client.query(expr).at(at).timeout(self.server_timeout_ms()).get().await;
        r.map(|r| series(r.into_inner().0)).map_err(|e| classify(&self.url, what, e))
    }

    /// One range query over `[start, end]` at `step` seconds.
    pub async fn range(
        &self,
        name: &str,
        node: Option<&str>,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<Series>, QueryError> {
        let q = self.render(name, node, Some(end - start));
        if q.is_empty() {
            return Ok(Vec::new());
        }
        let mut b = self.client.query_range(&q, start, end, step as f64).timeout(self.server_timeout_ms());
        if end - start > DOWNSAMPLED_AFTER_S {
            b = b.query("max_source_resolution", "auto");
        }
        let r = b.get().await;
        r.map(|r| series(r.into_inner().0)).map_err(|e| classify(&self.url, name, e))
    }

    /// The cluster and per-rack CPU curve over `[end - span, end]` at `step` (aligned to the
    /// step), in 8 range queries run concurrently: busy, offline, measured cores and capacity, for
    /// the cluster and by rack. A transport failure is an error; a query that fails or returns
    /// nothing is a note.
    pub async fn curve(&self, end: DateTime<Utc>, span_s: i64, step: i64) -> Result<CurveFetch, QueryError> {
        self.curve_racks(end, span_s, step, None).await
    }

    /// [`Backend::curve`] with the per-rack queries only over `racks` (unix seconds, widened to
    /// the step), where the fills that need them are: they cost per node and step.
    pub async fn curve_racks(
        &self,
        end: DateTime<Utc>,
        span_s: i64,
        step: i64,
        racks: Option<(i64, i64)>,
    ) -> Result<CurveFetch, QueryError> {
        let end = end.timestamp().div_euclid(step) * step;
        let start = end - span_s;
        let (rs, re) = racks.map_or((start, end), |(a, b)| {
            (a.div_euclid(step) * step, ((b + step - 1).div_euclid(step) * step).min(end))
        });
        // Without offline classes the offline queries would select from nothing (`and on () ()`,
        // a parse error): they are not sent, and a note says why.
        let offline = self.queries.has_offline();
        let results = join_all(CURVE_QUERIES.iter().map(|n| async move {
            if n.contains("offline") && !offline {
                Ok(Vec::new())
            } else if n.ends_with("_by_rack") {
                self.range(n, None, rs.max(start), re, step).await
            } else {
                self.range(n, None, start, end, step).await
            }
        }))
        .await;
        let mut notes = Vec::new();
        // The queries that returned nothing, named in one note with the hint given once.
        let mut empty = Vec::new();
        let mut r = Vec::new();
        for (name, res) in CURVE_QUERIES.iter().zip(results) {
            r.push(match res {
                Err(QueryError::Transport(e)) => return Err(QueryError::Transport(e)),
                Err(QueryError::Query(e)) => {
                    notes.push(e);
                    Vec::new()
                }
                Ok(s) => {
                    // Without Koordinator there is no reclaimed capacity: not a gap in the data.
                    let skipped = (name.contains("offline") && !self.queries.has_offline())
                        || name.starts_with("reclaimed");
                    if s.is_empty() && !skipped {
                        empty.push(*name);
                    }
                    s
                }
            });
        }
        if !empty.is_empty() {
            notes.push(format!("{}: no series (see the [queries] section of the config)", empty.join(", ")));
        }
        let curve = map::curve(&CurveInput {
            step_s: step as u32,
            used: &r[0],
            offline: &r[1],
            measured: &r[2],
            capacity: &r[3],
            used_by_rack: &r[4],
            offline_by_rack: &r[5],
            measured_by_rack: &r[6],
            capacity_by_rack: &r[7],
            reclaimed: &r[8],
            reclaimed_by_rack: &r[9],
            rack_label: self.queries.rack_label(),
        });
        if !self.queries.has_offline() {
            notes.push("no offline priority class or QoS class configured: all work counts as online".into());
        }
        Ok(CurveFetch { curve, notes })
    }

    /// Per-node metrics at `at` (CPU now, conntrack, BGP) and the families that returned nothing.
    pub async fn node_metrics(
        &self,
        at: i64,
    ) -> Result<(BTreeMap<String, NodeMetrics>, Vec<String>), QueryError> {
        // Offline use only where something counts as offline.
        let names: Vec<&str> = NODE_QUERIES
            .iter()
            .copied()
            .filter(|n| *n != "batch_used" || self.queries.has_offline())
            .collect();
        let results = join_all(names.iter().map(|n| self.instant(n, None, at))).await;
        let mut by_name: HashMap<&str, Vec<Series>> = HashMap::new();
        let mut notes = Vec::new();
        for (n, r) in names.iter().zip(results) {
            match r {
                Ok(s) => {
                    by_name.insert(n, s);
                }
                Err(QueryError::Transport(e)) => return Err(QueryError::Transport(e)),
                Err(QueryError::Query(e)) => notes.push(e),
            }
        }
        Ok((map::node_metrics(&by_name, "node"), notes))
    }

    /// Every scheduled pod with its runtime class, from kube-state-metrics.
    pub async fn pods(&self, at: i64, offline_classes: &BTreeSet<String>) -> Result<Vec<Pod>, QueryError> {
        let (nodes, classes) =
            futures::join!(self.instant("pod_nodes", None, at), self.instant("pod_runtimeclass", None, at));
        Ok(map::pods(&nodes?, &classes?, offline_classes))
    }

    /// One node's utilisation (0..1) over `[end - span, end]`.
    pub async fn node_util(
        &self,
        node: &str,
        end: i64,
        span_s: i64,
        step: i64,
    ) -> Result<Vec<(i64, f64)>, QueryError> {
        let end = end.div_euclid(step) * step;
        let r = self.range("node_util_range", Some(node), end - span_s, end, step).await?;
        Ok(r.into_iter().next().map(|s| s.samples).unwrap_or_default())
    }
}

#[cfg(test)]
#[path = "backend_tests.rs"]
mod tests;
