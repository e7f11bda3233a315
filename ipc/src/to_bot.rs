//! Messages the streamer sends to the bot.

use serde::{Deserialize, Serialize};

use crate::to_streamer::{Quality, RequestId, Source};

/// Every frame the streamer sends, tagged by `op`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ToBot {
    /// The streamer's answer to a hello: its nonce and its proof of the shared secret (see
    /// [`crate::auth`]). The bot checks the proof before sending its own.
    Challenge {
        nonce: String,
        proof: String,
    },
    /// Handshake accepted.
    Ready {
        version: u32,
        capabilities: Capabilities,
    },
    /// Handshake refused; the connection closes after this frame.
    Refused {
        reason: RefuseReason,
        server_version: u32,
        message: String,
    },
    /// The answer to the request with the same `id`.
    Response {
        id: RequestId,
        reply: Reply,
    },
    StateChanged {
        state: PlaybackState,
    },
    Progress {
        position_ms: u64,
        duration_ms: Option<u64>,
    },
    Ended {
        reason: EndReason,
    },
    Error {
        kind: ErrorKind,
        detail: String,
    },
    /// An `op` from a newer streamer. Parsing it, rather than failing, keeps an older bot
    /// connected; the client logs and skips it.
    #[serde(other)]
    Unknown,
}

/// Unsolicited events the streamer pushes to every connected bot.
///
/// Kept apart from [`ToBot`] so the streamer cannot push a handshake or response frame as an
/// event by mistake.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    StateChanged {
        state: PlaybackState,
    },
    Progress {
        position_ms: u64,
        duration_ms: Option<u64>,
    },
    Ended {
        reason: EndReason,
    },
    Error {
        kind: ErrorKind,
        detail: String,
    },
}

impl From<Event> for ToBot {
    fn from(event: Event) -> Self {
        match event {
            Event::StateChanged { state } => ToBot::StateChanged { state },
            Event::Progress {
                position_ms,
                duration_ms,
            } => ToBot::Progress {
                position_ms,
                duration_ms,
            },
            Event::Ended { reason } => ToBot::Ended { reason },
            Event::Error { kind, detail } => ToBot::Error { kind, detail },
        }
    }
}

impl ToBot {
    /// The event inside this frame, if it is one.
    pub fn into_event(self) -> Option<Event> {
        match self {
            ToBot::StateChanged { state } => Some(Event::StateChanged { state }),
            ToBot::Progress {
                position_ms,
                duration_ms,
            } => Some(Event::Progress {
                position_ms,
                duration_ms,
            }),
            ToBot::Ended { reason } => Some(Event::Ended { reason }),
            ToBot::Error { kind, detail } => Some(Event::Error { kind, detail }),
            ToBot::Ready { .. }
            | ToBot::Challenge { .. }
            | ToBot::Refused { .. }
            | ToBot::Response { .. }
            | ToBot::Unknown => None,
        }
    }
}

/// What this streamer can do, sent in [`ToBot::Ready`] so the bot can hide options it lacks.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Capabilities {
    /// Names of the encoder backends the streamer probed successfully, best first.
    pub encoders: Vec<String>,
    /// Qualities the streamer will honour in [`crate::to_streamer::Command::SetQuality`].
    pub qualities: Vec<Quality>,
    /// Whether video (Go Live) streaming is available, not just audio.
    pub video: bool,
    /// Whether play orders' `tracks` (audio and subtitle languages) are honoured; a streamer
    /// from before them ignores the field, so the bot refuses rather than play the wrong track.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tracks: bool,
}

