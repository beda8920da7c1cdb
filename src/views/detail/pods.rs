//! The node detail's Events and Pods sections, from the on-demand answer (`sources::detail`) as
//! the view-model filters and sorts it (`viewmodel::pods`). Unknown is never empty: loading,
//! forbidden and failed parts say so with `?` and the reason.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::super::Ctx;
use super::super::widgets;
use crate::format::Age;
use crate::sources::detail::{EventRow, NodeDetail, PodRow};
use crate::viewmodel::pods::{self as vm, State};

/// Label column width (as the other sections).
const LW: usize = 12;
/// Events listed before "+N more".
const EVENT_CAP: usize = 30;

fn label(ctx: &Ctx, l: &str) -> Span<'static> {
    Span::styled(format!(" {l:<LW$}"), ctx.theme.header)
}

fn unknown(ctx: &Ctx, head: &str, why: String) -> Vec<Line<'static>> {
    let t = ctx.theme;
    vec![Line::from(vec![label(ctx, head), Span::styled(format!("{} {why}", t.sym.unknown), t.unknown)])]
}

/// Both sections: events first (what is happening), then every pod.
pub fn sections(ctx: &Ctx, node: &str, w: usize) -> Vec<Line<'static>> {
    let m = ctx.model;
    if m.at.is_some() {
        let why = "live only: a node's pods and events are fetched on demand, not recorded (Esc or :live)";
        return unknown(ctx, "Pods", why.into());
    }
    let d = match vm::state(m.detail.as_deref(), node) {
        State::Loading => {
            return unknown(ctx, "Pods", "loading: fetched on demand while this detail is open".into());
        }
        State::Ready(d) => d,
    };
    let shown = vm::pods(d, &m.pod_filter, m.pod_sort);
    let mut out = events(ctx, d, shown.as_deref(), w);
    out.push(Line::from(""));
    out.extend(pods(ctx, d, shown.as_deref(), w));
    out
}

fn fetched(ctx: &Ctx, d: &NodeDetail) -> Span<'static> {
    let age = Age::since(ctx.snap.now, Some(d.at));
    let when = match age {
        Age::Now | Age::Unknown => "just now".to_string(),
        a => format!("{a} ago"),
    };
    Span::styled(format!("; fetched {when}"), ctx.theme.muted)
}

fn events(ctx: &Ctx, d: &NodeDetail, shown: Option<&[&PodRow]>, w: usize) -> Vec<Line<'static>> {
    let t = ctx.theme;
    let filtered = !ctx.model.pod_filter.is_empty();
    let Some(list) = vm::events(d, shown, filtered) else {
        return unknown(ctx, "Events", format!("events: {}", vm::failed(&d.events).unwrap_or("unknown")));
    };
    let warnings = vm::warnings(&list);
    let of = if filtered { "the node and the pods shown" } else { "the node and its pods" };
    let mut out = vec![Line::from(vec![
        label(ctx, "Events"),
        Span::styled(format!("{} of {of}", list.len()), t.base),
        Span::styled(
            format!(", {warnings} warning{}", if warnings == 1 { "" } else { "s" }),
            if warnings > 0 { t.warn } else { t.muted },
        ),
        Span::styled(", newest first", t.muted),
    ])];
    if list.is_empty() {
        out.push(Line::styled(
            "   none in the last hour (the API server keeps events for about an hour)",
            t.muted,
        ));
    }
    for e in list.iter().take(EVENT_CAP) {
        out.push(event_line(ctx, e, w));
    }
    if list.len() > EVENT_CAP {
        out.push(Line::styled(format!("   +{} more", list.len() - EVENT_CAP), t.muted));
    }
    out
}

/// One event: a warning has the warning glyph and the word (narrow: the glyph alone).
fn event_line(ctx: &Ctx, e: &EventRow, w: usize) -> Line<'static> {
    let t = ctx.theme;
    let (glyph, st): (&str, Style) = if e.warning { (t.sym.warn, t.warn) } else { (" ", t.base) };
    let age = widgets::age(ctx.snap.now, e.last).to_string();
    // How often it happened goes with the reason, so a narrow screen keeps it.
    let reason = if e.count > 1 { format!("{} x{}", e.reason, e.count) } else { e.reason.clone() };
    let head = if w >= 110 {
        let typ = if e.warning { "Warning" } else { "Normal" };
        format!(
            "   {glyph} {age:>4} {typ:<7} {} {} ",
            widgets::fit(t, &reason, 20),
            widgets::fit(t, &e.object, 48)
        )
    } else {
        let obj_w = (w.saturating_sub(22) * 2 / 5).clamp(20, 40);
        format!(" {glyph} {age:>4} {} {} ", widgets::fit(t, &reason, 14), widgets::fit(t, &e.object, obj_w))
    };
    let used = unicode_width::UnicodeWidthStr::width(head.as_str());
    let msg = widgets::truncate(t, &e.message, w.saturating_sub(used));
    Line::from(vec![Span::styled(head, st), Span::styled(msg, if e.warning { t.warn } else { t.muted })])
}

