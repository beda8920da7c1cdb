//! The recorder against the simulated cluster on an injected clock: a scripted TOR outage read
//! back before, during and after; exact replay; damaged files; two recorders; a simulated week
//! within the size and age bounds.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Duration, Utc};
use clustertop_core::analysis::Settings;
use clustertop_core::model::{Snapshot, Update};
use clustertop_core::store::ClusterState;
use clustertop_core::testkit::T0;
use clustertop_sim::{Scenario, Sim, SimConfig};

use crate::tap;
use crate::thin::Refresh;
use crate::*;

/// A fresh directory for one test, removed when dropped.
pub(crate) struct TempDir(pub PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("ct-record-{}-{n}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn header(cluster: &str) -> Header {
    Header { cluster: cluster.into(), context: "test".into(), version: "0.0.0-test".into() }
}

fn at(s: i64) -> DateTime<Utc> {
    T0 + Duration::seconds(s)
}

/// Everything a snapshot shows.
fn shown(s: &Snapshot) -> String {
    format!(
        "{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        s.now,
        s.sources,
        s.nodes,
        s.pods,
        s.runtime_classes,
        s.cpu,
        s.fills,
        s.findings,
        s.unknown,
        s.foreign_nodes
    )
}

const OUTAGE: (i64, i64) = (600, 1200);
const STEP: i64 = 5;

/// The healthy simulated cluster for 30 minutes in steps of 5 s, with TOR `tor-5a` down from
/// minute 10 to minute 20; each batch is handed to `f` with its time.
fn scripted(nodes: usize, mut f: impl FnMut(DateTime<Utc>, Vec<Update>)) -> String {
    let cfg = SimConfig { nodes, scenario: Scenario::Healthy, ..SimConfig::default() };
    let mut sim = Sim::new(cfg, at(0));
    f(at(0), sim.initial());
    for s in (STEP..=1800).step_by(STEP as usize) {
        let mut batch = sim.step(at(s));
        if s == OUTAGE.0 {
            batch.extend(sim.set_tor(5, 0, false, at(s)));
        }
        if s == OUTAGE.1 {
            batch.extend(sim.set_tor(5, 0, true, at(s)));
        }
        f(at(s), batch);
    }
    sim.label()
}

fn rack5(s: &Snapshot) -> Vec<(String, String)> {
    let bgp = s
        .nodes
        .iter()
        .filter(|n| n.rack == "rack-5" && n.bgp_verdict != clustertop_core::model::BgpVerdict::NotApplicable);
    bgp.map(|n| (n.name.clone(), n.bgp_label())).collect()
}

#[test]
fn a_scripted_tor_outage_reads_back_before_during_and_after() {
    let dir = TempDir::new("outage");
    let path = dir.file("c.sqlite");
    let opts = Options { keyframe_every: Duration::minutes(7), ..Options::default() };
    let mut w: Option<Writer> = None;
    let label = scripted(48, |t, b| {
        let w = w.get_or_insert_with(|| Writer::create(&path, &header("demo"), opts, t).expect("create"));
        w.record(t, &b).expect("record");
    });
    w.expect("writer").close().expect("close");
    let r = Recording::open(&path, Settings::default()).expect("open");
    assert_eq!(r.header().cluster, "demo");
    assert!(!label.is_empty());
    for (t, want) in [(300, "2/2"), (900, "1/2"), (1500, "2/2")] {
        let s = r.snapshot_at(at(t)).expect("snapshot");
        assert_eq!(s.now, at(t));
        let nodes = rack5(&s);
        assert!(nodes.len() >= 4, "{nodes:?}");
        assert!(nodes.iter().all(|(_, l)| l == want), "at +{t}s: {nodes:?}");
    }
    // Outside the recording: a clear error naming what is recorded.
    let e = r.snapshot_at(at(-60)).expect_err("before the recording");
    assert!(matches!(e, Error::NotRecorded { .. }) && e.to_string().contains("recorded: "), "{e}");

    let inc = incident::build(&r, at(300), at(1500), Duration::seconds(1)).expect("incident");
    let tor = inc.tors.iter().find(|t| t.name == "tor-5a");
    let tor = tor.unwrap_or_else(|| {
        panic!("tor-5a in the report: {:?}\n{:?}", inc.tors, &inc.timeline[..inc.timeline.len().min(20)])
    });
    assert_eq!((tor.start, tor.end), (Some(at(OUTAGE.0)), Some(at(OUTAGE.1))), "{tor:?}");
    assert_eq!(tor.rack.as_deref(), Some("rack-5"));
    assert_eq!(tor.nodes.len(), rack5(&r.snapshot_at(at(900)).expect("snap")).len());
    let rack = inc.racks.iter().find(|r| r.name == "rack-5").expect("rack-5 in the report");
    assert_eq!((rack.start, rack.end), (Some(at(OUTAGE.0)), Some(at(OUTAGE.1))));
    // One finding for the outage (the TOR, with its nodes as evidence), not one per node.
    let f = inc.findings.iter().find(|f| f.rule.id() == "bgp-peer-down" && f.subject == "tor-5a");
    let f = f.expect("the TOR's bgp-peer-down finding");
    assert!(!inc.findings.iter().any(|f| f.rule.id() == "bgp-ecmp-degraded"), "{:?}", inc.findings);
    assert_eq!((f.first, f.last), (Some(at(OUTAGE.0)), Some(at(OUTAGE.1))), "{f:?}");
    assert_eq!(inc.verdicts.len(), 2 * tor.nodes.len(), "each node went 2/2 -> 1/2 -> 2/2");
}

/// Options that record every update (nothing thinned), compacting every minute.
fn unthinned(keyframe_every: Duration) -> Options {
    let zero = Refresh { health: Duration::zero(), node: Duration::zero(), curve: Duration::zero() };
    Options { keyframe_every, compact_every: Duration::minutes(1), refresh: zero, ..Options::default() }
}

#[test]
fn without_thinning_a_replayed_moment_is_exactly_the_live_one_at_the_recorded_precision() {
    let dir = TempDir::new("exact");
    let path = dir.file("c.sqlite");
    let opts = unthinned(Duration::minutes(4));
    let moments = [0, 5, 300, 605, 1195, 1200, 1777];
    let mut live: Option<ClusterState> = None;
    let mut want = Vec::new();
    let mut w: Option<Writer> = None;
    scripted(24, |t, b| {
        let w = w.get_or_insert_with(|| Writer::create(&path, &header("demo"), opts, t).expect("create"));
        w.record(t, &b).expect("record");
        let s = live.get_or_insert_with(|| ClusterState::new("demo", Settings::default()));
        // Host readings are recorded to the precision views show (`thin::quantize`).
        b.into_iter().for_each(|mut u| {
            crate::thin::quantize(&mut u);
            s.apply(u);
        });
        if moments.contains(&(t - at(0)).num_seconds()) {
            want.push((t, shown(&s.snapshot(t))));
        }
    });
    // Read while the recorder still holds the file (the tail not yet compacted), then closed.
    let r = Recording::open(&path, Settings::default()).expect("open");
    for (t, s) in &want {
        assert_eq!(&shown(&r.snapshot_at(*t).expect("snapshot")), s, "at {t}");
    }
    w.expect("writer").close().expect("close");
    for (t, s) in &want {
        assert_eq!(&shown(&r.snapshot_at(*t).expect("snapshot")), s, "at {t} after close");
    }
}

/// The instants of a session before its first batch are not an empty cluster: the seek says
/// nothing was recorded yet (the cursor stepping back to a recording's start landed there, and
/// showed 0 nodes, 0 pods and no finding).
#[test]
fn before_any_source_reported_a_moment_is_unknown_not_empty() {
    let dir = TempDir::new("first");
    let path = dir.file("c.sqlite");
    let mut sim =
        Sim::new(SimConfig { nodes: 8, scenario: Scenario::Migration, ..SimConfig::default() }, at(0));
    let mut w = Writer::create(&path, &header(&sim.label()), Options::default(), at(0)).expect("create");
    w.record(at(2), &sim.initial()).expect("record");
    w.close().expect("close");
    let r = Recording::open(&path, Settings::default()).expect("open");
    for t in [at(0), at(1)] {
        match r.snapshot_at(t) {
            Err(Error::Unavailable(why)) => assert!(why.contains("nothing was recorded yet"), "{why}"),
            other => panic!("at {t}: {:?}", other.map(|s| s.nodes.len())),
        }
    }
    assert_eq!(r.snapshot_at(at(2)).expect("after the first batch").nodes.len(), 8);
}

/// The cursor's seeks start from states earlier seeks left (checkpoints): moving back and forth,
/// in any order, while the recorder writes and compacts and after it closed, every moment reads
/// exactly as a fresh read of the file does.
#[test]
fn seeks_in_any_order_read_as_fresh_reads() {
    let dir = TempDir::new("seeks");
    let path = dir.file("c.sqlite");
    let opts = Options {
        keyframe_every: Duration::minutes(10),
        compact_every: Duration::minutes(1),
        ..Options::default()
    };
    let mut w: Option<Writer> = None;
    let mut r: Option<Recording> = None;
    let order = [500, 20, 590, 300, 301, 900, 60, 1190, 610, 5, 1000];
    let check = |r: &Recording, upto: i64| {
        for s in order.iter().copied().filter(|s| *s <= upto) {
            let fresh = Recording::open(&path, Settings::default()).expect("open");
            let want = shown(&fresh.snapshot_at(at(s)).expect("fresh"));
            assert_eq!(
                shown(&r.snapshot_at(at(s)).expect("cached")),
                want,
                "at +{s}s (recorded to +{upto}s)"
            );
        }
    };
    scripted(20, |t, b| {
        let w = w.get_or_insert_with(|| Writer::create(&path, &header("demo"), opts, t).expect("create"));
        w.record(t, &b).expect("record");
        let s = (t - at(0)).num_seconds();
        if s > 0 && s % 400 == 0 {
            // Mid-recording, with the same reader each time: its checkpoints outlive compactions.
            check(r.get_or_insert_with(|| Recording::open(&path, Settings::default()).expect("open")), s);
        }
    });
    w.expect("writer").close().expect("close");
    check(r.as_ref().expect("a reader"), 1200);
}

#[test]
fn thinning_keeps_what_views_show_within_a_minute() {
    let dir = TempDir::new("thin");
    let path = dir.file("c.sqlite");
    let mut w: Option<Writer> = None;
    let mut live = ClusterState::new("demo", Settings::default());
    let mut last = None;
    scripted(48, |t, b| {
        let w = w.get_or_insert_with(|| {
            Writer::create(&path, &header("demo"), Options::default(), t).expect("create")
        });
        w.record(t, &b).expect("record");
        b.into_iter().for_each(|u| {
            live.apply(u);
        });
        last = Some(t);
    });
    let w = w.expect("writer");
    let stats = w.stats();
    assert!(stats.updates_kept * 3 < stats.updates_in, "{stats:?}");
    w.close().expect("close");
    let t = last.expect("ran");
    let r = Recording::open(&path, Settings::default()).expect("open");
    let (a, b) = (r.snapshot_at(t).expect("snapshot"), live.snapshot(t));
    let verdicts = |s: &Snapshot| {
        s.nodes
            .iter()
            .map(|n| (n.name.clone(), n.bgp_label(), n.net.mode, n.runtime, n.pods))
            .collect::<Vec<_>>()
    };
    assert_eq!(verdicts(&a), verdicts(&b));
    let keys = |s: &Snapshot| s.findings.iter().map(|f| (f.rule, f.subject.clone())).collect::<Vec<_>>();
    assert_eq!(keys(&a), keys(&b));
    for (x, y) in a.nodes.iter().zip(&b.nodes) {
        let (hx, hy) = (x.host.as_ref().expect("host"), y.host.as_ref().expect("host"));
        assert!(hy.at - hx.at <= Duration::minutes(5), "{}: recorded reading {} old", x.name, hy.at - hx.at);
        // A reading kept for one figure keeps the others' last records: each within its noise.
        let (fx, fy) = (&hx.value, &hy.value);
        if let (Some(a), Some(b)) = (fx.cpu_now, fy.cpu_now) {
            assert!((a - b).abs() <= 0.05 + 1e-4, "{}: CPU {a} recorded, {b} live", x.name);
        }
        if let (Some(a), Some(b)) = (&fx.conntrack, &fy.conntrack) {
            let d = a.entries.abs_diff(b.entries);
            assert!(
                a.limit == b.limit && d <= b.limit / 50,
                "{}: conntrack {} recorded, {} live",
                x.name,
                a.entries,
                b.entries
            );
        }
    }
}

fn record_some(path: &Path, secs: i64) {
    let mut w: Option<Writer> = None;
    let cfg = SimConfig { nodes: 12, ..SimConfig::default() };
    let mut sim = Sim::new(cfg, at(0));
    let opts = Options {
        compact_every: Duration::minutes(1),
        keyframe_every: Duration::minutes(3),
        ..Options::default()
    };
    let mut w0 = Writer::create(path, &header("demo"), opts, at(0)).expect("create");
    w0.record(at(0), &sim.initial()).expect("record");
    w = w.or(Some(w0));
    let w = w.as_mut().expect("writer");
    for s in (5..=secs).step_by(5) {
        w.record(at(s), &sim.step(at(s))).expect("record");
    }
}

#[test]
fn a_damaged_file_gives_a_clear_error_or_reads_up_to_the_damage() {
    let dir = TempDir::new("damage");
    let good = dir.file("good.sqlite");
    record_some(&good, 900);
    let bytes = std::fs::read(&good).expect("read");
    assert!(bytes.len() > 8192, "{}", bytes.len());

    // Truncated: SQLite says the image is malformed, or it reads what is there.
    for keep in [100, bytes.len() / 2, bytes.len() - 4096] {
        let p = dir.file(&format!("cut-{keep}.sqlite"));
        std::fs::write(&p, &bytes[..keep]).expect("write");
        match Recording::open(&p, Settings::default()) {
            Err(e) => assert!(matches!(e, Error::Damaged { .. } | Error::NotARecording(_)), "{keep}: {e:?}"),
            Ok(r) => {
                let r = r.snapshot_at(at(450));
                assert!(
                    r.is_ok() || matches!(r, Err(Error::Damaged { .. } | Error::NotRecorded { .. })),
                    "{keep}: {r:?}"
                );
            }
        }
    }
    // Garbage in the frames' pages: an error naming the damage, never a panic.
    let mut bad = bytes.clone();
    for b in bad.iter_mut().skip(bytes.len() / 3).take(bytes.len() / 3) {
        *b ^= 0x5a;
    }
    let p = dir.file("garbled.sqlite");
    std::fs::write(&p, &bad).expect("write");
    if let Ok(r) = Recording::open(&p, Settings::default()) {
        for t in [0, 300, 600, 900] {
            if let Err(e) = r.snapshot_at(at(t)) {
                assert!(
                    matches!(e, Error::Damaged { .. } | Error::NotRecorded { .. } | Error::Db { .. }),
                    "{e:?}"
                );
                assert!(!e.to_string().is_empty());
            }
        }
    }
    // Not a recording at all.
    let p = dir.file("text.sqlite");
    std::fs::write(&p, b"hello, this is not sqlite").expect("write");
    let e = Recording::open(&p, Settings::default()).err().expect("an error");
    assert!(matches!(e, Error::Damaged { .. } | Error::NotARecording(_)), "{e:?}");
    let e = Recording::open(&dir.file("absent.sqlite"), Settings::default()).err().expect("missing");
    assert_eq!(e.to_string(), format!("{}: no such recording", dir.file("absent.sqlite").display()));
}

#[test]
fn a_newer_schema_is_refused_with_a_clear_error() {
    let dir = TempDir::new("newer");
    let p = dir.file("c.sqlite");
    record_some(&p, 60);
    let c = rusqlite::Connection::open(&p).expect("open");
    c.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'", []).expect("update");
    drop(c);
    let e = Recording::open(&p, Settings::default()).err().expect("refused");
    assert!(
        e.to_string().contains(&format!(
            "newer clustertop (recording schema 99; this one reads up to {SCHEMA_VERSION})"
        )),
        "{e}"
    );
    let e = Writer::create(&p, &header("demo"), Options::default(), at(0)).err().expect("refused");
    assert!(matches!(e, Error::NewerSchema { found: 99, .. }), "{e:?}");
}

/// An older schema's frames would misread (schema 1 pods had no `sandbox`, schema 2 host readings
/// were whole and sessions had no failover fields), so the file is refused whole.
#[test]
fn an_older_schema_is_refused_with_a_clear_error() {
    let dir = TempDir::new("older");
    let p = dir.file("c.sqlite");
    record_some(&p, 60);
    let c = rusqlite::Connection::open(&p).expect("open");
    c.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'", []).expect("update");
    drop(c);
    let e = Recording::open(&p, Settings::default()).err().expect("refused");
    assert!(
        e.to_string()
            .contains(&format!("older clustertop (recording schema 1; this one reads {SCHEMA_VERSION})")),
        "{e}"
    );
    let e = Writer::create(&p, &header("demo"), Options::default(), at(0)).err().expect("refused");
    assert!(matches!(e, Error::OlderSchema { found: 1, .. }), "{e:?}");
}

#[test]
fn two_recorders_do_not_share_a_file_and_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("two");
    let p = dir.file("sub/c.sqlite");
    let mut a = Writer::create(&p, &header("demo"), Options::default(), at(0)).expect("first");
    let e = Writer::create(&p, &header("demo"), Options::default(), at(1)).err().expect("second refused");
    assert_eq!(e, Error::Busy(p.clone()));
    assert!(e.to_string().contains("being recorded by another clustertop"));
    let sim_updates = Sim::new(SimConfig { nodes: 6, ..SimConfig::default() }, at(0)).initial();
    a.record(at(2), &sim_updates).expect("the first goes on");
    a.flush(at(3)).expect("flush");
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&p), 0o600);
    assert_eq!(mode(&wal_path(&p)), 0o600);
    assert_eq!(mode(p.parent().expect("dir")), 0o700);
    a.close().expect("close");
    // Once closed, the next recorder appends a session; another cluster is refused.
    let b = Writer::create(&p, &header("demo"), Options::default(), at(10)).expect("reopened");
    b.close().expect("close");
    let e = Writer::create(&p, &header("other"), Options::default(), at(20)).err().expect("other cluster");
    assert!(matches!(e, Error::OtherCluster { .. }), "{e:?}");
    let r = Recording::open(&p, Settings::default()).expect("open");
    assert_eq!(r.spans().expect("spans").len(), 2);
    assert_eq!(r.snapshot_at(at(3)).expect("snapshot").nodes.len(), 6);
    // The second session recorded nothing: not an empty cluster.
    assert!(matches!(r.snapshot_at(at(10)), Err(Error::Unavailable(_))), "second session");
}