/// The body of a [`ToBot::Response`], tagged by `result`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reply {
    /// Done; nothing to report.
    Ok,
    /// The answer to [`crate::to_streamer::Command::Status`].
    Status(Status),
    /// The request was understood but could not be carried out.
    Failed { kind: ErrorKind, detail: String },
    /// A page of Plex items: search results, a library, an item's children, On Deck,
    /// recently added.
    PlexItems(PlexItems),
    /// The owner's Plex libraries.
    PlexLibraries { libraries: Vec<PlexLibrary> },
    /// One Plex item in detail.
    /// Boxed: the largest answer by far, and every frame would otherwise carry its size.
    PlexMetadata(Box<PlexDetails>),
    /// An item's poster.
    PlexPoster(PlexPoster),
    /// A result from a newer streamer.
    #[serde(other)]
    Unknown,
}

/// A page of a Plex list (see [`crate::plex`] for the limits every field is cut to).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlexItems {
    pub items: Vec<PlexItem>,
    /// Which page this is, from 0.
    pub page: u32,
    /// How many items the whole list has.
    pub total: u64,
}

/// One Plex item in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlexItem {
    pub rating_key: String,
    /// Plex's type: `movie`, `show`, `season`, `episode`, `artist`, `album`, `track`, ...
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// The show of a season; the season of an episode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_title: Option<String>,
    /// The show of an episode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grandparent_title: Option<String>,
    /// The episode number in its season, the season number in its show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// The season number of an episode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_index: Option<u32>,
    /// Whether browsing into it lists more items (a show's seasons, a season's episodes).
    pub has_children: bool,
}

/// One Plex library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlexLibrary {
    pub key: String,
    pub title: String,
    /// `movie`, `show`, `artist`, `photo`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// One Plex item in detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlexDetails {
    pub rating_key: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// Where the owner stopped (Continue Watching).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view_offset_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grandparent_title: Option<String>,
    /// An episode's season (its parent), to find the next episode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_rating_key: Option<String>,
    /// An episode's number in its season.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Plex's rating, e.g. "7.8", and the content rating, e.g. "PG-13".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_rating: Option<String>,
    /// The media files of its versions.
    pub parts: Vec<PlexPart>,
    /// Whether it has a poster to ask for with `plex_poster`.
    pub has_poster: bool,
}

/// One media file of a Plex item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlexPart {
    /// Whether the streamer can get at it: the file on its disk, or a download from Plex.
    pub available: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// `1080`, `720`, `4k`, `sd`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_resolution: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// Its audio tracks as Plex names them ("English (EAC3 5.1)").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audio: Vec<String>,
    /// Its subtitle tracks as Plex names them ("English SDH (SRT)").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subtitles: Vec<String>,
}

/// A poster, scaled by Plex's photo transcoder: at most [`crate::plex::MAX_POSTER_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlexPoster {
    /// `image/jpeg`.
    pub content_type: String,
    /// The image, base64 (standard alphabet, padded).
    pub data_base64: String,
}

/// A snapshot of the streamer, enough for the bot to rebuild its view after a reconnect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub state: PlaybackState,
    pub guild_id: Option<u64>,
    pub channel_id: Option<u64>,
    pub source: Option<Source>,
    pub position_ms: u64,
    pub duration_ms: Option<u64>,
    pub quality: Quality,
    /// The Discord account that streams, once logged in: it sits in the voice channel too, and
    /// is no viewer when members vote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PlaybackState {
    /// Not in a voice channel.
    Disconnected,
    /// In a voice channel, nothing playing.
    Idle,
    Buffering,
    Playing,
    Paused,
    /// A state from a newer streamer.
    #[serde(other)]
    Unknown,
}

