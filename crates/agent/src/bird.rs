//! BGP sessions of a local BIRD (Calico's BIRD 1.x `bird.ctl` and `bird6.ctl`, or a BIRD 2/3),
//! read from its control socket: connect, read the `0001` greeting, send `show protocols all`,
//! read the reply up to the line whose 4-digit code is followed by a space (`0000 ` ends an OK
//! reply; `8xxx`/`9xxx` are errors), then keep the `BGP` protocols. The `Since` column (a time
//! of day, a date, or both, in the daemon's local time, taken as UTC) becomes a time.
//!
//! Reply lines are `NNNN-text` (a line with code NNNN), ` text` (one more line of the previous
//! code) or `NNNN text` (the last line). `birdc` prints the same reply without the codes, which
//! [`parse_protocols_all`] also reads.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

use crate::wire::BgpPeer;

/// Largest reply read (a BIRD with thousands of protocols stays far below).
pub const MAX_REPLY: usize = 4 << 20;

/// Ask the BIRD behind `socket` for its BGP sessions. `timeout` bounds the whole conversation.
pub async fn peers(socket: &Path, timeout: Duration) -> Result<Vec<BgpPeer>, String> {
    let reply = tokio::time::timeout(timeout, converse(socket, "show protocols all"))
        .await
        .map_err(|_| format!("{}: no complete reply within {timeout:?}", socket.display()))??;
    Ok(parse_protocols_all(&reply, Utc::now()))
}

async fn converse(socket: &Path, command: &str) -> Result<String, String> {
    let at = |e: std::io::Error| format!("{}: {e}", socket.display());
    let mut stream = UnixStream::connect(socket).await.map_err(at)?;
    let mut lines = Lines::default();
    let greeting = lines.next_line(&mut stream).await?;
    if !greeting.starts_with("0001 ") {
        return Err(format!("{}: unexpected greeting: {}", socket.display(), short(&greeting)));
    }
    stream.write_all(format!("{command}\n").as_bytes()).await.map_err(at)?;
    let mut reply = String::new();
    loop {
        let line = lines.next_line(&mut stream).await?;
        if let Some(code) = final_code(&line) {
            if code.starts_with(['8', '9']) {
                return Err(format!("bird: {}", short(&line)));
            }
            reply.push_str(&line);
            reply.push('\n');
            return Ok(reply);
        }
        reply.push_str(&line);
        reply.push('\n');
    }
}

/// Reads `\n`-terminated lines, at most [`MAX_REPLY`] bytes in all.
#[derive(Default)]
struct Lines {
    buf: Vec<u8>,
    /// Bytes of `buf` already handed out as lines.
    start: usize,
    /// Bytes of `buf` from `start` known to hold no newline.
    scanned: usize,
    total: usize,
}

