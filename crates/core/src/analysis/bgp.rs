//! BGP verdict per node, judged against the node's own peers.
//!
//! The expected peers come from the node's own BGP configuration where it exists (a
//! `CiliumBGPNodeConfig` spec, a BGP v1 policy's neighbours), else from its two TOR labels when
//! the sessions are named after them, else from what the sources reported (BIRD's protocols and
//! Calico's peers are the node's whole configuration). A peer is one neighbour with one session
//! per address family. Each family is judged on its own, up/expected; the node's verdict is its
//! worst family's: every expected session up is healthy, some up is degraded, none up isolated.
//! A node configured with one peer that is up is healthy as configured.
//!
//! Sessions of one peer reported by several sources (the API, the node agent, Prometheus) are
//! merged by identity (address and family, else name) before they are judged: the freshest
//! report gives the state, the best-placed source the name, and every report is kept.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::model::{
    BgpCounts, BgpSession, BgpVerdict, ConfiguredPeer, ExpectedFrom, Family, FamilyCount, NetMode, Report,
    SourceId, bgp::normalize_addr,
};

/// Whether a session is the one a configured peer names: by address where both have one, else
/// by name.
pub fn is_session_of(p: &ConfiguredPeer, s: &BgpSession) -> bool {
    if !p.addr.is_empty() && !s.peer_addr.is_empty() {
        normalize_addr(&p.addr) == normalize_addr(&s.peer_addr)
    } else {
        p.name == s.peer
    }
}

/// The node's two TORs (from its TOR labels) when the sessions are named after them.
fn named_tors<'a>(tors: Option<&'a [String; 2]>, sessions: &[BgpSession]) -> Option<&'a [String; 2]> {
    let tors = tors?;
    let known = tors.iter().all(|t| !t.is_empty() && t != "?");
    (known && sessions.iter().any(|s| tors.contains(&s.peer))).then_some(tors)
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The verdict and its counts for a node in `mode` with its `configured` peers (from its own BGP
/// configuration, if any), its TOR labels (`None` without them: TORs guessed from peer names
/// prove nothing) and merged `sessions`.
pub fn judge(
    mode: NetMode,
    configured: Option<&[ConfiguredPeer]>,
    tors: Option<&[String; 2]>,
    sessions: &[BgpSession],
) -> (BgpVerdict, BgpCounts) {
    let configured = configured.filter(|c| !c.is_empty());
    let reported = !sessions.is_empty();
    let mut families: BTreeMap<Option<Family>, (u32, u32)> = BTreeMap::new();
    let mut missing = Vec::new();
    let expected_from = if let Some(peers) = configured {
        for p in peers {
            let mine: Vec<&BgpSession> = sessions.iter().filter(|s| is_session_of(p, s)).collect();
            let family = p.family.or_else(|| mine.iter().find_map(|s| s.family));
            let e = families.entry(family).or_default();
            e.0 += 1;
            e.1 += u32::from(mine.iter().any(|s| s.is_up()));
            if mine.is_empty() && reported {
                missing.push(if p.name.is_empty() { p.addr.clone() } else { p.name.clone() });
            }
        }
        ExpectedFrom::Config
    } else if let Some(tors) = named_tors(tors, sessions) {
        let mut fams: BTreeSet<Option<Family>> =
            sessions.iter().filter(|s| tors.contains(&s.peer)).map(|s| s.family).collect();
        if fams.is_empty() {
            fams.insert(None);
        }
        for f in fams {
            let up =
                tors.iter().filter(|t| sessions.iter().any(|s| &s.peer == *t && s.family == f && s.is_up()));
            families.insert(f, (2, count(up.count())));
        }
        missing = tors.iter().filter(|t| !sessions.iter().any(|s| &s.peer == *t)).cloned().collect();
        ExpectedFrom::TorLabels
    } else if reported {
        let mut peers: BTreeMap<Option<Family>, BTreeMap<String, bool>> = BTreeMap::new();
        for s in sessions {
            *peers.entry(s.family).or_default().entry(s.key()).or_default() |= s.is_up();
        }
        for (f, p) in peers {
            families.insert(f, (count(p.len()), count(p.values().filter(|up| **up).count())));
        }
        ExpectedFrom::Reported
    } else if mode.may_use_bgp() {
        // A BGP node nobody reported on: it should have its two TORs.
        families.insert(None, (2, 0));
        ExpectedFrom::TorLabels
    } else {
        return (BgpVerdict::NotApplicable, BgpCounts::default());
    };
    let families: Vec<FamilyCount> = families
        .into_iter()
        .map(|(family, (expected, up))| FamilyCount { family, expected, established: reported.then_some(up) })
        .collect();
    let verdict = if !reported {
        BgpVerdict::Unknown
    } else if families.iter().any(|f| f.established == Some(0)) {
        BgpVerdict::Isolated
    } else if families.iter().any(|f| f.established < Some(f.expected)) {
        BgpVerdict::Degraded
    } else {
        BgpVerdict::Healthy
    };
    (verdict, BgpCounts { expected_from, families, missing })
}

/// Which source's name for a peer wins: the API's (its configuration names the peers), then
/// the node's own daemon, then metrics.
fn name_rank(s: SourceId) -> u8 {
    match s {
        SourceId::Kubernetes => 0,
        SourceId::Agents => 1,
        SourceId::Simulator => 2,
        SourceId::Prometheus => 3,
        SourceId::Recorder => 4,
    }
}

/// One source's sessions of a node, read at `at`.
pub struct SourceSessions<'a> {
    pub source: SourceId,
    pub at: DateTime<Utc>,
    pub sessions: &'a [BgpSession],
}

