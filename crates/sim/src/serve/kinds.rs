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
pub(crate) const BGP_PEER_CONFIGS: usize = 5;
pub(crate) const BGP_ADVERTISEMENTS: usize = 6;
pub(crate) const EVENTS: usize = 18;

/// Every kind `sim serve` can serve: the simulated cluster's (the first seven and events), and the others a
/// directory of objects (`--objects`) may hold, in the group versions upstream serves them.
pub(crate) const KINDS: [Kind; 19] = [
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
    Kind {
        plural: "ciliumbgppeerconfigs",
        singular: "ciliumbgppeerconfig",
        kind: "CiliumBGPPeerConfig",
        group: "cilium.io",
        version: "v2",
        namespaced: false,
        short: &[],
    },
    Kind {
        plural: "ciliumbgpadvertisements",
        singular: "ciliumbgpadvertisement",
        kind: "CiliumBGPAdvertisement",
        group: "cilium.io",
        version: "v2",
        namespaced: false,
        short: &[],
    },
    Kind {
        plural: "ciliumbgpclusterconfigs",
        singular: "ciliumbgpclusterconfig",
        kind: "CiliumBGPClusterConfig",
        group: "cilium.io",
        version: "v2",
        namespaced: false,
        short: &["cbgpcluster"],
    },
    Kind {
        plural: "ciliumbgpnodeconfigs",
        singular: "ciliumbgpnodeconfig",
        kind: "CiliumBGPNodeConfig",
        group: "cilium.io",
        version: "v2alpha1",
        namespaced: false,
        short: &["cbgpnode"],
    },
    Kind {
        plural: "ciliumbgppeerconfigs",
        singular: "ciliumbgppeerconfig",
        kind: "CiliumBGPPeerConfig",
        group: "cilium.io",
        version: "v2alpha1",
        namespaced: false,
        short: &[],
    },
    Kind {
        plural: "ciliumbgpadvertisements",
        singular: "ciliumbgpadvertisement",
        kind: "CiliumBGPAdvertisement",
        group: "cilium.io",
        version: "v2alpha1",
        namespaced: false,
        short: &[],
    },
    Kind {
        plural: "ciliumbgpclusterconfigs",
        singular: "ciliumbgpclusterconfig",
        kind: "CiliumBGPClusterConfig",
        group: "cilium.io",
        version: "v2alpha1",
        namespaced: false,
        short: &["cbgpcluster"],
    },
    Kind {
        plural: "ciliumbgppeeringpolicies",
        singular: "ciliumbgppeeringpolicy",
        kind: "CiliumBGPPeeringPolicy",
        group: "cilium.io",
        version: "v2alpha1",
        namespaced: false,
        short: &["bgpp"],
    },
    Kind {
        plural: "caliconodestatuses",
        singular: "caliconodestatus",
        kind: "CalicoNodeStatus",
        group: "projectcalico.org",
        version: "v3",
        namespaced: false,
        short: &["caliconodestatus"],
    },
    Kind {
        plural: "caliconodestatuses",
        singular: "caliconodestatus",
        kind: "CalicoNodeStatus",
        group: "crd.projectcalico.org",
        version: "v1",
        namespaced: false,
        short: &[],
    },
    Kind {
        plural: "nodemetrics",
        singular: "nodemetric",
        kind: "NodeMetric",
        group: "slo.koordinator.sh",
        version: "v1alpha1",
        namespaced: false,
        short: &[],
    },
    Kind {
        plural: "priorityclasses",
        singular: "priorityclass",
        kind: "PriorityClass",
        group: "scheduling.k8s.io",
        version: "v1",
        namespaced: false,
        short: &["pc"],
    },
    Kind {
        plural: "configmaps",
        singular: "configmap",
        kind: "ConfigMap",
        group: "",
        version: "v1",
        namespaced: true,
        short: &["cm"],
    },
    Kind {
        plural: "events",
        singular: "event",
        kind: "Event",
        group: "",
        version: "v1",
        namespaced: true,
        short: &["ev"],
    },
];

/// The kinds the simulated cluster serves.
pub(crate) const SIMULATED: [usize; 8] = [
    NODES,
    PODS,
    RUNTIME_CLASSES,
    CILIUM_NODES,
    BGP_NODE_CONFIGS,
    BGP_PEER_CONFIGS,
    BGP_ADVERTISEMENTS,
    EVENTS,
];

/// The kinds every server serves, with or without objects.
pub(crate) const CORE: [usize; 3] = [NODES, PODS, RUNTIME_CLASSES];

/// The kind of an object, by its `apiVersion` and `kind`.
pub(crate) fn of_object(api_version: &str, kind: &str) -> Option<usize> {
    KINDS.iter().position(|k| k.api_version() == api_version && k.kind == kind)
}

/// The groups besides core that `served` kinds are in, each with its versions (preferred first,
/// as listed in `KINDS`).
fn groups(served: &[usize]) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
    for k in served.iter().map(|&i| &KINDS[i]).filter(|k| !k.group.is_empty()) {
        match out.iter_mut().find(|(g, _)| *g == k.group) {
            Some((_, vs)) if !vs.contains(&k.version) => vs.push(k.version),
            Some(_) => {}
            None => out.push((k.group, vec![k.version])),
        }
    }
    out
}

/// The served kind at `group`/`version` under `plural`.
pub(crate) fn find(served: &[usize], group: &str, version: &str, plural: &str) -> Option<usize> {
    served.iter().copied().find(|&i| {
        let k = &KINDS[i];
        k.group == group && k.version == version && k.plural == plural
    })
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

fn group_doc(group: &str, versions: &[&str]) -> Value {
    let gv = |v: &str| json!({"groupVersion": format!("{group}/{v}"), "version": v});
    let all: Vec<Value> = versions.iter().map(|v| gv(v)).collect();
    json!({"name": group, "versions": all, "preferredVersion": gv(versions.first().copied().unwrap_or("v1"))})
}

pub(crate) fn group_list(served: &[usize]) -> Value {
    let groups: Vec<Value> = groups(served).iter().map(|(g, v)| group_doc(g, v)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/{group}`.
pub(crate) fn group(served: &[usize], name: &str) -> Option<Value> {
    let (g, v) = groups(served).into_iter().find(|(g, _)| *g == name)?;
    let mut doc = group_doc(g, &v);
    if let Some(o) = doc.as_object_mut() {
        o.insert("kind".into(), "APIGroup".into());
        o.insert("apiVersion".into(), "v1".into());
    }
    Some(doc)
}

/// `/api/v1` or `/apis/{group}/{version}`; `None` when nothing is served there.
pub(crate) fn resource_list(served: &[usize], group: &str, version: &str) -> Option<Value> {
    let resources: Vec<Value> = served
        .iter()
        .map(|&i| &KINDS[i])
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
