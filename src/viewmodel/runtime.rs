//! The Runtime view's summary (the Overview's runtime mix and KVM counts too).

use crate::analysis::rules::runtime::{selective, selects};
use crate::model::{RuntimeClass, RuntimeKind, RuntimeMix, Snapshot};

/// The summary's counts over every node (derived once per snapshot, in `viewmodel::Rows`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Pods per runtime, cluster-wide (the Overview shows it too); `None` when not known.
    pub mix: Option<RuntimeMix>,
    /// Nodes known to have KVM, and nodes whose KVM is not known.
    pub kvm: usize,
    pub kvm_unknown: usize,
    /// Some Kata class restricts nodes with a nodeSelector.
    pub kata_selective: bool,
    pub kata_nodes: usize,
    pub kata_no_kvm: usize,
    pub kata_unknown: usize,
}

impl Summary {
    pub fn of(snap: &Snapshot) -> Summary {
        let kata: Vec<&RuntimeClass> = selective(snap, RuntimeKind::Kata).collect();
        let mut s = Summary { kata_selective: !kata.is_empty(), ..Summary::default() };
        s.mix = snap.unknown.runtime_mix().is_none().then(RuntimeMix::default);
        for n in &snap.nodes {
            if let (Some(m), Some(r)) = (&mut s.mix, &n.runtime) {
                m.merge(r);
            }
            match n.kvm() {
                Some(true) => s.kvm += 1,
                Some(false) => {}
                None => s.kvm_unknown += 1,
            }
            if kata.iter().any(|c| selects(c, n)) {
                s.kata_nodes += 1;
                match n.kvm() {
                    Some(true) => {}
                    Some(false) => s.kata_no_kvm += 1,
                    None => s.kata_unknown += 1,
                }
            }
        }
        s
    }
}
