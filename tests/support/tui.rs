//! The built dashboard in a real terminal (tmux) against `sim serve` on loopback. Everything
//! started is stopped on drop: the server by PID, the tmux session by name (which ends the
//! dashboard), and the scratch directory. With `CI=true`, a missing tmux fails.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_clustertop");
pub const DEADLINE: Duration = Duration::from_secs(30);

pub fn have_tmux() -> bool {
    let ok = Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success());
    if !ok && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("tmux is required for the end-to-end tests in CI (scripts/setup installs it)");
    }
    ok
}

pub fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux").args(args).output().expect("tmux runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Poll `probe` until it returns `Some`, or panic with `what` and the last `context()`.
pub fn poll<T>(what: &str, mut probe: impl FnMut() -> Option<T>, context: impl Fn() -> String) -> T {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}:\n{}", context());
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub struct Harness {
    server: Child,
    pub session: String,
    pub dir: PathBuf,
    /// The dashboard's `CLUSTERTOP_LOG`.
    pub log: PathBuf,
    /// `sim serve`'s base URL.
    pub api: String,
}

impl Harness {
    /// `sim serve --static --nodes 48` and the dashboard against it in tmux at 200x50, with
    /// `env` added to the dashboard's environment; returns once the server listens.
    pub fn start(tag: &str, env: &[String]) -> Harness {
        Harness::start_then(tag, env, "")
    }

    /// The same, running the shell commands `then` in the pane after the dashboard exits (and
    /// after it prints `EXIT=<code>`).
    pub fn start_then(tag: &str, env: &[String], then: &str) -> Harness {
        Harness::start_full(tag, &[], env, then)
    }

    /// The same with more `sim serve` arguments (`--scenario hostile`).
    pub fn start_full(tag: &str, serve: &[&str], env: &[String], then: &str) -> Harness {
        Harness::start_shell(tag, serve, env, "", then)
    }

    /// The same, the dashboard started by `sh -c '<before> clustertop …'` (`ulimit -f 100;`).
    /// Its recordings go to `<dir>/state` (`XDG_STATE_HOME`) unless `env` says otherwise.
    pub fn start_shell(tag: &str, serve: &[&str], env: &[String], before: &str, then: &str) -> Harness {
        let dir = std::env::temp_dir().join(format!("clustertop-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        let (kubeconfig, serve_log, log) =
            (dir.join("kubeconfig"), dir.join("serve.log"), dir.join("ui.log"));
        let server = Command::new(BIN)
            .args([
                "sim",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--static",
                "--nodes",
                "48",
                "--kubeconfig-out",
            ])
            .arg(&kubeconfig)
            .args(serve)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&serve_log).expect("serve log"))
            .spawn()
            .expect("sim serve starts");
        let session = format!("ct-{tag}-{}", std::process::id());
        let mut h = Harness { server, session: session.clone(), dir, log: log.clone(), api: String::new() };
        let line = poll(
            "sim serve to listen",
            || read(&serve_log).lines().find(|l| l.contains("Kubernetes API on")).map(str::to_string),
            || read(&serve_log),
        );
        h.api = line.split_whitespace().find(|w| w.starts_with("http://")).unwrap_or_default().to_string();
        let cmd = format!(
            "sh -c '{before} {BIN} --kubeconfig {}; echo EXIT=$?; {then} sleep 60'",
            kubeconfig.display()
        );
        let mut args: Vec<String> = ["new-session", "-d", "-s", &session, "-x", "200", "-y", "50"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend([
            "-e".into(),
            "TERM=xterm-256color".into(),
            "-e".into(),
            format!("CLUSTERTOP_LOG={}", log.display()),
            "-e".into(),
            format!("XDG_STATE_HOME={}", h.dir.join("state").display()),
        ]);
        for e in env {
            args.extend(["-e".into(), e.clone()]);
        }
        args.push(cmd);
        tmux(&args.iter().map(String::as_str).collect::<Vec<_>>());
        h
    }

    /// The dashboard's PID: the pane's shell's child.
    pub fn dashboard_pid(&self) -> Option<String> {
        let shell = tmux(&["display", "-p", "-t", &self.session, "#{pane_pid}"]);
        let out = Command::new("pgrep").args(["-P", shell.trim()]).output().ok()?;
        String::from_utf8_lossy(&out.stdout).lines().next().map(str::to_string)
    }

    pub fn screen(&self) -> String {
        tmux(&["capture-pane", "-p", "-t", &self.session])
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.session];
        args.extend(keys);
        tmux(&args);
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["kill-session", "-t", &self.session]).output();
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
