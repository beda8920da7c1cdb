use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::nodes::{self, node_ms};
use super::text::{Val, escape_label, push_val, series_prefix};
use super::{OmConfig, write};
use crate::{Scenario, Sim, SimConfig};

fn end() -> DateTime<Utc> {
    clustertop_core::testkit::T0
}

fn cfg(nodes: usize, hours: u32, cpus: u32) -> OmConfig {
    OmConfig { hours, cpus, ..OmConfig::new(SimConfig { nodes, ..SimConfig::default() }, end()) }
}

fn text(c: &OmConfig) -> String {
    let mut out = Vec::new();
    write(c, &mut out).expect("write");
    String::from_utf8(out).expect("utf-8")
}

/// Series (name and labels, as written) -> samples (ts, value) in file order.
fn parse(t: &str) -> BTreeMap<&str, Vec<(i64, f64)>> {
    let mut m: BTreeMap<&str, Vec<(i64, f64)>> = BTreeMap::new();
    for line in t.lines().filter(|l| !l.starts_with('#')) {
        let mut it = line.rsplitn(3, ' ');
        let ts = it.next().and_then(|s| s.parse().ok()).expect("timestamp");
        let v = it.next().and_then(|s| s.parse().ok()).expect("value");
        m.entry(it.next().expect("series")).or_default().push((ts, v));
    }
    m
}

#[test]
fn ends_with_eof_and_every_series_is_in_time_order() {
    let c = cfg(12, 2, 2);
    let t = text(&c);
    assert!(t.ends_with("\n# EOF\n"));
    assert_eq!(t.matches("# EOF").count(), 1);
    let m = parse(&t);
    for (s, pts) in &m {
        assert!(pts.windows(2).all(|w| w[0].0 < w[1].0), "{s} not strictly increasing");
        assert_eq!(pts.last().map(|p| p.0), Some(end().timestamp()), "{s} does not reach end");
        assert_eq!(pts[0].0, end().timestamp() - 2 * 3600, "{s} does not start at end - hours");
    }
    // Families are written together: a TYPE line per family, each name's samples contiguous.
    assert!(t.contains("# TYPE node_cpu_seconds counter\n"));
    assert!(t.contains("# TYPE container_cpu_usage_seconds counter\n"));
    assert!(t.contains("# TYPE kube_pod_info gauge\n"));
    let mut seen = Vec::new();
    for l in t.lines().filter(|l| !l.starts_with('#')) {
        let name = l.split(['{', ' ']).next().unwrap_or("");
        if seen.last() != Some(&name) {
            assert!(!seen.contains(&name), "{name} is not contiguous");
            seen.push(name);
        }
    }
}

#[test]
fn counters_never_decrease() {
    let t = text(&OmConfig {
        sim: SimConfig { scenario: Scenario::ConntrackStorm, ..SimConfig::default() },
        ..cfg(48, 3, 1)
    });
    let m = parse(&t);
    let mut grew = 0;
    for (s, pts) in m.iter().filter(|(s, _)| s.contains("_total{") || s.contains("_stat_")) {
        assert!(pts.windows(2).all(|w| w[0].1 <= w[1].1), "{s} decreases");
        grew += usize::from(pts.last().map(|p| p.1) > pts.first().map(|p| p.1));
    }
    assert!(grew > 48 * 2, "only {grew} counters grew");
}

#[test]
fn user_seconds_follow_the_cpu_model() {
    let c = cfg(12, 1, 4);
    let t = text(&c);
    let m = parse(&t);
    let sim = Sim::new(c.sim.clone(), end());
    let plan = nodes::plan(&sim);
    let times = nodes::times(end(), 1, 60);
    let q = 60_000;
    for n in &plan {
        let user: Vec<&Vec<(i64, f64)>> = m
            .iter()
            .filter(|(s, _)| s.contains(&format!("node=\"{}\"", n.name)) && s.contains("mode=\"user\""))
            .map(|(_, v)| v)
            .collect();
        assert_eq!(user.len(), 4);
        for k in 1..times.len() {
            // The interval ending at times[k] has the shares of its middle.
            let t = DateTime::from_timestamp(times[k] - 30, 0).expect("time");
            let rack = sim.cpu.rack_shares(t)[n.rack - 1];
            let (on, off) = node_ms(rack, n.host.cpu_offset, q);
            let (u_on, u_off) = (on as f64 / q as f64, off as f64 / q as f64);
            assert!((0.0..=1.0).contains(&(u_on + u_off)));
            let inc: f64 = user.iter().map(|pts| pts[k].1 - pts[k - 1].1).sum();
            let want = (u_on + u_off) * 60.0 * 4.0;
            assert!((inc - want).abs() < 1e-9, "{} at {k}: {inc} vs {want}", n.name);
            // The node's pods use what the node uses: online u_on*C, offline u_off*C.
            let pod = |p: &str| {
                let key = m
                    .keys()
                    .find(|s| {
                        s.contains(&format!("pod=\"{p}-{}\"", n.name)) && s.contains("container=\"main\"")
                    })
                    .expect("pod");
                m[key][k].1 - m[key][k - 1].1
            };
            assert!((pod("online") - u_on * 240.0).abs() < 1e-6);
            assert!((pod("batch") + pod("be") - u_off * 240.0).abs() < 1e-6);
        }
    }
}

