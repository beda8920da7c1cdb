//! The one rounding rule for every percentage clustertop shows: the TUI, `snapshot --format text`
//! and the reports all write shares through here, so they agree at the same moment.
//!
//! - A share is rounded to the nearest whole percent (half up), never floored: 42 of 1,451 pods
//!   (2.9 %) is `3%`.
//! - A share that is not 0 never reads `0%` (it is `<1%`), and one that is not whole never reads
//!   `100%` (it is `>99%`).
//! - Parts shown with their total (`66% = 63% + 3%`) or beside each other (a mix that makes 100 %)
//!   add up: the total is rounded, and its whole percents go to the parts by largest remainder.

/// A share rounded for display: its whole percent, or below 1 / above 99 when rounding would say
/// 0 or 100 of something that is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whole {
    Exactly(u32),
    /// Not 0, but under half a percent.
    BelowOne,
    /// Not all, but within half a percent of it.
    AboveNinetyNine,
    /// Not a number (a share of nothing): unknown, never 0.
    Unknown,
}

impl Whole {
    /// `3`, `<1`, `>99`, `?`.
    pub fn number(self) -> String {
        match self {
            Whole::Exactly(n) => n.to_string(),
            Whole::BelowOne => "<1".into(),
            Whole::AboveNinetyNine => ">99".into(),
            Whole::Unknown => crate::model::UNKNOWN.into(),
        }
    }
}

/// `3%`, `<1%`, `>99%`, `?`.
impl std::fmt::Display for Whole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Whole::Unknown => f.pad(crate::model::UNKNOWN),
            w => f.pad(&format!("{}%", w.number())),
        }
    }
}

/// `share` (0.0..=1.0, more for an overcommitted figure) with `whole` percents decided by the
/// caller (rounded, or its part of a rounded total).
fn guard(share: f64, whole: u32) -> Whole {
    if !share.is_finite() {
        Whole::Unknown
    } else if whole == 0 && share > 0.0 {
        Whole::BelowOne
    } else if whole == 100 && share < 1.0 {
        Whole::AboveNinetyNine
    } else {
        Whole::Exactly(whole)
    }
}

fn rounded(share: f64) -> u32 {
    // Shares below 0 are not shares; over 100 % stays (a node overcommitted).
    let p = (share.max(0.0) * 100.0).round();
    if p >= f64::from(u32::MAX) { u32::MAX } else { p as u32 }
}

/// One share on its own.
pub fn share(share: f64) -> Whole {
    guard(share, rounded(share))
}

/// A share as `75%`, `3%`, `<1%`, `>99%`, or `?` when it is not a number.
pub fn pct(f: f64) -> String {
    share(f).to_string()
}

/// `parts` shown with their `total` share (which may be more than the sum of the parts only when
/// the caller says so; usually it is their sum): the total rounded, and the parts given whole
/// percents that add up to it, by largest remainder (ties to the earlier part).
pub fn split(total: f64, parts: &[f64]) -> (Whole, Vec<Whole>) {
    if !total.is_finite() || parts.iter().any(|p| !p.is_finite()) {
        return (Whole::Unknown, vec![Whole::Unknown; parts.len()]);
    }
    let sum: u32 = rounded(total);
    let exact: Vec<f64> = parts.iter().map(|p| p.max(0.0) * 100.0).collect();
    let mut whole: Vec<u32> = exact.iter().map(|e| e.floor() as u32).collect();
    let floors: u32 = whole.iter().sum();
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())).then(a.cmp(&b))
    });
    for &i in order.iter().cycle().take(sum.saturating_sub(floors) as usize) {
        whole[i] += 1;
    }
    let parts = parts.iter().zip(whole).map(|(&p, w)| guard(p, w)).collect();
    (guard(total, sum), parts)
}

/// Shares of one whole shown beside each other (a runtime mix, a mode split): they add up to the
/// rounded sum of `counts` over `of`.
pub fn shares(counts: &[f64], of: f64) -> Vec<Whole> {
    if of <= 0.0 {
        return vec![Whole::Unknown; counts.len()];
    }
    let parts: Vec<f64> = counts.iter().map(|c| c / of).collect();
    split(parts.iter().sum(), &parts).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounded_not_floored_and_never_zero_for_something() {
        assert_eq!(pct(42.0 / 1451.0), "3%", "2.9 % of the pods");
        assert_eq!(pct(0.749), "75%");
        assert_eq!(pct(0.744), "74%");
        assert_eq!(pct(0.0), "0%");
        assert_eq!(pct(0.003), "<1%");
        assert_eq!(pct(0.998), ">99%");
        assert_eq!(pct(1.0), "100%");
        assert_eq!(pct(1.25), "125%", "an overcommitted figure stays");
        assert_eq!(pct(f64::NAN), "?", "unknown is never 0");
        assert_eq!(format!("{:>5}", share(0.5)), "  50%");
    }

    #[test]
    fn parts_add_up_to_their_total() {
        // 37.4 % = 24.6 % + 12.8 %: rounded alone, 37 = 25 + 13 would not add up.
        let (t, p) = split(0.374, &[0.246, 0.128]);
        assert_eq!((t, p.clone()), (Whole::Exactly(37), vec![Whole::Exactly(24), Whole::Exactly(13)]));
        let (t, p) = split(0.663, &[0.627, 0.036]);
        assert_eq!(
            (t.to_string(), p[0].to_string(), p[1].to_string()),
            ("66%".into(), "63%".into(), "3%".into())
        );
        // A tiny part is still there.
        let (_, p) = split(0.404, &[0.401, 0.003]);
        assert_eq!(p[1], Whole::BelowOne);
        // A mix of 1,451 pods: 1,379 runc, 42 Kata, 30 gVisor.
        let mix = shares(&[1379.0, 42.0, 30.0], 1451.0);
        let s: Vec<String> = mix.iter().map(ToString::to_string).collect();
        assert_eq!(s, ["95%", "3%", "2%"]);
        assert_eq!(shares(&[1.0, 0.0], 0.0), vec![Whole::Unknown; 2]);
        // Every split of a whole into parts adds up to 100.
        for n in 1..249u32 {
            let (a, b) = (f64::from(n) / 997.0, f64::from(n * 3) / 997.0);
            let w = shares(&[a, b, 1.0 - a - b], 1.0);
            let sum: u32 = w.iter().map(|w| if let Whole::Exactly(x) = w { *x } else { 0 }).sum();
            assert!(sum == 100 || w.contains(&Whole::BelowOne), "{n}: {w:?}");
        }
    }
}
