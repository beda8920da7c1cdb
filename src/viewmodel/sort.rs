//! Sorting for every table: the columns each table sorts by, the direction a column starts in
//! (severity-like columns put the worst first, counts the largest), and one stable sort in which
//! rows without a value always come last.

use std::cmp::Ordering;

use super::SortKey;
use crate::model::{BgpVerdict, Conntrack, Finding, Node, Severity, WindowFill};

/// What a column holds, which decides the direction of its first press and how it is described.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Names: A to Z first.
    Text,
    /// Counts and shares: the largest first.
    Count,
    /// Instants: the newest first.
    Time,
    /// Severity-like: the worst first; `high_is_worse` says which end that is.
    Worse { high_is_worse: bool },
}

impl Kind {
    /// The direction of a first press.
    pub fn desc_first(self) -> bool {
        match self {
            Kind::Text => false,
            Kind::Count | Kind::Time => true,
            Kind::Worse { high_is_worse } => high_is_worse,
        }
    }
    /// "worst first", "A to Z", …
    pub fn words(self, desc: bool) -> &'static str {
        match (self, desc == self.desc_first()) {
            (Kind::Text, true) => "A to Z",
            (Kind::Text, false) => "Z to A",
            (Kind::Count, true) => "largest first",
            (Kind::Count, false) => "smallest first",
            (Kind::Time, true) => "newest first",
            (Kind::Time, false) => "oldest first",
            (Kind::Worse { .. }, true) => "worst first",
            (Kind::Worse { .. }, false) => "best first",
        }
    }
}

/// A value to sort by; rows without one come last whatever the direction.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    Num(f64),
    Text(&'a str),
}

impl Val<'_> {
    fn cmp(&self, other: &Val) -> Ordering {
        match (self, other) {
            (Val::Num(a), Val::Num(b)) => a.total_cmp(b),
            (Val::Text(a), Val::Text(b)) => a.cmp(b),
            (Val::Num(_), Val::Text(_)) => Ordering::Less,
            (Val::Text(_), Val::Num(_)) => Ordering::Greater,
        }
    }
}

fn num(v: f64) -> Option<Val<'static>> {
    v.is_finite().then_some(Val::Num(v))
}

/// The columns of one table.
pub trait Column: Copy + Eq + std::fmt::Debug + 'static {
    /// Every column, in the order `s` steps through them.
    const ALL: &'static [Self];
    /// The name `:sort` takes (lower case, one word).
    fn name(self) -> &'static str;
    fn kind(self) -> Kind;
}

/// A table's sort: a column and a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort<C> {
    pub col: C,
    pub desc: bool,
}

impl<C: Column> Sort<C> {
    /// `col` in the direction of its first press.
    pub fn by(col: C) -> Self {
        Sort { col, desc: col.kind().desc_first() }
    }
    /// A press on `col`: the first sorts in its first direction, a second reverses.
    pub fn press(self, col: C) -> Self {
        if col == self.col { self.reversed() } else { Sort::by(col) }
    }
    /// The next column (`s`), in its first direction.
    pub fn next(self) -> Self {
        let i = C::ALL.iter().position(|c| *c == self.col).unwrap_or(0);
        Sort::by(C::ALL[(i + 1) % C::ALL.len()])
    }
    pub fn reversed(self) -> Self {
        Sort { desc: !self.desc, ..self }
    }
    /// "sorted by fill, worst first".
    pub fn describe(self) -> String {
        format!("sorted by {}, {}", self.col.name(), self.col.kind().words(self.desc))
    }
    /// Sort `items` by the column's value (`value`): stable, so ties keep the order they came in;
    /// items without a value last in either direction.
    pub fn apply<'v, T>(self, items: &mut [T], value: impl Fn(C, &T) -> Option<Val<'v>>) {
        items.sort_by(|a, b| match (value(self.col, a), value(self.col, b)) {
            (Some(x), Some(y)) => {
                let o = x.cmp(&y);
                if self.desc { o.reverse() } else { o }
            }
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        });
    }
}

/// The tables that sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Nodes,
    Racks,
    Runtime,
    Conntrack,
    Windows,
    Findings,
}

