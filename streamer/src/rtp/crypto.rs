//! Discord's transport encryption for RTP in the `_rtpsize` modes.
//!
//! A sealed packet is `[clear header][ciphertext][16-byte tag][4-byte nonce counter]`:
//! - the clear header — the fixed 12 bytes, any CSRCs and, when X is set, the 4-byte
//!   extension preamble (profile + length) — is the AEAD's associated data;
//! - the extension body, the payload and any padding are encrypted (as in SRTP, RFC 3711
//!   §3.1, but with the preamble left readable so a receiver can find the payload);
//! - the nonce is a 32-bit big-endian counter, incremented per packet, in the first 4 bytes
//!   of an otherwise zero nonce (12 bytes for AES-GCM, 24 for `XChaCha20`), and the same
//!   4 bytes are appended to the packet.
//!
//! Sources: Discord's voice docs ("Transport Encryption Modes"), songbird's
//! `driver/crypto.rs`, Discord-video-stream's `TransportEncryptor` and packetizers;
//! checked byte for byte against OpenSSL and libsodium by
//! `tests/vectors/transport_vectors.py`.
//!
//! One key is shared by every SSRC on a connection, so one [`TransportCipher`] (one
//! counter) must seal both the audio and the video of a connection: two counters would reuse
//! nonces under the same key.

use std::sync::{Arc, Mutex, PoisonError};

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::XChaCha20Poly1305;

use super::{RtpError, RtpHeader};

pub const TAG_LEN: usize = 16;
pub const NONCE_SUFFIX_LEN: usize = 4;
/// Bytes sealing adds to a packet.
pub const MAX_OVERHEAD: usize = TAG_LEN + NONCE_SUFFIX_LEN;
pub const KEY_LEN: usize = 32;

/// The encryption modes Discord still accepts (the others were discontinued 2024-11-18).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EncryptionMode {
    Aes256GcmRtpSize,
    XChaCha20Poly1305RtpSize,
}

impl EncryptionMode {
    /// In order of preference: AES-GCM is Discord's preferred mode and much faster with AES
    /// instructions; `XChaCha20` is offered by every server.
    pub const PREFERENCE: [Self; 2] = [Self::Aes256GcmRtpSize, Self::XChaCha20Poly1305RtpSize];

    pub fn name(self) -> &'static str {
        match self {
            Self::Aes256GcmRtpSize => "aead_aes256_gcm_rtpsize",
            Self::XChaCha20Poly1305RtpSize => "aead_xchacha20_poly1305_rtpsize",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::PREFERENCE.into_iter().find(|m| m.name() == name)
    }

    /// The mode to select from the voice server's Ready `modes`.
    pub fn negotiate<'a>(offered: impl IntoIterator<Item = &'a str> + Clone) -> Option<Self> {
        Self::PREFERENCE
            .into_iter()
            .find(|m| offered.clone().into_iter().any(|o| o == m.name()))
    }

    fn nonce_len(self) -> usize {
        match self {
            Self::Aes256GcmRtpSize => 12,
            Self::XChaCha20Poly1305RtpSize => 24,
        }
    }
}

impl std::fmt::Display for EncryptionMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("the secret key must be {KEY_LEN} bytes, got {0}")]
    KeyLength(usize),
    #[error(transparent)]
    Rtp(#[from] RtpError),
    #[error("sealed packet too short for its tag and nonce")]
    TooShort,
    #[error("packet failed authentication")]
    Authentication,
    #[error("the 32-bit nonce counter is used up; reconnect for a new key")]
    NoncesExhausted,
}

/// Turns a plain RTP packet into what goes on the wire.
pub trait Sealer {
    fn seal(&mut self, packet: &mut Vec<u8>) -> Result<(), CryptoError>;

    /// The same for an RTCP packet, whose clear part is its 8-byte header.
    fn seal_rtcp(&mut self, packet: &mut Vec<u8>) -> Result<(), CryptoError> {
        let _ = packet;
        Ok(())
    }
}

/// No encryption, for plain RTP to standard tools (`rtp-out`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Plain;

impl Sealer for Plain {
    fn seal(&mut self, _packet: &mut Vec<u8>) -> Result<(), CryptoError> {
        Ok(())
    }
}

enum Cipher {
    // Boxed: the expanded AES key schedule is large next to the ChaCha key.
    Aes(Box<Aes256Gcm>),
    XChaCha(Box<XChaCha20Poly1305>),
}

