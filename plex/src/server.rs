//! A Plex Media Server: browsing, search, progress reports, and URLs for media and posters.

use std::time::Duration;

use lounge_ipc::Secret;
use reqwest::{Method, Url};

use crate::error::Error;
use crate::http::{Http, parse_base, redact};
use crate::model::{
    Directory, Envelope, Identity, ItemType, Media, MediaContainer, Metadata, Part, ServerInfo,
    stream_type,
};

/// The most items one page asks for: what the bot shows fits well below it, and a larger
/// page from a 10,000-item library is a big answer for nothing.
pub const MAX_PAGE: u32 = 100;

/// The orders a library can be listed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    RecentlyAdded,
    Title,
    Year,
    Rating,
}

impl Sort {
    /// Plex's `sort` parameter.
    pub fn param(self) -> &'static str {
        match self {
            Self::RecentlyAdded => "addedAt:desc",
            Self::Title => "titleSort",
            Self::Year => "year:desc",
            Self::Rating => "rating:desc",
        }
    }
}

/// Which slice of a list: `start` counts from 0, `size` is capped at [`MAX_PAGE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub start: u32,
    pub size: u32,
}

impl Page {
    pub fn first(size: u32) -> Self {
        Self { start: 0, size }
    }

    fn capped_size(self) -> u32 {
        self.size.clamp(1, MAX_PAGE)
    }
}

/// A page of items and where it sits in the whole list.
#[derive(Debug, Clone)]
pub struct Items {
    pub items: Vec<Metadata>,
    pub offset: u64,
    /// The whole list's length, when the server says.
    pub total: Option<u64>,
}

/// A progress report's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlayState {
    Playing,
    Paused,
    Stopped,
    Buffering,
}

impl PlayState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Playing => "playing",
            Self::Paused => "paused",
            Self::Stopped => "stopped",
            Self::Buffering => "buffering",
        }
    }
}

/// One `/:/timeline` report: Plex keeps the position for Continue Watching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    pub rating_key: String,
    pub state: PlayState,
    /// Milliseconds.
    pub time: u64,
    /// Milliseconds.
    pub duration: u64,
}

/// A URL that needs the token, which goes in the header only: `url` can be shown and logged,
/// the headers cannot (they are a [`Secret`]).
#[derive(Debug, Clone)]
pub struct Authorized {
    pub url: Url,
    token: Secret,
    client_headers: Vec<(String, String)>,
}

impl Authorized {
    /// Every header to send, the token among them, as `(name, value)` pairs.
    pub fn headers(&self) -> Vec<(String, Secret)> {
        let mut out: Vec<(String, Secret)> = self
            .client_headers
            .iter()
            .map(|(k, v)| (k.clone(), Secret::new(v.clone())))
            .collect();
        out.push(("X-Plex-Token".to_owned(), self.token.clone()));
        out
    }

    /// The headers in FFmpeg's `headers` option form (`Name: value\r\n` each).
    pub fn header_block(&self) -> Secret {
        let mut block = String::new();
        for (name, value) in self.headers() {
            block.push_str(&name);
            block.push_str(": ");
            block.push_str(value.expose());
            block.push_str("\r\n");
        }
        Secret::new(block)
    }

    /// The URL as it may be shown.
    pub fn shown(&self) -> String {
        redact(&self.url)
    }
}

/// One Plex Media Server at one base URL, with the token for it.
#[derive(Debug, Clone)]
pub struct Server {
    http: Http,
    base: Url,
    token: Secret,
}

