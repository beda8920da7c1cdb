//! Helpers for the integration tests that drive real components (Prometheus, promtool) and the
//! built `clustertop` binary. Each test file uses a different subset.
#![allow(dead_code)]

pub mod agent;
pub mod known;
pub mod kube;
pub mod om_expect;
pub mod prom;
pub mod snapshot_schema;
pub mod tui;
pub mod upstream;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Whether `tool` is an executable file on PATH.
pub fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false)
}

/// True when `prometheus` and `promtool` are installed. When they are not: with `CI=true` the
/// test fails (CI must never skip), otherwise it prints a notice and the caller skips.
pub fn require_tools() -> bool {
    let missing: Vec<&str> = ["prometheus", "promtool"].into_iter().filter(|t| !on_path(t)).collect();
    if missing.is_empty() {
        return true;
    }
    let msg = format!("{} not on PATH (Debian: apt-get install -y prometheus)", missing.join(" and "));
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true and {msg}: this test must run in CI");
    }
    eprintln!("SKIPPED: {msg}");
    false
}

/// Run the built binary: `clustertop sim openmetrics <args> --out <out>`; panics on failure.
pub fn generate(args: &[&str], out: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_clustertop"))
        .args(["sim", "openmetrics"])
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .expect("run clustertop");
    assert!(
        o.status.success(),
        "clustertop sim openmetrics {args:?} failed ({}): {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A new, empty scratch directory, removed (with what is in it) on drop. The path stays short:
/// tests put UNIX sockets in it, whose paths must stay under 108 bytes.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("ct-{}-{n}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A new, empty directory under the system temp dir, unique to this process and call.
pub fn unique_dir(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "clustertop-{tag}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Percent-encode a query-string value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One HTTP/1.0 GET on loopback: (status, body). Status 0 when the connection fails.
pub fn http_get(port: u16, path: &str) -> (u16, String) {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return (0, String::new()) };
    let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
    let req = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return (0, String::new());
    }
    let mut buf = Vec::new();
    if s.read_to_end(&mut buf).is_err() {
        return (0, String::new());
    }
    let text = String::from_utf8_lossy(&buf).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let code = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, body.to_string())
}
