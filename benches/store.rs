//! Store and analysis benchmarks, at 50, 500 and 5,000 simulated nodes (about 30 pods per node:
//! ~1,500 / ~15,000 / ~150,000 pods), so the growth with cluster size is visible.
#![allow(clippy::unwrap_used)]
//!
//! - `apply/<nodes>`: a burst of watch events (pods deleted and re-applied, nodes re-applied) on a
//!   populated `ClusterState`; criterion prints events per second.
//! - `snapshot/<nodes>`: `ClusterState::snapshot(now)` (analysis included) when nothing but the
//!   time moved on (the sorted pod list is reused); `snapshot_after_pod_change/<nodes>`: the same
//!   after one pod changed, which re-sorts the pod list.
//! - `analysis/<nodes>`: `analysis::rules::findings` on a prepared snapshot;
//!   `netmode/<nodes>`: `analysis::netmode::classify` of every node;
//!   `colocation/<nodes>`: `analysis::colocation::fills` of the cluster CPU curve.
//!
//! Sample sizes are small so `cargo bench --bench store` takes a few minutes.

use std::hint::black_box;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clustertop::analysis::{self, Settings};
use clustertop::model::Snapshot;
use clustertop::model::Update;
use clustertop::sim::{Sim, SimConfig};
use clustertop::store::ClusterState;
use criterion::measurement::WallTime;
use criterion::{
    BatchSize, BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};

const SIZES: [usize; 3] = [50, 500, 5000];
/// Events per burst in `apply`.
const BURST: usize = 2_000;

struct Fixture {
    nodes: usize,
    state: ClusterState,
    snap: Snapshot,
    /// A burst that leaves the state as it found it: each pod deleted is applied again.
    burst: Vec<Update>,
}

fn now() -> DateTime<Utc> {
    clustertop_core::testkit::T0
}

fn fixture(nodes: usize) -> Fixture {
    let now = now();
    let mut sim = Sim::new(SimConfig { nodes, ..SimConfig::default() }, now);
    let mut state = ClusterState::new(sim.label(), Settings::default());
    for u in sim.initial() {
        state.apply(u);
    }
    let snap = state.snapshot(now);
    // 40 % pod deletions, each followed by the same pod applied again, and 20 % node updates,
    // spread over the whole cluster.
    let pod_pairs = BURST * 2 / 5;
    let node_updates = BURST - 2 * pod_pairs;
    let stride = (snap.pods.len() / pod_pairs).max(1);
    let mut burst = Vec::with_capacity(BURST);
    for p in snap.pods.iter().step_by(stride).take(pod_pairs) {
        burst.push(Update::PodDeleted { namespace: p.namespace.to_string(), name: p.name.to_string() });
        burst.push(Update::PodApplied(p.clone()));
    }
    let infos: Vec<Update> =
        sim.initial().into_iter().filter(|u| matches!(u, Update::NodeApplied { .. })).collect();
    for i in 0..node_updates {
        if let Some(Update::NodeApplied { node, .. }) = infos.get(i % infos.len().max(1)) {
            burst.push(Update::NodeApplied { node: node.clone(), at: now + chrono::Duration::seconds(1) });
        }
    }
    assert!(snap.pods.len() >= nodes * 18, "about 30 pods per node: {}", snap.pods.len());
    Fixture { nodes, state, snap, burst }
}

fn quick<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    g
}

fn store(c: &mut Criterion) {
    let mut fx: Vec<Fixture> = SIZES.into_iter().map(fixture).collect();
    let now = now();
    let settings = Settings::default();

    let mut g = quick(c, "apply");
    for f in &mut fx {
        g.throughput(Throughput::Elements(f.burst.len() as u64));
        let (state, burst) = (&mut f.state, &f.burst);
        g.bench_function(BenchmarkId::from_parameter(f.nodes), |b| {
            b.iter_batched(
                || burst.clone(),
                |events| events.into_iter().fold(false, |ch, u| state.apply(u) | ch),
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();

    let mut g = quick(c, "snapshot");
    for f in &mut fx {
        f.state.snapshot(now); // warm the sorted pod list left cold by `apply`
        let state = &mut f.state;
        g.bench_function(BenchmarkId::from_parameter(f.nodes), |b| b.iter(|| state.snapshot(black_box(now))));
    }
    g.finish();

    let mut g = quick(c, "snapshot_after_pod_change");
    for f in &mut fx {
        let pod = f.snap.pods.iter().next().cloned().unwrap();
        let state = &mut f.state;
        g.bench_function(BenchmarkId::from_parameter(f.nodes), |b| {
            b.iter(|| {
                state.apply(Update::PodApplied(pod.clone()));
                state.snapshot(black_box(now))
            })
        });
    }
    g.finish();

    let mut g = quick(c, "analysis");
    for f in &fx {
        g.bench_with_input(BenchmarkId::from_parameter(f.nodes), &f.snap, |b, s| {
            b.iter(|| analysis::rules::findings(black_box(s), &settings))
        });
    }
    g.finish();

    let mut g = quick(c, "netmode");
    for f in &fx {
        g.throughput(Throughput::Elements(f.snap.nodes.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(f.nodes), &f.snap, |b, s| {
            b.iter(|| {
                s.nodes.iter().map(|n| analysis::netmode::classify(black_box(&n.signals))).collect::<Vec<_>>()
            })
        });
    }
    g.finish();

    let mut g = quick(c, "colocation");
    for f in &fx {
        let curve = f.snap.cpu.clone().unwrap();
        g.bench_with_input(BenchmarkId::from_parameter(f.nodes), &curve, |b, cv| {
            b.iter(|| analysis::colocation::fills(black_box(cv), &settings.windows, settings.tz, now))
        });
    }
    g.finish();
}

criterion_group!(benches, store);
criterion_main!(benches);
