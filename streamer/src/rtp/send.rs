//! Pipeline packets → RTP → sealed → paced → UDP, on the caller's (blocking) thread.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::crypto::{CryptoError, Sealer};
use super::h264::{H264Error, H264Packetizer};
use super::opus::OpusPacketizer;
use super::pacer::{Clock, Pacer};
use super::rtx::History;
use super::{MediaTime, RtpHeader, StreamConfig, sender_report};
use crate::pipeline::{EncodedPacket, StreamKind};

/// Where sealed packets go. A Discord connection sends both kinds to one address; `rtp-out`
/// sends them to two ports so standard receivers can tell them apart.
pub trait Transport {
    fn send(&mut self, kind: StreamKind, packet: &[u8]) -> io::Result<()>;

    /// An RTCP packet about stream `kind`; by default sent like media.
    fn send_rtcp(&mut self, kind: StreamKind, packet: &[u8]) -> io::Result<()> {
        self.send(kind, packet)
    }
}

/// One UDP socket sending video and audio to their addresses.
#[derive(Debug)]
pub struct UdpTransport {
    socket: UdpSocket,
    video: SocketAddr,
    audio: SocketAddr,
}

impl UdpTransport {
    pub fn new(video: SocketAddr, audio: SocketAddr) -> io::Result<Self> {
        let any: SocketAddr = if video.is_ipv4() {
            "0.0.0.0:0".parse().expect("a valid address")
        } else {
            "[::]:0".parse().expect("a valid address")
        };
        Ok(Self {
            socket: UdpSocket::bind(any)?,
            video,
            audio,
        })
    }

    /// Resolves `udp://HOST:PORT`, `rtp://HOST:PORT` or `HOST:PORT`.
    pub fn resolve(url: &str) -> io::Result<SocketAddr> {
        let rest = url
            .strip_prefix("udp://")
            .or_else(|| url.strip_prefix("rtp://"))
            .unwrap_or(url);
        let rest = rest.split(['?', '/']).next().unwrap_or(rest);
        rest.to_socket_addrs()?.next().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("{url}: no address"))
        })
    }
}

impl Transport for UdpTransport {
    fn send(&mut self, kind: StreamKind, packet: &[u8]) -> io::Result<()> {
        let to = match kind {
            StreamKind::Video => self.video,
            StreamKind::Audio => self.audio,
        };
        self.socket.send_to(packet, to).map(drop)
    }
}

/// Encoded media the sender takes: one access unit or Opus packet with its media time.
#[derive(Debug, Clone, Copy)]
pub struct MediaUnit<'a> {
    pub kind: StreamKind,
    pub data: &'a [u8],
    pub time: MediaTime,
    /// How long it plays; a video frame's packets are spread over it.
    pub duration: Duration,
}

