//! The pre-drain check (`:check drain NODE`): what draining or restarting a node does to its
//! rack's ECMP, from `analysis::failover::drain`. An overlay over the view, scrolled like the
//! help; every verdict is a glyph and words, never a colour alone.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};
use unicode_width::UnicodeWidthStr;

use super::{Ctx, widgets};
use crate::analysis::failover::{self, DrainCheck, RestartCut, SLOW_HOLD_S};

/// One entry: a lead (a section title or a glyph) and its text, wrapped under itself.
struct Item {
    lead: String,
    lead_st: Style,
    text: String,
    st: Style,
}

/// The entries of the check.
fn items(ctx: &Ctx, c: &DrainCheck) -> Vec<Item> {
    let t = ctx.theme;
    let mut out = Vec::new();
    let mut push =
        |lead: String, lead_st: Style, text: String, st: Style| out.push(Item { lead, lead_st, text, st });
    let head = |s: &str| format!(" {s:<15}");
    let Some(window) = &c.window else {
        push(
            head("BGP"),
            t.header,
            format!("{} is not a BGP node: draining it changes no BGP route", c.node),
            t.muted,
        );
        return out;
    };
    push(head("Rack"), t.header, format!("{} ({} BGP nodes)", c.rack, c.rack_bgp_nodes), t.base);
    push(
        head("ECMP next-hops"),
        t.header,
        "per TOR: rack nodes with a session up, now -> after".into(),
        t.muted,
    );
    for e in &c.tors {
        let (st, g, note) = match (e.via_node, e.after) {
            (true, 0) => (t.crit, t.sym.crit, ": none left"),
            (true, _) => (t.ok, t.sym.ok, ""),
            (false, _) => (t.muted, "-", " (not via this node: unchanged)"),
        };
        push(format!("   {g} "), st, format!("{}: {} -> {}{note}", e.tor, e.now, e.after), st);
    }
    push(head("Sessions"), t.header, c.sessions.len().to_string(), t.base);
    for s in &c.sessions {
        push("     ".into(), t.base, s.clone(), t.base);
    }
    let (st, g) = match window.restart {
        RestartCut::None { .. } => (t.ok, t.sym.ok),
        RestartCut::Withdrawn { .. } => (t.warn, t.sym.warn),
        RestartCut::Unknown(_) => (t.unknown, t.sym.unknown),
        RestartCut::NothingUp => (t.muted, "-"),
    };
    push(head("Expected cut"), t.header, String::new(), t.base);
    push(
        format!("   {} ", t.sym.ok),
        t.ok,
        "drain (cordon, evict, stop): the TORs drop it as a next-hop when its sessions close; traffic moves to \
         the rack's other nodes"
            .into(),
        t.base,
    );
    push(format!("   {g} "), st, format!("restart of its BGP speaker: {}", window.restart.describe()), st);
    let (st, g, text) = match window.hold_s {
        None if window.restart == RestartCut::NothingUp => {
            (t.muted, "-", "nothing more: no session is up".to_string())
        }
        Some(h) if h > SLOW_HOLD_S => {
            (t.warn, t.sym.warn, format!("its share blackholed up to {h} s (hold time)"))
        }
        Some(h) => (t.ok, t.sym.ok, format!("its share blackholed up to {h} s (hold time)")),
        None => (t.unknown, t.sym.unknown, "? (no established session reports a hold time)".to_string()),
    };
    push(format!("   {g} "), st, format!("if it dies: {text}"), st);
    let none = if c.warnings.is_empty() { "none" } else { "" };
    push(head("Warnings"), t.header, none.into(), t.ok);
    for w in &c.warnings {
        push(format!("   {} ", t.sym.warn), t.warn, w.clone(), t.warn);
    }
    out
}

/// The lines of the check wrapped to `width` (also what bounds its scrolling).
pub fn lines(ctx: &Ctx, c: &DrainCheck, width: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for it in items(ctx, c) {
        let lead_w = it.lead.width();
        let wrapped = widgets::wrap(ctx.theme, &it.text, width.saturating_sub(lead_w));
        if wrapped.is_empty() {
            out.push(Line::from(Span::styled(it.lead.clone(), it.lead_st)));
        }
        for (i, l) in wrapped.into_iter().enumerate() {
            let lead = if i == 0 { it.lead.clone() } else { " ".repeat(lead_w) };
            out.push(Line::from(vec![Span::styled(lead, it.lead_st), Span::styled(l, it.st)]));
        }
    }
    out
}

pub fn render(ctx: &Ctx, node: &str, area: Rect, buf: &mut Buffer) {
    if area.width < 10 || area.height < 4 {
        return;
    }
    Clear.render(area, buf);
    let inner = widgets::block(ctx.theme, "").inner(area);
    let all = match failover::drain(ctx.snap, node) {
        Ok(c) => lines(ctx, &c, usize::from(inner.width)),
        // The node left since the command: say so rather than show a stale check.
        Err(e) => vec![Line::styled(format!(" {} {e}", ctx.theme.sym.unknown), ctx.theme.unknown)],
    };
    let wrapped = all;
    let h = usize::from(inner.height);
    let len = wrapped.len();
    let max = len.saturating_sub(h);
    super::hits::scroll_max(max);
    let scroll = ctx.model.scroll.min(max);
    let mut title = format!("Drain check: {node} (Esc or q closes");
    if max > 0 {
        title.push_str(&format!("; j/k scroll: {}-{}", scroll + 1, (scroll + h).min(len)));
    }
    title.push(')');
    widgets::block(ctx.theme, &title).render(area, buf);
    let visible: Vec<Line> = wrapped.into_iter().skip(scroll).take(h).collect();
    Paragraph::new(visible).style(ctx.theme.base).render(inner, buf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Model;
    use crate::testkit::cluster_a as fixture;
    use crate::theme::Theme;

    fn text(node: &str, width: usize) -> String {
        let (snap, model, theme) =
            (fixture::snapshot(), Model::default(), Theme::builtin("mono", true).expect("mono"));
        let ctx = Ctx { snap: &snap, model: &model, theme: &theme };
        let c = failover::drain(&snap, node).expect("node");
        lines(&ctx, &c, width).iter().map(|l| format!("{l}\n")).collect()
    }

    /// rack-2: node-05 is the only node with a session up to tor-2b (node-06 lost it, node-07
    /// has none): draining it leaves tor-2b no next-hop for the rack. Graceful restart on (120 s,
    /// TORs helping) but Cilium's default 90 s hold.
    #[test]
    fn last_node_of_the_rack_to_a_tor() {
        insta::assert_snapshot!(text("node-05", 78));
    }

    /// rack-3 runs without graceful restart (Cilium's default peer config) and its tor-3b is
    /// dead: a drain costs tor-3a one of its three next-hops; a speaker restart withdraws.
    #[test]
    fn rack_without_graceful_restart() {
        let snap = fixture::snapshot();
        let node =
            snap.nodes.iter().find(|n| n.rack == "rack-3" && !n.bgp.is_empty()).expect("a rack-3 BGP node");
        insta::assert_snapshot!(text(&node.name.clone(), 78));
    }

    #[test]
    fn not_a_bgp_node() {
        let t = text("node-01", 78);
        assert_eq!(t, " BGP            node-01 is not a BGP node: draining it changes no BGP route\n");
    }
}
