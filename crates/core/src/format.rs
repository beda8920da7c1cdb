//! The one way clustertop writes a duration, and `Age`: how long ago something happened, or that
//! it is not known.

use chrono::{DateTime, Utc};
use std::fmt;

const UNITS: [(u64, &str); 4] = [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")];

/// How much of a duration to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// The two largest units, zero parts left out: `5m`, `4m 10s`, `1h 30m`, `3d 4h`. For figures
    /// an SRE compares with a setting (a timeout, a stale period).
    Exact,
    /// One unit, for a column: seconds below 2 minutes, minutes below 2 hours, hours below 2
    /// days, then days (`42s`, `7m`, `3h`, `2d`), rounded down.
    Glance,
    /// As `kubectl get` writes an AGE (apimachinery's `HumanDuration`): seconds below 2 minutes,
    /// `4m10s` below 10 minutes, minutes below 3 hours, `5h20m` below 8 hours, hours below 2 days,
    /// `3d4h` below 8 days, days below 2 years, `2y30d` below 8 years, then years.
    Kubectl,
}

/// `secs` written at `precision`.
pub fn duration(secs: u64, precision: Precision) -> String {
    match precision {
        Precision::Exact => {
            if secs == 0 {
                return "0s".into();
            }
            let mut rest = secs;
            let mut parts = Vec::with_capacity(2);
            for (i, (n, u)) in UNITS.iter().enumerate() {
                let q = rest / n;
                rest %= n;
                if q > 0 {
                    parts.push(format!("{q}{u}"));
                    // The unit right after the largest one, and nothing smaller.
                    if let Some((n2, u2)) = UNITS.get(i + 1) {
                        let q2 = rest / n2;
                        if q2 > 0 {
                            parts.push(format!("{q2}{u2}"));
                        }
                    }
                    break;
                }
            }
            parts.join(" ")
        }
        Precision::Glance => {
            let (n, u) = UNITS.iter().find(|(n, _)| secs >= 2 * n && *n > 1).copied().unwrap_or((1, "s"));
            format!("{}{u}", secs / n)
        }
        Precision::Kubectl => kubectl(secs),
    }
}

/// apimachinery's `duration.HumanDuration`, unit by unit: below `whole` of a unit, write the unit
/// and the next smaller one (`4m10s`); below `only` of it, the unit alone.
fn kubectl(secs: u64) -> String {
    const YEAR: u64 = 365 * 86_400;
    // (unit, its name, the next smaller unit and name, written with it below, written alone below)
    let steps: [(u64, &str, u64, &str, u64, u64); 4] = [
        (60, "m", 1, "s", 10 * 60, 3 * 3600),
        (3600, "h", 60, "m", 8 * 3600, 48 * 3600),
        (86_400, "d", 3600, "h", 8 * 86_400, 2 * YEAR),
        (YEAR, "y", 86_400, "d", 8 * YEAR, u64::MAX),
    ];
    if secs < 120 {
        return format!("{secs}s");
    }
    for (unit, name, sub, sub_name, with_sub, alone) in steps {
        let q = secs / unit;
        if secs < with_sub {
            let r = (secs % unit) / sub;
            return if r == 0 { format!("{q}{name}") } else { format!("{q}{name}{r}{sub_name}") };
        }
        if secs < alone {
            return format!("{q}{name}");
        }
    }
    format!("{}y", secs / YEAR)
}

/// `d` as an exact duration (negative durations as zero).
pub fn span(d: chrono::Duration) -> String {
    duration(u64::try_from(d.num_seconds()).unwrap_or(0), Precision::Exact)
}

/// How long ago `t` was, seen at `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Age {
    /// No time known: never happened, or not reported.
    Unknown,
    /// At `now` or in the future (a clock ahead of ours).
    Now,
    /// This many whole seconds ago.
    Ago(u64),
}

