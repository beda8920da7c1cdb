//! The kubelet's sandbox start histogram in a real Prometheus: a known
//! `kubelet_run_podsandbox_duration_seconds` (the kubelet's `DefBuckets`, by `runtime_handler`)
//! and `kubelet_run_podsandbox_errors_total`, backfilled with promtool, give the p50, p95, mean and
//! count `histogram_quantile` gives by hand, per handler and per node, and through the store the
//! RuntimeClass figures and findings.
//!
//! Per minute for two hours: node n1 starts 10 runc sandboxes in (0.25, 0.5] s (0.4 s each) and
//! 16 Kata ones, 8 in (0.5, 1] (0.8 s) and 8 in (1, 2.5] (1.5 s); n2 starts 4 Kata sandboxes in
//! (2.5, 5] (4 s each) and fails one; n3, scraped without a `node` label (`instance` on its
//! InternalIP, joined through `kube_node_info`), starts 10 runc sandboxes in (0.1, 0.25] (0.175 s).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::support::prom::Prom;
use crate::support::unique_dir;
use chrono::{DateTime, Utc};
use clustertop::analysis::Settings;
use clustertop::model::{Rule, StartSource, Update};
use clustertop::sources::prometheus::queries::{Queries, offline_pods};
use clustertop::sources::prometheus::{self as prom, Backend, BackendOptions, Interest, PromOptions};
use clustertop::store::ClusterState;
use clustertop_core::testkit::class;

const BUCKETS: [&str; 12] =
    ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"];

/// One series' labels, and per minute: sandboxes per bucket upper bound (`le` index), seconds each.
struct Kubelet {
    labels: &'static str,
    per_minute: &'static [(usize, u32, f64)],
    errors_per_minute: u32,
}

