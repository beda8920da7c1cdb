//! Conntrack rules: table pressure, insert failures, drops, the keep-alive timeout trap and
//! `bridge-nf-call-iptables` on bridge nodes.

use super::pct;
use crate::analysis::Settings;
use crate::model::{Conntrack, Finding, Node, Rule, Severity, Snapshot};

/// Table fill at which a node gets a warning.
pub const CONNTRACK_WARN: f64 = 0.75;
/// Table fill at which a node gets a critical finding.
pub const CONNTRACK_CRIT: f64 = 0.90;

pub fn check(snap: &Snapshot, _settings: &Settings, out: &mut Vec<Finding>) {
    for n in &snap.nodes {
        if let Some(c) = n.conntrack() {
            pressure(n, c, out);
            insert_failed(n, c, out);
            drops(n, c, out);
            timeout(n, c, snap.keepalive_idle_s, out);
            bridge_nf(n, c, out);
        }
    }
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
    let severity = if fill >= CONNTRACK_CRIT {
        Severity::Critical
    } else if fill >= CONNTRACK_WARN {
        Severity::Warning
    } else {
        return;
    };
    let threshold = if severity == Severity::Critical { CONNTRACK_CRIT } else { CONNTRACK_WARN };
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
}
