//! Conntrack rules, by the tables a node's pod connections fill (`analysis::conntrack::tracking`):
//! where the kernel tracks, `nf_conntrack` pressure, insert failures, drops, the keep-alive
//! timeout trap and `bridge-nf-call-iptables` on bridge nodes; where Cilium runs, its BPF CT and
//! NAT maps' pressure and the drops for "CT: Map insertion failed". A node mid-migration gets both.

use super::pct;
use crate::analysis::Settings;
use crate::analysis::conntrack::tracking;
use crate::model::{CiliumMaps, Conntrack, Finding, Node, Rule, Severity, Snapshot};

/// Table fill at which a node gets a warning.
pub const CONNTRACK_WARN: f64 = 0.75;
/// Table fill at which a node gets a critical finding.
pub const CONNTRACK_CRIT: f64 = 0.90;

pub fn check(snap: &Snapshot, _settings: &Settings, out: &mut Vec<Finding>) {
    for n in &snap.nodes {
        let t = tracking(n);
        // On a Cilium-only node the kernel's table holds only the host's own connections.
        if let Some(c) = n.conntrack().filter(|_| t.kernel) {
            pressure(n, c, out);
            insert_failed(n, c, out);
            drops(n, c, out);
            timeout(n, c, snap.keepalive_idle_s, out);
            bridge_nf(n, c, out);
        }
        if let Some(m) = n.cilium_ct() {
            cilium_pressure(n, m, out);
            cilium_insert_failed(n, m, out);
        }
    }
}

fn level(fill: f64) -> Option<(Severity, f64)> {
    if fill >= CONNTRACK_CRIT {
        Some((Severity::Critical, CONNTRACK_CRIT))
    } else if fill >= CONNTRACK_WARN {
        Some((Severity::Warning, CONNTRACK_WARN))
    } else {
        None
    }
}

fn maps(m: &CiliumMaps) -> String {
    let each: Vec<String> = m.maps.iter().map(|f| format!("{} {}", f.name, pct(f.pressure))).collect();
    format!("cilium_bpf_map_pressure: {}", each.join(", "))
}

const CILIUM_REMEDY: &str = "Size the maps for the load: raise the agent's bpf-ct-global-tcp-max / \
     bpf-ct-global-any-max (Helm bpf.ctTcpMax, bpf.ctAnyMax) and bpf-nat-global-max (bpf.natMax), or \
     bpf-map-dynamic-size-ratio (bpf.mapDynamicSizeRatio), then restart the agent (maps are resized on \
     restart, which drops their entries); meanwhile find the flows that fill them (`cilium-dbg bpf ct \
     list global`, `cilium-dbg bpf nat list`) and check the CT GC keeps up (conntrack-gc-interval).";

fn cilium_pressure(n: &Node, m: &CiliumMaps, out: &mut Vec<Finding>) {
    let Some(full) = m.fullest() else { return };
    let Some((severity, threshold)) = level(full.pressure) else { return };
    out.push(finding(
        n,
        Rule::CiliumMapPressure,
        severity,
        format!(
            "Cilium map {} {} full: when it fills, new connections fail and LRU eviction cuts live ones",
            full.name,
            pct(full.pressure)
        ),
        vec![maps(m), format!("threshold {}", pct(threshold))],
        CILIUM_REMEDY,
    ));
}

fn cilium_insert_failed(n: &Node, m: &CiliumMaps, out: &mut Vec<Finding>) {
    let Some(rate) = m.insert_failed_per_s.filter(|r| *r > 0.0) else { return };
    let full = m.fullest().is_some_and(|f| f.pressure >= CONNTRACK_CRIT);
    let (severity, remedy) = if full {
        (Severity::Critical, CILIUM_REMEDY)
    } else {
        (
            Severity::Warning,
            "With room in the maps, CT insertions fail on hash collisions or when the agent's GC lags: \
             check `cilium-dbg metrics list` for the map pressure of every CT map (per-endpoint and \
             per-cluster maps are not reported), the agent log for GC errors, and consider \
             bpf-map-dynamic-size-ratio (Helm bpf.mapDynamicSizeRatio).",
        )
    };
    let mut evidence =
        vec![format!("cilium_drop_count_total{{reason=\"CT: Map insertion failed\"}} {rate:.2}/s")];
    if !m.maps.is_empty() {
        evidence.push(maps(m));
    }
    out.push(finding(
        n,
        Rule::CiliumCtInsertFailed,
        severity,
        format!("Cilium dropping {rate:.1} packets/s: CT map insertion failed (new connections fail)"),
        evidence,
        remedy,
    ));
}

