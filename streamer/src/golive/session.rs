//! One Go Live session per daemon: the user gateway, the call's voice connection and, while
//! something plays, the stream's own connection fed by a sender thread.
//!
//! Orders from the bot arrive one at a time on an actor task, so "join" never races "play" and
//! every order is answered once, with the step that failed. The sender thread reads the
//! pipeline and writes to the stream's [`MediaSink`]; the actor controls the pipeline through a
//! [`PipelineControl`] and learns that playback ended through a channel.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use lounge_ipc::to_bot::{EndReason, ErrorKind, Event, PlaybackState, Reply, Status};
use lounge_ipc::to_streamer::{Command, Quality, Source, Tracks};
use lounge_ipc::{EventSender, Responder};
use tokio::sync::mpsc;
use tracing::{info, warn};

use super::VideoInfo;
use super::gateway::{
    Gateway, GatewayConfig, GatewayError, GatewayEvent, GatewayEvents, StreamJoin,
};
use super::progress::{self, Progress};
use super::token::{Token, TokenError};
use super::voice::{MediaSink, VoiceConnection, VoiceError, VoiceOptions};
use crate::config::Loaded;
use crate::encoder::VideoBackend;
use crate::pipeline::Input;
use crate::pipeline::{self, Control, PipelineConfig, PipelineControl, PipelineEvent};
use crate::rtp::send::MediaUnit;
use crate::source::{Resolved, SourcePolicy};

/// A refused order: the kind the bot explains and a detail for the owner's log.
pub type Refusal = (ErrorKind, String);

/// What the session needs from the daemon's configuration.
pub struct Settings {
    /// `accept_selfbot_risk`: without it every voice order is refused.
    pub enabled: bool,
    /// Loads the owner's token; called at each login so a fixed token file needs no restart.
    pub token: Box<dyn Fn() -> Result<Token, TokenError> + Send + Sync>,
    pub gateway_url: Option<String>,
    pub backend: Option<&'static dyn VideoBackend>,
    pub sources: SourcePolicy,
    pub voice: VoiceOptions,
    /// The daemon's configuration, for the Plex link (`plex:` sources).
    pub plex: Loaded,
    /// How often a playing Plex item's position goes back to Plex.
    pub plex_timeline_every: Duration,
    /// The owner's default tracks (`audio_language`, `subtitle_language`): used when the
    /// order names none, and skipped quietly when a source lacks them.
    pub default_tracks: Tracks,
}

/// The daemon's handle on the session task.
#[derive(Clone)]
pub struct Session {
    orders: mpsc::UnboundedSender<(Command, Responder)>,
    status: Arc<Mutex<Status>>,
    position: Position,
}

impl Session {
    pub fn spawn(settings: Settings, events: EventSender) -> Self {
        let status = Arc::new(Mutex::new(Status {
            state: PlaybackState::Disconnected,
            guild_id: None,
            channel_id: None,
            source: None,
            position_ms: 0,
            duration_ms: None,
            quality: Quality::Auto,
            account_id: None,
        }));
        let (orders, order_rx) = mpsc::unbounded_channel();
        let (ended_tx, ended_rx) = mpsc::unbounded_channel();
        let position = Position::default();
        let actor = Actor {
            settings,
            events,
            status: Arc::clone(&status),
            position: Arc::clone(&position),
            quality: Quality::Auto,
            tracks: Tracks::default(),
            gateway: None,
            call: None,
            playback: None,
            generation: 0,
            ended_tx,
        };
        tokio::spawn(actor.run(order_rx, ended_rx));
        Self {
            orders,
            status,
            position,
        }
    }

    /// Queues an order; the session answers it through `responder`.
    pub fn submit(&self, command: Command, responder: Responder) {
        if let Err(mpsc::error::SendError((_, responder))) = self.orders.send((command, responder))
        {
            responder.fail(ErrorKind::ShuttingDown, "the Go Live session has stopped");
        }
    }

