//! Reports rebuilt from an agent's own exposition (`GET /metrics`), as Prometheus stores its
//! series: the same updates as the report itself gives the poller.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use super::*;
use crate::agent::{AgentConfig, bird, cilium, host, metrics};
use crate::testkit::T0;

/// A text exposition as Prometheus stores it: one series per sample, with `__name__` and the
/// scrape target's `job` and `instance`.
fn scraped(text: &str, instance: &str) -> Vec<Series> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let (head, value) = line.rsplit_once(' ').unwrap();
        let (name, rest) = head.split_once('{').map_or((head, ""), |(n, r)| (n, r.trim_end_matches('}')));
        let mut labels: HashMap<String, String> =
            [("__name__", name), ("job", "clustertop-agent"), ("instance", instance)]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into();
        let mut chars = rest.chars().peekable();
        while chars.peek().is_some() {
            let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
            assert_eq!(chars.next(), Some('"'), "{line}");
            let mut v = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => match chars.next().unwrap() {
                        'n' => v.push('\n'),
                        c => v.push(c),
                    },
                    '"' => break,
                    c => v.push(c),
                }
            }
            if chars.peek() == Some(&',') {
                chars.next();
            }
            labels.insert(key.trim_start_matches(',').to_string(), v);
        }
        out.push(Series { labels, samples: vec![(T0.timestamp(), value.parse().unwrap())] });
    }
    out
}

/// A report as the agent builds it on a node of the fixture tree, with BIRD's and Cilium's
/// sessions as they parse the upstream-shaped transcripts.
fn real_report(node: &str) -> NodeReport {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/agent/proc-good");
    let cfg = AgentConfig {
        proc_root: root.join("proc"),
        sys_root: root.join("sys"),
        dev_root: root.join("dev"),
        cni_dir: root.join("cni"),
        ..AgentConfig::default()
    };
    let birdc = include_str!("../../../tests/fixtures/agent/bird-protocols-all.txt");
    let peers =
        cilium::parse_peers(include_bytes!("../../../tests/fixtures/agent/cilium-bgp-peers.json")).unwrap();
    NodeReport {
        schema: SCHEMA.into(),
        node: node.into(),
        agent_version: "0.1.0".into(),
        read_at: T0,
        host: host::read_host(&cfg),
        bgp_bird: Fact::Value(bird::parse_protocols_all(birdc, T0)),
        bgp_bird6: Fact::absent("no bird6.ctl"),
        bgp_cilium: Fact::Value(peers),
    }
}

fn updates_of(r: &NodeReport) -> Vec<Update> {
    map::updates(r, &Counters::default()).0
}

#[test]
fn an_agents_series_give_the_same_updates_as_its_report() {
    let want = real_report("r1-n01");
    assert!(want.bgp_bird.value().is_some_and(|p| !p.is_empty()), "the fixture has BIRD sessions");
    let series = scraped(&metrics::render(&want), "10.0.0.5:9977");
    let got = reports(&series);
    assert_eq!(got.len(), 1);
    let got = got.into_iter().next().unwrap().unwrap();
    assert_eq!(got.node, "r1-n01");
    assert_eq!(got.read_at, T0);
    let (mut a, mut b) = (updates_of(&got), updates_of(&want));
    // Sessions in the same order on both sides (Prometheus has no order).
    for u in a.iter_mut().chain(b.iter_mut()) {
        if let Update::Bgp { sessions, .. } = u {
            sessions.sort_by(|x, y| (&x.peer, &x.peer_addr).cmp(&(&y.peer, &y.peer_addr)));
        }
    }
    assert_eq!(a, b);
}

/// Two agents, one marking facts absent: each node its own facts, absent stays absent (never 0),
/// and a target without the info series (an older agent) is named, not guessed.
#[test]
fn targets_are_kept_apart_and_absent_facts_stay_absent() {
    let a = real_report("r1-n01");
    let mut b = real_report("r1-n02");
    b.host.conntrack.count = Fact::absent("no nf_conntrack");
    b.host.load = Fact::absent("unreadable");
    b.bgp_bird = Fact::absent("no bird.ctl");
    let mut series = scraped(&metrics::render(&a), "10.0.0.5:9977");
    series.extend(scraped(&metrics::render(&b), "10.0.0.6:9977"));
    let mut old = scraped(&metrics::render(&a), "10.0.0.7:9977");
    old.retain(|s| s.label("__name__") != Some("clustertop_agent_info"));
    series.extend(old);
    let got = reports(&series);
    assert_eq!(got.len(), 3);
    let by_node: HashMap<String, NodeReport> =
        got.iter().filter_map(|r| r.as_ref().ok()).map(|r| (r.node.clone(), r.clone())).collect();
    let n2 = &by_node["r1-n02"];
    assert!(n2.host.conntrack.count.value().is_none() && n2.host.load.value().is_none());
    assert!(n2.bgp_bird.value().is_none() && n2.bgp_cilium.value().is_some());
    assert_eq!(by_node["r1-n01"].host.conntrack.count.value(), a.host.conntrack.count.value());
    let err = got.iter().find_map(|r| r.as_ref().err()).unwrap();
    assert!(err.contains("10.0.0.7:9977") && err.contains("clustertop_agent_info"), "{err}");
}
