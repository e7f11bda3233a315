//! A loopback fake of Plex: plex.tv (PIN link flow, the account, its resources) and a Plex
//! Media Server (identity, root, libraries, `all` with sort and paging, children, metadata,
//! On Deck, recently added, `/hubs/search`, part downloads with HTTP Range, the photo
//! transcoder, timeline and scrobble), built from the recorded answers in
//! `tests/fixtures/plex` and able to add a generated library of any size.
//!
//! Like the Discord fake, one fallback handler records every request and checks what the
//! real service checks; anything Plex would refuse or mishandle, and anything that breaks our
//! own promises about the token, is a violation that fails the test:
//! - no `X-Plex-Client-Identifier` or `X-Plex-Product` (plex.tv refuses such clients), no
//!   `Accept: application/json` (Plex would answer XML);
//! - the token in the query string or anywhere in the URL (we promise the header only);
//! - a missing or wrong `X-Plex-Token` on anything but `/identity` is answered 401, as Plex
//!   does (a violation only when the test did not revoke the token on purpose);
//! - a container page larger than [`Options::max_page`], an unknown sort, a PIN polled by a
//!   client that did not create it, a malformed timeline report.
//!
//! It listens twice (two ports, one state), so the account's resources can list a dead local
//! connection, a live "remote" one and a live "relay" one, and a test can see which one the
//! client chose.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// The account's token. Distinctive, so a leak is easy to find in output.
pub const PLEX_TOKEN: &str = "plxTOKEN-7Hq2Zr9Lw4Xk";
/// The server's `machineIdentifier`, as plex.tv lists it in the resources.
pub const MACHINE_ID: &str = "lounge-fake-pms-0001";
pub const SERVER_NAME: &str = "Lounge Fake Plex";
pub const SERVER_VERSION: &str = "1.41.3.9314-a0bfb8370";
/// The rating key of the first generated item; they count up from here.
pub const GENERATED_BASE: u64 = 1_000_000;

macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/plex/",
            $path
        ))
    };
}

/// Every recorded server answer the fake serves, by file name under `fixtures/plex`, for the
/// test that checks our models read them all.
pub const SERVER_FIXTURES: &[(&str, &str)] = &[
    (
        "server/media/movie_library.json",
        fixture!("server/media/movie_library.json"),
    ),
    (
        "server/media/tv_library.json",
        fixture!("server/media/tv_library.json"),
    ),
    (
        "server/media/tv_seasons.json",
        fixture!("server/media/tv_seasons.json"),
    ),
    (
        "server/media/tv_episodes.json",
        fixture!("server/media/tv_episodes.json"),
    ),
    (
        "server/media/photo_library.json",
        fixture!("server/media/photo_library.json"),
    ),
    (
        "server/media/photo_album.json",
        fixture!("server/media/photo_album.json"),
    ),
    (
        "server/media/music_library.json",
        fixture!("server/media/music_library.json"),
    ),
    (
        "server/media/music_albums.json",
        fixture!("server/media/music_albums.json"),
    ),
    (
        "server/media/music_tracks.json",
        fixture!("server/media/music_tracks.json"),
    ),
    (
        "server/media/metadata_108.json",
        fixture!("server/media/metadata_108.json"),
    ),
    (
        "server/media/metadata_161.json",
        fixture!("server/media/metadata_161.json"),
    ),
    (
        "server/media/metadata_168.json",
        fixture!("server/media/metadata_168.json"),
    ),
    (
        "transcode/metadata_1036.json",
        fixture!("transcode/metadata_1036.json"),
    ),
    (
        "transcode/metadata_13194.json",
        fixture!("transcode/metadata_13194.json"),
    ),
    (
        "transcode/metadata_157786.json",
        fixture!("transcode/metadata_157786.json"),
    ),
    (
        "transcode/metadata_159637.json",
        fixture!("transcode/metadata_159637.json"),
    ),
    ("timeline/timeline.json", fixture!("timeline/timeline.json")),
];

/// The recorded plex.tv resources (for the client's own parse test).
pub const RESOURCES_FIXTURE: &str = fixture!("myplex/api/v2/resources.json");

/// A 1×1 PNG: what the photo transcoder answers.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x60, 0x60, 0x60, 0xF8,
    0x0F, 0x00, 0x01, 0x04, 0x01, 0x00, 0x5F, 0xE5, 0xC3, 0x4B, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// The PNG the photo transcoder answers, for tests to compare against.
