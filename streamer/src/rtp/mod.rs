//! Media transport for Go Live: RTP packetization (H.264 per RFC 6184, Opus per RFC 7587),
//! Discord's `_rtpsize` transport encryption, pacing by media time, and a UDP sender.
//!
//! Everything here is pure (no FFmpeg, no tokio) except [`send`], which glues the pipeline's
//! packets to the rest. The pieces are layered so the voice gateway can plug in later: it
//! chooses the SSRCs and payload types (Ready / Select Protocol), builds a
//! [`crypto::TransportCipher`] from the Session Description's mode and key, and hands both to a
//! [`send::MediaSender`] with a UDP [`send::Transport`].
//!
//! RTP timestamps come from media time ([`MediaTime`]), never the wall clock: after a pause the
//! stream resumes where it left off, and a slow machine shows as late packets, not as a
//! stretched timeline.

pub mod crypto;
pub mod h264;
pub mod opus;
pub mod pacer;
pub mod rtx;
pub mod send;

use std::time::Duration;

pub const VERSION: u8 = 2;
/// The fixed RTP header, without CSRCs or extension.
pub const HEADER_LEN: usize = 12;
pub const VIDEO_CLOCK_RATE: u32 = 90_000;
pub const AUDIO_CLOCK_RATE: u32 = 48_000;
/// Payload bytes per packet. 1200 is what the anchor implementation (Discord-video-stream)
/// uses: with headers, extension and the 20-byte AEAD suffix it stays far below a 1500-byte
/// Ethernet MTU even through tunnels.
pub const DEFAULT_MAX_PAYLOAD: usize = 1200;
/// The RFC 8285 one-byte header extension profile.
pub const ONE_BYTE_PROFILE: u16 = 0xBEDE;

/// A timestamp as a rational number of seconds, `ticks × num / den`, so converting a 1/30 s
/// frame clock to 90 kHz is exact (a `Duration` would round 1/30 s down to 33,333,333 ns and
/// drift by one tick every few frames).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaTime {
    pub ticks: i64,
    pub num: u32,
    pub den: u32,
}

impl MediaTime {
    pub const fn new(ticks: i64, num: u32, den: u32) -> Self {
        Self { ticks, num, den }
    }

    /// This time in ticks of a `rate` Hz clock, rounded to the nearest tick.
    pub fn to_clock(self, rate: u32) -> i64 {
        if self.den == 0 {
            return 0;
        }
        let n = i128::from(self.ticks) * i128::from(self.num) * i128::from(rate);
        let d = i128::from(self.den);
        let rounded = if n >= 0 {
            (n + d / 2) / d
        } else {
            (n - d / 2) / d
        };
        i64::try_from(rounded).unwrap_or(if n >= 0 { i64::MAX } else { i64::MIN })
    }

    /// This time as a duration since zero; negative times are zero.
    pub fn as_duration(self) -> Duration {
        let nanos = self.to_clock(1_000_000_000);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(0))
    }
}

/// RTCP packet type of a sender report (RFC 3550 §6.4.1).
pub const RTCP_SENDER_REPORT: u8 = 200;
/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// An RTCP sender report with no reception blocks (RFC 3550 §6.4.1): it ties the stream's RTP
/// timestamp `rtp_timestamp` to the wall-clock time `wall`, which is what a receiver needs
/// to play audio and video of one sender in sync, with the sender's packet and payload octet
/// counts (both wrap at 2^32, as the RFC says).
pub fn sender_report(
    ssrc: u32,
    wall: std::time::SystemTime,
    rtp_timestamp: u32,
    packets: u64,
    octets: u64,
) -> Vec<u8> {
    let since_unix = wall
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    // NTP seconds wrap in 2036; the wire format keeps the low 32 bits.
    let seconds = (since_unix.as_secs() + NTP_UNIX_OFFSET) as u32;
    let fraction = ((u64::from(since_unix.subsec_nanos()) << 32) / 1_000_000_000) as u32;
    let mut p = Vec::with_capacity(28);
    // Version 2, no padding, no reception report blocks; length 6 = 28 bytes / 4 - 1.
    p.extend_from_slice(&[VERSION << 6, RTCP_SENDER_REPORT, 0, 6]);
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(&seconds.to_be_bytes());
    p.extend_from_slice(&fraction.to_be_bytes());
    p.extend_from_slice(&rtp_timestamp.to_be_bytes());
    p.extend_from_slice(&(packets as u32).to_be_bytes());
    p.extend_from_slice(&(octets as u32).to_be_bytes());
    p
}

