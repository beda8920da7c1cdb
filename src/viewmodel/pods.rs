//! The node detail's pod table and event list, from the on-demand answer (`sources::detail`):
//! pods filtered (every word of the filter must match a pod's namespace/name, runtime class,
//! online/offline class or phase) and sorted by a column (`s`/`r`); events of the node and of the
//! pods shown, newest first, warnings counted.

use chrono::{DateTime, Utc};

use super::sort::{Column, Kind, Sort, Val};
use crate::sources::detail::{EventRow, NodeDetail, Part, PodRow};

/// The pod table's columns, in `s` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodCol {
    Name,
    Runtime,
    Class,
    Phase,
    Restarts,
    Age,
    Cpu,
    Memory,
}

impl Column for PodCol {
    const ALL: &'static [PodCol] = &[
        PodCol::Name,
        PodCol::Runtime,
        PodCol::Class,
        PodCol::Phase,
        PodCol::Restarts,
        PodCol::Age,
        PodCol::Cpu,
        PodCol::Memory,
    ];
    fn name(self) -> &'static str {
        match self {
            PodCol::Name => "name",
            PodCol::Runtime => "runtime",
            PodCol::Class => "class",
            PodCol::Phase => "phase",
            PodCol::Restarts => "restarts",
            PodCol::Age => "age",
            PodCol::Cpu => "cpu",
            PodCol::Memory => "memory",
        }
    }
    fn kind(self) -> Kind {
        match self {
            PodCol::Name | PodCol::Runtime | PodCol::Class | PodCol::Phase => Kind::Text,
            PodCol::Restarts | PodCol::Cpu | PodCol::Memory => Kind::Count,
            // Sorted by creation time: the youngest (newest) first.
            PodCol::Age => Kind::Time,
        }
    }
}

pub type PodSort = Sort<PodCol>;

impl Default for Sort<PodCol> {
    fn default() -> Self {
        Sort::by(PodCol::Name)
    }
}

/// The runtime column: the RuntimeClass, or `default` (the node's default runtime).
pub fn runtime(p: &PodRow) -> &str {
    p.runtime_class.as_deref().unwrap_or("default")
}

/// The class column.
pub fn class(p: &PodRow) -> &'static str {
    if p.offline { "offline" } else { "online" }
}

/// Whether every word of `filter` is in one of the pod's columns (case-insensitive).
pub fn pod_matches(p: &PodRow, filter: &str) -> bool {
    let hay = format!("{}/{} {} {} {}", p.namespace, p.name, runtime(p), class(p), p.phase).to_lowercase();
    filter.split_whitespace().all(|w| hay.contains(&w.to_lowercase()))
}

fn value(c: PodCol, p: &&PodRow) -> Option<Val<'static>> {
    let num = |v: f64| Some(Val::Num(v));
    match c {
        // Text columns are sorted in `pods`; they never reach here.
        PodCol::Name | PodCol::Runtime | PodCol::Class | PodCol::Phase => None,
        PodCol::Restarts => num(f64::from(p.restarts)),
        PodCol::Age => p.created.map(|t| num(t.timestamp() as f64)).unwrap_or(None),
        PodCol::Cpu => p.cpu_m.and_then(|v| num(v as f64)),
        PodCol::Memory => p.mem_bytes.and_then(|v| num(v as f64)),
    }
}

/// The pods to list: filtered, sorted; `None` while they are unknown (`Part::Failed`).
pub fn pods<'a>(d: &'a NodeDetail, filter: &str, sort: PodSort) -> Option<Vec<&'a PodRow>> {
    let all = d.pods.ok()?;
    let mut v: Vec<&PodRow> = all.iter().filter(|p| pod_matches(p, filter)).collect();
    // Namespace/name first, so every other column's ties read in name order.
    v.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    let text = |c: PodCol, p: &PodRow| -> String {
        match c {
            PodCol::Runtime => runtime(p).to_string(),
            PodCol::Class => class(p).to_string(),
            PodCol::Phase => p.phase.clone(),
            _ => String::new(),
        }
    };
    match sort.col {
        PodCol::Name => {
            if sort.desc {
                v.reverse();
            }
        }
        PodCol::Runtime | PodCol::Class | PodCol::Phase => {
            v.sort_by_cached_key(|p| text(sort.col, p));
            if sort.desc {
                v.reverse();
            }
        }
        _ => sort.apply(&mut v, value),
    }
    Some(v)
}

