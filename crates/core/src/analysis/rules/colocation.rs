//! Colocation-window rules: under-filled windows and offline work spilling into the day.
//!
//! Only the most recent complete occurrence of each window, per subject (the cluster or a rack),
//! can produce a finding; older days only add the "N of the last 7 days" count and `since`.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveTime};

use super::pct;
use crate::model::{Finding, Rule, Severity, Snapshot, WindowFill};

/// Average utilisation inside a window below which the cluster's window is under-filled.
pub const UNDERFILL_UTIL: f64 = 0.60;
/// Spill (core-hours after the window) above this share of the window's capacity core-hours.
pub const SPILL_SHARE: f64 = 0.02;
/// How far back the "affected days" count looks.
pub const LOOKBACK_DAYS: i64 = 7;

/// The subject name used for the whole cluster.
pub const CLUSTER: &str = "cluster";

type Key<'a> = (NaiveTime, NaiveTime, Option<&'a str>);

pub fn check(snap: &Snapshot, out: &mut Vec<Finding>) {
    let mut groups: BTreeMap<Key, Vec<&WindowFill>> = BTreeMap::new();
    for f in snap.fills.iter().filter(|f| f.complete) {
        groups.entry((f.window.start, f.window.end, f.rack.as_deref())).or_default().push(f);
    }
    for fills in groups.values_mut() {
        fills.sort_by_key(|f| f.start);
        if fills.first().is_some_and(|f| f.rack.is_none()) {
            judge(snap, fills, Rule::WindowUnderfill, |f| f.avg_util < UNDERFILL_UTIL, out);
        }
        judge(
            snap,
            fills,
            Rule::WindowSpill,
            |f| spill_limit(f).is_some_and(|l| f.spill_core_hours > l),
            out,
        );
    }
}

/// Spill above which a finding is raised: `SPILL_SHARE` of the window's capacity core-hours
/// (integrated over the window, so nodes that joined or left count for the time they were there).
fn spill_limit(f: &WindowFill) -> Option<f64> {
    (f.capacity_core_hours > 0.0).then_some(f.capacity_core_hours * SPILL_SHARE)
}

/// `fills` are one subject's complete occurrences of one window, oldest first.
fn judge(
    snap: &Snapshot,
    fills: &[&WindowFill],
    rule: Rule,
    bad: impl Fn(&WindowFill) -> bool,
    out: &mut Vec<Finding>,
) {
    let Some(latest) = fills.last().filter(|f| bad(f)) else { return };
    let cutoff = snap.now - Duration::days(LOOKBACK_DAYS);
    let days = fills.iter().filter(|f| f.start >= cutoff && bad(f)).count();
    let run_start = fills.iter().rev().take_while(|f| bad(f)).last().map_or(latest.start, |f| f.start);
    let subject = latest.rack.clone().unwrap_or_else(|| CLUSTER.to_string());
    let local =
        |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&snap.tz).format("%Y-%m-%d %H:%M %Z").to_string();
    let label = latest.window.label();
    let mut evidence = vec![format!("occurrence {} to {}", local(latest.start), local(latest.end))];
    let days_line = format!("{} on {days} of the last {LOOKBACK_DAYS} days", rule_word(rule));
    let (what, remedy) = if rule == Rule::WindowUnderfill {
        evidence.push(format!(
            "average utilisation {} (threshold {})",
            pct(latest.avg_util),
            pct(UNDERFILL_UTIL)
        ));
        evidence.push(format!("idle capacity {:.1} core-hours", latest.idle_core_hours));
        evidence.push(format!("offline share of the usage {}", pct(latest.offline_share)));
        (
            format!(
                "window {label} under-filled: {} average utilisation, {:.0} core-hours idle",
                pct(latest.avg_util),
                latest.idle_core_hours
            ),
            "Offline work could use this capacity: raise the batch queue's concurrency or offline quota for \
             the window (colocation profile, batch priority class), or move transcoding/batch jobs to start \
             at the window's opening.",
        )
    } else {
        let cap_ch = latest.capacity_core_hours;
        let share = if cap_ch > 0.0 { latest.spill_core_hours / cap_ch } else { 0.0 };
        evidence.push(format!(
            "offline work above the pre-window baseline in the 4 h after {}: {:.1} core-hours",
            latest.end.with_timezone(&snap.tz).format("%H:%M"),
            latest.spill_core_hours
        ));
        evidence.push(format!(
            "{} of the window's {:.0} capacity core-hours (threshold {})",
            pct(share),
            cap_ch,
            pct(SPILL_SHARE)
        ));
        (
            format!(
                "offline work spilled past window {label}: {:.1} core-hours into the day",
                latest.spill_core_hours
            ),
            "Offline jobs outran the window and compete with online traffic: make the batch scheduler stop or \
             evict offline work at the window's close, cap offline quota on this subject, or start the jobs \
             earlier / split them smaller.",
        )
    };
    evidence.push(days_line);
    out.push(Finding {
        rule,
        severity: Severity::Warning,
        subject,
        since: Some(run_start),
        what,
        evidence,
        remedy: remedy.into(),
    });
}

