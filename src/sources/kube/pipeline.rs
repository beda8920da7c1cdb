//! A watcher for the large kinds (nodes, pods). Its initial list is a streaming list (a watch with
//! `sendInitialEvents=true`, the WatchList feature: the server never builds a whole list) where
//! the server offers it, decoded in batches on blocking threads while the next events arrive
//! (`stream_list.rs`), complete only at the `k8s.io/initial-events-end` bookmark. A server that
//! refuses it (422 `Invalid`, as upstream's validation answers without the feature) gets
//! paginated lists from then on, as client-go's reflector falls back: page n decodes on a
//! blocking thread while page n+1 is fetched. Either way a sync takes about the time the bytes
//! take to arrive.
//! After the list it watches from the list's resourceVersion (bookmarks on) and relists on
//! `410 Gone`, as kube's watcher does; errors become health the same way (`map::watch_error_health`).
//!
//! Pages are decoded into a list type without kube's `ObjectList` (whose flattened type fields
//! make serde buffer every item before decoding it), only into the slim fields `K` names.

use std::collections::VecDeque;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;
use kube::api::{ListParams, WatchEvent, WatchParams};
use kube::core::Request;
use kube::runtime::watcher;
use kube::{Client, Resource, ResourceExt};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::map;
use super::pb::{self, Proto};
use super::state::{Ev, Kind, Obj};
use super::stream_list::{Streamed, stream_list};
use super::watch::Msg;
use crate::model::SourceHealth;

/// Pages decoded or being decoded while the next is fetched (each holds its page's text).
const IN_FLIGHT: usize = 2;

/// One list page: only the metadata and the items, each item only as far as `K` reads it.
#[derive(Deserialize)]
#[serde(bound = "K: DeserializeOwned")]
struct Page<K> {
    #[serde(default)]
    metadata: ListMeta,
    #[serde(default = "Vec::new", deserialize_with = "null_as_empty")]
    items: Vec<K>,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>, K: DeserializeOwned>(d: D) -> Result<Vec<K>, D::Error> {
    Ok(Option::<Vec<K>>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize)]
struct Head {
    metadata: Option<ListMeta>,
}

/// The list metadata of a page from its text alone, when it comes before the items (as the API
/// server writes it), so the next page can be asked for before this one is decoded.
fn head(text: &[u8]) -> Option<ListMeta> {
    const ITEMS: &[u8] = b"\"items\":";
    let at = text.windows(ITEMS.len()).position(|w| w == ITEMS)?;
    let prefix = std::str::from_utf8(&text[..at]).ok()?.trim_end().trim_end_matches(',');
    serde_json::from_str::<Head>(&format!("{prefix}}}")).ok()?.metadata
}

pub(super) type Reduced = Vec<(String, Obj)>;

/// Send `req` asking for protobuf with JSON as the fallback: the answer's body, and whether it is
/// protobuf (by its Content-Type). An error status becomes `kube::Error::Api`, as kube's own
/// requests make it.
pub(super) async fn send(
    client: &Client,
    req: http::Request<Vec<u8>>,
) -> Result<(kube::client::Body, bool), kube::Error> {
    let res = client.send(accept(req).map(kube::client::Body::from)).await?;
    let status = res.status();
    let protobuf = pb::is_protobuf(content_type(res.headers()));
    let mut body = res.into_body();
    if status.is_client_error() || status.is_server_error() {
        let mut buf = Vec::new();
        read_all(&mut body, &mut buf).await?;
        return Err(api_error(status, protobuf, &buf));
    }
    Ok((body, protobuf))
}

/// Append the rest of `body` to `buf`.
async fn read_all(body: &mut kube::client::Body, buf: &mut Vec<u8>) -> Result<(), kube::Error> {
    use http_body_util::BodyExt;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            buf.extend_from_slice(&data);
        }
    }
    Ok(())
}

/// GET `req` into `buf` (cleared first): one copy from the connection's chunks, into a buffer that
/// is reused page after page (a fresh 5 MB buffer per page costs more in the allocator than the
/// parse). Returns whether the answer is protobuf.
async fn fetch(client: &Client, req: http::Request<Vec<u8>>, buf: &mut Vec<u8>) -> Result<bool, kube::Error> {
    buf.clear();
    let (mut body, protobuf) = send(client, req).await?;
    read_all(&mut body, buf).await?;
    Ok(protobuf)
}

