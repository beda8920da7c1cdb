//! `clustertop agent` as a process on loopback, reading a fixture tree: the JSON report, the
//! Prometheus text, health, methods and paths, and the body size limit.

#![allow(clippy::unwrap_used)]

use crate::support::agent::{Agent, fixture, request, request_with};
use clustertop::wire::{Fact, NodeReport, SCHEMA};
use serde_json::Value;

const MAX: usize = 64 * 1024;

/// Every `{"absent": …}` in the JSON carries a non-empty reason; returns how many there are.
fn absent_reasons(v: &Value) -> usize {
    match v {
        Value::Object(o) if o.len() == 1 && o.contains_key("absent") => {
            assert!(o["absent"].as_str().is_some_and(|r| !r.is_empty()), "empty reason: {v}");
            1
        }
        Value::Object(o) => o.values().map(absent_reasons).sum(),
        Value::Array(a) => a.iter().map(absent_reasons).sum(),
        _ => 0,
    }
}

#[test]
fn agent_serves_report_metrics_and_health() {
    let dir = fixture("fx-node-1");
    let agent = Agent::start(&dir);

    let (code, head, body) = request(agent.addr, "GET", "/v1/node");
    assert_eq!(code, 200, "{head}");
    assert!(head.to_ascii_lowercase().contains("content-type: application/json"), "{head}");
    assert!(body.len() < MAX);
    let v: Value = serde_json::from_slice(&body).unwrap();
    let r: NodeReport = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(r.schema, SCHEMA);
    assert_eq!(r.node, "fx-node-1", "the host name under --proc");
    assert_eq!(r.bgp_bird, Fact::absent("no --bird-socket"));
    assert_eq!(r.bgp_cilium, Fact::absent("no --cilium-socket"));
    assert!(absent_reasons(&v) >= 2);
    // Values, where the host reader has them, are the fixture's.
    if let Fact::Value(n) = r.host.conntrack.count {
        assert_eq!(n, 1234);
    }
    if let Fact::Value(n) = r.host.conntrack.max {
        assert_eq!(n, 262_144);
    }

    let (code, head, body) = request(agent.addr, "GET", "/metrics");
    assert_eq!(code, 200, "{head}");
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    assert!(body.len() < MAX);
    let text = String::from_utf8(body).unwrap();
    check_exposition(&text);
    assert!(text.contains("clustertop_agent_fact_absent{fact=\"bgp_bird\"} 1"), "{text}");

    let (code, _, body) = request(agent.addr, "GET", "/healthz");
    assert_eq!((code, body.as_slice()), (200, b"ok".as_slice()));
    let (code, _, body) = request(agent.addr, "HEAD", "/v1/node");
    assert_eq!((code, body.len()), (200, 0), "HEAD answers like GET, without a body");

    for m in ["POST", "PUT", "DELETE", "PATCH"] {
        for p in ["/v1/node", "/metrics", "/healthz"] {
            let (code, head, body) = request(agent.addr, m, p);
            assert_eq!(code, 405, "{m} {p}");
            assert!(head.to_ascii_lowercase().contains("allow: get,head"), "{m} {p}: {head}");
            assert!(body.len() < MAX);
        }
    }
    for p in ["/", "/v1", "/v1/node/x", "/v2/node", "/metrics/", "/../etc/passwd"] {
        let (code, _, body) = request(agent.addr, "GET", p);
        assert_eq!(code, 404, "{p}");
        assert!(body.len() < MAX);
    }
    drop(agent);
    let _ = std::fs::remove_dir_all(dir);
}

/// Text exposition 0.0.4: `# HELP`/`# TYPE` comments and `name{labels} value` samples, every name
/// prefixed, every value a float, every TYPE before its samples.
fn check_exposition(text: &str) {
    let mut typed = std::collections::BTreeSet::new();
    let mut samples = 0;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut w = rest.split(' ');
            let name = w.next().unwrap();
            assert!(["gauge", "counter"].contains(&w.next().unwrap()), "{line}");
            assert!(typed.insert(name.to_string()), "TYPE twice: {line}");
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        value.parse::<f64>().unwrap_or_else(|_| panic!("value of {line:?}"));
        let name = series.split('{').next().unwrap();
        assert!(name.starts_with("clustertop_agent_"), "{line}");
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{line}");
        assert!(typed.contains(name), "sample before its TYPE: {line}");
        if let Some(labels) = series.strip_prefix(name).filter(|l| !l.is_empty()) {
            assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
        }
        samples += 1;
    }
    assert!(samples > 0);
}

#[test]
fn once_prints_one_report_and_sigterm_stops_the_server() {
    let dir = fixture("fx-once");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_clustertop"))
        .args(["agent", "--once", "--node-name", "named-by-flag"])
        .arg("--proc")
        .arg(dir.join("proc"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: NodeReport = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((r.schema.as_str(), r.node.as_str()), (SCHEMA, "named-by-flag"));

    let mut agent = Agent::start(&dir);
    let pid = agent.pid();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let status = loop {
        if let Some(s) = agent.child.try_wait().unwrap() {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "agent {pid} still running 5 s after SIGTERM");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn with_a_token_file_only_the_bearer_gets_the_report() {
    let dir = fixture("fx-token");
    let token = dir.join("token");
    std::fs::write(&token, "t0ken-for-tests\n").unwrap();
    let agent = Agent::start_with(&dir, &["--token-file".as_ref(), token.as_os_str()]);
    for (path, headers) in [
        ("/v1/node", ""),
        ("/metrics", ""),
        ("/v1/node", "Authorization: Bearer wrong\r\n"),
        ("/v1/node", "Authorization: Bearer t0ken-for-test\r\n"),
        ("/v1/node", "Authorization: Basic t0ken-for-tests\r\n"),
    ] {
        let (code, head, body) = request_with(agent.addr, "GET", path, headers);
        assert_eq!(code, 401, "{path} {headers:?}: {head}");
        assert!(head.to_ascii_lowercase().contains("www-authenticate: bearer"), "{head}");
        assert!(!String::from_utf8_lossy(&body).contains("t0ken"), "the token is never echoed");
    }
    let ok = "Authorization: Bearer t0ken-for-tests\r\n";
    for path in ["/v1/node", "/metrics"] {
        let (code, head, _) = request_with(agent.addr, "GET", path, ok);
        assert_eq!(code, 200, "{path}: {head}");
    }
    let (code, _, body) = request(agent.addr, "GET", "/healthz");
    assert_eq!((code, body.as_slice()), (200, b"ok".as_slice()), "probes need no token");
    let (code, ..) = request_with(agent.addr, "POST", "/v1/node", ok);
    assert_eq!(code, 405, "still read-only with the token");
}

#[test]
fn an_empty_or_missing_token_file_is_a_clear_error() {
    let dir = fixture("fx-token-bad");
    let empty = dir.join("empty");
    std::fs::write(&empty, "\n").unwrap();
    for f in [empty, dir.join("missing")] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_clustertop"))
            .args(["agent", "--listen", "127.0.0.1:0", "--once", "--token-file"])
            .arg(&f)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{err}");
        assert!(err.contains("token file") && err.contains(&*f.to_string_lossy()), "{err}");
    }
}