#[test]
fn the_size_and_age_bounds_hold_over_a_simulated_week() {
    let dir = TempDir::new("week");
    let p = dir.file("c.sqlite");
    let max_bytes = 1 << 20;
    let opts = Options { max_age: Duration::days(2), max_bytes, ..Options::default() };
    let cfg = SimConfig { nodes: 12, ..SimConfig::default() };
    let mut sim = Sim::new(cfg, at(0));
    let initial = sim.initial();
    let mut w = Writer::create(&p, &header("demo"), opts, at(0)).expect("create");
    w.record(at(0), &initial).expect("record");
    // A week of minutes (the simulator's 7-day curve is too slow to step through a week in a
    // test build): host readings that move, pods that come and go, the source's heartbeat.
    let hosts: Vec<Update> = initial.iter().filter(|u| matches!(u, Update::Host { .. })).cloned().collect();
    let mut pods: Vec<clustertop_core::model::Pod> = initial
        .iter()
        .find_map(|u| if let Update::PodsReplaced(p) = u { Some(p.clone()) } else { None })
        .unwrap_or_default();
    let mut biggest = 0;
    let week = 7 * 86_400;
    for (i, s) in (60..=week).step_by(60).enumerate() {
        let t = at(s);
        let mut batch = vec![Update::Health {
            source: clustertop_core::model::SourceId::Simulator,
            scope: String::new(),
            health: clustertop_core::model::SourceHealth::Ok,
            at: t,
        }];
        for (j, h) in hosts.iter().enumerate() {
            if let Update::Host { node, facts, .. } = h {
                let mut facts = facts.clone();
                if let Some(c) = facts.conntrack.as_mut() {
                    c.entries = (c.entries + ((i * 7 + j * 13) % 50) as u64 * c.limit / 500) % c.limit;
                }
                batch.push(Update::Host { node: node.clone(), facts, at: t });
            }
        }
        for k in 0..10 {
            let n = (i * 10 + k) % pods.len();
            let p = &mut pods[n];
            batch.push(Update::PodDeleted { namespace: p.namespace.to_string(), name: p.name.to_string() });
            p.name = format!("churn-{i}-{k}").into();
            batch.push(Update::PodApplied(p.clone()));
        }
        w.record(t, &batch).expect("record");
        if s % 600 == 0 {
            let size = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0)
                + std::fs::metadata(wal_path(&p)).map(|m| m.len()).unwrap_or(0);
            biggest = biggest.max(size);
        }
    }
    let stats = w.stats();
    w.close().expect("close");
    assert!(stats.pruned_frames > 0, "{stats:?}");
    assert!(biggest <= max_bytes, "file and WAL reached {biggest} bytes (bound {max_bytes})");
    let r = Recording::open(&p, Settings::default()).expect("open");
    let spans = r.spans().expect("spans");
    let first = spans.first().expect("a span").start;
    let end = at(week);
    assert!(end - first <= Duration::days(2), "oldest kept {first}");
    if let Err(e) = r.snapshot_at(end - Duration::hours(1)) {
        panic!("{e}: {spans:?}");
    }
    assert!(matches!(r.snapshot_at(at(3600)), Err(Error::NotRecorded { .. })));
}