impl Lines {
    async fn next_line(&mut self, stream: &mut UnixStream) -> Result<String, String> {
        loop {
            let from = self.start + self.scanned;
            if let Some(nl) = self.buf[from..].iter().position(|&b| b == b'\n') {
                let raw = &self.buf[self.start..from + nl];
                let line = String::from_utf8_lossy(raw).trim_end_matches('\r').to_string();
                self.start = from + nl + 1;
                self.scanned = 0;
                return Ok(line);
            }
            self.buf.drain(..self.start);
            self.start = 0;
            self.scanned = self.buf.len();
            if self.total >= MAX_REPLY {
                return Err(format!("bird: reply larger than {MAX_REPLY} bytes"));
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = stream.read(&mut chunk).await.map_err(|e| format!("bird: read: {e}"))?;
            if n == 0 {
                return Err("bird: connection closed before the end of the reply".into());
            }
            self.total += n;
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// The code of a reply's last line (`0000 `, `9001 syntax error`, …).
fn final_code(line: &str) -> Option<&str> {
    let b = line.as_bytes();
    (b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b' ').then(|| &line[..4])
}

fn short(s: &str) -> String {
    s.chars().take(200).collect()
}

/// The BGP protocols of a `show protocols all` reply, raw (with codes) or as `birdc` prints it;
/// `now` reads a `Since` that is only a time of day. Never fails: a truncated or foreign reply
/// gives the sessions it does describe.
pub fn parse_protocols_all(reply: &str, now: DateTime<Utc>) -> Vec<BgpPeer> {
    let mut peers = Vec::new();
    let mut current: Option<BgpPeer> = None;
    let mut caps = Caps::None;
    let mut code = String::new();
    for line in reply.lines() {
        let line = line.trim_end_matches('\r');
        let text = match split_code(line) {
            Some((c, rest)) => {
                code = c.to_string();
                rest
            }
            None if line.starts_with(' ') => &line[1..],
            // `birdc` output: a row of the table starts in column 0, details are indented.
            None => {
                code = "1002".into();
                line
            }
        };
        if code == "1002" && !text.starts_with(char::is_whitespace) {
            peers.extend(current.take());
            current = header_row(text, now);
            caps = Caps::None;
        } else if let Some(peer) = current.as_mut() {
            detail(peer, text.trim(), &mut caps);
        }
    }
    peers.extend(current);
    peers
}

/// `1002-tor1 …` → (`1002`, `tor1 …`); also the last line's `0000 ` form.
fn split_code(line: &str) -> Option<(&str, &str)> {
    let b = line.as_bytes();
    (b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit) && matches!(b[4], b'-' | b' '))
        .then(|| (&line[..4], &line[5..]))
}

/// `tor1  BGP  ---  up  01:39:54.471  Established`: a BGP protocol starts a peer. The `Since`
/// column is one word (`01:39:54.471`, `2016-11-21`) or two (`2026-12-07 01:39:54`).
fn header_row(text: &str, now: DateTime<Utc>) -> Option<BgpPeer> {
    let cols: Vec<&str> = text.split_whitespace().collect();
    if cols.get(1) != Some(&"BGP") {
        return None;
    }
    let clock = |s: &&str| s.len() >= 8 && s.as_bytes()[2] == b':' && s.as_bytes()[5] == b':';
    let since = match (cols.get(4), cols.get(5)) {
        (Some(d), Some(t)) if !clock(d) && clock(t) => {
            crate::model::bgp::parse_since(&format!("{d} {t}"), now)
        }
        (Some(d), _) => crate::model::bgp::parse_since(d, now),
        _ => None,
    };
    Some(BgpPeer {
        name: cols[0].to_string(),
        neighbor_address: String::new(),
        neighbor_as: None,
        local_as: None,
        // The protocol state (`up`, `start`, `down`) until a `BGP state:` line says more.
        state: cols.get(3).map(|s| s.to_string()).unwrap_or_default(),
        since_s: None,
        last_error: None,
        routes_imported: None,
        routes_exported: None,
        hold_time_s: None,
        keepalive_s: None,
        family: None,
        since,
        established_transitions: None,
        graceful_restart: None,
        restart_time_s: None,
        peer_graceful_restart: None,
        hold_time_conf_s: None,
        keepalive_conf_s: None,
    })
}

/// Which capability list of BIRD 2/3's `show protocols all` the lines belong to.
#[derive(Clone, Copy, PartialEq)]
enum Caps {
    None,
    Local,
    Neighbor,
}

fn detail(peer: &mut BgpPeer, text: &str, caps: &mut Caps) {
    // BIRD 2/3 list the capabilities of the session's OPENs: ours, then the neighbour's. A
    // `Graceful restart` with a `Restart time` under ours is restart-capable; without one it is
    // BIRD's default `aware` (helper only). Printed only while a connection exists.
    match text {
        "Local capabilities" => {
            *caps = Caps::Local;
            peer.graceful_restart = Some(false);
            return;
        }
        "Neighbor capabilities" => {
            *caps = Caps::Neighbor;
            peer.peer_graceful_restart = Some(false);
            return;
        }
        "Graceful restart" if *caps == Caps::Neighbor => peer.peer_graceful_restart = Some(true),
        _ => {}
    }
    let Some((key, value)) = text.split_once(':') else { return };
    let value = value.trim();
    match key.trim() {
        "Restart time" if *caps == Caps::Local => {
            peer.graceful_restart = Some(true);
            peer.restart_time_s = value.parse().ok();
        }
        // The end of the capability lists.
        "Session" => *caps = Caps::None,
        // BIRD 1.x: one line of the neighbour's capabilities (`refresh restart-aware AS4`).
        "Neighbor caps" => {
            peer.peer_graceful_restart =
                Some(value.split_whitespace().any(|c| matches!(c, "restart-aware" | "restart-able")))
        }
        "BGP state" => peer.state = value.to_string(),
        "Neighbor address" => {
            peer.neighbor_address = value.to_string();
            peer.family = crate::model::Family::of_addr(value).map(|f| family_name(f).to_string());
        }
        k if k.eq_ignore_ascii_case("FSM established transitions") => {
            peer.established_transitions = value.parse().ok()
        }
        "Neighbor AS" => peer.neighbor_as = value.parse().ok(),
        "Local AS" => peer.local_as = value.parse().ok(),
        "Hold timer" => peer.hold_time_s = timer(value),
        "Keepalive timer" => peer.keepalive_s = timer(value),
        "Last error" if !value.is_empty() => peer.last_error = Some(value.to_string()),
        "Routes" => {
            // One line per channel (ipv4, ipv6): summed.
            let (imported, exported) = routes(value);
            peer.routes_imported = add(peer.routes_imported, imported);
            peer.routes_exported = add(peer.routes_exported, exported);
        }
        _ => {}
    }
}

/// The wire name of a family (`ipv4`, `ipv6`).
pub fn family_name(f: crate::model::Family) -> &'static str {
    match f {
        crate::model::Family::Ipv4 => "ipv4",
        crate::model::Family::Ipv6 => "ipv6",
    }
}

/// `6.050/9` → 9 (the negotiated time after the slash); a bare `9` → 9.
fn timer(value: &str) -> Option<u32> {
    let total = value.rsplit_once('/').map_or(value, |(_, t)| t).trim();
    total.parse().ok().or_else(|| total.parse::<f64>().ok().map(|f| f.round() as u32))
}

/// `1 imported, 0 filtered, 1 exported, 1 preferred` → (1, 1).
fn routes(value: &str) -> (Option<u64>, Option<u64>) {
    let (mut imported, mut exported) = (None, None);
    for part in value.split(',') {
        let mut words = part.split_whitespace();
        let (Some(n), Some(what)) = (words.next(), words.next()) else { continue };
        let Ok(n) = n.parse::<u64>() else { continue };
        match what {
            "imported" => imported = Some(n),
            "exported" => exported = Some(n),
            _ => {}
        }
    }
    (imported, exported)
}

fn add(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.saturating_add(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
#[path = "bird_tests.rs"]
mod tests;
