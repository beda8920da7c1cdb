//! A streaming list's initial events (a watch with `sendInitialEvents=true`, the WatchList
//! feature), decoded on blocking threads while the next bytes arrive, as the paginated list
//! decodes page n while page n+1 is fetched: the body is cut into batches of whole events
//! (newline-delimited JSON, or length-delimited protobuf frames), each handed to a decoder once it
//! holds [`BATCH`] bytes, or at once when no batch is being decoded. At most [`IN_FLIGHT`]
//! batches are decoded while one more is read, so memory stays flat; their objects are sent in
//! the order they came.
//!
//! The list is complete only at the `k8s.io/initial-events-end` bookmark; the bytes after it are
//! the watch's (the stream goes on with the changes). An ERROR event, an event that does not
//! decode, or a body that ends before the bookmark is an error (the kind is relisted, never shown
//! as complete); another event than ADDED before it means the server ignored
//! `sendInitialEvents`.

use std::collections::VecDeque;
use std::sync::Arc;

use futures::StreamExt;
use kube::api::{WatchEvent, WatchParams};
use kube::core::Request;
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::pb::{self, Proto};
use super::pipeline::{self, Chunks, Events, Reduced, Stop};
use super::state::{Ev, Kind, Obj};
use super::watch::Msg;

/// A batch goes to a decoder once it holds this many bytes (sooner when no decoder is busy).
const BATCH: usize = 4 << 20;
/// Batches decoded or being decoded while the next is read.
const IN_FLIGHT: usize = 2;

/// The annotation of the BOOKMARK that ends a streaming list's initial events.
const INITIAL_EVENTS_END: &str = "k8s.io/initial-events-end";

/// How a streaming list went.
pub(super) enum Streamed<K> {
    /// Every object was sent (`InitApply`): the list's resourceVersion, whether it came in
    /// protobuf, and the stream, which goes on with the changes.
    Listed(String, bool, Events<K>),
    /// The server does not offer streaming lists: it refused the request as invalid (422, or
    /// 400), or sent other events before the initial-events-end bookmark (it ignored
    /// `sendInitialEvents`).
    Unsupported,
}

fn refused(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 422 || s.code == 400)
}

/// A stream that ended, or failed, before the initial-events-end bookmark: an error (the kind is
/// relisted; what came is never shown as the complete list).
fn ended_early(objects: usize, cause: Option<&dyn std::fmt::Display>) -> kube::Error {
    let mut msg =
        format!("the streaming list ended after {objects} objects, before its initial-events-end bookmark");
    if let Some(c) = cause {
        msg = format!("{msg}: {c}");
    }
    kube::Error::ReadEvents(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, msg))
}

/// The initial list of `path` as a streaming list (`sendInitialEvents=true`,
/// `resourceVersionMatch=NotOlderThan`, bookmarks on), sending an `InitApply` per ADDED event.
pub(super) async fn stream_list<K, F>(
    client: &Client,
    path: &str,
    kind: Kind,
    f: &Arc<F>,
    tx: &mpsc::Sender<Msg>,
) -> Result<Streamed<K>, Stop>
where
    K: Resource + DeserializeOwned + Proto + Send + 'static,
    F: Fn(K) -> Option<(String, Obj)> + Send + Sync + 'static,
{
    let wp = WatchParams::streaming_lists().timeout(290);
    // No resourceVersion: the newest state (a consistent read), as client-go asks for it.
    let req = Request::new(path).watch(&wp, "").map_err(kube::Error::BuildRequest)?;
    let (body, protobuf) = match pipeline::send(client, req).await {
        Ok(s) => s,
        Err(e) if refused(&e) => return Ok(Streamed::Unsupported),
        Err(e) => return Err(Stop::Api(e)),
    };
    initial_events(pipeline::chunks(body), protobuf, kind, f, tx).await
}

/// What ended a streaming list's initial events.
enum End {
    /// The initial-events-end bookmark: the list's resourceVersion.
    Listed(String),
    /// Another event than ADDED.
    Unsupported,
    /// An ERROR event.
    Error(kube::Error),
    /// An event that does not decode.
    Undecodable(kube::Error),
}

/// A decoded batch.
struct Decoded {
    items: Reduced,
    /// Its ADDED events.
    added: usize,
    /// The event that ended the initial events, if the batch holds it, and where the bytes after
    /// it start.
    end: Option<(End, usize)>,
    text: Vec<u8>,
}

fn is_end(b: &kube::core::watch::Bookmark) -> bool {
    b.metadata.annotations.get(INITIAL_EVENTS_END).is_some_and(|v| v == "true")
}

