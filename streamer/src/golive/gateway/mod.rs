//! Discord's main gateway as the owner's user account.
//!
//! One task owns the websocket: it identifies (v9, JSON, no compression), heartbeats with a
//! zombie watchdog, resumes after drops, re-identifies when the session is gone and then
//! rejoins the voice channel and re-creates the stream, telling the owner through
//! [`GatewayEvent`]s so the voice connections can be reopened. The owner talks to it through
//! [`Gateway`], whose calls are commands over a channel (the task never shares its socket).
//!
//! Every op the owner causes goes through a [`SendQuota`]-sized limiter that keeps room for
//! heartbeats, so Discord's 120-per-minute limit is never hit.

mod budget;
mod client;
mod payload;

use std::fmt;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

pub use budget::SendQuota;
pub use payload::stream_key;

use super::token::Token;
use super::{VideoInfo, VoiceServer, is_loopback_endpoint};

/// Discord's main gateway.
pub const DEFAULT_URL: &str = "wss://gateway.discord.gg";

/// How long the client waits for each step, and how it spaces reconnects.
#[derive(Debug, Clone)]
pub struct GatewayTimeouts {
    /// TCP + TLS + websocket handshake, and then HELLO.
    pub connect: Duration,
    /// From IDENTIFY/RESUME to READY/RESUMED.
    pub ready: Duration,
    /// From op 4 to both voice dispatches.
    pub voice_join: Duration,
    /// From op 18 to both stream dispatches.
    pub stream_create: Duration,
    /// First non-immediate reconnect delay; doubles per failure up to `backoff_max`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// After `INVALID_SESSION` (not resumable) Discord asks for a random 1-5 s wait.
    pub reidentify_min: Duration,
    pub reidentify_max: Duration,
}

impl Default for GatewayTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(15),
            ready: Duration::from_secs(20),
            voice_join: Duration::from_secs(10),
            stream_create: Duration::from_secs(10),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_mins(1),
            reidentify_min: Duration::from_secs(1),
            reidentify_max: Duration::from_secs(5),
        }
    }
}

/// What [`Gateway::connect`] needs.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// `wss://gateway.discord.gg` unless overridden; `ws://` only for loopback (the fakes).
    pub url: String,
    pub token: Token,
    pub quota: SendQuota,
    pub timeouts: GatewayTimeouts,
}

impl GatewayConfig {
    pub fn new(token: Token) -> Self {
        Self {
            url: DEFAULT_URL.to_owned(),
            token,
            quota: SendQuota::DISCORD,
            timeouts: GatewayTimeouts::default(),
        }
    }
}

/// Where the account is in voice: a guild's voice channel, or with no guild a DM or group DM
/// call (whose channel id is the call's).
pub type Guild = Option<u64>;

/// How errors and logs name a place in voice.
pub fn describe_place(guild_id: Guild, channel_id: u64) -> String {
    match guild_id {
        Some(guild) => format!("voice channel {channel_id} in guild {guild}"),
        None => format!("the call in DM channel {channel_id}"),
    }
}

/// A voice channel joined: what the voice connection for the call needs.
#[derive(Clone, PartialEq, Eq)]
pub struct VoiceJoin {
    pub guild_id: Guild,
    pub channel_id: u64,
    pub user_id: u64,
    /// From this user's `VOICE_STATE_UPDATE`; the stream connection reuses it.
    pub session_id: String,
    /// `host[:port]` from `VOICE_SERVER_UPDATE`.
    pub endpoint: String,
    pub token: String,
}

impl fmt::Debug for VoiceJoin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VoiceJoin")
            .field("guild_id", &self.guild_id)
            .field("channel_id", &self.channel_id)
            .field("user_id", &self.user_id)
            .field("session_id", &self.session_id)
            .field("endpoint", &self.endpoint)
            .field("token", &"<redacted>")
            .finish()
    }
}