pub fn poster_png() -> &'static [u8] {
    PNG
}

#[derive(Clone, Debug)]
pub struct Options {
    /// Generated movies added to the Movies library (rating keys from [`GENERATED_BASE`]).
    pub generated_items: usize,
    /// How many polls of a PIN go by before the owner "enters the code".
    pub polls_to_link: u32,
    /// The largest `X-Plex-Container-Size` a client may ask for.
    pub max_page: u32,
    /// A real video file: every part download serves it, and the second generated item
    /// (rating key [`GENERATED_BASE`] + 1) has it as its part's `file`, as when the streamer
    /// runs on the Plex server's machine. The others name files that do not exist here.
    pub video: Option<PathBuf>,
    /// The length of [`Self::video`], given to the first two generated items (which serve it)
    /// as their Plex duration.
    pub video_duration_ms: Option<u64>,
    /// Continue Watching for the second generated item (the one on this machine's disk).
    pub resume_offset_ms: Option<u64>,
    /// Answer every server request this much later (Plex slower than Discord's deadline).
    pub delay: Duration,
    /// The server's `machineIdentifier` (another server on a stale address has its own).
    pub machine_id: &'static str,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            generated_items: 0,
            polls_to_link: 2,
            max_page: 100,
            video: None,
            delay: Duration::ZERO,
            machine_id: MACHINE_ID,
            video_duration_ms: None,
            resume_offset_ms: None,
        }
    }
}

/// One request as received. The token's value is never kept, only whether it was right.
#[derive(Clone, Debug)]
pub struct PlexRequest {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Which of the fake's two ports it came in on.
    pub port: u16,
    /// The `X-Plex-Token` header was present and valid.
    pub token_ok: bool,
    pub client_identifier: Option<String>,
    pub headers: Vec<(String, String)>,
    pub status: u16,
}

