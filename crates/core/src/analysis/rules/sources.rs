//! Source rules: stale, forbidden and unreachable data sources (`NotInstalled` is not a
//! problem), and nodes a source reports that the API does not list.

use super::span;
use crate::model::{Finding, Rule, Severity, Snapshot, SourceHealth, SourceId, SourceStatus};

pub fn check(snap: &Snapshot, out: &mut Vec<Finding>) {
    for s in &snap.sources {
        if let Some(f) = judge(snap, s) {
            out.push(f);
        }
    }
    for n in &snap.foreign_nodes {
        let by: Vec<&str> = n.sources.iter().map(|s| s.label()).collect();
        let by = if by.is_empty() { "a source".to_string() } else { by.join(" and ") };
        out.push(Finding {
            rule: Rule::ForeignNode,
            severity: Severity::Warning,
            subject: n.name.clone(),
            since: None,
            what: format!("{by} report node {}, which the API does not list", n.name),
            evidence: vec![format!("facts about {} from {by}; no Node object of that name", n.name)],
            remedy: "A node deleted from the cluster but still running (its agent or exporter still \
                     answers), an agent whose --node-name or NODE_NAME is wrong, or a metrics label that \
                     is not the node's name: check `kubectl get node NAME` and the agent's node name."
                .into(),
        });
    }
}

fn last_update(snap: &Snapshot, s: &SourceStatus) -> String {
    match s.updated {
        Some(t) => format!("last delivery {} ago ({})", span(snap.now - t), t.format("%Y-%m-%d %H:%M:%SZ")),
        None => "no delivery yet".into(),
    }
}

fn judge(snap: &Snapshot, s: &SourceStatus) -> Option<Finding> {
    let name = s.label();
    if s.source == SourceId::Recorder {
        return recorder(s);
    }
    let (rule, severity, since, what, evidence, remedy) = match &s.health {
        SourceHealth::Ok | SourceHealth::NotInstalled => return None,
        SourceHealth::Stale { since } => (
            Rule::SourceStale,
            Severity::Warning,
            Some(*since),
            format!("{name} data is stale: no update for {}", span(snap.now - *since)),
            vec![last_update(snap, s)],
            format!(
                "Everything from {name} is shown with its age. Check the source's connectivity and \
                 load (API server / Prometheus latency, agent pods); clustertop keeps retrying with backoff."
            ),
        ),
        SourceHealth::Forbidden { verb, resource } => (
            Rule::SourceForbidden,
            Severity::Warning,
            None,
            format!("{name}: not allowed to {verb} {resource}; views that need it are incomplete"),
            vec![format!("forbidden: {verb} {resource}"), last_update(snap, s)],
            format!(
                "Grant get/list/watch on {resource} to the identity clustertop runs as (the read-only \
                 ClusterRole in deploy/rbac.yaml); everything else keeps working meanwhile."
            ),
        ),
        SourceHealth::Unreachable { error } => (
            Rule::SourceUnreachable,
            Severity::Critical,
            None,
            format!("{name} is unreachable: {error}"),
            vec![format!("error: {error}"), last_update(snap, s)],
            format!(
                "Check the {name} endpoint and credentials (kube context / --prometheus URL / agent \
                 DaemonSet), DNS and network path from this host; data from {name} is missing until it \
                 answers."
            ),
        ),
        SourceHealth::NoData { reason } => (
            Rule::SourceNoData,
            Severity::Info,
            None,
            format!("{name}: no data ({reason})"),
            vec![format!("reason: {reason}"), last_update(snap, s)],
            "The backend answers but exports nothing for this: check that the exporter runs and is \
             scraped, or point the query at your metric names in the config's [queries] section."
                .to_string(),
        ),
    };
    Some(Finding { rule, severity, subject: name.to_string(), since, what, evidence, remedy })
}

/// The flight recorder is not a data source: when it fails, recording stops and the dashboard
/// goes on without it.
fn recorder(s: &SourceStatus) -> Option<Finding> {
    let SourceHealth::Unreachable { error } = &s.health else { return None };
    Some(Finding {
        rule: Rule::SourceUnreachable,
        severity: Severity::Warning,
        subject: s.label(),
        since: None,
        what: format!("recording stopped: {error}"),
        evidence: vec![format!("error: {error}")],
        remedy: "The dashboard goes on without recording; what was recorded so far stays readable. \
                 Free space where the recording is (see the error), or run with --no-record or \
                 `record = false` in the config file."
            .into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceId;
    use crate::testkit::*;
    use chrono::Duration;

    fn run(h: SourceHealth) -> Vec<Finding> {
        let mut snap = snapshot(vec![]);
        snap.sources.push(source(SourceId::Kubernetes, h));
        let mut out = Vec::new();
        check(&snap, &mut out);
        out
    }

    #[test]
    fn health_to_findings() {
        assert!(run(SourceHealth::Ok).is_empty());
        assert!(run(SourceHealth::NotInstalled).is_empty());
        let since = now() - Duration::minutes(5);
        let f = run(SourceHealth::Stale { since });
        assert_eq!(
            (f[0].rule, f[0].severity, f[0].since),
            (Rule::SourceStale, Severity::Warning, Some(since))
        );
        assert!(f[0].what.contains("5m"));
        let f = run(SourceHealth::Forbidden { verb: "list".into(), resource: "ciliumbgpnodeconfigs".into() });
        assert_eq!((f[0].rule, f[0].severity), (Rule::SourceForbidden, Severity::Warning));
        assert!(f[0].remedy.contains("get/list/watch on ciliumbgpnodeconfigs"));
        assert!(f[0].remedy.contains("deploy/rbac.yaml"));
        let f = run(SourceHealth::Unreachable { error: "connection refused".into() });
        assert_eq!(
            (f[0].rule, f[0].severity, f[0].subject.as_str()),
            (Rule::SourceUnreachable, Severity::Critical, "kube")
        );
        assert!(f[0].what.contains("connection refused"));
    }

    #[test]
    fn a_stopped_recorder_is_a_warning_that_says_so() {
        let mut snap = snapshot(vec![]);
        let error = "disk full".to_string();
        snap.sources.push(source(SourceId::Recorder, SourceHealth::Unreachable { error }));
        let mut out = Vec::new();
        check(&snap, &mut out);
        assert_eq!(
            (out[0].severity, out[0].what.as_str()),
            (Severity::Warning, "recording stopped: disk full")
        );
    }
}
