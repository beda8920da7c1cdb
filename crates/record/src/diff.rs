//! What changed between two snapshots: findings that appeared or cleared, nodes whose BGP verdict
//! or network mode changed, sessions that changed state, nodes that came or went, sources whose
//! health changed, and (on request) runtime mixes. Pure; `History::changes` dates each change.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use clustertop_core::model::{BgpVerdict, Finding, NetMode, Node, Rule, RuntimeMix, Severity, Snapshot};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub kind: ChangeKind,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ChangeKind {
    FindingAppeared {
        rule: Rule,
        severity: Severity,
        subject: String,
        what: String,
    },
    FindingCleared {
        rule: Rule,
        severity: Severity,
        subject: String,
        what: String,
    },
    /// A node's BGP verdict, with its counts (`2/2` → `1/2`).
    Verdict {
        node: String,
        rack: String,
        tors: [String; 2],
        from: BgpVerdict,
        to: BgpVerdict,
        from_label: String,
        to_label: String,
    },
    Mode {
        node: String,
        rack: String,
        from: NetMode,
        to: NetMode,
    },
    /// A BGP session's state (`established` → `active`; `absent` when not reported).
    Session {
        node: String,
        rack: String,
        peer: String,
        from: String,
        to: String,
    },
    NodeAdded {
        node: String,
        rack: String,
    },
    NodeRemoved {
        node: String,
        rack: String,
    },
    Source {
        source: String,
        from: String,
        to: String,
    },
    RuntimeMix {
        node: String,
        from: Option<RuntimeMix>,
        to: Option<RuntimeMix>,
    },
}

#[derive(Debug, Clone, Copy, Default)]
pub struct DiffOptions {
    /// Runtime mixes change with every pod scheduled: only for a diff between two moments.
    pub runtime_mix: bool,
}

type Key<'a> = (Rule, &'a str);

fn findings(s: &Snapshot) -> BTreeMap<Key<'_>, &Finding> {
    s.findings.iter().map(|f| ((f.rule, f.subject.as_str()), f)).collect()
}

const ABSENT: &str = "absent";

fn sessions(n: &Node) -> BTreeMap<String, (String, String)> {
    n.bgp.iter().map(|s| (s.key(), (s.peer.clone(), s.state.label().to_string()))).collect()
}

fn node_changes(a: &Node, b: &Node, opts: &DiffOptions, out: &mut Vec<ChangeKind>) {
    let (node, rack) = (b.name.clone(), b.rack.clone());
    if a.net.mode != b.net.mode {
        out.push(ChangeKind::Mode {
            node: node.clone(),
            rack: rack.clone(),
            from: a.net.mode,
            to: b.net.mode,
        });
    }
    let (la, lb) = (a.bgp_label(), b.bgp_label());
    if a.bgp_verdict != b.bgp_verdict || la != lb {
        out.push(ChangeKind::Verdict {
            node: node.clone(),
            rack: rack.clone(),
            tors: b.tors.clone(),
            from: a.bgp_verdict,
            to: b.bgp_verdict,
            from_label: la,
            to_label: lb,
        });
    }
    let (sa, sb) = (sessions(a), sessions(b));
    let keys: BTreeSet<&String> = sa.keys().chain(sb.keys()).collect();
    for k in keys {
        let from = sa.get(k).map_or(ABSENT, |s| s.1.as_str());
        let to = sb.get(k).map_or(ABSENT, |s| s.1.as_str());
        if from != to {
            let peer = sb.get(k).or_else(|| sa.get(k)).map_or_else(|| k.clone(), |s| s.0.clone());
            out.push(ChangeKind::Session {
                node: node.clone(),
                rack: rack.clone(),
                peer,
                from: from.into(),
                to: to.into(),
            });
        }
    }
    if opts.runtime_mix && a.runtime != b.runtime {
        out.push(ChangeKind::RuntimeMix { node, from: a.runtime, to: b.runtime });
    }
}

/// What changed from `a` to `b`.
pub fn diff(a: &Snapshot, b: &Snapshot, opts: &DiffOptions) -> Vec<ChangeKind> {
    let mut out = Vec::new();
    let (sa, sb) = (&a.sources, &b.sources);
    let health = |s: &[clustertop_core::model::SourceStatus]| -> BTreeMap<String, String> {
        s.iter().map(|x| (x.label(), x.health.word().to_string())).collect()
    };
    let (ha, hb) = (health(sa), health(sb));
    for k in ha.keys().chain(hb.keys()).collect::<BTreeSet<_>>() {
        let (from, to) = (ha.get(k).map_or(ABSENT, String::as_str), hb.get(k).map_or(ABSENT, String::as_str));
        if from != to {
            out.push(ChangeKind::Source { source: k.clone(), from: from.into(), to: to.into() });
        }
    }
    let na: BTreeMap<&str, &Node> = a.nodes.iter().map(|n| (n.name.as_str(), &**n)).collect();
    for n in &b.nodes {
        match na.get(n.name.as_str()) {
            None => out.push(ChangeKind::NodeAdded { node: n.name.clone(), rack: n.rack.clone() }),
            // Unchanged nodes are shared between snapshots: nothing to compare.
            Some(old) if std::ptr::eq(*old, &**n) => {}
            Some(old) => node_changes(old, n, opts, &mut out),
        }
    }
    for n in &a.nodes {
        if b.node(&n.name).is_none() {
            out.push(ChangeKind::NodeRemoved { node: n.name.clone(), rack: n.rack.clone() });
        }
    }
    let (fa, fb) = (findings(a), findings(b));
    for (k, f) in &fb {
        if !fa.contains_key(k) {
            out.push(ChangeKind::FindingAppeared {
                rule: f.rule,
                severity: f.severity,
                subject: f.subject.clone(),
                what: f.what.clone(),
            });
        }
    }
    for (k, f) in &fa {
        if !fb.contains_key(k) {
            out.push(ChangeKind::FindingCleared {
                rule: f.rule,
                severity: f.severity,
                subject: f.subject.clone(),
                what: f.what.clone(),
            });
        }
    }
    out
}
