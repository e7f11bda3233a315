//! The one reqwest client and what every request carries.

use std::sync::Arc;
use std::time::Duration;

use lounge_ipc::Secret;
use reqwest::header::{ACCEPT, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, RequestBuilder, StatusCode, Url};
use serde::de::DeserializeOwned;

use crate::error::{Attempt, Error, Failure, classify};

/// Who we are to Plex. Plex lists each device under its client identifier (Settings →
/// Authorized Devices), so it must stay the same for one install: the caller generates it once
/// and keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    pub identifier: String,
    pub product: String,
    pub version: String,
    pub platform: String,
    pub device: String,
    pub device_name: String,
}

impl ClientInfo {
    /// `identifier` is the install's stable id; the rest describes this build and OS.
    pub fn new(identifier: impl Into<String>, product: &str, version: &str) -> Self {
        let platform = match std::env::consts::OS {
            "linux" => "Linux",
            "windows" => "Windows",
            "macos" => "macOS",
            "freebsd" => "FreeBSD",
            other => other,
        };
        Self {
            identifier: identifier.into(),
            product: product.to_owned(),
            version: version.to_owned(),
            platform: platform.to_owned(),
            device: platform.to_owned(),
            device_name: product.to_owned(),
        }
    }

    /// The `X-Plex-*` headers every request carries, plus `Accept: application/json` (Plex
    /// answers XML otherwise).
    pub fn headers(&self) -> Result<HeaderMap, Error> {
        let mut map = HeaderMap::new();
        map.insert(ACCEPT, HeaderValue::from_static("application/json"));
        for (name, value) in [
            ("x-plex-client-identifier", &self.identifier),
            ("x-plex-product", &self.product),
            ("x-plex-version", &self.version),
            ("x-plex-platform", &self.platform),
            ("x-plex-device", &self.device),
            ("x-plex-device-name", &self.device_name),
        ] {
            let value = HeaderValue::from_str(value).map_err(|_| Error::InvalidUrl {
                url: value.clone(),
                reason: format!("{name} must be visible ASCII"),
            })?;
            map.insert(HeaderName::from_static(name), value);
        }
        Ok(map)
    }
}

/// Timeouts; tests shorten them.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// TCP + TLS connect.
    pub connect: Duration,
    /// A whole ordinary request.
    pub request: Duration,
    /// One `/identity` check while choosing a server connection: a dead address must not hold
    /// up the next one for long.
    pub probe: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(30),
            probe: Duration::from_secs(4),
        }
    }
}

/// The shared HTTP client: cheap to clone, one connection pool.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    pub(crate) info: Arc<ClientInfo>,
    pub(crate) timeouts: Timeouts,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("client", &self.info.identifier)
            .finish_non_exhaustive()
    }
}

/// The token as a header value marked sensitive, so reqwest's and hyper's `Debug` of the
/// request hides it too.
pub(crate) fn token_header(token: &Secret) -> Result<HeaderValue, Error> {
    if token.is_empty() {
        return Err(Error::NoToken);
    }
    let mut value =
        HeaderValue::from_str(token.expose().trim()).map_err(|_| Error::Unexpected {
            url: "the token".to_owned(),
            detail: "the stored Plex token has characters a header cannot carry; link the account \
                 again"
                .to_owned(),
        })?;
    value.set_sensitive(true);
    Ok(value)
}

/// A URL as it may be shown: without credentials or any `X-Plex-Token` parameter (we never
/// put one there, but a URL handed to us might carry one).
pub fn redact(url: &Url) -> String {
    let mut url = url.clone();
    let _ = url.set_password(None);
    let _ = url.set_username("");
    if url.query().is_some() {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("x-plex-token"))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    url.to_string()
}

/// A configured URL as it may be shown in an error, even when it does not parse.
fn shown(raw: &str) -> String {
    if let Ok(url) = Url::parse(raw.trim()) {
        return redact(&url);
    }
    let no_query = raw.trim().split(['?', '#']).next().unwrap_or_default();
    match no_query.rsplit_once('@') {
        Some((_, host)) => format!("…@{host}"),
        None => no_query.to_owned(),
    }
}

/// Parses a configured base URL (`http(s)://host[:port][/prefix]`).
pub fn parse_base(raw: &str) -> Result<Url, Error> {
    let invalid = |reason: &str| Error::InvalidUrl {
        url: shown(raw),
        reason: reason.to_owned(),
    };
    let mut url = Url::parse(raw.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("it must start with http:// or https://"));
    }
    if url.host_str().is_none() {
        return Err(invalid("it has no host"));
    }
    if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "give the server address only (no query, no user or token in it)",
        ));
    }
    // Joining relative paths keeps a prefix only when the base ends with a slash.
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

