//! The default PromQL templates (see `queries` for the variables). Node-keyed series are
//! aggregated `by ($node_key)` and named with `$to_node(...)` (the detected label scheme), or
//! joined on `$node_key` to `$key_rack`; `$match` narrows node_exporter selectors to one node for
//! per-node queries. Fragments with a `_rules` twin use the recording rules when the backend has
//! them (`scheme::Detected`).

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

// Cost at 5,000 nodes is per-step vector matching, so every mapping that does not change within
// a query (node -> rack, IP -> node, pod -> rack, which pods are offline) is evaluated once per
// query as `last_over_time(...[$range] @ end())` (step-invariant): every node or pod seen in the
// range, as of its last sample. Per step, each rack query matches once.

/// Busy cores per node key (nodes whose exporter answered in the 5 minutes before).
const NODE_BUSY: &str =
    r#"sum by ($node_key) (rate(node_cpu_seconds_total{$matchmode!~"idle|iowait|steal"}[5m]))"#;
const NODE_BUSY_RULES: &str =
    r#"instance:node_cpu_utilisation:rate5m{$match} * instance:node_num_cpu:sum{$match}"#;
/// CPUs measured per node key.
const NODE_MEASURED: &str = r#"count by ($node_key) (rate(node_cpu_seconds_total{$matchmode="idle"}[5m]))"#;
const NODE_MEASURED_RULES: &str = r#"instance:node_num_cpu:sum{$match}"#;
/// Per step and node key, what `$key_rack`'s value multiplies into busy cores: busy cores (raw,
/// the map's value is 1) or the busy share (rules, the map's value is the node's CPUs).
const NODE_LOAD_RULES: &str = r#"instance:node_cpu_utilisation:rate5m"#;
/// CPUs measured per node key, joined to `group by ($node_key, $rack_label) ($key_rack)`.
const NODE_UNITS_RULES: &str = r#"instance:node_num_cpu:sum"#;
/// Node key -> rack (`""` for nodes without one), valued 1 (raw) or the node's CPUs (rules).
const KEY_RACK: &str = r#"max by ($node_key, $rack_label) (($to_node_once(group by ($node_key) (last_over_time(node_cpu_seconds_total{mode="idle"}[$range] @ end()))) * on (node) group_left ($rack_label) $node_rack) or on (node) $to_node_once(group by ($node_key) (last_over_time(node_cpu_seconds_total{mode="idle"}[$range] @ end()))))"#;
const KEY_RACK_RULES: &str = r#"max by ($node_key, $rack_label) (($to_node_once(max by ($node_key) (last_over_time(instance:node_num_cpu:sum[$range] @ end()))) * on (node) group_left ($rack_label) $node_rack) or on (node) $to_node_once(max by ($node_key) (last_over_time(instance:node_num_cpu:sum[$range] @ end()))))"#;
/// Pod CPU, one series per pod cgroup (the only series of Kata and gVisor pods) when the backend
/// has them, else per container; kubernetes-mixin's container rule only without pod cgroups
/// (it keeps `image!=""`, so it misses Kata and gVisor pods).
const POD_CPU: &str = r#"rate(container_cpu_usage_seconds_total{container!="", image!=""}[5m])"#;
const POD_CPU_CGROUPS: &str = r#"rate(container_cpu_usage_seconds_total{container="", pod!=""}[5m])"#;
const POD_CPU_RULES: &str = r#"node_namespace_pod_container:container_cpu_usage_seconds_total:sum_rate5m"#;
/// The cores of the nodes in the cluster during the step: as of its start (a node that joins
/// counts from the step its CPU is measured in; one that leaves stops when kube-state-metrics
/// marks its series stale).
const NODE_CAPACITY: &str = r#"kube_node_status_capacity{resource="cpu"} offset 5m"#;
const NODE_CAPACITY_BEFORE: &str = r#"kube_node_status_capacity{resource="cpu"} offset 10m"#;
const CAPACITY_CHANGES: &str = r#"label_replace(($node_capacity) unless on (node) ($node_capacity_before), "change", "joined", "", "") or label_replace(($node_capacity_before) unless on (node) ($node_capacity), "change", "left", "", "") or label_replace((kube_node_spec_unschedulable == 1) unless on (node) (kube_node_spec_unschedulable offset 5m == 1), "change", "cordoned", "", "") or label_replace((kube_node_spec_unschedulable offset 5m == 1) unless on (node) (kube_node_spec_unschedulable == 1), "change", "uncordoned", "", "")"#;

