//! The recording's own binary encoding of `Update`s: varints, length-prefixed strings, times as
//! seconds and nanoseconds. Independent of the snapshot JSON's spellings (which may change without
//! breaking old recordings); a change here bumps `SCHEMA_VERSION`. Each type is destructured
//! without `..` (`codec/model.rs`), so a new field is a compile error until it is recorded.
//!
//! Decoding never panics: truncated or corrupted bytes are a `CodecError`.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

mod model;
mod pods;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecError(pub String);

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub type Result<T> = std::result::Result<T, CodecError>;

fn err<T>(what: &str) -> Result<T> {
    Err(CodecError(what.to_string()))
}

/// A signed integer as an unsigned one that stays small when the integer is near zero
/// (0, -1, 1, -2 … → 0, 1, 2, 3 …), for varints.
pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

pub fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

#[derive(Default)]
pub struct Enc {
    pub buf: Vec<u8>,
}

pub struct Dec<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Enc {
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub fn uvar(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }
    pub fn ivar(&mut self, v: i64) {
        self.uvar(zigzag(v));
    }
    pub fn f64(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn bytes(&mut self, b: &[u8]) {
        self.uvar(b.len() as u64);
        self.buf.extend_from_slice(b);
    }
}

impl<'a> Dec<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Dec { b, pos: 0 }
    }
    pub fn done(&self) -> bool {
        self.pos >= self.b.len()
    }
    pub fn u8(&mut self) -> Result<u8> {
        let v = *self.b.get(self.pos).ok_or_else(|| CodecError("truncated".into()))?;
        self.pos += 1;
        Ok(v)
    }
    pub fn uvar(&mut self) -> Result<u64> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        err("varint too long")
    }
    pub fn ivar(&mut self) -> Result<i64> {
        let u = self.uvar()?;
        Ok(unzigzag(u))
    }
    pub fn f64(&mut self) -> Result<f64> {
        let end = self.pos.checked_add(8).filter(|e| *e <= self.b.len());
        let end = end.ok_or_else(|| CodecError("truncated".into()))?;
        let mut a = [0u8; 8];
        a.copy_from_slice(&self.b[self.pos..end]);
        self.pos = end;
        Ok(f64::from_le_bytes(a))
    }
    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = usize::try_from(self.uvar()?).map_err(|_| CodecError("length".into()))?;
        let end = self.pos.checked_add(n).filter(|e| *e <= self.b.len());
        let end = end.ok_or_else(|| CodecError("truncated".into()))?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    /// A count of items that follow, each at least one byte: never more than the bytes left.
    pub fn count(&mut self) -> Result<usize> {
        let n = self.uvar()?;
        if n > (self.b.len() - self.pos) as u64 {
            return err("count beyond the data");
        }
        Ok(n as usize)
    }
}

/// A value the recording knows how to write and read back.
pub trait Codec: Sized {
    fn enc(&self, e: &mut Enc);
    fn dec(d: &mut Dec) -> Result<Self>;
}

impl Codec for bool {
    fn enc(&self, e: &mut Enc) {
        e.u8(u8::from(*self));
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        match d.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => err("bad bool"),
        }
    }
}

impl Codec for u64 {
    fn enc(&self, e: &mut Enc) {
        e.uvar(*self);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        d.uvar()
    }
}

impl Codec for u32 {
    fn enc(&self, e: &mut Enc) {
        e.uvar(u64::from(*self));
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        u32::try_from(d.uvar()?).map_err(|_| CodecError("u32 out of range".into()))
    }
}

impl Codec for u16 {
    fn enc(&self, e: &mut Enc) {
        e.uvar(u64::from(*self));
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        u16::try_from(d.uvar()?).map_err(|_| CodecError("u16 out of range".into()))
    }
}

impl Codec for i64 {
    fn enc(&self, e: &mut Enc) {
        e.ivar(*self);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        d.ivar()
    }
}

impl Codec for f64 {
    fn enc(&self, e: &mut Enc) {
        e.f64(*self);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        d.f64()
    }
}

impl Codec for String {
    fn enc(&self, e: &mut Enc) {
        e.bytes(self.as_bytes());
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        let b = d.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|_| CodecError("bad utf-8".into()))
    }
}

impl Codec for Arc<str> {
    fn enc(&self, e: &mut Enc) {
        e.bytes(self.as_bytes());
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        let b = d.bytes()?;
        std::str::from_utf8(b).map(Arc::from).map_err(|_| CodecError("bad utf-8".into()))
    }
}

impl Codec for DateTime<Utc> {
    fn enc(&self, e: &mut Enc) {
        e.ivar(self.timestamp());
        e.uvar(u64::from(self.timestamp_subsec_nanos()));
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        let s = d.ivar()?;
        let n = u32::try_from(d.uvar()?).map_err(|_| CodecError("bad time".into()))?;
        DateTime::from_timestamp(s, n).ok_or_else(|| CodecError("bad time".into()))
    }
}

impl<T: Codec> Codec for Option<T> {
    fn enc(&self, e: &mut Enc) {
        match self {
            None => e.u8(0),
            Some(v) => {
                e.u8(1);
                v.enc(e);
            }
        }
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        match d.u8()? {
            0 => Ok(None),
            1 => Ok(Some(T::dec(d)?)),
            _ => err("bad option"),
        }
    }
}

impl<T: Codec> Codec for Box<T> {
    fn enc(&self, e: &mut Enc) {
        (**self).enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        T::dec(d).map(Box::new)
    }
}

impl<T: Codec> Codec for Vec<T> {
    fn enc(&self, e: &mut Enc) {
        e.uvar(self.len() as u64);
        self.iter().for_each(|v| v.enc(e));
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        let n = d.count()?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(T::dec(d)?);
        }
        Ok(out)
    }
}

impl<A: Codec, B: Codec> Codec for (A, B) {
    fn enc(&self, e: &mut Enc) {
        self.0.enc(e);
        self.1.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok((A::dec(d)?, B::dec(d)?))
    }
}

impl<T: Codec, const N: usize> Codec for [T; N] {
    fn enc(&self, e: &mut Enc) {
        self.iter().for_each(|v| v.enc(e));
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        let mut v = Vec::with_capacity(N);
        for _ in 0..N {
            v.push(T::dec(d)?);
        }
        v.try_into().map_err(|_| CodecError("array".into()))
    }
}

impl Codec for BTreeMap<String, String> {
    fn enc(&self, e: &mut Enc) {
        e.uvar(self.len() as u64);
        for (k, v) in self {
            k.enc(e);
            v.enc(e);
        }
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        let n = d.count()?;
        let mut out = BTreeMap::new();
        for _ in 0..n {
            out.insert(String::dec(d)?, String::dec(d)?);
        }
        Ok(out)
    }
}

/// A small enum from its one-byte position in `all` (written by a `match` in its `enc`).
pub(crate) fn dec_variant<T: Copy>(d: &mut Dec, all: &[T], what: &str) -> Result<T> {
    let i = d.u8()?;
    all.get(usize::from(i)).copied().ok_or_else(|| CodecError(format!("bad {what}")))
}

#[cfg(test)]
mod tests;
