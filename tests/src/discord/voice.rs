//! A loopback fake of a Discord voice server (gateway v8 + UDP) for the streamer's Go Live
//! connection: it checks what the client sends, plays DAVE's external sender with its own
//! "viewer" participant, opens the transport encryption itself and reassembles the media into
//! frames the viewer decrypts, so a test sees exactly what a Discord viewer would.
//!
//! Written independently of the streamer: the transport cipher uses `aes-gcm` /
//! `chacha20poly1305` directly, the H.264 depacketizer is its own, the RTCP it sends (generic
//! NACKs) is written byte by byte here, and the external sender is built with openmls.
//!
//! Like Discord's SFU it can ask for lost video again: [`FakeVoiceServer::drop_and_nack`]
//! drops chosen video packets and NACKs them, holds the packets behind a gap back, and feeds
//! the RTX packets that come back (unwrapped to the original sequence number) to the
//! depacketizer in order, so a repaired frame reaches the viewer whole.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::num::NonZeroU16;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::XChaCha20Poly1305;
use davey::{DaveSession, MediaType};
use futures::{SinkExt, StreamExt};
use openmls::prelude::tls_codec::{DeserializeBytes, Serialize as _};
use openmls::prelude::{
    BasicCredential, Ciphersuite, ExternalProposal, ExternalSender, GroupEpoch, GroupId,
    KeyPackageIn, MlsMessageIn, OpenMlsProvider, ProtocolMessage, ProtocolVersion,
    SenderExtensionIndex,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// The viewer the fake adds to the DAVE group.
pub const VIEWER_ID: u64 = 900_000_000_000_000_001;
pub const AUDIO_SSRC: u32 = 4000;
pub const VIDEO_SSRC: u32 = 4001;
pub const RTX_SSRC: u32 = 4002;
pub const AES_GCM: &str = "aead_aes256_gcm_rtpsize";
pub const XCHACHA: &str = "aead_xchacha20_poly1305_rtpsize";
/// The transition id the fake announces the group's first commit with.
pub const FIRST_TRANSITION: u16 = 1;

#[derive(Debug, Clone)]
pub struct FakeVoiceOptions {
    /// What the Session Description negotiates; 0 = no DAVE.
    pub dave_protocol_version: u16,
    /// Ready's `modes`.
    pub modes: Vec<String>,
    /// Identify must carry this token, or the fake closes with 4004.
    pub expected_token: Option<String>,
    /// The MLS group id; `None` = the Go Live rule, `server_id - 1`.
    pub dave_group_id: Option<u64>,
    pub heartbeat_interval_ms: u64,
    /// Serve wss:// with a certificate made for this run (songbird dials nothing else); the
    /// client must trust [`FakeVoiceServer::ca_pem`].
    pub tls: bool,
}

impl Default for FakeVoiceOptions {
    fn default() -> Self {
        Self {
            dave_protocol_version: 1,
            modes: vec![XCHACHA.into(), AES_GCM.into()],
            expected_token: None,
            dave_group_id: None,
            heartbeat_interval_ms: 1000,
            tls: false,
        }
    }
}

/// What the client identified with.
#[derive(Debug, Clone, Default)]
pub struct Identified {
    pub server_id: String,
    pub user_id: String,
    pub session_id: String,
    pub token: String,
    pub payload: Value,
}

/// One RTP packet as it arrived (after transport decryption).
#[derive(Debug, Clone, Copy)]
pub struct PacketInfo {
    pub ssrc: u32,
    pub sequence: u16,
    pub timestamp: u32,
    pub marker: bool,
    pub payload_type: u8,
    pub arrived: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    Video,
    Audio,
}

/// An RTCP sender report as the server decrypted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderReport {
    pub ssrc: u32,
    /// NTP time: seconds since 1900 and the 32-bit fraction.
    pub ntp: (u32, u32),
    pub rtp_timestamp: u32,
    pub packets: u32,
    pub octets: u32,
    pub arrived: Instant,
}

impl SenderReport {
    /// The NTP time in seconds.
    pub fn ntp_seconds(&self) -> f64 {
        f64::from(self.ntp.0) + f64::from(self.ntp.1) / 4_294_967_296.0
    }
}

/// One RTX packet (RFC 4588) as it arrived, unwrapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtxPacket {
    pub ssrc: u32,
    pub payload_type: u8,
    /// The RTX stream's own sequence number.
    pub sequence: u16,
    /// The original sequence number, from the first two payload bytes.
    pub osn: u16,
    pub timestamp: u32,
    pub marker: bool,
}

/// A video packet the fake dropped on purpose, kept to check its retransmission against.
#[derive(Debug, Clone)]
struct DroppedPacket {
    info: PacketInfo,
    /// The header extension (preamble and body) and the payload, decrypted.
    extension: Vec<u8>,
    payload: Vec<u8>,
}

/// Which video packets to drop and NACK; see [`FakeVoiceServer::drop_and_nack`].
#[derive(Debug, Clone, Copy)]
struct LossPlan {
    after: u64,
    remaining: usize,
}

/// The NACK/RTX side of the fake: what was dropped, what is still missing, what waits behind
/// the gap.
#[derive(Default)]
struct Repair {
    plan: Option<LossPlan>,
    video_seen: u64,
    dropped: Vec<DroppedPacket>,
    missing: BTreeSet<u16>,
    /// The first sequence number of the current gap: held packets are ordered from it.
    anchor: u16,
    held: Vec<(PacketInfo, Vec<u8>)>,
    rtx: Vec<RtxPacket>,
    nacks_sent: usize,
}

impl Repair {
    /// The held packets that no missing packet precedes, in sequence order.
    fn release(&mut self) -> Vec<(PacketInfo, Vec<u8>)> {
        let anchor = self.anchor;
        let key = |s: u16| s.wrapping_sub(anchor);
        self.held.sort_by_key(|(i, _)| key(i.sequence));
        let ready = match self.missing.iter().map(|&s| key(s)).min() {
            Some(gap) => self
                .held
                .iter()
                .take_while(|(i, _)| key(i.sequence) < gap)
                .count(),
            None => self.held.len(),
        };
        self.held.drain(..ready).collect()
    }
}

/// One reassembled frame: as it crossed the wire (DAVE-encrypted) and as the viewer decrypted
/// it.
#[derive(Debug, Clone)]
pub struct ReceivedFrame {
    pub kind: FrameKind,
    pub ssrc: u32,
    pub timestamp: u32,
    /// Annex B for video (4-byte start codes), the Opus packet for audio.
    pub encrypted: Vec<u8>,
    pub decrypted: Result<Vec<u8>, String>,
    pub packets: Vec<PacketInfo>,
}

