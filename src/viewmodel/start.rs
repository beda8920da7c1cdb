//! Sandbox start figures as shown: a runtime's mean (marked `≈` when it is the whole-second
//! estimate from pod conditions), its p95, and the seed's reference for its kind.

use crate::analysis::rules::start::slow_here;
use crate::format::tenths;
use crate::model::start::reference_s;
use crate::model::{RuntimeKind, SandboxStart, Snapshot, StartSource};

/// One runtime's start time, as a cell.
#[derive(Debug, Clone, PartialEq)]
pub struct StartShown {
    /// `≈0.5s` (estimate), `0.5s` (the kubelet's), or `?`.
    pub mean: String,
    /// `p95 1.2s`, or empty.
    pub p95: String,
    /// Samples behind it (`n=705`), or empty.
    pub samples: String,
    /// Why it is unknown.
    pub unknown: Option<String>,
    /// The reference for the runtime's kind (`0.5s`, `1.0s`), or `-`.
    pub reference: String,
}

/// The `≈` that marks the whole-second estimate (`~` with `--ascii`).
pub fn estimate_mark(ascii: bool) -> &'static str {
    if ascii { "~" } else { "≈" }
}

pub fn shown_figure(f: &SandboxStart, kind: RuntimeKind, ascii: bool) -> StartShown {
    let mark = if f.source == StartSource::PodConditions { estimate_mark(ascii) } else { "" };
    StartShown {
        mean: f.mean_s.map_or("?".into(), |m| format!("{mark}{}", tenths(m))),
        p95: f.p95_s.map_or(String::new(), |p| format!("p95 {}", tenths(p))),
        samples: format!("n={}", f.samples),
        unknown: None,
        reference: reference(kind),
    }
}

fn reference(kind: RuntimeKind) -> String {
    reference_s(kind).map_or("-".into(), tenths)
}

/// The cluster figure of a runtime (`None`: the default runtime).
pub fn cluster(snap: &Snapshot, runtime: Option<&str>, kind: RuntimeKind, ascii: bool) -> StartShown {
    match snap.sandbox_starts.of(runtime) {
        Some(Ok(f)) => shown_figure(f, kind, ascii),
        other => StartShown {
            mean: "?".into(),
            p95: String::new(),
            samples: String::new(),
            unknown: Some(other.and_then(|r| r.clone().err()).unwrap_or_else(|| "not computed".into())),
            reference: reference(kind),
        },
    }
}

/// The runtime kind of a RuntimeClass name (`None`: the default runtime, runc).
pub fn kind_of(snap: &Snapshot, runtime: Option<&str>) -> RuntimeKind {
    match runtime {
        None => RuntimeKind::Runc,
        Some(c) => snap.runtime_classes.iter().find(|x| x.name == c).map_or(RuntimeKind::Other, |x| x.kind),
    }
}

/// What the estimate is, said once under the figures.
pub fn legend(ascii: bool) -> String {
    format!(
        "{} estimate: mean over pods of PodScheduled to PodReadyToStartContainers, whole seconds; \
         ref: runc ~0.5s, Kata ~1s (iQIYI)",
        estimate_mark(ascii)
    )
}

/// One runtime's start on a node, beside its cluster figure.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeStart {
    /// The RuntimeClass, or `(default)`.
    pub name: String,
    pub here: StartShown,
    pub cluster: StartShown,
    /// Far above the cluster figure (`analysis::rules::start::slow_here`).
    pub slow: bool,
}

/// Each runtime with sandbox starts on `node`.
pub fn on_node(snap: &Snapshot, node: &str, ascii: bool) -> Vec<NodeStart> {
    snap.sandbox_starts
        .on_node(node)
        .iter()
        .map(|(runtime, f)| {
            let kind = kind_of(snap, runtime.as_deref());
            let slow = matches!(snap.sandbox_starts.of(runtime.as_deref()), Some(Ok(c)) if slow_here(f, c));
            NodeStart {
                name: runtime.clone().unwrap_or_else(|| "(default)".into()),
                here: shown_figure(f, kind, ascii),
                cluster: cluster(snap, runtime.as_deref(), kind, ascii),
                slow,
            }
        })
        .collect()
}

/// The runtimes whose start is unknown, and why (the first one's reason): `runc: no sample ...`.
pub fn unknown_line(snap: &Snapshot) -> Option<String> {
    let unknown: Vec<(&str, &str)> = snap
        .sandbox_starts
        .cluster
        .iter()
        .filter_map(|(k, r)| Some((k.as_deref().unwrap_or("(default)"), r.as_ref().err()?.as_str())))
        .collect();
    let (_, why) = unknown.first()?;
    let names: Vec<&str> = unknown.iter().map(|(n, _)| *n).collect();
    Some(format!("{}: {why}", names.join(", ")))
}
