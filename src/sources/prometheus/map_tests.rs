use std::collections::{BTreeSet, HashMap};

use super::*;

fn s(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> Series {
    Series {
        labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        samples: samples.to_vec(),
    }
}

#[test]
fn node_names_come_from_the_label_else_the_instance_host() {
    assert_eq!(node_of(&s(&[("node", "n1"), ("instance", "x:9100")], &[]), "node").as_deref(), Some("n1"));
    assert_eq!(node_of(&s(&[("instance", "n2:9100")], &[]), "node").as_deref(), Some("n2"));
    assert_eq!(node_of(&s(&[("instance", "[fd00::2]:9100")], &[]), "node").as_deref(), Some("fd00::2"));
    assert_eq!(node_of(&s(&[("instance", "n3")], &[]), "node").as_deref(), Some("n3"));
    assert_eq!(node_of(&s(&[("instance", "fd00::3")], &[]), "node").as_deref(), Some("fd00::3"));
    assert_eq!(node_of(&s(&[("node", "")], &[]), "node"), None);
    assert_eq!(node_of(&s(&[("host", "h")], &[]), "host").as_deref(), Some("h"));
}

#[test]
fn curve_splits_online_and_offline_and_groups_racks() {
    let used = [s(&[], &[(300, 10.0), (600, 12.0), (900, f64::NAN)])];
    let offline = [s(&[], &[(300, 4.0), (600, 20.0)])];
    let measured = [s(&[], &[(300, 24.0), (600, 32.0)])];
    let capacity = [s(&[], &[(300, 32.0), (600, 32.0)])];
    let ubr = [s(&[("z", "r1")], &[(300, 6.0), (600, 7.0)]), s(&[("z", "r2")], &[(300, 4.0), (600, 5.0)])];
    let obr = [s(&[("z", "r1")], &[(300, 4.0)])];
    let cap = [s(&[("z", "r1")], &[(300, 16.0), (600, 16.0)]), s(&[("z", "r2")], &[(600, 16.0)])];
    let reclaimed = [s(&[], &[(600, 9.5)])];
    let rbr = [s(&[("z", "r2")], &[(300, 3.0)])];
    let c = curve(&CurveInput {
        step_s: 300,
        used: &used,
        offline: &offline,
        measured: &measured,
        capacity: &capacity,
        used_by_rack: &ubr,
        offline_by_rack: &obr,
        measured_by_rack: &[],
        capacity_by_rack: &cap,
        reclaimed: &reclaimed,
        reclaimed_by_rack: &rbr,
        rack_label: "z",
    })
    .unwrap();
    assert_eq!((c.points[0].reclaimed, c.points[1].reclaimed), (None, Some(9.5)), "not known is not 0");
    assert_eq!((c.racks[0].points[0].reclaimed, c.racks[1].points[0].reclaimed), (None, Some(3.0)));
    assert_eq!(c.points.len(), 2, "NaN points are dropped");
    assert_eq!((c.points[0].online, c.points[0].offline), (6.0, 4.0));
    assert_eq!((c.points[0].capacity, c.points[0].measured), (32.0, 24.0), "a node's exporter was down");
    // Offline larger than the node's busy CPU (exporters disagree) is capped at it.
    assert_eq!((c.points[1].online, c.points[1].offline), (0.0, 12.0));
    assert_eq!(c.racks.len(), 2);
    assert_eq!((c.racks[0].rack.as_str(), c.racks[0].capacity_cores), ("r1", 16.0));
    assert_eq!(c.racks[0].points[1].offline, 0.0, "no offline sample: none");
    // No measured cores query: all of the capacity counts as measured; no capacity at a
    // timestamp: the measured cores (none: 0, so the point has no data).
    assert_eq!((c.racks[0].points[0].capacity, c.racks[0].points[0].measured), (16.0, 16.0));
    assert_eq!((c.racks[1].points[0].capacity, c.racks[1].points[0].measured), (0.0, 0.0));
    assert_eq!(c.capacity_cores, 32.0);
    let none = CurveInput { used: &[], ..CurveInput { rack_label: "z", ..curve_input_empty() } };
    assert!(curve(&none).is_none());
}

fn curve_input_empty() -> CurveInput<'static> {
    CurveInput {
        step_s: 300,
        used: &[],
        offline: &[],
        measured: &[],
        capacity: &[],
        used_by_rack: &[],
        offline_by_rack: &[],
        measured_by_rack: &[],
        capacity_by_rack: &[],
        reclaimed: &[],
        reclaimed_by_rack: &[],
        rack_label: "",
    }
}

