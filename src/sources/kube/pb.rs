//! Kubernetes protobuf (`application/vnd.kubernetes.protobuf`) for the large built-in kinds:
//! the envelope, the watch stream's frames, and slim messages that carry only the fields
//! `slim.rs` keeps (prost skips every other field, managedFields, env, probes…, without
//! allocating it). The result is the same `SlimPod`/`Node` the JSON path decodes.
//!
//! Where each detail comes from (upstream kubernetes/apimachinery and kubernetes/api):
//! - `pkg/runtime/serializer/protobuf/protobuf.go`: a body is the 4 magic bytes `k8s\0`
//!   (`protoEncodingPrefix`), then a `runtime.Unknown` (`pkg/runtime/generated.proto`:
//!   typeMeta = 1, raw = 2, contentEncoding = 3, contentType = 4) whose `raw` is the object
//!   (here a `v1.PodList`/`v1.NodeList`, a `v1.Pod`/`v1.Node`, or a `meta.v1.Status`).
//! - `pkg/runtime/serializer/codec_factory.go`: watch streams use the *raw* serializer (no magic,
//!   no envelope) framed by `protobuf.LengthDelimitedFramer` (`pkg/util/framer`: a 4-byte
//!   big-endian length, then the frame): each frame is a `meta.v1.WatchEvent` (type = 1,
//!   object = 2, a `runtime.RawExtension` whose raw = 1) and its `object.raw` is encoded by the
//!   embedded (full) serializer, so it is an envelope again (apiserver `handlers/watch.go`).
//! - Tag numbers: `core/v1/generated.proto`, `apimachinery/pkg/apis/meta/v1/generated.proto`,
//!   `apimachinery/pkg/api/resource/generated.proto` (the `k8s-pb` crate's generated types, used
//!   in the tests to encode, carry the same tags).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ListMeta, ObjectMeta, Time};
use prost::Message;

use super::slim::{
    DEV_SHM, START_CONDITIONS, SlimCaps, SlimCondition, SlimContainer, SlimEmptyDir, SlimHostPath, SlimMount,
    SlimName, SlimPod, SlimPodSecurity, SlimResources, SlimSecurity, SlimSpec, SlimStatus, SlimVolume,
};

/// The media type the client asks for (with JSON as the fallback) and the server answers with.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";
/// The Accept header of list and watch requests for nodes and pods.
pub const ACCEPT: &str = "application/vnd.kubernetes.protobuf, application/json";
/// `protoEncodingPrefix`.
pub const MAGIC: [u8; 4] = [0x6b, 0x38, 0x73, 0x00];