/// What a packetizer needs to know about its RTP stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamConfig {
    pub ssrc: u32,
    pub payload_type: u8,
    /// Sequence number of the first packet.
    pub first_sequence: u16,
    /// Added to every RTP timestamp (RFC 3550 asks for a random start).
    pub timestamp_offset: u32,
    /// A header extension written on every packet of this stream.
    pub extension: Option<HeaderExtension>,
}

impl StreamConfig {
    /// Starts at sequence 0 and timestamp 0, no extension: deterministic, for tests.
    pub fn new(ssrc: u32, payload_type: u8) -> Self {
        assert!(payload_type < 128, "RTP payload types are 7 bits");
        Self {
            ssrc,
            payload_type,
            first_sequence: 0,
            timestamp_offset: 0,
            extension: None,
        }
    }

    /// Random first sequence number and timestamp offset, as RFC 3550 §5.1 recommends, so
    /// a stream restarted on the same SSRC cannot be mistaken for the old one.
    #[must_use]
    pub fn random_start(mut self) -> Self {
        self.first_sequence = rand::random();
        self.timestamp_offset = rand::random();
        self
    }

    #[must_use]
    pub fn with_extension(mut self, extension: HeaderExtension) -> Self {
        self.extension = Some(extension);
        self
    }
}

/// An RFC 8285 one-byte-form header extension (profile 0xBEDE): elements of 1–16 bytes with
/// ids 1–14, padded to a 32-bit boundary.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HeaderExtension {
    elements: Vec<(u8, Vec<u8>)>,
}

impl HeaderExtension {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an element. Panics on an id outside 1–14 or a length outside 1–16 bytes: those
    /// cannot be written in the one-byte form, and ids come from code, not from input.
    #[must_use]
    pub fn with(mut self, id: u8, data: &[u8]) -> Self {
        assert!((1..=14).contains(&id), "one-byte extension ids are 1-14");
        assert!(
            (1..=16).contains(&data.len()),
            "one-byte extension elements carry 1-16 bytes"
        );
        self.elements.push((id, data.to_vec()));
        self
    }

    /// WebRTC's playout-delay extension: minimum and maximum delay in units of 10 ms,
    /// 12 bits each. Discord clients put it on every video packet; 0/0 asks receivers to
    /// render at once.
    ///
    /// Discord-video-stream 4 wrote this element with a 2-byte length (`51 00 00`); the
    /// WebRTC definition is 3 bytes (`52 00 00 00`), which is what this writes. Both fill one
    /// word. Which id Discord's native UDP path expects (5 as that library used, or 6 as the
    /// unofficial docs list) is unverified, hence the parameter.
    pub fn playout_delay(id: u8, min: u16, max: u16) -> Self {
        let (min, max) = (min.min(0xFFF), max.min(0xFFF));
        let bytes = [
            (min >> 4) as u8,
            ((min & 0xF) << 4) as u8 | (max >> 8) as u8,
            max as u8,
        ];
        Self::new().with(id, &bytes)
    }

    /// The 4-byte preamble (profile, length in words) followed by the padded elements.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::new();
        for (id, data) in &self.elements {
            body.push(id << 4 | (data.len() as u8 - 1));
            body.extend_from_slice(data);
        }
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
        let words = (body.len() / 4) as u16;
        let mut out = Vec::with_capacity(4 + body.len());
        out.extend_from_slice(&ONE_BYTE_PROFILE.to_be_bytes());
        out.extend_from_slice(&words.to_be_bytes());
        out.extend_from_slice(&body);
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtpError {
    #[error("RTP packet too short ({0} bytes)")]
    TooShort(usize),
    #[error("not RTP version 2 (version {0})")]
    Version(u8),
    #[error("RTP header extension runs past the end of the packet")]
    Extension,
}

/// A parsed RTP header (RFC 3550 §5.1), borrowed from nothing so tests and the fake voice
/// server can inspect packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    pub padding: bool,
    pub extension: bool,
    pub csrc_count: u8,
    pub marker: bool,
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    /// Bytes that `_rtpsize` modes leave in clear: the fixed header, CSRCs and, when present,
    /// the 4-byte extension preamble.
    pub clear_len: usize,
    /// Where the payload starts: after the extension body, if any.
    pub payload_offset: usize,
}

