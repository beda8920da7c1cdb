//! Every bad setting, on the command line or in the config file, is one clear error naming the
//! flag or `file:line: key`, and exit status 2 (as the README promises), before any terminal
//! set-up or network request.

use std::net::TcpListener;
use std::process::{Command, Output};

use crate::support::TempDir;

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_clustertop"));
    c.args(args).env_remove("NO_COLOR").env_remove("CLUSTERTOP_PROMETHEUS").env("TZ", "UTC");
    c.env_remove("CLUSTERTOP_AGENTS").env_remove("KUBECONFIG").env("XDG_CONFIG_HOME", "/nonexistent");
    for (k, v) in env {
        c.env(k, v);
    }
    c.stdin(std::process::Stdio::null());
    c.output().expect("the binary runs")
}

fn check(what: &str, o: &Output, mentions: &[&str]) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{what}: exit status; stderr: {err}");
    for m in mentions {
        assert!(err.contains(m), "{what}: stderr does not name {m:?}:\n{err}");
    }
    assert!(!err.contains("panicked") && !err.contains('\x1b'), "{what}: {err:?}");
}

/// Each config key with a bad value: the error is `FILE:LINE: key: …`.
#[test]
fn every_bad_config_key_names_file_line_and_key() {
    let dir = TempDir::new("settings");
    let bad_theme = dir.0.join("bad-theme.toml");
    std::fs::write(&bad_theme, "name = 'x'\n[slots]\nbase = { fg = 'nope' }\n").expect("write");
    // (config text, the key, its line, what else the message must say)
    let cases: &[(&str, &str, usize, &str)] = &[
        ("theme = \"neon\"", "theme", 1, "default, light, high-contrast, colorblind, mono"),
        ("theme = \"bad-theme.toml\"", "theme", 1, "not a colour"),
        ("theme = \"missing.toml\"", "theme", 1, "cannot read theme file"),
        ("theme = 3", "theme", 1, ""),
        ("themes = \"mono\"", "themes", 1, "unknown key"),
        ("[prometheus]\nurl = \"ftp://p\"", "prometheus.url", 2, "http://"),
        ("[prometheus]\nurll = \"http://p\"", "prometheus.urll", 2, "valid keys"),
        ("[prometheus]\nnode_label = \"a.b\"", "prometheus.node_label", 2, "label name"),
        ("[prometheus]\nrack_label = \"\"", "prometheus.rack_label", 2, "label name"),
        ("[prometheus]\ntimeout_s = 0", "prometheus.timeout_s", 2, "more than 0"),
        ("[prometheus]\nrefresh_s = 99999.0", "prometheus.refresh_s", 2, "at most"),
        ("[prometheus]\nusername = \"u\"", "prometheus.username", 2, "needs password"),
        ("[prometheus]\npassword = \"p\"", "prometheus.password", 2, "needs username"),
        (
            "[prometheus]\nusername = \"u\"\npassword = \"p\"\npassword_file = \"f\"",
            "prometheus.password_file",
            4,
            "",
        ),
        (
            "[prometheus]\nbearer_token = \"t\"\nbearer_token_file = \"f\"",
            "prometheus.bearer_token_file",
            3,
            "",
        ),
        (
            "[prometheus]\nusername = \"u\"\npassword = \"p\"\nbearer_token = \"t\"",
            "prometheus.bearer_token",
            4,
            "",
        ),
        ("[offline]\npriority_classes = [\"\"]", "offline.priority_classes", 2, "empty"),
        ("[offline]\nqos_classes = [\"BE\", \" \"]", "offline.qos_classes", 2, "empty"),
        ("[colocation]\nwindows = [\"25:00-01:00\"]", "colocation.windows", 2, "HH:MM"),
        ("[colocation]\nwindows = [\"01:00-06:00\", \"05:00-07:00\"]", "colocation.windows", 2, "overlap"),
        ("[colocation]\ntz = \"Mars/Base\"", "colocation.tz", 2, "IANA"),
        ("[conntrack]\nkeepalive_idle_s = 0", "conntrack.keepalive_idle_s", 2, "more than 0"),
        ("[conntrack]\nkeepalive_idle_s = \"900\"", "conntrack.keepalive_idle_s", 2, ""),
        ("[queries]\ncpu_usd = \"x\"", "queries.cpu_usd", 2, "no such query"),
        ("[queries]\ncpu_used = \" \"", "queries.cpu_used", 2, "empty"),
    ];
    for (i, (text, key, line, also)) in cases.iter().enumerate() {
        let file = dir.0.join(format!("c{i}.toml"));
        std::fs::write(&file, format!("{text}\n")).expect("write");
        let o = run(&["snapshot", "--demo", "--nodes", "2", "--config", file.to_str().expect("utf-8")], &[]);
        let at = format!("{}:{line}: {key}", file.display());
        check(text, &o, &[&at, also]);
    }
    // A secret file is read only when Prometheus is used: still FILE:LINE: key.
    let file = dir.0.join("secret.toml");
    let text = "[prometheus]\nurl = \"http://127.0.0.1:9\"\nbearer_token_file = \"gone\"\n";
    std::fs::write(&file, text).expect("write");
    let o = run(&["report", "capacity", "--config", file.to_str().expect("utf-8")], &[]);
    check("bearer_token_file", &o, &[&format!("{}:3: prometheus.bearer_token_file: ", file.display())]);
}

