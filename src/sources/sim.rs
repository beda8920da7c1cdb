//! The simulator as a source: drives `crate::sim::Sim` on a clock and sends its updates.
use std::time::Duration;

use tokio::sync::mpsc;

use crate::sim::Sim;
use crate::sources::Update;

/// Step an already-initialised simulator every `period`; returns when the receiver is gone.
pub async fn run_stepping(mut sim: Sim, tx: mpsc::Sender<Vec<Update>>, period: Duration) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tick.tick().await;
    loop {
        tick.tick().await;
        if tx.send(sim.step(chrono::Utc::now())).await.is_err() {
            return;
        }
    }
}
