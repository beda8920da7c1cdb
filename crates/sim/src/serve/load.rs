//! `sim serve --objects`: Kubernetes objects read from JSON files, served as they are.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde_json::Value;

use super::kinds;

/// Every object in `paths` (files, or directories read recursively, `.json` files only), each
/// with its kind. A file holds one object or a `List` (`kubectl get -o json`). An object of a
/// kind `sim serve` does not know is an error naming the file.
pub(crate) fn read_all(paths: &[PathBuf]) -> anyhow::Result<Vec<(usize, Value)>> {
    let mut files = Vec::new();
    for p in paths {
        collect(p, &mut files)?;
    }
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).with_context(|| format!("{}", f.display()))?;
        let v: Value = serde_json::from_str(&text).with_context(|| format!("{}: not JSON", f.display()))?;
        let items = match v.get("items").and_then(Value::as_array) {
            Some(items) if v.get("kind").and_then(Value::as_str).is_some_and(|k| k.ends_with("List")) => {
                items.clone()
            }
            _ => vec![v],
        };
        for o in items {
            let api_version = o.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
            let kind = o.get("kind").and_then(Value::as_str).unwrap_or_default();
            let Some(k) = kinds::of_object(api_version, kind) else {
                bail!("{}: sim serve does not serve {kind} in {api_version}", f.display());
            };
            if o.pointer("/metadata/name").and_then(Value::as_str).is_none_or(str::is_empty) {
                bail!("{}: a {kind} without metadata.name", f.display());
            }
            out.push((k, o));
        }
    }
    Ok(out)
}

fn collect(p: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if p.is_dir() {
        for e in std::fs::read_dir(p).with_context(|| format!("{}", p.display()))? {
            let path = e?.path();
            if path.is_dir() || path.extension().is_some_and(|x| x == "json") {
                collect(&path, out)?;
            }
        }
    } else if p.is_file() {
        out.push(p.to_path_buf());
    } else {
        bail!("{}: no such file or directory", p.display());
    }
    Ok(())
}
