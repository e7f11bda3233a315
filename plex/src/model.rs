//! What Plex answers, with the fields Lounge uses. Everything else is ignored, every field
//! that some item lacks is optional, and an item type we do not know parses as
//! [`ItemType::Other`], so a new kind of item in someone's library never breaks a page.

use lounge_ipc::Secret;
use serde::{Deserialize, Deserializer, Serialize};

/// Plex writes some ids as strings in one answer and as numbers in another
/// (`grandparentRatingKey` is a number on an episode list, a string on an episode).
fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        S(String),
        N(u64),
    }
    Ok(match Either::deserialize(d)? {
        Either::S(s) => s,
        Either::N(n) => n.to_string(),
    })
}

fn opt_string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        S(String),
        N(u64),
    }
    Ok(Option::<Either>::deserialize(d)?.map(|e| match e {
        Either::S(s) => s,
        Either::N(n) => n.to_string(),
    }))
}

/// Numbers that some answers write as strings (`"childCount": "3"` on a collection).
fn opt_num<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr + Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either<T> {
        N(T),
        S(String),
    }
    Ok(match Option::<Either<T>>::deserialize(d)? {
        None => None,
        Some(Either::N(n)) => Some(n),
        // A non-number where a number belongs is treated as absent rather than failing the
        // whole page.
        Some(Either::S(s)) => s.trim().parse().ok(),
    })
}

/// The `type` of an item. Unknown types keep their name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum ItemType {
    Movie,
    Show,
    Season,
    Episode,
    Artist,
    Album,
    Track,
    Photo,
    PhotoAlbum,
    Clip,
    Collection,
    Playlist,
    Other(String),
}

impl From<String> for ItemType {
    fn from(s: String) -> Self {
        match s.as_str() {
            "movie" => Self::Movie,
            "show" => Self::Show,
            "season" => Self::Season,
            "episode" => Self::Episode,
            "artist" => Self::Artist,
            "album" => Self::Album,
            "track" => Self::Track,
            "photo" => Self::Photo,
            "photoalbum" => Self::PhotoAlbum,
            "clip" => Self::Clip,
            "collection" => Self::Collection,
            "playlist" => Self::Playlist,
            _ => Self::Other(s),
        }
    }
}

impl From<ItemType> for String {
    fn from(t: ItemType) -> Self {
        t.as_str().to_owned()
    }
}

impl ItemType {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Movie => "movie",
            Self::Show => "show",
            Self::Season => "season",
            Self::Episode => "episode",
            Self::Artist => "artist",
            Self::Album => "album",
            Self::Track => "track",
            Self::Photo => "photo",
            Self::PhotoAlbum => "photoalbum",
            Self::Clip => "clip",
            Self::Collection => "collection",
            Self::Playlist => "playlist",
            Self::Other(s) => s,
        }
    }

    /// Items with a video picture Lounge can stream.
    pub fn is_video(&self) -> bool {
        matches!(self, Self::Movie | Self::Episode | Self::Clip)
    }
}

impl std::fmt::Display for ItemType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `{"MediaContainer": {...}}`, the envelope of every server answer.
#[derive(Debug, Deserialize)]
pub(crate) struct Envelope<T> {
    #[serde(rename = "MediaContainer")]
    pub media_container: T,
}

/// Reads one server answer (`{"MediaContainer": ...}`), as the client does.
pub fn parse_container(json: &str) -> Result<MediaContainer, serde_json::Error> {
    serde_json::from_str::<Envelope<MediaContainer>>(json).map(|e| e.media_container)
}

/// A server answer's container: a page of items, libraries or search hubs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MediaContainer {
    #[serde(default, deserialize_with = "opt_num")]
    pub size: Option<u64>,
    /// The whole list's length when a page was asked for.
    #[serde(default, deserialize_with = "opt_num")]
    pub total_size: Option<u64>,
    #[serde(default, deserialize_with = "opt_num")]
    pub offset: Option<u64>,
    pub title1: Option<String>,
    pub title2: Option<String>,
    #[serde(rename = "librarySectionID", default, deserialize_with = "opt_num")]
    pub library_section_id: Option<u64>,
    #[serde(rename = "Metadata")]
    pub metadata: Vec<Metadata>,
    #[serde(rename = "Directory")]
    pub directory: Vec<Directory>,
    #[serde(rename = "Hub")]
    pub hub: Vec<Hub>,
    // The server's root (`/`) and `/identity`:
    pub machine_identifier: Option<String>,
    pub version: Option<String>,
    pub friendly_name: Option<String>,
    pub claimed: Option<bool>,
    pub my_plex_username: Option<String>,
    pub platform: Option<String>,
}

