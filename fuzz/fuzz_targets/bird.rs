//! BIRD's `show protocols all` reply, with reply codes or as `birdc` prints it: never a panic, and
//! every session it yields has a name from the reply.
#![no_main]

use clustertop::agent::bird::parse_protocols_all;

const T0: chrono::DateTime<chrono::Utc> =
    chrono::DateTime::from_timestamp(1_796_644_800, 0).expect("a valid time");
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let reply = String::from_utf8_lossy(data);
    for peer in parse_protocols_all(&reply, T0) {
        assert!(reply.contains(peer.name.as_str()), "a peer name not in the reply: {:?}", peer.name);
    }
});
