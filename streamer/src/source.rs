//! Which media a play order may open.
//!
//! The bot forwards what a Discord member typed. Without a policy any member could stream any
//! file the streamer's account can read (its own config with the tokens, the owner's documents)
//! or make FFmpeg fetch URLs from inside the owner's network. So local files must resolve,
//! symlinks and `..` included, inside one of the configured media folders, and remote URLs are
//! off unless the owner turns them on. When they are on, a URL may not lead (directly, after
//! DNS, or through a redirect) to a loopback, private or link-local address other than the
//! owner's own Plex server: see [`SourcePolicy::check_url`].

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lounge_ipc::to_bot::ErrorKind;
use lounge_ipc::to_streamer::Source;
use reqwest::Url;

/// What a play order resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    File(PathBuf),
    /// Still to be checked with [`SourcePolicy::check_url`] before FFmpeg may open it.
    Url(String),
    /// Resolved through the Plex link (`crate::plex::resolve`).
    Plex {
        rating_key: String,
    },
}

/// How many redirects a member's URL may take before it is refused.
pub const MAX_REDIRECTS: usize = 5;
/// How long the whole redirect walk may take.
const URL_CHECK_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Default)]
pub struct SourcePolicy {
    /// Canonical forms of the configured folders that exist.
    roots: Vec<PathBuf>,
    allow_urls: bool,
    /// `host:port` pairs a URL may reach even on a private address: the owner's Plex server.
    exempt: Vec<(String, u16)>,
}

pub type Refusal = (ErrorKind, String);

impl SourcePolicy {
    /// Folders that do not exist are left out (and reported by `config check`), so a missing
    /// mount refuses its files instead of failing the whole daemon.
    pub fn new(roots: &[PathBuf], allow_urls: bool) -> Self {
        Self {
            roots: roots
                .iter()
                .filter_map(|r| std::fs::canonicalize(r).ok())
                .collect(),
            allow_urls,
            exempt: Vec::new(),
        }
    }

