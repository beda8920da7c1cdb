//! Hostile strings: `sim serve --scenario hostile` puts terminal escape sequences (clear screen,
//! cursor moves, window title, OSC 52 clipboard, colours), control characters, bidi overrides and
//! 2,000-character strings in rack names, BGP errors and pod names. Through every view and a
//! node's detail, the screen captured with `tmux capture-pane -e` holds none of them raw (only the
//! dashboard's own colour codes), no line is wider than the terminal, the window title and the
//! clipboard are untouched, and the escaped forms (`\x1b`, `\u{202e}`) are what is shown. The
//! same holds for a node agent's report carrying such strings in every free-text field, and for
//! label values served by a real Prometheus.

#![allow(clippy::unwrap_used)]

use crate::support::tui::{Harness, have_tmux, poll, tmux};
use unicode_width::UnicodeWidthStr;

/// What may be left raw on a captured screen: SGR colour/attribute codes (`ESC [ … m`) only.
fn raw_escapes(captured: &str) -> Vec<String> {
    let mut bad = Vec::new();
    for (i, c) in captured.char_indices() {
        if c == '\u{1b}' {
            let rest = &captured[i + 1..];
            let sgr = rest.starts_with('[')
                && rest[1..]
                    .find(|ch: char| !(ch.is_ascii_digit() || ch == ';' || ch == ':'))
                    .is_some_and(|j| rest.as_bytes()[1 + j] == b'm');
            if !sgr {
                bad.push(rest.chars().take(12).collect());
            }
        } else if (c.is_control() && c != '\n')
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
        {
            bad.push(format!("{c:?}"));
        }
    }
    bad
}

fn strip_sgr(captured: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for c in captured.chars() {
        match (skipping, c) {
            (false, '\u{1b}') => skipping = true,
            (true, 'm') => skipping = false,
            (true, _) => {}
            (false, c) => out.push(c),
        }
    }
    out
}

/// The pane, captured with `-e`, checked: nothing raw but SGR codes, no line wider than `width`,
/// no OSC title payload as text. Returns the text without the SGR codes.
fn checked_screen(h: &Harness, width: usize, after: &str) -> String {
    let captured = tmux(&["capture-pane", "-p", "-e", "-t", &h.session]);
    let bad = raw_escapes(&captured);
    assert!(bad.is_empty(), "raw escapes or controls after {after}: {bad:?}\n{}", strip_sgr(&captured));
    let text = strip_sgr(&captured);
    for line in text.lines() {
        assert!(line.width() <= width, "line wider than the terminal after {after}:\n{line}");
    }
    assert!(!text.contains("pwned-title"), "the OSC title payload shows as text? {after}\n{text}");
    text
}

/// Whether escaped forms of the hostile strings are on screen.
fn shows_escaped(text: &str) -> bool {
    text.contains("\\u{202e}") || text.contains("\\x1b") || text.contains("\\x0d")
}

/// Send `keys`, let them land (the tabs line shows on every view), and check the screen.
fn visit(h: &Harness, keys: &[&str]) -> String {
    h.keys(keys);
    poll("a redraw", || h.screen().contains("1 Overview").then_some(()), || h.screen());
    std::thread::sleep(std::time::Duration::from_millis(300));
    checked_screen(h, 200, &format!("{keys:?}"))
}

/// The Nodes view filtered to `node` (the filter edited anew), then that node's detail.
fn open_detail(h: &Harness, node: &str) {
    h.keys(&["2", "/"]);
    h.keys(&["BSpace"; 20]);
    h.keys(&[node, "Enter"]);
    poll("the filter", || h.screen().contains("Nodes 1/").then_some(()), || h.screen());
    h.keys(&["Enter"]);
    poll("the node detail", || h.screen().contains(&format!("Node {node}")).then_some(()), || h.screen());
}

