//! Where a key sits in a TOML document: byte spans to dotted key paths and back, so every config
//! error can name the line and the key.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::de::{DeTable, DeValue};

/// One key of the document (array elements share their array's path).
struct Entry {
    path: String,
    key: Range<usize>,
    value: Range<usize>,
}

/// Every key of a document with its spans; empty when the document does not parse.
pub(super) struct Locator<'a> {
    text: &'a str,
    entries: Vec<Entry>,
}

impl<'a> Locator<'a> {
    pub(super) fn new(text: &'a str) -> Locator<'a> {
        let mut entries = Vec::new();
        if let Ok(doc) = DeTable::parse(text) {
            walk_table(doc.get_ref(), "", &mut entries);
        }
        Locator { text, entries }
    }

    /// The dotted path of the innermost key or value whose span holds `offset`.
    pub(super) fn path_at(&self, offset: usize) -> Option<&str> {
        self.entries
            .iter()
            .flat_map(|e| [(&e.key, e), (&e.value, e)])
            .filter(|(span, _)| span.start <= offset && offset < span.end.max(span.start + 1))
            .min_by_key(|(span, _)| span.end.saturating_sub(span.start))
            .map(|(_, e)| e.path.as_str())
    }

    /// The 1-based line of every key (the first occurrence of each dotted path).
    pub(super) fn lines(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for e in &self.entries {
            out.entry(e.path.clone()).or_insert_with(|| self.line_at(e.key.start));
        }
        out
    }

    /// The 1-based line holding byte `offset`.
    pub(super) fn line_at(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end].iter().filter(|b| **b == b'\n').count() + 1
    }
}

fn walk_table(t: &DeTable<'_>, prefix: &str, out: &mut Vec<Entry>) {
    for (k, v) in t.iter() {
        let path =
            if prefix.is_empty() { k.get_ref().to_string() } else { format!("{prefix}.{}", k.get_ref()) };
        out.push(Entry { path: path.clone(), key: k.span(), value: v.span() });
        walk_value(v.get_ref(), &path, out);
    }
}

fn walk_value(v: &DeValue<'_>, path: &str, out: &mut Vec<Entry>) {
    match v {
        DeValue::Table(t) => walk_table(t, path, out),
        DeValue::Array(items) => {
            for item in items.iter() {
                out.push(Entry { path: path.to_string(), key: item.span(), value: item.span() });
                walk_value(item.get_ref(), path, out);
            }
        }
        _ => {}
    }
}
