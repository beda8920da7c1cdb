//! The report as Prometheus text exposition (format 0.0.4), every name prefixed
//! `clustertop_agent_`. An absent fact has no series of its own but `clustertop_agent_fact_absent
//! {fact="…"} 1`, so a dashboard can tell "zero" from "unknown".

use std::fmt::Write;

use crate::wire::{BgpPeer, Fact, NodeReport};

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
const P: &str = "clustertop_agent_";

/// A label value with `\`, `"` and newlines escaped.
pub fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

struct Out {
    text: String,
    absent: Vec<&'static str>,
}

impl Out {
    fn head(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.text, "# HELP {P}{name} {help}\n# TYPE {P}{name} {kind}");
    }
    fn sample(&mut self, name: &str, labels: &[(&str, &str)], v: f64) {
        let _ = write!(self.text, "{P}{name}");
        if !labels.is_empty() {
            let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
            let _ = write!(self.text, "{{{}}}", l.join(","));
        }
        let _ = writeln!(self.text, " {v}");
    }
    /// One gauge from a fact, or a note that it is absent.
    fn gauge<T>(&mut self, fact: &'static str, f: &Fact<T>, name: &str, help: &str, v: impl Fn(&T) -> f64) {
        match f {
            Fact::Value(x) => {
                self.head(name, "gauge", help);
                self.sample(name, &[], v(x));
            }
            Fact::Absent(_) => self.absent.push(fact),
        }
    }
}

fn b(x: &bool) -> f64 {
    f64::from(u8::from(*x))
}

fn sessions(o: &mut Out, daemon: &str, peers: &[BgpPeer]) {
    for p in peers {
        let up = crate::model::BgpState::parse(&p.state) == crate::model::BgpState::Established;
        let labels =
            [("daemon", daemon), ("peer", p.name.as_str()), ("neighbor", p.neighbor_address.as_str())];
        o.sample("bgp_session_established", &labels, b(&up));
    }
}

