//! A loopback fake of GIPHY's API: `GET /v1/gifs/search`, answered from the recorded search
//! in `tests/fixtures/giphy/gifs.json` (GIPHY's own SDK mock data).
//!
//! Like GIPHY it answers 401 for a missing or wrong `api_key` (the body GIPHY sends for one),
//! and it records a violation for a search GIPHY would refuse or we promised not to make: no
//! `q` or one over GIPHY's 50 characters, `limit` over 50, a `rating` other than g, pg, pg-13
//! and r, a `lang` that isn't a two-letter code, or any other endpoint. Tests can make the
//! next answers fail with any status (`fail_next`), and count the calls that reached it.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// The key the fake accepts. Distinctive, so a leak is easy to find in output.
pub const GIPHY_KEY: &str = "gphKEY-fake-4Rt8Wq2Zx6Lm";
/// A search GIPHY finds nothing for.
pub const NOTHING_QUERY: &str = "nothing matches this";
/// GIPHY's longest `q`.
pub const MAX_QUERY_CHARS: usize = 50;
/// GIPHY's largest `limit` for a beta key.
pub const MAX_LIMIT: u64 = 50;
pub const RATINGS: &[&str] = &["g", "pg", "pg-13", "r"];

/// The recorded answer to a search.
pub const SEARCH_FIXTURE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/giphy/gifs.json"
));

/// Every image URL in the recorded search (original and downsized renditions): what an embed
/// made from it may show.
pub fn fixture_images() -> Vec<String> {
    let answer: Value = serde_json::from_str(SEARCH_FIXTURE).expect("fixture is JSON");
    answer["data"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|gif| {
            ["original", "downsized"]
                .into_iter()
                .filter_map(|r| gif["images"][r]["url"].as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The value of `name` in a recorded request's query (`/v1/gifs/search?q=...`), decoded.
pub fn param(request: &str, name: &str) -> Option<String> {
    let query = request.split_once('?').map_or("", |(_, q)| q);
    crate::plex::url_pairs(query)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

#[derive(Default)]
struct State {
    requests: Vec<String>,
    violations: Vec<String>,
    calls: usize,
    fail: VecDeque<u16>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

pub struct FakeGiphy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGiphy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeGiphy {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind giphy");
        let addr = listener.local_addr().expect("address");
        let state: Arc<Mutex<State>> = Arc::default();
        let shared = state.clone();
        let app = axum::Router::new().fallback(move |method: Method, uri: Uri| {
            let shared = shared.clone();
            async move { handle(&shared, &method, &uri) }
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, state, task }
    }

    /// The API base, as `giphy.api_url`.
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Searches that reached the fake, answered or refused.
    pub fn calls(&self) -> usize {
        lock(&self.state).calls
    }

    /// Every request: its path and query, as sent (the key included).
    pub fn requests(&self) -> Vec<String> {
        lock(&self.state).requests.clone()
    }

    pub fn violations(&self) -> Vec<String> {
        lock(&self.state).violations.clone()
    }

    /// The next search with the right key is answered with `status` (401, 429, 500...) and
    /// GIPHY's body for it; calls queue up.
    pub fn fail_next(&self, status: u16) {
        lock(&self.state).fail.push_back(status);
    }
}

fn json_answer(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// GIPHY's envelope for an answer without GIFs.
fn meta(status: u16, msg: &str) -> Value {
    json!({ "data": [], "meta": { "status": status, "msg": msg, "response_id": "" } })
}

/// What GIPHY sends for `status`, where it was seen; other bodies are the envelope with the
/// status's reason.
// 401: projectdiscovery/nuclei-templates pull request 6112 (2022); 429: Giphy/GiphyAPI
// issue 185 (a bare message, no envelope).
fn failure(status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match status {
        401 => meta(401, "Unauthorized"),
        429 => json!({ "message": "API rate limit exceeded" }),
        _ => meta(status, code.canonical_reason().unwrap_or("Error")),
    };
    json_answer(code, &body)
}

fn handle(state: &Mutex<State>, method: &Method, uri: &Uri) -> Response {
    let mut s = lock(state);
    s.requests.push(
        uri.path_and_query()
            .map_or_else(|| uri.path().to_owned(), ToString::to_string),
    );
    if method != Method::GET || uri.path() != "/v1/gifs/search" {
        s.violations.push(format!(
            "{method} {}: no such endpoint in the fake",
            uri.path()
        ));
        return json_answer(StatusCode::NOT_FOUND, &meta(404, "Not Found"));
    }
    s.calls += 1;
    let query = crate::plex::url_pairs(uri.query().unwrap_or_default());
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    // GIPHY checks the key before anything else.
    if get("api_key") != Some(GIPHY_KEY) {
        return failure(401);
    }
    if let Some(status) = s.fail.pop_front() {
        return failure(status);
    }
    let mut wrong = Vec::new();
    let q = get("q").unwrap_or_default();
    if q.trim().is_empty() {
        wrong.push("no `q`".to_owned());
    } else if q.chars().count() > MAX_QUERY_CHARS {
        wrong.push(format!("`q` over {MAX_QUERY_CHARS} characters: {q:?}"));
    }
    let limit = match get("limit") {
        // GIPHY's default.
        None => 25,
        Some(l) => match l.parse::<u64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                wrong.push(format!("`limit` {l:?} is not 1 to {MAX_LIMIT}"));
                MAX_LIMIT
            }
        },
    };
    if let Some(rating) = get("rating")
        && !RATINGS.contains(&rating)
    {
        wrong.push(format!("`rating` {rating:?} is not one of {RATINGS:?}"));
    }
    if let Some(lang) = get("lang")
        && !(lang.len() == 2 && lang.bytes().all(|b| b.is_ascii_lowercase()))
    {
        wrong.push(format!("`lang` {lang:?} is not a two-letter code"));
    }
    if !wrong.is_empty() {
        for w in wrong {
            s.violations.push(format!("{}: {w}", uri.path()));
        }
        return json_answer(StatusCode::BAD_REQUEST, &meta(400, "Bad Request"));
    }
    drop(s);
    let mut answer: Value = serde_json::from_str(SEARCH_FIXTURE).expect("fixture is JSON");
    let data: Vec<Value> = if q.eq_ignore_ascii_case(NOTHING_QUERY) {
        Vec::new()
    } else {
        answer["data"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect()
    };
    answer["pagination"] = json!({ "total_count": data.len(), "count": data.len(), "offset": 0 });
    answer["data"] = Value::Array(data);
    json_answer(StatusCode::OK, &answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixture_has_images_and_params_decode() {
        let images = fixture_images();
        assert!(images.len() >= 5, "{images:?}");
        assert!(images.iter().all(|u| u.starts_with("https://")));
        let request = "/v1/gifs/search?api_key=k&q=happy+cat%21&limit=25";
        assert_eq!(param(request, "q").as_deref(), Some("happy cat!"));
        assert_eq!(param(request, "rating"), None);
    }
}