/// The store hands batches to the recorder's thread without waiting; when the channel is full a
/// batch is dropped, and the next one that fits is preceded by the store's keyframe, so the
/// recording ends exactly where the store did (pods, nodes, verdicts).
#[test]
fn the_tap_never_waits_and_a_lost_batch_is_made_up_by_a_keyframe() {
    let dir = TempDir::new("tap");
    let p = dir.file("t.sqlite");
    let mut sim = Sim::new(SimConfig { nodes: 12, ..SimConfig::default() }, at(0));
    let w = Writer::create(&p, &header("demo"), Options::default(), at(0)).expect("create");
    let (mut tap, handle) = tap::spawn(w, Box::new(|| at(0)), Box::new(|_| {})).expect("spawn");
    let mut state = ClusterState::new("demo", Settings::default());
    let mut batches = vec![(at(0), sim.initial())];
    batches.extend((1..=600).map(|s| (at(s), sim.step(at(s)))));
    for (t, b) in batches {
        tap.send(t, &b, || state.keyframe());
        for u in b {
            state.apply(u);
        }
    }
    assert!(tap.active());
    tap.finish(at(600), || state.keyframe());
    drop(tap);
    let stats = handle.join().expect("the thread").expect("recorded");
    let r = Recording::open(&p, Settings::default()).expect("open");
    let span = *r.spans().expect("spans").last().expect("a span");
    assert!(span.closed);
    let got = r.snapshot_at(at(600)).expect("the last moment");
    let want = state.snapshot(at(600));
    let view = |s: &Snapshot| {
        let nodes: Vec<_> =
            s.nodes.iter().map(|n| (n.name.clone(), n.bgp_verdict, n.pods, n.runtime)).collect();
        (nodes, s.pods.len(), s.findings.iter().map(|f| (f.rule, f.subject.clone())).collect::<Vec<_>>())
    };
    assert_eq!(view(&got), view(&want), "{stats:?}");
}

