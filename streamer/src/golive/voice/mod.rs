//! One voice-gateway connection (version 8): the websocket handshake, UDP IP discovery, the
//! `_rtpsize` transport cipher, DAVE, resume, and a [`MediaSink`] that sends the pipeline's
//! media over the discovered UDP socket.
//!
//! A Go Live stream is such a connection with [`VoiceServer::video`] set: it announces its
//! video (op 12) and speaks with the soundshare flag.
//!
//! Protocol facts come from Discord's voice docs and Discord-video-stream (see
//! `shared/golive-sources.md`): Identify carries `video` and one `screen` stream; Ready gives
//! the SSRCs and the UDP address; Select Protocol offers Opus (payload type 120) and H.264
//! (101, RTX 102); the Session Description brings the key, the mode and the DAVE version.
//!
//! Threads and tasks: a tokio task owns the websocket (heartbeats, DAVE, resume); the sink runs
//! on the caller's blocking thread and shares only the DAVE state (a short mutex) and counters.
//! Media never waits for the websocket: during a resume the UDP socket, SSRCs, key and DAVE
//! group are kept and packets keep flowing. A stream's sink also starts a thread that reads
//! the UDP socket for the server's RTCP and answers generic NACKs with RTX retransmissions
//! (see `rtp::rtx`); it shares the transport cipher (one nonce counter) and the history of
//! sent video packets with the sink, each behind a short mutex.

mod link;
mod payload;
mod sink;
mod udp;

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

pub use payload::{Ssrcs, select_mode};
pub use sink::MediaSink;
pub use udp::{IP_DISCOVERY_LEN, ip_discovery_request, parse_ip_discovery_response};

use super::VoiceServer;
use super::dave::{Dave, DaveError};
use crate::rtp::crypto::{EncryptionMode, SharedCipher, TransportCipher};
use crate::rtp::pacer::{Pacer, SystemClock};
use crate::rtp::rtx::{History, Retransmitter, RtxStream};
use crate::rtp::send::{MediaSender, SendError};
use crate::rtp::{HeaderExtension, StreamConfig};
use link::{Link, dial};
use sink::{NackAnswerer, NackLoop, rtx_budget};
use udp::UdpOut;

/// The voice gateway version: v8 numbers server messages so a resume can replay them.
pub const GATEWAY_VERSION: u8 = 8;
pub const OPUS_PAYLOAD_TYPE: u8 = 120;
pub const H264_PAYLOAD_TYPE: u8 = 101;
pub const H264_RTX_PAYLOAD_TYPE: u8 = 102;
/// Playout-delay extension id, as Discord-video-stream sends it (see `rtp::HeaderExtension`).
pub const PLAYOUT_DELAY_ID: u8 = 5;
/// Media time between RTCP sender reports per stream (Discord's clients send about one a
/// second, as WebRTC does).
pub const SENDER_REPORT_EVERY: Duration = Duration::from_secs(1);

/// Voice opcodes (Discord's docs; 12 from Discord-video-stream and the unofficial docs).
pub mod op {
    pub const IDENTIFY: u8 = 0;
    pub const SELECT_PROTOCOL: u8 = 1;
    pub const READY: u8 = 2;
    pub const HEARTBEAT: u8 = 3;
    pub const SESSION_DESCRIPTION: u8 = 4;
    pub const SPEAKING: u8 = 5;
    pub const HEARTBEAT_ACK: u8 = 6;
    pub const RESUME: u8 = 7;
    pub const HELLO: u8 = 8;
    pub const RESUMED: u8 = 9;
    pub const CLIENTS_CONNECT: u8 = 11;
    pub const VIDEO: u8 = 12;
    pub const CLIENT_DISCONNECT: u8 = 13;
}

/// Speaking flags (op 5).
pub const SPEAKING_MICROPHONE: u8 = 1;
pub const SPEAKING_SOUNDSHARE: u8 = 2;

