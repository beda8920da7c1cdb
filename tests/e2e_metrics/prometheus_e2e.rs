//! The Prometheus source and `report capacity` against a real Prometheus (Debian package),
//! backfilled by promtool with 30 h from `clustertop sim openmetrics`, on 127.0.0.1.
//! Expected figures are computed independently from the generated file (`crate::support::om_expect`).
//! With `CI=true` a missing prometheus/promtool fails the test instead of skipping it.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::om_expect::Expected;
use crate::support::prom::Prom;
use crate::support::{generate, require_tools};
use chrono::{DateTime, Duration as CDuration, Utc};
use chrono_tz::Tz;
use clustertop::analysis::{Settings, colocation};
use clustertop::app::{Model, View};
use clustertop::model::Update;
use clustertop::model::{SourceHealth, SourceId, Window, WindowFill};
use clustertop::sources::prometheus::queries::{Queries, offline_pods};
use clustertop::sources::prometheus::{self as prom, Backend, BackendOptions, Interest, PromOptions};
use clustertop::store::ClusterState;
use clustertop::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

const NODES: &str = "12";

/// The end of the generated data: the latest 12:00 UTC at least an hour ago, so the 24 h before
/// it always hold one whole 01:00-06:00 window with its baseline and spill hours, whatever time
/// the test runs at.
fn data_end() -> DateTime<Utc> {
    let t = (Utc::now() - CDuration::hours(13)).timestamp();
    DateTime::from_timestamp(t - t.rem_euclid(86_400) + 12 * 3600, 0).unwrap()
}

fn backend(url: &str, overrides: &[(&str, &str)]) -> Backend {
    let o: BTreeMap<String, String> = overrides.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let off = offline_pods(&["koord-batch".into(), "koord-free".into()], &["BE".into()]);
    let q = Queries::new(None, "topology.kubernetes.io/zone", off, &o).unwrap();
    let opts = BackendOptions { url: url.into(), auth: None, timeout: Duration::from_secs(5) };
    Backend::new(&opts, q).unwrap()
}

fn within(got: f64, want: f64, rel: f64, what: &str) {
    let tol = (want.abs() * rel).max(1e-6);
    assert!((got - want).abs() <= tol, "{what}: got {got}, want {want} (±{:.1} %)", rel * 100.0);
}

/// The fill figures of one occurrence computed from the generated file alone, with the same
/// definitions as `analysis::colocation`: 5-minute points, the point at t the mean of the 5
/// minutes before it, so the points describing `[a, b)` are those at t in `(a, b]`.
fn expected_fill(e: &Expected, rack: Option<&str>, f: &WindowFill, cap: f64) -> (f64, f64, f64, f64) {
    let step = 300;
    let points = |from: i64, to: i64| -> Vec<(f64, f64)> {
        let first = from.div_euclid(step) * step;
        (1..)
            .map(|k| first + k * step)
            .skip_while(|t| *t <= from)
            .take_while(|t| *t <= to)
            .map(|t| e.mean(rack, t - step, t))
            .collect()
    };
    let (s, end) = (f.start.timestamp(), f.end.timestamp());
    let inside = points(s, end);
    let n = inside.len() as f64;
    let busy: f64 = inside.iter().map(|p| p.0).sum();
    let off: f64 = inside.iter().map(|p| p.1).sum();
    let idle: f64 = inside.iter().map(|p| (cap - p.0).max(0.0)).sum::<f64>() * step as f64 / 3600.0;
    let base = points(s - 2 * 3600, s);
    let baseline = base.iter().map(|p| p.1).fold(0.0, f64::max);
    let spill: f64 = points(end, end + 4 * 3600).iter().map(|p| (p.1 - baseline).max(0.0)).sum::<f64>()
        * step as f64
        / 3600.0;
    (busy / n / cap, off / busy, idle, spill)
}