impl PlexRequest {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One `/:/timeline` report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineReport {
    pub rating_key: String,
    pub state: String,
    pub time: u64,
    pub duration: u64,
}

/// A connection the resources list: `(uri, local, relay)`.
pub type FakeConnection = (String, bool, bool);

struct Pin {
    client: String,
    polls: u32,
}

struct Library {
    sections: Vec<Value>,
    /// Section key → its top-level items' rating keys, in the recorded order.
    section_items: HashMap<String, Vec<String>>,
    /// Rating key → children's rating keys.
    children: HashMap<String, Vec<String>>,
    items: HashMap<String, Value>,
    on_deck: Vec<String>,
}

struct State {
    requests: Vec<PlexRequest>,
    violations: Vec<String>,
    token_valid: bool,
    pins: HashMap<u64, Pin>,
    next_pin: u64,
    connections: Vec<FakeConnection>,
    timelines: Vec<TimelineReport>,
    scrobbles: Vec<String>,
}

struct Shared {
    state: Mutex<State>,
    library: Library,
    options: Options,
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

pub struct FakePlex {
    shared: Arc<Shared>,
    addr: SocketAddr,
    alt_addr: SocketAddr,
    dead_addr: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for FakePlex {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// A loopback address nothing listens on (bound, then closed).
pub fn dead_address() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("address")
}

impl FakePlex {
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Self {
        let main = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let alt = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = main.local_addr().expect("address");
        let alt_addr = alt.local_addr().expect("address");
        let dead_addr = dead_address();
        let connections = vec![
            (format!("http://{dead_addr}"), true, false),
            (format!("http://{alt_addr}"), false, false),
            (format!("http://{addr}"), false, true),
        ];
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                requests: Vec::new(),
                violations: Vec::new(),
                token_valid: true,
                pins: HashMap::new(),
                next_pin: 111_222_333,
                connections,
                timelines: Vec::new(),
                scrobbles: Vec::new(),
            }),
            library: Library::build(&options),
            options,
        });
        let tasks = [main, alt]
            .into_iter()
            .map(|listener| tokio::spawn(serve(listener, shared.clone())))
            .collect();
        Self {
            shared,
            addr,
            alt_addr,
            dead_addr,
            tasks,
        }
    }

    /// `plex_tv_url` and `plex_url` both: one fake plays both services.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The second port, listed as the "remote" connection.
    pub fn alt_url(&self) -> String {
        format!("http://{}", self.alt_addr)
    }

    /// The dead address listed as the "local" connection.
    pub fn dead_url(&self) -> String {
        format!("http://{}", self.dead_addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn alt_port(&self) -> u16 {
        self.alt_addr.port()
    }

    /// Replaces the connections plex.tv lists for the server.
    pub fn set_connections(&self, connections: Vec<FakeConnection>) {
        self.shared.lock().connections = connections;
    }

    /// The owner signs the device out: the token is refused from now on.
    pub fn revoke_token(&self) {
        self.shared.lock().token_valid = false;
    }

    pub fn requests(&self) -> Vec<PlexRequest> {
        self.shared.lock().requests.clone()
    }

    pub fn timelines(&self) -> Vec<TimelineReport> {
        self.shared.lock().timelines.clone()
    }

    pub fn scrobbles(&self) -> Vec<String> {
        self.shared.lock().scrobbles.clone()
    }

    pub fn violations(&self) -> Vec<String> {
        self.shared.lock().violations.clone()
    }

    /// Fails the test if the client did anything the real Plex would refuse, or broke a
    /// promise about the token.
    pub fn assert_no_violations(&self) {
        let v = self.violations();
        assert!(
            v.is_empty(),
            "the client made requests Plex would refuse:\n{}",
            v.join("\n")
        );
    }

    /// The number of items in a library (`all`'s `totalSize`).
    pub fn library_len(&self, section: &str) -> usize {
        self.shared
            .library
            .section_items
            .get(section)
            .map_or(0, Vec::len)
    }

    /// A copy of one item as the fake serves it.
    pub fn item(&self, rating_key: &str) -> Option<Value> {
        self.shared.library.items.get(rating_key).cloned()
    }
}

fn container(fixture: &str) -> Value {
    let v: Value = serde_json::from_str(fixture).expect("fixture is JSON");
    v["MediaContainer"].clone()
}

fn metadata_of(fixture: &str) -> Vec<Value> {
    container(fixture)["Metadata"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

impl Library {
    fn build(options: &Options) -> Self {
        let (generated, video) = (options.generated_items, options.video.as_deref());
        let mut lib = Self {
            sections: vec![
                json!({"key": "1", "title": "Movies", "type": "movie", "agent": "tv.plex.agents.movie", "uuid": "cebcb7e3-5031-436b-906a-3640d878ba2c"}),
                json!({"key": "2", "title": "TV Shows", "type": "show", "agent": "tv.plex.agents.series"}),
                json!({"key": "3", "title": "Photos", "type": "photo", "agent": "com.plexapp.agents.none"}),
                json!({"key": "5", "title": "Music", "type": "artist", "agent": "tv.plex.agents.music"}),
            ],
            section_items: HashMap::new(),
            children: HashMap::new(),
            items: HashMap::new(),
            on_deck: Vec::new(),
        };
        for (section, fixture) in [
            ("1", fixture!("server/media/movie_library.json")),
            ("2", fixture!("server/media/tv_library.json")),
            ("3", fixture!("server/media/photo_library.json")),
            ("5", fixture!("server/media/music_library.json")),
        ] {
            let keys = lib.add_all(&metadata_of(fixture), section);
            lib.section_items.insert(section.to_owned(), keys);
        }
        for (parent, fixture) in [
            ("22", fixture!("server/media/tv_seasons.json")),
            ("89", fixture!("server/media/tv_episodes.json")),
            ("43", fixture!("server/media/photo_album.json")),
            ("156", fixture!("server/media/music_albums.json")),
            ("157", fixture!("server/media/music_tracks.json")),
        ] {
            let section = if parent == "43" {
                "3"
            } else if parent == "22" || parent == "89" {
                "2"
            } else {
                "5"
            };
            let keys = lib.add_all(&metadata_of(fixture), section);
            lib.children.insert(parent.to_owned(), keys);
        }
        // The full records (with Media, Part and Stream detail) replace the list entries.
        for fixture in [
            fixture!("server/media/metadata_108.json"),
            fixture!("transcode/metadata_1036.json"),
            fixture!("transcode/metadata_13194.json"),
            fixture!("transcode/metadata_159637.json"),
        ] {
            for item in metadata_of(fixture) {
                let key = rating_key(&item);
                if !lib.section_items["1"].contains(&key) {
                    lib.section_items
                        .get_mut("1")
                        .expect("Movies")
                        .push(key.clone());
                }
                lib.items.insert(key, item);
            }
        }
        // The owner stopped in the middle of the second episode.
        if let Some(ep) = lib.items.get_mut("91") {
            ep["viewOffset"] = json!(600_000);
        }
        lib.on_deck = vec!["91".to_owned(), "108".to_owned()];
        if let Some(m) = lib.items.get_mut("108") {
            m["viewOffset"] = json!(3_723_000);
        }
        lib.generate(generated);
        if let Some(video) = video {
            let key = (GENERATED_BASE + 1).to_string();
            if let Some(item) = lib.items.get_mut(&key) {
                item["Media"][0]["Part"][0]["file"] = json!(video.to_str().expect("UTF-8 path"));
                if let Some(offset) = options.resume_offset_ms {
                    item["viewOffset"] = json!(offset);
                }
            }
            if let Some(ms) = options.video_duration_ms {
                for key in [GENERATED_BASE, GENERATED_BASE + 1] {
                    if let Some(item) = lib.items.get_mut(&key.to_string()) {
                        item["duration"] = json!(ms);
                        item["Media"][0]["duration"] = json!(ms);
                    }
                }
            }
        }
        lib
    }

    fn add_all(&mut self, items: &[Value], section: &str) -> Vec<String> {
        items
            .iter()
            .map(|item| {
                let mut item = item.clone();
                item["librarySectionID"] = json!(section.parse::<u64>().unwrap_or(0));
                let key = rating_key(&item);
                self.items.insert(key.clone(), item);
                key
            })
            .collect()
    }

    /// Generated movies with believable, varied fields, so sort and search mean something.
    fn generate(&mut self, n: usize) {
        const WORDS: [&str; 12] = [
            "Heat", "Night", "River", "Storm", "Garden", "Signal", "Harbor", "Echo", "Winter",
            "Copper", "Lantern", "Orbit",
        ];
        let movies = self.section_items.get_mut("1").expect("Movies");
        for i in 0..n {
            let key = (GENERATED_BASE + i as u64).to_string();
            let title = format!(
                "{} {} {:05}",
                WORDS[i % WORDS.len()],
                WORDS[(i / WORDS.len()) % WORDS.len()],
                i
            );
            let item = json!({
                "ratingKey": key,
                "key": format!("/library/metadata/{key}"),
                "type": "movie",
                "title": title,
                "titleSort": title,
                "year": 1950 + (i * 7919 % 75) as u64,
                "rating": ((i * 37 % 100) as f64) / 10.0,
                "addedAt": 1_600_000_000 + (i * 104_729 % 90_000_000) as u64,
                "duration": 5_000 + (i % 60) as u64 * 60_000,
                "summary": "A generated film.",
                "thumb": format!("/library/metadata/{key}/thumb/1600000000"),
                "librarySectionID": 1,
                "Media": [{
                    "id": GENERATED_BASE + i as u64,
                    "duration": 5_000,
                    "videoCodec": "h264",
                    "audioCodec": "aac",
                    "width": 320,
                    "height": 240,
                    "container": "mp4",
                    "Part": [{
                        "id": GENERATED_BASE + i as u64,
                        "key": format!("/library/parts/{}/1600000000/file.mp4", GENERATED_BASE + i as u64),
                        "file": format!("/srv/plex/generated/{key}.mp4"),
                        "size": 1_000_000,
                        "container": "mp4",
                    }],
                }],
            });
            movies.push(key.clone());
            self.items.insert(key, item);
        }
    }

    fn part_exists(&self, key: &str) -> bool {
        self.items.values().any(|item| {
            item["Media"].as_array().into_iter().flatten().any(|m| {
                m["Part"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|p| p["key"].as_str() == Some(key))
            })
        })
    }
}

fn rating_key(item: &Value) -> String {
    match &item["ratingKey"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let port = listener.local_addr().expect("address").port();
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let shared = shared.clone();
            async move {
                if !shared.options.delay.is_zero() {
                    tokio::time::sleep(shared.options.delay).await;
                }
                handle(&shared, port, &method, &uri, &headers, &body)
            }
        },
    );
    let _ = axum::serve(listener, app).await;
}

fn ok(v: &Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

fn status(code: StatusCode) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "text/html")],
        code.to_string(),
    )
        .into_response()
}