    /// The state right now, without waiting for an order in progress (a join can take
    /// seconds; `status` must not).
    pub fn status(&self) -> Status {
        snapshot(&self.status, &self.position)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The source position the sender thread last sent, in ms: written on every frame, so an
/// atomic rather than the status lock.
type Position = Arc<AtomicU64>;

/// The status with the live position filled in.
fn snapshot(status: &Mutex<Status>, position: &AtomicU64) -> Status {
    let mut status = lock(status).clone();
    if status.state.has_source() {
        status.position_ms = position.load(Ordering::Relaxed);
    }
    status
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

struct Call {
    /// `None`: a DM or group DM call.
    guild_id: Option<u64>,
    channel_id: u64,
    conn: VoiceConnection,
}

struct Playback {
    generation: u64,
    stream: StreamJoin,
    conn: Arc<VoiceConnection>,
    control: PipelineControl,
    thread: Option<std::thread::JoinHandle<()>>,
    source: Source,
    duration_ms: Option<u64>,
    paused: bool,
    /// What it was started with; a later `set_quality` applies to the next play.
    quality: Quality,
    /// Reports to Plex while a Plex item plays.
    progress: Option<Progress>,
}

/// A source checked and ready for the pipeline.
struct Prepared {
    input: Input,
    /// The Plex server and item, for a `plex:` source.
    plex: Option<(lounge_plex::Server, lounge_plex::model::Metadata)>,
}

/// How the sender thread ended.
struct Ended {
    generation: u64,
    reason: EndReason,
    detail: Option<String>,
}

struct Actor {
    settings: Settings,
    events: EventSender,
    status: Arc<Mutex<Status>>,
    position: Position,
    quality: Quality,
    /// The tracks the last play order asked for (kept for a re-created stream).
    tracks: Tracks,
    gateway: Option<(Gateway, GatewayEvents)>,
    call: Option<Call>,
    playback: Option<Playback>,
    /// Tells a finished thread's report from the one that replaced it.
    generation: u64,
    ended_tx: mpsc::UnboundedSender<Ended>,
}

impl Actor {
    async fn run(
        mut self,
        mut orders: mpsc::UnboundedReceiver<(Command, Responder)>,
        mut ended: mpsc::UnboundedReceiver<Ended>,
    ) {
        loop {
            tokio::select! {
                order = orders.recv() => {
                    let Some((command, responder)) = order else { break };
                    self.order(command, responder).await;
                }
                Some(end) = ended.recv() => self.playback_ended(end).await,
                event = next_gateway_event(&mut self.gateway) => self.gateway_event(event).await,
            }
        }
        self.leave_all().await;
    }

    async fn order(&mut self, command: Command, responder: Responder) {
        let result = match command {
            Command::Status => {
                responder.respond(Reply::Status(self.current_status()));
                return;
            }
            Command::SetQuality { quality } => match quality {
                Quality::Unknown => Err((ErrorKind::InvalidRequest, "unknown quality".to_owned())),
                q => {
                    // Takes effect at the next play: re-encoding mid-stream would restart it.
                    self.quality = q;
                    self.publish();
                    Ok(())
                }
            },
            Command::JoinVoice {
                guild_id,
                channel_id,
            } => self.join(guild_id, channel_id).await,
            Command::LeaveVoice { guild_id } => self.leave(guild_id).await,
            Command::Play {
                source,
                start_offset_ms,
                tracks,
            } => {
                self.tracks = tracks;
                self.play(source, Duration::from_millis(start_offset_ms), None)
                    .await
            }
            Command::Pause => self.set_paused(true).await,
            Command::Resume => self.set_paused(false).await,
            Command::Seek { position_ms } => self.seek(Duration::from_millis(position_ms)),
            Command::Stop if self.playback.is_some() => {
                self.stop_playback(EndReason::Stopped, None).await;
                Ok(())
            }
            Command::Stop => Err(self.nothing_playing()),
            other => Err((
                ErrorKind::InvalidRequest,
                format!("the Go Live session does not handle {other:?}"),
            )),
        };
        match result {
            Ok(()) => {
                responder.respond(Reply::Ok);
            }
            Err((kind, detail)) => {
                warn!(?kind, %detail, "order refused");
                responder.fail(kind, detail);
            }
        }
    }

    fn current_status(&self) -> Status {
        snapshot(&self.status, &self.position)
    }

    /// Recomputes the shared status and tells the bot when the state changed.
    fn publish(&self) {
        let state = match (&self.call, &self.playback) {
            (None, _) => PlaybackState::Disconnected,
            (Some(_), None) => PlaybackState::Idle,
            (Some(_), Some(p)) if p.paused => PlaybackState::Paused,
            (Some(_), Some(_)) => PlaybackState::Playing,
        };
        let changed = {
            let mut status = lock(&self.status);
            let changed = status.state != state;
            *status = Status {
                state,
                guild_id: self.call.as_ref().and_then(|c| c.guild_id),
                channel_id: self.call.as_ref().map(|c| c.channel_id),
                source: self.playback.as_ref().map(|p| p.source.clone()),
                position_ms: status.position_ms,
                duration_ms: self.playback.as_ref().and_then(|p| p.duration_ms),
                quality: self.playback.as_ref().map_or(self.quality, |p| p.quality),
                account_id: self.gateway.as_ref().map(|(g, _)| g.user_id()),
            };
            changed
        };
        if changed {
            self.events.send(Event::StateChanged { state });
        }
    }

    fn nothing_playing(&self) -> Refusal {
        if self.call.is_some() {
            (ErrorKind::NothingPlaying, "nothing is playing".to_owned())
        } else {
            (
                ErrorKind::NotInVoice,
                "the streamer is not in a voice channel".to_owned(),
            )
        }
    }

    /// Logs in if needed. A rejected token is a login failure the owner must fix.
    async fn gateway(&mut self) -> Result<&Gateway, Refusal> {
        if !self.settings.enabled {
            return Err((
                ErrorKind::GoLiveDisabled,
                "Go Live is off: set accept_selfbot_risk = true in the streamer's config after \
                 reading why it is off by default"
                    .to_owned(),
            ));
        }
        if self.gateway.is_none() {
            let token =
                (self.settings.token)().map_err(|e| (ErrorKind::LoginFailed, e.to_string()))?;
            let mut config = GatewayConfig::new(token);
            if let Some(url) = &self.settings.gateway_url {
                config.url.clone_from(url);
            }
            let connected = Gateway::connect(config)
                .await
                .map_err(|e| (login_kind(&e), e.to_string()))?;
            info!(
                user_id = connected.0.user_id(),
                "logged in to Discord for Go Live"
            );
            self.gateway = Some(connected);
        }
        Ok(&self.gateway.as_ref().expect("just set").0)
    }

    async fn join(&mut self, guild_id: Option<u64>, channel_id: u64) -> Result<(), Refusal> {
        if let Some(call) = &self.call {
            if (call.guild_id, call.channel_id) == (guild_id, channel_id) {
                return Ok(());
            }
            let guild = call.guild_id;
            self.leave(guild).await?;
        }
        let gateway = self.gateway().await?;
        let join = gateway
            .join_voice(guild_id, channel_id)
            .await
            .map_err(|e| (voice_kind(&e), e.to_string()))?;
        // The call itself carries no media from us; only the stream's connection must wait
        // for DAVE before anything is sent.
        let mut options = self.settings.voice.clone();
        options.wait_for_dave = false;
        let conn = VoiceConnection::connect(join.voice_server(), options)
            .await
            .map_err(|e| (ErrorKind::VoiceConnectFailed, e.to_string()))?;
        info!(?guild_id, channel_id, "joined the voice channel");
        self.call = Some(Call {
            guild_id,
            channel_id,
            conn,
        });
        self.publish();
        Ok(())
    }

    async fn leave(&mut self, guild_id: Option<u64>) -> Result<(), Refusal> {
        match &self.call {
            Some(call) if call.guild_id == guild_id => {}
            _ => {
                let place = match guild_id {
                    Some(guild) => format!("a voice channel in guild {guild}"),
                    None => "a DM call".to_owned(),
                };
                return Err((
                    ErrorKind::NotInVoice,
                    format!("the streamer is not in {place}"),
                ));
            }
        }
        self.stop_playback(EndReason::Stopped, None).await;
        if let Some(call) = self.call.take() {
            call.conn.close().await;
        }
        if let Some((gateway, _)) = &self.gateway
            && let Err(e) = gateway.leave_voice(guild_id).await
        {
            warn!(error = %e, "could not send the voice leave");
        }
        self.publish();
        Ok(())
    }

    async fn leave_all(&mut self) {
        if let Some(guild) = self.call.as_ref().map(|c| c.guild_id) {
            let _ = self.leave(guild).await;
        }
        if let Some((gateway, _)) = self.gateway.take() {
            gateway.shutdown().await;
        }
    }

    fn video_for(quality: Quality) -> (u32, u32, u32) {
        match quality {
            Quality::P480 => (854, 480, 30),
            Quality::P1080 => (1920, 1080, 30),
            _ => (1280, 720, 30),
        }
    }

    /// Plays `source` from `start_at` on a new stream, or on `stream` when Discord has just
    /// re-created ours (after a re-identify).
    async fn play(
        &mut self,
        source: Source,
        start_at: Duration,
        stream: Option<StreamJoin>,
    ) -> Result<(), Refusal> {
        let Some(backend) = self.settings.backend else {
            return Err((
                ErrorKind::EncoderFailed,
                "no working video encoder was found; `lounge-streamer doctor` says why".to_owned(),
            ));
        };
        let (width, height, fps) = Self::video_for(self.quality);
        let mut config = PipelineConfig::new(backend, width, height, fps);
        config.start_at = start_at;
        let wanted = |asked: &Option<String>, default: &Option<String>| {
            asked
                .as_ref()
                .map(|l| pipeline::Wanted {
                    language: l.clone(),
                    strict: true,
                })
                .or_else(|| {
                    default.as_ref().map(|l| pipeline::Wanted {
                        language: l.clone(),
                        strict: false,
                    })
                })
        };
        let defaults = &self.settings.default_tracks;
        config.audio_language = wanted(&self.tracks.audio_language, &defaults.audio_language);
        config.subtitle_language =
            wanted(&self.tracks.subtitle_language, &defaults.subtitle_language);
        // The source is checked first: a typo is the member's to fix, whatever the voice state.
        // Boxed: the Plex resolve and the redirect walk make a large future.
        let prepared = Box::pin(check(&source, &self.settings, &config)).await?;
        let Some(call) = &self.call else {
            return Err((
                ErrorKind::NotInVoice,
                "the source plays, but the streamer is not in a voice channel: join one first"
                    .to_owned(),
            ));
        };
        let (guild_id, channel_id) = (call.guild_id, call.channel_id);
        self.stop_playback(EndReason::Stopped, None).await;

        let stream = match stream {
            Some(stream) => stream,
            None => self
                .gateway()
                .await?
                .create_stream(guild_id, channel_id)
                .await
                .map_err(|e| (voice_kind(&e), e.to_string()))?,
        };
        let video = VideoInfo {
            width,
            height,
            fps,
            max_bitrate: config.video.bitrate,
        };
        let started = self
            .start_stream(stream.clone(), video, prepared.input, config)
            .await;
        let (conn, sink, handle) = match started {
            Ok(parts) => parts,
            Err(refusal) => {
                // Leave no half-made stream on the channel.
                if let Some((gateway, _)) = &self.gateway {
                    let _ = gateway.delete_stream(&stream.stream_key).await;
                }
                return Err(refusal);
            }
        };
        self.generation += 1;
        let generation = self.generation;
        // Plex's own figure first: it is what Continue Watching measures against.
        let duration_ms = prepared
            .plex
            .as_ref()
            .and_then(|(_, item)| item.duration)
            .or_else(|| handle.streams().duration.map(millis));
        let control = handle.controller();
        self.position.store(millis(start_at), Ordering::Relaxed);
        let progress = prepared.plex.map(|(server, item)| {
            Progress::start(
                progress::Item {
                    server,
                    rating_key: item.rating_key,
                    duration_ms: duration_ms.unwrap_or(0),
                },
                Arc::clone(&self.position),
                self.settings.plex_timeline_every,
            )
        });
        let position = Arc::clone(&self.position);
        let ended = self.ended_tx.clone();
        let thread = std::thread::Builder::new()
            .name("lounge-golive-send".to_owned())
            .spawn(move || {
                let (reason, detail) = send_loop(&handle, sink, &position);
                drop(handle);
                let _ = ended.send(Ended {
                    generation,
                    reason,
                    detail,
                });
            })
            .map_err(|e| {
                (
                    ErrorKind::Internal,
                    format!("could not start the sender: {e}"),
                )
            })?;
        info!(stream_key = %stream.stream_key, "Go Live stream started");
        self.playback = Some(Playback {
            generation,
            stream,
            conn,
            control,
            thread: Some(thread),
            source,
            duration_ms,
            paused: false,
            quality: self.quality,
            progress,
        });
        self.publish();
        Ok(())
    }

    /// Opens the stream's voice connection (waiting for DAVE) and the pipeline.
    async fn start_stream(
        &self,
        stream: StreamJoin,
        video: VideoInfo,
        input: Input,
        config: PipelineConfig,
    ) -> Result<(Arc<VoiceConnection>, MediaSink, pipeline::PipelineHandle), Refusal> {
        let conn =
            VoiceConnection::connect(stream.voice_server(video), self.settings.voice.clone())
                .await
                .map_err(|e| (voice_error_kind(&e), e.to_string()))?;
        let sink = conn
            .media_sink()
            .map_err(|e| (voice_error_kind(&e), e.to_string()))?;
        conn.set_speaking(true);
        let handle = tokio::task::spawn_blocking(move || pipeline::start_input(&input, config))
            .await
            .map_err(|e| {
                (
                    ErrorKind::Internal,
                    format!("the pipeline task failed: {e}"),
                )
            })?
            .map_err(|e| (e.kind(), e.to_string()))?;
        Ok((Arc::new(conn), sink, handle))
    }

    async fn set_paused(&mut self, paused: bool) -> Result<(), Refusal> {
        let Some(playback) = self.playback.as_mut() else {
            return Err(self.nothing_playing());
        };
        if playback.paused != paused {
            let command = if paused {
                Control::Pause
            } else {
                Control::Resume
            };
            if !playback.control.send(command) {
                return Err(self.nothing_playing());
            }
            playback.paused = paused;
            if let Some(progress) = &playback.progress {
                progress.set(if paused {
                    lounge_plex::PlayState::Paused
                } else {
                    lounge_plex::PlayState::Playing
                });
            }
            let key = playback.stream.stream_key.clone();
            // The voice server learns from op 12 that no video is coming (so it does not
            // take the silence for loss), viewers from the main gateway's op 22 that the
            // stream tile shows "paused"; the media stops either way.
            if let Err(e) = playback.conn.set_video_active(!paused).await {
                warn!(error = %e, "could not mark the stream's video (in)active");
            }
            if let Some((gateway, _)) = &self.gateway
                && let Err(e) = gateway.set_stream_paused(&key, paused).await
            {
                warn!(error = %e, "could not mark the stream paused/unpaused");
            }
            self.publish();
        }
        Ok(())
    }

    fn seek(&mut self, to: Duration) -> Result<(), Refusal> {
        let Some(playback) = &self.playback else {
            return Err(self.nothing_playing());
        };
        if let Some(duration) = playback.duration_ms
            && millis(to) >= duration
        {
            return Err((
                ErrorKind::InvalidRequest,
                format!("{} ms is past the end ({duration} ms)", to.as_millis()),
            ));
        }
        if playback.control.send(Control::Seek(to)) {
            self.position.store(millis(to), Ordering::Relaxed);
            if let Some(progress) = &playback.progress {
                progress.moved();
            }
            Ok(())
        } else {
            Err(self.nothing_playing())
        }
    }

    /// Stops the pipeline, waits for the sender thread, ends the stream on Discord.
    async fn stop_playback(&mut self, reason: EndReason, detail: Option<String>) {
        let Some(playback) = self.halt_sender().await else {
            return;
        };
        if let Some((gateway, _)) = &self.gateway
            && let Err(e) = gateway.delete_stream(&playback.stream.stream_key).await
        {
            warn!(error = %e, "could not end the stream on Discord");
        }
        self.finish_playback(playback, reason, detail).await;
    }

    /// Stops the pipeline and waits for the sender thread, leaving the stream on Discord.
    async fn halt_sender(&mut self) -> Option<Playback> {
        let mut playback = self.playback.take()?;
        playback.control.send(Control::Stop);
        if let Some(thread) = playback.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        Some(playback)
    }

    async fn finish_playback(
        &mut self,
        playback: Playback,
        reason: EndReason,
        detail: Option<String>,
    ) {
        if let Some(progress) = playback.progress {
            progress.stop().await;
        }
        if let Ok(conn) = Arc::try_unwrap(playback.conn) {
            conn.close().await;
        }
        if let Some(detail) = &detail {
            self.events.send(Event::Error {
                kind: ErrorKind::Internal,
                detail: detail.clone(),
            });
        }
        self.events.send(Event::Ended { reason });
        self.publish();
    }

    async fn playback_ended(&mut self, end: Ended) {
        if self.playback.as_ref().map(|p| p.generation) != Some(end.generation) {
            return;
        }
        info!(reason = ?end.reason, detail = ?end.detail, "playback ended");
        self.stop_playback(end.reason, end.detail).await;
    }

    async fn gateway_event(&mut self, event: Option<GatewayEvent>) {
        let Some(event) = event else {
            // The client's task is gone; the next order logs in again.
            self.gateway = None;
            return;
        };
        match event {
            GatewayEvent::VoiceServerChanged(join) => {
                if let Some(call) = self.call.as_mut() {
                    let mut options = self.settings.voice.clone();
                    options.wait_for_dave = false;
                    match VoiceConnection::connect(join.voice_server(), options).await {
                        Ok(conn) => {
                            let old = std::mem::replace(&mut call.conn, conn);
                            old.close().await;
                        }
                        Err(e) => warn!(error = %e, "could not reopen the call's voice connection"),
                    }
                }
            }
            GatewayEvent::StreamServerChanged(stream) => {
                // Discord re-made our stream (new server, token and DAVE group): open its
                // connection and start the source again where it was. The old connection is
                // dead, and moving a live sender over would gain nothing.
                if let Some(mut playback) = self.halt_sender().await {
                    let source = playback.source.clone();
                    let at = Duration::from_millis(self.position.load(Ordering::Relaxed));
                    // The new playback reports from here on.
                    if let Some(progress) = playback.progress.take() {
                        progress.stop().await;
                    }
                    if let Ok(conn) = Arc::try_unwrap(playback.conn) {
                        conn.close().await;
                    }
                    info!(stream_key = %stream.stream_key, "stream re-created; resuming");
                    if let Err((kind, detail)) = Box::pin(self.play(source, at, Some(stream))).await
                    {
                        self.events.send(Event::Error { kind, detail });
                        self.publish();
                    }
                }
            }
            GatewayEvent::StreamDeleted { stream_key, reason } => {
                if self
                    .playback
                    .as_ref()
                    .is_some_and(|p| p.stream.stream_key == stream_key)
                    && let Some(playback) = self.halt_sender().await
                {
                    let detail = format!(
                        "Discord ended the stream ({})",
                        reason.as_deref().unwrap_or("no reason given")
                    );
                    self.finish_playback(playback, EndReason::Failed, Some(detail))
                        .await;
                }
            }
            GatewayEvent::VoiceLost { guild_id, .. } => {
                self.stop_playback(
                    EndReason::Failed,
                    Some("removed from the voice channel".into()),
                )
                .await;
                if let Some(call) = self.call.take_if(|c| c.guild_id == guild_id) {
                    call.conn.close().await;
                }
                self.publish();
            }
            GatewayEvent::RejoinFailed(e) => {
                self.events.send(Event::Error {
                    kind: voice_kind(&e),
                    detail: e.to_string(),
                });
            }
            GatewayEvent::Fatal(e) => {
                warn!(error = %e, "the Discord gateway stopped");
                self.stop_playback(EndReason::Failed, Some(e.to_string()))
                    .await;
                if let Some(call) = self.call.take() {
                    call.conn.close().await;
                }
                self.gateway = None;
                self.events.send(Event::Error {
                    kind: login_kind(&e),
                    detail: e.to_string(),
                });
                self.publish();
            }
        }
    }
}

async fn next_gateway_event(
    gateway: &mut Option<(Gateway, GatewayEvents)>,
) -> Option<GatewayEvent> {
    match gateway {
        Some((_, events)) => events.recv().await,
        None => std::future::pending().await,
    }
}

/// Resolves `source` under the daemon's policy (a Plex item through the Plex link, a URL
/// through the redirect walk) and opens it as the pipeline would.
async fn check(
    source: &Source,
    settings: &Settings,
    config: &PipelineConfig,
) -> Result<Prepared, Refusal> {
    let prepared = match settings.sources.resolve(source)? {
        Resolved::File(path) => Prepared {
            input: Input::File(path),
            plex: None,
        },
        Resolved::Url(url) => Prepared {
            input: Input::Http {
                url: settings.sources.check_url(&url).await?,
                headers: lounge_ipc::Secret::new(String::new()),
            },
            plex: None,
        },
        Resolved::Plex { rating_key } => {
            let resolved = crate::plex::resolve(&settings.plex, &rating_key)
                .await
                .map_err(|e| crate::plex_requests::refusal(&e))?;
            info!(rating_key, title = %resolved.item.title, from = %resolved.describe(), "playing a Plex item");
            Prepared {
                input: resolved.input,
                plex: Some((resolved.server, resolved.item)),
            }
        }
    };
    let config = config.clone();
    let input = prepared.input.clone();
    tokio::task::spawn_blocking(move || pipeline::check_input(&input, &config))
        .await
        .map_err(|e| (ErrorKind::Internal, format!("the source check failed: {e}")))?
        .map_err(|e| (e.kind(), e.to_string()))?;
    Ok(prepared)
}

/// Reads the pipeline and sends every packet until the source ends or the pipeline stops.
fn send_loop(
    handle: &pipeline::PipelineHandle,
    mut sink: MediaSink,
    position: &AtomicU64,
) -> (EndReason, Option<String>) {
    let mut order = Interleave::new(INTERLEAVE_WINDOW);
    let send = |sink: &mut MediaSink, packet: &pipeline::EncodedPacket| {
        position.store(millis(packet.source_position), Ordering::Relaxed);
        sink.send(&MediaUnit::from_encoded(packet))
            .map_err(|e| (EndReason::Failed, Some(e.to_string())))
    };
    while let Some(event) = handle.recv() {
        let result = match event {
            PipelineEvent::Packet(packet) => order
                .push(packet.stream_time(), packet)
                .try_for_each(|p| send(&mut sink, &p)),
            // The pipeline's timeline continues after a pause or seek; the wall clock
            // jumped, so the pacer must not try to catch up in a burst. What is held back
            // belongs before the jump: out it goes first.
            PipelineEvent::Resumed | PipelineEvent::Seeked(_) => {
                let flushed = order.drain().try_for_each(|p| send(&mut sink, &p));
                sink.reset_pacing();
                flushed
            }
            PipelineEvent::Paused => order.drain().try_for_each(|p| send(&mut sink, &p)),
            PipelineEvent::Warning(w) => {
                warn!(warning = %w, "pipeline");
                Ok(())
            }
            PipelineEvent::Finished => {
                return match order.drain().try_for_each(|p| send(&mut sink, &p)) {
                    Ok(()) => (EndReason::Finished, None),
                    Err(e) => e,
                };
            }
            PipelineEvent::Stopped => return (EndReason::Stopped, None),
            PipelineEvent::Failed(e) => return (EndReason::Failed, Some(e.to_string())),
        };
        if let Err(e) = result {
            return e;
        }
    }
    (EndReason::Stopped, None)
}

/// How far ahead of the oldest held packet the sender reads before sending it.
const INTERLEAVE_WINDOW: Duration = Duration::from_millis(120);

/// Puts audio and video back in media-time order before pacing.
///
/// The pipeline emits each stream as its encoder finishes, so an Opus packet can come out
/// tens of milliseconds after the video frame that follows it in time (and the other way
/// round). One pacer serves both streams in send order, so every packet queued behind a later
/// one left late: that was frame-time jitter of 10 ms on average and 27 ms at worst. Holding
/// a short window and releasing the earliest first sends each packet at its own time.
struct Interleave<T> {
    window: Duration,
    held: std::collections::BinaryHeap<std::cmp::Reverse<Held<T>>>,
    next: u64,
}

struct Held<T> {
    at: Duration,
    /// Arrival order, so equal times keep the order the pipeline gave them.
    seq: u64,
    item: T,
}

impl<T> PartialEq for Held<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl<T> Eq for Held<T> {}

impl<T> PartialOrd for Held<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Held<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

impl<T> Interleave<T> {
    fn new(window: Duration) -> Self {
        Self {
            window,
            held: std::collections::BinaryHeap::new(),
            next: 0,
        }
    }

    /// Holds `item` and returns, earliest first, everything that is `window` older than it.
    fn push(&mut self, at: Duration, item: T) -> impl Iterator<Item = T> + '_ {
        self.held.push(std::cmp::Reverse(Held {
            at,
            seq: self.next,
            item,
        }));
        self.next += 1;
        let newest = at;
        std::iter::from_fn(move || {
            let std::cmp::Reverse(oldest) = self.held.peek()?;
            (oldest.at + self.window <= newest)
                .then(|| self.held.pop().map(|std::cmp::Reverse(h)| h.item))
                .flatten()
        })
    }

    /// Everything held, earliest first.
    fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(move || self.held.pop().map(|std::cmp::Reverse(h)| h.item))
    }
}

fn login_kind(e: &GatewayError) -> ErrorKind {
    match e {
        GatewayError::AuthFailed { .. }
        | GatewayError::FatalClose { .. }
        | GatewayError::InvalidUrl { .. }
        | GatewayError::Connect { .. } => ErrorKind::LoginFailed,
        _ => ErrorKind::VoiceConnectFailed,
    }
}

fn voice_kind(e: &GatewayError) -> ErrorKind {
    match e {
        GatewayError::VoiceJoinTimedOut { .. }
        | GatewayError::StreamCreateTimedOut { .. }
        | GatewayError::StreamRefused { .. } => ErrorKind::VoicePermission,
        GatewayError::RateLimited => ErrorKind::Busy,
        other => login_kind(other),
    }
}

fn voice_error_kind(_: &VoiceError) -> ErrorKind {
    ErrorKind::VoiceConnectFailed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn interleave_sends_in_media_time_order() {
        let mut order = Interleave::new(ms(100));
        let mut out = Vec::new();
        // Video frames every 33 ms, audio every 20 ms, audio running 60 ms behind in the
        // pipeline's output, as an encoder delay makes it.
        let input = [
            (0, "v0"),
            (33, "v33"),
            (66, "v66"),
            (0, "a0"),
            (20, "a20"),
            (100, "v100"),
            (40, "a40"),
            (133, "v133"),
            (60, "a60"),
            (80, "a80"),
            (166, "v166"),
        ];
        for (at, name) in input {
            out.extend(order.push(ms(at), name));
        }
        // Released once the newest is a window later: up to 66 ms when 166 arrives.
        assert_eq!(out, ["v0", "a0", "a20", "v33", "a40", "a60", "v66"]);
        out.extend(order.drain());
        assert_eq!(
            out,
            [
                "v0", "a0", "a20", "v33", "a40", "a60", "v66", "a80", "v100", "v133", "v166"
            ]
        );
        assert_eq!(order.drain().count(), 0);
    }

    #[test]
    fn equal_times_keep_their_order() {
        let mut order = Interleave::new(ms(10));
        let mut out: Vec<&str> = order.push(ms(5), "first").collect();
        out.extend(order.push(ms(5), "second"));
        out.extend(order.push(ms(50), "late"));
        out.extend(order.drain());
        assert_eq!(out, ["first", "second", "late"]);
    }
}
