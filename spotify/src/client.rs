//! The client: the app's access token, requests and what their failures mean, and how each
//! kind of link is read.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::RETRY_AFTER;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::error::SpotifyError;
use crate::link::{Link, is_id};
use crate::model::{
    AccountsError, ApiTrack, Collection, Named, Page, PlaylistEntry, SearchAnswer, TokenAnswer,
    Track,
};

/// The largest page album tracks and playlist items may be asked for.
const PAGE: usize = 50;
/// Search's largest `limit` for development-mode apps since 2026.
const SEARCH_LIMIT: usize = 10;
/// Retries of one request after a 429 whose wait was short enough.
const MAX_RETRIES: u32 = 2;
/// A token is replaced this long before Spotify says it expires, so a request sent just
/// before the deadline does not arrive just after it.
const REFRESH_MARGIN: Duration = Duration::from_mins(1);
/// Spotify's tokens last an hour; a longer claim is capped so the expiry instant cannot
/// overflow.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_hours(24);
/// Playlists hold at most 10,000 items (200 pages); a server that kept sending `next` past
/// that would otherwise page forever when every entry is skipped.
const MAX_PAGES: usize = 200;

/// An app's client id and secret (developer.spotify.com → Dashboard → the app's settings).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<hidden>")
            .finish()
    }
}

/// Where Spotify is and how long the client may wait on it; tests point both URLs at a fake.
#[derive(Debug, Clone)]
pub struct Config {
    /// `None` until the owner sets up an app: every resolve then fails without a request.
    pub credentials: Option<Credentials>,
    /// The Web API's base, `https://api.spotify.com/v1`.
    pub api_url: String,
    /// The accounts service's base, `https://accounts.spotify.com` (the token is at
    /// `/api/token` under it).
    pub accounts_url: String,
    /// The longest `Retry-After` the client sleeps through before retrying; a longer one is
    /// [`SpotifyError::RateLimited`] at once, since a member will not wait that long.
    pub max_retry_wait: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            credentials: None,
            api_url: "https://api.spotify.com/v1".to_owned(),
            accounts_url: "https://accounts.spotify.com".to_owned(),
            max_retry_wait: Duration::from_secs(5),
        }
    }
}

/// The app's client-credentials token. No `Debug`, so it cannot end up in a log by accident.
struct Token {
    value: String,
    refresh_at: Instant,
}

struct Inner {
    config: Config,
    /// A client that failed to start is reported on each resolve instead of panicking here.
    http: Result<reqwest::Client, String>,
    /// Held while a new token is fetched, so concurrent resolves share one token request.
    token: Mutex<Option<Token>>,
}

/// The Spotify client. Cloning it is cheap: clones share the connection pool and the token.
#[derive(Clone)]
pub struct Spotify {
    inner: Arc<Inner>,
}

impl fmt::Debug for Spotify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spotify")
            .field("api_url", &self.inner.config.api_url)
            .field("accounts_url", &self.inner.config.accounts_url)
            .field("credentials", &self.inner.config.credentials)
            .finish_non_exhaustive()
    }
}