fn table(c: &Conntrack) -> String {
    format!("nf_conntrack_count {} of nf_conntrack_max {} ({} full)", c.entries, c.limit, pct(c.fill()))
}

fn finding(
    n: &Node,
    rule: Rule,
    severity: Severity,
    what: String,
    evidence: Vec<String>,
    remedy: &str,
) -> Finding {
    Finding { rule, severity, subject: n.name.clone(), since: None, what, evidence, remedy: remedy.into() }
}

fn pressure(n: &Node, c: &Conntrack, out: &mut Vec<Finding>) {
    let fill = c.fill();
    let Some((severity, threshold)) = level(fill) else { return };
    out.push(finding(
        n,
        Rule::ConntrackPressure,
        severity,
        format!("conntrack table {} full: new connections are dropped once it fills", pct(fill)),
        vec![table(c), format!("threshold {}", pct(threshold))],
        "Find who holds the entries (`conntrack -S`, `conntrack -L | awk '{print $4}' | sort | uniq -c | \
         sort -rn | head`); if the load is legitimate raise net.netfilter.nf_conntrack_max (and \
         nf_conntrack_buckets, about max/4) on the node, otherwise shorten the timeouts of the flows \
         that pile up (TIME_WAIT, UDP).",
    ));
}

fn insert_failed(n: &Node, c: &Conntrack, out: &mut Vec<Finding>) {
    if c.insert_failed_per_s <= 0.0 {
        return;
    }
    let full = c.fill() >= CONNTRACK_CRIT;
    let (severity, remedy) = if full {
        (
            Severity::Critical,
            "The table is full: raise net.netfilter.nf_conntrack_max now (and nf_conntrack_buckets), \
             then find what fills it (`conntrack -S`, `conntrack -L`).",
        )
    } else {
        (
            Severity::Warning,
            "With room in the table, insert failures are clashes of simultaneous packets of one flow \
             (classically UDP DNS A/AAAA queries through SNAT/DNAT): use NodeLocal DNSCache or \
             `options single-request-reopen`/TCP for DNS, and check the kernel for the conntrack race \
             fixes.",
        )
    };
    out.push(finding(
        n,
        Rule::ConntrackInsertFailed,
        severity,
        format!(
            "conntrack insert_failed {:.1}/s: packets of new connections are being dropped",
            c.insert_failed_per_s
        ),
        vec![format!("insert_failed {:.2}/s (/proc/net/stat/nf_conntrack)", c.insert_failed_per_s), table(c)],
        remedy,
    ));
}

fn drops(n: &Node, c: &Conntrack, out: &mut Vec<Finding>) {
    if c.drop_per_s <= 0.0 && c.early_drop_per_s <= 0.0 {
        return;
    }
    out.push(finding(
        n,
        Rule::ConntrackDrops,
        Severity::Warning,
        format!(
            "conntrack dropping packets: drop {:.1}/s, early_drop {:.1}/s",
            c.drop_per_s, c.early_drop_per_s
        ),
        vec![
            format!(
                "drop {:.2}/s, early_drop {:.2}/s (/proc/net/stat/nf_conntrack)",
                c.drop_per_s, c.early_drop_per_s
            ),
            table(c),
        ],
        "early_drop means the table was full and unassured entries were evicted to make room: raise \
         net.netfilter.nf_conntrack_max or cut the flows that fill it; drop without a full table points \
         at invalid/out-of-window packets (check nf_conntrack_tcp_be_liberal and asymmetric routing).",
    ));
}

