//! The agent's BGP readers against real daemons and fake sockets.
//!
//! - `bird_sessions_follow_a_link`: three real BIRDs in network namespaces (a node, AS 64512, and
//!   two TORs, AS 65001/65002, on veth pairs 10.0.1.0/30 and 10.0.2.0/30). Needs root, `ip` and
//!   `bird` (Debian: `apt-get install -y bird2`); skipped otherwise, failed with `CI=true`.
//! - `bird_socket_errors`, `cilium_*`: fake UNIX-socket servers; run everywhere.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::TempDir;
use clustertop::agent::{bird, cilium};
use clustertop::wire::BgpPeer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;

const TIMEOUT: Duration = Duration::from_secs(1);

// ---------------------------------------------------------------------------------------------
// Real BIRD in network namespaces.

fn find_tool(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// `ip` and `bird`, or `None` (skip) — a failure with `CI=true`.
fn lab_tools() -> Option<(PathBuf, PathBuf)> {
    let (ip, bird) = (find_tool("ip"), find_tool("bird"));
    let mut missing = Vec::new();
    if ip.is_none() {
        missing.push("`ip` (iproute2) not found");
    }
    if bird.is_none() {
        missing.push("`bird` not found (Debian: apt-get install -y bird2)");
    }
    if !is_root() {
        missing.push("not root (network namespaces need CAP_NET_ADMIN)");
    }
    if missing.is_empty() {
        return ip.zip(bird);
    }
    let msg = missing.join("; ");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true and {msg}: this test must run in CI");
    }
    eprintln!("SKIPPED bird_sessions_follow_a_link: {msg}");
    None
}

/// The namespaces, veths and BIRDs of one test; all stopped and deleted on drop, even after a
/// failed assertion.
struct Lab {
    ip: PathBuf,
    prefix: String,
    dir: TempDir,
    birds: Vec<Child>,
    namespaces: Vec<String>,
}

impl Lab {
    fn ns(&self, role: &str) -> String {
        format!("{}-{role}", self.prefix)
    }

