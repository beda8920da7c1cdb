//! A slim Pod: only the fields clustertop reads are deserialised (never whole `k8s_openapi` Pods).

use std::borrow::Cow;
use std::collections::BTreeMap;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;

/// `metadata.{name,namespace,uid,labels,resourceVersion}`, `spec.{nodeName,runtimeClassName,
/// priorityClassName,hostNetwork,priority}`, `status.phase`, and for the sandbox compatibility
/// checks `spec.{hostPID,hostIPC,shareProcessNamespace,securityContext.sysctls}`, the emptyDir and
/// hostPath volumes, the containers' `/dev/shm` mounts and the init containers' added
/// capabilities. Unknown fields are skipped by serde.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(from = "RawPod")]
pub struct SlimPod {
    /// Holds only name, namespace, uid, labels and resourceVersion.
    pub metadata: ObjectMeta,
    pub spec: SlimSpec,
    pub status: SlimStatus,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SlimSpec {
    pub node_name: Option<String>,
    pub runtime_class_name: Option<String>,
    pub priority_class_name: Option<String>,
    pub host_network: Option<bool>,
    /// `spec.priority`, resolved by admission from the priority class (Koordinator's bands).
    pub priority: Option<i32>,
    #[serde(rename = "hostPID")]
    pub host_pid: Option<bool>,
    #[serde(rename = "hostIPC")]
    pub host_ipc: Option<bool>,
    pub share_process_namespace: Option<bool>,
    pub security_context: Option<SlimPodSecurity>,
    pub volumes: Vec<SlimVolume>,
    pub containers: Vec<SlimContainer>,
    pub init_containers: Vec<SlimContainer>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct SlimPodSecurity {
    pub sysctls: Vec<SlimName>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct SlimName {
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SlimVolume {
    pub name: String,
    pub empty_dir: Option<SlimEmptyDir>,
    pub host_path: Option<SlimHostPath>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SlimEmptyDir {
    pub medium: Option<String>,
    /// A quantity (`1Gi`).
    pub size_limit: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct SlimHostPath {
    pub path: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SlimContainer {
    pub name: String,
    pub volume_mounts: Vec<SlimMount>,
    pub security_context: Option<SlimSecurity>,
    /// Only the requests, and of them only the Koordinator batch resources are read.
    pub resources: SlimResources,
    /// `Always` on an init container makes it a sidecar (it runs beside the app containers).
    pub restart_policy: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct SlimResources {
    pub requests: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SlimMount {
    pub name: String,
    pub mount_path: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct SlimSecurity {
    pub capabilities: Option<SlimCaps>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct SlimCaps {
    pub add: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct SlimStatus {
    pub phase: Option<String>,
    /// Only the conditions the sandbox start estimate reads (`PodScheduled`,
    /// `PodReadyToStartContainers`, `Initialized`); the others are skipped as they are decoded.
    #[serde(deserialize_with = "start_conditions")]
    pub conditions: Vec<SlimCondition>,
}

/// A pod condition: its type, whether it is True, and its `lastTransitionTime` (RFC 3339, whole
/// seconds).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SlimCondition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    pub last_transition_time: Option<String>,
}

/// The condition types kept.
pub const START_CONDITIONS: [&str; 3] = ["PodScheduled", "PodReadyToStartContainers", "Initialized"];

fn start_conditions<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<SlimCondition>, D::Error> {
    let all: Option<Vec<SlimCondition>> = Deserialize::deserialize(d)?;
    Ok(all.unwrap_or_default().into_iter().filter(|c| START_CONDITIONS.contains(&c.type_.as_str())).collect())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RawMeta {
    name: Option<String>,
    namespace: Option<String>,
    uid: Option<String>,
    resource_version: Option<String>,
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct RawPod {
    #[serde(default)]
    metadata: RawMeta,
    #[serde(default)]
    spec: SlimSpec,
    #[serde(default)]
    status: SlimStatus,
}

impl From<RawPod> for SlimPod {
    fn from(r: RawPod) -> Self {
        let m = r.metadata;
        SlimPod {
            metadata: ObjectMeta {
                name: m.name,
                namespace: m.namespace,
                uid: m.uid,
                resource_version: m.resource_version,
                labels: m.labels,
                ..ObjectMeta::default()
            },
            spec: r.spec,
            status: r.status,
        }
    }
}

impl kube::Resource for SlimPod {
    type DynamicType = ();
    type Scope = NamespaceResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        "Pod".into()
    }
    fn group(_: &()) -> Cow<'_, str> {
        "".into()
    }
    fn version(_: &()) -> Cow<'_, str> {
        "v1".into()
    }
    fn plural(_: &()) -> Cow<'_, str> {
        "pods".into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}