/// Decode a batch of whole events up to the one that ends the initial events.
fn decode_batch<K, F>(text: Vec<u8>, protobuf: bool, f: &F) -> Decoded
where
    K: Resource + DeserializeOwned + Proto,
    F: Fn(K) -> Option<(String, Obj)>,
{
    let (mut items, mut added) = (Vec::new(), 0);
    let mut end = None;
    let mut take = |ev: Result<WatchEvent<K>, kube::Error>| match ev {
        Ok(WatchEvent::Added(k)) => {
            added += 1;
            items.extend(f(k));
            None
        }
        Ok(WatchEvent::Bookmark(b)) if is_end(&b) => Some(End::Listed(b.metadata.resource_version)),
        Ok(WatchEvent::Modified(_) | WatchEvent::Deleted(_) | WatchEvent::Bookmark(_)) => {
            Some(End::Unsupported)
        }
        Ok(WatchEvent::Error(s)) => Some(End::Error(kube::Error::Api(s))),
        Err(e) => Some(End::Undecodable(e)),
    };
    if protobuf {
        let mut at = 0;
        while let Some((ev, used)) = pipeline::next_event::<K>(&text[at..], true) {
            at += used;
            if let Some(e) = take(ev) {
                end = Some((e, at));
                break;
            }
        }
    } else {
        // One pass over the text (no separate search for each event's newline).
        let mut events = serde_json::Deserializer::from_slice(&text).into_iter::<WatchEvent<K>>();
        while let Some(ev) = events.next() {
            if let Some(e) = take(ev.map_err(kube::Error::SerdeError)) {
                end = Some((e, events.byte_offset()));
                break;
            }
        }
    }
    Decoded { items, added, end, text }
}

/// Where the whole events at the start of `buf` end.
fn whole_events(buf: &[u8], protobuf: bool) -> usize {
    if !protobuf {
        return buf.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    }
    let mut at = 0;
    while let Some((_, used)) = pb::frame(&buf[at..]) {
        at += used;
    }
    at
}

fn join_error(e: tokio::task::JoinError) -> Stop {
    Stop::Api(kube::Error::Service(Box::new(e)))
}

/// Read, decode in batches and send the initial events of a streaming list's body.
async fn initial_events<K, F>(
    mut chunks: Chunks,
    protobuf: bool,
    kind: Kind,
    f: &Arc<F>,
    tx: &mpsc::Sender<Msg>,
) -> Result<Streamed<K>, Stop>
where
    K: Resource + DeserializeOwned + Proto + Send + 'static,
    F: Fn(K) -> Option<(String, Obj)> + Send + Sync + 'static,
{
    let mut pending: VecDeque<JoinHandle<Decoded>> = VecDeque::new();
    // The bytes read and not yet handed to a decoder; decoded batches' buffers, to fill again.
    let mut buf: Vec<u8> = Vec::new();
    let mut spare: Vec<Vec<u8>> = Vec::new();
    let mut objects = 0usize;
    // Once the body has ended: why (`None` at its end, the error it failed with).
    let mut ended: Option<Option<kube::Error>> = None;
    loop {
        if pending.len() < IN_FLIGHT && (buf.len() >= BATCH || pending.is_empty()) {
            let whole = whole_events(&buf, protobuf);
            if whole > 0 {
                let mut rest = spare.pop().unwrap_or_default();
                rest.clear();
                rest.extend_from_slice(&buf[whole..]);
                buf.truncate(whole);
                let text = std::mem::replace(&mut buf, rest);
                let g = f.clone();
                pending.push_back(tokio::task::spawn_blocking(move || {
                    decode_batch::<K, F>(text, protobuf, &*g)
                }));
            }
        }
        if pending.is_empty()
            && let Some(why) = &ended
        {
            // Every whole event is decoded and none ended the list.
            let left = (!buf.is_empty()).then_some(pb::Error::Frame(buf.len()));
            let cause: Option<&dyn std::fmt::Display> = match (why, &left) {
                (Some(e), _) => Some(e),
                (None, Some(l)) => Some(l),
                (None, None) => None,
            };
            return Err(Stop::Api(ended_early(objects, cause)));
        }
        // Read on while there is room, or while nothing can be decoded without more bytes.
        let reading = ended.is_none() && (buf.len() < BATCH || pending.is_empty());
        tokio::select! {
            biased;
            Some(d) = async {
                match pending.front_mut() {
                    Some(h) => Some(h.await),
                    None => None,
                }
            }, if !pending.is_empty() => {
                pending.pop_front();
                let d = d.map_err(join_error)?;
                for (key, o) in d.items {
                    if tx.send(Msg::Ev(kind, Ev::InitApply(key, o))).await.is_err() {
                        return Err(Stop::Closed);
                    }
                }
                objects += d.added;
                let Some((end, at)) = d.end else {
                    spare.push(d.text);
                    continue;
                };
                return match end {
                    End::Listed(rv) => {
                        // The changes after it: the rest of its batch, the batches after it and
                        // the bytes not yet handed over, then the rest of the body.
                        let mut rest = d.text;
                        rest.drain(..at);
                        for h in pending {
                            rest.extend_from_slice(&h.await.map_err(join_error)?.text);
                        }
                        rest.extend_from_slice(&buf);
                        if let Some(why) = ended {
                            chunks = futures::stream::iter(why.map(Err)).boxed();
                        }
                        Ok(Streamed::Listed(rv, protobuf, pipeline::events::<K>(chunks, rest, protobuf)))
                    }
                    End::Unsupported => Ok(Streamed::Unsupported),
                    End::Error(e) => Err(Stop::Api(e)),
                    End::Undecodable(e) => Err(Stop::Api(ended_early(objects, Some(&e)))),
                };
            }
            c = chunks.next(), if reading => match c {
                Some(Ok(b)) => buf.extend_from_slice(&b),
                Some(Err(e)) => ended = Some(Some(e)),
                None => ended = Some(None),
            },
        }
    }
}

#[cfg(test)]
mod tests;