/// One library (`/library/sections`), or a folder entry of a listing.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Directory {
    #[serde(deserialize_with = "string_or_number")]
    pub key: String,
    #[serde(default)]
    pub title: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ItemType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
}

/// A search result group (`/hubs/search`): one hub per type.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Hub {
    pub title: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<ItemType>,
    pub hub_identifier: Option<String>,
    #[serde(default, deserialize_with = "opt_num")]
    pub size: Option<u64>,
    #[serde(rename = "Metadata")]
    pub metadata: Vec<Metadata>,
}

/// A movie, show, season, episode, track, photo, ...
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    #[serde(deserialize_with = "string_or_number")]
    pub rating_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(rename = "type")]
    pub kind: ItemType,
    #[serde(default)]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_sort: Option<String>,
    #[serde(
        deserialize_with = "opt_num",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub year: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Season of an episode, show of a season.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_title: Option<String>,
    /// Show of an episode, artist of a track.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grandparent_title: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub parent_rating_key: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub grandparent_rating_key: Option<String>,
    /// Episode number in its season, season number in its show, track number.
    #[serde(
        deserialize_with = "opt_num",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub index: Option<u32>,
    /// Season number of an episode.
    #[serde(
        deserialize_with = "opt_num",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub parent_index: Option<u32>,
    /// Milliseconds.
    #[serde(
        deserialize_with = "opt_num",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub duration: Option<u64>,
    /// Where the owner stopped, in milliseconds (Continue Watching).
    #[serde(
        deserialize_with = "opt_num",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub view_offset: Option<u64>,
    #[serde(
        deserialize_with = "opt_num",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub view_count: Option<u64>,
    #[serde(
        deserialize_with = "opt_num",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub rating: Option<f64>,
    #[serde(
        deserialize_with = "opt_num",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub audience_rating: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_rating: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_thumb: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grandparent_thumb: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub art: Option<String>,
    /// Seconds since the epoch.
    #[serde(
        deserialize_with = "opt_num",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub added_at: Option<i64>,
    /// Episodes of a show or season.
    #[serde(
        deserialize_with = "opt_num",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub leaf_count: Option<u64>,
    /// Seasons of a show.
    #[serde(
        deserialize_with = "opt_num",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub child_count: Option<u64>,
    #[serde(
        rename = "librarySectionID",
        default,
        deserialize_with = "opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub library_section_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library_section_title: Option<String>,
    #[serde(rename = "Media", default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<Media>,
}

/// One version of an item (a file, or several parts of one): a movie may have a 4K and a
/// 1080p version.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Media {
    #[serde(default, deserialize_with = "opt_num")]
    pub id: Option<u64>,
    #[serde(default, deserialize_with = "opt_num")]
    pub duration: Option<u64>,
    /// kbit/s.
    #[serde(default, deserialize_with = "opt_num")]
    pub bitrate: Option<u64>,
    #[serde(default, deserialize_with = "opt_num")]
    pub width: Option<u32>,
    #[serde(default, deserialize_with = "opt_num")]
    pub height: Option<u32>,
    pub container: Option<String>,
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
    #[serde(default, deserialize_with = "opt_num")]
    pub audio_channels: Option<u32>,
    pub video_resolution: Option<String>,
    #[serde(rename = "Part")]
    pub part: Vec<Part>,
}

/// One file of a version.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Part {
    #[serde(default, deserialize_with = "opt_num")]
    pub id: Option<u64>,
    /// The download path on the server: `/library/parts/{id}/{ts}/file.ext`.
    pub key: Option<String>,
    /// The path on the server's disk.
    pub file: Option<String>,
    /// Bytes.
    #[serde(default, deserialize_with = "opt_num")]
    pub size: Option<u64>,
    #[serde(default, deserialize_with = "opt_num")]
    pub duration: Option<u64>,
    pub container: Option<String>,
    #[serde(rename = "Stream")]
    pub stream: Vec<Stream>,
}

/// Plex's `streamType`.
pub mod stream_type {
    pub const VIDEO: u32 = 1;
    pub const AUDIO: u32 = 2;
    pub const SUBTITLE: u32 = 3;
}

