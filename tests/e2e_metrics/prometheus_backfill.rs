//! `clustertop sim openmetrics` into a real Prometheus (promtool backfill), checked against an
//! independent reading of the generated file.

use std::time::Instant;

use chrono::{Duration, DurationRound, Utc};

use crate::support::om_expect::Expected;
use crate::support::prom::{Prom, points, scalar};

fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs().max(1e-9)
}

#[test]
fn backfilled_prometheus_serves_the_simulated_day() {
    if !crate::support::require_tools() {
        return;
    }
    let t0 = Instant::now();
    // A fixed hour a couple of days back: in the past (promtool takes future samples, Prometheus
    // then misbehaves) and well inside the 30-day retention.
    let end = (Utc::now() - Duration::days(2)).duration_trunc(Duration::hours(1)).expect("truncate");
    let (end_ts, start_ts) = (end.timestamp(), end.timestamp() - 24 * 3600);
    let dir = crate::support::unique_dir("om");
    let om = dir.join("sim.om");
    let end_arg = end.to_rfc3339();
    crate::support::generate(&["--tz", "UTC", "--nodes", "12", "--cpus", "4", "--end", &end_arg], &om);
    let size = std::fs::metadata(&om).map(|m| m.len()).unwrap_or(0);
    let generated = t0.elapsed();

    let exp = Expected::parse(&om);
    assert_eq!(exp.step, 60);
    assert_eq!(exp.nodes.len(), 12);
    assert!(exp.nodes.values().all(|n| n.cores == 4.0 && n.rack.starts_with("rack-")));
    let parsed = t0.elapsed();

    let mut prom = Prom::backfill_and_start(&om);
    let _ = std::fs::remove_dir_all(&dir);
    let started = t0.elapsed();

    // Busy cores over the day at a 5-minute step. 289 evaluation times (both ends included),
    // 288 points: at the first one, `start`, the 5-minute window holds only the first sample
    // (nothing was backfilled before it), so rate() has no value there.
    let busy = r#"sum(rate(node_cpu_seconds_total{mode!="idle"}[5m]))"#;
    let res = prom.query_range(busy, start_ts, end_ts, 300);
    assert_eq!(res.len(), 1, "{res:?}");
    let pts = points(&res[0]);
    assert_eq!(pts.len(), 288);
    assert_eq!(pts.first().map(|p| p.0), Some(start_ts + 300));
    assert_eq!(pts.last().map(|p| p.0), Some(end_ts));
    let mut worst = 0.0f64;
    for &(t, v) in &pts {
        // A 5-minute window closed at both ends in Prometheus 2.x: samples at t-300 .. t, i.e.
        // the intervals ending in (t-300, t].
        let (want, _) = exp.mean(None, t - 300, t);
        assert!(close(v, want, 0.02), "busy cores at {t}: prometheus {v}, expected {want}");
        worst = worst.max((v - want).abs() / want);
    }
    // The diurnal curve is visible: the day is not flat.
    let (lo, hi) = pts.iter().fold((f64::MAX, 0.0f64), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    assert!(hi > lo * 1.3, "flat day: {lo} .. {hi}");

    // Offline cores: batch by priority class, BE by the Koordinator QoS label.
    let offline = r#"sum(
        sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!=""}[5m]))
        * on (namespace, pod) group_left ()
        (max by (namespace, pod) (kube_pod_info{priority_class=~"koord-batch|koord-free"})
         or max by (namespace, pod) (kube_pod_labels{label_koordinator_sh_qos_class="BE"})))"#;
    let res = prom.query_range(offline, start_ts, end_ts, 3600);
    let pts = points(res.first().expect("offline result"));
    assert_eq!(pts.len(), 24);
    for &(t, v) in &pts {
        let (_, want) = exp.mean(None, t - 300, t);
        assert!(close(v, want, 0.02), "offline cores at {t}: prometheus {v}, expected {want}");
    }

    // Constant series (thinned in the file) are found at any time of the range.
    let cap = prom.query_range("count(kube_node_status_capacity)", start_ts, end_ts, 60);
    let cap = points(cap.first().expect("capacity result"));
    assert_eq!(cap.len(), 24 * 60 + 1);
    assert!(cap.iter().all(|p| p.1 == 12.0), "{cap:?}");
    assert_eq!(scalar(&prom.query("count(kube_node_status_capacity)", end_ts)), Some(12.0));
    assert_eq!(scalar(&prom.query("count(kube_pod_info)", end_ts - 7 * 3600 - 30)), Some(36.0));
    let queried = t0.elapsed();

    // Stop by PID, start on the same port and data: the data survives.
    prom.stop();
    assert!(!prom.is_running());
    prom.start_again();
    assert!(prom.is_running());
    assert_eq!(scalar(&prom.query("count(kube_node_status_capacity)", end_ts)), Some(12.0));
    let again = points(&prom.query_range(busy, end_ts - 3600, end_ts, 300)[0]);
    let (want, _) = exp.mean(None, end_ts - 300, end_ts);
    assert!(again.last().is_some_and(|p| p.0 == end_ts && close(p.1, want, 0.02)), "{again:?}");

    eprintln!(
        "busy cores: worst relative error {worst:.1e}; om {:.1} MB: generate {:.2?}, parse {:.2?}, backfill {:.2?}, start {:.2?}, queries {:.2?}, restart {:.2?}",
        size as f64 / 1e6,
        generated,
        parsed - generated,
        prom.backfill,
        started - parsed - prom.backfill,
        queried - started,
        t0.elapsed() - queried
    );
}
