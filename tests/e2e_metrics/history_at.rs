//! `snapshot --prometheus URL --at TIME` against a real Prometheus backfilled (promtool) with a
//! known incident: rack-1's second TOR drops both its BGP sessions for half an hour, and one node's
//! conntrack table fills to a known level in the middle of it. Before, during and after, the
//! snapshot gives the verdicts and figures known by construction.
//!
//! Series as their exporters name them: kube-state-metrics v2 (`kube_node_info`,
//! `kube_node_labels` with an allowlisted rack label, `kube_node_status_condition`, `kube_pod_info`
//! with `created_by_*`), node_exporter's conntrack gauges, the Cilium agent's
//! `cilium_bgp_control_plane_session_state` (with the `node` label a ServiceMonitor relabels in).

#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::process::Command;

use chrono::{TimeZone, Utc};
use serde_json::Value;

use crate::support::prom::Prom;
use crate::support::{TempDir, require_tools};

const STEP: i64 = 60;
const CT_MAX: u64 = 262_144;
const CT_SPIKE: u64 = 240_000;
const CT_IDLE: u64 = 20_000;
/// The nodes were created this long before the data starts.
const CREATED_AGO: i64 = 3 * 86_400;

struct Incident {
    start: i64,
    end: i64,
    /// TOR-B of rack 1 down in [down, up).
    down: i64,
    up: i64,
    /// r1-n02's conntrack at CT_SPIKE in [ct_from, ct_to).
    ct_from: i64,
    ct_to: i64,
}

/// (node, rack, its TOR peers' addresses)
const NODES: &[(&str, &str, [&str; 2])] = &[
    ("r1-n01", "rack-1", ["10.1.0.1", "10.1.0.2"]),
    ("r1-n02", "rack-1", ["10.1.0.1", "10.1.0.2"]),
    ("r2-n01", "rack-2", ["10.2.0.1", "10.2.0.2"]),
];

