//! Every string a source reports passes `sanitize` before it is stored, so nothing from outside
//! can reach a terminal unescaped. Each type is destructured without `..`: a new field is a
//! compile error here until someone decides whether it needs cleaning.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::model::{
    AddedCap, BgpSession, BgpState, CiliumMaps, ConfiguredPeer, Conntrack, CpuCurve, DevShm, HostFacts,
    KubeletStart, MapFill, NodeInfo, NodeMetrics, Pod, RackCurve, Report, RuntimeClass, SandboxAsks, Signal,
    SourceHealth,
};
use crate::sanitize::sanitize;

/// Sanitize in place; untouched when already clean.
pub(super) trait Clean {
    fn clean(&mut self);
}

impl Clean for String {
    fn clean(&mut self) {
        if let std::borrow::Cow::Owned(c) = sanitize(self) {
            *self = c;
        }
    }
}

impl Clean for Arc<str> {
    fn clean(&mut self) {
        if let std::borrow::Cow::Owned(c) = sanitize(self) {
            *self = c.into();
        }
    }
}

impl<T: Clean> Clean for Option<T> {
    fn clean(&mut self) {
        if let Some(x) = self {
            x.clean();
        }
    }
}

impl<T: Clean> Clean for [T] {
    fn clean(&mut self) {
        self.iter_mut().for_each(Clean::clean);
    }
}

impl<T: Clean> Clean for Vec<T> {
    fn clean(&mut self) {
        self.as_mut_slice().clean();
    }
}

impl<T: Clean, const N: usize> Clean for [T; N] {
    fn clean(&mut self) {
        self.as_mut_slice().clean();
    }
}

/// Keys are cleaned too, so the map is rebuilt (only when a key or value needs it).
impl Clean for BTreeMap<String, String> {
    fn clean(&mut self) {
        let dirty = |s: &String| matches!(sanitize(s), std::borrow::Cow::Owned(_));
        if self.iter().any(|(k, v)| dirty(k) || dirty(v)) {
            *self = std::mem::take(self)
                .into_iter()
                .map(|(mut k, mut v)| {
                    k.clean();
                    v.clean();
                    (k, v)
                })
                .collect();
        }
    }
}

impl Clean for NodeInfo {
    fn clean(&mut self) {
        let NodeInfo {
            name,
            rack,
            tors,
            ready: _,
            labels,
            signals,
            bgp_peers,
            created: _,
            batch_allocatable: _,
        } = self;
        name.clean();
        rack.clean();
        tors.clean();
        labels.clean();
        signals.clean();
        bgp_peers.clean();
    }
}

impl Clean for ConfiguredPeer {
    fn clean(&mut self) {
        let ConfiguredPeer { name, addr, family: _ } = self;
        name.clean();
        addr.clean();
    }
}

impl Clean for Signal {
    fn clean(&mut self) {
        match self {
            Signal::AgentPod { cni: _, pod } => pod.clean(),
            Signal::ConditionReason { reason } => reason.clean(),
            Signal::Annotation { key, value } => {
                key.clean();
                value.clean();
            }
            Signal::Interface { name } => name.clean(),
            Signal::CniConfig { file } => file.clean(),
            Signal::BgpConfigUnreadable { resource } => resource.clean(),
            Signal::CiliumNode | Signal::BgpNodeConfig { pod_routes: _ } => {}
        }
    }
}

impl Clean for BgpSession {
    fn clean(&mut self) {
        let BgpSession {
            peer,
            peer_addr,
            family: _,
            peer_asn: _,
            local_asn: _,
            state,
            since: _,
            resets_1h: _,
            routes_received: _,
            routes_advertised: _,
            hold_time_s: _,
            keepalive_s: _,
            last_error,
            peer_type,
            failover: _,
            reports,
        } = self;
        peer.clean();
        peer_addr.clean();
        state.clean();
        last_error.clean();
        peer_type.clean();
        reports.clean();
    }
}

impl Clean for BgpState {
    fn clean(&mut self) {
        match self {
            BgpState::Unknown(s) => s.clean(),
            BgpState::Idle
            | BgpState::Connect
            | BgpState::Active
            | BgpState::OpenSent
            | BgpState::OpenConfirm
            | BgpState::Established
            | BgpState::AdminDown => {}
        }
    }
}

impl Clean for Report {
    fn clean(&mut self) {
        let Report { source: _, at: _, state } = self;
        state.clean();
    }
}