impl VoiceJoin {
    /// The call's voice server: `server_id` is the guild (the channel, for a DM call), the DAVE
    /// group is the channel.
    pub fn voice_server(&self) -> VoiceServer {
        VoiceServer {
            endpoint: self.endpoint.clone(),
            server_id: self.guild_id.unwrap_or(self.channel_id),
            user_id: self.user_id,
            session_id: self.session_id.clone(),
            token: self.token.clone(),
            dave_group_id: self.channel_id,
            video: None,
        }
    }
}

/// A Go Live stream created: what the stream's voice connection needs.
#[derive(Clone, PartialEq, Eq)]
pub struct StreamJoin {
    pub stream_key: String,
    pub guild_id: Guild,
    pub channel_id: u64,
    pub user_id: u64,
    pub rtc_server_id: u64,
    /// The voice session id of the call, which the stream connection identifies with.
    pub session_id: String,
    /// `host[:port]` from `STREAM_SERVER_UPDATE`.
    pub endpoint: String,
    pub token: String,
}

impl fmt::Debug for StreamJoin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamJoin")
            .field("stream_key", &self.stream_key)
            .field("rtc_server_id", &self.rtc_server_id)
            .field("session_id", &self.session_id)
            .field("endpoint", &self.endpoint)
            .field("token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl StreamJoin {
    /// The stream's voice server: `server_id` is the `rtc_server_id` and the DAVE group is
    /// `rtc_server_id - 1` (what clients use; Discord does not document it).
    pub fn voice_server(&self, video: VideoInfo) -> VoiceServer {
        VoiceServer {
            endpoint: self.endpoint.clone(),
            server_id: self.rtc_server_id,
            user_id: self.user_id,
            session_id: self.session_id.clone(),
            token: self.token.clone(),
            dave_group_id: self.rtc_server_id.saturating_sub(1),
            video: Some(video),
        }
    }
}

/// What the gateway tells its owner without being asked.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum GatewayEvent {
    /// The call's voice server or session changed (a re-identify rejoined the channel, or
    /// Discord moved the call): close the voice connection and open one with these values.
    VoiceServerChanged(VoiceJoin),
    /// The stream was re-created (after a re-identify) or moved: reopen its connection.
    StreamServerChanged(StreamJoin),
    /// Discord ended our stream (`reason` as Discord gave it, e.g. `unauthorized`).
    StreamDeleted {
        stream_key: String,
        reason: Option<String>,
    },
    /// Discord took the account out of the voice channel (kicked, moved, channel deleted);
    /// the stream in that guild is gone too.
    VoiceLost { guild_id: Guild, channel_id: u64 },
    /// After a re-identify the channel could not be rejoined or the stream not re-created.
    RejoinFailed(GatewayError),
    /// The client stopped for good; every later call returns [`GatewayError::Closed`].
    Fatal(GatewayError),
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum GatewayError {
    #[error(
        "the gateway URL `{url}` is not usable: {reason} (leave `gateway_url` unset to use \
         {DEFAULT_URL})"
    )]
    InvalidUrl { url: String, reason: String },
    #[error("could not connect to Discord's gateway at {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error(
        "Discord rejected the token: it is wrong or was revoked (a password change revokes \
         it); put the account's current token in {token_source}"
    )]
    AuthFailed { token_source: String },
    #[error("Discord closed the gateway with code {code} ({meaning}); reconnecting cannot help")]
    FatalClose { code: u16, meaning: String },
    #[error(
        "the account could not join {} within {secs} s: it may lack the Connect or View \
         Channel permission there (or not be in that DM or group), the channel may be full, or \
         the channel id is wrong",
        describe_place(*guild_id, *channel_id)
    )]
    VoiceJoinTimedOut {
        guild_id: Guild,
        channel_id: u64,
        secs: u64,
    },
    #[error(
        "Discord did not start the stream in voice channel {channel_id} within {secs} s: the \
         account may lack the Video (stream) permission there"
    )]
    StreamCreateTimedOut { channel_id: u64, secs: u64 },
    #[error("{}", stream_refused(reason.as_deref()))]
    StreamRefused { reason: Option<String> },
    #[error(
        "the account is not in {}: join it before starting a stream",
        describe_place(*guild_id, *channel_id)
    )]
    NotInVoice { guild_id: Guild, channel_id: u64 },
    #[error(
        "too many gateway operations are waiting for Discord's send limit (120 per minute); \
         try again in a minute"
    )]
    RateLimited,
    #[error("another request for the same voice channel or stream replaced this one")]
    Superseded,
    #[error("the gateway client has stopped")]
    Closed,
}

