//! Kubernetes protobuf for nodes and pods, encoded from the same JSON bodies that are served as
//! JSON (so both carry the same fields: managedFields, env, probes…): each stored object's body
//! is read once with serde and written as protobuf as it is read, by the upstream schema in
//! `proto_schema.txt` (tags and JSON names of `core/v1` and `meta/v1` `generated.proto`).
//!
//! Framing (kubernetes/apimachinery `pkg/runtime/serializer/protobuf/protobuf.go`,
//! `pkg/util/framer`, `codec_factory.go`): a body is `k8s\0` then a `runtime.Unknown`
//! (typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2, contentEncoding = 3, contentType = 4);
//! a watch stream is a sequence of frames, a 4-byte big-endian length then a `meta.v1.WatchEvent`
//! (type = 1, object = 2 {raw = 1}) without envelope, whose `object.raw` is an envelope.
//! JSON's inlined Go structs (a Volume's `volumeSource`, a probe's `handler`) are fields of their own
//! in protobuf.

use std::collections::HashMap;
use std::fmt;
use std::sync::{LazyLock, RwLock};

use axum::body::Bytes;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

pub(crate) const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";
pub(crate) const WATCH_MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf;stream=watch";
const MAGIC: [u8; 4] = [0x6b, 0x38, 0x73, 0x00];

/// Whether an Accept header asks for protobuf (before or instead of JSON).
pub(crate) fn wanted(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.split(',').any(|t| t.trim().split(';').next() == Some(MEDIA_TYPE)))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Ty {
    String,
    Bool,
    Int32,
    Int64,
    Double,
    Bytes,
    /// `meta.v1.Time`/`MicroTime`: RFC 3339 in JSON, {seconds = 1, nanos = 2}.
    Time,
    /// `resource.Quantity`: a string in JSON, {string = 1}.
    Quantity,
    /// `intstr.IntOrString`: {type = 1, intVal = 2, strVal = 3}.
    IntOrString,
    /// `meta.v1.FieldsV1` {Raw = 1} and `runtime.RawExtension` {raw = 1}: the JSON text.
    RawJson,
    Msg(usize),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Label {
    Opt,
    Rep,
    Map,
}

#[derive(Debug)]
struct Field {
    tag: u32,
    name: &'static str,
    label: Label,
    ty: Ty,
    /// A Go struct inlined in JSON (its fields are the parent's in JSON).
    inline: bool,
}

/// Where a JSON key goes in a message: a field of its own (`inline: None`), or field `field` of
/// the message of the inlined field `inline`.
#[derive(Debug, Clone, Copy)]
struct Slot {
    inline: Option<usize>,
    msg: usize,
    field: usize,
}

/// A hash of the keys eight bytes at a time (they are short, and trusted).
#[derive(Default)]
struct KeyHash(u64);

impl std::hash::Hasher for KeyHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut x = self.0;
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut a = [0u8; 8];
            a.copy_from_slice(w);
            x = (x ^ u64::from_le_bytes(a)).wrapping_mul(K).rotate_left(29);
        }
        let rest = words.remainder();
        let mut a = [0u8; 8];
        a[..rest.len()].copy_from_slice(rest);
        self.0 = (x ^ u64::from_le_bytes(a) ^ bytes.len() as u64).wrapping_mul(K).rotate_left(29);
    }
}

type Slots = HashMap<&'static [u8], Slot, std::hash::BuildHasherDefault<KeyHash>>;

#[derive(Debug, Default)]
struct Schema {
    names: HashMap<&'static str, usize>,
    fields: Vec<Vec<Field>>,
    /// Per message, its JSON keys (an inlined struct's fields too).
    slots: Vec<Slots>,
}

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| parse(include_str!("proto_schema.txt")));

