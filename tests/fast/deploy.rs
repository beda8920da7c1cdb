//! `deploy/agent.yaml` and `deploy/rbac.yaml`: parse (PyYAML, as kubectl needs a server for even
//! a client dry run), match the Kubernetes API types field for field (a schema check), and hold
//! what safety depends on (a read-only agent; get/list/watch only, no secrets). When a cluster is
//! reachable, `kubectl apply --dry-run=client` is run too.

#![allow(clippy::unwrap_used)]

use std::process::Command;

use serde_json::Value;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/agent.yaml");
const RBAC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/rbac.yaml");

/// The agent's documents as JSON.
fn docs() -> Option<Vec<Value>> {
    docs_of(PATH)
}

/// The documents of `path` as JSON, through python3 + PyYAML; None (skip) when they are missing,
/// unless CI=true.
fn docs_of(path: &str) -> Option<Vec<Value>> {
    let script = "import json,sys,yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))";
    let out = Command::new("python3").args(["-c", script, path]).output();
    match out {
        Ok(o) if o.status.success() => Some(serde_json::from_slice(&o.stdout).unwrap()),
        Ok(o) if String::from_utf8_lossy(&o.stderr).contains("No module named 'yaml'") => skip("PyYAML"),
        Ok(o) => panic!("{path} does not parse: {}", String::from_utf8_lossy(&o.stderr)),
        Err(_) => skip("python3"),
    }
}

fn skip(what: &str) -> Option<Vec<Value>> {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true and {what} is missing");
    }
    eprintln!("SKIPPED: {what} not installed");
    None
}

