//! Named PromQL templates with defaults that match node_exporter, cAdvisor, kube-state-metrics,
//! Cilium, bird_exporter and frr_exporter naming (`templates`); each may be overridden in the
//! config file's `[queries]` table.
//!
//! Templates may use these variables:
//! - `$node_key`: the label(s) node_exporter series name their node by, as detected
//!   (`scheme`): `node` (or `[prometheus] node_label`) or `instance` (`$node_label` is the same);
//! - `$to_node(EXPR)`: EXPR, aggregated `by ($node_key)`, with a `node` label naming the node
//!   (for `instance=IP:port`, joined to `kube_node_info`'s `internal_ip` on the server);
//! - `$rack_label`: kube-state-metrics' name for the rack label (`label_` + the sanitized
//!   `--rack-label`, e.g. `label_topology_kubernetes_io_zone`; needs kube-state-metrics'
//!   `--metric-labels-allowlist=nodes=[topology.kubernetes.io/zone]`);
//! - `$node_name`: the one node a per-node query is about (escaped for a PromQL string), `$match`
//!   a matcher narrowing node_exporter selectors to it, `$this_node` a `{node="..."}` vector;
//! - `$node_busy`, `$node_measured`, `$pod_cpu`, `$node_capacity`, `$node_capacity_before`,
//!   `$node_rack`, `$offline_pods`, `$pod_rack`, `$node_reclaimed`: the fragments of those names (`node_busy` etc.
//!   use the recording rules when the backend has them and the fragment is not overridden).
//!
//! Everything is aggregated on the server: a refresh moves a few kilobytes, not 5,000 series.

use std::collections::{BTreeMap, BTreeSet};

use super::scheme::Detected;
pub use super::templates::{Kind, TEMPLATES};

/// The templates in force: defaults, the `[offline]` classes, and the config's overrides.
#[derive(Debug, Clone)]
pub struct Queries {
    templates: BTreeMap<&'static str, String>,
    overridden: BTreeSet<String>,
    /// `[prometheus] node_label`: no detection of the label scheme.
    node_label: Option<String>,
    rack_label: String,
}

/// Fragments substituted into templates, longest name first where one is a prefix of another.
const FRAGMENTS: &[&str] = &[
    "node_reclaimed_unused_hours",
    "node_reclaimed_hours",
    "offline_workload_hours",
    "node_offline",
    "node_window_util",
    "node_util_key",
    "offline_pods",
    "pod_rack",
    "node_capacity_before",
    "node_capacity",
    "node_busy",
    "node_measured",
    "node_load",
    "node_units",
    "key_rack",
    "pod_cpu",
    "node_rack",
    "node_reclaimed",
];

/// Replace every `$to_node(EXPR)` and `$to_node_once(EXPR)` (balanced parentheses) with
/// `d.to_node(EXPR)` and `d.to_node_once(EXPR, range)`.
fn expand_to_node(q: String, d: &Detected, range: &str) -> String {
    let q = expand(q, "$to_node_once(", &|e| d.to_node_once(e, range));
    expand(q, "$to_node(", &|e| d.to_node(e))
}