fn parse(text: &'static str) -> Schema {
    let mut s = Schema::default();
    let mut raw: Vec<Vec<(u32, &str, &str, &str)>> = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        if let Some(name) = line.strip_prefix("message ") {
            s.names.insert(name, raw.len());
            raw.push(Vec::new());
            continue;
        }
        let p: Vec<&str> = line.split(' ').collect();
        if let ([tag, name, label, ty], Some(m)) = (p.as_slice(), raw.last_mut()) {
            m.push((tag.parse().unwrap_or(0), name, label, ty));
        }
    }
    s.fields = raw
        .into_iter()
        .map(|m| {
            m.into_iter()
                .map(|(tag, name, label, ty)| {
                    let ty = match ty {
                        "string" => Ty::String,
                        "bool" => Ty::Bool,
                        "int32" => Ty::Int32,
                        "int64" => Ty::Int64,
                        "double" | "float" => Ty::Double,
                        "bytes" => Ty::Bytes,
                        "Time" | "MicroTime" => Ty::Time,
                        "Quantity" => Ty::Quantity,
                        "IntOrString" => Ty::IntOrString,
                        "FieldsV1" | "RawExtension" => Ty::RawJson,
                        m => s.names.get(m).map_or(Ty::String, |i| Ty::Msg(*i)),
                    };
                    let inline = label == "inl";
                    let label = match label {
                        "rep" => Label::Rep,
                        "map" => Label::Map,
                        _ => Label::Opt,
                    };
                    Field { tag, name, label, ty, inline }
                })
                .collect()
        })
        .collect();
    s.slots = (0..s.fields.len())
        .map(|m| {
            let mut slots = Slots::default();
            // A field of its own wins over an inlined struct's; the first inlined struct wins.
            for (i, f) in s.fields[m].iter().enumerate() {
                if let (Ty::Msg(sub), true) = (f.ty, f.inline) {
                    for (j, g) in s.fields[sub].iter().enumerate() {
                        slots.entry(g.name.as_bytes()).or_insert(Slot {
                            inline: Some(i),
                            msg: sub,
                            field: j,
                        });
                    }
                }
            }
            for (i, f) in s.fields[m].iter().enumerate() {
                slots.insert(f.name.as_bytes(), Slot { inline: None, msg: m, field: i });
            }
            slots
        })
        .collect();
    s
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn key(tag: u32, wire: u8, out: &mut Vec<u8>) {
    varint(u64::from(tag) << 3 | u64::from(wire), out);
}

fn bytes_field(tag: u32, v: &[u8], out: &mut Vec<u8>) {
    key(tag, 2, out);
    varint(v.len() as u64, out);
    out.extend_from_slice(v);
}

fn varint_field(tag: u32, v: u64, out: &mut Vec<u8>) {
    key(tag, 0, out);
    varint(v, out);
}

/// A nested message written by `f`, length-prefixed.
fn nested(tag: u32, out: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>)) {
    key(tag, 2, out);
    let at = open(out);
    f(out);
    close(out, at);
}

/// Room for the length of a nested message written in place: two bytes, right for 128 bytes to
/// 16 KB (most of a pod's large parts); the length is written by [`close`]. Returns where the
/// message starts.
fn open(out: &mut Vec<u8>) -> usize {
    out.extend_from_slice(&[0, 0]);
    out.len()
}

/// Write the length of the message from `at` to the end before it (the minimal varint, as
/// protobuf writes it): a shorter one moves the message back a byte, a longer one forward.
fn close(out: &mut Vec<u8>, at: usize) {
    let len = out.len() - at;
    if len < 0x80 {
        out[at - 2] = len as u8;
        out.copy_within(at.., at - 1);
        out.truncate(out.len() - 1);
    } else if len < 0x4000 {
        out[at - 2] = (len as u8) | 0x80;
        out[at - 1] = (len >> 7) as u8;
    } else {
        let mut v = Vec::with_capacity(10);
        varint(len as u64, &mut v);
        out[at - 2..at].copy_from_slice(&v[..2]);
        out.splice(at..at, v[2..].iter().copied());
    }
}

/// Blobs (`real.rs`) encoded as the fields of a message: (blob id, message) → protobuf. A
/// realistic pod's large parts (managedFields, env, probes…) are shared blobs: encoded once, a
/// body's encoding is mostly copies.
type Encoded = Result<Vec<u8>, String>;

static BLOBS: LazyLock<RwLock<HashMap<(usize, usize), Encoded>>> = LazyLock::new(Default::default);

/// Append blob `id` encoded as fields of message `m` to `out`.
fn blob_into(s: &Schema, id: usize, m: usize, out: &mut Vec<u8>) -> Result<(), String> {
    if let Some(b) = BLOBS.read().unwrap_or_else(|e| e.into_inner()).get(&(id, m)) {
        out.extend_from_slice(b.as_ref()?);
        return Ok(());
    }
    out.extend_from_slice(&blob(s, id, m)?);
    Ok(())
}

