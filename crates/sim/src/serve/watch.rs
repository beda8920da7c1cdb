//! Watch streams: newline-delimited `{type, object}` events after a resourceVersion, then live
//! ones; BOOKMARKs when asked; a single 410 `Expired` ERROR event when the history is gone.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::response::Response;
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_stream::wrappers::ReceiverStream;

use super::App;
use super::api::{expired, json_bytes};
use super::kinds::KINDS;
use super::select::Selector;
use super::state::Obj;
use super::table::{self, Include};

/// How often a watch that allows bookmarks gets one.
pub(crate) const BOOKMARK_EVERY: Duration = Duration::from_secs(3);
/// The bytes of initial events written to the connection at once.
const INITIAL_CHUNK: usize = 256 << 10;
/// Watches without `timeoutSeconds` end after this long, like the API server's default range.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

fn line(typ: &str, object: &[u8]) -> Bytes {
    let mut buf = Vec::with_capacity(object.len() + 32);
    buf.extend_from_slice(b"{\"type\":\"");
    buf.extend_from_slice(typ.as_bytes());
    buf.extend_from_slice(b"\",\"object\":");
    buf.extend_from_slice(object);
    buf.extend_from_slice(b"}\n");
    Bytes::from(buf)
}

fn error_line(message: &str, protobuf: bool) -> Bytes {
    let status = expired(message).to_string();
    if protobuf {
        return Bytes::from(super::proto::watch_frame("ERROR", &super::proto::status(status.as_bytes())));
    }
    line("ERROR", status.as_bytes())
}

/// The start of a stream: (cursor, epoch, objects to send as ADDED), or a 410 message.
type Begin = Result<(u64, u64, Vec<Arc<Obj>>), String>;

struct Watch {
    kind: usize,
    ns: Option<String>,
    sel: Selector,
    /// Each event's object as a one-row Table (`kubectl get -w`), for the kinds printed
    /// server-side.
    table: Option<Include>,
    /// Protobuf frames (`proto.rs`) instead of JSON lines.
    protobuf: bool,
}

impl Watch {
    /// One event: a JSON line, or a protobuf frame whose object is an envelope.
    fn event(&self, typ: &str, object: &[u8]) -> Bytes {
        if !self.protobuf {
            return line(typ, object);
        }
        let k = KINDS[self.kind];
        match super::proto::watch_event(typ, &k.api_version(), k.kind, object) {
            Ok(frame) => frame,
            Err(e) => {
                let status = super::api::status_value(500, "InternalError", &e, None).to_string();
                Bytes::from(super::proto::watch_frame("ERROR", &super::proto::status(status.as_bytes())))
            }
        }
    }

    /// The event of a stored object (in protobuf encoded from its stored body, whose blobs are
    /// encoded once).
    fn event_of(&self, typ: &str, o: &Obj) -> Bytes {
        if self.protobuf {
            return self.event(typ, &o.json);
        }
        self.event(typ, &self.object(o))
    }

    /// Append the event of a stored object to `out` (`scratch`: room to encode it in protobuf).
    fn write_event_of(&self, typ: &str, o: &Obj, scratch: &mut Vec<u8>, out: &mut Vec<u8>) {
        if self.protobuf {
            let k = KINDS[self.kind];
            let at = out.len();
            if super::proto::watch_event_into(typ, &k.api_version(), k.kind, &o.json, scratch, out).is_err() {
                out.truncate(at);
                out.extend_from_slice(&self.event_of(typ, o));
            }
        } else if self.table.is_none() {
            out.extend_from_slice(b"{\"type\":\"");
            out.extend_from_slice(typ.as_bytes());
            out.extend_from_slice(b"\",\"object\":");
            super::real::write(&o.json, out);
            out.extend_from_slice(b"}\n");
        } else {
            out.extend_from_slice(&self.event_of(typ, o));
        }
    }

    /// The event's object: as stored, or as the Table the client asked for.
    fn object(&self, o: &Obj) -> Bytes {
        let t = self.table.and_then(|inc| {
            let meta = serde_json::json!({});
            table::table(self.kind, &[super::real::body(&o.json).as_ref()], meta, inc, chrono::Utc::now())
        });
        match t {
            Some(t) => Bytes::from(serde_json::to_vec(&t).unwrap_or_default()),
            None => super::real::body(&o.json),
        }
    }