/// The request asking for protobuf, JSON as the fallback.
fn accept<B>(mut req: http::Request<B>) -> http::Request<B> {
    req.headers_mut().insert(http::header::ACCEPT, http::HeaderValue::from_static(pb::ACCEPT));
    req
}

fn content_type(h: &http::HeaderMap) -> Option<&str> {
    h.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok())
}

/// The `Status` of an error answer, in protobuf or JSON; its text when it is neither.
fn api_error(status: http::StatusCode, protobuf: bool, body: &[u8]) -> kube::Error {
    let decoded = if protobuf {
        pb::status(body).ok()
    } else {
        serde_json::from_slice::<kube::core::Status>(body).ok()
    };
    let s = decoded.filter(|s| s.code != 0).unwrap_or_else(|| {
        let text = String::from_utf8_lossy(body);
        kube::core::Status::failure(text.trim(), "Failed to parse error data").with_code(status.as_u16())
    });
    kube::Error::Api(s.boxed())
}

/// A body that does not decode: an error the watcher reports and relists after.
fn undecodable(e: impl std::error::Error + Send + Sync + 'static) -> kube::Error {
    kube::Error::ReadEvents(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

fn decode<K, F>(text: &[u8], protobuf: bool, f: &F) -> Result<(ListMeta, Reduced), kube::Error>
where
    K: DeserializeOwned + Proto,
    F: Fn(K) -> Option<(String, Obj)>,
{
    if protobuf {
        let (meta, items) = K::list(text).map_err(undecodable)?;
        return Ok((meta, items.into_iter().filter_map(f).collect()));
    }
    let page: Page<K> = serde_json::from_slice(text).map_err(kube::Error::SerdeError)?;
    Ok((page.metadata, page.items.into_iter().filter_map(f).collect()))
}

/// Why a list stopped: the server's error, or the receiver is gone.
pub(super) enum Stop {
    Api(kube::Error),
    Closed,
}

impl From<kube::Error> for Stop {
    fn from(e: kube::Error) -> Self {
        Stop::Api(e)
    }
}

/// List every page of `path`, sending `InitApply`s in order; returns the list's resourceVersion
/// and whether its pages came in protobuf.
async fn list<K, F>(
    client: &Client,
    path: &str,
    page_size: u32,
    kind: Kind,
    f: &Arc<F>,
    tx: &mpsc::Sender<Msg>,
) -> Result<(String, bool), Stop>
where
    K: DeserializeOwned + Proto + Send + 'static,
    F: Fn(K) -> Option<(String, Obj)> + Send + Sync + 'static,
{
    let mut pending: VecDeque<Pending> = VecDeque::new();
    // Page buffers come back from the decoder to be filled again.
    let (back_tx, mut back_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let mut token: Option<String> = None;
    let mut rv = String::new();
    let mut in_protobuf = true;
    loop {
        let mut lp = ListParams::default().limit(page_size.max(1));
        if let Some(t) = &token {
            lp = lp.continue_token(t);
        }
        let req = Request::new(path).list(&lp).map_err(kube::Error::BuildRequest)?;
        let mut text = back_rx.try_recv().unwrap_or_default();
        let protobuf = fetch(client, req, &mut text).await?;
        in_protobuf &= protobuf;
        let known = if protobuf { pb::head(&text) } else { head(&text) };
        let (g, back) = (f.clone(), back_tx.clone());
        pending.push_back(tokio::task::spawn_blocking(move || {
            let r = decode::<K, F>(&text, protobuf, &*g);
            let _ = back.send(text);
            r
        }));
        // The continue token is known without decoding: fetch the next page meanwhile.
        let meta = match known {
            Some(m) => m,
            None => {
                // The server put the items first: decode this page before asking for the next.
                let (m, _) = drain(&mut pending, 0, kind, tx).await?;
                m.unwrap_or_default()
            }
        };
        if let Some(v) = &meta.resource_version {
            rv.clone_from(v);
        }
        token = meta.continue_.filter(|c| !c.is_empty());
        let keep = if token.is_some() { IN_FLIGHT - 1 } else { 0 };
        drain(&mut pending, keep, kind, tx).await?;
        if token.is_none() {
            return Ok((rv, in_protobuf));
        }
    }
}

type Pending = JoinHandle<Result<(ListMeta, Reduced), kube::Error>>;

/// Wait for the oldest decoded pages until at most `keep` are pending, sending their objects;
/// returns the last one's metadata.
async fn drain(
    pending: &mut VecDeque<Pending>,
    keep: usize,
    kind: Kind,
    tx: &mpsc::Sender<Msg>,
) -> Result<(Option<ListMeta>, ()), Stop> {
    let mut last = None;
    while pending.len() > keep {
        let Some(h) = pending.pop_front() else { break };
        let (meta, items) = match h.await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return Err(Stop::Api(e)),
            Err(e) => return Err(Stop::Api(kube::Error::Service(Box::new(e)))),
        };
        for (key, o) in items {
            if tx.send(Msg::Ev(kind, Ev::InitApply(key, o))).await.is_err() {
                return Err(Stop::Closed);
            }
        }
        last = Some(meta);
    }
    Ok((last, ()))
}

/// 0.5 s doubling to 1 s, plus up to 1 s of jitter: `watch::reconnect_backoff`'s schedule.
struct Backoff(Duration);

impl Backoff {
    fn new() -> Self {
        Backoff(Duration::from_millis(500))
    }
    async fn wait(&mut self) {
        let jitter = Duration::from_millis(u64::from(rand_jitter()) % 1000);
        tokio::time::sleep(self.0 + jitter).await;
        self.0 = (self.0 * 2).min(Duration::from_secs(1));
    }
    fn reset(&mut self) {
        self.0 = Duration::from_millis(500);
    }
}

fn rand_jitter() -> u32 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0)
}