fn blob(s: &Schema, id: usize, m: usize) -> Encoded {
    let encoded = (|| {
        let members = super::real::blob(id).ok_or_else(|| format!("no blob {id}"))?;
        let mut json = Vec::with_capacity(members.len() + 2);
        json.push(b'{');
        json.extend_from_slice(&members);
        json.push(b'}');
        let mut out = Vec::new();
        let mut de = serde_json::Deserializer::from_slice(&json);
        MsgSeed { s, m, out: &mut out, top: false }.deserialize(&mut de).map_err(|e| e.to_string())?;
        Ok(out)
    })();
    BLOBS.write().unwrap_or_else(|e| e.into_inner()).insert((id, m), encoded.clone());
    encoded
}

/// Encode the JSON object `json` as the message `msg` (`Pod`, `Node`), without envelope. `json`
/// is a stored body (its blob markers are encoded as their blobs) or a served one.
pub(crate) fn encode(msg: &str, json: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let s = &*SCHEMA;
    let m = *s.names.get(msg).ok_or_else(|| format!("no message {msg}"))?;
    let mut de = serde_json::Deserializer::from_slice(json);
    MsgSeed { s, m, out, top: true }.deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())
}

/// `k8s\0` and a `runtime.Unknown` holding `raw` of `kind` in `api_version`.
pub(crate) fn envelope(api_version: &str, kind: &str, raw: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&MAGIC);
    nested(1, out, |t| {
        bytes_field(1, api_version.as_bytes(), t);
        bytes_field(2, kind.as_bytes(), t);
    });
    bytes_field(2, raw, out);
    bytes_field(3, b"", out);
    bytes_field(4, b"", out);
}

/// An object's body in its envelope.
pub(crate) fn object(api_version: &str, kind: &str, json: &[u8]) -> Result<Vec<u8>, String> {
    let mut raw = Vec::with_capacity(json.len() / 2);
    encode(kind, json, &mut raw)?;
    let mut out = Vec::with_capacity(raw.len() + 32);
    envelope(api_version, kind, &raw, &mut out);
    Ok(out)
}

/// `meta.v1.ListMeta` {resourceVersion = 2, continue = 3}.
pub(crate) fn list_meta(rv: &str, cont: Option<&str>) -> Vec<u8> {
    let mut m = Vec::new();
    bytes_field(2, rv.as_bytes(), &mut m);
    if let Some(c) = cont {
        bytes_field(3, c.as_bytes(), &mut m);
    }
    m
}

/// The head of a list envelope whose `raw` (the `...List` message) is `len` bytes: everything
/// before it. The list then follows: metadata (field 1), items (field 2, each with [`item`]),
/// then the envelope's tail ([`tail`]).
pub(crate) fn list_head(api_version: &str, list_kind: &str, len: usize) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    nested(1, &mut out, |t| {
        bytes_field(1, api_version.as_bytes(), t);
        bytes_field(2, list_kind.as_bytes(), t);
    });
    key(2, 2, &mut out);
    varint(len as u64, &mut out);
    out
}

pub(crate) fn tail() -> Vec<u8> {
    let mut out = Vec::new();
    bytes_field(3, b"", &mut out);
    bytes_field(4, b"", &mut out);
    out
}

/// The list's metadata field.
pub(crate) fn list_meta_field(meta: &[u8], out: &mut Vec<u8>) {
    bytes_field(1, meta, out);
}

/// One item of a list (field 2), its message `raw`.
pub(crate) fn item(raw: &[u8], out: &mut Vec<u8>) {
    bytes_field(2, raw, out);
}

/// The bytes [`item`] writes for a message of `n` bytes.
pub(crate) fn item_len(n: usize) -> usize {
    let mut v = Vec::new();
    varint(n as u64, &mut v);
    1 + v.len() + n
}

/// A watch frame: length, then a `WatchEvent` of `typ` whose object is `object` (an envelope).
pub(crate) fn watch_frame(typ: &str, object: &[u8]) -> Vec<u8> {
    let mut ev = Vec::with_capacity(object.len() + 24);
    bytes_field(1, typ.as_bytes(), &mut ev);
    nested(2, &mut ev, |r| bytes_field(1, object, r));
    let mut out = Vec::with_capacity(ev.len() + 4);
    out.extend_from_slice(&(ev.len() as u32).to_be_bytes());
    out.extend_from_slice(&ev);
    out
}

