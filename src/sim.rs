//! The deterministic simulated cluster. (Temporary interface stub on main; the simulator lands from branch `sim`.)
use chrono::{DateTime, Utc};

use crate::sources::Update;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Migration,
}
impl Scenario {
    pub fn parse(_s: &str) -> Result<Scenario, String> {
        Ok(Scenario::Migration)
    }
}
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub nodes: usize,
    pub seed: u64,
    pub scenario: Scenario,
    pub tz: chrono_tz::Tz,
}
impl Default for SimConfig {
    fn default() -> Self {
        SimConfig { nodes: 48, seed: 42, scenario: Scenario::Migration, tz: chrono_tz::Tz::UTC }
    }
}
pub struct Sim;
impl Sim {
    pub fn new(_cfg: SimConfig, _start: DateTime<Utc>) -> Sim {
        Sim
    }
    pub fn initial(&mut self) -> Vec<Update> {
        Vec::new()
    }
    pub fn step(&mut self, _now: DateTime<Utc>) -> Vec<Update> {
        Vec::new()
    }
    pub fn label(&self) -> String {
        "demo".into()
    }
}
pub fn snapshot_at(
    _cfg: SimConfig,
    now: DateTime<Utc>,
    settings: crate::analysis::Settings,
) -> crate::model::Snapshot {
    crate::store::ClusterState::new("demo", settings).snapshot(now)
}