/// Whether a response's Content-Type is protobuf (`application/vnd.kubernetes.protobuf`, also
/// with `;stream=watch`).
pub fn is_protobuf(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|c| c.trim_start().to_ascii_lowercase().starts_with(MEDIA_TYPE))
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("protobuf body without the k8s magic prefix")]
    Magic,
    #[error("protobuf body with content encoding {0:?} (not supported)")]
    Encoding(String),
    #[error("protobuf body cut short or corrupt: {0}")]
    Decode(#[from] prost::DecodeError),
    #[error("protobuf body cut short or corrupt: {0}")]
    Cut(&'static str),
    #[error("protobuf watch stream cut short: {0} bytes left of a frame")]
    Frame(usize),
}

/// The object inside an envelope, borrowed from `body`. Reads the `runtime.Unknown` field by
/// field so the (large) `raw` is not copied.
pub fn envelope(body: &[u8]) -> Result<&[u8], Error> {
    let mut rest = body.strip_prefix(&MAGIC).ok_or(Error::Magic)?;
    let mut raw: &[u8] = &[];
    while !rest.is_empty() {
        let key = prost::encoding::decode_varint(&mut rest)?;
        let (tag, wire) = (key >> 3, key & 7);
        match wire {
            0 => {
                prost::encoding::decode_varint(&mut rest)?;
            }
            2 => {
                let len = usize::try_from(prost::encoding::decode_varint(&mut rest)?)
                    .map_err(|_| Error::Cut("length overflows"))?;
                let v = rest.get(..len).ok_or(Error::Cut("buffer underflow"))?;
                rest = &rest[len..];
                match tag {
                    2 => raw = v,
                    3 if !v.is_empty() => {
                        return Err(Error::Encoding(String::from_utf8_lossy(v).into_owned()));
                    }
                    _ => {}
                }
            }
            1 => rest = rest.get(8..).ok_or(Error::Cut("buffer underflow"))?,
            5 => rest = rest.get(4..).ok_or(Error::Cut("buffer underflow"))?,
            _ => return Err(Error::Cut("invalid wire type")),
        }
    }
    Ok(raw)
}

/// `meta.v1.ListMeta`.
#[derive(Clone, PartialEq, Message)]
pub struct PbListMeta {
    #[prost(string, optional, tag = "2")]
    pub resource_version: Option<String>,
    #[prost(string, optional, tag = "3")]
    pub continue_: Option<String>,
}

impl From<PbListMeta> for ListMeta {
    fn from(m: PbListMeta) -> Self {
        ListMeta { resource_version: m.resource_version, continue_: m.continue_, ..ListMeta::default() }
    }
}

/// A list's `metadata` from its body, read without its items (the API server writes it first):
/// the next page is asked for before this one is decoded.
pub fn head(body: &[u8]) -> Option<ListMeta> {
    let mut rest = envelope(body).ok()?;
    while !rest.is_empty() {
        let key = prost::encoding::decode_varint(&mut rest).ok()?;
        if key & 7 != 2 {
            return None;
        }
        let len = usize::try_from(prost::encoding::decode_varint(&mut rest).ok()?).ok()?;
        let v = rest.get(..len)?;
        if key >> 3 == 1 {
            return PbListMeta::decode(v).ok().map(ListMeta::from);
        }
        rest = &rest[len..];
    }
    None
}

/// `meta.v1.Time`: seconds and nanos since the epoch.
#[derive(Clone, PartialEq, Message)]
pub struct PbTime {
    #[prost(int64, optional, tag = "1")]
    pub seconds: Option<i64>,
    #[prost(int32, optional, tag = "2")]
    pub nanos: Option<i32>,
}

impl PbTime {
    /// RFC 3339 in whole seconds, as the JSON body writes it.
    fn rfc3339(&self) -> Option<String> {
        let t = chrono::DateTime::from_timestamp(self.seconds?, 0)?;
        Some(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    }
}

/// `resource.Quantity`.
#[derive(Clone, PartialEq, Message)]
pub struct PbQuantity {
    #[prost(string, optional, tag = "1")]
    pub string: Option<String>,
}

/// `meta.v1.ObjectMeta`: name, namespace, uid, resourceVersion, creationTimestamp, labels,
/// annotations.
#[derive(Clone, PartialEq, Message)]
pub struct PbMeta {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(string, optional, tag = "3")]
    pub namespace: Option<String>,
    #[prost(string, optional, tag = "5")]
    pub uid: Option<String>,
    #[prost(string, optional, tag = "6")]
    pub resource_version: Option<String>,
    #[prost(message, optional, tag = "8")]
    pub creation_timestamp: Option<PbTime>,
    #[prost(btree_map = "string, string", tag = "11")]
    pub labels: BTreeMap<String, String>,
    #[prost(btree_map = "string, string", tag = "12")]
    pub annotations: BTreeMap<String, String>,
}

/// `core.v1.Node`: metadata = 1, status = 3.
#[derive(Clone, PartialEq, Message)]
pub struct PbNode {
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<PbMeta>,
    #[prost(message, optional, tag = "3")]
    pub status: Option<PbNodeStatus>,
}

/// `core.v1.NodeStatus`: allocatable = 2, conditions = 4.
#[derive(Clone, PartialEq, Message)]
pub struct PbNodeStatus {
    #[prost(btree_map = "string, message", tag = "2")]
    pub allocatable: BTreeMap<String, PbQuantity>,
    #[prost(message, repeated, tag = "4")]
    pub conditions: Vec<PbCondition>,
}

/// `core.v1.NodeCondition` and `core.v1.PodCondition` share these tags: type = 1, status = 2,
/// lastTransitionTime = 4, reason = 5.
#[derive(Clone, PartialEq, Message)]
pub struct PbCondition {
    #[prost(string, optional, tag = "1")]
    pub r#type: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub status: Option<String>,
    #[prost(message, optional, tag = "4")]
    pub last_transition_time: Option<PbTime>,
    #[prost(string, optional, tag = "5")]
    pub reason: Option<String>,
}

/// `core.v1.NodeList` / `core.v1.PodList`: metadata = 1, items = 2.
#[derive(Clone, PartialEq, Message)]
pub struct PbList<T: Message + Default + std::fmt::Debug> {
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<PbListMeta>,
    #[prost(message, repeated, tag = "2")]
    pub items: Vec<T>,
}

/// `core.v1.Pod`: metadata = 1, spec = 2, status = 3.
#[derive(Clone, PartialEq, Message)]
pub struct PbPod {
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<PbMeta>,
    #[prost(message, optional, tag = "2")]
    pub spec: Option<PbPodSpec>,
    #[prost(message, optional, tag = "3")]
    pub status: Option<PbPodStatus>,
}

/// `core.v1.PodSpec`.
#[derive(Clone, PartialEq, Message)]
pub struct PbPodSpec {
    #[prost(message, repeated, tag = "1")]
    pub volumes: Vec<PbVolume>,
    #[prost(message, repeated, tag = "2")]
    pub containers: Vec<PbContainer>,
    #[prost(string, optional, tag = "10")]
    pub node_name: Option<String>,
    #[prost(bool, optional, tag = "11")]
    pub host_network: Option<bool>,
    #[prost(bool, optional, tag = "12")]
    pub host_pid: Option<bool>,
    #[prost(bool, optional, tag = "13")]
    pub host_ipc: Option<bool>,
    #[prost(message, optional, tag = "14")]
    pub security_context: Option<PbPodSecurity>,
    #[prost(message, repeated, tag = "20")]
    pub init_containers: Vec<PbContainer>,
    #[prost(string, optional, tag = "24")]
    pub priority_class_name: Option<String>,
    #[prost(int32, optional, tag = "25")]
    pub priority: Option<i32>,
    #[prost(bool, optional, tag = "27")]
    pub share_process_namespace: Option<bool>,
    #[prost(string, optional, tag = "29")]
    pub runtime_class_name: Option<String>,
}

/// `core.v1.PodSecurityContext`: sysctls = 7 (`core.v1.Sysctl`: name = 1).
#[derive(Clone, PartialEq, Message)]
pub struct PbPodSecurity {
    #[prost(message, repeated, tag = "7")]
    pub sysctls: Vec<PbName>,
}

#[derive(Clone, PartialEq, Message)]
pub struct PbName {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
}

/// `core.v1.Volume`: name = 1 and the inlined `volumeSource` = 2 (hostPath = 1, emptyDir = 2).
#[derive(Clone, PartialEq, Message)]
pub struct PbVolume {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(message, optional, tag = "2")]
    pub source: Option<PbVolumeSource>,
}