/// Report `e`; true when the receiver is gone or the kind does not exist (stop watching).
async fn report(kind: Kind, e: &watcher::Error, tx: &mpsc::Sender<Msg>) -> bool {
    let Some((scope, h)) = map::watch_error_health(e, kind.scope()) else { return false };
    let gone = h == SourceHealth::NotInstalled;
    tx.send(Msg::Health(kind, scope, h, map::retry_after(e))).await.is_err() || gone
}

fn is_gone(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 410)
}

/// Open a watch of `path` from `rv`, asking for protobuf (JSON as the fallback): its events, in
/// the encoding the server answered with (newline-delimited JSON, or protobuf frames).
async fn open_watch<K>(
    client: &Client,
    path: &str,
    wp: &WatchParams,
    rv: &str,
) -> Result<(Events<K>, bool), kube::Error>
where
    K: Resource + DeserializeOwned + Proto + Send + 'static,
{
    let req = Request::new(path).watch(wp, rv).map_err(kube::Error::BuildRequest)?;
    let (body, protobuf) = send(client, req).await?;
    Ok((events::<K>(chunks(body), Vec::new(), protobuf), protobuf))
}

/// A response body's bytes, as they arrive.
pub(super) type Chunks = futures::stream::BoxStream<'static, Result<hyper::body::Bytes, kube::Error>>;

pub(super) fn chunks(body: kube::client::Body) -> Chunks {
    use http_body_util::BodyExt;
    body.into_data_stream().boxed()
}

/// The events of a watch's body: those in `buf` (bytes already read), then those of `chunks`.
/// Bytes left of an event at the end are an error.
pub(super) fn events<K>(chunks: Chunks, buf: Vec<u8>, protobuf: bool) -> Events<K>
where
    K: Resource + DeserializeOwned + Proto + Send + 'static,
{
    // `buf[at..]` is not yet decoded (moved to the front only when more bytes are needed).
    futures::stream::unfold(
        (chunks, buf, 0usize, false),
        move |(mut chunks, mut buf, mut at, mut done)| async move {
            loop {
                if let Some((ev, used)) = next_event::<K>(&buf[at..], protobuf) {
                    at += used;
                    return Some((ev, (chunks, buf, at, done)));
                }
                buf.drain(..at);
                at = 0;
                if done {
                    if buf.is_empty() {
                        return None;
                    }
                    let left = buf.len();
                    buf.clear();
                    let e = pb::Error::Frame(left);
                    return Some((Err(undecodable(e)), (chunks, buf, 0, true)));
                }
                match chunks.next().await {
                    Some(Ok(data)) => buf.extend_from_slice(&data),
                    Some(Err(e)) => {
                        buf.clear();
                        return Some((Err(e), (chunks, buf, 0, true)));
                    }
                    None => done = true,
                }
            }
        },
    )
    .boxed()
}

