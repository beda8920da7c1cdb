//! Simulator tests: determinism, topology, scale, the CPU curve, stepping, scenarios.

use chrono::{DateTime, Duration, Timelike, Utc};

use super::*;
use crate::model::{BgpState, CpuCurve};

pub(super) fn t0() -> DateTime<Utc> {
    clustertop_core::testkit::T0
}

pub(super) fn cfg(nodes: usize, scenario: Scenario) -> SimConfig {
    SimConfig { nodes, scenario, ..SimConfig::default() }
}

fn steps(sim: &mut Sim, from: DateTime<Utc>, secs: i64) -> Vec<Vec<Update>> {
    (1..=secs).map(|s| sim.step(from + Duration::seconds(s))).collect()
}

fn curve_of(updates: &[Update]) -> Option<&CpuCurve> {
    updates.iter().find_map(|u| if let Update::Cpu(c) = u { Some(c) } else { None })
}

#[test]
fn same_seed_same_times_same_updates() {
    for scenario in Scenario::ALL {
        let mut a = Sim::new(cfg(48, scenario), t0());
        let mut b = Sim::new(cfg(48, scenario), t0());
        assert_eq!(a.initial(), b.initial());
        // Irregular steps, including a repeated time and a long jump.
        let times = [1, 2, 2, 5, 30, 31, 400, 4000, 4001];
        for s in times {
            let now = t0() + Duration::seconds(s);
            assert_eq!(a.step(now), b.step(now), "{scenario} at +{s}s");
        }
    }
    let mut c = Sim::new(SimConfig { seed: 7, ..SimConfig::default() }, t0());
    let mut d = Sim::new(SimConfig::default(), t0());
    assert_ne!(c.initial(), d.initial(), "another seed gives another cluster");
}

#[test]
fn default_is_48_nodes_in_6_racks_with_two_tors_each() {
    let c = SimConfig::default();
    assert_eq!((c.nodes, c.seed, c.scenario, c.tz), (48, 42, Scenario::Migration, Tz::UTC));
    let mut sim = Sim::new(c, t0());
    assert_eq!(sim.label(), "demo: migration, 48 nodes, seed 42");
    let nodes: Vec<NodeInfo> = sim
        .initial()
        .into_iter()
        .filter_map(|u| if let Update::NodeApplied { node, .. } = u { Some(node) } else { None })
        .collect();
    assert_eq!(nodes.len(), 48);
    let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert!(names.contains(&"r3-n07"));
    for r in 1..=6 {
        let rack = format!("rack-{r}");
        let in_rack: Vec<&NodeInfo> = nodes.iter().filter(|n| n.rack == rack).collect();
        assert_eq!(in_rack.len(), 8, "{rack}");
        for n in in_rack {
            assert_eq!(n.tors, [format!("tor-{r}a"), format!("tor-{r}b")]);
            assert_eq!(n.labels.get("clustertop.io/rack"), Some(&rack));
            assert_eq!(n.labels.get("kubernetes.io/hostname"), Some(&n.name));
            assert!(n.labels.contains_key("topology.kubernetes.io/zone"));
        }
    }
}

use crate::model::NodeInfo;

#[test]
fn nodes_joined_at_realistic_times_before_the_start() {
    let mut sim = Sim::new(SimConfig::default(), t0());
    let created: Vec<(String, DateTime<Utc>)> = sim
        .initial()
        .into_iter()
        .filter_map(|u| match u {
            Update::NodeApplied { node, .. } => Some((node.name.clone(), node.created?)),
            _ => None,
        })
        .collect();
    assert_eq!(created.len(), 48, "every node has a creation time");
    let age = |name: &str| created.iter().find(|(n, _)| n == name).map(|(_, c)| t0() - *c).unwrap();
    assert!(created.iter().all(|(_, c)| *c < t0()), "none in the future");
    assert!(age("r1-n01") > Duration::days(2 * 365), "the oldest racks are years old");
    assert!(age("r6-n01") < Duration::days(90), "the newest racks months");
    assert_eq!(age("r6-n08"), Duration::minutes(47), "a node replaced minutes ago");
    assert_eq!(age("r5-n02"), Duration::hours(5) + Duration::minutes(12));
}

