//! A streaming list's body, cut into chunks at odd places, as JSON lines and as protobuf frames:
//! the objects in order, decoded off the reading task, the list's end at its bookmark with the
//! events after it left to the watch, and every way of ending early an error.

use std::sync::Mutex;
use std::thread::ThreadId;

use hyper::body::Bytes;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as pbmeta;
use k8s_pb::apimachinery::pkg::runtime as pbrt;
use prost::Message as _;

use super::*;
use crate::sources::kube::slim::SlimPod;

/// Room for every message of a test: the reading task never waits on the receiver.
const ROOM: usize = 100_000;

/// A pod's JSON with `pad` bytes of an annotation the slim pod skips.
fn pod_json(name: &str, pad: usize) -> String {
    let pad = "x".repeat(pad);
    format!(
        r#"{{"metadata":{{"name":"{name}","namespace":"ns","annotations":{{"pad":"{pad}"}}}},"spec":{{}},"status":{{}}}}"#
    )
}

fn line(typ: &str, object: &str) -> String {
    format!("{{\"type\":\"{typ}\",\"object\":{object}}}\n")
}

fn bookmark_json(rv: &str, end: bool) -> String {
    let ann = if end { r#","annotations":{"k8s.io/initial-events-end":"true"}"# } else { "" };
    format!(r#"{{"kind":"Pod","apiVersion":"v1","metadata":{{"resourceVersion":"{rv}"{ann}}}}}"#)
}

/// `body` in chunks of `size` bytes, then `tail` (the end, or an error).
fn chunked(body: &[u8], size: usize, tail: Option<kube::Error>) -> Chunks {
    let parts: Vec<Result<Bytes, kube::Error>> =
        body.chunks(size).map(|c| Ok(Bytes::copy_from_slice(c))).chain(tail.map(Err)).collect();
    futures::stream::iter(parts).boxed()
}

/// Keys each pod by its name; records the threads it ran on.
fn reducer(
    threads: Arc<Mutex<Vec<ThreadId>>>,
) -> Arc<impl Fn(SlimPod) -> Option<(String, Obj)> + Send + Sync + 'static> {
    Arc::new(move |p: SlimPod| {
        threads.lock().unwrap_or_else(|e| e.into_inner()).push(std::thread::current().id());
        Some((p.metadata.name.unwrap_or_default(), Obj::Present))
    })
}

async fn run(
    chunks: Chunks,
    protobuf: bool,
) -> (Result<Streamed<SlimPod>, Stop>, Vec<String>, Vec<ThreadId>) {
    let threads = Arc::new(Mutex::new(Vec::new()));
    let f = reducer(threads.clone());
    let (tx, mut rx) = mpsc::channel(ROOM);
    let r = initial_events::<SlimPod, _>(chunks, protobuf, Kind::Pods, &f, &tx).await;
    drop(tx);
    let mut keys = Vec::new();
    while let Some(m) = rx.recv().await {
        if let Msg::Ev(Kind::Pods, Ev::InitApply(k, _)) = m {
            keys.push(k);
        }
    }
    let t = threads.lock().unwrap_or_else(|e| e.into_inner()).clone();
    (r, keys, t)
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("p{i}")).collect()
}

async fn rest_of(events: Events<SlimPod>) -> Vec<String> {
    events
        .map(|e| match e {
            Ok(WatchEvent::Modified(p)) => format!("M {}", p.metadata.name.unwrap_or_default()),
            Ok(WatchEvent::Bookmark(b)) => format!("B {}", b.metadata.resource_version),
            Ok(other) => format!("{other:?}"),
            Err(e) => format!("error: {e}"),
        })
        .collect()
        .await
}

fn error_text(r: Result<Streamed<SlimPod>, Stop>) -> String {
    match r {
        Err(Stop::Api(e)) => e.to_string(),
        Err(Stop::Closed) => "closed".into(),
        Ok(Streamed::Listed(..)) => "listed".into(),
        Ok(Streamed::Unsupported) => "unsupported".into(),
    }
}

