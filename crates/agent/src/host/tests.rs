//! `read_host` over the fixture trees `tests/fixtures/agent/proc-good` and `proc-bad`.

use std::path::{Path, PathBuf};

use super::*;
use crate::analysis::netmode::classify;
use crate::model::NetMode;
use crate::wire::host_signals;
use crate::wire::{CniConfig, Fact, Interface};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/agent").join(name)
}

fn cfg_at(root: &Path) -> AgentConfig {
    AgentConfig {
        proc_root: root.join("proc"),
        sys_root: root.join("sys"),
        dev_root: root.join("dev"),
        cni_dir: root.join("cni"),
        ..AgentConfig::default()
    }
}

fn absent<T: std::fmt::Debug>(f: &Fact<T>) -> &str {
    match f {
        Fact::Absent(r) => r,
        Fact::Value(v) => panic!("expected absent, got {v:?}"),
    }
}

fn iface(name: &str, kind: &str, up: bool) -> Interface {
    Interface { name: name.into(), kind: kind.into(), up }
}

#[test]
fn good_tree_reads_every_fact() {
    let h = read_host(&cfg_at(&fixture("proc-good")));
    let ct = &h.conntrack;
    assert_eq!(ct.count, Fact::Value(1234));
    assert_eq!(ct.max, Fact::Value(262144));
    assert_eq!(ct.tcp_timeout_established_s, Fact::Value(432000));
    assert_eq!(ct.tcp_timeout_close_wait_s, Fact::Value(60));
    assert_eq!(ct.tcp_timeout_time_wait_s, Fact::Value(120), "no trailing newline");
    let stat = ct.stat.value().expect("stat");
    assert_eq!(stat["entries"], 1234);
    assert_eq!(stat["insert_failed"], 1 + 2 + 3 + 4);
    assert_eq!(stat["drop"], 12);
    assert_eq!(stat["search_restart"], 20);
    assert_eq!(h.bridge_nf_call_iptables, Fact::Value(true));
    assert_eq!(h.ip_forward, Fact::Value(true));
    let m = h.modules.value().expect("modules");
    assert_eq!((m["br_netfilter"], m["vxlan"], m["overlay"]), (true, true, false));
    assert_eq!(
        h.interfaces,
        Fact::Value(vec![
            iface("cni0", "bridge", true),
            iface("docker0", "bridge", false),
            iface("eth0", "device", true),
            iface("flannel.1", "vxlan", true),
            iface("lo", "other", true),
            iface("tunl0", "ipip", true),
            iface("veth1234abcd", "veth", false),
        ])
    );
    let cfg = |file: &str, types: &[&str]| CniConfig {
        file: file.into(),
        types: types.iter().map(|t| t.to_string()).collect(),
    };
    assert_eq!(
        h.cni_configs,
        Fact::Value(vec![
            cfg("05-cilium.conf", &["cilium-cni"]),
            cfg("10-flannel.conflist", &["flannel", "portmap"]),
            cfg("99-broken.json", &[]),
        ])
    );
    assert_eq!(h.dev_kvm, Fact::Value(true));
    assert_eq!(h.cpu_virt, Fact::Value(Some("vmx".into())));
    assert_eq!(h.cpu_cores, Fact::Value(3));
    assert_eq!(h.file_nr, Fact::Value((2048, 1631329)));
    assert_eq!(h.load, Fact::Value(([0.52, 0.58, 0.59], 2, 1234)));

    // The JSON round-trips, as the poller decodes it.
    let json = serde_json::to_string(&h).expect("serialises");
    assert_eq!(serde_json::from_str::<HostFacts>(&json).expect("decodes"), h);
}

#[test]
fn good_tree_signals_classify() {
    let h = read_host(&cfg_at(&fixture("proc-good")));
    let s = host_signals(&h);
    let names: Vec<String> = s.iter().map(|s| s.describe()).collect();
    assert_eq!(
        names,
        [
            "interface cni0",
            "interface docker0",
            "interface flannel.1",
            "interface tunl0",
            "CNI config 05-cilium.conf",
            "CNI config 10-flannel.conflist",
            "CNI config 99-broken.json",
        ]
    );
    // The first config file (cilium, weight 3) outweighs flannel.1 + 10-flannel (1 + 1) and tunl0 (calico, 1): new pods
    // get Cilium, so the node reads as mid-migration Cilium in tunnel mode.
    assert_eq!(classify(&s).mode, NetMode::CiliumTunnel);
    // Without the cilium file, the same tree is a flannel VXLAN node.
    let no_cilium: Vec<_> = s.into_iter().filter(|s| !s.describe().contains("cilium")).collect();
    assert_eq!(classify(&no_cilium).mode, NetMode::BridgeVxlan);
}

