//! `clustertop report incident` as Markdown, for a postmortem: the TOR and rack outages, each
//! finding's first and last time, every node's BGP verdict changes, and the whole timeline. Pure:
//! times are shown in `tz`, every string from the cluster passes `sanitize`.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::format::{Precision, duration};
use crate::record::incident::{Incident, OutageSpan};
use crate::record::{Change, ChangeKind};
use crate::sanitize::sanitize;

fn when(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string()
}

fn s(text: &str) -> String {
    // A table cell: one line, no pipe.
    sanitize(text).replace('|', "\\|")
}

/// Nodes listed up to 8, then how many more.
fn nodes(list: &[String]) -> String {
    let shown: Vec<String> = list.iter().take(8).map(|n| s(n)).collect();
    let more = list.len().saturating_sub(8);
    let tail = if more > 0 { format!(", … {more} more") } else { String::new() };
    format!("{} ({}{tail})", list.len(), shown.join(", "))
}

fn outage_rows(out: &mut String, spans: &[OutageSpan], inc: &Incident, tz: Tz, tor: bool) {
    for o in spans {
        let start = o.start.map_or_else(|| format!("before {}", when(inc.since, tz)), |t| when(t, tz));
        let end = o.end.map_or_else(|| format!("still down at {}", when(inc.until, tz)), |t| when(t, tz));
        let (from, to) = (o.start.unwrap_or(inc.since), o.end.unwrap_or(inc.until));
        let long = duration((to - from).num_seconds().max(0) as u64, Precision::Exact);
        let rack = if tor { format!(" {} |", s(o.rack.as_deref().unwrap_or("?"))) } else { String::new() };
        let _ = writeln!(out, "| {} |{rack} {} | {start} | {end} | {long} |", s(&o.name), nodes(&o.nodes));
    }
}

/// One change as a line of the timeline.
pub fn line(c: &ChangeKind) -> String {
    match c {
        ChangeKind::FindingAppeared { severity, subject, what, .. } => {
            format!("{} appeared: {} ({})", severity.label(), s(what), s(subject))
        }
        ChangeKind::FindingCleared { severity, subject, what, .. } => {
            format!("{} cleared: {} ({})", severity.label(), s(what), s(subject))
        }
        ChangeKind::Verdict { node, rack, from_label, to_label, .. } => {
            format!("node {} ({}): BGP {} → {}", s(node), s(rack), s(from_label), s(to_label))
        }
        ChangeKind::Mode { node, from, to, .. } => {
            format!("node {}: network mode {} → {}", s(node), from.label(), to.label())
        }
        ChangeKind::Session { node, peer, from, to, .. } => {
            format!("node {}: session to {} {} → {}", s(node), s(peer), s(from), s(to))
        }
        ChangeKind::NodeAdded { node, rack } => format!("node {} ({}) appeared", s(node), s(rack)),
        ChangeKind::NodeRemoved { node, rack } => format!("node {} ({}) went away", s(node), s(rack)),
        ChangeKind::Source { source, from, to } => format!("source {}: {} → {}", s(source), s(from), s(to)),
        ChangeKind::RuntimeMix { node, .. } => format!("node {}: runtime mix changed", s(node)),
    }
}

fn timeline(out: &mut String, changes: &[Change], tz: Tz) {
    for c in changes {
        let _ = writeln!(out, "- {} {}", when(c.at, tz), line(&c.kind));
    }
}

pub fn markdown(inc: &Incident, tz: Tz) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Incident timeline: {}\n", sanitize(&inc.cluster));
    let _ = writeln!(
        out,
        "From {} to {} ({tz}); changes dated to {} s at best.\n",
        when(inc.since, tz),
        when(inc.until, tz),
        inc.resolution_s
    );
    out.push_str("## TOR outages (BGP sessions to the TOR down)\n\n");
    if inc.tors.is_empty() {
        out.push_str("None.\n\n");
    } else {
        out.push_str("| TOR | rack | nodes | start | end | for |\n|---|---|---|---|---|---|\n");
        outage_rows(&mut out, &inc.tors, inc, tz, true);
        out.push('\n');
    }
    out.push_str("## Racks with nodes below full BGP redundancy\n\n");
    if inc.racks.is_empty() {
        out.push_str("None.\n\n");
    } else {
        out.push_str("| rack | nodes | start | end | for |\n|---|---|---|---|---|\n");
        outage_rows(&mut out, &inc.racks, inc, tz, false);
        out.push('\n');
    }
    out.push_str("## Findings\n\n");
    if inc.findings.is_empty() {
        out.push_str("None.\n\n");
    } else {
        out.push_str(
            "| severity | finding | subject | first | cleared | appeared |\n|---|---|---|---|---|---|\n",
        );
        for f in &inc.findings {
            let first = f.first.map_or_else(|| "before the window".into(), |t| when(t, tz));
            let last = f.last.map_or_else(|| "still there".into(), |t| when(t, tz));
            let _ = writeln!(
                out,
                "| {} | {} | {} | {first} | {last} | {} |",
                f.severity.label(),
                s(&f.what),
                s(&f.subject),
                f.appeared
            );
        }
        out.push('\n');
    }
    out.push_str("## BGP verdict changes per node\n\n");
    if inc.verdicts.is_empty() {
        out.push_str("None.\n\n");
    } else {
        timeline(&mut out, &inc.verdicts, tz);
        out.push('\n');
    }
    out.push_str("## Timeline\n\n");
    if inc.timeline.is_empty() {
        out.push_str("Nothing changed.\n");
    } else {
        timeline(&mut out, &inc.timeline, tz);
    }
    out
}