fn stream_refused(reason: Option<&str>) -> String {
    let why = match reason {
        Some("unauthorized") => {
            "the account lacks the Video (stream) permission in that channel".to_owned()
        }
        Some("stream_full") => "the channel already has as many streams as it allows".to_owned(),
        Some(other) => format!("reason `{other}`"),
        None => "no reason given".to_owned(),
    };
    format!("Discord refused to start the stream: {why}")
}

/// Checks a gateway URL: `wss://` anywhere, `ws://` only on loopback.
fn check_url(url: &str) -> Result<(), GatewayError> {
    let invalid = |reason: &str| GatewayError::InvalidUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    if let Some(rest) = url.strip_prefix("wss://") {
        if rest.is_empty() {
            return Err(invalid("it has no host"));
        }
        return Ok(());
    }
    let Some(rest) = url.strip_prefix("ws://") else {
        return Err(invalid("it must start with wss://"));
    };
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    if is_loopback_endpoint(host) {
        Ok(())
    } else {
        Err(invalid(
            "plain ws:// is only allowed for loopback addresses (the test fakes)",
        ))
    }
}

type Reply<T> = oneshot::Sender<Result<T, GatewayError>>;

enum Command {
    JoinVoice {
        guild_id: Guild,
        channel_id: u64,
        reply: Reply<VoiceJoin>,
    },
    LeaveVoice {
        guild_id: Guild,
        reply: Reply<()>,
    },
    CreateStream {
        guild_id: Guild,
        channel_id: u64,
        reply: Reply<StreamJoin>,
    },
    SetPaused {
        stream_key: String,
        paused: bool,
        reply: Reply<()>,
    },
    DeleteStream {
        stream_key: String,
        reply: Reply<()>,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
}

/// The owner's handle on the gateway client. Dropping it closes the connection.
pub struct Gateway {
    commands: mpsc::Sender<Command>,
    user_id: u64,
}

/// The events receiver [`Gateway::connect`] hands back.
pub type GatewayEvents = mpsc::UnboundedReceiver<GatewayEvent>;

impl Gateway {
    /// Connects, identifies and waits for READY. A wrong token fails here with
    /// [`GatewayError::AuthFailed`]; later drops are repaired in the background.
    pub async fn connect(config: GatewayConfig) -> Result<(Self, GatewayEvents), GatewayError> {
        check_url(&config.url)?;
        let (commands, command_rx) = mpsc::channel(64);
        let (events, event_rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = oneshot::channel();
        tokio::spawn(client::Client::new(config, command_rx, events, ready_tx).run());
        let user_id = ready_rx.await.map_err(|_| GatewayError::Closed)??;
        Ok((Self { commands, user_id }, event_rx))
    }

    /// The logged-in account's user id (from READY).
    pub fn user_id(&self) -> u64 {
        self.user_id
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, GatewayError> {
        let (reply, rx) = oneshot::channel();
        self.commands
            .send(make(reply))
            .await
            .map_err(|_| GatewayError::Closed)?;
        rx.await.map_err(|_| GatewayError::Closed)?
    }

    /// Joins a voice channel (op 4) and waits for this account's voice state and the voice
    /// server. Times out with [`GatewayError::VoiceJoinTimedOut`].
    pub async fn join_voice(
        &self,
        guild_id: Guild,
        channel_id: u64,
    ) -> Result<VoiceJoin, GatewayError> {
        self.ask(|reply| Command::JoinVoice {
            guild_id,
            channel_id,
            reply,
        })
        .await
    }

    /// Leaves the guild's voice channel, or the DM call (op 4 with no channel); returns once
    /// sent.
    pub async fn leave_voice(&self, guild_id: Guild) -> Result<(), GatewayError> {
        self.ask(|reply| Command::LeaveVoice { guild_id, reply })
            .await
    }

    /// Starts a Go Live stream in the voice channel the account is in (op 18), waits for the
    /// stream's key and server, then unpauses it (op 22).
    pub async fn create_stream(
        &self,
        guild_id: Guild,
        channel_id: u64,
    ) -> Result<StreamJoin, GatewayError> {
        self.ask(|reply| Command::CreateStream {
            guild_id,
            channel_id,
            reply,
        })
        .await
    }

    /// Op 22; returns once sent (so a burst of calls is paced by the send limit).
    pub async fn set_stream_paused(
        &self,
        stream_key: &str,
        paused: bool,
    ) -> Result<(), GatewayError> {
        self.ask(|reply| Command::SetPaused {
            stream_key: stream_key.to_owned(),
            paused,
            reply,
        })
        .await
    }

    /// Ends the stream (op 19); returns once sent.
    pub async fn delete_stream(&self, stream_key: &str) -> Result<(), GatewayError> {
        self.ask(|reply| Command::DeleteStream {
            stream_key: stream_key.to_owned(),
            reply,
        })
        .await
    }

    /// Closes the connection (ending the session, as a client logging out does) and stops
    /// the task. Leave voice and delete the stream first to do it cleanly.
    pub async fn shutdown(&self) {
        let (reply, rx) = oneshot::channel();
        if self
            .commands
            .send(Command::Shutdown { reply })
            .await
            .is_ok()
        {
            let _ = rx.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_websockets_only_on_loopback() {
        assert!(check_url("wss://gateway.discord.gg").is_ok());
        assert!(check_url("ws://127.0.0.1:4000").is_ok());
        assert!(check_url("ws://localhost:4000/?v=9").is_ok());
        assert!(check_url("ws://gateway.discord.gg").is_err());
        assert!(check_url("ws://127.0.0.1.evil.example:80").is_err());
        assert!(check_url("https://gateway.discord.gg").is_err());
        assert!(check_url("wss://").is_err());
    }

    #[test]
    fn voice_servers_for_call_and_stream() {
        let join = VoiceJoin {
            guild_id: Some(10),
            channel_id: 20,
            user_id: 30,
            session_id: "s".into(),
            endpoint: "e:1".into(),
            token: "secret".into(),
        };
        let v = join.voice_server();
        assert_eq!((v.server_id, v.dave_group_id, v.video), (10, 20, None));
        assert!(!format!("{join:?}").contains("secret"));
        let stream = StreamJoin {
            stream_key: stream_key(Some(10), 20, 30),
            guild_id: Some(10),
            channel_id: 20,
            user_id: 30,
            rtc_server_id: 500,
            session_id: "s".into(),
            endpoint: "e:2".into(),
            token: "secret".into(),
        };
        let video = VideoInfo {
            width: 1280,
            height: 720,
            fps: 30,
            max_bitrate: 5_000_000,
        };
        let v = stream.voice_server(video);
        assert_eq!((v.server_id, v.dave_group_id), (500, 499));
        assert_eq!(v.session_id, "s");
        assert_eq!(v.video, Some(video));
        assert!(!format!("{stream:?}").contains("secret"));
    }

    #[test]
    fn stream_refusals_say_why() {
        let e = GatewayError::StreamRefused {
            reason: Some("unauthorized".into()),
        };
        assert!(e.to_string().contains("Video (stream) permission"), "{e}");
    }
}
