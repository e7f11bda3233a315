//! The task behind [`super::Gateway`]: one websocket at a time, its heartbeat, and the voice
//! and stream state it must restore when a session is lost.

use std::collections::VecDeque;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::budget::SendBudget;
use super::payload::{self, Backoff, CloseAction, FatalClose, LaunchIds};
use super::{
    Command, GatewayConfig, GatewayError, GatewayEvent, Guild, Reply, StreamJoin, VoiceJoin,
    check_url,
};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Sink = futures::stream::SplitSink<Ws, Message>;
type Source = futures::stream::SplitStream<Ws>;

/// Ops waiting for the send limit beyond this are refused rather than queued for minutes.
const OUTBOX_CAP: usize = 256;

struct Outgoing {
    text: String,
    sent: Option<Reply<()>>,
}

struct Session {
    id: String,
    resume_url: Option<String>,
}

enum VoicePhase {
    Joining {
        deadline: Instant,
        session_id: Option<String>,
        /// (endpoint, token)
        server: Option<(String, String)>,
        waiter: Option<Reply<VoiceJoin>>,
    },
    Joined(VoiceJoin),
}

struct VoiceSlot {
    guild_id: Guild,
    channel_id: u64,
    phase: VoicePhase,
}

enum StreamPhase {
    /// After a re-identify: re-created once the call is rejoined.
    AwaitingVoice {
        waiter: Option<Reply<StreamJoin>>,
    },
    Creating {
        deadline: Instant,
        rtc_server_id: Option<u64>,
        server: Option<(String, String)>,
        waiter: Option<Reply<StreamJoin>>,
    },
    Live(StreamJoin),
}

struct StreamSlot {
    guild_id: Guild,
    channel_id: u64,
    key: String,
    /// What the owner last asked for, restored after a re-create.
    paused: bool,
    phase: StreamPhase,
}

enum RetryDelay {
    Backoff,
    /// `INVALID_SESSION` (not resumable): Discord asks for a random 1-5 s wait.
    Reidentify,
}

enum End {
    Shutdown(Option<oneshot::Sender<()>>),
    Fatal(GatewayError),
    Retry {
        resume: bool,
        reason: String,
        delay: RetryDelay,
    },
}

fn retry(reason: impl Into<String>) -> End {
    End::Retry {
        resume: true,
        reason: reason.into(),
        delay: RetryDelay::Backoff,
    }
}

enum Flow {
    Continue,
    HeartbeatNow,
    End(End),
}

pub(super) struct Client {
    config: GatewayConfig,
    ids: LaunchIds,
    commands: mpsc::Receiver<Command>,
    events: mpsc::UnboundedSender<GatewayEvent>,
    ready_tx: Option<oneshot::Sender<Result<u64, GatewayError>>>,
    user_id: u64,
    session: Option<Session>,
    seq: Option<u64>,
    /// A READY was seen before, so the next one follows a lost session: rejoin.
    had_session: bool,
    voice: Option<VoiceSlot>,
    stream: Option<StreamSlot>,
    /// Keys of streams we ended with op 19 whose `STREAM_DELETE` has not come back yet. Discord
    /// reuses a channel's stream key, so without this the echo of ending one stream would
    /// read as a refusal of the next one started in the same channel.
    own_deletes: Vec<String>,
    outbox: VecDeque<Outgoing>,
    backoff: Backoff,
}

impl Client {
    pub(super) fn new(
        config: GatewayConfig,
        commands: mpsc::Receiver<Command>,
        events: mpsc::UnboundedSender<GatewayEvent>,
        ready_tx: oneshot::Sender<Result<u64, GatewayError>>,
    ) -> Self {
        let backoff = Backoff::new(config.timeouts.backoff_base, config.timeouts.backoff_max);
        Self {
            config,
            ids: LaunchIds::random(),
            commands,
            events,
            ready_tx: Some(ready_tx),
            user_id: 0,
            session: None,
            seq: None,
            had_session: false,
            voice: None,
            stream: None,
            own_deletes: Vec::new(),
            outbox: VecDeque::new(),
            backoff,
        }
    }