pub fn json(inc: &Incident) -> String {
    serde_json::to_string_pretty(inc).unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BgpVerdict, Rule, Severity};
    use crate::record::incident::{FindingSpan, SCHEMA};
    use clustertop_core::testkit::T0;

    fn at(s: i64) -> DateTime<Utc> {
        T0 + chrono::Duration::seconds(s)
    }

    fn incident() -> Incident {
        let verdict = |s, from: &str, to: &str| Change {
            at: at(s),
            kind: ChangeKind::Verdict {
                node: "r5-n01".into(),
                rack: "rack-5".into(),
                tors: ["tor-5a".into(), "tor-5b".into()],
                from: BgpVerdict::Healthy,
                to: BgpVerdict::Degraded,
                from_label: from.into(),
                to_label: to.into(),
            },
        };
        Incident {
            schema: SCHEMA,
            cluster: "prod\x1b]0;owned\x07".into(),
            since: at(0),
            until: at(1800),
            resolution_s: 5,
            findings: vec![FindingSpan {
                rule: Rule::BgpDegraded,
                severity: Severity::Warning,
                subject: "r5-n01".into(),
                what: "ECMP degraded | 1/2".into(),
                first: Some(at(600)),
                last: None,
                appeared: 1,
            }],
            tors: vec![OutageSpan {
                name: "tor-5a".into(),
                rack: Some("rack-5".into()),
                nodes: (1..=10).map(|i| format!("r5-n{i:02}")).collect(),
                start: Some(at(600)),
                end: Some(at(1200)),
            }],
            racks: vec![OutageSpan {
                name: "rack-5".into(),
                rack: None,
                nodes: vec![],
                start: None,
                end: None,
            }],
            verdicts: vec![verdict(600, "2/2", "1/2"), verdict(1200, "1/2", "2/2")],
            timeline: vec![verdict(600, "2/2", "1/2")],
        }
    }

    #[test]
    fn the_markdown_names_each_outage_with_its_start_end_and_length_inertly() {
        let md = markdown(&incident(), chrono_tz::Asia::Kolkata);
        assert!(md.starts_with("# Incident timeline: prod"), "{md}");
        let tor = md.lines().find(|l| l.starts_with("| tor-5a |")).unwrap_or_default();
        // 12:10Z is 17:40 in Kolkata (+05:30).
        assert_eq!(
            tor,
            "| tor-5a | rack-5 | 10 (r5-n01, r5-n02, r5-n03, r5-n04, r5-n05, r5-n06, r5-n07, r5-n08, … 2 more) \
             | 2026-11-24 17:40:00 | 2026-11-24 17:50:00 | 10m |"
        );
        let rack = md.lines().find(|l| l.starts_with("| rack-5 |")).unwrap_or_default();
        assert!(
            rack.contains("before 2026-11-24 17:30:00") && rack.contains("still down at 2026-11-24 18:00:00"),
            "{rack}"
        );
        assert!(
            md.contains("| ECMP degraded \\| 1/2 | r5-n01 | 2026-11-24 17:40:00 | still there | 1 |"),
            "{md}"
        );
        assert!(md.contains("- 2026-11-24 17:40:00 node r5-n01 (rack-5): BGP 2/2 → 1/2"), "{md}");
        assert!(md.contains("- 2026-11-24 17:50:00 node r5-n01 (rack-5): BGP 1/2 → 2/2"), "{md}");
        assert!(!md.contains('\x1b') && !md.contains('\x07'));
    }

    #[test]
    fn the_json_is_the_incident_schema() {
        let v: serde_json::Value = serde_json::from_str(&json(&incident())).unwrap_or_default();
        assert_eq!(v["schema"], "clustertop.incident/v1");
        assert_eq!(v["tors"][0]["start"], "2026-11-24T12:10:00Z");
        assert_eq!(v["timeline"][0]["change"], "verdict");
    }
}