/// The open detail, checked page by page: it scrolls (`lines 1-45 of 74`) when a node has many
/// findings; each PageDown is waited for until the last line is on screen.
fn detail_pages(h: &Harness, width: usize) -> String {
    // `(first-last, total)` of the scroll indicator, if the detail scrolls.
    let lines = || -> Option<(String, String)> {
        let screen = h.screen();
        let rest = screen.split("lines ").nth(1)?;
        let mut w = rest.split_whitespace();
        let (range, of, total) = (w.next()?, w.next()?, w.next()?);
        (of == "of").then(|| (range.to_string(), total.to_string()))
    };
    let mut seen = checked_screen(h, width, "the node detail");
    while let Some((range, total)) = lines() {
        if range.ends_with(&format!("-{total}")) {
            break;
        }
        h.keys(&["PageDown"]);
        poll("the next page", || lines().filter(|(r, _)| *r != range).map(|_| ()), || h.screen());
        seen += &checked_screen(h, width, &format!("the node detail, {range} before"));
    }
    seen
}

/// Neither the window title nor tmux's paste buffers (the OSC 52 clipboard) changed.
fn title_and_clipboard_untouched(h: &Harness, title: &str) {
    assert_eq!(tmux(&["display", "-p", "-t", &h.session, "#{pane_title}"]), title, "window title unchanged");
    let buffers = tmux(&["list-buffers"]);
    assert!(!buffers.contains("pwned"), "no clipboard write: {buffers}");
}

#[test]
fn hostile_strings_reach_the_screen_inert() {
    if !have_tmux() {
        eprintln!("skipping: tmux not installed");
        return;
    }
    let h = Harness::start_full("e2e-hostile", &["--scenario", "hostile"], &[], "");
    let screen = || h.screen();
    poll("the kube source to be ok", || screen().contains("kube ok").then_some(()), screen);
    let title = tmux(&["display", "-p", "-t", &h.session, "#{pane_title}"]);
    let mut seen_escaped = false;
    for keys in [&["1"][..], &["2"], &["2", "Enter"], &["Escape"], &["3"], &["4"], &["5"], &["6"], &["7"]] {
        seen_escaped |= shows_escaped(&visit(&h, keys));
    }
    assert!(seen_escaped, "the hostile strings were shown (escaped) somewhere");
    title_and_clipboard_untouched(&h, &title);
}

/// An API server whose error messages (the `message` of a 500 Status, free text any server or
/// proxy in front of it writes) carry the hostile strings: the status line and Triage show the
/// error inert, at 200 and 80 columns.
#[test]
fn hostile_api_error_messages_reach_the_screen_inert() {
    if !have_tmux() {
        eprintln!("skipping: tmux not installed");
        return;
    }
    let h = Harness::start_full("e2e-hostile-500", &["--scenario", "hostile", "--fault", "500"], &[], "");
    let screen = || h.screen();
    poll("the 500 to be reported", || screen().contains("unreachable").then_some(()), screen);
    let title = tmux(&["display", "-p", "-t", &h.session, "#{pane_title}"]);
    h.keys(&["7"]);
    poll("Triage with the error", || screen().contains("500 InternalError").then_some(()), screen);
    let text = checked_screen(&h, 200, "Triage");
    assert!(shows_escaped(&text), "the hostile message is shown escaped:\n{text}");
    tmux(&["resize-window", "-t", &h.session, "-x", "80", "-y", "24"]);
    poll("the 80-column Triage", || screen().lines().all(|l| l.chars().count() <= 80).then_some(()), screen);
    checked_screen(&h, 80, "Triage at 80 columns");
    title_and_clipboard_untouched(&h, &title);
}

/// Every kind of trouble at once, after `tag` (so each field can be found on screen): clear
/// screen, cursor home and move, OSC 0 title, OSC 52 clipboard, colours, bidi override, C0
/// (CR, LF, TAB, BS, NUL, SOH, a lone ESC), DEL, C1 (8-bit CSI).
fn hostile(tag: &str) -> String {
    format!(
        "{tag}\u{1b}[2J\u{1b}[H\u{1b}[10;10Hmoved\u{1b}]0;pwned-title\u{07}\u{1b}]52;c;cHduZWQ=\u{07}\
         \u{202e}desrever\u{202c}\u{1b}[31;1;5mred\u{1b}[0m\r\n\t\u{08}\u{0}\u{1}\u{7f}\u{9b}31m\u{1b}"
    )
}

