//! The upstream corpus (`tests/fixtures/upstream/`): objects, transcripts and metric series in the
//! shapes the upstream projects produce, each case with the verdict an SRE would give
//! (`expected.json` in each project's folder). A case is fed through the real code paths: its
//! objects served by `sim serve --objects` to the real kube source over HTTP, its BIRD
//! transcripts and Cilium agent answers replayed on UNIX sockets to the real node agent, its
//! metric series backfilled into a real Prometheus and read by the real Prometheus source.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use clustertop::agent::AgentConfig;
use clustertop::model::{Finding, Node, Snapshot};
use clustertop::sim::serve::ServeConfig;
use clustertop::sources::prometheus::{self as prom_source, Backend, BackendOptions, Interest, PromOptions};
use clustertop::store::ClusterState;
use serde::Deserialize;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;

use super::TempDir;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upstream")
}

#[derive(Debug, Deserialize)]
pub struct Case {
    pub name: String,
    #[serde(default)]
    pub kube: Vec<String>,
    /// Node → the body (`.json`) or whole HTTP answer (`.http`) of the agent's `GET /v1/bgp/peers`.
    #[serde(default)]
    pub cilium_api: BTreeMap<String, String>,
    /// Socket name (`bird.ctl`, `bird6.ctl`) → transcript, replayed to the agent of the case's node.
    #[serde(default)]
    pub bird: BTreeMap<String, String>,
    #[serde(default)]
    pub metrics: Option<String>,
    /// Node → host facts a node agent would report (`{"kvm": false}`).
    #[serde(default)]
    pub host: BTreeMap<String, Value>,
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
    pub expect: BTreeMap<String, Value>,
}

pub fn cases(dir: &str) -> Vec<Case> {
    let path = root().join(dir).join("expected.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    #[derive(Deserialize)]
    struct File {
        cases: Vec<Case>,
    }
    let f: File = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    f.cases
}

/// Serve each connection on `path` with `reply`: read the request (up to a blank line, or the
/// first line for BIRD's protocol), then write the bytes and close.
fn replay(path: &Path, greeting: Option<Vec<u8>>, reply: Vec<u8>) {
    let listener = UnixListener::bind(path).expect("bind replay socket");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let (greeting, reply) = (greeting.clone(), reply.clone());
            tokio::spawn(async move {
                if let Some(g) = &greeting {
                    let _ = s.write_all(g).await;
                }
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                let done = |r: &[u8]| {
                    if greeting.is_some() {
                        r.contains(&b'\n')
                    } else {
                        r.windows(4).any(|w| w == b"\r\n\r\n")
                    }
                };
                while !done(&req) && req.len() < 65536 {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = s.write_all(&reply).await;
                let _ = s.shutdown().await;
            });
        }
    });
}

/// An HTTP answer: a `.http` file as it is (its line ends made CRLF in the head), or a JSON body
/// with a 200 head.
fn http_answer(file: &Path) -> Vec<u8> {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    if file.extension().is_some_and(|x| x == "http") {
        let (head, body) = text.split_once("\n\n").or_else(|| text.split_once("\r\n\r\n")).expect("a head");
        let head: Vec<&str> = head.lines().map(|l| l.trim_end_matches('\r')).collect();
        // The body's length as written here (the file's Content-Length may count a CRLF).
        let head: Vec<String> = head
            .iter()
            .map(|l| {
                if l.to_ascii_lowercase().starts_with("content-length:") {
                    format!("Content-Length: {}", body.len())
                } else {
                    l.to_string()
                }
            })
            .collect();
        return format!("{}\r\n\r\n{body}", head.join("\r\n")).into_bytes();
    }
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
        text.len()
    )
    .into_bytes()
}

/// A BIRD transcript as the socket sends it: the greeting (`0001 …`) first, then the reply.
fn bird_answer(file: &Path) -> (Vec<u8>, Vec<u8>) {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let (greeting, rest): (String, Vec<&str>) = if first.starts_with("0001 ") {
        (format!("{first}\n"), lines.collect())
    } else {
        ("0001 BIRD ready.\n".into(), text.lines().collect())
    };
    let reply: String = rest.iter().map(|l| format!("{l}\n")).collect();
    (greeting.into_bytes(), reply.into_bytes())
}

