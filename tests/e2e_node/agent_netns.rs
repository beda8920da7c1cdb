//! The agent's host reader on a real kernel, inside throwaway network namespaces: conntrack
//! counts and per-netns sysctls, and CNI-like interfaces classified into a network mode.
//!
//! Each test creates its namespaces (`ctt-<pid>-…`, deleted on drop even when the test fails),
//! then runs this same test binary inside one with `ip netns exec`, selecting the ignored
//! `host_facts_in_this_netns` "test", which calls `read_host` with the default roots and prints
//! the JSON of `HostFacts`. Traffic stays on the namespace's own loopback.
//!
//! Needs root, `ip`, `nft` and `python3`. Without them the tests skip with a message; with
//! `CI=true` they fail.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::TempDir;
use clustertop::agent::AgentConfig;
use clustertop::agent::host::{HostFacts, read_host};
use clustertop::analysis::netmode::classify;
use clustertop::model::NetMode;
use clustertop::wire::Fact;
use clustertop::wire::host_signals;

const PRINT_ENV: &str = "CTT_PRINT_HOST_FACTS";
const CNI_ENV: &str = "CTT_CNI_DIR";
const MARK: &str = "CTT-HOST-FACTS ";

/// Not a test: the reader run inside a namespace by the tests below.
#[test]
#[ignore = "run by the netns tests inside a namespace"]
fn host_facts_in_this_netns() {
    if std::env::var(PRINT_ENV).is_err() {
        return;
    }
    let mut cfg = AgentConfig::default();
    if let Ok(dir) = std::env::var(CNI_ENV) {
        cfg.cni_dir = dir.into();
    }
    let json = serde_json::to_string(&read_host(&cfg)).expect("serialise");
    println!("{MARK}{json}");
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .is_ok_and(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
}

fn runs(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd).args(args).output().is_ok_and(|o| o.status.success())
}

/// Whether the prerequisites are here; without them, skip (or fail on CI).
fn ready(test: &str, need_nft: bool) -> bool {
    let mut missing = Vec::new();
    if !is_root() {
        missing.push("root");
    }
    if !runs("ip", &["-V"]) {
        missing.push("ip (iproute2)");
    }
    if need_nft && !runs("nft", &["--version"]) {
        missing.push("nft (nftables)");
    }
    if !runs("python3", &["-c", "pass"]) {
        missing.push("python3");
    }
    if missing.is_empty() {
        return true;
    }
    let msg = format!("{test}: needs {}", missing.join(", "));
    assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "{msg} on CI (.ci/run installs them)");
    eprintln!("skipping {msg}");
    false
}

