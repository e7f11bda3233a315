//! What can go wrong, worded for the member who pasted the link.

use std::time::Duration;

/// Every failure of [`crate::Spotify::resolve`]. `Display` is a sentence the bot can show a
/// Discord member as it is; none of them carries the client secret or an access token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpotifyError {
    /// Checked before any request, so an unconfigured bot never calls Spotify.
    #[error(
        "Spotify links need the bot owner to set spotify.client_id and spotify.client_secret (a free app at developer.spotify.com)."
    )]
    NoCredentials,
    /// The accounts service turned the id and secret down.
    #[error(
        "Spotify turned down the bot's spotify.client_id and spotify.client_secret: the bot owner should check them at developer.spotify.com."
    )]
    InvalidCredentials,
    /// Spotify asked for a longer wait than the client may spend (or kept asking).
    #[error("Spotify is rate-limiting the bot: try again in {} s.", whole_seconds(.0))]
    RateLimited(Duration),
    #[error("Spotify refused to share that (a private playlist, or one this app may not read).")]
    Forbidden,
    #[error("Spotify has nothing at that link.")]
    NotFound,
    /// Anything else, already a whole sentence.
    #[error("{0}")]
    Other(String),
}

/// Rounded up: "try again in 0 s" would invite an immediate retry that fails again.
fn whole_seconds(d: &Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_is_shown_in_whole_seconds_rounded_up() {
        assert_eq!(
            SpotifyError::RateLimited(Duration::from_mins(2)).to_string(),
            "Spotify is rate-limiting the bot: try again in 120 s."
        );
        assert_eq!(
            SpotifyError::RateLimited(Duration::from_millis(1500)).to_string(),
            "Spotify is rate-limiting the bot: try again in 2 s."
        );
    }
}
