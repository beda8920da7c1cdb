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