#[derive(Debug, Default)]
struct Recorded {
    identifies: Vec<Identified>,
    select_protocol: Vec<Value>,
    speaking: Vec<Value>,
    video: Vec<Value>,
    resumes: Vec<Value>,
    heartbeats: Vec<Value>,
    transition_ready: Vec<u16>,
    invalid_commit: Vec<u16>,
    key_packages: usize,
    frames: Vec<ReceivedFrame>,
    sender_reports: Vec<SenderReport>,
    packets: u64,
    dropped: u64,
    lost_frames: u64,
    keepalives: u64,
}

/// Frame being reassembled for one SSRC.
#[derive(Default)]
struct Partial {
    timestamp: u32,
    data: Vec<u8>,
    packets: Vec<PacketInfo>,
    broken: bool,
    last_seq: Option<u16>,
}

/// Voice tokens the fake Discord issued for calls, with the call's channel: its DAVE group.
pub type CallTokens = Arc<Mutex<HashMap<String, u64>>>;

/// One websocket connection's DAVE: a call's own group lives here; a stream's is the shared
/// `State::dave`, whose viewer decrypts the media.
#[derive(Default)]
struct Conn {
    /// The voice gateway version the client dialled: 8 (the streamer) or 4 (songbird, which
    /// sends a bare nonce as its heartbeat and reads binary frames without a sequence number).
    version: u8,
    /// `Some(channel)` once identify named a call token.
    call: Option<u64>,
    /// Shared with the UDP side (see `State::call_peers`): a call's media is the call's own.
    dave: Arc<Mutex<Option<Dave>>>,
}

impl Conn {
    fn dave<'a>(&'a self, state: &'a State) -> &'a Mutex<Option<Dave>> {
        if self.call.is_some() {
            &self.dave
        } else {
            &state.dave
        }
    }
}

struct Dave {
    external: TestExternalSender,
    viewer: DaveSession,
    client_user: u64,
    group_id: u64,
}

struct State {
    options: FakeVoiceOptions,
    udp: Arc<UdpSocket>,
    udp_port: u16,
    key: [u8; 32],
    recorded: Mutex<Recorded>,
    violations: Mutex<Vec<String>>,
    mode: Mutex<Option<String>>,
    discovered: Mutex<Option<SocketAddr>>,
    /// Every address IP discovery ran on: one per connection (a call and its stream, or a
    /// connection reopened after a re-identify), each of which may send media.
    peers: Mutex<std::collections::HashSet<SocketAddr>>,
    dave: Mutex<Option<Dave>>,
    dave_ready: AtomicBool,
    calls: CallTokens,
    /// Each call connection's DAVE, by the UDP address its select protocol named: the media
    /// from that address is decrypted with that call's group.
    call_peers: Mutex<HashMap<SocketAddr, Arc<Mutex<Option<Dave>>>>>,
    /// The DAVE groups of call connections whose first transition was executed.
    call_groups_ready: Mutex<Vec<u64>>,
    /// Drop rate of incoming UDP media, in parts per million.
    loss_ppm: AtomicU32,
    /// Numbered server messages (v8), shared by every connection of the session.
    seq: AtomicU64,
    drops: broadcast::Sender<()>,
    partial: Mutex<HashMap<u32, Partial>>,
    repair: Mutex<Repair>,
    /// Where the last video packet came from: the address RTCP goes back to.
    video_from: Mutex<Option<SocketAddr>>,
    /// The nonce counter of the RTCP this fake seals (its own, as a server's would be).
    rtcp_nonce: AtomicU32,
}

impl State {
    fn violation(&self, v: impl Into<String>) {
        let v = v.into();
        tracing::warn!(violation = %v, "fake voice server");
        self.violations.lock().unwrap().push(v);
    }

    fn numbered(&self, op: u8, d: &Value) -> Message {
        let seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        Message::Text(json!({"op": op, "d": d, "seq": seq}).to_string())
    }

    fn binary(&self, conn: &Conn, op: u8, payload: &[u8]) -> Message {
        // One sequence for text and binary messages; v8 binary frames carry its low 16 bits.
        let seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        let mut out = if conn.version >= 8 {
            (seq as u16).to_be_bytes().to_vec()
        } else {
            Vec::new()
        };
        out.push(op);
        out.extend_from_slice(payload);
        Message::Binary(out)
    }
}

