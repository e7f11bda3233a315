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

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::dave::{self, Dave, DaveError, Outgoing};
use super::{VoiceServer, is_loopback_endpoint};
use crate::pipeline::StreamKind;
use crate::rtp::crypto::{EncryptionMode, Sealer, SharedCipher, TransportCipher};
use crate::rtp::pacer::{Pacer, SystemClock};
use crate::rtp::rtx::{self, History, Outcome, Retransmitter, RtxStream};
use crate::rtp::send::{MediaSender, MediaUnit, SendError, SendStats, Transport};
use crate::rtp::{HeaderExtension, StreamConfig};

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
/// The simulcast id of our one video stream.
const STREAM_RID: &str = "100";

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

// ---------------------------------------------------------------------------------------------
// IP discovery

pub const IP_DISCOVERY_LEN: usize = 74;

/// The 74-byte IP discovery request: type 1, length 70, SSRC, then zeros.
pub fn ip_discovery_request(ssrc: u32) -> [u8; IP_DISCOVERY_LEN] {
    let mut p = [0u8; IP_DISCOVERY_LEN];
    p[0..2].copy_from_slice(&1u16.to_be_bytes());
    p[2..4].copy_from_slice(&70u16.to_be_bytes());
    p[4..8].copy_from_slice(&ssrc.to_be_bytes());
    p
}

/// Parses the response (type 2): our address as the server sees it, NUL-terminated from
/// byte 8, and the port in the last two bytes.
pub fn parse_ip_discovery_response(p: &[u8], ssrc: u32) -> Result<SocketAddr, String> {
    if p.len() != IP_DISCOVERY_LEN {
        return Err(format!(
            "a {}-byte reply, expected {IP_DISCOVERY_LEN}",
            p.len()
        ));
    }
    let kind = u16::from_be_bytes([p[0], p[1]]);
    let len = u16::from_be_bytes([p[2], p[3]]);
    let got_ssrc = u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
    if kind != 2 || len != 70 {
        return Err(format!(
            "type {kind} length {len}, expected a type 2 length 70 reply"
        ));
    }
    if got_ssrc != ssrc {
        return Err(format!(
            "the reply is for SSRC {got_ssrc}, not ours ({ssrc})"
        ));
    }
    let field = &p[8..72];
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    let text =
        std::str::from_utf8(&field[..end]).map_err(|_| "the address is not text".to_owned())?;
    let ip: IpAddr = text
        .parse()
        .map_err(|_| format!("{text:?} is not an IP address"))?;
    let port = u16::from_be_bytes([p[72], p[73]]);
    Ok(SocketAddr::new(ip, port))
}

async fn discover_ip(
    socket: &tokio::net::UdpSocket,
    to: SocketAddr,
    ssrc: u32,
) -> Result<SocketAddr, VoiceError> {
    let fail = |reason: String| VoiceError::IpDiscovery { addr: to, reason };
    let request = ip_discovery_request(ssrc);
    let mut buf = [0u8; 128];
    // UDP may lose the request or the reply: ask a few times.
    for _ in 0..5 {
        socket
            .send_to(&request, to)
            .await
            .map_err(|e| fail(e.to_string()))?;
        match tokio::time::timeout(Duration::from_secs(1), socket.recv_from(&mut buf)).await {
            Ok(Ok((n, from))) if from == to => {
                return parse_ip_discovery_response(&buf[..n], ssrc).map_err(fail);
            }
            Ok(Err(e)) => return Err(fail(e.to_string())),
            // A stray datagram or no reply yet: ask again.
            Ok(Ok(_)) | Err(_) => {}
        }
    }
    Err(fail("no reply after 5 attempts".into()))
}

/// Picks the transport mode from Ready's `modes`.
pub fn select_mode(offered: &[String]) -> Result<EncryptionMode, VoiceError> {
    EncryptionMode::negotiate(offered.iter().map(String::as_str))
        .ok_or_else(|| VoiceError::NoEncryptionMode(offered.join(", ")))
}

// ---------------------------------------------------------------------------------------------
// Payloads

fn message(opcode: u8, d: Value) -> Message {
    Message::Text(json!({ "op": opcode, "d": d }).to_string())
}