#[test]
fn agent_daemonset_is_read_only_and_runs_everywhere() {
    let Some(docs) = docs() else { return };
    let kind = |k: &str| docs.iter().find(|d| d["kind"] == k).unwrap_or_else(|| panic!("no {k}"));
    let sa = kind("ServiceAccount");
    assert_eq!(sa["automountServiceAccountToken"], false);
    assert!(!docs.iter().any(|d| d["kind"].as_str().unwrap_or("").contains("Role")), "no RBAC");
    let ds = kind("DaemonSet");
    assert_eq!(ds["metadata"]["namespace"], "clustertop");
    let pod = &ds["spec"]["template"];
    assert_eq!(pod["metadata"]["labels"]["app.kubernetes.io/name"], "clustertop-agent");
    assert_eq!(ds["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"], "clustertop-agent");
    let spec = &pod["spec"];
    assert_eq!(spec["hostNetwork"], true);
    assert_eq!(spec["automountServiceAccountToken"], false);
    assert_eq!(spec["serviceAccountName"], sa["metadata"]["name"]);
    assert_eq!(spec["tolerations"], serde_json::json!([{"operator": "Exists"}]));
    assert_eq!(spec["securityContext"]["runAsNonRoot"], true);
    assert_eq!(spec["securityContext"]["runAsUser"], 65534);
    let c = &spec["containers"][0];
    let sc = &c["securityContext"];
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]));
    assert_eq!(c["resources"]["requests"], serde_json::json!({"cpu": "10m", "memory": "16Mi"}));
    assert_eq!(c["resources"]["limits"], serde_json::json!({"cpu": "100m", "memory": "64Mi"}));
    for probe in ["readinessProbe", "livenessProbe"] {
        assert_eq!(c[probe]["httpGet"], serde_json::json!({"path": "/healthz", "port": 9977}), "{probe}");
    }
    let env = c["env"].as_array().unwrap();
    assert!(
        env.iter()
            .any(|e| e["name"] == "NODE_NAME" && e["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName")
    );
    let args: Vec<&str> = c["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    // The image's entrypoint is the lean agent: its own command line must take these arguments.
    assert_eq!(c["image"], "ghcr.io/clustertop/clustertop-agent:0.1.0");
    #[derive(clap::Parser)]
    struct Agent {
        #[command(flatten)]
        flags: clustertop::agent::cli::AgentFlags,
    }
    let parsed = <Agent as clap::Parser>::try_parse_from(
        std::iter::once("clustertop-agent").chain(args.iter().copied()),
    )
    .unwrap_or_else(|e| panic!("the agent does not take the DaemonSet's arguments: {e}"));
    assert_eq!(parsed.flags.proc_root, std::path::Path::new("/host/proc"));
    assert!(!parsed.flags.once, "the DaemonSet serves");
    for a in ["--proc=/host/proc", "--sys=/host/sys"] {
        assert!(args.contains(&a), "{a} in {args:?}");
    }
    let mounts = c["volumeMounts"].as_array().unwrap();
    assert!(mounts.iter().all(|m| m["readOnly"] == true), "every mount read-only");
    let vols = spec["volumes"].as_array().unwrap();
    let want = ["/proc", "/sys", "/etc/cni/net.d", "/var/run/calico", "/var/run/cilium"];
    for p in want {
        let v = vols.iter().find(|v| v["hostPath"]["path"] == p).unwrap_or_else(|| panic!("no {p}"));
        let t = v["hostPath"]["type"].as_str().unwrap_or("");
        assert!(t.is_empty() || t == "Directory", "{p}: type {t:?} may create on the host");
        assert!(mounts.iter().any(|m| m["name"] == v["name"]), "{p} mounted");
    }
    for m in mounts {
        // Each mounted path appears in the args (or is /host/proc, /host/sys).
        let mp = m["mountPath"].as_str().unwrap();
        assert!(args.iter().any(|a| a.contains(mp)), "{mp} not used by any argument");
    }
}

/// With a reachable cluster (a kubeconfig), kubectl's client-side dry run must accept it too.
#[test]
fn kubectl_client_dry_run_when_a_cluster_is_reachable() {
    let Ok(o) = Command::new("kubectl").args(["apply", "--dry-run=client", "-f", PATH]).output() else {
        eprintln!("SKIPPED: no kubectl");
        return;
    };
    let err = String::from_utf8_lossy(&o.stderr);
    if !o.status.success() && (err.contains("connection refused") || err.contains("no such host")) {
        eprintln!("SKIPPED: kubectl dry run needs a reachable API server for discovery");
        return;
    }
    assert!(o.status.success(), "kubectl rejected deploy/agent.yaml: {err}");
}

/// The dashboard's ClusterRole reads and never writes: only get, list and watch, on named
/// resources (no wildcards), and never secrets or configmaps.
#[test]
fn dashboard_rbac_grants_no_write_verbs_and_no_secrets() {
    let Some(docs) = docs_of(RBAC) else { return };
    let roles: Vec<&Value> =
        docs.iter().filter(|d| d["kind"] == "ClusterRole" || d["kind"] == "Role").collect();
    assert!(!roles.is_empty(), "no role in deploy/rbac.yaml");
    let mut resources = Vec::new();
    for role in roles {
        for rule in role["rules"].as_array().unwrap() {
            assert!(rule.get("nonResourceURLs").is_none(), "{rule}");
            for verb in rule["verbs"].as_array().unwrap() {
                assert!(["get", "list", "watch"].contains(&verb.as_str().unwrap()), "write verb: {rule}");
            }
            for r in rule["resources"].as_array().unwrap() {
                let r = r.as_str().unwrap();
                assert!(!r.contains('*') && r != "secrets" && r != "configmaps", "{rule}");
                resources.push(r.to_string());
            }
            assert!(rule["apiGroups"].as_array().unwrap().iter().all(|g| g != "*"), "{rule}");
        }
    }
    for needed in ["nodes", "pods", "runtimeclasses"] {
        assert!(resources.iter().any(|r| r == needed), "{needed} missing from {resources:?}");
    }
    // Every kind the source watches, in every group it may be served from.
    let grants = |group: &str, plural: &str| {
        docs.iter().filter(|d| d["kind"] == "ClusterRole").flat_map(|d| d["rules"].as_array().unwrap()).any(
            |r| {
                r["apiGroups"].as_array().unwrap().iter().any(|g| g == group)
                    && r["resources"].as_array().unwrap().iter().any(|x| x == plural)
            },
        )
    };
    for crd in clustertop::sources::kube::watch::CRDS {
        for (group, _) in crd.versions {
            assert!(grants(group, crd.plural), "{}.{group} is watched but not granted", crd.plural);
        }
    }
    let binding = docs.iter().find(|d| d["kind"] == "ClusterRoleBinding").unwrap();
    assert_eq!(binding["roleRef"]["name"], "clustertop-readonly");
}

/// A schema check without a cluster: every document is read into the Kubernetes API type of its
/// kind (k8s-openapi, the same types the API server's OpenAPI describes) and written back; the
/// result must equal the document, so a misspelt field (dropped by the type) or a wrong type
/// (a string where a number goes) fails.
#[test]
fn every_manifest_matches_the_kubernetes_api_types() {
    use k8s_openapi::api::apps::v1::DaemonSet;
    use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
    fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(doc: &Value) -> Result<Value, String> {
        let typed: T = serde_json::from_value(doc.clone()).map_err(|e| e.to_string())?;
        serde_json::to_value(typed).map_err(|e| e.to_string())
    }
    for path in [PATH, RBAC] {
        let Some(docs) = docs_of(path) else { return };
        for doc in docs.iter().filter(|d| !d.is_null()) {
            let kind = doc["kind"].as_str().unwrap_or_default();
            let back = match kind {
                "Namespace" => round_trip::<Namespace>(doc),
                "ServiceAccount" => round_trip::<ServiceAccount>(doc),
                "DaemonSet" => round_trip::<DaemonSet>(doc),
                "ClusterRole" => round_trip::<ClusterRole>(doc),
                "ClusterRoleBinding" => round_trip::<ClusterRoleBinding>(doc),
                other => panic!("{path}: no schema check for kind {other:?}; add it here"),
            };
            let back = back.unwrap_or_else(|e| panic!("{path}: {kind} does not match the API type: {e}"));
            assert_eq!(&back, doc, "{path}: {kind} has fields the API type does not know (or wrong types)");
        }
    }
}

/// The Containerfile builds what the DaemonSet runs: the agent crate's binary, as the DaemonSet's
/// user, on the agent's port, with the entrypoint the DaemonSet's arguments follow.
#[test]
fn containerfile_matches_the_agent_binary_and_the_daemonset() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Containerfile")).unwrap();
    let cargo =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/crates/agent/Cargo.toml")).unwrap();
    assert!(cargo.contains("name = \"clustertop-agent\"\npath = \"src/main.rs\""), "the agent's binary");
    assert!(text.contains("cargo build --release --locked -p clustertop-agent"), "builds the lean binary");
    assert!(text.contains("strip -o /clustertop-agent target/release/clustertop-agent"));
    assert!(text.contains("COPY --from=build /clustertop-agent /usr/local/bin/clustertop-agent"));
    assert!(text.contains("ENTRYPOINT [\"/usr/local/bin/clustertop-agent\"]"));
    assert!(text.contains("EXPOSE 9977"));
    // A multi-stage build whose runtime is a distroless non-root base, run as the DaemonSet's user.
    assert!(text.matches("FROM ").count() >= 2, "multi-stage");
    assert!(text.contains("ARG RUNTIME=gcr.io/distroless/cc-debian12:nonroot"));
    let Some(docs) = docs_of(PATH) else { return };
    let ds = docs.iter().find(|d| d["kind"] == "DaemonSet").unwrap();
    let sc = &ds["spec"]["template"]["spec"]["securityContext"];
    let user = format!("USER {}:{}", sc["runAsUser"], sc["runAsGroup"]);
    assert!(text.contains(&user), "the image runs as the DaemonSet's user ({user})");
}