    fn ip(&self, args: &[&str]) {
        let out = Command::new(&self.ip).args(args).output().expect("run ip");
        assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn add_ns(&mut self, role: &str) {
        let ns = self.ns(role);
        self.ip(&["netns", "add", &ns]);
        self.namespaces.push(ns.clone());
        self.ip(&["-n", &ns, "link", "set", "lo", "up"]);
    }

    /// `veth-n<i>` in the node (10.0.<i>.2/30) ↔ `veth-t<i>` in `tor<i>` (10.0.<i>.1/30).
    fn link(&self, i: u8) {
        let (node, tor) = (self.ns("node"), self.ns(&format!("tor{i}")));
        let (n, t) = (format!("veth-n{i}"), format!("veth-t{i}"));
        self.ip(&["link", "add", &n, "netns", &node, "type", "veth", "peer", "name", &t, "netns", &tor]);
        for (ns, dev, addr) in [(&node, &n, format!("10.0.{i}.2/30")), (&tor, &t, format!("10.0.{i}.1/30"))] {
            self.ip(&["-n", ns, "addr", "add", &addr, "dev", dev]);
            self.ip(&["-n", ns, "link", "set", dev, "up"]);
        }
    }

    fn socket(&self, role: &str) -> PathBuf {
        self.dir.0.join(format!("{role}.ctl"))
    }

    fn start_bird(&mut self, bird: &Path, role: &str, config: &str) {
        let conf = self.dir.0.join(format!("{role}.conf"));
        std::fs::write(&conf, config).expect("write bird config");
        let log = std::fs::File::create(self.dir.0.join(format!("{role}.log"))).expect("log");
        let err = log.try_clone().expect("log");
        // `ip netns exec` execs bird, so the child's PID is bird's own.
        let child = Command::new(&self.ip)
            .args(["netns", "exec", &self.ns(role)])
            .arg(bird)
            .arg("-f")
            .arg("-c")
            .arg(&conf)
            .arg("-s")
            .arg(self.socket(role))
            .arg("-P")
            .arg(self.dir.0.join(format!("{role}.pid")))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .expect("start bird");
        self.birds.push(child);
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for child in &mut self.birds {
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in &self.namespaces {
            let _ = Command::new(&self.ip).args(["netns", "del", ns]).status();
        }
    }
}

const TIMERS: &str = "hold time 9; keepalive time 3; error wait time 1, 5; connect delay time 1;";

fn node_config() -> String {
    format!(
        "router id 10.0.1.2;\nprotocol device {{}}\nprotocol static {{ ipv4; route 10.244.7.0/24 blackhole; }}\n\
         template bgp tor {{ local as 64512; {TIMERS}\n  \
         ipv4 {{ import all; export where source = RTS_STATIC; }}; }}\n\
         protocol bgp tor1 from tor {{ neighbor 10.0.1.1 as 65001; graceful restart on; graceful restart time 90; }}\n\
         protocol bgp tor2 from tor {{ neighbor 10.0.2.1 as 65002; }}\n"
    )
}

/// TOR2 refuses graceful restart (BIRD's default is `aware`: a helper).
fn tor_config(i: u8) -> String {
    let gr = if i == 2 { "graceful restart off;" } else { "" };
    format!(
        "router id 10.0.{i}.1;\nprotocol device {{}}\nprotocol static {{ ipv4; route 10.96.{i}.0/24 blackhole; }}\n\
         protocol bgp node7 {{ local as 6500{i}; neighbor 10.0.{i}.2 as 64512; {TIMERS} {gr}\n  \
         ipv4 {{ import all; export where source = RTS_STATIC; }}; }}\n"
    )
}

/// Poll the node's BIRD until `ok` holds, or panic at `within` with the last answer.
async fn wait_for(
    socket: &Path,
    within: Duration,
    what: &str,
    ok: impl Fn(&[BgpPeer]) -> bool,
) -> Vec<BgpPeer> {
    let deadline = Instant::now() + within;
    loop {
        let last = bird::peers(socket, TIMEOUT).await;
        if let Ok(peers) = &last
            && ok(peers)
        {
            return peers.clone();
        }
        assert!(Instant::now() < deadline, "{what}: not within {within:?}; last answer: {last:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn state<'a>(peers: &'a [BgpPeer], name: &str) -> Option<&'a BgpPeer> {
    peers.iter().find(|p| p.name == name)
}

fn established(peers: &[BgpPeer], name: &str) -> bool {
    state(peers, name).is_some_and(|p| p.state == "Established")
}

#[tokio::test]
async fn bird_sessions_follow_a_link() {
    let Some((ip, bird_bin)) = lab_tools() else { return };
    let started = Instant::now();
    let prefix = format!("ctb-{}", std::process::id());
    let mut lab = Lab { ip, dir: TempDir::new("bird"), prefix, birds: Vec::new(), namespaces: Vec::new() };
    for role in ["node", "tor1", "tor2"] {
        lab.add_ns(role);
    }
    lab.link(1);
    lab.link(2);
    lab.start_bird(&bird_bin, "node", &node_config());
    lab.start_bird(&bird_bin, "tor1", &tor_config(1));
    lab.start_bird(&bird_bin, "tor2", &tor_config(2));
    let node = lab.socket("node");

    let both = |p: &[BgpPeer]| established(p, "tor1") && established(p, "tor2");
    let peers = wait_for(&node, Duration::from_secs(15), "both sessions Established", both).await;
    assert_eq!(peers.len(), 2, "only the BGP protocols: {peers:#?}");
    let tor1 = state(&peers, "tor1").expect("tor1");
    assert_eq!(tor1.neighbor_address, "10.0.1.1");
    assert_eq!((tor1.neighbor_as, tor1.local_as), (Some(65001), Some(64512)));
    assert_eq!((tor1.hold_time_s, tor1.keepalive_s), (Some(9), Some(3)));
    // Graceful restart: on towards tor1 (a helper), BIRD's default `aware` towards tor2, which
    // runs `graceful restart off` and advertises nothing.
    assert_eq!(
        (tor1.graceful_restart, tor1.restart_time_s, tor1.peer_graceful_restart),
        (Some(true), Some(90), Some(true))
    );
    // Each side exports its static route: one in, one out.
    let tor2 = state(&peers, "tor2").expect("tor2");
    assert_eq!(tor2.neighbor_as, Some(65002));
    assert_eq!(
        (tor2.graceful_restart, tor2.restart_time_s, tor2.peer_graceful_restart),
        (Some(false), None, Some(false))
    );
    wait_for(&node, Duration::from_secs(5), "one route each way", |p| {
        p.iter().all(|p| p.routes_imported == Some(1) && p.routes_exported == Some(1))
    })
    .await;

    // Link down: BIRD loses the direct neighbour at once ("Error: Neighbor lost").
    lab.ip(&["-n", &lab.ns("node"), "link", "set", "veth-n1", "down"]);
    let peers = wait_for(&node, Duration::from_secs(5), "tor1 down", |p| !established(p, "tor1")).await;
    let tor1 = state(&peers, "tor1").expect("tor1");
    assert!(tor1.last_error.is_some(), "a session that went down says why: {tor1:#?}");
    assert!(established(&peers, "tor2"), "the other session stays up: {peers:#?}");

    lab.ip(&["-n", &lab.ns("node"), "link", "set", "veth-n1", "up"]);
    wait_for(&node, Duration::from_secs(15), "both Established again", both).await;
    eprintln!("bird lab: {:?}", started.elapsed());
}

// ---------------------------------------------------------------------------------------------
// Fake sockets.

/// Serve each connection on `path` with `serve` (given the stream), in the background.
fn fake_server<F, Fut>(path: &Path, serve: F)
where
    F: Fn(tokio::net::UnixStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = UnixListener::bind(path).expect("bind fake socket");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream));
        }
    });
}

