//! Test-only: a small hand-made snapshot for the Runtime, Conntrack, Utilization and Triage views,
//! and a helper that renders a view to text. Declared from `utilization.rs` under `#[cfg(test)]`.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Timelike, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use crate::app::Model;
use crate::model::*;
use crate::theme::Theme;
use crate::views::Ctx;

pub fn now() -> DateTime<Utc> {
    crate::testkit::T0
}

fn ct(entries: u64, limit: u64, ins: f64, timeout: u64, brnf: Option<bool>) -> Conntrack {
    Conntrack {
        entries,
        limit,
        insert_failed_per_s: ins,
        drop_per_s: ins / 2.0,
        early_drop_per_s: ins / 4.0,
        tcp_established_timeout_s: Some(timeout),
        bridge_nf_call_iptables: brnf,
    }
}

fn node(
    name: &str,
    rack: &str,
    mode: NetMode,
    kvm: Option<bool>,
    c: Option<Conntrack>,
    mix: [u32; 3],
) -> Node {
    let mut labels = BTreeMap::new();
    if mix[1] > 0 || name.ends_with("-k") {
        labels.insert("katacontainers.io/kata-runtime".to_string(), "true".to_string());
    }
    let runtime = RuntimeMix { runc: mix[0], kata: mix[1], gvisor: mix[2], other: 0 };
    Node {
        name: name.into(),
        rack: rack.into(),
        tors: [format!("{rack}-tor1"), format!("{rack}-tor2")],
        ready: true,
        labels,
        signals: Vec::new(),
        net: NetClass { mode, evidence: Vec::new() },
        bgp: Vec::new(),
        bgp_verdict: if mode.uses_bgp() { BgpVerdict::Healthy } else { BgpVerdict::NotApplicable },
        bgp_counts: crate::model::BgpCounts {
            expected_from: crate::model::ExpectedFrom::TorLabels,
            families: if mode.uses_bgp() {
                vec![crate::model::FamilyCount { family: None, expected: 2, established: Some(2) }]
            } else {
                Vec::new()
            },
            missing: Vec::new(),
        },
        runtime: Some(runtime),
        pods: Some(runtime.total()),
        finished_pods: Some(0),
        batch: None,
        host: (kvm.is_some() || c.is_some()).then(|| {
            Aged::new(HostFacts { kvm, conntrack: c, cpu_now: Some(0.5), ..HostFacts::default() }, now())
        }),
        host_from: Default::default(),
        seen: now(),
        created: Some(now() - chrono::Duration::days(200)),
    }
}

/// 7 days at 300 s; online peaks in the afternoon, offline fills the 01:00-06:00 window.
pub fn curve(tz: chrono_tz::Tz, days: i64) -> CpuCurve {
    let n = days * 288;
    let points: Vec<CpuPoint> = (0..=n)
        .map(|i| {
            let t = now() - Duration::seconds(300 * (n - i));
            // The point ending at t describes the 5 minutes before it.
            let h = (t - Duration::seconds(300)).with_timezone(&tz).hour() as f64;
            let online = 300.0 + 250.0 * (-((h - 15.0) / 5.0).powi(2)).exp();
            let offline = if (1.0..6.0).contains(&h) {
                480.0
            } else if h < 7.0 {
                150.0
            } else {
                20.0
            };
            CpuPoint::new(t, online, offline, 1000.0)
        })
        .collect();
    let half = |r: &str| RackCurve {
        rack: r.into(),
        capacity_cores: 500.0,
        points: points
            .iter()
            .map(|p: &CpuPoint| CpuPoint::new(p.t, p.online / 2.0, p.offline / 2.0, 500.0))
            .collect(),
    };
    let racks = vec![half("rack-a"), half("rack-b")];
    CpuCurve { step_s: 300, capacity_cores: 1000.0, points, racks }
}

fn fill(day: i64, rack: Option<&str>, complete: bool) -> WindowFill {
    let w = Window::parse("01:00-06:00").unwrap();
    let start = Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap() - Duration::days(day);
    WindowFill {
        window: w,
        start,
        end: start + Duration::hours(5),
        rack: rack.map(String::from),
        avg_util: 0.78 - day as f64 * 0.03,
        offline_share: 0.6,
        idle_core_hours: 1100.0 + day as f64 * 40.0,
        spill_core_hours: if day == 1 || rack == Some("rack-b") { 130.5 } else { 0.0 },
        capacity_core_hours: if rack.is_some() { 2500.0 } else { 5000.0 },
        coverage: 1.0,
        reclaimed_core_hours: None,
        reclaimed_unused_core_hours: None,
        reclaimed_unknown: None,
        complete,
    }
}