fn om(i: &Incident) -> String {
    let mut o = String::new();
    let times: Vec<i64> = (0..).map(|k| i.start + k * STEP).take_while(|t| *t <= i.end).collect();
    let series = |o: &mut String, name: &str, labels: &str, v: &dyn Fn(i64) -> u64| {
        for t in &times {
            writeln!(o, "{name}{{{labels}}} {} {t}", v(*t)).unwrap();
        }
    };
    writeln!(o, "# TYPE kube_node_info gauge").unwrap();
    for (k, (n, _, _)) in NODES.iter().enumerate() {
        let l = format!(r#"node="{n}",internal_ip="10.0.0.{}",kubelet_version="v1.31.4""#, k + 11);
        series(&mut o, "kube_node_info", &l, &|_| 1);
    }
    writeln!(o, "# TYPE kube_node_created gauge").unwrap();
    for (n, _, _) in NODES {
        series(&mut o, "kube_node_created", &format!(r#"node="{n}""#), &|_| (i.start - CREATED_AGO) as u64);
    }
    writeln!(o, "# TYPE kube_node_labels gauge").unwrap();
    for (n, rack, _) in NODES {
        series(
            &mut o,
            "kube_node_labels",
            &format!(r#"node="{n}",label_topology_kubernetes_io_zone="{rack}""#),
            &|_| 1,
        );
    }
    writeln!(o, "# TYPE kube_node_status_condition gauge").unwrap();
    for (n, _, _) in NODES {
        for (status, v) in [("true", 1), ("false", 0), ("unknown", 0)] {
            let l = format!(r#"node="{n}",condition="Ready",status="{status}""#);
            series(&mut o, "kube_node_status_condition", &l, &|_| v);
        }
    }
    writeln!(o, "# TYPE kube_pod_info gauge").unwrap();
    for (n, _, _) in NODES {
        let l = format!(
            r#"namespace="kube-system",pod="cilium-{n}",node="{n}",created_by_kind="DaemonSet",created_by_name="cilium",priority_class="system-node-critical""#
        );
        series(&mut o, "kube_pod_info", &l, &|_| 1);
        let l = format!(
            r#"namespace="web",pod="web-{n}",node="{n}",created_by_kind="ReplicaSet",created_by_name="web-7d9f",priority_class="""#
        );
        series(&mut o, "kube_pod_info", &l, &|_| 1);
    }
    writeln!(o, "# TYPE node_nf_conntrack_entries gauge").unwrap();
    for (n, _, _) in NODES {
        let l = format!(r#"instance="{n}:9100",job="node-exporter",node="{n}""#);
        let spike = *n == "r1-n02";
        series(&mut o, "node_nf_conntrack_entries", &l, &|t| {
            if spike && (i.ct_from..i.ct_to).contains(&t) { CT_SPIKE } else { CT_IDLE }
        });
    }
    writeln!(o, "# TYPE node_nf_conntrack_entries_limit gauge").unwrap();
    for (n, _, _) in NODES {
        let l = format!(r#"instance="{n}:9100",job="node-exporter",node="{n}""#);
        series(&mut o, "node_nf_conntrack_entries_limit", &l, &|_| CT_MAX);
    }
    writeln!(o, "# TYPE cilium_bgp_control_plane_session_state gauge").unwrap();
    for (n, rack, peers) in NODES {
        for (k, peer) in peers.iter().enumerate() {
            let l = format!(
                r#"instance="{n}:9962",job="cilium-agent",node="{n}",neighbor="{peer}:179",neighbor_asn="6500{k}",vrouter="64512""#
            );
            let lost = *rack == "rack-1" && k == 1;
            series(&mut o, "cilium_bgp_control_plane_session_state", &l, &|t| {
                u64::from(!(lost && (i.down..i.up).contains(&t)))
            });
        }
    }
    o.push_str("# EOF\n");
    o
}

fn rfc(t: i64) -> String {
    Utc.timestamp_opt(t, 0).unwrap().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn snapshot(p: &Prom, home: &std::path::Path, at: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_clustertop"))
        .args(["snapshot", "--prometheus", &p.url, "--at", at, "--format", "json", "--tz", "UTC"])
        .args(["--rack-label", "topology.kubernetes.io/zone"])
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", home)
        .output()
        .unwrap();
    assert!(out.status.success(), "--at {at}: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["origin"], "prometheus", "the moment says where it came from");
    v
}

fn node<'a>(s: &'a Value, name: &str) -> &'a Value {
    s["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {s:#}"))
}

#[test]
fn snapshot_at_a_past_moment_from_prometheus_gives_the_known_answer() {
    if !require_tools() {
        return;
    }
    let now = Utc::now().timestamp();
    let start = now.div_euclid(3600) * 3600 - 6 * 3600;
    let i = Incident {
        start,
        end: start + 3 * 3600,
        down: start + 3600,
        up: start + 5400,
        ct_from: start + 4500,
        ct_to: start + 5100,
    };
    let dir = TempDir::new("history-at");
    let file = dir.0.join("incident.om");
    std::fs::write(&file, om(&i)).unwrap();
    let mut p = Prom::backfill_and_start(&file);

    let before = snapshot(&p, &dir.0, &rfc(i.down - 600));
    let during = snapshot(&p, &dir.0, &rfc(i.down + 1200));
    let after = snapshot(&p, &dir.0, &rfc(i.up + 1800));
    // Established / expected over the node's families, and the verdict.
    let label = |s: &Value, n: &str| {
        let c = &node(s, n)["bgp_counts"]["families"];
        let sum = |k: &str| c.as_array().unwrap().iter().map(|f| f[k].as_u64().unwrap()).sum::<u64>();
        (
            format!("{}/{}", sum("established"), sum("expected")),
            node(s, n)["bgp_verdict"].as_str().unwrap().to_string(),
        )
    };
    let v = |l: &str, verdict: &str| (l.to_string(), verdict.to_string());
    for n in ["r1-n01", "r1-n02"] {
        assert_eq!(label(&before, n), v("2/2", "healthy"), "{n} before: {before:#}");
        assert_eq!(label(&during, n), v("1/2", "degraded"), "{n} during: {during:#}");
        assert_eq!(label(&after, n), v("2/2", "healthy"), "{n} after: {after:#}");
    }
    assert_eq!(label(&during, "r2-n01"), v("2/2", "healthy"), "rack 2 untouched");
    for s in [&before, &during, &after] {
        assert_eq!(s["summary"]["nodes"], 3);
        assert_eq!(s["summary"]["ready"], 3);
        assert_eq!(node(s, "r1-n01")["rack"], "rack-1");
        assert_eq!(node(s, "r1-n01")["created"].as_str(), Some(rfc(i.start - CREATED_AGO).as_str()));
        // Sessions up prove Cilium peers, not that it routes pods over BGP (it may advertise
        // Service IPs alone): that is in its BGP objects, which Prometheus does not have.
        assert_eq!(node(s, "r1-n01")["net"]["mode"], "cilium_undetermined", "{s:#}");
    }
    // The conntrack spike: exactly the backfilled figures, and only in its interval.
    let ct = |s: &Value| node(s, "r1-n02")["host"]["value"]["conntrack"].clone();
    assert_eq!(ct(&during)["entries"], CT_SPIKE, "{during:#}");
    assert_eq!(ct(&during)["limit"], CT_MAX);
    assert_eq!(ct(&before)["entries"], CT_IDLE);
    assert_eq!(ct(&after)["entries"], CT_IDLE);
    // Which runtime a RuntimeClass runs is not in Prometheus: unknown, with the reason.
    assert!(during["summary"]["runtime_pods"].is_null(), "{:#}", during["summary"]);
    assert!(during["unknown"]["runtime_classes"].as_str().unwrap().contains("RuntimeClass"));
    // `report incident --prometheus`: the outage with its start and end, exactly (the samples are
    // a minute apart, on the minutes the incident starts and ends).
    let out = Command::new(env!("CARGO_BIN_EXE_clustertop"))
        .args(["report", "incident", "--prometheus", &p.url, "--format", "json", "--tz", "UTC"])
        .args(["--since", &rfc(i.down - 600), "--until", &rfc(i.up + 600)])
        .args(["--rack-label", "topology.kubernetes.io/zone"])
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", &dir.0)
        .output()
        .unwrap();
    assert!(out.status.success(), "report incident: {}", String::from_utf8_lossy(&out.stderr));
    let inc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(inc["resolution_s"], 60, "{inc:#}");
    let tors = inc["tors"].as_array().unwrap();
    assert_eq!(tors.len(), 1, "one TOR went down: {inc:#}");
    assert_eq!(tors[0]["name"], "10.1.0.2", "{inc:#}");
    assert_eq!(tors[0]["nodes"], serde_json::json!(["r1-n01", "r1-n02"]));
    assert_eq!(
        (tors[0]["start"].as_str(), tors[0]["end"].as_str()),
        (Some(rfc(i.down).as_str()), Some(rfc(i.up).as_str()))
    );
    let racks = inc["racks"].as_array().unwrap();
    assert_eq!((racks.len(), racks[0]["name"].as_str()), (1, Some("rack-1")), "{inc:#}");

    // The dashboard's time cursor on a moment no recording holds: Prometheus answers, and the
    // banner says so.
    {
        use clustertop::app::{Found, Model, Msg, Past, update};
        use clustertop::record::History;
        use clustertop::sources::prometheus::as_history::{Layered, PromHistory};
        use clustertop::sources::prometheus::queries::{Queries, offline_pods};
        use clustertop::sources::prometheus::{Backend, BackendOptions, PromOptions};
        let q =
            Queries::new(None, "topology.kubernetes.io/zone", offline_pods(&[], &[]), &Default::default())
                .unwrap();
        let opts =
            BackendOptions { url: p.url.clone(), auth: None, timeout: std::time::Duration::from_secs(5) };
        let b = Backend::new(&opts, q).unwrap();
        let settings = clustertop::analysis::Settings::default();
        let ph = PromHistory::new(b, PromOptions::default(), "topology.kubernetes.io/zone".into(), settings)
            .unwrap();
        let past = Layered { recording: None, prometheus: ph };
        let t = Utc.timestamp_opt(i.down + 1200, 0).unwrap();
        let (snap, from) = past.snapshot_from(t).unwrap();
        assert_eq!(from, "Prometheus");
        let n = snap.nodes.iter().find(|n| n.name == "r1-n01").unwrap();
        assert_eq!(n.bgp_label(), "1/2");
        let mut live = snap.clone();
        live.now = Utc::now();
        let mut m = Model { past: Past::Recorded, ..Model::default() };
        update(&mut m, Msg::Snapshot(std::sync::Arc::new(live)));
        m.seeking = Some(t);
        update(&mut m, Msg::Sought(t, Ok(Found { at: t, snap: std::sync::Arc::new(snap), from })));
        let theme = clustertop::theme::Theme::builtin("mono", false).unwrap();
        let mut buf = ratatui::buffer::Buffer::empty(ratatui::layout::Rect::new(0, 0, 160, 40));
        clustertop::views::render_frame(&m, &theme, buf.area, &mut buf);
        let screen: String =
            (0..40).map(|y| (0..160).map(|x| buf[(x, y)].symbol()).collect::<String>() + "\n").collect();
        assert!(screen.contains("REWOUND") && screen.contains("from Prometheus"), "{screen}");
    }

    // A moment in the future, or not a moment: a clear error, exit 2.
    for bad in ["2999-01-01T00:00:00Z", "yesterday"] {
        let out = Command::new(env!("CARGO_BIN_EXE_clustertop"))
            .args(["snapshot", "--prometheus", &p.url, "--at", bad])
            .env_remove("XDG_CONFIG_HOME")
            .env("HOME", &dir.0)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stderr).contains("--at"), "{bad}");
    }
    p.stop();
}
