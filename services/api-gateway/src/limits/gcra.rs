//! GCRA (generic cell rate algorithm): a token bucket kept as one number per bucket, the
//! theoretical arrival time (TAT). Capacity `burst`, refilled at `per_minute / 60` per second.

/// A bucket's quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub per_minute: u32,
    pub burst: u32,
}

impl Quota {
    /// Milliseconds between two requests at the sustained rate.
    pub fn interval_ms(&self) -> f64 {
        60_000.0 / f64::from(self.per_minute.max(1))
    }

    /// How far ahead of now the TAT may run: the whole bucket.
    pub fn tolerance_ms(&self) -> f64 {
        self.interval_ms() * f64::from(self.burst.max(1))
    }
}

/// What one bucket says about one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    pub allowed: bool,
    /// Requests that could still be made right now.
    pub remaining: u32,
    /// Milliseconds until the bucket is full again.
    pub reset_ms: f64,
    /// Milliseconds until a request would be allowed (0 when allowed).
    pub retry_after_ms: f64,
}

/// Decides one request at `now_ms` against a stored TAT; returns the verdict and the TAT to
/// store if the request is admitted.
pub fn decide(stored_tat: Option<f64>, now_ms: f64, quota: Quota) -> (Verdict, Option<f64>) {
    let interval = quota.interval_ms();
    let tolerance = quota.tolerance_ms();
    let tat = stored_tat.unwrap_or(now_ms).max(now_ms);
    let new_tat = tat + interval;
    if new_tat - now_ms > tolerance + 1e-6 {
        let verdict = Verdict {
            allowed: false,
            remaining: 0,
            reset_ms: tat - now_ms,
            retry_after_ms: new_tat - now_ms - tolerance,
        };
        return (verdict, None);
    }
    let remaining = ((tolerance - (new_tat - now_ms)) / interval + 1e-6)
        .floor()
        .max(0.0) as u32;
    let verdict = Verdict {
        allowed: true,
        remaining,
        reset_ms: new_tat - now_ms,
        retry_after_ms: 0.0,
    };
    (verdict, Some(new_tat))
}

/// Whether a request would be admitted, without taking a token.
pub fn would_allow(stored_tat: Option<f64>, now_ms: f64, quota: Quota) -> bool {
    decide(stored_tat, now_ms, quota).0.allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_the_burst_then_the_sustained_rate() {
        let quota = Quota {
            per_minute: 60,
            burst: 3,
        };
        let mut tat = None;
        for expected_remaining in [2, 1, 0] {
            let (verdict, new_tat) = decide(tat, 0.0, quota);
            assert!(verdict.allowed);
            assert_eq!(verdict.remaining, expected_remaining);
            tat = new_tat;
        }
        let (denied, none) = decide(tat, 0.0, quota);
        assert!(!denied.allowed && none.is_none());
        assert!((denied.retry_after_ms - 1000.0).abs() < 1e-6, "{denied:?}");
        assert!((denied.reset_ms - 3000.0).abs() < 1e-6);
        // One interval later, one more request fits.
        assert!(decide(tat, 1000.0, quota).0.allowed);
        assert!(!decide(tat, 999.0, quota).0.allowed);
        // A full bucket after three intervals.
        assert_eq!(decide(tat, 3000.0, quota).0.remaining, 2);
    }
}