fn timeout(n: &Node, c: &Conntrack, keepalive_idle_s: u64, out: &mut Vec<Finding>) {
    let Some(t) =
        c.tcp_established_timeout_s.filter(|_| crate::analysis::conntrack::timeout_trap(c, keepalive_idle_s))
    else {
        return;
    };
    let d = |s: u64| crate::format::duration(s, crate::format::Precision::Exact);
    out.push(finding(
        n,
        Rule::ConntrackTimeoutBelowKeepalive,
        Severity::Warning,
        "NAT entries expire before idle keep-alive connections: intermittent 502s behind a proxy at low QPS"
            .into(),
        vec![
            format!("net.netfilter.nf_conntrack_tcp_timeout_established = {t} s ({})", d(t)),
            format!("keep-alive idle time checked against = {keepalive_idle_s} s ({})", d(keepalive_idle_s)),
            "an idle pooled connection outlives its conntrack/NAT entry; the next request on it is \
             dropped or reset"
                .into(),
        ],
        "Raise net.netfilter.nf_conntrack_tcp_timeout_established above the keep-alive idle time \
         (kube-proxy: conntrack.tcpEstablishedTimeout), or lower the proxy's/client's idle timeout \
         below the conntrack timeout.",
    ));
}

fn bridge_nf(n: &Node, c: &Conntrack, out: &mut Vec<Finding>) {
    if !crate::analysis::conntrack::bridge_trap(n, c) {
        return;
    }
    out.push(finding(
        n,
        Rule::BridgeNfCallIptables,
        Severity::Warning,
        "bridge-nf-call-iptables=1 on a bridge node: bridged pod traffic passes through iptables".into(),
        vec![
            "net.bridge.bridge-nf-call-iptables = 1 (br_netfilter loaded)".into(),
            format!("network mode {}: pods sit behind a Linux bridge", n.net.mode.label()),
            "symptom when the bridge/iptables path does not match what the CNI expects: pod -> Service IP \
             -> pod on the same node gets no reply (the reply is bridged straight back, missing its \
             reverse NAT, or FORWARD rules drop it)"
                .into(),
        ],
        "Before changing anything, check that br_netfilter and this sysctl match what the CNI and the \
         kube-proxy mode expect (iptables/ipvs kube-proxy needs bridged replies to pass iptables for \
         same-node Service traffic; the bridge plugin's hairpin mode and the FORWARD chain policy (\
         Docker sets DROP) decide the rest. Test pod -> Service -> same-node pod before and after.",
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NetMode;
    use crate::testkit::*;

    fn run(nodes: Vec<Node>) -> Vec<Finding> {
        let mut out = Vec::new();
        check(&snapshot(nodes), &Settings::default(), &mut out);
        out
    }
    fn one(c: Conntrack) -> Vec<(Rule, Severity)> {
        run(vec![node_with_conntrack("n1", c)]).iter().map(|f| (f.rule, f.severity)).collect()
    }

    #[test]
    fn pressure_boundaries() {
        assert!(one(ct(74, 100)).is_empty());
        assert_eq!(one(ct(75, 100)), vec![(Rule::ConntrackPressure, Severity::Warning)]);
        assert_eq!(one(ct(89, 100)), vec![(Rule::ConntrackPressure, Severity::Warning)]);
        assert_eq!(one(ct(90, 100)), vec![(Rule::ConntrackPressure, Severity::Critical)]);
        assert_eq!(one(ct(900, 1000)), vec![(Rule::ConntrackPressure, Severity::Critical)]);
        assert_eq!(one(ct(749_999, 1_000_000)), vec![]);
        assert!(one(ct(5, 0)).is_empty());
        let f = run(vec![node_with_conntrack("n1", ct(91, 100))]);
        assert!(f[0].evidence[0].contains("91 of nf_conntrack_max 100 (91.0 % full)"), "{:?}", f[0].evidence);
    }

    #[test]
    fn insert_failed_severity_depends_on_fill() {
        let c = Conntrack { insert_failed_per_s: 0.2, ..ct(10, 100) };
        assert_eq!(one(c), vec![(Rule::ConntrackInsertFailed, Severity::Warning)]);
        let c = Conntrack { insert_failed_per_s: 0.2, ..ct(90, 100) };
        let mut got = one(c);
        got.sort();
        assert_eq!(
            got,
            vec![
                (Rule::ConntrackPressure, Severity::Critical),
                (Rule::ConntrackInsertFailed, Severity::Critical)
            ]
        );
        assert!(one(Conntrack { insert_failed_per_s: 0.0, ..ct(10, 100) }).is_empty());
    }

    #[test]
    fn drops_and_early_drops_warn() {
        assert_eq!(
            one(Conntrack { drop_per_s: 0.1, ..ct(1, 100) }),
            vec![(Rule::ConntrackDrops, Severity::Warning)]
        );
        assert_eq!(
            one(Conntrack { early_drop_per_s: 3.0, ..ct(1, 100) }),
            vec![(Rule::ConntrackDrops, Severity::Warning)]
        );
    }

    #[test]
    fn timeout_below_keepalive() {
        // Settings/snapshot keep-alive idle is 900 s.
        let warn = one(Conntrack { tcp_established_timeout_s: Some(899), ..ct(1, 100) });
        assert_eq!(warn, vec![(Rule::ConntrackTimeoutBelowKeepalive, Severity::Warning)]);
        assert!(one(Conntrack { tcp_established_timeout_s: Some(900), ..ct(1, 100) }).is_empty());
        assert!(one(Conntrack { tcp_established_timeout_s: None, ..ct(1, 100) }).is_empty());
        let f = run(vec![node_with_conntrack(
            "n1",
            Conntrack { tcp_established_timeout_s: Some(600), ..ct(1, 100) },
        )]);
        assert!(f[0].evidence[0].ends_with("= 600 s (10m)"));
        assert!(f[0].what.contains("502"));
        assert!(f[0].remedy.contains("nf_conntrack_tcp_timeout_established"));
    }

    #[test]
    fn bridge_nf_only_on_bridge_nodes() {
        let c = Conntrack { bridge_nf_call_iptables: Some(true), ..ct(1, 100) };
        let on = |mode| run(vec![with_mode(node_with_conntrack("n1", c.clone()), mode)]);
        assert_eq!(on(NetMode::BridgeVxlan)[0].rule, Rule::BridgeNfCallIptables);
        assert_eq!(on(NetMode::BridgeNat).len(), 1);
        assert!(on(NetMode::CiliumBgp).is_empty());
        let off = Conntrack { bridge_nf_call_iptables: Some(false), ..ct(1, 100) };
        assert!(run(vec![with_mode(node_with_conntrack("n1", off), NetMode::BridgeVxlan)]).is_empty());
        assert!(on(NetMode::BridgeNat)[0].remedy.contains("kube-proxy"));
    }

    fn cilium(fill: f64, insert_failed: Option<f64>) -> CiliumMaps {
        use crate::model::MapFill;
        let map = |name: &str, pressure| MapFill { name: name.into(), pressure };
        CiliumMaps {
            maps: vec![
                map("ct4_global", fill),
                map("ct_any4_global", fill / 2.0),
                map("snat_v4_external", 0.1),
            ],
            insert_failed_per_s: insert_failed,
        }
    }
    fn cilium_node(mode: NetMode, nf: Conntrack, maps: Option<CiliumMaps>) -> Node {
        let mut n = with_mode(node_with_conntrack("n1", nf), mode);
        if let Some(h) = n.host.as_mut() {
            h.value.cilium_ct = maps;
        }
        n
    }
    fn rules(n: Node) -> Vec<(Rule, Severity)> {
        let mut got: Vec<_> = run(vec![n]).iter().map(|f| (f.rule, f.severity)).collect();
        got.sort();
        got
    }

    #[test]
    fn nf_conntrack_findings_only_where_the_kernel_tracks() {
        let full =
            Conntrack { insert_failed_per_s: 3.0, tcp_established_timeout_s: Some(300), ..ct(95, 100) };
        // A Cilium node: its kernel table is not where pod connections go; its maps are quiet.
        for mode in [NetMode::CiliumBgp, NetMode::CiliumTunnel, NetMode::CiliumUndetermined] {
            assert!(
                rules(cilium_node(mode, full.clone(), Some(cilium(0.2, Some(0.0))))).is_empty(),
                "{mode:?}"
            );
        }
        // The same table on a bridge or Calico node, or a node of unknown mode: every finding and trap.
        for mode in [NetMode::BridgeVxlan, NetMode::CalicoBgp, NetMode::Unknown] {
            assert_eq!(
                rules(cilium_node(mode, full.clone(), None)),
                vec![
                    (Rule::ConntrackPressure, Severity::Critical),
                    (Rule::ConntrackInsertFailed, Severity::Critical),
                    (Rule::ConntrackTimeoutBelowKeepalive, Severity::Warning),
                ],
                "{mode:?}"
            );
        }
    }

    #[test]
    fn migrating_node_is_judged_on_both_tables() {
        let n = cilium_node(NetMode::Migrating, ct(80, 100), Some(cilium(0.91, Some(2.0))));
        assert_eq!(
            rules(n),
            vec![
                (Rule::ConntrackPressure, Severity::Warning),
                (Rule::CiliumMapPressure, Severity::Critical),
                (Rule::CiliumCtInsertFailed, Severity::Critical),
            ]
        );
        let mut n = with_mode(node("n1"), NetMode::Migrating);
        n.net.evidence.push(crate::model::Evidence {
            signal: crate::model::Signal::AgentPod { cni: crate::model::Cni::Cilium, pod: "cilium-x".into() },
            supports: true,
        });
        let t = crate::analysis::conntrack::tracking(&n);
        assert!(t.kernel && t.cilium, "{t:?}");
        assert!(!crate::analysis::conntrack::tracking(&with_mode(node("n2"), NetMode::Migrating)).cilium);
    }

    #[test]
    fn cilium_map_pressure_boundaries() {
        let on = |fill| rules(cilium_node(NetMode::CiliumBgp, ct(1, 100), Some(cilium(fill, Some(0.0)))));
        assert!(on(0.749).is_empty());
        assert_eq!(on(0.75), vec![(Rule::CiliumMapPressure, Severity::Warning)]);
        assert_eq!(on(0.899), vec![(Rule::CiliumMapPressure, Severity::Warning)]);
        assert_eq!(on(0.90), vec![(Rule::CiliumMapPressure, Severity::Critical)]);
        let f = run(vec![cilium_node(NetMode::CiliumBgp, ct(1, 100), Some(cilium(0.93, None)))]);
        assert!(f[0].what.contains("ct4_global 93.0 % full"), "{}", f[0].what);
        assert!(f[0].evidence[0].contains("ct_any4_global 46.5 %"), "{:?}", f[0].evidence);
        assert!(f[0].remedy.contains("bpf-ct-global-tcp-max"));
        // No pressure known: nothing to judge.
        let none = CiliumMaps { maps: vec![], insert_failed_per_s: None };
        assert!(rules(cilium_node(NetMode::CiliumBgp, ct(1, 100), Some(none))).is_empty());
    }

    #[test]
    fn cilium_insert_failed_needs_a_rate_and_is_critical_on_full_maps() {
        let on = |fill, r| rules(cilium_node(NetMode::CiliumTunnel, ct(1, 100), Some(cilium(fill, r))));
        assert!(on(0.5, Some(0.0)).is_empty(), "a counter that does not move");
        assert!(on(0.5, None).is_empty(), "unknown is not a finding");
        assert_eq!(on(0.5, Some(0.2)), vec![(Rule::CiliumCtInsertFailed, Severity::Warning)]);
        assert_eq!(
            on(0.95, Some(0.2)),
            vec![
                (Rule::CiliumMapPressure, Severity::Critical),
                (Rule::CiliumCtInsertFailed, Severity::Critical)
            ]
        );
        let f = run(vec![cilium_node(NetMode::CiliumTunnel, ct(1, 100), Some(cilium(0.5, Some(4.25))))]);
        assert_eq!(f[0].evidence[0], "cilium_drop_count_total{reason=\"CT: Map insertion failed\"} 4.25/s");
    }
}
