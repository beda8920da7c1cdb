//! Request routing: discovery, list, get, and the Status errors (403, 404, 405, 410).

use std::collections::HashMap;
use std::convert::Infallible;
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::App;
use super::kinds::{self, KINDS};
use super::select::Selector;
use super::state::Obj;
use super::table::{self, Include};
use futures::StreamExt;

type Params = HashMap<String, String>;

pub(crate) fn json_bytes(code: StatusCode, body: Bytes) -> Response {
    (code, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn json_value(v: &Value) -> Response {
    json_bytes(StatusCode::OK, Bytes::from(serde_json::to_vec(v).unwrap_or_default()))
}

pub(crate) fn status_value(code: u16, reason: &str, message: &str, details: Option<Value>) -> Value {
    let mut v = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code
    });
    if let (Some(d), Some(o)) = (details, v.as_object_mut()) {
        o.insert("details".into(), d);
    }
    v
}

fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> Response {
    let sc = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&status_value(code, reason, message, details)).unwrap_or_default();
    json_bytes(sc, Bytes::from(body))
}

fn not_found(path: &str) -> Response {
    status(404, "NotFound", &format!("the server could not find the requested resource ({path})"), None)
}

pub(crate) async fn handle(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if method == Method::GET && uri.path() == "/debug/requests" {
        // Served by `sim serve` only (not part of the Kubernetes API), and not counted.
        let mut v = json!(app.counters.snapshot());
        if let Some(o) = v.as_object_mut() {
            o.insert("pod_changes".into(), app.lock().pod_events.into());
        }
        return json_value(&v);
    }
    let verb = verb(&method, &uri);
    app.counters.request(verb);
    let fault = app.fault();
    if let Some(resp) = fault.response(app.hostile) {
        app.log(method.as_str(), uri.path());
        return resp;
    }
    if let super::Fault::Slow(d) = fault {
        tokio::time::sleep(d).await;
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let as_table = table::wanted(accept);
    let enc = if as_table {
        Enc::Table
    } else if app.protobuf && super::proto::wanted(accept) {
        Enc::Protobuf
    } else {
        Enc::Json
    };
    let resp = route(&app, method, uri, enc);
    super::stats::counted(app.counters.clone(), verb, resp)
}

/// How a request is counted: discovery, list, get, watch, or other (errors, non-GET).
fn verb(method: &Method, uri: &Uri) -> &'static str {
    if method != Method::GET {
        return "other";
    }
    let segs: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    let rest = match segs.as_slice() {
        ["api", "v1", rest @ ..] => rest,
        ["apis", _, _, rest @ ..] => rest,
        ["version"] | ["api"] | ["apis"] | ["api", _] | ["apis", _] => return "discovery",
        _ => return "other",
    };
    let watch = uri.query().is_some_and(|q| q.split('&').any(|p| p == "watch=true" || p == "watch=1"));
    match rest.len() {
        0 => "discovery",
        2 | 4 => "get",
        _ if watch => "watch",
        _ => "list",
    }
}

/// The encoding a request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Enc {
    Json,
    /// A `meta.k8s.io/v1` Table (kubectl get).
    Table,
    /// `application/vnd.kubernetes.protobuf`: served for nodes' and pods' lists and watches
    /// (`proto.rs`), JSON for the other kinds, as the API server does for custom resources.
    Protobuf,
}

/// Whether protobuf is served for `kind` (the built-in kinds whose bodies are large).
pub(crate) fn protobuf_kind(kind: usize) -> bool {
    matches!(KINDS[kind].plural, "nodes" | "pods") && KINDS[kind].group.is_empty()
}

fn route(app: &Arc<App>, method: Method, uri: Uri, enc: Enc) -> Response {
    let pq = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| uri.path().to_string());
    app.log(method.as_str(), &pq);
    if method != Method::GET {
        let msg = "the server does not allow this method on the requested resource";
        return status(405, "MethodNotAllowed", msg, None);
    }
    let params: Params = Query::<Params>::try_from_uri(&uri).map(|q| q.0).unwrap_or_default();
    let path = uri.path();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let doc = match segs.as_slice() {
        ["version"] => Some(kinds::version()),
        ["api"] => Some(kinds::api_versions(&app.addr)),
        ["apis"] => Some(kinds::group_list(&app.served)),
        ["api", "v1"] => kinds::resource_list(&app.served, "", "v1"),
        ["apis", g] => kinds::group(&app.served, g),
        ["apis", g, v] => kinds::resource_list(&app.served, g, v),
        ["api", "v1", rest @ ..] => return resource(app, "", "v1", rest, &params, enc),
        ["apis", g, v, rest @ ..] => return resource(app, g, v, rest, &params, enc),
        _ => None,
    };
    match doc {
        Some(v) => json_value(&v),
        None => not_found(path),
    }
}