/// The transport cipher of one voice connection: its mode, key and nonce counter.
pub struct TransportCipher {
    mode: EncryptionMode,
    cipher: Cipher,
    /// The next nonce; above `u32::MAX` once every nonce has been used.
    next: u64,
}

impl std::fmt::Debug for TransportCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("TransportCipher")
            .field("mode", &self.mode)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl TransportCipher {
    /// From the Session Description's `mode` and `secret_key`; the counter starts at 0.
    pub fn new(mode: EncryptionMode, key: &[u8]) -> Result<Self, CryptoError> {
        let cipher = match mode {
            EncryptionMode::Aes256GcmRtpSize => Cipher::Aes(Box::new(
                Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError::KeyLength(key.len()))?,
            )),
            EncryptionMode::XChaCha20Poly1305RtpSize => Cipher::XChaCha(Box::new(
                XChaCha20Poly1305::new_from_slice(key)
                    .map_err(|_| CryptoError::KeyLength(key.len()))?,
            )),
        };
        Ok(Self {
            mode,
            cipher,
            next: 0,
        })
    }

    /// Starts the counter at `counter` instead of 0 (tests, known-answer vectors).
    #[must_use]
    pub fn starting_at(mut self, counter: u32) -> Self {
        self.next = u64::from(counter);
        self
    }

    pub fn mode(&self) -> EncryptionMode {
        self.mode
    }

    /// Encrypts `packet` (plain RTP) in place and appends the tag and nonce suffix.
    pub fn seal(&mut self, packet: &mut Vec<u8>) -> Result<(), CryptoError> {
        let clear = RtpHeader::parse(packet)?.clear_len;
        self.seal_after(packet, clear)
    }

    /// Seals an RTCP packet: its fixed 8-byte header (version, type, length, sender SSRC)
    /// stays clear as the AAD, the report is encrypted, and it takes the next nonce like any
    /// RTP packet of the connection.
    pub fn seal_rtcp(&mut self, packet: &mut Vec<u8>) -> Result<(), CryptoError> {
        if packet.len() < RTCP_HEADER_LEN {
            return Err(CryptoError::TooShort);
        }
        self.seal_after(packet, RTCP_HEADER_LEN)
    }

    fn seal_after(&mut self, packet: &mut Vec<u8>, clear: usize) -> Result<(), CryptoError> {
        let counter = u32::try_from(self.next).map_err(|_| CryptoError::NoncesExhausted)?;
        let suffix = counter.to_be_bytes();
        let mut nonce = [0u8; 24];
        nonce[..NONCE_SUFFIX_LEN].copy_from_slice(&suffix);
        let nonce = &nonce[..self.mode.nonce_len()];
        let (aad, body) = packet.split_at_mut(clear);
        let tag = match &self.cipher {
            Cipher::Aes(c) => c
                .encrypt_in_place_detached(nonce.into(), aad, body)
                .map(|t| t.to_vec()),
            Cipher::XChaCha(c) => c
                .encrypt_in_place_detached(nonce.into(), aad, body)
                .map(|t| t.to_vec()),
        }
        // Only a body over the AEAD's length limit (gigabytes) fails.
        .map_err(|_| CryptoError::TooShort)?;
        packet.extend_from_slice(&tag);
        packet.extend_from_slice(&suffix);
        self.next += 1;
        Ok(())
    }

    /// Authenticates and decrypts a sealed packet in place, leaving the plain RTP packet.
    /// The counter is taken from the packet; this side keeps none.
    pub fn open(&self, packet: &mut Vec<u8>) -> Result<(), CryptoError> {
        let clear = RtpHeader::parse(packet)?.clear_len;
        self.open_after(packet, clear)
    }

    /// The inverse of [`Self::seal_rtcp`], for what the voice server sends us (receiver
    /// reports, NACKs): the first 8 bytes authenticated in clear, the rest decrypted. A
    /// compound packet is sealed as one, behind its first packet's header.
    pub fn open_rtcp(&self, packet: &mut Vec<u8>) -> Result<(), CryptoError> {
        self.open_after(packet, RTCP_HEADER_LEN)
    }

    fn open_after(&self, packet: &mut Vec<u8>, clear: usize) -> Result<(), CryptoError> {
        if packet.len() < clear + MAX_OVERHEAD {
            return Err(CryptoError::TooShort);
        }
        let suffix_at = packet.len() - NONCE_SUFFIX_LEN;
        let tag_at = suffix_at - TAG_LEN;
        let mut nonce = [0u8; 24];
        nonce[..NONCE_SUFFIX_LEN].copy_from_slice(&packet[suffix_at..]);
        let nonce = &nonce[..self.mode.nonce_len()];
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&packet[tag_at..suffix_at]);
        packet.truncate(tag_at);
        let (aad, body) = packet.split_at_mut(clear);
        match &self.cipher {
            Cipher::Aes(c) => {
                c.decrypt_in_place_detached(nonce.into(), aad, body, tag.as_slice().into())
            }
            Cipher::XChaCha(c) => {
                c.decrypt_in_place_detached(nonce.into(), aad, body, tag.as_slice().into())
            }
        }
        .map_err(|_| CryptoError::Authentication)
    }
}