fn finding(rule: Rule, severity: Severity, subject: &str, what: &str, ago_min: i64) -> Finding {
    Finding {
        rule,
        severity,
        subject: subject.into(),
        since: Some(now() - Duration::minutes(ago_min)),
        what: what.into(),
        evidence: vec![format!("{} evidence line one", rule.id()), "second line of evidence".into()],
        remedy: "Do the obvious thing first, then check the dashboards again; this remedy is long enough \
                 that it has to wrap on an 80-column terminal."
            .into(),
    }
}

pub fn snapshot() -> Snapshot {
    let tz: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    let nodes = vec![
        node(
            "node-a1",
            "rack-a",
            NetMode::BridgeVxlan,
            Some(true),
            Some(ct(950_000, 1_000_000, 12.0, 300, Some(true))),
            [40, 0, 0],
        ),
        node(
            "node-a2",
            "rack-a",
            NetMode::BridgeNat,
            Some(false),
            Some(ct(800_000, 1_000_000, 0.0, 432_000, Some(false))),
            [30, 3, 0],
        ),
        node(
            "node-b1",
            "rack-b",
            NetMode::CiliumBgp,
            Some(true),
            Some(ct(200_000, 1_000_000, 0.0, 600, None)),
            [20, 5, 2],
        ),
        node(
            "node-b2-k",
            "rack-b",
            NetMode::CiliumBgp,
            None,
            Some(ct(10_000, 262_144, 0.0, 86_400, None)),
            [50, 0, 4],
        ),
        node("node-c1", "rack-c", NetMode::Unknown, None, None, [10, 0, 0]),
    ];
    // node-b1's pod connections fill Cilium's maps (Prometheus); node-b2-k's are not reported.
    let mut nodes = nodes;
    if let Some(h) = nodes[2].host.as_mut() {
        let map = |name: &str, pressure| MapFill { name: name.into(), pressure };
        h.value.cilium_ct = Some(CiliumMaps {
            maps: vec![map("ct4_global", 0.82), map("ct_any4_global", 0.41), map("snat_v4_external", 0.3)],
            insert_failed_per_s: Some(1.5),
        });
    }
    let classes = vec![
        RuntimeClass {
            name: "gvisor".into(),
            handler: "runsc".into(),
            kind: RuntimeKind::Gvisor,
            overhead_cpu_m: None,
            overhead_mem_bytes: None,
            node_selector: BTreeMap::new(),
            pods: Some(6),
        },
        RuntimeClass {
            name: "kata".into(),
            handler: "kata-qemu".into(),
            kind: RuntimeKind::Kata,
            overhead_cpu_m: Some(250),
            overhead_mem_bytes: Some(160 << 20),
            node_selector: [("katacontainers.io/kata-runtime".to_string(), "true".to_string())].into(),
            pods: Some(8),
        },
    ];
    let findings = vec![
        finding(
            Rule::ConntrackInsertFailed,
            Severity::Critical,
            "node-a1",
            "12 insert failures/s at 95% fill",
            30,
        ),
        finding(
            Rule::KataWithoutKvm,
            Severity::Critical,
            "node-a2",
            "3 kata pods on a node without /dev/kvm",
            90,
        ),
        finding(
            Rule::ConntrackTimeoutBelowKeepalive,
            Severity::Warning,
            "node-a1",
            "established timeout 300s < 900s keep-alive",
            600,
        ),
        finding(
            Rule::KataHostNetwork,
            Severity::Warning,
            "batch/transcode-7",
            "kata pod asks for hostNetwork",
            5,
        ),
        finding(
            Rule::SourceUnreachable,
            Severity::Info,
            "prometheus",
            "prometheus unreachable: connection refused",
            3,
        ),
    ];
    let sources = vec![
        SourceStatus {
            source: SourceId::Kubernetes,
            scope: String::new(),
            health: SourceHealth::Ok,
            updated: Some(now()),
            note: None,
        },
        SourceStatus {
            scope: String::new(),
            source: SourceId::Prometheus,
            health: SourceHealth::Unreachable { error: "connect: connection refused".into() },
            updated: Some(now() - Duration::minutes(3)),
            note: None,
        },
        SourceStatus {
            scope: String::new(),
            source: SourceId::Agents,
            health: SourceHealth::Forbidden { verb: "list".into(), resource: "pods".into() },
            updated: None,
            note: None,
        },
    ];
    let mut fills: Vec<WindowFill> = (0..3).map(|d| fill(d, None, true)).collect();
    fills.extend(["rack-a", "rack-b", "rack-c"].iter().map(|r| fill(0, Some(r), true)));
    Snapshot {
        now: now(),
        cluster: "test".into(),
        sources,
        nodes: nodes.into_iter().map(Arc::new).collect(),
        pods: Arc::default(),
        runtime_classes: classes,
        sandbox_starts: Default::default(),
        cpu: Some(curve(tz, 7)),
        node_cpu: None,
        tz,
        windows: vec![Window::parse("01:00-06:00").unwrap()],
        fills,
        findings,
        keepalive_idle_s: 900,
        unknown: Default::default(),
        foreign_nodes: Vec::new(),
    }
}

