//! How the backend's node_exporter series name their node, and which recording rules it has:
//! detected once with two instant probes (cached by the backend), so the same default queries work
//! on kube-prometheus-stack (Helm), kube-prometheus (jsonnet) and relabelled setups
//! (`data-sources.md` §9):
//!
//! * a `node` label (a relabelling adds it; `[prometheus] node_label` names another one);
//! * `instance` = the node's name (kube-prometheus jsonnet relabels it so), or `name:port`: the
//!   host part names the node (also the fallback when nothing else maps);
//! * `instance` = `InternalIP:port` with the exporter pod's `namespace`/`pod` and no node label
//!   (kube-prometheus-stack): mapped to the node on the server through `kube_node_info`'s
//!   `internal_ip`.
//!
//! Every node-keyed template aggregates `by ($node_key)` and passes the result through
//! `$to_node(...)`, which adds the canonical `node` label for the scheme.

use super::map::Series;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheme {
    /// Series carry the node's name in this label.
    Label(String),
    /// `instance`'s host part (without a `:port`) is the node's name.
    InstanceName,
    /// `instance` is `InternalIP:port`; `kube_node_info{internal_ip}` names the node.
    InstanceIp,
}

/// What the backend has: the label scheme and the recording rules the default queries use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    pub scheme: Scheme,
    /// node-mixin's `instance:node_cpu_utilisation:rate5m` and `instance:node_num_cpu:sum`.
    pub node_rules: bool,
    /// kubernetes-mixin's `node_namespace_pod_container:container_cpu_usage_seconds_total:sum_rate5m`.
    pub pod_rule: bool,
    /// cAdvisor's pod-cgroup series (`container_cpu_usage_seconds_total{container="", pod!=""}`).
    pub pod_cgroups: bool,
    /// Whether the probes found node_exporter data (else this is the default, probed again later).
    pub probed: bool,
}

impl Default for Detected {
    fn default() -> Self {
        Detected {
            scheme: Scheme::Label("node".into()),
            node_rules: false,
            pod_rule: false,
            pod_cgroups: false,
            probed: false,
        }
    }
}

pub const UTIL_RULE: &str = "instance:node_cpu_utilisation:rate5m";
pub const CPUS_RULE: &str = "instance:node_num_cpu:sum";
pub const POD_RULE: &str = "node_namespace_pod_container:container_cpu_usage_seconds_total:sum_rate5m";

/// The host part of `instance` (`10.0.0.5:9100`, `[fd00::5]:9100`) as a label_replace regex.
const HOST_RE: &str = r#""\\[?(.+?)\\]?:[0-9]+""#;