impl Age {
    /// The age as `kubectl get` writes it (`45s`, `4m10s`, `12m`, `5h20m`, `3d4h`, `2y30d`); `?`
    /// when not known, `0s` for a time at or after `now`.
    pub fn kubectl(self) -> String {
        match self {
            Age::Unknown => "?".into(),
            Age::Now => "0s".into(),
            Age::Ago(s) => duration(s, Precision::Kubectl),
        }
    }

    pub fn since(now: DateTime<Utc>, t: Option<DateTime<Utc>>) -> Age {
        match t.map(|t| (now - t).num_seconds()) {
            None => Age::Unknown,
            Some(s) if s <= 0 => Age::Now,
            Some(s) => Age::Ago(s.unsigned_abs()),
        }
    }
}

/// `-`, `now`, or the age at a glance (`42s`, `7m`, `3h`, `2d`).
impl fmt::Display for Age {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Age::Unknown => f.pad("-"),
            Age::Now => f.pad("now"),
            Age::Ago(s) => f.pad(&duration(*s, Precision::Glance)),
        }
    }
}

/// A short time in seconds with tenths (`0.5s`, `12.3s`): sandbox start times, where the reference
/// figures (runc about 0.5 s, Kata about 1 s) are below a second.
pub fn tenths(secs: f64) -> String {
    format!("{secs:.1}s")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::T0;
    use chrono::Duration;

    #[test]
    fn exact_durations() {
        let cases = [
            (0, "0s"),
            (12, "12s"),
            (250, "4m 10s"),
            (300, "5m"),
            (3600, "1h"),
            (5400, "1h 30m"),
            (7500, "2h 5m"),
            (7201, "2h"),
            (432_000, "5d"),
            (76 * 3600, "3d 4h"),
        ];
        for (s, want) in cases {
            assert_eq!(duration(s, Precision::Exact), want, "{s}s");
        }
        assert_eq!(span(Duration::seconds(-5)), "0s");
    }

    #[test]
    fn ages_as_kubectl_writes_them() {
        let h = 3600;
        let d = 86_400;
        let y = 365 * d;
        let cases = [
            (0, "0s"),
            (45, "45s"),
            (119, "119s"),
            (120, "2m"),
            (250, "4m10s"),
            (599, "9m59s"),
            (600, "10m"),
            (12 * 60 + 59, "12m"),
            (3 * h - 1, "179m"),
            (3 * h, "3h"),
            (5 * h + 20 * 60 + 59, "5h20m"),
            (8 * h, "8h"),
            (47 * h + 59 * 60, "47h"),
            (48 * h, "2d"),
            (3 * d + 4 * h + 59, "3d4h"),
            (7 * d, "7d"),
            (8 * d + 23 * h, "8d"),
            (729 * d, "729d"),
            (2 * y, "2y"),
            (2 * y + 30 * d + 5 * h, "2y30d"),
            (8 * y + 100 * d, "8y"),
        ];
        for (s, want) in cases {
            assert_eq!(duration(s, Precision::Kubectl), want, "{s}s");
        }
        assert_eq!(Age::since(T0, None).kubectl(), "?", "unknown is not 0");
        assert_eq!(Age::since(T0, Some(T0 + Duration::seconds(3))).kubectl(), "0s");
        assert_eq!(Age::since(T0, Some(T0 - Duration::days(3))).kubectl(), "3d");
    }

    #[test]
    fn ages_at_a_glance() {
        let age = |s: i64| Age::since(T0, Some(T0 - Duration::seconds(s))).to_string();
        assert_eq!(Age::since(T0, None).to_string(), "-");
        assert_eq!(age(0), "now");
        assert_eq!(age(-30), "now");
        assert_eq!(age(42), "42s");
        assert_eq!(age(119), "119s");
        assert_eq!(age(120), "2m");
        assert_eq!(age(7 * 60), "7m");
        assert_eq!(age(7199), "119m");
        assert_eq!(age(3 * 3600), "3h");
        assert_eq!(age(47 * 3600 + 3599), "47h");
        assert_eq!(age(3 * 86_400), "3d");
        assert_eq!(format!("{:>5}", Age::Ago(42)), "  42s");
    }
}
