//! The media side of a connection: what the pipeline's thread calls to send, the H.264
//! preparation DAVE needs, and the thread that answers the server's NACKs.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::udp::UdpOut;
use super::{Shared, VoiceError};
use crate::golive::dave::DaveError;
use crate::pipeline::StreamKind;
use crate::rtp::crypto::{Sealer, SharedCipher, TransportCipher};
use crate::rtp::pacer::SystemClock;
use crate::rtp::rtx::{self, Outcome, Retransmitter};
use crate::rtp::send::{MediaSender, MediaUnit, SendStats};

/// Sends one connection's media: DAVE-encrypts each frame, then packetizes, seals, paces and
/// sends it. Blocking; run it on the pipeline's thread.
pub struct MediaSink {
    sender: MediaSender<SharedCipher, UdpOut, SystemClock>,
    /// Lives as long as the sink: no media, nothing to repair.
    _nack_answerer: Option<NackAnswerer>,
    shared: Arc<Shared>,
    frame: Vec<u8>,
    h264: H264Prep,
    dave_timeout: Duration,
}

impl std::fmt::Debug for MediaSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaSink")
            .field("stats", &self.sender.stats())
            .finish_non_exhaustive()
    }
}

impl MediaSink {
    pub(super) fn new(
        sender: MediaSender<SharedCipher, UdpOut, SystemClock>,
        nack_answerer: Option<NackAnswerer>,
        shared: Arc<Shared>,
        dave_timeout: Duration,
    ) -> Self {
        Self {
            sender,
            _nack_answerer: nack_answerer,
            shared,
            frame: Vec::new(),
            h264: H264Prep::default(),
            dave_timeout,
        }
    }