impl Clean for SourceHealth {
    fn clean(&mut self) {
        match self {
            SourceHealth::Forbidden { verb, resource } => {
                verb.clean();
                resource.clean();
            }
            SourceHealth::Unreachable { error } => error.clean(),
            SourceHealth::NoData { reason } => reason.clean(),
            SourceHealth::Ok | SourceHealth::Stale { since: _ } | SourceHealth::NotInstalled => {}
        }
    }
}

impl Clean for KubeletStart {
    fn clean(&mut self) {
        let KubeletStart { handler, node, mean_s: _, p50_s: _, p95_s: _, samples: _, errors: _ } = self;
        handler.clean();
        node.clean();
    }
}

impl Clean for Pod {
    fn clean(&mut self) {
        let Pod {
            namespace,
            name,
            node,
            runtime_class,
            priority_class,
            host_network: _,
            phase,
            offline: _,
            sandbox,
            batch: _,
            sandbox_start_s: _,
        } = self;
        namespace.clean();
        name.clean();
        node.clean();
        runtime_class.clean();
        priority_class.clean();
        phase.clean();
        if let Some(s) = sandbox {
            s.clean();
        }
    }
}

impl Clean for SandboxAsks {
    fn clean(&mut self) {
        let SandboxAsks {
            host_pid: _,
            host_ipc: _,
            share_process_namespace: _,
            sysctls,
            dev_shm,
            host_paths,
            init_caps,
        } = self;
        sysctls.clean();
        dev_shm.clean();
        host_paths.clean();
        init_caps.clean();
    }
}

impl Clean for DevShm {
    fn clean(&mut self) {
        let DevShm { volume, memory: _, size_limit_bytes: _ } = self;
        volume.clean();
    }
}

impl Clean for AddedCap {
    fn clean(&mut self) {
        let AddedCap { container, capability } = self;
        container.clean();
        capability.clean();
    }
}

impl Clean for RuntimeClass {
    fn clean(&mut self) {
        let RuntimeClass {
            name,
            handler,
            kind: _,
            overhead_cpu_m: _,
            overhead_mem_bytes: _,
            node_selector,
            pods: _,
        } = self;
        name.clean();
        handler.clean();
        node_selector.clean();
    }
}

/// No strings today; destructured so that a string added later is not forgotten.
impl Clean for HostFacts {
    fn clean(&mut self) {
        let HostFacts {
            kvm: _,
            conntrack,
            cilium_ct,
            file_nr: _,
            pids: _,
            load: _,
            cpu_cores: _,
            cpu_now: _,
        } = self;
        conntrack.clean();
        cilium_ct.clean();
    }
}

impl Clean for Conntrack {
    fn clean(&mut self) {
        let Conntrack {
            entries: _,
            limit: _,
            insert_failed_per_s: _,
            drop_per_s: _,
            early_drop_per_s: _,
            tcp_established_timeout_s: _,
            bridge_nf_call_iptables: _,
        } = self;
    }
}

impl Clean for CiliumMaps {
    fn clean(&mut self) {
        let CiliumMaps { maps, insert_failed_per_s: _ } = self;
        for m in maps {
            let MapFill { name, pressure: _ } = m;
            name.clean();
        }
    }
}

impl Clean for NodeMetrics {
    fn clean(&mut self) {
        let NodeMetrics { cpu_now: _, conntrack, cilium_ct, batch_used_cores: _, bgp } = self;
        conntrack.clean();
        cilium_ct.clean();
        bgp.clean();
    }
}

impl Clean for CpuCurve {
    fn clean(&mut self) {
        let CpuCurve { step_s: _, capacity_cores: _, points: _, racks } = self;
        racks.clean();
    }
}

impl Clean for RackCurve {
    fn clean(&mut self) {
        let RackCurve { rack, capacity_cores: _, points: _ } = self;
        rack.clean();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RuntimeKind;

    #[test]
    fn runtime_class_selector_is_cleaned() {
        let mut c = RuntimeClass {
            name: "kata\x1b[2J".into(),
            handler: "kata".into(),
            kind: RuntimeKind::Kata,
            overhead_cpu_m: None,
            overhead_mem_bytes: None,
            node_selector: BTreeMap::from([("pool\x1b]0;x\x07".into(), "vm\u{202e}s".into())]),
            pods: None,
        };
        c.clean();
        let all: Vec<&str> = [c.name.as_str()]
            .into_iter()
            .chain(c.node_selector.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]))
            .collect();
        for s in all {
            assert!(!s.chars().any(|ch| ch.is_control() || ch == '\u{202e}'), "{s:?} not cleaned");
        }
    }
}
