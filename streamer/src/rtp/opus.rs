//! Opus over RTP, RFC 7587: one Opus packet per RTP packet, 48 kHz timestamps whatever the
//! input rate, and the marker bit on the first packet of a talkspurt (the first packet, and
//! the first after a gap such as DTX silence).

use super::{AUDIO_CLOCK_RATE, MediaTime, Stream, StreamConfig};

/// Samples at 48 kHz in one Opus packet, from its TOC byte (RFC 6716 §3.1); `None` for an
/// empty or malformed packet.
pub fn packet_samples(packet: &[u8]) -> Option<u32> {
    let toc = *packet.first()?;
    let config = toc >> 3;
    // Frame length in 1/400 s units (2.5 ms), by configuration range.
    let per_frame_400 = match config {
        0..=11 => [4, 8, 16, 24][usize::from(config % 4)],
        12..=15 => [4, 8][usize::from(config % 2)],
        _ => [1, 2, 4, 8][usize::from(config % 4)],
    };
    let frames = match toc & 0x3 {
        0 => 1,
        1 | 2 => 2,
        _ => u32::from(*packet.get(1)? & 0x3F),
    };
    let samples = frames * per_frame_400 * (AUDIO_CLOCK_RATE / 400);
    // RFC 6716 caps a packet at 120 ms.
    (frames > 0 && samples <= AUDIO_CLOCK_RATE / 1000 * 120).then_some(samples)
}

#[derive(Debug, Clone)]
pub struct OpusPacketizer {
    stream: Stream,
    /// Where the previous packet ended, in 48 kHz ticks of media time.
    expected: Option<i64>,
}

impl OpusPacketizer {
    pub fn new(config: StreamConfig) -> Self {
        Self {
            stream: Stream::new(config, AUDIO_CLOCK_RATE),
            expected: None,
        }
    }

    pub fn config(&self) -> &StreamConfig {
        &self.stream.config
    }

    /// The RTP packet for one Opus packet at `time`.
    pub fn packetize(&mut self, frame: &[u8], time: MediaTime) -> Vec<u8> {
        let at = time.to_clock(AUDIO_CLOCK_RATE);
        let talkspurt = self.expected.is_none_or(|expected| at > expected);
        let samples = packet_samples(frame).unwrap_or(AUDIO_CLOCK_RATE / 50);
        self.expected = Some(at + i64::from(samples));
        let timestamp = self.stream.timestamp(time);
        self.stream.packet(talkspurt, timestamp, &[frame])
    }
}

#[cfg(test)]
mod tests {
    use super::super::RtpHeader;
    use super::*;

    #[test]
    fn toc_byte_gives_the_packet_duration() {
        // CELT fullband 20 ms, one frame: what the pipeline's libopus emits.
        assert_eq!(packet_samples(&[0xFC, 0xFF]), Some(960));
        // SILK 10 ms, two frames (code 1).
        assert_eq!(packet_samples(&[0x01]), Some(960));
        // Hybrid 20 ms (config 13).
        assert_eq!(packet_samples(&[13 << 3]), Some(960));
        // CELT 2.5 ms × 3 frames (code 3).
        assert_eq!(packet_samples(&[16 << 3 | 3, 3]), Some(360));
        // SILK 60 ms × 3 = 180 ms: over the 120 ms limit.
        assert_eq!(packet_samples(&[3 << 3 | 3, 3]), None);
        assert_eq!(packet_samples(&[]), None);
        assert_eq!(packet_samples(&[0x03]), None, "code 3 without a count byte");
    }

    #[test]
    fn marker_is_set_on_the_first_packet_and_after_a_gap() {
        let config = StreamConfig {
            timestamp_offset: 1000,
            ..StreamConfig::new(7, 120)
        };
        let mut p = OpusPacketizer::new(config);
        let frame = [0xFC, 1, 2, 3];
        let at = |samples| MediaTime::new(samples, 1, 48_000);
        let headers: Vec<RtpHeader> = [0, 960, 1920, 4800, 5760]
            .into_iter()
            .map(|t| RtpHeader::parse(&p.packetize(&frame, at(t))).unwrap())
            .collect();
        let markers: Vec<bool> = headers.iter().map(|h| h.marker).collect();
        assert_eq!(markers, [true, false, false, true, false]);
        let stamps: Vec<u32> = headers.iter().map(|h| h.timestamp).collect();
        assert_eq!(stamps, [1000, 1960, 2920, 5800, 6760]);
        let seqs: Vec<u16> = headers.iter().map(|h| h.sequence).collect();
        assert_eq!(
            seqs,
            [0, 1, 2, 3, 4],
            "a gap in time is not a gap in sequence"
        );
        assert!(
            headers
                .iter()
                .all(|h| !h.extension && h.payload_type == 120)
        );
    }
}
