//! The recorder's budget at 5,000 nodes / 150,000 pods / 100 pod changes a second, on an
//! injected clock (a simulated day in minutes): the CPU share of recording (time inside
//! `Writer::record` over the simulated time), bytes on disk per day, and the time of
//! `snapshot_at` for moments of the last day. Prints one line per figure.
//!
//! `cargo run --release -p clustertop-record --example bench -- [HOURS] [NODES]` (default 24, 5000).

use std::time::Instant;

use chrono::Duration;
use clustertop_core::analysis::Settings;
use clustertop_core::model::{Pod, Update};
use clustertop_core::testkit::T0;
use clustertop_record::{Header, History, Options, Recording, Writer, wal_path};
use clustertop_sim::{Scenario, Sim, SimConfig};

/// The dashboard's allocator (`src/alloc.rs`), so the figures are the dashboard's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// This thread's time on a CPU (`/proc/thread-self/schedstat`), so a busy machine does not
/// inflate the figure; wall time where that file is missing.
fn cpu_now(wall: Instant) -> std::time::Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .map_or_else(|| wall.elapsed(), std::time::Duration::from_nanos)
}

fn main() {
    let origin = Instant::now();
    let mut args = std::env::args().skip(1);
    let hours: i64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(24);
    let nodes: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5000);
    let dir = std::env::temp_dir().join(format!("ct-record-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("bench.db");

    let cfg = SimConfig { nodes, scenario: Scenario::Healthy, ..SimConfig::default() };
    let mut sim = Sim::new(cfg, T0);
    let initial = sim.initial();
    let mut pods: Vec<Pod> = initial
        .iter()
        .find_map(|u| if let Update::PodsReplaced(p) = u { Some(p.clone()) } else { None })
        .unwrap_or_default();
    assert!(!pods.is_empty(), "the simulator made no pods");
    println!("cluster: {nodes} nodes, {} pods; simulated {hours} h", pods.len());

    let header = Header { cluster: sim.label(), context: "bench".into(), version: "bench".into() };
    // `CT_BENCH_KEYFRAME_MIN`: another keyframe interval than the default, to compare.
    let mut opts = Options::default();
    if let Some(m) = std::env::var("CT_BENCH_KEYFRAME_MIN").ok().and_then(|m| m.parse().ok()) {
        opts.keyframe_every = Duration::minutes(m);
    }
    println!("keyframe every {} min", opts.keyframe_every.num_minutes());
    let mut w = Writer::create(&path, &header, opts, T0).expect("create");
    let mut busy = std::time::Duration::ZERO;
    let t = cpu_now(origin);
    w.record(T0, &initial).expect("record");
    let first = cpu_now(origin) - t;
    busy += first;

    let secs = hours * 3600;
    let mut next = 0usize;
    let mut changes = 0u64;
    let mut sim_time = std::time::Duration::ZERO;
    for s in 1..=secs {
        let at = T0 + Duration::seconds(s);
        // 100 pod changes a second: 50 pods deleted and 50 created (renamed), one batch.
        let mut batch = Vec::with_capacity(110);
        for _ in 0..50 {
            let i = next % pods.len();
            next += 7919;
            let p = &mut pods[i];
            batch.push(Update::PodDeleted { namespace: p.namespace.to_string(), name: p.name.to_string() });
            p.name = format!("churn-{s}-{i}").into();
            batch.push(Update::PodApplied(p.clone()));
            changes += 2;
        }
        // Every 5 s, the agents' readings of every node and the sources' heartbeats.
        if s % 5 == 0 {
            let t = Instant::now();
            batch.extend(
                sim.step(at)
                    .into_iter()
                    .filter(|u| !matches!(u, Update::PodApplied(_) | Update::PodDeleted { .. })),
            );
            sim_time += t.elapsed();
        }
        let t = cpu_now(origin);
        w.record(at, &batch).expect("record");
        busy += cpu_now(origin) - t;
        if s % 3600 == 0 {
            eprintln!("  {} h simulated, {:.1} s recording so far", s / 3600, busy.as_secs_f64());
        }
    }
    let t = cpu_now(origin);
    let stats = w.stats();
    w.close().expect("close");
    busy += cpu_now(origin) - t;
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(wal_path(&path)).map(|m| m.len()).unwrap_or(0);
    let per_day = size as f64 * 86_400.0 / secs as f64;
    println!(
        "pod changes recorded: {changes} ({} updates in, {} kept)",
        stats.updates_in, stats.updates_kept
    );
    println!("first batch (the whole cluster): {:.0} ms", first.as_secs_f64() * 1e3);
    println!(
        "CPU share of recording: {:.3} % of a core ({:.1} s over {hours} h simulated; the simulator's own {:.1} s not counted)",
        busy.as_secs_f64() / secs as f64 * 100.0,
        busy.as_secs_f64(),
        sim_time.as_secs_f64()
    );
    println!(
        "bytes on disk: {:.1} MB after {hours} h, {:.1} MB per day ({} keyframes, {:.1} MB encoded before zstd)",
        size as f64 / 1e6,
        per_day / 1e6,
        stats.keyframes,
        stats.raw_bytes as f64 / 1e6
    );

    {
        // Where the bytes are: keyframes (the whole cluster, hourly) and chunks (changes).
        let conn = rusqlite::Connection::open(&path).expect("open for figures");
        let mut st = conn
            .prepare("SELECT kind, count(*), sum(length(data)) FROM frames GROUP BY kind ORDER BY kind")
            .expect("query");
        let rows = st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)));
        for (kind, n, bytes) in rows.expect("rows").flatten() {
            let name = ["keyframes", "chunks", "tail"].get(kind as usize).copied().unwrap_or("?");
            println!(
                "  {name}: {n} frames, {:.1} MB ({:.2} MB each)",
                bytes as f64 / 1e6,
                bytes as f64 / 1e6 / n as f64
            );
        }
    }
    let r = Recording::open(&path, Settings::default()).expect("open");
    let mut times = Vec::new();
    // Moments across the last day, the worst case (59 min after a keyframe) included.
    for back in [1, 59 * 60, 3 * 3600 + 1799, 12 * 3600 + 3599, secs.min(86_400) - 60] {
        let at = T0 + Duration::seconds(secs - back.min(secs));
        let t = cpu_now(origin);
        let snap = r.snapshot_at(at).expect("snapshot_at");
        times.push((cpu_now(origin) - t).as_secs_f64() * 1e3);
        assert_eq!(snap.nodes.len(), nodes);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "snapshot_at a moment of the last day: {:.0} ms median, {:.0} ms worst of {} (CPU time: rebuild from the keyframe, replay, snapshot)",
        times[times.len() / 2],
        times[times.len() - 1],
        times.len()
    );
    // Kept for `examples/seek` (profiling the reader on its own).
    if let Some(to) = std::env::var_os("CT_BENCH_KEEP") {
        std::fs::rename(&path, &to).expect("keep the recording");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
