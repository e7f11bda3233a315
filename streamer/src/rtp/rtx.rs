//! Repairing lost video packets: the voice server asks for them with RFC 4585 generic NACKs
//! and gets them back as RFC 4588 RTX packets on the stream's RTX SSRC and payload type.
//!
//! Without this a lost packet breaks its frame and every frame after it until the next
//! keyframe (up to 2 s of garbage for viewers on a lossy link); Discord-video-stream moved to
//! WebRTC largely to get a NACK responder. Audio is not repaired: Opus conceals a lost 20 ms
//! packet better than a late one helps, and Discord's receivers never NACK it.
//!
//! The pieces are pure (no sockets): [`nacks`] reads the sequence numbers out of a decrypted
//! compound RTCP packet, [`History`] keeps recently sent video packets as they were before
//! transport sealing (DAVE frame encryption happens before packetization, so these are what
//! the viewer needs), [`RtxStream`] wraps one as an RTX packet, and [`Retransmitter`] ties them
//! together behind a rate limit.

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use rtcp_types::prelude::RtcpPacketParser;
use rtcp_types::{Compound, Nack, RtcpParseError, TransportFeedback};

use super::{RtpError, RtpHeader, crypto};

/// RTCP packet types share the second byte with RTP's marker and payload type (RFC 5761
/// §4): 192–223 is where RTCP lives, and where no dynamic RTP payload type can be.
pub fn is_rtcp(packet: &[u8]) -> bool {
    packet.len() >= 8 && packet[0] >> 6 == 2 && (192..=223).contains(&packet[1])
}

/// One sequence number a receiver asked for again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NackRequest {
    /// The stream the packet belongs to.
    pub media_ssrc: u32,
    pub sequence: u16,
}

/// The generic NACKs (transport feedback, FMT 1) in a decrypted compound RTCP packet, with
/// each FCI entry's PID and BLP bitmask expanded to sequence numbers. Everything else in the
/// compound (receiver reports, REMB, TWCC, SDES, XR...) is skipped unread, so a packet type
/// this parser finds fault with cannot hide a NACK behind it; a compound whose lengths do not
/// add up is refused whole.
pub fn nacks(compound: &[u8]) -> Result<Vec<NackRequest>, RtcpParseError> {
    // Checks the version and that every length field lands inside the datagram.
    Compound::parse(compound)?;
    let mut out = Vec::new();
    let mut rest = compound;
    while rest.len() >= 4 {
        let len = (usize::from(u16::from_be_bytes([rest[2], rest[3]])) + 1) * 4;
        let (packet, tail) = rest.split_at(len.min(rest.len()));
        rest = tail;
        if packet[1] != RTCP_TRANSPORT_FEEDBACK || packet[0] & 0x1F != NACK_FORMAT {
            continue;
        }
        let feedback = TransportFeedback::parse(packet)?;
        let media_ssrc = feedback.media_ssrc();
        let nack = feedback.parse_fci::<Nack>()?;
        out.extend(nack.entries().map(|sequence| NackRequest {
            media_ssrc,
            sequence,
        }));
    }
    Ok(out)
}

/// RTPFB (RFC 4585 §6.1) and its generic NACK format.
const RTCP_TRANSPORT_FEEDBACK: u8 = 205;
const NACK_FORMAT: u8 = 1;

struct Sent {
    sequence: u16,
    at: Instant,
    packet: Vec<u8>,
}

/// The video packets sent last, plain (before transport sealing), by sequence number.
///
/// Bounded by count and by age: a packet older than a receiver's jitter buffer is worth
/// nothing to it, and the count bounds memory at high bitrates.
pub struct History {
    capacity: usize,
    max_age: Duration,
    packets: VecDeque<Sent>,
}

impl History {
    /// About a second of video at 5 Mbit/s in 1200-byte packets.
    pub const DEFAULT_CAPACITY: usize = 512;
    pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(1);