/// Room kept before a message encoded in place, for the heads of its envelope and watch frame
/// (or list), written once its length is known: the message's bytes are not moved.
const HEADROOM: usize = 128;

/// The envelope's tail: contentEncoding and contentType, empty.
const TAIL: [u8; 4] = [0x1a, 0, 0x22, 0];

/// The bytes of `v` as a varint.
fn varint_len(v: usize) -> usize {
    let mut n = 1;
    let mut v = v >> 7;
    while v > 0 {
        n += 1;
        v >>= 7;
    }
    n
}

/// The encoded size of the last object, for the next one's buffer.
static LAST_SIZE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A watch frame of `typ` whose object is the JSON object `json` of `kind`, in its envelope:
/// `watch_frame(typ, &object(api_version, kind, json))`, encoded in one buffer.
pub(crate) fn watch_event(typ: &str, api_version: &str, kind: &str, json: &[u8]) -> Result<Bytes, String> {
    use std::sync::atomic::Ordering::Relaxed;
    let hint = LAST_SIZE.load(Relaxed).max(json.len() / 2);
    let mut buf = Vec::with_capacity(HEADROOM + hint + hint / 4 + TAIL.len());
    buf.resize(HEADROOM, 0);
    encode(kind, json, &mut buf)?;
    let n = buf.len() - HEADROOM;
    LAST_SIZE.store(n, Relaxed);
    let head = frame_head(typ, api_version, kind, n);
    buf.extend_from_slice(&TAIL);
    Ok(in_place(buf, &head))
}

/// Append the watch frame [`watch_event`] gives to `out`, the object encoded in `scratch` first.
pub(crate) fn watch_event_into(
    typ: &str,
    api_version: &str,
    kind: &str,
    json: &[u8],
    scratch: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    scratch.clear();
    encode(kind, json, scratch)?;
    out.extend_from_slice(&frame_head(typ, api_version, kind, scratch.len()));
    out.extend_from_slice(scratch);
    out.extend_from_slice(&TAIL);
    Ok(())
}

/// A watch frame's bytes before its object's `n` bytes: the frame's length, the event's type, its
/// object (a RawExtension whose raw is the envelope), the envelope up to its raw's bytes.
fn frame_head(typ: &str, api_version: &str, kind: &str, n: usize) -> Vec<u8> {
    let mut env = MAGIC.to_vec();
    nested(1, &mut env, |t| {
        bytes_field(1, api_version.as_bytes(), t);
        bytes_field(2, kind.as_bytes(), t);
    });
    key(2, 2, &mut env);
    varint(n as u64, &mut env);
    let env_len = env.len() + n + TAIL.len();
    let mut head = vec![0; 4];
    bytes_field(1, typ.as_bytes(), &mut head);
    key(2, 2, &mut head);
    varint((1 + varint_len(env_len) + env_len) as u64, &mut head);
    key(1, 2, &mut head);
    varint(env_len as u64, &mut head);
    head.extend_from_slice(&env);
    let event_len = head.len() - 4 + n + TAIL.len();
    head[..4].copy_from_slice(&(event_len as u32).to_be_bytes());
    head
}

/// `buf` (a message after [`HEADROOM`]) with `head` written before the message.
fn in_place(mut buf: Vec<u8>, head: &[u8]) -> Bytes {
    match HEADROOM.checked_sub(head.len()) {
        Some(start) => {
            buf[start..HEADROOM].copy_from_slice(head);
            Bytes::from(buf).slice(start..)
        }
        None => {
            let mut out = head.to_vec();
            out.extend_from_slice(&buf[HEADROOM..]);
            Bytes::from(out)
        }
    }
}

/// A buffer for a list's body: its metadata field `meta` (`list_meta`), then each item added by
/// [`list_item`], then [`list_body`].
pub(crate) fn list_buf(meta: &[u8], capacity: usize) -> Vec<u8> {
    let mut buf = Vec::with_capacity(HEADROOM + capacity + TAIL.len());
    buf.resize(HEADROOM, 0);
    list_meta_field(meta, &mut buf);
    buf
}

/// Add the JSON object `json` of `kind` to a list's body as an item, encoded in place.
pub(crate) fn list_item(kind: &str, json: &[u8], buf: &mut Vec<u8>) -> Result<(), String> {
    key(2, 2, buf);
    let at = open(buf);
    let r = encode(kind, json, buf);
    close(buf, at);
    r
}