/// The fake voice server. Dropping it stops its tasks.
pub struct FakeVoiceServer {
    endpoint: String,
    /// The certificate clients must trust when it serves TLS (PEM).
    ca_pem: Option<String>,
    state: Arc<State>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for FakeVoiceServer {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl FakeVoiceServer {
    pub async fn start() -> Self {
        Self::start_with(FakeVoiceOptions::default()).await
    }

    pub async fn start_with(options: FakeVoiceOptions) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind ws");
        let udp = UdpSocket::bind("127.0.0.1:0").await.expect("bind udp");
        let endpoint = listener.local_addr().expect("addr").to_string();
        let mut key = [0u8; 32];
        rand::rng().fill(&mut key);
        let udp_port = udp.local_addr().expect("udp addr").port();
        let state = Arc::new(State {
            options,
            udp: Arc::new(udp),
            udp_port,
            key,
            recorded: Mutex::default(),
            violations: Mutex::default(),
            mode: Mutex::default(),
            discovered: Mutex::default(),
            peers: Mutex::default(),
            dave: Mutex::default(),
            dave_ready: AtomicBool::new(false),
            calls: CallTokens::default(),
            call_peers: Mutex::default(),
            call_groups_ready: Mutex::new(Vec::new()),
            loss_ppm: AtomicU32::new(0),
            seq: AtomicU64::new(0),
            drops: broadcast::channel(4).0,
            partial: Mutex::default(),
            repair: Mutex::default(),
            video_from: Mutex::default(),
            rtcp_nonce: AtomicU32::new(0x0100_0000),
        });
        let (acceptor, ca_pem) = if state.options.tls {
            let (acceptor, pem) = tls_acceptor();
            (Some(acceptor), Some(pem))
        } else {
            (None, None)
        };
        let tasks = vec![
            tokio::spawn(serve_ws(listener, acceptor, Arc::clone(&state))),
            tokio::spawn(serve_udp(Arc::clone(&state))),
        ];
        Self {
            endpoint,
            ca_pem,
            state,
            tasks,
        }
    }

    /// The PEM certificate to trust (`SSL_CERT_FILE`) when the fake serves TLS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// `127.0.0.1:PORT`, as a `VoiceServer::endpoint`.
    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    /// Cuts every websocket without a close frame, as a network failure would.
    pub fn drop_connections(&self) {
        let _ = self.state.drops.send(());
    }

    /// Drops this fraction (0–1) of incoming UDP media packets from now on.
    pub fn set_udp_loss(&self, fraction: f64) {
        self.state
            .loss_ppm
            .store((fraction.clamp(0.0, 1.0) * 1e6) as u32, Ordering::SeqCst);
    }

    /// Once `after` video packets have arrived, drops the next `count` that carry a non-IDR
    /// slice (so the loss is mid-GOP), then sends one compound RTCP packet (a receiver report
    /// and a generic NACK listing them all) back to the sender, and waits for their RTX.
    pub fn drop_and_nack(&self, after: u64, count: usize) {
        self.state.repair.lock().unwrap().plan = Some(LossPlan {
            after,
            remaining: count,
        });
    }

    /// Sends a sealed generic NACK for `sequences` of the video SSRC to the sender.
    pub fn send_nack(&self, sequences: &[u16]) {
        send_rtcp(&self.state, &generic_nack(VIDEO_SSRC, sequences), true);
    }

    /// Sends `packet` to the sender as is (no sealing): garbage, replays, forgeries.
    pub fn send_raw_rtcp(&self, packet: &[u8]) {
        send_rtcp(&self.state, packet, false);
    }

    /// The video packets dropped by [`Self::drop_and_nack`], in arrival order.
    pub fn dropped_for_nack(&self) -> Vec<PacketInfo> {
        let r = self.state.repair.lock().unwrap();
        r.dropped.iter().map(|d| d.info).collect()
    }

    /// The dropped packets not retransmitted yet.
    pub fn still_missing(&self) -> Vec<u16> {
        let r = self.state.repair.lock().unwrap();
        r.missing.iter().copied().collect()
    }

    /// Every RTX packet received, in arrival order.
    pub fn retransmissions(&self) -> Vec<RtxPacket> {
        self.state.repair.lock().unwrap().rtx.clone()
    }

    /// How many NACKs [`Self::drop_and_nack`] sent.
    pub fn nacks_sent(&self) -> usize {
        self.state.repair.lock().unwrap().nacks_sent
    }

    pub fn violations(&self) -> Vec<String> {
        self.state.violations.lock().unwrap().clone()
    }

    pub fn identifies(&self) -> Vec<Identified> {
        self.state.recorded.lock().unwrap().identifies.clone()
    }

    pub fn select_protocols(&self) -> Vec<Value> {
        self.state.recorded.lock().unwrap().select_protocol.clone()
    }

    pub fn speaking(&self) -> Vec<Value> {
        self.state.recorded.lock().unwrap().speaking.clone()
    }

    pub fn video_ops(&self) -> Vec<Value> {
        self.state.recorded.lock().unwrap().video.clone()
    }

    pub fn resumes(&self) -> Vec<Value> {
        self.state.recorded.lock().unwrap().resumes.clone()
    }

    pub fn heartbeats(&self) -> Vec<Value> {
        self.state.recorded.lock().unwrap().heartbeats.clone()
    }

    pub fn transition_ready(&self) -> Vec<u16> {
        self.state.recorded.lock().unwrap().transition_ready.clone()
    }

    pub fn key_packages(&self) -> usize {
        self.state.recorded.lock().unwrap().key_packages
    }

    /// Whether the fake executed the DAVE transition (sent op 22).
    pub fn dave_ready(&self) -> bool {
        self.state.dave_ready.load(Ordering::SeqCst)
    }

    /// Every frame reassembled so far.
    pub fn frames(&self) -> Vec<ReceivedFrame> {
        self.state.recorded.lock().unwrap().frames.clone()
    }

    /// Every RTCP sender report received, in arrival order.
    pub fn sender_reports(&self) -> Vec<SenderReport> {
        self.state.recorded.lock().unwrap().sender_reports.clone()
    }

    /// (packets received, packets dropped on purpose, frames lost to missing packets).
    pub fn packet_counts(&self) -> (u64, u64, u64) {
        let r = self.state.recorded.lock().unwrap();
        (r.packets, r.dropped, r.lost_frames)
    }

    /// Where the fake Discord records call tokens ([`crate::discord::FakeDiscord::set_voice_server`]).
    pub fn call_tokens(&self) -> CallTokens {
        Arc::clone(&self.state.calls)
    }

    /// The DAVE groups (channel ids) of calls that joined theirs and executed the transition.
    pub fn call_groups_ready(&self) -> Vec<u64> {
        self.state.call_groups_ready.lock().unwrap().clone()
    }

    /// The MLS group id the fake uses (for tests that build their own participants).
    pub fn dave_group_id(&self) -> Option<u64> {
        self.state.dave.lock().unwrap().as_ref().map(|d| d.group_id)
    }

    /// Waits until `pred` holds for the frames, or panics after `timeout`.
    pub async fn wait_frames(
        &self,
        timeout: Duration,
        what: &str,
        pred: impl Fn(&[ReceivedFrame]) -> bool,
    ) -> Vec<ReceivedFrame> {
        let deadline = Instant::now() + timeout;
        loop {
            let frames = self.frames();
            if pred(&frames) {
                return frames;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; {} frames so far, violations: {:?}",
                frames.len(),
                self.violations()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// DAVE external sender

/// Plays the voice server's MLS external sender: proposes adding members.
pub struct TestExternalSender {
    provider: OpenMlsRustCrypto,
    group_id: GroupId,
    signer: SignatureKeyPair,
    sender: ExternalSender,
}

impl TestExternalSender {
    pub fn new(group_id: u64) -> Self {
        let suite = Ciphersuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256;
        let signer = SignatureKeyPair::new(suite.signature_algorithm()).expect("signing key");
        let sender = ExternalSender::new(
            signer.public().into(),
            BasicCredential::new(b"lounge-fake-voice".to_vec()).into(),
        );
        Self {
            provider: OpenMlsRustCrypto::default(),
            group_id: GroupId::from_slice(&group_id.to_be_bytes()),
            signer,
            sender,
        }
    }

    /// The op 25 payload.
    pub fn serialized(&self) -> Vec<u8> {
        self.sender.tls_serialize_detached().expect("serialize")
    }

    /// Checks a key package and returns its user id.
    pub fn key_package_user(&self, key_package: &[u8]) -> Result<u64, String> {
        let kp = KeyPackageIn::tls_deserialize_exact_bytes(key_package)
            .map_err(|e| format!("not a key package: {e}"))?
            .validate(self.provider.crypto(), ProtocolVersion::Mls10)
            .map_err(|e| format!("invalid key package: {e}"))?;
        let id: [u8; 8] = kp
            .leaf_node()
            .credential()
            .serialized_content()
            .try_into()
            .map_err(|_| "the credential is not an 8-byte user id".to_owned())?;
        Ok(u64::from_be_bytes(id))
    }

    /// The op 27 payload (operation byte included) adding the owners of `key_packages`.
    pub fn propose_add(&self, epoch: u64, key_packages: &[&[u8]]) -> Vec<u8> {
        let mut messages = Vec::new();
        for kp in key_packages {
            let kp = KeyPackageIn::tls_deserialize_exact_bytes(kp)
                .expect("key package")
                .validate(self.provider.crypto(), ProtocolVersion::Mls10)
                .expect("valid key package");
            let message = ExternalProposal::new_add::<OpenMlsRustCrypto>(
                kp,
                self.group_id.clone(),
                GroupEpoch::from(epoch),
                &self.signer,
                SenderExtensionIndex::new(0),
            )
            .expect("proposal");
            messages.extend(message.tls_serialize_detached().expect("serialize"));
        }
        let mut out = vec![0u8];
        out.extend(
            openmls::prelude::VLBytes::new(messages)
                .tls_serialize_detached()
                .expect("serialize"),
        );
        out
    }
}

/// A participant joined to a fresh group through `external`: the group's creator `a` commits
/// adding `b`; both switch to the new keys. For tests that need an unrelated group.
pub fn establish_pair(
    external: &TestExternalSender,
    group_id: u64,
    a: u64,
    b: u64,
) -> (DaveSession, DaveSession) {
    let v = NonZeroU16::new(1).unwrap();
    let mut sa = DaveSession::new(v, a, group_id, None).unwrap();
    let mut sb = DaveSession::new(v, b, group_id, None).unwrap();
    sa.set_external_sender(&external.serialized()).unwrap();
    sb.set_external_sender(&external.serialized()).unwrap();
    let kp = sb.create_key_package().unwrap();
    let proposals = external.propose_add(0, &[&kp]);
    let cw = sa
        .process_proposals(
            davey::ProposalsOperationType::APPEND,
            &proposals[1..],
            Some(&[a, b]),
        )
        .unwrap()
        .unwrap();
    assert!(sa.process_commit(&cw.commit).unwrap());
    sb.process_welcome(&cw.welcome.unwrap(), Some(&[a, b]))
        .unwrap();
    for s in [&mut sa, &mut sb] {
        s.prepare_transition(0, 1).unwrap();
    }
    (sa, sb)
}

// ---------------------------------------------------------------------------------------------
// Websocket

async fn serve_ws(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    state: Arc<State>,
) {
    while let Ok((stream, _)) = listener.accept().await {
        let state = Arc::clone(&state);
        match &tls {
            None => {
                tokio::spawn(connection(stream, state));
            }
            Some(tls) => {
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls.accept(stream).await {
                        Ok(stream) => connection(stream, state).await,
                        Err(e) => state.violation(format!("TLS handshake failed: {e}")),
                    }
                });
            }
        }
    }
}

/// A self-signed certificate for 127.0.0.1 and localhost, made per run, and the acceptor
/// that presents it.
fn tls_acceptor() -> (tokio_rustls::TlsAcceptor, String) {
    use tokio_rustls::rustls;
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("a test certificate");
    let pem = cert.cert.pem();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(vec![cert.cert.der().clone()], key)
    .expect("the test certificate");
    (tokio_rustls::TlsAcceptor::from(Arc::new(config)), pem)
}

fn plain(op: u8, d: &Value) -> Message {
    Message::Text(json!({"op": op, "d": d}).to_string())
}

#[allow(
    clippy::result_large_err,
    reason = "the handshake callback's type is tungstenite's"
)]
async fn connection<S>(stream: S, state: Arc<State>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut query = String::new();
    let callback = |req: &tokio_tungstenite::tungstenite::handshake::server::Request, resp| {
        req.uri().query().unwrap_or_default().clone_into(&mut query);
        Ok(resp)
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
        return;
    };
    let version: u8 = query
        .split('&')
        .find_map(|p| p.strip_prefix("v="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if !matches!(version, 4 | 8) {
        state.violation(format!(
            "voice gateway dialled without ?v=8 (or songbird's v=4) (query {query:?})"
        ));
    }
    let (mut sink, mut source) = ws.split();
    let mut drops = state.drops.subscribe();
    let hello = plain(
        8,
        &json!({"heartbeat_interval": state.options.heartbeat_interval_ms}),
    );
    if sink.send(hello).await.is_err() {
        return;
    }
    let mut conn = Conn {
        version,
        ..Conn::default()
    };
    loop {
        let replies = tokio::select! {
            _ = drops.recv() => return,
            incoming = source.next() => match incoming {
                Some(Ok(Message::Text(text))) => on_text(&state, &mut conn, &text),
                Some(Ok(Message::Binary(bytes))) => on_binary(&state, &conn, &bytes),
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => Vec::new(),
            },
        };
        for reply in replies {
            let close = matches!(reply, Message::Close(_));
            // v4 has no message sequence numbers: its clients refuse a frame that has one.
            let reply = match reply {
                Message::Text(text) if conn.version < 8 => {
                    let mut v: Value = serde_json::from_str(&text).expect("our own JSON");
                    if let Some(map) = v.as_object_mut() {
                        map.remove("seq");
                    }
                    Message::Text(v.to_string())
                }
                other => other,
            };
            if sink.send(reply).await.is_err() || close {
                return;
            }
        }
    }
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: reason.to_owned().into(),
    }))
}