    /// Lets URLs reach `url`'s host and port even when it is private (the configured Plex
    /// server, which is usually on the LAN or this machine).
    #[must_use]
    pub fn exempting(mut self, url: Option<&str>) -> Self {
        if let Some(url) = url.and_then(|u| Url::parse(u.trim()).ok())
            && let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default())
        {
            self.exempt.push((host.to_ascii_lowercase(), port));
        }
        self
    }

    pub fn resolve(&self, source: &Source) -> Result<Resolved, Refusal> {
        let url = match source {
            Source::Url { url } => url.trim(),
            Source::Plex { rating_key } => {
                let key = rating_key.trim();
                if key.is_empty() || key.len() > 32 || !key.bytes().all(|b| b.is_ascii_digit()) {
                    return Err((
                        ErrorKind::SourceNotFound,
                        format!("{key:?} is not a Plex rating key"),
                    ));
                }
                return Ok(Resolved::Plex {
                    rating_key: key.to_owned(),
                });
            }
            other => {
                return Err((
                    ErrorKind::InvalidRequest,
                    format!("this streamer does not know the source {other:?}"),
                ));
            }
        };
        if url.is_empty() {
            return Err((ErrorKind::SourceNotFound, "an empty source".to_owned()));
        }
        if let Some((scheme, _)) = url.split_once("://") {
            match scheme.to_ascii_lowercase().as_str() {
                "file" => {}
                "http" | "https" if self.allow_urls => return Ok(Resolved::Url(url.to_owned())),
                "http" | "https" => {
                    return Err((
                        ErrorKind::SourceNotAllowed,
                        format!(
                            "{url}: remote URLs are off on this streamer (set allow_urls = true \
                             to let members play them)"
                        ),
                    ));
                }
                other => {
                    return Err((
                        ErrorKind::UnsupportedMedia,
                        format!(
                            "{url}: the {other}:// scheme is not supported (files, http, https)"
                        ),
                    ));
                }
            }
        }
        self.resolve_file(url.strip_prefix("file://").unwrap_or(url))
            .map(Resolved::File)
    }

    /// Walks `url`'s redirects (at most [`MAX_REDIRECTS`]) and returns where it ends, refusing
    /// any hop whose host resolves to a loopback, private, link-local or otherwise internal
    /// address, unless it is an exempt `host:port`. FFmpeg then opens the final URL with its
    /// own protocol whitelist. What this cannot stop: a server that answers this walk
    /// differently from FFmpeg's request a moment later (DNS rebinding); see ARCHITECTURE.
    pub async fn check_url(&self, url: &str) -> Result<String, Refusal> {
        tokio::time::timeout(URL_CHECK_TIMEOUT, self.walk(url))
            .await
            .unwrap_or_else(|_| {
                Err((
                    ErrorKind::SourceUnavailable,
                    format!("{url}: no answer within {}s", URL_CHECK_TIMEOUT.as_secs()),
                ))
            })
    }

    async fn walk(&self, url: &str) -> Result<String, Refusal> {
        let unavailable = |why: String| (ErrorKind::SourceUnavailable, why);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| unavailable(format!("no HTTP client: {e}")))?;
        let mut at = Url::parse(url).map_err(|e| {
            (
                ErrorKind::SourceNotFound,
                format!("{url} is not a URL: {e}"),
            )
        })?;
        for _ in 0..=MAX_REDIRECTS {
            self.reachable(&at).await?;
            let answer = client
                .get(at.clone())
                .header(reqwest::header::RANGE, "bytes=0-0")
                .send()
                .await
                .map_err(|e| unavailable(format!("{}: {e}", shown(&at))))?;
            if !answer.status().is_redirection() {
                if !answer.status().is_success() {
                    return Err((
                        ErrorKind::SourceNotFound,
                        format!("{} answered {}", shown(&at), answer.status()),
                    ));
                }
                return Ok(at.to_string());
            }
            let next = answer
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| at.join(l).ok())
                .ok_or_else(|| unavailable(format!("{} redirects nowhere", shown(&at))))?;
            if !matches!(next.scheme(), "http" | "https") {
                return Err((
                    ErrorKind::SourceNotAllowed,
                    format!("{} redirects to a {}: URL", shown(&at), next.scheme()),
                ));
            }
            at = next;
        }
        Err((
            ErrorKind::SourceNotAllowed,
            format!("{url}: more than {MAX_REDIRECTS} redirects"),
        ))
    }

    /// Refuses a URL whose host is, or resolves to, an address inside the owner's network.
    async fn reachable(&self, url: &Url) -> Result<(), Refusal> {
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return Err((
                ErrorKind::SourceNotFound,
                format!("{}: no host", shown(url)),
            ));
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if self
            .exempt
            .iter()
            .any(|(h, p)| h.eq_ignore_ascii_case(host) && *p == port)
        {
            return Ok(());
        }
        let addresses: Vec<IpAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| {
                (
                    ErrorKind::SourceNotFound,
                    format!("{}: cannot resolve {host}: {e}", shown(url)),
                )
            })?
            .map(|a| a.ip())
            .collect();
        match addresses.iter().find(|ip| internal(**ip)) {
            Some(ip) => Err((
                ErrorKind::SourceNotAllowed,
                format!(
                    "{}: {host} is {ip}, an address inside the owner's network; members may \
                     only play URLs on the internet",
                    shown(url)
                ),
            )),
            None if addresses.is_empty() => Err((
                ErrorKind::SourceNotFound,
                format!("{}: {host} has no address", shown(url)),
            )),
            None => Ok(()),
        }
    }

    fn resolve_file(&self, path: &str) -> Result<PathBuf, Refusal> {
        if self.roots.is_empty() {
            return Err((
                ErrorKind::SourceNotFound,
                format!(
                    "{path}: no media folders are configured (set media_roots in the streamer's \
                     config), so no local file may be played"
                ),
            ));
        }
        let path = Path::new(path);
        // A relative name is looked up in each media folder in turn, so members can write
        // `Movies/Heat.mkv` without knowing where the library lives.
        let candidates: Vec<PathBuf> = if path.is_absolute() {
            vec![path.to_path_buf()]
        } else {
            self.roots.iter().map(|r| r.join(path)).collect()
        };
        let mut found_outside = false;
        for candidate in &candidates {
            let Ok(real) = std::fs::canonicalize(candidate) else {
                continue;
            };
            if self.roots.iter().any(|root| real.starts_with(root)) {
                return Ok(real);
            }
            found_outside = true;
        }
        // Both answers carry the same kind, so a member learns nothing about files outside.
        let why = if found_outside {
            "it is outside the media folders (media_roots)"
        } else {
            "no such file in the media folders"
        };
        Err((
            ErrorKind::SourceNotFound,
            format!("{}: {why}", path.display()),
        ))
    }
}