#[derive(Clone, PartialEq, Message)]
pub struct PbVolumeSource {
    /// `HostPathVolumeSource`: path = 1.
    #[prost(message, optional, tag = "1")]
    pub host_path: Option<PbName>,
    #[prost(message, optional, tag = "2")]
    pub empty_dir: Option<PbEmptyDir>,
}

/// `core.v1.EmptyDirVolumeSource`: medium = 1, sizeLimit = 2.
#[derive(Clone, PartialEq, Message)]
pub struct PbEmptyDir {
    #[prost(string, optional, tag = "1")]
    pub medium: Option<String>,
    #[prost(message, optional, tag = "2")]
    pub size_limit: Option<PbQuantity>,
}

/// `core.v1.Container`: name = 1, resources = 8, volumeMounts = 9, securityContext = 15,
/// restartPolicy = 24.
#[derive(Clone, PartialEq, Message)]
pub struct PbContainer {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(message, optional, tag = "8")]
    pub resources: Option<PbResources>,
    #[prost(message, repeated, tag = "9")]
    pub volume_mounts: Vec<PbMount>,
    #[prost(message, optional, tag = "15")]
    pub security_context: Option<PbSecurity>,
    #[prost(string, optional, tag = "24")]
    pub restart_policy: Option<String>,
}

/// `core.v1.ResourceRequirements`: requests = 2.
#[derive(Clone, PartialEq, Message)]
pub struct PbResources {
    #[prost(btree_map = "string, message", tag = "2")]
    pub requests: BTreeMap<String, PbQuantity>,
}

/// `core.v1.VolumeMount`: name = 1, mountPath = 3.
#[derive(Clone, PartialEq, Message)]
pub struct PbMount {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(string, optional, tag = "3")]
    pub mount_path: Option<String>,
}

/// `core.v1.SecurityContext`: capabilities = 1 (`core.v1.Capabilities`: add = 1).
#[derive(Clone, PartialEq, Message)]
pub struct PbSecurity {
    #[prost(message, optional, tag = "1")]
    pub capabilities: Option<PbCaps>,
}

#[derive(Clone, PartialEq, Message)]
pub struct PbCaps {
    #[prost(string, repeated, tag = "1")]
    pub add: Vec<String>,
}

/// `core.v1.PodStatus`: phase = 1, conditions = 2.
#[derive(Clone, PartialEq, Message)]
pub struct PbPodStatus {
    #[prost(string, optional, tag = "1")]
    pub phase: Option<String>,
    #[prost(message, repeated, tag = "2")]
    pub conditions: Vec<PbCondition>,
}

