//! The capacity review as a Markdown document a team pastes into a review: title, one summary
//! sentence per cluster window occurrence, cluster / per-rack / under-filled tables, an ASCII chart
//! of the curve and the notes. Times are in the report's zone; percentages have no decimals,
//! core-hours one. A figure that is not a finite number prints as `n/a`.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::{CapacityReport, NodeFill, chart};
use crate::model::WindowFill;

pub(super) fn render(r: &CapacityReport) -> String {
    let mut out = String::new();
    let fmt = |t: DateTime<Utc>| t.with_timezone(&r.tz).format("%Y-%m-%d %H:%M").to_string();
    let _ = writeln!(out, "# Capacity review: {} – {} {}\n", fmt(r.start), fmt(r.end), r.tz.name());
    let windows: Vec<String> = r.windows.iter().map(|w| w.label()).collect();
    let windows = if windows.is_empty() { "none".to_string() } else { windows.join(", ") };
    let _ = writeln!(
        out,
        "Source: {}. Capacity: {} cores at the end. Windows: {windows} ({}).\n",
        text(&r.source),
        number(r.capacity_cores, 0),
        r.tz.name()
    );
    if !r.series.is_empty() {
        let _ = writeln!(out, "Series: {}.\n", text(&r.series));
    }
    out.push_str(
        "Each figure integrates the 5-minute points over exactly the span it names (a point describes the 5 minutes \
         before it): utilisation = used / measured core-hours; idle = measured capacity left unused; time without \
         data is neither (see Coverage); spill = offline core-hours in the 4 h after the window above the highest \
         offline level of the 2 h before it.\n\n",
    );
    summary(&mut out, r);
    fills_table(&mut out, r, false);
    fills_table(&mut out, r, true);
    changes(&mut out, r);
    under_filled(&mut out, r);
    workloads(&mut out, r);
    unused_reclaimed(&mut out, r);
    out.push_str("## CPU over the range\n\n```text\n");
    for line in chart::lines(r) {
        let _ = writeln!(out, "{line}");
    }
    out.push_str("```\n");
    if !r.notes.is_empty() {
        out.push_str("\n## Notes\n\n");
        for n in &r.notes {
            let _ = writeln!(out, "- {}", text(n));
        }
    }
    out
}

fn summary(out: &mut String, r: &CapacityReport) {
    out.push_str("## Summary\n\n");
    let cluster: Vec<&WindowFill> = r.fills.iter().filter(|f| f.rack.is_none()).collect();
    if cluster.is_empty() {
        out.push_str("No colocation window occurrence overlaps the range.\n\n");
        return;
    }
    for f in cluster {
        let partial = if f.complete {
            String::new()
        } else if f.coverage < 1.0 - 1e-9 {
            format!(" (partial: data covers {} of it; not final)", pct(f.coverage))
        } else {
            " (partial: cut short by the range or the data; not final)".to_string()
        };
        let spill = if f.spill_core_hours.is_finite() && f.spill_core_hours < 0.05 {
            format!("no offline work spilled past {}", f.window.end.format("%H:%M"))
        } else {
            format!(
                "{} core-hours of offline work spilled past {}",
                number(f.spill_core_hours, 1),
                f.window.end.format("%H:%M")
            )
        };
        let reclaimed = match (f.reclaimed_core_hours, f.reclaimed_unused_core_hours) {
            (Some(all), Some(unused)) => format!(
                "; of {} core-hours of reclaimed capacity, offline work left {} unused",
                number(all, 1),
                number(unused, 1)
            ),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "- {} on {}{partial}: {} utilised, {} of it offline work; {} core-hours left idle; {spill}{reclaimed}.",
            f.window.label(),
            day(r, f.start),
            pct(f.avg_util),
            pct(f.offline_share),
            number(f.idle_core_hours, 1),
        );
    }
    out.push('\n');
}

