//! What one check result does to a monitor's state, as a pure function.
//!
//! The rule against alert storms: a monitor is confirmed `down` after `failure_threshold`
//! consecutive failures and `up` again after `success_threshold` consecutive successes; between
//! those it keeps its confirmed state. An event fires only when the confirmed state differs
//! from the last one announced, and never while paused or in a maintenance window: a monitor
//! still down when its window ends is announced at its next check. A monitor flapping faster
//! than its thresholds therefore sends nothing.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub status: String,
    pub announced_status: String,
    pub consecutive_failures: i32,
    pub consecutive_successes: i32,
    pub down_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    WentDown,
    CameUp { down_since: Option<DateTime<Utc>> },
}

pub struct Thresholds {
    pub failure: i32,
    pub success: i32,
}

/// The state after a check that succeeded (`ok`) at `at`, and the event to send, if any.
pub fn apply(
    state: &State,
    ok: bool,
    at: DateTime<Utc>,
    thresholds: &Thresholds,
    in_maintenance: bool,
) -> (State, Option<Transition>) {
    let mut next = state.clone();
    if ok {
        next.consecutive_successes = state.consecutive_successes.saturating_add(1);
        next.consecutive_failures = 0;
    } else {
        next.consecutive_failures = state.consecutive_failures.saturating_add(1);
        next.consecutive_successes = 0;
    }
    // The confirmed state before this check: down while down_since is set, pending until the
    // first decision, up otherwise (a maintenance or paused display hides nothing here).
    let previous = if state.down_since.is_some() {
        "down"
    } else if state.status == "pending" {
        "pending"
    } else {
        "up"
    };
    let confirmed = if next.consecutive_failures >= thresholds.failure.max(1) {
        "down"
    } else if ok && (previous != "down" || next.consecutive_successes >= thresholds.success.max(1))
    {
        "up"
    } else {
        previous
    };
    match confirmed {
        "down" if next.down_since.is_none() => next.down_since = Some(at),
        "up" => next.down_since = None,
        _ => {}
    }
    let mut transition = None;
    if !in_maintenance {
        if confirmed == "down" && state.announced_status != "down" {
            next.announced_status = "down".into();
            transition = Some(Transition::WentDown);
        } else if confirmed == "up" && state.announced_status == "down" {
            next.announced_status = "up".into();
            transition = Some(Transition::CameUp {
                down_since: state.down_since,
            });
        }
    }
    next.status = if in_maintenance {
        "maintenance".into()
    } else {
        confirmed.to_string()
    };
    (next, transition)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> State {
        State {
            status: "pending".into(),
            announced_status: "up".into(),
            consecutive_failures: 0,
            consecutive_successes: 0,
            down_since: None,
        }
    }

    fn run(results: &[bool], maintenance: &[bool]) -> (State, Vec<Transition>) {
        let thresholds = Thresholds {
            failure: 3,
            success: 2,
        };
        let mut state = fresh();
        let mut events = Vec::new();
        for (i, ok) in results.iter().enumerate() {
            let at = DateTime::from_timestamp(i as i64 * 60, 0).unwrap();
            let (next, event) = apply(
                &state,
                *ok,
                at,
                &thresholds,
                maintenance.get(i).copied().unwrap_or(false),
            );
            state = next;
            events.extend(event);
        }
        (state, events)
    }

    #[test]
    fn down_after_three_failures_up_after_two_successes_once_each() {
        let (state, events) = run(&[true, false, false, false, false, true, true, true], &[]);
        assert_eq!(state.status, "up");
        assert_eq!(events.len(), 2);
        assert_eq!(events[0], Transition::WentDown);
        assert_eq!(
            events[1],
            Transition::CameUp {
                down_since: DateTime::from_timestamp(180, 0)
            }
        );
    }

    #[test]
    fn first_success_is_up_without_an_event_and_flapping_sends_nothing() {
        let (state, events) = run(&[true], &[]);
        assert_eq!(state.status, "up");
        assert!(events.is_empty());
        let (_, events) = run(&[true, false, true, false, false, true, false, true], &[]);
        assert!(events.is_empty(), "{events:?}");
    }

    #[test]
    fn maintenance_hides_events_until_it_ends() {
        let (state, events) = run(
            &[true, false, false, false, false],
            &[false, true, true, true, false],
        );
        assert_eq!(state.status, "down");
        assert_eq!(events, [Transition::WentDown], "announced after the window");
        let (state, events) = run(&[true, false, false, false], &[false, true, true, true]);
        assert_eq!(state.status, "maintenance");
        assert!(events.is_empty());
    }

    #[test]
    fn a_pending_monitor_that_fails_goes_down_at_the_threshold() {
        let (state, events) = run(&[false, false], &[]);
        assert_eq!(state.status, "pending");
        assert!(events.is_empty());
        let (state, events) = run(&[false, false, false], &[]);
        assert_eq!(state.status, "down");
        assert_eq!(events, [Transition::WentDown]);
    }
}
