//! The deterministic simulated cluster.
//!
//! Everything is derived from the seed in [`SimConfig`] and the times handed to [`Sim::new`] and
//! [`Sim::step`]; the simulator never reads the clock. Same config, same `start` and the same
//! sequence of `now` values give identical updates.
//!
//! Layout: `topology` (racks, nodes, network signals), `incidents` (what is broken where),
//! `bgp` (sessions and the flapping one), `host` (host facts and conntrack), `pods` (slim pods and
//! churn), `cpu` (the 7-day CPU curve), `noise` (hash-based deterministic noise).

pub(crate) use clustertop_core::{analysis, model, store};

mod bgp;
mod cpu;
pub mod detail;
mod host;
pub mod hostile;
mod incidents;
mod noise;
pub mod openmetrics;
mod pods;
pub mod serve;
pub mod starts;
mod topology;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_incidents;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::model::Update;
use crate::model::{BgpSession, RuntimeClass, RuntimeKind, SourceHealth, SourceId};

use self::bgp::Flap;
use self::cpu::CpuModel;
use self::host::HostState;
use self::incidents::Incidents;
use self::pods::Churn;
use self::topology::SimNode;

/// What the simulated cluster is going through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scenario {
    /// A network migration in progress, with BGP, conntrack, Kata and window incidents.
    #[default]
    Migration,
    /// Same topology, nothing wrong.
    Healthy,
    /// Like `Migration`, and TOR `tor-5a` is down: every rack-5 node is at 1/2.
    TorOutage,
    /// Like `Migration`, and a third of the nodes have nearly full conntrack tables.
    ConntrackStorm,
    /// Like `Migration`, with escape sequences, control characters, bidi overrides and very long
    /// strings in rack names, BGP errors and pod names (`sim::hostile`).
    Hostile,
}

impl Scenario {
    pub const ALL: [Scenario; 5] = [
        Scenario::Migration,
        Scenario::Healthy,
        Scenario::TorOutage,
        Scenario::ConntrackStorm,
        Scenario::Hostile,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Migration => "migration",
            Scenario::Healthy => "healthy",
            Scenario::TorOutage => "tor-outage",
            Scenario::ConntrackStorm => "conntrack-storm",
            Scenario::Hostile => "hostile",
        }
    }

    pub fn parse(s: &str) -> Result<Scenario, String> {
        let want = s.trim().to_ascii_lowercase();
        Scenario::ALL.into_iter().find(|sc| sc.name() == want).ok_or_else(|| {
            let names: Vec<&str> = Scenario::ALL.iter().map(|sc| sc.name()).collect();
            format!("unknown scenario {s:?}; valid scenarios: {}", names.join(", "))
        })
    }
}

impl std::fmt::Display for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    pub nodes: usize,
    pub seed: u64,
    pub scenario: Scenario,
    /// Time zone of the colocation windows (01:00-06:00 local) and the diurnal curve.
    pub tz: Tz,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig { nodes: 48, seed: 42, scenario: Scenario::Migration, tz: Tz::UTC }
    }
}

/// Salts that keep the independent random streams apart.
const SALT_STEP: u64 = 0x5354_4550;
const SALT_INITIAL: u64 = 0x494e_4954;

/// The simulated cluster.
#[derive(Debug, Clone)]
pub struct Sim {
    cfg: SimConfig,
    start: DateTime<Utc>,
    nodes: Vec<SimNode>,
    inc: Incidents,
    hosts: Vec<HostState>,
    bgp: Vec<Vec<BgpSession>>,
    flap: Option<Flap>,
    cpu: CpuModel,
    /// The 5-minute bucket the last sent curve ended at.
    cpu_sent: Option<i64>,
    churn: Churn,
    rng: ChaCha8Rng,
    last: DateTime<Utc>,
}

impl Sim {
    pub fn new(cfg: SimConfig, start: DateTime<Utc>) -> Sim {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let nodes = topology::layout(cfg.nodes);
        let inc = Incidents::pick(cfg.scenario, &nodes, &mut rng);
        let hosts = nodes.iter().enumerate().map(|(i, n)| HostState::new(n, i, &inc, &mut rng)).collect();
        let mut bgp = bgp::initial_sessions(&nodes, &inc, start, &mut rng);
        let mut flap = None;
        if let Some(i) = inc.bgp_flapping {
            let sessions = bgp.get_mut(i).map(Vec::as_mut_slice).unwrap_or_default();
            let routes = sessions.first().and_then(|s| s.routes_received).unwrap_or(0);
            let f = Flap::new(i, start, routes, &mut rng);
            f.apply(sessions, start);
            flap = Some(f);
        }
        let cpu = CpuModel::new(&cfg, &inc, start);
        Sim {
            rng: ChaCha8Rng::seed_from_u64(cfg.seed ^ SALT_STEP),
            churn: Churn::default(),
            cfg,
            start,
            nodes,
            inc,
            hosts,
            bgp,
            flap,
            cpu,
            cpu_sent: None,
            last: start,
        }
    }

    /// The context name the dashboard shows: the scenario first, as a narrow status line cuts
    /// from the end.
    pub fn label(&self) -> String {
        format!("demo: {}, {} nodes, seed {}", self.cfg.scenario.name(), self.cfg.nodes, self.cfg.seed)
    }

    fn health(at: DateTime<Utc>) -> Update {
        Update::Health { source: SourceId::Simulator, scope: String::new(), health: SourceHealth::Ok, at }
    }

