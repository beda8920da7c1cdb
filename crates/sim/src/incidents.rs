//! Which nodes carry which incident, picked from the seed. Each incident gets its own node where
//! the cluster is large enough; in a tiny cluster an incident without a fitting node is left out.

use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::Scenario;
use super::topology::{Role, SimNode};

#[derive(Debug, Clone, Default)]
pub(crate) struct Incidents {
    /// BGP 1/2: one session `Active`, "Hold timer expired".
    pub bgp_degraded: Option<usize>,
    /// BGP 0/2: `Idle`/`Connect`, "Connection refused".
    pub bgp_isolated: Option<usize>,
    /// One session toggles Established <-> Idle every 20-40 s.
    pub bgp_flapping: Option<usize>,
    /// Labelled kata-runtime=true, but no /dev/kvm; runs a Kata pod.
    pub kata_no_kvm: Option<usize>,
    /// Runs a Kata pod with `hostNetwork: true`.
    pub kata_hostnet: Option<usize>,
    /// Conntrack ~92 % full with insert failures and drops.
    pub ct_full: Option<usize>,
    /// A bridge node whose established timeout (300 s) is below the keep-alive idle time.
    pub ct_timeout: Option<usize>,
    /// A bridge node with `bridge-nf-call-iptables=1`.
    pub ct_brnf: Option<usize>,
    /// File handles at ~85 % of the maximum.
    pub fd_high: Option<usize>,
    /// Conntrack storm: per node, whether its table is 75-99 % full with insert failures.
    pub storm: Vec<bool>,
    /// A rack whose `a` TOR is down (1-based).
    pub tor_down: Option<usize>,
    /// Weak offline fill in the window two days before start.
    pub underfill: bool,
    /// The rack (1-based) whose offline work spills past the window every day.
    pub spill_rack: Option<usize>,
}

fn pick(
    rng: &mut ChaCha8Rng,
    nodes: &[SimNode],
    used: &mut Vec<usize>,
    fits: impl Fn(&SimNode) -> bool,
) -> Option<usize> {
    let cands: Vec<usize> =
        nodes.iter().enumerate().filter(|(i, n)| fits(n) && !used.contains(i)).map(|(i, _)| i).collect();
    if cands.is_empty() {
        return None;
    }
    let i = cands[rng.random_range(0..cands.len())];
    used.push(i);
    Some(i)
}

impl Incidents {
    pub(crate) fn pick(scenario: Scenario, nodes: &[SimNode], rng: &mut ChaCha8Rng) -> Incidents {
        let mut inc = Incidents { storm: vec![false; nodes.len()], ..Incidents::default() };
        if scenario == Scenario::Healthy {
            return inc;
        }
        let mut used = Vec::new();
        // In a TOR outage, keep the other BGP incidents off the affected rack (all 1/2 there).
        let outage = scenario == Scenario::TorOutage;
        let bgp = |n: &SimNode| n.role == Role::CiliumBgp && !(outage && n.rack == 5);
        let bridge = |n: &SimNode| n.role.is_bridge();
        inc.bgp_degraded = pick(rng, nodes, &mut used, bgp);
        inc.bgp_isolated = pick(rng, nodes, &mut used, bgp);
        inc.bgp_flapping = pick(rng, nodes, &mut used, bgp);
        inc.kata_no_kvm = pick(rng, nodes, &mut used, |n| n.kata);
        inc.kata_hostnet = pick(rng, nodes, &mut used, |n| n.kata);
        inc.ct_timeout = pick(rng, nodes, &mut used, bridge);
        inc.ct_brnf = pick(rng, nodes, &mut used, bridge);
        inc.ct_full = pick(rng, nodes, &mut used, |_| true);
        inc.fd_high = pick(rng, nodes, &mut used, |_| true);
        inc.underfill = true;
        inc.spill_rack = (nodes.iter().any(|n| n.rack == 5)).then_some(5);
        match scenario {
            Scenario::TorOutage => inc.tor_down = nodes.iter().any(|n| n.rack == 5).then_some(5),
            Scenario::ConntrackStorm => {
                let mut order: Vec<usize> = (0..nodes.len()).collect();
                order.shuffle(rng);
                for &i in order.iter().take(nodes.len() / 3) {
                    inc.storm[i] = true;
                }
            }
            Scenario::Migration | Scenario::Healthy | Scenario::Hostile => {}
        }
        inc
    }

    pub(crate) fn is_storm(&self, i: usize) -> bool {
        self.storm.get(i).copied().unwrap_or(false)
    }
}
