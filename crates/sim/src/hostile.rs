//! The `hostile` scenario: the simulated cluster's free-text fields carry what a careless or
//! compromised writer could put there (the API allows any text in labels' values on a
//! non-conforming server, condition messages, CRD status, pod names from a fake API): terminal
//! escape sequences (clear screen, cursor moves, window title, clipboard), control characters,
//! bidi overrides and very long strings. The dashboard must show them inert (`sanitize`).

use crate::model::Signal;
use crate::model::Update;

/// One of each kind of trouble.
pub const SAMPLES: [&str; 7] = [
    "\u{1b}[2J\u{1b}[H",           // clear screen, cursor home
    "\u{1b}[10;10Hmoved",          // cursor move
    "\u{1b}]0;pwned-title\u{07}",  // OSC 0: window title
    "\u{1b}]52;c;cHduZWQ=\u{07}",  // OSC 52: clipboard
    "\u{202e}desrever\u{202c}",    // bidi override
    "\u{1b}[31;1;5mred\u{1b}[0m",  // colours
    "\r\n\t\u{08}\u{7f}\u{9b}31m", // C0, DEL, C1 CSI
];

fn all() -> String {
    SAMPLES.concat()
}

/// Mangle one update's text fields: rack 1's name, rack 2's name (2,000 characters), every
/// node's network annotation values and NetworkUnavailable condition reason, every BGP peer's
/// name (a CRD status field) and last error, and every 25th pod's name.
pub fn mangle(u: &mut Update) {
    match u {
        Update::NodeApplied { node, .. } => {
            if node.rack == "rack-1" {
                node.rack.push_str(&all());
            } else if node.rack == "rack-2" {
                node.rack.push_str(&"-long".repeat(400));
            }
            for sig in &mut node.signals {
                match sig {
                    Signal::Annotation { value, .. } => value.push_str(&all()),
                    Signal::ConditionReason { reason } => reason.push_str(&all()),
                    _ => {}
                }
            }
        }
        Update::Bgp { sessions, .. } => {
            for s in sessions.iter_mut() {
                s.peer.push_str(SAMPLES[2]);
                s.peer.push_str(SAMPLES[4]);
            }
            for s in sessions.iter_mut().filter(|s| s.last_error.is_some()) {
                s.last_error = Some(format!("Hold timer expired{}", all()));
            }
        }
        Update::PodsReplaced(pods) => {
            for p in pods.iter_mut().step_by(25) {
                p.name = format!("{}{}", p.name, all()).into();
            }
        }
        _ => {}
    }
}