/// The list's body in its envelope: `envelope(api_version, list_kind, list)` of the list in `buf`.
pub(crate) fn list_body(api_version: &str, list_kind: &str, mut buf: Vec<u8>) -> Bytes {
    let head = list_head(api_version, list_kind, buf.len() - HEADROOM);
    buf.extend_from_slice(&TAIL);
    in_place(buf, &head)
}

/// A `meta.v1.Status` (from its JSON) in its envelope.
pub(crate) fn status(json: &[u8]) -> Vec<u8> {
    object("v1", "Status", json).unwrap_or_default()
}

struct MsgSeed<'a> {
    s: &'a Schema,
    m: usize,
    out: &'a mut Vec<u8>,
    /// The object itself: its `kind` and `apiVersion` are the envelope's.
    top: bool,
}

impl<'de> DeserializeSeed<'de> for MsgSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MsgSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let fields = &self.s.fields[self.m];
        let slots = &self.s.slots[self.m];
        // The inlined structs' fields, gathered and written as one field each at the end.
        let mut inlined: Vec<(usize, Vec<u8>)> = Vec::new();
        while let Some(k) = map.next_key_seed(Key)? {
            match slots.get(&*k) {
                Some(Slot { inline: None, field, .. }) => {
                    map.next_value_seed(FieldSeed { s: self.s, f: &fields[*field], out: &mut *self.out })?;
                }
                Some(Slot { inline: Some(i), msg, field }) => {
                    let at = match inlined.iter().position(|(j, _)| j == i) {
                        Some(at) => at,
                        None => {
                            inlined.push((*i, Vec::new()));
                            inlined.len() - 1
                        }
                    };
                    let g = &self.s.fields[*msg][*field];
                    map.next_value_seed(FieldSeed { s: self.s, f: g, out: &mut inlined[at].1 })?;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                    if let Some(id) = marker_id(&k) {
                        blob_into(self.s, id, self.m, self.out).map_err(de::Error::custom)?;
                    } else if &*k == b"-" || self.top && (&*k == b"kind" || &*k == b"apiVersion") {
                        // An empty blob's placeholder member (`real.rs`); the envelope's fields.
                    } else {
                        let k = String::from_utf8_lossy(&k);
                        return Err(de::Error::custom(format!("field {k} is not in the protobuf schema")));
                    }
                }
            }
        }
        for (i, body) in inlined {
            bytes_field(fields[i].tag, &body, self.out);
        }
        Ok(())
    }
}

/// A blob marker's id (`real::marker_id`), from the key's bytes.
fn marker_id(k: &[u8]) -> Option<usize> {
    std::str::from_utf8(k).ok().and_then(super::real::marker_id)
}

/// A key as its bytes: no UTF-8 check (the bytes are only compared or copied), borrowed unless
/// it has escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = std::borrow::Cow<'de, [u8]>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_bytes(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = std::borrow::Cow<'de, [u8]>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_bytes<E>(self, v: &'de [u8]) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Borrowed(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Owned(v.to_vec()))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Borrowed(v.as_bytes()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Owned(v.as_bytes().to_vec()))
    }
}

struct FieldSeed<'a> {
    s: &'a Schema,
    f: &'a Field,
    out: &'a mut Vec<u8>,
}

impl<'de> DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match self.f.label {
            Label::Opt => {
                ValueSeed { s: self.s, ty: self.f.ty, tag: self.f.tag, out: self.out }.deserialize(d)
            }
            Label::Rep => d.deserialize_any(RepSeed(self)),
            Label::Map => d.deserialize_any(MapSeed(self)),
        }
    }
}

struct RepSeed<'a>(FieldSeed<'a>);

impl<'de> Visitor<'de> for RepSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let FieldSeed { s, f, out } = self.0;
        // Repeated scalars unpacked, as proto2 writes them.
        while seq.next_element_seed(ValueSeed { s, ty: f.ty, tag: f.tag, out: &mut *out })?.is_some() {}
        Ok(())
    }
}

struct MapSeed<'a>(FieldSeed<'a>);

