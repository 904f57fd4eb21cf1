//! Maintenance windows: one-off (`{"start": RFC 3339, "end": RFC 3339}`) or weekly in UTC
//! (`{"weekday": 0-6 (Monday = 0), "start": "HH:MM", "end": "HH:MM"}`; an end before the start
//! runs past midnight).

use chrono::{DateTime, Datelike, NaiveTime, Utc};
use serde_json::Value;

fn time(value: &Value) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(value.as_str()?, "%H:%M").ok()
}

fn instant(value: &Value) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value.as_str()?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Why a window is invalid, if it is.
pub fn check(window: &Value) -> Result<(), String> {
    match window.get("weekday") {
        Some(day) => {
            if day.as_u64().is_none_or(|d| d > 6) {
                return Err("weekday is 0 (Monday) to 6 (Sunday).".into());
            }
            if time(&window["start"]).is_none() || time(&window["end"]).is_none() {
                return Err("A weekly window has start and end as HH:MM (UTC).".into());
            }
        }
        None => match (instant(&window["start"]), instant(&window["end"])) {
            (Some(start), Some(end)) if start < end => {}
            _ => return Err("A window has start before end, as RFC 3339 times.".into()),
        },
    }
    Ok(())
}

/// Whether `at` falls in one of `windows`.
pub fn active(windows: &Value, at: DateTime<Utc>) -> bool {
    let Some(windows) = windows.as_array() else {
        return false;
    };
    windows
        .iter()
        .any(|w| match w.get("weekday").and_then(Value::as_u64) {
            Some(day) => {
                let (Some(start), Some(end)) = (time(&w["start"]), time(&w["end"])) else {
                    return false;
                };
                let today = u64::from(at.weekday().num_days_from_monday());
                let now = at.time();
                if start <= end {
                    today == day && now >= start && now < end
                } else {
                    // Past midnight: the evening of `day` or the morning after.
                    (today == day && now >= start) || (today == (day + 1) % 7 && now < end)
                }
            }
            None => match (instant(&w["start"]), instant(&w["end"])) {
                (Some(start), Some(end)) => at >= start && at < end,
                _ => false,
            },
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_off_and_weekly_windows() {
        // 2026-11-30 is a Monday.
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let windows = json!([
            {"start": "2026-11-28T10:00:00Z", "end": "2026-11-28T11:00:00Z"},
            {"weekday": 0, "start": "22:00", "end": "02:00"}
        ]);
        assert!(active(&windows, at("2026-11-28T10:30:00Z")));
        assert!(!active(&windows, at("2026-11-28T11:00:00Z")));
        assert!(active(&windows, at("2026-11-30T23:00:00Z")));
        assert!(active(&windows, at("2026-12-01T01:59:00Z")));
        assert!(!active(&windows, at("2026-12-01T02:00:00Z")));
        assert!(check(&json!({"weekday": 7, "start": "01:00", "end": "02:00"})).is_err());
        assert!(
            check(&json!({"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}))
                .is_err()
        );
        assert!(check(&windows[1]).is_ok());
    }
}
