//! The capacity review as JSON: the report's fields with a `schema` tag,
//! `{"schema": "clustertop.capacity/v1", "start": ..., ...}`. Times are RFC 3339 UTC, `tz` is the
//! IANA name, windows' times are `HH:MM:SS`. A figure that is not a finite number is `null`.

use serde::Serialize;

use super::CapacityReport;

pub(super) const SCHEMA: &str = "clustertop.capacity/v1";

#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    #[serde(flatten)]
    report: &'a CapacityReport,
}

pub(super) fn render(r: &CapacityReport) -> String {
    match serde_json::to_string_pretty(&Doc { schema: SCHEMA, report: r }) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        // The report holds only strings, numbers and times: serialising cannot fail.
        Err(e) => format!("{{\"schema\": \"{SCHEMA}\", \"error\": {:?}}}\n", e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::report::fixture;

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&fixture()));
    }

    #[test]
    fn schema_first_and_non_finite_is_null() {
        let mut r = fixture();
        r.fills[0].avg_util = f64::NAN;
        r.capacity_cores = f64::INFINITY;
        let s = render(&r);
        let v: serde_json::Value = serde_json::from_str(&s).expect("valid JSON");
        assert_eq!(v["schema"], SCHEMA);
        assert!(s.trim_start().starts_with("{\n  \"schema\""));
        assert!(v["fills"][0]["avg_util"].is_null());
        assert!(v["capacity_cores"].is_null());
        assert_eq!(v["tz"], "Asia/Shanghai");
    }
}
