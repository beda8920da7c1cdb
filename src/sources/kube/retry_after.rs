//! Honour the API server's `Retry-After`. An overloaded API server (API Priority and Fairness)
//! answers 429, or 503, with the seconds to wait; kube's watchers would retry on their own short
//! backoff regardless. This layer holds the next request for the same path (a watcher's list and
//! watch share one) until the time the server named, capped at [`MAX_WAIT`], as client-go does.
//!
//! The wait is in the response future, before the inner service's future is first polled: the
//! kube stack (hyper's client under it) sends nothing until then.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response, StatusCode, header};
use tokio::time::Instant;
use tower::{Layer, Service};

/// A longer `Retry-After` is cut to this: the dashboard must come back soon after the server does.
pub const MAX_WAIT: Duration = Duration::from_secs(30);

type Holds = Arc<Mutex<HashMap<String, Instant>>>;

/// The layer; every service it makes shares one table of holds by path.
#[derive(Debug, Clone, Default)]
pub struct RetryAfterLayer {
    holds: Holds,
}

impl<S> Layer<S> for RetryAfterLayer {
    type Service = RetryAfter<S>;

    fn layer(&self, inner: S) -> RetryAfter<S> {
        RetryAfter { inner, holds: self.holds.clone() }
    }
}

pub struct RetryAfter<S> {
    inner: S,
    holds: Holds,
}

/// The seconds of a `Retry-After` on a 429 or 503 answer (the HTTP-date form is not used by the
/// API server and is ignored).
pub fn wait_of<B>(resp: &Response<B>) -> Option<Duration> {
    if !matches!(resp.status(), StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE) {
        return None;
    }
    let secs: u64 = resp.headers().get(header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs).min(MAX_WAIT))
}

impl<S, ReqB, B> Service<Request<ReqB>> for RetryAfter<S>
where
    S: Service<Request<ReqB>, Response = Response<B>>,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<B>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        let path = req.uri().path().to_string();
        let holds = self.holds.clone();
        let hold = holds.lock().unwrap_or_else(PoisonError::into_inner).get(&path).copied();
        let fut = self.inner.call(req);
        Box::pin(async move {
            if let Some(t) = hold {
                tokio::time::sleep_until(t).await;
            }
            let resp = fut.await?;
            let mut h = holds.lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            h.retain(|_, t| *t > now);
            if let Some(wait) = wait_of(&resp) {
                h.insert(path, now + wait);
            }
            Ok(resp)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(code: u16, retry_after: Option<&str>) -> Response<()> {
        let mut b = Response::builder().status(code);
        if let Some(v) = retry_after {
            b = b.header(header::RETRY_AFTER, v);
        }
        b.body(()).unwrap_or_default()
    }

    #[test]
    fn only_429_and_503_with_seconds_hold_and_at_most_max_wait() {
        assert_eq!(wait_of(&resp(429, Some("5"))), Some(Duration::from_secs(5)));
        assert_eq!(wait_of(&resp(503, Some(" 2 "))), Some(Duration::from_secs(2)));
        assert_eq!(wait_of(&resp(429, Some("86400"))), Some(MAX_WAIT));
        assert_eq!(wait_of(&resp(500, Some("5"))), None);
        assert_eq!(wait_of(&resp(429, None)), None);
        assert_eq!(wait_of(&resp(429, Some("Wed, 21 Oct 2015 07:28:00 GMT"))), None);
        assert_eq!(wait_of(&resp(200, Some("5"))), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_path_waits_until_the_time_the_server_named() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let log = calls.clone();
        // The inner future logs when it is first polled, as the request would then be sent.
        let inner = tower::service_fn(move |req: Request<u16>| {
            let log = log.clone();
            async move {
                let path = req.uri().path().to_string();
                log.lock().unwrap_or_else(PoisonError::into_inner).push((path, Instant::now()));
                Ok::<_, std::convert::Infallible>(resp(*req.body(), Some("5")))
            }
        });
        let mut svc = RetryAfterLayer::default().layer(inner);
        let start = Instant::now();
        let req = |path: &str, code: u16| Request::builder().uri(path).body(code).unwrap_or_default();
        let mut status =
            async |path: &str, code: u16| svc.call(req(path, code)).await.map(|r| r.status().as_u16());
        assert_eq!(status("/api/v1/pods", 429).await, Ok(429));
        // Another path is not held; the same path (a watch after the list) waits the 5 s.
        assert_eq!(status("/api/v1/nodes", 200).await, Ok(200));
        assert_eq!(status("/api/v1/pods?watch=true", 200).await, Ok(200));
        assert_eq!(status("/api/v1/pods", 200).await, Ok(200));
        let log = calls.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let at: Vec<(&str, u64)> = log.iter().map(|(p, t)| (p.as_str(), (*t - start).as_secs())).collect();
        assert_eq!(at, [("/api/v1/pods", 0), ("/api/v1/nodes", 0), ("/api/v1/pods", 5), ("/api/v1/pods", 5)]);
    }
}