/// A sort of any table, for the commands (`s`, `r`, `:sort`) that do not care which.
pub trait AnySort {
    fn names(&self) -> Vec<&'static str>;
    /// Press the column named `name`; false when the table has none.
    fn press_name(&mut self, name: &str) -> bool;
    fn next(&mut self);
    fn reverse(&mut self);
    fn describe(&self) -> String;
    /// The column's name and whether it sorts descending.
    fn current(&self) -> (&'static str, bool);
}

impl<C: Column> AnySort for Sort<C> {
    fn names(&self) -> Vec<&'static str> {
        C::ALL.iter().map(|c| c.name()).collect()
    }
    fn press_name(&mut self, name: &str) -> bool {
        let name = name.trim().to_ascii_lowercase();
        match C::ALL.iter().find(|c| c.name() == name) {
            Some(c) => {
                *self = self.press(*c);
                true
            }
            None => false,
        }
    }
    fn next(&mut self) {
        *self = Sort::next(*self);
    }
    fn reverse(&mut self) {
        *self = self.reversed();
    }
    fn describe(&self) -> String {
        Sort::describe(*self)
    }
    fn current(&self) -> (&'static str, bool) {
        (self.col.name(), self.desc)
    }
}

/// Every table's sort (UI state: `app::Model` holds one; the rows are derived with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sorts {
    pub nodes: Sort<SortKey>,
    pub racks: Sort<RackCol>,
    pub runtime: Sort<RuntimeCol>,
    pub conntrack: Sort<ConntrackCol>,
    pub windows: Sort<WindowCol>,
    pub findings: Sort<FindingCol>,
}

impl Default for Sorts {
    fn default() -> Self {
        Sorts {
            nodes: Sort { col: SortKey::Name, desc: false },
            racks: Sort::by(RackCol::Rack),
            runtime: Sort::by(RuntimeCol::Node),
            conntrack: Sort::by(ConntrackCol::Fill),
            windows: Sort::by(WindowCol::Date),
            findings: Sort::by(FindingCol::Severity),
        }
    }
}

impl Sorts {
    pub fn get(&self, t: Table) -> &dyn AnySort {
        match t {
            Table::Nodes => &self.nodes,
            Table::Racks => &self.racks,
            Table::Runtime => &self.runtime,
            Table::Conntrack => &self.conntrack,
            Table::Windows => &self.windows,
            Table::Findings => &self.findings,
        }
    }
    pub fn get_mut(&mut self, t: Table) -> &mut dyn AnySort {
        match t {
            Table::Nodes => &mut self.nodes,
            Table::Racks => &mut self.racks,
            Table::Runtime => &mut self.runtime,
            Table::Conntrack => &mut self.conntrack,
            Table::Windows => &mut self.windows,
            Table::Findings => &mut self.findings,
        }
    }
}

impl Column for SortKey {
    const ALL: &'static [Self] = &SortKey::ALL;
    fn name(self) -> &'static str {
        self.label()
    }
    fn kind(self) -> Kind {
        match self {
            SortKey::Name | SortKey::Rack | SortKey::Mode | SortKey::Runtime => Kind::Text,
            SortKey::Bgp | SortKey::Conntrack | SortKey::Cpu => Kind::Worse { high_is_worse: true },
            SortKey::Pods => Kind::Count,
            SortKey::Age => Kind::Time,
        }
    }
}

/// How bad a BGP verdict is (higher is worse); `None` for nodes that do not use BGP.
pub fn verdict_rank(v: BgpVerdict) -> Option<f64> {
    match v {
        BgpVerdict::Healthy => Some(0.0),
        BgpVerdict::Unknown => Some(1.0),
        BgpVerdict::Degraded => Some(2.0),
        BgpVerdict::Isolated => Some(3.0),
        BgpVerdict::NotApplicable => None,
    }
}