    pub(super) async fn run(mut self) {
        loop {
            let end = match self.connection().await {
                End::Retry {
                    resume,
                    reason,
                    delay,
                } => {
                    if let Some(tx) = self.ready_tx.take() {
                        // The first login failing is the owner's problem to see, not to retry.
                        let _ = tx.send(Err(GatewayError::Connect {
                            url: self.config.url.clone(),
                            reason,
                        }));
                        self.fail_all(&GatewayError::Closed);
                        return;
                    }
                    if !resume {
                        self.session = None;
                        self.seq = None;
                    }
                    let wait = match delay {
                        RetryDelay::Backoff => self.backoff.next_delay(),
                        RetryDelay::Reidentify => {
                            let t = &self.config.timeouts;
                            let spread = t.reidentify_max.saturating_sub(t.reidentify_min);
                            t.reidentify_min + spread.mul_f64(rand::random::<f64>())
                        }
                    };
                    tracing::warn!(%reason, resume, ?wait, "Discord gateway connection lost; reconnecting");
                    match self.idle(wait).await {
                        Some(end) => end,
                        None => continue,
                    }
                }
                other => other,
            };
            match end {
                End::Shutdown(reply) => {
                    self.fail_all(&GatewayError::Closed);
                    if let Some(reply) = reply {
                        let _ = reply.send(());
                    }
                }
                End::Fatal(error) => {
                    tracing::error!(%error, "Discord gateway client stopped");
                    self.fail_all(&error);
                    match self.ready_tx.take() {
                        Some(tx) => {
                            let _ = tx.send(Err(error));
                        }
                        None => {
                            let _ = self.events.send(GatewayEvent::Fatal(error));
                        }
                    }
                }
                End::Retry { .. } => unreachable!("handled above"),
            }
            return;
        }
    }

    /// Waits between connections, still taking commands and expiring waits.
    async fn idle(&mut self, wait: Duration) -> Option<End> {
        let until = Instant::now() + wait;
        loop {
            let deadline = self.next_deadline();
            tokio::select! {
                () = sleep_until(until) => return None,
                cmd = self.commands.recv() => match cmd {
                    None => return Some(End::Shutdown(None)),
                    Some(Command::Shutdown { reply }) => return Some(End::Shutdown(Some(reply))),
                    Some(cmd) => self.command(cmd),
                },
                () = sleep_until(deadline.unwrap_or(until)), if deadline.is_some() => self.expire(),
            }
        }
    }

    fn gateway_url(&self) -> String {
        let base = self
            .session
            .as_ref()
            .and_then(|s| s.resume_url.clone())
            // A resume URL Discord hands out is trusted only as far as the configured one.
            .filter(|u| check_url(u).is_ok())
            .unwrap_or_else(|| self.config.url.clone());
        format!(
            "{}/?v={}&encoding=json",
            base.trim_end_matches('/'),
            payload::GATEWAY_VERSION
        )
    }

