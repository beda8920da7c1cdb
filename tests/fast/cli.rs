//! The command line as scripts use it: exit codes, clear errors, the stable snapshot JSON.

use std::process::{Command, Output};

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_clustertop"));
    c.args(args).env_remove("NO_COLOR").env("TZ", "UTC");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn snapshot_json_has_the_documented_shape() {
    let o = run(&["snapshot", "--demo", "--format", "json", "--nodes", "12", "--seed", "7"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert_eq!(v["schema"], "clustertop.snapshot/v2");
    for key in [
        "now",
        "cluster",
        "tz",
        "keepalive_idle_s",
        "sources",
        "summary",
        "nodes",
        "runtime_classes",
        "windows",
        "fills",
        "findings",
    ] {
        assert!(v.get(key).is_some(), "missing top-level {key}");
    }
    assert_eq!(v["summary"]["nodes"], 12);
    let node = &v["nodes"][0];
    for key in [
        "name",
        "rack",
        "tors",
        "ready",
        "labels",
        "signals",
        "net",
        "bgp",
        "bgp_verdict",
        "runtime",
        "pods",
        "host",
        "seen",
    ] {
        assert!(node.get(key).is_some(), "missing node.{key}");
    }
    assert!(node["net"]["evidence"].is_array());
    let f = &v["findings"][0];
    for key in ["rule", "severity", "subject", "since", "what", "evidence", "remedy"] {
        assert!(f.get(key).is_some(), "missing finding.{key}");
    }
    assert!(f["rule"].as_str().unwrap().contains('-'), "rules serialize as their kebab-case ids");
    assert_eq!(v["windows"][0], "01:00-06:00");
}

#[test]
fn snapshot_text_lists_nodes_and_findings() {
    let o = run(&["snapshot", "--demo"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("NODE") && out.contains("FINDINGS") && out.contains("cilium-map-pressure"), "{out}");
}

#[test]
fn bad_input_gets_a_clear_error_and_exit_code() {
    // A missing kubeconfig, a broken one, an unknown context: one line, a hint, exit 2.
    let dir = std::env::temp_dir().join(format!("clustertop-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let broken = dir.join("broken.yaml");
    std::fs::write(&broken, "apiVersion: v1\nclusters: [this is: not, a kubeconfig\n").unwrap();
    let good = dir.join("good.yaml");
    std::fs::write(&good, "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'http://127.0.0.1:9'}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n").unwrap();
    for (args, mention) in [
        (vec!["--kubeconfig", "/nonexistent/kubeconfig"], "/nonexistent/kubeconfig"),
        (vec!["--kubeconfig", broken.to_str().unwrap()], "broken.yaml"),
        (vec!["--kubeconfig", good.to_str().unwrap(), "--context", "nosuch"], "nosuch"),
        (vec!["snapshot", "--kubeconfig", "/nonexistent/kubeconfig"], "/nonexistent/kubeconfig"),
    ] {
        let o = run(&args, &[]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(e.contains(mention) && e.contains("clustertop demo"), "{args:?}: {e}");
        assert_eq!(e.trim().lines().count(), 1, "one line: {e}");
    }
    std::fs::remove_dir_all(&dir).ok();
    // Unknown scenario, window, time zone: clap errors naming the problem, exit 2.
    let o = run(&["demo", "--scenario", "nope"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("migration"), "lists valid scenarios: {}", stderr(&o));
    let o = run(&["snapshot", "--demo", "--window", "25:00-06:00"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("HH:MM"), "{}", stderr(&o));
    let o = run(&["snapshot", "--demo", "--tz", "Mars/Olympus"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("time zone"), "{}", stderr(&o));
    // A bad theme file: the flag, the file and the problem, exit 2, no terminal set-up.
    let dir = std::env::temp_dir().join(format!("clustertop-theme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "name = 'bad'\n[slots]\nbase = { fg = 'chartreuse-ish' }\n").unwrap();
    let o = run(&["demo", "--theme", bad.to_str().unwrap()], &[]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("--theme") && e.contains("bad.toml") && e.contains("not a colour"), "{e}");
    assert!(!e.contains('\x1b'), "no terminal escape codes on the error path: {e:?}");
}

#[test]
fn snapshot_demo_is_deterministic_apart_from_the_clock() {
    let a = run(&["snapshot", "--demo", "--seed", "3"], &[]);
    let b = run(&["snapshot", "--demo", "--seed", "3"], &[]);
    let strip = |o: &Output| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .skip(1)
            .filter(|l| !l.starts_with("cpu"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    // The curve and host facts follow the wall clock; topology, modes and BGP do not.
    let modes = |s: String| {
        s.lines().filter(|l| l.starts_with("network") || l.starts_with("bgp")).collect::<Vec<_>>().join("\n")
    };
    assert_eq!(modes(strip(&a)), modes(strip(&b)));
}

/// A kube API server that refuses the connection (a closed port on loopback): the error says so
/// and names the server, not "ServiceError: client error (Connect)".
#[test]
fn a_refused_connection_names_the_server() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let dir = std::env::temp_dir().join(format!("clustertop-refused-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let kc = dir.join("kubeconfig");
    std::fs::write(
        &kc,
        format!(
            "apiVersion: v1\nkind: Config\nclusters: [{{name: c, cluster: {{server: 'https://127.0.0.1:{port}'}}}}]\n\
             users: [{{name: u, user: {{token: t}}}}]\ncontexts: [{{name: x, context: {{cluster: c, user: u}}}}]\n\
             current-context: x\n"
        ),
    )
    .expect("write");
    let o = run(&["snapshot", "--kubeconfig", kc.to_str().expect("utf-8"), "--wait", "2"], &[]);
    std::fs::remove_dir_all(&dir).ok();
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains(&format!("connection refused to https://127.0.0.1:{port}")), "{e}");
    assert!(!e.contains("ServiceError"), "{e}");
}

/// The recording commands' errors: one line, exit 2 for what the user asked that the file or the
/// flags do not hold, exit 1 for a target that cannot be written.
#[test]
fn recording_commands_fail_clearly() {
    let dir = std::env::temp_dir().join(format!("ct-fast-rec-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let missing = dir.join("missing.db");
    let o = run(&["snapshot", "--from", missing.to_str().unwrap_or_default(), "--at", "-5m"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no such recording"), "{}", stderr(&o));
    let o = run(&["snapshot", "--from", missing.to_str().unwrap_or_default(), "--at", "yesterday"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("\"yesterday\" is not a moment"), "{}", stderr(&o));
    let o = run(&["snapshot", "--at", "-5m"], &[]);
    assert_eq!(o.status.code(), Some(2), "--at needs --from: {}", stderr(&o));
    let o = run(&["record", "--demo", "--out", "/dev/null/x.db", "--for", "1s"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("Not a directory"), "{}", stderr(&o));
    let o = run(
        &["record", "--demo", "--out", dir.join("r.db").to_str().unwrap_or_default(), "--for", "0s"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // A short recording, then a moment after it: the error names the range recorded.
    let file = dir.join("short.db");
    let f = file.to_str().unwrap_or_default();
    let o = run(&["record", "--demo", "--nodes", "6", "--out", f, "--for", "1s"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["snapshot", "--from", f, "--at", "2099-01-01T00:00:00Z"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not in the recording; recorded: "), "{}", stderr(&o));
    let o = run(&["report", "incident", "--from", f, "--since", "2099-01-01T00:00:00Z"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is not in the recording; recorded: "), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
