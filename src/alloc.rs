//! The allocator: mimalloc, tuned to give memory back at once.
//!
//! Measured on the initial sync of 5,000 nodes and 150,000 realistic pods (`scripts/bench-sync`,
//! release): glibc's malloc with one arena took 7.7–8.9 s (7.0–8.5 s of user CPU, a third of it
//! in the allocator) with a 190 MB peak; mimalloc as it comes 5.3–6.4 s (3.6–5.2 s) with a
//! 215–228 MB peak; tuned as below, about 5 s (4.0 s) with a 159 MB peak. Rebuilding a recorded
//! moment (the time cursor) costs about half the CPU too. (glibc also needed one arena: with one
//! per thread, resident memory was twice the live heap after the lists.)

use std::ffi::{c_int, c_long};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Option numbers of the vendored mimalloc v3 (`mi_option_e` in its `mimalloc.h`; the sys
/// crate's own constants are v2's), each with its default (`options.c`), by which it is checked.
const ARENA_EAGER_COMMIT: (c_int, c_long) = (4, 2);
const PURGE_DELAY: (c_int, c_long) = (15, 1000);

/// Purge freed memory at once instead of after a second, and commit arenas as they are used instead
/// of up front (`MIMALLOC_PURGE_DELAY=0 MIMALLOC_ARENA_EAGER_COMMIT=0`). Each option is set only
/// when it reads its default, so a different mimalloc, or one the environment
/// configures (`MIMALLOC_*`), is left as it is.
#[allow(unsafe_code)]
pub fn tune() {
    for (option, default) in [ARENA_EAGER_COMMIT, PURGE_DELAY] {
        // SAFETY: reading and setting an option are plain calls on mimalloc's option table.
        unsafe {
            if libmimalloc_sys::mi_option_get(option) == default {
                libmimalloc_sys::mi_option_set(option, 0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option numbers and defaults match the mimalloc built in: both options end at 0.
    #[test]
    #[allow(unsafe_code)]
    fn tuning_takes() {
        if std::env::vars().any(|(k, _)| k.starts_with("MIMALLOC_")) {
            return;
        }
        tune();
        for (option, _) in [ARENA_EAGER_COMMIT, PURGE_DELAY] {
            // SAFETY: reading an option is a plain call on mimalloc's option table.
            assert_eq!(unsafe { libmimalloc_sys::mi_option_get(option) }, 0, "option {option}");
        }
    }
}