/// Each flag with a bad value, in each command that has it: the error names the flag.
#[test]
fn every_bad_flag_is_named_with_exit_status_2() {
    let dir = TempDir::new("flags");
    let bad_theme = dir.0.join("bad.toml");
    std::fs::write(&bad_theme, "name = 'x'\n[slots]\nbase = { fg = 'nope' }\n").expect("write");
    let kubeconfig = dir.0.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'http://127.0.0.1:9'}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n",
    )
    .expect("write");
    let kc = kubeconfig.to_str().expect("utf-8");
    let theme = bad_theme.to_str().expect("utf-8");
    let busy = TcpListener::bind("127.0.0.1:0").expect("bind");
    let busy_addr = busy.local_addr().expect("addr").to_string();
    let nowhere = "/nonexistent/dir/file";
    // (arguments, what the error must name)
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec!["--theme", "neon"], vec!["--theme", "unknown theme \"neon\"", "default, light, high-contrast"]),
        (vec!["demo", "--theme", "neon"], vec!["--theme", "colorblind, mono"]),
        (vec!["demo", "--theme", theme], vec!["--theme", "not a colour"]),
        (vec!["demo", "--theme", "/nonexistent/x.toml"], vec!["--theme", "cannot read"]),
        (vec!["demo", "--refresh", "0"], vec!["--refresh"]),
        (vec!["demo", "--window", "25:00-06:00"], vec!["--window", "HH:MM"]),
        (vec!["demo", "--window", "01:00-06:00", "--window", "05:00-07:00"], vec!["--window", "overlap"]),
        (vec!["--window", "22:00-02:00", "--window", "01:00-03:00"], vec!["--window", "01:00-02:00"]),
        (
            vec!["snapshot", "--demo", "--window", "01:00-06:00", "--window", "01:00-06:00"],
            vec!["--window", "twice"],
        ),
        (vec!["report", "capacity", "--window", "01:00-06:00", "--window", "02:00-03:00"], vec!["--window"]),
        (vec!["demo", "--tz", "Mars/Olympus"], vec!["--tz", "time zone"]),
        (vec!["demo", "--keepalive-idle", "0"], vec!["--keepalive-idle"]),
        (vec!["--keepalive-idle", "x"], vec!["--keepalive-idle"]),
        (vec!["--prometheus", "prometheus:9090"], vec!["--prometheus", "http://"]),
        (vec!["report", "capacity", "--prometheus", "ftp://p"], vec!["--prometheus"]),
        (vec!["report", "capacity"], vec!["--prometheus"]),
        (vec!["--agents", "10.0.0.5:9977"], vec!["--agents", "auto"]),
        (
            vec!["--agents", "auto", "--agent-token-file", nowhere, "--kubeconfig", kc],
            vec!["--agent-token-file"],
        ),
        (vec!["--config", nowhere], vec!["--config", nowhere]),
        (vec!["--kubeconfig", nowhere], vec![nowhere, "clustertop demo"]),
        (
            vec!["--kubeconfig", kc, "--context", "nosuch"],
            vec!["context \"nosuch\" not found", "its contexts: x"],
        ),
        (vec!["--rack-label", ""], vec!["--rack-label"]),
        (vec!["snapshot", "--rack-label", "a b"], vec!["--rack-label"]),
        (vec!["demo", "--nodes", "0"], vec!["--nodes"]),
        (vec!["demo", "--seed", "x"], vec!["--seed"]),
        (vec!["demo", "--scenario", "nope"], vec!["--scenario", "migration"]),
        (vec!["demo", "--prometheus", "http://p:9090"], vec!["--prometheus", "simulated"]),
        (vec!["demo", "--agents", "auto"], vec!["--agents", "simulated"]),
        (vec!["demo", "--context", "x"], vec!["--context"]),
        (vec!["--theme", "mono", "demo"], vec!["demo"]),
        (vec!["snapshot", "--wait", "0"], vec!["--wait"]),
        (vec!["snapshot", "--format", "yaml"], vec!["--format", "json"]),
        (vec!["snapshot", "--nodes", "3"], vec!["--nodes", "--demo"]),
        (vec!["snapshot", "--demo", "--kubeconfig", kc], vec!["--kubeconfig", "--demo"]),
        (vec!["snapshot", "--theme", "mono"], vec!["--theme"]),
        (vec!["snapshot", "--prometheus", "http://127.0.0.1:1"], vec!["--prometheus", "--at"]),
        (vec!["snapshot", "--demo", "--at", "-20m"], vec!["--at", "--demo"]),
        (vec!["snapshot", "--at", "-20m"], vec!["--at", "Prometheus URL"]),
        (
            vec!["snapshot", "--prometheus", "http://127.0.0.1:1", "--at", "yesterday"],
            vec!["--at", "yesterday"],
        ),
        (
            vec!["snapshot", "--prometheus", "http://127.0.0.1:1", "--at", "2999-01-01T00:00:00Z"],
            vec!["--at", "future"],
        ),
        (vec!["report", "capacity", "--end", "yesterday"], vec!["--end", "RFC3339"]),
        (vec!["report", "capacity", "--format", "pdf"], vec!["--format", "markdown"]),
        (vec!["report", "capacity", "--top", "0"], vec!["--top"]),
        (vec!["report", "capacity", "--theme", "mono"], vec!["--theme"]),
        (vec!["sim", "openmetrics", "--hours", "0"], vec!["--hours"]),
        (vec!["sim", "openmetrics", "--end", "2999-01-01T00:00:00Z"], vec!["--end", "future"]),
        (vec!["sim", "openmetrics", "--step", "5"], vec!["--step"]),
        (vec!["sim", "openmetrics", "--cpus", "0"], vec!["--cpus"]),
        (
            vec!["sim", "openmetrics", "--hours", "1", "--nodes", "1", "--out", nowhere],
            vec!["--out", nowhere],
        ),
        (vec!["sim", "serve", "--listen", &busy_addr], vec!["--listen", &busy_addr]),
        (vec!["sim", "serve", "--listen", "nowhere"], vec!["--listen"]),
        (vec!["sim", "serve", "--forbid", "podz"], vec!["--forbid", "pods"]),
        (vec!["sim", "serve", "--churn=-1"], vec!["--churn"]),
        (vec!["sim", "serve", "--fault", "fast"], vec!["--fault"]),
        (vec!["sim", "serve", "--pods", "x"], vec!["--pods"]),
        (vec!["sim", "serve", "--listen", "127.0.0.1:0", "--objects", nowhere], vec!["--objects", nowhere]),
        (
            vec!["sim", "serve", "--listen", "127.0.0.1:0", "--nodes", "2", "--kubeconfig-out", nowhere],
            vec!["--kubeconfig-out", nowhere],
        ),
        (vec!["agent", "--once", "--token-file", nowhere], vec!["--token-file", nowhere]),
        (vec!["agent", "--listen", &busy_addr], vec!["--listen", &busy_addr]),
        (vec!["agent", "--theme", "mono"], vec!["--theme"]),
        (vec!["agent", "--window", "01:00-06:00"], vec!["--window"]),
    ];
    for (args, mentions) in &cases {
        let o = run(args, &[]);
        check(&args.join(" "), &o, mentions);
    }
    // From the environment, named by the flag it stands for.
    let o = run(&["--kubeconfig", kc], &[("CLUSTERTOP_PROMETHEUS", "prometheus:9090")]);
    check("CLUSTERTOP_PROMETHEUS", &o, &["--prometheus"]);
    let o = run(&["--kubeconfig", kc], &[("CLUSTERTOP_AGENTS", "x")]);
    check("CLUSTERTOP_AGENTS", &o, &["--agents"]);
    // The demo does not read them at all.
    let o = run(&["snapshot", "--demo", "--nodes", "2"], &[("CLUSTERTOP_PROMETHEUS", "x")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    drop(busy);
}