/// Several batches' worth of ADDED events, the bookmark, then changes that span batches too: the
/// objects come in order, decoded on other threads than the reading task's, and the events after
/// the bookmark are the watch's, in order, none lost to the batches that were being decoded.
#[tokio::test(flavor = "current_thread")]
async fn json_events_decode_off_the_reading_task_in_order_and_the_changes_go_to_the_watch() {
    let n = 3_000;
    let mut body = String::new();
    for name in names(n) {
        body += &line("ADDED", &pod_json(&name, 2_000));
    }
    body += &line("BOOKMARK", &bookmark_json("42", true));
    for i in 0..6_000 {
        body += &line("MODIFIED", &pod_json(&format!("m{i}"), 2_000));
    }
    body += &line("BOOKMARK", &bookmark_json("43", false));
    assert!(body.len() > 2 * BATCH, "{} bytes: more than two batches", body.len());
    let reader = std::thread::current().id();
    let (r, keys, threads) = run(chunked(body.as_bytes(), 65_521, None), false).await;
    let Ok(Streamed::Listed(rv, protobuf, events)) = r else { panic!("{}", error_text(r)) };
    assert_eq!((rv.as_str(), protobuf), ("42", false));
    assert_eq!(keys, names(n));
    assert!(!threads.is_empty() && threads.iter().all(|t| *t != reader), "decoded on the reading task");
    let mut want: Vec<String> = (0..6_000).map(|i| format!("M m{i}")).collect();
    want.push("B 43".into());
    assert_eq!(rest_of(events).await, want);
}

/// Small chunks, the bookmark alone at the end: the list ends at once (no wait for a full batch).
#[tokio::test(flavor = "current_thread")]
async fn a_short_list_ends_at_its_bookmark_without_waiting_for_more_bytes() {
    let mut body = String::new();
    for name in names(5) {
        body += &line("ADDED", &pod_json(&name, 10));
    }
    body += &line("BOOKMARK", &bookmark_json("7", true));
    // The body never ends: the list must not wait for it.
    let chunks = chunked(body.as_bytes(), 13, None).chain(futures::stream::pending()).boxed();
    let (r, keys, _) = run(chunks, false).await;
    assert!(matches!(r, Ok(Streamed::Listed(ref rv, false, _)) if rv == "7"), "{}", error_text(r));
    assert_eq!(keys, names(5));
}

/// A body cut in the middle of an event, one that fails, an ERROR event and an event that does not
/// decode are errors naming the objects that came; another event than ADDED before the bookmark
/// means the server ignored `sendInitialEvents`.
#[tokio::test(flavor = "current_thread")]
async fn every_early_end_is_an_error_and_a_change_before_the_bookmark_is_unsupported() {
    let mut added = String::new();
    for name in names(4) {
        added += &line("ADDED", &pod_json(&name, 100));
    }
    let cut = format!("{added}{}", &line("ADDED", &pod_json("p4", 100))[..50]);
    let (r, keys, _) = run(chunked(cut.as_bytes(), 97, None), false).await;
    let e = error_text(r);
    assert!(e.contains("ended after 4 objects, before its initial-events-end bookmark"), "{e}");
    assert_eq!(keys, names(4), "the objects that came are sent (the store keeps them unfinished)");

    let failed = kube::Error::ReadEvents(std::io::Error::other("connection reset"));
    let (r, _, _) = run(chunked(added.as_bytes(), 97, Some(failed)), false).await;
    let e = error_text(r);
    assert!(e.contains("ended after 4 objects") && e.contains("connection reset"), "{e}");

    let (r, _, _) = run(chunked(added.as_bytes(), 97, None), false).await;
    assert!(error_text(r).contains("ended after 4 objects"));

    let status = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old","reason":"Expired","code":410}"#;
    let (r, _, _) =
        run(chunked(format!("{added}{}", line("ERROR", status)).as_bytes(), 97, None), false).await;
    assert!(matches!(r, Err(Stop::Api(kube::Error::Api(ref s))) if s.code == 410), "{}", error_text(r));

    let (r, _, _) =
        run(chunked(format!("{added}{{\"type\":\"ADDED\",\"object\":[1]}}\n").as_bytes(), 97, None), false)
            .await;
    assert!(error_text(r).contains("ended after 4 objects"));

    let modified = format!("{added}{}", line("MODIFIED", &pod_json("p0", 1)));
    let (r, _, _) = run(chunked(modified.as_bytes(), 97, None), false).await;
    assert!(matches!(r, Ok(Streamed::Unsupported)), "{}", error_text(r));
    let other_bookmark = format!("{added}{}", line("BOOKMARK", &bookmark_json("9", false)));
    let (r, _, _) = run(chunked(other_bookmark.as_bytes(), 97, None), false).await;
    assert!(matches!(r, Ok(Streamed::Unsupported)), "{}", error_text(r));
}

