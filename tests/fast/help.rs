//! `--help` of every command lists exactly that command's flags, each with a description.

use std::collections::BTreeSet;
use std::process::Command;

use clap::CommandFactory;

const KUBE: &[&str] = &["--context", "--kubeconfig", "--rack-label"];
const DISPLAY: &[&str] = &["--theme", "--ascii", "--no-mouse"];
const ANALYSIS: &[&str] = &["--window", "--tz", "--keepalive-idle"];
const SIM: &[&str] = &["--nodes", "--seed", "--scenario"];

/// Every command (by its words after `clustertop`) and the flags it takes, `--help` aside.
fn expected() -> Vec<(&'static str, Vec<&'static str>)> {
    let all = |groups: &[&[&'static str]]| groups.concat();
    vec![
        (
            "",
            all(&[
                KUBE,
                &["--prometheus", "--agents", "--agent-token-file"],
                DISPLAY,
                ANALYSIS,
                &["--no-record", "--config", "--version"],
            ]),
        ),
        ("demo", all(&[SIM, &["--refresh"], DISPLAY, ANALYSIS, &["--config"]])),
        (
            "snapshot",
            all(&[
                &["--demo", "--from", "--at", "--prometheus", "--wait", "--format"],
                KUBE,
                ANALYSIS,
                &["--config"],
                SIM,
            ]),
        ),
        (
            "record",
            all(&[
                &["--out", "--for", "--demo", "--prometheus", "--agents", "--agent-token-file"],
                KUBE,
                ANALYSIS,
                &["--config", "--refresh"],
                SIM,
            ]),
        ),
        ("replay", all(&[DISPLAY, ANALYSIS, &["--config"]])),
        (
            "report incident",
            all(&[&[
                "--since",
                "--until",
                "--from",
                "--prometheus",
                "--rack-label",
                "--format",
                "--resolution",
                "--tz",
                "--config",
            ]]),
        ),
        (
            "report capacity",
            all(&[&[
                "--end",
                "--format",
                "--top",
                "--prometheus",
                "--rack-label",
                "--window",
                "--tz",
                "--config",
            ]]),
        ),
        (
            "sim serve",
            all(&[
                &[
                    "--listen",
                    "--pods",
                    "--kubeconfig-out",
                    "--forbid",
                    "--static",
                    "--churn",
                    "--fault",
                    "--objects",
                    "--slim",
                    "--no-protobuf",
                    "--no-watch-list",
                ],
                SIM,
                &["--refresh", "--tz", "--config"],
            ]),
        ),
        (
            "sim openmetrics",
            all(&[&["--hours", "--end", "--step", "--cpus", "--out"], SIM, &["--tz", "--config"]]),
        ),
        (
            "agent",
            vec![
                "--listen",
                "--proc",
                "--sys",
                "--dev",
                "--cni-dir",
                "--bird-socket",
                "--bird6-socket",
                "--cilium-socket",
                "--node-name",
                "--token-file",
                "--once",
            ],
        ),
        ("sim", vec![]),
        ("report", vec![]),
    ]
}

/// The flags of a `--help` text, each with whether a description follows it (on its line, or
/// indented on the next, as clap's long help writes it).
fn flags(help: &str) -> Vec<(String, bool)> {
    let lines: Vec<&str> = help.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        // `--flag` or `-h, --help`; not a possible value's `- markdown: …`.
        let is_flag = t.starts_with("--") || t.chars().nth(1).is_some_and(|c| c.is_ascii_alphabetic());
        if !t.starts_with('-') || !is_flag || !line.starts_with("  ") {
            continue;
        }
        // `-h, --help`, `--window <HH:MM-HH:MM>  Colocation …`
        let words: Vec<&str> = t.split("  ").map(str::trim).filter(|w| !w.is_empty()).collect();
        let spec = words.first().copied().unwrap_or("");
        let long = spec.split([',', ' ']).map(str::trim).find(|w| w.starts_with("--")).unwrap_or(spec);
        let next = lines.get(i + 1).copied().unwrap_or("");
        let indent = |l: &str| l.len() - l.trim_start().len();
        let described = words.len() > 1
            || (!next.trim().is_empty()
                && indent(next) > indent(line)
                && !next.trim_start().starts_with('-'));
        out.push((long.to_string(), described));
    }
    out
}

#[test]
fn every_command_shows_only_its_own_flags_each_described() {
    // Every subcommand of the real command line is in the table.
    fn walk(cmd: &clap::Command, prefix: &str, out: &mut Vec<String>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let name = format!("{prefix}{}", sub.get_name()).trim().to_string();
            out.push(name.clone());
            walk(sub, &format!("{name} "), out);
        }
    }
    let mut commands = vec![String::new()];
    walk(&clustertop::cli::Cli::command(), "", &mut commands);
    let table = expected();
    let known: BTreeSet<&str> = table.iter().map(|(c, _)| *c).collect();
    for c in &commands {
        assert!(known.contains(c.as_str()), "`clustertop {c}` is missing from this test's table");
    }
    let every: BTreeSet<&str> = table.iter().flat_map(|(_, f)| f.iter().copied()).collect();
    for (command, want) in &table {
        for help_flag in ["--help", "-h"] {
            let mut args: Vec<&str> = command.split_whitespace().collect();
            args.push(help_flag);
            let o = Command::new(env!("CARGO_BIN_EXE_clustertop")).args(&args).output().expect("runs");
            assert!(o.status.success(), "clustertop {command} {help_flag}");
            let help = String::from_utf8_lossy(&o.stdout);
            let got = flags(&help);
            for (flag, described) in &got {
                assert!(described, "clustertop {command} {help_flag}: {flag} has no description:\n{help}");
            }
            let got: BTreeSet<&str> =
                got.iter().map(|(f, _)| f.as_str()).filter(|f| *f != "--help").collect();
            let want: BTreeSet<&str> = want.iter().copied().collect();
            let foreign: Vec<&&str> = got.difference(&want).collect();
            let missing: Vec<&&str> = want.difference(&got).collect();
            assert!(
                foreign.is_empty() && missing.is_empty(),
                "clustertop {command} {help_flag}: foreign flags {foreign:?} (of {} known), missing {missing:?}:\n{help}",
                every.len()
            );
        }
    }
}