impl Spotify {
    pub fn new(config: Config) -> Self {
        let http = reqwest::Client::builder()
            .user_agent(concat!("lounge-spotify/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            // Spotify's API does not redirect; following one would carry the token along.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("The bot could not start its HTTP client for Spotify ({e})."));
        Self {
            inner: Arc::new(Inner {
                config,
                http,
                token: Mutex::new(None),
            }),
        }
    }

    /// The name and up to `max_tracks` tracks behind `link`, in Spotify's order. Playlist
    /// entries that are not tracks (episodes, removed tracks, local files) are skipped; an
    /// artist gives those of the first ten search results for their name that are really
    /// theirs, since development-mode apps may no longer ask for an artist's top tracks.
    pub async fn resolve(
        &self,
        link: &Link,
        max_tracks: usize,
    ) -> Result<Collection, SpotifyError> {
        self.credentials()?;
        // A hand-built `Link` could hold anything; only a real id goes into a request path.
        if !is_id(link.id()) {
            return Err(SpotifyError::NotFound);
        }
        let mut collection = match link {
            Link::Track(id) => self.track(id).await?,
            Link::Album(id) => self.album(id, max_tracks).await?,
            Link::Playlist(id) => self.playlist(id, max_tracks).await?,
            Link::Artist(id) => self.artist(id, max_tracks).await?,
        };
        collection.tracks.truncate(max_tracks);
        Ok(collection)
    }

    async fn track(&self, id: &str) -> Result<Collection, SpotifyError> {
        let track: ApiTrack = self.get(&format!("tracks/{id}"), &[]).await?;
        let track = track.into_track().ok_or(SpotifyError::NotFound)?;
        Ok(Collection {
            name: None,
            tracks: vec![track],
        })
    }

    async fn album(&self, id: &str, max: usize) -> Result<Collection, SpotifyError> {
        let album: Named = self.get(&format!("albums/{id}"), &[]).await?;
        let tracks = self
            .pages(&format!("albums/{id}/tracks"), max, ApiTrack::into_track)
            .await?;
        Ok(Collection {
            name: album.name,
            tracks,
        })
    }

    async fn playlist(&self, id: &str, max: usize) -> Result<Collection, SpotifyError> {
        let playlist: Named = self
            .get(&format!("playlists/{id}"), &[("fields", "name".to_owned())])
            .await?;
        let tracks = self
            .pages(&format!("playlists/{id}/items"), max, playlist_track)
            .await?;
        Ok(Collection {
            name: playlist.name,
            tracks,
        })
    }

    async fn artist(&self, id: &str, max: usize) -> Result<Collection, SpotifyError> {
        let artist: Named = self.get(&format!("artists/{id}"), &[]).await?;
        let Some(name) = artist.name.filter(|n| !n.trim().is_empty()) else {
            return Err(SpotifyError::Other(
                "Spotify sent that artist without a name, so the bot cannot look up their tracks."
                    .to_owned(),
            ));
        };
        // A quote inside the name would end the phrase early.
        let q = format!("artist:\"{}\"", name.replace('"', " ").trim());
        let answer: SearchAnswer = self
            .get(
                "search",
                &[
                    ("q", q),
                    ("type", "track".to_owned()),
                    ("limit", SEARCH_LIMIT.to_string()),
                ],
            )
            .await?;
        // Search matches names loosely (a tribute band, a namesake), so the id decides.
        let tracks = answer
            .tracks
            .into_iter()
            .flat_map(|page| page.items)
            .filter(|t| t.has_artist(id))
            .filter_map(ApiTrack::into_track)
            .take(max)
            .collect();
        Ok(Collection {
            name: Some(name),
            tracks,
        })
    }

    /// Walks a paging object from offset 0 until `max` tracks are kept or Spotify says there
    /// is no next page.
    async fn pages<T: DeserializeOwned>(
        &self,
        path: &str,
        max: usize,
        mut keep: impl FnMut(T) -> Option<Track>,
    ) -> Result<Vec<Track>, SpotifyError> {
        let mut tracks = Vec::new();
        let mut offset: usize = 0;
        for _ in 0..MAX_PAGES {
            if tracks.len() >= max {
                break;
            }
            let page: Page<T> = self
                .get(
                    path,
                    &[("limit", PAGE.to_string()), ("offset", offset.to_string())],
                )
                .await?;
            let seen = page.items.len();
            tracks.extend(page.items.into_iter().filter_map(&mut keep));
            offset += seen;
            if page.next.is_none() || seen == 0 {
                break;
            }
        }
        tracks.truncate(max);
        Ok(tracks)
    }

    fn credentials(&self) -> Result<&Credentials, SpotifyError> {
        match &self.inner.config.credentials {
            Some(c) if !c.client_id.trim().is_empty() && !c.client_secret.trim().is_empty() => {
                Ok(c)
            }
            _ => Err(SpotifyError::NoCredentials),
        }
    }

    fn http(&self) -> Result<&reqwest::Client, SpotifyError> {
        self.inner
            .http
            .as_ref()
            .map_err(|e| SpotifyError::Other(e.clone()))
    }

    /// A GET under the API's base with the app's token: a 401 fetches a new token once, a
    /// short 429 is waited out.
    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, SpotifyError> {
        let http = self.http()?;
        let url = format!("{}/{path}", self.inner.config.api_url.trim_end_matches('/'));
        let mut token = self.token(None).await?;
        let mut refreshed = false;
        let mut retries: u32 = 0;
        loop {
            tracing::debug!(path, "Spotify request");
            let request = http.get(&url).query(query).bearer_auth(&token);
            let response = send(request).await?;
            let status = response.status();
            if status.is_success() {
                return read_json(response).await;
            }
            if status == StatusCode::UNAUTHORIZED && !refreshed {
                // Spotify revoked or expired the token early; one new one settles it, a
                // second refusal is not the token's fault.
                refreshed = true;
                let fresh = self.token(Some(token.as_str())).await?;
                token = fresh;
                continue;
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                let wait = self.rate_limited(&response, &mut retries)?;
                tracing::info!(path, ?wait, "Spotify is rate-limiting; waiting");
                tokio::time::sleep(wait).await;
                continue;
            }
            tracing::warn!(path, %status, "Spotify refused a request");
            return Err(match status {
                StatusCode::FORBIDDEN => SpotifyError::Forbidden,
                StatusCode::NOT_FOUND => SpotifyError::NotFound,
                StatusCode::UNAUTHORIZED => SpotifyError::Other(
                    "Spotify turned down the bot's new access token; try again later.".to_owned(),
                ),
                s if s.is_server_error() => SpotifyError::Other(format!(
                    "Spotify had a problem answering (HTTP {s}); try again later."
                )),
                s => SpotifyError::Other(format!(
                    "Spotify turned down the bot's request (HTTP {s})."
                )),
            });
        }
    }

    /// After a 429: how long to sleep before the next try, or the error to give up with.
    fn rate_limited(
        &self,
        response: &Response,
        retries: &mut u32,
    ) -> Result<Duration, SpotifyError> {
        let wait = retry_after(response);
        if wait > self.inner.config.max_retry_wait || *retries >= MAX_RETRIES {
            return Err(SpotifyError::RateLimited(wait));
        }
        *retries += 1;
        Ok(wait)
    }

    /// The cached token while it is fresh, else a new one. `rejected` is a token Spotify just
    /// refused: it is replaced unless another request already did so meanwhile.
    async fn token(&self, rejected: Option<&str>) -> Result<String, SpotifyError> {
        let mut cached = self.inner.token.lock().await;
        if let Some(t) = cached.as_ref()
            && Instant::now() < t.refresh_at
            && rejected != Some(t.value.as_str())
        {
            return Ok(t.value.clone());
        }
        let fresh = self.fetch_token().await?;
        let value = fresh.value.clone();
        *cached = Some(fresh);
        Ok(value)
    }

    /// The client-credentials grant: `POST /api/token` with the id and secret as HTTP Basic
    /// auth, never in the body or URL.
    async fn fetch_token(&self) -> Result<Token, SpotifyError> {
        let credentials = self.credentials()?;
        let http = self.http()?;
        let url = format!(
            "{}/api/token",
            self.inner.config.accounts_url.trim_end_matches('/')
        );
        let mut retries: u32 = 0;
        loop {
            let asked_at = Instant::now();
            let request = http
                .post(&url)
                .basic_auth(&credentials.client_id, Some(&credentials.client_secret))
                .form(&[("grant_type", "client_credentials")]);
            let response = send(request).await?;
            let status = response.status();
            if status.is_success() {
                let answer: TokenAnswer = read_json(response).await?;
                return token_from(answer, asked_at);
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                let wait = self.rate_limited(&response, &mut retries)?;
                tokio::time::sleep(wait).await;
                continue;
            }
            let code = response
                .json::<AccountsError>()
                .await
                .ok()
                .and_then(|e| e.error);
            tracing::warn!(%status, code = code.as_deref().unwrap_or(""), "Spotify refused a token");
            if status == StatusCode::UNAUTHORIZED || code.as_deref() == Some("invalid_client") {
                return Err(SpotifyError::InvalidCredentials);
            }
            return Err(SpotifyError::Other(format!(
                "Spotify would not give the bot an access token (HTTP {status}); try again later."
            )));
        }
    }
}

/// One playlist entry as a track, or `None` for what is not one: a null item (removed from
/// Spotify) or an episode.
fn playlist_track(entry: PlaylistEntry) -> Option<Track> {
    let item = entry.item?;
    if item.get("type").and_then(Value::as_str) != Some("track") {
        return None;
    }
    match serde_json::from_value::<ApiTrack>(item) {
        Ok(track) => track.into_track(),
        Err(e) => {
            tracing::debug!(error = %e, "skipped a playlist entry that is not a track object");
            None
        }
    }
}

fn token_from(answer: TokenAnswer, asked_at: Instant) -> Result<Token, SpotifyError> {
    if answer.access_token.trim().is_empty() {
        return Err(SpotifyError::Other(
            "Spotify sent an empty access token; try again later.".to_owned(),
        ));
    }
    if answer
        .token_type
        .as_deref()
        .is_some_and(|kind| !kind.eq_ignore_ascii_case("bearer"))
    {
        return Err(SpotifyError::Other(
            "Spotify sent an access token of a kind the bot cannot use.".to_owned(),
        ));
    }
    // An hour is what Spotify grants when it does not say.
    let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(3600)).min(MAX_TOKEN_LIFETIME);
    // A short-lived token is still reused for half its life rather than never.
    let margin = REFRESH_MARGIN.min(lifetime / 2);
    Ok(Token {
        value: answer.access_token,
        refresh_at: asked_at + lifetime.saturating_sub(margin),
    })
}

/// `Retry-After` in seconds, as Spotify sends it. Without a readable one, a second: the
/// shortest wait that is not a busy loop.
fn retry_after(response: &Response) -> Duration {
    let seconds = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(1);
    Duration::from_secs(seconds)
}

async fn send(request: RequestBuilder) -> Result<Response, SpotifyError> {
    request.send().await.map_err(|e| {
        tracing::warn!(error = %e, "Spotify request failed");
        if e.is_builder() {
            return SpotifyError::Other(
                "The bot's Spotify address is not a valid URL: the bot owner should check the configuration."
                    .to_owned(),
            );
        }
        let why = if e.is_timeout() {
            "it took too long to answer"
        } else if e.is_connect() {
            "the connection failed"
        } else {
            "the answer broke off"
        };
        SpotifyError::Other(format!("Spotify could not be reached ({why}); try again later."))
    })
}

async fn read_json<T: DeserializeOwned>(response: Response) -> Result<T, SpotifyError> {
    let bytes = response.bytes().await.map_err(|e| {
        tracing::warn!(error = %e, "Spotify's answer broke off");
        SpotifyError::Other("Spotify's answer broke off; try again later.".to_owned())
    })?;
    // serde_json names a position, never the text around it, so a body holding a token
    // cannot leak through the log.
    serde_json::from_slice(&bytes).map_err(|e| {
        tracing::warn!(error = %e, "Spotify sent JSON the client cannot read");
        SpotifyError::Other(
            "Spotify sent an answer the bot could not read; try again later.".to_owned(),
        )
    })
}
