//! A string that never shows itself in `Debug`, logs or error messages: the bot's token and
//! the shared IPC secret on both sides of the link use this one type.

use std::fmt;

use serde::Deserialize;

/// A secret value from a config file. Its `Debug` output is redacted.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself; call only where it is handed to the service that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Empty or only white space: as good as unset.
    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }

    /// Compares in time that depends only on the lengths, so a local attacker timing handshakes
    /// cannot learn the secret a byte at a time. The length itself is not treated as secret.
    pub fn matches(&self, candidate: &str) -> bool {
        constant_time_eq(self.0.as_bytes(), candidate.as_bytes())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    // OR-accumulate differences instead of returning at the first mismatch; `black_box` stops
    // the optimiser from turning the loop back into an early exit.
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_the_exact_secret() {
        let s = Secret::new("hunter2");
        assert!(s.matches("hunter2"));
        assert!(!s.matches("hunter3"));
        assert!(!s.matches("hunter"));
        assert!(!s.matches(""));
    }

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("MTIz.abc.def");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert_eq!(format!("{:?}", Some(&s)), "Some(Secret([redacted]))");
    }

    #[test]
    fn white_space_alone_is_empty() {
        assert!(Secret::new(" \n").is_empty());
        assert!(!Secret::new(" x ").is_empty());
    }
}