/// `meta.v1.Status`: status = 2, message = 3, reason = 4, code = 6.
#[derive(Clone, PartialEq, Message)]
pub struct PbStatus {
    #[prost(string, optional, tag = "2")]
    pub status: Option<String>,
    #[prost(string, optional, tag = "3")]
    pub message: Option<String>,
    #[prost(string, optional, tag = "4")]
    pub reason: Option<String>,
    #[prost(int32, optional, tag = "6")]
    pub code: Option<i32>,
}

impl PbStatus {
    pub fn into_status(self) -> kube::core::Status {
        let mut s = kube::core::Status::failure(
            self.message.as_deref().unwrap_or_default(),
            self.reason.as_deref().unwrap_or_default(),
        );
        s.code = self.code.and_then(|c| u16::try_from(c).ok()).unwrap_or(0);
        s
    }
}

/// A `meta.v1.Status` from an envelope (an error answer in protobuf).
pub fn status(body: &[u8]) -> Result<kube::core::Status, Error> {
    Ok(PbStatus::decode(envelope(body)?)?.into_status())
}

/// `meta.v1.WatchEvent`: type = 1, object = 2 (`runtime.RawExtension`: raw = 1).
#[derive(Clone, PartialEq, Message)]
pub struct PbWatchEvent {
    #[prost(string, optional, tag = "1")]
    pub r#type: Option<String>,
    #[prost(message, optional, tag = "2")]
    pub object: Option<PbRaw>,
}

#[derive(Clone, PartialEq, Message)]
pub struct PbRaw {
    #[prost(bytes = "vec", optional, tag = "1")]
    pub raw: Option<Vec<u8>>,
}

/// The next length-delimited frame of a watch stream at the start of `buf` (`pkg/util/framer`):
/// `Ok(None)` until it is complete; the frame and the bytes it took.
pub fn frame(buf: &[u8]) -> Option<(&[u8], usize)> {
    let len = u32::from_be_bytes(buf.get(..4)?.try_into().ok()?) as usize;
    let body = buf.get(4..4 + len)?;
    Some((body, 4 + len))
}

/// Any object's metadata (field 1 of every kind).
#[derive(Clone, PartialEq, Message)]
struct PbObjectMeta {
    #[prost(message, optional, tag = "1")]
    metadata: Option<PbMeta>,
}

/// A BOOKMARK's object: its resourceVersion and annotations (a streaming list's last initial
/// event carries `k8s.io/initial-events-end`).
pub fn bookmark(raw: &[u8]) -> Result<(String, BTreeMap<String, String>), Error> {
    let m = PbObjectMeta::decode(envelope(raw)?)?.metadata.unwrap_or_default();
    Ok((m.resource_version.unwrap_or_default(), m.annotations))
}