/// A node's value in the Nodes table's column `c`.
pub fn node_value(c: SortKey, n: &Node) -> Option<Val<'_>> {
    match c {
        SortKey::Name => Some(Val::Text(&n.name)),
        SortKey::Rack => Some(Val::Text(&n.rack)),
        SortKey::Mode => Some(Val::Text(n.net.mode.label())),
        SortKey::Bgp => verdict_rank(n.bgp_verdict).map(Val::Num),
        // Nodes running sandboxed pods first, then by how many.
        SortKey::Runtime => n.runtime.map(|r| Val::Num(f64::from(r.sandboxed()))),
        SortKey::Conntrack => crate::analysis::conntrack::worst_fill(n).and_then(num),
        SortKey::Cpu => n.cpu_now().and_then(num),
        SortKey::Pods => n.pods.map(|p| Val::Num(f64::from(p))),
        SortKey::Age => n.created.map(|t| Val::Num(t.timestamp() as f64)),
    }
}

/// Columns of the Network view's rack table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RackCol {
    Rack,
    Nodes,
    Migration,
    Bgp,
    Tor,
}

impl Column for RackCol {
    const ALL: &'static [Self] =
        &[RackCol::Rack, RackCol::Nodes, RackCol::Migration, RackCol::Bgp, RackCol::Tor];
    fn name(self) -> &'static str {
        match self {
            RackCol::Rack => "rack",
            RackCol::Nodes => "nodes",
            RackCol::Migration => "migration",
            RackCol::Bgp => "bgp",
            RackCol::Tor => "tor",
        }
    }
    fn kind(self) -> Kind {
        match self {
            RackCol::Rack => Kind::Text,
            RackCol::Nodes | RackCol::Migration => Kind::Count,
            RackCol::Bgp | RackCol::Tor => Kind::Worse { high_is_worse: true },
        }
    }
}

/// Columns of the Runtime view's node table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeCol {
    Node,
    Rack,
    Runc,
    Kata,
    Gvisor,
    Kvm,
}

impl Column for RuntimeCol {
    const ALL: &'static [Self] = &[
        RuntimeCol::Node,
        RuntimeCol::Rack,
        RuntimeCol::Runc,
        RuntimeCol::Kata,
        RuntimeCol::Gvisor,
        RuntimeCol::Kvm,
    ];
    fn name(self) -> &'static str {
        match self {
            RuntimeCol::Node => "node",
            RuntimeCol::Rack => "rack",
            RuntimeCol::Runc => "runc",
            RuntimeCol::Kata => "kata",
            RuntimeCol::Gvisor => "gvisor",
            RuntimeCol::Kvm => "kvm",
        }
    }
    fn kind(self) -> Kind {
        match self {
            RuntimeCol::Node | RuntimeCol::Rack => Kind::Text,
            RuntimeCol::Runc | RuntimeCol::Kata | RuntimeCol::Gvisor => Kind::Count,
            RuntimeCol::Kvm => Kind::Worse { high_is_worse: true },
        }
    }
}

/// A node's value in the Runtime view's column `c`.
pub fn runtime_value(c: RuntimeCol, n: &Node) -> Option<Val<'_>> {
    let count =
        |f: fn(&crate::model::RuntimeMix) -> u32| n.runtime.as_ref().map(|r| Val::Num(f64::from(f(r))));
    match c {
        RuntimeCol::Node => Some(Val::Text(&n.name)),
        RuntimeCol::Rack => Some(Val::Text(&n.rack)),
        RuntimeCol::Runc => count(|r| r.runc),
        RuntimeCol::Kata => count(|r| r.kata),
        RuntimeCol::Gvisor => count(|r| r.gvisor),
        // Kata pods without KVM are the worst, then unknown KVM, then no KVM, then KVM.
        RuntimeCol::Kvm => Some(Val::Num(match n.kvm() {
            Some(false) if n.runtime.is_some_and(|r| r.kata > 0) => 3.0,
            None => 2.0,
            Some(false) => 1.0,
            Some(true) => 0.0,
        })),
    }
}

/// Columns of the Conntrack view's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConntrackCol {
    Node,
    Mode,
    Fill,
    Ins,
    Drop,
    Early,
    Timeout,
    BrNf,
    /// Cilium's fullest BPF CT/NAT map.
    Cilium,
    /// Cilium's CT insertion-failed drops per second.
    CtFail,
}