fn on_text(state: &State, conn: &mut Conn, text: &str) -> Vec<Message> {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        state.violation(format!("unparsable text frame: {text}"));
        return vec![close(4002, "decode")];
    };
    let d = v.get("d").cloned().unwrap_or(Value::Null);
    let str_field = |k: &str| {
        d.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    match v.get("op").and_then(Value::as_u64) {
        Some(0) => {
            let id = Identified {
                server_id: str_field("server_id"),
                user_id: str_field("user_id"),
                session_id: str_field("session_id"),
                token: str_field("token"),
                payload: d.clone(),
            };
            for k in ["server_id", "user_id", "session_id", "token"] {
                if str_field(k).is_empty() {
                    state.violation(format!("identify without a string {k}"));
                }
            }
            // The streamer goes live (video); songbird (v4) is a bot's audio-only call.
            if conn.version >= 8 {
                if d["video"] != true {
                    state.violation("identify without video: true");
                }
                if d["streams"] != json!([{"type": "screen", "rid": "100", "quality": 100}]) {
                    state.violation(format!("identify streams {}", d["streams"]));
                }
            } else if d.get("video").is_some_and(|v| v == true) {
                state.violation("a v4 client asked for video");
            }
            if d["max_dave_protocol_version"].as_u64() != Some(1) {
                state.violation(format!(
                    "identify max_dave_protocol_version {}",
                    d["max_dave_protocol_version"]
                ));
            }
            let user: u64 = id.user_id.parse().unwrap_or(0);
            let server: u64 = id.server_id.parse().unwrap_or(0);
            let token_ok = state
                .options
                .expected_token
                .as_ref()
                .is_none_or(|t| *t == id.token);
            conn.call = state.calls.lock().unwrap().get(&id.token).copied();
            state.recorded.lock().unwrap().identifies.push(id);
            // A new connection numbers its packets afresh: a frame half-received from the old
            // one is gone, and the first new packet is no gap.
            state.partial.lock().unwrap().clear();
            if !token_ok {
                return vec![close(4004, "Authentication failed")];
            }

            let group = conn
                .call
                .or(state.options.dave_group_id)
                .unwrap_or(server.wrapping_sub(1));
            if state.options.dave_protocol_version > 0 {
                let external = TestExternalSender::new(group);
                let mut viewer =
                    DaveSession::new(NonZeroU16::new(1).unwrap(), VIEWER_ID, group, None)
                        .expect("viewer session");
                viewer
                    .set_external_sender(&external.serialized())
                    .expect("viewer external sender");
                *conn.dave(state).lock().unwrap() = Some(Dave {
                    external,
                    viewer,
                    client_user: user,
                    group_id: group,
                });
            }
            vec![state.numbered(
                2,
                &json!({
                    "ssrc": AUDIO_SSRC,
                    "ip": "127.0.0.1",
                    "port": state.udp_port,
                    "modes": state.options.modes,
                    "experiments": [],
                    "streams": [{"type": "video", "rid": "100", "ssrc": VIDEO_SSRC, "rtx_ssrc": RTX_SSRC, "quality": 100, "active": false}],
                }),
            )]
        }
        Some(1) => {
            state
                .recorded
                .lock()
                .unwrap()
                .select_protocol
                .push(d.clone());
            if d["protocol"] != "udp" {
                state.violation(format!("select protocol {}", d["protocol"]));
            }
            let mode = d["data"]["mode"].as_str().unwrap_or_default().to_owned();
            if !state.options.modes.contains(&mode) {
                state.violation(format!("selected mode {mode:?}, which was not offered"));
                return vec![close(4016, "Unknown encryption mode")];
            }
            let discovered = *state.discovered.lock().unwrap();
            let address = d["data"]["address"].as_str().unwrap_or_default();
            let port = d["data"]["port"].as_u64().unwrap_or(0);
            if discovered
                .is_none_or(|a| a.ip().to_string() != address || u64::from(a.port()) != port)
            {
                state.violation(format!(
                    "select protocol address {address}:{port}, discovery saw {discovered:?}"
                ));
            }
            let codecs = d["codecs"].as_array().cloned().unwrap_or_default();
            let has = |name: &str, pt: u64| {
                codecs
                    .iter()
                    .any(|c| c["name"] == name && c["payload_type"].as_u64() == Some(pt))
            };
            if conn.version >= 8 && (!has("opus", 120) || !has("H264", 101)) {
                state.violation(format!("codecs without opus/120 and H264/101: {codecs:?}"));
            }
            if conn.call.is_some()
                && let Ok(ip) = address.parse::<std::net::IpAddr>()
                && let Ok(port) = u16::try_from(port)
            {
                state
                    .call_peers
                    .lock()
                    .unwrap()
                    .insert(SocketAddr::new(ip, port), Arc::clone(&conn.dave));
            }
            *state.mode.lock().unwrap() = Some(mode.clone());
            let mut out = vec![state.numbered(
                4,
                &json!({
                    "mode": mode,
                    "secret_key": state.key.to_vec(),
                    "audio_codec": "opus",
                    "video_codec": "H264",
                    "media_session_id": "fake-media-session",
                    "dave_protocol_version": state.options.dave_protocol_version,
                }),
            )];
            if let Some(dave) = conn.dave(state).lock().unwrap().as_ref() {
                out.push(state.numbered(11, &json!({"user_ids": [VIEWER_ID.to_string()]})));
                out.push(state.binary(conn, 25, &dave.external.serialized()));
            }
            out
        }
        Some(3) if conn.version < 8 => {
            // v4: the nonce itself, echoed back.
            if !d.is_u64() {
                state.violation(format!("v4 heartbeat without a nonce: {d}"));
            }
            state.recorded.lock().unwrap().heartbeats.push(d.clone());
            vec![plain(6, &d)]
        }
        Some(3) => {
            if d.get("t").is_none() || d.get("seq_ack").is_none() {
                state.violation(format!("heartbeat without t and seq_ack: {d}"));
            }
            state.recorded.lock().unwrap().heartbeats.push(d.clone());
            vec![plain(6, &json!({"t": d["t"]}))]
        }
        Some(5) => {
            state.recorded.lock().unwrap().speaking.push(d);
            Vec::new()
        }
        Some(7) => {
            let ids = state
                .recorded
                .lock()
                .unwrap()
                .identifies
                .last()
                .cloned()
                .unwrap_or_default();
            if str_field("session_id") != ids.session_id
                || str_field("token") != ids.token
                || str_field("server_id") != ids.server_id
            {
                state.violation(format!("resume does not match identify: {d}"));
                return vec![close(4006, "Session no longer valid")];
            }
            if d.get("seq_ack").and_then(Value::as_i64).is_none() {
                state.violation("resume without seq_ack");
            }
            state.recorded.lock().unwrap().resumes.push(d);
            vec![state.numbered(9, &Value::Null)]
        }
        Some(12) => {
            state.recorded.lock().unwrap().video.push(d);
            Vec::new()
        }
        Some(23) => {
            let id = d["transition_id"].as_u64().unwrap_or(0) as u16;
            state.recorded.lock().unwrap().transition_ready.push(id);
            let mut dave = conn.dave(state).lock().unwrap();
            if let Some(dave) = dave.as_mut() {
                match dave.viewer.execute_transition(id) {
                    Ok(true) => {}
                    Ok(false) => {
                        state.violation(format!("transition ready for unknown transition {id}"));
                    }
                    Err(e) => {
                        state.violation(format!("viewer could not execute transition {id}: {e}"));
                    }
                }
            }
            match conn.call {
                Some(channel) => state.call_groups_ready.lock().unwrap().push(channel),
                None => state.dave_ready.store(true, Ordering::SeqCst),
            }
            vec![state.numbered(22, &json!({"transition_id": id}))]
        }
        Some(31) => {
            let id = d["transition_id"].as_u64().unwrap_or(0) as u16;
            state.recorded.lock().unwrap().invalid_commit.push(id);
            state.violation(format!(
                "client reported an invalid commit/welcome for transition {id}"
            ));
            Vec::new()
        }
        other => {
            state.violation(format!("unexpected opcode {other:?}: {text}"));
            Vec::new()
        }
    }
}

