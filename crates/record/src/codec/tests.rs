use super::*;
use clustertop_core::model::Update;
use clustertop_core::testkit::T0;
use clustertop_sim::{Scenario, Sim, SimConfig};

fn roundtrip(u: &[Update]) -> Vec<Update> {
    let mut e = Enc::default();
    u.to_vec().enc(&mut e);
    Vec::<Update>::dec(&mut Dec::new(&e.buf)).expect("decodes")
}

#[test]
fn every_update_of_every_scenario_round_trips() {
    for sc in Scenario::ALL {
        let mut sim = Sim::new(SimConfig { nodes: 30, scenario: sc, ..SimConfig::default() }, T0);
        let first = sim.initial();
        assert_eq!(roundtrip(&first), first, "{sc}");
        let step = sim.step(T0 + chrono::Duration::milliseconds(1500));
        assert_eq!(roundtrip(&step), step, "{sc}");
    }
}

#[test]
fn truncated_or_garbled_bytes_are_errors_not_panics() {
    let mut sim = Sim::new(SimConfig { nodes: 8, ..SimConfig::default() }, T0);
    let mut e = Enc::default();
    sim.initial().enc(&mut e);
    for cut in (0..e.buf.len()).step_by(e.buf.len() / 60 + 1) {
        assert!(Vec::<Update>::dec(&mut Dec::new(&e.buf[..cut])).is_err());
    }
    let mut b = e.buf.clone();
    for i in (0..b.len()).step_by(13) {
        b[i] = b[i].wrapping_mul(31).wrapping_add(7);
    }
    let _ = Vec::<Update>::dec(&mut Dec::new(&b));
    // A huge count is refused before anything is allocated.
    let mut huge = Enc::default();
    huge.uvar(u64::MAX);
    assert!(Vec::<Update>::dec(&mut Dec::new(&huge.buf)).is_err());
}

#[test]
fn a_pods_sandbox_asks_round_trip() {
    use clustertop_core::model::{AddedCap, DevShm, SandboxAsks};
    let mut p = clustertop_core::testkit::pod("ns", "p", "n1", Some("kata"));
    let plain = p.clone();
    p.sandbox = SandboxAsks {
        host_pid: true,
        host_ipc: false,
        share_process_namespace: true,
        sysctls: vec!["net.core.somaxconn".into()],
        dev_shm: Some(DevShm { volume: "dshm".into(), memory: true, size_limit_bytes: Some(1 << 31) }),
        host_paths: vec!["/var/log".into()],
        init_caps: vec![AddedCap { container: "istio-init".into(), capability: "NET_ADMIN".into() }],
    }
    .boxed();
    let u = vec![Update::PodsReplaced(vec![p, plain])];
    assert_eq!(roundtrip(&u), u);
}

#[test]
fn the_kubelets_sandbox_starts_and_a_pods_start_round_trip() {
    use clustertop_core::model::KubeletStart;
    let mut p = clustertop_core::testkit::pod("ns", "p", "n1", Some("kata"));
    p.sandbox_start_s = Some(u16::MAX);
    let k = |node: Option<&str>, errors: Option<f64>| KubeletStart {
        handler: String::new(),
        node: node.map(Into::into),
        mean_s: Some(0.4),
        p50_s: None,
        p95_s: Some(0.4875),
        samples: 1200.0,
        errors,
    };
    let u = vec![
        Update::PodApplied(p),
        Update::KubeletStarts { window: "1h".into(), starts: vec![k(None, None), k(Some("n1"), Some(3.0))] },
    ];
    assert_eq!(roundtrip(&u), u);
}