/// The hand-made cluster with fills and findings from the real analysis instead of hand-made ones.
pub fn analyzed() -> Snapshot {
    let mut snap = snapshot();
    let settings = crate::analysis::Settings {
        keepalive_idle_s: snap.keepalive_idle_s,
        windows: snap.windows.clone(),
        tz: snap.tz,
        ..crate::analysis::Settings::default()
    };
    snap.fills = match &snap.cpu {
        Some(c) => crate::analysis::colocation::fills(c, &snap.windows, snap.tz, snap.now),
        None => Vec::new(),
    };
    snap.findings = crate::analysis::rules::findings(&snap, &settings);
    snap
}

/// Render `f` at `w`x`h` and return the text rows.
pub fn render(
    snap: &Snapshot,
    model: &Model,
    theme: &Theme,
    w: u16,
    h: u16,
    f: fn(&Ctx, Rect, &mut Buffer),
) -> Vec<String> {
    let area = Rect::new(0, 0, w, h);
    let mut buf = Buffer::empty(area);
    f(&Ctx { snap, model, theme }, area, &mut buf);
    (0..h).map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>()).collect()
}

/// Render every variant a user may see (2 sizes x 2 themes, plus tiny) and print it; check
/// ascii output is ASCII. Returns the 200x50 default-theme text for further asserts.
pub fn preview(name: &str, snap: &Snapshot, model: &Model, f: fn(&Ctx, Rect, &mut Buffer)) -> String {
    let mut wide = String::new();
    for (theme, ascii) in [("default", false), ("mono", true)] {
        let th = Theme::builtin(theme, ascii).unwrap();
        for (w, h) in [(80, 24), (200, 50), (20, 5), (3, 2), (0, 0)] {
            let rows = render(snap, model, &th, w, h, f);
            let text = rows.join("\n");
            if w >= 80 {
                println!("--- {name} {w}x{h} {theme} ascii={ascii}\n{text}");
            }
            if ascii {
                assert!(text.is_ascii(), "{name} {w}x{h} not ascii:\n{text}");
            }
            if w == 200 && !ascii {
                wide = text;
            }
            // Offset inside a larger buffer: nothing is drawn outside the given area.
            let area = Rect::new(2, 1, w, h);
            let mut buf = Buffer::empty(Rect::new(0, 0, w + 4, h + 2));
            f(&Ctx { snap, model, theme: &th }, area, &mut buf);
            for y in 0..h + 2 {
                for x in 0..w + 4 {
                    let inside = area.contains(ratatui::layout::Position { x, y });
                    assert!(
                        inside || buf[(x, y)].symbol() == " ",
                        "{name} {w}x{h}: drawn outside at {x},{y}"
                    );
                }
            }
        }
    }
    wide
}

/// The simulated cluster (default config) at the fixed `now`, as `clustertop demo` shows it.
pub fn sim() -> Snapshot {
    crate::sim::snapshot_at(crate::sim::SimConfig::default(), now(), crate::analysis::Settings::default())
}

/// The whole screen (tabs, status, view, footer) for `view`, as text rows.
pub fn screen(snap: Snapshot, model: &Model, theme: &Theme, w: u16, h: u16) -> String {
    let model = Model { snap: Some(Arc::new(snap)), ..model.clone() };
    let area = Rect::new(0, 0, w, h);
    let mut buf = Buffer::empty(area);
    crate::views::render(&model, theme, area, &mut buf);
    (0..h).map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>()).collect::<Vec<_>>().join("\n")
}
