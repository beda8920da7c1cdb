//! Honour the API server's `Retry-After`. An overloaded API server (API Priority and Fairness)
//! answers 429, or 503, with the seconds to wait; kube's watchers would retry on their own short
//! backoff regardless. This layer holds every request of the client (all watchers, discovery)
//! until the time the server named, capped at [`MAX_WAIT`]: one client, one pause, no storm.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Response, StatusCode, header};
use tokio::time::{Instant, Sleep};
use tower::{Layer, Service};

/// A longer `Retry-After` is cut to this: the dashboard must come back soon after the server does.
pub const MAX_WAIT: Duration = Duration::from_secs(30);

/// The layer; every service it makes shares one hold time.
#[derive(Debug, Clone, Default)]
pub struct RetryAfterLayer {
    until: Arc<Mutex<Option<Instant>>>,
}

impl<S> Layer<S> for RetryAfterLayer {
    type Service = RetryAfter<S>;

    fn layer(&self, inner: S) -> RetryAfter<S> {
        RetryAfter { inner, until: self.until.clone(), sleep: None }
    }
}

pub struct RetryAfter<S> {
    inner: S,
    until: Arc<Mutex<Option<Instant>>>,
    sleep: Option<Pin<Box<Sleep>>>,
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

fn hold(until: &Mutex<Option<Instant>>, wait: Duration) {
    let mut u = until.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let t = Instant::now() + wait;
    if u.is_none_or(|old| old < t) {
        *u = Some(t);
    }
}

impl<S, Req, B> Service<Req> for RetryAfter<S>
where
    S: Service<Req, Response = Response<B>>,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<B>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        let until = *self.until.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(t) = until.filter(|t| *t > Instant::now()) {
            let sleep = self.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(t)));
            if sleep.deadline() != t {
                sleep.as_mut().reset(t);
            }
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
        self.sleep = None;
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let fut = self.inner.call(req);
        let until = self.until.clone();
        Box::pin(async move {
            let resp = fut.await?;
            if let Some(wait) = wait_of(&resp) {
                hold(&until, wait);
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
    async fn requests_wait_until_the_time_the_server_named() {
        use tower::ServiceExt;
        let calls = Arc::new(Mutex::new(Vec::new()));
        let log = calls.clone();
        let inner = tower::service_fn(move |code: u16| {
            log.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(Instant::now());
            async move { Ok::<_, std::convert::Infallible>(resp(code, Some("5"))) }
        });
        let mut svc = RetryAfterLayer::default().layer(inner);
        let start = Instant::now();
        let r = svc.ready().await.unwrap_or_else(|e| match e {}).call(429).await;
        assert_eq!(r.map(|r| r.status().as_u16()).ok(), Some(429));
        let r = svc.ready().await.unwrap_or_else(|e| match e {}).call(200).await;
        assert_eq!(r.map(|r| r.status().as_u16()).ok(), Some(200));
        let at: Vec<Duration> =
            calls.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|t| *t - start).collect();
        assert_eq!(at, vec![Duration::ZERO, Duration::from_secs(5)]);
    }
}