fn identify(server: &VoiceServer) -> Value {
    json!({
        "server_id": server.server_id.to_string(),
        "user_id": server.user_id.to_string(),
        "session_id": server.session_id,
        "token": server.token,
        "video": true,
        "streams": [{ "type": "screen", "rid": STREAM_RID, "quality": 100 }],
        "max_dave_protocol_version": dave::MAX_PROTOCOL_VERSION,
    })
}

fn resume(server: &VoiceServer, seq_ack: i64) -> Value {
    json!({
        "server_id": server.server_id.to_string(),
        "session_id": server.session_id,
        "token": server.token,
        "seq_ack": seq_ack,
    })
}

fn select_protocol(address: SocketAddr, mode: EncryptionMode) -> Value {
    json!({
        "protocol": "udp",
        "data": { "address": address.ip().to_string(), "port": address.port(), "mode": mode.name() },
        "codecs": [
            { "name": "opus", "type": "audio", "priority": 1000, "payload_type": OPUS_PAYLOAD_TYPE },
            {
                "name": "H264", "type": "video", "priority": 1000,
                "payload_type": H264_PAYLOAD_TYPE, "rtx_payload_type": H264_RTX_PAYLOAD_TYPE,
                "encode": true, "decode": true,
            },
        ],
    })
}

/// The SSRCs and addresses Ready gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ssrcs {
    pub audio: u32,
    pub video: u32,
    pub rtx: u32,
}

fn video_op(ssrcs: Ssrcs, video: Option<super::VideoInfo>, active: bool) -> Value {
    match video {
        Some(v) => json!({
            "audio_ssrc": ssrcs.audio,
            "video_ssrc": ssrcs.video,
            "rtx_ssrc": ssrcs.rtx,
            "streams": [{
                "type": "video", "rid": STREAM_RID, "ssrc": ssrcs.video, "rtx_ssrc": ssrcs.rtx,
                "active": active, "quality": 100,
                "max_bitrate": v.max_bitrate, "max_framerate": v.fps,
                "max_resolution": { "type": "fixed", "width": v.width, "height": v.height },
            }],
        }),
        None => json!({ "audio_ssrc": ssrcs.audio, "video_ssrc": 0, "rtx_ssrc": 0, "streams": [] }),
    }
}

struct Ready {
    ssrcs: Ssrcs,
    server_addr: SocketAddr,
    modes: Vec<String>,
}