    pub fn new(capacity: usize, max_age: Duration) -> Self {
        let capacity = capacity.max(1);
        Self {
            capacity,
            max_age,
            packets: VecDeque::with_capacity(capacity),
        }
    }

    /// Keeps a copy of `packet` (plain RTP) sent at `at`; packets too short to be RTP are
    /// not kept.
    pub fn record(&mut self, packet: &[u8], at: Instant) {
        if packet.len() < super::HEADER_LEN {
            return;
        }
        let sequence = u16::from_be_bytes([packet[2], packet[3]]);
        while self.packets.len() >= self.capacity
            || self
                .packets
                .front()
                .is_some_and(|s| at.saturating_duration_since(s.at) > self.max_age)
        {
            self.packets.pop_front();
        }
        self.packets.push_back(Sent {
            sequence,
            at,
            packet: packet.to_vec(),
        });
    }

    /// The packet with `sequence` if it is still kept and not older than the maximum age.
    pub fn get(&self, sequence: u16, now: Instant) -> Option<&[u8]> {
        let front = self.packets.front()?;
        // Sequence numbers are consecutive in send order, so the offset from the oldest is
        // the index; the search covers a packetizer that ever skipped one.
        let at = usize::from(sequence.wrapping_sub(front.sequence));
        let sent = match self.packets.get(at) {
            Some(s) if s.sequence == sequence => s,
            _ => self.packets.iter().rev().find(|s| s.sequence == sequence)?,
        };
        (now.saturating_duration_since(sent.at) <= self.max_age).then_some(&sent.packet[..])
    }

    pub fn len(&self) -> usize {
        self.packets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }
}

/// The RTX stream that carries retransmissions of one media stream (RFC 4588 §4): its own
/// SSRC, payload type and sequence numbers; the original's timestamp, marker, CSRCs and
/// header extension; a payload of the original sequence number (OSN) and original payload.
#[derive(Debug, Clone)]
pub struct RtxStream {
    ssrc: u32,
    payload_type: u8,
    next_sequence: u16,
}

impl RtxStream {
    pub fn new(ssrc: u32, payload_type: u8, first_sequence: u16) -> Self {
        assert!(payload_type < 128, "RTP payload types are 7 bits");
        Self {
            ssrc,
            payload_type,
            next_sequence: first_sequence,
        }
    }

    /// The RTX packet (plain, ready for sealing) for `original` (plain RTP).
    pub fn wrap(&mut self, original: &[u8]) -> Result<Vec<u8>, RtpError> {
        let header = RtpHeader::parse(original)?;
        let mut end = original.len();
        if header.padding {
            // The padding belonged to the original's length; RTX pads (or not) on its own.
            let pad = usize::from(original[end - 1]);
            end = end
                .checked_sub(pad)
                .filter(|&e| pad > 0 && e >= header.payload_offset)
                .ok_or(RtpError::TooShort(original.len()))?;
        }
        let mut out = Vec::with_capacity(end + 2 + crypto::MAX_OVERHEAD);
        out.push(original[0] & !0x20);
        out.push(original[1] & 0x80 | self.payload_type);
        out.extend_from_slice(&self.next_sequence.to_be_bytes());
        out.extend_from_slice(&original[4..8]);
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(&original[super::HEADER_LEN..header.payload_offset]);
        out.extend_from_slice(&header.sequence.to_be_bytes());
        out.extend_from_slice(&original[header.payload_offset..end]);
        self.next_sequence = self.next_sequence.wrapping_add(1);
        Ok(out)
    }
}

/// What became of one sequence number a NACK asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Send this RTX packet (plain; seal it first).
    Retransmit(Vec<u8>),
    /// Too old, or never sent: the receiver has to wait for the next keyframe.
    NotInHistory,
    /// The retransmission budget is spent for now.
    OverBudget,
    /// A NACK for a stream we do not repair (audio, or not ours).
    OtherStream,
}

