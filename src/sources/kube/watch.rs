//! Watcher tasks: one per kind, each reducing objects and reporting errors as health.
//! Only get/list/watch requests are made (discovery GETs included).

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Node as K8sNode;
use k8s_openapi::api::node::v1::RuntimeClass as K8sRuntimeClass;
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use super::discovery::{Discovery, Found};
use super::slim::SlimPod;
use super::state::{Ev, Kind, Obj};
use super::{bgp, map};
use crate::model::{Interner, SourceHealth};

/// What a watcher task tells the source loop.
#[derive(Debug)]
pub enum Msg {
    Ev(Kind, Ev),
    /// A health change for `scope` (the kind's scope, or "" for the connection), with the wait
    /// the server asked for before a retry (`Retry-After`; zero when none).
    Health(Kind, String, SourceHealth, Duration),
    /// What the source says about a kind beside its health: the encoding its list came in
    /// (`list: watch-list, protobuf`, `list: paginated, JSON`).
    Note(Kind, String),
}

/// Options the reducers need.
#[derive(Debug, Clone)]
pub struct Reduce {
    pub offline_priority_classes: Vec<String>,
    pub offline_qos: Vec<String>,
}

/// An optional CRD: the group/versions to try (preferred first), kind and plural.
pub struct Crd {
    pub kind: Kind,
    pub versions: &'static [(&'static str, &'static str)],
    pub api_kind: &'static str,
    pub plural: &'static str,
}

/// Cilium's BGP kinds moved from `v2alpha1` (Cilium 1.14-1.17) to `v2` (1.18+); Calico serves
/// `CalicoNodeStatus` as `projectcalico.org/v3` (its API server, or v3 CRDs) or as the CRD
/// `crd.projectcalico.org/v1`.
const CILIUM_BGP: &[(&str, &str)] = &[("cilium.io", "v2"), ("cilium.io", "v2alpha1")];

pub const CRDS: &[Crd] = &[
    Crd {
        kind: Kind::CiliumNodes,
        versions: &[("cilium.io", "v2")],
        api_kind: "CiliumNode",
        plural: "ciliumnodes",
    },
    Crd {
        kind: Kind::BgpNodeConfigs,
        versions: CILIUM_BGP,
        api_kind: "CiliumBGPNodeConfig",
        plural: "ciliumbgpnodeconfigs",
    },
    Crd {
        kind: Kind::BgpPeerConfigs,
        versions: CILIUM_BGP,
        api_kind: "CiliumBGPPeerConfig",
        plural: "ciliumbgppeerconfigs",
    },
    Crd {
        kind: Kind::BgpAdvertisements,
        versions: CILIUM_BGP,
        api_kind: "CiliumBGPAdvertisement",
        plural: "ciliumbgpadvertisements",
    },
    Crd {
        kind: Kind::BgpPeeringPolicies,
        versions: &[("cilium.io", "v2alpha1")],
        api_kind: "CiliumBGPPeeringPolicy",
        plural: "ciliumbgppeeringpolicies",
    },
    Crd {
        kind: Kind::CalicoNodeStatuses,
        versions: &[("projectcalico.org", "v3"), ("crd.projectcalico.org", "v1")],
        api_kind: "CalicoNodeStatus",
        plural: "caliconodestatuses",
    },
];

fn reduce_ev<K>(ev: watcher::Event<K>, f: &impl Fn(K) -> Option<(String, Obj)>) -> Option<Ev> {
    Some(match ev {
        watcher::Event::Init => Ev::Init,
        watcher::Event::InitDone => Ev::InitDone,
        watcher::Event::InitApply(k) => {
            let (key, o) = f(k)?;
            Ev::InitApply(key, o)
        }
        watcher::Event::Apply(k) => {
            let (key, o) = f(k)?;
            Ev::Apply(key, o)
        }
        watcher::Event::Delete(k) => Ev::Delete(f(k)?.0),
    })
}

/// How a watcher retries after an error: 0.5 s, doubling, at most 1 s plus jitter (so at most
/// ~2 s): current again within 5 s of an API server's return, while the 8 watchers make at most
/// ~8 requests a second against a server that is down. kube's default grows to 30 s, which can
/// leave the dashboard stale for half a minute after a short outage.
fn reconnect_backoff() -> kube::runtime::watcher::ExponentialBackoff {
    backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(500))
        .with_max_delay(Duration::from_secs(1))
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
        .into()
}

/// Watch `api` forever (with backoff), sending reduced events; returns when `tx` closes.
pub async fn watch<K, F>(api: Api<K>, cfg: watcher::Config, kind: Kind, f: F, tx: mpsc::Sender<Msg>)
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    F: Fn(K) -> Option<(String, Obj)>,
{
    loop {
        let mut stream = Box::pin(watcher(api.clone(), cfg.clone()).backoff(reconnect_backoff()));
        while let Some(r) = stream.next().await {
            let msg = match r {
                Ok(ev) => match reduce_ev(ev, &f) {
                    Some(ev) => Msg::Ev(kind, ev),
                    None => continue,
                },
                Err(e) => match map::watch_error_health(&e, kind.scope()) {
                    Some((scope, h)) => Msg::Health(kind, scope, h, map::retry_after(&e)),
                    None => continue,
                },
            };
            // The server says the resource does not exist (a CRD watched because discovery
            // failed, e.g. throttled): stop, as for a CRD absent from discovery.
            let gone = matches!(&msg, Msg::Health(_, _, SourceHealth::NotInstalled, _));
            if tx.send(msg).await.is_err() || gone {
                return;
            }
        }
        // The backoff stream does not end on its own; if it does, start over after a pause.
        tokio::time::sleep(Duration::from_secs(5)).await;
        if tx.is_closed() {
            return;
        }
    }
}

