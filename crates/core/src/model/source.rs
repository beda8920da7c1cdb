//! Health of each data source, shown in the status bar and turned into findings.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Where data comes from. One variant per file in `src/sources/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceId {
    Simulator,
    Kubernetes,
    Prometheus,
    Agents,
    /// The flight recorder: healthy while silent; unreachable once recording stopped.
    Recorder,
}

impl SourceId {
    pub fn label(self) -> &'static str {
        match self {
            SourceId::Simulator => "sim",
            SourceId::Kubernetes => "kube",
            SourceId::Prometheus => "prometheus",
            SourceId::Agents => "agents",
            SourceId::Recorder => "recorder",
        }
    }
}

/// What we know about a source's ability to deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SourceHealth {
    Ok,
    /// Data is older than it should be; shown with its age.
    Stale {
        since: DateTime<Utc>,
    },
    /// The user may not `verb` the `resource`; everything else keeps working.
    Forbidden {
        verb: String,
        resource: String,
    },
    Unreachable {
        error: String,
    },
    /// The backend or kind does not exist here: not an error.
    NotInstalled,
    /// The source answers but has nothing for this scope (a metric nobody exports).
    NoData {
        reason: String,
    },
}

impl SourceHealth {
    pub fn is_ok(&self) -> bool {
        matches!(self, SourceHealth::Ok)
    }
    pub fn word(&self) -> &'static str {
        match self {
            SourceHealth::Ok => "ok",
            SourceHealth::Stale { .. } => "stale",
            SourceHealth::Forbidden { .. } => "forbidden",
            SourceHealth::Unreachable { .. } => "unreachable",
            SourceHealth::NotInstalled => "not installed",
            SourceHealth::NoData { .. } => "no data",
        }
    }
}

impl SourceStatus {
    /// `kube`, or `kube ciliumbgpnodeconfigs.cilium.io` for a scoped status.
    pub fn label(&self) -> String {
        if self.scope.is_empty() {
            self.source.label().to_string()
        } else {
            format!("{} {}", self.source.label(), self.scope)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceStatus {
    pub source: SourceId,
    /// What part of the source this is about: empty for the whole source, else e.g. the resource
    /// (`ciliumbgpnodeconfigs.cilium.io`) whose permission or installation differs.
    pub scope: String,
    pub health: SourceHealth,
    /// Last time the source delivered anything.
    pub updated: Option<DateTime<Utc>>,
    /// What the source found out about its backend (Prometheus: the label scheme and recording
    /// rules it detected), shown with its health.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