    /// Sends one access unit or Opus packet. Waits up to the DAVE timeout if the group is not
    /// ready, and fails rather than send anything without end-to-end encryption.
    pub fn send(&mut self, unit: &MediaUnit<'_>) -> Result<(), VoiceError> {
        if let Some(reason) = self.shared.ended() {
            return Err(VoiceError::ConnectionClosed(reason));
        }
        let deadline = Instant::now() + self.dave_timeout;
        let data = match unit.kind {
            StreamKind::Video => self.h264.prepare(unit.data),
            StreamKind::Audio => unit.data,
        };
        loop {
            // Short lock: encrypt one frame, nothing else.
            let result = self.shared.dave.lock().expect("not poisoned").encrypt(
                unit.kind,
                data,
                &mut self.frame,
            );
            match result {
                Ok(()) => break,
                Err(DaveError::NotReady) => {
                    if let Some(reason) = self.shared.ended() {
                        return Err(VoiceError::ConnectionClosed(reason));
                    }
                    if Instant::now() >= deadline {
                        return Err(VoiceError::DaveNotReady(self.dave_timeout));
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) if unit.kind == StreamKind::Audio => {
                    // One Opus frame (e.g. silence) that may not be sent encrypted: skip it.
                    tracing::trace!(error = %e, "audio frame skipped");
                    self.shared.frames_skipped.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            }
        }
        let encrypted = MediaUnit {
            data: &self.frame,
            ..*unit
        };
        self.sender.send(&encrypted)?;
        Ok(())
    }

    pub fn stats(&self) -> SendStats {
        self.sender.stats()
    }

    /// Forgets the pacing schedule; call after a pause or seek.
    pub fn reset_pacing(&mut self) {
        if let Some(p) = self.sender.pacer_mut() {
            p.reset();
        }
    }
}

/// Retransmitted packets per second for a stream of `max_bitrate` bits per second: a quarter
/// of its packet rate, at least 25 so a low-bitrate stream can still repair a keyframe.
pub(super) fn rtx_budget(max_bitrate: u64, max_payload: usize) -> NonZeroU32 {
    let packets = max_bitrate / 8 / (max_payload.max(1) as u64);
    let budget = u32::try_from(packets / 4).unwrap_or(u32::MAX).max(25);
    NonZeroU32::new(budget).expect("at least 25")
}

/// Everything the NACK-answering thread owns or shares.
pub(super) struct NackLoop {
    pub(super) socket: Arc<std::net::UdpSocket>,
    pub(super) to: SocketAddr,
    pub(super) opener: TransportCipher,
    pub(super) sealer: SharedCipher,
    pub(super) retransmitter: Retransmitter,
    pub(super) shared: Arc<Shared>,
    pub(super) stop: Arc<AtomicBool>,
}

/// The thread that reads the voice socket and answers NACKs; it stops when dropped.
pub(super) struct NackAnswerer {
    stop: Arc<AtomicBool>,
}

impl NackAnswerer {
    /// How often the thread looks up from the socket to see whether it should stop.
    const POLL: Duration = Duration::from_millis(200);

    pub(super) fn spawn(state: NackLoop) -> Result<Self, VoiceError> {
        let stop = Arc::clone(&state.stop);
        let failed = |e: std::io::Error| {
            VoiceError::ConnectionClosed(format!("could not start the RTCP reader: {e}"))
        };
        // A receive timeout only bounds reads; the sink's sends on the same socket never wait
        // on it.
        state
            .socket
            .set_read_timeout(Some(Self::POLL))
            .map_err(failed)?;
        std::thread::Builder::new()
            .name("lounge-golive-rtcp".to_owned())
            .spawn(move || state.run())
            .map_err(failed)?;
        Ok(Self { stop })
    }
}

impl Drop for NackAnswerer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl NackLoop {
    fn run(mut self) {
        // Larger than any datagram the server sends us; RTCP is a few hundred bytes at most.
        let mut buf = vec![0u8; 4096];
        while !self.stop.load(Ordering::Relaxed) && !self.shared.closed.load(Ordering::SeqCst) {
            let n = match self.socket.recv_from(&mut buf) {
                Ok((n, _)) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::Interrupted
                    ) =>
                {
                    continue;
                }
                Err(e) => {
                    // E.g. an ICMP error surfacing on the socket: not worth ending media for.
                    tracing::debug!(error = %e, "voice UDP receive failed");
                    std::thread::sleep(Self::POLL_AFTER_ERROR);
                    continue;
                }
            };
            // Anything else (other participants' RTP, stray replies) is not ours to answer.
            // The sender address is not checked: authentication is what counts.
            if rtx::is_rtcp(&buf[..n]) {
                self.on_rtcp(buf[..n].to_vec());
            }
        }
    }

    const POLL_AFTER_ERROR: Duration = Duration::from_millis(100);

    fn on_rtcp(&mut self, mut packet: Vec<u8>) {
        let s = &self.shared;
        let requests = match self.opener.open_rtcp(&mut packet) {
            Ok(()) => rtx::nacks(&packet).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let requests = match requests {
            Ok(r) => r,
            Err(error) => {
                s.rtcp_rejected.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%error, "RTCP from the voice server ignored");
                return;
            }
        };
        let now = Instant::now();
        for request in requests {
            let mut rtx = match self.retransmitter.answer(request, now) {
                Outcome::Retransmit(packet) => packet,
                Outcome::OtherStream => continue,
                Outcome::NotInHistory => {
                    s.nacked.fetch_add(1, Ordering::Relaxed);
                    s.nacks_too_old.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                Outcome::OverBudget => {
                    s.nacked.fetch_add(1, Ordering::Relaxed);
                    s.nacks_over_budget.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            };
            s.nacked.fetch_add(1, Ordering::Relaxed);
            if let Err(e) = self.sealer.seal(&mut rtx) {
                tracing::warn!(error = %e, "could not seal a retransmission");
                return;
            }
            match self.socket.send_to(&rtx, self.to) {
                Ok(_) => {
                    s.retransmissions.fetch_add(1, Ordering::Relaxed);
                    s.bytes.fetch_add(rtx.len() as u64, Ordering::Relaxed);
                }
                Err(e) => tracing::debug!(error = %e, "a retransmission was not sent"),
            }
        }
    }
}

/// Puts an access unit in the form the RTP packetizer sends, before DAVE authenticates it:
/// the viewer decrypts what it reassembles, so the packetizer must not change a byte. AUDs
/// are dropped and the latest SPS/PPS go before an IDR that lacks them (both as the
/// packetizer would do), every NAL unit behind a 4-byte start code (as davey writes them).
#[derive(Debug, Default)]
struct H264Prep {
    sps: Vec<u8>,
    pps: Vec<u8>,
    out: Vec<u8>,
}

impl H264Prep {
    fn prepare<'a>(&'a mut self, au: &'a [u8]) -> &'a [u8] {
        let nals = annex_b_nals(au);
        if nals.is_empty() {
            // Not Annex B: let the packetizer refuse it.
            return au;
        }
        let kind = |n: &[u8]| n[0] & 0x1F;
        let has = |t: u8| nals.iter().any(|n| kind(n) == t);
        let (idr, sps, pps) = (has(5), has(7), has(8));
        self.out.clear();
        let push = |out: &mut Vec<u8>, nal: &[u8]| {
            out.extend_from_slice(&[0, 0, 0, 1]);
            out.extend_from_slice(nal);
        };
        if idr && !(sps && pps) {
            for set in [&self.sps, &self.pps] {
                if !set.is_empty() {
                    push(&mut self.out, set);
                }
            }
        }
        for nal in &nals {
            match kind(nal) {
                9 => continue,
                7 => (*nal).clone_into(&mut self.sps),
                8 => (*nal).clone_into(&mut self.pps),
                _ => {}
            }
            push(&mut self.out, nal);
        }
        &self.out
    }
}

/// The NAL units of Annex B data, without start codes or trailing zero bytes.
fn annex_b_nals(data: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            starts.push((i, i + 3));
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut nals = Vec::new();
    for (k, &(_, begin)) in starts.iter().enumerate() {
        let mut end = starts.get(k + 1).map_or(data.len(), |&(at, _)| at);
        while end > begin && data[end - 1] == 0 {
            end -= 1;
        }
        if end > begin {
            nals.push(&data[begin..end]);
        }
    }
    nals
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_units_are_put_in_the_form_the_packetizer_sends() {
        let mut prep = H264Prep::default();
        // SPS, PPS, AUD, IDR with 3-byte start codes: the AUD goes, codes become 4 bytes.
        let first = [
            0, 0, 1, 0x67, 1, 0, 0, 1, 0x68, 2, 0, 0, 1, 0x09, 0xF0, 0, 0, 1, 0x65, 3,
        ];
        assert_eq!(
            prep.prepare(&first),
            [
                0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68, 2, 0, 0, 0, 1, 0x65, 3
            ]
        );
        // A later IDR without parameter sets gets the cached ones first.
        let idr = [0, 0, 0, 1, 0x65, 4, 0];
        assert_eq!(
            prep.prepare(&idr),
            [
                0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68, 2, 0, 0, 0, 1, 0x65, 4
            ]
        );
        assert_eq!(prep.prepare(&[0, 0, 0, 1, 0x41, 5]), [0, 0, 0, 1, 0x41, 5]);
        assert_eq!(prep.prepare(&[7, 7]), [7, 7]);
    }

    #[test]
    fn retransmissions_get_a_quarter_of_the_video_packet_rate() {
        // 2.5 Mbit/s in 1200-byte packets is 260 packets a second.
        assert_eq!(rtx_budget(2_500_000, 1200).get(), 65);
        assert_eq!(rtx_budget(10_000_000, 1200).get(), 260);
        assert_eq!(rtx_budget(100_000, 1200).get(), 25, "the floor");
        assert_eq!(rtx_budget(u64::MAX, 0).get(), u32::MAX);
    }
}
