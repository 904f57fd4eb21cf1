//! The retry schedule, `CLIENTSTOR_WEBHOOKS__RETRY_SCHEDULE` (`0,5s,5m,30m,2h,5h,10h,10h`): the
//! delay before each attempt; after the last one fails the delivery is exhausted.

use std::time::Duration;

pub fn parse(text: &str) -> Result<Vec<Duration>, String> {
    text.split(',')
        .map(|item| {
            let item = item.trim();
            let (number, unit) = item.split_at(
                item.find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(item.len()),
            );
            let value: u64 = number
                .parse()
                .map_err(|_| format!("bad retry delay '{item}'"))?;
            let seconds = match unit {
                "" | "s" => value,
                "m" => value * 60,
                "h" => value * 3600,
                "d" => value * 86_400,
                _ => return Err(format!("bad retry delay unit in '{item}'")),
            };
            Ok(Duration::from_secs(seconds))
        })
        .collect()
}

/// The delay before the next attempt after `attempts_made` attempts, or `None` when exhausted.
pub fn next_delay(schedule: &[Duration], attempts_made: usize) -> Option<Duration> {
    schedule.get(attempts_made).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_default_schedule() {
        let s = parse("0,5s,5m,30m,2h,5h,10h,10h").unwrap();
        assert_eq!(s.len(), 8);
        assert_eq!(s[2], Duration::from_secs(300));
        assert_eq!(next_delay(&s, 1), Some(Duration::from_secs(5)));
        assert_eq!(next_delay(&s, 8), None);
        assert!(parse("5x").is_err());
        assert!(parse("").is_err());
    }
}
