//! A node's pods and Events, fetched on demand: only while that node's detail is on screen, again
//! every [`REFRESH`] while it stays open or when asked (`R`), and never otherwise. Not part of the
//! store's snapshot (the store keeps slim pods only): the UI asks through a [`Want`] and gets a
//! [`NodeDetail`] back on its own channel.
//!
//! Two sources answer: the Kubernetes API with field-selected lists (`kube::node_detail`), and
//! the simulator from its own state (`sim::Tracked`). [`serve`] is the loop both run in.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};

/// How often an open detail is fetched again.
pub const REFRESH: Duration = Duration::from_secs(10);

/// What the screen wants: the node whose detail is open (none: fetch nothing), and how many
/// times a refresh was asked for (a change fetches at once).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Want {
    pub node: Option<String>,
    pub asked: u64,
}

/// One part of the answer: what came back, or why nothing did (`forbidden`, an API error, a
/// connection error in `conn_error`'s words).
#[derive(Debug, Clone, PartialEq)]
pub enum Part<T> {
    Ok(T),
    Failed(String),
}

impl<T> Part<T> {
    pub fn ok(&self) -> Option<&T> {
        match self {
            Part::Ok(t) => Some(t),
            Part::Failed(_) => None,
        }
    }
}

/// A pod on the node, with what the slim pods of the store leave out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodRow {
    pub namespace: String,
    pub name: String,
    /// `spec.runtimeClassName`; `None`: the node's default runtime.
    pub runtime_class: Option<String>,
    /// Offline (batch) work by the configured priority classes or QoS labels.
    pub offline: bool,
    pub phase: String,
    /// Restarts summed over the containers.
    pub restarts: u32,
    /// `metadata.creationTimestamp`.
    pub created: Option<DateTime<Utc>>,
    /// Requests summed over the containers; `None`: none asked.
    pub cpu_m: Option<u64>,
    pub mem_bytes: Option<u64>,
}

/// One Event of the node or of one of its pods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// `involvedObject.kind`: `Node` or `Pod`.
    pub kind: String,
    /// The node's name, or the pod's `namespace/name`.
    pub object: String,
    pub warning: bool,
    pub reason: String,
    pub message: String,
    pub count: u32,
    /// The last time it happened (`lastTimestamp`, else `eventTime`, else `firstTimestamp`).
    pub last: Option<DateTime<Utc>>,
    /// `source.component` / `reportingComponent`.
    pub source: String,
}

/// The answer for one node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeDetail {
    pub node: String,
    /// When it was fetched.
    pub at: DateTime<Utc>,
    pub pods: Part<Vec<PodRow>>,
    pub events: Part<Vec<EventRow>>,
    /// API requests this answer took (0 for the simulator).
    pub requests: usize,
}

/// The UI's end: tell what is wanted, receive answers.
pub struct Link {
    pub want: watch::Sender<Want>,
    pub got: mpsc::Receiver<Arc<NodeDetail>>,
}

/// The source's end.
pub struct Serve {
    pub want: watch::Receiver<Want>,
    pub out: mpsc::Sender<Arc<NodeDetail>>,
}

/// A connected pair.
pub fn link() -> (Link, Serve) {
    let (wtx, wrx) = watch::channel(Want::default());
    let (otx, orx) = mpsc::channel(4);
    (Link { want: wtx, got: orx }, Serve { want: wrx, out: otx })
}

/// Answer what the UI wants with `fetch`: at once when the wanted node or the refresh count
/// changes, then every `every` while a node is wanted; nothing while none is. Returns when the UI
/// is gone.
pub async fn serve<F, Fut>(fetch: F, mut s: Serve, every: Duration)
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = NodeDetail>,
{
    loop {
        let node = s.want.borrow_and_update().node.clone();
        if let Some(n) = &node {
            let d = fetch(n.clone()).await;
            // The wanted node may have changed meanwhile: the next turn fetches that one.
            if s.out.send(Arc::new(d)).await.is_err() {
                return;
            }
        }
        let wait = async {
            match node {
                Some(_) => tokio::time::sleep(every).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = s.want.changed() => if r.is_err() { return },
            _ = wait => {}
            _ = s.out.closed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn detail(node: String) -> NodeDetail {
        NodeDetail {
            node,
            at: clustertop_core::testkit::T0,
            pods: Part::Ok(Vec::new()),
            events: Part::Failed("forbidden".into()),
            requests: 0,
        }
    }

    /// Nothing is fetched while no detail is open; opening fetches at once, staying open
    /// refreshes every period, a refresh key fetches at once, closing stops.
    #[tokio::test(start_paused = true)]
    async fn fetches_only_while_a_node_is_wanted() {
        let calls = Arc::new(AtomicUsize::new(0));
        let (mut ui, src) = link();
        let c = calls.clone();
        let task = tokio::spawn(serve(
            move |n| {
                c.fetch_add(1, Ordering::SeqCst);
                async move { detail(n) }
            },
            src,
            Duration::from_secs(10),
        ));
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(calls.load(Ordering::SeqCst), 0, "no detail open: no request");
        ui.want.send_modify(|w| w.node = Some("r1-n01".into()));
        let got = ui.got.recv().await.expect("an answer");
        assert_eq!(got.node, "r1-n01");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_secs(25)).await;
        while ui.got.try_recv().is_ok() {}
        assert_eq!(calls.load(Ordering::SeqCst), 3, "refreshed at 10 s and 20 s");
        ui.want.send_modify(|w| w.asked += 1);
        ui.got.recv().await.expect("the asked refresh");
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        ui.want.send_modify(|w| w.node = None);
        tokio::time::sleep(Duration::from_secs(120)).await;
        while ui.got.try_recv().is_ok() {}
        assert_eq!(calls.load(Ordering::SeqCst), 4, "closed: no more requests");
        drop(ui);
        task.await.expect("ends when the UI is gone");
    }
}
