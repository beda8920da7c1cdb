//! A frame's payload: a sequence of batches, each `(time, updates)`. The cluster CPU curve (up
//! to 7 days of points per rack, resent whole by its source) is written as a delta against the
//! previous curve of the same stream: the points it keeps, and the new ones. A stream starts at a
//! keyframe, so the reader decodes from there in order.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use clustertop_core::model::{CpuCurve, CpuPoint, HostFacts, RackCurve, Update};

use crate::codec::{Codec, CodecError, Dec, Enc, Result};
use crate::host_delta;

const FULL: u8 = 0;
const CPU_DELTA: u8 = 1;
/// Host facts against the node's previous facts in the stream (`host_delta`).
const HOST_DELTA: u8 = 2;

/// One batch as the store received it.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub at: DateTime<Utc>,
    pub updates: Vec<Update>,
}

#[derive(Default)]
pub struct StreamEnc {
    last_cpu: Option<CpuCurve>,
    hosts: HashMap<String, HostFacts>,
}

#[derive(Default, Clone)]
pub struct StreamDec {
    last_cpu: Option<CpuCurve>,
    hosts: HashMap<String, HostFacts>,
}

/// Where `new` starts in `prev` and how many points it keeps from there.
fn kept(prev: &[CpuPoint], new: &[CpuPoint]) -> (usize, usize) {
    let Some(first) = new.first() else { return (prev.len(), 0) };
    let Ok(start) = prev.binary_search_by(|p| p.t.cmp(&first.t)) else { return (prev.len(), 0) };
    let keep = prev[start..].iter().zip(new).take_while(|(a, b)| a == b).count();
    (start, keep)
}

fn enc_series(e: &mut Enc, prev: &[CpuPoint], new: &[CpuPoint]) {
    let (start, keep) = kept(prev, new);
    e.uvar(start as u64);
    e.uvar(keep as u64);
    new[keep..].to_vec().enc(e);
}

fn dec_series(d: &mut Dec, prev: &[CpuPoint]) -> Result<Vec<CpuPoint>> {
    let start = usize::try_from(d.uvar()?).map_err(|_| CodecError("cpu delta".into()))?;
    let keep = usize::try_from(d.uvar()?).map_err(|_| CodecError("cpu delta".into()))?;
    let end = start.checked_add(keep).filter(|e| *e <= prev.len());
    let end = end.ok_or_else(|| CodecError("cpu delta beyond the previous curve".into()))?;
    let mut out = prev[start..end].to_vec();
    out.extend(Vec::<CpuPoint>::dec(d)?);
    Ok(out)
}

impl StreamEnc {
    pub fn batch(&mut self, e: &mut Enc, at: DateTime<Utc>, updates: &[impl std::borrow::Borrow<Update>]) {
        at.enc(e);
        e.uvar(updates.len() as u64);
        for u in updates {
            self.update(e, at, u.borrow());
        }
    }

    fn update(&mut self, e: &mut Enc, batch_at: DateTime<Utc>, u: &Update) {
        if let Update::Host { node, facts, at } = u {
            e.u8(HOST_DELTA);
            node.enc(e);
            host_delta::enc(e, batch_at, *at, facts, self.hosts.get(node));
            self.hosts.insert(node.clone(), facts.clone());
            return;
        }
        if let Update::NodeDeleted { name } = u {
            self.hosts.remove(name);
        }
        let Update::Cpu(c) = u else {
            e.u8(FULL);
            u.enc(e);
            return;
        };
        match &self.last_cpu {
            Some(p)
                if p.racks.len() == c.racks.len()
                    && p.racks.iter().zip(&c.racks).all(|(a, b)| a.rack == b.rack) =>
            {
                e.u8(CPU_DELTA);
                c.step_s.enc(e);
                c.capacity_cores.enc(e);
                enc_series(e, &p.points, &c.points);
                for (a, b) in p.racks.iter().zip(&c.racks) {
                    b.capacity_cores.enc(e);
                    enc_series(e, &a.points, &b.points);
                }
            }
            _ => {
                e.u8(FULL);
                u.enc(e);
            }
        }
        self.last_cpu = Some(c.clone());
    }
}

impl StreamDec {
    /// Every batch of a frame's payload.
    pub fn frame(&mut self, bytes: &[u8]) -> Result<Vec<Batch>> {
        self.frame_until(bytes, None).map(|(batches, _)| batches)
    }

    /// The batches of a frame's payload up to `until` (every one without it), and whether it
    /// holds later ones: those are not decoded (a seek stops there), and the decoder is left
    /// partway through the frame.
    pub fn frame_until(&mut self, bytes: &[u8], until: Option<DateTime<Utc>>) -> Result<(Vec<Batch>, bool)> {
        let mut d = Dec::new(bytes);
        let mut out = Vec::new();
        while !d.done() {
            let at = DateTime::<Utc>::dec(&mut d)?;
            if until.is_some_and(|u| at > u) {
                return Ok((out, true));
            }
            let n = d.count()?;
            let mut updates = Vec::with_capacity(n);
            for _ in 0..n {
                updates.push(self.update(&mut d, at)?);
            }
            out.push(Batch { at, updates });
        }
        Ok((out, false))
    }

    fn update(&mut self, d: &mut Dec, batch_at: DateTime<Utc>) -> Result<Update> {
        let u = match d.u8()? {
            HOST_DELTA => {
                let node = String::dec(d)?;
                let (at, facts) = host_delta::dec(d, batch_at, self.hosts.get(&node))?;
                self.hosts.insert(node.clone(), facts.clone());
                return Ok(Update::Host { node, facts, at });
            }
            FULL => Update::dec(d)?,
            CPU_DELTA => {
                let p =
                    self.last_cpu.as_ref().ok_or_else(|| CodecError("cpu delta without a curve".into()))?;
                let step_s = u32::dec(d)?;
                let capacity_cores = f64::dec(d)?;
                let points = dec_series(d, &p.points)?;
                let mut racks = Vec::with_capacity(p.racks.len());
                for r in &p.racks {
                    let capacity_cores = f64::dec(d)?;
                    racks.push(RackCurve {
                        rack: r.rack.clone(),
                        capacity_cores,
                        points: dec_series(d, &r.points)?,
                    });
                }
                Update::Cpu(CpuCurve { step_s, capacity_cores, points, racks })
            }
            _ => return Err(CodecError("bad item tag".into())),
        };
        match &u {
            Update::Cpu(c) => self.last_cpu = Some(c.clone()),
            Update::NodeDeleted { name } => {
                self.hosts.remove(name);
            }
            _ => {}
        }
        Ok(u)
    }
}
