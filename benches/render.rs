//! Rendering and start-up benchmarks.
#![allow(clippy::unwrap_used)]
//!
//! - `render/<view>/<nodes>`: one full frame of each view at 200x50.
//! - `first_frame/48`: what `clustertop demo` does before its first frame: simulate, build the
//!   snapshot (with analysis), render the Overview.

use std::hint::black_box;
use std::sync::Arc;

use chrono::Utc;
use clustertop::analysis::Settings;
use clustertop::app::{Model, Msg, View, update};
use clustertop::sim::{Sim, SimConfig, snapshot_at};
use clustertop::store::ClusterState;
use clustertop::theme::Theme;
use clustertop::views;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

fn render(c: &mut Criterion) {
    let now = clustertop_core::testkit::T0;
    let theme = Theme::builtin("default", false).unwrap();
    let area = Rect::new(0, 0, 200, 50);
    let mut g = c.benchmark_group("render");
    for nodes in [50usize, 500, 5000] {
        let cfg = SimConfig { nodes, ..SimConfig::default() };
        let snap = Arc::new(snapshot_at(cfg, now, Settings::default()));
        for view in View::ALL {
            let mut model = Model { size: (200, 50), ..Model::default() };
            update(&mut model, Msg::Snapshot(snap.clone()));
            update(&mut model, Msg::ShowView(view));
            let mut buf = Buffer::empty(area);
            g.bench_with_input(BenchmarkId::new(view.title(), nodes), &model, |b, m| {
                b.iter(|| {
                    buf.reset();
                    views::render(black_box(m), &theme, area, &mut buf);
                })
            });
        }
    }
    g.finish();
}

fn first_frame(c: &mut Criterion) {
    let theme = Theme::builtin("default", false).unwrap();
    let area = Rect::new(0, 0, 200, 50);
    c.bench_function("first_frame/48", |b| {
        b.iter(|| {
            let now = Utc::now();
            let mut sim = Sim::new(SimConfig::default(), now);
            let mut state = ClusterState::new(sim.label(), Settings::default());
            for u in sim.initial() {
                state.apply(u);
            }
            let mut model = Model::default();
            update(&mut model, Msg::Snapshot(Arc::new(state.snapshot(now))));
            let mut buf = Buffer::empty(area);
            views::render(&model, &theme, area, &mut buf);
            black_box(buf)
        })
    });
}

criterion_group!(benches, render, first_frame);
criterion_main!(benches);
