//! Host rules: file-descriptor exhaustion.

use super::pct;
use crate::model::{Finding, Rule, Severity, Snapshot};

/// Share of `fs.file-max` allocated at which a node gets a warning.
pub const FD_WARN: f64 = 0.80;
/// Share of `fs.file-max` allocated at which a node gets a critical finding.
pub const FD_CRIT: f64 = 0.95;

pub fn check(snap: &Snapshot, out: &mut Vec<Finding>) {
    for n in &snap.nodes {
        let Some((alloc, max)) = n.host.as_ref().and_then(|h| h.value.file_nr) else { continue };
        if max == 0 {
            continue;
        }
        let share = alloc as f64 / max as f64;
        let (severity, threshold) = if share >= FD_CRIT {
            (Severity::Critical, FD_CRIT)
        } else if share >= FD_WARN {
            (Severity::Warning, FD_WARN)
        } else {
            continue;
        };
        out.push(Finding {
            rule: Rule::FdExhaustion,
            severity,
            subject: n.name.clone(),
            since: None,
            what: format!(
                "{} of the node's file handles in use: opens start failing with ENFILE when full",
                pct(share)
            ),
            evidence: vec![
                format!("/proc/sys/fs/file-nr: {alloc} allocated of fs.file-max {max}"),
                format!("threshold {}", pct(threshold)),
            ],
            remedy: "Find the holder (`for p in /proc/[0-9]*; do echo $(ls $p/fd 2>/dev/null | wc -l) $p; \
                     done | sort -rn | head`, or lsof); fix a leak, or raise fs.file-max if the load is \
                     legitimate."
                .into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::HostFacts;
    use crate::testkit::*;

    fn run(file_nr: Option<(u64, u64)>) -> Vec<(Rule, Severity)> {
        let n = with_host(node("n1"), HostFacts { file_nr, ..HostFacts::default() });
        let mut out = Vec::new();
        check(&snapshot(vec![n]), &mut out);
        out.iter().map(|f| (f.rule, f.severity)).collect()
    }

    #[test]
    fn boundaries() {
        assert!(run(Some((79, 100))).is_empty());
        assert_eq!(run(Some((80, 100))), vec![(Rule::FdExhaustion, Severity::Warning)]);
        assert_eq!(run(Some((94, 100))), vec![(Rule::FdExhaustion, Severity::Warning)]);
        assert_eq!(run(Some((95, 100))), vec![(Rule::FdExhaustion, Severity::Critical)]);
        assert!(run(Some((5, 0))).is_empty());
        assert!(run(None).is_empty());
    }
}
