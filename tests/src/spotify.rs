//! A loopback fake of the Spotify Web API (`/v1/...`) and its accounts service (`/api/token`)
//! on one port, with a small built-in catalogue: a single, an album, a sixty-entry playlist
//! (with a removed track and a podcast episode among its entries), an artist and a tribute band
//! whose name contains the artist's.
//!
//! It checks what Spotify checks, as a development-mode app meets it in 2026, and records as a
//! violation anything Spotify would refuse or that breaks our promises about secrets:
//! - `POST /api/token` needs HTTP Basic auth with the app's id and secret (never in the body)
//!   and the form `grant_type=client_credentials`; wrong credentials are refused with
//!   Spotify's `{"error": "invalid_client"}` (not a violation: a test may mean it);
//! - every `/v1` call needs `Authorization: Bearer` with a token the fake issued; a token the
//!   test expired ([`FakeSpotify::expire_tokens`]) is answered 401, and sending it again after
//!   that 401 is a violation;
//! - what development mode lost: batch `GET /tracks|/albums|/artists?ids=`, an artist's top
//!   tracks and `GET /playlists/{id}/tracks` are 403; search's `limit` above 10 (or left out,
//!   whose documented default is 20) is 400;
//! - pages (`limit` at most 50, an `offset`, `next` null at the end), ids of 22 base62
//!   characters, a retry before an earlier `Retry-After` ran out, the secret or a token in a
//!   URL.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// An app's credentials, shaped like Spotify's (32 hex digits each). Distinctive, so a leak
/// is easy to find in output.
pub const CLIENT_ID: &str = "5f0c1e2d3b4a59687766554433221100";
pub const CLIENT_SECRET: &str = "9e8d7c6b5a4f3e2d1c0bfakeSECRET77";
/// Every token the fake issues starts with this.
pub const TOKEN_PREFIX: &str = "BQfakeSpotifyTOKEN";
/// How long an issued token says it lasts, in seconds.
pub const TOKEN_LIFETIME_S: u64 = 3600;

/// The single: "Neon Harbor" by The Velvet Static featuring Mira Sol.
pub const TRACK_ID: &str = "3nEoNHarb0rVelvetSt4t1";
pub const TRACK_TITLE: &str = "Neon Harbor";
pub const TRACK_DURATION_MS: i64 = 213_000;
pub const TRACK_ISRC: &str = "USLNG2600001";

pub const ARTIST_ID: &str = "1VelvetStaticArtist001";
pub const ARTIST_NAME: &str = "The Velvet Static";
pub const FEATURED_ARTIST_ID: &str = "2MiraSolFeaturedArt001";
pub const FEATURED_ARTIST_NAME: &str = "Mira Sol";
/// A band whose name contains the artist's: search for the artist finds its track too.
pub const TRIBUTE_ARTIST_ID: &str = "7TributeBandArtist0001";
pub const TRIBUTE_ARTIST_NAME: &str = "The Velvet Static Tribute Band";
pub const TRIBUTE_TRACK_ID: &str = "7TributeNeonHarbor0001";

/// The album: three tracks by The Velvet Static.
pub const ALBUM_ID: &str = "6NightSignalsAlbum0001";
pub const ALBUM_NAME: &str = "Night Signals";
pub const ALBUM_TRACK_TITLES: [&str; 3] = ["Static Bloom", "Lowlight", "Antenna Hearts"];
pub const ALBUM_TRACK_DURATIONS_MS: [i64; 3] = [241_000, 198_500, 305_250];

/// The playlist: [`PLAYLIST_ITEMS`] entries, two of which are not tracks.
pub const PLAYLIST_ID: &str = "37RoadTripPlaylist0001";
pub const PLAYLIST_NAME: &str = "Road Trip";
pub const PLAYLIST_ITEMS: usize = 60;
/// The tracks a client should keep: every entry but the null one and the episode.
pub const PLAYLIST_TRACKS: usize = 58;
/// The entry (0-based) whose `item` is null: a track since removed from Spotify.
pub const NULL_ITEM_AT: usize = 9;
/// The entry (0-based) that is a podcast episode.
pub const EPISODE_AT: usize = 36;
pub const EPISODE_ID: &str = "5EpisodeOfAPodcast0001";

/// A well-formed id with nothing behind it.
pub const MISSING_ID: &str = "4NothingAtThisId000000";