impl Sealer for TransportCipher {
    fn seal(&mut self, packet: &mut Vec<u8>) -> Result<(), CryptoError> {
        TransportCipher::seal(self, packet)
    }

    fn seal_rtcp(&mut self, packet: &mut Vec<u8>) -> Result<(), CryptoError> {
        TransportCipher::seal_rtcp(self, packet)
    }
}

/// One connection's cipher shared by the thread that sends media and the one that answers
/// NACKs: both must draw nonces from the same counter, since they seal under the same key.
#[derive(Debug, Clone)]
pub struct SharedCipher(Arc<Mutex<TransportCipher>>);

impl SharedCipher {
    pub fn new(cipher: TransportCipher) -> Self {
        Self(Arc::new(Mutex::new(cipher)))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TransportCipher> {
        // Sealing leaves the cipher consistent at every step; a panic elsewhere cannot
        // leave it half-updated.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Sealer for SharedCipher {
    fn seal(&mut self, packet: &mut Vec<u8>) -> Result<(), CryptoError> {
        self.lock().seal(packet)
    }

    fn seal_rtcp(&mut self, packet: &mut Vec<u8>) -> Result<(), CryptoError> {
        self.lock().seal_rtcp(packet)
    }
}

/// The clear part of an RTCP packet in the `_rtpsize` modes.
pub const RTCP_HEADER_LEN: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    fn packet(extension: bool) -> Vec<u8> {
        let mut p = vec![0x80, 0xE5, 0x12, 0x34, 0, 0, 0x0B, 0xB8, 0, 0, 0, 42];
        if extension {
            p[0] |= 0x10;
            p.extend_from_slice(&[0xBE, 0xDE, 0, 1, 0x52, 0, 0, 0]);
        }
        p.extend((0..300u16).map(|i| i as u8));
        p
    }

    #[test]
    fn modes_are_named_and_negotiated_by_preference() {
        for mode in EncryptionMode::PREFERENCE {
            assert_eq!(EncryptionMode::from_name(mode.name()), Some(mode));
        }
        assert_eq!(EncryptionMode::from_name("xsalsa20_poly1305"), None);
        let offered = [
            "aead_xchacha20_poly1305_rtpsize",
            "xsalsa20_poly1305_lite",
            "aead_aes256_gcm_rtpsize",
        ];
        assert_eq!(
            EncryptionMode::negotiate(offered),
            Some(EncryptionMode::Aes256GcmRtpSize)
        );
        assert_eq!(
            EncryptionMode::negotiate(offered[..2].iter().copied()),
            Some(EncryptionMode::XChaCha20Poly1305RtpSize)
        );
        assert_eq!(EncryptionMode::negotiate(["xsalsa20_poly1305"]), None);
    }

    #[test]
    fn seal_then_open_gives_back_the_packet_in_both_modes() {
        for mode in EncryptionMode::PREFERENCE {
            for extension in [false, true] {
                let plain = packet(extension);
                let clear = RtpHeader::parse(&plain).unwrap().clear_len;
                let mut sealer = TransportCipher::new(mode, &KEY).unwrap();
                let mut first = plain.clone();
                sealer.seal(&mut first).unwrap();
                assert_eq!(first.len(), plain.len() + MAX_OVERHEAD);
                assert_eq!(first[..clear], plain[..clear], "{mode}: header in clear");
                assert_ne!(
                    first[clear..plain.len()],
                    plain[clear..],
                    "{mode}: body hidden"
                );
                assert_eq!(first[first.len() - 4..], [0, 0, 0, 0]);
                let mut second = plain.clone();
                sealer.seal(&mut second).unwrap();
                assert_eq!(second[second.len() - 4..], [0, 0, 0, 1], "counter advances");
                assert_ne!(first, second, "{mode}: a new nonce, a new ciphertext");
                let opener = TransportCipher::new(mode, &KEY).unwrap();
                for mut sealed in [first, second] {
                    opener.open(&mut sealed).unwrap();
                    assert_eq!(sealed, plain, "{mode}");
                }
            }
        }
    }

    #[test]
    fn any_changed_bit_fails_authentication() {
        for mode in EncryptionMode::PREFERENCE {
            let mut sealed = packet(true);
            TransportCipher::new(mode, &KEY)
                .unwrap()
                .seal(&mut sealed)
                .unwrap();
            let opener = TransportCipher::new(mode, &KEY).unwrap();
            // Every byte matters: the header as associated data, the rest as ciphertext, tag
            // or nonce. (Bits that change the header's shape fail earlier, as parse errors.)
            for i in 0..sealed.len() {
                let mut bad = sealed.clone();
                bad[i] ^= 0x01;
                let result = opener.open(&mut bad);
                assert!(result.is_err(), "{mode}: flipped byte {i} was accepted");
                if i != 0 && !(14..16).contains(&i) {
                    assert_eq!(result, Err(CryptoError::Authentication), "{mode}: byte {i}");
                }
            }
            let wrong = TransportCipher::new(mode, &[8; 32]).unwrap();
            assert_eq!(
                wrong.open(&mut sealed.clone()),
                Err(CryptoError::Authentication)
            );
            assert_eq!(
                opener.open(&mut sealed[..30].to_vec()),
                Err(CryptoError::TooShort)
            );
        }
    }

    #[test]
    fn rtcp_opens_with_its_header_as_associated_data() {
        for mode in EncryptionMode::PREFERENCE {
            // A receiver report header and a generic NACK behind it, as one compound packet.
            let plain = vec![
                0x80, 201, 0, 1, 0, 0, 0, 9, 0x81, 205, 0, 3, 0, 0, 0, 9, 0, 0, 0x0F, 0xA1, 0x12,
                0x34, 0x00, 0x05,
            ];
            let mut sealed = plain.clone();
            TransportCipher::new(mode, &KEY)
                .unwrap()
                .starting_at(77)
                .seal_rtcp(&mut sealed)
                .unwrap();
            assert_eq!(sealed[..8], plain[..8], "{mode}: header in clear");
            assert_eq!(sealed[sealed.len() - 4..], [0, 0, 0, 77]);
            let opener = TransportCipher::new(mode, &KEY).unwrap();
            let mut round_trip = sealed.clone();
            opener.open_rtcp(&mut round_trip).unwrap();
            assert_eq!(round_trip, plain, "{mode}");
            for i in [1, 7, 8, sealed.len() - 5, sealed.len() - 1] {
                let mut bad = sealed.clone();
                bad[i] ^= 0x40;
                assert_eq!(
                    opener.open_rtcp(&mut bad),
                    Err(CryptoError::Authentication),
                    "{mode}: byte {i}"
                );
            }
            assert_eq!(
                opener.open_rtcp(&mut sealed[..27].to_vec()),
                Err(CryptoError::TooShort)
            );
        }
    }

    #[test]
    fn the_counter_never_wraps_to_a_used_nonce() {
        let mut sealer = TransportCipher::new(EncryptionMode::Aes256GcmRtpSize, &KEY)
            .unwrap()
            .starting_at(u32::MAX);
        let mut p = packet(false);
        sealer.seal(&mut p).unwrap();
        assert_eq!(p[p.len() - 4..], [0xFF; 4]);
        let mut p = packet(false);
        assert_eq!(sealer.seal(&mut p), Err(CryptoError::NoncesExhausted));
        assert_eq!(p, packet(false), "a refused packet is left alone");
    }

    #[test]
    fn bad_keys_and_packets_are_errors() {
        assert_eq!(
            TransportCipher::new(EncryptionMode::XChaCha20Poly1305RtpSize, &[0; 16]).err(),
            Some(CryptoError::KeyLength(16))
        );
        let mut sealer = TransportCipher::new(EncryptionMode::Aes256GcmRtpSize, &KEY).unwrap();
        assert_eq!(
            sealer.seal(&mut vec![0x80; 5]),
            Err(CryptoError::Rtp(RtpError::TooShort(5)))
        );
        let debug = format!("{sealer:?}");
        assert!(!debug.contains("7, 7"), "{debug}");
    }
}