    async fn connection(&mut self) -> End {
        let url = self.gateway_url();
        let limits = self.config.timeouts.clone();
        let ws = match timeout(
            limits.connect,
            tokio_tungstenite::connect_async(url.as_str()),
        )
        .await
        {
            Ok(Ok((ws, _))) => ws,
            Ok(Err(e)) => return retry(format!("could not connect: {e}")),
            Err(_) => return retry(format!("no connection within {:?}", limits.connect)),
        };
        let (mut sink, mut source) = ws.split();
        let interval = match timeout(limits.connect, hello(&mut source)).await {
            Ok(Ok(interval)) => interval,
            Ok(Err(end)) => return self.resolve(end),
            Err(_) => return retry(format!("no HELLO within {:?}", limits.connect)),
        };
        let budget = SendBudget::new(self.config.quota, interval);
        let token = self.config.token.expose();
        let login = match &self.session {
            Some(s) => {
                tracing::info!(session = %s.id, seq = ?self.seq, "resuming the Discord gateway session");
                payload::resume(token, &s.id, self.seq)
            }
            None => payload::identify(token, &self.ids),
        };
        if let Err(e) = sink.send(Message::Text(login)).await {
            return retry(format!("could not send identify/resume: {e}"));
        }
        let mut ready = false;
        let ready_deadline = Instant::now() + limits.ready;
        // The first beat is jittered so reconnecting clients do not all beat at once.
        let mut next_heartbeat = Instant::now() + interval.mul_f64(rand::random::<f64>());
        let mut awaiting_ack = false;
        loop {
            let deadline = self.next_deadline();
            let can_send = ready && !self.outbox.is_empty();
            let flow = tokio::select! {
                biased;
                () = sleep_until(next_heartbeat) => {
                    if awaiting_ack {
                        close(&mut sink, 4000).await;
                        return retry("no heartbeat ACK since the last beat (zombie connection)");
                    }
                    Flow::HeartbeatNow
                }
                msg = source.next() => match msg {
                    Some(Ok(Message::Text(text))) => self.incoming(&text, &mut ready, &mut awaiting_ack),
                    Some(Ok(Message::Close(frame))) => {
                        return self.resolve(closed(frame.as_ref()));
                    }
                    Some(Ok(Message::Binary(_))) => {
                        tracing::warn!("Discord gateway sent a binary frame; we asked for JSON");
                        Flow::Continue
                    }
                    Some(Ok(_)) => Flow::Continue,
                    Some(Err(e)) => return retry(format!("connection error: {e}")),
                    None => return retry("the connection closed"),
                },
                () = sleep_until(ready_deadline), if !ready => {
                    close(&mut sink, 4000).await;
                    return retry(format!("no READY/RESUMED within {:?}", limits.ready));
                }
                cmd = self.commands.recv() => match cmd {
                    None => {
                        close(&mut sink, 1000).await;
                        return End::Shutdown(None);
                    }
                    Some(Command::Shutdown { reply }) => {
                        close(&mut sink, 1000).await;
                        return End::Shutdown(Some(reply));
                    }
                    Some(cmd) => {
                        self.command(cmd);
                        Flow::Continue
                    }
                },
                () = budget.ready(), if can_send => {
                    if let Some(out) = self.outbox.pop_front() {
                        if let Err(e) = sink.send(Message::Text(out.text.clone())).await {
                            self.outbox.push_front(out);
                            return retry(format!("could not send: {e}"));
                        }
                        if let Some(reply) = out.sent {
                            let _ = reply.send(Ok(()));
                        }
                    }
                    Flow::Continue
                }
                () = sleep_until(deadline.unwrap_or(ready_deadline)), if deadline.is_some() => {
                    self.expire();
                    Flow::Continue
                }
            };
            match flow {
                Flow::Continue => {}
                Flow::HeartbeatNow => {
                    if let Err(e) = sink.send(Message::Text(payload::heartbeat(self.seq))).await {
                        return retry(format!("could not send a heartbeat: {e}"));
                    }
                    awaiting_ack = true;
                    next_heartbeat = Instant::now() + interval;
                }
                Flow::End(end) => {
                    close(&mut sink, 4000).await;
                    return self.resolve(end);
                }
            }
        }
    }

    /// Turns a fatal close's kind into the owner's error.
    fn resolve(&self, end: End) -> End {
        match end {
            End::Fatal(GatewayError::AuthFailed { .. }) => End::Fatal(GatewayError::AuthFailed {
                token_source: self.config.token.source().to_string(),
            }),
            other => other,
        }
    }

