//! Named PromQL templates with defaults that match node_exporter, cAdvisor, kube-state-metrics,
//! Cilium, bird_exporter and frr_exporter naming; each may be overridden in the config file's
//! `[queries]` table (for recording rules or other label schemes).
//!
//! Templates may use these variables:
//! - `$node_label`: the label that carries the node name on node_exporter/cAdvisor/Cilium series
//!   (`[prometheus] node_label`, default `node`);
//! - `$rack_label`: kube-state-metrics' name for the rack label (`label_` + the sanitized
//!   `--rack-label`, e.g. `label_topology_kubernetes_io_zone`; needs kube-state-metrics'
//!   `--metric-labels-allowlist=nodes=[topology.kubernetes.io/zone]`);
//! - `$node_name`: the one node a per-node query is about (escaped for a PromQL string);
//! - `$offline_pods`, `$pod_rack`: the `offline_pods` and `pod_rack` templates themselves.
//!
//! Everything is aggregated on the server: a refresh moves a few kilobytes, not 5,000 series.

use std::collections::BTreeMap;

/// How a template is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Over the curve's range at its step.
    Range,
    /// At one instant.
    Instant,
    /// A fragment other templates include.
    Fragment,
}

/// `(name, kind, default)`. `offline_pods` is built from the `[offline]` settings.
pub const TEMPLATES: &[(&str, Kind, &str)] = &[
    ("cpu_used", Kind::Range, r#"sum(rate(node_cpu_seconds_total{mode!~"idle|iowait|steal"}[5m]))"#),
    (
        "cpu_offline",
        Kind::Range,
        r#"sum(sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!="", image!=""}[5m])) and on (namespace, pod) ($offline_pods))"#,
    ),
    (
        "cpu_used_by_rack",
        Kind::Range,
        r#"sum by ($rack_label) (sum by ($node_label) (rate(node_cpu_seconds_total{mode!~"idle|iowait|steal"}[5m])) * on ($node_label) group_left ($rack_label) max by ($node_label, $rack_label) (label_replace(kube_node_labels, "$node_label", "$1", "node", "(.*)")))"#,
    ),
    (
        "cpu_offline_by_rack",
        Kind::Range,
        r#"sum by ($rack_label) ((sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!="", image!=""}[5m])) and on (namespace, pod) ($offline_pods)) * on (namespace, pod) group_left ($rack_label) $pod_rack)"#,
    ),
    ("cpu_measured", Kind::Range, r#"count(rate(node_cpu_seconds_total{mode="idle"}[5m]))"#),
    (
        "cpu_measured_by_rack",
        Kind::Range,
        r#"sum by ($rack_label) (count by ($node_label) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * on ($node_label) group_left ($rack_label) max by ($node_label, $rack_label) (label_replace(kube_node_labels, "$node_label", "$1", "node", "(.*)")))"#,
    ),
    (
        "capacity",
        Kind::Range,
        r#"sum($node_capacity) or count(rate(node_cpu_seconds_total{mode="idle"}[5m]))"#,
    ),
    (
        "capacity_by_rack",
        Kind::Range,
        r#"sum by ($rack_label) (($node_capacity) * on (node) group_left ($rack_label) max by (node, $rack_label) (kube_node_labels))"#,
    ),
    (
        "node_capacity",
        Kind::Fragment,
        r#"max by (node) (kube_node_status_capacity{resource="cpu"}) and on (node) max by (node) (kube_node_status_capacity{resource="cpu"} offset 5m)"#,
    ),
    (
        "node_util",
        Kind::Instant,
        r#"sum by ($node_label) (rate(node_cpu_seconds_total{mode!~"idle|iowait|steal"}[5m])) / count by ($node_label) (node_cpu_seconds_total{mode="idle"})"#,
    ),
    (
        "node_util_range",
        Kind::Range,
        r#"sum(rate(node_cpu_seconds_total{$node_label="$node_name", mode!~"idle|iowait|steal"}[5m])) / count(node_cpu_seconds_total{$node_label="$node_name", mode="idle"})"#,
    ),
    (
        "node_cores",
        Kind::Instant,
        r#"max by (node) (kube_node_status_capacity{resource="cpu", node=~"$node_name"})"#,
    ),
    ("node_racks", Kind::Instant, r#"max by (node, $rack_label) (kube_node_labels{node=~"$node_name"})"#),
    (
        "capacity_changes",
        Kind::Instant,
        r#"label_replace(($node_capacity) unless on (node) ($node_capacity_before), "change", "joined", "", "") or label_replace(($node_capacity_before) unless on (node) ($node_capacity), "change", "left", "", "") or label_replace((kube_node_spec_unschedulable == 1) unless on (node) (kube_node_spec_unschedulable offset 5m == 1), "change", "cordoned", "", "") or label_replace((kube_node_spec_unschedulable offset 5m == 1) unless on (node) (kube_node_spec_unschedulable == 1), "change", "uncordoned", "", "")"#,
    ),
    ("cordoned", Kind::Range, "sum(kube_node_spec_unschedulable)"),
    (
        "node_capacity_before",
        Kind::Fragment,
        r#"max by (node) (kube_node_status_capacity{resource="cpu"} offset 5m) and on (node) max by (node) (kube_node_status_capacity{resource="cpu"} offset 10m)"#,
    ),
    ("conntrack_entries", Kind::Instant, "node_nf_conntrack_entries"),
    ("conntrack_limit", Kind::Instant, "node_nf_conntrack_entries_limit"),
    ("conntrack_insert_failed", Kind::Instant, "rate(node_nf_conntrack_stat_insert_failed[5m])"),
    ("conntrack_drop", Kind::Instant, "rate(node_nf_conntrack_stat_drop[5m])"),
    ("conntrack_early_drop", Kind::Instant, "rate(node_nf_conntrack_stat_early_drop[5m])"),
    (
        "conntrack_tcp_timeout",
        Kind::Instant,
        "node_sysctl_net_netfilter_nf_conntrack_tcp_timeout_established",
    ),
    ("bridge_nf_call_iptables", Kind::Instant, "node_sysctl_net_bridge_bridge_nf_call_iptables"),
    ("bgp_cilium", Kind::Instant, "cilium_bgp_control_plane_session_state"),
    ("bgp_bird", Kind::Instant, r#"bird_protocol_up{proto="BGP"}"#),
    ("bgp_frr", Kind::Instant, "frr_bgp_peer_state"),
    (
        "pod_runtimeclass",
        Kind::Instant,
        r#"kube_pod_runtimeclass_name_info * on (namespace, pod) group_left (node) topk by (namespace, pod) (1, max by (namespace, pod, node) (kube_pod_info{node!=""}))"#,
    ),
    (
        "pod_nodes",
        Kind::Instant,
        r#"topk by (namespace, pod) (1, max by (namespace, pod, node, priority_class) (kube_pod_info{node!=""}))"#,
    ),
    (
        "pod_rack",
        Kind::Fragment,
        r#"topk by (namespace, pod) (1, max by (namespace, pod, $rack_label) (kube_pod_info * on (node) group_left ($rack_label) max by (node, $rack_label) (kube_node_labels)))"#,
    ),
    ("offline_pods", Kind::Fragment, ""),
];

/// The templates in force: defaults, the `[offline]` classes, and the config's overrides.
#[derive(Debug, Clone)]
pub struct Queries {
    templates: BTreeMap<&'static str, String>,
    node_label: String,
    rack_label: String,
}

/// kube-state-metrics' label name for a Kubernetes label key: `label_` + the key with every
/// character outside `[a-zA-Z0-9_]` turned into `_`, CamelCase to snake_case, lower-cased.
pub fn ksm_label(key: &str) -> String {
    let mut out = String::from("label_");
    let mut prev_lower = false;
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            out.push('_');
            prev_lower = false;
        }
    }
    out
}

/// A value inside a PromQL double-quoted string.
pub fn quote(v: &str) -> String {
    v.replace('\\', r"\\").replace('"', r#"\""#)
}

/// `a|b` as a PromQL regex (in a double-quoted string), with regex metacharacters escaped.
fn alternation(values: &[String]) -> String {
    let esc = |v: &String| -> String {
        let re: String = v
            .chars()
            .flat_map(|c| if r"\.+*?()|[]{}^$".contains(c) { vec!['\\', c] } else { vec![c] })
            .collect();
        quote(&re)
    };
    values.iter().map(esc).collect::<Vec<_>>().join("|")
}

/// The set of offline pods as `{namespace, pod}` = 1, from priority classes and QoS labels;
/// empty when neither list has anything (then nothing counts as offline).
pub fn offline_pods(priority_classes: &[String], qos_classes: &[String]) -> String {
    let mut parts = Vec::new();
    if !priority_classes.is_empty() {
        let re = alternation(priority_classes);
        parts.push(format!(r#"max by (namespace, pod) (kube_pod_info{{priority_class=~"{re}"}})"#));
    }
    if !qos_classes.is_empty() {
        let re = alternation(qos_classes);
        parts.push(format!(
            r#"max by (namespace, pod) (kube_pod_labels{{label_koordinator_sh_qos_class=~"{re}"}})"#
        ));
    }
    parts.join(" or ")
}

impl Queries {
    /// `overrides` names must be template names; anything else is an error that lists them.
    pub fn new(
        node_label: &str,
        rack_key: &str,
        offline_pods: String,
        overrides: &BTreeMap<String, String>,
    ) -> Result<Queries, String> {
        let mut templates: BTreeMap<&'static str, String> =
            TEMPLATES.iter().map(|(n, _, q)| (*n, (*q).to_string())).collect();
        templates.insert("offline_pods", offline_pods);
        for (name, q) in overrides {
            match templates.get_mut(name.as_str()) {
                Some(t) => *t = q.trim().to_string(),
                None => {
                    let names: Vec<&str> = TEMPLATES.iter().map(|t| t.0).collect();
                    return Err(format!(
                        "[queries] {name}: no such query; the names are {}",
                        names.join(", ")
                    ));
                }
            }
        }
        Ok(Queries { templates, node_label: node_label.to_string(), rack_label: ksm_label(rack_key) })
    }

    pub fn node_label(&self) -> &str {
        &self.node_label
    }
    pub fn rack_label(&self) -> &str {
        &self.rack_label
    }

    /// Whether anything counts as offline work (else offline queries are skipped).
    pub fn has_offline(&self) -> bool {
        self.templates.get("offline_pods").is_some_and(|q| !q.is_empty())
    }

    /// The PromQL for `name` (with `$node_name` = `node`, if given); empty for an unknown name or
    /// a template overridden to "" (the caller skips it).
    pub fn render(&self, name: &str, node: Option<&str>) -> String {
        let Some(t) = self.templates.get(name) else { return String::new() };
        if t.is_empty() {
            return String::new();
        }
        let get = |n: &str| self.templates.get(n).cloned().unwrap_or_default();
        t.replace("$offline_pods", &get("offline_pods"))
            .replace("$pod_rack", &get("pod_rack"))
            .replace("$node_capacity_before", &get("node_capacity_before"))
            .replace("$node_capacity", &get("node_capacity"))
            .replace("$node_label", &self.node_label)
            .replace("$rack_label", &self.rack_label)
            .replace("$node_name", &quote(node.unwrap_or("")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q() -> Queries {
        let off = offline_pods(&["koord-batch".into(), "koord-free".into()], &["BE".into()]);
        Queries::new("node", "topology.kubernetes.io/zone", off, &BTreeMap::new()).unwrap()
    }

    #[test]
    fn ksm_label_names_match_kube_state_metrics() {
        assert_eq!(ksm_label("topology.kubernetes.io/zone"), "label_topology_kubernetes_io_zone");
        assert_eq!(ksm_label("koordinator.sh/qosClass"), "label_koordinator_sh_qos_class");
        assert_eq!(ksm_label("katacontainers.io/kata-runtime"), "label_katacontainers_io_kata_runtime");
    }

    #[test]
    fn variables_are_substituted_and_nothing_is_left_over() {
        let q = q();
        for (name, _, _) in TEMPLATES {
            let r = q.render(name, Some(r#"node-"1""#));
            assert!(
                !r.contains("$node")
                    && !r.contains("$rack")
                    && !r.contains("$offline")
                    && !r.contains("$pod_"),
                "{name}: {r}"
            );
        }
        let r = q.render("cpu_offline_by_rack", None);
        assert!(r.contains(r#"kube_pod_info{priority_class=~"koord-batch|koord-free"}"#), "{r}");
        assert!(r.contains(r#"label_koordinator_sh_qos_class=~"BE""#), "{r}");
        assert!(r.contains("sum by (label_topology_kubernetes_io_zone)"), "{r}");
        assert!(q.render("node_util_range", Some(r#"a"b"#)).contains(r#"node="a\"b""#));
        // label_replace's own `$1` survives.
        assert!(q.render("cpu_used_by_rack", None).contains(r#""$1", "node""#));
    }

    #[test]
    fn offline_classes_are_escaped_and_may_be_empty() {
        assert_eq!(offline_pods(&[], &[]), "");
        let o = offline_pods(&["a.b".into()], &[]);
        assert!(o.contains(r#"priority_class=~"a\\.b""#), "{o}");
        assert!(!o.contains(" or "));
        let q = Queries::new("node", "z", String::new(), &BTreeMap::new()).unwrap();
        assert!(!q.has_offline());
    }

    #[test]
    fn overrides_replace_defaults_and_unknown_names_are_errors() {
        let mut o = BTreeMap::new();
        o.insert("cpu_used".to_string(), " sum(cluster:cpu_used:rate5m) ".to_string());
        let q = Queries::new("instance", "z", String::new(), &o).unwrap();
        assert_eq!(q.render("cpu_used", None), "sum(cluster:cpu_used:rate5m)");
        o.insert("cpu_usd".to_string(), "x".to_string());
        let e = Queries::new("node", "z", String::new(), &o).unwrap_err();
        assert!(e.contains("cpu_usd") && e.contains("cpu_used"), "{e}");
    }
}
