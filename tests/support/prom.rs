//! A real Prometheus (the Debian package) on loopback, backfilled with promtool from an
//! OpenMetrics file, in its own temp dir. Dropping it kills the process and removes the dir.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{http_get, unique_dir, url_encode};

const READY_WITHIN: Duration = Duration::from_secs(30);

pub struct Prom {
    pub url: String,
    pub port: u16,
    pub dir: PathBuf,
    /// How long promtool took.
    pub backfill: Duration,
    child: Option<Child>,
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

impl Prom {
    /// Backfill `om_file` into a fresh data dir and start Prometheus on it (a free port; up to
    /// three tries if it does not come up).
    pub fn backfill_and_start(om_file: &Path) -> Prom {
        let dir = unique_dir("prom");
        let data = dir.join("data");
        let t = Instant::now();
        let o = Command::new("promtool")
            .args(["tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=24h", "-q"])
            .arg(om_file)
            .arg(&data)
            .output()
            .expect("run promtool");
        let backfill = t.elapsed();
        assert!(
            o.status.success(),
            "promtool failed ({}): {}{}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        std::fs::write(dir.join("prometheus.yml"), "global:\n  scrape_interval: 15s\nscrape_configs: []\n")
            .expect("write prometheus.yml");
        Prom::start_in(dir, backfill)
    }

    /// Start on `dir`'s prometheus.yml and data dir (a free port; up to three tries if it does
    /// not come up).
    fn start_in(dir: PathBuf, backfill: Duration) -> Prom {
        let mut p = Prom { url: String::new(), port: 0, dir, backfill, child: None };
        for attempt in 1..=3 {
            p.port = free_port();
            p.url = format!("http://127.0.0.1:{}", p.port);
            if p.spawn() {
                return p;
            }
            eprintln!("prometheus did not come up on port {} (attempt {attempt})", p.port);
            p.stop();
        }
        panic!("prometheus did not start; log:\n{}", p.log());
    }

    /// A fresh Prometheus scraping `targets` (`host:port`, `/metrics`) every second as job
    /// `clustertop-agent`, with no relabelling (the reader names nodes by the agents' own
    /// `clustertop_agent_info`, not by a target label).
    pub fn scraping(targets: &[String]) -> Prom {
        let dir = unique_dir("prom-scrape");
        std::fs::create_dir_all(dir.join("data")).expect("data dir");
        let list: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        let cfg = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: clustertop-agent\n    static_configs:\n      - targets: [{}]\n",
            list.join(", ")
        );
        std::fs::write(dir.join("prometheus.yml"), cfg).expect("write prometheus.yml");
        Prom::start_in(dir, Duration::ZERO)
    }

    /// Start (again) on the current port and data dir; true once `/-/ready` answers 200.
    fn spawn(&mut self) -> bool {
        let log = std::fs::File::create(self.dir.join("prometheus.log")).expect("create log");
        let err = log.try_clone().expect("clone log");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", self.dir.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", self.dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{}", self.port))
            .arg("--storage.tsdb.retention.time=30d")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .expect("spawn prometheus");
        self.child = Some(child);
        let deadline = Instant::now() + READY_WITHIN;
        while Instant::now() < deadline {
            if !self.is_running() {
                return false;
            }
            if http_get(self.port, "/-/ready").0 == 200 {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
    }

    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// SIGTERM by PID, wait up to 10 s, then SIGKILL.
    pub fn stop(&mut self) {
        self.freeze(false);
        let Some(mut child) = self.child.take() else { return };
        let _ = Command::new("kill").arg(child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if !matches!(child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Freeze (SIGSTOP) or thaw (SIGCONT) the process by PID: frozen, it still accepts
    /// connections (the kernel does) but answers nothing, like a Prometheus stuck for minutes.
    pub fn freeze(&self, frozen: bool) {
        let Some(child) = &self.child else { return };
        let sig = if frozen { "-STOP" } else { "-CONT" };
        let _ = Command::new("kill").args([sig, &child.id().to_string()]).status();
    }

    /// Start again on the same port and data dir (after [`Prom::stop`]).
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "start_again while running");
        if !self.spawn() {
            panic!("prometheus did not start again on port {}; log:\n{}", self.port, self.log());
        }
    }

    /// GET an API path; the JSON body (panics unless `status` is `success`).
    pub fn api(&self, path: &str, params: &[(&str, String)]) -> Value {
        let qs: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", url_encode(v))).collect();
        let full = format!("{path}?{}", qs.join("&"));
        let (code, body) = http_get(self.port, &full);
        let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        assert!(code == 200 && v["status"] == "success", "GET {full}: {code} {body}");
        v
    }

    /// `/api/v1/query_range`: the `data.result` array.
    pub fn query_range(&self, q: &str, start: i64, end: i64, step: i64) -> Vec<Value> {
        let p = [
            ("query", q.to_string()),
            ("start", start.to_string()),
            ("end", end.to_string()),
            ("step", step.to_string()),
        ];
        let v = self.api("/api/v1/query_range", &p);
        v["data"]["result"].as_array().cloned().unwrap_or_default()
    }

    /// `/api/v1/query` at `time`: the `data.result` array.
    pub fn query(&self, q: &str, time: i64) -> Vec<Value> {
        let v = self.api("/api/v1/query", &[("query", q.to_string()), ("time", time.to_string())]);
        v["data"]["result"].as_array().cloned().unwrap_or_default()
    }
}

/// `(timestamp, value)` pairs of one range-query result series.
pub fn points(series: &Value) -> Vec<(i64, f64)> {
    series["values"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    let t = p[0].as_f64()? as i64;
                    let v = p[1].as_str()?.parse().ok()?;
                    Some((t, v))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The value of a one-element instant-query result.
pub fn scalar(result: &[Value]) -> Option<f64> {
    result.first()?["value"][1].as_str()?.parse().ok()
}

impl Drop for Prom {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
