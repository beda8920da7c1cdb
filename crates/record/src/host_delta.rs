//! Host facts as a delta against the node's previous facts in the same stream: a bit per field
//! that changed, then only those fields. Most of a recording's bytes are host readings (5,000
//! agents, one kept reading per node every minute or so), of which usually one or two fields
//! moved. Floats recorded to the precision a view shows (`thin::quantize`) take a varint;
//! any other float is written whole, so the encoding is lossless either way.

use chrono::{DateTime, Utc};
use clustertop_core::model::{CiliumMaps, Conntrack, HostFacts, MapFill};

use crate::codec::{Codec, CodecError, Dec, Enc, Result, unzigzag, zigzag};

/// Scales at which `thin::quantize` rounds: load averages to 0.01 (as /proc/loadavg prints
/// them), CPU to 0.01 %, conntrack rates to 0.01/s.
pub const LOAD_SCALE: f64 = 100.0;
pub const CPU_SCALE: f64 = 10_000.0;
pub const RATE_SCALE: f64 = 100.0;
/// Cilium's map pressure to 0.01 % (the views show whole per cents).
pub const PRESSURE_SCALE: f64 = 10_000.0;

/// `v` as a varint when it is `k / scale` for an integer `k` (below 2^52), else whole.
fn qf(e: &mut Enc, v: f64, scale: f64) {
    let k = (v * scale).round();
    if k.abs() < (1u64 << 52) as f64 && k / scale == v && !(v == 0.0 && v.is_sign_negative()) {
        let k = k as i64;
        e.uvar(zigzag(k) << 1);
    } else {
        e.uvar(1);
        e.f64(v);
    }
}

fn dqf(d: &mut Dec, scale: f64) -> Result<f64> {
    let x = d.uvar()?;
    if x & 1 == 1 {
        return d.f64();
    }
    Ok(unzigzag(x >> 1) as f64 / scale)
}

fn opt<T>(e: &mut Enc, v: &Option<T>, f: impl Fn(&mut Enc, &T)) {
    match v {
        Some(v) => {
            e.u8(1);
            f(e, v);
        }
        None => e.u8(0),
    }
}

fn dopt<T>(d: &mut Dec, f: impl Fn(&mut Dec) -> Result<T>) -> Result<Option<T>> {
    match d.u8()? {
        0 => Ok(None),
        1 => f(d).map(Some),
        _ => Err(CodecError("bad option tag".into())),
    }
}

fn conntrack(e: &mut Enc, c: &Conntrack) {
    c.entries.enc(e);
    c.limit.enc(e);
    qf(e, c.insert_failed_per_s, RATE_SCALE);
    qf(e, c.drop_per_s, RATE_SCALE);
    qf(e, c.early_drop_per_s, RATE_SCALE);
    c.tcp_established_timeout_s.enc(e);
    c.bridge_nf_call_iptables.enc(e);
}

fn dconntrack(d: &mut Dec) -> Result<Conntrack> {
    Ok(Conntrack {
        entries: Codec::dec(d)?,
        limit: Codec::dec(d)?,
        insert_failed_per_s: dqf(d, RATE_SCALE)?,
        drop_per_s: dqf(d, RATE_SCALE)?,
        early_drop_per_s: dqf(d, RATE_SCALE)?,
        tcp_established_timeout_s: Codec::dec(d)?,
        bridge_nf_call_iptables: Codec::dec(d)?,
    })
}

fn cilium(e: &mut Enc, c: &CiliumMaps) {
    e.uvar(c.maps.len() as u64);
    for m in &c.maps {
        m.name.enc(e);
        qf(e, m.pressure, PRESSURE_SCALE);
    }
    opt(e, &c.insert_failed_per_s, |e, v| qf(e, *v, RATE_SCALE));
}

fn dcilium(d: &mut Dec) -> Result<CiliumMaps> {
    let n = d.count()?;
    let maps = (0..n)
        .map(|_| Ok(MapFill { name: Codec::dec(d)?, pressure: dqf(d, PRESSURE_SCALE)? }))
        .collect::<Result<Vec<_>>>()?;
    Ok(CiliumMaps { maps, insert_failed_per_s: dopt(d, |d| dqf(d, RATE_SCALE))? })
}

const KVM: u8 = 1;
const CONNTRACK: u8 = 2;
const FILE_NR: u8 = 4;
const PIDS: u8 = 8;
const LOAD: u8 = 16;
const CORES: u8 = 32;
const CPU: u8 = 64;
const CILIUM: u8 = 128;
const ALL: u8 = u8::MAX;

/// Cilium's maps with their floats as bits: each map's name and pressure, and the drop rate.
type CiliumBits<'a> = (Vec<(&'a str, u64)>, Option<u64>);

