//! `clustertop agent` processes on loopback with small fixture trees, and a raw HTTP client.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A fake node's /proc, /sys, /dev and CNI directory, with `node` as its host name.
pub fn fixture(node: &str) -> PathBuf {
    let dir = super::unique_dir("agent");
    let files: &[(&str, &str)] = &[
        ("proc/sys/kernel/hostname", &format!("{node}\n")),
        ("proc/sys/net/netfilter/nf_conntrack_count", "1234\n"),
        ("proc/sys/net/netfilter/nf_conntrack_max", "262144\n"),
        ("proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established", "432000\n"),
        ("proc/sys/net/bridge/bridge-nf-call-iptables", "1\n"),
        ("proc/sys/net/ipv4/ip_forward", "1\n"),
        ("proc/sys/fs/file-nr", "2048\t0\t9223372036854775807\n"),
        ("proc/loadavg", "0.50 0.40 0.30 2/345 6789\n"),
        ("proc/modules", "br_netfilter 32768 0 - Live 0x0\nvxlan 69632 0 - Live 0x0\n"),
        (
            "proc/cpuinfo",
            "processor\t: 0\nflags\t\t: fpu vmx sse\n\nprocessor\t: 1\nflags\t\t: fpu vmx sse\n",
        ),
        ("sys/class/net/eth0/operstate", "up\n"),
        ("sys/class/net/eth0/type", "1\n"),
        ("sys/class/net/flannel.1/operstate", "unknown\n"),
        ("sys/class/net/flannel.1/type", "1\n"),
        ("cni/10-flannel.conflist", r#"{"name":"cbr0","plugins":[{"type":"flannel"},{"type":"portmap"}]}"#),
    ];
    for (p, text) in files {
        let path = dir.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    std::fs::create_dir_all(dir.join("dev")).unwrap();
    dir
}

/// A running agent; killed (by its PID) when dropped.
pub struct Agent {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Agent {
    /// Start `clustertop agent --listen 127.0.0.1:0` on `fixture` and read the bound address from
    /// its stderr.
    pub fn start(fixture: &Path) -> Agent {
        Agent::start_with(fixture, &[])
    }
    /// The same with more arguments (`--token-file …`).
    pub fn start_with(fixture: &Path, extra: &[&std::ffi::OsStr]) -> Agent {
        let mut child = Command::new(env!("CARGO_BIN_EXE_clustertop"))
            .args(["agent", "--listen", "127.0.0.1:0"])
            .arg("--proc")
            .arg(fixture.join("proc"))
            .arg("--sys")
            .arg(fixture.join("sys"))
            .arg("--dev")
            .arg(fixture.join("dev"))
            .arg("--cni-dir")
            .arg(fixture.join("cni"))
            .args(extra)
            .env_remove("NODE_NAME")
            .env_remove("CLUSTERTOP_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start clustertop agent");
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        err.read_line(&mut line).unwrap();
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in the agent's first line: {line:?}"));
        // Keep draining stderr so the agent never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
        Agent { child, addr }
    }
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return; // already exited and reaped: its PID may belong to someone else now
        }
        let _ = Command::new("kill").args(["-CONT", &self.pid()]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A raw HTTP/1.1 exchange: (status, head, body).
pub fn request(addr: SocketAddr, method: &str, path: &str) -> (u16, String, Vec<u8>) {
    request_with(addr, method, path, "")
}

/// The same with extra header lines (each ending in `\r\n`).
pub fn request_with(addr: SocketAddr, method: &str, path: &str, headers: &str) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).expect("connect to agent");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}Content-Length: 0\r\n\r\n"
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").expect("a header end");
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let code = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, head, buf[split + 4..].to_vec())
}

/// A real agent's `/v1/node` report for a fixture named `node`, as JSON: a real agent is started
/// on a fresh fixture, asked once, and stopped (by its PID).
pub fn real_report(node: &str) -> serde_json::Value {
    let fx = fixture(node);
    let agent = Agent::start(&fx);
    let (code, _, body) = request(agent.addr, "GET", "/v1/node");
    drop(agent);
    let _ = std::fs::remove_dir_all(&fx);
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

/// A `200 OK` answer with `body` and its full `Content-Length`.
pub fn ok_json(body: &[u8]) -> Vec<u8> {
    let n = body.len();
    let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {n}\r\n");
    let mut out = (head + "Connection: close\r\n\r\n").into_bytes();
    out.extend_from_slice(body);
    out
}

/// What a fake agent does with one request: waits `delay`, writes `bytes` (head and body, raw),
/// then closes the connection.
pub struct Reply {
    pub delay: Duration,
    pub bytes: Vec<u8>,
}

/// A fake agent on loopback (port 0) that answers request number `n` (from 0) with `reply(n)`,
/// each connection on its own thread so a slow answer holds up no other. Stops accepting on drop.
pub struct FakeAgent {
    pub addr: SocketAddr,
    /// Requests received so far.
    pub hits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    accept: Option<std::thread::JoinHandle<()>>,
}

impl FakeAgent {
    pub fn start(reply: impl Fn(usize) -> Reply + Send + Sync + 'static) -> FakeAgent {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let (hits, stop) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
        let (h, st, reply) = (hits.clone(), stop.clone(), Arc::new(reply));
        let accept = std::thread::spawn(move || {
            for s in l.incoming() {
                if st.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(mut s) = s else { continue };
                let n = h.fetch_add(1, Ordering::SeqCst);
                let reply = reply.clone();
                std::thread::spawn(move || {
                    // Read the request head (a GET has no body).
                    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(k) => head.extend_from_slice(&buf[..k]),
                        }
                    }
                    let r = reply(n);
                    std::thread::sleep(r.delay);
                    let _ = s.write_all(&r.bytes);
                    let _ = s.flush();
                    let _ = s.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        FakeAgent { addr, hits, stop, accept: Some(accept) }
    }
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for FakeAgent {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wake the accept loop so it sees `stop`
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}