/// How a connection behaves; the defaults suit Discord.
#[derive(Debug, Clone)]
pub struct VoiceOptions {
    /// From dialling to the Session Description.
    pub handshake_timeout: Duration,
    /// How long to wait for the DAVE group before refusing to send media.
    pub dave_timeout: Duration,
    /// `connect` returns only once DAVE can encrypt (otherwise the sink waits for it).
    pub wait_for_dave: bool,
    /// Resume attempts after the websocket drops before the connection gives up.
    pub max_resume_attempts: u32,
    /// Largest RTP payload.
    pub max_payload: usize,
    /// How many sent video packets are kept for retransmission, and for how long.
    pub rtx_history: usize,
    pub rtx_max_age: Duration,
    /// Retransmitted packets per second at most; `None` = a quarter of the video's maximum
    /// bitrate, so repairs never take more than that on top of the stream.
    pub rtx_per_second: Option<NonZeroU32>,
}

impl Default for VoiceOptions {
    fn default() -> Self {
        Self {
            handshake_timeout: Duration::from_secs(20),
            dave_timeout: Duration::from_secs(20),
            wait_for_dave: true,
            max_resume_attempts: 5,
            max_payload: crate::rtp::DEFAULT_MAX_PAYLOAD,
            rtx_history: History::DEFAULT_CAPACITY,
            rtx_max_age: History::DEFAULT_MAX_AGE,
            rtx_per_second: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    #[error("could not connect to the voice server {endpoint}: {reason}")]
    Connect { endpoint: String, reason: String },
    #[error("the voice server closed the connection with code {code} ({meaning})")]
    Closed { code: u16, meaning: &'static str },
    #[error(
        "the voice server offers none of the encryption modes Lounge supports \
         (aead_aes256_gcm_rtpsize, aead_xchacha20_poly1305_rtpsize); it offered: {0}"
    )]
    NoEncryptionMode(String),
    #[error(
        "UDP IP discovery with the voice server at {addr} failed: {reason} (is UDP blocked by a firewall?)"
    )]
    IpDiscovery { addr: SocketAddr, reason: String },
    #[error(
        "the voice server did not negotiate DAVE end-to-end encryption (dave_protocol_version 0); \
         Lounge never sends media without it, so the stream cannot start"
    )]
    DaveNotNegotiated,
    #[error(
        "DAVE end-to-end encryption was not ready after {0:?}: the voice server never completed \
         the MLS group, so no media was sent"
    )]
    DaveNotReady(Duration),
    #[error(transparent)]
    Dave(#[from] DaveError),
    #[error("the voice server sent a malformed {what}: {reason}")]
    Protocol { what: &'static str, reason: String },
    #[error("timed out after {0:?} waiting for the voice server's session description")]
    Timeout(Duration),
    #[error("the voice connection is closed: {0}")]
    ConnectionClosed(String),
    #[error("this connection's media sink was already taken (one cipher per connection)")]
    SinkTaken,
    #[error("sending media failed: {0}")]
    Send(#[from] SendError),
}

/// What a close code means, and whether resuming can help.
pub fn close_code_meaning(code: u16) -> (&'static str, bool) {
    match code {
        4001 => ("Lounge sent an unknown opcode; this is a bug", false),
        4002 => (
            "Lounge sent a payload the server could not decode; this is a bug",
            false,
        ),
        4003 => (
            "Lounge sent a payload before identifying; this is a bug",
            false,
        ),
        4004 => (
            "authentication failed: the voice token is wrong or expired; rejoin the channel",
            false,
        ),
        4005 => ("Lounge identified twice; this is a bug", false),
        4006 => (
            "the voice session is no longer valid; rejoin the channel",
            false,
        ),
        4009 => ("the voice session timed out; rejoin the channel", false),
        4011 => ("the voice server was not found; rejoin the channel", false),
        4012 => (
            "the voice server does not know the protocol Lounge selected",
            false,
        ),
        4014 => (
            "disconnected: the channel was deleted, Lounge was kicked or moved, or the stream ended; do not reconnect",
            false,
        ),
        4015 => ("the voice server crashed", true),
        4016 => (
            "the voice server does not know the encryption mode Lounge selected",
            false,
        ),
        4017 => (
            "the voice server requires DAVE end-to-end encryption and Lounge did not complete it",
            false,
        ),
        4020 => (
            "the voice server refused a malformed request; this is a bug",
            false,
        ),
        4021 => (
            "rate limited by the voice server; wait before starting again",
            false,
        ),
        4022 => ("the call was terminated", false),
        c if c < 4000 => ("the connection closed", true),
        _ => ("an unknown voice close code", false),
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VoiceStats {
    pub video_packets: u64,
    pub audio_packets: u64,
    /// Bytes on the wire.
    pub bytes: u64,
    /// Frames not sent because DAVE refused them (e.g. Opus silence).
    pub frames_skipped: u64,
    /// The MLS epoch of the DAVE group, once established.
    pub dave_epoch: Option<u64>,
    pub dave_transitions: u64,
    /// Successful resumes of the websocket.
    pub resumes: u64,
    /// RTCP sender reports sent (not counted as media packets).
    pub sender_reports: u64,
    /// Video packets the server asked for again (generic NACK entries for our video SSRC).
    pub nacked: u64,
    /// RTX packets sent in answer (not counted as media packets; their bytes are in `bytes`).
    pub retransmissions: u64,
    /// Asked-for packets no longer kept (too old) or never sent: not answered.
    pub nacks_too_old: u64,
    /// Asked-for packets not answered because the retransmission budget was spent.
    pub nacks_over_budget: u64,
    /// Incoming RTCP that failed authentication or did not parse.
    pub rtcp_rejected: u64,
}

struct Shared {
    dave: Mutex<Dave>,
    video_packets: AtomicU64,
    audio_packets: AtomicU64,
    bytes: AtomicU64,
    frames_skipped: AtomicU64,
    resumes: AtomicU64,
    sender_reports: AtomicU64,
    nacked: AtomicU64,
    retransmissions: AtomicU64,
    nacks_too_old: AtomicU64,
    nacks_over_budget: AtomicU64,
    rtcp_rejected: AtomicU64,
    first_packet: OnceLock<Instant>,
    /// Set when the connection ended for good, with why.
    ended: Mutex<Option<String>>,
    closed: AtomicBool,
}

impl Shared {
    fn end(&self, reason: String) {
        self.closed.store(true, Ordering::SeqCst);
        self.ended
            .lock()
            .expect("not poisoned")
            .get_or_insert(reason);
    }

    fn ended(&self) -> Option<String> {
        if self.closed.load(Ordering::SeqCst) {
            self.ended.lock().expect("not poisoned").clone()
        } else {
            None
        }
    }

    fn can_encrypt(&self) -> bool {
        self.dave.lock().expect("not poisoned").can_encrypt()
    }
}

/// What the handshake established; fixed for the connection's life, resumes included.
struct Established {
    ssrcs: Ssrcs,
    server_addr: SocketAddr,
    mode: EncryptionMode,
    key: Vec<u8>,
    socket: std::net::UdpSocket,
}

enum Command {
    Speaking(bool),
    /// Op 12 again with the stream `active` or not; answered once it is on the websocket.
    VideoActive(bool, oneshot::Sender<()>),
    Close,
}

/// A live voice-gateway connection. Dropping it closes the websocket.
pub struct VoiceConnection {
    commands: mpsc::UnboundedSender<Command>,
    shared: Arc<Shared>,
    ssrcs: Ssrcs,
    server_addr: SocketAddr,
    local_addr: SocketAddr,
    mode: EncryptionMode,
    socket: Arc<std::net::UdpSocket>,
    /// The sealing cipher (it owns the nonce counter) and one that only opens.
    cipher: Mutex<Option<(TransportCipher, TransportCipher)>>,
    video: Option<super::VideoInfo>,
    options: VoiceOptions,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for VoiceConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoiceConnection")
            .field("ssrcs", &self.ssrcs)
            .field("server_addr", &self.server_addr)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl VoiceConnection {
    /// Connects, identifies, discovers our UDP address, selects the protocol and waits for the
    /// Session Description (and, with [`VoiceOptions::wait_for_dave`], for the DAVE group).
    /// Fails if the server does not negotiate DAVE.
    pub async fn connect(server: VoiceServer, options: VoiceOptions) -> Result<Self, VoiceError> {
        let ws = dial(&server.endpoint).await?;
        let video = server.video;
        let shared = Arc::new(Shared {
            dave: Mutex::new(Dave::new(server.user_id, server.dave_group_id)),
            video_packets: AtomicU64::new(0),
            audio_packets: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            frames_skipped: AtomicU64::new(0),
            resumes: AtomicU64::new(0),
            sender_reports: AtomicU64::new(0),
            nacked: AtomicU64::new(0),
            retransmissions: AtomicU64::new(0),
            nacks_too_old: AtomicU64::new(0),
            nacks_over_budget: AtomicU64::new(0),
            rtcp_rejected: AtomicU64::new(0),
            first_packet: OnceLock::new(),
            ended: Mutex::new(None),
            closed: AtomicBool::new(false),
        });
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = oneshot::channel();
        let link = Link::new(server, options.clone(), Arc::clone(&shared), ready_tx);
        let task = tokio::spawn(link.run(ws, command_rx));
        let established = match tokio::time::timeout(options.handshake_timeout, ready_rx).await {
            Ok(Ok(Ok(e))) => e,
            Ok(Ok(Err(e))) => return Err(e),
            Ok(Err(_)) => {
                return Err(VoiceError::ConnectionClosed(
                    shared
                        .ended()
                        .unwrap_or_else(|| "the handshake ended".into()),
                ));
            }
            Err(_) => {
                task.abort();
                return Err(VoiceError::Timeout(options.handshake_timeout));
            }
        };
        let cipher = || {
            TransportCipher::new(established.mode, &established.key).map_err(|e| {
                VoiceError::Protocol {
                    what: "Session Description (op 4)",
                    reason: e.to_string(),
                }
            })
        };
        let ciphers = (cipher()?, cipher()?);
        let local_addr = established
            .socket
            .local_addr()
            .map_err(|e| VoiceError::ConnectionClosed(e.to_string()))?;
        let connection = Self {
            commands,
            shared,
            ssrcs: established.ssrcs,
            server_addr: established.server_addr,
            local_addr,
            mode: established.mode,
            socket: Arc::new(established.socket),
            cipher: Mutex::new(Some(ciphers)),
            video,
            options,
            task: Some(task),
        };
        if connection.options.wait_for_dave {
            connection
                .wait_for_dave(connection.options.dave_timeout)
                .await?;
        }
        Ok(connection)
    }

    /// Waits until DAVE can encrypt media.
    pub async fn wait_for_dave(&self, timeout: Duration) -> Result<(), VoiceError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(reason) = self.shared.ended() {
                return Err(VoiceError::ConnectionClosed(reason));
            }
            if self.shared.can_encrypt() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(VoiceError::DaveNotReady(timeout));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The sink that sends this connection's media. There is one per connection: it owns the
    /// transport cipher's nonce counter.
    pub fn media_sink(&self) -> Result<MediaSink, VoiceError> {
        let (cipher, opener) = self
            .cipher
            .lock()
            .expect("not poisoned")
            .take()
            .ok_or(VoiceError::SinkTaken)?;
        let cipher = SharedCipher::new(cipher);
        let video = StreamConfig::new(self.ssrcs.video, H264_PAYLOAD_TYPE)
            .random_start()
            .with_extension(HeaderExtension::playout_delay(PLAYOUT_DELAY_ID, 0, 0));
        let audio = StreamConfig::new(self.ssrcs.audio, OPUS_PAYLOAD_TYPE).random_start();
        let transport = UdpOut {
            socket: Arc::clone(&self.socket),
            to: self.server_addr,
            shared: Arc::clone(&self.shared),
        };
        let mut sender = MediaSender::new(
            video,
            audio,
            cipher.clone(),
            transport,
            Some(Pacer::new(SystemClock::new())),
        )
        .with_max_payload(self.options.max_payload)
        .with_sender_reports(SENDER_REPORT_EVERY);
        let mut nack_answerer = None;
        if let Some(info) = self.video {
            let o = &self.options;
            let history = Arc::new(Mutex::new(History::new(o.rtx_history, o.rtx_max_age)));
            sender = sender.with_history(Arc::clone(&history));
            let per_second = o
                .rtx_per_second
                .unwrap_or_else(|| rtx_budget(info.max_bitrate, o.max_payload));
            let retransmitter = Retransmitter::new(
                self.ssrcs.video,
                RtxStream::new(self.ssrcs.rtx, H264_RTX_PAYLOAD_TYPE, rand::random()),
                history,
                per_second,
            );
            nack_answerer = Some(NackAnswerer::spawn(NackLoop {
                socket: Arc::clone(&self.socket),
                to: self.server_addr,
                opener,
                sealer: cipher,
                retransmitter,
                shared: Arc::clone(&self.shared),
                stop: Arc::new(AtomicBool::new(false)),
            })?);
        }
        Ok(MediaSink::new(
            sender,
            nack_answerer,
            Arc::clone(&self.shared),
            self.options.dave_timeout,
        ))
    }

    /// Sets the speaking flag (soundshare for a stream, microphone for a call).
    pub fn set_speaking(&self, speaking: bool) {
        let _ = self.commands.send(Command::Speaking(speaking));
    }

    /// Tells the server the stream's video is (in)active by sending op 12 again, as Discord's
    /// clients do on pause and resume; returns once it is on the websocket. A connection
    /// without video has nothing to say.
    pub async fn set_video_active(&self, active: bool) -> Result<(), VoiceError> {
        if self.video.is_none() {
            return Ok(());
        }
        let (done, sent) = oneshot::channel();
        let _ = self.commands.send(Command::VideoActive(active, done));
        match tokio::time::timeout(Duration::from_secs(10), sent).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(VoiceError::ConnectionClosed(
                self.shared
                    .ended()
                    .unwrap_or_else(|| "the websocket dropped before op 12 was sent".into()),
            )),
            Err(_) => Err(VoiceError::Timeout(Duration::from_secs(10))),
        }
    }

    /// Closes the websocket (code 1000) and stops the connection's task.
    pub async fn close(mut self) {
        let _ = self.commands.send(Command::Close);
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }

    pub fn ssrcs(&self) -> Ssrcs {
        self.ssrcs
    }

    pub fn mode(&self) -> EncryptionMode {
        self.mode
    }

    /// Our UDP socket's local address (the one IP discovery ran on).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn stats(&self) -> VoiceStats {
        let s = &self.shared;
        let dave = s.dave.lock().expect("not poisoned");
        VoiceStats {
            video_packets: s.video_packets.load(Ordering::Relaxed),
            audio_packets: s.audio_packets.load(Ordering::Relaxed),
            bytes: s.bytes.load(Ordering::Relaxed),
            frames_skipped: s.frames_skipped.load(Ordering::Relaxed),
            dave_epoch: dave.epoch(),
            dave_transitions: dave.transitions(),
            resumes: s.resumes.load(Ordering::Relaxed),
            sender_reports: s.sender_reports.load(Ordering::Relaxed),
            nacked: s.nacked.load(Ordering::Relaxed),
            retransmissions: s.retransmissions.load(Ordering::Relaxed),
            nacks_too_old: s.nacks_too_old.load(Ordering::Relaxed),
            nacks_over_budget: s.nacks_over_budget.load(Ordering::Relaxed),
            rtcp_rejected: s.rtcp_rejected.load(Ordering::Relaxed),
        }
    }

    /// When the first media packet left, if one has.
    pub fn first_packet_at(&self) -> Option<Instant> {
        self.shared.first_packet.get().copied()
    }

    /// The DAVE voice privacy code, once the group is established.
    pub fn privacy_code(&self) -> Option<String> {
        self.shared
            .dave
            .lock()
            .expect("not poisoned")
            .privacy_code()
    }

    /// Why the connection ended, if it has.
    pub fn ended(&self) -> Option<String> {
        self.shared.ended()
    }
}

impl Drop for VoiceConnection {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Close);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_codes_say_whether_to_resume() {
        assert!(close_code_meaning(4015).1);
        assert!(close_code_meaning(1006).1);
        for code in [4004, 4006, 4014, 4017, 4022] {
            assert!(!close_code_meaning(code).1, "{code}");
        }
        assert!(close_code_meaning(4017).0.contains("DAVE"));
    }
}