/// A kind that is decoded from protobuf as well as JSON, into the same value.
pub trait Proto: Sized {
    /// A list body's metadata and items.
    fn list(raw: &[u8]) -> Result<(ListMeta, Vec<Self>), Error>;
    /// One object (a watch event's).
    fn one(raw: &[u8]) -> Result<Self, Error>;
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

fn nonempty_map<V>(m: BTreeMap<String, V>) -> Option<BTreeMap<String, V>> {
    (!m.is_empty()).then_some(m)
}

fn meta_of(m: PbMeta) -> ObjectMeta {
    ObjectMeta {
        name: nonempty(m.name),
        namespace: nonempty(m.namespace),
        uid: nonempty(m.uid),
        resource_version: nonempty(m.resource_version),
        labels: nonempty_map(m.labels),
        ..ObjectMeta::default()
    }
}

fn list_of<P: Message + Default + std::fmt::Debug, T>(
    raw: &[u8],
    f: impl Fn(P) -> T,
) -> Result<(ListMeta, Vec<T>), Error> {
    let l = PbList::<P>::decode(envelope(raw)?)?;
    Ok((l.metadata.map(ListMeta::from).unwrap_or_default(), l.items.into_iter().map(f).collect()))
}

/// A Node with only what `map::node_obj` reads.
pub fn node(n: PbNode) -> core::Node {
    let mut m = n.metadata.unwrap_or_default();
    let created = m.creation_timestamp.as_ref().and_then(|t| t.seconds);
    let annotations = nonempty_map(std::mem::take(&mut m.annotations));
    let mut meta = meta_of(m);
    meta.annotations = annotations;
    meta.creation_timestamp =
        created.and_then(|s| k8s_openapi::jiff::Timestamp::from_second(s).ok()).map(Time);
    let status = n.status.map(|s| core::NodeStatus {
        allocatable: nonempty_map(
            s.allocatable.into_iter().map(|(k, q)| (k, Quantity(q.string.unwrap_or_default()))).collect(),
        ),
        conditions: Some(
            s.conditions
                .into_iter()
                .map(|c| core::NodeCondition {
                    type_: c.r#type.unwrap_or_default(),
                    status: c.status.unwrap_or_default(),
                    reason: nonempty(c.reason),
                    ..core::NodeCondition::default()
                })
                .collect(),
        ),
        ..core::NodeStatus::default()
    });
    core::Node { metadata: meta, spec: None, status }
}

impl Proto for core::Node {
    fn list(raw: &[u8]) -> Result<(ListMeta, Vec<Self>), Error> {
        list_of(raw, node)
    }
    fn one(raw: &[u8]) -> Result<Self, Error> {
        Ok(node(PbNode::decode(envelope(raw)?)?))
    }
}

fn container(c: PbContainer) -> SlimContainer {
    use super::slim::BATCH_PREFIX;
    SlimContainer {
        name: c.name.unwrap_or_default(),
        volume_mounts: c
            .volume_mounts
            .into_iter()
            .filter_map(|m| {
                let path = m.mount_path?;
                (path.trim_end_matches('/') == DEV_SHM)
                    .then(|| SlimMount { name: m.name.unwrap_or_default(), mount_path: path })
            })
            .collect(),
        security_context: c
            .security_context
            .map(|s| SlimSecurity { capabilities: s.capabilities.map(|c| SlimCaps { add: c.add }) }),
        resources: SlimResources {
            requests: c
                .resources
                .map(|r| {
                    r.requests
                        .into_iter()
                        .filter(|(k, _)| k.starts_with(BATCH_PREFIX))
                        .map(|(k, q)| (k, q.string.unwrap_or_default()))
                        .collect()
                })
                .unwrap_or_default(),
        },
        restart_policy: nonempty(c.restart_policy),
    }
}

/// A pod as `SlimPod` keeps it from JSON: the same filters (batch requests, `/dev/shm` mounts,
/// start conditions).
pub fn pod(p: PbPod) -> SlimPod {
    let s = p.spec.unwrap_or_default();
    let spec = SlimSpec {
        node_name: nonempty(s.node_name),
        runtime_class_name: nonempty(s.runtime_class_name),
        priority_class_name: nonempty(s.priority_class_name),
        host_network: s.host_network,
        priority: s.priority,
        host_pid: s.host_pid,
        host_ipc: s.host_ipc,
        share_process_namespace: s.share_process_namespace,
        security_context: s.security_context.map(|c| SlimPodSecurity {
            sysctls: c.sysctls.into_iter().map(|n| SlimName { name: n.name.unwrap_or_default() }).collect(),
        }),
        volumes: s
            .volumes
            .into_iter()
            .map(|v| {
                let src = v.source.unwrap_or_default();
                SlimVolume {
                    name: v.name.unwrap_or_default(),
                    empty_dir: src.empty_dir.map(|e| SlimEmptyDir {
                        medium: nonempty(e.medium),
                        size_limit: e.size_limit.and_then(|q| q.string),
                    }),
                    host_path: src.host_path.map(|h| SlimHostPath { path: h.name.unwrap_or_default() }),
                }
            })
            .collect(),
        containers: s.containers.into_iter().map(container).collect(),
        init_containers: s.init_containers.into_iter().map(container).collect(),
    };
    let st = p.status.unwrap_or_default();
    let status = SlimStatus {
        phase: nonempty(st.phase),
        conditions: st
            .conditions
            .into_iter()
            .filter(|c| c.r#type.as_deref().is_some_and(|t| START_CONDITIONS.contains(&t)))
            .map(|c| SlimCondition {
                last_transition_time: c.last_transition_time.as_ref().and_then(PbTime::rfc3339),
                type_: c.r#type.unwrap_or_default(),
                status: c.status.unwrap_or_default(),
            })
            .collect(),
    };
    SlimPod { metadata: meta_of(p.metadata.unwrap_or_default()), spec, status }
}

impl Proto for SlimPod {
    fn list(raw: &[u8]) -> Result<(ListMeta, Vec<Self>), Error> {
        list_of(raw, pod)
    }
    fn one(raw: &[u8]) -> Result<Self, Error> {
        Ok(pod(PbPod::decode(envelope(raw)?)?))
    }
}

#[cfg(test)]
mod tests;