/// The PodMonitor scrapes the DaemonSet's pods on its named port at the agent's metrics path,
/// and names each series' node; the pods' scrape annotations say the same.
#[test]
fn agents_are_scraped_with_their_node() {
    let (Some(agent), Some(mon)) =
        (docs(), docs_of(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/agent-podmonitor.yaml")))
    else {
        return;
    };
    let ds = agent.iter().find(|d| d["kind"] == "DaemonSet").unwrap();
    let pm = mon.iter().find(|d| d["kind"] == "PodMonitor").unwrap();
    assert_eq!(pm["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(pm["metadata"]["namespace"], ds["metadata"]["namespace"]);
    let pod = &ds["spec"]["template"];
    for (k, v) in pm["spec"]["selector"]["matchLabels"].as_object().unwrap() {
        assert_eq!(&pod["metadata"]["labels"][k], v, "the PodMonitor selects the agent pods by {k}");
    }
    let ep = &pm["spec"]["podMetricsEndpoints"][0];
    let port =
        pod["spec"]["containers"][0]["ports"].as_array().unwrap().iter().find(|p| p["name"] == ep["port"]);
    let port = port.expect("the endpoint's port is a named port of the agent");
    assert_eq!(ep["path"], "/metrics");
    let relabel = &ep["relabelings"][0];
    assert_eq!(relabel["sourceLabels"], serde_json::json!(["__meta_kubernetes_pod_node_name"]));
    assert_eq!(relabel["targetLabel"], "node");
    let ann = &pod["metadata"]["annotations"];
    assert_eq!(ann["prometheus.io/scrape"], "true");
    assert_eq!(ann["prometheus.io/port"], port["containerPort"].to_string());
    assert_eq!(ann["prometheus.io/path"], "/metrics");
}