#[test]
fn tiny_empty_and_huge_clusters_work() {
    for n in [0, 1, 2, 5, 7] {
        let mut sim = Sim::new(cfg(n, Scenario::Migration), t0());
        let init = sim.initial();
        let count = init.iter().filter(|u| matches!(u, Update::NodeApplied { .. })).count();
        assert_eq!(count, n);
        let _ = steps(&mut sim, t0(), 5);
        let snap = snapshot_at(cfg(n, Scenario::Migration), t0(), Default::default());
        assert_eq!(snap.nodes.len(), n);
    }
    let mut sim = Sim::new(cfg(5000, Scenario::Migration), t0());
    let init = sim.initial();
    let nodes = init.iter().filter(|u| matches!(u, Update::NodeApplied { .. })).count();
    assert_eq!(nodes, 5000);
    let pods = init.iter().find_map(|u| if let Update::PodsReplaced(p) = u { Some(p.len()) } else { None });
    let pods = pods.unwrap_or(0);
    assert!((135_000..=165_000).contains(&pods), "{pods} pods");
    let step = sim.step(t0() + Duration::seconds(1));
    let hosts = step.iter().filter(|u| matches!(u, Update::Host { .. })).count();
    assert_eq!(hosts, 5000);
    assert!(step.len() < 5100, "a step sends O(nodes) updates, not all pods");
}

#[test]
fn pod_names_are_unique_and_about_thirty_per_node() {
    let mut sim = Sim::new(SimConfig::default(), t0());
    let init = sim.initial();
    let Some(Update::PodsReplaced(pods)) = init.iter().find(|u| matches!(u, Update::PodsReplaced(_))) else {
        panic!("no pods")
    };
    let keys: std::collections::HashSet<(&str, &str)> =
        pods.iter().map(|p| (&*p.namespace, &*p.name)).collect();
    assert_eq!(keys.len(), pods.len());
    let avg = pods.len() as f64 / 48.0;
    assert!((26.0..=34.0).contains(&avg), "{avg}");
    assert!(pods.iter().all(|p| &*p.phase == "Running" && p.node.is_some()));
    assert!(pods.iter().any(|p| p.name.starts_with("cilium-") && p.name.len() == "cilium-x7k2p".len()));
    assert!(pods.iter().any(|p| p.name.starts_with("kube-flannel-ds-")));
    let kata = pods.iter().filter(|p| p.runtime_class.as_deref() == Some("kata"));
    assert!(kata.clone().count() > 0);
    assert!(kata.clone().all(|p| p.offline && p.priority_class.as_deref() == Some("koord-batch")));
    assert!(pods.iter().any(|p| p.runtime_class.as_deref() == Some("gvisor")));
}

#[test]
fn curve_covers_seven_days_in_order_and_racks_sum_to_cluster() {
    let now = t0() + Duration::seconds(137);
    let mut sim = Sim::new(SimConfig::default(), now);
    let init = sim.initial();
    let Some(c) = curve_of(&init) else { panic!("no curve") };
    assert_eq!(c.step_s, 300);
    assert_eq!(c.points.len(), 7 * 288);
    assert_eq!(c.capacity_cores, 48.0 * 64.0);
    assert_eq!(c.points.last().map(|p| p.t), Some(t0()), "ends at the last 5-minute boundary");
    assert!(c.points.windows(2).all(|w| (w[1].t - w[0].t).num_seconds() == 300));
    assert_eq!(c.racks.len(), 6);
    let cap: f64 = c.racks.iter().map(|r| r.capacity_cores).sum();
    assert!((cap - c.capacity_cores).abs() < 1e-9);
    for (i, p) in c.points.iter().enumerate() {
        let on: f64 = c.racks.iter().map(|r| r.points[i].online).sum();
        let off: f64 = c.racks.iter().map(|r| r.points[i].offline).sum();
        assert!(c.racks.iter().all(|r| r.points[i].t == p.t));
        assert!((on - p.online).abs() < 1e-6 && (off - p.offline).abs() < 1e-6);
        assert!(p.online >= 0.0 && p.offline >= 0.0 && p.total() <= c.capacity_cores + 1e-9);
    }
}

#[test]
fn curve_is_resent_only_on_a_new_five_minute_point_and_keeps_its_past() {
    let mut sim = Sim::new(SimConfig::default(), t0());
    let init = sim.initial();
    let first = curve_of(&init).cloned();
    let out = steps(&mut sim, t0(), 600);
    let sent: Vec<(i64, &CpuCurve)> =
        out.iter().enumerate().filter_map(|(i, u)| curve_of(u).map(|c| (i as i64 + 1, c))).collect();
    assert_eq!(sent.iter().map(|s| s.0).collect::<Vec<_>>(), vec![300, 600]);
    let (Some(first), Some((_, later))) = (first, sent.first()) else { panic!("curves") };
    assert_eq!(later.points.len(), first.points.len());
    // Shifted by one point; the overlap is identical.
    assert_eq!(&later.points[..later.points.len() - 1], &first.points[1..]);
}