#[test]
fn node_metrics_join_conntrack_and_cpu_by_node() {
    let mut r: HashMap<&str, Vec<Series>> = HashMap::new();
    r.insert(
        "conntrack_entries",
        vec![s(&[("instance", "n1:9100")], &[(0, 900.0)]), s(&[("node", "n2")], &[(0, 5.0)])],
    );
    r.insert("conntrack_limit", vec![s(&[("instance", "n1:9100")], &[(0, 1000.0)])]);
    r.insert("conntrack_insert_failed", vec![s(&[("instance", "n1:9100")], &[(0, 2.5)])]);
    r.insert("conntrack_tcp_timeout", vec![s(&[("instance", "n1:9100")], &[(0, 300.0)])]);
    r.insert("bridge_nf_call_iptables", vec![s(&[("instance", "n1:9100")], &[(0, 1.0)])]);
    r.insert("node_util", vec![s(&[("node", "n3")], &[(0, 1.7)])]);
    let m = node_metrics(&r, "node");
    let ct = m["n1"].conntrack.as_ref().unwrap();
    assert_eq!((ct.entries, ct.limit, ct.insert_failed_per_s, ct.drop_per_s), (900, 1000, 2.5, 0.0));
    assert_eq!((ct.tcp_established_timeout_s, ct.bridge_nf_call_iptables), (Some(300), Some(true)));
    assert!(!m.contains_key("n2"), "entries without a limit say nothing");
    assert_eq!(m["n3"].cpu_now, Some(1.0), "clamped");
    assert!(m["n3"].bgp.is_none());
}

#[test]
fn cilium_maps_by_node_with_unknown_and_zero_drop_rates_apart() {
    let mut r: HashMap<&str, Vec<Series>> = HashMap::new();
    let p = |node: &str, map: &str, v: f64| s(&[("node", node), ("map_name", map)], &[(0, v)]);
    r.insert(
        "cilium_map_pressure",
        vec![p("c1", "snat_v4_external", 0.2), p("c1", "ct4_global", 0.93), p("c2", "ct4_global", 1.4)],
    );
    r.insert("cilium_ct_insert_failed", vec![s(&[("node", "c1")], &[(0, 4.5)])]);
    r.insert("cilium_agent_seen", vec![s(&[("node", "c1")], &[(0, 1.0)]), s(&[("node", "c3")], &[(0, 1.0)])]);
    let m = node_metrics(&r, "node");
    let c1 = m["c1"].cilium_ct.as_ref().unwrap();
    let names: Vec<&str> = c1.maps.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["ct4_global", "snat_v4_external"], "sorted by name");
    assert_eq!(c1.fullest().map(|m| (m.name.as_str(), m.pressure)), Some(("ct4_global", 0.93)));
    assert_eq!(c1.insert_failed_per_s, Some(4.5));
    let c2 = m["c2"].cilium_ct.as_ref().unwrap();
    assert_eq!(c2.maps[0].pressure, 1.0, "clamped");
    assert_eq!(c2.insert_failed_per_s, None, "no drop counters at all: unknown, not zero");
    let c3 = m["c3"].cilium_ct.as_ref().unwrap();
    assert!(c3.maps.is_empty() && c3.fullest().is_none(), "drop counters but no pressure series");
    assert_eq!(c3.insert_failed_per_s, Some(0.0), "counters, none for the reason: none dropped");
    assert!(!m.contains_key("c4"));
}

