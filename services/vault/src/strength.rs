//! A password strength score from 0 (very weak) to 4 (strong), from an entropy estimate:
//! length times the bits of the character classes used, discounted for repeats and for
//! sequences, and capped for passwords found in breaches (by the breach check, separately).

pub fn score(password: &str) -> i16 {
    let chars: Vec<char> = password.chars().collect();
    if chars.is_empty() {
        return 0;
    }
    let mut pool = 0u32;
    if chars.iter().any(char::is_ascii_lowercase) {
        pool += 26;
    }
    if chars.iter().any(char::is_ascii_uppercase) {
        pool += 26;
    }
    if chars.iter().any(char::is_ascii_digit) {
        pool += 10;
    }
    if chars.iter().any(|c| c.is_ascii_punctuation() || *c == ' ') {
        pool += 33;
    }
    if chars.iter().any(|c| !c.is_ascii()) {
        pool += 100;
    }
    // Characters equal to, or one step from, the previous one add little.
    let effective = chars
        .windows(2)
        .filter(|w| {
            let (a, b) = (w[0] as i64, w[1] as i64);
            (a - b).abs() > 1
        })
        .count()
        + 1;
    let bits = effective as f64 * f64::from(pool.max(1)).log2();
    match bits {
        b if b < 28.0 => 0,
        b if b < 36.0 => 1,
        b if b < 60.0 => 2,
        b if b < 80.0 => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::score;

    #[test]
    fn scores_rise_with_length_and_variety() {
        assert_eq!(score(""), 0);
        assert_eq!(score("aaaaaaaaaaaa"), 0);
        assert_eq!(score("12345678"), 0);
        assert!(score("password") <= 2);
        assert!(score("Tr0ub4dor&3") >= 3);
        assert_eq!(score("correct horse battery staple 42!"), 4);
    }
}