/// The URL without its query (which may hold a signature or token).
fn shown(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    let _ = url.set_password(None);
    url.to_string()
}

pub use lounge_ipc::net::internal;

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Source {
        Source::Url { url: s.to_owned() }
    }

    #[test]
    fn files_must_resolve_inside_a_media_folder() {
        let dir = tempfile::tempdir().unwrap();
        let media = dir.path().join("media");
        std::fs::create_dir_all(media.join("Movies")).unwrap();
        std::fs::write(media.join("Movies/heat.mkv"), b"x").unwrap();
        let secret = dir.path().join("lounge-streamer.toml");
        std::fs::write(&secret, b"ipc_secret = 'x'").unwrap();
        let policy = SourcePolicy::new(&[media.clone(), dir.path().join("missing")], false);
        let real = std::fs::canonicalize(media.join("Movies/heat.mkv")).unwrap();

        assert_eq!(
            policy.resolve(&url("Movies/heat.mkv")),
            Ok(Resolved::File(real.clone()))
        );
        let absolute = format!("file://{}", media.join("Movies/heat.mkv").display());
        assert_eq!(policy.resolve(&url(&absolute)), Ok(Resolved::File(real)));

        for escape in [
            secret.display().to_string(),
            format!("file://{}", secret.display()),
            "../lounge-streamer.toml".to_owned(),
            "Movies/../../lounge-streamer.toml".to_owned(),
        ] {
            let (kind, detail) = policy.resolve(&url(&escape)).unwrap_err();
            assert_eq!(kind, ErrorKind::SourceNotFound, "{escape}");
            assert!(detail.contains("outside"), "{escape}: {detail}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&secret, media.join("innocent.mkv")).unwrap();
            let (_, detail) = policy.resolve(&url("innocent.mkv")).unwrap_err();
            assert!(
                detail.contains("outside"),
                "a symlink out is still out: {detail}"
            );
        }
        let (kind, detail) = policy.resolve(&url("Movies/nope.mkv")).unwrap_err();
        assert_eq!(kind, ErrorKind::SourceNotFound);
        assert!(detail.contains("no such file"), "{detail}");
    }

    #[test]
    fn without_media_folders_no_file_plays() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.mkv");
        std::fs::write(&file, b"x").unwrap();
        let (kind, detail) = SourcePolicy::new(&[], true)
            .resolve(&url(file.to_str().unwrap()))
            .unwrap_err();
        assert_eq!(kind, ErrorKind::SourceNotFound);
        assert!(detail.contains("media_roots"), "{detail}");
    }

    #[test]
    fn plex_keys_are_numbers() {
        let policy = SourcePolicy::new(&[], false);
        let plex = |k: &str| Source::Plex {
            rating_key: k.to_owned(),
        };
        assert_eq!(
            policy.resolve(&plex(" 1234 ")),
            Ok(Resolved::Plex {
                rating_key: "1234".to_owned()
            })
        );
        for bad in ["", "12a", "../1", &"9".repeat(40)] {
            assert_eq!(
                policy.resolve(&plex(bad)).unwrap_err().0,
                ErrorKind::SourceNotFound,
                "{bad:?}"
            );
        }
    }

    /// A one-shot HTTP server on loopback answering each request with `answers` in turn.
    async fn answering(answers: Vec<String>) -> std::net::SocketAddr {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            for answer in answers {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        addr
    }

    fn redirect_to(location: &str) -> String {
        format!(
            "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
    }

    const OK: &str =
        "HTTP/1.1 206 Partial Content\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx";

    #[tokio::test]
    async fn urls_may_not_reach_inside_the_owners_network_except_plex() {
        let addr = answering(vec![OK.to_owned()]).await;
        let url = format!("http://{addr}/clip.mp4?sig=secret");
        let on = SourcePolicy::new(&[], true);
        let (kind, detail) = on.check_url(&url).await.unwrap_err();
        assert_eq!(kind, ErrorKind::SourceNotAllowed);
        assert!(detail.contains("inside the owner's network"), "{detail}");
        assert!(
            !detail.contains("secret"),
            "the query is not shown: {detail}"
        );
        let localhost = format!("http://localhost:{}/clip.mp4", addr.port());
        assert_eq!(
            on.check_url(&localhost).await.unwrap_err().0,
            ErrorKind::SourceNotAllowed
        );

        // The configured Plex server may be on this machine.
        let plex = on.clone().exempting(Some(&format!("http://{addr}")));
        assert_eq!(plex.check_url(&url).await, Ok(url.clone()));
    }

    #[tokio::test]
    async fn a_redirect_into_the_owners_network_is_refused_and_redirects_are_capped() {
        let inside = answering(vec![OK.to_owned()]).await;
        let target = format!("http://{inside}/admin");
        let hop = answering(vec![redirect_to(&target)]).await;
        let policy = SourcePolicy::new(&[], true).exempting(Some(&format!("http://{hop}")));
        let (kind, detail) = policy
            .check_url(&format!("http://{hop}/a"))
            .await
            .unwrap_err();
        assert_eq!(kind, ErrorKind::SourceNotAllowed, "{detail}");
        assert!(detail.contains(&inside.ip().to_string()), "{detail}");

        // A loop of redirects on an allowed host ends with a refusal, not a hang.
        let looping = answering(vec![redirect_to("/again"); MAX_REDIRECTS + 2]).await;
        let policy = SourcePolicy::new(&[], true).exempting(Some(&format!("http://{looping}")));
        let (kind, detail) = policy
            .check_url(&format!("http://{looping}/"))
            .await
            .unwrap_err();
        assert_eq!(kind, ErrorKind::SourceNotAllowed);
        assert!(detail.contains("redirects"), "{detail}");

        // And a redirect within the allowed host is followed to its end.
        let follow = answering(vec![redirect_to("/real.mp4"), OK.to_owned()]).await;
        let policy = SourcePolicy::new(&[], true).exempting(Some(&format!("http://{follow}")));
        assert_eq!(
            policy.check_url(&format!("http://{follow}/short")).await,
            Ok(format!("http://{follow}/real.mp4"))
        );
    }

    #[test]
    fn remote_urls_only_when_allowed() {
        let off = SourcePolicy::new(&[], false);
        let (kind, detail) = off.resolve(&url("https://example.com/a.mp4")).unwrap_err();
        assert_eq!(kind, ErrorKind::SourceNotAllowed);
        assert!(detail.contains("allow_urls"), "{detail}");
        let on = SourcePolicy::new(&[], true);
        assert_eq!(
            on.resolve(&url("HTTPS://example.com/a.mp4")),
            Ok(Resolved::Url("HTTPS://example.com/a.mp4".to_owned()))
        );
        for odd in ["rtmp://x/y", "concat://a|b", "gopher://x"] {
            assert_eq!(
                on.resolve(&url(odd)).unwrap_err().0,
                ErrorKind::UnsupportedMedia,
                "{odd}"
            );
        }
        assert_eq!(
            on.resolve(&url("   ")).unwrap_err().0,
            ErrorKind::SourceNotFound
        );
    }
}