const HUMS_ID: &str = "8HighwayHumsArtist0001";
const ATLAS_ID: &str = "9DustyAtlasArtist00001";
const ROAD_ALBUM_ID: &str = "5OpenRoadAlbum00000001";
const SINGLE_ALBUM_ID: &str = "3NeonHarborSingle00001";
const TRIBUTE_ALBUM_ID: &str = "7TributeAlbum000000001";
const SHOW_ID: &str = "5LongWayRoundShow00001";
const USER_ID: &str = "lounge-fake-curator";

/// The largest page of album tracks or playlist items.
const MAX_PAGE: usize = 50;
/// Search's largest `limit` for development-mode apps since 2026.
const MAX_SEARCH_LIMIT: usize = 10;
/// Spotify's documented default page size.
const DEFAULT_LIMIT: usize = 20;

/// Track `n` (1-based position) of the playlist.
fn road_trip_track_id(n: usize) -> String {
    format!("0RoadTripTrack{n:08}")
}

fn album_track_id(n: usize) -> String {
    format!("6NightSignalsTrk{n:06}")
}

fn is_id(id: &str) -> bool {
    id.len() == 22 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

struct Catalogue {
    /// Full track objects, in the order search ranks them.
    tracks: Vec<Value>,
    albums: HashMap<String, Value>,
    /// Album id → its simplified track objects.
    album_tracks: HashMap<String, Vec<Value>>,
    playlists: HashMap<String, Value>,
    /// Playlist id → its entries (`{added_at, is_local, item}`).
    playlist_items: HashMap<String, Vec<Value>>,
    artists: HashMap<String, Value>,
}

fn external(kind: &str, id: &str) -> Value {
    json!({ "spotify": format!("https://open.spotify.com/{kind}/{id}") })
}

fn artist_ref(id: &str, name: &str) -> Value {
    json!({
        "id": id,
        "name": name,
        "type": "artist",
        "uri": format!("spotify:artist:{id}"),
        "href": format!("https://api.spotify.com/v1/artists/{id}"),
        "external_urls": external("artist", id),
    })
}

fn album_ref(id: &str, name: &str, kind: &str, artists: &[Value], total: usize) -> Value {
    json!({
        "id": id,
        "name": name,
        "type": "album",
        "album_type": kind,
        "total_tracks": total,
        "release_date": "2026-03-06",
        "release_date_precision": "day",
        "artists": artists,
        "images": [],
        "uri": format!("spotify:album:{id}"),
        "href": format!("https://api.spotify.com/v1/albums/{id}"),
        "external_urls": external("album", id),
    })
}

/// A full track object as `GET /tracks/{id}`, search and playlist items give it.
fn full_track(
    id: &str,
    name: &str,
    duration_ms: i64,
    artists: &[Value],
    isrc: &str,
    album: &Value,
    track_number: usize,
) -> Value {
    json!({
        "id": id,
        "name": name,
        "type": "track",
        "duration_ms": duration_ms,
        "explicit": false,
        "disc_number": 1,
        "track_number": track_number,
        "is_local": false,
        "artists": artists,
        "album": album,
        "external_ids": { "isrc": isrc },
        "external_urls": external("track", id),
        "uri": format!("spotify:track:{id}"),
        "href": format!("https://api.spotify.com/v1/tracks/{id}"),
        "preview_url": null,
    })
}

/// The simplified track object an album's track listing holds: no album, no external ids.
fn simplified(track: &Value) -> Value {
    let mut t = track.clone();
    if let Some(fields) = t.as_object_mut() {
        fields.remove("album");
        fields.remove("external_ids");
    }
    t
}

fn entry(item: Value) -> Value {
    json!({
        "added_at": "2026-01-15T12:00:00Z",
        "added_by": { "id": USER_ID, "type": "user" },
        "is_local": false,
        "item": item,
    })
}

impl Catalogue {
    fn build() -> Self {
        let velvet = artist_ref(ARTIST_ID, ARTIST_NAME);
        let mira = artist_ref(FEATURED_ARTIST_ID, FEATURED_ARTIST_NAME);
        let tribute = artist_ref(TRIBUTE_ARTIST_ID, TRIBUTE_ARTIST_NAME);
        let hums = artist_ref(HUMS_ID, "The Highway Hums");
        let atlas = artist_ref(ATLAS_ID, "Dusty Atlas");

        let single_artists = [velvet.clone(), mira];
        let single = album_ref(SINGLE_ALBUM_ID, TRACK_TITLE, "single", &single_artists, 1);
        let tribute_album = album_ref(
            TRIBUTE_ALBUM_ID,
            "Covers, Vol. 2",
            "album",
            std::slice::from_ref(&tribute),
            1,
        );
        // Search order: the single, then the tribute band's cover, so the first page of a
        // search for the artist holds a track that is not theirs.
        let mut tracks = vec![
            full_track(
                TRACK_ID,
                TRACK_TITLE,
                TRACK_DURATION_MS,
                &single_artists,
                TRACK_ISRC,
                &single,
                1,
            ),
            full_track(
                TRIBUTE_TRACK_ID,
                "Neon Harbor (Velvet Static Cover)",
                215_400,
                &[tribute],
                "USTRB2600001",
                &tribute_album,
                1,
            ),
        ];

        let album_artists = [velvet.clone()];
        let album = album_ref(
            ALBUM_ID,
            ALBUM_NAME,
            "album",
            &album_artists,
            ALBUM_TRACK_TITLES.len(),
        );
        let album_full: Vec<Value> = ALBUM_TRACK_TITLES
            .iter()
            .zip(ALBUM_TRACK_DURATIONS_MS)
            .enumerate()
            .map(|(i, (title, ms))| {
                full_track(
                    &album_track_id(i + 1),
                    title,
                    ms,
                    &album_artists,
                    &format!("USLNG26001{:02}", i + 1),
                    &album,
                    i + 1,
                )
            })
            .collect();
        let album_listing: Vec<Value> = album_full.iter().map(simplified).collect();
        tracks.extend(album_full);
        let mut album_object = album.clone();
        album_object["label"] = json!("Lounge Fake Records");
        album_object["genres"] = json!([]);
        album_object["tracks"] = json!({
            "href": format!("https://api.spotify.com/v1/albums/{ALBUM_ID}/tracks?offset=0&limit=50"),
            "items": album_listing,
            "limit": 50,
            "next": null,
            "offset": 0,
            "previous": null,
            "total": album_listing.len(),
        });

        let road_album = album_ref(
            ROAD_ALBUM_ID,
            "Open Road",
            "compilation",
            &[hums.clone(), atlas.clone()],
            PLAYLIST_TRACKS,
        );
        let mut entries = Vec::with_capacity(PLAYLIST_ITEMS);
        for i in 0..PLAYLIST_ITEMS {
            let n = i + 1;
            if i == NULL_ITEM_AT {
                entries.push(entry(Value::Null));
                continue;
            }
            if i == EPISODE_AT {
                entries.push(entry(json!({
                    "id": EPISODE_ID,
                    "name": "Episode 12: The Long Way Round",
                    "type": "episode",
                    "duration_ms": 2_412_000,
                    "description": "Why the scenic route is always worth it.",
                    "release_date": "2026-02-02",
                    "show": {
                        "id": SHOW_ID,
                        "name": "Backroads Radio",
                        "type": "show",
                        "publisher": "Lounge Fake Audio",
                        "external_urls": external("show", SHOW_ID),
                    },
                    "external_urls": external("episode", EPISODE_ID),
                    "uri": format!("spotify:episode:{EPISODE_ID}"),
                })));
                continue;
            }
            let artists = if n % 6 == 0 {
                vec![velvet.clone()]
            } else if n % 2 == 0 {
                vec![hums.clone()]
            } else {
                vec![atlas.clone(), hums.clone()]
            };
            let track = full_track(
                &road_trip_track_id(n),
                &format!("Mile Marker {n:02}"),
                150_000 + i as i64 * 1_750,
                &artists,
                &format!("USRTP26{n:05}"),
                &road_album,
                n,
            );
            tracks.push(track.clone());
            entries.push(entry(track));
        }
        let playlist = json!({
            "id": PLAYLIST_ID,
            "name": PLAYLIST_NAME,
            "description": "Sixty stops for the long way round.",
            "type": "playlist",
            "public": true,
            "collaborative": false,
            "owner": {
                "id": USER_ID,
                "display_name": "Lounge Fake Curator",
                "type": "user",
                "external_urls": external("user", USER_ID),
            },
            "snapshot_id": "AAAAAWZha2Utc25hcHNob3Q=",
            "images": [],
            // Only a link to the items: a client must page through `/items` for them.
            "items": {
                "href": format!("https://api.spotify.com/v1/playlists/{PLAYLIST_ID}/items"),
                "total": PLAYLIST_ITEMS,
            },
            "external_urls": external("playlist", PLAYLIST_ID),
            "uri": format!("spotify:playlist:{PLAYLIST_ID}"),
            "href": format!("https://api.spotify.com/v1/playlists/{PLAYLIST_ID}"),
        });

        let mut artist = velvet;
        artist["genres"] = json!(["dream pop", "synthwave"]);
        artist["images"] = json!([]);

        Self {
            tracks,
            albums: HashMap::from([(ALBUM_ID.to_owned(), album_object)]),
            album_tracks: HashMap::from([(ALBUM_ID.to_owned(), album_listing)]),
            playlists: HashMap::from([(PLAYLIST_ID.to_owned(), playlist)]),
            playlist_items: HashMap::from([(PLAYLIST_ID.to_owned(), entries)]),
            artists: HashMap::from([(ARTIST_ID.to_owned(), artist)]),
        }
    }

    fn track(&self, id: &str) -> Option<&Value> {
        self.tracks.iter().find(|t| t["id"] == id)
    }
}

/// The titles a client should get from the playlist, in order: every track entry's.
pub fn road_trip_titles() -> Vec<String> {
    (0..PLAYLIST_ITEMS)
        .filter(|i| *i != NULL_ITEM_AT && *i != EPISODE_AT)
        .map(|i| format!("Mile Marker {:02}", i + 1))
        .collect()
}

struct State {
    requests: Vec<(String, String)>,
    violations: Vec<String>,
    issued: Vec<String>,
    valid: HashSet<String>,
    /// Expired tokens already answered 401 once.
    refused: HashSet<String>,
    failures: VecDeque<(u16, Option<u64>)>,
    /// Until when a 429's `Retry-After` holds.
    retry_not_before: Option<Instant>,
}

struct Shared {
    state: Mutex<State>,
    client_id: String,
    client_secret: String,
    /// `http://127.0.0.1:PORT`, for the `next` links.
    base: String,
    catalogue: Catalogue,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn violation(&self, v: String) {
        self.lock().violations.push(v);
    }
}

/// The fake Spotify. Dropping it stops it.
pub struct FakeSpotify {
    shared: Arc<Shared>,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeSpotify {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeSpotify {
    /// Starts a fake that knows one app, `client_id` with `client_secret`.
    pub async fn start(client_id: &str, client_secret: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake Spotify");
        let addr = listener.local_addr().expect("address");
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                requests: Vec::new(),
                violations: Vec::new(),
                issued: Vec::new(),
                valid: HashSet::new(),
                refused: HashSet::new(),
                failures: VecDeque::new(),
                retry_not_before: None,
            }),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            base: format!("http://{addr}"),
            catalogue: Catalogue::build(),
        });
        let state = shared.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let shared = state.clone();
                async move { handle(&shared, &method, &uri, &headers, &body) }
            },
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { shared, addr, task }
    }

    /// `http://127.0.0.1:PORT`: the accounts URL as it is, and the API's with `/v1` added.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next `count` API calls (with a valid token; the token endpoint is never failed)
    /// are answered `status` with Spotify's error body, and `Retry-After: retry_after` when
    /// given. A 429 also holds from then for that long: a call before it ran out is a
    /// violation, answered 429 again.
    pub fn fail_next(&self, status: u16, retry_after: Option<u64>, count: u32) {
        let mut state = self.shared.lock();
        for _ in 0..count {
            state.failures.push_back((status, retry_after));
        }
    }

    /// Spotify expires or revokes every token issued so far: each is answered 401 from now on.
    pub fn expire_tokens(&self) {
        self.shared.lock().valid.clear();
    }

    /// Every request in order: its method and its path with the query, as sent.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.shared.lock().requests.clone()
    }

    /// The `GET /v1/...` calls only, path and query as sent.
    pub fn api_calls(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter(|(m, p)| m == "GET" && p.starts_with("/v1/"))
            .map(|(_, p)| p)
            .collect()
    }

    pub fn tokens_issued(&self) -> u32 {
        self.shared.lock().issued.len() as u32
    }

    pub fn violations(&self) -> Vec<String> {
        self.shared.lock().violations.clone()
    }

    /// Fails the test if the client did anything Spotify would refuse, or leaked a secret.
    pub fn assert_no_violations(&self) {
        let v = self.violations();
        assert!(
            v.is_empty(),
            "the client made requests Spotify would refuse:\n{}",
            v.join("\n")
        );
    }
}