/// A BGP peer as a Cilium agent reports it.
fn peer(name: &str, addr: &str, state: &str, last_error: &str) -> serde_json::Value {
    serde_json::json!({
        "name": name, "neighbor_address": addr, "neighbor_as": 65001, "local_as": 65100,
        "state": state, "since_s": 60, "last_error": last_error, "routes_imported": 3,
        "routes_exported": 1, "hold_time_s": 90, "keepalive_s": 30,
    })
}

/// A node agent for `r1-n02` (a flannel node of the simulated cluster, whose API object brings no
/// BGP sessions that would replace the agent's until its next round) whose report carries hostile
/// text in every free-text field: interface names and kinds, CNI config files and plugin types,
/// BGP peer names, addresses, states and last errors (one of 2,000 characters), the agent
/// version, the CPU flag and the reasons of absent facts. A second agent answers JSON that
/// does not parse, whose error quotes a hostile key, so the reason shown for it is hostile too.
/// The dashboard, against `sim serve --scenario hostile`, shows them inert in the Network,
/// Conntrack and Triage views, the status line and the node's detail, at 200 and 100 columns.
/// (Of these fields the dashboard displays the peers, interface names, CNI files and the parse
/// error; the version, kinds, plugin types, CPU flag and absent reasons are not shown at all.)
#[test]
fn hostile_agent_reports_reach_the_screen_inert() {
    use crate::support::agent::{FakeAgent, Reply, ok_json, real_report};
    if !have_tmux() {
        eprintln!("skipping: tmux not installed");
        return;
    }
    let mut r = real_report("r1-n02");
    r["agent_version"] = hostile("ver").into();
    r["interfaces"] = serde_json::json!({"value": [
        {"name": "cilium_host", "kind": "veth", "up": true},
        {"name": hostile("lxcIFACE"), "kind": hostile("kind"), "up": true},
        {"name": hostile("cilium_vxlan"), "kind": "vxlan", "up": true},
        {"name": hostile("flannel.IFACE"), "kind": "vxlan", "up": true},
    ]});
    r["cni_configs"] =
        serde_json::json!({"value": [{"file": hostile("05-CNIFILE"), "types": [hostile("cilium-cni")]}]});
    r["cpu_virt"] = serde_json::json!({"value": hostile("vmx")});
    r["modules"] = serde_json::json!({"absent": hostile("modules")});
    r["bgp_bird"] = serde_json::json!({"absent": hostile("bird")});
    let long = format!("LONGERR{}", "-long".repeat(400));
    r["bgp_cilium"] = serde_json::json!({"value": [
        peer(&hostile("PEERNAME"), &hostile("PEERADDR"), &hostile("STATE"), &hostile("PEERERR")),
        peer("tor-4a", "10.4.0.1", "idle", &long),
        peer(&"p".repeat(2000), "10.4.0.2", "active", &hostile("ERR2")),
    ]});
    let good = serde_json::to_vec(&r).unwrap();
    let agent = FakeAgent::start(move |_| Reply { delay: std::time::Duration::ZERO, bytes: ok_json(&good) });
    let mut bad = real_report("r1-n03");
    bad["bgp_bird"] = serde_json::json!({ hostile("BADKEY"): 1 });
    let bad = serde_json::to_vec(&bad).unwrap();
    let broken = FakeAgent::start(move |_| Reply { delay: std::time::Duration::ZERO, bytes: ok_json(&bad) });

    let env = [format!("CLUSTERTOP_AGENTS={},{}", agent.url(), broken.url())];
    let h = Harness::start_full("e2e-hostile-agent", &["--scenario", "hostile"], &env, "");
    let screen = || h.screen();
    poll("the kube source to be ok", || screen().contains("kube ok").then_some(()), screen);
    let title = tmux(&["display", "-p", "-t", &h.session, "#{pane_title}"]);

    // The node's detail, found by filtering the Nodes view, once the agent's report is in.
    open_detail(&h, "r1-n02");
    poll("the agent's BGP peers in the detail", || screen().contains("PEERNAME").then_some(()), screen);
    let mut seen = detail_pages(&h, 200);
    for keys in [&["Escape"][..], &["Escape", "3"], &["5"], &["7"], &["1"], &["6"], &["4"]] {
        seen += &visit(&h, keys);
    }
    // Narrower: the detail's one-line-per-field layout.
    tmux(&["resize-window", "-t", &h.session, "-x", "100", "-y", "40"]);
    open_detail(&h, "r1-n02");
    poll("the detail at 100 columns", || screen().contains("PEERNAME").then_some(()), screen);
    seen += &detail_pages(&h, 100);
    h.keys(&["Escape", "Escape", "3"]);
    poll("the Network view at 100 columns", || screen().contains("PEERERR").then_some(()), screen);
    seen += &checked_screen(&h, 100, "the Network view at 100 columns");

    for shown in ["PEERNAME", "PEERADDR", "PEERERR", "LONGERR", "flannel.IFACE", "05-CNIFILE", "BADKEY"] {
        assert!(seen.contains(shown), "{shown} never reached the screen:\n{seen}");
    }
    assert!(shows_escaped(&seen), "the hostile strings were shown escaped:\n{seen}");
    title_and_clipboard_untouched(&h, &title);
    drop(h);
    drop((agent, broken));
}