/// The events to list, newest first: the node's, and those of the pods `shown` (all of the
/// node's pods when no filter is set). `None` while they are unknown.
pub fn events<'a>(d: &'a NodeDetail, shown: Option<&[&PodRow]>, filtered: bool) -> Option<Vec<&'a EventRow>> {
    let all = d.events.ok()?;
    let keep = |e: &EventRow| {
        e.kind != "Pod"
            || !filtered
            || shown.is_some_and(|s| s.iter().any(|p| e.object == format!("{}/{}", p.namespace, p.name)))
    };
    let mut v: Vec<&EventRow> = all.iter().filter(|e| keep(e)).collect();
    // Newest first; events without a time last; ties by object and reason for a stable order.
    v.sort_by(|a, b| {
        b.last
            .is_some()
            .cmp(&a.last.is_some())
            .then(b.last.cmp(&a.last))
            .then((&a.object, &a.reason).cmp(&(&b.object, &b.reason)))
    });
    Some(v)
}

/// Warnings among `events`.
pub fn warnings(events: &[&EventRow]) -> usize {
    events.iter().filter(|e| e.warning).count()
}

/// Requests of the pods `shown` that are not finished: (millicores, bytes).
pub fn requested(shown: &[&PodRow]) -> (u64, u64) {
    let running = shown.iter().filter(|p| p.phase != "Succeeded" && p.phase != "Failed");
    running.fold((0, 0), |(c, m), p| (c + p.cpu_m.unwrap_or(0), m + p.mem_bytes.unwrap_or(0)))
}

/// How the detail's pods and events stand: the answer for this node, or why there is none.
pub enum State<'a> {
    /// Nothing has come back for this node yet.
    Loading,
    Ready(&'a NodeDetail),
}

/// The answer in `d` if it is about `node`.
pub fn state<'a>(d: Option<&'a NodeDetail>, node: &str) -> State<'a> {
    match d {
        Some(d) if d.node == node => State::Ready(d),
        _ => State::Loading,
    }
}

/// The reason a part failed, if it did.
pub fn failed<T>(p: &Part<T>) -> Option<&str> {
    match p {
        Part::Failed(why) => Some(why),
        Part::Ok(_) => None,
    }
}