/// A parameter of a recorded `path?query`, decoded.
pub fn query_param(path_and_query: &str, name: &str) -> Option<String> {
    let (_, query) = path_and_query.split_once('?')?;
    pairs(query)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Query strings and forms are read the one way every fake reads them.
fn pairs(encoded: &str) -> Vec<(String, String)> {
    crate::plex::url_pairs(encoded)
}

fn decode(s: &str) -> String {
    crate::plex::percent_decode(s)
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

/// The Web API's error body.
fn api_error(status: StatusCode, message: &str) -> Response {
    json_response(
        status,
        &json!({ "error": { "status": status.as_u16(), "message": message } }),
    )
}

/// The accounts service's error body, shaped as OAuth's.
fn accounts_error(status: StatusCode, error: &str, description: &str) -> Response {
    json_response(
        status,
        &json!({ "error": error, "error_description": description }),
    )
}

fn too_many_requests(retry_after: Option<u64>) -> Response {
    let mut response = api_error(StatusCode::TOO_MANY_REQUESTS, "API rate limit exceeded");
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn handle(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let path = uri.path();
    let path_and_query = uri
        .path_and_query()
        .map_or_else(|| path.to_owned(), |p| p.as_str().to_owned());
    {
        let mut state = shared.lock();
        state
            .requests
            .push((method.as_str().to_owned(), path_and_query.clone()));
        let decoded = decode(&path_and_query);
        let leaked = decoded.contains(&shared.client_secret)
            || state.issued.iter().any(|t| decoded.contains(t.as_str()));
        if leaked {
            state.violations.push(format!(
                "{method} {path}: the client secret or an access token is in the URL"
            ));
        }
    }
    if path == "/api/token" {
        return token(shared, method, headers, body);
    }
    let Some(api_path) = path.strip_prefix("/v1/") else {
        shared.violation(format!("{method} {path}: not a Spotify endpoint"));
        return api_error(StatusCode::NOT_FOUND, "Service not found");
    };
    if let Some(refusal) = authorize(shared, method, path, headers) {
        return refusal;
    }
    if let Some(refusal) = rate_limit(shared, method, path) {
        return refusal;
    }
    if method != Method::GET {
        shared.violation(format!("{method} {path}: the client only reads"));
        return api_error(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed");
    }
    let query = pairs(uri.query().unwrap_or(""));
    let ctx = Ctx {
        shared,
        path,
        query,
        raw_query: uri.query().unwrap_or(""),
    };
    route(&ctx, api_path)
}

/// The client-credentials grant, checked as the accounts service checks it.
fn token(shared: &Shared, method: &Method, headers: &HeaderMap, body: &Bytes) -> Response {
    if method != Method::POST {
        shared.violation(format!(
            "{method} /api/token: the token endpoint takes POST"
        ));
        return accounts_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            "Only POST is allowed",
        );
    }
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_type {
        shared.violation("POST /api/token: the body must be a urlencoded form".to_owned());
        return accounts_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Unsupported content type",
        );
    }
    let form = pairs(&String::from_utf8_lossy(body));
    if form
        .iter()
        .any(|(k, _)| k == "client_secret" || k == "client_id")
    {
        shared.violation(
            "POST /api/token: the id and secret belong in the Authorization header, not the body"
                .to_owned(),
        );
    }
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok());
    let Some(basic) = basic else {
        shared.violation(
            "POST /api/token: no HTTP Basic auth with the app's id and secret".to_owned(),
        );
        return accounts_error(StatusCode::BAD_REQUEST, "invalid_client", "Invalid client");
    };
    let Some((id, secret)) = basic.split_once(':') else {
        shared.violation("POST /api/token: Basic auth is not id:secret".to_owned());
        return accounts_error(StatusCode::BAD_REQUEST, "invalid_client", "Invalid client");
    };
    if id != shared.client_id {
        return accounts_error(StatusCode::BAD_REQUEST, "invalid_client", "Invalid client");
    }
    if secret != shared.client_secret {
        return accounts_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "Invalid client secret",
        );
    }
    let grant = form
        .iter()
        .find(|(k, _)| k == "grant_type")
        .map(|(_, v)| v.as_str());
    match grant {
        Some("client_credentials") => {}
        None => {
            shared.violation("POST /api/token: no grant_type".to_owned());
            return accounts_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type parameter is missing",
            );
        }
        Some(other) => {
            shared.violation(format!(
                "POST /api/token: grant_type={other}, not client_credentials"
            ));
            return accounts_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type must be client_credentials, authorization_code or refresh_token",
            );
        }
    }
    let mut state = shared.lock();
    let token = format!("{TOKEN_PREFIX}{:04}", state.issued.len() + 1);
    state.issued.push(token.clone());
    state.valid.insert(token.clone());
    json_response(
        StatusCode::OK,
        &json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_S,
        }),
    )
}

