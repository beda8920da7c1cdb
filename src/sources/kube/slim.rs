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
    /// Only the mounts at `/dev/shm` (the others are skipped as they are decoded).
    #[serde(deserialize_with = "shm_mounts")]
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
    /// Only Koordinator's batch resources (`kubernetes.io/batch-*`); the others are skipped as
    /// they are decoded.
    #[serde(deserialize_with = "batch_requests")]
    pub requests: BTreeMap<String, String>,
}

/// A string from the input, borrowed where it has no escapes: read to be compared, and copied
/// only when kept.
struct Text<'de>(Cow<'de, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// The batch resources of a `requests` map (`null` is none).
fn batch_requests<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = BTreeMap<String, String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a map of resource quantities")
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(Text(k)) = m.next_key::<Text<'de>>()? {
                if k.starts_with(BATCH_PREFIX) {
                    let Text(v) = m.next_value::<Text<'de>>()?;
                    out.insert(k.into_owned(), v.into_owned());
                } else {
                    m.next_value::<serde::de::IgnoredAny>()?;
                }
            }
            Ok(out)
        }
    }
    d.deserialize_option(V)
}

/// A volume mount as read, its strings borrowed until it is kept.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMount<'a> {
    #[serde(borrow)]
    name: Option<Text<'a>>,
    #[serde(borrow)]
    mount_path: Option<Text<'a>>,
}

/// The path of the pod's shared memory: the one mount the sandbox checks read.
pub const DEV_SHM: &str = "/dev/shm";

fn shm_mounts<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<SlimMount>, D::Error> {
    let all: Option<Vec<RawMount<'de>>> = Deserialize::deserialize(d)?;
    Ok(all
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| {
            let Text(path) = m.mount_path?;
            (path.trim_end_matches('/') == DEV_SHM).then(|| SlimMount {
                name: m.name.map(|Text(n)| n.into_owned()).unwrap_or_default(),
                mount_path: path.into_owned(),
            })
        })
        .collect())
}

/// Koordinator's batch resources (`kubernetes.io/batch-cpu`, `kubernetes.io/batch-memory`).
pub const BATCH_PREFIX: &str = "kubernetes.io/batch-";

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

/// A condition as read: its strings borrowed from the input until it is kept.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCondition<'a> {
    #[serde(rename = "type", borrow)]
    type_: Option<Text<'a>>,
    #[serde(borrow)]
    status: Option<Text<'a>>,
    #[serde(borrow)]
    last_transition_time: Option<Text<'a>>,
}

fn start_conditions<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<SlimCondition>, D::Error> {
    let all: Option<Vec<RawCondition<'de>>> = Deserialize::deserialize(d)?;
    let owned = |t: Option<Text<'de>>| t.map(|Text(s)| s.into_owned());
    Ok(all
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.type_.as_ref().is_some_and(|Text(t)| START_CONDITIONS.contains(&t.as_ref())))
        .map(|c| SlimCondition {
            type_: owned(c.type_).unwrap_or_default(),
            status: owned(c.status).unwrap_or_default(),
            last_transition_time: owned(c.last_transition_time),
        })
        .collect())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Only what the model reads is kept, whether a string arrives borrowed or with escapes
    /// (`\u0053` is `S`, which the decoder must copy), and `null` is none.
    #[test]
    fn only_the_fields_read_are_kept_from_borrowed_or_escaped_strings() {
        let pod: SlimPod = serde_json::from_str(
            r#"{"metadata": {"name": "p", "namespace": "n", "managedFields": [{"manager": "kubelet"}]},
                "spec": {"containers": [{
                    "name": "main",
                    "env": [{"name": "A", "value": "1"}],
                    "resources": {"requests": {"cpu": "2", "memory": "4Gi",
                                               "kubernetes.io/batch-cpu": "1000",
                                               "kubernetes.io/batch-memory": "2Gi"}},
                    "volumeMounts": [{"name": "kube-api-access", "mountPath": "/var/run/secrets"},
                                     {"name": "shm", "mountPath": "/dev/shm/"}]
                }, {"name": "side", "resources": {"requests": null}, "volumeMounts": null}]},
                "status": {"phase": "Running", "conditions": [
                    {"type": "Ready", "status": "True", "lastTransitionTime": "2026-12-07T01:00:02Z"},
                    {"type": "Pod\u0053cheduled", "status": "True", "lastTransitionTime": "2026-12-07T01:00:00Z"},
                    {"type": "Initialized", "status": "True"}]}}"#,
        )
        .expect("decodes");
        let main = &pod.spec.containers[0];
        let keys: Vec<&str> = main.resources.requests.keys().map(String::as_str).collect();
        assert_eq!(keys, ["kubernetes.io/batch-cpu", "kubernetes.io/batch-memory"]);
        assert_eq!(main.resources.requests["kubernetes.io/batch-memory"], "2Gi");
        assert_eq!(
            main.volume_mounts,
            [SlimMount { name: "shm".into(), mount_path: "/dev/shm/".into() }],
            "only the shared memory mount"
        );
        let side = &pod.spec.containers[1];
        assert!(side.resources.requests.is_empty() && side.volume_mounts.is_empty());
        let types: Vec<&str> = pod.status.conditions.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, ["PodScheduled", "Initialized"]);
        assert_eq!(pod.status.conditions[0].last_transition_time.as_deref(), Some("2026-12-07T01:00:00Z"));
        assert_eq!(pod.status.conditions[1].last_transition_time, None);
    }
}
