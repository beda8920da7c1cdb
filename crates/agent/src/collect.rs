//! One reading of the node: host facts on a blocking thread, BIRD and Cilium peers concurrently,
//! each bounded in time. Never fails: a missing input is an absent fact with its reason.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use chrono::Utc;

use super::AgentConfig;
use crate::wire::{BgpPeer, ConntrackFacts, Fact, NodeReport, SCHEMA};

use super::host::{HostFacts, read_host};
use super::{bird, cilium};

/// Every host fact absent with the same reason (the reader thread failed).
fn absent_host(reason: &str) -> HostFacts {
    fn a<T>(r: &str) -> Fact<T> {
        Fact::absent(r)
    }
    HostFacts {
        conntrack: ConntrackFacts {
            count: a(reason),
            max: a(reason),
            tcp_timeout_established_s: a(reason),
            tcp_timeout_close_wait_s: a(reason),
            tcp_timeout_time_wait_s: a(reason),
            stat: a(reason),
        },
        bridge_nf_call_iptables: a(reason),
        ip_forward: a(reason),
        modules: a(reason),
        interfaces: a(reason),
        cni_configs: a(reason),
        dev_kvm: a(reason),
        cpu_virt: a(reason),
        file_nr: a(reason),
        load: a(reason),
        cpu_cores: a(reason),
    }
}

/// Ask one daemon for its peers, if its socket is configured; a hung daemon costs at most the
/// socket timeout (plus a second of grace).
async fn peers<F>(ask: Option<(&Path, F)>, flag: &str, timeout: Duration) -> Fact<Vec<BgpPeer>>
where
    F: Future<Output = Result<Vec<BgpPeer>, String>>,
{
    let Some((socket, ask)) = ask else { return Fact::absent(format!("no {flag}")) };
    match tokio::time::timeout(timeout + Duration::from_secs(1), ask).await {
        Ok(r) => r.into(),
        Err(_) => Fact::absent(format!("{}: no answer within {} s", socket.display(), timeout.as_secs_f64())),
    }
}

/// Read everything once.
pub async fn collect(cfg: &AgentConfig) -> NodeReport {
    let c = cfg.clone();
    let host = tokio::task::spawn_blocking(move || read_host(&c));
    let t = cfg.socket_timeout;
    // Boxed: each holds a read buffer, and together they would crowd a small thread's stack.
    let bird =
        Box::pin(peers(cfg.bird_socket.as_deref().map(|s| (s, bird::peers(s, t))), "--bird-socket", t));
    let bird6 = cfg.bird6_socket();
    let bird6 = Box::pin(peers(bird6.as_deref().map(|s| (s, bird::peers(s, t))), "--bird6-socket", t));
    let cilium =
        Box::pin(peers(cfg.cilium_socket.as_deref().map(|s| (s, cilium::peers(s, t))), "--cilium-socket", t));
    let (host, bgp_bird, mut bgp_bird6, bgp_cilium) = tokio::join!(host, bird, bird6, cilium);
    // BIRD 1.x's IPv6 daemon: its sessions are IPv6 whatever their addresses say.
    if let Fact::Value(p) = &mut bgp_bird6 {
        p.iter_mut().for_each(|p| p.family = Some("ipv6".into()));
    }
    let h = host.unwrap_or_else(|e| absent_host(&format!("host reader failed: {e}")));
    NodeReport {
        schema: SCHEMA.into(),
        node: cfg.node_name.clone(),
        agent_version: env!("CARGO_PKG_VERSION").into(),
        read_at: Utc::now(),
        host: h,
        bgp_bird,
        bgp_bird6,
        bgp_cilium,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unconfigured_sockets_are_absent_with_the_flag() {
        let cfg = AgentConfig { node_name: "n1".into(), ..AgentConfig::default() };
        let r = collect(&cfg).await;
        assert_eq!(r.schema, SCHEMA);
        assert_eq!(r.node, "n1");
        assert_eq!(r.bgp_bird, Fact::absent("no --bird-socket"));
        assert_eq!(r.bgp_cilium, Fact::absent("no --cilium-socket"));
    }

    /// Paused time: the hung daemon's 30 s never pass; the cut comes at the timeout plus its grace.
    #[tokio::test(start_paused = true)]
    async fn a_hung_daemon_is_cut_off() {
        let t0 = tokio::time::Instant::now();
        let hang = async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(Vec::new())
        };
        let f = peers(Some((Path::new("/x.sock"), hang)), "--bird-socket", Duration::from_millis(10));
        let r = f.await;
        assert!(matches!(&r, Fact::Absent(e) if e.contains("no answer")), "{r:?}");
        assert_eq!(t0.elapsed(), Duration::from_millis(1010), "the socket timeout plus 1 s of grace");
    }
}
