//! Where a node's facts came from, as the detail view says it.

use crate::model::{Node, SourceId};

/// How each host fact is named on screen.
fn shown(fact: &str) -> &str {
    match fact {
        "kvm" => "KVM",
        "cilium_ct" => "Cilium maps",
        "file_nr" => "file-nr",
        "cpu_cores" => "cores",
        "cpu_now" => "CPU",
        other => other,
    }
}

/// `agents: KVM, conntrack, load; prometheus: CPU`: the node's host facts grouped by the source
/// that reported them, the node's own source first and a metrics backend last; `None` when no
/// host fact is known.
pub fn host(node: &Node) -> Option<String> {
    let mut by: Vec<(SourceId, Vec<&str>)> = Vec::new();
    for (fact, source) in &node.host_from {
        match by.iter_mut().find(|(s, _)| s == source) {
            Some((_, facts)) => facts.push(shown(fact)),
            None => by.push((*source, vec![shown(fact)])),
        }
    }
    by.sort_by_key(|(s, _)| *s == SourceId::Prometheus);
    let parts: Vec<String> = by.iter().map(|(s, f)| format!("{}: {}", s.label(), f.join(", "))).collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clustertop_core::testkit::node;

    #[test]
    fn facts_are_grouped_by_their_source() {
        let mut n = node("n1");
        assert_eq!(host(&n), None, "nothing known, nothing said");
        n.host_from = [
            ("load", SourceId::Agents),
            ("conntrack", SourceId::Prometheus),
            ("kvm", SourceId::Agents),
            ("cpu_now", SourceId::Prometheus),
        ]
        .into_iter()
        .collect();
        assert_eq!(host(&n).as_deref(), Some("agents: KVM, load; prometheus: conntrack, CPU"));
    }
}
