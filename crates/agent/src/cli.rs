//! The agent's command line, shared by the lean `clustertop-agent` binary (what the DaemonSet
//! runs) and the dashboard's `clustertop agent`.

use anyhow::{Context, Result};
use clap::Args;

/// `clustertop-agent` (and `clustertop agent`): the per-node reader.
#[derive(Args, Debug, Clone)]
pub struct AgentFlags {
    /// Address to serve on; the bound address is printed on stderr (port 0 picks a free one).
    #[arg(long, default_value = "0.0.0.0:9977")]
    pub listen: std::net::SocketAddr,
    /// The host's /proc (e.g. /host/proc in a container).
    #[arg(long = "proc", default_value = "/proc")]
    pub proc_root: std::path::PathBuf,
    /// The host's /sys (e.g. /host/sys in a container).
    #[arg(long = "sys", default_value = "/sys")]
    pub sys_root: std::path::PathBuf,
    /// The host's /dev, where /dev/kvm is looked for (e.g. /host/dev in a container).
    #[arg(long = "dev", default_value = "/dev")]
    pub dev_root: std::path::PathBuf,
    /// The CNI configuration directory, whose files name the node's CNI.
    #[arg(long, default_value = "/etc/cni/net.d")]
    pub cni_dir: std::path::PathBuf,
    /// BIRD control socket (Calico: /var/run/calico/bird.ctl).
    #[arg(long)]
    pub bird_socket: Option<std::path::PathBuf>,
    /// BIRD 1.x's IPv6 control socket (Calico: /var/run/calico/bird6.ctl; default: bird6.ctl
    /// beside a --bird-socket named bird.ctl, when it exists).
    #[arg(long)]
    pub bird6_socket: Option<std::path::PathBuf>,
    /// Cilium agent API socket (/var/run/cilium/cilium.sock).
    #[arg(long)]
    pub cilium_socket: Option<std::path::PathBuf>,
    /// Node name reported (default: $NODE_NAME, else the host name under --proc).
    #[arg(long, env = "NODE_NAME")]
    pub node_name: Option<String>,
    /// Require `Authorization: Bearer <token>` on /v1/node and /metrics, the token read from
    /// this file (e.g. a mounted Secret); /healthz stays open for probes.
    #[arg(long)]
    pub token_file: Option<std::path::PathBuf>,
    /// Print one JSON report on stdout and exit.
    #[arg(long)]
    pub once: bool,
}

/// A flag whose value cannot be used (a token file that cannot be read, an address that cannot
/// be bound): exit status 2, like a value the command line parser rejects.
#[derive(Debug)]
pub struct BadSetting(pub String);

impl std::fmt::Display for BadSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for BadSetting {}

/// `clustertop agent`: serve until SIGINT/SIGTERM, or with `--once` print one report.
pub async fn run(f: &AgentFlags) -> Result<()> {
    let hostname = || std::fs::read_to_string(f.proc_root.join("sys/kernel/hostname")).ok();
    let node_name = f.node_name.clone().filter(|n| !n.is_empty()).or_else(hostname).unwrap_or_default();
    let cfg = crate::AgentConfig {
        listen: f.listen,
        proc_root: f.proc_root.clone(),
        sys_root: f.sys_root.clone(),
        dev_root: f.dev_root.clone(),
        cni_dir: f.cni_dir.clone(),
        bird_socket: f.bird_socket.clone(),
        bird6_socket: f.bird6_socket.clone(),
        cilium_socket: f.cilium_socket.clone(),
        node_name: node_name.trim().to_string(),
        token: f
            .token_file
            .as_deref()
            .map(crate::token::Token::from_file)
            .transpose()
            .map_err(|e| BadSetting(format!("--token-file: {e:#}")))?,
        ..Default::default()
    };
    if f.once {
        let r = crate::collect::collect(&cfg).await;
        let json = serde_json::to_string_pretty(&r).context("cannot encode the report")?;
        use std::io::Write;
        writeln!(std::io::stdout().lock(), "{json}").context("cannot write to stdout")?;
        return Ok(());
    }
    crate::server::run(cfg).await
}
