//! The README's `clustertop snapshot` JSON schema against the real output of every demo scenario
//! (`support::snapshot_schema` reads the README): every key the output has is documented and
//! every documented key is in the output; every value of an enum field is one the README lists
//! (one spelling); the tallies have every key, zeros included. `e2e_api::unknown` checks the
//! documents of a kube-sourced snapshot with forbidden kinds the same way.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::snapshot_schema::{Seen, parse, readme_block, walk};

const SCENARIOS: &[&str] = &["migration", "healthy", "tor-outage", "conntrack-storm", "hostile"];

#[test]
fn the_readme_schema_parses_into_what_this_test_checks() {
    let s = parse(&readme_block());
    // `source` is both a source's name and where a sandbox start figure comes from.
    let sources = ["sim", "kubernetes", "prometheus", "agents", "kubelet", "pod_conditions"];
    assert_eq!(s.enums["source"], sources.map(String::from).into());
    assert_eq!(s.tallies["findings"], ["critical", "warning", "info"].map(String::from).into());
    assert_eq!(s.tallies["net_modes"], s.enums["mode"]);
    assert!(s.enums["severity"].contains("critical") && s.free.contains("labels"), "{s:?}");
}

#[test]
fn snapshot_json_matches_the_readme_schema_in_every_scenario() {
    let schema = parse(&readme_block());
    let mut seen = Seen::default();
    for scenario in SCENARIOS {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_clustertop"))
            .args(["snapshot", "--demo", "--format", "json", "--nodes", "24", "--scenario", scenario])
            .env("TZ", "UTC")
            .output()
            .expect("the binary runs");
        assert!(o.status.success(), "{scenario}: {}", String::from_utf8_lossy(&o.stderr));
        let v: Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
        let before = seen.problems.len();
        walk(&schema, &v, "", &mut seen);
        for p in &mut seen.problems[before..] {
            *p = format!("{scenario}: {p}");
        }
    }
    // Documented keys that no output has: the README promises what the program does not write.
    // (Enum values and tally keys are words too. A source forbidden or unreachable and a BGP
    // configuration that cannot be read do not occur in the demo: `e2e_api::unknown` has them.)
    let values: BTreeSet<&String> = schema.enums.values().chain(schema.tallies.values()).flatten().collect();
    let not_in_demo = ["resource", "pod_routes", "verb", "error"];
    for w in &schema.words {
        if !values.contains(w) && !seen.keys.contains(w) && !not_in_demo.contains(&w.as_str()) {
            seen.problems.push(format!("README key {w:?} is in no output"));
        }
    }
    seen.problems.sort();
    seen.problems.dedup();
    assert!(seen.problems.is_empty(), "{}", seen.problems.join("\n"));
}
