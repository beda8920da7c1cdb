//! The default PromQL templates (see `queries` for the variables). Node-keyed series are
//! aggregated `by ($node_key)` and named with `$to_node(...)` (the detected label scheme);
//! `$match` narrows node_exporter selectors to one node for per-node queries. Fragments with a
//! `_rules` twin use the recording rule when the backend has it (`scheme::Detected`).

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

/// Busy CPUs of the nodes whose exporter answered in (t-5m, t] (every scheme: a `rate`).
const NODE_BUSY: &str =
    r#"sum by ($node_key) (rate(node_cpu_seconds_total{$matchmode!~"idle|iowait|steal"}[5m]))"#;
const NODE_BUSY_RULES: &str = r#"sum by ($node_key) (instance:node_cpu_utilisation:rate5m{$match} * instance:node_num_cpu:sum{$match})"#;
const NODE_MEASURED: &str = r#"count by ($node_key) (rate(node_cpu_seconds_total{$matchmode="idle"}[5m]))"#;
const NODE_MEASURED_RULES: &str = r#"sum by ($node_key) (instance:node_num_cpu:sum{$match} and instance:node_cpu_utilisation:rate5m{$match})"#;
/// A pod's CPU: its pod cgroup (the only series of Kata and gVisor pods), else its containers.
const POD_CPU: &str = r#"sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container="", pod!=""}[5m])) or sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!="", image!=""}[5m]))"#;
const POD_CPU_RULES: &str =
    r#"sum by (namespace, pod) (node_namespace_pod_container:container_cpu_usage_seconds_total:sum_rate5m)"#;
/// The cores of the nodes present for the whole step (at t and 5 minutes before), so a node that
/// joins or leaves counts from the step its CPU is measured in.
const NODE_CAPACITY: &str = r#"max by (node) (kube_node_status_capacity{resource="cpu"}) and on (node) max by (node) (kube_node_status_capacity{resource="cpu"} offset 5m)"#;
const NODE_CAPACITY_BEFORE: &str = r#"max by (node) (kube_node_status_capacity{resource="cpu"} offset 5m) and on (node) max by (node) (kube_node_status_capacity{resource="cpu"} offset 10m)"#;
const CAPACITY_CHANGES: &str = r#"label_replace(($node_capacity) unless on (node) ($node_capacity_before), "change", "joined", "", "") or label_replace(($node_capacity_before) unless on (node) ($node_capacity), "change", "left", "", "") or label_replace((kube_node_spec_unschedulable == 1) unless on (node) (kube_node_spec_unschedulable offset 5m == 1), "change", "cordoned", "", "") or label_replace((kube_node_spec_unschedulable offset 5m == 1) unless on (node) (kube_node_spec_unschedulable == 1), "change", "uncordoned", "", "")"#;

/// `(name, kind, default)`. `offline_pods` is built from the `[offline]` settings.
pub const TEMPLATES: &[(&str, Kind, &str)] = &[
    ("cpu_used", Kind::Range, "sum($node_busy)"),
    ("cpu_offline", Kind::Range, "sum(($pod_cpu) and on (namespace, pod) ($offline_pods))"),
    ("cpu_measured", Kind::Range, "sum($node_measured)"),
    ("capacity", Kind::Range, "sum($node_capacity) or sum($node_measured)"),
    (
        "cpu_used_by_rack",
        Kind::Range,
        "sum by ($rack_label) ($to_node($node_busy) * on (node) group_left ($rack_label) $node_rack)",
    ),
    (
        "cpu_offline_by_rack",
        Kind::Range,
        "sum by ($rack_label) ((($pod_cpu) and on (namespace, pod) ($offline_pods)) * on (namespace, pod) group_left ($rack_label) $pod_rack)",
    ),
    (
        "cpu_measured_by_rack",
        Kind::Range,
        "sum by ($rack_label) ($to_node($node_measured) * on (node) group_left ($rack_label) $node_rack)",
    ),
    (
        "capacity_by_rack",
        Kind::Range,
        "sum by ($rack_label) (($node_capacity) * on (node) group_left ($rack_label) $node_rack)",
    ),
    ("cordoned", Kind::Range, "sum(kube_node_spec_unschedulable)"),
    ("node_util", Kind::Instant, "$to_node($node_busy / $node_measured)"),
    ("node_util_range", Kind::Range, "sum($to_node($node_busy / $node_measured) and on (node) $this_node)"),
    (
        "node_cores",
        Kind::Instant,
        r#"max by (node) (kube_node_status_capacity{resource="cpu", node=~"$node_name"})"#,
    ),
    ("node_racks", Kind::Instant, r#"max by (node, $rack_label) (kube_node_labels{node=~"$node_name"})"#),
    ("capacity_changes", Kind::Instant, CAPACITY_CHANGES),
    ("conntrack_entries", Kind::Instant, "$to_node(max by ($node_key) (node_nf_conntrack_entries))"),
    ("conntrack_limit", Kind::Instant, "$to_node(max by ($node_key) (node_nf_conntrack_entries_limit))"),
    (
        "conntrack_insert_failed",
        Kind::Instant,
        "$to_node(max by ($node_key) (rate(node_nf_conntrack_stat_insert_failed[5m])))",
    ),
    ("conntrack_drop", Kind::Instant, "$to_node(max by ($node_key) (rate(node_nf_conntrack_stat_drop[5m])))"),
    (
        "conntrack_early_drop",
        Kind::Instant,
        "$to_node(max by ($node_key) (rate(node_nf_conntrack_stat_early_drop[5m])))",
    ),
    (
        "conntrack_tcp_timeout",
        Kind::Instant,
        "$to_node(max by ($node_key) (node_sysctl_net_netfilter_nf_conntrack_tcp_timeout_established))",
    ),
    (
        "bridge_nf_call_iptables",
        Kind::Instant,
        "$to_node(max by ($node_key) (node_sysctl_net_bridge_bridge_nf_call_iptables))",
    ),
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
    ("node_busy", Kind::Fragment, NODE_BUSY),
    ("node_busy_rules", Kind::Fragment, NODE_BUSY_RULES),
    ("node_measured", Kind::Fragment, NODE_MEASURED),
    ("node_measured_rules", Kind::Fragment, NODE_MEASURED_RULES),
    ("pod_cpu", Kind::Fragment, POD_CPU),
    ("pod_cpu_rules", Kind::Fragment, POD_CPU_RULES),
    ("node_capacity", Kind::Fragment, NODE_CAPACITY),
    ("node_capacity_before", Kind::Fragment, NODE_CAPACITY_BEFORE),
    ("node_rack", Kind::Fragment, "max by (node, $rack_label) (kube_node_labels)"),
    (
        "pod_rack",
        Kind::Fragment,
        r#"topk by (namespace, pod) (1, max by (namespace, pod, $rack_label) (kube_pod_info * on (node) group_left ($rack_label) max by (node, $rack_label) (kube_node_labels)))"#,
    ),
    ("offline_pods", Kind::Fragment, ""),
];
