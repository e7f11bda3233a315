//! Positions members type: `1:23`, `1:02:03`, `90`, `+30s`, `-10s`, `1m30s`.

use std::time::Duration;

const BAD: &str = "That isn't a position: use 1:23, 90 (seconds), or +30s / -10s from here.";

/// A span: `1:23`, `1:02:03`, `90`, or humantime (`30s`, `1m30s`); at most a day.
fn span(input: &str) -> Result<Duration, String> {
    let input = input.trim();
    if input.is_empty() || input.len() > 20 {
        return Err(BAD.to_owned());
    }
    let d = if input.chars().all(|c| c.is_ascii_digit() || c == ':') {
        let parts: Vec<&str> = input.split(':').collect();
        if parts.len() > 3 || parts.iter().any(|p| p.is_empty() || p.len() > 6) {
            return Err(BAD.to_owned());
        }
        let mut seconds: u64 = 0;
        for part in parts {
            let n: u64 = part.parse().map_err(|_| BAD.to_owned())?;
            seconds = seconds.saturating_mul(60).saturating_add(n);
        }
        Duration::from_secs(seconds)
    } else {
        humantime::parse_duration(input).map_err(|_| BAD.to_owned())?
    };
    if d > Duration::from_hours(24) {
        return Err(BAD.to_owned());
    }
    Ok(d)
}

/// Where `/seek INPUT` goes from `now`; a jump back past the start goes to the start.
pub fn seek_target(input: &str, now: Duration) -> Result<Duration, String> {
    let input = input.trim();
    if let Some(rest) = input.strip_prefix('+') {
        Ok(now.saturating_add(span(rest)?))
    } else if let Some(rest) = input.strip_prefix('-') {
        Ok(now.saturating_sub(span(rest)?))
    } else {
        span(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        let now = Duration::from_secs(100);
        let s = Duration::from_secs;
        assert_eq!(seek_target("1:23", now), Ok(s(83)));
        assert_eq!(seek_target("1:02:03", now), Ok(s(3723)));
        assert_eq!(seek_target("90", now), Ok(s(90)));
        assert_eq!(seek_target("+30s", now), Ok(s(130)));
        assert_eq!(seek_target("-10s", now), Ok(s(90)));
        assert_eq!(seek_target("-10m", now), Ok(s(0)));
        assert_eq!(seek_target("1m30s", now), Ok(s(90)));
        for bad in [
            "",
            "abc",
            "1::2",
            "+",
            "99999999999999999999999",
            "48h",
            "1:2:3:4",
        ] {
            assert!(seek_target(bad, now).is_err(), "{bad}");
        }
    }
}