/// How long ago `t` was at `now`, for the age column.
pub fn since(now: DateTime<Utc>, t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(|t| (now - t).num_seconds().max(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clustertop_core::testkit::T0;

    fn pod(
        ns: &str,
        name: &str,
        rc: Option<&str>,
        offline: bool,
        phase: &str,
        restarts: u32,
        cpu: Option<u64>,
    ) -> PodRow {
        PodRow {
            namespace: ns.into(),
            name: name.into(),
            runtime_class: rc.map(Into::into),
            offline,
            phase: phase.into(),
            restarts,
            created: Some(T0 - chrono::Duration::seconds(i64::from(restarts) * 100 + 1)),
            cpu_m: cpu,
            mem_bytes: cpu.map(|c| c * 1_000_000),
        }
    }

    fn ev(object: &str, kind: &str, warning: bool, reason: &str, ago: Option<i64>) -> EventRow {
        EventRow {
            kind: kind.into(),
            object: object.into(),
            warning,
            reason: reason.into(),
            message: String::new(),
            count: 1,
            last: ago.map(|a| T0 - chrono::Duration::seconds(a)),
            source: "kubelet".into(),
        }
    }

    fn detail() -> NodeDetail {
        NodeDetail {
            node: "r1-n01".into(),
            at: T0,
            pods: Part::Ok(vec![
                pod("shop", "cart-1", None, false, "Running", 0, Some(500)),
                pod("batch", "transcode-1", Some("kata"), true, "Running", 7, Some(4000)),
                pod("batch", "transcode-2", Some("kata"), true, "Pending", 0, None),
                pod("ads", "bidder-1", Some("gvisor"), false, "Running", 2, Some(250)),
            ]),
            events: Part::Ok(vec![
                ev("shop/cart-1", "Pod", false, "Started", Some(300)),
                ev("r1-n01", "Node", false, "NodeNotReady", Some(200)),
                ev("batch/transcode-1", "Pod", true, "BackOff", Some(10)),
                ev("batch/transcode-2", "Pod", true, "FailedMount", None),
            ]),
            requests: 0,
        }
    }

    fn names(v: &[&PodRow]) -> Vec<String> {
        v.iter().map(|p| format!("{}/{}", p.namespace, p.name)).collect()
    }

    #[test]
    fn pods_sort_by_each_column_with_unknown_values_last() {
        let d = detail();
        let by = |c: PodCol, desc: bool| names(&pods(&d, "", Sort { col: c, desc }).unwrap());
        assert_eq!(
            by(PodCol::Name, false),
            ["ads/bidder-1", "batch/transcode-1", "batch/transcode-2", "shop/cart-1"]
        );
        assert_eq!(by(PodCol::Name, true)[0], "shop/cart-1");
        assert_eq!(
            by(PodCol::Restarts, true),
            ["batch/transcode-1", "ads/bidder-1", "batch/transcode-2", "shop/cart-1"]
        );
        // No request: last in either direction.
        assert_eq!(by(PodCol::Cpu, true).last().unwrap(), "batch/transcode-2");
        assert_eq!(
            by(PodCol::Cpu, false),
            ["ads/bidder-1", "shop/cart-1", "batch/transcode-1", "batch/transcode-2"]
        );
        assert_eq!(
            by(PodCol::Runtime, false),
            ["shop/cart-1", "ads/bidder-1", "batch/transcode-1", "batch/transcode-2"]
        );
        assert_eq!(by(PodCol::Class, false)[..2], ["batch/transcode-1", "batch/transcode-2"]);
        assert_eq!(by(PodCol::Phase, false)[0], "batch/transcode-2");
        // Age: the youngest first.
        assert_eq!(by(PodCol::Age, true)[0], "batch/transcode-2");
        assert_eq!(Sort::by(PodCol::Name).next().col, PodCol::Runtime);
        assert_eq!(Sort::by(PodCol::Memory).next().col, PodCol::Name);
    }

    #[test]
    fn the_filter_narrows_pods_and_their_events_but_keeps_the_nodes() {
        let d = detail();
        let shown = pods(&d, "kata pending", PodSort::default()).unwrap();
        assert_eq!(names(&shown), ["batch/transcode-2"]);
        assert_eq!(names(&pods(&d, "OFFLINE", PodSort::default()).unwrap()).len(), 2);
        assert!(pods(&d, "nothing-matches", PodSort::default()).unwrap().is_empty());
        let ev = events(&d, Some(&shown), true).unwrap();
        let reasons: Vec<&str> = ev.iter().map(|e| e.reason.as_str()).collect();
        assert_eq!(reasons, ["NodeNotReady", "FailedMount"], "the node's, then the pod's (no time: last)");
        let all = events(&d, Some(&pods(&d, "", PodSort::default()).unwrap()), false).unwrap();
        let reasons: Vec<&str> = all.iter().map(|e| e.reason.as_str()).collect();
        assert_eq!(reasons, ["BackOff", "NodeNotReady", "Started", "FailedMount"], "newest first");
        assert_eq!(warnings(&all), 2);
        assert_eq!(requested(&pods(&d, "", PodSort::default()).unwrap()), (4750, 4_750_000_000));
    }

    #[test]
    fn unknown_parts_are_none_and_another_nodes_answer_is_loading() {
        let mut d = detail();
        d.events = Part::Failed("forbidden".into());
        assert!(events(&d, None, false).is_none());
        assert_eq!(failed(&d.events), Some("forbidden"));
        assert!(matches!(state(Some(&d), "r1-n01"), State::Ready(_)));
        assert!(matches!(state(Some(&d), "r1-n02"), State::Loading));
        assert!(matches!(state(None, "r1-n01"), State::Loading));
    }
}
