//! What the agent reads from the node itself: `/proc`, `/sys`, `/dev` and the CNI config
//! directory, under the roots of `AgentConfig` (fixture trees in tests). Read-only, no commands.
//! Every file is read defensively (at most 1 MiB, UTF-8 text): a missing, unreadable, truncated,
//! non-numeric or oversized file makes that one fact absent with `<path>: <reason>`.
//!
//! - `parse.rs`: the pure text parsers.
//! - `net.rs`: interfaces (`/sys/class/net`) and CNI config files.

mod net;
pub mod parse;
#[cfg(test)]
mod parse_tests;
#[cfg(test)]
mod tests;

use std::io::Read;
use std::path::Path;

use super::AgentConfig;
use crate::wire::{ConntrackFacts, Fact};

/// Largest file read, in bytes; a bigger one is refused as a whole.
pub const MAX_FILE: u64 = 1 << 20;

/// Modules reported from `/proc/modules`.
pub const MODULES: [&str; 3] = ["br_netfilter", "vxlan", "overlay"];

pub use crate::wire::HostFacts;

/// Why a file could not be read, in words.
pub(crate) fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "is a directory".into(),
        _ => e.to_string(),
    }
}

/// Why a file could not be read, distinguishing a missing one.
pub(crate) enum ReadError {
    Missing,
    Other(String),
}

/// The whole text of a file of at most `MAX_FILE` bytes.
pub(crate) fn read_text(path: &Path) -> Result<String, ReadError> {
    let f = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ReadError::Missing,
        _ => ReadError::Other(io_reason(&e)),
    })?;
    let mut buf = Vec::new();
    f.take(MAX_FILE + 1).read_to_end(&mut buf).map_err(|e| ReadError::Other(io_reason(&e)))?;
    if buf.len() as u64 > MAX_FILE {
        return Err(ReadError::Other("larger than 1 MiB".into()));
    }
    String::from_utf8(buf).map_err(|_| ReadError::Other("not UTF-8 text".into()))
}

/// `read_text` with the reason prefixed by the path.
pub(crate) fn read_file(path: &Path) -> Result<String, String> {
    read_text(path).map_err(|e| match e {
        ReadError::Missing => format!("{}: no such file", path.display()),
        ReadError::Other(r) => format!("{}: {r}", path.display()),
    })
}

/// Read a file and parse it; either failure is `<path>: <reason>`.
fn fact<T>(path: &Path, parse: impl FnOnce(&str) -> Result<T, String>) -> Fact<T> {
    read_file(path).and_then(|s| parse(&s).map_err(|r| format!("{}: {r}", path.display()))).into()
}

fn read_conntrack(proc_root: &Path) -> ConntrackFacts {
    let nf = proc_root.join("sys/net/netfilter");
    let num = |name: &str| fact(&nf.join(name), parse::parse_u64);
    ConntrackFacts {
        count: num("nf_conntrack_count"),
        max: num("nf_conntrack_max"),
        tcp_timeout_established_s: num("nf_conntrack_tcp_timeout_established"),
        tcp_timeout_close_wait_s: num("nf_conntrack_tcp_timeout_close_wait"),
        tcp_timeout_time_wait_s: num("nf_conntrack_tcp_timeout_time_wait"),
        stat: fact(&proc_root.join("net/stat/nf_conntrack"), parse::parse_conntrack_stat),
    }
}

fn read_bridge_nf(proc_root: &Path) -> Fact<bool> {
    let path = proc_root.join("sys/net/bridge/bridge-nf-call-iptables");
    match read_text(&path) {
        Err(ReadError::Missing) => Fact::absent(format!("br_netfilter not loaded (no {})", path.display())),
        Err(ReadError::Other(r)) => Fact::absent(format!("{}: {r}", path.display())),
        Ok(s) => parse::parse_flag(&s).map_err(|r| format!("{}: {r}", path.display())).into(),
    }
}

fn read_dev_kvm(dev_root: &Path) -> Fact<bool> {
    let path = dev_root.join("kvm");
    match std::fs::symlink_metadata(&path) {
        Ok(_) => Fact::Value(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Fact::Value(false),
        Err(e) => Fact::absent(format!("{}: {}", path.display(), io_reason(&e))),
    }
}

/// Read every host fact under the configured roots. Never fails: a fact that cannot be read is
/// absent with its reason.
pub fn read_host(cfg: &AgentConfig) -> HostFacts {
    let proc_root = cfg.proc_root.as_path();
    let cpuinfo_path = proc_root.join("cpuinfo");
    let cpuinfo = read_file(&cpuinfo_path)
        .and_then(|s| parse::parse_cpuinfo(&s).map_err(|r| format!("{}: {r}", cpuinfo_path.display())));
    HostFacts {
        conntrack: read_conntrack(proc_root),
        bridge_nf_call_iptables: read_bridge_nf(proc_root),
        ip_forward: fact(&proc_root.join("sys/net/ipv4/ip_forward"), parse::parse_flag),
        modules: fact(&proc_root.join("modules"), |s| Ok(parse::parse_modules(s, &MODULES))),
        interfaces: net::read_interfaces(&cfg.sys_root),
        cni_configs: net::read_cni_configs(&cfg.cni_dir),
        dev_kvm: read_dev_kvm(&cfg.dev_root),
        cpu_virt: cpuinfo.clone().map(|c| c.virt).into(),
        file_nr: fact(&proc_root.join("sys/fs/file-nr"), parse::parse_file_nr),
        load: fact(&proc_root.join("loadavg"), parse::parse_loadavg),
        cpu_cores: cpuinfo.map(|c| c.cores).into(),
    }
}
