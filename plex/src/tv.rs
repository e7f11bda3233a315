//! plex.tv: linking the account with a PIN, the account, and its servers.

use lounge_ipc::Secret;
use reqwest::{Method, Url};

use crate::error::{Attempt, Error};
use crate::http::{Http, parse_base};
use crate::model::{Connection, Pin, Resource, User};
use crate::server::Server;

/// Where the owner types the PIN's code.
pub const LINK_PAGE: &str = "https://plex.tv/link";

/// plex.tv (or a fake of it at another base URL).
#[derive(Debug, Clone)]
pub struct PlexTv {
    http: Http,
    base: Url,
}

impl PlexTv {
    pub fn new(http: &Http, base: &str) -> Result<Self, Error> {
        Ok(Self {
            http: http.clone(),
            base: parse_base(base)?,
        })
    }

    fn url(&self, path: &str) -> Url {
        self.base
            .join(path.trim_start_matches('/'))
            .expect("a relative path joins onto a base URL")
    }

    /// Starts the link flow: the owner enters the PIN's 4-character `code` at [`LINK_PAGE`].
    pub async fn create_pin(&self) -> Result<Pin, Error> {
        // Not `strong=true`: that makes the long code of the app.plex.tv/auth form, which
        // plex.tv/link does not take.
        let req = self
            .http
            .request(Method::POST, self.url("api/v2/pins"), None)?;
        self.http.json(req, None).await
    }

    /// Polls a PIN; its `auth_token` is set once the owner linked it. plex.tv answers only
    /// the client identifier that created it.
    pub async fn check_pin(&self, id: u64) -> Result<Pin, Error> {
        let req = self
            .http
            .request(Method::GET, self.url(&format!("api/v2/pins/{id}")), None)?;
        self.http.json(req, Some("such PIN (it expired)")).await
    }

    /// The account the token belongs to; a revoked token is [`Error::TokenRevoked`].
    pub async fn user(&self, token: &Secret) -> Result<User, Error> {
        let req = self
            .http
            .request(Method::GET, self.url("api/v2/user"), Some(token))?;
        self.http.json(req, None).await
    }

    /// The account's devices with every connection, HTTPS and relay included.
    pub async fn resources(&self, token: &Secret) -> Result<Vec<Resource>, Error> {
        let mut url = self.url("api/v2/resources");
        url.query_pairs_mut()
            .append_pair("includeHttps", "1")
            .append_pair("includeRelay", "1");
        let req = self.http.request(Method::GET, url, Some(token))?;
        self.http.json(req, None).await
    }

    /// Finds the account's server and the best of its connections that answers: every
    /// owned server before shared ones, and for each its local connections, then remote,
    /// then relay (see [`connection_order`]), all checked at once with `/identity`, and the
    /// answer must come from the server plex.tv listed. `*.plex.direct` addresses carry certificates that
    /// verify against the ordinary web roots, so nothing is relaxed for them.
    pub async fn discover(&self, token: &Secret) -> Result<Server, Error> {
        let resources = self.resources(token).await?;
        let mut servers: Vec<&Resource> = resources.iter().filter(|r| r.is_server()).collect();
        if servers.is_empty() {
            return Err(Error::NoServer);
        }
        servers.sort_by_key(|r| !r.owned);
        let mut tried = Vec::new();
        for resource in servers {
            let server_token = resource
                .access_token
                .clone()
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| token.clone());
            let mut candidates = Vec::new();
            for connection in connection_order(&resource.connections) {
                match Server::new(&self.http, &connection.uri, server_token.clone()) {
                    Ok(s) => candidates.push((connection, s)),
                    Err(e) => tried.push(Attempt {
                        url: connection.uri.clone(),
                        reason: e.to_string(),
                    }),
                }
            }
            // All at once, as Plex's own apps do: a dead LAN address from outside the house
            // would otherwise hold up every command by a probe timeout. The order above still
            // decides which of those that answer is used.
            let answers =
                futures::future::join_all(candidates.iter().map(|(_, s)| s.probe())).await;
            for ((connection, server), answer) in candidates.into_iter().zip(answers) {
                match answer {
                    Ok(identity) if identity.machine_identifier == resource.client_identifier => {
                        tracing::info!(
                            server = %resource.name,
                            url = %server.base_shown(),
                            local = connection.local,
                            relay = connection.relay,
                            "Plex server found"
                        );
                        return Ok(server);
                    }
                    Ok(identity) => tried.push(Attempt {
                        url: server.base_shown(),
                        reason: format!(
                            "another server answered ({}, not {})",
                            identity.machine_identifier, resource.client_identifier
                        ),
                    }),
                    Err(e) => tried.push(Attempt {
                        url: server.base_shown(),
                        reason: attempt_reason(&e),
                    }),
                }
            }
        }
        Err(Error::Unreachable { tried })
    }
}

/// The reason one connection failed, short enough to list several.
fn attempt_reason(e: &Error) -> String {
    match e {
        Error::Unreachable { tried } if tried.len() == 1 => tried[0].reason.clone(),
        Error::Tls { reason, .. } => format!("TLS: {reason}"),
        other => other.to_string(),
    }
}

/// Local connections first (no round trip through the internet), then remote ones, then
/// Plex's relay (bandwidth-capped, the last resort). plex.tv's order is kept within each
/// group. A URL that parses with neither `http` nor `https` is left out.
pub fn connection_order(connections: &[Connection]) -> Vec<&Connection> {
    let rank = |c: &Connection| match (c.relay, c.local) {
        (false, true) => 0,
        (false, false) => 1,
        (true, _) => 2,
    };
    let mut ordered: Vec<&Connection> = connections
        .iter()
        .filter(|c| Url::parse(&c.uri).is_ok_and(|u| matches!(u.scheme(), "http" | "https")))
        .collect();
    ordered.sort_by_key(|c| rank(c));
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(uri: &str, local: bool, relay: bool) -> Connection {
        Connection {
            protocol: "https".into(),
            address: String::new(),
            port: 0,
            uri: uri.into(),
            local,
            relay,
            ipv6: false,
        }
    }

    #[test]
    fn local_then_remote_then_relay_keeping_plex_order_within_each() {
        let cs = [
            conn("https://relay-1.plex.direct:8443", false, true),
            conn("https://remote-1.plex.direct:443", false, false),
            conn("https://local-1.plex.direct:32400", true, false),
            conn("https://remote-2.plex.direct:443", false, false),
            conn("https://local-2.plex.direct:32400", true, false),
            conn("not a url", true, false),
        ];
        let order: Vec<&str> = connection_order(&cs)
            .iter()
            .map(|c| c.uri.as_str())
            .collect();
        assert_eq!(
            order,
            [
                "https://local-1.plex.direct:32400",
                "https://local-2.plex.direct:32400",
                "https://remote-1.plex.direct:443",
                "https://remote-2.plex.direct:443",
                "https://relay-1.plex.direct:8443",
            ]
        );
    }
}