fn media_container(fields: Value) -> Value {
    json!({ "MediaContainer": fields })
}

/// Everything one request is answered from.
struct Ctx<'a> {
    shared: &'a Shared,
    method: &'a Method,
    path: String,
    query: Vec<(String, String)>,
    headers: &'a HeaderMap,
    token_ok: bool,
    client: Option<String>,
}

impl Ctx<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `X-Plex-Container-*` from a header or, as Plex also allows, the query.
    fn paging(&self, name: &str) -> Option<u64> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| self.param(name).map(str::to_owned))
            .and_then(|v| v.parse().ok())
    }

    fn violation(&self, what: &str) {
        self.shared
            .violation(format!("{} {}: {what}", self.method, self.path));
    }
}

fn handle(
    shared: &Shared,
    port: u16,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    _body: &Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let query: Vec<(String, String)> = uri.query().map(url_pairs).unwrap_or_default();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let token_header = header("x-plex-token");
    let token_valid = shared.lock().token_valid;
    let ctx = Ctx {
        shared,
        method,
        path: path.clone(),
        query: query.clone(),
        headers,
        token_ok: token_valid && token_header == Some(PLEX_TOKEN),
        client: header("x-plex-client-identifier").map(str::to_owned),
    };
    // What the real services check, or what we promised.
    if ctx.client.as_deref().is_none_or(str::is_empty) {
        ctx.violation("no X-Plex-Client-Identifier header");
    }
    if header("x-plex-product").is_none_or(str::is_empty) {
        ctx.violation("no X-Plex-Product header");
    }
    for name in ["x-plex-version", "x-plex-platform", "x-plex-device"] {
        if header(name).is_none_or(str::is_empty) {
            ctx.violation(&format!("no {name} header"));
        }
    }
    if !header("accept").is_some_and(|a| a.contains("application/json")) {
        ctx.violation("no `Accept: application/json` (Plex would answer XML)");
    }
    if query
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("x-plex-token"))
    {
        ctx.violation("the token is in the query string; it belongs in the X-Plex-Token header");
    }
    if uri.to_string().contains(PLEX_TOKEN) {
        ctx.violation("the token is in the URL");
    }
    if token_header.is_some_and(|t| t != PLEX_TOKEN) && token_valid {
        ctx.violation("a token that is not the account's");
    }
    let response = route(&ctx);
    let recorded = PlexRequest {
        method: method.to_string(),
        path,
        query,
        port,
        token_ok: ctx.token_ok,
        client_identifier: ctx.client.clone(),
        headers: headers
            .iter()
            .filter(|(k, _)| k.as_str() != "x-plex-token")
            .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_owned())))
            .collect(),
        status: response.status().as_u16(),
    };
    shared.lock().requests.push(recorded);
    response
}