/// Cilium's maps with their floats as bits (a NaN is the same NaN, -0.0 is not 0.0).
fn cilium_bits(c: &Option<CiliumMaps>) -> Option<CiliumBits<'_>> {
    c.as_ref().map(|c| {
        let maps = c.maps.iter().map(|m| (m.name.as_str(), m.pressure.to_bits())).collect();
        (maps, c.insert_failed_per_s.map(f64::to_bits))
    })
}

/// `facts` against `prev` (everything when there is none), and the reading's time against the
/// batch's (`at`): in milliseconds when it has no finer part.
pub fn enc(
    e: &mut Enc,
    batch_at: DateTime<Utc>,
    at: DateTime<Utc>,
    facts: &HostFacts,
    prev: Option<&HostFacts>,
) {
    let ms = (at - batch_at).num_milliseconds();
    if batch_at + chrono::Duration::milliseconds(ms) == at {
        e.uvar(zigzag(ms) << 1);
    } else {
        e.uvar(1);
        at.enc(e);
    }
    let HostFacts { kvm, conntrack: ct, cilium_ct, file_nr, pids, load, cpu_cores, cpu_now } = facts;
    // Floats compare by their bits: a NaN is the same NaN, -0.0 is not 0.0.
    let bits = |c: &Option<Conntrack>| {
        c.as_ref().map(|c| {
            let r = [c.insert_failed_per_s, c.drop_per_s, c.early_drop_per_s].map(f64::to_bits);
            (c.entries, c.limit, r, c.tcp_established_timeout_s, c.bridge_nf_call_iptables)
        })
    };
    let changed = |bit: u8, same: bool| if prev.is_some() && same { 0 } else { bit };
    let mask = changed(KVM, prev.is_some_and(|p| p.kvm == *kvm))
        | changed(CONNTRACK, prev.is_some_and(|p| bits(&p.conntrack) == bits(ct)))
        | changed(FILE_NR, prev.is_some_and(|p| p.file_nr == *file_nr))
        | changed(PIDS, prev.is_some_and(|p| p.pids == *pids))
        | changed(
            LOAD,
            prev.is_some_and(|p| p.load.map(|l| l.map(f64::to_bits)) == load.map(|l| l.map(f64::to_bits))),
        )
        | changed(CORES, prev.is_some_and(|p| p.cpu_cores == *cpu_cores))
        | changed(CPU, prev.is_some_and(|p| p.cpu_now.map(f64::to_bits) == cpu_now.map(f64::to_bits)))
        | changed(CILIUM, prev.is_some_and(|p| cilium_bits(&p.cilium_ct) == cilium_bits(cilium_ct)));
    e.u8(mask);
    if mask & KVM != 0 {
        kvm.enc(e);
    }
    if mask & CONNTRACK != 0 {
        opt(e, ct, conntrack);
    }
    if mask & FILE_NR != 0 {
        file_nr.enc(e);
    }
    if mask & PIDS != 0 {
        pids.enc(e);
    }
    if mask & LOAD != 0 {
        opt(e, load, |e, l| l.iter().for_each(|v| qf(e, *v, LOAD_SCALE)));
    }
    if mask & CORES != 0 {
        cpu_cores.enc(e);
    }
    if mask & CPU != 0 {
        opt(e, cpu_now, |e, v| qf(e, *v, CPU_SCALE));
    }
    if mask & CILIUM != 0 {
        opt(e, cilium_ct, cilium);
    }
}