fn config(page_size: u32) -> watcher::Config {
    watcher::Config::default().page_size(page_size.max(1))
}

pub async fn nodes(client: Client, page_size: u32, tx: mpsc::Sender<Msg>) {
    let f = |mut n: K8sNode| {
        n.managed_fields_mut().clear();
        let o = map::node_obj(&n);
        Some((o.name.clone(), Obj::Node(Box::new(o))))
    };
    super::pipeline::watch::<K8sNode, _>(client, page_size, Kind::Nodes, f, tx).await
}

pub async fn pods(client: Client, page_size: u32, r: Reduce, tx: mpsc::Sender<Msg>) {
    // Pods' repeated strings (namespace, node, classes, phase) share one allocation each.
    let interner = std::sync::Mutex::new(Interner::default());
    let f = move |p: SlimPod| {
        let agent = p.metadata.labels.as_ref().and_then(map::agent_cni);
        let mut interner = interner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let pod = map::pod(&p, &r.offline_priority_classes, &r.offline_qos, &mut interner);
        Some((format!("{}/{}", pod.namespace, pod.name), Obj::Pod(Box::new(pod), agent)))
    };
    super::pipeline::watch::<SlimPod, _>(client, page_size, Kind::Pods, f, tx).await
}

pub async fn runtime_classes(client: Client, page_size: u32, tx: mpsc::Sender<Msg>) {
    let f = |rc: K8sRuntimeClass| {
        let c = map::runtime_class(&rc);
        Some((c.name.clone(), Obj::RuntimeClass(Box::new(c))))
    };
    watch(Api::<K8sRuntimeClass>::all(client), config(page_size), Kind::RuntimeClasses, f, tx).await
}

/// Reduce a custom object of `kind`; `now` reads BIRD's `since` times of day.
pub fn reduce_dynamic(
    kind: Kind,
    o: &DynamicObject,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<(String, Obj)> {
    let name = o.metadata.name.clone()?;
    let obj = match kind {
        Kind::BgpNodeConfigs => Obj::BgpNodeConfig(Box::new(bgp::node_config(&o.data))),
        Kind::BgpPeerConfigs => Obj::PeerConfig(bgp::peer_config(&o.data), bgp::peer_failover(Some(&o.data))),
        Kind::BgpAdvertisements => {
            Obj::Advertisement(o.metadata.labels.clone().unwrap_or_default(), bgp::advertises_pods(&o.data))
        }
        Kind::BgpPeeringPolicies => Obj::BgpPolicy(Box::new(bgp::policy(&o.data))),
        Kind::CalicoNodeStatuses => {
            let (node, s) = bgp::calico_sessions(&name, &o.data, now);
            Obj::Calico(node, s)
        }
        _ => Obj::Present,
    };
    Some((name, obj))
}

/// Resolve the served version by discovery, then watch it. A CRD that no version serves is
/// reported `NotInstalled` once and not watched. When discovery itself fails (no permission,
/// connection), the preferred version is watched anyway and its errors become health.
pub async fn crd(discovery: Arc<Discovery>, crd: &'static Crd, page_size: u32, tx: mpsc::Sender<Msg>) {
    let mut resolved = None;
    let mut absent = 0;
    for (g, v) in crd.versions {
        let gvk = GroupVersionKind::gvk(g, v, crd.api_kind);
        match discovery.kind(&gvk, crd.kind.scope()).await {
            Found::Served(ar) => {
                resolved = Some(ar);
                break;
            }
            Found::Absent => absent += 1,
            Found::Failed => break,
        }
    }
    let ar = resolved.clone().unwrap_or_else(|| {
        let (g, v) = crd.versions.first().copied().unwrap_or(("", "v1"));
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(g, v, crd.api_kind), crd.plural)
    });
    let api: Api<DynamicObject> = Api::all_with(discovery.client(), &ar);
    if resolved.is_none() && absent == crd.versions.len() {
        // Discovery does not list it. One list of the preferred version confirms (a server that
        // serves the resource without discovery documents still gets watched).
        let probe = api.list(&ListParams::default().limit(1)).await;
        if let Err(e) = probe
            && map::api_error_health(&e, "list", crd.kind.scope()).1 == SourceHealth::NotInstalled
        {
            let _ = tx
                .send(Msg::Health(
                    crd.kind,
                    crd.kind.scope().into(),
                    SourceHealth::NotInstalled,
                    Duration::ZERO,
                ))
                .await;
            return;
        }
    }
    let kind = crd.kind;
    watch(
        api,
        config(page_size),
        kind,
        move |o: DynamicObject| reduce_dynamic(kind, &o, chrono::Utc::now()),
        tx,
    )
    .await
}
