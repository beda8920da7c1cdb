//! Read-only by construction: a whole dashboard session against `sim serve` (every view, a node's
//! detail, filter, sort, zoom, help, a theme change), then `sim serve`'s request log says every
//! request was a GET of the API (discovery, list, get or watch): no other method, no other path.
//! Polls with deadlines, never sleeps for timing; the server and tmux session are stopped on drop.

#![allow(clippy::unwrap_used)]

use crate::support::tui::{Harness, have_tmux, poll};
use serde_json::Value;

fn requests(api: &str) -> Value {
    let port: u16 = api.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap();
    let (code, body) = crate::support::http_get(port, "/debug/requests");
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[test]
fn a_full_session_makes_only_get_requests() {
    if !have_tmux() {
        eprintln!("skipping: tmux not installed");
        return;
    }
    let h = Harness::start("e2e-ro", &[]);
    let screen = || h.screen();
    poll("the kube source to be ok", || screen().contains("kube ok").then_some(()), screen);
    let steps: &[(&[&str], &str)] = &[
        (&["2"], "Nodes"),
        (&["j", "j", "Enter"], "Findings"),
        // Esc alone: Esc and a key sent together read as Alt+key.
        (&["Escape"], "Nodes 48/48"),
        (&["3"], "Network by rack"),
        (&["4"], "RuntimeClasses"),
        (&["5"], "Conntrack by table fill"),
        (&["6"], "Colocation windows"),
        (&["z"], "Colocation windows"),
        (&["7"], "Triage"),
        (&["2", "/", "rack-2", "Enter"], "filter: rack-2"),
        (&["s"], "Nodes"),
        (&["?"], "Help  (Esc, q or ? closes"),
        // `!text`: wait until it is gone (the filter shows behind the overlay too).
        (&["Escape"], "!Help  (Esc"),
        (&[":", "theme mono", "Enter"], "theme mono"),
        (&["1"], "Runtime mix"),
    ];
    for (keys, want) in steps {
        h.keys(keys);
        let shown = |s: &str| match want.strip_prefix('!') {
            Some(gone) => !s.contains(gone),
            None => s.contains(want),
        };
        poll(&format!("{want:?} after {keys:?}"), || shown(&screen()).then_some(()), screen);
    }
    h.keys(&["q"]);
    poll("the dashboard to exit", || screen().contains("EXIT=0").then_some(()), screen);

    let stats = requests(&h.api);
    let verbs: Vec<(String, u64)> = stats["verbs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v[0].as_str().unwrap().to_string(), v[1]["requests"].as_u64().unwrap()))
        .collect();
    let count = |verb: &str| verbs.iter().find(|(v, _)| v == verb).map_or(0, |(_, n)| *n);
    assert!(count("list") > 0 && count("watch") > 0, "the session talked to the API: {verbs:?}");
    assert_eq!(count("other"), 0, "a request that is not a GET of the API: {verbs:?}");
}
