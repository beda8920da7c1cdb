//! Sandbox start rules: a runtime that starts sandboxes far slower on one node than across the
//! cluster, and sandbox creation errors the kubelet counted (`kubelet_run_podsandbox_errors_total`).

use crate::format::tenths;
use crate::model::start::RuntimeKey;
use crate::model::{Finding, Rule, RuntimeClass, SandboxStart, Severity, Snapshot, StartSource};

/// A node is slow for a runtime when its mean start time is more than this many times the
/// runtime's cluster mean...
pub const SLOW_FACTOR: f64 = 2.0;
/// ...and more than this many seconds above it (a 0.3 s runtime at 0.7 s is noise, not an
/// incident; Kata at 3 s where the cluster says 1 s is a node to look at)...
pub const SLOW_MARGIN_S: f64 = 1.0;
/// ...measured over at least this many sandboxes on that node (condition times have whole-second
/// resolution: fewer pods say nothing).
pub const MIN_NODE_SAMPLES: u64 = 5;

pub fn check(snap: &Snapshot, out: &mut Vec<Finding>) {
    let starts = &snap.sandbox_starts;
    for (node, figures) in &starts.nodes {
        for (runtime, f) in figures {
            let Some(Ok(cluster)) = starts.of(runtime.as_deref()) else { continue };
            slow(node, runtime, f, cluster, &snap.runtime_classes, out);
        }
    }
    let window = starts.window.as_deref().unwrap_or("?");
    for e in &starts.errors {
        let runtime = handler_name(&e.handler, &snap.runtime_classes);
        out.push(Finding {
            rule: Rule::SandboxCreateErrors,
            severity: Severity::Warning,
            subject: e.node.clone(),
            since: None,
            what: format!(
                "{} sandbox creation error(s) for {runtime} in the last {window}",
                e.errors.round()
            ),
            evidence: vec![format!(
                "kubelet_run_podsandbox_errors_total{{runtime_handler=\"{}\"}} rose by {:.0} in {window}",
                e.handler, e.errors
            )],
            remedy: "Read the node's events (FailedCreatePodSandBox) and the container runtime's log \
                     (containerd, the Kata shim, runsc) for why sandboxes fail to start"
                .into(),
        });
    }
}

/// How a runtime is named to the user: its RuntimeClass, or the default runtime.
pub fn runtime_name(runtime: &RuntimeKey) -> String {
    match runtime {
        Some(c) => format!("RuntimeClass {c}"),
        None => "the default runtime".into(),
    }
}

fn handler_name(handler: &str, classes: &[RuntimeClass]) -> String {
    let names: Vec<&str> = classes.iter().filter(|c| c.handler == handler).map(|c| c.name.as_str()).collect();
    match (handler, names.as_slice()) {
        ("", _) => "the default runtime".into(),
        (h, []) => format!("handler {h}"),
        (h, n) => format!("RuntimeClass {} (handler {h})", n.join(", ")),
    }
}

fn secs(s: f64) -> String {
    tenths(s)
}

/// A node's figure far above its runtime's cluster figure (see the constants above).
pub fn slow_here(f: &SandboxStart, cluster: &SandboxStart) -> bool {
    let (Some(m), Some(c)) = (f.mean_s, cluster.mean_s) else { return false };
    f.samples >= MIN_NODE_SAMPLES && m > SLOW_FACTOR * c && m - c > SLOW_MARGIN_S
}

fn slow(
    node: &str,
    runtime: &RuntimeKey,
    f: &SandboxStart,
    cluster: &SandboxStart,
    classes: &[RuntimeClass],
    out: &mut Vec<Finding>,
) {
    let (Some(m), Some(c)) = (f.mean_s, cluster.mean_s) else { return };
    if !slow_here(f, cluster) {
        return;
    }
    let how = match f.source {
        StartSource::Kubelet => "kubelet_run_podsandbox_duration_seconds",
        StartSource::PodConditions => "PodScheduled to PodReadyToStartContainers, whole seconds",
    };
    let name = runtime_name(runtime);
    let handler = runtime
        .as_deref()
        .and_then(|r| classes.iter().find(|c| c.name == r))
        .map_or("the default handler".to_string(), |c| format!("handler {}", c.handler));
    out.push(Finding {
        rule: Rule::SandboxStartSlow,
        severity: Severity::Warning,
        subject: node.to_string(),
        since: None,
        what: format!("{name} starts sandboxes in {} here, {} across the cluster", secs(m), secs(c)),
        evidence: vec![
            format!("mean over {} sandbox(es) on {node}: {} ({how})", f.samples, secs(m)),
            format!("cluster mean over {}: {}", cluster.samples, secs(c)),
            format!(
                "slow means above {SLOW_FACTOR}x the cluster's and more than {SLOW_MARGIN_S} s over it, \
                 from at least {MIN_NODE_SAMPLES} sandboxes"
            ),
        ],
        remedy: format!(
            "Look at what slows {handler} on this node: image and VM-image cache, CPU and I/O pressure, \
             the CNI's setup time, the runtime's log; drain it if new pods must start fast"
        ),
    });
}
