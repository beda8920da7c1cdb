//! The agent's /proc and /sys parsers: any file content gives a value or an error, never a panic.
#![no_main]

use clustertop::agent::host::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The agent reads these files lossily as UTF-8 (see agent::host).
    let s = String::from_utf8_lossy(data);
    let _ = parse::parse_u64(&s);
    let _ = parse::parse_flag(&s);
    let _ = parse::parse_conntrack_stat(&s);
    let _ = parse::parse_modules(&s, &["br_netfilter", "nf_conntrack", "kvm_intel"]);
    let _ = parse::parse_devtype(&s);
    let _ = parse::parse_iface_flags(&s);
    let _ = parse::iface_up(&s, None);
    let _ = parse::parse_cni_types(&s);
    let _ = parse::parse_cpuinfo(&s);
    let _ = parse::parse_file_nr(&s);
    let _ = parse::parse_loadavg(&s);
    let _ = parse::snippet(&s);
});