/// Merge what several sources reported about one node's sessions: one session per peer and
/// family, its state from the freshest report, its name from the best-placed source (so names
/// never flip between refreshes), resets the most any source counted, and gaps filled from the
/// other reports. Sorted by family, then name.
pub fn merge(reports: &[SourceSessions]) -> Vec<BgpSession> {
    let mut members: Vec<(SourceId, DateTime<Utc>, &BgpSession)> =
        reports.iter().flat_map(|r| r.sessions.iter().map(move |s| (r.source, r.at, s))).collect();
    // Freshest first; among equally fresh reports, the best-placed source.
    members.sort_by(|a, b| b.1.cmp(&a.1).then(name_rank(a.0).cmp(&name_rank(b.0))));
    let mut groups: Vec<Vec<(SourceId, DateTime<Utc>, &BgpSession)>> = Vec::new();
    let mut by_key: BTreeMap<(Option<Family>, String), usize> = BTreeMap::new();
    // Sessions with an address first, so the ones known only by name can join them.
    let (with_addr, by_name): (Vec<_>, Vec<_>) = members.into_iter().partition(|m| !m.2.peer_addr.is_empty());
    for m in with_addr {
        let i = *by_key.entry((m.2.family, m.2.key())).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[i].push(m);
    }
    for m in by_name {
        let same = groups.iter().position(|g| {
            g.iter().any(|o| o.2.peer == m.2.peer && (m.2.family.is_none() || o.2.family == m.2.family))
        });
        match same {
            Some(i) => groups[i].push(m),
            None => groups.push(vec![m]),
        }
    }
    let mut out: Vec<BgpSession> = groups.into_iter().filter_map(|g| merged(&g)).collect();
    out.sort_by(|a, b| (a.family, &a.peer, &a.peer_addr).cmp(&(b.family, &b.peer, &b.peer_addr)));
    out
}

fn merged(group: &[(SourceId, DateTime<Utc>, &BgpSession)]) -> Option<BgpSession> {
    let (_, _, first) = group.first()?;
    let mut s = (*first).clone();
    // A name that is more than the address (a TOR's name, a BIRD protocol), from the best
    // source that has one.
    let mut named: Vec<&(SourceId, DateTime<Utc>, &BgpSession)> = group
        .iter()
        .filter(|(_, _, o)| !o.peer.is_empty() && normalize_addr(&o.peer) != normalize_addr(&o.peer_addr))
        .collect();
    named.sort_by_key(|(src, _, _)| name_rank(*src));
    if let Some((_, _, o)) = named.first() {
        s.peer = o.peer.clone();
    }
    for (_, _, o) in &group[1..] {
        if s.peer_addr.is_empty() {
            s.peer_addr = o.peer_addr.clone();
        }
        s.family = s.family.or(o.family);
        if s.peer_asn == 0 {
            s.peer_asn = o.peer_asn;
        }
        if s.local_asn == 0 {
            s.local_asn = o.local_asn;
        }
        if o.state == s.state {
            s.since = s.since.or(o.since);
        }
        s.routes_received = s.routes_received.or(o.routes_received);
        s.routes_advertised = s.routes_advertised.or(o.routes_advertised);
        s.hold_time_s = s.hold_time_s.or(o.hold_time_s);
        s.keepalive_s = s.keepalive_s.or(o.keepalive_s);
        let (f, of) = (&mut s.failover, &o.failover);
        f.graceful_restart = f.graceful_restart.or(of.graceful_restart);
        f.restart_time_s = f.restart_time_s.or(of.restart_time_s);
        f.peer_graceful_restart = f.peer_graceful_restart.or(of.peer_graceful_restart);
        f.hold_time_conf_s = f.hold_time_conf_s.or(of.hold_time_conf_s);
        f.keepalive_conf_s = f.keepalive_conf_s.or(of.keepalive_conf_s);
        if s.last_error.is_none() {
            s.last_error = o.last_error.clone();
        }
        if s.peer_type.is_none() {
            s.peer_type = o.peer_type.clone();
        }
        s.resets_1h = s.resets_1h.max(o.resets_1h);
    }
    s.reports = group
        .iter()
        .map(|(source, at, o)| Report { source: *source, at: *at, state: o.state.clone() })
        .collect();
    Some(s)
}

#[cfg(test)]
#[path = "bgp_tests.rs"]
mod tests;