    fn incoming(&mut self, text: &str, ready: &mut bool, awaiting_ack: &mut bool) -> Flow {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            tracing::warn!("Discord gateway sent a payload that is not JSON");
            return Flow::Continue;
        };
        if let Some(s) = v.get("s").and_then(Value::as_u64) {
            self.seq = Some(s);
        }
        let d = v.get("d").unwrap_or(&Value::Null);
        match v.get("op").and_then(Value::as_u64) {
            Some(payload::OP_DISPATCH) => {
                let event = v.get("t").and_then(Value::as_str).unwrap_or_default();
                self.dispatch(event, d, ready)
            }
            Some(payload::OP_HEARTBEAT) => Flow::HeartbeatNow,
            Some(payload::OP_HEARTBEAT_ACK) => {
                *awaiting_ack = false;
                Flow::Continue
            }
            Some(payload::OP_RECONNECT) => Flow::End(retry("Discord asked for a reconnect")),
            Some(payload::OP_INVALID_SESSION) => {
                if d.as_bool() == Some(true) {
                    Flow::End(retry("Discord invalidated the session (resumable)"))
                } else {
                    Flow::End(End::Retry {
                        resume: false,
                        reason: "Discord invalidated the session".into(),
                        delay: RetryDelay::Reidentify,
                    })
                }
            }
            _ => Flow::Continue,
        }
    }

    fn dispatch(&mut self, event: &str, d: &Value, ready: &mut bool) -> Flow {
        match event {
            "READY" => {
                let (Some(id), Some(user_id)) = (
                    payload::string(d, "session_id"),
                    d.get("user").and_then(|u| payload::snowflake(u, "id")),
                ) else {
                    return Flow::End(End::Retry {
                        resume: false,
                        reason: "READY without a session id or user".into(),
                        delay: RetryDelay::Backoff,
                    });
                };
                tracing::info!(user_id, "logged in to Discord's gateway");
                self.session = Some(Session {
                    id,
                    resume_url: payload::string(d, "resume_gateway_url"),
                });
                self.user_id = user_id;
                // A new session replays nothing of the old one: echoes still owed are gone.
                self.own_deletes.clear();
                *ready = true;
                self.backoff.reset();
                if let Some(tx) = self.ready_tx.take() {
                    let _ = tx.send(Ok(user_id));
                }
                if self.had_session {
                    self.rejoin();
                }
                self.had_session = true;
            }
            "RESUMED" => {
                tracing::info!("Discord gateway session resumed");
                *ready = true;
                self.backoff.reset();
            }
            "VOICE_STATE_UPDATE" => self.on_voice_state(d),
            "VOICE_SERVER_UPDATE" => self.on_voice_server(d),
            "STREAM_CREATE" => self.on_stream_create(d),
            "STREAM_SERVER_UPDATE" => self.on_stream_server(d),
            "STREAM_DELETE" => self.on_stream_delete(d),
            _ => {}
        }
        Flow::Continue
    }

    /// A new session replaced a lost one: Discord dropped our voice state and stream with it.
    fn rejoin(&mut self) {
        let deadline = Instant::now() + self.config.timeouts.voice_join;
        if let Some(voice) = &mut self.voice {
            let waiter = match std::mem::replace(&mut voice.phase, joining(deadline, None)) {
                VoicePhase::Joining { waiter, .. } => waiter,
                VoicePhase::Joined(_) => None,
            };
            voice.phase = joining(deadline, waiter);
            tracing::info!(
                guild_id = voice.guild_id,
                channel_id = voice.channel_id,
                "new gateway session: rejoining the voice channel"
            );
            self.outbox.push_front(Outgoing {
                text: payload::voice_state(voice.guild_id, Some(voice.channel_id)),
                sent: None,
            });
        }
        if let Some(stream) = &mut self.stream {
            let waiter = match std::mem::replace(
                &mut stream.phase,
                StreamPhase::AwaitingVoice { waiter: None },
            ) {
                StreamPhase::AwaitingVoice { waiter } | StreamPhase::Creating { waiter, .. } => {
                    waiter
                }
                StreamPhase::Live(_) => None,
            };
            stream.phase = StreamPhase::AwaitingVoice { waiter };
        }
    }

    fn on_voice_state(&mut self, d: &Value) {
        if payload::snowflake(d, "user_id") != Some(self.user_id) {
            return;
        }
        let Some(voice) = self
            .voice
            .as_mut()
            .filter(|v| payload::snowflake(d, "guild_id") == v.guild_id)
        else {
            return;
        };
        let channel = payload::snowflake(d, "channel_id");
        let session_id = payload::string(d, "session_id");
        match &mut voice.phase {
            VoicePhase::Joining { session_id: s, .. } => {
                if channel == Some(voice.channel_id) {
                    *s = session_id;
                    self.try_complete_voice();
                }
            }
            VoicePhase::Joined(join) => {
                if channel == Some(join.channel_id) {
                    if let Some(session_id) = session_id.filter(|s| *s != join.session_id) {
                        join.session_id = session_id;
                        let _ = self
                            .events
                            .send(GatewayEvent::VoiceServerChanged(join.clone()));
                    }
                    return;
                }
                // Disconnected or moved by someone else: the call (and its stream) is over.
                let (guild_id, channel_id) = (voice.guild_id, voice.channel_id);
                tracing::warn!(guild_id, channel_id, now = ?channel, "Discord took the account out of the voice channel");
                self.voice = None;
                self.drop_stream_in(guild_id, &GatewayError::Superseded);
                let _ = self.events.send(GatewayEvent::VoiceLost {
                    guild_id,
                    channel_id,
                });
            }
        }
    }

    fn on_voice_server(&mut self, d: &Value) {
        let Some(voice) = self
            .voice
            .as_mut()
            .filter(|v| payload::snowflake(d, "guild_id") == v.guild_id)
        else {
            return;
        };
        let (Some(endpoint), Some(token)) = (payload::endpoint(d), payload::string(d, "token"))
        else {
            // Discord sends a null endpoint while it allocates a server; another update follows.
            tracing::debug!("voice server update without an endpoint yet");
            return;
        };
        match &mut voice.phase {
            VoicePhase::Joining { server, .. } => {
                *server = Some((endpoint, token));
                self.try_complete_voice();
            }
            VoicePhase::Joined(join) => {
                if join.endpoint != endpoint || join.token != token {
                    join.endpoint = endpoint;
                    join.token = token;
                    let _ = self
                        .events
                        .send(GatewayEvent::VoiceServerChanged(join.clone()));
                }
            }
        }
    }

    fn try_complete_voice(&mut self) {
        let user_id = self.user_id;
        let Some(voice) = &mut self.voice else { return };
        let VoicePhase::Joining {
            session_id: Some(session_id),
            server: Some((endpoint, token)),
            ..
        } = &voice.phase
        else {
            return;
        };
        let join = VoiceJoin {
            guild_id: voice.guild_id,
            channel_id: voice.channel_id,
            user_id,
            session_id: session_id.clone(),
            endpoint: endpoint.clone(),
            token: token.clone(),
        };
        let VoicePhase::Joining { waiter, .. } =
            std::mem::replace(&mut voice.phase, VoicePhase::Joined(join.clone()))
        else {
            return;
        };
        tracing::info!(
            guild_id = join.guild_id,
            channel_id = join.channel_id,
            endpoint = %join.endpoint,
            "joined the voice channel"
        );
        match waiter {
            Some(waiter) => {
                let _ = waiter.send(Ok(join.clone()));
            }
            None => {
                let _ = self
                    .events
                    .send(GatewayEvent::VoiceServerChanged(join.clone()));
            }
        }
        // A stream lost with the old session comes back once the call is back.
        if let Some(stream) = &mut self.stream
            && stream.guild_id == join.guild_id
            && stream.channel_id == join.channel_id
            && let StreamPhase::AwaitingVoice { waiter } = &mut stream.phase
        {
            let waiter = waiter.take();
            stream.phase = StreamPhase::Creating {
                deadline: Instant::now() + self.config.timeouts.stream_create,
                rtc_server_id: None,
                server: None,
                waiter,
            };
            tracing::info!(stream_key = %stream.key, "re-creating the stream");
            self.outbox.push_back(Outgoing {
                text: payload::stream_create(stream.guild_id, stream.channel_id),
                sent: None,
            });
        }
    }

    fn our_stream(&mut self, d: &Value) -> Option<&mut StreamSlot> {
        let key = d.get("stream_key").and_then(Value::as_str)?;
        self.stream.as_mut().filter(|s| s.key == key)
    }

    fn on_stream_create(&mut self, d: &Value) {
        let rtc = payload::snowflake(d, "rtc_server_id");
        let Some(stream) = self.our_stream(d) else {
            return;
        };
        match &mut stream.phase {
            StreamPhase::Creating { rtc_server_id, .. } => {
                *rtc_server_id = rtc;
                self.try_complete_stream();
            }
            // A moved stream: its new server follows in STREAM_SERVER_UPDATE.
            StreamPhase::Live(join) => {
                if let Some(rtc) = rtc {
                    join.rtc_server_id = rtc;
                }
            }
            StreamPhase::AwaitingVoice { .. } => {}
        }
    }

    fn on_stream_server(&mut self, d: &Value) {
        let (endpoint, token) = (payload::endpoint(d), payload::string(d, "token"));
        let events = self.events.clone();
        let Some(stream) = self.our_stream(d) else {
            return;
        };
        let (Some(endpoint), Some(token)) = (endpoint, token) else {
            tracing::debug!("stream server update without an endpoint yet");
            return;
        };
        match &mut stream.phase {
            StreamPhase::Creating { server, .. } => {
                *server = Some((endpoint, token));
                self.try_complete_stream();
            }
            StreamPhase::Live(join) => {
                if join.endpoint != endpoint || join.token != token {
                    join.endpoint = endpoint;
                    join.token = token;
                    let _ = events.send(GatewayEvent::StreamServerChanged(join.clone()));
                }
            }
            StreamPhase::AwaitingVoice { .. } => {}
        }
    }

    fn on_stream_delete(&mut self, d: &Value) {
        let reason = payload::string(d, "reason");
        let key = d.get("stream_key").and_then(Value::as_str).unwrap_or("");
        if reason.as_deref() == Some("user_requested")
            && let Some(at) = self.own_deletes.iter().position(|k| k == key)
        {
            self.own_deletes.remove(at);
            tracing::debug!(stream_key = %key, "Discord confirmed the end of our stream");
            return;
        }
        let Some(stream) = self.our_stream(d) else {
            return;
        };
        let key = stream.key.clone();
        let phase = std::mem::replace(
            &mut stream.phase,
            StreamPhase::AwaitingVoice { waiter: None },
        );
        match phase {
            // A stale delete for the stream of a lost session.
            StreamPhase::AwaitingVoice { waiter } => {
                stream.phase = StreamPhase::AwaitingVoice { waiter };
                return;
            }
            StreamPhase::Creating {
                waiter: Some(waiter),
                ..
            } => {
                let _ = waiter.send(Err(GatewayError::StreamRefused { reason }));
            }
            StreamPhase::Creating { waiter: None, .. } | StreamPhase::Live(_) => {
                tracing::warn!(stream_key = %key, ?reason, "Discord ended the stream");
                let _ = self.events.send(GatewayEvent::StreamDeleted {
                    stream_key: key,
                    reason,
                });
            }
        }
        self.stream = None;
    }

    fn try_complete_stream(&mut self) {
        let Some(VoicePhase::Joined(voice)) = self.voice.as_ref().map(|v| &v.phase) else {
            return;
        };
        let session_id = voice.session_id.clone();
        let Some(stream) = &mut self.stream else {
            return;
        };
        let StreamPhase::Creating {
            rtc_server_id: Some(rtc_server_id),
            server: Some((endpoint, token)),
            ..
        } = &stream.phase
        else {
            return;
        };
        let join = StreamJoin {
            stream_key: stream.key.clone(),
            guild_id: stream.guild_id,
            channel_id: stream.channel_id,
            user_id: self.user_id,
            rtc_server_id: *rtc_server_id,
            session_id,
            endpoint: endpoint.clone(),
            token: token.clone(),
        };
        let StreamPhase::Creating { waiter, .. } =
            std::mem::replace(&mut stream.phase, StreamPhase::Live(join.clone()))
        else {
            return;
        };
        tracing::info!(stream_key = %join.stream_key, rtc_server_id = join.rtc_server_id, "stream created");
        // Discord creates streams paused; viewers see it once we say otherwise.
        self.outbox.push_back(Outgoing {
            text: payload::stream_set_paused(&join.stream_key, stream.paused),
            sent: None,
        });
        match waiter {
            Some(waiter) => {
                let _ = waiter.send(Ok(join));
            }
            None => {
                let _ = self.events.send(GatewayEvent::StreamServerChanged(join));
            }
        }
    }

    fn queue(&mut self, text: String, sent: Option<Reply<()>>) -> Result<(), GatewayError> {
        if self.outbox.len() >= OUTBOX_CAP {
            return Err(GatewayError::RateLimited);
        }
        self.outbox.push_back(Outgoing { text, sent });
        Ok(())
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::JoinVoice {
                guild_id,
                channel_id,
                reply,
            } => self.join_voice(guild_id, channel_id, reply),
            Command::LeaveVoice { guild_id, reply } => {
                if self.voice.as_ref().is_some_and(|v| v.guild_id == guild_id) {
                    if let Some(VoiceSlot {
                        phase:
                            VoicePhase::Joining {
                                waiter: Some(waiter),
                                ..
                            },
                        ..
                    }) = self.voice.take()
                    {
                        let _ = waiter.send(Err(GatewayError::Superseded));
                    }
                    self.drop_stream_in(guild_id, &GatewayError::Superseded);
                }
                self.queue_with_reply(payload::voice_state(guild_id, None), reply);
            }
            Command::CreateStream {
                guild_id,
                channel_id,
                reply,
            } => self.create_stream(guild_id, channel_id, reply),
            Command::SetPaused {
                stream_key,
                paused,
                reply,
            } => {
                if let Some(stream) = self.stream.as_mut().filter(|s| s.key == stream_key) {
                    stream.paused = paused;
                }
                self.queue_with_reply(payload::stream_set_paused(&stream_key, paused), reply);
            }
            Command::DeleteStream { stream_key, reply } => {
                if let Some(guild_id) = self
                    .stream
                    .as_ref()
                    .filter(|s| s.key == stream_key)
                    .map(|s| s.guild_id)
                {
                    self.drop_stream_in(guild_id, &GatewayError::Superseded);
                }
                self.own_deletes.push(stream_key.clone());
                self.queue_with_reply(payload::stream_delete(&stream_key), reply);
            }
            Command::Shutdown { reply } => {
                // Only reachable from paths that handle shutdown themselves.
                let _ = reply.send(());
            }
        }
    }

    fn queue_with_reply(&mut self, text: String, reply: Reply<()>) {
        if self.outbox.len() >= OUTBOX_CAP {
            let _ = reply.send(Err(GatewayError::RateLimited));
        } else {
            self.outbox.push_back(Outgoing {
                text,
                sent: Some(reply),
            });
        }
    }

    fn join_voice(&mut self, guild_id: Guild, channel_id: u64, reply: Reply<VoiceJoin>) {
        if let Some(VoiceSlot {
            phase: VoicePhase::Joined(join),
            ..
        }) = &self.voice
            && join.guild_id == guild_id
            && join.channel_id == channel_id
        {
            let _ = reply.send(Ok(join.clone()));
            return;
        }
        if let Some(VoiceSlot {
            phase: VoicePhase::Joining {
                waiter: Some(old), ..
            },
            ..
        }) = self.voice.take()
        {
            let _ = old.send(Err(GatewayError::Superseded));
        }
        // One voice channel per account: joining elsewhere ends the stream where we were.
        if let Some(guild) = self
            .stream
            .as_ref()
            .filter(|s| (s.guild_id, s.channel_id) != (guild_id, channel_id))
            .map(|s| s.guild_id)
        {
            self.drop_stream_in(guild, &GatewayError::Superseded);
        }
        if let Err(e) = self.queue(payload::voice_state(guild_id, Some(channel_id)), None) {
            let _ = reply.send(Err(e));
            return;
        }
        let deadline = Instant::now() + self.config.timeouts.voice_join;
        self.voice = Some(VoiceSlot {
            guild_id,
            channel_id,
            phase: joining(deadline, Some(reply)),
        });
    }

    fn create_stream(&mut self, guild_id: Guild, channel_id: u64, reply: Reply<StreamJoin>) {
        let in_channel = self.voice.as_ref().is_some_and(|v| {
            v.guild_id == guild_id
                && v.channel_id == channel_id
                && matches!(v.phase, VoicePhase::Joined(_))
        });
        if !in_channel {
            let _ = reply.send(Err(GatewayError::NotInVoice {
                guild_id,
                channel_id,
            }));
            return;
        }
        let key = payload::stream_key(guild_id, channel_id, self.user_id);
        if let Some(stream) = self.stream.take() {
            match stream.phase {
                StreamPhase::Live(join) if stream.key == key => {
                    self.stream = Some(StreamSlot {
                        phase: StreamPhase::Live(join.clone()),
                        ..stream
                    });
                    let _ = reply.send(Ok(join));
                    return;
                }
                StreamPhase::Creating {
                    waiter: Some(old), ..
                }
                | StreamPhase::AwaitingVoice { waiter: Some(old) } => {
                    let _ = old.send(Err(GatewayError::Superseded));
                }
                _ => {}
            }
        }
        if let Err(e) = self.queue(payload::stream_create(guild_id, channel_id), None) {
            let _ = reply.send(Err(e));
            return;
        }
        self.stream = Some(StreamSlot {
            guild_id,
            channel_id,
            key,
            paused: false,
            phase: StreamPhase::Creating {
                deadline: Instant::now() + self.config.timeouts.stream_create,
                rtc_server_id: None,
                server: None,
                waiter: Some(reply),
            },
        });
    }

    /// Forgets the stream in `guild_id`, failing whoever waits for it with `error`.
    fn drop_stream_in(&mut self, guild_id: Guild, error: &GatewayError) {
        if self.stream.as_ref().is_none_or(|s| s.guild_id != guild_id) {
            return;
        }
        if let Some(stream) = self.stream.take() {
            match stream.phase {
                StreamPhase::Creating {
                    waiter: Some(w), ..
                }
                | StreamPhase::AwaitingVoice { waiter: Some(w) } => {
                    let _ = w.send(Err(error.clone()));
                }
                _ => {}
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let voice = match self.voice.as_ref().map(|v| &v.phase) {
            Some(VoicePhase::Joining { deadline, .. }) => Some(*deadline),
            _ => None,
        };
        let stream = match self.stream.as_ref().map(|s| &s.phase) {
            Some(StreamPhase::Creating { deadline, .. }) => Some(*deadline),
            _ => None,
        };
        match (voice, stream) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn expire(&mut self) {
        let now = Instant::now();
        let voice_expired = matches!(
            self.voice.as_ref().map(|v| &v.phase),
            Some(VoicePhase::Joining { deadline, .. }) if *deadline <= now
        );
        if voice_expired && let Some(voice) = self.voice.take() {
            let error = GatewayError::VoiceJoinTimedOut {
                guild_id: voice.guild_id,
                channel_id: voice.channel_id,
                secs: self.config.timeouts.voice_join.as_secs(),
            };
            tracing::warn!(%error, "voice join timed out");
            self.drop_stream_in(voice.guild_id, &error);
            if let VoicePhase::Joining { waiter, .. } = voice.phase {
                match waiter {
                    Some(waiter) => {
                        let _ = waiter.send(Err(error));
                    }
                    None => {
                        let _ = self.events.send(GatewayEvent::RejoinFailed(error));
                    }
                }
            }
        }
        let stream_expired = matches!(
            self.stream.as_ref().map(|s| &s.phase),
            Some(StreamPhase::Creating { deadline, .. }) if *deadline <= now
        );
        if stream_expired && let Some(stream) = self.stream.take() {
            let error = GatewayError::StreamCreateTimedOut {
                channel_id: stream.channel_id,
                secs: self.config.timeouts.stream_create.as_secs(),
            };
            tracing::warn!(%error, "stream creation timed out");
            if let StreamPhase::Creating { waiter, .. } = stream.phase {
                match waiter {
                    Some(waiter) => {
                        let _ = waiter.send(Err(error));
                    }
                    None => {
                        let _ = self.events.send(GatewayEvent::RejoinFailed(error));
                    }
                }
            }
        }
    }

    /// The client is stopping: everyone still waiting hears why.
    fn fail_all(&mut self, error: &GatewayError) {
        if let Some(VoiceSlot {
            phase: VoicePhase::Joining {
                waiter: Some(w), ..
            },
            ..
        }) = self.voice.take()
        {
            let _ = w.send(Err(error.clone()));
        }
        if let Some(guild) = self.stream.as_ref().map(|s| s.guild_id) {
            self.drop_stream_in(guild, error);
        }
        for out in self.outbox.drain(..) {
            if let Some(reply) = out.sent {
                let _ = reply.send(Err(error.clone()));
            }
        }
        // Commands already queued behind this one get the same answer.
        self.commands.close();
        while let Ok(cmd) = self.commands.try_recv() {
            match cmd {
                Command::JoinVoice { reply, .. } => {
                    let _ = reply.send(Err(error.clone()));
                }
                Command::CreateStream { reply, .. } => {
                    let _ = reply.send(Err(error.clone()));
                }
                Command::LeaveVoice { reply, .. }
                | Command::SetPaused { reply, .. }
                | Command::DeleteStream { reply, .. } => {
                    let _ = reply.send(Err(error.clone()));
                }
                Command::Shutdown { reply } => {
                    let _ = reply.send(());
                }
            }
        }
    }
}

fn joining(deadline: Instant, waiter: Option<Reply<VoiceJoin>>) -> VoicePhase {
    VoicePhase::Joining {
        deadline,
        session_id: None,
        server: None,
        waiter,
    }
}

/// Reads until HELLO and returns its heartbeat interval.
async fn hello(source: &mut Source) -> Result<Duration, End> {
    loop {
        match source.next().await {
            Some(Ok(Message::Text(text))) => {
                let v: Value = serde_json::from_str(&text)
                    .map_err(|_| retry("the gateway's first payload is not JSON"))?;
                if v.get("op").and_then(Value::as_u64) == Some(payload::OP_HELLO) {
                    let ms = v
                        .pointer("/d/heartbeat_interval")
                        .and_then(Value::as_u64)
                        .filter(|ms| *ms > 0)
                        .ok_or_else(|| retry("HELLO without a heartbeat interval"))?;
                    return Ok(Duration::from_millis(ms));
                }
            }
            Some(Ok(Message::Close(frame))) => return Err(closed(frame.as_ref())),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(retry(format!("connection error before HELLO: {e}"))),
            None => return Err(retry("the connection closed before HELLO")),
        }
    }
}

/// What a close frame from Discord means. Authentication failures are completed with the
/// token's source by [`Client::resolve`].
fn closed(frame: Option<&CloseFrame<'_>>) -> End {
    let Some(frame) = frame else {
        return retry("Discord closed the connection");
    };
    let code = u16::from(frame.code);
    let reason = format!(
        "Discord closed the connection with {code} ({})",
        frame.reason
    );
    match payload::classify_close(code) {
        CloseAction::Resume => retry(reason),
        CloseAction::Reidentify => End::Retry {
            resume: false,
            reason,
            delay: RetryDelay::Backoff,
        },
        CloseAction::Fatal(FatalClose::AuthFailed) => End::Fatal(GatewayError::AuthFailed {
            token_source: String::new(),
        }),
        CloseAction::Fatal(FatalClose::Other(meaning)) => End::Fatal(GatewayError::FatalClose {
            code,
            meaning: meaning.to_owned(),
        }),
    }
}

/// Sends a close frame, without waiting long for a dead peer. Any code but 1000/1001 keeps
/// the session resumable.
async fn close(sink: &mut Sink, code: u16) {
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: "".into(),
    };
    let _ = timeout(
        Duration::from_secs(1),
        sink.send(Message::Close(Some(frame))),
    )
    .await;
}