/// `(name, kind, default)`. `offline_pods` is built from the `[offline]` settings.
/// `PRE METRIC…} POST` for the series with a `node` label, joined to their node through their
/// exporter pod or their instance's address for the others (`METRIC_OPEN` is the selector up to
/// where more matchers go: `m{` or `m{a="b",`).
macro_rules! by_node {
    ($pre:literal, $open:literal, $post:literal) => {
        concat!(
            $pre, $open, r#"node!=""}"#, $post,
            " or (", $pre, $open, r#"node="",pod!=""}"#, $post,
            r#" * on (namespace, pod) group_left (node) max by (namespace, pod, node) (kube_pod_info{node!=""}))"#,
            r#" or (label_replace("#, $pre, $open, r#"node="",pod=""}"#, $post,
            r#", "internal_ip", "$1", "instance", "(.+):[0-9]+") * on (internal_ip) group_left (node) max by (internal_ip, node) (kube_node_info))"#
        )
    };
}

/// The kubelet's sandbox starts per runtime handler over the last hour (sandbox starts are rare
/// on a quiet node: an hour gives enough of them), cluster-wide and per node (the kubelet's
/// series carry `node`, or an `instance` on the node's InternalIP). Buckets are the kubelet's
/// `DefBuckets` (5 ms to 10 s).
macro_rules! sandbox {
    (quantile $q:literal) => {
        concat!(
            "histogram_quantile(",
            $q,
            ", sum by (le, runtime_handler) (rate(kubelet_run_podsandbox_duration_seconds_bucket[1h])))"
        )
    };
    (node_quantile $q:literal) => {
        concat!(
            "histogram_quantile(",
            $q,
            ", sum by (le, runtime_handler, node) (",
            by_node!("rate(", "kubelet_run_podsandbox_duration_seconds_bucket{", "[1h])"),
            "))"
        )
    };
}