/// Beside the dashboard's store the recorder keeps no copy of the state (at 150,000 pods it cost
/// about 50 MB): its keyframes are asked of the store through the tap (`tap::tests`), and the
/// recording ends exactly where the store did, batches lost on the way or not.
#[test]
fn beside_a_store_the_keyframes_are_the_stores() {
    let dir = TempDir::new("beside");
    let path = dir.file("c.sqlite");
    let w = Writer::create(&path, &header("demo"), unthinned(Duration::minutes(4)), at(0)).expect("create");
    let (mut tap, handle) = tap::spawn_beside(w, Box::new(|| at(0)), Box::new(|_| {})).expect("spawn");
    let mut state = ClusterState::new("demo", Settings::default());
    scripted(12, |t, b| {
        tap.send(t, &b, || state.keyframe());
        b.into_iter().for_each(|mut u| {
            crate::thin::quantize(&mut u);
            state.apply(u);
        });
    });
    tap.finish(at(1800), || state.keyframe());
    drop(tap);
    let stats = handle.join().expect("the thread").expect("recorded");
    let r = Recording::open(&path, Settings::default()).expect("open");
    let end = r.snapshot_at(at(1800)).expect("the end");
    assert_eq!(shown(&end), shown(&state.snapshot(at(1800))), "{stats:?}");
}