fn expand(mut q: String, macro_open: &str, f: &dyn Fn(&str) -> String) -> String {
    let macro_len = macro_open.len();
    while let Some(start) = q.find(macro_open) {
        let open = start + macro_len;
        let mut depth = 1usize;
        let mut end = None;
        for (i, c) in q[open..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(open + i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(end) = end else { break };
        let inner = f(&q[open..end]);
        q.replace_range(start..=end, &inner);
    }
    q
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

/// `{namespace, pod}` of every pod `selector` matched in the query's range, evaluated once.
fn once(selector: &str) -> String {
    format!("max by (namespace, pod) (last_over_time({selector}[$range] @ end()))")
}

/// The set of offline pods as `{namespace, pod}` = 1 (every such pod seen in the query's range), as Koordinator defines them: the pod's
/// `priorityClassName` (`kube_pod_info`), or its `koordinator.sh/priority-class` label, in the
/// priority classes, or its `koordinator.sh/qosClass` label in the QoS classes (the labels are in
/// `kube_pod_labels` only when kube-state-metrics allow-lists them). Empty when neither list has
/// anything (then nothing counts as offline). Koordinator's `spec.priority` bands are not in
/// kube-state-metrics; the kube source applies them.
pub fn offline_pods(priority_classes: &[String], qos_classes: &[String]) -> String {
    let mut parts = Vec::new();
    if !priority_classes.is_empty() {
        let re = alternation(priority_classes);
        parts.push(once(&format!(r#"kube_pod_info{{priority_class=~"{re}"}}"#)));
        parts.push(once(&format!(r#"kube_pod_labels{{label_koordinator_sh_priority_class=~"{re}"}}"#)));
    }
    if !qos_classes.is_empty() {
        let re = alternation(qos_classes);
        parts.push(once(&format!(r#"kube_pod_labels{{label_koordinator_sh_qos_class=~"{re}"}}"#)));
    }
    parts.join(" or ")
}

impl Queries {
    /// `overrides` names must be template names; anything else is an error that lists them.
    pub fn new(
        node_label: Option<&str>,
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
        Ok(Queries {
            templates,
            overridden: overrides.keys().cloned().collect(),
            node_label: node_label.map(str::to_string),
            rack_label: ksm_label(rack_key),
        })
    }

    /// The configured node label (no detection), if any.
    pub fn node_label(&self) -> Option<&str> {
        self.node_label.as_deref()
    }
    pub fn rack_label(&self) -> &str {
        &self.rack_label
    }

    /// Whether anything counts as offline work (else offline queries are skipped).
    pub fn has_offline(&self) -> bool {
        self.templates.get("offline_pods").is_some_and(|q| !q.is_empty())
    }

    /// A fragment: the config's override, else the recording-rule form when `d` has the rules,
    /// else the default.
    fn fragment(&self, d: &Detected, name: &str) -> String {
        let variant = match name {
            _ if self.overridden.contains(name) => None,
            "node_busy" | "node_measured" | "node_load" | "node_units" | "key_rack" | "node_window_util"
                if d.node_rules && !self.overridden.contains("node_busy") =>
            {
                Some("rules")
            }
            "pod_cpu" if d.pod_cgroups => Some("cgroups"),
            "pod_cpu" if d.pod_rule => Some("rules"),
            _ => None,
        };
        let key = variant.map_or_else(|| name.to_string(), |v| format!("{name}_{v}"));
        self.templates.get(key.as_str()).cloned().unwrap_or_default()
    }

    /// The PromQL for `name` on a backend like `d` (with `$node_name` = `node`, if given; `$range`
    /// = the query's span, `range_s` seconds, else a day); empty for an unknown name or a template
    /// overridden to "" (the caller skips it).
    pub fn render(&self, d: &Detected, name: &str, node: Option<&str>, range_s: Option<i64>) -> String {
        if !self.templates.contains_key(name) {
            return String::new();
        }
        // A fragment asked for by name takes its recording-rule form like an included one.
        let mut q = self.fragment(d, name);
        if q.is_empty() {
            return String::new();
        }
        // Fragments may include fragments (`capacity_changes` -> `node_capacity`): two passes.
        for _ in 0..2 {
            for f in FRAGMENTS {
                let var = format!("${f}");
                if q.contains(&var) {
                    q = q.replace(&var, &self.fragment(d, f));
                }
            }
        }
        let matcher = node.map(|n| d.node_matcher(n)).unwrap_or_default();
        let this = format!(r#"label_replace(vector(1), "node", "{}", "", "")"#, quote(node.unwrap_or("")));
        let range = format!("{}s", range_s.unwrap_or(86_400).max(300));
        let q = q
            .replace("$range", &range)
            .replace("$match", &matcher)
            .replace("$this_node", &this)
            .replace("$node_key", d.node_key())
            .replace("$node_label", d.node_key())
            .replace("$rack_label", &self.rack_label)
            .replace("$node_name", &quote(node.unwrap_or("")));
        expand_to_node(q, d, &range)
    }
}

#[cfg(test)]
mod tests {
    use super::super::scheme::Scheme;
    use super::*;

    fn q() -> Queries {
        let off = offline_pods(&["koord-batch".into(), "koord-free".into()], &["BE".into()]);
        Queries::new(None, "topology.kubernetes.io/zone", off, &BTreeMap::new()).unwrap()
    }

    fn d(scheme: Scheme, rules: bool) -> Detected {
        Detected { scheme, node_rules: rules, pod_rule: rules, pod_cgroups: false, probed: true }
    }

    #[test]
    fn ksm_label_names_match_kube_state_metrics() {
        assert_eq!(ksm_label("topology.kubernetes.io/zone"), "label_topology_kubernetes_io_zone");
        assert_eq!(ksm_label("koordinator.sh/qosClass"), "label_koordinator_sh_qos_class");
        assert_eq!(ksm_label("koordinator.sh/priority-class"), "label_koordinator_sh_priority_class");
        assert_eq!(ksm_label("katacontainers.io/kata-runtime"), "label_katacontainers_io_kata_runtime");
    }

    #[test]
    fn variables_are_substituted_and_nothing_is_left_over() {
        let q = q();
        for scheme in [
            Scheme::Label("node".into()),
            Scheme::Label("host".into()),
            Scheme::InstanceName,
            Scheme::InstanceIp,
        ] {
            for rules in [false, true] {
                let d = d(scheme.clone(), rules);
                for (name, _, _) in TEMPLATES {
                    let r = q.render(&d, name, Some(r#"node-"1""#), Some(3600));
                    let left = r.replace(r#""$1""#, "");
                    assert!(!left.contains('$'), "{name} {scheme:?} {rules}: {r}");
                    assert_eq!(r.matches('(').count(), r.matches(')').count(), "{name}: {r}");
                }
            }
        }
        let plain = d(Scheme::Label("node".into()), false);
        let r = q.render(&plain, "cpu_offline_by_rack", None, Some(3600));
        assert!(r.contains(r#"kube_pod_info{priority_class=~"koord-batch|koord-free"}"#), "{r}");
        assert!(
            r.contains(r#"kube_pod_labels{label_koordinator_sh_priority_class=~"koord-batch|koord-free"}"#),
            "{r}"
        );
        assert!(r.contains(r#"label_koordinator_sh_qos_class=~"BE""#), "{r}");
        assert!(r.contains("sum by (label_topology_kubernetes_io_zone)"), "{r}");
        // One node: narrowed in the selector and filtered by name.
        let r = q.render(&plain, "node_util_range", Some(r#"a"b"#), Some(3600));
        assert!(r.contains(r#"{node="a\"b",mode!~"#) && r.contains(r#""node", "a\"b", "", """#), "{r}");
        // Recording rules replace the raw node CPU; the IP -> node -> rack map is evaluated once.
        let r = q.render(&d(Scheme::InstanceIp, true), "cpu_used_by_rack", None, Some(3600));
        assert!(
            r.contains("instance:node_cpu_utilisation:rate5m") && !r.contains("node_cpu_seconds_total"),
            "{r}"
        );
        assert!(r.contains("last_over_time(kube_node_info[3600s] @ end())"), "{r}");
        let r = q.render(&d(Scheme::InstanceIp, true), "node_window_util", None, Some(17_999));
        assert_eq!(r, "avg_over_time(instance:node_cpu_utilisation:rate5m[17999s])");
        let r = q.render(&d(Scheme::InstanceName, false), "conntrack_entries", None, None);
        assert!(
            r.starts_with(r#"label_replace(label_replace(max by (instance) (node_nf_conntrack_entries), "node", "$1", "instance", "(.+)"), "node", "$1", "instance", "#),
            "{r}"
        );
    }

    #[test]
    fn offline_classes_are_escaped_and_may_be_empty() {
        assert_eq!(offline_pods(&[], &[]), "");
        let o = offline_pods(&["a.b".into()], &[]);
        assert!(o.contains(r#"priority_class=~"a\\.b""#), "{o}");
        assert_eq!(o.matches(" or ").count(), 1);
        let q = Queries::new(None, "z", String::new(), &BTreeMap::new()).unwrap();
        assert!(!q.has_offline());
    }

    #[test]
    fn overrides_replace_defaults_and_unknown_names_are_errors() {
        let mut o = BTreeMap::new();
        o.insert("cpu_used".to_string(), " sum(cluster:cpu_used:rate5m) ".to_string());
        o.insert("node_busy".to_string(), "sum by ($node_key) (my:busy)".to_string());
        let q = Queries::new(Some("instance"), "z", String::new(), &o).unwrap();
        let det = d(Scheme::Label("instance".into()), true);
        assert_eq!(q.render(&det, "cpu_used", None, None), "sum(cluster:cpu_used:rate5m)");
        assert!(
            q.render(&det, "node_util", None, None)
                .starts_with("label_replace(sum by (instance) (sum by (instance) (my:busy)) / ")
        );
        o.insert("cpu_usd".to_string(), "x".to_string());
        let e = Queries::new(None, "z", String::new(), &o).unwrap_err();
        assert!(e.contains("cpu_usd") && e.contains("cpu_used"), "{e}");
    }
}
