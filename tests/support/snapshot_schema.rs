//! The README's `clustertop snapshot` JSON schema, read from the README, and a check of a JSON
//! document against it: every key the document has is documented, every value of an enum field
//! is one the README lists (one spelling), the tallies have every key, zeros included.
//!
//! What the README block says, as this reads it:
//! - `"name"`: a key (or a value, when it is one of an enum's alternatives);
//! - `"field": "a|b|c"`: the values `field` takes (all such lines of one name are merged);
//! - `"field": {"a"|"b": n}`: a tally with exactly these keys;
//! - `"field": {every "other" …: n}`: a tally keyed by every value of the enum `other`;
//! - `"field": {…}`: a map with free keys.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

#[derive(Default, Debug)]
pub struct Schema {
    /// Every quoted word.
    pub words: BTreeSet<String>,
    /// Enum fields and their values.
    pub enums: BTreeMap<String, BTreeSet<String>>,
    /// Tallies and their exact keys.
    pub tallies: BTreeMap<String, BTreeSet<String>>,
    /// Maps with free keys.
    pub free: BTreeSet<String>,
}

pub fn readme_block() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let at = readme.find("## `clustertop snapshot` JSON").expect("the snapshot JSON section");
    let rest = &readme[at..];
    let open = rest.find("```\n").expect("its code block") + 4;
    let len = rest[open..].find("```").expect("the block's end");
    rest[open..open + len].to_string()
}

/// The quoted tokens of `s` with what follows each (`"a": "b|c"` gives `("a", rest)`).
fn quoted(s: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find('"') {
        let Some(j) = rest[i + 1..].find('"') else { break };
        let word = &rest[i + 1..i + 1 + j];
        rest = &rest[i + 2 + j..];
        out.push((word, rest));
    }
    out
}

fn is_value(w: &str) -> bool {
    !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || "_|./-".contains(c))
}

pub fn parse(block: &str) -> Schema {
    let mut s = Schema::default();
    let mut every: Vec<(String, String)> = Vec::new();
    for (word, after) in quoted(block) {
        if !is_value(word) {
            continue;
        }
        for w in word.split('|') {
            s.words.insert(w.to_string());
        }
        let Some(after) = after.strip_prefix(": ") else { continue };
        if let Some(v) = after.strip_prefix('"') {
            let value = &v[..v.find('"').unwrap_or(0)];
            if is_value(value) {
                s.enums.entry(word.into()).or_default().extend(value.split('|').map(String::from));
            }
        } else if after.starts_with("{…}") {
            s.free.insert(word.into());
        } else if let Some(body) = after.strip_prefix('{') {
            let body = &body[..body.find('}').unwrap_or(0)];
            if let Some(keys) = body.strip_suffix(": n") {
                if let Some(of) = keys.strip_prefix("every \"") {
                    every.push((word.into(), of[..of.find('"').unwrap_or(0)].into()));
                } else {
                    let keys = keys.split('|').map(|k| k.trim_matches('"').to_string()).collect();
                    s.tallies.insert(word.into(), keys);
                }
            }
        }
    }
    for (tally, of) in every {
        let keys = s.enums.get(&of).cloned().unwrap_or_else(|| panic!("no enum {of:?} for {tally:?}"));
        s.tallies.insert(tally, keys);
    }
    s
}

/// What the output has: its keys (outside free maps and tallies), each enum field's values, and
/// each tally's keys.
#[derive(Default)]
pub struct Seen {
    pub keys: BTreeSet<String>,
    pub problems: Vec<String>,
}

pub fn walk(schema: &Schema, v: &Value, path: &str, seen: &mut Seen) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let at = format!("{path}.{k}");
                seen.keys.insert(k.clone());
                if !schema.words.contains(k) {
                    seen.problems.push(format!("{at}: key not in the README"));
                }
                if schema.free.contains(k) {
                    continue;
                }
                if let (Some(want), Value::Object(t)) = (schema.tallies.get(k), x) {
                    let got: BTreeSet<String> = t.keys().cloned().collect();
                    if &got != want {
                        seen.problems.push(format!("{at}: keys {got:?}, the README says {want:?}"));
                    }
                    continue;
                }
                if let (Some(allowed), Value::String(s)) = (schema.enums.get(k), x)
                    && !allowed.contains(s)
                {
                    seen.problems.push(format!("{at}: {s:?} is not one of the README's {allowed:?}"));
                }
                walk(schema, x, &at, seen);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| walk(schema, x, path, seen)),
        _ => {}
    }
}

/// The problems of `doc` against the README's schema (empty: it matches).
pub fn check(doc: &Value) -> Vec<String> {
    let mut seen = Seen::default();
    walk(&parse(&readme_block()), doc, "", &mut seen);
    seen.problems.sort();
    seen.problems.dedup();
    seen.problems
}