impl<'de> Visitor<'de> for MapSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let FieldSeed { s, f, out } = self.0;
        let mut entry = Vec::new();
        while let Some(k) = map.next_key_seed(Key)? {
            entry.clear();
            bytes_field(1, &k, &mut entry);
            let before = entry.len();
            map.next_value_seed(ValueSeed { s, ty: f.ty, tag: 2, out: &mut entry })?;
            if entry.len() == before {
                // A null value: an empty one (the map entry keeps its key).
                bytes_field(2, b"", &mut entry);
            }
            bytes_field(f.tag, &entry, out);
        }
        Ok(())
    }
}

/// One value of type `ty` as field `tag`.
struct ValueSeed<'a> {
    s: &'a Schema,
    ty: Ty,
    tag: u32,
    out: &'a mut Vec<u8>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match self.ty {
            Ty::Msg(m) => {
                let start = self.out.len();
                key(self.tag, 2, self.out);
                let at = open(self.out);
                let present =
                    d.deserialize_any(Present(MsgSeed { s: self.s, m, out: &mut *self.out, top: false }))?;
                if present {
                    close(self.out, at);
                } else {
                    self.out.truncate(start);
                }
                Ok(())
            }
            Ty::RawJson => {
                let raw = <&serde_json::value::RawValue as serde::Deserialize>::deserialize(d)?;
                if raw.get() != "null" {
                    nested(self.tag, self.out, |r| bytes_field(1, raw.get().as_bytes(), r));
                }
                Ok(())
            }
            _ => d.deserialize_any(self),
        }
    }
}

/// A message, unless it is `null`.
struct Present<'a>(MsgSeed<'a>);