/// The first complete event in `buf` and the bytes it took.
pub(super) fn next_event<K>(buf: &[u8], protobuf: bool) -> Option<(Result<WatchEvent<K>, kube::Error>, usize)>
where
    K: Resource + DeserializeOwned + Proto,
{
    if protobuf {
        let (frame, used) = pb::frame(buf)?;
        return Some((pb_event(frame).map_err(undecodable), used));
    }
    let mut from = 0;
    loop {
        let end = from + buf[from..].iter().position(|&b| b == b'\n')?;
        let line = &buf[from..end];
        if !line.trim_ascii().is_empty() {
            return Some((serde_json::from_slice(line).map_err(kube::Error::SerdeError), end + 1));
        }
        from = end + 1;
    }
}

/// A protobuf watch event (a `WatchEvent` frame whose object is an envelope).
fn pb_event<K: Resource + Proto>(frame: &[u8]) -> Result<WatchEvent<K>, pb::Error> {
    use prost::Message;
    let ev = pb::PbWatchEvent::decode(frame)?;
    let raw = ev.object.and_then(|o| o.raw).unwrap_or_default();
    Ok(match ev.r#type.as_deref().unwrap_or_default() {
        "ADDED" => WatchEvent::Added(K::one(&raw)?),
        "MODIFIED" => WatchEvent::Modified(K::one(&raw)?),
        "DELETED" => WatchEvent::Deleted(K::one(&raw)?),
        "BOOKMARK" => {
            let (resource_version, annotations) = pb::bookmark(&raw)?;
            WatchEvent::Bookmark(kube::core::watch::Bookmark {
                types: kube::core::TypeMeta::default(),
                metadata: kube::core::watch::BookmarkMeta { resource_version, annotations },
            })
        }
        _ => WatchEvent::Error(Box::new(pb::status(&raw)?)),
    })
}

pub(super) type Events<K> = futures::stream::BoxStream<'static, Result<WatchEvent<K>, kube::Error>>;

