//! The capacity review as one CSV table (RFC 4180: CRLF line ends, a header row, fields holding
//! `,` `"` CR or LF quoted with `"` doubled).
//!
//! Columns: `scope,rack,node,window,start,end,avg_util,offline_share,idle_core_hours,
//! spill_core_hours,complete,coverage,capacity_core_hours,reclaimed_core_hours,
//! reclaimed_unused_core_hours`.
//!
//! * `scope` is `cluster`, `rack`, `node` or `reclaimed`; rows come in that order, each in the report's order.
//! * `rack` is empty for cluster rows (and for nodes without a rack label); `node` is set only on
//!   `node` rows (the top under-filled nodes).
//! * `window` is `HH:MM-HH:MM` in the report's zone; `start` and `end` are the occurrence in
//!   RFC 3339 UTC.
//! * Ratios (`avg_util`, `offline_share`) are 0..1 with 4 decimals; core-hours have 2 decimals.
//!   `offline_share` and `spill_core_hours` are empty on `node` rows (not measured per node), and
//!   any figure that is not a finite number is empty.
//! * `complete` is `true` or `false`; node rows come from complete occurrences only.
//! * `coverage` (0..1, 4 decimals) is the share of the occurrence with data, and
//!   `capacity_core_hours` the capacity integrated over it; both empty on `node` rows.
//! * `reclaimed_core_hours` and `reclaimed_unused_core_hours`: Koordinator's reclaimed capacity
//!   over the occurrence and what offline work left of it; empty where not known, and on `node`
//!   rows. `reclaimed` rows (after the `node` rows) are the nodes that left the most reclaimed
//!   capacity unused, with only those two figures. The top offline workloads are in the Markdown
//!   and JSON formats only.

use chrono::{DateTime, SecondsFormat, Utc};

use super::CapacityReport;

const HEADER: [&str; 15] = [
    "scope",
    "rack",
    "node",
    "window",
    "start",
    "end",
    "avg_util",
    "offline_share",
    "idle_core_hours",
    "spill_core_hours",
    "complete",
    "coverage",
    "capacity_core_hours",
    "reclaimed_core_hours",
    "reclaimed_unused_core_hours",
];

pub(super) fn render(r: &CapacityReport) -> String {
    let mut out = String::new();
    row(&mut out, HEADER.iter().map(|h| h.to_string()));
    let cluster = r.fills.iter().filter(|f| f.rack.is_none());
    let racks = r.fills.iter().filter(|f| f.rack.is_some());
    for f in cluster.chain(racks) {
        row(
            &mut out,
            [
                if f.rack.is_some() { "rack" } else { "cluster" }.to_string(),
                f.rack.clone().unwrap_or_default(),
                String::new(),
                f.window.label(),
                time(f.start),
                time(f.end),
                num(f.avg_util, 4),
                num(f.offline_share, 4),
                num(f.idle_core_hours, 2),
                num(f.spill_core_hours, 2),
                f.complete.to_string(),
                num(f.coverage, 4),
                num(f.capacity_core_hours, 2),
                f.reclaimed_core_hours.map_or_else(String::new, |v| num(v, 2)),
                f.reclaimed_unused_core_hours.map_or_else(String::new, |v| num(v, 2)),
            ],
        );
    }
    for n in &r.under_filled {
        row(
            &mut out,
            [
                "node".to_string(),
                n.rack.clone().unwrap_or_default(),
                n.node.clone(),
                n.window.label(),
                time(n.start),
                time(n.end),
                num(n.avg_util, 4),
                String::new(),
                num(n.idle_core_hours, 2),
                String::new(),
                "true".to_string(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ],
        );
    }
    for n in &r.unused_reclaimed {
        let mut fields = vec![
            "reclaimed".to_string(),
            n.rack.clone().unwrap_or_default(),
            n.node.clone(),
            n.window.label(),
            time(n.start),
            time(n.end),
        ];
        // No utilisation, shares, idle or spill figures; complete; no coverage or capacity.
        fields.extend(std::iter::repeat_n(String::new(), 4));
        fields.extend(["true".to_string(), String::new(), String::new()]);
        fields.extend([num(n.reclaimed_core_hours, 2), num(n.unused_core_hours, 2)]);
        row(&mut out, fields);
    }
    out
}

fn row(out: &mut String, fields: impl IntoIterator<Item = String>) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&field(&f));
    }
    out.push_str("\r\n");
}

/// One field, quoted when it holds a comma, a quote, CR or LF.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A plain decimal; empty when not finite, never `-0.0000`.
fn num(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return String::new();
    }
    let s = format!("{x:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') { s[1..].to_string() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::report::fixture;

    #[test]
    fn snapshot() {
        // insta compares with normalised line ends; the CRLF test is below.
        insta::assert_snapshot!(render(&fixture()));
    }

    #[test]
    fn crlf_and_one_width() {
        let csv = render(&fixture());
        assert!(csv.ends_with("\r\n"));
        assert_eq!(csv.matches("\r\n").count(), 1 + 6 + 3 + 1);
        assert!(
            csv.split("\r\n").filter(|l| !l.is_empty()).all(|l| l.matches(',').count() == HEADER.len() - 1)
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field("cr\r"), "\"cr\r\"");
        assert_eq!(field(""), "");
        let mut r = fixture();
        r.fills[1].rack = Some("row 3, \"east\"".into());
        let csv = render(&r);
        assert!(csv.contains("\r\nrack,\"row 3, \"\"east\"\"\",,21:00-00:30,"), "{csv}");
    }

    #[test]
    fn no_nan_or_inf() {
        let mut r = fixture();
        r.fills[0].avg_util = f64::NAN;
        r.fills[0].idle_core_hours = f64::INFINITY;
        r.under_filled[0].avg_util = f64::NEG_INFINITY;
        let csv = render(&r).to_lowercase();
        assert!(!csv.contains("nan") && !csv.contains("inf"), "{csv}");
        assert_eq!(num(-0.00001, 4), "0.0000");
    }

    #[test]
    fn empty_report_is_the_header() {
        let mut r = fixture();
        r.fills.clear();
        r.under_filled.clear();
        r.unused_reclaimed.clear();
        assert_eq!(render(&r), format!("{}\r\n", HEADER.join(",")));
    }
}
