//! The Cilium agent API's `GET /v1/bgp/peers` body: a list of sessions or a short error.
#![no_main]

use clustertop::agent::cilium::parse_peers;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = parse_peers(data) {
        assert!(!e.is_empty());
    }
});
