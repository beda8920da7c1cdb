use axum::Router;
use axum::routing::get;

use super::*;

/// An agent that answers 404 (a wrong port, an older agent): the error names the path asked and
/// the agent's URL; a closed port says "connection refused" with the URL asked.
#[tokio::test]
async fn a_404_names_the_path_and_a_refused_connection_the_url() {
    let app = Router::new().route("/other", get(|| async { "" }));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(l, app).await });
    let http = client(None).unwrap();
    let e = fetch(&http, &url, 1024).await.unwrap_err();
    server.abort();
    assert_eq!(e, FetchError::Status { status: 404 });
    let SourceHealth::Unreachable { error } = e.health(&url) else { panic!("{e:?}") };
    assert_eq!(error, format!("{url}: HTTP 404 for /v1/node"));

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let closed = format!("http://127.0.0.1:{port}");
    let e = fetch(&http, &closed, 1024).await.unwrap_err();
    let SourceHealth::Unreachable { error } = e.health(&closed) else { panic!("{e:?}") };
    assert_eq!(error, format!("connection refused to {closed}/v1/node"));
}