/// Asked for once when due, the store's state arrives as `resync` and is the keyframe: moments
/// on both sides of such keyframes read back exactly as the store had them.
#[test]
fn a_keyframe_due_is_asked_of_the_store_once_and_moments_read_back_exactly() {
    let dir = TempDir::new("ask");
    let path = dir.file("c.sqlite");
    let mut w =
        Writer::create(&path, &header("demo"), unthinned(Duration::minutes(4)), at(0)).expect("create");
    let wanted = w.keyframes_from_store();
    let asked = || wanted.load(std::sync::atomic::Ordering::Relaxed);
    let mut state = ClusterState::new("demo", Settings::default());
    let (mut want, mut asks) = (Vec::new(), Vec::new());
    let moments = [5, 235, 245, 600, 1195, 1205, 1790];
    scripted(12, |t, b| {
        if asked() {
            asks.push((t - at(0)).num_seconds());
            // As the tap does: the store's state before the batch.
            w.resync(t, state.keyframe()).expect("resync");
            assert!(!asked(), "answered");
        }
        w.record(t, &b).expect("record");
        b.into_iter().for_each(|mut u| {
            crate::thin::quantize(&mut u);
            state.apply(u);
        });
        if moments.contains(&(t - at(0)).num_seconds()) {
            want.push((t, shown(&state.snapshot(t))));
        }
    });
    // Due at 4 min (240 s), answered with the next batch; then 4 min after each.
    assert_eq!(asks, [245, 490, 735, 980, 1225, 1470, 1715]);
    assert_eq!(w.stats().keyframes, 1 + asks.len() as u64);
    w.close().expect("close");
    let r = Recording::open(&path, Settings::default()).expect("open");
    for (t, s) in &want {
        assert_eq!(&shown(&r.snapshot_at(*t).expect("snapshot")), s, "at {t}");
    }
}