impl RtpHeader {
    /// Parses the header. `packet` may have an encrypted extension body: only the preamble's
    /// length field is read, never the body.
    pub fn parse(packet: &[u8]) -> Result<Self, RtpError> {
        if packet.len() < HEADER_LEN {
            return Err(RtpError::TooShort(packet.len()));
        }
        let version = packet[0] >> 6;
        if version != VERSION {
            return Err(RtpError::Version(version));
        }
        let extension = packet[0] & 0x10 != 0;
        let csrc_count = packet[0] & 0x0F;
        let mut clear_len = HEADER_LEN + 4 * usize::from(csrc_count);
        let mut payload_offset = clear_len;
        if extension {
            let preamble = packet
                .get(clear_len..clear_len + 4)
                .ok_or(RtpError::Extension)?;
            let words = usize::from(u16::from_be_bytes([preamble[2], preamble[3]]));
            clear_len += 4;
            payload_offset = clear_len + 4 * words;
        }
        if payload_offset > packet.len() {
            return Err(if extension {
                RtpError::Extension
            } else {
                RtpError::TooShort(packet.len())
            });
        }
        Ok(Self {
            padding: packet[0] & 0x20 != 0,
            extension,
            csrc_count,
            marker: packet[1] & 0x80 != 0,
            payload_type: packet[1] & 0x7F,
            sequence: u16::from_be_bytes([packet[2], packet[3]]),
            timestamp: u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]),
            ssrc: u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]),
            clear_len,
            payload_offset,
        })
    }
}

/// Header state of one outgoing stream: sequence numbers, timestamp base, extension bytes.
#[derive(Debug, Clone)]
struct Stream {
    config: StreamConfig,
    clock_rate: u32,
    next_sequence: u16,
    extension: Vec<u8>,
}

impl Stream {
    fn new(config: StreamConfig, clock_rate: u32) -> Self {
        let extension = config
            .extension
            .as_ref()
            .map(HeaderExtension::encode)
            .unwrap_or_default();
        Self {
            next_sequence: config.first_sequence,
            config,
            clock_rate,
            extension,
        }
    }

    /// The RTP timestamp for `time`; wraps modulo 2^32 as RFC 3550 intends.
    fn timestamp(&self, time: MediaTime) -> u32 {
        (time.to_clock(self.clock_rate) as u32).wrapping_add(self.config.timestamp_offset)
    }