type Limiter<C> = RateLimiter<NotKeyed, InMemoryState, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// Answers NACKs for one video stream from its [`History`], within a budget of packets per
/// second, so a storm of NACKs (or a receiver on a hopeless link) cannot multiply the
/// bitrate and make the congestion that caused the loss worse.
pub struct Retransmitter<C: Clock = DefaultClock> {
    media_ssrc: u32,
    history: Arc<Mutex<History>>,
    rtx: RtxStream,
    limiter: Limiter<C>,
}

impl Retransmitter {
    pub fn new(
        media_ssrc: u32,
        rtx: RtxStream,
        history: Arc<Mutex<History>>,
        per_second: NonZeroU32,
    ) -> Self {
        Self::with_clock(
            media_ssrc,
            rtx,
            history,
            per_second,
            DefaultClock::default(),
        )
    }
}

impl<C: Clock> Retransmitter<C> {
    pub fn with_clock(
        media_ssrc: u32,
        rtx: RtxStream,
        history: Arc<Mutex<History>>,
        per_second: NonZeroU32,
        clock: C,
    ) -> Self {
        Self {
            media_ssrc,
            history,
            rtx,
            limiter: RateLimiter::direct_with_clock(Quota::per_second(per_second), clock),
        }
    }

    /// Answers one requested sequence number, as of `now`.
    pub fn answer(&mut self, request: NackRequest, now: Instant) -> Outcome {
        if request.media_ssrc != self.media_ssrc {
            return Outcome::OtherStream;
        }
        let original = {
            let history = self.history.lock().unwrap_or_else(PoisonError::into_inner);
            match history.get(request.sequence, now) {
                Some(p) => p.to_vec(),
                None => return Outcome::NotInHistory,
            }
        };
        // Only packets that would really be sent spend the budget.
        if self.limiter.check().is_err() {
            return Outcome::OverBudget;
        }
        match self.rtx.wrap(&original) {
            Ok(packet) => Outcome::Retransmit(packet),
            // The history only holds packets our packetizer wrote.
            Err(_) => Outcome::NotInHistory,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;
    use proptest::prelude::*;

    /// A video packet as the packetizer writes it: X set, playout-delay extension, FU-A.
    fn original(sequence: u16, marker: bool) -> Vec<u8> {
        let mut p = vec![0x90, u8::from(marker) << 7 | 0x65];
        p.extend_from_slice(&sequence.to_be_bytes());
        p.extend_from_slice(&0x1122_3344_u32.to_be_bytes());
        p.extend_from_slice(&0x0000_0FA1_u32.to_be_bytes());
        p.extend_from_slice(&[0xBE, 0xDE, 0, 1, 0x52, 0, 0, 0]);
        p.extend_from_slice(&[0x7C, 0x41, 0xAA, 0xBB]);
        p
    }

    #[test]
    fn an_rtx_packet_is_the_original_on_its_own_ssrc_type_and_sequence() {
        let mut rtx = RtxStream::new(0x0000_0FA2, 102, 0xFFFF);
        let first = rtx.wrap(&original(0x1234, true)).unwrap();
        let want = [
            // V=2 X=1; M=1 PT=102; the RTX sequence number.
            &[0x90, 0xE6, 0xFF, 0xFF][..],
            // The original's timestamp, then the RTX SSRC.
            &[0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x0F, 0xA2],
            // The original's header extension, preamble and body.
            &[0xBE, 0xDE, 0, 1, 0x52, 0, 0, 0],
            // OSN, then the original payload.
            &[0x12, 0x34, 0x7C, 0x41, 0xAA, 0xBB],
        ]
        .concat();
        assert_eq!(first, want);
        let second = rtx.wrap(&original(0x1235, false)).unwrap();
        assert_eq!(second[..4], [0x90, 102, 0, 0], "no marker; sequence wraps");
        assert_eq!(second[20..22], [0x12, 0x35]);
        // Padding is the original's, not part of what is repeated.
        let mut padded = original(7, false);
        padded[0] |= 0x20;
        padded.extend_from_slice(&[0, 0, 3]);
        let third = rtx.wrap(&padded).unwrap();
        assert_eq!(third[0], 0x90);
        assert_eq!(third[20..], [0, 7, 0x7C, 0x41, 0xAA, 0xBB]);
        assert!(rtx.wrap(&[0x80; 5]).is_err());
    }

    /// A plain compound: a receiver report with no blocks, a REMB, then a generic NACK.
    fn compound(fci: &[[u8; 4]]) -> Vec<u8> {
        let mut p = vec![0x80, 201, 0, 1, 0, 0, 0, 1];
        // REMB (PSFB FMT 15): "REMB", 1 SSRC, exponent/mantissa, the SSRC.
        p.extend_from_slice(&[0x8F, 206, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0]);
        p.extend_from_slice(b"REMB");
        p.extend_from_slice(&[1, 0x0C, 0x35, 0x00, 0, 0, 0x0F, 0xA1]);
        let words = 2 + fci.len() as u16;
        p.extend_from_slice(&[0x81, 205]);
        p.extend_from_slice(&words.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0x0F, 0xA1]);
        for entry in fci {
            p.extend_from_slice(entry);
        }
        p
    }

    fn sequences(requests: &[NackRequest]) -> Vec<u16> {
        assert!(requests.iter().all(|r| r.media_ssrc == 0x0FA1));
        requests.iter().map(|r| r.sequence).collect()
    }

    #[test]
    fn nack_entries_expand_pid_and_blp_across_the_wrap() {
        // PID 100, BLP bits 0 and 15: 100, 101, 116. PID 0xFFFE, bits 0, 1, 2: the wrap.
        let requests = nacks(&compound(&[[0, 100, 0x80, 0x01], [0xFF, 0xFE, 0, 0x07]])).unwrap();
        assert_eq!(sequences(&requests), [100, 101, 116, 0xFFFE, 0xFFFF, 0, 1]);
        // A bare PID.
        let requests = nacks(&compound(&[[0x12, 0x34, 0, 0]])).unwrap();
        assert_eq!(sequences(&requests), [0x1234]);
    }

    #[test]
    fn rtcp_without_nacks_or_malformed_gives_none_or_an_error() {
        // A sender report and an RTCP-XR: nothing to answer.
        let mut p = vec![0x80, 200, 0, 6];
        p.extend_from_slice(&[0; 24]);
        p.extend_from_slice(&[0x80, 207, 0, 1, 0, 0, 0, 1]);
        assert_eq!(nacks(&p).unwrap(), []);
        // TWCC is transport feedback too (FMT 15), but not a NACK.
        let twcc = [0x8F, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0x0F, 0xA1];
        assert_eq!(nacks(&twcc).unwrap(), []);
        // A length field past the end, a wrong version, nothing at all.
        let mut long = compound(&[[0, 1, 0, 0]]);
        long.truncate(long.len() - 2);
        assert!(nacks(&long).is_err());
        assert!(nacks(&[0x40, 201, 0, 1, 0, 0, 0, 1]).is_err());
        assert!(nacks(&[]).is_err());
    }

    proptest! {
        #[test]
        fn any_bytes_parse_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = nacks(&bytes);
        }

        #[test]
        fn any_nack_entries_round_trip(
            entries in proptest::collection::vec((any::<u16>(), any::<u16>()), 0..40),
            garbage in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let fci: Vec<[u8; 4]> = entries
                .iter()
                .map(|&(pid, blp)| {
                    let (p, b) = (pid.to_be_bytes(), blp.to_be_bytes());
                    [p[0], p[1], b[0], b[1]]
                })
                .collect();
            let want: Vec<u16> = entries
                .iter()
                .flat_map(|&(pid, blp)| {
                    std::iter::once(pid).chain(
                        (0..16u16)
                            .filter(move |bit| blp >> bit & 1 == 1)
                            .map(move |bit| pid.wrapping_add(bit + 1)),
                    )
                })
                .collect();
            let p = compound(&fci);
            prop_assert_eq!(sequences(&nacks(&p).unwrap()), want);
            // The same with garbage appended or a byte changed never panics.
            let mut q = p.clone();
            q.extend_from_slice(&garbage);
            let _ = nacks(&q);
            if let Some(&g) = garbage.first() {
                let mut r = p;
                let at = usize::from(g) % r.len();
                r[at] ^= garbage.get(1).copied().unwrap_or(0xFF);
                let _ = nacks(&r);
            }
        }
    }

