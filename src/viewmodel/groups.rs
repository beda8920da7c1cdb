//! Findings grouped when they say the same thing: one rule, one severity, one text, several
//! subjects (three pods of one job on a node without KVM). A list shows each group once, with a
//! count, instead of identical rows.

use crate::model::Finding;

/// A group: its findings, in the order given (never empty).
#[derive(Debug, Clone)]
pub struct Group<'a> {
    pub members: Vec<&'a Finding>,
}

impl<'a> Group<'a> {
    pub fn first(&self) -> &'a Finding {
        self.members[0]
    }
    pub fn count(&self) -> usize {
        self.members.len()
    }
}

/// The groups of `findings`, in the order of their first member.
pub fn group<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Vec<Group<'a>> {
    let mut out: Vec<Group<'a>> = Vec::new();
    for f in findings {
        match out.iter_mut().find(|g| same(g.first(), f)) {
            Some(g) => g.members.push(f),
            None => out.push(Group { members: vec![f] }),
        }
    }
    out
}

fn same(a: &Finding, b: &Finding) -> bool {
    (a.rule, a.severity, &a.what) == (b.rule, b.severity, &b.what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Rule, Severity};

    fn f(rule: Rule, subject: &str, what: &str) -> Finding {
        Finding {
            rule,
            severity: Severity::Critical,
            subject: subject.into(),
            since: None,
            what: what.into(),
            evidence: vec![],
            remedy: String::new(),
        }
    }

    #[test]
    fn the_same_finding_on_three_pods_is_one_group_of_three() {
        let kata = "Kata pod on r6-n06, which has no KVM";
        let v = [
            f(Rule::KataWithoutKvm, "batch/a", kata),
            f(Rule::KataHostNetwork, "batch/a", "Kata pod asks for hostNetwork"),
            f(Rule::KataWithoutKvm, "batch/b", kata),
            f(Rule::KataWithoutKvm, "batch/c", kata),
            f(Rule::KataWithoutKvm, "batch/d", "Kata pod on r2-n01, which has no KVM"),
        ];
        let g: Vec<(&str, usize)> =
            group(&v).iter().map(|g| (g.first().subject.as_str(), g.count())).collect();
        assert_eq!(g, vec![("batch/a", 3), ("batch/a", 1), ("batch/d", 1)]);
    }
}
