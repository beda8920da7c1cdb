use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;

use super::*;
use crate::sources::prometheus::queries::offline_pods;

/// A stand-in Prometheus on 127.0.0.1:0 that records the Authorization header and answers an
/// empty vector, after `delay`.
async fn fake(delay: Duration) -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let app = Router::new().route(
        "/api/v1/query",
        get(move |h: HeaderMap| {
            let s = s.clone();
            async move {
                let auth = h.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("-").to_string();
                s.lock().unwrap().push(auth);
                tokio::time::sleep(delay).await;
                (
                    [("content-type", "application/json")],
                    r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
                )
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await });
    (url, seen)
}

fn backend(url: &str, auth: Option<Auth>, timeout: Duration) -> Backend {
    let q = Queries::new(None, "zone", offline_pods(&[], &[]), &BTreeMap::new()).unwrap();
    Backend::new(&BackendOptions { url: url.into(), auth, timeout }, q).unwrap()
}

#[tokio::test]
async fn credentials_go_in_the_authorization_header() {
    let (url, seen) = fake(Duration::ZERO).await;
    let basic = Auth::Basic { username: "sre".into(), password: "s3cret".into() };
    assert!(
        backend(&url, Some(basic), Duration::from_secs(5))
            .instant("capacity", None, 0)
            .await
            .unwrap()
            .is_empty()
    );
    let bearer = Auth::Bearer("tok".into());
    backend(&url, Some(bearer), Duration::from_secs(5)).instant("capacity", None, 0).await.unwrap();
    backend(&url, None, Duration::from_secs(5)).instant("capacity", None, 0).await.unwrap();
    assert_eq!(*seen.lock().unwrap(), ["Basic c3JlOnMzY3JldA==", "Bearer tok", "-"]);
}

/// Under paused time: the client gives up at its timeout, to the millisecond, not at the server's
/// 30 s.
#[tokio::test(start_paused = true)]
async fn a_slow_backend_is_cut_off_by_the_client_timeout() {
    let (url, _) = fake(Duration::from_secs(30)).await;
    let b = backend(&url, None, Duration::from_millis(200));
    let started = tokio::time::Instant::now();
    let e = b.instant("capacity", None, 0).await.unwrap_err();
    assert_eq!(e, QueryError::Transport("no answer within the timeout".into()));
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}: not the server's 30 s", started.elapsed());
    // A closed port on loopback: the system's words and the URL, not "cannot connect".
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let down = backend(&format!("http://127.0.0.1:{port}"), None, Duration::from_secs(2));
    let e = down.instant("capacity", None, 0).await.unwrap_err();
    assert_eq!(e, QueryError::Transport(format!("connection refused to http://127.0.0.1:{port}")));
}

#[tokio::test]
async fn a_503_or_garbage_is_a_clear_error() {
    for (code, body) in [(503u16, "Service Unavailable"), (200, "<html>proxy login</html>"), (429, "")] {
        let app = Router::new().route(
            "/api/v1/query",
            get(move || async move { (axum::http::StatusCode::from_u16(code).unwrap(), body) }),
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let server = tokio::spawn(async move { axum::serve(l, app).await });
        let e = backend(&url, None, Duration::from_secs(5)).instant("capacity", None, 0).await.unwrap_err();
        let text = match &e {
            QueryError::Transport(t) | QueryError::Query(t) => t.clone(),
        };
        assert!(!text.is_empty() && text.len() < 300, "{code}: {e:?}");
        if code != 200 {
            assert!(
                text.contains(&code.to_string())
                    || text.to_lowercase().contains("unavailable")
                    || text.contains("many"),
                "{code}: {text}"
            );
        }
        server.abort();
    }
}

/// A backend that answers every query with no series: the curve's notes name every empty query
/// in one note and give the hint once, not once per query.
#[tokio::test]
async fn the_no_data_hint_is_given_once() {
    let empty = || async {
        (
            [("content-type", "application/json")],
            r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#,
        )
    };
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let s = seen.clone();
    let app = Router::new().route(
        "/api/v1/query_range",
        get(move |q: axum::extract::Query<std::collections::HashMap<String, String>>| {
            s.lock().unwrap().push(q.get("query").cloned().unwrap_or_default());
            empty()
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(l, app).await });
    let b = backend(&url, None, Duration::from_secs(5));
    let f = b.curve(DateTime::from_timestamp(1_800_000_000, 0).unwrap(), 3600, 300).await.unwrap();
    server.abort();
    assert!(f.curve.is_none());
    // No offline class configured: the offline queries (which would select from nothing, a parse
    // error on a real Prometheus) are not sent, and the note says why.
    let sent = seen.lock().unwrap().clone();
    assert_eq!(sent.len(), CURVE_QUERIES.len() - 2, "{sent:#?}");
    assert!(sent.iter().all(|q| !q.contains("container_cpu_usage")), "{sent:#?}");
    let all = f.notes.join("; ");
    assert!(all.contains("no offline priority class or QoS class configured"), "{all}");
    assert_eq!(all.matches("[queries]").count(), 1, "{all}");
    assert!(all.contains("cpu_used, cpu_measured, capacity, cpu_used_by_rack"), "{all}");
}