fn run(cmd: &str, args: &[&str]) -> Output {
    let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| panic!("{cmd} {args:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A network namespace, deleted on drop.
struct Netns(String);

impl Netns {
    fn new(suffix: &str) -> Netns {
        let name = format!("ctt-{}-{suffix}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        run("ip", &["netns", "add", &name]);
        let ns = Netns(name);
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }
    fn ip(&self, args: &[&str]) -> Output {
        let mut a = vec!["-n", self.0.as_str()];
        a.extend_from_slice(args);
        run("ip", &a)
    }
    fn exec(&self, args: &[&str]) -> Output {
        let mut a = vec!["netns", "exec", self.0.as_str()];
        a.extend_from_slice(args);
        run("ip", &a)
    }
    /// `read_host` run inside this namespace (default roots; CNI dir as given).
    fn host_facts(&self, cni_dir: &Path) -> HostFacts {
        let exe = std::env::current_exe().expect("test binary path");
        let out = Command::new("ip")
            .args(["netns", "exec", &self.0])
            .arg(exe)
            .args([
                "--exact",
                "agent_netns::host_facts_in_this_netns",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(PRINT_ENV, "1")
            .env(CNI_ENV, cni_dir)
            .output()
            .expect("run the reader in the namespace");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout
            .lines()
            .find_map(|l| l.split_once(MARK).map(|(_, json)| json))
            .unwrap_or_else(|| panic!("no facts printed: {stdout}{}", String::from_utf8_lossy(&out.stderr)));
        serde_json::from_str(line).expect("HostFacts JSON")
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

const CONNS: u64 = 200;

/// Open `CONNS` TCP connections on loopback and close them (they stay counted in TIME_WAIT).
const CONNECT_PY: &str = r#"
import socket, sys
n = int(sys.argv[1])
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(n + 16)
pairs = []
for _ in range(n):
    c = socket.create_connection(srv.getsockname(), timeout=5)
    a, _ = srv.accept()
    pairs.append((c, a))
for c, a in pairs:
    c.close()
    a.close()
print("opened", n)
"#;

#[test]
fn conntrack_in_a_netns() {
    if !ready("conntrack_in_a_netns", true) {
        return;
    }
    let ns = Netns::new("ct");
    ns.exec(&["nft", "add", "table", "inet", "t"]);
    ns.exec(&["nft", "add", "chain", "inet", "t", "c", "{ type filter hook output priority 0; }"]);
    ns.exec(&["nft", "add", "rule", "inet", "t", "c", "ct", "state", "new", "accept"]);
    let netfilter = "/proc/sys/net/netfilter";
    ns.exec(&["sh", "-c", &format!("echo 3600 > {netfilter}/nf_conntrack_tcp_timeout_established")]);
    let bridge_nf = "/proc/sys/net/bridge/bridge-nf-call-iptables";
    let br_netfilter = Path::new(bridge_nf).exists();
    if br_netfilter {
        ns.exec(&["sh", "-c", &format!("echo 0 > {bridge_nf}")]);
    }
    let out = ns.exec(&["python3", "-c", CONNECT_PY, &CONNS.to_string()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("opened"));

    let none = TempDir::new("ct-cni");
    let h = ns.host_facts(&none.0);
    let ct = &h.conntrack;
    let count = *ct.count.value().unwrap_or_else(|| panic!("count: {:?}", ct.count));
    assert!(count >= CONNS, "count {count} < {CONNS}");
    let host_max: u64 = std::fs::read_to_string(format!("{netfilter}/nf_conntrack_max"))
        .expect("root netns nf_conntrack_max")
        .trim()
        .parse()
        .expect("number");
    assert_eq!(ct.max, Fact::Value(host_max), "every netns sees the host-wide max");
    assert_eq!(ct.tcp_timeout_established_s, Fact::Value(3600), "per-netns, written inside");
    assert!(ct.tcp_timeout_time_wait_s.value().is_some_and(|v| *v > 0));
    assert!(ct.tcp_timeout_close_wait_s.value().is_some_and(|v| *v > 0));
    let stat = ct.stat.value().unwrap_or_else(|| panic!("stat: {:?}", ct.stat));
    assert!(stat["entries"] >= CONNS, "stat entries {} < {CONNS}", stat["entries"]);
    for col in ["found", "invalid", "insert", "insert_failed", "drop", "early_drop", "search_restart"] {
        assert!(stat.contains_key(col), "stat lacks {col}: {stat:?}");
    }
    if br_netfilter {
        assert_eq!(h.bridge_nf_call_iptables, Fact::Value(false), "per-netns, written inside");
    } else {
        let r = format!("{:?}", h.bridge_nf_call_iptables);
        assert!(r.contains("br_netfilter not loaded"), "{r}");
    }
    // The root netns kept its own timeout.
    let root_est = std::fs::read_to_string(format!("{netfilter}/nf_conntrack_tcp_timeout_established"))
        .expect("root timeout");
    assert_ne!(root_est.trim(), "3600", "the write stayed inside the namespace");
    assert!(h.cpu_cores.value().is_some_and(|c| *c > 0));
    assert!(h.load.value().is_some());
    assert!(h.file_nr.value().is_some());
}

fn write(dir: &Path, file: &str, text: &str) {
    std::fs::write(dir.join(file), text).expect("write CNI config");
}

#[test]
fn cni_interfaces_classify_per_netns() {
    if !ready("cni_interfaces_classify_per_netns", false) {
        return;
    }
    // A: a flannel node (bridge cni0 + vxlan flannel.1).
    let a = Netns::new("a");
    a.ip(&["link", "add", "cni0", "type", "bridge"]);
    a.ip(&["link", "add", "flannel.1", "type", "vxlan", "id", "1", "dstport", "8472", "local", "127.0.0.1"]);
    a.ip(&["link", "set", "cni0", "up"]);
    let a_cni = TempDir::new("a-cni");
    write(
        &a_cni.0,
        "10-flannel.conflist",
        r#"{"name":"cbr0","plugins":[{"type":"flannel"},{"type":"portmap"}]}"#,
    );
    // B: a Cilium node: cilium_host/cilium_net are a veth pair, cilium_vxlan a metadata vxlan, as
    // Cilium creates them.
    let b = Netns::new("b");
    b.ip(&["link", "add", "cilium_host", "type", "veth", "peer", "name", "cilium_net"]);
    b.ip(&["link", "add", "cilium_vxlan", "type", "vxlan", "external", "dstport", "8472"]);
    let b_cni = TempDir::new("b-cni");
    write(&b_cni.0, "05-cilium.conflist", r#"{"name":"cilium","plugins":[{"type":"cilium-cni"}]}"#);

    let ha = a.host_facts(&a_cni.0);
    let ifs = ha.interfaces.value().unwrap_or_else(|| panic!("interfaces: {:?}", ha.interfaces));
    let kinds: Vec<(&str, &str, bool)> =
        ifs.iter().map(|i| (i.name.as_str(), i.kind.as_str(), i.up)).collect();
    assert_eq!(kinds, [("cni0", "bridge", true), ("flannel.1", "vxlan", false), ("lo", "other", true)]);
    let types = &ha.cni_configs.value().expect("cni configs")[0].types;
    assert_eq!(types, &["flannel", "portmap"]);
    assert_eq!(classify(&host_signals(&ha)).mode, NetMode::BridgeVxlan);

    let hb = b.host_facts(&b_cni.0);
    let ifs = hb.interfaces.value().unwrap_or_else(|| panic!("interfaces: {:?}", hb.interfaces));
    let kinds: Vec<(&str, &str)> = ifs.iter().map(|i| (i.name.as_str(), i.kind.as_str())).collect();
    assert_eq!(
        kinds,
        [("cilium_host", "veth"), ("cilium_net", "veth"), ("cilium_vxlan", "vxlan"), ("lo", "other")]
    );
    assert_eq!(classify(&host_signals(&hb)).mode, NetMode::CiliumTunnel);
}