/// A label value in OpenMetrics text: `\`, `"` and newline escaped, everything else as is.
fn om_value(v: &str) -> String {
    v.replace('\\', r"\\").replace('"', r#"\""#).replace('\n', r"\n")
}

/// OpenMetrics for a real Prometheus, one sample a minute from 10 hours ago to 15 minutes
/// ahead (so instant queries at "now" see them): node CPU and capacity for `r1-n01` with a
/// hostile rack label, kube-state-metrics pods on `r1-n01` with hostile namespaces, names,
/// priority and runtime classes (one name of 2,000 characters), and BGP sessions of bird (`name`,
/// `state`), FRR (`peer`) and Cilium (`neighbor`) with hostile labels on three flannel nodes
/// (whose API objects bring no BGP sessions, so the metrics' are shown).
fn hostile_openmetrics() -> String {
    let h = |tag: &str| om_value(&format!("{}\n", hostile(tag)));
    let long = format!("LONGPOD{}", "x".repeat(2000));
    let now = chrono::Utc::now().timestamp();
    let times: Vec<i64> = (-600..=15).map(|m| now + m * 60).collect();
    let mut out = String::new();
    // A counter's value grows by `v` a sample; a gauge's stays `v`.
    let mut family = |name: &str, kind: &str, series: &[(String, f64)]| {
        out += &format!("# TYPE {name} {kind}\n");
        let sample = if kind == "counter" { format!("{name}_total") } else { name.to_string() };
        for (labels, v) in series {
            for (i, t) in times.iter().enumerate() {
                let value = if kind == "counter" { v * i as f64 } else { *v };
                out += &format!("{sample}{{{labels}}} {value} {t}\n");
            }
        }
    };
    family(
        "node_cpu_seconds",
        "counter",
        &[
            (r#"node="r1-n01",cpu="0",mode="user""#.into(), 30.0),
            (r#"node="r1-n01",cpu="0",mode="idle""#.into(), 30.0),
        ],
    );
    family(
        "kube_node_labels",
        "gauge",
        &[(format!(r#"node="r1-n01",label_topology_kubernetes_io_zone="{}""#, h("RACKZONE")), 1.0)],
    );
    family("kube_node_status_capacity", "gauge", &[(r#"node="r1-n01",resource="cpu""#.into(), 1.0)]);
    let pod = |ns: &str, name: &str| format!(r#"namespace="{ns}",pod="{name}",node="r1-n01""#);
    family(
        "kube_pod_info",
        "gauge",
        &[
            (format!(r#"{},priority_class="{}""#, pod(&h("PODNS"), &h("PODNAME")), h("PRIO")), 1.0),
            (format!(r#"{},priority_class="koord-batch""#, pod("web", &long)), 1.0),
        ],
    );
    family(
        "kube_pod_runtimeclass_name_info",
        "gauge",
        &[
            (format!(r#"{},runtimeclass_name="{}""#, pod(&h("PODNS"), &h("PODNAME")), h("RTCLASS")), 1.0),
            (format!(r#"{},runtimeclass_name="kata-qemu""#, pod("web", &long)), 1.0),
        ],
    );
    family(
        "bird_protocol_up",
        "gauge",
        &[(format!(r#"node="r1-n02",proto="BGP",name="{}",state="{}""#, h("BIRDNAME"), h("BIRDSTATE")), 0.0)],
    );
    family(
        "frr_bgp_peer_state",
        "gauge",
        &[(format!(r#"node="r1-n03",peer="{}",peer_as="65001",local_as="65100""#, h("FRRPEER")), 3.0)],
    );
    family(
        "cilium_bgp_control_plane_session_state",
        "gauge",
        &[(format!(r#"node="r2-n01",neighbor="{}",neighbor_asn="65001""#, h("CILNB")), 0.0)],
    );
    out + "# EOF\n"
}

/// Hostile label values through a real Prometheus, backfilled by promtool from OpenMetrics (which
/// carries ESC, BEL, CR, TAB, BS, NUL, SOH, DEL, C1 and bidi controls raw, and a newline escaped):
/// the rack label of the CPU curve, the pods kube-state-metrics lists (used because `sim serve
/// --forbid pods` forbids the pod watch) and BGP peers of bird, FRR and Cilium. The dashboard
/// shows them inert in every view and in the nodes' details. (The pods' priority and runtime
/// class names are not displayed: an unknown class shows as `other`.)
#[test]
fn hostile_prometheus_labels_reach_the_screen_inert() {
    use crate::support::prom::Prom;
    if !have_tmux() || !crate::support::require_tools() {
        eprintln!("skipping: tmux, prometheus or promtool not installed");
        return;
    }
    let dir = crate::support::TempDir::new("hostile-om");
    let om = dir.0.join("hostile.om");
    std::fs::write(&om, hostile_openmetrics()).unwrap();
    // A colocation window 7 to 6 hours ago, with its 2 h baseline and 4 h spill in the data, so
    // the Utilization view lists its racks (the curve's rack label values).
    let start = chrono::Utc::now() - chrono::Duration::hours(7);
    let window =
        format!("{}-{}", start.format("%H:%M"), (start + chrono::Duration::hours(1)).format("%H:%M"));
    let xdg = dir.0.join("xdg");
    std::fs::create_dir_all(xdg.join("clustertop")).unwrap();
    std::fs::write(
        xdg.join("clustertop/config.toml"),
        format!("[colocation]\nwindows = [\"{window}\"]\ntz = \"Etc/UTC\"\n"),
    )
    .unwrap();
    let prom = Prom::backfill_and_start(&om);
    // Prometheus kept the raw bytes: the label comes back with ESC and the newline.
    let got = prom.query("bird_protocol_up", chrono::Utc::now().timestamp());
    let name = got[0]["metric"]["name"].as_str().unwrap_or_default();
    assert!(name.contains("\u{1b}]0;pwned-title\u{7}") && name.contains('\n'), "{name:?}");

    let env = [format!("CLUSTERTOP_PROMETHEUS={}", prom.url), format!("XDG_CONFIG_HOME={}", xdg.display())];
    let h = Harness::start_full("e2e-hostile-prom", &["--scenario", "hostile", "--forbid", "pods"], &env, "");
    let screen = || h.screen();
    poll("prometheus to be ok", || screen().contains("prometheus ok").then_some(()), screen);
    let title = tmux(&["display", "-p", "-t", &h.session, "#{pane_title}"]);
    let mut seen = String::new();
    for node in ["r1-n01", "r1-n02", "r1-n03", "r2-n01"] {
        open_detail(&h, node);
        seen += &detail_pages(&h, 200);
        seen += &visit(&h, &["Escape"]);
    }
    h.keys(&["/"]);
    h.keys(&["BSpace"; 20]);
    h.keys(&["Enter"]);
    for keys in [&["1"][..], &["3"], &["4"], &["5"], &["6"], &["7"]] {
        seen += &visit(&h, keys);
    }
    for shown in ["PODNAME", "PODNS", "LONGPOD", "BIRDNAME", "FRRPEER", "CILNB", "RACKZONE"] {
        assert!(seen.contains(shown), "{shown} never reached the screen:\n{seen}");
    }
    assert!(shows_escaped(&seen), "the hostile strings were shown escaped:\n{seen}");
    title_and_clipboard_untouched(&h, &title);
}