fn pods(ctx: &Ctx, d: &NodeDetail, shown: Option<&[&PodRow]>, w: usize) -> Vec<Line<'static>> {
    let (t, m) = (ctx.theme, ctx.model);
    let (Some(shown), Some(all)) = (shown, d.pods.ok()) else {
        let mut v = unknown(ctx, "Pods", format!("pods: {}", vm::failed(&d.pods).unwrap_or("unknown")));
        v[0].spans.push(fetched(ctx, d));
        return v;
    };
    let (cpu, mem) = vm::requested(shown);
    let count = if m.pod_filter.is_empty() {
        format!("{} on the node", all.len())
    } else {
        format!("{} of {} match \"{}\"", shown.len(), all.len(), m.pod_filter)
    };
    let mut out = vec![Line::from(vec![
        label(ctx, "Pods"),
        Span::styled(count, t.base),
        Span::styled(
            format!(
                "; requests {} CPU, {}; {}",
                cpu_text(Some(cpu)),
                widgets::bytes(mem),
                m.pod_sort.describe()
            ),
            t.muted,
        ),
        fetched(ctx, d),
    ])];
    let c = if w >= 110 { WIDE } else { NARROW };
    let name_w = if w >= 110 { 56 } else { w.saturating_sub(c.fixed()).max(16) };
    out.push(Line::styled(
        format!(
            "   {} {} {} {} {:>rst$} {:>age$} {:>cpu$} {:>mem$}",
            widgets::fit(t, "NAMESPACE/NAME", name_w),
            widgets::fit(t, "RUNTIME", c.runtime),
            widgets::fit(t, "CLASS", c.class),
            widgets::fit(t, "PHASE", c.phase),
            "RST",
            "AGE",
            "CPU",
            "MEM",
            rst = c.restarts,
            age = c.age,
            cpu = c.cpu,
            mem = c.mem,
        ),
        t.header,
    ));
    for p in shown {
        out.push(pod_line(ctx, p, name_w, c));
    }
    out
}

/// Column widths of the pod table.
#[derive(Clone, Copy)]
struct Cols {
    runtime: usize,
    class: usize,
    phase: usize,
    restarts: usize,
    age: usize,
    cpu: usize,
    mem: usize,
}

impl Cols {
    /// Everything but the name: the indent, the columns and the spaces between them.
    fn fixed(self) -> usize {
        3 + self.runtime + self.class + self.phase + self.restarts + self.age + self.cpu + self.mem + 7
    }
}

const WIDE: Cols = Cols { runtime: 8, class: 7, phase: 9, restarts: 4, age: 6, cpu: 6, mem: 6 };
const NARROW: Cols = Cols { runtime: 7, class: 7, phase: 8, restarts: 3, age: 5, cpu: 5, mem: 5 };

fn cpu_text(m: Option<u64>) -> String {
    match m {
        None => "-".into(),
        Some(m) if m % 1000 == 0 => format!("{}", m / 1000),
        Some(m) if m >= 1000 => format!("{:.1}", m as f64 / 1000.0),
        Some(m) => format!("{m}m"),
    }
}

fn pod_line(ctx: &Ctx, p: &PodRow, name_w: usize, c: Cols) -> Line<'static> {
    let t = ctx.theme;
    let phase_st = match p.phase.as_str() {
        "Running" | "Succeeded" => t.base,
        "Pending" | "Unknown" => t.warn,
        _ => t.crit,
    };
    let rst_st = if p.restarts > 0 { t.warn } else { t.base };
    let name = widgets::fit(t, &format!("{}/{}", p.namespace, p.name), name_w);
    let name = widgets::highlight(t, format!("   {name} "), &ctx.model.pod_filter, t.base);
    let mut spans = name.spans;
    let mem = p.mem_bytes.map(widgets::bytes).unwrap_or_else(|| "-".into());
    spans.extend([
        Span::styled(format!("{} ", widgets::fit(t, vm::runtime(p), c.runtime)), t.base),
        Span::styled(
            format!("{} ", widgets::fit(t, vm::class(p), c.class)),
            if p.offline { t.info } else { t.base },
        ),
        Span::styled(format!("{} ", widgets::fit(t, &p.phase, c.phase)), phase_st),
        Span::styled(format!("{:>w$} ", p.restarts, w = c.restarts), rst_st),
        Span::styled(format!("{:>w$} ", widgets::age(ctx.snap.now, p.created).kubectl(), w = c.age), t.base),
        Span::styled(format!("{:>w$} ", cpu_text(p.cpu_m), w = c.cpu), t.base),
        Span::styled(format!("{mem:>w$}", w = c.mem), t.base),
    ]);
    Line::from(spans)
}
