//! Sandbox start times of the simulated pods: what the kubelet's `PodScheduled` and
//! `PodReadyToStartContainers` times would say, in whole seconds.
//!
//! Each pod is scheduled at a sub-second instant and its sandbox is ready a runtime-dependent
//! delay later (runc about 0.5 s, gVisor 0.8 s, Kata 1.1 s: the seed's reference, iQIYI's runc at
//! half a second and Kata at a little over one); both instants are cut to whole seconds, as the
//! API's condition times are. So one pod reads 0 s or 1 s, and the mean over many pods comes back
//! to the delay. One Kata node is slow (4 s), for the `sandbox-start-slow` finding.

use crate::model::RuntimeKind;

/// Sandbox start delays, milliseconds.
pub const RUNC_MS: u32 = 500;
pub const GVISOR_MS: u32 = 800;
pub const KATA_MS: u32 = 1_100;
/// Kata on the slow node.
pub const KATA_SLOW_MS: u32 = 4_000;

/// The delay of a runtime kind (`slow`: the slow Kata node).
pub fn delay_ms(kind: RuntimeKind, slow: bool) -> u32 {
    match kind {
        RuntimeKind::Kata if slow => KATA_SLOW_MS,
        RuntimeKind::Kata => KATA_MS,
        RuntimeKind::Gvisor => GVISOR_MS,
        RuntimeKind::Runc | RuntimeKind::Other => RUNC_MS,
    }
}

/// FNV-1a: deterministic per pod name, and no draw from the simulator's random stream (which
/// would move every pod after it).
fn hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The pod's whole-second start: scheduled at a sub-second offset, ready `delay_ms` (±30 %) later.
pub fn start_s(name: &str, delay_ms: u32) -> u16 {
    let h = hash(name);
    let offset = h % 1_000;
    let jitter = 70 + (h >> 20) % 61; // 70..=130 %
    let ready = offset + u64::from(delay_ms) * jitter / 100;
    u16::try_from(ready / 1_000).unwrap_or(u16::MAX)
}

/// The runtime kind of a simulated pod's class (the simulator's classes: `kata`, `gvisor`).
pub fn kind_of(class: Option<&str>) -> RuntimeKind {
    match class {
        Some("kata") => RuntimeKind::Kata,
        Some("gvisor") => RuntimeKind::Gvisor,
        Some(_) => RuntimeKind::Other,
        None => RuntimeKind::Runc,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Over many pods the whole-second reading comes back to the delay.
    #[test]
    fn whole_seconds_average_to_the_delay() {
        for delay in [RUNC_MS, GVISOR_MS, KATA_MS, KATA_SLOW_MS] {
            let n = 20_000;
            let sum: u64 = (0..n).map(|i| u64::from(start_s(&format!("pod-{i}"), delay))).sum();
            let mean_ms = sum as f64 * 1000.0 / n as f64;
            assert!((mean_ms - f64::from(delay)).abs() < 40.0, "{delay} ms reads {mean_ms:.0} ms");
        }
    }
}
