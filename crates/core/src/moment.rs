//! The one way clustertop reads a moment and a duration from the command line (and from `:at`):
//! RFC 3339 (`2026-12-07T01:55:00Z`), a time of day today in the given zone (`01:55`,
//! `01:55:30`), or a distance back from now (`-20m`, `-1h30m`); durations as `90s`, `20m`,
//! `1h30m`, `7d`.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

const UNITS: [(char, i64); 5] = [('w', 7 * 86_400), ('d', 86_400), ('h', 3600), ('m', 60), ('s', 1)];

/// A duration such as `90s`, `20m`, `1h30m`, `1h 30m`, `7d`, `2w` (a bare number is seconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration such as 90s, 20m, 1h30m or 7d");
    let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if t.is_empty() {
        return Err(bad());
    }
    if let Ok(n) = t.parse::<i64>() {
        return if n >= 0 { Ok(Duration::seconds(n)) } else { Err(bad()) };
    }
    let mut total: i64 = 0;
    let mut digits = String::new();
    let mut last_unit = usize::MAX;
    for c in t.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let i = UNITS.iter().position(|(u, _)| *u == c).ok_or_else(bad)?;
        // Units largest first, each once: `1h30m`, never `30m1h` or `1m1m`.
        if digits.is_empty() || (last_unit != usize::MAX && i <= last_unit) {
            return Err(bad());
        }
        last_unit = i;
        let n: i64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        total = n.checked_mul(UNITS[i].1).and_then(|v| total.checked_add(v)).ok_or_else(bad)?;
    }
    if !digits.is_empty() {
        return Err(bad());
    }
    // Beyond ~290 years chrono's Duration would be the least of the problems.
    if total > 100 * 365 * 86_400 {
        return Err(bad());
    }
    Ok(Duration::seconds(total))
}

/// A moment: RFC 3339; `HH:MM` or `HH:MM:SS`, today in `tz` (seen at `now`); or `-DURATION`
/// before `now`.
pub fn parse_moment(s: &str, now: DateTime<Utc>, tz: Tz) -> Result<DateTime<Utc>, String> {
    let t = s.trim();
    if let Some(d) = t.strip_prefix('-') {
        let d = parse_duration(d).map_err(|e| format!("{s:?}: {e}"))?;
        return Ok(now - d);
    }
    if let Ok(x) = DateTime::parse_from_rfc3339(t) {
        return Ok(x.with_timezone(&Utc));
    }
    let time = ["%H:%M:%S", "%H:%M"].iter().find_map(|f| NaiveTime::parse_from_str(t, f).ok());
    let Some(time) = time else {
        return Err(format!(
            "{s:?} is not a moment: use RFC 3339 (2026-12-07T01:55:00Z), HH:MM[:SS] (today, in {tz}) \
             or -DURATION (-20m, -1h30m)"
        ));
    };
    let day = now.with_timezone(&tz).date_naive();
    // A time skipped by a DST change has no local moment; a repeated one takes the earlier.
    match tz.from_local_datetime(&day.and_time(time)).earliest() {
        Some(x) => Ok(x.with_timezone(&Utc)),
        None => Err(format!("{s:?} does not exist today in {tz} (a daylight-saving change skips it)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::T0;

    #[test]
    fn durations() {
        let ok = |s: &str| parse_duration(s).map(|d| d.num_seconds());
        assert_eq!(ok("90s"), Ok(90));
        assert_eq!(ok("20m"), Ok(1200));
        assert_eq!(ok("1h30m"), Ok(5400));
        assert_eq!(ok("1h 30m"), Ok(5400));
        assert_eq!(ok("7d"), Ok(7 * 86_400));
        assert_eq!(ok("2w"), Ok(14 * 86_400));
        assert_eq!(ok("45"), Ok(45));
        for bad in ["", "m", "1x", "30m1h", "1m1m", "-5m", "h1", "5m3"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert!(parse_duration("99999999999999999d").is_err());
    }

    #[test]
    fn moments() {
        let utc = |s: &str| parse_moment(s, T0, Tz::UTC).map(|t| t.to_rfc3339());
        // T0 is 2026-11-24T12:00:00Z.
        assert_eq!(utc("2026-12-07T01:55:00Z"), Ok("2026-12-07T01:55:00+00:00".into()));
        assert_eq!(utc("2026-12-07T03:55:00+02:00"), Ok("2026-12-07T01:55:00+00:00".into()));
        assert_eq!(utc("01:55"), Ok("2026-11-24T01:55:00+00:00".into()));
        assert_eq!(utc("01:55:30"), Ok("2026-11-24T01:55:30+00:00".into()));
        assert_eq!(utc("-20m"), Ok("2026-11-24T11:40:00+00:00".into()));
        assert_eq!(utc("-1h30m"), Ok("2026-11-24T10:30:00+00:00".into()));
        // Today in the zone: 12:00Z is 20:00 in Shanghai; 01:55 there is 17:55Z the day before.
        let sh = parse_moment("01:55", T0, chrono_tz::Asia::Shanghai).map(|t| t.to_rfc3339());
        assert_eq!(sh, Ok("2026-11-23T17:55:00+00:00".into()));
        for bad in ["yesterday", "25:00", "-", "-5x", "2026-12-07"] {
            let e = utc(bad).expect_err(bad);
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn a_skipped_local_time_is_an_error() {
        // 2026-03-29 02:30 does not exist in Berlin (clocks go from 02:00 to 03:00).
        let now = DateTime::parse_from_rfc3339("2026-03-29T12:00:00Z").map(|t| t.with_timezone(&Utc));
        let now = now.unwrap_or(T0);
        let e = parse_moment("02:30", now, chrono_tz::Europe::Berlin).expect_err("skipped");
        assert!(e.contains("daylight"), "{e}");
    }
}