#[test]
fn per_pod_veths_give_one_signal_each_kind() {
    let mut h = read_host(&cfg_at(&fixture("proc-good")));
    let ifs = ["lxc_health", "lxc1", "lxc2", "cali1", "cali2", "cilium_host", "eth0"];
    h.interfaces = Fact::Value(ifs.iter().map(|n| iface(n, "veth", true)).collect());
    h.cni_configs = Fact::absent("none");
    let s: Vec<String> = host_signals(&h).iter().map(|s| s.describe()).collect();
    assert_eq!(s, ["interface lxc_health", "interface cali1", "interface cilium_host"]);
}

/// Copy a fixture tree into a fresh temporary directory (removed on drop).
struct TempTree(PathBuf);

impl Drop for TempTree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read fixture dir").flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).expect("copy fixture");
        }
    }
}

#[test]
fn bad_tree_degrades_each_fact_with_its_reason() {
    let tmp = TempTree(std::env::temp_dir().join(format!("ctt-{}-proc-bad", std::process::id())));
    copy_tree(&fixture("proc-bad"), &tmp.0);
    let root = &tmp.0;
    // A 2 MiB loadavg: refused whole, not parsed from its first MiB.
    std::fs::write(root.join("proc/loadavg"), "1".repeat(2 << 20)).expect("write 2 MiB");

    let h = read_host(&cfg_at(root));
    let p = |rel: &str| root.join(rel).display().to_string();
    let nf = p("proc/sys/net/netfilter");
    assert_eq!(absent(&h.conntrack.count), format!("{nf}/nf_conntrack_count: no such file"));
    assert_eq!(absent(&h.conntrack.max), format!("{nf}/nf_conntrack_max: no such file"));
    assert!(absent(&h.conntrack.tcp_timeout_established_s).ends_with("no such file"));
    assert!(absent(&h.conntrack.tcp_timeout_close_wait_s).ends_with("no such file"));
    assert!(absent(&h.conntrack.tcp_timeout_time_wait_s).ends_with("no such file"));
    let stat = absent(&h.conntrack.stat);
    assert!(
        stat.starts_with(&p("proc/net/stat/nf_conntrack")) && stat.contains("row 2 has 3 columns"),
        "{stat}"
    );
    assert_eq!(
        absent(&h.bridge_nf_call_iptables),
        format!("br_netfilter not loaded (no {})", p("proc/sys/net/bridge/bridge-nf-call-iptables"))
    );
    assert_eq!(
        absent(&h.ip_forward),
        format!("{}: not a number: \"yes\"", p("proc/sys/net/ipv4/ip_forward"))
    );
    assert_eq!(absent(&h.modules), format!("{}: not UTF-8 text", p("proc/modules")));
    assert_eq!(absent(&h.interfaces), format!("{}: no such file", p("sys/class/net")));
    assert_eq!(absent(&h.cni_configs), format!("{}: no such file", p("cni")));
    assert_eq!(h.dev_kvm, Fact::Value(false), "no /dev/kvm is a value: false");
    assert_eq!(absent(&h.cpu_cores), format!("{}: no processor lines", p("proc/cpuinfo")));
    assert_eq!(absent(&h.cpu_virt), absent(&h.cpu_cores));
    assert_eq!(absent(&h.file_nr), format!("{}: expected 3 fields, got 2", p("proc/sys/fs/file-nr")));
    assert_eq!(absent(&h.load), format!("{}: larger than 1 MiB", p("proc/loadavg")));
    assert!(host_signals(&h).is_empty());
}

#[test]
fn directories_and_missing_roots_are_reasons_not_panics() {
    let tmp = TempTree(std::env::temp_dir().join(format!("ctt-{}-dirs", std::process::id())));
    // Every file the reader opens is a directory here.
    for rel in ["proc/loadavg", "proc/cpuinfo", "proc/sys/net/ipv4/ip_forward", "cni/10-x.conflist"] {
        std::fs::create_dir_all(tmp.0.join(rel)).expect("mkdir");
    }
    let h = read_host(&cfg_at(&tmp.0));
    assert!(absent(&h.load).ends_with(": is a directory"), "{:?}", h.load);
    assert!(absent(&h.ip_forward).ends_with(": is a directory"));
    assert_eq!(h.cni_configs, Fact::Value(vec![]), "a directory named .conflist is not a config");
    let none = read_host(&cfg_at(Path::new("/nonexistent/ctt")));
    assert!(absent(&none.cpu_cores).contains("no such file"));
    assert_eq!(none.dev_kvm, Fact::Value(false));
}
