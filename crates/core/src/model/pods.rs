//! The pod set, grouped by node so that one pod change touches one node's list, and shared
//! between the store and every snapshot (`Arc`s all the way down: an unchanged node's list is
//! never copied).
//!
//! Pods' repeated strings (namespace, node, runtime and priority class, phase) are interned
//! `Arc<str>`s: at 150,000 pods they would otherwise be most of the memory.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Pod;

/// Shares one allocation per distinct string. Holds what it has seen until dropped or cleared.
#[derive(Debug, Default, Clone)]
pub struct Interner(foldhash::HashSet<Arc<str>>);

impl Interner {
    pub fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.0.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.0.insert(a.clone());
        a
    }
    /// The interned copy of `a` (its own allocation is dropped when it was not the first).
    pub fn share(&mut self, a: &mut Arc<str>) {
        match self.0.get(&**a) {
            Some(x) => *a = x.clone(),
            None => {
                self.0.insert(a.clone());
            }
        }
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Forget strings nobody else holds any more.
    pub fn prune(&mut self) {
        self.0.retain(|a| Arc::strong_count(a) > 1);
    }
}

/// Every pod, by node (`""` for pods not scheduled yet), each node's pods sorted by namespace and
/// name.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Pods {
    by_node: BTreeMap<Arc<str>, Arc<Vec<Pod>>>,
    len: usize,
}

/// The key of unscheduled pods in `Pods`.
const UNSCHEDULED: &str = "";

fn node_key(p: &Pod) -> &str {
    p.node.as_deref().unwrap_or(UNSCHEDULED)
}

fn cmp_key(p: &Pod, namespace: &str, name: &str) -> std::cmp::Ordering {
    (&*p.namespace, &*p.name).cmp(&(namespace, name))
}

impl Pods {
    pub fn from_vec(pods: Vec<Pod>) -> Self {
        // Counted first so each node's list is allocated once, at its size (150,000 pods).
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for p in &pods {
            *counts.entry(node_key(p)).or_default() += 1;
        }
        let mut by_node: BTreeMap<Arc<str>, Vec<Pod>> =
            counts.into_iter().map(|(k, n)| (Arc::from(k), Vec::with_capacity(n))).collect();
        for p in pods {
            if let Some(list) = by_node.get_mut(node_key(&p)) {
                list.push(p);
            }
        }
        let by_node: BTreeMap<Arc<str>, Arc<Vec<Pod>>> = by_node
            .into_iter()
            .map(|(k, mut v)| {
                v.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
                v.dedup_by(|a, b| a.namespace == b.namespace && a.name == b.name);
                (k, Arc::new(v))
            })
            .collect();
        let len = by_node.values().map(|v| v.len()).sum();
        Pods { by_node, len }
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Every pod: by node, then namespace and name (unscheduled pods first).
    pub fn iter(&self) -> impl Iterator<Item = &Pod> {
        self.by_node.values().flat_map(|v| v.iter())
    }
    /// The pods on one node, sorted by namespace and name.
    pub fn on_node(&self, node: &str) -> &[Pod] {
        self.by_node.get(node).map_or(&[], |v| v.as_slice())
    }
    /// Each node (`""`: unscheduled) with its pods.
    pub fn nodes(&self) -> impl Iterator<Item = (&Arc<str>, &[Pod])> {
        self.by_node.iter().map(|(k, v)| (k, v.as_slice()))
    }
    /// The pod `namespace/name` if it is on `node`.
    pub fn get(&self, node: &str, namespace: &str, name: &str) -> Option<&Pod> {
        let v = self.on_node(node);
        v.binary_search_by(|p| cmp_key(p, namespace, name)).ok().map(|i| &v[i])
    }
    /// Insert or replace a pod on its node. The caller removes it from any other node first.
    pub fn insert(&mut self, pod: Pod) {
        let list = match self.by_node.get_mut(node_key(&pod)) {
            Some(l) => l,
            None => {
                let key = pod.node.clone().unwrap_or_else(|| Arc::from(UNSCHEDULED));
                self.by_node.entry(key).or_default()
            }
        };
        let list = Arc::make_mut(list);
        match list.binary_search_by(|p| cmp_key(p, &pod.namespace, &pod.name)) {
            Ok(i) => list[i] = pod,
            Err(i) => {
                list.insert(i, pod);
                self.len += 1;
            }
        }
    }
    /// Remove `namespace/name` from `node`; the removed pod, if it was there.
    pub fn remove(&mut self, node: &str, namespace: &str, name: &str) -> Option<Pod> {
        let list = self.by_node.get_mut(node)?;
        let i = list.binary_search_by(|p| cmp_key(p, namespace, name)).ok()?;
        let pod = Arc::make_mut(list).remove(i);
        if list.is_empty() {
            self.by_node.remove(node);
        }
        self.len -= 1;
        Some(pod)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(ns: &str, name: &str, node: Option<&str>) -> Pod {
        Pod {
            namespace: ns.into(),
            name: name.into(),
            node: node.map(Into::into),
            runtime_class: None,
            priority_class: None,
            host_network: false,
            phase: "Running".into(),
            offline: false,
            sandbox: None,
            batch: None,
            sandbox_start_s: None,
        }
    }

    #[test]
    fn grouped_by_node_sorted_and_shared_until_changed() {
        let mut p = Pods::from_vec(vec![
            pod("b", "x", Some("n1")),
            pod("a", "y", Some("n1")),
            pod("a", "z", None),
            pod("a", "w", Some("n2")),
        ]);
        assert_eq!(p.len(), 4);
        let names: Vec<&str> = p.iter().map(|p| &*p.name).collect();
        assert_eq!(names, ["z", "y", "x", "w"], "unscheduled first, then by node, ns, name");
        assert_eq!(p.on_node("n1").len(), 2);
        assert!(p.get("n2", "a", "w").is_some() && p.get("n1", "a", "w").is_none());

        let before = p.clone();
        p.insert(pod("a", "v", Some("n2")));
        assert_eq!((p.len(), before.len()), (5, 4), "the clone kept its own view");
        assert!(Arc::ptr_eq(&p.by_node["n1"], &before.by_node["n1"]), "an untouched node is shared");
        p.insert(pod("a", "v", Some("n2")));
        assert_eq!(p.len(), 5, "replacing is not adding");
        assert!(p.remove("n2", "a", "v").is_some() && p.remove("n2", "a", "v").is_none());
        assert!(p.remove("n2", "a", "w").is_some());
        assert!(p.on_node("n2").is_empty() && !p.by_node.contains_key("n2"), "empty nodes go");
        assert_eq!(p.len(), 3);
    }

    #[test]
    fn interner_shares_and_prunes() {
        let mut i = Interner::default();
        let a = i.get("kube-system");
        let mut b: Arc<str> = Arc::from("kube-system");
        i.share(&mut b);
        assert!(Arc::ptr_eq(&a, &b));
        drop((a, b));
        i.get("other");
        i.prune();
        assert!(i.is_empty());
    }
}