/// List (streaming, or pipelined pages) and watch `K` forever, sending reduced events; returns
/// when `tx` closes.
pub async fn watch<K, F>(client: Client, page_size: u32, kind: Kind, f: F, tx: mpsc::Sender<Msg>)
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Proto + Debug + Send + 'static,
    F: Fn(K) -> Option<(String, Obj)> + Send + Sync + 'static,
{
    let path = K::url_path(&(), None);
    let f = Arc::new(f);
    let mut backoff = Backoff::new();
    // Until the server says it does not offer streaming lists.
    let mut streaming = true;
    loop {
        if tx.send(Msg::Ev(kind, Ev::Init)).await.is_err() {
            return;
        }
        let mut carried = None;
        let listed = if streaming {
            match stream_list::<K, F>(&client, &path, kind, &f, &tx).await {
                Ok(Streamed::Listed(rv, protobuf, events)) => {
                    carried = Some(events);
                    Ok((rv, protobuf))
                }
                Ok(Streamed::Unsupported) => {
                    streaming = false;
                    // What the refused stream sent is dropped with a new start.
                    if tx.send(Msg::Ev(kind, Ev::Init)).await.is_err() {
                        return;
                    }
                    list::<K, F>(&client, &path, page_size, kind, &f, &tx).await
                }
                Err(e) => Err(e),
            }
        } else {
            list::<K, F>(&client, &path, page_size, kind, &f, &tx).await
        };
        let mut rv = match listed {
            Ok((rv, protobuf)) => {
                let how = if carried.is_some() { "watch-list" } else { "paginated" };
                let note = format!("list: {how}, {}", if protobuf { "protobuf" } else { "JSON" });
                if tx.send(Msg::Note(kind, note)).await.is_err() {
                    return;
                }
                rv
            }
            Err(Stop::Closed) => return,
            Err(Stop::Api(e)) => {
                if report(kind, &watcher::Error::InitialListFailed(e), &tx).await {
                    return;
                }
                backoff.wait().await;
                continue;
            }
        };
        if tx.send(Msg::Ev(kind, Ev::InitDone)).await.is_err() {
            return;
        }
        backoff.reset();
        // Watch from the list's version until the server says it is too old (410): then relist.
        'watch: loop {
            let wp = WatchParams::default().timeout(290);
            // A streaming list's stream goes on with the changes.
            let opened = match carried.take() {
                Some(s) => Ok(s),
                None => open_watch::<K>(&client, &path, &wp, &rv).await.map(|(s, _)| s),
            };
            let mut stream = match opened {
                Ok(s) => s,
                Err(e) => {
                    let gone = is_gone(&e);
                    if report(kind, &watcher::Error::WatchStartFailed(e), &tx).await {
                        return;
                    }
                    if gone {
                        break 'watch;
                    }
                    backoff.wait().await;
                    continue;
                }
            };
            while let Some(item) = stream.next().await {
                let ev = match item {
                    Ok(WatchEvent::Added(k) | WatchEvent::Modified(k)) => {
                        rv = k.resource_version().unwrap_or_else(|| rv.clone());
                        f(k).map(|(key, o)| Ev::Apply(key, o))
                    }
                    Ok(WatchEvent::Deleted(k)) => {
                        rv = k.resource_version().unwrap_or_else(|| rv.clone());
                        f(k).map(|(key, _)| Ev::Delete(key))
                    }
                    Ok(WatchEvent::Bookmark(b)) => {
                        rv = b.metadata.resource_version;
                        None
                    }
                    Ok(WatchEvent::Error(s)) => {
                        let gone = s.code == 410;
                        if report(kind, &watcher::Error::WatchError(s), &tx).await {
                            return;
                        }
                        if gone {
                            break 'watch;
                        }
                        backoff.wait().await;
                        None
                    }
                    Err(e) => {
                        if report(kind, &watcher::Error::WatchFailed(e), &tx).await {
                            return;
                        }
                        backoff.wait().await;
                        None
                    }
                };
                if let Some(ev) = ev {
                    backoff.reset();
                    if tx.send(Msg::Ev(kind, ev)).await.is_err() {
                        return;
                    }
                }
            }
            if tx.is_closed() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_gives_the_continue_token_before_the_items_are_decoded() {
        let text = r#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"42","continue":"abc"},"items":[{"x":1}]}"#;
        let m = head(text.as_bytes()).expect("head");
        assert_eq!(m.resource_version.as_deref(), Some("42"));
        assert_eq!(m.continue_.as_deref(), Some("abc"));
        // Items first: not known from the head.
        assert_eq!(head(br#"{"items":[],"metadata":{"continue":"x"}}"#), None);
        assert_eq!(head(b"not json"), None);
    }

    #[derive(Deserialize)]
    struct N {
        n: i64,
    }

    impl Proto for N {
        fn list(_: &[u8]) -> Result<(ListMeta, Vec<Self>), pb::Error> {
            Err(pb::Error::Magic)
        }
        fn one(_: &[u8]) -> Result<Self, pb::Error> {
            Err(pb::Error::Magic)
        }
    }

    #[test]
    fn a_page_decodes_without_its_type_fields_and_with_null_items() {
        let f = |v: N| Some((v.n.to_string(), Obj::Present));
        let (m, items) = decode(
            br#"{"kind":"X","metadata":{"resourceVersion":"7"},"items":[{"n":1},{"n":2}]}"#,
            false,
            &f,
        )
        .expect("page");
        assert_eq!(m.resource_version.as_deref(), Some("7"));
        assert_eq!(items.len(), 2);
        let (_, none) = decode(br#"{"items":null}"#, false, &f).expect("null items");
        assert!(none.is_empty());
        assert!(decode(br#"{"items":[{"n":1}"#, false, &f).is_err(), "a page cut short is an error");
        assert!(decode(br#"{"items":[]}"#, true, &f).is_err(), "protobuf by its Content-Type");
    }
}