impl<'a> MediaUnit<'a> {
    pub fn from_encoded(p: &'a EncodedPacket) -> Self {
        let tb = p.time_base;
        let (num, den) = (
            u32::try_from(tb.numerator()).unwrap_or(0),
            u32::try_from(tb.denominator()).unwrap_or(0),
        );
        let duration = match p.packet.duration() {
            d if d > 0 => d,
            // The pipeline's video time base is one frame.
            _ if p.kind == StreamKind::Video => 1,
            _ => i64::from(crate::pipeline::AUDIO_FRAME_SAMPLES),
        };
        Self {
            kind: p.kind,
            data: p.data(),
            time: MediaTime::new(p.packet.pts().unwrap_or(0), num, den),
            duration: MediaTime::new(duration, num, den).as_duration(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    H264(#[from] H264Error),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("sending a packet failed: {0}")]
    Io(#[from] io::Error),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendStats {
    pub video_packets: u64,
    pub audio_packets: u64,
    /// Bytes on the wire, RTP headers and AEAD suffix included.
    pub bytes: u64,
}

/// Packetizes, seals, paces and sends one connection's audio and video.
///
/// Sealing happens here, in send order, with the connection's single cipher, so nonces follow
/// the order packets leave in. Without a pacer packets go as fast as they come (tests).
pub struct MediaSender<S, T, C> {
    video: H264Packetizer,
    audio: OpusPacketizer,
    sealer: S,
    transport: T,
    pacer: Option<Pacer<C>>,
    packets: Vec<Vec<u8>>,
    stats: SendStats,
    /// Media time between sender reports per stream; `None` sends none.
    report_every: Option<Duration>,
    /// Video, then audio.
    reports: [Reporting; 2],
    /// Where sent video packets are kept for retransmission, if they are.
    history: Option<Arc<Mutex<History>>>,
}

/// What a stream's next sender report says, and when the last one went.
#[derive(Debug, Clone, Copy, Default)]
struct Reporting {
    ssrc: u32,
    packets: u64,
    octets: u64,
    last_timestamp: u32,
    last_report: Option<Duration>,
}

impl<S: Sealer, T: Transport, C: Clock> MediaSender<S, T, C> {
    pub fn new(
        video: StreamConfig,
        audio: StreamConfig,
        sealer: S,
        transport: T,
        pacer: Option<Pacer<C>>,
    ) -> Self {
        Self {
            video: H264Packetizer::new(video),
            audio: OpusPacketizer::new(audio),
            sealer,
            transport,
            pacer,
            packets: Vec::new(),
            stats: SendStats::default(),
            report_every: None,
            reports: [Reporting::default(); 2],
            history: None,
        }
    }

    /// Keeps every video packet, as it was before sealing, in `history` so a NACK for it can
    /// be answered (see [`super::rtx`]).
    #[must_use]
    pub fn with_history(mut self, history: Arc<Mutex<History>>) -> Self {
        self.history = Some(history);
        self
    }

    /// Sends an RTCP sender report for each stream every `every` of media time. Discord's
    /// clients send them, and receivers use them to line audio up with video; plain RTP to
    /// standard tools goes without, since a bare depayloader would read them as media.
    #[must_use]
    pub fn with_sender_reports(mut self, every: Duration) -> Self {
        self.report_every = Some(every);
        self
    }

    #[must_use]
    pub fn with_max_payload(mut self, max_payload: usize) -> Self {
        self.video = self.video.with_max_payload(max_payload);
        self
    }

    pub fn stats(&self) -> SendStats {
        self.stats
    }

    pub fn pacer_mut(&mut self) -> Option<&mut Pacer<C>> {
        self.pacer.as_mut()
    }

    /// Sends one unit. A video frame's packets are spread evenly over the frame's duration:
    /// a keyframe can be dozens of packets, and sending them in one burst is what makes
    /// receivers on thin links drop them.
    pub fn send(&mut self, unit: &MediaUnit<'_>) -> Result<(), SendError> {
        let mut packets = std::mem::take(&mut self.packets);
        packets.clear();
        match unit.kind {
            StreamKind::Video => {
                self.video.packetize(unit.data, unit.time, &mut packets)?;
            }
            StreamKind::Audio => packets.push(self.audio.packetize(unit.data, unit.time)),
        }
        let start = unit.time.as_duration();
        let count = packets.len() as u32;
        let result = packets.iter_mut().enumerate().try_for_each(|(i, packet)| {
            if let Some(pacer) = self.pacer.as_mut() {
                pacer.wait(start + unit.duration * i as u32 / count);
            }
            let report = &mut self.reports[usize::from(unit.kind == StreamKind::Audio)];
            if let Ok(header) = RtpHeader::parse(packet) {
                report.ssrc = header.ssrc;
                report.last_timestamp = header.timestamp;
                report.packets += 1;
                report.octets += (packet.len() - header.payload_offset) as u64;
            }
            if unit.kind == StreamKind::Video
                && let Some(history) = &self.history
            {
                history
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .record(packet, Instant::now());
            }
            self.sealer.seal(packet)?;
            self.transport.send(unit.kind, packet)?;
            match unit.kind {
                StreamKind::Video => self.stats.video_packets += 1,
                StreamKind::Audio => self.stats.audio_packets += 1,
            }
            self.stats.bytes += packet.len() as u64;
            Ok::<_, SendError>(())
        });
        self.packets = packets;
        result?;
        self.report(unit.kind, start)
    }

    /// Sends stream `kind`'s sender report if one is due at media time `at`. It goes right
    /// after the unit it describes, so its wall-clock time and RTP timestamp match.
    fn report(&mut self, kind: StreamKind, at: Duration) -> Result<(), SendError> {
        let Some(every) = self.report_every else {
            return Ok(());
        };
        let state = &mut self.reports[usize::from(kind == StreamKind::Audio)];
        // A seek or restart moves media time back: report from the new position on.
        if state
            .last_report
            .is_some_and(|last| at.checked_sub(last).is_some_and(|d| d < every))
        {
            return Ok(());
        }
        state.last_report = Some(at);
        let mut packet = sender_report(
            state.ssrc,
            std::time::SystemTime::now(),
            state.last_timestamp,
            state.packets,
            state.octets,
        );
        self.sealer.seal_rtcp(&mut packet)?;
        self.transport.send_rtcp(kind, &packet)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::crypto::{EncryptionMode, Plain, TransportCipher};
    use super::super::pacer::ManualClock;
    use super::super::{HeaderExtension, RtpHeader};
    use super::*;

    #[derive(Default)]
    struct Recorder(Vec<(StreamKind, Vec<u8>)>);

    impl Transport for &mut Recorder {
        fn send(&mut self, kind: StreamKind, packet: &[u8]) -> io::Result<()> {
            self.0.push((kind, packet.to_vec()));
            Ok(())
        }
    }

    fn configs() -> (StreamConfig, StreamConfig) {
        (
            StreamConfig::new(0x100, 101).with_extension(HeaderExtension::playout_delay(5, 0, 0)),
            StreamConfig::new(0x200, 120),
        )
    }

    fn frame(nal_len: usize) -> Vec<u8> {
        let mut au = vec![0, 0, 0, 1, 0x41];
        au.extend(std::iter::repeat_n(0xAB, nal_len - 1));
        au
    }

    #[test]
    fn one_cipher_seals_both_streams_in_send_order() {
        let (video, audio) = configs();
        let mut wire = Recorder::default();
        let cipher = TransportCipher::new(EncryptionMode::Aes256GcmRtpSize, &[1; 32]).unwrap();
        let mut sender =
            MediaSender::<_, _, ManualClock>::new(video, audio, cipher, &mut wire, None);
        let au = frame(3000);
        let opus = [0xFC, 1, 2, 3];
        for i in 0..3 {
            sender
                .send(&MediaUnit {
                    kind: StreamKind::Video,
                    data: &au,
                    time: MediaTime::new(i, 1, 30),
                    duration: Duration::from_millis(33),
                })
                .unwrap();
            sender
                .send(&MediaUnit {
                    kind: StreamKind::Audio,
                    data: &opus,
                    time: MediaTime::new(i * 960, 1, 48_000),
                    duration: Duration::from_millis(20),
                })
                .unwrap();
        }
        let stats = sender.stats();
        assert_eq!((stats.video_packets, stats.audio_packets), (9, 3));
        drop(sender);
        let opener = TransportCipher::new(EncryptionMode::Aes256GcmRtpSize, &[1; 32]).unwrap();
        for (n, (kind, packet)) in wire.0.iter().enumerate() {
            assert_eq!(
                packet[packet.len() - 4..],
                (n as u32).to_be_bytes(),
                "nonce {n}"
            );
            let mut plain = packet.clone();
            opener.open(&mut plain).unwrap();
            let h = RtpHeader::parse(&plain).unwrap();
            let ssrc = if *kind == StreamKind::Video {
                0x100
            } else {
                0x200
            };
            assert_eq!(h.ssrc, ssrc);
        }
        assert_eq!(
            stats.bytes,
            wire.0.iter().map(|(_, p)| p.len() as u64).sum::<u64>()
        );
    }

    #[test]
    fn a_frames_packets_are_spread_over_its_duration() {
        let (video, audio) = configs();
        let mut wire = Recorder::default();
        let mut sender = MediaSender::new(
            video,
            audio,
            Plain,
            &mut wire,
            Some(Pacer::new(ManualClock::new())),
        );
        // 4 packets of one 40 ms frame at media time 1 s, then the next frame.
        for t in [25, 26] {
            sender
                .send(&MediaUnit {
                    kind: StreamKind::Video,
                    data: &frame(4000),
                    time: MediaTime::new(t, 1, 25),
                    duration: Duration::from_millis(40),
                })
                .unwrap();
        }
        let sleeps = sender.pacer_mut().unwrap().clock().sleeps.clone();
        let ms = Duration::from_millis;
        assert_eq!(
            sleeps,
            [ms(10), ms(20), ms(30), ms(40), ms(50), ms(60), ms(70)]
        );
        assert_eq!(wire.0.len(), 8);
    }

    #[test]
    fn sender_reports_go_once_a_second_of_media_sealed_after_their_8_byte_header() {
        use aes_gcm::aead::AeadInPlace;
        use aes_gcm::{Aes256Gcm, KeyInit};
        let (video, audio) = configs();
        let mut wire = Recorder::default();
        let key = [3; 32];
        let cipher = TransportCipher::new(EncryptionMode::Aes256GcmRtpSize, &key).unwrap();
        let mut sender =
            MediaSender::<_, _, ManualClock>::new(video, audio, cipher, &mut wire, None)
                .with_sender_reports(Duration::from_secs(1));
        let au = frame(100);
        // Frames at 0, 0.5, 1.0 and 1.5 s: reports after the first and the third.
        for half in 0..4 {
            sender
                .send(&MediaUnit {
                    kind: StreamKind::Video,
                    data: &au,
                    time: MediaTime::new(half, 1, 2),
                    duration: Duration::from_millis(33),
                })
                .unwrap();
        }
        drop(sender);
        let rtcp: Vec<(usize, &Vec<u8>)> = wire
            .0
            .iter()
            .map(|(_, p)| p)
            .enumerate()
            .filter(|(_, p)| p[1] == 200)
            .collect();
        assert_eq!(rtcp.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [1, 4]);
        for (i, (at, sealed)) in rtcp.iter().enumerate() {
            // The clear header: version 2, sender report, length 6, the video SSRC.
            assert_eq!(sealed[..8], [0x80, 200, 0, 6, 0, 0, 1, 0]);
            assert_eq!(sealed.len(), 28 + 16 + 4);
            // It took the connection's next nonce, in send order.
            assert_eq!(sealed[sealed.len() - 4..], (*at as u32).to_be_bytes());
            let mut nonce = [0u8; 12];
            nonce[..4].copy_from_slice(&sealed[sealed.len() - 4..]);
            let mut body = sealed[8..28].to_vec();
            let tag: [u8; 16] = sealed[28..44].try_into().unwrap();
            Aes256Gcm::new_from_slice(&key)
                .unwrap()
                .decrypt_in_place_detached((&nonce).into(), &sealed[..8], &mut body, (&tag).into())
                .expect("authentic with the header as AAD");
            let word = |at: usize| u32::from_be_bytes(body[at..at + 4].try_into().unwrap());
            // RTP timestamp of the frame just sent (0 and 1 s at 90 kHz), packets and payload
            // octets so far (a 100-byte NAL unit per frame, one packet each).
            assert_eq!(word(8), [0, 90_000][i]);
            assert_eq!(word(12), [1, 3][i]);
            assert_eq!(word(16), [1, 3][i] * 100);
        }
    }

    #[test]
    fn video_is_kept_for_retransmission_as_it_was_before_sealing() {
        let (video, audio) = configs();
        let mut wire = Recorder::default();
        let history = Arc::new(Mutex::new(History::new(16, Duration::from_mins(1))));
        let cipher =
            TransportCipher::new(EncryptionMode::XChaCha20Poly1305RtpSize, &[5; 32]).unwrap();
        let mut sender =
            MediaSender::<_, _, ManualClock>::new(video, audio, cipher, &mut wire, None)
                .with_history(Arc::clone(&history));
        for (kind, data) in [
            (StreamKind::Video, frame(2500)),
            (StreamKind::Audio, vec![1]),
        ] {
            sender
                .send(&MediaUnit {
                    kind,
                    data: &data,
                    time: MediaTime::new(0, 1, 30),
                    duration: Duration::from_millis(20),
                })
                .unwrap();
        }
        drop(sender);
        let opener =
            TransportCipher::new(EncryptionMode::XChaCha20Poly1305RtpSize, &[5; 32]).unwrap();
        let history = history.lock().unwrap();
        assert_eq!(history.len(), 3, "the video packets only");
        for (seq, (kind, sealed)) in wire.0.iter().take(3).enumerate() {
            assert_eq!(*kind, StreamKind::Video);
            let mut plain = sealed.clone();
            opener.open(&mut plain).unwrap();
            let kept = history.get(seq as u16, std::time::Instant::now()).unwrap();
            assert_eq!(kept, plain, "packet {seq}");
        }
    }

    #[test]
    fn the_sender_report_layout_is_rfc_3550s() {
        let wall = std::time::UNIX_EPOCH + Duration::new(1_700_000_000, 500_000_000);
        let sr = super::super::sender_report(0x0102_0304, wall, 0xAABB_CCDD, 7, 1_000);
        let ntp_seconds = (1_700_000_000_u64 + 2_208_988_800) as u32;
        let mut want = vec![0x80, 200, 0, 6, 1, 2, 3, 4];
        want.extend_from_slice(&ntp_seconds.to_be_bytes());
        want.extend_from_slice(&0x8000_0000_u32.to_be_bytes());
        want.extend_from_slice(&[0xAA, 0xBB, 0xCC, 0xDD, 0, 0, 0, 7, 0, 0, 0x03, 0xE8]);
        assert_eq!(sr, want);
    }

    #[test]
    fn urls_resolve_to_socket_addresses() {
        let addr = UdpTransport::resolve("udp://127.0.0.1:5004").unwrap();
        assert_eq!(addr, "127.0.0.1:5004".parse().unwrap());
        let addr = UdpTransport::resolve("rtp://127.0.0.1:5006?pkt_size=1200").unwrap();
        assert_eq!(addr.port(), 5006);
        assert!(UdpTransport::resolve("udp://127.0.0.1").is_err());
    }
}
