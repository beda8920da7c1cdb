//! Label and field selectors, as the API server parses them.

use std::collections::BTreeMap;

use super::state::Obj;

#[derive(Debug, Clone, PartialEq)]
enum Req {
    Eq(String, String),
    Ne(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    Absent(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Field {
    Name,
    Namespace,
    NodeName,
    /// Any other field label the API server supports, as a JSON pointer into the object
    /// (`status.phase` is `/status/phase`).
    Pointer(String),
}

/// The field labels the API server accepts besides `metadata.name`, `metadata.namespace` and
/// `spec.nodeName` (pods, nodes, events: what `kubectl describe` asks). A field the object does
/// not have reads as the empty string, as in the API server.
const POINTER_FIELDS: &[&str] = &[
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "spec.unschedulable",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "type",
];

/// A field's value as the API server compares it: strings as they are, booleans and numbers as
/// text, nothing as "".
fn field_text(v: Option<&serde_json::Value>) -> String {
    match v {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// A parsed `labelSelector` plus `fieldSelector`; empty matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Selector {
    labels: Vec<Req>,
    fields: Vec<(Field, bool, String)>,
}

/// Split on commas outside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out.into_iter().map(str::trim).filter(|p| !p.is_empty()).collect()
}

fn set(rest: &str) -> Option<Vec<String>> {
    let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(inner.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect())
}

fn label_req(part: &str) -> Result<Req, String> {
    let bad = || format!("unable to parse requirement: {part:?}");
    if let Some(k) = part.strip_prefix('!') {
        return Ok(Req::Absent(k.trim().to_string()));
    }
    for (op, neg) in [("!=", true), ("==", false), ("=", false)] {
        if let Some((k, v)) = part.split_once(op) {
            let (k, v) = (k.trim().to_string(), v.trim().to_string());
            return Ok(if neg { Req::Ne(k, v) } else { Req::Eq(k, v) });
        }
    }
    let mut words = part.splitn(2, char::is_whitespace);
    let key = words.next().unwrap_or("").trim().to_string();
    let rest = words.next().unwrap_or("").trim();
    if rest.is_empty() {
        return if key.is_empty() { Err(bad()) } else { Ok(Req::Exists(key)) };
    }
    if let Some(r) = rest.strip_prefix("notin") {
        return set(r).map(|v| Req::NotIn(key, v)).ok_or_else(bad);
    }
    if let Some(r) = rest.strip_prefix("in") {
        return set(r).map(|v| Req::In(key, v)).ok_or_else(bad);
    }
    Err(bad())
}

impl Selector {
    pub fn parse(labels: &str, fields: &str) -> Result<Selector, String> {
        let labels = split_top(labels).into_iter().map(label_req).collect::<Result<_, _>>()?;
        let mut fs = Vec::new();
        for part in split_top(fields) {
            let (k, neg, v) = if let Some((k, v)) = part.split_once("!=") {
                (k, true, v)
            } else if let Some((k, v)) = part.split_once("==") {
                (k, false, v)
            } else if let Some((k, v)) = part.split_once('=') {
                (k, false, v)
            } else {
                return Err(format!("invalid field selector: {part:?}"));
            };
            let field = match k.trim() {
                "metadata.name" => Field::Name,
                "metadata.namespace" => Field::Namespace,
                "spec.nodeName" => Field::NodeName,
                other if POINTER_FIELDS.contains(&other) => {
                    Field::Pointer(format!("/{}", other.replace('.', "/")))
                }
                other => return Err(format!("field label not supported: {other}")),
            };
            fs.push((field, neg, v.trim().to_string()));
        }
        Ok(Selector { labels, fields: fs })
    }

    fn label_ok(r: &Req, l: &BTreeMap<String, String>) -> bool {
        match r {
            Req::Eq(k, v) => l.get(k) == Some(v),
            Req::Ne(k, v) => l.get(k) != Some(v),
            Req::In(k, vs) => l.get(k).is_some_and(|x| vs.contains(x)),
            Req::NotIn(k, vs) => l.get(k).is_none_or(|x| !vs.contains(x)),
            Req::Exists(k) => l.contains_key(k),
            Req::Absent(k) => !l.contains_key(k),
        }
    }

    pub fn matches(&self, o: &Obj) -> bool {
        // A field that must equal a plain value can only match an object whose JSON holds that
        // text (a string, a boolean or a number): a search rejects most objects (a pod's events
        // among a namespace's) without parsing them.
        let text = std::str::from_utf8(&o.json).unwrap_or("");
        let absent = |v: &str| {
            let plain = !v.is_empty() && !v.contains(|c: char| c == '"' || c == '\\' || c.is_control());
            plain && !text.contains(v)
        };
        if self.fields.iter().any(|(f, neg, v)| matches!(f, Field::Pointer(_)) && !neg && absent(v)) {
            return false;
        }
        // The object's JSON is parsed only when a field needs it, once.
        let mut doc: Option<serde_json::Value> = None;
        self.labels.iter().all(|r| Self::label_ok(r, &o.labels))
            && self.fields.iter().all(|(f, neg, v)| {
                let have = match f {
                    Field::Name => o.name.clone(),
                    Field::Namespace => o.ns.clone(),
                    Field::NodeName => o.node.clone(),
                    Field::Pointer(p) => {
                        let d =
                            doc.get_or_insert_with(|| serde_json::from_slice(&o.json).unwrap_or_default());
                        field_text(d.pointer(p))
                    }
                };
                (&have == v) != *neg
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;

    fn obj(labels: &[(&str, &str)], node: &str) -> Obj {
        Obj {
            ns: "kube-system".into(),
            name: "cilium-abcde".into(),
            node: node.into(),
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            json: Bytes::new(),
        }
    }

    fn ok(l: &str, f: &str, o: &Obj) -> bool {
        Selector::parse(l, f).expect("parses").matches(o)
    }

    #[test]
    fn label_operators() {
        let o = obj(&[("k8s-app", "cilium"), ("tier", "node")], "r1-n01");
        assert!(ok("", "", &o));
        assert!(ok("k8s-app=cilium", "", &o));
        assert!(ok("k8s-app==cilium,tier", "", &o));
        assert!(!ok("k8s-app!=cilium", "", &o));
        assert!(ok("k8s-app in (flannel, cilium),!app", "", &o));
        assert!(!ok("k8s-app notin (cilium)", "", &o));
        assert!(ok("app notin (x)", "", &o));
        assert!(!ok("app", "", &o));
        assert!(!ok("!tier", "", &o));
        assert!(Selector::parse("k8s-app in cilium", "").is_err());
    }

    #[test]
    fn field_operators() {
        let o = obj(&[], "r1-n01");
        assert!(ok("", "spec.nodeName=r1-n01", &o));
        assert!(ok("", "metadata.namespace==kube-system,metadata.name=cilium-abcde", &o));
        assert!(!ok("", "spec.nodeName!=r1-n01", &o));
        assert!(ok("", "metadata.name!=other", &o));
        assert!(Selector::parse("", "status.foo=Running").is_err());
        assert!(Selector::parse("", "garbage").is_err());
    }

    /// What `kubectl describe node` asks: the node's pods that have not finished.
    #[test]
    fn fields_from_the_object_json() {
        let mut o = obj(&[], "r1-n01");
        o.json = Bytes::from_static(br#"{"spec":{"hostNetwork":true},"status":{"phase":"Running"}}"#);
        let describe = "spec.nodeName=r1-n01,status.phase!=Succeeded,status.phase!=Failed";
        assert!(ok("", describe, &o));
        assert!(!ok("", "status.phase=Succeeded", &o));
        assert!(ok("", "spec.hostNetwork=true,status.podIP=", &o));
        o.json = Bytes::from_static(br#"{"status":{"phase":"Failed"}}"#);
        assert!(!ok("", describe, &o));
    }
}
