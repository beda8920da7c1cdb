//! Every incident of `migration` is present in the raw data, and absent in `healthy`; the
//! `tor-outage` and `conntrack-storm` scenarios do what they say.

use chrono::{Duration, Timelike};

use super::tests::{cfg, t0};
use super::*;
use crate::model::{BgpState, Cni, Node, Signal, Snapshot};

fn snap(scenario: Scenario) -> Snapshot {
    snapshot_at(cfg(48, scenario), t0(), Default::default())
}

fn up(n: &Node) -> usize {
    n.bgp.iter().filter(|s| s.is_up()).count()
}

fn runs(n: &Node, cni: Cni) -> bool {
    n.signals.iter().any(|s| matches!(s, Signal::AgentPod { cni: c, .. } if *c == cni))
}

fn has(n: &Node, sig: &Signal) -> bool {
    n.signals.contains(sig)
}

/// What the raw snapshot shows, incident by incident.
#[derive(Debug, Default, PartialEq)]
struct Seen {
    degraded: usize,
    isolated: usize,
    flapping: usize,
    kata_no_kvm: usize,
    kata_hostnet: usize,
    ct_full: usize,
    ct_timeout: usize,
    brnf_on: usize,
    fd_high: usize,
    underfill: bool,
    spill: bool,
}

/// The fill of the table the node's pod connections fill (the kernel's where flannel runs, else
/// Cilium's fullest map) and whether inserts into it fail.
fn filling(n: &Node) -> Option<(f64, bool)> {
    if runs(n, Cni::Flannel) {
        let ct = n.conntrack()?;
        // Only the kernel's table on a flannel-only node; mid-migration Cilium has half the flows.
        Some((ct.fill(), ct.insert_failed_per_s > 0.0 && ct.drop_per_s > 0.0))
    } else {
        let m = n.cilium_ct()?;
        Some((m.fullest()?.pressure, m.insert_failed_per_s.is_some_and(|r| r > 0.0)))
    }
}

fn seen(s: &Snapshot) -> Seen {
    let mut out = Seen::default();
    for n in &s.nodes {
        let hold = |st: BgpState| n.bgp.iter().any(|x| x.state == st);
        if n.bgp.len() == 2 && up(n) == 1 && hold(BgpState::Active) {
            out.degraded += 1;
        }
        if n.bgp.len() == 2 && up(n) == 0 && hold(BgpState::Idle) && hold(BgpState::Connect) {
            out.isolated += 1;
        }
        if up(n) == 2 && n.bgp.iter().any(|x| x.resets_1h >= 3) {
            out.flapping += 1;
        }
        let kata_label = n.labels.get("katacontainers.io/kata-runtime").map(String::as_str) == Some("true");
        if kata_label && n.kvm() == Some(false) && n.runtime.is_some_and(|r| r.kata > 0) {
            out.kata_no_kvm += 1;
        }
        if let Some((fill, failing)) = filling(n)
            && fill > 0.9
            && failing
        {
            out.ct_full += 1;
        }
        if let Some(ct) = n.conntrack() {
            if runs(n, Cni::Flannel) && ct.tcp_established_timeout_s == Some(300) {
                out.ct_timeout += 1;
            }
            if runs(n, Cni::Flannel) && ct.bridge_nf_call_iptables == Some(true) {
                out.brnf_on += 1;
            }
            if runs(n, Cni::Flannel) {
                assert!(ct.bridge_nf_call_iptables.is_some(), "{}", n.name);
            } else {
                assert_eq!(ct.bridge_nf_call_iptables, None, "{}", n.name);
            }
        }
        if let Some(Some((used, max))) = n.host.as_ref().map(|h| h.value.file_nr)
            && used as f64 / max as f64 > 0.8
        {
            out.fd_high += 1;
        }
    }
    out.kata_hostnet =
        s.pods.iter().filter(|p| p.runtime_class.as_deref() == Some("kata") && p.host_network).count();
    if let Some(c) = &s.cpu {
        // Average utilisation inside 01:00-06:00, per local date (UTC here).
        let two_days_ago = (t0() - Duration::days(2)).date_naive();
        let window = |day: chrono::NaiveDate| {
            let v: Vec<f64> = c
                .points
                .iter()
                .filter(|p| p.t.date_naive() == day && (1..6).contains(&p.t.hour()))
                .map(|p| p.total() / c.capacity_cores)
                .collect();
            v.iter().sum::<f64>() / v.len().max(1) as f64
        };
        let yesterday = (t0() - Duration::days(1)).date_naive();
        out.underfill = window(two_days_ago) < 0.55 && window(yesterday) > 0.72;
        // Offline share of rack-5 capacity at 07:00-08:00.
        let morning = |rack: &str| {
            let Some(r) = c.racks.iter().find(|r| r.rack == rack) else { return 0.0 };
            let v: Vec<f64> = r
                .points
                .iter()
                .filter(|p| p.t.date_naive() == yesterday && p.t.hour() == 7)
                .map(|p| p.offline / r.capacity_cores)
                .collect();
            v.iter().sum::<f64>() / v.len().max(1) as f64
        };
        out.spill = morning("rack-5") > 0.2 && morning("rack-4") < 0.06;
    }
    out
}