impl PlaybackState {
    /// Whether a source is loaded (playing, paused or buffering): there is something to
    /// control, and its position means something.
    pub fn has_source(self) -> bool {
        matches!(self, Self::Playing | Self::Paused | Self::Buffering)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EndReason {
    /// The source played to its end.
    Finished,
    /// A `stop`, `leave_voice` or `shutdown` request ended it.
    Stopped,
    /// Playback failed; an [`Event::Error`] with the cause precedes this.
    Failed,
    /// A reason from a newer streamer.
    #[serde(other)]
    Unknown,
}

/// Why a handshake was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RefuseReason {
    VersionMismatch,
    BadSecret,
    /// The first frame was not a well-formed `hello`.
    BadHandshake,
    /// A reason from a newer streamer; the accompanying message still explains it.
    #[serde(other)]
    Unknown,
}

/// What went wrong, in terms the bot can explain to a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    VoiceConnectFailed,
    /// The streamer's account may not join that channel (no View Channel/Connect, or full).
    VoicePermission,
    /// Discord refused the streamer's user token (wrong, revoked) or the login failed.
    LoginFailed,
    /// The owner has not opted in to Go Live (`accept_selfbot_risk`).
    GoLiveDisabled,
    NotInVoice,
    NothingPlaying,
    SourceNotFound,
    SourceUnavailable,
    /// The streamer's owner does not allow this kind of source (web links are off).
    SourceNotAllowed,
    /// The item exists but is not something Lounge plays (a show, a photo).
    NotPlayable,
    /// The streamer has no Plex account linked (or the token was revoked).
    PlexNotLinked,
    /// The Plex server could not be reached or answered wrongly.
    PlexUnavailable,
    UnsupportedMedia,
    /// The source has no audio or subtitle track in the language asked for, or only one that
    /// can't be burned in (bitmap subtitles).
    TrackNotFound,
    EncoderFailed,
    /// The request was malformed or uses an `op` this streamer does not know.
    InvalidRequest,
    Busy,
    ShuttingDown,
    Internal,
    /// A kind from a newer streamer; shown as a generic failure.
    #[serde(other)]
    Unknown,
}

impl ErrorKind {
    /// A sentence safe to show to Discord users as written. Details (paths, codec names,
    /// `FFmpeg` output) stay in the accompanying `detail` string, which belongs in logs.
    pub fn user_message(self) -> &'static str {
        match self {
            ErrorKind::VoiceConnectFailed => "I couldn't connect to that voice channel.",
            ErrorKind::VoicePermission => {
                "The streamer's account can't join that voice channel: it needs the View Channel \
                 and Connect permissions there, and the channel must not be full."
            }
            ErrorKind::LoginFailed => {
                "The streamer couldn't log in to Discord. Whoever runs it must give it the \
                 account's current token (lounge-streamer token set)."
            }
            ErrorKind::GoLiveDisabled => {
                "Go Live is turned off on the streamer: whoever runs it hasn't opted in to \
                 streaming from a user account."
            }
            ErrorKind::NotInVoice => "The streamer isn't in a voice channel.",
            ErrorKind::NothingPlaying => "Nothing is playing right now.",
            ErrorKind::SourceNotFound => "I couldn't find that media.",
            ErrorKind::SourceUnavailable => {
                "That media can't be reached right now. Try again later."
            }
            ErrorKind::SourceNotAllowed => {
                "The streamer doesn't play web links: ask for a file from its media folders."
            }
            ErrorKind::NotPlayable => "That Plex item can't be played: pick a movie or an episode.",
            ErrorKind::PlexNotLinked => {
                "The streamer isn't linked to a Plex account. Whoever runs it can link one with \
                 `lounge-streamer plex login`."
            }
            ErrorKind::PlexUnavailable => {
                "The streamer can't reach its Plex server right now. Try again later."
            }
            ErrorKind::UnsupportedMedia => "That media format isn't supported.",
            ErrorKind::TrackNotFound => {
                "It has no audio or subtitle track in that language (or only picture subtitles, \
                 which can't be shown yet): try another language, or leave the option out."
            }
            ErrorKind::EncoderFailed => "The video encoder failed. Try a lower quality.",
            ErrorKind::InvalidRequest => {
                "The streamer didn't understand that request; the bot and streamer may be out of date."
            }
            ErrorKind::Busy => "The streamer is busy. Try again in a moment.",
            ErrorKind::ShuttingDown => "The streamer is shutting down.",
            ErrorKind::Internal | ErrorKind::Unknown => "Something went wrong in the streamer.",
        }
    }
}