fn on_binary(state: &State, conn: &Conn, bytes: &[u8]) -> Vec<Message> {
    let Some((&op, payload)) = bytes.split_first() else {
        state.violation("empty binary frame");
        return Vec::new();
    };
    let mut guard = conn.dave(state).lock().unwrap();
    let Some(dave) = guard.as_mut() else {
        state.violation(format!("binary op {op} without DAVE"));
        return Vec::new();
    };
    match op {
        26 => {
            state.recorded.lock().unwrap().key_packages += 1;
            match dave.external.key_package_user(payload) {
                Ok(user) if user == dave.client_user => {}
                Ok(user) => state.violation(format!(
                    "key package for user {user}, identified as {}",
                    dave.client_user
                )),
                Err(e) => {
                    state.violation(e);
                    return Vec::new();
                }
            }
            // The client's pending group already holds the client; the server proposes the
            // others, here the viewer.
            let viewer_kp = dave
                .viewer
                .create_key_package()
                .expect("viewer key package");
            let proposals = dave.external.propose_add(0, &[&viewer_kp]);
            vec![state.binary(conn, 27, &proposals)]
        }
        28 => {
            let Ok((message, rest)) = MlsMessageIn::tls_deserialize_bytes(payload) else {
                state.violation("commit/welcome without an MLS message");
                return Vec::new();
            };
            let commit = &payload[..payload.len() - rest.len()];
            match message.try_into_protocol_message() {
                Ok(ProtocolMessage::PublicMessage(m))
                    if m.content_type() == openmls::prelude::ContentType::Commit => {}
                _ => state.violation("op 28 does not start with a public commit"),
            }
            if rest.is_empty() {
                state.violation("op 28 without a welcome for the viewer");
                return Vec::new();
            }
            let members = [dave.client_user, VIEWER_ID];
            match dave.viewer.process_welcome(rest, Some(&members)) {
                Ok(()) => dave
                    .viewer
                    .prepare_transition(FIRST_TRANSITION, 1)
                    .expect("viewer prepares"),
                Err(e) => state.violation(format!("the viewer could not process the welcome: {e}")),
            }
            let mut announce = FIRST_TRANSITION.to_be_bytes().to_vec();
            announce.extend_from_slice(commit);
            vec![state.binary(conn, 29, &announce)]
        }
        other => {
            state.violation(format!("unexpected binary opcode {other}"));
            Vec::new()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// UDP

async fn serve_udp(state: Arc<State>) {
    let socket = Arc::clone(&state.udp);
    let mut buf = vec![0u8; 65_536];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    while let Ok((n, from)) = socket.recv_from(&mut buf).await {
        let packet = &buf[..n];
        if n == 74 && packet[..4] == [0, 1, 0, 70] {
            let ssrc = u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]);
            if ssrc != AUDIO_SSRC {
                state.violation(format!("IP discovery for SSRC {ssrc}"));
            }
            let mut reply = [0u8; 74];
            reply[..8].copy_from_slice(&[0, 2, 0, 70, packet[4], packet[5], packet[6], packet[7]]);
            let ip = from.ip().to_string();
            reply[8..8 + ip.len()].copy_from_slice(ip.as_bytes());
            reply[72..].copy_from_slice(&from.port().to_be_bytes());
            *state.discovered.lock().unwrap() = Some(from);
            state.peers.lock().unwrap().insert(from);
            let _ = socket.send_to(&reply, from).await;
            continue;
        }
        let ppm = state.loss_ppm.load(Ordering::SeqCst);
        if ppm > 0 && rng.random_range(0..1_000_000) < ppm {
            state.recorded.lock().unwrap().dropped += 1;
            continue;
        }
        on_media(&state, packet.to_vec(), from);
    }
}

fn on_media(state: &State, mut packet: Vec<u8>, from: SocketAddr) {
    let arrived = Instant::now();
    // songbird keeps its NAT mapping open with a 4-byte counter every few seconds, as
    // Discord's clients do; the server ignores it.
    if packet.len() == 4 {
        state.recorded.lock().unwrap().keepalives += 1;
        return;
    }
    let call_group = state
        .call_peers
        .lock()
        .unwrap()
        .get(&from)
        .and_then(|d| d.lock().unwrap().as_ref().map(|d| d.group_id));
    let ready = match call_group {
        Some(group) => state.call_groups_ready.lock().unwrap().contains(&group),
        None => state.dave_ready.load(Ordering::SeqCst),
    };
    if !ready && state.options.dave_protocol_version > 0 {
        state.violation("a media packet arrived before the DAVE transition was executed");
    }
    if !state.peers.lock().unwrap().contains(&from) {
        state.violation(format!(
            "media from {from}, not the address IP discovery ran on"
        ));
    }
    let Some(mode) = state.mode.lock().unwrap().clone() else {
        state.violation("media before select protocol");
        return;
    };
    // RTCP shares the port (RFC 5761): its packet types 200-204 sit where an RTP packet's
    // marker bit and payload type would be.
    if packet.len() >= 8 && (200..=204).contains(&packet[1]) {
        on_rtcp(state, packet, &mode, arrived);
        return;
    }
    // The `_rtpsize` layout: [clear header][ciphertext][tag 16][nonce 4].
    if packet.len() < 12 + 20 || packet[0] >> 6 != 2 {
        state.violation(format!(
            "a {}-byte packet that is not sealed RTP",
            packet.len()
        ));
        return;
    }
    let cc = usize::from(packet[0] & 0x0F);
    let has_ext = packet[0] & 0x10 != 0;
    let mut clear = 12 + 4 * cc;
    let mut ext_words = 0;
    if has_ext {
        ext_words = usize::from(u16::from_be_bytes([packet[clear + 2], packet[clear + 3]]));
        clear += 4;
    }
    if packet.len() < clear + 20 {
        state.violation("sealed packet too short");
        return;
    }
    if !open_sealed(state, &mode, &mut packet, clear) {
        state.violation("a media packet failed transport authentication");
        return;
    }
    let info = PacketInfo {
        ssrc: u32::from_be_bytes(packet[8..12].try_into().unwrap()),
        sequence: u16::from_be_bytes([packet[2], packet[3]]),
        timestamp: u32::from_be_bytes(packet[4..8].try_into().unwrap()),
        marker: packet[1] & 0x80 != 0,
        payload_type: packet[1] & 0x7F,
        arrived,
    };
    let payload_at = clear + 4 * ext_words;
    if payload_at > packet.len() {
        state.violation("extension runs past the packet");
        return;
    }
    let payload = packet[payload_at..].to_vec();
    // The preamble and body, as the sender wrote them (RTX must repeat them).
    let extension = packet[12 + 4 * cc..payload_at].to_vec();
    match (info.ssrc, info.payload_type) {
        (AUDIO_SSRC, 120) => {
            state.recorded.lock().unwrap().packets += 1;
            let call = state.call_peers.lock().unwrap().get(&from).cloned();
            let dave = call.as_deref().unwrap_or(&state.dave);
            finish(state, dave, FrameKind::Audio, info, payload, vec![info]);
        }
        (VIDEO_SSRC, 101) => {
            *state.video_from.lock().unwrap() = Some(from);
            if drop_for_nack(state, info, &extension, &payload) {
                state.recorded.lock().unwrap().dropped += 1;
                return;
            }
            state.recorded.lock().unwrap().packets += 1;
            in_order(state, info, payload);
        }
        (RTX_SSRC, 102) => on_rtx(state, info, &extension, &payload),
        (ssrc, pt) => state.violation(format!("packet with SSRC {ssrc} and payload type {pt}")),
    }
}

/// Whether the loss plan takes this video packet: a non-IDR slice (whole or a fragment; the
/// NAL header stays in clear under DAVE) once enough packets have passed.
fn drop_for_nack(state: &State, info: PacketInfo, extension: &[u8], payload: &[u8]) -> bool {
    let mut r = state.repair.lock().unwrap();
    r.video_seen += 1;
    let seen = r.video_seen;
    let Some(plan) = r.plan.as_mut() else {
        return false;
    };
    let nal_type = match payload {
        [indicator, header, ..] if indicator & 0x1F == 28 => header & 0x1F,
        [header, ..] => header & 0x1F,
        [] => 0,
    };
    if seen <= plan.after || plan.remaining == 0 || nal_type != 1 {
        return false;
    }
    plan.remaining -= 1;
    let done = plan.remaining == 0;
    if r.missing.is_empty() {
        r.anchor = info.sequence;
    }
    r.missing.insert(info.sequence);
    r.dropped.push(DroppedPacket {
        info,
        extension: extension.to_vec(),
        payload: payload.to_vec(),
    });
    if done {
        // One NACK for everything missing, the way a receiver's NACK module batches.
        let sequences: Vec<u16> = r.dropped.iter().map(|d| d.info.sequence).collect();
        r.nacks_sent += 1;
        drop(r);
        send_rtcp(state, &generic_nack(VIDEO_SSRC, &sequences), true);
    }
    true
}

/// Hands video packets to the depacketizer in sequence order: behind a missing packet they
/// wait for its retransmission.
fn in_order(state: &State, info: PacketInfo, payload: Vec<u8>) {
    let ready = {
        let mut r = state.repair.lock().unwrap();
        if r.missing.is_empty() && r.held.is_empty() {
            vec![(info, payload)]
        } else {
            r.held.push((info, payload));
            r.release()
        }
    };
    for (info, payload) in ready {
        video_packet(state, info, &payload);
    }
}

/// An RTX packet: OSN, then the original payload. A retransmission of a packet the fake
/// dropped must match it in everything but SSRC, payload type and sequence number.
fn on_rtx(state: &State, info: PacketInfo, extension: &[u8], payload: &[u8]) {
    let [hi, lo, original @ ..] = payload else {
        state.violation("an RTX packet without an original sequence number");
        return;
    };
    let osn = u16::from_be_bytes([*hi, *lo]);
    let mut r = state.repair.lock().unwrap();
    r.rtx.push(RtxPacket {
        ssrc: info.ssrc,
        payload_type: info.payload_type,
        sequence: info.sequence,
        osn,
        timestamp: info.timestamp,
        marker: info.marker,
    });
    if !r.missing.remove(&osn) {
        // A repeat, or a packet that was never lost: nothing to restore.
        return;
    }
    let Some(dropped) = r.dropped.iter().find(|d| d.info.sequence == osn).cloned() else {
        return;
    };
    let d = &dropped.info;
    if (info.timestamp, info.marker) != (d.timestamp, d.marker) {
        state.violation(format!(
            "RTX for {osn}: timestamp/marker {:?}, the original had {:?}",
            (info.timestamp, info.marker),
            (d.timestamp, d.marker)
        ));
    }
    if extension != dropped.extension {
        state.violation(format!(
            "RTX for {osn} does not repeat the header extension"
        ));
    }
    if original != dropped.payload {
        state.violation(format!("RTX for {osn} does not carry the original payload"));
    }
    let restored = PacketInfo {
        ssrc: VIDEO_SSRC,
        sequence: osn,
        payload_type: 101,
        ..info
    };
    r.held.push((restored, original.to_vec()));
    let ready = r.release();
    drop(r);
    for (info, payload) in ready {
        video_packet(state, info, &payload);
    }
}

/// A compound RTCP packet as a receiver sends it: an empty receiver report (RFC 3550 wants
/// one first), then a generic NACK (RFC 4585 §6.2.1) whose FCI entries each hold a PID and a
/// bitmask of the 16 sequence numbers after it.
pub fn generic_nack(media_ssrc: u32, sequences: &[u16]) -> Vec<u8> {
    const SENDER: u32 = 1;
    let mut entries: Vec<(u16, u16)> = Vec::new();
    for &s in sequences {
        if let Some((pid, blp)) = entries.last_mut() {
            let after = s.wrapping_sub(*pid);
            if (1..=16).contains(&after) {
                *blp |= 1 << (after - 1);
                continue;
            }
        }
        entries.push((s, 0));
    }
    let mut p = vec![0x80, 201, 0, 1];
    p.extend_from_slice(&SENDER.to_be_bytes());
    p.extend_from_slice(&[0x81, 205]);
    p.extend_from_slice(&(2 + entries.len() as u16).to_be_bytes());
    p.extend_from_slice(&SENDER.to_be_bytes());
    p.extend_from_slice(&media_ssrc.to_be_bytes());
    for (pid, blp) in entries {
        p.extend_from_slice(&pid.to_be_bytes());
        p.extend_from_slice(&blp.to_be_bytes());
    }
    p
}

/// Sends RTCP to the sender's media address, sealed the `_rtpsize` way (the first 8 bytes
/// as associated data, the fake's own nonce counter appended) when `seal` is set.
fn send_rtcp(state: &State, packet: &[u8], seal: bool) {
    let to = *state.video_from.lock().unwrap();
    let to = to.or(*state.discovered.lock().unwrap());
    let Some(to) = to else {
        state.violation("RTCP to send before the sender's address is known");
        return;
    };
    let mut packet = packet.to_vec();
    if seal {
        let Some(mode) = state.mode.lock().unwrap().clone() else {
            state.violation("RTCP to seal before select protocol");
            return;
        };
        let counter = state.rtcp_nonce.fetch_add(1, Ordering::SeqCst);
        let mut nonce = [0u8; 24];
        nonce[..4].copy_from_slice(&counter.to_be_bytes());
        let (aad, body) = packet.split_at_mut(8);
        let tag = if mode == AES_GCM {
            Aes256Gcm::new_from_slice(&state.key)
                .unwrap()
                .encrypt_in_place_detached((&nonce[..12]).into(), aad, body)
                .unwrap()
                .to_vec()
        } else {
            XChaCha20Poly1305::new_from_slice(&state.key)
                .unwrap()
                .encrypt_in_place_detached((&nonce).into(), aad, body)
                .unwrap()
                .to_vec()
        };
        packet.extend_from_slice(&tag);
        packet.extend_from_slice(&counter.to_be_bytes());
    }
    if let Err(e) = state.udp.try_send_to(&packet, to) {
        state.violation(format!("could not send RTCP to {to}: {e}"));
    }
}

/// Opens a sealed `_rtpsize` packet whose first `clear` bytes are the AAD; false if it fails
/// authentication or is too short.
fn open_sealed(state: &State, mode: &str, packet: &mut Vec<u8>, clear: usize) -> bool {
    let n = packet.len();
    if n < clear + 20 {
        return false;
    }
    let mut nonce = [0u8; 24];
    nonce[..4].copy_from_slice(&packet[n - 4..]);
    let tag: [u8; 16] = packet[n - 20..n - 4].try_into().unwrap();
    packet.truncate(n - 20);
    let (aad, body) = packet.split_at_mut(clear);
    if mode == AES_GCM {
        Aes256Gcm::new_from_slice(&state.key)
            .unwrap()
            .decrypt_in_place_detached((&nonce[..12]).into(), aad, body, (&tag).into())
            .is_ok()
    } else {
        XChaCha20Poly1305::new_from_slice(&state.key)
            .unwrap()
            .decrypt_in_place_detached((&nonce).into(), aad, body, (&tag).into())
            .is_ok()
    }
}

/// A sealed RTCP packet: the 8-byte header in clear, the rest encrypted (as Discord's clients
/// send them). Only sender reports are expected from a streamer.
fn on_rtcp(state: &State, mut packet: Vec<u8>, mode: &str, arrived: Instant) {
    if packet[0] >> 6 != 2 {
        state.violation("an RTCP packet that is not version 2");
        return;
    }
    if !open_sealed(state, mode, &mut packet, 8) {
        state.violation("an RTCP packet failed transport authentication");
        return;
    }
    let words = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
    if packet[1] != 200 || packet.len() != 28 || words != 6 || packet[0] & 0x1F != 0 {
        state.violation(format!(
            "RTCP type {} of {} bytes (length field {words}), not a bare sender report",
            packet[1],
            packet.len()
        ));
        return;
    }
    let word = |at: usize| u32::from_be_bytes(packet[at..at + 4].try_into().unwrap());
    let report = SenderReport {
        ssrc: word(4),
        ntp: (word(8), word(12)),
        rtp_timestamp: word(16),
        packets: word(20),
        octets: word(24),
        arrived,
    };
    if report.ssrc != AUDIO_SSRC && report.ssrc != VIDEO_SSRC {
        state.violation(format!("a sender report for SSRC {}", report.ssrc));
    }
    state.recorded.lock().unwrap().sender_reports.push(report);
}

/// Single NAL unit and FU-A depacketization (RFC 6184) into an Annex B frame with 4-byte
/// start codes; a frame missing a packet is counted lost, not delivered.
fn video_packet(state: &State, info: PacketInfo, payload: &[u8]) {
    let mut partials = state.partial.lock().unwrap();
    let p = partials.entry(info.ssrc).or_default();
    let gap = p
        .last_seq
        .is_some_and(|s| s.wrapping_add(1) != info.sequence);
    p.last_seq = Some(info.sequence);
    if !p.packets.is_empty() && p.timestamp != info.timestamp {
        // The previous frame's marker packet never came.
        state.recorded.lock().unwrap().lost_frames += 1;
        *p = Partial {
            last_seq: p.last_seq,
            ..Partial::default()
        };
    }
    if p.packets.is_empty() {
        p.timestamp = info.timestamp;
        p.broken = gap;
    } else if gap {
        p.broken = true;
    }
    p.packets.push(info);
    let Some(&first) = payload.first() else {
        state.violation("empty video payload");
        p.broken = true;
        return;
    };
    match first & 0x1F {
        1..=23 => {
            p.data.extend_from_slice(&[0, 0, 0, 1]);
            p.data.extend_from_slice(payload);
        }
        28 => {
            let Some(&fu) = payload.get(1) else {
                state.violation("FU-A without a header");
                p.broken = true;
                return;
            };
            if fu & 0x80 != 0 {
                p.data
                    .extend_from_slice(&[0, 0, 0, 1, first & 0xE0 | fu & 0x1F]);
            }
            p.data.extend_from_slice(&payload[2..]);
        }
        other => {
            state.violation(format!("unsupported H.264 packet type {other}"));
            p.broken = true;
        }
    }
    if info.marker {
        let done = std::mem::take(p);
        p.last_seq = done.last_seq;
        drop(partials);
        if done.broken {
            state.recorded.lock().unwrap().lost_frames += 1;
        } else {
            finish(
                state,
                &state.dave,
                FrameKind::Video,
                info,
                done.data,
                done.packets,
            );
        }
    }
}

fn finish(
    state: &State,
    dave: &Mutex<Option<Dave>>,
    kind: FrameKind,
    info: PacketInfo,
    encrypted: Vec<u8>,
    packets: Vec<PacketInfo>,
) {
    let decrypted = match dave.lock().unwrap().as_mut() {
        Some(dave) => {
            let media = match kind {
                FrameKind::Video => MediaType::VIDEO,
                FrameKind::Audio => MediaType::AUDIO,
            };
            dave.viewer
                .decrypt(dave.client_user, media, &encrypted)
                .map_err(|e| e.to_string())
        }
        None => Ok(encrypted.clone()),
    };
    state.recorded.lock().unwrap().frames.push(ReceivedFrame {
        kind,
        ssrc: info.ssrc,
        timestamp: info.timestamp,
        encrypted,
        decrypted,
        packets,
    });
}