impl<'de> Visitor<'de> for Present<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<bool, A::Error> {
        self.0.visit_map(map).map(|()| true)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a {:?}", self.ty)
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        match self.ty {
            Ty::Bool => varint_field(self.tag, u64::from(v), self.out),
            _ => return Err(E::custom(format!("a bool where a {:?} belongs", self.ty))),
        }
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        match self.ty {
            Ty::Int32 | Ty::Int64 => varint_field(self.tag, v as u64, self.out),
            Ty::Double => self.visit_f64(v as f64)?,
            Ty::IntOrString => nested(self.tag, self.out, |m| {
                varint_field(1, 0, m);
                varint_field(2, v as u64, m);
            }),
            Ty::Quantity | Ty::String => self.visit_str(&v.to_string())?,
            _ => return Err(E::custom(format!("a number where a {:?} belongs", self.ty))),
        }
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.visit_i64(v as i64)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        match self.ty {
            Ty::Double => {
                key(self.tag, 1, self.out);
                self.out.extend_from_slice(&v.to_le_bytes());
            }
            Ty::Quantity | Ty::String => self.visit_str(&v.to_string())?,
            _ => return Err(E::custom(format!("a number where a {:?} belongs", self.ty))),
        }
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        match self.ty {
            Ty::String | Ty::Bytes => bytes_field(self.tag, v.as_bytes(), self.out),
            Ty::Quantity => nested(self.tag, self.out, |m| bytes_field(1, v.as_bytes(), m)),
            Ty::IntOrString => nested(self.tag, self.out, |m| {
                varint_field(1, 1, m);
                bytes_field(3, v.as_bytes(), m);
            }),
            Ty::Time => {
                let t = chrono::DateTime::parse_from_rfc3339(v)
                    .map_err(|e| E::custom(format!("time {v:?}: {e}")))?;
                nested(self.tag, self.out, |m| {
                    varint_field(1, t.timestamp() as u64, m);
                    if t.timestamp_subsec_nanos() != 0 {
                        varint_field(2, u64::from(t.timestamp_subsec_nanos()), m);
                    }
                });
            }
            _ => return Err(E::custom(format!("a string where a {:?} belongs", self.ty))),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_has_the_upstream_tags_and_the_inlined_volume_source() {
        let s = &*SCHEMA;
        let f =
            |m: &str, n: &str| s.fields[s.names[m]].iter().find(|f| f.name == n).map(|f| (f.tag, f.inline));
        assert_eq!(f("PodSpec", "hostPID"), Some((12, false)));
        assert_eq!(f("PodSpec", "initContainers"), Some((20, false)));
        assert_eq!(f("ObjectMeta", "managedFields"), Some((17, false)));
        assert_eq!(f("Volume", "volumeSource"), Some((2, true)));
        assert_eq!(f("NodeStatus", "allocatable"), Some((2, false)));
    }

    #[test]
    fn fields_outside_the_schema_are_an_error_and_kind_is_the_envelopes() {
        let mut out = Vec::new();
        encode("Pod", br#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p"}}"#, &mut out).unwrap();
        assert_eq!(out, [0x0a, 3, 0x0a, 1, b'p']);
        let e = encode("Pod", br#"{"metadata":{"nmae":"p"}}"#, &mut Vec::new()).unwrap_err();
        assert!(e.contains("nmae"), "{e}");
    }

    /// Every realistic pod and node body encodes (no field outside the schema), and the generated
    /// types read back what the JSON body says, managedFields, env and probes included.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn realistic_bodies_encode_whole_and_decode_with_the_generated_types() {
        use k8s_pb::api::core::v1 as pb;
        use prost::Message;
        use serde_json::Value;
        let cfg = crate::serve::ServeConfig {
            sim: crate::SimConfig { nodes: 12, ..crate::SimConfig::default() },
            pods: Some(300),
            now: Some(clustertop_core::testkit::T0),
            step: std::time::Duration::from_secs(3600),
            ..crate::serve::ServeConfig::default()
        };
        let server = crate::serve::Server::start(cfg).await.unwrap();
        let objs: Vec<(usize, Vec<u8>, Vec<u8>)> = {
            let st = server.app.lock();
            let idx = |p: &str| super::super::kinds::KINDS.iter().position(|k| k.plural == p).unwrap();
            [idx("pods"), idx("nodes")]
                .into_iter()
                .flat_map(|k| {
                    st.stores[k]
                        .values()
                        .map(move |o| (k, super::super::real::body(&o.json).to_vec(), o.json.to_vec()))
                })
                .collect()
        };
        let (mut json_bytes, mut pb_bytes, mut pods) = (0, 0, 0);
        for (k, json, stored) in &objs {
            let kind = super::super::kinds::KINDS[*k].kind;
            let env = object("v1", kind, json).unwrap_or_else(|e| panic!("{kind}: {e}"));
            json_bytes += json.len();
            pb_bytes += env.len();
            assert_eq!(env[..4], MAGIC);
            let unk = k8s_pb::apimachinery::pkg::runtime::Unknown::decode(&env[4..]).unwrap();
            assert_eq!(unk.type_meta.and_then(|t| t.kind).as_deref(), Some(kind));
            let raw = unk.raw.unwrap();
            let v: Value = serde_json::from_slice(json).unwrap();
            // The stored body (blob markers, encoded from the blobs' cache) says the same.
            let from_stored = object("v1", kind, stored).unwrap();
            let raw_stored =
                k8s_pb::apimachinery::pkg::runtime::Unknown::decode(&from_stored[4..]).unwrap().raw.unwrap();
            let n = |v: &Value| v.as_array().map_or(0, Vec::len);
            let m = |v: &Value| v.as_object().map_or(0, |o| o.len());
            if kind == "Pod" {
                pods += 1;
                let p = pb::Pod::decode(raw.as_slice()).unwrap();
                assert_eq!(pb::Pod::decode(raw_stored.as_slice()).unwrap(), p);
                let (meta, spec, status) = (p.metadata.unwrap(), p.spec.unwrap(), p.status.unwrap());
                assert_eq!(meta.name.as_deref(), v["metadata"]["name"].as_str());
                assert_eq!(meta.labels.len(), m(&v["metadata"]["labels"]));
                assert_eq!(meta.managed_fields.len(), n(&v["metadata"]["managedFields"]));
                assert_eq!(meta.owner_references.len(), n(&v["metadata"]["ownerReferences"]));
                assert_eq!(spec.volumes.len(), n(&v["spec"]["volumes"]));
                assert_eq!(spec.node_name.as_deref(), v["spec"]["nodeName"].as_str());
                let (c, cj) = (&spec.containers[0], &v["spec"]["containers"][0]);
                assert_eq!(c.env.len(), n(&cj["env"]));
                assert_eq!(c.liveness_probe.is_some(), cj["livenessProbe"].is_object());
                assert_eq!(c.volume_mounts.len(), n(&cj["volumeMounts"]));
                assert_eq!(status.phase.as_deref(), v["status"]["phase"].as_str());
                assert_eq!(status.conditions.len(), n(&v["status"]["conditions"]));
                assert_eq!(status.container_statuses.len(), n(&v["status"]["containerStatuses"]));
            } else {
                let node = pb::Node::decode(raw.as_slice()).unwrap();
                assert_eq!(pb::Node::decode(raw_stored.as_slice()).unwrap(), node);
                let (meta, status) = (node.metadata.unwrap(), node.status.unwrap());
                assert_eq!(meta.labels.len(), m(&v["metadata"]["labels"]));
                assert_eq!(meta.annotations.len(), m(&v["metadata"]["annotations"]));
                assert_eq!(meta.managed_fields.len(), n(&v["metadata"]["managedFields"]));
                assert_eq!(status.conditions.len(), n(&v["status"]["conditions"]));
                assert_eq!(status.allocatable.len(), m(&v["status"]["allocatable"]));
                assert_eq!(status.images.len(), n(&v["status"]["images"]));
            }
        }
        assert!(pods >= 300, "{pods}");
        assert!(pb_bytes < json_bytes, "protobuf {pb_bytes} B, JSON {json_bytes} B");
        server.shutdown().await;
    }

    /// Nested messages written in place (two bytes kept for the length) give what prost writes,
    /// at each length where the varint changes size: under 128 bytes, to 16 KB, above.
    #[test]
    fn nested_lengths_are_minimal_varints_at_every_size() {
        use k8s_pb::api::core::v1 as pb;
        use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
        use prost::Message;
        for len in [
            1, 100, 120, 123, 124, 125, 126, 127, 128, 129, 16_370, 16_379, 16_380, 16_383, 16_384, 20_000,
            2_100_000,
        ] {
            let v = "x".repeat(len);
            let json = format!(
                r#"{{"metadata":{{"annotations":{{"a":"{v}"}}}},"spec":{{"containers":[{{"name":"{v}"}}]}}}}"#
            );
            let mut out = Vec::new();
            encode("Pod", json.as_bytes(), &mut out).unwrap();
            let want = pb::Pod {
                metadata: Some(meta::ObjectMeta {
                    annotations: [("a".to_string(), v.clone())].into(),
                    ..Default::default()
                }),
                spec: Some(pb::PodSpec {
                    containers: vec![pb::Container { name: Some(v), ..Default::default() }],
                    ..Default::default()
                }),
                ..Default::default()
            };
            assert_eq!(out, want.encode_to_vec(), "{len} bytes");
        }
    }

    /// A watch event and a list encoded in place are the bytes of the envelope and frame written
    /// around the encoded object.
    #[test]
    fn frames_and_lists_encoded_in_place_are_the_envelopes_bytes() {
        let pod = |n: usize| {
            format!(
                r#"{{"kind":"Pod","apiVersion":"v1","metadata":{{"name":"p{n}","labels":{{"app":"{}"}}}}}}"#,
                "a".repeat(n * 40)
            )
        };
        for n in [0, 1, 3, 400] {
            let json = pod(n);
            for typ in ["ADDED", "BOOKMARK"] {
                let want = watch_frame(typ, &object("v1", "Pod", json.as_bytes()).unwrap());
                assert_eq!(watch_event(typ, "v1", "Pod", json.as_bytes()).unwrap(), want, "{n} {typ}");
                let mut out = b"before".to_vec();
                watch_event_into(typ, "v1", "Pod", json.as_bytes(), &mut Vec::new(), &mut out).unwrap();
                assert_eq!(out[6..], want, "{n} {typ}, appended");
            }
            let meta = list_meta("42", Some("next"));
            let mut buf = list_buf(&meta, 0);
            let mut list = Vec::new();
            list_meta_field(&meta, &mut list);
            for i in 0..n {
                list_item("Pod", pod(i).as_bytes(), &mut buf).unwrap();
                let mut raw = Vec::new();
                encode("Pod", pod(i).as_bytes(), &mut raw).unwrap();
                item(&raw, &mut list);
            }
            let mut want = Vec::new();
            envelope("v1", "PodList", &list, &mut want);
            assert_eq!(list_body("v1", "PodList", buf), want, "{n} items");
        }
    }

    #[test]
    fn accept_asks_for_protobuf_only_by_its_media_type() {
        assert!(wanted(Some("application/vnd.kubernetes.protobuf, application/json")));
        assert!(wanted(Some("application/json;q=0.9,application/vnd.kubernetes.protobuf")));
        assert!(!wanted(Some("application/json")));
        assert!(!wanted(None));
    }
}
