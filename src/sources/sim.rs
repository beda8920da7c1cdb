//! The simulator as a source: drives `crate::sim::Sim` on a clock and sends its updates.

use std::time::Duration;

use tokio::sync::mpsc::Sender;
use tokio::time::MissedTickBehavior;

use crate::model::Update;
use crate::sim::Sim;

/// Send `sim.initial()` at once, then `sim.step(now)` every `period`; return when the receiver
/// is gone. This is the only place the simulator meets the wall clock.
pub async fn run(mut sim: Sim, tx: Sender<Vec<Update>>, period: Duration) {
    if tx.send(sim.initial()).await.is_err() {
        return;
    }
    let mut tick = tokio::time::interval(period.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    // The first tick completes at once; the initial updates stand for it.
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = tx.closed() => return,
        }
        // `Sim::step` never goes back in time, even if the wall clock does.
        if tx.send(sim.step(chrono::Utc::now())).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimConfig;

    #[tokio::test]
    async fn sends_initial_then_steps_and_stops_when_receiver_is_gone() {
        let sim = Sim::new(SimConfig { nodes: 6, ..SimConfig::default() }, chrono::Utc::now());
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        let task = tokio::spawn(run(sim, tx, Duration::from_millis(10)));
        let deadline = Duration::from_secs(10);
        let first = tokio::time::timeout(deadline, rx.recv()).await.ok().flatten().unwrap_or_default();
        assert!(first.iter().any(|u| matches!(u, Update::PodsReplaced(_))));
        let second = tokio::time::timeout(deadline, rx.recv()).await.ok().flatten().unwrap_or_default();
        assert!(second.iter().any(|u| matches!(u, Update::Health { .. })));
        assert!(!second.iter().any(|u| matches!(u, Update::PodsReplaced(_))));
        drop(rx);
        assert!(tokio::time::timeout(deadline, task).await.is_ok(), "task ends without a receiver");
    }
}
