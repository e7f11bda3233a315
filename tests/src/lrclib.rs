//! A loopback fake of LRCLIB (lrclib.net): `/api/get` by artist, title and length, and
//! `/api/search`, with two songs. Like LRCLIB it answers 404 `TrackNotFound` for a miss, and it
//! records a violation for a request without a User-Agent (LRCLIB asks clients to name
//! themselves) or `/api/get` without both names.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;

#[derive(Default)]
struct Shared {
    requests: Vec<String>,
    violations: Vec<String>,
}

pub struct FakeLrclib {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeLrclib {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Plain lyrics of this many lines, so a page break is needed.
pub const LONG_LINES: usize = 300;

fn songs() -> Vec<Value> {
    let long: Vec<String> = (1..=LONG_LINES)
        .map(|i| format!("Verse line {i}"))
        .collect();
    vec![
        json!({
            "id": 1, "trackName": "Bohemian Rhapsody", "artistName": "Queen",
            "albumName": "A Night at the Opera", "duration": 354.0, "instrumental": false,
            "plainLyrics": "Is this the real life?\nIs this just fantasy?",
            "syncedLyrics": "[00:00.50] Is this the real life?\n[00:04.00] Is this just fantasy?",
        }),
        json!({
            "id": 2, "trackName": "Long Song", "artistName": "The Testers",
            "albumName": "Pages", "duration": 600.0, "instrumental": false,
            "plainLyrics": long.join("\n"), "syncedLyrics": null,
        }),
        json!({
            "id": 3, "trackName": "Quiet Piece", "artistName": "Nobody",
            "albumName": null, "duration": 100.0, "instrumental": true,
            "plainLyrics": null, "syncedLyrics": null,
        }),
    ]
}

fn query(uri: &Uri) -> Vec<(String, String)> {
    crate::plex::url_pairs(uri.query().unwrap_or_default())
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"code": 404, "name": "TrackNotFound", "message": "Failed to find specified track"})
            .to_string(),
    )
        .into_response()
}

fn handle(shared: &Mutex<Shared>, uri: &Uri, headers: &HeaderMap) -> Response {
    let mut s = shared.lock().unwrap();
    s.requests.push(uri.to_string());
    if headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_none_or(str::is_empty)
    {
        s.violations.push(format!("{uri} without a User-Agent"));
    }
    let q = query(uri);
    let get = |k: &str| {
        q.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.to_lowercase())
    };
    match uri.path() {
        "/api/get" => {
            let (Some(artist), Some(track)) = (get("artist_name"), get("track_name")) else {
                s.violations
                    .push(format!("{uri} without artist_name and track_name"));
                return StatusCode::BAD_REQUEST.into_response();
            };
            let duration: Option<f64> = get("duration").and_then(|d| d.parse().ok());
            songs()
                .into_iter()
                .find(|song| {
                    song["artistName"].as_str().unwrap().to_lowercase() == artist
                        && song["trackName"].as_str().unwrap().to_lowercase() == track
                        // LRCLIB matches the length within two seconds.
                        && duration.is_none_or(|d| (song["duration"].as_f64().unwrap() - d).abs() <= 2.0)
                })
                .map_or_else(not_found, |song| {
                    ([(header::CONTENT_TYPE, "application/json")], song.to_string()).into_response()
                })
        }
        "/api/search" => {
            let words = get("q").unwrap_or_default();
            let found: Vec<Value> = songs()
                .into_iter()
                .filter(|song| {
                    let hay =
                        format!("{} {}", song["artistName"], song["trackName"]).to_lowercase();
                    words.split_whitespace().all(|w| hay.contains(w))
                })
                .collect();
            (
                [(header::CONTENT_TYPE, "application/json")],
                Value::Array(found).to_string(),
            )
                .into_response()
        }
        _ => not_found(),
    }
}

impl FakeLrclib {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind lrclib");
        let addr = listener.local_addr().expect("address");
        let shared: Arc<Mutex<Shared>> = Arc::default();
        let state = shared.clone();
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
            let state = state.clone();
            async move { handle(&state, &uri, &headers) }
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, shared, task }
    }

    /// The base URL, as `music.lrclib_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<String> {
        self.shared.lock().unwrap().requests.clone()
    }

    pub fn violations(&self) -> Vec<String> {
        self.shared.lock().unwrap().violations.clone()
    }
}