    /// One packet: header, extension, then `parts` concatenated as the payload. Capacity is
    /// reserved for the AEAD suffix so sealing never reallocates.
    fn packet(&mut self, marker: bool, timestamp: u32, parts: &[&[u8]]) -> Vec<u8> {
        let payload: usize = parts.iter().map(|p| p.len()).sum();
        let len = HEADER_LEN + self.extension.len() + payload;
        let mut out = Vec::with_capacity(len + crypto::MAX_OVERHEAD);
        let x = if self.extension.is_empty() { 0 } else { 0x10 };
        out.push(VERSION << 6 | x);
        out.push(u8::from(marker) << 7 | self.config.payload_type);
        out.extend_from_slice(&self.next_sequence.to_be_bytes());
        out.extend_from_slice(&timestamp.to_be_bytes());
        out.extend_from_slice(&self.config.ssrc.to_be_bytes());
        out.extend_from_slice(&self.extension);
        for part in parts {
            out.extend_from_slice(part);
        }
        self.next_sequence = self.next_sequence.wrapping_add(1);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_time_converts_exactly_between_clocks() {
        // 1/30 s frames: 3000 ticks each at 90 kHz, with no drift after an hour.
        assert_eq!(MediaTime::new(1, 1, 30).to_clock(VIDEO_CLOCK_RATE), 3000);
        assert_eq!(
            MediaTime::new(30 * 3600, 1, 30).to_clock(VIDEO_CLOCK_RATE),
            90_000 * 3600
        );
        // 29.97 fps as 1001/30000.
        assert_eq!(
            MediaTime::new(3, 1001, 30_000).to_clock(VIDEO_CLOCK_RATE),
            9009
        );
        assert_eq!(
            MediaTime::new(960, 1, 48_000).to_clock(AUDIO_CLOCK_RATE),
            960
        );
        assert_eq!(
            MediaTime::new(1, 1, 30).as_duration(),
            Duration::from_nanos(33_333_333)
        );
        assert_eq!(MediaTime::new(-5, 1, 30).as_duration(), Duration::ZERO);
    }

    #[test]
    fn playout_delay_is_three_bytes_with_twelve_bit_fields() {
        let ext = HeaderExtension::playout_delay(5, 0, 0).encode();
        assert_eq!(ext, [0xBE, 0xDE, 0, 1, 0x52, 0, 0, 0]);
        let ext = HeaderExtension::playout_delay(6, 0x123, 0x456).encode();
        assert_eq!(ext, [0xBE, 0xDE, 0, 1, 0x62, 0x12, 0x34, 0x56]);
        // Two elements spill into a second word, zero-padded.
        let ext = HeaderExtension::new()
            .with(1, &[0xAA])
            .with(2, &[1, 2, 3, 4])
            .encode();
        assert_eq!(ext, [0xBE, 0xDE, 0, 2, 0x10, 0xAA, 0x23, 1, 2, 3, 4, 0]);
    }

    #[test]
    fn header_fields_round_trip_through_the_parser() {
        let config = StreamConfig {
            first_sequence: 0xFFFF,
            timestamp_offset: 0xFFFF_FF00,
            ..StreamConfig::new(0xDEAD_BEEF, 101)
        }
        .with_extension(HeaderExtension::playout_delay(5, 0, 0));
        let mut stream = Stream::new(config, VIDEO_CLOCK_RATE);
        let ts = stream.timestamp(MediaTime::new(1, 1, 30));
        assert_eq!(ts, 0xFFFF_FF00_u32.wrapping_add(3000), "wraps modulo 2^32");
        let a = stream.packet(true, ts, &[b"ab", b"c"]);
        let b = stream.packet(false, ts, &[b"d"]);
        let h = RtpHeader::parse(&a).unwrap();
        assert_eq!(
            (h.marker, h.payload_type, h.sequence, h.timestamp, h.ssrc),
            (true, 101, 0xFFFF, ts, 0xDEAD_BEEF)
        );
        assert!(h.extension && !h.padding && h.csrc_count == 0);
        assert_eq!((h.clear_len, h.payload_offset), (16, 20));
        assert_eq!(&a[h.payload_offset..], b"abc");
        let h = RtpHeader::parse(&b).unwrap();
        assert_eq!((h.marker, h.sequence), (false, 0), "sequence wraps to 0");
        assert!(a.capacity() >= a.len() + crypto::MAX_OVERHEAD);
    }

    #[test]
    fn malformed_headers_are_rejected() {
        assert_eq!(RtpHeader::parse(&[0x80; 11]), Err(RtpError::TooShort(11)));
        let mut p = vec![0x40; 12];
        assert_eq!(RtpHeader::parse(&p), Err(RtpError::Version(1)));
        // X set but no room for the preamble, then a preamble claiming more words than exist.
        p[0] = 0x90;
        assert_eq!(RtpHeader::parse(&p), Err(RtpError::Extension));
        p.extend_from_slice(&[0xBE, 0xDE, 0, 2, 0, 0, 0, 0]);
        assert_eq!(RtpHeader::parse(&p), Err(RtpError::Extension));
        // CSRC count beyond the packet.
        let p = [0x83; 20];
        assert_eq!(RtpHeader::parse(&p), Err(RtpError::TooShort(20)));
    }
}