/// `Authorization: Bearer` with a live token, or the 401 Spotify answers.
fn authorize(
    shared: &Shared,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Option<Response> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let mut state = shared.lock();
    let Some(token) = bearer else {
        state
            .violations
            .push(format!("{method} {path}: no Authorization: Bearer header"));
        return Some(api_error(StatusCode::UNAUTHORIZED, "No token provided"));
    };
    if state.valid.contains(token) {
        return None;
    }
    if state.issued.iter().any(|t| t == token) {
        if !state.refused.insert(token.to_owned()) {
            state.violations.push(format!(
                "{method} {path}: sent again a token Spotify already refused"
            ));
        }
        return Some(api_error(
            StatusCode::UNAUTHORIZED,
            "The access token expired",
        ));
    }
    state.violations.push(format!(
        "{method} {path}: a bearer token the fake never issued"
    ));
    Some(api_error(StatusCode::UNAUTHORIZED, "Invalid access token"))
}

/// A call inside an earlier 429's wait, or one the test asked to fail.
fn rate_limit(shared: &Shared, method: &Method, path: &str) -> Option<Response> {
    let mut state = shared.lock();
    let now = Instant::now();
    if let Some(until) = state.retry_not_before
        && now < until
    {
        let left = until - now;
        state.violations.push(format!(
            "{method} {path}: sent {} ms before Retry-After ran out",
            left.as_millis()
        ));
        let seconds = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        return Some(too_many_requests(Some(seconds)));
    }
    let (status, retry_after) = state.failures.pop_front()?;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    Some(match status {
        StatusCode::TOO_MANY_REQUESTS => {
            if let Some(seconds) = retry_after {
                state.retry_not_before = Some(now + Duration::from_secs(seconds));
            }
            too_many_requests(retry_after)
        }
        StatusCode::FORBIDDEN => api_error(status, "Forbidden"),
        StatusCode::INTERNAL_SERVER_ERROR => api_error(status, "Server error"),
        StatusCode::BAD_GATEWAY => api_error(status, "Bad gateway"),
        StatusCode::SERVICE_UNAVAILABLE => api_error(status, "Service unavailable"),
        other => api_error(other, other.canonical_reason().unwrap_or("Error")),
    })
}

