//! BGP sessions of the local Cilium agent: `GET /v1/bgp/peers` (HTTP/1.1) on its UNIX socket
//! (`/var/run/cilium/cilium.sock`). The reply is a JSON array of Cilium's `BgpPeer`
//! (`api/v1/models/bgp_peer.go`, kebab-case keys, every field `omitempty`); fields this agent
//! does not use are ignored.

use std::path::Path;
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::{Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::net::UnixStream;

use crate::wire::BgpPeer;

/// Largest body read.
pub const MAX_BODY: usize = 1 << 20;
pub const PATH: &str = "/v1/bgp/peers";
/// How a disabled BGP Control Plane reads: a fact, not an error.
pub const NOT_ENABLED: &str = "BGP not enabled";

/// Ask the Cilium agent behind `socket` for its BGP peers. `timeout` bounds the whole exchange.
pub async fn peers(socket: &Path, timeout: Duration) -> Result<Vec<BgpPeer>, String> {
    let body = tokio::time::timeout(timeout, get(socket, PATH))
        .await
        .map_err(|_| format!("{}: no complete reply within {timeout:?}", socket.display()))??;
    parse_peers(&body)
}

/// Aborts the connection task when the exchange ends or is dropped (timeout).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn get(socket: &Path, path: &str) -> Result<Bytes, String> {
    let at = |e: &dyn std::fmt::Display| format!("{}: {e}", socket.display());
    let stream = UnixStream::connect(socket).await.map_err(|e| at(&e))?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| at(&e))?;
    let _conn = AbortOnDrop(tokio::spawn(async move {
        let _ = conn.await;
    }));
    let request = Request::get(path)
        .header(header::HOST, "localhost")
        .header(header::ACCEPT, "application/json")
        .body(Empty::<Bytes>::new())
        .map_err(|e| at(&e))?;
    let response = sender.send_request(request).await.map_err(|e| at(&e))?;
    let status = response.status();
    let body = Limited::new(response.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                format!("cilium: {path}: body larger than {MAX_BODY} bytes")
            } else {
                at(&e)
            }
        })?
        .to_bytes();
    // The agent answers 501 when its BGP Control Plane is off: nothing is wrong, BGP is just
    // not in use on this node.
    if status == StatusCode::NOT_IMPLEMENTED {
        return Err(format!("{NOT_ENABLED} (the Cilium agent's BGP Control Plane is disabled: HTTP 501)"));
    }
    if status != StatusCode::OK {
        let text: String = String::from_utf8_lossy(&body).trim().chars().take(200).collect();
        return Err(format!("cilium: {path}: HTTP {status}: {text}"));
    }
    Ok(body)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Peer {
    /// The peer's name (newer Cilium; older ones name peers by address only).
    name: Option<String>,
    peer_address: Option<String>,
    peer_asn: Option<i64>,
    local_asn: Option<i64>,
    session_state: Option<String>,
    uptime_nanoseconds: Option<i64>,
    applied_hold_time_seconds: Option<i64>,
    applied_keep_alive_time_seconds: Option<i64>,
    configured_hold_time_seconds: Option<i64>,
    configured_keep_alive_time_seconds: Option<i64>,
    graceful_restart: Option<GracefulRestart>,
    /// The peer's OPEN capabilities, each base64 of `code, length, value`.
    remote_capabilities: Option<Vec<Option<Capability>>>,
    /// Go's nil slices and pointers come out as `null`.
    families: Option<Vec<Option<Family>>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct GracefulRestart {
    enabled: Option<bool>,
    restart_time_seconds: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct Capability {
    capabilities: Option<String>,
}

/// The graceful restart capability (RFC 4724: code 64) among a peer's capabilities; `None`
/// when the agent lists none.
fn peer_gr(caps: Option<&Vec<Option<Capability>>>) -> Option<bool> {
    let codes: Vec<Option<u8>> =
        caps?.iter().flatten().filter_map(|c| c.capabilities.as_deref()).map(first_byte).collect();
    (!codes.is_empty()).then(|| codes.contains(&Some(64)))
}

/// The first byte of a base64 text.
fn first_byte(b64: &str) -> Option<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let b = b64.as_bytes();
    Some((val(*b.first()?)? << 2) | (val(*b.get(1)?)? >> 4))
}

#[derive(Debug, Deserialize)]
struct Family {
    received: Option<i64>,
    advertised: Option<i64>,
}

/// Decode the body of `GET /v1/bgp/peers`. `routes_imported` is the sum of the families'
/// `received`, `routes_exported` of their `advertised` (absent when the peer lists no family).
pub fn parse_peers(body: &[u8]) -> Result<Vec<BgpPeer>, String> {
    let peers: Option<Vec<Option<Peer>>> =
        serde_json::from_slice(body).map_err(|e| format!("cilium: {PATH}: not a list of peers: {e}"))?;
    Ok(peers.unwrap_or_default().into_iter().flatten().map(to_peer).collect())
}

fn to_peer(p: Peer) -> BgpPeer {
    let families: Vec<Family> = p.families.unwrap_or_default().into_iter().flatten().collect();
    // Go's omitempty drops a zero count; a negative one makes the sum unknown.
    let sum = |f: fn(&Family) -> Option<i64>| {
        if families.is_empty() {
            return None;
        }
        families
            .iter()
            .try_fold(0u64, |acc, fam| u64::try_from(f(fam).unwrap_or(0)).ok().map(|n| acc.saturating_add(n)))
    };
    let address = p.peer_address.unwrap_or_default();
    let secs = |n: Option<i64>| n.and_then(|n| u32::try_from(n).ok());
    let gr = p.graceful_restart.as_ref();
    let family = crate::model::Family::of_addr(&address).map(|f| super::bird::family_name(f).to_string());
    BgpPeer {
        name: p.name.filter(|n| !n.is_empty()).unwrap_or_else(|| address.clone()),
        neighbor_address: address,
        neighbor_as: p.peer_asn.and_then(|n| u32::try_from(n).ok()),
        local_as: p.local_asn.and_then(|n| u32::try_from(n).ok()),
        state: p.session_state.unwrap_or_default(),
        since_s: p.uptime_nanoseconds.and_then(|n| u64::try_from(n).ok()).map(|n| n / 1_000_000_000),
        last_error: None,
        routes_imported: sum(|f| f.received),
        routes_exported: sum(|f| f.advertised),
        hold_time_s: p.applied_hold_time_seconds.and_then(|n| u32::try_from(n).ok()),
        keepalive_s: p.applied_keep_alive_time_seconds.and_then(|n| u32::try_from(n).ok()),
        family,
        since: None,
        established_transitions: None,
        graceful_restart: gr.and_then(|g| g.enabled),
        restart_time_s: gr.filter(|g| g.enabled == Some(true)).and_then(|g| secs(g.restart_time_seconds)),
        peer_graceful_restart: peer_gr(p.remote_capabilities.as_ref()),
        hold_time_conf_s: secs(p.configured_hold_time_seconds),
        keepalive_conf_s: secs(p.configured_keep_alive_time_seconds),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../../tests/fixtures/agent/cilium-bgp-peers.json");

    #[test]
    fn fixture_maps_to_peers() {
        let peers = parse_peers(FIXTURE.as_bytes()).expect("fixture parses");
        assert_eq!(peers.len(), 2);
        assert_eq!(
            peers[0],
            BgpPeer {
                name: "10.0.1.1".into(),
                neighbor_address: "10.0.1.1".into(),
                neighbor_as: Some(65001),
                local_as: Some(64512),
                state: "established".into(),
                since_s: Some(3723),
                last_error: None,
                routes_imported: Some(7),
                routes_exported: Some(3),
                hold_time_s: Some(9),
                keepalive_s: Some(3),
                family: Some("ipv4".into()),
                since: None,
                established_transitions: None,
                graceful_restart: Some(true),
                restart_time_s: Some(120),
                peer_graceful_restart: None,
                hold_time_conf_s: Some(9),
                keepalive_conf_s: Some(3),
            }
        );
        // A session that is not up: Go's omitempty drops the zero uptime and timers.
        let p = &peers[1];
        assert_eq!((p.state.as_str(), p.since_s, p.hold_time_s), ("active", None, None));
        assert_eq!((p.routes_imported, p.routes_exported), (Some(0), Some(0)));
    }

    /// Cilium 1.19's answer for bm-r1-n01: graceful restart on (120 s), timers 9/3 configured
    /// and applied, and TORs whose OPEN carries no graceful restart capability (code 64).
    #[test]
    fn upstream_peers_give_graceful_restart_and_timers() {
        let body = include_str!("../../../tests/fixtures/upstream/cilium/agent/bgp-peers-bm-r1-n01.json");
        let peers = parse_peers(body.as_bytes()).expect("parses");
        let got: Vec<_> = peers
            .iter()
            .map(|p| {
                (
                    p.graceful_restart,
                    p.restart_time_s,
                    p.peer_graceful_restart,
                    p.hold_time_conf_s,
                    p.keepalive_conf_s,
                )
            })
            .collect();
        assert_eq!(got, vec![(Some(true), Some(120), Some(false), Some(9), Some(3)); 2]);
        // A peer that advertises it: `QAZAeAABAQA=` is code 64, length 6.
        let p = parse_peers(
            br#"[{"remote-capabilities": [{"capabilities": "AgA="}, {"capabilities": "QAZAeAABAQA="}],
            "graceful-restart": {"enabled": false, "restart-time-seconds": 120}}]"#,
        )
        .expect("parses");
        assert_eq!(
            (p[0].peer_graceful_restart, p[0].graceful_restart, p[0].restart_time_s),
            (Some(true), Some(false), None)
        );
        assert_eq!(first_byte("QAZA"), Some(64));
        assert_eq!(first_byte("!"), None);
    }

    #[test]
    fn nulls_and_empty_are_no_peers_not_errors() {
        assert_eq!(parse_peers(b"[]"), Ok(vec![]));
        assert_eq!(parse_peers(b"null"), Ok(vec![]));
        let p = parse_peers(br#"[null, {"families": null}, {"families": [null]}]"#).expect("parses");
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].routes_imported, p[0].state.as_str()), (None, ""));
    }

    #[test]
    fn out_of_range_numbers_are_absent() {
        let p = parse_peers(
            br#"[{"peer-asn": 4294967296, "local-asn": -1, "uptime-nanoseconds": -5,
            "families": [{"received": -1, "advertised": 9223372036854775807},
                         {"advertised": 9223372036854775807}]}]"#,
        )
        .expect("parses");
        assert_eq!((p[0].neighbor_as, p[0].local_as, p[0].since_s), (None, None, None));
        assert_eq!((p[0].routes_imported, p[0].routes_exported), (None, Some(u64::MAX - 1)));
    }

    #[test]
    fn malformed_json_is_a_short_error() {
        for body in [&b"{"[..], b"<html>", b"{\"peers\": []}", b"[{\"peer-asn\": \"x\"}]", b"", b"\xff"] {
            let e = parse_peers(body).expect_err("malformed");
            assert!(e.starts_with("cilium: /v1/bgp/peers: not a list of peers"), "{e}");
        }
    }
}