fn rule_word(rule: Rule) -> &'static str {
    if rule == Rule::WindowUnderfill { "under-filled" } else { "spilled" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Window;
    use crate::testkit::*;

    fn fill(day: i64, rack: Option<&str>, util: f64, spill: f64) -> WindowFill {
        let start = now() - Duration::days(day) - Duration::hours(11);
        // Cluster 100 cores, rack r1 50 cores: 5 h windows => 500 / 250 core-hours, 2 % = 10 / 5;
        // r2 has no capacity: it cannot be judged.
        let capacity_core_hours = match rack {
            None => 500.0,
            Some("r1") => 250.0,
            _ => 0.0,
        };
        WindowFill {
            window: Window::parse("01:00-06:00").expect("window"),
            start,
            end: start + Duration::hours(5),
            rack: rack.map(str::to_string),
            avg_util: util,
            offline_share: 0.5,
            idle_core_hours: (1.0 - util) * 500.0,
            spill_core_hours: spill,
            capacity_core_hours,
            reclaimed_core_hours: None,
            reclaimed_unused_core_hours: None,
            reclaimed_unknown: None,
            coverage: 1.0,
            complete: true,
        }
    }
    fn run(fills: Vec<WindowFill>) -> Vec<Finding> {
        let mut snap = snapshot(vec![]);
        snap.fills = fills;
        let mut out = Vec::new();
        check(&snap, &mut out);
        out
    }

    #[test]
    fn underfill_boundary_and_latest_only() {
        assert!(run(vec![fill(0, None, 0.60, 0.0)]).is_empty());
        let f = run(vec![fill(0, None, 0.59, 0.0)]);
        assert_eq!((f[0].rule, f[0].subject.as_str()), (Rule::WindowUnderfill, "cluster"));
        assert!(f[0].what.contains("59.0 %"));
        // History under-filled, the latest day fine: nothing.
        assert!(
            run(vec![fill(2, None, 0.3, 0.0), fill(1, None, 0.3, 0.0), fill(0, None, 0.7, 0.0)]).is_empty()
        );
        // Racks are not judged for under-fill.
        assert!(run(vec![fill(0, Some("r1"), 0.1, 0.0)]).is_empty());
    }

    #[test]
    fn underfill_counts_days_and_since() {
        let days = vec![
            fill(9, None, 0.2, 0.0),
            fill(4, None, 0.2, 0.0),
            fill(3, None, 0.9, 0.0),
            fill(2, None, 0.2, 0.0),
            fill(1, None, 0.2, 0.0),
            fill(0, None, 0.2, 0.0),
        ];
        let since = days[3].start;
        let mut incomplete = fill(-1, None, 0.9, 0.0);
        incomplete.complete = false;
        let mut all = days;
        all.push(incomplete);
        let f = run(all);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].since, Some(since));
        assert_eq!(f[0].evidence.last().map(String::as_str), Some("under-filled on 4 of the last 7 days"));
    }

    #[test]
    fn spill_threshold_per_subject() {
        assert!(run(vec![fill(0, None, 0.9, 10.0)]).is_empty());
        let f = run(vec![
            fill(0, None, 0.9, 10.5),
            fill(0, Some("r1"), 0.9, 5.5),
            fill(0, Some("r2"), 0.9, 99.0),
        ]);
        let subjects: Vec<(Rule, &str)> = f.iter().map(|f| (f.rule, f.subject.as_str())).collect();
        // r2 has no capacity core-hours: it cannot be judged.
        assert_eq!(subjects, vec![(Rule::WindowSpill, "cluster"), (Rule::WindowSpill, "r1")]);
        assert!(
            f[1].evidence[2].starts_with("2.2 % of the window's 250 capacity core-hours"),
            "{:?}",
            f[1].evidence
        );
        assert!(run(vec![fill(0, Some("r1"), 0.9, 5.0)]).is_empty());
    }
}