/// One API call being answered.
struct Ctx<'a> {
    shared: &'a Shared,
    /// The whole path, `/v1/...`, for violations.
    path: &'a str,
    query: Vec<(String, String)>,
    raw_query: &'a str,
}

impl Ctx<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Records `what` as a violation and answers it with a 400.
    fn refuse(&self, what: &str) -> Response {
        self.shared
            .violation(format!("GET {}?{}: {what}", self.path, self.raw_query));
        api_error(StatusCode::BAD_REQUEST, what)
    }

    /// `limit` and `offset`, each checked against `max_limit`; the 400 otherwise.
    #[allow(
        clippy::result_large_err,
        reason = "the error is the response to send, as axum handlers return it"
    )]
    fn paging(&self, max_limit: usize) -> Result<(usize, usize), Response> {
        let limit = match self.param("limit") {
            None => DEFAULT_LIMIT,
            Some(l) => l
                .parse::<usize>()
                .map_err(|_| self.refuse("Invalid limit"))?,
        };
        if limit == 0 || limit > max_limit {
            self.shared.violation(format!(
                "GET {}?{}: limit {limit} is outside 1..={max_limit}",
                self.path, self.raw_query
            ));
            return Err(api_error(StatusCode::BAD_REQUEST, "Invalid limit"));
        }
        let offset = match self.param("offset") {
            None => 0,
            Some(o) => o
                .parse::<usize>()
                .map_err(|_| self.refuse("Invalid offset"))?,
        };
        Ok((limit, offset))
    }

    /// A paging object over `all`, with `next` and `previous` links back to this fake.
    fn page(&self, all: &[Value], limit: usize, offset: usize, extra: &str) -> Value {
        let total = all.len();
        let link = |offset: usize| {
            format!(
                "{}{}?offset={offset}&limit={limit}{extra}",
                self.shared.base, self.path
            )
        };
        json!({
            "href": link(offset),
            "items": all.iter().skip(offset).take(limit).cloned().collect::<Vec<_>>(),
            "limit": limit,
            "next": (offset + limit < total).then(|| link(offset + limit)),
            "offset": offset,
            "previous": (offset > 0).then(|| link(offset.saturating_sub(limit))),
            "total": total,
        })
    }

    /// A refused endpoint that development mode lost, which a client must never call.
    fn gone(&self, what: &str) -> Response {
        self.shared.violation(format!(
            "GET {}?{}: {what} is gone for development-mode apps",
            self.path, self.raw_query
        ));
        api_error(StatusCode::FORBIDDEN, "Forbidden")
    }

    /// The 400 for an id that is not 22 base62 characters (the client checks it first).
    fn bad_id(&self, id: &str) -> Option<Response> {
        if is_id(id) {
            return None;
        }
        self.shared
            .violation(format!("GET {}: {id:?} is not a Spotify id", self.path));
        Some(api_error(StatusCode::BAD_REQUEST, "Invalid base62 id"))
    }
}

