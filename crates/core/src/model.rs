//! Plain data: what the sources report and what the views draw. No I/O, no terminal.
//!
//! Every classification carries its evidence, every value its age (`Aged`), every source its
//! health. The `Snapshot` is immutable once built; the UI receives it as `Arc<Snapshot>`.

pub mod batch;
pub mod bgp;
pub mod conntrack;
pub mod cpu;
pub mod finding;
pub mod netmode;
pub mod node;
pub mod pods;
pub mod runtime;
pub mod snapshot;
pub mod source;
pub mod start;
pub mod update;

pub use batch::{BatchRes, BatchTier};
pub use bgp::{
    BgpCounts, BgpSession, BgpState, BgpVerdict, ConfiguredPeer, ExpectedFrom, Failover, Family, FamilyCount,
    Report,
};
pub use conntrack::{CiliumMaps, Conntrack, MapFill};
pub use cpu::{CpuCurve, CpuPoint, NodeCurve, RackCurve, Window, WindowFill};
pub use finding::{Finding, Rule, Severity};
pub use netmode::{Cni, Evidence, NetClass, NetMode, Signal};
pub use node::{Aged, HostFacts, Node};
pub use pods::{Interner, Pods};
pub use runtime::{AddedCap, DevShm, Pod, RuntimeClass, RuntimeKind, RuntimeMix, SandboxAsks};
pub use snapshot::{ForeignNode, Snapshot, UNKNOWN, Unknown, or_unknown};
pub use source::{SourceHealth, SourceId, SourceStatus};
pub use start::{KubeletStart, SandboxErrors, SandboxStart, SandboxStarts, StartSource};
pub use update::{NodeInfo, NodeMetrics, Update};