    fn wants(&self, kind: usize, o: &Obj) -> bool {
        kind == self.kind && self.ns.as_ref().is_none_or(|n| *n == o.ns) && self.sel.matches(o)
    }
}

/// How a watch is answered.
pub(crate) struct How {
    /// Each object as a one-row Table (`kubectl get -w`).
    pub table: Option<Include>,
    /// Protobuf frames instead of JSON lines.
    pub protobuf: bool,
    /// A streaming list (`sendInitialEvents=true`, `resourceVersionMatch=NotOlderThan`): every
    /// current object as ADDED, then a BOOKMARK annotated `k8s.io/initial-events-end: "true"`
    /// (when bookmarks are allowed, as upstream sends it), then the changes.
    pub initial: bool,
}

pub(crate) fn start(
    app: Arc<App>,
    kind: usize,
    ns: Option<String>,
    sel: Selector,
    q: &HashMap<String, String>,
    how: How,
) -> Response {
    let How { table, protobuf, initial: watch_list } = how;
    // A streaming list starts from the current state: with NotOlderThan, any version the server
    // has reached is not older (this server's state is always its newest).
    let from = q
        .get("resourceVersion")
        .filter(|r| !watch_list && !r.is_empty() && *r != "0")
        .map(|r| r.parse::<u64>());
    let from = match from {
        Some(Ok(rv)) => Some(rv),
        Some(Err(_)) => None,
        None => None,
    };
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT);
    let bookmarks = q.get("allowWatchBookmarks").is_some_and(|b| b == "true" || b == "1");
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let w = Watch { kind, ns, sel, table, protobuf };
    // Where the stream starts, fixed before the response goes out: after `from`, or the
    // current objects as ADDED.
    let begin: Begin = {
        let st = app.lock();
        match from {
            Some(rv) if rv < st.compacted => {
                Err(format!("too old resource version: {rv} ({})", st.compacted))
            }
            // Not from this server's history (it was restarted): like a compacted one, the client
            // must relist. (A real API server keeps etcd's versions across restarts.)
            Some(rv) if rv > st.rv => {
                Err(format!("resource version {rv} is not from this server (current {})", st.rv))
            }
            Some(rv) => Ok((rv, st.epoch, Vec::new())),
            None => {
                let ns = w.ns.clone();
                let objs: Vec<Arc<Obj>> = st.stores[w.kind]
                    .values()
                    .filter(|o| ns.as_ref().is_none_or(|n| *n == o.ns) && w.sel.matches(o))
                    .cloned()
                    .collect();
                Ok((st.rv, st.epoch, objs))
            }
        }
    };
    let end = (watch_list && bookmarks).then_some(if app.fault() == super::Fault::CutWatchList {
        InitialEnd::Cut
    } else {
        InitialEnd::Bookmark
    });
    tokio::spawn(run(app, w, begin, timeout, bookmarks, end, tx));
    let body = Body::from_stream(ReceiverStream::new(rx).map(Ok::<_, Infallible>));
    let mut resp = if protobuf {
        let mut r = super::api::proto_bytes(StatusCode::OK, Bytes::new());
        r.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static(super::proto::WATCH_MEDIA_TYPE),
        );
        r
    } else {
        json_bytes(StatusCode::OK, Bytes::new())
    };
    *resp.body_mut() = body;
    resp
}

/// How a streaming list's initial events end.
#[derive(Clone, Copy, PartialEq, Eq)]
enum InitialEnd {
    /// With the `k8s.io/initial-events-end` bookmark.
    Bookmark,
    /// Closed after half of them (`--fault cut-watch-list`).
    Cut,
}

