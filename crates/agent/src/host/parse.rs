//! Pure parsers of the node's `/proc`, `/sys` and CNI files: text in, value or reason out. No file
//! access here, so every one is unit-tested on strings. A reason never quotes more than a short,
//! escaped snippet of the input.

use std::collections::BTreeMap;

/// Longest snippet of bad input quoted in a reason.
const SNIPPET: usize = 32;

/// A short, escaped excerpt of `s` for a reason.
pub fn snippet(s: &str) -> String {
    let mut out: String = s.chars().take(SNIPPET).flat_map(char::escape_debug).collect();
    if s.chars().nth(SNIPPET).is_some() {
        out.push('…');
    }
    out
}

/// One decimal unsigned integer, as in `nf_conntrack_max` (`262144\n`).
pub fn parse_u64(s: &str) -> Result<u64, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty".into());
    }
    t.parse::<u64>().map_err(|_| format!("not a number: \"{}\"", snippet(t)))
}

/// A `0`/`1` sysctl (`ip_forward`, `bridge-nf-call-iptables`): any non-zero number is on.
pub fn parse_flag(s: &str) -> Result<bool, String> {
    parse_u64(s).map(|v| v != 0)
}

fn parse_hex(f: &str) -> Result<u64, String> {
    u64::from_str_radix(f, 16).map_err(|_| format!("not hex: \"{}\"", snippet(f)))
}

/// `/proc/net/stat/nf_conntrack`: a header naming the columns, then one row of hex numbers per
/// CPU. Every column is summed over the rows, except `entries`, which each row repeats (the first
/// row's is taken). Old (`searched … delete_list`) and modern (`clashres … chainlength`) headers,
/// 16 or 17 columns, are read by name alike. A row whose width differs from the header's (a
/// truncated file) makes the whole table absent rather than a partial sum.
pub fn parse_conntrack_stat(s: &str) -> Result<BTreeMap<String, u64>, String> {
    let mut lines = s.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines.next().ok_or("empty")?.split_whitespace().collect();
    if header.iter().all(|h| parse_hex(h).is_ok()) {
        return Err("no header row".into());
    }
    let mut sums: BTreeMap<String, u64> = BTreeMap::new();
    let mut rows = 0usize;
    for (i, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() != header.len() {
            return Err(format!("row {} has {} columns, the header {}", i + 1, fields.len(), header.len()));
        }
        for (name, f) in header.iter().zip(&fields) {
            let v = parse_hex(f)?;
            let slot = sums.entry((*name).to_string()).or_insert(0);
            if *name == "entries" {
                if rows == 0 {
                    *slot = v;
                }
            } else {
                *slot = slot.checked_add(v).ok_or_else(|| format!("column {name} overflows"))?;
            }
        }
        rows += 1;
    }
    if rows == 0 {
        return Err("no CPU rows".into());
    }
    Ok(sums)
}

/// `/proc/modules`: whether each of `wanted` is listed (first word of a line).
pub fn parse_modules(s: &str, wanted: &[&str]) -> BTreeMap<String, bool> {
    let loaded: Vec<&str> = s.lines().filter_map(|l| l.split_whitespace().next()).collect();
    wanted.iter().map(|w| ((*w).to_string(), loaded.contains(w))).collect()
}

/// `DEVTYPE=` of a `/sys/class/net/<iface>/uevent`, if any.
pub fn parse_devtype(uevent: &str) -> Option<String> {
    uevent
        .lines()
        .find_map(|l| l.trim().strip_prefix("DEVTYPE="))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// `/sys/class/net/<iface>/flags`: hex such as `0x1003`.
pub fn parse_iface_flags(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let hex = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
    if hex.is_empty() {
        return Err("empty".into());
    }
    parse_hex(hex)
}

/// IFF_UP.
const IFF_UP: u64 = 0x1;

/// An interface is up when `operstate` says `up`, or `unknown` (loopback, dummy, tunnels) with
/// IFF_UP in `flags`.
pub fn iface_up(operstate: &str, flags: Option<u64>) -> bool {
    match operstate.trim() {
        "up" => true,
        "unknown" => flags.is_some_and(|f| f & IFF_UP != 0),
        _ => false,
    }
}

/// Plugin types of a CNI config: `plugins[].type` of a `.conflist`, else the `type` of a `.conf`.
/// Anything that does not parse gives no types.
pub fn parse_cni_types(s: &str) -> Vec<String> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(s) else {
        return Vec::new();
    };
    let ty = |p: &serde_json::Value| p.get("type").and_then(|t| t.as_str()).map(str::to_string);
    match v.get("plugins").and_then(|p| p.as_array()) {
        Some(plugins) => plugins.iter().filter_map(ty).collect(),
        None => ty(&v).into_iter().collect(),
    }
}

/// What `/proc/cpuinfo` says: the number of `processor` lines and `vmx`/`svm` in the flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuInfo {
    pub cores: u32,
    pub virt: Option<String>,
}

pub fn parse_cpuinfo(s: &str) -> Result<CpuInfo, String> {
    let mut cores = 0u32;
    let mut virt: Option<String> = None;
    for line in s.lines() {
        let Some((key, value)) = line.split_once(':') else { continue };
        match key.trim() {
            "processor" => cores = cores.saturating_add(1),
            "flags" if virt.is_none() => {
                virt = value.split_whitespace().find(|f| *f == "vmx" || *f == "svm").map(str::to_string);
            }
            _ => {}
        }
    }
    if cores == 0 {
        return Err("no processor lines".into());
    }
    Ok(CpuInfo { cores, virt })
}

/// `/proc/sys/fs/file-nr`: `allocated unused max` → (allocated, max).
pub fn parse_file_nr(s: &str) -> Result<(u64, u64), String> {
    let f: Vec<&str> = s.split_whitespace().collect();
    let [allocated, _unused, max] = f.as_slice() else {
        return Err(format!("expected 3 fields, got {}", f.len()));
    };
    Ok((parse_u64(allocated)?, parse_u64(max)?))
}

/// `/proc/loadavg`: `0.52 0.58 0.59 2/1234 5678` → ([0.52, 0.58, 0.59], 2, 1234).
pub fn parse_loadavg(s: &str) -> Result<([f64; 3], u64, u64), String> {
    let f: Vec<&str> = s.split_whitespace().collect();
    let [l1, l5, l15, threads, last_pid] = f.as_slice() else {
        return Err(format!("expected 5 fields, got {}", f.len()));
    };
    let load = |x: &str| -> Result<f64, String> {
        x.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| format!("not a load: \"{}\"", snippet(x)))
    };
    let (running, total) =
        threads.split_once('/').ok_or_else(|| format!("not running/total: \"{}\"", snippet(threads)))?;
    parse_u64(last_pid)?;
    Ok(([load(l1)?, load(l5)?, load(l15)?], parse_u64(running)?, parse_u64(total)?))
}
