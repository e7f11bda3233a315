//! Messages the bot sends to the streamer.
//!
//! The first frame on a connection is always a [`Hello`], the second the bot's [`Auth`] (see
//! [`crate::auth`]); every later frame is a [`Request`], which the streamer answers with exactly
//! one [`crate::to_bot::ToBot::Response`] carrying the same id.

use serde::{Deserialize, Serialize};

/// Correlates a [`Request`] with its response. Unique per client for the client's lifetime, so a
/// late response from a previous connection can never be mistaken for a new one.
pub type RequestId = u64;

/// The handshake's first frame: the protocol version the bot speaks and its fresh nonce (64
/// hex digits) for the challenge-response. It carries no secret.
///
/// Serialized as `{"op":"hello",...}` so a peer that sends a request before the handshake is
/// recognisably wrong rather than ambiguously so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename = "hello", from = "HelloFrame")]
pub struct Hello {
    pub version: u32,
    /// Missing from an older bot's hello: parsed as empty so the version check still answers
    /// it with a version refusal.
    pub nonce: String,
}

// serde checks a struct's `tag` only when serializing, so parse through an enum whose only
// variant is `hello`: a missing or different `op` is then an error, not a silent default.
#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum HelloFrame {
    Hello {
        version: u32,
        #[serde(default)]
        nonce: String,
    },
}

impl From<HelloFrame> for Hello {
    fn from(HelloFrame::Hello { version, nonce }: HelloFrame) -> Self {
        Hello { version, nonce }
    }
}

/// The handshake's second frame, after the streamer proved itself: the bot's proof of the
/// shared secret over both nonces (see [`crate::auth`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename = "auth", from = "AuthFrame")]
pub struct Auth {
    pub proof: String,
}

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum AuthFrame {
    Auth { proof: String },
}

impl From<AuthFrame> for Auth {
    fn from(AuthFrame::Auth { proof }: AuthFrame) -> Self {
        Auth { proof }
    }
}

/// One request frame: `{"id":7,"op":"seek","position_ms":5000}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub id: RequestId,
    #[serde(flatten)]
    pub command: Command,
}

/// What the bot asks the streamer to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Command {
    /// Join (or move to) a voice channel and get ready to stream. Without `guild_id`, join the
    /// DM or group DM call whose channel is `channel_id` (the owner's account must be in it).
    JoinVoice {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        guild_id: Option<u64>,
        channel_id: u64,
    },
    /// Leave the voice channel in this guild (without `guild_id`: the DM call), stopping
    /// playback.
    LeaveVoice {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        guild_id: Option<u64>,
    },
    /// Start streaming `source`, skipping the first `start_offset_ms` milliseconds.
    Play {
        source: Source,
        start_offset_ms: u64,
        /// Which audio and subtitle tracks a member asked for (absent: the streamer's
        /// defaults; the bytes of an order without them are unchanged).
        #[serde(default, skip_serializing_if = "Tracks::is_default")]
        tracks: Tracks,
    },
    Pause,
    Resume,
    /// Jump to an absolute position in the current source.
    Seek {
        position_ms: u64,
    },
    Stop,
    SetQuality {
        quality: Quality,
    },
    /// Ask for a [`crate::to_bot::Status`] snapshot; also how the client re-syncs after a
    /// reconnect.
    Status,
    /// Ask the streamer process to exit cleanly.
    Shutdown,
    /// Search the owner's Plex (`/hubs/search`); answered with [`crate::to_bot::Reply::PlexItems`],
    /// at most [`crate::plex::PAGE_SIZE`] results.
    PlexSearch {
        query: String,
    },
    /// The Plex libraries; answered with [`crate::to_bot::Reply::PlexLibraries`].
    PlexLibraries,
    /// One page of a Plex list; answered with [`crate::to_bot::Reply::PlexItems`].
    PlexBrowse {
        list: PlexList,
        /// Counts from 0; each page holds [`crate::plex::PAGE_SIZE`] items.
        page: u32,
    },
    /// One Plex item in detail; answered with [`crate::to_bot::Reply::PlexMetadata`].
    PlexMetadata {
        rating_key: String,
    },
    /// An item's poster, small, from Plex's photo transcoder; answered with
    /// [`crate::to_bot::Reply::PlexPoster`].
    PlexPoster {
        rating_key: String,
    },
}

/// The tracks a play order asks for, by language (`en`, `eng`, `English`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracks {
    /// The audio track's language; the source's default track when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_language: Option<String>,
    /// Burn in the text subtitles in this language; none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtitle_language: Option<String>,
}

impl Tracks {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// Which Plex list [`Command::PlexBrowse`] pages through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum PlexList {
    /// A library's items (its `key` from [`crate::to_bot::Reply::PlexLibraries`]).
    Library { key: String, sort: PlexSort },
    /// A show's seasons, a season's episodes.
    Children { rating_key: String },
    /// On Deck: what Continue Watching shows.
    OnDeck,
    /// Recently added, across libraries.
    RecentlyAdded,
}

/// The orders a library can be listed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PlexSort {
    #[default]
    RecentlyAdded,
    Title,
    Year,
    Rating,
}

/// Where the media comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Source {
    /// A Plex library item, resolved by the streamer with its own Plex credentials so the bot
    /// never handles media tokens.
    Plex { rating_key: String },
    /// A direct media URL the streamer can open itself.
    Url { url: String },
}

/// Output quality the bot asks for; the streamer clamps it to what its encoder can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Quality {
    #[serde(rename = "auto")]
    Auto,
    #[serde(rename = "480p")]
    P480,
    #[serde(rename = "720p")]
    P720,
    #[serde(rename = "1080p")]
    P1080,
    /// A quality from a newer peer (e.g. in another version's capabilities); a streamer
    /// answers a request for it with `invalid_request`.
    #[serde(other)]
    Unknown,
}