/// A watch frame (`pkg/util/framer`) of `typ` holding `raw` (a message) in its envelope.
fn frame(typ: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
    let unk = pbrt::Unknown {
        type_meta: Some(pbrt::TypeMeta { api_version: Some("v1".into()), kind: Some(kind.into()) }),
        raw: Some(raw),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    let mut object = pb::MAGIC.to_vec();
    unk.encode(&mut object).unwrap_or_default();
    let ev = pbmeta::WatchEvent {
        r#type: Some(typ.into()),
        object: Some(pbrt::RawExtension { raw: Some(object) }),
    };
    let ev = ev.encode_to_vec();
    let mut out = u32::try_from(ev.len()).unwrap_or_default().to_be_bytes().to_vec();
    out.extend_from_slice(&ev);
    out
}

fn pb_pod(name: &str, pad: usize) -> Vec<u8> {
    let meta = pbmeta::ObjectMeta {
        name: Some(name.into()),
        namespace: Some("ns".into()),
        annotations: [("pad".to_string(), "x".repeat(pad))].into(),
        ..Default::default()
    };
    k8s_pb::api::core::v1::Pod { metadata: Some(meta), ..Default::default() }.encode_to_vec()
}

fn pb_bookmark(rv: &str, end: bool) -> Vec<u8> {
    let annotations = if end {
        [("k8s.io/initial-events-end".to_string(), "true".to_string())].into()
    } else {
        Default::default()
    };
    let meta = pbmeta::ObjectMeta { resource_version: Some(rv.into()), annotations, ..Default::default() };
    k8s_pb::api::core::v1::Pod { metadata: Some(meta), ..Default::default() }.encode_to_vec()
}

/// The same over protobuf frames: in order, off the reading task, the changes to the watch; a
/// frame cut short is an error.
#[tokio::test(flavor = "current_thread")]
async fn protobuf_frames_decode_the_same_and_a_cut_frame_is_an_error() {
    let n = 2_500;
    let mut body = Vec::new();
    for name in names(n) {
        body.extend(frame("ADDED", "Pod", pb_pod(&name, 2_000)));
    }
    let added = body.clone();
    body.extend(frame("BOOKMARK", "Pod", pb_bookmark("42", true)));
    for i in 0..6_000 {
        body.extend(frame("MODIFIED", "Pod", pb_pod(&format!("m{i}"), 2_000)));
    }
    assert!(body.len() > 2 * BATCH);
    let reader = std::thread::current().id();
    let (r, keys, threads) = run(chunked(&body, 65_521, None), true).await;
    let Ok(Streamed::Listed(rv, protobuf, events)) = r else { panic!("{}", error_text(r)) };
    assert_eq!((rv.as_str(), protobuf), ("42", true));
    assert_eq!(keys, names(n));
    assert!(threads.iter().all(|t| *t != reader), "decoded on the reading task");
    let want: Vec<String> = (0..6_000).map(|i| format!("M m{i}")).collect();
    assert_eq!(rest_of(events).await, want);

    let cut = &added[..added.len() - 100];
    let (r, keys, _) = run(chunked(cut, 65_521, None), true).await;
    let e = error_text(r);
    assert!(e.contains(&format!("ended after {} objects", n - 1)) && e.contains("cut short"), "{e}");
    assert_eq!(keys, names(n - 1));
}
