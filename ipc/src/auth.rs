//! The handshake's mutual proof of the shared secret. Neither side ever sends the secret: a
//! program that got to the socket or pipe first (or a bot that shouldn't be talking to this
//! streamer) learns nothing it could replay.
//!
//! 1. The bot sends a fresh nonce in its [`crate::to_streamer::Hello`].
//! 2. The streamer answers [`crate::to_bot::ToBot::Challenge`]: its own fresh nonce and its
//!    proof, HMAC-SHA256(secret, "streamer" ‖ bot nonce ‖ streamer nonce).
//! 3. The bot checks that proof before it proves anything itself, then sends
//!    [`crate::to_streamer::Auth`] with HMAC-SHA256(secret, "bot" ‖ bot nonce ‖ streamer
//!    nonce).
//!
//! The role labels keep one side's proof from being reflected back as the other's; fresh nonces
//! from both sides keep an old proof from being replayed. Proofs are compared in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::Secret;

/// Random bytes per nonce; sent as twice as many lowercase hex digits.
pub const NONCE_BYTES: usize = 32;

#[derive(Clone, Copy, Debug)]
pub(crate) enum Role {
    Streamer,
    Bot,
}

impl Role {
    fn label(self) -> &'static [u8] {
        match self {
            Role::Streamer => b"lounge-ipc streamer\0",
            Role::Bot => b"lounge-ipc bot\0",
        }
    }
}

/// A fresh nonce, hex-encoded.
pub(crate) fn nonce() -> String {
    hex(&rand::random::<[u8; NONCE_BYTES]>())
}

/// A nonce as sent: exactly [`NONCE_BYTES`] bytes of hex. Anything else is refused before any
/// proof is computed over it.
pub(crate) fn parse_nonce(s: &str) -> Option<[u8; NONCE_BYTES]> {
    let mut out = [0u8; NONCE_BYTES];
    if s.len() != NONCE_BYTES * 2 {
        return None;
    }
    for (i, pair) in s.as_bytes().chunks(2).enumerate() {
        let pair = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

fn mac(
    secret: &Secret,
    role: Role,
    bot: &[u8; NONCE_BYTES],
    streamer: &[u8; NONCE_BYTES],
) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC accepts any key length");
    mac.update(role.label());
    mac.update(bot);
    mac.update(streamer);
    mac
}

/// `role`'s proof for this pair of nonces, hex-encoded.
pub(crate) fn proof(
    secret: &Secret,
    role: Role,
    bot: &[u8; NONCE_BYTES],
    streamer: &[u8; NONCE_BYTES],
) -> String {
    hex(&mac(secret, role, bot, streamer).finalize().into_bytes())
}

/// Whether `claimed` is `role`'s proof for these nonces, in constant time.
pub(crate) fn verify(
    secret: &Secret,
    role: Role,
    bot: &[u8; NONCE_BYTES],
    streamer: &[u8; NONCE_BYTES],
    claimed: &str,
) -> bool {
    let Some(claimed) = parse_hex(claimed) else {
        return false;
    };
    mac(secret, role, bot, streamer)
        .verify_slice(&claimed)
        .is_ok()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn parse_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 128 {
        return None;
    }
    s.as_bytes()
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nonces() -> ([u8; NONCE_BYTES], [u8; NONCE_BYTES]) {
        (
            parse_nonce(&nonce()).unwrap(),
            parse_nonce(&nonce()).unwrap(),
        )
    }

    #[test]
    fn a_proof_verifies_only_for_its_secret_role_and_nonces() {
        let secret = Secret::new("correct horse");
        let (bot, streamer) = nonces();
        let p = proof(&secret, Role::Bot, &bot, &streamer);
        assert_eq!(p.len(), 64);
        assert!(!p.contains("correct"));
        assert!(verify(&secret, Role::Bot, &bot, &streamer, &p));
        assert!(!verify(
            &Secret::new("correct horsf"),
            Role::Bot,
            &bot,
            &streamer,
            &p
        ));
        // A streamer's proof can't be reflected as the bot's, nor replayed on new nonces.
        assert!(!verify(&secret, Role::Streamer, &bot, &streamer, &p));
        let (bot2, streamer2) = nonces();
        assert!(!verify(&secret, Role::Bot, &bot2, &streamer, &p));
        assert!(!verify(&secret, Role::Bot, &bot, &streamer2, &p));
        assert!(!verify(&secret, Role::Bot, &bot, &streamer, &p[..62]));
        assert!(!verify(&secret, Role::Bot, &bot, &streamer, "zz"));
    }

    #[test]
    fn nonces_are_fresh_and_strictly_shaped() {
        assert_ne!(nonce(), nonce());
        assert!(parse_nonce(&nonce()).is_some());
        assert!(parse_nonce("").is_none());
        assert!(parse_nonce(&"0".repeat(63)).is_none());
        assert!(parse_nonce(&"g".repeat(64)).is_none());
        assert!(parse_nonce(&"é".repeat(32)).is_none());
    }
}