/// The reading's time and facts; the fields not written are `prev`'s (none without one).
pub fn dec(
    d: &mut Dec,
    batch_at: DateTime<Utc>,
    prev: Option<&HostFacts>,
) -> Result<(DateTime<Utc>, HostFacts)> {
    let x = d.uvar()?;
    let at = if x & 1 == 1 {
        DateTime::<Utc>::dec(d)?
    } else {
        let ms = unzigzag(x >> 1);
        chrono::Duration::try_milliseconds(ms)
            .and_then(|m| batch_at.checked_add_signed(m))
            .ok_or_else(|| CodecError("bad host reading time".into()))?
    };
    let mask = d.u8()?;
    if prev.is_none() && mask != ALL {
        return Err(CodecError("host facts delta without the node's previous facts".into()));
    }
    let mut f = prev.cloned().unwrap_or_default();
    if mask & KVM != 0 {
        f.kvm = Codec::dec(d)?;
    }
    if mask & CONNTRACK != 0 {
        f.conntrack = dopt(d, dconntrack)?;
    }
    if mask & FILE_NR != 0 {
        f.file_nr = Codec::dec(d)?;
    }
    if mask & PIDS != 0 {
        f.pids = Codec::dec(d)?;
    }
    if mask & LOAD != 0 {
        f.load = dopt(d, |d| Ok([dqf(d, LOAD_SCALE)?, dqf(d, LOAD_SCALE)?, dqf(d, LOAD_SCALE)?]))?;
    }
    if mask & CORES != 0 {
        f.cpu_cores = Codec::dec(d)?;
    }
    if mask & CPU != 0 {
        f.cpu_now = dopt(d, |d| dqf(d, CPU_SCALE))?;
    }
    if mask & CILIUM != 0 {
        f.cilium_ct = dopt(d, dcilium)?;
    }
    Ok((at, f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clustertop_core::testkit::T0;

    fn facts(cpu: f64, entries: u64) -> HostFacts {
        HostFacts {
            kvm: Some(true),
            conntrack: Some(Conntrack {
                entries,
                limit: 262_144,
                insert_failed_per_s: 0.25,
                drop_per_s: 0.0,
                early_drop_per_s: 1.0 / 3.0,
                tcp_established_timeout_s: Some(432_000),
                bridge_nf_call_iptables: None,
            }),
            file_nr: Some((4_128, 9_223_372_036_854_775_807)),
            pids: Some((812, 4_194_304)),
            load: Some([0.42, 1.07, f64::NAN]),
            cpu_cores: Some(64),
            cpu_now: Some(cpu),
            cilium_ct: Some(clustertop_core::model::CiliumMaps {
                maps: vec![clustertop_core::model::MapFill { name: "ct4_global".into(), pressure: 0.93 }],
                insert_failed_per_s: Some(4.0),
            }),
        }
    }

    fn round_trip(
        facts: &HostFacts,
        prev: Option<&HostFacts>,
        at: DateTime<Utc>,
    ) -> (usize, DateTime<Utc>, HostFacts) {
        let mut e = Enc::default();
        enc(&mut e, T0, at, facts, prev);
        let mut d = Dec::new(&e.buf);
        let (t, f) = dec(&mut d, T0, prev).expect("decodes");
        assert!(d.done());
        (e.buf.len(), t, f)
    }

    /// Lossless for any float (a third, NaN, -0.0) and any time; a reading that moved one field
    /// takes that field's bytes, not the node's whole facts.
    #[test]
    fn host_facts_round_trip_exactly_and_a_delta_is_small() {
        let a = facts(0.4321, 20_000);
        let at = T0 + chrono::Duration::milliseconds(-1_250);
        let (full, t, f) = round_trip(&a, None, at);
        assert_eq!(t, at);
        assert_eq!(format!("{f:?}"), format!("{a:?}"), "NaN compares unequal, so by its debug form");
        let b = facts(0.4325, 20_000);
        let (delta, _, f) = round_trip(&b, Some(&a), T0);
        assert_eq!(format!("{f:?}"), format!("{b:?}"));
        // The time (1 byte), the mask (1), the option (1), 0.4325 as 4325 (3).
        assert!(delta <= 6, "one quantized CPU figure took {delta} bytes (whole facts: {full})");
        let odd = HostFacts { cpu_now: Some(-0.0), load: Some([1e300, -1e-300, 0.1 + 0.2]), ..b.clone() };
        let later = T0 + chrono::Duration::nanoseconds(1_000_000_001);
        let (_, t, f) = round_trip(&odd, Some(&b), later);
        assert_eq!((t, f.load, f.cpu_now.map(f64::to_bits)), (later, odd.load, Some((-0.0f64).to_bits())));
        // Cilium's map pressure: 0.9312 as a varint (a few bytes, not the f64's 8), any other
        // float whole.
        let mut c = b.clone();
        if let Some(m) = &mut c.cilium_ct {
            m.maps[0].pressure = 0.9312;
        }
        let (moved, _, f) = round_trip(&c, Some(&b), T0);
        assert_eq!(format!("{f:?}"), format!("{c:?}"));
        assert!(moved <= 22, "one map's pressure took {moved} bytes");
        if let Some(m) = &mut c.cilium_ct {
            m.maps[0].pressure = 1.0 / 3.0;
            m.insert_failed_per_s = Some(f64::NAN);
        }
        let (_, _, f) = round_trip(&c, Some(&b), T0);
        let got = f.cilium_ct.as_ref().map(|m| (m.maps[0].pressure, m.insert_failed_per_s));
        assert!(matches!(got, Some((p, Some(r))) if p == 1.0 / 3.0 && r.is_nan()), "{got:?}");
    }

    #[test]
    fn a_delta_without_the_previous_facts_is_an_error() {
        let a = facts(0.5, 1);
        let mut e = Enc::default();
        enc(&mut e, T0, T0, &facts(0.6, 1), Some(&a));
        let mut d = Dec::new(&e.buf);
        assert!(dec(&mut d, T0, None).is_err());
    }
}
