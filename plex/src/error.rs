//! Errors a person can act on. None of them carries the token: URLs are built without it (it
//! travels in a header), and reqwest's own errors are reduced to their causes with the URL
//! taken out and replaced by ours.

use std::fmt;

/// One URL that was tried and why it did not work, for "not reachable at ..." messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub url: String,
    pub reason: String,
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.url, self.reason)
    }
}

fn list(tried: &[Attempt]) -> String {
    if tried.is_empty() {
        return "any URL (the account lists no connections for its server)".to_owned();
    }
    tried
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No token at all (empty): the account was never linked.
    #[error("no Plex token is set: link the Plex account first")]
    NoToken,
    /// 401: plex.tv or the server no longer accepts the token.
    #[error(
        "Plex refused the token ({url} answered 401 Unauthorized): it was revoked, or the \
         account signed out this device; link the Plex account again"
    )]
    TokenRevoked { url: String },
    /// Every URL tried failed to connect or time out.
    #[error("the Plex server is not reachable at {}", list(.tried))]
    Unreachable { tried: Vec<Attempt> },
    /// The TLS handshake failed (certificate not trusted, wrong name, not TLS at all).
    #[error(
        "TLS failed for {url}: {reason} (a *.plex.direct address needs DNS that resolves it: \
         some routers block it as DNS rebinding; otherwise use the server's http:// address \
         on the local network)"
    )]
    Tls { url: String, reason: String },
    /// The account has no Plex Media Server among its resources.
    #[error("the Plex account has no Plex Media Server (plex.tv lists none for it)")]
    NoServer,
    /// 404, or an empty answer for one item.
    #[error("Plex has no {what}")]
    NotFound { what: String },
    /// Anything else: a status we do not expect, a body that is not the JSON we expect.
    #[error("unexpected response from {url}: {detail}")]
    Unexpected { url: String, detail: String },
    /// A configured URL that does not parse or is not http(s).
    #[error("`{url}` is not a usable Plex URL: {reason}")]
    InvalidUrl { url: String, reason: String },
}

impl Error {
    /// A stable name for the kind of error, for `--json` output and IPC error kinds.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NoToken => "no_token",
            Self::TokenRevoked { .. } => "token_revoked",
            Self::Unreachable { .. } => "unreachable",
            Self::Tls { .. } => "tls",
            Self::NoServer => "no_server",
            Self::NotFound { .. } => "not_found",
            Self::Unexpected { .. } => "unexpected",
            Self::InvalidUrl { .. } => "invalid_url",
        }
    }
}

/// What went wrong with one request that never got an HTTP answer.
pub(crate) enum Failure {
    Tls(String),
    Unreachable(String),
}

/// How rustls and webpki word their errors (`rustls::Error`'s `Display`).
const TLS_WORDS: &[&str] = &[
    "invalid peer certificate",
    "received corrupt message",
    "received fatal alert",
    "peer is incompatible",
    "peer misbehaved",
    "peer sent no certificates",
    "unexpected message",
    "certificate",
];

/// Sorts a reqwest error into a TLS failure or a connection failure, with its causes as text
/// and without reqwest's URL (ours, from [`crate::http::redact`], is added by the caller).
pub(crate) fn classify(e: &reqwest::Error) -> Failure {
    let mut reasons = Vec::new();
    let mut tls = false;
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(c) = cause {
        if c.downcast_ref::<rustls::Error>().is_some() {
            tls = true;
        }
        // io::Error hides its inner error from `source()`; rustls' handshake errors sit there.
        if let Some(io) = c.downcast_ref::<std::io::Error>()
            && io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
        {
            tls = true;
        }
        let text = c.to_string();
        // reqwest boxes its connector's errors, so the rustls error is not always reachable
        // by type; rustls' own wording says it is one.
        if TLS_WORDS.iter().any(|w| text.contains(w)) {
            tls = true;
        }
        if !reasons.iter().any(|r: &String| r.contains(&text)) {
            reasons.push(text);
        }
        cause = c.source();
    }
    let reason = if e.is_timeout() {
        "timed out".to_owned()
    } else if reasons.is_empty() {
        e.without_url_string()
    } else {
        // The innermost causes say the most ("Connection refused", "UnknownIssuer").
        reasons
            .iter()
            .rev()
            .take(2)
            .rev()
            .cloned()
            .collect::<Vec<_>>()
            .join(": ")
    };
    if tls {
        Failure::Tls(reason)
    } else {
        Failure::Unreachable(reason)
    }
}

trait WithoutUrl {
    fn without_url_string(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_string(&self) -> String {
        let mut text = self.to_string();
        if let Some(url) = self.url() {
            text = text.replace(url.as_str(), "<url>");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_lists_every_url_with_its_reason() {
        let e = Error::Unreachable {
            tried: vec![
                Attempt {
                    url: "http://10.0.0.2:32400".into(),
                    reason: "Connection refused".into(),
                },
                Attempt {
                    url: "https://relay.example:8443".into(),
                    reason: "timed out".into(),
                },
            ],
        };
        assert_eq!(
            e.to_string(),
            "the Plex server is not reachable at http://10.0.0.2:32400 (Connection refused), \
             https://relay.example:8443 (timed out)"
        );
        assert_eq!(e.kind(), "unreachable");
    }
}