/// A per-session series: name, type, help, and its value of a session (none: no sample).
type Series = (&'static str, &'static str, &'static str, fn(&BgpPeer) -> Option<f64>);

/// Everything else the report says of each session, so that a reader of Prometheus alone
/// (`clustertop --agents prometheus`) rebuilds the same sessions as a poller of the agents: the
/// state word, family and ASNs as labels of an info series, the numbers as gauges. An unknown
/// number has no sample; an unknown word is an empty label.
fn session_details(o: &mut Out, daemons: &[(&str, &[BgpPeer])]) {
    let all = || daemons.iter().flat_map(|(d, peers)| peers.iter().map(move |p| (*d, p)));
    if all().next().is_none() {
        return;
    }
    o.head(
        "bgp_session_info",
        "gauge",
        "1 per BGP session, with its state word, family, ASNs and last error.",
    );
    for (d, p) in all() {
        let (peer_as, local_as) = (p.neighbor_as.map(|n| n.to_string()), p.local_as.map(|n| n.to_string()));
        let labels = [
            ("daemon", d),
            ("peer", p.name.as_str()),
            ("neighbor", p.neighbor_address.as_str()),
            ("state", p.state.as_str()),
            ("family", p.family.as_deref().unwrap_or("")),
            ("peer_asn", peer_as.as_deref().unwrap_or("")),
            ("local_asn", local_as.as_deref().unwrap_or("")),
            ("last_error", p.last_error.as_deref().unwrap_or("")),
        ];
        o.sample("bgp_session_info", &labels, 1.0);
    }
    let gauges: [Series; 11] = [
        ("bgp_session_since_timestamp_seconds", "gauge", "When the session entered its state.", |p| {
            p.since.map(|t| t.timestamp_millis() as f64 / 1e3)
        }),
        ("bgp_session_state_seconds", "gauge", "Seconds in the current state, where the daemon says.", |p| {
            p.since_s.map(|n| n as f64)
        }),
        ("bgp_session_routes_imported", "gauge", "Routes imported from the peer.", |p| {
            p.routes_imported.map(|n| n as f64)
        }),
        ("bgp_session_routes_exported", "gauge", "Routes exported to the peer.", |p| {
            p.routes_exported.map(|n| n as f64)
        }),
        ("bgp_session_hold_time_seconds", "gauge", "Negotiated hold time.", |p| p.hold_time_s.map(f64::from)),
        ("bgp_session_keepalive_seconds", "gauge", "Negotiated keepalive interval.", |p| {
            p.keepalive_s.map(f64::from)
        }),
        (
            "bgp_session_graceful_restart",
            "gauge",
            "1 when the daemon is restart-capable on the session.",
            |p| p.graceful_restart.map(|x| b(&x)),
        ),
        ("bgp_session_restart_time_seconds", "gauge", "Graceful restart time.", |p| {
            p.restart_time_s.map(f64::from)
        }),
        (
            "bgp_session_peer_graceful_restart",
            "gauge",
            "1 when the neighbour advertised graceful restart.",
            |p| p.peer_graceful_restart.map(|x| b(&x)),
        ),
        ("bgp_session_hold_time_configured_seconds", "gauge", "Configured hold time.", |p| {
            p.hold_time_conf_s.map(f64::from)
        }),
        ("bgp_session_keepalive_configured_seconds", "gauge", "Configured keepalive interval.", |p| {
            p.keepalive_conf_s.map(f64::from)
        }),
    ];
    let counters: [Series; 1] = [(
        "bgp_session_established_transitions_total",
        "counter",
        "Times the session reached Established since the daemon started.",
        |p| p.established_transitions.map(|n| n as f64),
    )];
    for (name, kind, help, v) in gauges.iter().chain(&counters) {
        if !all().any(|(_, p)| v(p).is_some()) {
            continue;
        }
        o.head(name, kind, help);
        for (d, p) in all() {
            if let Some(x) = v(p) {
                let labels =
                    [("daemon", d), ("peer", p.name.as_str()), ("neighbor", p.neighbor_address.as_str())];
                o.sample(name, &labels, x);
            }
        }
    }
}

/// The whole exposition for one report.
pub fn render(r: &NodeReport) -> String {
    let mut o = Out { text: String::new(), absent: Vec::new() };
    let ct = &r.host.conntrack;
    o.gauge("conntrack_count", &ct.count, "conntrack_entries", "Conntrack table entries.", |v| *v as f64);
    o.gauge("conntrack_max", &ct.max, "conntrack_max", "nf_conntrack_max.", |v| *v as f64);
    match &ct.stat {
        Fact::Value(m) => {
            o.head("conntrack_stat_total", "counter", "Columns of /proc/net/stat/nf_conntrack, summed.");
            for (k, v) in m {
                o.sample("conntrack_stat_total", &[("stat", k)], *v as f64);
            }
        }
        Fact::Absent(_) => o.absent.push("conntrack_stat"),
    }
    let secs = |v: &u64| *v as f64;
    o.gauge(
        "tcp_timeout_established",
        &ct.tcp_timeout_established_s,
        "tcp_timeout_established_seconds",
        "nf_conntrack_tcp_timeout_established.",
        secs,
    );
    o.gauge(
        "tcp_timeout_close_wait",
        &ct.tcp_timeout_close_wait_s,
        "tcp_timeout_close_wait_seconds",
        "nf_conntrack_tcp_timeout_close_wait.",
        secs,
    );
    o.gauge(
        "tcp_timeout_time_wait",
        &ct.tcp_timeout_time_wait_s,
        "tcp_timeout_time_wait_seconds",
        "nf_conntrack_tcp_timeout_time_wait.",
        secs,
    );
    o.gauge(
        "bridge_nf_call_iptables",
        &r.host.bridge_nf_call_iptables,
        "bridge_nf_call_iptables",
        "1 when enabled.",
        b,
    );
    o.gauge("ip_forward", &r.host.ip_forward, "ip_forward", "net.ipv4.ip_forward.", b);
    // Kata needs both; either one missing settles it (as the poller's mapping does).
    let kvm = match (r.host.dev_kvm.value(), r.host.cpu_virt.value()) {
        (Some(false), _) | (_, Some(None)) => Some(false),
        (Some(true), Some(Some(_))) => Some(true),
        _ => None,
    };
    match kvm {
        Some(k) => {
            o.head("kvm_available", "gauge", "/dev/kvm exists and the CPU has vmx or svm.");
            o.sample("kvm_available", &[], b(&k));
        }
        None => o.absent.push("kvm"),
    }
    match &r.host.modules {
        Fact::Value(m) => {
            o.head("module_loaded", "gauge", "1 when the module is listed in /proc/modules.");
            for (k, v) in m {
                o.sample("module_loaded", &[("module", k)], b(v));
            }
        }
        Fact::Absent(_) => o.absent.push("modules"),
    }
    match &r.host.interfaces {
        Fact::Value(list) => {
            o.head("interface_info", "gauge", "One series per network interface.");
            for i in list {
                o.sample("interface_info", &[("name", &i.name), ("kind", &i.kind)], 1.0);
            }
            o.head("interface_up", "gauge", "1 when the interface is up.");
            for i in list {
                o.sample("interface_up", &[("name", &i.name)], b(&i.up));
            }
        }
        Fact::Absent(_) => o.absent.push("interfaces"),
    }
    match &r.host.cni_configs {
        Fact::Value(list) => {
            o.head("cni_config_info", "gauge", "One series per CNI config file.");
            for c in list {
                o.sample("cni_config_info", &[("file", &c.file), ("types", &c.types.join(","))], 1.0);
            }
        }
        Fact::Absent(_) => o.absent.push("cni_configs"),
    }
    let daemons = [
        ("bird", "bgp_bird", &r.bgp_bird),
        ("bird6", "bgp_bird6", &r.bgp_bird6),
        ("cilium", "bgp_cilium", &r.bgp_cilium),
    ];
    let read: Vec<(&str, &[BgpPeer])> =
        daemons.iter().filter_map(|(d, _, f)| f.value().map(|p| (*d, p.as_slice()))).collect();
    if !read.is_empty() {
        o.head("bgp_session_established", "gauge", "1 when the BGP session is established.");
    }
    for (d, peers) in &read {
        sessions(&mut o, d, peers);
    }
    session_details(&mut o, &read);
    for (_, fact, f) in daemons {
        if f.value().is_none() {
            o.absent.push(fact);
        }
    }
    o.gauge("file_nr", &r.host.file_nr, "file_handles_allocated", "Allocated file handles.", |v| v.0 as f64);
    if let Fact::Value((_, max)) = &r.host.file_nr {
        o.head("file_handles_max", "gauge", "Maximum file handles.");
        o.sample("file_handles_max", &[], *max as f64);
    }
    match &r.host.load {
        Fact::Value((l, running, total)) => {
            o.head("load", "gauge", "Load average by window.");
            for (w, v) in ["1m", "5m", "15m"].iter().zip(l) {
                o.sample("load", &[("window", w)], *v);
            }
            o.head("threads_running", "gauge", "Runnable threads.");
            o.sample("threads_running", &[], *running as f64);
            o.head("threads", "gauge", "Threads in all.");
            o.sample("threads", &[], *total as f64);
        }
        Fact::Absent(_) => o.absent.push("load"),
    }
    o.gauge("cpu_cores", &r.host.cpu_cores, "cpu_cores", "Online CPUs.", |v| f64::from(*v));
    o.head("fact_absent", "gauge", "1 for each fact the agent could not read.");
    for f in std::mem::take(&mut o.absent) {
        o.sample("fact_absent", &[("fact", f)], 1.0);
    }
    o.head("info", "gauge", "The agent: its node and version.");
    o.sample("info", &[("node_name", &r.node), ("version", &r.agent_version)], 1.0);
    o.head("read_timestamp_seconds", "gauge", "When the facts were read.");
    o.sample("read_timestamp_seconds", &[], r.read_at.timestamp_millis() as f64 / 1e3);
    o.text
}

/// Cut the text at a line boundary so it fits in `max` bytes, saying so in a last comment.
pub fn fit(mut text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let note = "# clustertop_agent: output truncated at 64 KiB\n";
    let mut keep = max.saturating_sub(note.len());
    while !text.is_char_boundary(keep) {
        keep -= 1;
    }
    let cut = text[..keep].rfind('\n').map_or(0, |i| i + 1);
    text.truncate(cut);
    text.push_str(note);
    text
}
