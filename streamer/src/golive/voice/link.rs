//! The tokio task that owns the voice websocket: identify or resume, heartbeats, the
//! handshake up to the Session Description, DAVE's messages, and reconnecting after a drop
//! without touching the UDP side.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::payload::{
    Ready, Ssrcs, identify, message, parse_ready, resume, select_mode, select_protocol, snowflake,
    video_op,
};
use super::udp::discover_ip;
use super::{
    Command, Established, GATEWAY_VERSION, SPEAKING_MICROPHONE, SPEAKING_SOUNDSHARE, Shared,
    VoiceError, VoiceOptions, close_code_meaning, op,
};
use crate::golive::dave::{self, Outgoing};
use crate::golive::{VoiceServer, is_loopback_endpoint};
use crate::rtp::crypto::EncryptionMode;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub(super) async fn dial(endpoint: &str) -> Result<Ws, VoiceError> {
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

pub(super) struct Link {
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
    pub(super) fn new(
        server: VoiceServer,
        options: VoiceOptions,
        shared: Arc<Shared>,
        ready_tx: oneshot::Sender<Result<Established, VoiceError>>,
    ) -> Self {
        Self {
            server,
            options,
            shared,
            seq_ack: -1,
            heartbeat: None,
            new_heartbeat: false,
            video_active: true,
            awaiting_ack: false,
            selected: None,
            established: None,
            ready_tx: Some(ready_tx),
        }
    }

    pub(super) async fn run(mut self, mut ws: Ws, mut commands: mpsc::UnboundedReceiver<Command>) {
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
