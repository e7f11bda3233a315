//! The streamer's side: accepts bot connections, checks the handshake, hands requests to the
//! streamer and pushes its events to every connected bot.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use interprocess::local_socket::tokio::Stream;
use interprocess::local_socket::traits::tokio::Listener as _;
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};
use tokio::task::{JoinHandle, JoinSet};
use tracing::{debug, info, warn};

use crate::auth::{self, Role};
use crate::frame::{self, FrameError};
use crate::to_bot::{Capabilities, ErrorKind, Event, RefuseReason, Reply, ToBot};
use crate::to_streamer::{Auth, Hello, Request, RequestId};
use crate::{PROTOCOL_VERSION, Secret, socket};

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Socket file path; on Windows a pipe path such as `\\.\pipe\lounge-streamer`.
    pub socket: PathBuf,
    pub secret: Secret,
    pub capabilities: Capabilities,
    /// A peer that connects but does not say hello within this time is dropped, so idle
    /// connections cannot pile up.
    pub handshake_timeout: Duration,
}

impl ServerConfig {
    pub fn new(socket: impl Into<PathBuf>, secret: Secret, capabilities: Capabilities) -> Self {
        Self {
            socket: socket.into(),
            secret,
            capabilities,
            handshake_timeout: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    #[error("the IPC shared secret is empty; set one in the streamer config")]
    EmptySecret,
    #[error("could not listen on {path}: {source}")]
    Bind {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Queued requests per server. Small: the streamer should keep up, and back-pressure on the
/// socket is better than an unbounded queue.
const REQUEST_QUEUE: usize = 64;
/// Events buffered per connection; a bot that falls this far behind loses the oldest progress
/// ticks (logged), not the connection.
const EVENT_QUEUE: usize = 256;

/// A running server. Dropping it stops accepting and closes every connection.
#[derive(Debug)]
pub struct Server {
    events: EventSender,
    accept: JoinHandle<()>,
    socket: PathBuf,
}

/// The stream of requests from bots, each with the [`Responder`] that answers it.
#[derive(Debug)]
pub struct Requests {
    rx: mpsc::Receiver<(Request, Responder)>,
}

impl Requests {
    /// The next request, or `None` once the server has shut down.
    pub async fn next(&mut self) -> Option<(Request, Responder)> {
        self.rx.recv().await
    }
}

impl futures::Stream for Requests {
    type Item = (Request, Responder);

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

/// Pushes events to every connected, authenticated bot. Cheap to clone.
#[derive(Debug, Clone)]
pub struct EventSender {
    tx: broadcast::Sender<Event>,
}

impl EventSender {
    /// Returns how many connections the event was queued for; zero means no bot is connected,
    /// which is normal and not an error.
    pub fn send(&self, event: Event) -> usize {
        self.tx.send(event).unwrap_or(0)
    }
}

/// Answers one request. Dropping it unanswered sends an `internal` failure, so the bot gets a
/// prompt error instead of waiting for its timeout.
#[derive(Debug)]
pub struct Responder {
    id: RequestId,
    // Unbounded so `respond` never blocks or drops a reply; the bot's own request rate bounds
    // it, since each entry answers one request the bot sent.
    out: Option<mpsc::UnboundedSender<ToBot>>,
}

impl Responder {
    pub fn id(&self) -> RequestId {
        self.id
    }

    /// Sends the reply. Returns `false` if the bot has disconnected meanwhile.
    pub fn respond(mut self, reply: Reply) -> bool {
        self.send(reply)
    }

    /// Shorthand for a [`Reply::Failed`].
    pub fn fail(self, kind: ErrorKind, detail: impl Into<String>) -> bool {
        self.respond(Reply::Failed {
            kind,
            detail: detail.into(),
        })
    }

    fn send(&mut self, reply: Reply) -> bool {
        let Some(out) = self.out.take() else {
            return false;
        };
        let delivered = out.send(ToBot::Response { id: self.id, reply }).is_ok();
        if !delivered {
            debug!(id = self.id, "reply not delivered: the bot disconnected");
        }
        delivered
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        if self.out.is_some() {
            warn!(id = self.id, "request dropped without a reply");
            self.send(Reply::Failed {
                kind: ErrorKind::Internal,
                detail: "the streamer dropped the request without replying".into(),
            });
        }
    }
}

struct Shared {
    config: ServerConfig,
    requests: mpsc::Sender<(Request, Responder)>,
    events: broadcast::Sender<Event>,
}

impl Server {
    /// Binds the socket and starts accepting. Must be called inside a tokio runtime.
    pub async fn bind(config: ServerConfig) -> Result<(Server, Requests), ServerError> {
        if config.secret.is_empty() {
            return Err(ServerError::EmptySecret);
        }
        let listener =
            socket::listen(&config.socket)
                .await
                .map_err(|source| ServerError::Bind {
                    path: config.socket.clone(),
                    source,
                })?;
        info!(socket = %config.socket.display(), "IPC server listening");
        let (requests, rx) = mpsc::channel(REQUEST_QUEUE);
        let (events, _) = broadcast::channel(EVENT_QUEUE);
        let socket = config.socket.clone();
        let shared = Arc::new(Shared {
            config,
            requests,
            events: events.clone(),
        });
        let accept = tokio::spawn(accept_loop(listener, shared));
        let server = Server {
            events: EventSender { tx: events },
            accept,
            socket,
        };
        Ok((server, Requests { rx }))
    }

    pub fn events(&self) -> EventSender {
        self.events.clone()
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Stops accepting, closes all connections and waits until the socket is released, so a
    /// new server can bind the same path straight away.
    pub async fn shutdown(mut self) {
        self.accept.abort();
        let _ = (&mut self.accept).await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn accept_loop(listener: interprocess::local_socket::tokio::Listener, shared: Arc<Shared>) {
    // Owning the connection tasks here means aborting this task aborts all of them.
    let mut connections = JoinSet::new();
    let mut next_conn = 0u64;
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(stream) => {
                    next_conn += 1;
                    connections.spawn(serve(stream, Arc::clone(&shared), next_conn));
                }
                Err(e) => {
                    warn!(error = %e, "accepting an IPC connection failed");
                    // Avoid a hot loop if accept keeps failing (e.g. out of descriptors).
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Why a connection ended: an orderly close is routine, a protocol violation is worth a warning.
enum Closed {
    Clean(String),
    Protocol(String),
}

async fn serve(stream: Stream, shared: Arc<Shared>, conn: u64) {
    let mut reader = &stream;
    let mut writer = &stream;
    // Subscribed before the handshake so an event sent while it runs reaches this bot right
    // after `ready` instead of falling in the gap.
    let mut events = shared.events.subscribe();
    match handshake(&mut reader, &mut writer, &shared.config).await {
        Ok(()) => info!(conn, "bot connected"),
        Err(reason) => {
            warn!(conn, %reason, "closing IPC connection during handshake");
            return;
        }
    }

    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<ToBot>();

    let read = async {
        loop {
            let body = match frame::read_frame(&mut reader).await {
                Ok(Some(body)) => body,
                Ok(None) => return Closed::Clean("bot closed the connection".to_owned()),
                Err(e) => return Closed::Protocol(e.to_string()),
            };
            match frame::parse::<Request>(&body) {
                Ok(request) => {
                    let responder = Responder {
                        id: request.id,
                        out: Some(out_tx.clone()),
                    };
                    if shared.requests.send((request, responder)).await.is_err() {
                        return Closed::Clean("the streamer stopped taking requests".to_owned());
                    }
                }
                Err(e) => {
                    // A well-formed frame with an id but an op we don't know comes from a newer
                    // bot: answer it so that bot can say so, and keep the connection.
                    if let Ok(IdOnly { id }) = frame::parse::<IdOnly>(&body) {
                        debug!(conn, id, error = %e, "unsupported request");
                        let reply = Reply::Failed {
                            kind: ErrorKind::InvalidRequest,
                            detail: e.to_string(),
                        };
                        let _ = out_tx.send(ToBot::Response { id, reply });
                    } else {
                        return Closed::Protocol(e.to_string());
                    }
                }
            }
        }
    };

    let write = async {
        loop {
            let message = tokio::select! {
                biased;
                Some(message) = out_rx.recv() => message,
                event = events.recv() => match event {
                    Ok(event) => ToBot::from(event),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        warn!(conn, skipped = n, "bot is slow; dropped events");
                        continue;
                    }
                    Err(broadcast::error::RecvError::Closed) => {
                        return Closed::Clean("server shut down".to_owned());
                    }
                },
            };
            let result = match frame::encode(&message) {
                Ok(bytes) => frame::write_frame(&mut writer, &bytes).await,
                Err(e) => {
                    warn!(conn, error = %e, "could not encode a message for the bot; skipped");
                    continue;
                }
            };
            if let Err(e) = result {
                return Closed::Clean(format!("write failed: {e}"));
            }
        }
    };

    let closed = tokio::select! {
        closed = read => closed,
        closed = write => closed,
    };
    match closed {
        Closed::Clean(reason) => info!(conn, %reason, "IPC connection closed"),
        Closed::Protocol(reason) => warn!(conn, %reason, "closing IPC connection: protocol error"),
    }
}

#[derive(Deserialize)]
struct IdOnly {
    id: RequestId,
}

async fn handshake(
    reader: &mut &Stream,
    writer: &mut &Stream,
    config: &ServerConfig,
) -> Result<(), String> {
    let body = read_handshake_frame(reader, config, "hello").await?;
    let hello = match frame::parse::<Hello>(&body) {
        Err(FrameError::Malformed(e)) => {
            return refuse(
                writer,
                RefuseReason::BadHandshake,
                format!("the first message must be a hello: {e}"),
            )
            .await;
        }
        Err(e) => return refuse(writer, RefuseReason::BadHandshake, e.to_string()).await,
        Ok(hello) => hello,
    };
    if hello.version != PROTOCOL_VERSION {
        let message = format!(
            "the bot speaks IPC protocol v{} but the streamer speaks v{PROTOCOL_VERSION}; \
             run matching releases",
            hello.version
        );
        return refuse(writer, RefuseReason::VersionMismatch, message).await;
    }
    let Some(bot_nonce) = auth::parse_nonce(&hello.nonce) else {
        let message = "the hello's nonce must be 64 hex digits".to_owned();
        return refuse(writer, RefuseReason::BadHandshake, message).await;
    };
    let nonce = auth::nonce();
    let streamer_nonce = auth::parse_nonce(&nonce).ok_or("generated a malformed nonce")?;
    let challenge = ToBot::Challenge {
        proof: auth::proof(&config.secret, Role::Streamer, &bot_nonce, &streamer_nonce),
        nonce,
    };
    frame::send(writer, &challenge)
        .await
        .map_err(|e| e.to_string())?;

    let body = read_handshake_frame(reader, config, "auth").await?;
    let proved = match frame::parse::<Auth>(&body) {
        Ok(a) => auth::verify(
            &config.secret,
            Role::Bot,
            &bot_nonce,
            &streamer_nonce,
            &a.proof,
        ),
        Err(e) => {
            let message = format!("the second message must be an auth: {e}");
            return refuse(writer, RefuseReason::BadHandshake, message).await;
        }
    };
    if !proved {
        let message = "the bot's proof of the shared secret is wrong: \
                       the bot's and the streamer's secrets differ"
            .to_owned();
        return refuse(writer, RefuseReason::BadSecret, message).await;
    }
    let ready = ToBot::Ready {
        version: PROTOCOL_VERSION,
        capabilities: config.capabilities.clone(),
    };
    frame::send(writer, &ready).await.map_err(|e| e.to_string())
}

/// One handshake frame, within the handshake timeout.
async fn read_handshake_frame(
    reader: &mut &Stream,
    config: &ServerConfig,
    what: &str,
) -> Result<Vec<u8>, String> {
    match tokio::time::timeout(config.handshake_timeout, frame::read_frame(reader)).await {
        Err(_) => Err(format!("no {what} before the handshake timeout")),
        Ok(Ok(None)) => Err(format!("peer closed before sending its {what}")),
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(Some(body))) => Ok(body),
    }
}

/// Tells the bot why, then ends the handshake with that reason.
async fn refuse(writer: &mut &Stream, reason: RefuseReason, message: String) -> Result<(), String> {
    let reply = ToBot::Refused {
        reason,
        server_version: PROTOCOL_VERSION,
        message: message.clone(),
    };
    frame::send(writer, &reply)
        .await
        .map_err(|e| e.to_string())?;
    Err(format!("refused: {message}"))
}
