//! A loopback media server: files from a folder over HTTP with Range requests (as a CDN
//! serves them, and as yt-dlp's generic extractor and songbird's HTTP input read them), a
//! page with no media on it, and links that are gone.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

/// Every request: its path and Range header.
type Log = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// The fake media host. Dropping it stops it.
pub struct MediaServer {
    addr: SocketAddr,
    requests: Log,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MediaServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MediaServer {
    /// Serves `dir`'s files at `/media/NAME`; `/page` is an HTML page without media; anything
    /// else is 404.
    pub async fn start(dir: PathBuf) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind media");
        let addr = listener.local_addr().expect("address");
        let requests: Log = Arc::default();
        let seen = requests.clone();
        let app =
            axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
                let dir = dir.clone();
                let seen = seen.clone();
                async move {
                    let range = headers
                        .get(header::RANGE)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    seen.lock()
                        .unwrap()
                        .push((uri.path().to_owned(), range.clone()));
                    serve(&dir, &method, uri.path(), range.as_deref())
                }
            });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            requests,
            task,
        }
    }

    /// `http://127.0.0.1:PORT/media/NAME`.
    pub fn url(&self, name: &str) -> String {
        format!("http://{}/media/{name}", self.addr)
    }

    /// Any other path on the server.
    pub fn path_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request: the path and its Range header.
    pub fn requests(&self) -> Vec<(String, Option<String>)> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(dir: &std::path::Path, method: &Method, path: &str, range: Option<&str>) -> Response {
    if path == "/page" {
        return (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!doctype html><html><head><title>Nothing here</title></head><body><p>No media on this page.</p></body></html>",
        )
            .into_response();
    }
    let Some(name) = path.strip_prefix("/media/") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if name.contains('/') || name.contains("..") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Ok(data) = std::fs::read(dir.join(name)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let kind = match name.rsplit('.').next() {
        Some("ogg" | "opus") => "audio/ogg",
        Some("mp3") => "audio/mpeg",
        Some("wav") => "audio/wav",
        Some("webm") => "audio/webm",
        Some("mp4") => "video/mp4",
        _ => "application/octet-stream",
    };
    let mut response = ranged(data, kind, range);
    if method == Method::HEAD {
        *response.body_mut() = axum::body::Body::empty();
    }
    response
}

/// `data` as `content_type`, whole or the one range asked for (206 with Content-Range; 416
/// for a range past the end), always saying ranges are accepted.
pub fn ranged(data: Vec<u8>, content_type: &str, range: Option<&str>) -> Response {
    let len = data.len();
    let Some(range) = range else {
        return (
            [
                (header::CONTENT_TYPE, content_type.to_owned()),
                (header::ACCEPT_RANGES, "bytes".to_owned()),
            ],
            data,
        )
            .into_response();
    };
    let Some((start, end)) = parse_range(range, len) else {
        return (
            StatusCode::RANGE_NOT_SATISFIABLE,
            [(header::CONTENT_RANGE, format!("bytes */{len}"))],
        )
            .into_response();
    };
    (
        StatusCode::PARTIAL_CONTENT,
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::ACCEPT_RANGES, "bytes".to_owned()),
            (header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}")),
        ],
        data[start..=end].to_vec(),
    )
        .into_response()
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` (one range, as FFmpeg asks), inclusive bounds.
fn parse_range(range: &str, len: usize) -> Option<(usize, usize)> {
    let spec = range.strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    if len == 0 {
        return None;
    }
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: usize = n.parse().ok()?;
            (len.saturating_sub(n), len - 1)
        }
        (a, "") => (a.parse().ok()?, len - 1),
        (a, b) => (a.parse().ok()?, b.parse::<usize>().ok()?.min(len - 1)),
    };
    (start <= end && start < len).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges_are_read_as_http_says() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=50-500", 100), Some((50, 99)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
    }
}
