//! Interfaces from `/sys/class/net` and CNI config files from the CNI config directory.

use std::path::Path;

use super::{io_reason, parse, read_text};
use crate::wire::{CniConfig, Fact, Interface};

/// More entries than this in one directory are not read (a defence, not a real limit).
const MAX_ENTRIES: usize = 65_536;

/// Sorted file names of a directory.
fn names(dir: &Path) -> Result<Vec<String>, String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("{}: {}", dir.display(), io_reason(&e)))?;
    let mut out: Vec<String> = rd
        .filter_map(Result::ok)
        .take(MAX_ENTRIES)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    Ok(out)
}

/// A small decimal number from a sysfs file (`ifindex`, `iflink`, `type`).
fn sys_num(path: &Path) -> Option<u64> {
    read_text(path).ok().and_then(|s| parse::parse_u64(&s).ok())
}

/// ARPHRD_TUNNEL: an IPIP tunnel (`tunl0`), which has no `DEVTYPE`.
const ARPHRD_TUNNEL: u64 = 768;

/// Kind of one interface: `DEVTYPE=` of its `uevent` (bridge, vxlan, geneve, vlan, …), else
/// `bridge` with a `bridge` directory, else `device` with a `device` link (hardware), else `ipip`
/// for an IPIP tunnel (`type` 768), else `veth` when it is linked to another interface (`iflink`
/// differs from `ifindex`: the kernel sets no `DEVTYPE` for veth), else `other` (loopback, dummy).
fn kind(dir: &Path) -> String {
    if let Some(t) = read_text(&dir.join("uevent")).ok().and_then(|u| parse::parse_devtype(&u)) {
        return t;
    }
    let linked = match (sys_num(&dir.join("iflink")), sys_num(&dir.join("ifindex"))) {
        (Some(link), Some(index)) => link != 0 && link != index,
        _ => false,
    };
    if dir.join("bridge").is_dir() {
        "bridge".into()
    } else if std::fs::symlink_metadata(dir.join("device")).is_ok() {
        "device".into()
    } else if sys_num(&dir.join("type")) == Some(ARPHRD_TUNNEL) {
        "ipip".into()
    } else if linked {
        "veth".into()
    } else {
        "other".into()
    }
}

fn interface(class_net: &Path, name: String) -> Interface {
    let dir = class_net.join(&name);
    let operstate = read_text(&dir.join("operstate")).unwrap_or_default();
    let flags = read_text(&dir.join("flags")).ok().and_then(|f| parse::parse_iface_flags(&f).ok());
    Interface { kind: kind(&dir), up: parse::iface_up(&operstate, flags), name }
}

/// Every interface of `<sys_root>/class/net`, by name.
pub fn read_interfaces(sys_root: &Path) -> Fact<Vec<Interface>> {
    let class_net = sys_root.join("class/net");
    names(&class_net).map(|ns| ns.into_iter().map(|n| interface(&class_net, n)).collect::<Vec<_>>()).into()
}

/// Every `*.conf`, `*.conflist` and `*.json` file of the CNI directory, in name order (the first
/// is the one the runtime uses), with the plugin types it names.
pub fn read_cni_configs(dir: &Path) -> Fact<Vec<CniConfig>> {
    let ns = match names(dir) {
        Ok(ns) => ns,
        Err(r) => return Fact::absent(r),
    };
    let configs = ns
        .into_iter()
        .filter(|n| [".conf", ".conflist", ".json"].iter().any(|ext| n.ends_with(ext)))
        .filter(|n| !dir.join(n).is_dir())
        .map(|file| {
            let types = read_text(&dir.join(&file)).map(|s| parse::parse_cni_types(&s)).unwrap_or_default();
            CniConfig { file, types }
        })
        .collect();
    Fact::Value(configs)
}
