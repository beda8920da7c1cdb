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
    /// The mix as it is shown: runc, kata, gvisor (and other, when there is any), each with its
    /// count and share; the shares add up (`viewmodel::shares`). `None` when the mix is unknown.
    pub fn mix_rows(&self) -> Option<Vec<(&'static str, u32, super::Whole)>> {
        let m = self.mix?;
        let rows: Vec<(&'static str, u32)> =
            [("runc", m.runc), ("kata", m.kata), ("gvisor", m.gvisor), ("other", m.other)]
                .into_iter()
                .filter(|(k, n)| *k != "other" || *n > 0)
                .collect();
        let counts: Vec<f64> = rows.iter().map(|(_, n)| f64::from(*n)).collect();
        let shares = super::shares(&counts, f64::from(m.total()));
        Some(rows.into_iter().zip(shares).map(|((k, n), w)| (k, n, w)).collect())
    }

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