#[test]
fn real_prometheus_curve_split_fills_report_missing_metric_and_outage() {
    if !require_tools() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("clustertop-prom-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let om = dir.join("sim.om");
    let end = data_end();
    let end_s = end.to_rfc3339();
    generate(&["--nodes", NODES, "--hours", "30", "--tz", "UTC", "--cpus", "4", "--end", &end_s], &om);
    let expected = Expected::parse(&om);
    let mut p = Prom::backfill_and_start(&om);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let b = backend(&p.url, &[]);

    // 1. The 24 h curve: 289 points at 5-minute steps, matching the file point by point.
    let fetched = rt.block_on(b.curve(end, 86_400, 300)).unwrap();
    let curve = fetched.curve.expect("a curve");
    assert!(fetched.notes.is_empty(), "{:?}", fetched.notes);
    assert_eq!(curve.points.len(), 289, "24 h at 5 min, both ends included");
    assert_eq!(curve.points.last().unwrap().t, end);
    let cap: f64 = expected.nodes.values().map(|n| n.cores).sum();
    assert_eq!(curve.capacity_cores, cap);
    assert_eq!(
        curve.racks.len(),
        expected.nodes.values().map(|n| &n.rack).collect::<std::collections::BTreeSet<_>>().len()
    );
    for pt in curve.points.iter().step_by(7) {
        let t = pt.t.timestamp();
        let (busy, off) = expected.mean(None, t - 300, t);
        within(pt.total(), busy, 0.02, &format!("busy cores at {}", pt.t));
        within(pt.offline, off, 0.02, &format!("offline cores at {}", pt.t));
    }

    // 2. Window fill figures, cluster and per rack, within 1 % of the independent computation.
    let w = Window::parse("01:00-06:00").unwrap();
    let fills = colocation::fills(&curve, &[w], Tz::UTC, end);
    let complete: Vec<&WindowFill> = fills.iter().filter(|f| f.complete).collect();
    assert!(complete.iter().any(|f| f.rack.is_none()), "a complete cluster occurrence: {fills:#?}");
    let mut spilled = false;
    for f in &complete {
        let rack = f.rack.as_deref();
        let rcap = match rack {
            None => cap,
            Some(r) => expected.nodes.values().filter(|n| n.rack == r).map(|n| n.cores).sum(),
        };
        let (util, share, idle, spill) = expected_fill(&expected, rack, f, rcap);
        let what = format!("{} {rack:?}", f.window.label());
        within(f.avg_util, util, 0.01, &format!("{what} avg util"));
        within(f.offline_share, share, 0.01, &format!("{what} offline share"));
        within(f.idle_core_hours, idle, 0.01, &format!("{what} idle core-hours"));
        if spill > 0.5 {
            spilled = true;
            within(f.spill_core_hours, spill, 0.01, &format!("{what} spill"));
        } else {
            assert!(
                f.spill_core_hours < 0.5,
                "{what}: spill {} where the data has {spill}",
                f.spill_core_hours
            );
        }
    }
    assert!(spilled, "the simulated spill rack shows spill");

    // 3. report capacity in all three formats, from the binary, numbers as above.
    let report = |format: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_clustertop"))
            .args(["report", "capacity", "--prometheus", &p.url, "--end", &end_s, "--tz", "UTC"])
            .args(["--window", "01:00-06:00", "--format", format])
            .env_remove("XDG_CONFIG_HOME")
            .env("HOME", &dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{format}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let json: serde_json::Value = serde_json::from_str(&report("json")).unwrap();
    assert_eq!(json["schema"], "clustertop.capacity/v1");
    let cluster = complete.iter().find(|f| f.rack.is_none()).unwrap();
    let jf = json["fills"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rack"].is_null() && f["complete"] == true)
        .expect("a complete cluster fill in the JSON");
    within(jf["avg_util"].as_f64().unwrap(), cluster.avg_util, 1e-9, "json avg util");
    assert!(!json["under_filled"].as_array().unwrap().is_empty(), "under-filled nodes listed");
    let csv = report("csv");
    assert!(csv.lines().next().unwrap().contains("avg_util"), "{csv}");
    assert!(csv.lines().count() > 2, "{csv}");
    let md = report("markdown");
    assert!(md.contains("01:00-06:00") && md.contains("```"), "{md}");
    assert!(md.contains(&format!("{:.0}", cluster.avg_util * 100.0)), "{md}");

    // 4. A missing metric: an empty panel that says why, not an error screen.
    let missing = backend(&p.url, &[("cpu_used", "metric_that_nobody_exports")]);
    let updates = rt
        .block_on(prom::refresh(&missing, &PromOptions::default(), &Interest::default(), true, end))
        .unwrap();
    let mut state = ClusterState::new("e2e", Settings::default());
    for u in updates {
        state.apply(u);
    }
    let snap = state.snapshot(end);
    let cpu = snap.sources.iter().find(|s| s.source == SourceId::Prometheus && s.scope == "cpu").unwrap();
    assert!(matches!(&cpu.health, SourceHealth::NoData { reason } if reason.contains("cpu_used")), "{cpu:?}");
    assert!(snap.cpu.is_none());
    let screen = render(snap, View::Utilization);
    assert!(screen.contains("no CPU history"), "{screen}");
    assert!(screen.contains("prometheus cpu: no data: cpu_used: no series"), "{screen}");

    // 4b. With the pod watch forbidden, pods and their runtime classes come from kube-state-metrics.
    let want = Interest {
        pods: true,
        node: Some(expected.nodes.keys().next().unwrap().clone()),
        ..Interest::default()
    };
    let updates = rt.block_on(prom::refresh(&b, &PromOptions::default(), &want, false, end)).unwrap();
    let pods = updates
        .iter()
        .find_map(|u| if let Update::MetricPods(p) = u { Some(p.clone()) } else { None })
        .expect("pods from metrics");
    assert_eq!(pods.len(), expected.nodes.len() * 3);
    assert!(pods.iter().all(|p| p.node.is_some()));
    assert!(pods.iter().any(|p| p.runtime_class.is_some()), "kata/gvisor batch pods carry their class");
    assert_eq!(pods.iter().filter(|p| p.offline).count(), expected.nodes.len(), "koord-batch pods");
    let node_cpu = updates
        .iter()
        .find_map(|u| if let Update::NodeCpu { points, .. } = u { Some(points.len()) } else { None });
    assert!(node_cpu.unwrap_or(0) >= 280, "the node's 24 h curve: {node_cpu:?}");

    // 4c. Conntrack by mode: the simulated Cilium agents' CT map pressure and CT insertion-failed
    // counters come back per node as the file has them at `end`; flannel nodes have none.
    let text = std::fs::read_to_string(&om).unwrap();
    let mut want_ct4: BTreeMap<String, f64> = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("cilium_bpf_map_pressure{")) {
        let (labels, rest) = line.split_once("} ").unwrap();
        let mut it = rest.split(' ');
        let (v, t): (f64, i64) = (it.next().unwrap().parse().unwrap(), it.next().unwrap().parse().unwrap());
        if t == end.timestamp() && labels.contains("map_name=\"ct4_global\"") {
            let node = labels.split("node=\"").nth(1).unwrap().split('"').next().unwrap();
            want_ct4.insert(node.to_string(), v);
        }
    }
    assert!(
        !want_ct4.is_empty() && want_ct4.len() < expected.nodes.len(),
        "Cilium and flannel nodes: {want_ct4:?}"
    );
    let mut seen = 0;
    for u in &updates {
        if let Update::NodeMetrics { node, metrics, .. } = u {
            match (want_ct4.get(node), &metrics.cilium_ct) {
                (Some(&want), Some(c)) => {
                    let got = c.maps.iter().find(|m| m.name == "ct4_global").map(|m| m.pressure);
                    assert_eq!(got, Some(want), "{node}");
                    assert!(c.insert_failed_per_s.is_some(), "{node}: the drop counter is there");
                    seen += 1;
                }
                (None, None) => {}
                (w, got) => panic!("{node}: file {w:?}, Prometheus {got:?}"),
            }
        }
    }
    assert_eq!(seen, want_ct4.len());
    // The batch tier's use: each node's offline pods' cores, which add up to the curve's offline
    // cores at `end`.
    let used: f64 = updates
        .iter()
        .filter_map(|u| match u {
            Update::NodeMetrics { metrics, .. } => metrics.batch_used_cores,
            _ => None,
        })
        .sum();
    let curve_end = curve.points.last().unwrap();
    assert!(used > 0.5, "the simulated batch pods use cores: {used}");
    within(used, curve_end.offline, 0.01, "offline cores per node, summed");

    // 5. Prometheus stopped mid-run: the panel goes stale with the reason, then recovers.
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let (_itx, irx) = tokio::sync::watch::channel(Interest::default());
    let fast = PromOptions { refresh: Duration::from_millis(200), ..PromOptions::default() };
    let task = rt.spawn(prom::run(backend(&p.url, &[]), fast, tx, irx));
    let mut state = ClusterState::new("e2e", Settings::default());
    let mut wait_for = |state: &mut ClusterState, what: &str, ok: &dyn Fn(&Update) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "timed out waiting for {what}");
            let batch = rt.block_on(async { tokio::time::timeout(left, rx.recv()).await }).ok().flatten();
            let Some(batch) = batch else { continue };
            let hit = batch.iter().any(ok);
            for u in batch {
                state.apply(u);
            }
            if hit {
                return;
            }
        }
    };
    let backend_is = |ok: bool| {
        move |u: &Update| {
            matches!(u, Update::Health { source: SourceId::Prometheus, scope, health, .. }
                if scope.is_empty() && health.is_ok() == ok)
        }
    };
    wait_for(&mut state, "the first curve", &|u| matches!(u, Update::Cpu(_)));
    p.stop();
    wait_for(&mut state, "the outage to be noticed", &backend_is(false));
    let snap = state.snapshot(Utc::now());
    assert!(snap.cpu.is_some(), "the last curve is kept");
    let screen = render(snap, View::Utilization);
    assert!(screen.contains("unreachable") && screen.contains("curve as of"), "{screen}");
    p.start_again();
    wait_for(&mut state, "recovery", &backend_is(true));
    let screen = render(state.snapshot(Utc::now()), View::Utilization);
    assert!(!screen.contains("unreachable"), "{screen}");
    // 5b. Prometheus frozen (SIGSTOP): it accepts connections and answers nothing, like one stuck
    // for 30 s or more. Each request is cut off at the backend's 5 s timeout and the panel says
    // so over the kept curve; thawed, it is ok again.
    p.freeze(true);
    wait_for(&mut state, "the frozen Prometheus to be noticed", &|u| {
        matches!(u, Update::Health { source: SourceId::Prometheus, scope, health: SourceHealth::Unreachable { error }, .. }
            if scope.is_empty() && error.contains("no answer within the timeout"))
    });
    let screen = render(state.snapshot(Utc::now()), View::Utilization);
    assert!(screen.contains("unreachable (http://127.0.0.1") && screen.contains("curve as of"), "{screen}");
    p.freeze(false);
    wait_for(&mut state, "recovery after the thaw", &backend_is(true));
    task.abort();

    // 6. Unreachable backend and no data: exit 2 with a clear message.
    let fail = |url: &str, end: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_clustertop"))
            .args(["report", "capacity", "--prometheus", url, "--end", end, "--tz", "UTC"])
            .env("HOME", &dir)
            .env_remove("XDG_CONFIG_HOME")
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).to_string())
    };
    p.stop();
    let (code, err) = fail(&p.url, &end_s);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("cannot query Prometheus: connection refused to http://"), "{err}");
    assert_eq!(err.matches(p.url.trim_end_matches('/')).count(), 1, "the URL once: {err}");
    p.start_again();
    let long_ago = (end - CDuration::days(20)).to_rfc3339();
    let (code, err) = fail(&p.url, &long_ago);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no CPU data"), "{err}");
    drop(p);
    let _ = std::fs::remove_dir_all(&dir);
}

fn render(snap: clustertop::model::Snapshot, view: View) -> String {
    let model = Model { snap: Some(Arc::new(snap)), view, size: (160, 40), ..Model::default() };
    let theme = Theme::mono(true);
    let area = Rect::new(0, 0, 160, 40);
    let mut buf = Buffer::empty(area);
    clustertop::views::render(&model, &theme, area, &mut buf);
    let mut s = String::new();
    for y in 0..area.height {
        for x in 0..area.width {
            s.push_str(buf[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}
