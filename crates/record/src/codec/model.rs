//! The model's types in the recording's encoding, each destructured without `..`.

use clustertop_core::model::{
    BgpSession, BgpState, CiliumMaps, Cni, ConfiguredPeer, Conntrack, CpuCurve, CpuPoint, Failover, Family,
    HostFacts, MapFill, NodeInfo, NodeMetrics, RackCurve, Report, RuntimeKind, Signal, SourceHealth,
    SourceId, Update,
};

use super::{Codec, CodecError, Dec, Enc, Result, dec_variant};

const SOURCES: [SourceId; 5] =
    [SourceId::Simulator, SourceId::Kubernetes, SourceId::Prometheus, SourceId::Agents, SourceId::Recorder];
const FAMILIES: [Family; 2] = [Family::Ipv4, Family::Ipv6];
const CNIS: [Cni; 3] = [Cni::Cilium, Cni::Flannel, Cni::Calico];
const KINDS: [RuntimeKind; 4] =
    [RuntimeKind::Runc, RuntimeKind::Kata, RuntimeKind::Gvisor, RuntimeKind::Other];

fn bad<T>(what: &str) -> Result<T> {
    Err(CodecError(format!("bad {what} tag")))
}

impl Codec for SourceId {
    fn enc(&self, e: &mut Enc) {
        // A match, so that a new source is a compile error here.
        e.u8(match self {
            SourceId::Simulator => 0,
            SourceId::Kubernetes => 1,
            SourceId::Prometheus => 2,
            SourceId::Agents => 3,
            SourceId::Recorder => 4,
        });
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        dec_variant(d, &SOURCES, "source")
    }
}

impl Codec for Family {
    fn enc(&self, e: &mut Enc) {
        e.u8(match self {
            Family::Ipv4 => 0,
            Family::Ipv6 => 1,
        });
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        dec_variant(d, &FAMILIES, "family")
    }
}

impl Codec for Cni {
    fn enc(&self, e: &mut Enc) {
        e.u8(match self {
            Cni::Cilium => 0,
            Cni::Flannel => 1,
            Cni::Calico => 2,
        });
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        dec_variant(d, &CNIS, "cni")
    }
}

impl Codec for RuntimeKind {
    fn enc(&self, e: &mut Enc) {
        e.u8(match self {
            RuntimeKind::Runc => 0,
            RuntimeKind::Kata => 1,
            RuntimeKind::Gvisor => 2,
            RuntimeKind::Other => 3,
        });
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        dec_variant(d, &KINDS, "runtime kind")
    }
}

impl Codec for SourceHealth {
    fn enc(&self, e: &mut Enc) {
        match self {
            SourceHealth::Ok => e.u8(0),
            SourceHealth::Stale { since } => {
                e.u8(1);
                since.enc(e);
            }
            SourceHealth::Forbidden { verb, resource } => {
                e.u8(2);
                verb.enc(e);
                resource.enc(e);
            }
            SourceHealth::Unreachable { error } => {
                e.u8(3);
                error.enc(e);
            }
            SourceHealth::NotInstalled => e.u8(4),
            SourceHealth::NoData { reason } => {
                e.u8(5);
                reason.enc(e);
            }
        }
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(match d.u8()? {
            0 => SourceHealth::Ok,
            1 => SourceHealth::Stale { since: Codec::dec(d)? },
            2 => SourceHealth::Forbidden { verb: Codec::dec(d)?, resource: Codec::dec(d)? },
            3 => SourceHealth::Unreachable { error: Codec::dec(d)? },
            4 => SourceHealth::NotInstalled,
            5 => SourceHealth::NoData { reason: Codec::dec(d)? },
            _ => return bad("health"),
        })
    }
}

impl Codec for Signal {
    fn enc(&self, e: &mut Enc) {
        match self {
            Signal::AgentPod { cni, pod } => {
                e.u8(0);
                cni.enc(e);
                pod.enc(e);
            }
            Signal::ConditionReason { reason } => {
                e.u8(1);
                reason.enc(e);
            }
            Signal::Annotation { key, value } => {
                e.u8(2);
                key.enc(e);
                value.enc(e);
            }
            Signal::CiliumNode => e.u8(3),
            Signal::BgpNodeConfig { pod_routes } => {
                e.u8(4);
                pod_routes.enc(e);
            }
            Signal::BgpConfigUnreadable { resource } => {
                e.u8(5);
                resource.enc(e);
            }
            Signal::Interface { name } => {
                e.u8(6);
                name.enc(e);
            }
            Signal::CniConfig { file } => {
                e.u8(7);
                file.enc(e);
            }
        }
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(match d.u8()? {
            0 => Signal::AgentPod { cni: Codec::dec(d)?, pod: Codec::dec(d)? },
            1 => Signal::ConditionReason { reason: Codec::dec(d)? },
            2 => Signal::Annotation { key: Codec::dec(d)?, value: Codec::dec(d)? },
            3 => Signal::CiliumNode,
            4 => Signal::BgpNodeConfig { pod_routes: Codec::dec(d)? },
            5 => Signal::BgpConfigUnreadable { resource: Codec::dec(d)? },
            6 => Signal::Interface { name: Codec::dec(d)? },
            7 => Signal::CniConfig { file: Codec::dec(d)? },
            _ => return bad("signal"),
        })
    }
}