fn not_found() -> Response {
    api_error(StatusCode::NOT_FOUND, "Resource not found")
}

fn ok(body: &Value) -> Response {
    json_response(StatusCode::OK, body)
}

fn route(ctx: &Ctx<'_>, api_path: &str) -> Response {
    let catalogue = &ctx.shared.catalogue;
    let segments: Vec<&str> = api_path.split('/').collect();
    match segments.as_slice() {
        ["tracks" | "albums" | "artists"] if ctx.param("ids").is_some() => {
            ctx.gone(&format!("the batch GET /{}?ids=", segments[0]))
        }
        ["artists", _, "top-tracks"] => ctx.gone("an artist's top tracks"),
        ["playlists", _, "tracks"] => ctx.gone("GET /playlists/ID/tracks (now /items)"),
        ["tracks", id] => {
            if let Some(bad) = ctx.bad_id(id) {
                return bad;
            }
            catalogue.track(id).map_or_else(not_found, ok)
        }
        ["albums", id] => {
            if let Some(bad) = ctx.bad_id(id) {
                return bad;
            }
            catalogue.albums.get(*id).map_or_else(not_found, ok)
        }
        ["albums", id, "tracks"] => {
            if let Some(bad) = ctx.bad_id(id) {
                return bad;
            }
            let Some(listing) = catalogue.album_tracks.get(*id) else {
                return not_found();
            };
            match ctx.paging(MAX_PAGE) {
                Ok((limit, offset)) => ok(&ctx.page(listing, limit, offset, "")),
                Err(refusal) => refusal,
            }
        }
        ["artists", id] => {
            if let Some(bad) = ctx.bad_id(id) {
                return bad;
            }
            catalogue.artists.get(*id).map_or_else(not_found, ok)
        }
        ["playlists", id] => {
            if let Some(bad) = ctx.bad_id(id) {
                return bad;
            }
            let Some(playlist) = catalogue.playlists.get(*id) else {
                return not_found();
            };
            ok(&only_fields(playlist, ctx.param("fields")))
        }
        ["playlists", id, "items"] => {
            if let Some(bad) = ctx.bad_id(id) {
                return bad;
            }
            let Some(entries) = catalogue.playlist_items.get(*id) else {
                return not_found();
            };
            match ctx.paging(MAX_PAGE) {
                Ok((limit, offset)) => ok(&ctx.page(entries, limit, offset, "")),
                Err(refusal) => refusal,
            }
        }
        ["search"] => search(ctx),
        _ => {
            ctx.shared.violation(format!(
                "GET {}: not an endpoint a development-mode app may call",
                ctx.path
            ));
            not_found()
        }
    }
}