#[test]
fn migration_has_every_incident() {
    let s = snap(Scenario::Migration);
    let want = Seen {
        degraded: 1,
        isolated: 1,
        flapping: 1,
        kata_no_kvm: 1,
        kata_hostnet: 1,
        ct_full: 1,
        ct_timeout: 1,
        brnf_on: 1,
        fd_high: 1,
        underfill: true,
        spill: true,
    };
    assert_eq!(seen(&s), want);
    let errors: Vec<String> =
        s.nodes.iter().flat_map(|n| &n.bgp).filter_map(|b| b.last_error.clone()).collect();
    assert!(
        errors.iter().any(|e| e == "Hold timer expired") && errors.iter().any(|e| e == "Connection refused")
    );
}

#[test]
fn healthy_has_no_incident() {
    let s = snap(Scenario::Healthy);
    assert_eq!(seen(&s), Seen::default());
    for n in &s.nodes {
        if !n.bgp.is_empty() {
            assert_eq!(up(n), 2, "{}", n.name);
            assert!(n.bgp.iter().all(|b| b.resets_1h == 0));
        }
        let ct = n.conntrack().map(|c| c.fill()).unwrap_or(1.0);
        assert!(ct < 0.5, "{} conntrack {ct}", n.name);
        assert_eq!(n.kvm(), Some(n.labels.contains_key("katacontainers.io/kata-runtime")));
    }
}

#[test]
fn migration_layout_signals() {
    let s = snap(Scenario::Migration);
    let in_rack = |r: &'static str| s.nodes.iter().map(|n| &**n).filter(move |n| n.rack == r);
    for r in ["rack-1", "rack-2"] {
        assert!(in_rack(r).all(|n| runs(n, Cni::Flannel) && !runs(n, Cni::Cilium) && n.bgp.is_empty()));
        assert!(in_rack(r).all(|n| has(n, &Signal::Interface { name: "flannel.1".into() })));
    }
    for r in ["rack-4", "rack-5", "rack-6"] {
        assert!(in_rack(r).all(|n| runs(n, Cni::Cilium)
            && has(n, &Signal::BgpNodeConfig { pod_routes: Some(true) })
            && n.bgp.len() == 2));
    }
    let r3: Vec<&Node> = in_rack("rack-3").collect();
    let both = r3.iter().filter(|n| runs(n, Cni::Cilium) && runs(n, Cni::Flannel)).count();
    let tunnel = r3
        .iter()
        .filter(|n| {
            !runs(n, Cni::Flannel)
                && !has(n, &Signal::BgpNodeConfig { pod_routes: Some(true) })
                && has(n, &Signal::Interface { name: "cilium_vxlan".into() })
        })
        .count();
    let flannel = r3.iter().filter(|n| runs(n, Cni::Flannel) && !runs(n, Cni::Cilium)).count();
    let bgp = r3.iter().filter(|n| has(n, &Signal::BgpNodeConfig { pod_routes: Some(true) })).count();
    assert_eq!((both, tunnel), (1, 1));
    assert!(flannel >= 2 && bgp >= 2, "{flannel} flannel, {bgp} bgp");
    let migrating = r3.iter().find(|n| runs(n, Cni::Cilium) && runs(n, Cni::Flannel));
    let confs = migrating.map(|n| n.signals.iter().filter(|s| matches!(s, Signal::CniConfig { .. })).count());
    assert_eq!(confs, Some(2));
    let sess = s.nodes.iter().flat_map(|n| &n.bgp).find(|b| b.peer == "tor-4b");
    let sess = sess.map(|b| (b.peer_addr.as_str(), b.peer_asn, b.local_asn, b.hold_time_s, b.keepalive_s));
    assert_eq!(sess, Some(("10.4.1.1", 65009, 64512, Some(9), Some(3))));
}

#[test]
fn tor_outage_leaves_every_rack5_node_at_one_of_two() {
    let s = snap(Scenario::TorOutage);
    let r5: Vec<&Node> = s.nodes.iter().map(|n| &**n).filter(|n| n.rack == "rack-5").collect();
    assert_eq!(r5.len(), 8);
    for n in r5 {
        assert_eq!(up(n), 1, "{}", n.name);
        assert!(n.bgp.iter().any(|b| b.peer == "tor-5a" && !b.is_up()));
    }
    let m = seen(&s);
    // The eight rack-5 nodes plus the migration's own degraded node, which is elsewhere.
    assert_eq!((m.degraded, m.isolated, m.flapping), (9, 1, 1));
    let healthy = snap(Scenario::Migration);
    let r5_down = healthy.nodes.iter().filter(|n| n.rack == "rack-5" && up(n) < 2).count();
    assert!(r5_down <= 2, "migration does not take tor-5a down");
}

#[test]
fn conntrack_storm_fills_a_third_of_the_tables() {
    let s = snap(Scenario::ConntrackStorm);
    let full = s
        .nodes
        .iter()
        .filter_map(|n| filling(n))
        .filter(|&(fill, failing)| (0.75..=0.99).contains(&fill) && failing)
        .count();
    assert!((16..=18).contains(&full), "{full} full tables");
    let m = snap(Scenario::Migration);
    let full_m = m.nodes.iter().filter_map(|n| filling(n)).filter(|&(fill, _)| fill > 0.75).count();
    assert_eq!(full_m, 1);
    // A Cilium-only node's kernel table holds only the host's connections; a flannel node has
    // no Cilium maps.
    for n in &m.nodes {
        let (kernel, cilium) = (runs(n, Cni::Flannel), runs(n, Cni::Cilium));
        assert_eq!(n.cilium_ct().is_some(), cilium, "{}", n.name);
        if cilium && !kernel {
            assert!(n.conntrack().is_some_and(|c| c.fill() < 0.05), "{}", n.name);
        }
    }
}