impl Column for ConntrackCol {
    const ALL: &'static [Self] = &[
        ConntrackCol::Fill,
        ConntrackCol::Ins,
        ConntrackCol::Drop,
        ConntrackCol::Early,
        ConntrackCol::Timeout,
        ConntrackCol::BrNf,
        ConntrackCol::Cilium,
        ConntrackCol::CtFail,
        ConntrackCol::Node,
        ConntrackCol::Mode,
    ];
    fn name(self) -> &'static str {
        match self {
            ConntrackCol::Node => "node",
            ConntrackCol::Mode => "mode",
            ConntrackCol::Fill => "fill",
            ConntrackCol::Ins => "ins",
            ConntrackCol::Drop => "drop",
            ConntrackCol::Early => "early",
            ConntrackCol::Timeout => "timeout",
            ConntrackCol::BrNf => "brnf",
            ConntrackCol::Cilium => "cilium",
            ConntrackCol::CtFail => "ctfail",
        }
    }
    fn kind(self) -> Kind {
        match self {
            ConntrackCol::Node | ConntrackCol::Mode => Kind::Text,
            // The shortest established timeout is the likeliest to cut keep-alive connections.
            ConntrackCol::Timeout => Kind::Worse { high_is_worse: false },
            _ => Kind::Worse { high_is_worse: true },
        }
    }
}

/// A node's value in the Conntrack view's column `c` (`None` without conntrack data). `fill` is
/// the fullest table the node's pod connections go through (`analysis::conntrack::worst_fill`).
pub fn conntrack_value(c: ConntrackCol, n: &Node) -> Option<Val<'_>> {
    match c {
        ConntrackCol::Node => return Some(Val::Text(&n.name)),
        ConntrackCol::Mode => return Some(Val::Text(n.net.mode.label())),
        ConntrackCol::Fill => return crate::analysis::conntrack::worst_fill(n).and_then(num),
        ConntrackCol::Cilium => return n.cilium_ct()?.fullest().and_then(|m| num(m.pressure)),
        ConntrackCol::CtFail => return n.cilium_ct()?.insert_failed_per_s.and_then(num),
        _ => {}
    }
    let ct: &Conntrack = n.conntrack()?;
    match c {
        ConntrackCol::Ins => num(ct.insert_failed_per_s),
        ConntrackCol::Drop => num(ct.drop_per_s),
        ConntrackCol::Early => num(ct.early_drop_per_s),
        ConntrackCol::Timeout => ct.tcp_established_timeout_s.map(|t| Val::Num(t as f64)),
        ConntrackCol::BrNf => ct.bridge_nf_call_iptables.map(|on| {
            let trap = crate::analysis::conntrack::bridge_trap(n, ct);
            Val::Num(f64::from(u8::from(on) + u8::from(trap)))
        }),
        ConntrackCol::Node
        | ConntrackCol::Mode
        | ConntrackCol::Fill
        | ConntrackCol::Cilium
        | ConntrackCol::CtFail => None,
    }
}

/// Columns of the Utilization view's window table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowCol {
    Window,
    Date,
    Util,
    Offline,
    Idle,
    Spill,
    /// Reclaimed capacity (the batch tier's allocatable) offline work left idle.
    Reclaimed,
}

impl Column for WindowCol {
    const ALL: &'static [Self] = &[
        WindowCol::Date,
        WindowCol::Util,
        WindowCol::Offline,
        WindowCol::Idle,
        WindowCol::Spill,
        WindowCol::Reclaimed,
        WindowCol::Window,
    ];
    fn name(self) -> &'static str {
        match self {
            WindowCol::Window => "window",
            WindowCol::Date => "date",
            WindowCol::Util => "util",
            WindowCol::Offline => "offline",
            WindowCol::Idle => "idle",
            WindowCol::Spill => "spill",
            WindowCol::Reclaimed => "reclaimed",
        }
    }
    fn kind(self) -> Kind {
        match self {
            WindowCol::Window => Kind::Text,
            WindowCol::Date => Kind::Time,
            // A window is there to be filled: the emptiest first.
            WindowCol::Util | WindowCol::Offline => Kind::Worse { high_is_worse: false },
            WindowCol::Idle | WindowCol::Spill | WindowCol::Reclaimed => Kind::Worse { high_is_worse: true },
        }
    }
}