/// The node agent's updates for `node`, read from the case's replayed sockets.
async fn agent_updates(case: &Case, node: &str, dir: &Path) -> Vec<clustertop::model::Update> {
    let mut cfg = AgentConfig {
        node_name: node.into(),
        proc_root: dir.join("no-proc"),
        sys_root: dir.join("no-sys"),
        dev_root: dir.join("no-dev"),
        cni_dir: dir.join("no-cni"),
        socket_timeout: Duration::from_secs(5),
        ..AgentConfig::default()
    };
    if let Some(f) = case.cilium_api.get(node) {
        let sock = dir.join(format!("cilium-{node}.sock"));
        replay(&sock, None, http_answer(&root().join(f)));
        cfg.cilium_socket = Some(sock);
    }
    for (name, f) in &case.bird {
        let sock = dir.join(format!("{node}-{name}"));
        let (greeting, reply) = bird_answer(&root().join(f));
        replay(&sock, Some(greeting), reply);
        if name.contains('6') {
            cfg.bird6_socket = Some(sock);
        } else {
            cfg.bird_socket = Some(sock);
        }
    }
    let report = clustertop::agent::collect::collect(&cfg).await;
    clustertop::sources::agents::map::updates(&report, &Default::default()).0
}

/// Every node the case's agent answers are about.
fn agent_nodes(case: &Case) -> Vec<String> {
    let mut nodes: Vec<String> = case.cilium_api.keys().cloned().collect();
    if !case.bird.is_empty() {
        nodes.extend(case.expect.keys().filter(|k| !k.contains('/')).cloned());
    }
    nodes.sort();
    nodes.dedup();
    nodes
}

/// Run the case through every path it has and return the snapshot.
pub async fn run(case: &Case, prom: Option<&super::prom::Prom>) -> Snapshot {
    let dir = TempDir::new("up");
    let mut state = match case.kube.is_empty() {
        true => ClusterState::new("upstream", Default::default()),
        false => {
            let files: Vec<PathBuf> = case.kube.iter().map(|f| root().join(f)).collect();
            let cfg = ServeConfig { objects: files, ..super::kube::serve_config("127.0.0.1:0", &[]) };
            let mut h = super::kube::start_with(cfg, 500, None).await;
            h.synced().await;
            h.drain_for(Duration::from_millis(400)).await;
            let state = h.state.clone();
            h.stop().await;
            state
        }
    };
    for node in agent_nodes(case) {
        if case.kube.is_empty() {
            // Only the node's own sockets: the node as the API would list it, without evidence.
            let info = clustertop::model::NodeInfo {
                name: node.clone(),
                rack: "?".into(),
                tors: ["?".into(), "?".into()],
                ready: true,
                labels: Default::default(),
                signals: Vec::new(),
                bgp_peers: None,
                created: None,
                batch_allocatable: None,
            };
            state.apply(clustertop::model::Update::NodeApplied { node: info, at: Utc::now() });
        }
        for u in agent_updates(case, &node, &dir.0).await {
            state.apply(u);
        }
    }
    for (node, facts) in &case.host {
        let facts = clustertop::model::HostFacts {
            kvm: facts.get("kvm").and_then(Value::as_bool),
            ..Default::default()
        };
        state.apply(clustertop::model::Update::Host { node: node.clone(), facts, at: Utc::now() });
    }
    if let Some(p) = prom {
        let at = case.at.unwrap_or(crate_at());
        let backend = Backend::new(
            &BackendOptions { url: p.url.clone(), auth: None, timeout: Duration::from_secs(10) },
            prom_queries(),
        )
        .expect("backend");
        let updates =
            prom_source::refresh(&backend, &PromOptions::default(), &Interest::default(), false, at)
                .await
                .expect("Prometheus answers");
        for u in updates {
            state.apply(u);
        }
    }
    state.snapshot(Utc::now())
}

/// When the corpus's metric series end (2026-12-07T12:00:00Z).
pub fn crate_at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_796_644_800, 0).expect("a valid time")
}

fn prom_queries() -> clustertop::sources::prometheus::queries::Queries {
    let offline = clustertop::sources::prometheus::queries::offline_pods(
        &["koord-batch".into(), "koord-free".into()],
        &["BE".into()],
    );
    clustertop::sources::prometheus::queries::Queries::new(None, "", offline, &BTreeMap::new())
        .expect("default queries")
}