pub const TEMPLATES: &[(&str, Kind, &str)] = &[
    ("sandbox_p50", Kind::Instant, sandbox!(quantile "0.5")),
    ("sandbox_p95", Kind::Instant, sandbox!(quantile "0.95")),
    (
        "sandbox_mean",
        Kind::Instant,
        "sum by (runtime_handler) (rate(kubelet_run_podsandbox_duration_seconds_sum[1h])) / sum by (runtime_handler) (rate(kubelet_run_podsandbox_duration_seconds_count[1h]))",
    ),
    (
        "sandbox_count",
        Kind::Instant,
        "sum by (runtime_handler) (increase(kubelet_run_podsandbox_duration_seconds_count[1h]))",
    ),
    ("sandbox_node_p50", Kind::Instant, sandbox!(node_quantile "0.5")),
    ("sandbox_node_p95", Kind::Instant, sandbox!(node_quantile "0.95")),
    (
        "sandbox_node_mean",
        Kind::Instant,
        concat!(
            "sum by (runtime_handler, node) (",
            by_node!("rate(", "kubelet_run_podsandbox_duration_seconds_sum{", "[1h])"),
            ") / sum by (runtime_handler, node) (",
            by_node!("rate(", "kubelet_run_podsandbox_duration_seconds_count{", "[1h])"),
            ")"
        ),
    ),
    (
        "sandbox_node_count",
        Kind::Instant,
        concat!(
            "sum by (runtime_handler, node) (",
            by_node!("increase(", "kubelet_run_podsandbox_duration_seconds_count{", "[1h])"),
            ")"
        ),
    ),
    (
        "sandbox_node_errors",
        Kind::Instant,
        concat!(
            "sum by (runtime_handler, node) (",
            by_node!("increase(", "kubelet_run_podsandbox_errors_total{", "[1h])"),
            ")"
        ),
    ),
    ("cpu_used", Kind::Range, "sum($node_busy)"),
    ("cpu_offline", Kind::Range, "sum(($pod_cpu) and on (namespace, pod) ($offline_pods))"),
    ("cpu_measured", Kind::Range, "sum($node_measured)"),
    ("capacity", Kind::Range, "sum($node_capacity) or sum($node_measured)"),
    (
        "cpu_used_by_rack",
        Kind::Range,
        "sum by ($rack_label) (($node_load) * on ($node_key) group_left ($rack_label) $key_rack)",
    ),
    (
        "cpu_offline_by_rack",
        Kind::Range,
        "sum by ($rack_label) (($pod_cpu) * on (namespace, pod) group_left ($rack_label) ($pod_rack and on (namespace, pod) ($offline_pods)))",
    ),
    (
        "cpu_measured_by_rack",
        Kind::Range,
        "sum by ($rack_label) (($node_units) * on ($node_key) group_left ($rack_label) group by ($node_key, $rack_label) ($key_rack))",
    ),
    (
        "capacity_by_rack",
        Kind::Range,
        "sum by ($rack_label) (($node_capacity) * on (node) group_left ($rack_label) $node_rack)",
    ),
    // Koordinator's reclaimed capacity: the batch-cpu allocatable koordlet exports per node
    // (`koordlet_node_resource_allocatable`, milli-cores, unit "integer"), averaged over each step
    // like the CPU rates; a node scraped twice counts once.
    ("reclaimed", Kind::Range, "sum($node_reclaimed) / 1000"),
    (
        "reclaimed_by_rack",
        Kind::Range,
        "sum by ($rack_label) (($node_reclaimed) * on (node) group_left ($rack_label) $node_rack) / 1000",
    ),
    ("cordoned", Kind::Range, "sum(kube_node_spec_unschedulable)"),
    ("node_util", Kind::Instant, "$to_node($node_util_key)"),
    ("node_util_range", Kind::Range, "sum($to_node($node_util_key) and on (node) $this_node)"),
    (
        "node_util_key",
        Kind::Fragment,
        "sum by ($node_key) ($node_busy) / sum by ($node_key) ($node_measured)",
    ),
    // Each node's average utilisation over the `$range` before the evaluation time, by node key
    // (the report ranks the nodes with `bottomk` before naming them).
    ("node_window_util", Kind::Fragment, "avg_over_time(($node_util_key)[$range:5m])"),
    ("node_window_util_rules", Kind::Fragment, "avg_over_time(instance:node_cpu_utilisation:rate5m[$range])"),
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
    // BGP exporters are scraped in their own ways (the Cilium agent with a `node` label, a
    // bird_exporter sidecar as a pod, frr_exporter on the host's address): each series gets its
    // node from its `node` label, else its exporter pod's (kube_pod_info), else its instance's
    // InternalIP (kube_node_info). The three parts select disjoint series.
    ("bgp_cilium", Kind::Instant, by_node!("", "cilium_bgp_control_plane_session_state{", "")),
    ("bgp_bird", Kind::Instant, by_node!("", r#"bird_protocol_up{proto="BGP","#, "")),
    ("bgp_frr", Kind::Instant, by_node!("", "frr_bgp_peer_state{", "")),
    // Cilium's BPF CT and NAT maps (the agent's `map_name` drops the `cilium_` prefix; CT maps
    // report pressure from the CT GC's counts, the others as the agent tracks them), and the
    // packets dropped because a CT entry could not be inserted (a counter per drop reason and
    // direction, created at the first such drop).
    (
        "cilium_map_pressure",
        Kind::Instant,
        by_node!(
            "",
            r#"cilium_bpf_map_pressure{map_name=~"ct4_global|ct6_global|ct_any4_global|ct_any6_global|snat_v4_external|snat_v6_external","#,
            ""
        ),
    ),
    (
        "cilium_ct_insert_failed",
        Kind::Instant,
        concat!(
            "sum by (node) (",
            by_node!("rate(", r#"cilium_drop_count_total{reason="CT: Map insertion failed","#, "[5m])"),
            ")"
        ),
    ),
    // Nodes whose agent Prometheus scrapes at all: no insertion-failed counter there is none.
    (
        "cilium_agent_seen",
        Kind::Instant,
        concat!("group by (node) (", by_node!("", "cilium_drop_count_total{", ""), ")"),
    ),
    // How often each session's state changed in the last hour: its flaps.
    (
        "bgp_cilium_changes",
        Kind::Instant,
        by_node!("changes(", "cilium_bgp_control_plane_session_state{", "[1h])"),
    ),
    // bird_exporter's `state` label changes with the state (a new series): changes over the
    // session, its `state` aggregated away (`min`: a series that just ended may linger up to the
    // lookback without staleness markers, and must not hide the down one), at a 30 s resolution.
    (
        "bgp_bird_changes",
        Kind::Instant,
        by_node!("changes((min without (state) (", r#"bird_protocol_up{proto="BGP","#, "))[1h:30s])"),
    ),
    ("bgp_frr_changes", Kind::Instant, by_node!("changes(", "frr_bgp_peer_state{", "[1h])")),
    // Cores each node's offline pods use now (their batch tier's use).
    ("batch_used", Kind::Instant, "$node_offline"),
    (
        "node_offline",
        Kind::Fragment,
        r#"sum by (node) ((($pod_cpu) and on (namespace, pod) ($offline_pods)) * on (namespace, pod) group_left (node) topk by (namespace, pod) (1, max by (namespace, pod, node) (kube_pod_info{node!=""})))"#,
    ),
    // Core-hours of each offline workload (the pods' owner as kube-state-metrics names it) over
    // the `$range` before the evaluation time, at the curve's 5-minute step (the report ranks
    // them with `topk`).
    (
        "offline_workload_hours",
        Kind::Fragment,
        r#"sum by (namespace, created_by_kind, created_by_name) (sum_over_time((sum by (namespace, pod) (($pod_cpu) and on (namespace, pod) ($offline_pods)))[$range:5m]) * on (namespace, pod) group_left (created_by_kind, created_by_name) topk by (namespace, pod) (1, max by (namespace, pod, created_by_kind, created_by_name) (last_over_time(kube_pod_info[$range])))) * 300 / 3600"#,
    ),
    // Core-hours of each node's reclaimed capacity (Koordinator's batch-cpu allocatable) over the
    // `$range` before the evaluation time, and of what its offline pods left unused.
    (
        "node_reclaimed_hours",
        Kind::Fragment,
        "sum_over_time(($node_reclaimed / 1000)[$range:5m]) * 300 / 3600",
    ),
    (
        "node_reclaimed_unused_hours",
        Kind::Fragment,
        "sum_over_time(clamp_min($node_reclaimed / 1000 - on (node) ($node_offline or on (node) ($node_reclaimed * 0)), 0)[$range:5m]) * 300 / 3600",
    ),
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
    ("node_load", Kind::Fragment, NODE_BUSY),
    ("node_load_rules", Kind::Fragment, NODE_LOAD_RULES),
    ("node_units", Kind::Fragment, NODE_MEASURED),
    ("node_units_rules", Kind::Fragment, NODE_UNITS_RULES),
    ("key_rack", Kind::Fragment, KEY_RACK),
    ("key_rack_rules", Kind::Fragment, KEY_RACK_RULES),
    ("pod_cpu", Kind::Fragment, POD_CPU),
    ("pod_cpu_cgroups", Kind::Fragment, POD_CPU_CGROUPS),
    ("pod_cpu_rules", Kind::Fragment, POD_CPU_RULES),
    ("node_capacity", Kind::Fragment, NODE_CAPACITY),
    ("node_capacity_before", Kind::Fragment, NODE_CAPACITY_BEFORE),
    (
        "node_rack",
        Kind::Fragment,
        "group by (node, $rack_label) (last_over_time(kube_node_labels[$range] @ end()))",
    ),
    (
        "pod_rack",
        Kind::Fragment,
        r#"max by (namespace, pod, $rack_label) (topk by (namespace, pod) (1, max by (namespace, pod, node) (last_over_time(kube_pod_info{node!=""}[$range] @ end()))) * on (node) group_left ($rack_label) $node_rack)"#,
    ),
    ("offline_pods", Kind::Fragment, ""),
    (
        "node_reclaimed",
        Kind::Fragment,
        r#"max by (node) (avg_over_time(koordlet_node_resource_allocatable{resource="kubernetes.io/batch-cpu"}[5m]))"#,
    ),
];