impl Server {
    /// No network yet: [`Server::identity`] or [`Server::info`] checks it.
    pub fn new(http: &Http, base: &str, token: Secret) -> Result<Self, Error> {
        if token.is_empty() {
            return Err(Error::NoToken);
        }
        Ok(Self {
            http: http.clone(),
            base: parse_base(base)?,
            token,
        })
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    pub fn base_shown(&self) -> String {
        redact(&self.base)
    }

    fn url(&self, path: &str) -> Url {
        self.base
            .join(path.trim_start_matches('/'))
            .expect("a relative path joins onto a base URL")
    }

    fn get(&self, url: Url) -> Result<reqwest::RequestBuilder, Error> {
        self.http.request(Method::GET, url, Some(&self.token))
    }

    async fn container(
        &self,
        url: Url,
        page: Option<Page>,
        what: Option<&str>,
    ) -> Result<MediaContainer, Error> {
        let mut req = self.get(url)?;
        if let Some(page) = page {
            req = req
                .header("X-Plex-Container-Start", page.start)
                .header("X-Plex-Container-Size", page.capped_size());
        }
        let envelope: Envelope<MediaContainer> = self.http.json(req, what).await?;
        Ok(envelope.media_container)
    }

    fn items(container: MediaContainer, page: Page) -> Items {
        let mut items = container.metadata;
        // A server that ignores the size asked for must not make a page larger than promised.
        items.truncate(page.capped_size() as usize);
        Items {
            items,
            offset: container.offset.unwrap_or(u64::from(page.start)),
            total: container.total_size,
        }
    }

    /// `/identity`, with the short probe timeout: used to check that a connection works.
    pub async fn probe(&self) -> Result<Identity, Error> {
        self.identity_within(Some(self.http.timeouts.probe)).await
    }

    /// `/identity`: the server's id and version (Plex answers it without a token).
    pub async fn identity(&self) -> Result<Identity, Error> {
        self.identity_within(None).await
    }

    async fn identity_within(&self, timeout: Option<Duration>) -> Result<Identity, Error> {
        let mut req = self.get(self.url("identity"))?;
        if let Some(timeout) = timeout {
            req = req.timeout(timeout);
        }
        let c: Envelope<MediaContainer> = self.http.json(req, None).await?;
        identity(c.media_container, &self.base)
    }

    /// The root (`/`): the server's name and version; needs a valid token.
    pub async fn info(&self) -> Result<ServerInfo, Error> {
        let c = self.container(self.url(""), None, None).await?;
        let id = identity(c.clone(), &self.base)?;
        Ok(ServerInfo {
            name: c
                .friendly_name
                .unwrap_or_else(|| "Plex Media Server".to_owned()),
            version: id.version,
            machine_identifier: id.machine_identifier,
            platform: c.platform,
        })
    }

    /// The libraries (`/library/sections`).
    pub async fn libraries(&self) -> Result<Vec<Directory>, Error> {
        Ok(self
            .container(self.url("library/sections"), None, None)
            .await?
            .directory)
    }

    /// A library's items (`/library/sections/{key}/all`).
    pub async fn library_items(
        &self,
        section: &str,
        sort: Sort,
        page: Page,
    ) -> Result<Items, Error> {
        let mut url = self.url(&format!("library/sections/{}/all", segment(section)));
        url.query_pairs_mut().append_pair("sort", sort.param());
        let what = format!("library with key {section}");
        let c = self.container(url, Some(page), Some(&what)).await?;
        Ok(Self::items(c, page))
    }

    /// A show's seasons, a season's episodes, an album's tracks.
    pub async fn children(&self, rating_key: &str, page: Page) -> Result<Items, Error> {
        let url = self.url(&format!(
            "library/metadata/{}/children",
            segment(rating_key)
        ));
        let what = format!("item with rating key {rating_key}");
        let c = self.container(url, Some(page), Some(&what)).await?;
        Ok(Self::items(c, page))
    }

    /// One item with its versions, parts and tracks.
    pub async fn metadata(&self, rating_key: &str) -> Result<Metadata, Error> {
        let url = self.url(&format!("library/metadata/{}", segment(rating_key)));
        let what = format!("item with rating key {rating_key}");
        let c = self.container(url, None, Some(&what)).await?;
        c.metadata
            .into_iter()
            .next()
            .ok_or(Error::NotFound { what })
    }

    /// On Deck: what Continue Watching shows.
    pub async fn on_deck(&self, page: Page) -> Result<Items, Error> {
        let c = self
            .container(self.url("library/onDeck"), Some(page), None)
            .await?;
        Ok(Self::items(c, page))
    }

    /// Recently added, across libraries.
    pub async fn recently_added(&self, page: Page) -> Result<Items, Error> {
        let c = self
            .container(self.url("library/recentlyAdded"), Some(page), None)
            .await?;
        Ok(Self::items(c, page))
    }

    /// `/hubs/search`: results in hubs by type, flattened in the server's order, at most
    /// `limit` per type. People, genres and other tags (Directory entries) are left out.
    pub async fn search(&self, query: &str, limit: u32) -> Result<Vec<Metadata>, Error> {
        let mut url = self.url("hubs/search");
        url.query_pairs_mut()
            .append_pair("query", query)
            .append_pair("limit", &limit.clamp(1, MAX_PAGE).to_string());
        let c = self.container(url, None, None).await?;
        Ok(c.hub.into_iter().flat_map(|h| h.metadata).collect())
    }

    /// Reports playback progress (`/:/timeline`), so Continue Watching follows Lounge.
    pub async fn timeline(&self, report: &Timeline) -> Result<(), Error> {
        let mut url = self.url(":/timeline");
        url.query_pairs_mut()
            .append_pair("ratingKey", &report.rating_key)
            .append_pair("key", &format!("/library/metadata/{}", report.rating_key))
            .append_pair("identifier", "com.plexapp.plugins.library")
            .append_pair("state", report.state.as_str())
            .append_pair("time", &report.time.to_string())
            .append_pair("duration", &report.duration.to_string());
        self.http.send(self.get(url)?, None).await.map(drop)
    }

    /// Marks an item watched (`/:/scrobble`).
    pub async fn scrobble(&self, rating_key: &str) -> Result<(), Error> {
        let mut url = self.url(":/scrobble");
        url.query_pairs_mut()
            .append_pair("key", rating_key)
            .append_pair("identifier", "com.plexapp.plugins.library");
        let what = format!("item with rating key {rating_key}");
        self.http.send(self.get(url)?, Some(&what)).await.map(drop)
    }

    fn authorized(&self, url: Url) -> Authorized {
        Authorized {
            url,
            token: self.token.clone(),
            client_headers: self
                .http
                .info
                .headers()
                .map(|h| {
                    h.iter()
                        .filter_map(|(k, v)| {
                            Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned()))
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// The download of a part (its `key`, `/library/parts/...`); Range requests work.
    pub fn part_url(&self, part_key: &str) -> Result<Authorized, Error> {
        if !part_key.starts_with("/library/parts/") {
            return Err(Error::Unexpected {
                url: self.base_shown(),
                detail: format!("`{part_key}` is not a part key (/library/parts/...)"),
            });
        }
        Ok(self.authorized(self.url(part_key)))
    }

    /// A poster or thumbnail (`thumb`, `art`) scaled by Plex's photo transcoder, so a small
    /// image travels instead of the original.
    pub fn photo_url(&self, image: &str, width: u32, height: u32) -> Authorized {
        let mut url = self.url("photo/:/transcode");
        url.query_pairs_mut()
            .append_pair("width", &width.to_string())
            .append_pair("height", &height.to_string())
            .append_pair("minSize", "1")
            .append_pair("upscale", "1")
            .append_pair("url", image);
        self.authorized(url)
    }

    /// Fetches a scaled poster: the image's bytes and its content type.
    pub async fn photo(
        &self,
        image: &str,
        width: u32,
        height: u32,
    ) -> Result<(Vec<u8>, String), Error> {
        let url = self.photo_url(image, width, height).url;
        let shown = redact(&url);
        let response = self.http.send(self.get(url)?, Some("such image")).await?;
        let kind = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let bytes = response.bytes().await.map_err(|e| Error::Unexpected {
            url: shown,
            detail: format!("the image broke off: {}", e.without_url()),
        })?;
        Ok((bytes.to_vec(), kind))
    }
}

fn identity(c: MediaContainer, base: &Url) -> Result<Identity, Error> {
    let machine_identifier = c.machine_identifier.ok_or_else(|| Error::Unexpected {
        url: redact(base),
        detail: "it answered, but not as a Plex Media Server (no machineIdentifier)".to_owned(),
    })?;
    Ok(Identity {
        machine_identifier,
        version: c.version.unwrap_or_default(),
        claimed: c.claimed.unwrap_or(false),
    })
}

/// A key as one path segment: a key with `/` or `?` in it must not reach another endpoint.
fn segment(key: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The version and part to play: playable video first, then the one our decoder handles best
/// (H.264, then HEVC, then anything), then the largest picture, then the first Plex lists.
pub fn best_version(item: &Metadata) -> Option<(&Media, &Part)> {
    let codec_rank = |m: &Media| match m.video_codec.as_deref() {
        Some("h264") => 0,
        Some("hevc" | "h265") => 1,
        Some(_) => 2,
        None => 3,
    };
    item.media
        .iter()
        .enumerate()
        .filter(|(_, m)| {
            m.part
                .first()
                .is_some_and(|p| p.key.is_some() || p.file.is_some())
        })
        .min_by_key(|(i, m)| (codec_rank(m), std::cmp::Reverse(m.height.unwrap_or(0)), *i))
        .and_then(|(_, m)| m.part.first().map(|p| (m, p)))
}

/// Whether an item can be played as video (movies, episodes, clips) and, when it cannot, why.
pub fn playable(item: &Metadata) -> Result<(), String> {
    if item.kind.is_video() {
        return Ok(());
    }
    Err(match &item.kind {
        ItemType::Show => format!("{} is a show: pick an episode", item.title),
        ItemType::Season => format!("{} is a season: pick an episode", item.title),
        ItemType::Track | ItemType::Album | ItemType::Artist => {
            "music does not play: Lounge streams video".to_owned()
        }
        ItemType::Photo | ItemType::PhotoAlbum => {
            "photos do not play: Lounge streams video".to_owned()
        }
        other => format!("a {other} cannot be played"),
    })
}

/// The audio or subtitle track of a part in `language` (ISO 639-2 `eng`, BCP 47 `en`, or
/// the name), if it has one.
pub fn track_for_language<'a>(
    part: &'a Part,
    kind: u32,
    language: &str,
) -> Option<&'a crate::model::Stream> {
    debug_assert!(kind == stream_type::AUDIO || kind == stream_type::SUBTITLE);
    let wanted = language.to_ascii_lowercase();
    part.stream
        .iter()
        .filter(|s| s.stream_type == kind)
        .find(|s| {
            [&s.language_code, &s.language_tag, &s.language]
                .into_iter()
                .flatten()
                .any(|l| l.to_ascii_lowercase() == wanted)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{ClientInfo, Timeouts};

    fn server() -> Server {
        let http = Http::new(
            ClientInfo::new("id", "Lounge", "0.1.0"),
            Timeouts::default(),
        )
        .unwrap();
        Server::new(&http, "http://127.0.0.1:32400", Secret::new("tok-S3CRET")).unwrap()
    }

    #[test]
    fn urls_never_carry_the_token_and_keys_stay_one_segment() {
        let s = server();
        let part = s.part_url("/library/parts/46/1579478991/file.mkv").unwrap();
        assert_eq!(
            part.url.as_str(),
            "http://127.0.0.1:32400/library/parts/46/1579478991/file.mkv"
        );
        assert!(!format!("{part:?}").contains("S3CRET"));
        assert!(
            part.header_block()
                .expose()
                .contains("X-Plex-Token: tok-S3CRET\r\n")
        );
        assert!(
            part.header_block()
                .expose()
                .contains("x-plex-client-identifier: id\r\n")
        );
        assert!(s.part_url("/library/metadata/1").is_err());
        let photo = s.photo_url("/library/metadata/55/thumb/1579514152", 160, 240);
        assert_eq!(
            photo.url.as_str(),
            "http://127.0.0.1:32400/photo/:/transcode?width=160&height=240&minSize=1&upscale=1&url=%2Flibrary%2Fmetadata%2F55%2Fthumb%2F1579514152"
        );
        assert!(!photo.shown().contains("S3CRET"));
        assert_eq!(segment("12/../x?y"), "12%2F%2E%2E%2Fx%3Fy");
        assert!(!format!("{s:?}").contains("S3CRET"));
    }

    #[test]
    fn pages_are_capped() {
        assert_eq!(Page { start: 0, size: 0 }.capped_size(), 1);
        assert_eq!(
            Page {
                start: 0,
                size: 5000
            }
            .capped_size(),
            MAX_PAGE
        );
        assert_eq!(Sort::Title.param(), "titleSort");
    }

    fn media(codec: &str, height: u32) -> Media {
        Media {
            video_codec: Some(codec.into()),
            height: Some(height),
            part: vec![Part {
                key: Some(format!("/library/parts/{height}/1/file.mkv")),
                ..Part::default()
            }],
            ..Media::default()
        }
    }

    #[test]
    fn the_best_version_is_h264_at_the_largest_size() {
        let mut item: Metadata =
            serde_json::from_str(r#"{"ratingKey":"1","type":"movie","title":"Heat"}"#).unwrap();
        assert!(best_version(&item).is_none());
        item.media = vec![media("hevc", 2160), media("h264", 720), media("h264", 1080)];
        let (m, _) = best_version(&item).unwrap();
        assert_eq!(
            (m.video_codec.as_deref(), m.height),
            (Some("h264"), Some(1080))
        );
        assert!(playable(&item).is_ok());
        item.kind = ItemType::Photo;
        assert!(playable(&item).unwrap_err().contains("photos"));
    }
}
