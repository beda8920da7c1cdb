//! The dashboard's side of a node agent: a `GET /v1/node` body decoded as the poller does, then
//! mapped into store updates, against a previous report's counters (so rates are computed too).
#![no_main]

use clustertop::sources::agents::map::{Counters, updates};
use clustertop::wire::NodeReport;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(report) = serde_json::from_slice::<NodeReport>(data) else { return };
    let (_, counters) = updates(&report, &Counters::default());
    // The same report again: the counters' rates over zero time, and the counters of a reset.
    let _ = updates(&report, &counters);
});
