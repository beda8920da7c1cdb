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
