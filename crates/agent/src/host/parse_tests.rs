use super::parse::*;

const MODERN_HEADER: &str = "entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart";
const OLD_HEADER: &str = "entries  searched found new invalid ignore delete delete_list insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart";

/// A row of 17 hex columns: `entries`, then `v` in every other column, `insert_failed` = cpu+1.
fn row(entries: u64, v: u64, cpu: u64) -> String {
    let mut f = vec![format!("{entries:08x}")];
    for i in 1..17 {
        f.push(format!("{:08x}", if i == 9 { cpu + 1 } else { v }));
    }
    f.join(" ")
}

#[test]
fn conntrack_stat_modern_four_cpus_summed_entries_once() {
    let rows: Vec<String> = (0..4).map(|c| row(0xbb8, 0x10, c)).collect();
    let text = format!("{MODERN_HEADER}\n{}\n", rows.join("\n"));
    let m = parse_conntrack_stat(&text).expect("parses");
    assert_eq!(m["entries"], 3000);
    assert_eq!(m["insert_failed"], 1 + 2 + 3 + 4);
    assert_eq!(m["drop"], 4 * 0x10);
    assert_eq!(m["clashres"], 4 * 0x10);
    assert_eq!(m["chainlength"], 4 * 0x10);
    assert_eq!(m["search_restart"], 4 * 0x10);
    assert_eq!(m.len(), 17);
}

#[test]
fn conntrack_stat_old_header_and_the_node_exporter_fixture_row() {
    let r = "00000021  00000000 00000000 00000000 00000003 0000588a 00000000 00000000 00000000 00000000 00000000 00000000 00000000  00000000 00000000 00000000 00000000";
    let text = format!("{OLD_HEADER}\n{r}\n{r}\n{r}\n{r}");
    let m = parse_conntrack_stat(&text).expect("parses without a trailing newline");
    assert_eq!(m["entries"], 0x21);
    assert_eq!(m["searched"], 0);
    assert_eq!(m["invalid"], 4 * 3);
    assert_eq!(m["ignore"], 4 * 0x588a);
    assert!(m.contains_key("delete_list"));
    assert!(!m.contains_key("clashres"));
}

#[test]
fn conntrack_stat_sixteen_columns_and_extra_whitespace() {
    let header = "  entries searched found new invalid ignore delete delete_list insert insert_failed drop early_drop icmp_error expect_new expect_create expect_delete  \r\n";
    let r = " 00000005\t00000001  00000001 00000001 00000001 00000001 00000001 00000001 00000001 00000002 00000001 00000001 00000001 00000001 00000001 00000001 \n\n";
    let m = parse_conntrack_stat(&format!("{header}{r}{r}")).expect("parses");
    assert_eq!(m.len(), 16);
    assert_eq!(m["entries"], 5);
    assert_eq!(m["insert_failed"], 4);
    assert!(!m.contains_key("search_restart"));
}

#[test]
fn conntrack_stat_truncated_non_numeric_empty() {
    let full = row(1, 1, 0);
    let cut = &full[..40];
    assert!(parse_conntrack_stat(&format!("{MODERN_HEADER}\n{full}\n{cut}")).unwrap_err().contains("row 2"));
    let bad = full.replacen("00000001", "zzzzzzzz", 1);
    assert!(parse_conntrack_stat(&format!("{MODERN_HEADER}\n{bad}\n")).unwrap_err().contains("not hex"));
    assert_eq!(parse_conntrack_stat("").unwrap_err(), "empty");
    assert_eq!(parse_conntrack_stat("\n \n").unwrap_err(), "empty");
    assert_eq!(parse_conntrack_stat(MODERN_HEADER).unwrap_err(), "no CPU rows");
    assert_eq!(parse_conntrack_stat(&format!("{full}\n{full}\n")).unwrap_err(), "no header row");
    // Cut inside the header.
    assert!(parse_conntrack_stat(&format!("{}\n{full}", &MODERN_HEADER[..30])).is_err());
    // Every column 16 hex digits of f: the sum overflows, said, not wrapped.
    let huge = vec!["ffffffffffffffff"; 17].join(" ");
    assert!(
        parse_conntrack_stat(&format!("{MODERN_HEADER}\n{huge}\n{huge}")).unwrap_err().contains("overflows")
    );
}

#[test]
fn numbers_and_flags() {
    assert_eq!(parse_u64("262144\n"), Ok(262144));
    assert_eq!(parse_u64("  432000"), Ok(432000));
    assert_eq!(parse_u64(""), Err("empty".into()));
    assert_eq!(parse_u64("\n"), Err("empty".into()));
    assert!(parse_u64("abc").unwrap_err().starts_with("not a number"));
    assert!(parse_u64("-1").is_err());
    assert!(parse_u64("99999999999999999999999").is_err());
    assert!(parse_u64("12 34").is_err());
    let long = "x".repeat(10_000);
    assert!(parse_u64(&long).unwrap_err().len() < 80, "the reason quotes a short snippet");
    assert!(parse_u64("\u{1b}[31m").unwrap_err().contains("\\u{1b}"), "control characters escaped");
    assert_eq!(parse_flag("1\n"), Ok(true));
    assert_eq!(parse_flag("0"), Ok(false));
    assert!(parse_flag("yes").is_err());
}