const SERIES: &[Kubelet] = &[
    Kubelet { labels: r#"node="n1",runtime_handler="""#, per_minute: &[(6, 10, 0.4)], errors_per_minute: 0 },
    Kubelet {
        labels: r#"node="n1",runtime_handler="kata-qemu""#,
        per_minute: &[(7, 8, 0.8), (8, 8, 1.5)],
        errors_per_minute: 0,
    },
    Kubelet {
        labels: r#"node="n2",runtime_handler="kata-qemu""#,
        per_minute: &[(9, 4, 4.0)],
        errors_per_minute: 1,
    },
    Kubelet {
        labels: r#"instance="10.0.0.3:10250",runtime_handler="""#,
        per_minute: &[(5, 10, 0.175)],
        errors_per_minute: 0,
    },
];

const MINUTES: i64 = 120;

fn openmetrics(end: i64) -> String {
    let ts = |m: i64| end - (MINUTES - m) * 60;
    let mut s = String::from("# TYPE kubelet_run_podsandbox_duration_seconds histogram\n");
    for k in SERIES {
        for (i, le) in BUCKETS.iter().enumerate() {
            let per: u32 = k.per_minute.iter().filter(|(b, _, _)| *b <= i).map(|(_, n, _)| n).sum();
            for m in 0..=MINUTES {
                let v = i64::from(per) * m;
                writeln!(
                    s,
                    "kubelet_run_podsandbox_duration_seconds_bucket{{{},le=\"{le}\"}} {v} {}",
                    k.labels,
                    ts(m)
                )
                .unwrap();
            }
        }
        let sum: f64 = k.per_minute.iter().map(|(_, n, secs)| f64::from(*n) * secs).sum();
        let count: u32 = k.per_minute.iter().map(|(_, n, _)| n).sum();
        for m in 0..=MINUTES {
            writeln!(
                s,
                "kubelet_run_podsandbox_duration_seconds_sum{{{}}} {} {}",
                k.labels,
                sum * m as f64,
                ts(m)
            )
            .unwrap();
        }
        for m in 0..=MINUTES {
            let v = i64::from(count) * m;
            writeln!(s, "kubelet_run_podsandbox_duration_seconds_count{{{}}} {v} {}", k.labels, ts(m))
                .unwrap();
        }
    }
    s.push_str("# TYPE kubelet_run_podsandbox_errors counter\n");
    for k in SERIES {
        for m in 0..=MINUTES {
            let v = i64::from(k.errors_per_minute) * m;
            writeln!(s, "kubelet_run_podsandbox_errors_total{{{}}} {v} {}", k.labels, ts(m)).unwrap();
        }
    }
    s.push_str("# TYPE kube_node_info gauge\n");
    for m in 0..=MINUTES {
        writeln!(s, "kube_node_info{{node=\"n3\",internal_ip=\"10.0.0.3\"}} 1 {}", ts(m)).unwrap();
    }
    s.push_str("# EOF\n");
    s
}

fn close(got: Option<f64>, want: f64, what: &str) {
    let got = got.unwrap_or_else(|| panic!("{what}: no figure"));
    assert!((got - want).abs() <= 1e-9 + want.abs() * 1e-9, "{what}: got {got}, want {want}");
}

#[test]
fn a_known_kubelet_histogram_gives_its_quantiles_per_handler_and_node() {
    if !crate::support::require_tools() {
        return;
    }
    // The last sample two minutes before now (promtool and the lookback), on a whole minute.
    let end = (Utc::now().timestamp() - 120) / 60 * 60;
    let dir = unique_dir("sandbox-om");
    let file = dir.join("kubelet.om");
    std::fs::write(&file, openmetrics(end)).unwrap();
    let mut p = Prom::backfill_and_start(&file);
    let q =
        Queries::new(None, "topology.kubernetes.io/zone", offline_pods(&[], &[]), &BTreeMap::new()).unwrap();
    let opts = BackendOptions { url: p.url.clone(), auth: None, timeout: Duration::from_secs(10) };
    let b = Backend::new(&opts, q).unwrap();
    let at = DateTime::<Utc>::from_timestamp(end, 0).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let updates =
        rt.block_on(prom::refresh(&b, &PromOptions::default(), &Interest::default(), true, at)).unwrap();
    p.stop();
    let _ = std::fs::remove_dir_all(&dir);

    let starts = updates
        .iter()
        .find_map(|u| match u {
            Update::KubeletStarts { window, starts } => Some((window.clone(), starts.clone())),
            _ => None,
        })
        .expect("the source sends the kubelet's figures");
    assert_eq!(starts.0, "1h");
    let get = |h: &str, n: Option<&str>| {
        starts.1.iter().find(|k| k.handler == h && k.node.as_deref() == n).unwrap_or_else(|| {
            panic!("handler {h:?} on {n:?} in {:?}", starts.1);
        })
    };
    // Cluster, runc (""): n1 and n3, 20 a minute; 10 at or below 0.25 s, 20 at or below 0.5 s.
    let runc = get("", None);
    close(runc.p50_s, 0.1 + 0.15 * 10.0 / 10.0, "runc p50");
    close(runc.p95_s, 0.25 + 0.25 * 9.0 / 10.0, "runc p95");
    close(runc.mean_s, (10.0 * 0.4 + 10.0 * 0.175) / 20.0, "runc mean");
    close(Some(runc.samples), 1200.0, "runc sandboxes in the hour");
    // Cluster, Kata: 20 a minute; 8 at or below 1 s, 16 at or below 2.5 s, 20 at or below 5 s.
    let kata = get("kata-qemu", None);
    close(kata.p50_s, 1.0 + 1.5 * 2.0 / 8.0, "kata p50");
    close(kata.p95_s, 2.5 + 2.5 * 3.0 / 4.0, "kata p95");
    close(kata.mean_s, (8.0 * 0.8 + 8.0 * 1.5 + 4.0 * 4.0) / 20.0, "kata mean");
    // Per node, n3 found through its InternalIP.
    close(get("kata-qemu", Some("n1")).p50_s, 1.0, "n1 kata p50");
    close(get("kata-qemu", Some("n1")).p95_s, 1.0 + 1.5 * 7.2 / 8.0, "n1 kata p95");
    close(get("kata-qemu", Some("n2")).p50_s, 2.5 + 2.5 * 0.5, "n2 kata p50");
    close(get("kata-qemu", Some("n2")).mean_s, 4.0, "n2 kata mean");
    close(get("", Some("n3")).p50_s, 0.1 + 0.15 * 0.5, "n3 runc p50");
    close(get("kata-qemu", Some("n2")).errors, 60.0, "n2 kata errors in the hour");
    close(get("", Some("n1")).errors, 0.0, "n1 runc errors");

    // Through the store: RuntimeClass kata (handler kata-qemu) takes the kubelet's figure; n2 is
    // slow for it (4 s against 1.72 s) and has sandbox creation errors.
    let mut st = ClusterState::new("t", Settings::default());
    st.apply(Update::RuntimeClasses(vec![class("kata", "kata-qemu", &[])]));
    updates.into_iter().for_each(|u| {
        st.apply(u);
    });
    let snap = st.snapshot(at);
    let k = snap.sandbox_starts.of(Some("kata")).unwrap().clone().unwrap();
    assert_eq!((k.source, k.samples), (StartSource::Kubelet, 1200));
    close(k.p95_s, 4.375, "class kata p95");
    let subjects = |r: Rule| -> Vec<&str> {
        snap.findings.iter().filter(|f| f.rule == r).map(|f| f.subject.as_str()).collect()
    };
    assert_eq!(subjects(Rule::SandboxStartSlow), vec!["n2"]);
    assert_eq!(subjects(Rule::SandboxCreateErrors), vec!["n2"]);
}