/// The findings about `subject`; for a node, also those about its pods (`namespace/name`).
fn findings_of<'a>(snap: &'a Snapshot, subject: &str) -> Vec<&'a Finding> {
    let pods: Vec<String> =
        snap.pods.on_node(subject).iter().map(|p| format!("{}/{}", p.namespace, p.name)).collect();
    snap.findings.iter().filter(|f| f.subject == subject || pods.contains(&f.subject)).collect()
}

fn family_counts(n: &Node) -> BTreeMap<String, (u32, Option<u32>)> {
    n.bgp_counts
        .families
        .iter()
        .map(|f| {
            let fam = match f.family {
                Some(clustertop::model::Family::Ipv4) => "ipv4",
                Some(clustertop::model::Family::Ipv6) => "ipv6",
                None => "?",
            };
            (fam.to_string(), (f.expected, f.established))
        })
        .collect()
}

/// What in the snapshot disagrees with the case's expectations (empty: all agree). Keys this
/// checker does not know (notes, and figures other suites check) are left alone.
pub fn check(case: &Case, snap: &Snapshot) -> Vec<String> {
    let mut bad = Vec::new();
    let mut err = |s: String| bad.push(format!("{}: {s}", case.name));
    for (subject, want) in &case.expect {
        let node = snap.node(subject);
        let found: Vec<&str> = findings_of(snap, subject).iter().map(|f| f.rule.id()).collect();
        for f in
            want.get("findings").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
        {
            if !found.contains(&f) {
                err(format!("{subject}: finding {f} missing (found {found:?})"));
            }
        }
        for f in
            want.get("not_findings").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
        {
            if found.contains(&f) {
                let what: Vec<&str> = findings_of(snap, subject)
                    .iter()
                    .filter(|x| x.rule.id() == f)
                    .map(|x| x.what.as_str())
                    .collect();
                err(format!("{subject}: finding {f} should not be there: {what:?}"));
            }
        }
        let wants_node = ["net_mode", "bgp_verdict", "bgp", "pods", "runtime", "offline_pods"]
            .iter()
            .any(|k| want.get(*k).is_some());
        let Some(n) = node else {
            if wants_node {
                err(format!("{subject}: no such node in the snapshot"));
            }
            continue;
        };
        if let Some(m) = want.get("net_mode").and_then(Value::as_str)
            && n.net.mode.label() != m
        {
            err(format!("{subject}: mode {} (want {m}); evidence {:?}", n.net.mode.label(), n.net.evidence));
        }
        if let Some(v) = want.get("bgp_verdict").and_then(Value::as_str) {
            let got = serde_json::to_value(n.bgp_verdict).ok().and_then(|v| v.as_str().map(str::to_string));
            if got.as_deref() != Some(v) {
                err(format!(
                    "{subject}: verdict {got:?} {} (want {v}); sessions {:#?}",
                    n.bgp_label(),
                    n.bgp
                ));
            }
        }
        if let Some(b) = want.get("bgp").and_then(Value::as_object) {
            let want_counts: BTreeMap<String, (u32, Option<u32>)> = b
                .iter()
                .filter_map(|(fam, v)| {
                    let a = v.as_array()?;
                    let (up, of) = (a.first()?.as_u64()?, a.get(1)?.as_u64()?);
                    Some((fam.clone(), (u32::try_from(of).ok()?, u32::try_from(up).ok())))
                })
                .collect();
            let got = family_counts(n);
            if got != want_counts {
                err(format!(
                    "{subject}: families (expected, up) {got:?}, want {want_counts:?} ({})",
                    n.bgp_label()
                ));
            }
        }
        if let Some(p) = want.get("pods").and_then(Value::as_u64)
            && n.pods.map(u64::from) != Some(p)
        {
            err(format!("{subject}: {:?} pods (want {p})", n.pods));
        }
        if let Some(r) = want.get("runtime").and_then(Value::as_object) {
            let get = |k: &str| r.get(k).and_then(Value::as_u64).unwrap_or(0);
            let want_mix = (get("runc"), get("kata"), get("gvisor"));
            let got = n.runtime.map(|m| (u64::from(m.runc), u64::from(m.kata), u64::from(m.gvisor)));
            if got != Some(want_mix) {
                err(format!("{subject}: runtime {got:?} (want {want_mix:?})"));
            }
        }
        if let Some(o) = want.get("offline_pods").and_then(Value::as_u64) {
            let got = snap.pods.on_node(subject).iter().filter(|p| p.offline && !p.finished()).count() as u64;
            if got != o {
                err(format!("{subject}: {got} offline pods (want {o})"));
            }
        }
    }
    bad
}
