//! The dashboard in a real terminal (tmux) against an API server that answers only after 10 s, or
//! only with 429 and `Retry-After` (`sim serve --fault`). The UI never waits on it: views switch
//! at once while no answer has come, and the wait or the throttling is said in the status line
//! and in Triage. With the slow server the data then arrives. With `CI=true`, a missing tmux fails.

use crate::support::tui::{Harness, have_tmux, poll};

/// Switch to Triage and to Nodes while the API server has not answered yet: Triage says `why`,
/// and the Nodes view, empty (`Nodes 0/?`: not listed yet, not zero), shows the keys were handled
/// before any answer came.
fn switch_views_while(h: &Harness, why: &str) {
    let screen = || h.screen();
    poll("the status line to show the kube source", || screen().contains(" kube ").then_some(()), screen);
    h.keys(&["7"]);
    let triage = |s: String| (s.contains("Findings ") && s.contains(why)).then_some(s);
    poll("Triage to say why", || triage(screen()), screen);
    h.keys(&["2"]);
    poll("the empty Nodes view", || screen().contains("Nodes 0/?").then_some(()), screen);
}

#[test]
fn an_api_server_answering_after_10_s_leaves_the_ui_responsive() {
    if !have_tmux() {
        eprintln!("skipping: tmux not installed");
        return;
    }
    let h = Harness::start_full("e2e-slow-api", &["--fault", "slow=10s"], &[], "");
    switch_views_while(&h, "waiting for the API server's first answers");
    // The first answers come after 10 s each (discovery, then the lists): then all 48 nodes.
    let screen = || h.screen();
    poll("the nodes after the slow answers", || screen().contains("Nodes 48/48").then_some(()), screen);
}

#[test]
fn an_api_server_answering_429_is_said_and_leaves_the_ui_responsive() {
    if !have_tmux() {
        eprintln!("skipping: tmux not installed");
        return;
    }
    let h = Harness::start_full("e2e-429-api", &["--fault", "429,retry-after=5"], &[], "");
    switch_views_while(&h, "429 TooManyRequests");
    h.keys(&["7"]);
    let screen = || h.screen();
    poll(
        "the server's Retry-After in Triage",
        || screen().contains("(retry after 5 s)").then_some(()),
        screen,
    );
}