impl Codec for ConfiguredPeer {
    fn enc(&self, e: &mut Enc) {
        let ConfiguredPeer { name, addr, family } = self;
        name.enc(e);
        addr.enc(e);
        family.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(ConfiguredPeer { name: Codec::dec(d)?, addr: Codec::dec(d)?, family: Codec::dec(d)? })
    }
}

impl Codec for NodeInfo {
    fn enc(&self, e: &mut Enc) {
        let NodeInfo { name, rack, tors, ready, labels, signals, bgp_peers, created, batch_allocatable } =
            self;
        name.enc(e);
        rack.enc(e);
        tors.enc(e);
        ready.enc(e);
        labels.enc(e);
        signals.enc(e);
        bgp_peers.enc(e);
        created.enc(e);
        batch_allocatable.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(NodeInfo {
            name: Codec::dec(d)?,
            rack: Codec::dec(d)?,
            tors: Codec::dec(d)?,
            ready: Codec::dec(d)?,
            labels: Codec::dec(d)?,
            signals: Codec::dec(d)?,
            bgp_peers: Codec::dec(d)?,
            created: Codec::dec(d)?,
            batch_allocatable: Codec::dec(d)?,
        })
    }
}

impl Codec for BgpState {
    fn enc(&self, e: &mut Enc) {
        match self {
            BgpState::Idle => e.u8(0),
            BgpState::Connect => e.u8(1),
            BgpState::Active => e.u8(2),
            BgpState::OpenSent => e.u8(3),
            BgpState::OpenConfirm => e.u8(4),
            BgpState::Established => e.u8(5),
            BgpState::AdminDown => e.u8(6),
            BgpState::Unknown(s) => {
                e.u8(7);
                s.enc(e);
            }
        }
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(match d.u8()? {
            0 => BgpState::Idle,
            1 => BgpState::Connect,
            2 => BgpState::Active,
            3 => BgpState::OpenSent,
            4 => BgpState::OpenConfirm,
            5 => BgpState::Established,
            6 => BgpState::AdminDown,
            7 => BgpState::Unknown(Codec::dec(d)?),
            _ => return bad("bgp state"),
        })
    }
}

impl Codec for Report {
    fn enc(&self, e: &mut Enc) {
        let Report { source, at, state } = self;
        source.enc(e);
        at.enc(e);
        state.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(Report { source: Codec::dec(d)?, at: Codec::dec(d)?, state: Codec::dec(d)? })
    }
}

impl Codec for BgpSession {
    fn enc(&self, e: &mut Enc) {
        let BgpSession {
            peer,
            peer_addr,
            family,
            peer_asn,
            local_asn,
            state,
            since,
            resets_1h,
            routes_received,
            routes_advertised,
            hold_time_s,
            keepalive_s,
            last_error,
            peer_type,
            failover,
            reports,
        } = self;
        peer.enc(e);
        peer_addr.enc(e);
        family.enc(e);
        peer_asn.enc(e);
        local_asn.enc(e);
        state.enc(e);
        since.enc(e);
        resets_1h.enc(e);
        routes_received.enc(e);
        routes_advertised.enc(e);
        hold_time_s.enc(e);
        keepalive_s.enc(e);
        last_error.enc(e);
        peer_type.enc(e);
        failover.enc(e);
        reports.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(BgpSession {
            peer: Codec::dec(d)?,
            peer_addr: Codec::dec(d)?,
            family: Codec::dec(d)?,
            peer_asn: Codec::dec(d)?,
            local_asn: Codec::dec(d)?,
            state: Codec::dec(d)?,
            since: Codec::dec(d)?,
            resets_1h: Codec::dec(d)?,
            routes_received: Codec::dec(d)?,
            routes_advertised: Codec::dec(d)?,
            hold_time_s: Codec::dec(d)?,
            keepalive_s: Codec::dec(d)?,
            last_error: Codec::dec(d)?,
            peer_type: Codec::dec(d)?,
            failover: Codec::dec(d)?,
            reports: Codec::dec(d)?,
        })
    }
}