/// A video, audio or subtitle track of a part.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Stream {
    #[serde(default, deserialize_with = "opt_num")]
    pub id: Option<u64>,
    /// 1 video, 2 audio, 3 subtitle (see [`stream_type`]).
    pub stream_type: u32,
    pub codec: Option<String>,
    #[serde(default, deserialize_with = "opt_num")]
    pub index: Option<u32>,
    pub language: Option<String>,
    /// ISO 639-2 (`eng`).
    pub language_code: Option<String>,
    /// BCP 47 (`en`).
    pub language_tag: Option<String>,
    pub title: Option<String>,
    pub display_title: Option<String>,
    #[serde(default, deserialize_with = "opt_num")]
    pub channels: Option<u32>,
    pub default: Option<bool>,
    pub selected: Option<bool>,
    pub forced: Option<bool>,
    /// A sidecar subtitle file's download path.
    pub key: Option<String>,
}

/// `/identity`: answered without a token, so it is how a connection is checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub machine_identifier: String,
    pub version: String,
    pub claimed: bool,
}

/// The server's root (`/`), with its name as the owner set it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerInfo {
    pub name: String,
    pub version: String,
    pub machine_identifier: String,
    pub platform: Option<String>,
}

/// A plex.tv PIN (`/api/v2/pins`). `auth_token` is set once the owner entered the code.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pin {
    pub id: u64,
    pub code: String,
    #[serde(default)]
    pub auth_token: Option<Secret>,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// The plex.tv account (`/api/v2/user`). Its `authToken` is deliberately not read.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: u64,
    #[serde(default)]
    pub uuid: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub title: String,
}

/// A device of the account (`/api/v2/resources`): servers, players, ...
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    pub name: String,
    #[serde(default)]
    pub product: String,
    #[serde(default)]
    pub product_version: String,
    pub client_identifier: String,
    /// Comma-separated roles: `server`, `client`, `player`, ...
    #[serde(default)]
    pub provides: String,
    #[serde(default)]
    pub owned: bool,
    /// The token for this server (the account's own for an owned server).
    #[serde(default)]
    pub access_token: Option<Secret>,
    #[serde(default)]
    pub connections: Vec<Connection>,
}

impl Resource {
    pub fn is_server(&self) -> bool {
        self.provides.split(',').any(|p| p.trim() == "server")
    }
}

/// One way to reach a server: on the LAN, from the internet, or through Plex's relay.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    #[serde(default)]
    pub protocol: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub port: u16,
    pub uri: String,
    #[serde(default)]
    pub local: bool,
    #[serde(default)]
    pub relay: bool,
    #[serde(rename = "IPv6", default)]
    pub ipv6: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_types_and_missing_fields_parse() {
        let c: Envelope<MediaContainer> = serde_json::from_str(
            r#"{"MediaContainer":{"size":2,"Metadata":[
                {"ratingKey":"1","type":"hologram","title":"Future"},
                {"ratingKey":7,"type":"episode","title":"Pilot","grandparentRatingKey":22,
                 "index":1,"parentIndex":1,"Media":[{"Part":[{"file":"/x.mkv","key":"/library/parts/1/2/file.mkv"}]}]}
            ]}}"#,
        )
        .unwrap();
        let items = &c.media_container.metadata;
        assert_eq!(items[0].kind, ItemType::Other("hologram".into()));
        assert_eq!(items[1].rating_key, "7");
        assert_eq!(items[1].grandparent_rating_key.as_deref(), Some("22"));
        assert_eq!(items[1].media[0].part[0].file.as_deref(), Some("/x.mkv"));
        assert_eq!(
            serde_json::to_value(&items[0].kind).unwrap(),
            serde_json::json!("hologram")
        );
    }

    #[test]
    fn a_pin_keeps_its_token_out_of_debug() {
        let pin: Pin =
            serde_json::from_str(r#"{"id":5,"code":"ABCD","authToken":"s3cr3t-tok"}"#).unwrap();
        assert_eq!(
            pin.auth_token.as_ref().map(Secret::expose),
            Some("s3cr3t-tok")
        );
        assert!(!format!("{pin:?}").contains("s3cr3t"));
        let r: Resource = serde_json::from_str(
            r#"{"name":"Box","clientIdentifier":"c","provides":"client,server","accessToken":"s3cr3t-tok"}"#,
        )
        .unwrap();
        assert!(r.is_server());
        assert!(!format!("{r:?}").contains("s3cr3t"));
    }
}
