//! The resource kinds `sim serve` answers for, and the discovery documents that describe them.

use serde_json::{Value, json};

/// One served resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Kind {
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    /// API group; empty for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub namespaced: bool,
    pub short: &'static [&'static str],
}

impl Kind {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
    /// `plural.group` as Kubernetes names a resource in messages (`pods`, `ciliumnodes.cilium.io`).
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

pub(crate) const NODES: usize = 0;
pub(crate) const PODS: usize = 1;
pub(crate) const RUNTIME_CLASSES: usize = 2;
pub(crate) const CILIUM_NODES: usize = 3;
pub(crate) const BGP_NODE_CONFIGS: usize = 4;

pub(crate) const KINDS: [Kind; 5] = [
    Kind {
        plural: "nodes",
        singular: "node",
        kind: "Node",
        group: "",
        version: "v1",
        namespaced: false,
        short: &["no"],
    },
    Kind {
        plural: "pods",
        singular: "pod",
        kind: "Pod",
        group: "",
        version: "v1",
        namespaced: true,
        short: &["po"],
    },
    Kind {
        plural: "runtimeclasses",
        singular: "runtimeclass",
        kind: "RuntimeClass",
        group: "node.k8s.io",
        version: "v1",
        namespaced: false,
        short: &[],
    },
    Kind {
        plural: "ciliumnodes",
        singular: "ciliumnode",
        kind: "CiliumNode",
        group: "cilium.io",
        version: "v2",
        namespaced: false,
        short: &["cn", "ciliumn"],
    },
    Kind {
        plural: "ciliumbgpnodeconfigs",
        singular: "ciliumbgpnodeconfig",
        kind: "CiliumBGPNodeConfig",
        group: "cilium.io",
        version: "v2",
        namespaced: false,
        short: &["cbgpnode"],
    },
];

/// The groups besides core, in discovery order: (group, version).
const GROUPS: [(&str, &str); 2] = [("node.k8s.io", "v1"), ("cilium.io", "v2")];

/// The kind served at `group`/`version` under `plural`.
pub(crate) fn find(group: &str, version: &str, plural: &str) -> Option<usize> {
    KINDS.iter().position(|k| k.group == group && k.version == version && k.plural == plural)
}

pub(crate) fn version() -> Value {
    json!({
        "major": "1", "minor": "32", "gitVersion": "v1.32.0-clustertop-sim", "gitCommit": "clustertop",
        "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23",
        "compiler": "gc", "platform": "linux/amd64"
    })
}

pub(crate) fn api_versions(addr: &str) -> Value {
    json!({
        "kind": "APIVersions", "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": addr}]
    })
}

fn group_doc(group: &str, version: &str) -> Value {
    let gv = json!({"groupVersion": format!("{group}/{version}"), "version": version});
    json!({"name": group, "versions": [gv.clone()], "preferredVersion": gv})
}

pub(crate) fn group_list() -> Value {
    let groups: Vec<Value> = GROUPS.iter().map(|(g, v)| group_doc(g, v)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/{group}`.
pub(crate) fn group(name: &str) -> Option<Value> {
    let (g, v) = GROUPS.iter().find(|(g, _)| *g == name)?;
    let mut doc = group_doc(g, v);
    if let Some(o) = doc.as_object_mut() {
        o.insert("kind".into(), "APIGroup".into());
        o.insert("apiVersion".into(), "v1".into());
    }
    Some(doc)
}

/// `/api/v1` or `/apis/{group}/{version}`; `None` when nothing is served there.
pub(crate) fn resource_list(group: &str, version: &str) -> Option<Value> {
    let resources: Vec<Value> = KINDS
        .iter()
        .filter(|k| k.group == group && k.version == version)
        .map(|k| {
            let mut r = json!({
                "name": k.plural, "singularName": k.singular, "namespaced": k.namespaced,
                "kind": k.kind, "verbs": ["get", "list", "watch"], "shortNames": k.short,
            });
            if k.group == "cilium.io"
                && let Some(o) = r.as_object_mut()
            {
                o.insert("categories".into(), json!(["cilium"]));
            }
            r
        })
        .collect();
    if resources.is_empty() {
        return None;
    }
    let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}))
}