/// A window occurrence's value in column `c`.
pub fn window_value(c: WindowCol, f: &WindowFill) -> Option<Val<'static>> {
    match c {
        WindowCol::Window => {
            use chrono::Timelike;
            Some(Val::Num(f64::from(f.window.start.num_seconds_from_midnight())))
        }
        WindowCol::Date => Some(Val::Num(f.start.timestamp() as f64)),
        WindowCol::Util => num(f.avg_util),
        WindowCol::Offline => num(f.offline_share),
        WindowCol::Idle => num(f.idle_core_hours),
        WindowCol::Spill => num(f.spill_core_hours),
        WindowCol::Reclaimed => f.reclaimed_unused_core_hours.and_then(num),
    }
}

/// Columns of the Triage view's finding table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingCol {
    Severity,
    Rule,
    Subject,
    Since,
}

impl Column for FindingCol {
    const ALL: &'static [Self] =
        &[FindingCol::Severity, FindingCol::Since, FindingCol::Rule, FindingCol::Subject];
    fn name(self) -> &'static str {
        match self {
            FindingCol::Severity => "severity",
            FindingCol::Rule => "rule",
            FindingCol::Subject => "subject",
            FindingCol::Since => "since",
        }
    }
    fn kind(self) -> Kind {
        match self {
            FindingCol::Severity => Kind::Worse { high_is_worse: true },
            FindingCol::Rule | FindingCol::Subject => Kind::Text,
            FindingCol::Since => Kind::Time,
        }
    }
}

/// A finding's value in column `c`.
pub fn finding_value(c: FindingCol, f: &Finding) -> Option<Val<'_>> {
    match c {
        FindingCol::Severity => Some(Val::Num(match f.severity {
            Severity::Critical => 2.0,
            Severity::Warning => 1.0,
            Severity::Info => 0.0,
        })),
        FindingCol::Rule => Some(Val::Text(f.rule.id())),
        FindingCol::Subject => Some(Val::Text(&f.subject)),
        FindingCol::Since => f.since.map(|t| Val::Num(t.timestamp() as f64)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_press_on_a_severity_column_puts_the_worst_first_and_a_second_reverses() {
        let s = Sort::by(SortKey::Name);
        assert!(!s.desc);
        let s = s.press(SortKey::Cpu);
        assert_eq!((s.col, s.desc), (SortKey::Cpu, true), "highest CPU first");
        assert_eq!(s.describe(), "sorted by cpu, worst first");
        let s = s.press(SortKey::Cpu);
        assert_eq!((s.col, s.desc), (SortKey::Cpu, false));
        assert_eq!(s.describe(), "sorted by cpu, best first");
        let t = Sort::by(ConntrackCol::Timeout);
        assert!(!t.desc, "the shortest timeout is the worst");
        assert_eq!(t.describe(), "sorted by timeout, worst first");
        assert_eq!(Sort::by(WindowCol::Util).describe(), "sorted by util, worst first");
    }

    #[test]
    fn missing_values_come_last_in_both_directions_and_ties_keep_their_order() {
        let mut v: Vec<(u8, Option<f64>)> = vec![(0, Some(1.0)), (1, None), (2, Some(3.0)), (3, Some(1.0))];
        let value = |_: SortKey, x: &(u8, Option<f64>)| x.1.map(Val::Num);
        Sort { col: SortKey::Cpu, desc: true }.apply(&mut v, value);
        assert_eq!(v.iter().map(|x| x.0).collect::<Vec<_>>(), [2, 0, 3, 1]);
        Sort { col: SortKey::Cpu, desc: false }.apply(&mut v, value);
        assert_eq!(v.iter().map(|x| x.0).collect::<Vec<_>>(), [0, 3, 2, 1]);
    }

    #[test]
    fn s_steps_through_every_column_of_every_table() {
        let mut s = Sorts::default();
        for t in
            [Table::Nodes, Table::Racks, Table::Runtime, Table::Conntrack, Table::Windows, Table::Findings]
        {
            let names = s.get(t).names();
            let first = s.get(t).current().0;
            let mut seen = vec![first];
            for _ in 1..names.len() {
                s.get_mut(t).next();
                seen.push(s.get(t).current().0);
            }
            seen.sort_unstable();
            let mut all = names.clone();
            all.sort_unstable();
            assert_eq!(seen, all, "{t:?}");
            assert!(!s.get_mut(t).press_name("no-such-column"));
        }
    }
}