/// One instant query: how many node_exporter CPU series each scheme would map to a node.
pub fn scheme_probe() -> String {
    let cpu = r#"node_cpu_seconds_total{mode="idle"}"#;
    let tag = |q: String, s: &str| format!(r#"label_replace({q}, "scheme", "{s}", "", "")"#);
    [
        tag(r#"count(node_cpu_seconds_total{mode="idle", node!=""})"#.into(), "node"),
        tag(
            format!(
                r#"count({cpu} and on (instance) label_replace(kube_node_info, "instance", "$1", "node", "(.+)"))"#
            ),
            "instance",
        ),
        tag(
            format!(
                r#"count(label_replace({cpu}, "internal_ip", "$1", "instance", {HOST_RE}) and on (internal_ip) kube_node_info)"#
            ),
            "instance-ip",
        ),
        tag(format!("count({cpu})"), "any"),
        tag(r#"count(container_cpu_usage_seconds_total{container="", pod!=""})"#.into(), "pod-cgroups"),
    ]
    .join(" or ")
}

/// One instant query: which of the recording rules exist.
pub fn rules_probe() -> String {
    format!(r#"count by (__name__) ({{__name__=~"{UTIL_RULE}|{CPUS_RULE}|{POD_RULE}"}})"#)
}

/// The scheme from the probe's counts: a node label if most series have one, else `instance`
/// addressing nodes by their InternalIP if more series map that way than by name, else
/// `instance` naming them (also when nothing maps: the host part is the best name there is).
pub fn interpret(scheme: &[Series], rules: &[Series], configured: Option<&str>) -> Detected {
    let count = |tag: &str| {
        scheme.iter().find(|s| s.label("scheme") == Some(tag)).and_then(Series::value).unwrap_or(0.0)
    };
    let any = count("any");
    let (node, name, ip) = (count("node"), count("instance"), count("instance-ip"));
    let scheme = match configured {
        Some(l) => Scheme::Label(l.to_string()),
        None if node > 0.0 && node * 2.0 >= any => Scheme::Label("node".into()),
        None if ip > 0.0 && ip > name => Scheme::InstanceIp,
        None if any > 0.0 => Scheme::InstanceName,
        None => Scheme::Label("node".into()),
    };
    let has =
        |n: &str| rules.iter().any(|s| s.label("__name__") == Some(n) && s.value().unwrap_or(0.0) > 0.0);
    Detected {
        scheme,
        node_rules: has(UTIL_RULE) && has(CPUS_RULE),
        pod_rule: has(POD_RULE),
        pod_cgroups: count("pod-cgroups") > 0.0,
        probed: any > 0.0,
    }
}

impl Detected {
    /// The labels node_exporter series are aggregated by before `$to_node`.
    pub fn node_key(&self) -> &str {
        match &self.scheme {
            Scheme::Label(l) => l,
            Scheme::InstanceName | Scheme::InstanceIp => "instance",
        }
    }

    /// `expr` (aggregated by [`Detected::node_key`]) with a `node` label naming the node.
    pub fn to_node(&self, expr: &str) -> String {
        self.to_node_from(expr, "kube_node_info")
    }

    /// [`Detected::to_node`] with the IP -> node map evaluated once per query, over `range`
    /// (every node seen in it), so the whole expression is step-invariant for a step-invariant
    /// `expr`.
    pub fn to_node_once(&self, expr: &str, range: &str) -> String {
        self.to_node_from(expr, &format!("last_over_time(kube_node_info[{range}] @ end())"))
    }

    fn to_node_from(&self, expr: &str, node_info: &str) -> String {
        match &self.scheme {
            Scheme::Label(l) if l == "node" => expr.to_string(),
            Scheme::Label(l) => format!(r#"label_replace({expr}, "node", "$1", "{l}", "(.+)")"#),
            Scheme::InstanceName => format!(
                r#"label_replace(label_replace({expr}, "node", "$1", "instance", "(.+)"), "node", "$1", "instance", {HOST_RE})"#
            ),
            Scheme::InstanceIp => format!(
                r#"(label_replace({expr}, "internal_ip", "$1", "instance", {HOST_RE}) * on (internal_ip) group_left (node) topk by (internal_ip) (1, max by (internal_ip, node) ({node_info})))"#
            ),
        }
    }

    /// A matcher (with a trailing comma) that narrows node_exporter selectors to one node, where
    /// the scheme allows it (else empty; the caller filters on `node` after `$to_node`).
    pub fn node_matcher(&self, node: &str) -> String {
        let v = super::queries::quote(node);
        match &self.scheme {
            Scheme::Label(l) => format!(r#"{l}="{v}","#),
            Scheme::InstanceName => {
                let re: String =
                    v.chars().flat_map(|c| if c == '.' { vec!['\\', '\\', '.'] } else { vec![c] }).collect();
                format!(r#"instance=~"{re}(:[0-9]+)?","#)
            }
            Scheme::InstanceIp => String::new(),
        }
    }

    /// For the source's status and the report: which scheme and rules are in use.
    pub fn describe(&self) -> String {
        let scheme = match &self.scheme {
            Scheme::Label(l) => format!("node_exporter series name their node in the `{l}` label"),
            Scheme::InstanceName => {
                "node_exporter `instance` (without its port) is the node's name (kube-prometheus)".to_string()
            }
            Scheme::InstanceIp => {
                "node_exporter `instance` is IP:port, mapped to nodes by kube_node_info's internal_ip (kube-prometheus-stack)"
                    .to_string()
            }
        };
        let cpu = if self.node_rules {
            format!("node CPU from recording rules {UTIL_RULE} and {CPUS_RULE}")
        } else {
            "node CPU from raw node_cpu_seconds_total (no node-mixin recording rules)".to_string()
        };
        let pods = if self.pod_cgroups {
            "pod CPU from cAdvisor's pod cgroups (Kata and gVisor pods included)".to_string()
        } else if self.pod_rule {
            format!("pod CPU from recording rule {POD_RULE}")
        } else {
            "pod CPU from cAdvisor's containers".to_string()
        };
        let probed = if self.probed { "" } else { " (not detected yet: no node_exporter data)" };
        format!("{scheme}; {cpu}; {pods}{probed}")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn s(tag: (&str, &str), v: f64) -> Series {
        Series { labels: HashMap::from([(tag.0.to_string(), tag.1.to_string())]), samples: vec![(0, v)] }
    }

    #[test]
    fn schemes_from_counts() {
        let d = |v: Vec<Series>| interpret(&v, &[], None).scheme;
        assert_eq!(
            d(vec![s(("scheme", "node"), 48.0), s(("scheme", "any"), 48.0)]),
            Scheme::Label("node".into())
        );
        assert_eq!(
            d(vec![s(("scheme", "instance"), 40.0), s(("scheme", "any"), 48.0)]),
            Scheme::InstanceName
        );
        // No kube-state-metrics to match with: instance names the node.
        assert_eq!(d(vec![s(("scheme", "any"), 48.0)]), Scheme::InstanceName);
        assert_eq!(
            d(vec![s(("scheme", "instance-ip"), 40.0), s(("scheme", "any"), 48.0)]),
            Scheme::InstanceIp
        );
        let none = interpret(&[], &[], None);
        assert!(!none.probed && none.scheme == Scheme::Label("node".into()));
        let cfg =
            interpret(&[s(("scheme", "instance-ip"), 4.0), s(("scheme", "any"), 4.0)], &[], Some("host"));
        assert_eq!(cfg.scheme, Scheme::Label("host".into()));
        let rules = [s(("__name__", UTIL_RULE), 3.0), s(("__name__", CPUS_RULE), 3.0)];
        let r = interpret(&[s(("scheme", "any"), 4.0)], &rules, None);
        assert!(r.node_rules && !r.pod_rule && r.probed);
    }

    #[test]
    fn wrapping_and_matchers() {
        let ip = Detected { scheme: Scheme::InstanceIp, ..Detected::default() };
        let w = ip.to_node("sum by (instance) (x)");
        assert!(w.contains(r#""instance", "\\[?(.+?)\\]?:[0-9]+")"#) && w.contains("kube_node_info"), "{w}");
        assert_eq!(ip.node_matcher("n1"), "");
        let name = Detected { scheme: Scheme::InstanceName, ..Detected::default() };
        assert_eq!(name.node_matcher(r#"a"b.c"#), r#"instance=~"a\"b\\.c(:[0-9]+)?","#);
        assert_eq!(Detected::default().to_node("x"), "x");
        assert!(Detected::default().describe().contains("`node` label"));
    }
}