#[test]
fn diurnal_online_and_window_fill_follow_the_local_time_zone() {
    let tz: Tz = "Asia/Tokyo".parse().unwrap_or(Tz::UTC);
    let c = SimConfig { tz, scenario: Scenario::Healthy, ..SimConfig::default() };
    let mut sim = Sim::new(c, t0());
    let init = sim.initial();
    let Some(curve) = curve_of(&init) else { panic!("no curve") };
    let cap = curve.capacity_cores;
    let at_local = |h: u32| {
        curve.points.iter().filter(move |p| p.t.with_timezone(&tz).hour() == h).map(|p| p.total() / cap)
    };
    let avg = |h: u32| at_local(h).sum::<f64>() / at_local(h).count().max(1) as f64;
    let online_at = |h: u32| {
        let v: Vec<f64> = curve
            .points
            .iter()
            .filter(|p| p.t.with_timezone(&tz).hour() == h)
            .map(|p| p.online / cap)
            .collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    assert!((0.72..=0.88).contains(&avg(3)), "window filled: {}", avg(3));
    assert!(avg(10) < 0.6 && avg(23) < 0.65, "outside the window");
    assert!((0.12..=0.28).contains(&online_at(4)), "trough {}", online_at(4));
    assert!((0.45..=0.68).contains(&online_at(17)), "peak {}", online_at(17));
}

#[test]
fn flapping_session_toggles_over_a_few_minutes() {
    let mut sim = Sim::new(SimConfig::default(), t0());
    let init = sim.initial();
    let flapping: Vec<(String, u32)> = init
        .iter()
        .filter_map(|u| match u {
            Update::Bgp { node, sessions, .. } => {
                sessions.iter().find(|s| s.resets_1h >= 3 && s.is_up()).map(|s| (node.clone(), s.resets_1h))
            }
            _ => None,
        })
        .collect();
    assert_eq!(flapping.len(), 1, "{flapping:?}");
    let node = &flapping[0].0;
    let mut states = Vec::new();
    for u in steps(&mut sim, t0(), 300).into_iter().flatten() {
        if let Update::Bgp { node: n, sessions, at, .. } = u {
            assert_eq!(&n, node, "only the flapping node changes");
            let s = &sessions[0];
            assert_eq!(s.since, Some(s.since.unwrap_or(at)));
            states.push((s.state.clone(), s.resets_1h));
        }
    }
    assert!(states.len() >= 7, "toggles every 20-40 s: {states:?}");
    assert!(states.windows(2).all(|w| w[0].0 != w[1].0), "alternates: {states:?}");
    assert!(states.iter().any(|s| s.0 == BgpState::Idle));
    assert!(states.iter().any(|s| s.0 == BgpState::Established));
    let last = states.last().map(|s| s.1).unwrap_or(0);
    assert!(last > flapping[0].1, "resets accumulate: {states:?}");
}

#[test]
fn pods_churn_and_hosts_report_every_step() {
    let mut sim = Sim::new(SimConfig::default(), t0());
    let _ = sim.initial();
    let out = steps(&mut sim, t0(), 60);
    let created = out.iter().flatten().filter(|u| matches!(u, Update::PodApplied(_))).count();
    let deleted = out.iter().flatten().filter(|u| matches!(u, Update::PodDeleted { .. })).count();
    assert!(created > 10 && deleted > 10, "{created} created, {deleted} deleted");
    for (i, u) in out.iter().enumerate() {
        let now = t0() + Duration::seconds(i as i64 + 1);
        assert_eq!(u.first(), Some(&Sim::health(now)));
        assert_eq!(u.iter().filter(|u| matches!(u, Update::Host { at, .. } if *at == now)).count(), 48);
        assert!(!u.iter().any(|u| matches!(u, Update::PodsReplaced(_) | Update::NodeApplied { .. })));
    }
    // A clock that goes backwards is treated as standing still.
    let back = sim.step(t0());
    assert_eq!(back.first(), Some(&Sim::health(t0() + Duration::seconds(60))));
}

#[test]
fn scenario_names_parse_and_errors_list_them() {
    for s in Scenario::ALL {
        assert_eq!(Scenario::parse(s.name()), Ok(s));
    }
    assert_eq!(Scenario::parse(" Tor-Outage "), Ok(Scenario::TorOutage));
    assert_eq!(Scenario::default(), Scenario::Migration);
    let Err(e) = Scenario::parse("chaos") else { panic!("accepted chaos") };
    for s in ["migration", "healthy", "tor-outage", "conntrack-storm", "chaos"] {
        assert!(e.contains(s), "{e}");
    }
}