/// A BOOKMARK's object: only the kind and the resourceVersion (and the annotation marking the end
/// of a streaming list's initial events).
fn bookmark(kind: usize, rv: u64, initial_end: bool) -> String {
    let k = KINDS[kind];
    let ann = if initial_end { r#","annotations":{"k8s.io/initial-events-end":"true"}"# } else { "" };
    format!(
        "{{\"kind\":\"{}\",\"apiVersion\":\"{}\",\"metadata\":{{\"resourceVersion\":\"{rv}\"{ann}}}}}",
        k.kind,
        k.api_version()
    )
}

async fn run(
    app: Arc<App>,
    w: Watch,
    begin: Begin,
    timeout: Duration,
    bookmarks: bool,
    end: Option<InitialEnd>,
    tx: mpsc::Sender<Bytes>,
) {
    let mut changed = app.changed.subscribe();
    let mut shutdown = app.shutdown.subscribe();
    let mut cut = app.cut.subscribe();
    let (mut cursor, epoch, initial) = match begin {
        Ok(b) => b,
        Err(msg) => {
            let _ = tx.send(error_line(&msg, w.protobuf)).await;
            return;
        }
    };
    // The initial events go in chunks of several events: fewer, larger writes.
    let half = initial.len() / 2;
    let (mut chunk, mut scratch) = (Vec::with_capacity(INITIAL_CHUNK * 2), Vec::new());
    for (i, o) in initial.into_iter().enumerate() {
        if end == Some(InitialEnd::Cut) && i == half {
            break;
        }
        w.write_event_of("ADDED", &o, &mut scratch, &mut chunk);
        if chunk.len() >= INITIAL_CHUNK {
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(INITIAL_CHUNK * 2));
            if tx.send(Bytes::from(full)).await.is_err() {
                return;
            }
        }
    }
    if !chunk.is_empty() && tx.send(Bytes::from(chunk)).await.is_err() {
        return;
    }
    if end == Some(InitialEnd::Cut) {
        return;
    }
    if end == Some(InitialEnd::Bookmark)
        && tx.send(w.event("BOOKMARK", bookmark(w.kind, cursor, true).as_bytes())).await.is_err()
    {
        return;
    }
    let deadline = Instant::now() + timeout;
    let mut next_bookmark = Instant::now() + BOOKMARK_EVERY;
    loop {
        // The events are picked under the lock and encoded outside it (a protobuf event is
        // encoded from the JSON body: not to be done while the stepper and requests wait).
        let batch: Result<Vec<(&'static str, Arc<Obj>)>, String> = {
            let st = app.lock();
            if st.epoch != epoch || cursor < st.compacted {
                Err(format!("too old resource version: {cursor} ({})", st.compacted))
            } else {
                let start = st.history.partition_point(|e| e.rv <= cursor);
                let out = st
                    .history
                    .iter()
                    .skip(start)
                    .filter(|e| w.wants(e.kind, &e.obj))
                    .map(|e| (e.typ, e.obj.clone()))
                    .collect();
                cursor = cursor.max(st.rv);
                Ok(out)
            }
        };
        match batch {
            Ok(events) => {
                for (typ, o) in events {
                    // Dropped meanwhile (`Control::drop_watches`): end now, not after the backlog.
                    if cut.has_changed().unwrap_or(true) || tx.send(w.event_of(typ, &o)).await.is_err() {
                        return;
                    }
                }
            }
            Err(msg) => {
                let _ = tx.send(error_line(&msg, w.protobuf)).await;
                return;
            }
        }
        tokio::select! {
            r = changed.changed() => if r.is_err() { return },
            _ = tokio::time::sleep_until(next_bookmark) => {
                next_bookmark = Instant::now() + BOOKMARK_EVERY;
                if bookmarks {
                    let obj = bookmark(w.kind, cursor, false);
                    if tx.send(w.event("BOOKMARK", obj.as_bytes())).await.is_err() {
                        return;
                    }
                }
            }
            _ = tokio::time::sleep_until(deadline) => return,
            // `wait_for`, not `changed`: a watch that began as the server was stopping must end
            // too (it kept a client connected to a stopped server, with no error, for minutes).
            _ = async { shutdown.wait_for(|stop| *stop).await.is_ok() } => return,
            _ = cut.changed() => return,
            _ = tx.closed() => return,
        }
    }
}