#[test]
fn same_config_same_bytes() {
    let c = cfg(12, 1, 2);
    assert_eq!(text(&c), text(&c));
    let other = OmConfig { sim: SimConfig { seed: 7, ..c.sim.clone() }, ..c.clone() };
    assert_ne!(text(&c), text(&other));
}

#[test]
fn label_values_are_escaped() {
    let mut s = String::new();
    escape_label("a\\b\"c\nd", &mut s);
    assert_eq!(s, "a\\\\b\\\"c\\nd");
    assert_eq!(series_prefix("m", &[("k", "x\"y"), ("l", "")]), "m{k=\"x\\\"y\",l=\"\"} ");
    assert_eq!(series_prefix("m", &[]), "m ");
    let mut b = Vec::new();
    push_val(&mut b, Val::Ms(1_000_005));
    b.push(b' ');
    push_val(&mut b, Val::Int(0));
    b.push(b' ');
    push_val(&mut b, Val::Ms(42));
    assert_eq!(String::from_utf8(b).expect("ascii"), "1000.005 0 0.042");
}

#[test]
fn end_is_truncated_to_the_step_and_hours_fit() {
    let t = nodes::times(end() + chrono::Duration::seconds(59), 1, 60);
    assert_eq!(t.len(), 61);
    assert_eq!(t[60], end().timestamp());
    let t = nodes::times(end(), 1, 45);
    assert_eq!(t.len(), 81);
    assert_eq!(t[80] - t[0], 3600);
    let t = nodes::times(end(), 1, 17);
    assert_eq!(t[t.len() - 1], end().timestamp() / 17 * 17);
    assert!(write(&OmConfig { step_s: 0, ..cfg(1, 1, 1) }, &mut Vec::new()).is_err());
}

#[test]
fn shares_stay_in_bounds() {
    for on in [-1.0, 0.0, 0.3, 0.9, 1.0, 2.0] {
        for off in [-1.0, 0.0, 0.2, 0.8, 1.5] {
            for offset in [-0.08, 0.0, 0.08] {
                let (a, b) = node_ms((on, off), offset, 60_000);
                assert!(a + b <= 60_000, "{on} {off} {offset}");
            }
        }
    }
}

#[test]
fn kube_state_metrics_cilium_and_runtime_classes_are_there() {
    let t = text(&cfg(48, 1, 1));
    let m = parse(&t);
    let count = |pre: &str| m.keys().filter(|s| s.starts_with(pre)).count();
    assert_eq!(count("kube_node_status_capacity{"), 48);
    assert_eq!(count("kube_node_labels{"), 48);
    assert_eq!(count("kube_pod_info{"), 3 * 48);
    assert!(count("kube_pod_runtimeclass_name_info{") > 0);
    assert!(t.contains("runtimeclass_name=\"kata-qemu\"") && t.contains("runtimeclass_name=\"gvisor\""));
    assert!(
        t.contains("priority_class=\"koord-batch\"") && t.contains("label_koordinator_sh_qos_class=\"BE\"")
    );
    // Three label generations of the BGP session metric, a down session and a flapping one.
    let bgp: Vec<(&&str, &Vec<(i64, f64)>)> =
        m.iter().filter(|(s, _)| s.starts_with("cilium_bgp_control_plane_session_state{")).collect();
    assert!(bgp.iter().any(|(s, _)| s.contains("instance_name=\"default\"") && s.contains("local_asn=")));
    assert!(bgp.iter().any(|(s, _)| s.contains("vrouter=\"64512\"") && s.contains("neighbor_asn=")));
    assert!(bgp.iter().any(|(s, _)| s.contains("vrouter=\"64512\"") && !s.contains("neighbor_asn=")));
    assert!(bgp.iter().all(|(s, _)| s.contains(":179\"")));
    assert!(bgp.iter().any(|(_, p)| p.last().map(|x| x.1) == Some(0.0)));
    let flips = |p: &Vec<(i64, f64)>| p.windows(2).filter(|w| w[0].1 != w[1].1).count();
    assert!(bgp.iter().any(|(_, p)| flips(p) > 3));
    // Cilium nodes: two global CT maps' pressure and a CT insertion-failed counter each, by the
    // agent's names; the kernel table of a Cilium-only node holds the host's connections only.
    let pressure = count("cilium_bpf_map_pressure{");
    let drops = count("cilium_drop_count_total{");
    assert!(drops > 0 && drops < 48 && pressure == 2 * drops, "{pressure} {drops}");
    assert!(t.contains("map_name=\"ct4_global\"") && t.contains("map_name=\"ct_any4_global\""));
    assert!(t.contains("reason=\"CT: Map insertion failed\""));
    assert!(
        m.iter()
            .filter(|(s, _)| s.starts_with("cilium_bpf_map_pressure{"))
            .all(|(_, p)| p.iter().all(|x| (0.0..=1.0).contains(&x.1)))
    );
    // Constant series are thinned out but still reach the end; a 5-minute lookback finds them.
    let cap =
        m.iter().find(|(s, _)| s.starts_with("kube_node_status_capacity{")).map(|(_, p)| p).expect("cap");
    assert!(cap.len() < 61 && cap.windows(2).all(|w| w[1].0 - w[0].0 < 300));
}
