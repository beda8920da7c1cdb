//! An incident timeline from a history: each finding's first and last time, each TOR's and
//! rack's BGP outage (which nodes, from when to when), every node's verdict changes, and all
//! changes in time order. Serialized as `clustertop.incident/v1` JSON; the dashboard renders it
//! as Markdown for a postmortem.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use clustertop_core::model::{BgpVerdict, Rule, Severity, Snapshot};
use serde::Serialize;

use crate::diff::{Change, ChangeKind};
use crate::{History, HistoryError};

pub const SCHEMA: &str = "clustertop.incident/v1";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    pub schema: &'static str,
    pub cluster: String,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Changes between two samples are dated at the later one; samples are this far apart at most.
    pub resolution_s: i64,
    pub findings: Vec<FindingSpan>,
    pub tors: Vec<OutageSpan>,
    pub racks: Vec<OutageSpan>,
    pub verdicts: Vec<Change>,
    pub timeline: Vec<Change>,
}

/// When a finding was seen within the incident window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingSpan {
    pub rule: Rule,
    pub severity: Severity,
    pub subject: String,
    pub what: String,
    /// `None`: already there at `since`.
    pub first: Option<DateTime<Utc>>,
    /// When it last cleared; `None`: still there at `until`.
    pub last: Option<DateTime<Utc>>,
    /// Times it appeared within the window.
    pub appeared: u32,
}

/// A TOR (sessions to it down) or a rack (nodes with a BGP verdict worse than healthy).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutageSpan {
    /// The TOR's or rack's name.
    pub name: String,
    /// The rack of a TOR.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rack: Option<String>,
    /// Nodes affected at some point, sorted.
    pub nodes: Vec<String>,
    /// `None`: already down at `since`.
    pub start: Option<DateTime<Utc>>,
    /// When the last affected node recovered; `None`: still down at `until`.
    pub end: Option<DateTime<Utc>>,
}

fn bad(v: BgpVerdict) -> bool {
    matches!(v, BgpVerdict::Degraded | BgpVerdict::Isolated | BgpVerdict::Unknown)
}

#[derive(Default)]
struct Group {
    rack: Option<String>,
    /// Members down now, and every member that was down at some point.
    down: BTreeSet<String>,
    all: BTreeSet<String>,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    /// Down at `since` already (then `start` stays `None`).
    before: bool,
    changed: bool,
}

/// Tracks which members of each group are down; a group's outage starts when its first member
/// goes down and ends when its last comes back.
#[derive(Default)]
struct Outages(BTreeMap<String, Group>);

impl Outages {
    fn entry(&mut self, group: &str, rack: Option<&str>) -> &mut Group {
        self.0
            .entry(group.to_string())
            .or_insert_with(|| Group { rack: rack.map(String::from), ..Group::default() })
    }
    /// `member` of `group` is down at `since` already.
    fn initially(&mut self, group: &str, rack: Option<&str>, member: &str) {
        let g = self.entry(group, rack);
        g.before = true;
        g.down.insert(member.into());
        g.all.insert(member.into());
    }
    fn set(&mut self, group: &str, rack: Option<&str>, member: &str, down: bool, at: DateTime<Utc>) {
        let g = self.entry(group, rack);
        g.changed = true;
        if down {
            if g.start.is_none() && !g.before {
                g.start = Some(at);
            }
            g.down.insert(member.into());
            g.all.insert(member.into());
            g.end = None;
        } else if g.down.remove(member) && g.down.is_empty() {
            g.end = Some(at);
        }
    }
    /// The groups that changed within the window.
    fn spans(self) -> Vec<OutageSpan> {
        self.0
            .into_iter()
            .filter(|(_, g)| g.changed)
            .map(|(name, g)| OutageSpan {
                name,
                rack: g.rack,
                nodes: g.all.into_iter().collect(),
                start: g.start,
                end: if g.down.is_empty() { g.end } else { None },
            })
            .collect()
    }
}

/// The incident between `since` and `until`, sampled at most every `resolution`.
pub fn build(
    h: &dyn History,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    resolution: Duration,
) -> Result<Incident, HistoryError> {
    // The state the changes start from: after the recording's first minute when `since` falls
    // in it (`reader::WARM_UP`).
    let spans = h.spans()?;
    let base = spans.iter().find(|s| s.contains(since)).map_or(since, |s| crate::reader::settled(s, since));
    let start: Snapshot = h.snapshot_at(base)?;
    let timeline = h.changes(since, until, resolution)?;
    let mut findings: BTreeMap<(Rule, String), FindingSpan> = start
        .findings
        .iter()
        .map(|f| {
            let span = FindingSpan {
                rule: f.rule,
                severity: f.severity,
                subject: f.subject.clone(),
                what: f.what.clone(),
                first: None,
                last: None,
                appeared: 0,
            };
            ((f.rule, f.subject.clone()), span)
        })
        .collect();
    let mut open: BTreeSet<(Rule, String)> = findings.keys().cloned().collect();
    let mut tors = Outages::default();
    let mut racks = Outages::default();
    for n in &start.nodes {
        for s in n.bgp.iter().filter(|s| !s.is_up()) {
            tors.initially(&s.peer, Some(&n.rack), &n.name);
        }
        if bad(n.bgp_verdict) {
            racks.initially(&n.rack, None, &n.name);
        }
    }
    for c in &timeline {
        match &c.kind {
            ChangeKind::FindingAppeared { rule, severity, subject, what } => {
                let key = (*rule, subject.clone());
                let f = findings.entry(key.clone()).or_insert_with(|| FindingSpan {
                    rule: *rule,
                    severity: *severity,
                    subject: subject.clone(),
                    what: what.clone(),
                    first: Some(c.at),
                    last: None,
                    appeared: 0,
                });
                f.appeared += 1;
                f.last = None;
                open.insert(key);
            }
            ChangeKind::FindingCleared { rule, subject, .. } => {
                let key = (*rule, subject.clone());
                if let Some(f) = findings.get_mut(&key) {
                    f.last = Some(c.at);
                }
                open.remove(&key);
            }
            ChangeKind::Session { node, rack, peer, from, to } => {
                let up = |s: &str| s == "established";
                if up(from) != up(to) {
                    tors.set(peer, Some(rack), node, !up(to), c.at);
                }
            }
            ChangeKind::Verdict { node, rack, from, to, .. } if bad(*from) != bad(*to) => {
                racks.set(rack, None, node, bad(*to), c.at);
            }
            _ => {}
        }
    }
    let verdicts =
        timeline.iter().filter(|c| matches!(c.kind, ChangeKind::Verdict { .. })).cloned().collect();
    let mut findings: Vec<FindingSpan> = findings.into_values().collect();
    // Most severe first, then the earliest.
    findings.sort_by(|a, b| (a.severity, a.first, &a.subject).cmp(&(b.severity, b.first, &b.subject)));
    Ok(Incident {
        schema: SCHEMA,
        cluster: start.cluster.clone(),
        since,
        until,
        resolution_s: resolution.num_seconds().max(1),
        findings,
        tors: tors.spans(),
        racks: racks.spans(),
        verdicts,
        timeline,
    })
}