#[test]
fn modules() {
    let text = "br_netfilter 32768 0 - Live 0x0000000000000000\nbridge 311296 1 br_netfilter, Live 0x0\noverlay 151552 9 - Live 0x0";
    let m = parse_modules(text, &["br_netfilter", "vxlan", "overlay"]);
    assert_eq!((m["br_netfilter"], m["vxlan"], m["overlay"]), (true, false, true));
    let empty = parse_modules("", &["vxlan"]);
    assert!(!empty["vxlan"]);
}

#[test]
fn interface_files() {
    assert_eq!(parse_devtype("DEVTYPE=bridge\nINTERFACE=cni0\nIFINDEX=5\n").as_deref(), Some("bridge"));
    assert_eq!(parse_devtype("INTERFACE=flannel.1\nIFINDEX=6\nDEVTYPE=vxlan").as_deref(), Some("vxlan"));
    assert_eq!(parse_devtype("INTERFACE=lo\nIFINDEX=1\n"), None);
    assert_eq!(parse_devtype("DEVTYPE=\n"), None);
    assert_eq!(parse_devtype(""), None);
    assert_eq!(parse_iface_flags("0x1003\n"), Ok(0x1003));
    assert_eq!(parse_iface_flags("0x9"), Ok(9));
    assert!(parse_iface_flags("").is_err());
    assert!(parse_iface_flags("0xzz").is_err());
    assert!(iface_up("up\n", None));
    assert!(iface_up("unknown\n", Some(0x9)));
    assert!(!iface_up("unknown", Some(0x82)));
    assert!(!iface_up("unknown", None));
    assert!(!iface_up("down", Some(0x1003)));
    assert!(!iface_up("", None));
}

#[test]
fn cni_types() {
    let conflist = r#"{"cniVersion":"0.3.1","name":"cbr0","plugins":[{"type":"flannel","delegate":{}},{"type":"portmap"}]}"#;
    assert_eq!(parse_cni_types(conflist), vec!["flannel", "portmap"]);
    assert_eq!(
        parse_cni_types(r#"{"cniVersion":"0.3.1","name":"cilium","type":"cilium-cni"}"#),
        vec!["cilium-cni"]
    );
    assert_eq!(parse_cni_types(r#"{"plugins":[{"type":"calico"},{"notype":1},{"type":7}]}"#), vec!["calico"]);
    assert!(parse_cni_types("{\"plugins\": [").is_empty());
    assert!(parse_cni_types("").is_empty());
    assert!(parse_cni_types("[1,2]").is_empty());
    assert!(parse_cni_types("\u{0}\u{1}garbage").is_empty());
}

#[test]
fn cpuinfo() {
    let flags = "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr vmx ept";
    let text = format!("processor\t: 0\nmodel name\t: X\n{flags}\n\nprocessor\t: 1\n{flags}\n");
    assert_eq!(parse_cpuinfo(&text), Ok(CpuInfo { cores: 2, virt: Some("vmx".into()) }));
    let amd = "processor : 0\nflags : fpu svm lm\nprocessor : 1\nprocessor : 2\nprocessor : 3";
    assert_eq!(parse_cpuinfo(amd), Ok(CpuInfo { cores: 4, virt: Some("svm".into()) }));
    let arm = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm\n";
    assert_eq!(parse_cpuinfo(arm), Ok(CpuInfo { cores: 1, virt: None }));
    let guest = "processor : 0\nflags : fpu vmxnet hypervisor\n";
    assert_eq!(parse_cpuinfo(guest), Ok(CpuInfo { cores: 1, virt: None }), "vmx is a whole flag");
    assert!(parse_cpuinfo("").is_err());
    assert!(parse_cpuinfo("garbage\n\u{0}").is_err());
}

#[test]
fn file_nr_and_loadavg() {
    assert_eq!(parse_file_nr("1024\t0\t1631329\n"), Ok((1024, 1631329)));
    assert!(parse_file_nr("1024\t0").is_err());
    assert!(parse_file_nr("").is_err());
    assert!(parse_file_nr("a b c").is_err());
    assert_eq!(parse_loadavg("0.52 0.58 0.59 2/1234 5678\n"), Ok(([0.52, 0.58, 0.59], 2, 1234)));
    assert_eq!(parse_loadavg("0.52 0.58 0.59 2/1234 5678"), Ok(([0.52, 0.58, 0.59], 2, 1234)));
    assert!(parse_loadavg("0.52 0.58 0.59 2/12").is_err(), "truncated");
    assert!(parse_loadavg("0.52 0.58 0.59 21234 5678").is_err());
    assert!(parse_loadavg("NaN 0.58 0.59 2/1234 5678").is_err());
    assert!(parse_loadavg("inf 0.58 0.59 2/1234 5678").is_err());
    assert!(parse_loadavg("-1 0.58 0.59 2/1234 5678").is_err());
    assert!(parse_loadavg("").is_err());
}