    /// Everything known at `start`.
    pub fn initial(&mut self) -> Vec<Update> {
        let at = self.start;
        let n = self.nodes.len();
        let mut out = Vec::with_capacity(4 * n + 8);
        out.push(Self::health(at));
        out.push(Update::RuntimeClasses(runtime_classes()));
        out.extend(
            self.nodes.iter().map(|node| Update::NodeApplied { node: node.node_info(self.start), at }),
        );
        out.extend(
            self.nodes
                .iter()
                .map(|node| Update::HostSignals { node: node.name.clone(), signals: node.host_signals() }),
        );
        for (node, sessions) in self.nodes.iter().zip(&self.bgp) {
            if node.role.has_bgp() {
                out.push(Update::Bgp {
                    node: node.name.clone(),
                    source: SourceId::Simulator,
                    sessions: sessions.clone(),
                    at,
                });
            }
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.cfg.seed ^ SALT_INITIAL);
        let utils = self.cpu.rack_utils(at);
        for (node, host) in self.nodes.iter().zip(&self.hosts) {
            let util = utils.get(node.rack_idx()).copied().unwrap_or(0.3);
            out.push(Update::Host { node: node.name.clone(), facts: host.facts(util, &mut rng), at });
        }
        let (pods, churn) = pods::generate(&self.nodes, &self.inc, self.cfg.seed, at);
        self.churn = churn;
        out.push(Update::PodsReplaced(pods));
        out.push(Update::Cpu(self.cpu.curve(at)));
        self.cpu_sent = Some(cpu::bucket(at));
        self.finish(out)
    }

    fn finish(&self, mut out: Vec<Update>) -> Vec<Update> {
        if self.cfg.scenario == Scenario::Hostile {
            out.iter_mut().for_each(hostile::mangle);
        }
        out
    }

    /// Advance to `now`: only what changed, plus the simulator's health.
    pub fn step(&mut self, now: DateTime<Utc>) -> Vec<Update> {
        let now = now.max(self.last);
        let dt = (now - self.last).num_milliseconds() as f64 / 1000.0;
        self.last = now;
        let mut out = Vec::with_capacity(self.nodes.len() + 16);
        out.push(Self::health(now));

        if let Some(flap) = &mut self.flap
            && let Some(sessions) = self.bgp.get_mut(flap.node)
            && flap.advance(now, sessions, &mut self.rng)
            && let Some(node) = self.nodes.get(flap.node)
        {
            out.push(Update::Bgp {
                node: node.name.clone(),
                source: SourceId::Simulator,
                sessions: sessions.clone(),
                at: now,
            });
        }

        let utils = self.cpu.rack_utils(now);
        for (node, host) in self.nodes.iter().zip(&mut self.hosts) {
            host.advance(dt, &mut self.rng);
            let util = utils.get(node.rack_idx()).copied().unwrap_or(0.3);
            out.push(Update::Host {
                node: node.name.clone(),
                facts: host.facts(util, &mut self.rng),
                at: now,
            });
        }

        self.churn.step(&self.nodes, &mut self.rng, &mut out);

        let b = cpu::bucket(now);
        if self.cpu_sent.is_none_or(|s| b > s) {
            out.push(Update::Cpu(self.cpu.curve(now)));
            self.cpu_sent = Some(b);
        }
        self.finish(out)
    }
}

impl Sim {
    /// A scripted TOR outage: TOR `tor` (0: `a`, 1: `b`) of rack `rack` (1-based) goes down, or
    /// comes back, at `now`. Every BGP node of the rack loses (regains) its session to it; the
    /// updates say so, to be sent with the next step.
    pub fn set_tor(&mut self, rack: usize, tor: usize, up: bool, now: DateTime<Utc>) -> Vec<Update> {
        let mut out = Vec::new();
        for (node, sessions) in self.nodes.iter().zip(&mut self.bgp) {
            if node.rack == rack && node.role.has_bgp() && bgp::set_tor(sessions, tor, up, now) {
                out.push(Update::Bgp {
                    node: node.name.clone(),
                    source: SourceId::Simulator,
                    sessions: sessions.clone(),
                    at: now,
                });
            }
        }
        self.finish(out)
    }
}

/// The three RuntimeClasses of the simulated cluster.
fn runtime_classes() -> Vec<RuntimeClass> {
    let class =
        |name: &str, handler: &str, overhead: Option<(u64, u64)>, sel: Option<(&str, &str)>| RuntimeClass {
            name: name.into(),
            handler: handler.into(),
            kind: RuntimeKind::from_handler(handler),
            overhead_cpu_m: overhead.map(|o| o.0),
            overhead_mem_bytes: overhead.map(|o| o.1),
            node_selector: sel.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            pods: None,
        };
    vec![
        class("runc", "runc", None, None),
        class("kata", "kata-qemu", Some((250, 160 * 1024 * 1024)), Some((topology::KATA_LABEL, "true"))),
        class("gvisor", "runsc", None, Some((topology::SANDBOX_LABEL, "gvisor"))),
    ]
}

/// A `ClusterState` fed with `initial()` of a fresh simulator started at `now`, snapshot at `now`.
pub fn snapshot_at(
    cfg: SimConfig,
    now: DateTime<Utc>,
    settings: crate::analysis::Settings,
) -> crate::model::Snapshot {
    let mut sim = Sim::new(cfg, now);
    let mut state = crate::store::ClusterState::new(sim.label(), settings);
    for u in sim.initial() {
        state.apply(u);
    }
    state.snapshot(now)
}
