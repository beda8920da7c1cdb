//! `clustertop-agent`: the node agent alone, without the dashboard, the Kubernetes client or the
//! simulator (what `deploy/agent.yaml` runs on every node).

use clap::Parser;

/// clustertop's node agent: serves this node's conntrack, BGP, CNI and KVM facts over HTTP.
#[derive(Parser, Debug)]
#[command(name = "clustertop-agent", version)]
struct Cli {
    #[command(flatten)]
    flags: clustertop_agent::cli::AgentFlags,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("clustertop-agent: cannot start: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    match rt.block_on(clustertop_agent::cli::run(&cli.flags)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("clustertop-agent: {e:#}");
            let bad_setting = e.is::<clustertop_agent::cli::BadSetting>();
            std::process::ExitCode::from(if bad_setting { 2 } else { 1 })
        }
    }
}