impl Codec for Failover {
    fn enc(&self, e: &mut Enc) {
        let Failover {
            graceful_restart,
            restart_time_s,
            peer_graceful_restart,
            hold_time_conf_s,
            keepalive_conf_s,
        } = self;
        graceful_restart.enc(e);
        restart_time_s.enc(e);
        peer_graceful_restart.enc(e);
        hold_time_conf_s.enc(e);
        keepalive_conf_s.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(Failover {
            graceful_restart: Codec::dec(d)?,
            restart_time_s: Codec::dec(d)?,
            peer_graceful_restart: Codec::dec(d)?,
            hold_time_conf_s: Codec::dec(d)?,
            keepalive_conf_s: Codec::dec(d)?,
        })
    }
}

impl Codec for Conntrack {
    fn enc(&self, e: &mut Enc) {
        let Conntrack {
            entries,
            limit,
            insert_failed_per_s,
            drop_per_s,
            early_drop_per_s,
            tcp_established_timeout_s,
            bridge_nf_call_iptables,
        } = self;
        entries.enc(e);
        limit.enc(e);
        insert_failed_per_s.enc(e);
        drop_per_s.enc(e);
        early_drop_per_s.enc(e);
        tcp_established_timeout_s.enc(e);
        bridge_nf_call_iptables.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(Conntrack {
            entries: Codec::dec(d)?,
            limit: Codec::dec(d)?,
            insert_failed_per_s: Codec::dec(d)?,
            drop_per_s: Codec::dec(d)?,
            early_drop_per_s: Codec::dec(d)?,
            tcp_established_timeout_s: Codec::dec(d)?,
            bridge_nf_call_iptables: Codec::dec(d)?,
        })
    }
}

impl Codec for HostFacts {
    fn enc(&self, e: &mut Enc) {
        let HostFacts { kvm, conntrack, cilium_ct, file_nr, pids, load, cpu_cores, cpu_now } = self;
        kvm.enc(e);
        conntrack.enc(e);
        cilium_ct.enc(e);
        file_nr.enc(e);
        pids.enc(e);
        load.enc(e);
        cpu_cores.enc(e);
        cpu_now.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(HostFacts {
            kvm: Codec::dec(d)?,
            conntrack: Codec::dec(d)?,
            cilium_ct: Codec::dec(d)?,
            file_nr: Codec::dec(d)?,
            pids: Codec::dec(d)?,
            load: Codec::dec(d)?,
            cpu_cores: Codec::dec(d)?,
            cpu_now: Codec::dec(d)?,
        })
    }
}

impl Codec for NodeMetrics {
    fn enc(&self, e: &mut Enc) {
        let NodeMetrics { cpu_now, conntrack, cilium_ct, batch_used_cores, bgp } = self;
        cpu_now.enc(e);
        conntrack.enc(e);
        cilium_ct.enc(e);
        batch_used_cores.enc(e);
        bgp.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(NodeMetrics {
            cpu_now: Codec::dec(d)?,
            conntrack: Codec::dec(d)?,
            cilium_ct: Codec::dec(d)?,
            batch_used_cores: Codec::dec(d)?,
            bgp: Codec::dec(d)?,
        })
    }
}

impl Codec for CiliumMaps {
    fn enc(&self, e: &mut Enc) {
        let CiliumMaps { maps, insert_failed_per_s } = self;
        maps.enc(e);
        insert_failed_per_s.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(CiliumMaps { maps: Codec::dec(d)?, insert_failed_per_s: Codec::dec(d)? })
    }
}

impl Codec for MapFill {
    fn enc(&self, e: &mut Enc) {
        let MapFill { name, pressure } = self;
        name.enc(e);
        pressure.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(MapFill { name: Codec::dec(d)?, pressure: Codec::dec(d)? })
    }
}

impl Codec for CpuPoint {
    fn enc(&self, e: &mut Enc) {
        let CpuPoint { t, online, offline, capacity, measured, reclaimed } = self;
        t.enc(e);
        online.enc(e);
        offline.enc(e);
        capacity.enc(e);
        measured.enc(e);
        reclaimed.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(CpuPoint {
            t: Codec::dec(d)?,
            online: Codec::dec(d)?,
            offline: Codec::dec(d)?,
            capacity: Codec::dec(d)?,
            measured: Codec::dec(d)?,
            reclaimed: Codec::dec(d)?,
        })
    }
}