pub(crate) fn url_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte (anything
/// else, a stray `%` included, stays as it is).
pub(crate) fn percent_decode(s: &str) -> String {
    let hex = |b: u8| char::from(b).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn route(ctx: &Ctx<'_>) -> Response {
    let segments: Vec<&str> = ctx.path.trim_start_matches('/').split('/').collect();
    match (ctx.method.as_str(), segments.as_slice()) {
        // plex.tv
        ("POST", ["api", "v2", "pins"]) => create_pin(ctx),
        ("GET", ["api", "v2", "pins", id]) => poll_pin(ctx, id),
        ("GET", ["api", "v2", "user"]) => needs_token(ctx, || {
            let mut user: Value =
                serde_json::from_str(fixture!("myplex/api/v2/user/user_info_plexpass.json"))
                    .expect("fixture");
            user["authToken"] = json!(PLEX_TOKEN);
            ok(&user)
        }),
        ("GET", ["api", "v2", "resources"]) => needs_token(ctx, || resources(ctx)),
        // the server
        ("GET", ["identity"]) => ok(&media_container(json!({
            "size": 0, "claimed": true, "machineIdentifier": ctx.shared.options.machine_id, "version": SERVER_VERSION,
        }))),
        ("GET", [""]) => needs_token(ctx, || {
            ok(&media_container(json!({
                "size": 0, "claimed": true, "friendlyName": SERVER_NAME,
                "machineIdentifier": ctx.shared.options.machine_id, "version": SERVER_VERSION,
                "platform": "Linux", "myPlexUsername": "user@example.com",
            })))
        }),
        ("GET", ["library", "sections"]) => needs_token(ctx, || {
            let dirs = &ctx.shared.library.sections;
            ok(&media_container(
                json!({"size": dirs.len(), "title1": "Plex Library", "Directory": dirs}),
            ))
        }),
        ("GET", ["library", "sections", key, "all"]) => needs_token(ctx, || section_all(ctx, key)),
        ("GET", ["library", "metadata", key]) => {
            needs_token(ctx, || match ctx.shared.library.items.get(*key) {
                Some(item) => ok(&media_container(json!({"size": 1, "Metadata": [item]}))),
                None => status(StatusCode::NOT_FOUND),
            })
        }
        ("GET", ["library", "metadata", key, "children"]) => needs_token(ctx, || {
            let lib = &ctx.shared.library;
            if !lib.items.contains_key(*key) {
                return status(StatusCode::NOT_FOUND);
            }
            let keys = lib.children.get(*key).cloned().unwrap_or_default();
            page_of(ctx, &keys, json!({"key": key}))
        }),
        ("GET", ["library", "onDeck"]) => needs_token(ctx, || {
            page_of(
                ctx,
                &ctx.shared.library.on_deck,
                json!({"title1": "On Deck"}),
            )
        }),
        ("GET", ["library", "recentlyAdded"]) => needs_token(ctx, || {
            let lib = &ctx.shared.library;
            let mut keys: Vec<String> = lib
                .items
                .iter()
                .filter(|(_, v)| matches!(v["type"].as_str(), Some("movie" | "episode")))
                .map(|(k, _)| k.clone())
                .collect();
            sort_keys(lib, &mut keys, "addedAt", true);
            page_of(ctx, &keys, json!({"title1": "Recently Added"}))
        }),
        ("GET", ["hubs", "search"]) => needs_token(ctx, || search(ctx)),
        ("GET", ["library", "parts", ..]) => needs_token(ctx, || part(ctx)),
        ("GET", ["photo", ":", "transcode"]) => needs_token(ctx, || {
            for p in ["width", "height", "url"] {
                if ctx.param(p).is_none() {
                    ctx.violation(&format!("photo transcoder without `{p}`"));
                    return status(StatusCode::BAD_REQUEST);
                }
            }
            ([(header::CONTENT_TYPE, "image/png")], PNG).into_response()
        }),
        ("GET", [":", "timeline"]) => needs_token(ctx, || timeline(ctx)),
        ("GET" | "PUT", [":", "scrobble"]) => needs_token(ctx, || {
            let Some(key) = ctx.param("key") else {
                ctx.violation("scrobble without `key`");
                return status(StatusCode::BAD_REQUEST);
            };
            if !ctx.shared.library.items.contains_key(key) {
                return status(StatusCode::NOT_FOUND);
            }
            ctx.shared.lock().scrobbles.push(key.to_owned());
            status(StatusCode::OK)
        }),
        _ => {
            ctx.violation("no such endpoint in the fake (an endpoint Plex does not have?)");
            status(StatusCode::NOT_FOUND)
        }
    }
}

/// Plex answers 401 without a valid token. It is a violation only while the token is valid:
/// the client then simply forgot to send it.
fn needs_token(ctx: &Ctx<'_>, f: impl FnOnce() -> Response) -> Response {
    if ctx.token_ok {
        return f();
    }
    let present = ctx.headers.contains_key("x-plex-token");
    if !present {
        ctx.violation("no X-Plex-Token header");
    }
    status(StatusCode::UNAUTHORIZED)
}

fn create_pin(ctx: &Ctx<'_>) -> Response {
    let mut state = ctx.shared.lock();
    let id = state.next_pin;
    state.next_pin += 1;
    state.pins.insert(
        id,
        Pin {
            client: ctx.client.clone().unwrap_or_default(),
            polls: 0,
        },
    );
    drop(state);
    let mut pin: Value =
        serde_json::from_str(fixture!("myplex/api/v2/pins_new.json")).expect("fixture");
    pin["id"] = json!(id);
    pin["code"] = json!(format!("L{:03}", id % 1000));
    pin["clientIdentifier"] = json!(ctx.client);
    (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        pin.to_string(),
    )
        .into_response()
}

fn poll_pin(ctx: &Ctx<'_>, id: &str) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return status(StatusCode::NOT_FOUND);
    };
    let mut state = ctx.shared.lock();
    let token_valid = state.token_valid;
    let Some(pin) = state.pins.get_mut(&id) else {
        return status(StatusCode::NOT_FOUND);
    };
    if Some(&pin.client) != ctx.client.as_ref() {
        drop(state);
        ctx.violation("a PIN polled by a client identifier that did not create it");
        return status(StatusCode::NOT_FOUND);
    }
    pin.polls += 1;
    let linked = pin.polls > ctx.shared.options.polls_to_link;
    drop(state);
    let mut pin: Value =
        serde_json::from_str(fixture!("myplex/api/v2/pins_linked.json")).expect("fixture");
    pin["id"] = json!(id);
    pin["code"] = json!(format!("L{:03}", id % 1000));
    pin["clientIdentifier"] = json!(ctx.client);
    pin["authToken"] = if linked && token_valid {
        json!(PLEX_TOKEN)
    } else {
        Value::Null
    };
    ok(&pin)
}

fn resources(ctx: &Ctx<'_>) -> Response {
    let mut list: Vec<Value> = serde_json::from_str(RESOURCES_FIXTURE).expect("fixture");
    let connections: Vec<Value> = ctx
        .shared
        .lock()
        .connections
        .iter()
        .map(|(uri, local, relay)| {
            let url = uri
                .trim_start_matches("http://")
                .trim_start_matches("https://");
            let (address, port) = url.rsplit_once(':').unwrap_or((url, "32400"));
            json!({
                "protocol": if uri.starts_with("https") { "https" } else { "http" },
                "address": address, "port": port.parse::<u16>().unwrap_or(32400),
                "uri": uri, "local": local, "relay": relay, "IPv6": false,
            })
        })
        .collect();
    let server = &mut list[0];
    server["name"] = json!(SERVER_NAME);
    server["clientIdentifier"] = json!(MACHINE_ID);
    server["productVersion"] = json!(SERVER_VERSION);
    server["accessToken"] = json!(PLEX_TOKEN);
    server["connections"] = json!(connections);
    // A player of the account, which discovery must skip.
    list.push(json!({
        "name": "Living Room TV", "product": "Plex for Android (TV)", "productVersion": "10.0",
        "clientIdentifier": "tv-1", "provides": "player,client", "owned": true,
        "accessToken": PLEX_TOKEN,
        "connections": [{"protocol": "http", "address": "127.0.0.1", "port": 1, "uri": "http://127.0.0.1:1", "local": true, "relay": false, "IPv6": false}],
    }));
    ok(&json!(list))
}

fn sort_keys(lib: &Library, keys: &mut [String], field: &str, desc: bool) {
    let value = |k: &String| {
        lib.items
            .get(k)
            .map(|v| v[field].clone())
            .unwrap_or_default()
    };
    keys.sort_by(|a, b| {
        let (va, vb) = (value(a), value(b));
        let ord = match (&va, &vb) {
            (Value::Number(x), Value::Number(y)) => x
                .as_f64()
                .unwrap_or(0.0)
                .total_cmp(&y.as_f64().unwrap_or(0.0)),
            (Value::String(x), Value::String(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
            (Value::Null, Value::Null) => std::cmp::Ordering::Equal,
            (Value::Null, _) => std::cmp::Ordering::Less,
            (_, Value::Null) => std::cmp::Ordering::Greater,
            _ => std::cmp::Ordering::Equal,
        };
        // Ties keep the rating key order, so pages never overlap.
        let ord = if desc { ord.reverse() } else { ord };
        ord.then_with(|| a.cmp(b))
    });
}

fn section_all(ctx: &Ctx<'_>, key: &str) -> Response {
    let lib = &ctx.shared.library;
    let Some(keys) = lib.section_items.get(key) else {
        return status(StatusCode::NOT_FOUND);
    };
    let mut keys = keys.clone();
    if let Some(sort) = ctx.param("sort") {
        let (field, dir) = sort.split_once(':').unwrap_or((sort, "asc"));
        let known = [
            "addedAt",
            "titleSort",
            "title",
            "year",
            "rating",
            "audienceRating",
            "originallyAvailableAt",
        ];
        if !known.contains(&field) || !matches!(dir, "asc" | "desc") {
            ctx.violation(&format!("unknown sort `{sort}`"));
            return status(StatusCode::BAD_REQUEST);
        }
        // Items without a titleSort sort by their title, as Plex does.
        let field = if field == "titleSort" { "title" } else { field };
        sort_keys(lib, &mut keys, field, dir == "desc");
    }
    let title = lib
        .sections
        .iter()
        .find(|s| s["key"] == key)
        .map(|s| s["title"].clone())
        .unwrap_or_default();
    page_of(
        ctx,
        &keys,
        json!({"librarySectionID": key.parse::<u64>().unwrap_or(0), "title1": title}),
    )
}

/// A paged container of items, honouring and checking `X-Plex-Container-*`.
fn page_of(ctx: &Ctx<'_>, keys: &[String], mut fields: Value) -> Response {
    let start = ctx.paging("X-Plex-Container-Start").unwrap_or(0) as usize;
    let size = ctx.paging("X-Plex-Container-Size");
    let max = u64::from(ctx.shared.options.max_page);
    if size.is_some_and(|s| s > max) {
        ctx.violation(&format!(
            "X-Plex-Container-Size {} is over {max}",
            size.unwrap_or_default()
        ));
    }
    let size = size.map_or(keys.len(), |s| s as usize);
    let lib = &ctx.shared.library;
    let items: Vec<&Value> = keys
        .iter()
        .skip(start)
        .take(size)
        .filter_map(|k| lib.items.get(k))
        .collect();
    fields["size"] = json!(items.len());
    fields["totalSize"] = json!(keys.len());
    fields["offset"] = json!(start);
    fields["Metadata"] = json!(items);
    ok(&media_container(fields))
}

fn search(ctx: &Ctx<'_>) -> Response {
    let Some(query) = ctx.param("query").map(str::to_lowercase) else {
        ctx.violation("search without `query`");
        return status(StatusCode::BAD_REQUEST);
    };
    let limit = ctx
        .param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(10);
    let lib = &ctx.shared.library;
    let mut keys: Vec<&String> = lib
        .items
        .iter()
        .filter(|(_, v)| {
            v["title"]
                .as_str()
                .is_some_and(|t| t.to_lowercase().contains(&query))
        })
        .map(|(k, _)| k)
        .collect();
    keys.sort();
    let mut hubs = Vec::new();
    for (kind, title) in [
        ("movie", "Movies"),
        ("show", "Shows"),
        ("season", "Seasons"),
        ("episode", "Episodes"),
        ("artist", "Artists"),
        ("album", "Albums"),
        ("track", "Tracks"),
        ("photo", "Photos"),
    ] {
        let items: Vec<&Value> = keys
            .iter()
            .filter_map(|k| lib.items.get(*k))
            .filter(|v| v["type"] == kind)
            .take(limit)
            .collect();
        if !items.is_empty() {
            hubs.push(json!({
                "title": title, "type": kind, "hubIdentifier": kind,
                "size": items.len(), "more": false, "Metadata": items,
            }));
        }
    }
    // Plex also answers people and tags as Directory entries; the client must skip them.
    if query.len() > 2 {
        hubs.push(json!({"title": "Actors", "type": "actor", "hubIdentifier": "actor", "size": 1,
            "Directory": [{"key": "/library/people/1", "tag": format!("{query} person"), "type": "tag"}]}));
    }
    ok(&media_container(json!({"size": hubs.len(), "Hub": hubs})))
}

fn timeline(ctx: &Ctx<'_>) -> Response {
    let num = |name: &str| ctx.param(name).and_then(|v| v.parse::<u64>().ok());
    let (Some(rating_key), Some(state), Some(time), Some(duration)) = (
        ctx.param("ratingKey"),
        ctx.param("state"),
        num("time"),
        num("duration"),
    ) else {
        ctx.violation("timeline without ratingKey, state, time and duration");
        return status(StatusCode::BAD_REQUEST);
    };
    if !matches!(state, "playing" | "paused" | "stopped" | "buffering") {
        ctx.violation(&format!("timeline state `{state}`"));
    }
    if ctx.param("key") != Some(&format!("/library/metadata/{rating_key}")) {
        ctx.violation("timeline `key` is not /library/metadata/{ratingKey}");
    }
    if time > duration {
        ctx.violation("timeline time past the duration");
    }
    ctx.shared.lock().timelines.push(TimelineReport {
        rating_key: rating_key.to_owned(),
        state: state.to_owned(),
        time,
        duration,
    });
    ok(&serde_json::from_str(fixture!("timeline/timeline.json")).expect("fixture"))
}

fn part(ctx: &Ctx<'_>) -> Response {
    if !ctx.shared.library.part_exists(&ctx.path) {
        return status(StatusCode::NOT_FOUND);
    }
    let Some(video) = &ctx.shared.options.video else {
        return status(StatusCode::NOT_FOUND);
    };
    let Ok(data) = std::fs::read(video) else {
        return status(StatusCode::NOT_FOUND);
    };
    let range = ctx.headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    crate::media::ranged(data, "video/mp4", range)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_are_decoded() {
        assert_eq!(
            url_pairs("query=big+buck%20bunny&url=%2Flibrary%2Fx&e="),
            [
                ("query".to_owned(), "big buck bunny".to_owned()),
                ("url".to_owned(), "/library/x".to_owned()),
                ("e".to_owned(), String::new()),
            ]
        );
    }
}