fn resource(app: &Arc<App>, group: &str, version: &str, rest: &[&str], q: &Params, enc: Enc) -> Response {
    let as_table = enc == Enc::Table;
    let (ns, plural, name) = match rest {
        [plural] => (None, *plural, None),
        [plural, name] => (None, *plural, Some(*name)),
        ["namespaces", ns, plural] => (Some(*ns), *plural, None),
        ["namespaces", ns, plural, name] => (Some(*ns), *plural, Some(*name)),
        _ => return not_found(&rest.join("/")),
    };
    let Some(kind) = kinds::find(&app.served, group, version, plural) else {
        return not_found(plural);
    };
    let k = KINDS[kind];
    if ns.is_some() && !k.namespaced || name.is_some() && k.namespaced && ns.is_none() {
        return not_found(plural);
    }
    let watch = q.get("watch").is_some_and(|w| w == "true" || w == "1");
    let verb = if name.is_some() {
        "get"
    } else if watch {
        "watch"
    } else {
        "list"
    };
    if app.is_forbidden(plural) {
        let scope = match ns {
            Some(n) => format!("in the namespace \"{n}\""),
            None => "at the cluster scope".to_string(),
        };
        let msg = format!(
            "{} is forbidden: User \"sim\" cannot {verb} resource \"{plural}\" in API group \"{group}\" {scope}",
            k.qualified()
        );
        let details = json!({"name": name.unwrap_or(""), "group": group, "kind": plural});
        return status(403, "Forbidden", &msg, Some(details));
    }
    let sel = match Selector::parse(
        q.get("labelSelector").map(String::as_str).unwrap_or(""),
        q.get("fieldSelector").map(String::as_str).unwrap_or(""),
    ) {
        Ok(s) => s,
        Err(e) => return status(400, "BadRequest", &e, None),
    };
    if let Some(name) = name {
        let st = app.lock();
        let key = (ns.unwrap_or("").to_string(), name.to_string());
        return match st.stores[kind].get(&key) {
            Some(o) if as_table => match table_of(kind, std::slice::from_ref(o), json!({}), q) {
                Some(t) => json_value(&t),
                None => json_bytes(StatusCode::OK, super::real::body(&o.json)),
            },
            Some(o) => json_bytes(StatusCode::OK, super::real::body(&o.json)),
            None => {
                let msg = format!("{} \"{name}\" not found", k.qualified());
                status(404, "NotFound", &msg, Some(json!({"name": name, "group": group, "kind": plural})))
            }
        };
    }
    if watch {
        let initial = match watch_list(app, q) {
            Ok(i) => i,
            Err(resp) => return *resp,
        };
        let table = as_table.then(|| Include::parse(q.get("includeObject").map(String::as_str)));
        let protobuf = enc == Enc::Protobuf && protobuf_kind(kind);
        let how = super::watch::How { table, protobuf, initial };
        return super::watch::start(app.clone(), kind, ns.map(str::to_string), sel, q, how);
    }
    list(app, kind, ns, &sel, q, enc)
}

/// Whether a watch is a streaming list (`sendInitialEvents=true`), checked as upstream's
/// `validateWatchOptions` does: `sendInitialEvents` needs `resourceVersionMatch=NotOlderThan` and
/// the WatchList feature (`--no-watch-list` turns it off), and `resourceVersionMatch` needs
/// `sendInitialEvents`; each refusal is a 422 `Invalid` Status naming the field.
fn watch_list(app: &App, q: &Params) -> Result<bool, Box<Response>> {
    let send = q.get("sendInitialEvents").map(|v| v == "true" || v == "1");
    let m = q.get("resourceVersionMatch").map(String::as_str).filter(|m| !m.is_empty());
    let mut causes: Vec<(&str, String)> = Vec::new();
    if send.is_some() {
        if m != Some("NotOlderThan") {
            causes.push((
                "resourceVersionMatch",
                "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan".into(),
            ));
        }
        if !app.watch_list {
            causes.push((
                "sendInitialEvents",
                "Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled"
                    .into(),
            ));
        }
    } else if m.is_some() {
        causes.push((
            "resourceVersionMatch",
            "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"
                .into(),
        ));
    }
    if causes.is_empty() {
        return Ok(send == Some(true));
    }
    let text: Vec<String> = causes.iter().map(|(f, m)| format!("{f}: {m}")).collect();
    let msg = format!("ListOptions.meta.k8s.io \"\" is invalid: {}", text.join(", "));
    let causes: Vec<Value> = causes
        .iter()
        .map(|(f, m)| json!({"reason": "FieldValueForbidden", "message": m, "field": f}))
        .collect();
    let details = json!({"group": "meta.k8s.io", "kind": "ListOptions", "causes": causes});
    Err(Box::new(status(422, "Invalid", &msg, Some(details))))
}