/// `fields=a,b` keeps those top-level fields. The nested syntax (`items(item(name))`) is not
/// filtered: the whole object is a superset of what was asked, which a client must accept.
fn only_fields(object: &Value, fields: Option<&str>) -> Value {
    let Some(fields) = fields.filter(|f| !f.contains(['(', '.', '/'])) else {
        return object.clone();
    };
    let kept: serde_json::Map<String, Value> = fields
        .split(',')
        .map(str::trim)
        .filter_map(|f| Some((f.to_owned(), object.get(f)?.clone())))
        .collect();
    Value::Object(kept)
}

/// `GET /search` for tracks: `artist:`, `track:`, `album:` and `isrc:` filters and free words,
/// matched loosely (a contained phrase), as Spotify's own matching is.
fn search(ctx: &Ctx<'_>) -> Response {
    let Some(q) = ctx.param("q").filter(|q| !q.trim().is_empty()) else {
        return ctx.refuse("No search query");
    };
    let Some(kinds) = ctx.param("type") else {
        return ctx.refuse("Missing parameter type");
    };
    if !kinds.split(',').any(|k| k.trim() == "track") {
        return ctx.refuse("this fake searches tracks only");
    }
    if ctx.param("limit").is_none() {
        ctx.shared.violation(format!(
            "GET {}?{}: no limit, and Spotify's documented default (20) is above the 10 \
             development-mode apps may ask for",
            ctx.path, ctx.raw_query
        ));
        return api_error(StatusCode::BAD_REQUEST, "Invalid limit");
    }
    let (limit, offset) = match ctx.paging(MAX_SEARCH_LIMIT) {
        Ok(paging) => paging,
        Err(refusal) => return refusal,
    };
    if offset > 1000 {
        return ctx.refuse("Invalid offset");
    }
    let terms = terms(q);
    let found: Vec<Value> = ctx
        .shared
        .catalogue
        .tracks
        .iter()
        .filter(|t| {
            terms
                .iter()
                .all(|(field, value)| matches(t, field.as_deref(), value))
        })
        .cloned()
        .collect();
    let raw_q = ctx
        .raw_query
        .split('&')
        .find(|p| p.starts_with("q="))
        .unwrap_or("q=");
    let extra = format!("&{raw_q}&type=track");
    json_response(
        StatusCode::OK,
        &json!({ "tracks": ctx.page(&found, limit, offset, &extra) }),
    )
}