/// A dashboard's recording starts before its sources have reported: the first minute (nodes
/// listed, then pods, then each source's health, arriving over seconds) is the recording's
/// starting state, not changes. A diff or an incident reaching back to the start lists neither
/// "source absent → ok" nor findings "first seen" as the data arrived; the TOR outage at +600 s
/// is still there with its start and end.
#[test]
fn the_first_minute_of_a_recording_is_its_starting_state_not_changes() {
    let dir = TempDir::new("warmup");
    let path = dir.file("c.sqlite");
    let mut w: Option<Writer> = None;
    scripted(48, |t, b| {
        let w = w.get_or_insert_with(|| {
            Writer::create(&path, &header("demo"), Options::default(), t).expect("create")
        });
        if t == at(0) {
            // The initial state as a live dashboard receives it: one kind of update at a time.
            let mut b = b;
            let mut i = 0;
            while !b.is_empty() {
                let n = b.len().min(b.len() / 4 + 1);
                let part: Vec<Update> = b.drain(..n).collect();
                w.record(at(i), &part).expect("record");
                i += 1;
            }
            return;
        }
        w.record(t, &b).expect("record");
    });
    w.expect("writer").close().expect("close");
    let r = Recording::open(&path, Settings::default()).expect("open");
    let changes = r.changes(at(-3600), at(1800), Duration::seconds(1)).expect("changes");
    let early: Vec<_> = changes.iter().filter(|c| c.at < at(OUTAGE.0)).collect();
    assert!(early.is_empty(), "changes while the recording learned the cluster: {early:?}");
    let inc = incident::build(&r, at(0), at(1800), Duration::seconds(1)).expect("incident");
    let tor = inc.tors.iter().find(|t| t.name == "tor-5a").expect("the outage");
    assert_eq!((tor.start, tor.end), (Some(at(OUTAGE.0)), Some(at(OUTAGE.1))));
    let seen_at_start: Vec<_> =
        inc.findings.iter().filter(|f| f.first.is_some_and(|t| t < at(OUTAGE.0))).collect();
    assert!(seen_at_start.is_empty(), "findings dated as the data arrived: {seen_at_start:?}");
}