/// The Table of `items` when their kind is printed server-side (nodes, pods).
fn table_of(kind: usize, items: &[Arc<Obj>], metadata: Value, q: &Params) -> Option<Value> {
    let bodies: Vec<Bytes> = items.iter().map(|o| super::real::body(&o.json)).collect();
    let objects: Vec<&[u8]> = bodies.iter().map(|b| b.as_ref()).collect();
    let include = Include::parse(q.get("includeObject").map(String::as_str));
    table::table(kind, &objects, metadata, include, chrono::Utc::now())
}

pub(crate) fn expired(message: &str) -> Value {
    status_value(410, "Expired", message, None)
}

fn encode_token(rv: u64, key: &(String, String)) -> String {
    let raw = format!("{rv}\n{}\n{}", key.0, key.1);
    raw.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_token(t: &str) -> Option<(u64, (String, String))> {
    let bytes: Option<Vec<u8>> = (0..t.len())
        .step_by(2)
        .map(|i| t.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect();
    let raw = String::from_utf8(bytes?).ok()?;
    let mut parts = raw.splitn(3, '\n');
    let rv = parts.next()?.parse().ok()?;
    Some((rv, (parts.next()?.to_string(), parts.next()?.to_string())))
}

fn list(app: &Arc<App>, kind: usize, ns: Option<&str>, sel: &Selector, q: &Params, enc: Enc) -> Response {
    let as_table = enc == Enc::Table;
    let limit = q.get("limit").and_then(|l| l.parse::<usize>().ok()).filter(|l| *l > 0);
    let token = match q.get("continue").filter(|c| !c.is_empty()) {
        Some(c) => match decode_token(c) {
            Some(t) => Some(t),
            None => return status(400, "BadRequest", "invalid continue token", None),
        },
        None => None,
    };
    let (items, list_rv, next) = {
        let st = app.lock();
        if let Some((rv, _)) = &token
            && *rv < st.compacted
        {
            let msg = "The provided continue parameter is too old to display a consistent list result. \
                       You can start a new list without the continue parameter.";
            return json_bytes(StatusCode::GONE, Bytes::from(expired(msg).to_string()));
        }
        let exact = q.get("resourceVersionMatch").is_some_and(|m| m == "Exact");
        if let Some(rv) = q.get("resourceVersion").and_then(|r| r.parse::<u64>().ok())
            && exact
            && rv < st.compacted
        {
            let msg = format!("too old resource version: {rv} ({})", st.compacted);
            return json_bytes(StatusCode::GONE, Bytes::from(expired(&msg).to_string()));
        }
        let list_rv = token.as_ref().map(|t| t.0).unwrap_or(st.rv);
        let from = match (&token, ns) {
            (Some((_, key)), _) => Bound::Excluded(key.clone()),
            (None, Some(n)) => Bound::Included((n.to_string(), String::new())),
            (None, None) => Bound::Unbounded,
        };
        let mut items: Vec<Arc<Obj>> = Vec::new();
        let mut next = None;
        let iter = st.stores[kind]
            .range((from, Bound::Unbounded))
            .take_while(|(k, _)| ns.is_none_or(|n| k.0 == n))
            .filter(|(_, o)| sel.matches(o));
        for (key, o) in iter {
            if limit.is_some_and(|l| items.len() >= l) {
                let last =
                    items.last().map(|o| (o.ns.clone(), o.name.clone())).unwrap_or_else(|| key.clone());
                next = Some(encode_token(list_rv, &last));
                break;
            }
            items.push(o.clone());
        }
        (items, list_rv, next)
    };
    let k = KINDS[kind];
    let mut meta = json!({"resourceVersion": list_rv.to_string()});
    if let (Some(c), Some(m)) = (&next, meta.as_object_mut()) {
        m.insert("continue".into(), c.clone().into());
    }
    if as_table && let Some(t) = table_of(kind, &items, meta.clone(), q) {
        return json_value(&t);
    }
    if enc == Enc::Protobuf && protobuf_kind(kind) {
        let cut = app.fault() == super::Fault::CutProtobuf;
        return proto_list(kind, items, list_rv, next.as_deref(), cut);
    }
    let head = format!(
        "{{\"kind\":\"{}List\",\"apiVersion\":\"{}\",\"metadata\":{},\"items\":[",
        k.kind,
        k.api_version(),
        meta
    );
    json_bytes(StatusCode::OK, Bytes::new()).map(|_| stream_items(head, items))
}

/// The list body, produced in chunks so a 150k-pod list is never one big buffer.
fn stream_items(head: String, items: Vec<Arc<Obj>>) -> Body {
    const CHUNK: usize = 512;
    let items = Arc::new(items);
    let chunks = items.len().div_ceil(CHUNK);
    let first = futures::stream::iter([Bytes::from(head)]);
    let body = futures::stream::iter(0..chunks).map(move |c| {
        let part = &items[c * CHUNK..((c + 1) * CHUNK).min(items.len())];
        let mut buf = Vec::with_capacity(part.iter().map(|o| o.json.len() + 1).sum());
        for (i, o) in part.iter().enumerate() {
            if c > 0 || i > 0 {
                buf.push(b',');
            }
            super::real::write(&o.json, &mut buf);
        }
        Bytes::from(buf)
    });
    let tail = futures::stream::iter([Bytes::from_static(b"]}")]);

    Body::from_stream(first.chain(body).chain(tail).map(Ok::<_, Infallible>))
}

pub(crate) fn proto_bytes(code: StatusCode, body: Bytes) -> Response {
    (code, [(header::CONTENT_TYPE, super::proto::MEDIA_TYPE)], body).into_response()
}

/// The bytes per item of each kind's last protobuf page: the next page's buffer is as large.
static PROTO_ITEM_BYTES: std::sync::LazyLock<Vec<AtomicUsize>> =
    std::sync::LazyLock::new(|| KINDS.iter().map(|_| AtomicUsize::new(0)).collect());

/// Lists this long are sized in a first pass and encoded again as they are sent (flat memory);
/// shorter ones (a page) are encoded at once.
const PROTO_BUFFERED: usize = 2048;

/// The protobuf list body (`proto.rs`); with `cut`, cut short halfway (`--fault cut-protobuf`).
fn proto_list(kind: usize, items: Vec<Arc<Obj>>, rv: u64, next: Option<&str>, cut: bool) -> Response {
    use super::proto;
    let k = KINDS[kind];
    let list_kind = format!("{}List", k.kind);
    let meta = proto::list_meta(&rv.to_string(), next);
    let mut head = Vec::new();
    proto::list_meta_field(&meta, &mut head);
    if items.len() <= PROTO_BUFFERED {
        // Encoded in place into one buffer, as large as this kind's last page per item.
        let hint = &PROTO_ITEM_BYTES[kind];
        let per_item = hint.load(Ordering::Relaxed);
        let mut list = proto::list_buf(&meta, per_item * items.len());
        for o in &items {
            if let Err(e) = proto::list_item(k.kind, &o.json, &mut list) {
                return status(500, "InternalError", &e, None);
            }
        }
        if !items.is_empty() {
            hint.store(list.len() / items.len() + 64, Ordering::Relaxed);
        }
        let mut out = proto::list_body(&k.api_version(), &list_kind, list);
        if cut {
            out.truncate(out.len() / 2);
        }
        return proto_bytes(StatusCode::OK, out);
    }
    let mut raw = Vec::new();
    // From the stored body: its blobs are encoded once (`proto.rs`).
    let encode = |o: &Obj, raw: &mut Vec<u8>| {
        raw.clear();
        proto::encode(k.kind, &o.json, raw)
    };
    let mut len = head.len();
    for o in &items {
        if let Err(e) = encode(o, &mut raw) {
            return status(500, "InternalError", &e, None);
        }
        len += proto::item_len(raw.len());
    }
    let mut first = proto::list_head(&k.api_version(), &list_kind, len);
    first.extend_from_slice(&head);
    const CHUNK: usize = 512;
    let items = Arc::new(items);
    let chunks = items.len().div_ceil(CHUNK);
    let sent = if cut { chunks / 2 } else { chunks };
    let body = futures::stream::iter(0..sent).map(move |c| {
        let part = &items[c * CHUNK..((c + 1) * CHUNK).min(items.len())];
        let (mut raw, mut buf) = (Vec::new(), Vec::new());
        for o in part {
            raw.clear();
            // Encoded once already (the first pass): it does not fail now.
            let _ = proto::encode(k.kind, &o.json, &mut raw);
            proto::item(&raw, &mut buf);
        }
        Bytes::from(buf)
    });
    let tail = futures::stream::iter((!cut).then(proto::tail).map(Bytes::from));
    let body = futures::stream::iter([Bytes::from(first)]).chain(body).chain(tail);
    proto_bytes(StatusCode::OK, Bytes::new()).map(|_| Body::from_stream(body.map(Ok::<_, Infallible>)))
}