fn fills_table(out: &mut String, r: &CapacityReport, racks: bool) {
    let rows: Vec<&WindowFill> = r.fills.iter().filter(|f| f.rack.is_some() == racks).collect();
    if racks {
        out.push_str("## Per rack\n\n");
        if rows.is_empty() {
            out.push_str("No per-rack figures (no rack label, or no data).\n\n");
            return;
        }
        out.push_str(
            "| Rack | Window | Date | Avg util | Offline share | Idle core-h | Spill core-h | Capacity core-h | Coverage | Complete |\n",
        );
        out.push_str("|---|---|---|--:|--:|--:|--:|--:|--:|---|\n");
    } else {
        out.push_str("## Cluster\n\n");
        if rows.is_empty() {
            out.push_str("No window occurrence in the range.\n\n");
            return;
        }
        out.push_str(
            "| Window | Date | Avg util | Offline share | Idle core-h | Spill core-h | Capacity core-h | Coverage | Complete |\n",
        );
        out.push_str("|---|---|--:|--:|--:|--:|--:|--:|---|\n");
    }
    for f in rows {
        if let Some(rack) = &f.rack {
            let _ = write!(out, "| {} ", cell(rack));
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            f.window.label(),
            day(r, f.start),
            pct(f.avg_util),
            pct(f.offline_share),
            number(f.idle_core_hours, 1),
            number(f.spill_core_hours, 1),
            number(f.capacity_core_hours, 1),
            pct(f.coverage),
            if f.complete { "yes" } else { "partial" }
        );
    }
    out.push('\n');
}

fn changes(out: &mut String, r: &CapacityReport) {
    if r.capacity_changes.is_empty() {
        return;
    }
    out.push_str("## Capacity changes\n\n");
    let fmt = |t: DateTime<Utc>| t.with_timezone(&r.tz).format("%a %-d %b %H:%M").to_string();
    for c in &r.capacity_changes {
        let mut what = Vec::new();
        for (word, nodes) in [
            ("joined", &c.joined),
            ("left", &c.left),
            ("cordoned", &c.cordoned),
            ("uncordoned", &c.uncordoned),
        ] {
            if !nodes.is_empty() {
                let names: Vec<String> = nodes.iter().map(|n| text(n)).collect();
                what.push(format!("{word}: {}", names.join(", ")));
            }
        }
        let cores = if c.cores_before == c.cores_after || !c.cores_before.is_finite() {
            format!("{} cores", number(c.cores_after, 0))
        } else {
            format!("{} -> {} cores", number(c.cores_before, 0), number(c.cores_after, 0))
        };
        let what = if what.is_empty() { String::new() } else { format!(" ({})", what.join("; ")) };
        let _ = writeln!(out, "- {}: {cores}{what}", fmt(c.at));
    }
    out.push('\n');
}

fn under_filled(out: &mut String, r: &CapacityReport) {
    out.push_str("## Top under-filled nodes\n\n");
    if r.under_filled.is_empty() {
        out.push_str("None (no complete window occurrence with node data).\n\n");
        return;
    }
    out.push_str("| Node | Rack | Window | Date | Avg util | Idle core-h |\n|---|---|---|---|--:|--:|\n");
    for n in &r.under_filled {
        let NodeFill { node, rack, window, start, avg_util, idle_core_hours, .. } = n;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            cell(node),
            rack.as_deref().map_or_else(|| "-".to_string(), cell),
            window.label(),
            day(r, *start),
            pct(*avg_util),
            number(*idle_core_hours, 1)
        );
    }
    out.push('\n');
}

fn workloads(out: &mut String, r: &CapacityReport) {
    out.push_str("## Top offline workloads\n\n");
    if r.top_workloads.is_empty() {
        out.push_str("None (no complete window occurrence with offline pods' CPU).\n\n");
        return;
    }
    out.push_str("| Window | Date | Namespace | Owner | Core-h |\n|---|---|---|---|--:|\n");
    for w in &r.top_workloads {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            w.window.label(),
            day(r, w.start),
            cell(&w.namespace),
            cell(&format!("{}/{}", w.kind, w.name)),
            number(w.core_hours, 1)
        );
    }
    out.push('\n');
}

