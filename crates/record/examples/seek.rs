//! The reader alone, on a recording `examples/bench` kept (`CT_BENCH_KEEP=FILE`): `snapshot_at`
//! at moments across it (seconds before its end; by default the worst case, 59 min after a
//! keyframe, and others), each from a fresh reader, wall and CPU time. For profiling (`perf
//! record`) without the recording's own cost.
//!
//! `cargo run --release -p clustertop-record --example seek -- FILE [ROUNDS [SECONDS_BACK...]]`

use std::time::Instant;

use chrono::Duration;
use clustertop_core::analysis::Settings;
use clustertop_record::{History, Recording};

/// The dashboard's allocator (`src/alloc.rs`), so the figures are the dashboard's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// This thread's time on a CPU so far, in ns (`/proc/thread-self/schedstat`; 0 without it).
fn cpu() -> u64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    s.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = std::path::PathBuf::from(args.next().expect("a recording"));
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let r = Recording::open(&path, Settings::default()).expect("open");
    let spans = r.spans().expect("spans");
    let (start, end) = (spans[0].start, spans[spans.len() - 1].end);
    let secs = (end - start).num_seconds();
    let backs: Vec<i64> = args.filter_map(|a| a.parse().ok()).collect();
    let backs = if backs.is_empty() {
        vec![1, 59 * 60, 30 * 60, 3 * 3600 + 1799, 12 * 3600 + 3599, secs - 60]
    } else {
        backs
    };
    for _ in 0..rounds {
        let mut cold = Vec::new();
        for &back in &backs {
            let at = end - Duration::seconds(back.min(secs - 1));
            // `CT_SEEK_WARM`: one reader for every moment (with its checkpoints), as the
            // dashboard has; else a fresh reader each time.
            let fresh = match std::env::var_os("CT_SEEK_WARM") {
                Some(_) => None,
                None => Some(Recording::open(&path, Settings::default()).expect("open")),
            };
            let (t, c) = (Instant::now(), cpu());
            fresh.as_ref().unwrap_or(&r).snapshot_at(at).expect("snapshot_at");
            cold.push((back, t.elapsed().as_secs_f64() * 1e3, (cpu() - c) as f64 / 1e6));
        }
        for (back, ms, cpu) in cold {
            println!("snapshot_at end-{back}s: {ms:.0} ms ({cpu:.0} ms on a CPU)");
        }
    }
}
