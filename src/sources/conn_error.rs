//! Connection errors that keep the useful part: `connection refused to https://10.0.0.1:6443`,
//! not kube's `ServiceError: client error (Connect)`.
//!
//! The client stack's errors say neither which server nor what the system said: the cause (an
//! `io::Error`) is at the bottom of the source chain, and the URL nowhere. A layer around the
//! stack wraps every transport error with the server's URL ([`AtServer`]); [`describe`] finds it
//! in any error's chain and words it. The Prometheus and agent clients word theirs with
//! [`to_server`].

use std::error::Error;
use std::future::Future;
use std::io::ErrorKind;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tower::{BoxError, Layer, Service};

/// A transport error of a request to the API server at `url`.
#[derive(Debug)]
pub struct AtServer {
    pub url: Arc<str>,
    source: BoxError,
}

impl AtServer {
    pub fn new(url: &str, source: BoxError) -> AtServer {
        AtServer { url: url.into(), source }
    }
}

/// The chain below `e`, outermost first.
fn chain<'a>(e: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(e), |e: &&'a (dyn Error + 'static)| (*e).source())
}

impl std::fmt::Display for AtServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&to_server(&*self.source, self.url.trim_end_matches('/')))
    }
}

/// What the system said about a connection to `url` that failed with `e`, in one line:
/// `connection refused to URL`, `connection to URL timed out`, or `URL: <deepest cause>`.
pub fn to_server(e: &(dyn Error + 'static), url: &str) -> String {
    let io = chain(e).find_map(|e| e.downcast_ref::<std::io::Error>());
    match io.map(std::io::Error::kind) {
        Some(ErrorKind::ConnectionRefused) => format!("connection refused to {url}"),
        Some(ErrorKind::ConnectionReset) => format!("connection reset by {url}"),
        Some(ErrorKind::TimedOut) => format!("connection to {url} timed out"),
        Some(ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable) => {
            format!("{url} is unreachable ({})", io.map(|e| e.to_string()).unwrap_or_default())
        }
        // The deepest cause says what happened (a DNS failure, a certificate); the ones above it
        // repeat it or say only "client error".
        _ => format!("{url}: {}", super::kube::map::one_line(&deepest(e))),
    }
}

/// The last error of `e`'s source chain, as text.
pub fn deepest(e: &(dyn Error + 'static)) -> String {
    chain(e).last().map(|e| e.to_string()).unwrap_or_default()
}

impl Error for AtServer {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.source)
    }
}

/// One line for any error: the [`AtServer`] in its chain when there is one, else the error and
/// its deepest cause.
pub fn describe(e: &(dyn Error + 'static)) -> String {
    if let Some(at) = chain(e).find_map(|x| x.downcast_ref::<AtServer>()) {
        return at.to_string();
    }
    let (top, deepest) = (e.to_string(), deepest(e));
    if top.contains(&deepest) {
        super::kube::map::one_line(&top)
    } else {
        super::kube::map::one_line(&format!("{top}: {deepest}"))
    }
}

/// The layer naming the server in the client stack's errors.
#[derive(Debug, Clone)]
pub struct AtServerLayer {
    url: Arc<str>,
}

impl AtServerLayer {
    pub fn new(url: &str) -> AtServerLayer {
        AtServerLayer { url: url.into() }
    }
}

impl<S> Layer<S> for AtServerLayer {
    type Service = NameServer<S>;

    fn layer(&self, inner: S) -> NameServer<S> {
        NameServer { inner, url: self.url.clone() }
    }
}

pub struct NameServer<S> {
    inner: S,
    url: Arc<str>,
}

impl<S, Req> Service<Req> for NameServer<S>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        let url = self.url.clone();
        self.inner.poll_ready(cx).map_err(|e| Box::new(AtServer { url, source: e.into() }) as BoxError)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let url = self.url.clone();
        let fut = self.inner.call(req);
        Box::pin(
            async move { fut.await.map_err(|e| Box::new(AtServer { url, source: e.into() }) as BoxError) },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrap(&'static str, Option<BoxError>);
    impl std::fmt::Display for Wrap {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl Error for Wrap {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref().map(|e| e as &(dyn Error + 'static))
        }
    }

    /// kube's shape: `ServiceError: client error (Connect)` over `tcp connect error` over the
    /// system's error.
    fn kube_like(io: std::io::Error, url: Option<&str>) -> Wrap {
        let connect: BoxError = Box::new(Wrap("tcp connect error", Some(Box::new(io))));
        let client: BoxError = Box::new(Wrap("client error (Connect)", Some(connect)));
        let inner = match url {
            Some(u) => Box::new(AtServer::new(u, client)) as BoxError,
            None => client,
        };
        Wrap("ServiceError: client error (Connect)", Some(inner))
    }

    #[test]
    fn the_system_error_and_the_server_are_named() {
        let refused = std::io::Error::from(ErrorKind::ConnectionRefused);
        let e = kube_like(refused, Some("https://127.0.0.1:6443/"));
        assert_eq!(describe(&e), "connection refused to https://127.0.0.1:6443");
        let e = kube_like(std::io::Error::from(ErrorKind::TimedOut), Some("https://10.0.0.1:6443"));
        assert_eq!(describe(&e), "connection to https://10.0.0.1:6443 timed out");
        let dns = std::io::Error::other("failed to lookup address information: Name or service not known");
        let e = kube_like(dns, Some("https://api.example:6443"));
        assert_eq!(
            describe(&e),
            "https://api.example:6443: failed to lookup address information: Name or service not known"
        );
        // Without the layer: the deepest cause is kept all the same.
        let e = kube_like(std::io::Error::from(ErrorKind::ConnectionRefused), None);
        assert_eq!(describe(&e), "ServiceError: client error (Connect): connection refused");
    }
}