    #[test]
    fn history_forgets_by_count_and_age() {
        let t0 = Instant::now();
        let mut h = History::new(4, Duration::from_millis(500));
        for (i, seq) in [0xFFFE_u16, 0xFFFF, 0, 1, 2].into_iter().enumerate() {
            h.record(
                &original(seq, false),
                t0 + Duration::from_millis(10 * i as u64),
            );
        }
        assert_eq!(h.len(), 4);
        assert!(h.get(0xFFFE, t0).is_none(), "pushed out by the fifth");
        assert_eq!(h.get(0xFFFF, t0).unwrap(), original(0xFFFF, false));
        assert_eq!(h.get(2, t0).unwrap(), original(2, false));
        assert!(h.get(3, t0).is_none(), "never sent");
        let late = t0 + Duration::from_millis(535);
        assert!(h.get(0xFFFF, late).is_none(), "525 ms old");
        assert!(h.get(2, late).is_some());
        // Recording after a long gap drops everything too old.
        h.record(&original(3, false), t0 + Duration::from_secs(5));
        assert_eq!(h.len(), 1);
        h.record(&[0x80; 4], t0);
        assert_eq!(h.len(), 1, "not RTP, not kept");
    }

    #[test]
    fn retransmissions_stop_at_the_budget_and_refill_with_time() {
        let history = Arc::new(Mutex::new(History::new(64, Duration::from_secs(1))));
        let now = Instant::now();
        for seq in 10..20 {
            history.lock().unwrap().record(&original(seq, false), now);
        }
        let clock = FakeRelativeClock::default();
        let mut r = Retransmitter::with_clock(
            0x0FA1,
            RtxStream::new(0x0FA2, 102, 500),
            Arc::clone(&history),
            NonZeroU32::new(3).unwrap(),
            clock.clone(),
        );
        let ask = |sequence| NackRequest {
            media_ssrc: 0x0FA1,
            sequence,
        };
        let outcomes: Vec<Outcome> = [10, 9, 11, 12, 13]
            .into_iter()
            .map(|s| r.answer(ask(s), now))
            .collect();
        let Outcome::Retransmit(first) = &outcomes[0] else {
            panic!("{outcomes:?}")
        };
        assert_eq!(
            (&first[2..4], &first[20..22]),
            (&[1, 0xF4][..], &[0, 10][..])
        );
        assert_eq!(
            outcomes[1],
            Outcome::NotInHistory,
            "unknown: no budget spent"
        );
        assert!(matches!(outcomes[2], Outcome::Retransmit(_)));
        assert!(matches!(outcomes[3], Outcome::Retransmit(_)));
        assert_eq!(outcomes[4], Outcome::OverBudget);
        assert_eq!(
            r.answer(
                NackRequest {
                    media_ssrc: 0x0FA0,
                    sequence: 10
                },
                now
            ),
            Outcome::OtherStream
        );
        clock.advance(Duration::from_millis(334));
        let Outcome::Retransmit(again) = r.answer(ask(13), now) else {
            panic!("a third of a second buys one packet")
        };
        assert_eq!(
            again[2..4],
            [1, 0xF7],
            "RTX sequence numbers only count sent ones"
        );
        assert_eq!(r.answer(ask(14), now), Outcome::OverBudget);
    }
}
