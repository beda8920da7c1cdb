//! OpenMetrics text: label escaping, allocation-free number formatting, and a writer that keeps
//! families together, writes each series in time order and counts what it wrote.

use std::io::{self, Write};

/// A sample value: an integer, or a millisecond count printed as seconds with three decimals
/// (exact in the text, so increases read back from the file are exact decimals too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Val {
    Int(u64),
    Ms(u64),
}

/// Escape a label value per OpenMetrics: backslash, double quote and line feed.
pub(crate) fn escape_label(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// `name{k="v",...} ` (with the trailing space), values escaped.
pub(crate) fn series_prefix(name: &str, labels: &[(&str, &str)]) -> String {
    let mut s = String::with_capacity(name.len() + 24 * labels.len() + 3);
    s.push_str(name);
    if !labels.is_empty() {
        s.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(k);
            s.push_str("=\"");
            escape_label(v, &mut s);
            s.push('"');
        }
        s.push('}');
    }
    s.push(' ');
    s
}

pub(crate) fn push_u64(buf: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

pub(crate) fn push_val(buf: &mut Vec<u8>, v: Val) {
    match v {
        Val::Int(n) => push_u64(buf, n),
        Val::Ms(ms) => {
            push_u64(buf, ms / 1000);
            let f = ms % 1000;
            buf.extend_from_slice(&[
                b'.',
                b'0' + (f / 100) as u8,
                b'0' + (f / 10 % 10) as u8,
                b'0' + (f % 10) as u8,
            ]);
        }
    }
}

/// Bytes buffered before they go to the underlying writer.
const CHUNK: usize = 1 << 16;

pub(crate) struct OmWriter<W: Write> {
    w: W,
    /// `" <unix seconds>\n"` per sample index.
    stamps: Vec<Vec<u8>>,
    buf: Vec<u8>,
    pub series: u64,
    pub samples: u64,
    pub bytes: u64,
}

impl<W: Write> OmWriter<W> {
    pub(crate) fn new(w: W, times: &[i64]) -> Self {
        let stamps = times.iter().map(|t| format!(" {t}\n").into_bytes()).collect();
        OmWriter { w, stamps, buf: Vec::with_capacity(CHUNK + 4096), series: 0, samples: 0, bytes: 0 }
    }

    /// `# HELP` and `# TYPE` of a family (`kind`: counter, gauge, unknown). A counter family's
    /// samples are named `<name>_total`.
    pub(crate) fn family(&mut self, name: &str, kind: &str, help: &str) -> io::Result<()> {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        self.buf.extend_from_slice(format!("# HELP {name} {help}\n# TYPE {name} {kind}\n").as_bytes());
        Ok(())
    }

    /// One series: `value(k)` for every sample index `k`, in time order.
    pub(crate) fn series(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        value: impl FnMut(usize) -> Val,
    ) -> io::Result<()> {
        self.series_every(name, labels, 1, value)
    }

    /// Like [`Self::series`], but only every `every`-th sample and the last one: for series
    /// whose value never changes.
    pub(crate) fn series_every(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        every: usize,
        mut value: impl FnMut(usize) -> Val,
    ) -> io::Result<()> {
        let prefix = series_prefix(name, labels);
        let (n, every) = (self.stamps.len(), every.max(1));
        self.series += 1;
        for (k, stamp) in self.stamps.iter().enumerate() {
            if k % every != 0 && k + 1 != n {
                continue;
            }
            self.buf.extend_from_slice(prefix.as_bytes());
            push_val(&mut self.buf, value(k));
            self.buf.extend_from_slice(stamp);
            self.samples += 1;
            if self.buf.len() >= CHUNK {
                self.w.write_all(&self.buf)?;
                self.bytes += self.buf.len() as u64;
                self.buf.clear();
            }
        }
        Ok(())
    }

    /// `# EOF` and flush.
    pub(crate) fn finish(&mut self) -> io::Result<()> {
        self.buf.extend_from_slice(b"# EOF\n");
        self.w.write_all(&self.buf)?;
        self.bytes += self.buf.len() as u64;
        self.buf.clear();
        self.w.flush()
    }
}