impl Http {
    pub fn new(info: ClientInfo, timeouts: Timeouts) -> Result<Self, Error> {
        let client = reqwest::Client::builder()
            .default_headers(info.headers()?)
            .user_agent(format!("{}/{}", info.product, info.version))
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.request)
            // Plex's API does not redirect; following one would hand the token header to
            // wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Unexpected {
                url: String::new(),
                detail: format!("the HTTP client could not start: {e}"),
            })?;
        Ok(Self {
            client,
            info: Arc::new(info),
            timeouts,
        })
    }

    pub fn info(&self) -> &ClientInfo {
        &self.info
    }

    pub(crate) fn request(
        &self,
        method: Method,
        url: Url,
        token: Option<&Secret>,
    ) -> Result<RequestBuilder, Error> {
        let mut builder = self.client.request(method, url);
        if let Some(token) = token {
            builder = builder.header("x-plex-token", token_header(token)?);
        }
        Ok(builder)
    }

    /// Sends and maps every failure to an [`Error`]; `what` names the item for a 404.
    pub(crate) async fn send(
        &self,
        builder: RequestBuilder,
        what: Option<&str>,
    ) -> Result<reqwest::Response, Error> {
        let request = builder.build().map_err(|e| Error::Unexpected {
            url: e.url().map(redact).unwrap_or_default(),
            detail: "the request could not be built".to_owned(),
        })?;
        let url = redact(request.url());
        let response = match self.client.execute(request).await {
            Ok(r) => r,
            Err(e) => {
                return Err(match classify(&e) {
                    Failure::Tls(reason) => Error::Tls { url, reason },
                    Failure::Unreachable(reason) => Error::Unreachable {
                        tried: vec![Attempt { url, reason }],
                    },
                });
            }
        };
        match response.status() {
            s if s.is_success() => Ok(response),
            StatusCode::UNAUTHORIZED => Err(Error::TokenRevoked { url }),
            StatusCode::NOT_FOUND if what.is_some() => Err(Error::NotFound {
                what: what.unwrap_or_default().to_owned(),
            }),
            s => Err(Error::Unexpected {
                url,
                detail: format!("HTTP {s}"),
            }),
        }
    }

    pub(crate) async fn json<T: DeserializeOwned>(
        &self,
        builder: RequestBuilder,
        what: Option<&str>,
    ) -> Result<T, Error> {
        let response = self.send(builder, what).await?;
        let url = redact(response.url());
        let bytes = response.bytes().await.map_err(|e| Error::Unexpected {
            url: url.clone(),
            detail: format!("the answer broke off: {}", e.without_url()),
        })?;
        // serde_json's messages name a field and a position, never the text around it, so a
        // body that holds a token cannot leak through here.
        serde_json::from_slice(&bytes).map_err(|e| Error::Unexpected {
            url,
            detail: format!("not the JSON Plex sends: {e}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_header_is_set_from_the_client_info() {
        let info = ClientInfo::new("abc123", "Lounge", "0.1.0");
        let h = info.headers().unwrap();
        assert_eq!(h["x-plex-client-identifier"], "abc123");
        assert_eq!(h["x-plex-product"], "Lounge");
        assert_eq!(h["x-plex-version"], "0.1.0");
        assert!(!h["x-plex-platform"].is_empty());
        assert!(!h["x-plex-device"].is_empty());
        assert_eq!(h["accept"], "application/json");
    }

    #[test]
    fn redact_drops_tokens_and_credentials() {
        let url = Url::parse("https://u:p@h.example:32400/a?X-Plex-Token=s3cret&b=1").unwrap();
        let shown = redact(&url);
        assert!(
            !shown.contains("s3cret") && !shown.contains("u:p"),
            "{shown}"
        );
        assert!(shown.contains("b=1"), "{shown}");
        let only = Url::parse("http://h/a?x-plex-token=s3cret").unwrap();
        assert_eq!(redact(&only), "http://h/a");
    }

    #[test]
    fn base_urls_are_checked_and_end_with_a_slash() {
        assert_eq!(
            parse_base("http://127.0.0.1:32400").unwrap().as_str(),
            "http://127.0.0.1:32400/"
        );
        assert_eq!(
            parse_base("https://h.example/plex").unwrap().as_str(),
            "https://h.example/plex/"
        );
        for bad in [
            "ftp://h",
            "127.0.0.1:32400",
            "http://h/?X-Plex-Token=x",
            "http://u:p@h/",
            "http//u:p@h/?X-Plex-Token=x",
        ] {
            let e = parse_base(bad).unwrap_err();
            assert_eq!(e.kind(), "invalid_url", "{bad}");
            let text = e.to_string();
            assert!(!text.contains("Token=x") && !text.contains("u:p"), "{text}");
        }
    }

    #[test]
    fn an_empty_token_is_no_token() {
        assert!(matches!(
            token_header(&Secret::new("  ")),
            Err(Error::NoToken)
        ));
        assert!(token_header(&Secret::new("abc")).unwrap().is_sensitive());
    }
}