fn parse_ready(d: &Value) -> Result<Ready, VoiceError> {
    let bad = |reason: &str| VoiceError::Protocol {
        what: "Ready (op 2)",
        reason: reason.to_owned(),
    };
    let audio = d
        .get("ssrc")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("no ssrc"))?;
    let ip: IpAddr = d
        .get("ip")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no ip address"))?;
    let port = d
        .get("port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .ok_or_else(|| bad("no port"))?;
    let modes = d
        .get("modes")
        .and_then(Value::as_array)
        .map(|m| {
            m.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let audio = u32::try_from(audio).map_err(|_| bad("ssrc out of range"))?;
    // Discord-video-stream takes the first stream's SSRCs; the unofficial docs say RTX
    // defaults to ssrc + 1 when absent.
    let stream = d
        .get("streams")
        .and_then(Value::as_array)
        .and_then(|s| s.first());
    let get = |k: &str| {
        stream
            .and_then(|s| s.get(k))
            .and_then(Value::as_u64)
            .and_then(|v| u32::try_from(v).ok())
    };
    let video = get("ssrc").unwrap_or(audio.wrapping_add(1));
    let rtx = get("rtx_ssrc").unwrap_or(video.wrapping_add(1));
    Ok(Ready {
        ssrcs: Ssrcs { audio, video, rtx },
        server_addr: SocketAddr::new(ip, port),
        modes,
    })
}

// ---------------------------------------------------------------------------------------------
// Shared state

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
        let link = Link {
            server,
            options: options.clone(),
            shared: Arc::clone(&shared),
            seq_ack: -1,
            heartbeat: None,
            new_heartbeat: false,
            video_active: true,
            awaiting_ack: false,
            selected: None,
            established: None,
            ready_tx: Some(ready_tx),
        };
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
        Ok(MediaSink {
            sender,
            _nack_answerer: nack_answerer,
            shared: Arc::clone(&self.shared),
            frame: Vec::new(),
            h264: H264Prep::default(),
            dave_timeout: self.options.dave_timeout,
        })
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

// ---------------------------------------------------------------------------------------------
// Media

struct UdpOut {
    socket: Arc<std::net::UdpSocket>,
    to: SocketAddr,
    shared: Arc<Shared>,
}

impl Transport for UdpOut {
    fn send(&mut self, kind: StreamKind, packet: &[u8]) -> std::io::Result<()> {
        self.socket.send_to(packet, self.to)?;
        self.shared.first_packet.get_or_init(Instant::now);
        let s = &self.shared;
        match kind {
            StreamKind::Video => s.video_packets.fetch_add(1, Ordering::Relaxed),
            StreamKind::Audio => s.audio_packets.fetch_add(1, Ordering::Relaxed),
        };
        s.bytes.fetch_add(packet.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    fn send_rtcp(&mut self, _: StreamKind, packet: &[u8]) -> std::io::Result<()> {
        self.socket.send_to(packet, self.to)?;
        self.shared.sender_reports.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

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
fn rtx_budget(max_bitrate: u64, max_payload: usize) -> NonZeroU32 {
    let packets = max_bitrate / 8 / (max_payload.max(1) as u64);
    let budget = u32::try_from(packets / 4).unwrap_or(u32::MAX).max(25);
    NonZeroU32::new(budget).expect("at least 25")
}

/// Everything the NACK-answering thread owns or shares.
struct NackLoop {
    socket: Arc<std::net::UdpSocket>,
    to: SocketAddr,
    opener: TransportCipher,
    sealer: SharedCipher,
    retransmitter: Retransmitter,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
}

/// The thread that reads the voice socket and answers NACKs; it stops when dropped.
struct NackAnswerer {
    stop: Arc<AtomicBool>,
}

impl NackAnswerer {
    /// How often the thread looks up from the socket to see whether it should stop.
    const POLL: Duration = Duration::from_millis(200);

    fn spawn(state: NackLoop) -> Result<Self, VoiceError> {
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

// ---------------------------------------------------------------------------------------------
// The websocket task

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn dial(endpoint: &str) -> Result<Ws, VoiceError> {
    let scheme = if is_loopback_endpoint(endpoint) {
        "ws"
    } else {
        "wss"
    };
    let url = format!("{scheme}://{endpoint}/?v={GATEWAY_VERSION}");
    let (ws, _) = tokio::time::timeout(
        Duration::from_secs(15),
        tokio_tungstenite::connect_async(url),
    )
    .await
    .map_err(|_| VoiceError::Connect {
        endpoint: endpoint.to_owned(),
        reason: "timed out".into(),
    })?
    .map_err(|e| VoiceError::Connect {
        endpoint: endpoint.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(ws)
}

/// Why one websocket's session ended.
enum Ended {
    /// We closed it.
    Closed,
    /// It dropped in a way a resume can fix.
    Dropped(String),
    /// It ended for good.
    Fatal(VoiceError),
}

struct Link {
    server: VoiceServer,
    options: VoiceOptions,
    shared: Arc<Shared>,
    /// The last sequence number the server sent (v8), for heartbeats and resume.
    seq_ack: i64,
    heartbeat: Option<Duration>,
    /// Hello just set the interval: restart the heartbeat schedule.
    new_heartbeat: bool,
    /// What op 12 says about the stream (false while paused).
    video_active: bool,
    awaiting_ack: bool,
    /// Ready's SSRCs and address and the mode selected, until the Session Description.
    selected: Option<(Ready, EncryptionMode, std::net::UdpSocket)>,
    established: Option<(Ssrcs, EncryptionMode)>,
    ready_tx: Option<oneshot::Sender<Result<Established, VoiceError>>>,
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Link {
    async fn run(mut self, mut ws: Ws, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut resuming = false;
        loop {
            let first = if resuming {
                message(op::RESUME, resume(&self.server, self.seq_ack))
            } else {
                message(op::IDENTIFY, identify(&self.server))
            };
            let ended = match ws.send(first).await {
                Ok(()) => self.drive(&mut ws, &mut commands).await,
                Err(e) => Ended::Dropped(e.to_string()),
            };
            match ended {
                Ended::Closed => {
                    self.shared.end("closed by Lounge".into());
                    return;
                }
                Ended::Fatal(e) => {
                    tracing::warn!(endpoint = %self.server.endpoint, error = %e, "voice connection failed");
                    self.shared.end(e.to_string());
                    if let Some(tx) = self.ready_tx.take() {
                        let _ = tx.send(Err(e));
                    }
                    let _ = ws.close(None).await;
                    return;
                }
                Ended::Dropped(reason) => {
                    if self.established.is_none() {
                        let e = VoiceError::ConnectionClosed(format!(
                            "the websocket dropped during the handshake: {reason}"
                        ));
                        self.shared.end(e.to_string());
                        if let Some(tx) = self.ready_tx.take() {
                            let _ = tx.send(Err(e));
                        }
                        return;
                    }
                    tracing::info!(endpoint = %self.server.endpoint, %reason, "voice websocket dropped; resuming");
                    match self.reconnect().await {
                        Ok(new) => {
                            ws = new;
                            resuming = true;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "voice resume failed");
                            self.shared.end(e.to_string());
                            return;
                        }
                    }
                }
            }
        }
    }

    async fn reconnect(&self) -> Result<Ws, VoiceError> {
        let mut last = None;
        for attempt in 0..self.options.max_resume_attempts {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(250 << attempt.min(5))).await;
            }
            match dial(&self.server.endpoint).await {
                Ok(ws) => return Ok(ws),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or(VoiceError::ConnectionClosed(
            "no resume attempts allowed".into(),
        )))
    }

    async fn drive(
        &mut self,
        ws: &mut Ws,
        commands: &mut mpsc::UnboundedReceiver<Command>,
    ) -> Ended {
        self.awaiting_ack = false;
        let far = Duration::from_hours(1);
        let mut next_beat = tokio::time::Instant::now() + self.heartbeat.unwrap_or(far);
        loop {
            tokio::select! {
                incoming = ws.next() => {
                    let result = match incoming {
                        None => return Ended::Dropped("the websocket ended".into()),
                        Some(Err(e)) => return Ended::Dropped(e.to_string()),
                        Some(Ok(Message::Close(frame))) => {
                            let code = frame.as_ref().map_or(1005, |f| u16::from(f.code));
                            let (meaning, resumable) = close_code_meaning(code);
                            return if resumable {
                                Ended::Dropped(format!("closed with {code}"))
                            } else {
                                Ended::Fatal(VoiceError::Closed { code, meaning })
                            };
                        }
                        Some(Ok(Message::Text(text))) => self.on_text(ws, &text).await,
                        Some(Ok(Message::Binary(bytes))) => self.on_binary(ws, &bytes).await,
                        Some(Ok(_)) => Ok(()),
                    };
                    if let Err(ended) = result {
                        return ended;
                    }
                    if std::mem::take(&mut self.new_heartbeat)
                        && let Some(interval) = self.heartbeat
                    {
                        next_beat = tokio::time::Instant::now() + interval;
                    }
                }
                () = tokio::time::sleep_until(next_beat) => {
                    if self.awaiting_ack {
                        return Ended::Dropped("no heartbeat ACK".into());
                    }
                    let beat = message(op::HEARTBEAT, json!({ "t": now_millis(), "seq_ack": self.seq_ack }));
                    if let Err(e) = ws.send(beat).await {
                        return Ended::Dropped(e.to_string());
                    }
                    self.awaiting_ack = true;
                    next_beat += self.heartbeat.unwrap_or(far);
                }
                command = commands.recv() => match command {
                    None | Some(Command::Close) => {
                        let _ = ws.close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                            code: CloseCode::Normal,
                            reason: "".into(),
                        })).await;
                        return Ended::Closed;
                    }
                    Some(Command::VideoActive(active, done)) => {
                        self.video_active = active;
                        if let Some((ssrcs, _)) = self.established
                            && self.server.video.is_some()
                        {
                            let op12 = message(op::VIDEO, video_op(ssrcs, self.server.video, active));
                            if let Err(e) = ws.send(op12).await {
                                return Ended::Dropped(e.to_string());
                            }
                        }
                        let _ = done.send(());
                    }
                    Some(Command::Speaking(on)) => {
                        if let Some((ssrcs, _)) = self.established
                            && let Err(e) = ws.send(self.speaking(ssrcs, on)).await
                        {
                            return Ended::Dropped(e.to_string());
                        }
                    }
                },
            }
        }
    }

    fn speaking(&self, ssrcs: Ssrcs, on: bool) -> Message {
        let flag = if !on {
            0
        } else if self.server.video.is_some() {
            SPEAKING_SOUNDSHARE
        } else {
            SPEAKING_MICROPHONE
        };
        message(
            op::SPEAKING,
            json!({ "speaking": flag, "delay": 0, "ssrc": ssrcs.audio }),
        )
    }

    async fn send_all(ws: &mut Ws, out: Vec<Outgoing>) -> Result<(), Ended> {
        for o in out {
            let m = match o {
                Outgoing::Json { op, d } => message(op, d),
                Outgoing::Binary { op, payload } => {
                    Message::Binary(Outgoing::binary_frame(op, &payload))
                }
            };
            ws.send(m)
                .await
                .map_err(|e| Ended::Dropped(e.to_string()))?;
        }
        Ok(())
    }

    async fn on_text(&mut self, ws: &mut Ws, text: &str) -> Result<(), Ended> {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            tracing::debug!("unparsable voice gateway message ignored");
            return Ok(());
        };
        if let Some(seq) = v.get("seq").and_then(Value::as_i64) {
            self.seq_ack = seq;
        }
        let Some(opcode) = v
            .get("op")
            .and_then(Value::as_u64)
            .and_then(|o| u8::try_from(o).ok())
        else {
            return Ok(());
        };
        let d = v.get("d").cloned().unwrap_or(Value::Null);
        match opcode {
            op::HELLO => {
                let ms = d
                    .get("heartbeat_interval")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0);
                if !(1.0..=600_000.0).contains(&ms) {
                    return Err(Ended::Fatal(VoiceError::Protocol {
                        what: "Hello (op 8)",
                        reason: format!("heartbeat interval {ms} ms"),
                    }));
                }
                self.heartbeat = Some(Duration::from_secs_f64(ms / 1000.0));
                self.new_heartbeat = true;
            }
            op::HEARTBEAT_ACK => self.awaiting_ack = false,
            op::READY => self.on_ready(ws, &d).await?,
            op::SESSION_DESCRIPTION => self.on_session(ws, &d).await?,
            op::RESUMED => {
                self.shared.resumes.fetch_add(1, Ordering::Relaxed);
                tracing::info!(endpoint = %self.server.endpoint, "voice connection resumed");
            }
            op::CLIENTS_CONNECT => {
                let ids = d
                    .get("user_ids")
                    .and_then(Value::as_array)
                    .map(|ids| ids.iter().filter_map(snowflake).collect::<Vec<_>>())
                    .unwrap_or_default();
                self.shared
                    .dave
                    .lock()
                    .expect("not poisoned")
                    .clients_connect(ids);
            }
            op::CLIENT_DISCONNECT => {
                if let Some(id) = d.get("user_id").and_then(snowflake) {
                    self.shared
                        .dave
                        .lock()
                        .expect("not poisoned")
                        .client_disconnect(id);
                }
            }
            dave::op::PREPARE_TRANSITION
            | dave::op::EXECUTE_TRANSITION
            | dave::op::PREPARE_EPOCH => {
                let out = self
                    .shared
                    .dave
                    .lock()
                    .expect("not poisoned")
                    .handle_json(opcode, &d);
                match out {
                    Ok(out) => Self::send_all(ws, out).await?,
                    Err(e) => tracing::warn!(opcode, error = %e, "DAVE message not handled"),
                }
            }
            _ => {}
        }
        Ok(())
    }

    async fn on_binary(&mut self, ws: &mut Ws, bytes: &[u8]) -> Result<(), Ended> {
        let (seq, opcode, payload) = match dave::split_server_frame(bytes) {
            Ok(parts) => parts,
            Err(e) => {
                tracing::debug!(error = %e, "binary voice message ignored");
                return Ok(());
            }
        };
        self.seq_ack = i64::from(seq);
        let out = self
            .shared
            .dave
            .lock()
            .expect("not poisoned")
            .handle_binary(opcode, payload);
        match out {
            Ok(out) => Self::send_all(ws, out).await,
            Err(e) => {
                tracing::warn!(opcode, error = %e, "DAVE message not handled");
                Ok(())
            }
        }
    }

    async fn on_ready(&mut self, ws: &mut Ws, d: &Value) -> Result<(), Ended> {
        if self.established.is_some() {
            return Ok(());
        }
        let ready = parse_ready(d).map_err(Ended::Fatal)?;
        let mode = select_mode(&ready.modes).map_err(Ended::Fatal)?;
        let any: SocketAddr = match ready.server_addr {
            SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let io = |e: std::io::Error| {
            Ended::Fatal(VoiceError::IpDiscovery {
                addr: ready.server_addr,
                reason: e.to_string(),
            })
        };
        let socket = tokio::net::UdpSocket::bind(any).await.map_err(io)?;
        let ours = discover_ip(&socket, ready.server_addr, ready.ssrcs.audio)
            .await
            .map_err(Ended::Fatal)?;
        tracing::debug!(%ours, %mode, ssrc = ready.ssrcs.audio, "voice UDP discovered");
        let socket = socket.into_std().map_err(io)?;
        socket.set_nonblocking(false).map_err(io)?;
        ws.send(message(op::SELECT_PROTOCOL, select_protocol(ours, mode)))
            .await
            .map_err(|e| Ended::Dropped(e.to_string()))?;
        self.selected = Some((ready, mode, socket));
        Ok(())
    }

    async fn on_session(&mut self, ws: &mut Ws, d: &Value) -> Result<(), Ended> {
        let Some((ready, mode, socket)) = self.selected.take() else {
            return Ok(());
        };
        let bad = |reason: String| {
            Ended::Fatal(VoiceError::Protocol {
                what: "Session Description (op 4)",
                reason,
            })
        };
        let named = d.get("mode").and_then(Value::as_str).unwrap_or_default();
        if named != mode.name() {
            return Err(bad(format!("mode {named:?}, but Lounge selected {mode}")));
        }
        let key: Vec<u8> = d
            .get("secret_key")
            .and_then(Value::as_array)
            .map(|k| {
                k.iter()
                    .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                    .collect()
            })
            .unwrap_or_default();
        if key.len() != crate::rtp::crypto::KEY_LEN {
            return Err(bad(format!("a {}-byte secret key", key.len())));
        }
        let version = d
            .get("dave_protocol_version")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if version == 0 {
            return Err(Ended::Fatal(VoiceError::DaveNotNegotiated));
        }
        let version = u16::try_from(version).unwrap_or(u16::MAX);
        let out = self
            .shared
            .dave
            .lock()
            .expect("not poisoned")
            .start(version)
            .map_err(|e| Ended::Fatal(e.into()))?;
        Self::send_all(ws, out).await?;
        let ssrcs = ready.ssrcs;
        // Before any media: the video attributes (streams only) and the speaking flag.
        if self.server.video.is_some() {
            ws.send(message(
                op::VIDEO,
                video_op(ssrcs, self.server.video, self.video_active),
            ))
            .await
            .map_err(|e| Ended::Dropped(e.to_string()))?;
        }
        ws.send(self.speaking(ssrcs, true))
            .await
            .map_err(|e| Ended::Dropped(e.to_string()))?;
        self.established = Some((ssrcs, mode));
        if let Some(tx) = self.ready_tx.take() {
            let _ = tx.send(Ok(Established {
                ssrcs,
                server_addr: ready.server_addr,
                mode,
                key,
                socket,
            }));
        }
        Ok(())
    }
}

fn snowflake(v: &Value) -> Option<u64> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| v.as_u64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_discovery_packets_round_trip() {
        let req = ip_discovery_request(0x0102_0304);
        assert_eq!(req.len(), 74);
        assert_eq!(req[..8], [0, 1, 0, 70, 1, 2, 3, 4]);
        assert!(req[8..].iter().all(|&b| b == 0));
        let mut resp = [0u8; 74];
        resp[..8].copy_from_slice(&[0, 2, 0, 70, 1, 2, 3, 4]);
        resp[8..8 + 11].copy_from_slice(b"203.0.113.9");
        resp[72..].copy_from_slice(&50_000u16.to_be_bytes());
        assert_eq!(
            parse_ip_discovery_response(&resp, 0x0102_0304),
            Ok("203.0.113.9:50000".parse().unwrap())
        );
        assert!(
            parse_ip_discovery_response(&resp, 7)
                .unwrap_err()
                .contains("SSRC")
        );
        assert!(parse_ip_discovery_response(&resp[..70], 0x0102_0304).is_err());
        let mut wrong = resp;
        wrong[1] = 1;
        assert!(parse_ip_discovery_response(&wrong, 0x0102_0304).is_err());
        let mut garbage = resp;
        garbage[8..19].copy_from_slice(b"not-an-addr");
        assert!(parse_ip_discovery_response(&garbage, 0x0102_0304).is_err());
    }

    #[test]
    fn modes_prefer_aes_gcm_and_refuse_the_rest() {
        let offered = |m: &[&str]| m.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let both = offered(&["aead_xchacha20_poly1305_rtpsize", "aead_aes256_gcm_rtpsize"]);
        assert_eq!(
            select_mode(&both).unwrap(),
            EncryptionMode::Aes256GcmRtpSize
        );
        let chacha = offered(&["xsalsa20_poly1305", "aead_xchacha20_poly1305_rtpsize"]);
        assert_eq!(
            select_mode(&chacha).unwrap(),
            EncryptionMode::XChaCha20Poly1305RtpSize
        );
        let err = select_mode(&offered(&["xsalsa20_poly1305_lite"])).unwrap_err();
        assert!(err.to_string().contains("xsalsa20_poly1305_lite"), "{err}");
    }

    #[test]
    fn payloads_carry_the_fields_discord_expects() {
        let server = VoiceServer {
            endpoint: "127.0.0.1:1".into(),
            server_id: 11,
            user_id: 22,
            session_id: "s".into(),
            token: "t".into(),
            dave_group_id: 10,
            video: None,
        };
        let id = identify(&server);
        assert_eq!(id["server_id"], "11");
        assert_eq!(id["user_id"], "22");
        assert_eq!(id["video"], true);
        assert_eq!(
            id["streams"],
            json!([{"type": "screen", "rid": "100", "quality": 100}])
        );
        assert_eq!(id["max_dave_protocol_version"], 1);
        let sp = select_protocol(
            "1.2.3.4:5".parse().unwrap(),
            EncryptionMode::Aes256GcmRtpSize,
        );
        assert_eq!(
            sp["data"],
            json!({"address": "1.2.3.4", "port": 5, "mode": "aead_aes256_gcm_rtpsize"})
        );
        assert_eq!(sp["codecs"][0]["payload_type"], 120);
        assert_eq!(sp["codecs"][1]["payload_type"], 101);
        assert_eq!(sp["codecs"][1]["rtx_payload_type"], 102);
        let ssrcs = Ssrcs {
            audio: 1,
            video: 2,
            rtx: 3,
        };
        let info = Some(super::super::VideoInfo {
            width: 640,
            height: 360,
            fps: 30,
            max_bitrate: 2_000_000,
        });
        let v = video_op(ssrcs, info, true);
        assert_eq!(
            v["streams"][0]["max_resolution"],
            json!({"type": "fixed", "width": 640, "height": 360})
        );
        assert_eq!(v["streams"][0]["active"], true);
        let paused = video_op(ssrcs, info, false);
        assert_eq!(paused["streams"][0]["active"], false);
        assert_eq!(paused["streams"][0]["ssrc"], 2, "paused, still announced");
        assert_eq!(
            (v["video_ssrc"].as_u64(), v["rtx_ssrc"].as_u64()),
            (Some(2), Some(3))
        );
        let r = parse_ready(&json!({"ssrc": 5, "ip": "127.0.0.1", "port": 9, "modes": [], "streams": [{"ssrc": 6, "rtx_ssrc": 7}]})).unwrap();
        assert_eq!(
            r.ssrcs,
            Ssrcs {
                audio: 5,
                video: 6,
                rtx: 7
            }
        );
        let r = parse_ready(&json!({"ssrc": 5, "ip": "127.0.0.1", "port": 9})).unwrap();
        assert_eq!(
            r.ssrcs,
            Ssrcs {
                audio: 5,
                video: 6,
                rtx: 7
            }
        );
        assert!(parse_ready(&json!({"ssrc": 5, "port": 9})).is_err());
    }

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