fn unused_reclaimed(out: &mut String, r: &CapacityReport) {
    out.push_str("## Reclaimed capacity left unused\n\n");
    if r.unused_reclaimed.is_empty() {
        out.push_str("None (no node left reclaimed capacity unused, or no reclaimed capacity known: see the notes).\n\n");
        return;
    }
    out.push_str(
        "| Node | Rack | Window | Date | Reclaimed core-h | Unused core-h | Unused |\n|---|---|---|---|--:|--:|--:|\n",
    );
    for n in &r.unused_reclaimed {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(&n.node),
            n.rack.as_deref().map_or_else(|| "-".to_string(), cell),
            n.window.label(),
            day(r, n.start),
            number(n.reclaimed_core_hours, 1),
            number(n.unused_core_hours, 1),
            pct(n.unused_core_hours / n.reclaimed_core_hours)
        );
    }
    out.push('\n');
}

/// `Tue 24 Nov`, the local date an occurrence starts on.
fn day(r: &CapacityReport, t: DateTime<Utc>) -> String {
    t.with_timezone(&r.tz).format("%a %-d %b").to_string()
}

/// A ratio as a whole percentage (`78 %`, `<1 %`), rounded as everywhere (`viewmodel::pct`);
/// `n/a` when not finite.
pub(super) fn pct(ratio: f64) -> String {
    if !ratio.is_finite() {
        return "n/a".into();
    }
    format!("{} %", crate::viewmodel::percent::share(ratio).number())
}

/// A number with `decimals` places; `n/a` when not finite, never `-0`.
pub(super) fn number(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    let s = format!("{x:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') { s[1..].to_string() } else { s }
}

/// Free text on one line (notes, source).
fn text(s: &str) -> String {
    s.split(['\n', '\r']).filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join(" ")
}

/// Free text in a table cell: one line, `|` escaped.
fn cell(s: &str) -> String {
    text(s).replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::report::fixture;

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&fixture()));
    }

    #[test]
    fn numbers_never_print_nan_inf_or_negative_zero() {
        assert_eq!(pct(f64::NAN), "n/a");
        assert_eq!(pct(f64::INFINITY), "n/a");
        assert_eq!(pct(0.784), "78 %");
        assert_eq!(number(-0.01, 1), "0.0");
        assert_eq!(number(-0.4, 0), "0");
        assert_eq!(number(-1.5, 1), "-1.5");
        assert_eq!(number(f64::NEG_INFINITY, 1), "n/a");
        let mut r = fixture();
        for f in &mut r.fills {
            f.avg_util = f64::NAN;
            f.offline_share = f64::INFINITY;
            f.idle_core_hours = f64::NEG_INFINITY;
            f.spill_core_hours = f64::NAN;
        }
        r.capacity_cores = f64::NAN;
        r.series.clear(); // names like kube_node_info hold "inf"
        let md = render(&r).to_lowercase();
        assert!(!md.contains("nan") && !md.contains("inf"), "{md}");
    }

    #[test]
    fn empty_report_still_reads() {
        let mut r = fixture();
        r.fills.clear();
        r.under_filled.clear();
        r.curve.points.clear();
        r.notes.clear();
        r.windows.clear();
        let md = render(&r);
        assert!(md.contains("No colocation window occurrence overlaps the range."));
        assert!(md.contains("No per-rack figures"));
        assert!(md.contains("None (no complete window occurrence"));
        assert!(md.contains("(no CPU data in the range: no chart)"));
        assert!(!md.contains("## Notes"));
    }

    #[test]
    fn partial_and_hostile_text() {
        let mut r = fixture();
        r.fills[0].complete = false;
        r.fills[1].rack = Some("a|b\nc".into());
        r.notes.push("two\nlines".into());
        let md = render(&r);
        assert!(md.contains("21:00-00:30 on Mon 23 Nov (partial: "), "{md}");
        assert!(md.contains("| a\\|b c |"), "{md}");
        assert!(md.contains("- two lines\n"), "{md}");
    }
}
