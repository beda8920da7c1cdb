//! The time cursor: `None` is live; rewound, every view draws the recorded snapshot at the
//! cursor while live snapshots keep arriving (kept in `Model::live`, not shown). The model only
//! decides where to go; the event loop asks the history (`Effect::Seek`, `Effect::Diff`) and
//! answers with `Msg::Rewound` / `Msg::Changes`, or a notice: a moment the history does not hold
//! leaves the cursor where it was.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use clustertop_record::Change;

use super::{Effect, Found, Mode, Model, View, row_count};
use crate::model::Snapshot;
use crate::viewmodel::selection;

/// What the past of this session is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Past {
    /// No history: why (said when a time key is pressed).
    None(String),
    /// A recording answers; live is now.
    Recorded,
    /// `clustertop replay`: the recording is all there is; "live" is the end of the recording.
    Replay { context: String },
}

impl Default for Past {
    fn default() -> Self {
        Past::None("this session keeps no history".into())
    }
}

/// What changed between two moments (`:diff`, `D`), in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffList {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub changes: Vec<Change>,
}

/// How far `D` looks back from the cursor.
pub const DIFF_BACK: Duration = Duration::hours(1);

/// The moment on screen: the cursor, or the latest live snapshot's.
pub fn shown_at(model: &Model) -> Option<DateTime<Utc>> {
    model.at.or_else(|| model.live.as_ref().map(|s| s.now))
}

/// Why the time keys cannot work, if they cannot.
fn unavailable(model: &Model) -> Option<String> {
    match &model.past {
        Past::None(why) => Some(format!("no recording ({why}): the time cursor has nothing to show")),
        _ if model.live.is_none() => Some("no data yet: nothing to rewind from".into()),
        _ => None,
    }
}

fn live_word(model: &Model) -> &'static str {
    match model.past {
        Past::Replay { .. } => "the end of the recording",
        _ => "live",
    }
}

/// Back to now (in a replay: to the end of the recording).
pub fn go_live(model: &mut Model) {
    model.seeking = None;
    model.at_from = None;
    if model.at.take().is_some() {
        model.snap = model.live.clone();
        clamp_cursors(model);
    }
    model.message = Some(format!("{}: {}", live_word(model), at_label(model, shown_at(model))));
}

fn at_label(model: &Model, t: Option<DateTime<Utc>>) -> String {
    let tz = model.live.as_ref().map_or(chrono_tz::UTC, |s| s.tz);
    t.map_or_else(|| "?".into(), |t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S %Z").to_string())
}

/// Move the cursor to `t`: past the latest live moment is live; otherwise ask the history.
fn seek(model: &mut Model, t: DateTime<Utc>, to_start: bool) -> Vec<Effect> {
    let now = model.live.as_ref().map(|s| s.now);
    if now.is_some_and(|n| t >= n) {
        if model.at.is_none() {
            model.message = Some(format!("already {}: [ and {{ step back", live_word(model)));
            return Vec::new();
        }
        go_live(model);
        return Vec::new();
    }
    model.seeking = Some(t);
    model.message = Some(format!("reading {} from the recording…", at_label(model, Some(t))));
    vec![Effect::Seek { at: t, to_start }]
}

/// `[` `]` `{` `}`: step the cursor by `secs` (negative: back).
pub fn step(model: &mut Model, secs: i64) -> Vec<Effect> {
    if let Some(why) = unavailable(model) {
        model.message = Some(why);
        return Vec::new();
    }
    // Keys pressed while a moment is read step on from that moment.
    let Some(base) = model.seeking.or_else(|| shown_at(model)) else { return Vec::new() };
    seek(model, base + Duration::seconds(secs), true)
}

/// `:at MOMENT`: RFC 3339, `HH:MM[:SS]` today in the cluster's zone, or `-DURATION` before now.
pub fn at(model: &mut Model, arg: &str) -> Vec<Effect> {
    if let Some(why) = unavailable(model) {
        model.message = Some(why);
        return Vec::new();
    }
    let Some(live) = model.live.clone() else { return Vec::new() };
    if arg.is_empty() {
        model.message = Some(format!(
            "showing {}; :at 01:55, :at -20m or :at 2026-12-07T01:55:00Z moves the cursor, :live comes back",
            at_label(model, shown_at(model))
        ));
        return Vec::new();
    }
    match clustertop_core::moment::parse_moment(arg, live.now, live.tz) {
        Ok(t) => seek(model, t, false),
        Err(e) => {
            model.message = Some(e);
            Vec::new()
        }
    }
}

/// `:diff [MOMENT]` (default `-1h`): what changed between the cursor (or now) and MOMENT; a
/// `-DURATION` counts back from the cursor.
pub fn diff(model: &mut Model, arg: &str) -> Vec<Effect> {
    if let Some(why) = unavailable(model) {
        model.message = Some(why);
        return Vec::new();
    }
    let (Some(base), Some(tz)) = (shown_at(model), model.live.as_ref().map(|s| s.tz)) else {
        return Vec::new();
    };
    let other = if arg.is_empty() {
        Ok(base - DIFF_BACK)
    } else {
        clustertop_core::moment::parse_moment(arg, base, tz)
    };
    match other {
        Ok(o) if o == base => {
            model.message = Some("a diff needs two different moments".into());
            Vec::new()
        }
        Ok(o) => vec![Effect::Diff { from: o.min(base), to: o.max(base) }],
        Err(e) => {
            model.message = Some(e);
            Vec::new()
        }
    }
}

/// The history's answer to `Effect::Seek`.
pub fn rewound(model: &mut Model, t: DateTime<Utc>, snap: Arc<Snapshot>) {
    model.at = Some(t);
    model.at_from = None;
    model.snap = Some(snap);
    clamp_cursors(model);
}

/// The history's answer to `Effect::Seek(t)`: the cursor moves to `t`, or stays with the reason;
/// dropped when another moment was asked since, or the cursor went live.
pub fn sought(model: &mut Model, t: DateTime<Utc>, answer: Result<Found, String>) {
    if model.seeking != Some(t) {
        return;
    }
    model.seeking = None;
    match answer {
        Ok(Found { at: shown, snap, from }) => {
            model.message = (shown != t).then(|| {
                format!("the recording starts at {}: its first moment is shown", at_label(model, Some(shown)))
            });
            rewound(model, shown, snap);
            model.at_from = Some(from);
        }
        Err(e) => {
            let stays = match (model.at, &model.snap) {
                (Some(t), Some(s)) => format!("at {}", t.with_timezone(&s.tz).format("%H:%M:%S %Z")),
                _ if matches!(model.past, Past::Replay { .. }) => "at the end of the recording".into(),
                _ => "live".into(),
            };
            model.message = Some(format!("{e}; the cursor stays {stays}"));
        }
    }
}

/// The history's answer to `Effect::Diff`: the list, as an overlay.
pub fn changes(model: &mut Model, list: DiffList) {
    if list.changes.is_empty() {
        model.message = Some(format!(
            "nothing changed from {} to {}",
            at_label(model, Some(list.from)),
            at_label(model, Some(list.to))
        ));
        return;
    }
    model.diff = Some(list);
    model.mode = Mode::Diff;
    model.scroll = 0;
}

pub(super) fn clamp_cursors(model: &mut Model) {
    model.rows.refresh(model.snap.as_ref(), &model.filter, &model.sorts);
    for v in View::ALL {
        let n = row_count(model, v);
        let c = &mut model.cursor[v.index()];
        *c = selection::clamp(*c, n);
    }
}

/// Whether the time keys do something (for the footer).
pub fn available(model: &Model) -> bool {
    !matches!(model.past, Past::None(_))
}