#[test]
fn bgp_sessions_from_all_three_cilium_label_generations_bird_and_frr() {
    let mut r: HashMap<&str, Vec<Series>> = HashMap::new();
    r.insert(
        "bgp_cilium",
        vec![
            s(&[("node", "a"), ("vrouter", "64512"), ("neighbor", "10.0.0.1:179")], &[(0, 1.0)]),
            s(
                &[
                    ("node", "a"),
                    ("vrouter", "64512"),
                    ("neighbor", "10.0.0.2:179"),
                    ("neighbor_asn", "65001"),
                ],
                &[(0, 0.0)],
            ),
            s(
                &[
                    ("node", "b"),
                    ("instance_name", "default"),
                    ("local_asn", "64512"),
                    ("neighbor", "[fd00::1]:179"),
                    ("neighbor_asn", "65002"),
                ],
                &[(0, 1.0)],
            ),
        ],
    );
    r.insert(
        "bgp_bird",
        vec![s(&[("node", "c"), ("name", "Node_10_0_0_9"), ("state", "Active")], &[(0, 0.0)])],
    );
    r.insert(
        "bgp_frr",
        vec![s(
            &[("node", "d"), ("peer", "10.1.1.1"), ("peer_as", "65010"), ("local_as", "64512")],
            &[(0, 2.0)],
        )],
    );
    let m = node_metrics(&r, "node");
    let a = m["a"].bgp.as_ref().unwrap();
    assert_eq!(a.len(), 2);
    assert_eq!(
        (a[0].peer_addr.as_str(), a[0].local_asn, &a[0].state),
        ("10.0.0.1", 64512, &BgpState::Established)
    );
    assert_eq!(a[1].peer_asn, 65001);
    assert!(!matches!(a[1].state, BgpState::Established));
    let b = &m["b"].bgp.as_ref().unwrap()[0];
    assert_eq!((b.peer_addr.as_str(), b.local_asn, b.peer_asn), ("fd00::1", 64512, 65002));
    let c = &m["c"].bgp.as_ref().unwrap()[0];
    assert_eq!(c.state, BgpState::Active);
    assert_eq!(c.peer_addr, "10.0.0.9", "Calico's protocol name carries the peer address");
    // frr_exporter's 2 is "Administratively Down", not a session trying to connect.
    assert_eq!(m["d"].bgp.as_ref().unwrap()[0].state, BgpState::AdminDown);
}

#[test]
fn bird_exporter_state_is_the_info_column_and_ip_version_the_family() {
    let mut r: HashMap<&str, Vec<Series>> = HashMap::new();
    r.insert(
        "bgp_bird",
        vec![
            s(
                &[("node", "n"), ("name", "Mesh_10_0_0_2"), ("ip_version", "4"), ("state", "Established")],
                &[(0, 1.0)],
            ),
            s(
                &[
                    ("node", "n"),
                    ("name", "Node_10_0_0_1"),
                    ("ip_version", "4"),
                    ("state", "Connect       Socket: Connection refused"),
                ],
                &[(0, 0.0)],
            ),
            s(
                &[("node", "n"), ("name", "Node_fd00_20_2__1"), ("ip_version", "6"), ("state", "")],
                &[(0, 0.0)],
            ),
        ],
    );
    let m = node_metrics(&r, "node");
    let b = m["n"].bgp.as_ref().unwrap();
    let got: Vec<(&str, Option<Family>, String)> =
        b.iter().map(|x| (x.peer_addr.as_str(), x.family, x.state.label().to_string())).collect();
    assert_eq!(
        got,
        vec![
            ("10.0.0.2", Some(Family::Ipv4), "established".into()),
            ("10.0.0.1", Some(Family::Ipv4), "connect".into()),
            ("fd00:20:2::1", Some(Family::Ipv6), "not established".into()),
        ]
    );
}

#[test]
fn pods_carry_runtime_class_and_offline_priority() {
    let nodes = [
        s(
            &[("namespace", "b"), ("pod", "p1"), ("node", "n1"), ("priority_class", "koord-batch")],
            &[(0, 1.0)],
        ),
        s(&[("namespace", "a"), ("pod", "p2"), ("node", "n2")], &[(0, 1.0)]),
    ];
    let rc = [s(&[("namespace", "b"), ("pod", "p1"), ("runtimeclass_name", "kata-qemu")], &[(0, 1.0)])];
    let off: BTreeSet<String> = ["koord-batch".to_string()].into();
    let p = pods(&nodes, &rc, &off);
    assert_eq!(p.len(), 2);
    assert_eq!((&*p[0].name, p[0].runtime_class.as_deref(), p[0].offline), ("p2", None, false));
    assert_eq!(
        (p[1].node.as_deref(), p[1].runtime_class.as_deref(), p[1].offline),
        (Some("n1"), Some("kata-qemu"), true)
    );
}