fn lower(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_lowercase()
}

fn matches(track: &Value, field: Option<&str>, value: &str) -> bool {
    let artist = || {
        track["artists"]
            .as_array()
            .is_some_and(|all| all.iter().any(|a| lower(&a["name"]).contains(value)))
    };
    let name = || lower(&track["name"]).contains(value);
    match field {
        Some("artist") => artist(),
        Some("track") => name(),
        Some("album") => lower(&track["album"]["name"]).contains(value),
        Some("isrc") => lower(&track["external_ids"]["isrc"]) == value,
        // year:, genre: and the rest narrow nothing in this catalogue.
        Some(_) => true,
        None => name() || artist(),
    }
}

/// The query's terms, lower-cased: `field:"a phrase"`, `field:word`, `"a phrase"` or `word`.
fn terms(q: &str) -> Vec<(Option<String>, String)> {
    let mut out = Vec::new();
    let mut rest = q.trim_start();
    while !rest.is_empty() {
        let name_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let mut field = None;
        if name_len > 0 && rest[name_len..].starts_with(':') {
            field = Some(rest[..name_len].to_ascii_lowercase());
            rest = &rest[name_len + 1..];
        }
        let value;
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            value = &quoted[..end];
            rest = quoted.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            value = &rest[..end];
            rest = &rest[end..];
        }
        if !value.trim().is_empty() {
            out.push((field, value.trim().to_lowercase()));
        }
        rest = rest.trim_start();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_is_22_base62_characters() {
        let catalogue = Catalogue::build();
        for t in &catalogue.tracks {
            assert!(is_id(t["id"].as_str().expect("id")), "{}", t["id"]);
        }
        for id in [
            TRACK_ID,
            ARTIST_ID,
            FEATURED_ARTIST_ID,
            TRIBUTE_ARTIST_ID,
            TRIBUTE_TRACK_ID,
            ALBUM_ID,
            PLAYLIST_ID,
            EPISODE_ID,
            MISSING_ID,
            HUMS_ID,
            ATLAS_ID,
            ROAD_ALBUM_ID,
            SINGLE_ALBUM_ID,
            TRIBUTE_ALBUM_ID,
            SHOW_ID,
        ] {
            assert!(is_id(id), "{id}");
        }
        assert_eq!(catalogue.playlist_items[PLAYLIST_ID].len(), PLAYLIST_ITEMS);
        assert_eq!(road_trip_titles().len(), PLAYLIST_TRACKS);
    }

    #[test]
    fn search_terms_are_read_as_spotify_reads_them() {
        assert_eq!(
            terms(r#"artist:"The Velvet Static" neon track:harbor "two words""#),
            [
                (Some("artist".to_owned()), "the velvet static".to_owned()),
                (None, "neon".to_owned()),
                (Some("track".to_owned()), "harbor".to_owned()),
                (None, "two words".to_owned()),
            ]
        );
        assert!(terms("   ").is_empty());
        assert!(terms("artist:").is_empty());
        assert_eq!(
            terms(r#""unterminated"#),
            [(None, "unterminated".to_owned())]
        );
    }

    #[test]
    fn form_encoding_is_decoded() {
        assert_eq!(
            decode("artist%3A%22The+Velvet+Static%22"),
            r#"artist:"The Velvet Static""#
        );
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%4"), "%4");
        assert_eq!(decode("%zz"), "%zz");
        assert_eq!(
            query_param("/v1/search?q=a+b&type=track&limit=10", "q").as_deref(),
            Some("a b")
        );
    }
}