impl Codec for RackCurve {
    fn enc(&self, e: &mut Enc) {
        let RackCurve { rack, capacity_cores, points } = self;
        rack.enc(e);
        capacity_cores.enc(e);
        points.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(RackCurve { rack: Codec::dec(d)?, capacity_cores: Codec::dec(d)?, points: Codec::dec(d)? })
    }
}

impl Codec for CpuCurve {
    fn enc(&self, e: &mut Enc) {
        let CpuCurve { step_s, capacity_cores, points, racks } = self;
        step_s.enc(e);
        capacity_cores.enc(e);
        points.enc(e);
        racks.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(CpuCurve {
            step_s: Codec::dec(d)?,
            capacity_cores: Codec::dec(d)?,
            points: Codec::dec(d)?,
            racks: Codec::dec(d)?,
        })
    }
}

impl Codec for Update {
    fn enc(&self, e: &mut Enc) {
        match self {
            Update::Health { source, scope, health, at } => {
                e.u8(0);
                source.enc(e);
                scope.enc(e);
                health.enc(e);
                at.enc(e);
            }
            Update::Note { source, scope, note } => {
                e.u8(1);
                source.enc(e);
                scope.enc(e);
                note.enc(e);
            }
            Update::NodeApplied { node, at } => {
                e.u8(2);
                node.enc(e);
                at.enc(e);
            }
            Update::NodeDeleted { name } => {
                e.u8(3);
                name.enc(e);
            }
            Update::Bgp { node, source, sessions, at } => {
                e.u8(4);
                node.enc(e);
                source.enc(e);
                sessions.enc(e);
                at.enc(e);
            }
            Update::Host { node, facts, at } => {
                e.u8(5);
                node.enc(e);
                facts.enc(e);
                at.enc(e);
            }
            Update::HostSignals { node, signals } => {
                e.u8(6);
                node.enc(e);
                signals.enc(e);
            }
            Update::PodApplied(p) => {
                e.u8(7);
                p.enc(e);
            }
            Update::PodDeleted { namespace, name } => {
                e.u8(8);
                namespace.enc(e);
                name.enc(e);
            }
            Update::PodsReplaced(p) => {
                e.u8(9);
                p.enc(e);
            }
            Update::RuntimeClasses(c) => {
                e.u8(10);
                c.enc(e);
            }
            Update::Cpu(c) => {
                e.u8(11);
                c.enc(e);
            }
            Update::NodeMetrics { node, metrics, at } => {
                e.u8(12);
                node.enc(e);
                metrics.enc(e);
                at.enc(e);
            }
            Update::NodeCpu { node, points } => {
                e.u8(13);
                node.enc(e);
                points.enc(e);
            }
            Update::MetricPods(p) => {
                e.u8(14);
                p.enc(e);
            }
            Update::KubeletStarts { window, starts } => {
                e.u8(15);
                window.enc(e);
                starts.enc(e);
            }
        }
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(match d.u8()? {
            0 => Update::Health {
                source: Codec::dec(d)?,
                scope: Codec::dec(d)?,
                health: Codec::dec(d)?,
                at: Codec::dec(d)?,
            },
            1 => Update::Note { source: Codec::dec(d)?, scope: Codec::dec(d)?, note: Codec::dec(d)? },
            2 => Update::NodeApplied { node: Codec::dec(d)?, at: Codec::dec(d)? },
            3 => Update::NodeDeleted { name: Codec::dec(d)? },
            4 => Update::Bgp {
                node: Codec::dec(d)?,
                source: Codec::dec(d)?,
                sessions: Codec::dec(d)?,
                at: Codec::dec(d)?,
            },
            5 => Update::Host { node: Codec::dec(d)?, facts: Codec::dec(d)?, at: Codec::dec(d)? },
            6 => Update::HostSignals { node: Codec::dec(d)?, signals: Codec::dec(d)? },
            7 => Update::PodApplied(Codec::dec(d)?),
            8 => Update::PodDeleted { namespace: Codec::dec(d)?, name: Codec::dec(d)? },
            9 => Update::PodsReplaced(Codec::dec(d)?),
            10 => Update::RuntimeClasses(Codec::dec(d)?),
            11 => Update::Cpu(Codec::dec(d)?),
            12 => Update::NodeMetrics { node: Codec::dec(d)?, metrics: Codec::dec(d)?, at: Codec::dec(d)? },
            13 => Update::NodeCpu { node: Codec::dec(d)?, points: Codec::dec(d)? },
            14 => Update::MetricPods(Codec::dec(d)?),
            15 => Update::KubeletStarts { window: Codec::dec(d)?, starts: Codec::dec(d)? },
            _ => return bad("update"),
        })
    }
}