/// Heavy pod churn (pods created, moved between nodes, deleted, created again, deleted unknown,
/// names that sanitizing changes, a relist, then a relist naming a pod twice on two nodes):
/// moments across keyframe intervals read exactly as the live store had them, from fresh readers
/// and from one reader that keeps its checkpoints.
#[test]
fn under_pod_churn_and_relists_a_replayed_moment_is_exactly_the_live_one() {
    let dir = TempDir::new("podset");
    let path = dir.file("c.sqlite");
    let opts = unthinned(Duration::minutes(10));
    let moments = [3, 200, 330, 599, 600, 601, 895, 1200, 1201, 1433, 1790];
    let mut live: Option<ClusterState> = None;
    let mut want = Vec::new();
    let mut w: Option<Writer> = None;
    let mut pods: Vec<clustertop_core::model::Pod> = Vec::new();
    let mut nodes: Vec<String> = Vec::new();
    scripted(12, |t, mut b| {
        let s = (t - at(0)).num_seconds();
        if pods.is_empty() {
            pods = b
                .iter()
                .find_map(|u| if let Update::PodsReplaced(p) = u { Some(p.clone()) } else { None })
                .unwrap_or_default();
            nodes = b
                .iter()
                .filter_map(|u| {
                    if let Update::NodeApplied { node, .. } = u { Some(node.name.clone()) } else { None }
                })
                .collect();
            assert!(!pods.is_empty() && !nodes.is_empty());
        }
        for i in 0..12usize {
            let j = (s as usize * 31 + i * 7) % pods.len();
            let p = &mut pods[j];
            match (s / STEP + i as i64) % 5 {
                0 => b.push(Update::PodDeleted {
                    namespace: p.namespace.to_string(),
                    name: p.name.to_string(),
                }),
                1 => {
                    // Moved to another node.
                    p.node = Some(nodes[(j + s as usize) % nodes.len()].as_str().into());
                    b.push(Update::PodApplied(p.clone()));
                }
                2 => {
                    // Renamed: a new pod; every so often a name sanitizing changes.
                    let bell = if i == 3 { "\u{7}" } else { "" };
                    p.name = format!("churn-{s}-{i}{bell}").into();
                    b.push(Update::PodApplied(p.clone()));
                }
                3 => b.push(Update::PodDeleted { namespace: "nowhere".into(), name: format!("gone-{s}") }),
                _ => b.push(Update::PodApplied(p.clone())),
            }
        }
        if s == 700 {
            b.push(Update::PodsReplaced(pods.clone()));
        }
        if s == 1300 {
            // A relist that names a pod twice, on two nodes: the store keeps both.
            let mut twice = pods.clone();
            let mut again = twice[0].clone();
            again.node = Some(nodes[1].as_str().into());
            twice.push(again);
            b.push(Update::PodsReplaced(twice));
        }
        let w = w.get_or_insert_with(|| Writer::create(&path, &header("demo"), opts, t).expect("create"));
        w.record(t, &b).expect("record");
        let st = live.get_or_insert_with(|| ClusterState::new("demo", Settings::default()));
        b.into_iter().for_each(|mut u| {
            crate::thin::quantize(&mut u);
            st.apply(u);
        });
        if moments.contains(&s) {
            want.push((t, shown(&st.snapshot(t))));
        }
    });
    w.expect("writer").close().expect("close");
    let kept = Recording::open(&path, Settings::default()).expect("open");
    for (t, s) in want.iter().rev().chain(&want) {
        let fresh = Recording::open(&path, Settings::default()).expect("open");
        assert_eq!(&shown(&fresh.snapshot_at(*t).expect("fresh")), s, "fresh reader at {t}");
        assert_eq!(&shown(&kept.snapshot_at(*t).expect("kept")), s, "kept reader at {t}");
    }
}