/// Assert `r` is an error that arrived within the timeout (plus scheduling slack).
fn assert_err_in_time<T: std::fmt::Debug>(r: Result<T, String>, t0: Instant, has: &str) {
    let took = t0.elapsed();
    assert!(took < TIMEOUT + Duration::from_millis(500), "took {took:?}");
    let e = r.expect_err("an error");
    assert!(e.contains(has), "{e:?} should mention {has:?}");
}

#[tokio::test]
async fn bird_socket_errors() {
    let dir = TempDir::new("fakebird");
    let t0 = Instant::now();
    assert_err_in_time(bird::peers(&dir.0.join("absent.ctl"), TIMEOUT).await, t0, "absent.ctl");

    const HELLO: &[u8] = b"0001 BIRD 2.0.12 ready.\n";
    // (socket, greeting, reply to the command, what the error says)
    let cases: [(&str, &'static [u8], &'static [u8], &str); 4] = [
        ("err", HELLO, b"9001 syntax error, unexpected CF_SYM_UNDEFINED\n", "9001 syntax"),
        ("hang", HELLO, b"", "no complete reply"),
        ("greet", b"HTTP/1.1 400 Bad Request\r\n\r\n", b"", "unexpected greeting"),
        ("cut", HELLO, b"1002-tor1 BGP --- up 00:00 Established\n", "closed before"),
    ];
    for (name, greeting, reply, has) in cases {
        let path = dir.0.join(format!("{name}.ctl"));
        let hang = name == "hang";
        fake_server(&path, move |mut s| async move {
            let _ = s.write_all(greeting).await;
            let mut command = [0u8; 64];
            let _ = s.read(&mut command).await;
            let _ = s.write_all(reply).await;
            if hang {
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
        });
        let t0 = Instant::now();
        assert_err_in_time(bird::peers(&path, TIMEOUT).await, t0, has);
    }

    // An endless reply stops at the size cap.
    let path = dir.0.join("flood.ctl");
    fake_server(&path, |mut s| async move {
        let _ = s.write_all(b"0001 BIRD 2.0.12 ready.\n").await;
        let line = [b' '; 4096];
        while s.write_all(&line).await.is_ok() {}
    });
    let t0 = Instant::now();
    assert_err_in_time(bird::peers(&path, TIMEOUT).await, t0, "larger than");
}

/// Read the request head, then answer `response` (and hold the connection when `hang`).
async fn http_reply(mut s: tokio::net::UnixStream, head: Vec<u8>, body: Vec<u8>, hang: bool) {
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 64 * 1024 {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    if hang || !req.starts_with(b"GET /v1/bgp/peers HTTP/1.1\r\n") {
        tokio::time::sleep(Duration::from_secs(30)).await;
        return;
    }
    let _ = s.write_all(&head).await;
    for chunk in body.chunks(64 * 1024) {
        if s.write_all(chunk).await.is_err() {
            return;
        }
    }
}

fn http_head(status: &str, len: usize) -> Vec<u8> {
    format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n")
        .into_bytes()
}

#[tokio::test]
async fn cilium_fake_agent() {
    let dir = TempDir::new("fakecilium");
    let fixture = include_bytes!("../fixtures/agent/cilium-bgp-peers.json").to_vec();
    let big = vec![b' '; 5 << 20];
    let cases: Vec<(&str, Vec<u8>, Vec<u8>, bool)> = vec![
        ("ok", http_head("200 OK", fixture.len()), fixture, false),
        ("malformed", http_head("200 OK", 9), b"[{\"peer-a".to_vec(), false),
        ("big", http_head("200 OK", big.len()), big.clone(), false),
        (
            "bigchunked",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(),
            [format!("{:x}\r\n", big.len()).into_bytes(), big, b"\r\n0\r\n\r\n".to_vec()].concat(),
            false,
        ),
        (
            "disabled",
            http_head("501 Not Implemented", 30),
            b"\"BGP Control Plane disabled\"\n\n".to_vec(),
            false,
        ),
        ("hang", Vec::new(), Vec::new(), true),
    ];
    for (name, head, body, hang) in cases {
        let path = dir.0.join(format!("{name}.sock"));
        fake_server(&path, move |s| http_reply(s, head.clone(), body.clone(), hang));
        let t0 = Instant::now();
        let r = cilium::peers(&path, TIMEOUT).await;
        match name {
            "ok" => {
                let peers = r.expect("valid JSON gives peers");
                assert_eq!(peers.len(), 2);
                assert_eq!((peers[0].name.as_str(), peers[0].state.as_str()), ("10.0.1.1", "established"));
                assert_eq!(peers[0].since_s, Some(3723));
                assert!(t0.elapsed() < TIMEOUT);
            }
            "malformed" => assert_err_in_time(r, t0, "not a list of peers"),
            "big" | "bigchunked" => assert_err_in_time(r, t0, "larger than"),
            "disabled" => assert_err_in_time(r, t0, "501"),
            _ => assert_err_in_time(r, t0, "no complete reply"),
        }
    }
    let t0 = Instant::now();
    assert_err_in_time(cilium::peers(&dir.0.join("absent.sock"), TIMEOUT).await, t0, "absent.sock");
}
