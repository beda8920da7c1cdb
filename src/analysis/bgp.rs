//! BGP verdict per node.

use crate::model::{BgpSession, BgpVerdict, NetMode};

/// 2/2, 1/2, 0/2 or unknown for BGP nodes; not applicable for others.
pub fn verdict(mode: NetMode, sessions: &[BgpSession]) -> BgpVerdict {
    let _ = (mode, sessions);
    BgpVerdict::Unknown
}
