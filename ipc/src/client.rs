//! The bot's side: one connection to the streamer, re-established with backoff whenever it
//! drops, with requests correlated to responses by id.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use interprocess::local_socket::tokio::Stream;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::auth::{self, Role};
use crate::frame::{self, FrameError};
use crate::to_bot::{Capabilities, ErrorKind, Event, RefuseReason, Reply, Status, ToBot};
use crate::to_streamer::{Auth, Command, Hello, Request, RequestId};
use crate::{PROTOCOL_VERSION, Secret, socket};

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Socket file path; on Windows a pipe path such as `\\.\pipe\lounge-streamer`.
    pub socket: PathBuf,
    pub secret: Secret,
    pub request_timeout: Duration,
    pub handshake_timeout: Duration,
    /// First reconnect delay; doubles on each failed attempt up to `backoff_max`.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

impl ClientConfig {
    pub fn new(socket: impl Into<PathBuf>, secret: Secret) -> Self {
        Self {
            socket: socket.into(),
            secret,
            request_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(5),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(10),
        }
    }
}

/// What the bot can tell users about the streamer link.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionState {
    /// First connection attempt in progress.
    Connecting,
    /// Handshake done and state re-synced. `status` is `None` only if the re-sync request
    /// itself failed.
    Connected {
        version: u32,
        capabilities: Capabilities,
        status: Option<Status>,
    },
    /// Not connected; retrying with backoff. `reason` is for logs.
    Offline { reason: String },
    /// The streamer refused the handshake (wrong secret or version); retrying with backoff in
    /// case the streamer is reconfigured.
    Refused {
        reason: RefuseReason,
        message: String,
        /// The protocol version the streamer speaks, from its refusal.
        server_version: u32,
    },
}

/// Which side must be updated when the two speak different protocol versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outdated {
    /// The streamer speaks an older protocol than this bot.
    Streamer,
    /// The streamer is newer than this bot.
    Bot,
}

impl ConnectionState {
    pub fn is_connected(&self) -> bool {
        matches!(self, ConnectionState::Connected { .. })
    }

    /// After a version refusal: which side is behind.
    pub fn outdated(&self) -> Option<Outdated> {
        match self {
            ConnectionState::Refused {
                reason: RefuseReason::VersionMismatch,
                server_version,
                ..
            } => Some(if *server_version < PROTOCOL_VERSION {
                Outdated::Streamer
            } else {
                Outdated::Bot
            }),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    #[error("the streamer is offline")]
    Offline,
    #[error("the streamer did not answer in time")]
    Timeout,
    #[error("the connection to the streamer dropped before it answered")]
    Disconnected,
    #[error("request could not be encoded: {0}")]
    Encode(String),
    /// The streamer understood the request and said no.
    #[error("streamer error ({kind:?}): {detail}")]
    Streamer { kind: ErrorKind, detail: String },
}

impl ClientError {
    /// A sentence safe to show users as written.
    pub fn user_message(&self) -> &'static str {
        match self {
            ClientError::Offline | ClientError::Disconnected => {
                "The streamer is offline right now. Try again in a moment."
            }
            ClientError::Timeout => "The streamer didn't answer in time.",
            ClientError::Encode(_) => ErrorKind::Internal.user_message(),
            ClientError::Streamer { kind, .. } => kind.user_message(),
        }
    }
}

type Pending = HashMap<RequestId, oneshot::Sender<Reply>>;

struct Shared {
    config: ClientConfig,
    next_id: AtomicU64,
    pending: Mutex<Pending>,
    /// Frames for the current connection's writer; `None` while offline.
    conn: Mutex<Option<mpsc::Sender<Vec<u8>>>>,
    state: watch::Sender<ConnectionState>,
    events: broadcast::Sender<Event>,
}

// Poisoning only means another task panicked mid-update of a plain map; the map is still
// usable, and the bot must not go down with it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Connection to the streamer. Dropping it closes the connection and stops reconnecting.
pub struct Client {
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("socket", &self.shared.config.socket)
            .field("state", &*self.shared.state.borrow())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts connecting in the background and returns at once; watch [`Client::state`] to
    /// know when the streamer is reachable. Must be called inside a tokio runtime.
    pub fn spawn(config: ClientConfig) -> Client {
        let (state, _) = watch::channel(ConnectionState::Connecting);
        let (events, _) = broadcast::channel(256);
        let shared = Arc::new(Shared {
            config,
            next_id: AtomicU64::new(1),
            pending: Mutex::new(HashMap::new()),
            conn: Mutex::new(None),
            state,
            events,
        });
        let task = tokio::spawn(supervise(Arc::clone(&shared)));
        Client { shared, task }
    }

    /// Sends a request and waits for its reply. A [`Reply::Failed`] comes back as
    /// [`ClientError::Streamer`], so `Ok` is always a success.
    pub async fn request(&self, command: Command) -> Result<Reply, ClientError> {
        self.shared.request(command).await
    }

    /// The connection state, updated on every change.
    pub fn state(&self) -> watch::Receiver<ConnectionState> {
        self.shared.state.subscribe()
    }

    /// Events pushed by the streamer. A receiver that falls behind loses the oldest ones.
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.shared.events.subscribe()
    }

    /// Waits until connected and re-synced, or until `timeout`.
    pub async fn wait_connected(&self, timeout: Duration) -> Result<ConnectionState, ClientError> {
        let mut state = self.state();
        match tokio::time::timeout(timeout, state.wait_for(ConnectionState::is_connected)).await {
            Ok(Ok(s)) => Ok(s.clone()),
            Ok(Err(_)) => Err(ClientError::Offline),
            Err(_) => Err(ClientError::Timeout),
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Removes a pending entry when the request is finished or abandoned (timeout, caller
/// dropped), so the map cannot grow with requests nobody waits for.
struct PendingGuard<'a> {
    shared: &'a Shared,
    id: RequestId,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        lock(&self.shared.pending).remove(&self.id);
    }
}

impl Shared {
    async fn request(&self, command: Command) -> Result<Reply, ClientError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let bytes = frame::encode(&Request { id, command })
            .map_err(|e| ClientError::Encode(e.to_string()))?;
        let conn = lock(&self.conn).clone().ok_or(ClientError::Offline)?;
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(id, tx);
        let _guard = PendingGuard { shared: self, id };
        if conn.send(bytes).await.is_err() {
            return Err(ClientError::Disconnected);
        }
        match tokio::time::timeout(self.config.request_timeout, rx).await {
            Err(_) => Err(ClientError::Timeout),
            Ok(Err(_)) => Err(ClientError::Disconnected),
            Ok(Ok(Reply::Failed { kind, detail })) => Err(ClientError::Streamer { kind, detail }),
            Ok(Ok(reply)) => Ok(reply),
        }
    }

    fn set_state(&self, new: ConnectionState) {
        self.state.send_if_modified(|state| {
            if *state == new {
                false
            } else {
                *state = new;
                true
            }
        });
    }
}

enum HandshakeError {
    Refused {
        reason: RefuseReason,
        message: String,
        server_version: u32,
    },
    Other(String),
}

async fn supervise(shared: Arc<Shared>) {
    let config = &shared.config;
    let mut backoff = config.backoff_min;
    loop {
        match connect(config).await {
            Ok((stream, version, capabilities)) => {
                info!(version, "connected to the streamer");
                let reason = run(&shared, &stream, version, capabilities).await;
                warn!(%reason, "lost the connection to the streamer; reconnecting");
                shared.set_state(ConnectionState::Offline { reason });
                // A connection that worked resets the backoff: a streamer restart should be
                // picked up quickly.
                backoff = config.backoff_min;
            }
            Err(HandshakeError::Refused {
                reason,
                message,
                server_version,
            }) => {
                warn!(?reason, %message, server_version, "the streamer refused the handshake");
                shared.set_state(ConnectionState::Refused {
                    reason,
                    message,
                    server_version,
                });
            }
            Err(HandshakeError::Other(reason)) => {
                debug!(%reason, "streamer not reachable");
                shared.set_state(ConnectionState::Offline { reason });
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(config.backoff_max);
    }
}

async fn connect(config: &ClientConfig) -> Result<(Stream, u32, Capabilities), HandshakeError> {
    let attempt = async {
        let stream = socket::connect(&config.socket)
            .await
            .map_err(|e| HandshakeError::Other(format!("connect: {e}")))?;
        let nonce = auth::nonce();
        let bot_nonce = auth::parse_nonce(&nonce)
            .ok_or_else(|| HandshakeError::Other("generated a malformed nonce".into()))?;
        let other = |e: FrameError| HandshakeError::Other(format!("handshake: {e}"));
        let hello = Hello {
            version: PROTOCOL_VERSION,
            nonce,
        };
        frame::send(&mut &stream, &hello).await.map_err(other)?;
        let (nonce, proof) = match read_handshake_reply(&stream).await? {
            ToBot::Challenge { nonce, proof } => (nonce, proof),
            other => return Err(unexpected(other)),
        };
        // The streamer proves itself first: whatever holds the socket gets nothing from the
        // bot unless it knows the secret.
        let proved = auth::parse_nonce(&nonce).filter(|streamer_nonce| {
            auth::verify(
                &config.secret,
                Role::Streamer,
                &bot_nonce,
                streamer_nonce,
                &proof,
            )
        });
        let Some(streamer_nonce) = proved else {
            return Err(HandshakeError::Refused {
                reason: RefuseReason::BadSecret,
                message: format!(
                    "what answers on {} could not prove it knows the shared secret: the \
                     streamer's secret differs from the bot's, or another program holds the \
                     socket",
                    config.socket.display()
                ),
                server_version: PROTOCOL_VERSION,
            });
        };
        let auth = Auth {
            proof: auth::proof(&config.secret, Role::Bot, &bot_nonce, &streamer_nonce),
        };
        frame::send(&mut &stream, &auth).await.map_err(other)?;
        match read_handshake_reply(&stream).await? {
            ToBot::Ready {
                version,
                capabilities,
            } => Ok((stream, version, capabilities)),
            other => Err(unexpected(other)),
        }
    };
    tokio::time::timeout(config.handshake_timeout, attempt)
        .await
        .unwrap_or_else(|_| Err(HandshakeError::Other("handshake timed out".into())))
}

/// The streamer's next handshake frame; a refusal is the error it describes.
async fn read_handshake_reply(stream: &Stream) -> Result<ToBot, HandshakeError> {
    let other = |e: FrameError| HandshakeError::Other(format!("handshake: {e}"));
    let body = frame::read_frame(&mut &*stream)
        .await
        .map_err(other)?
        .ok_or_else(|| HandshakeError::Other("streamer closed during the handshake".into()))?;
    match frame::parse::<ToBot>(&body).map_err(other)? {
        ToBot::Refused {
            reason,
            message,
            server_version,
        } => Err(HandshakeError::Refused {
            reason,
            message,
            server_version,
        }),
        reply => Ok(reply),
    }
}

fn unexpected(frame: ToBot) -> HandshakeError {
    HandshakeError::Other(format!("unexpected handshake message {frame:?}"))
}

/// Serves one connection until it fails; returns why.
async fn run(shared: &Shared, stream: &Stream, version: u32, capabilities: Capabilities) -> String {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
    *lock(&shared.conn) = Some(tx);

    let read = async {
        let mut reader = stream;
        loop {
            let body = match frame::read_frame(&mut reader).await {
                Ok(Some(body)) => body,
                Ok(None) => return "streamer closed the connection".to_owned(),
                Err(e) => return e.to_string(),
            };
            let message = match frame::parse::<ToBot>(&body) {
                Ok(message) => message,
                Err(e) => return format!("malformed message from the streamer: {e}"),
            };
            match message {
                ToBot::Response { id, reply } => {
                    let waiter = lock(&shared.pending).remove(&id);
                    if let Some(waiter) = waiter {
                        let _ = waiter.send(reply);
                    } else {
                        debug!(id, "response for a request nobody is waiting for");
                    }
                }
                ToBot::Unknown => debug!("skipping a message with an unknown op"),
                other => {
                    if let Some(event) = other.into_event() {
                        let _ = shared.events.send(event);
                    } else {
                        warn!("unexpected handshake message after the handshake");
                    }
                }
            }
        }
    };

    let write = async {
        let mut writer = stream;
        while let Some(bytes) = rx.recv().await {
            if let Err(e) = frame::write_frame(&mut writer, &bytes).await {
                return e.to_string();
            }
        }
        "writer channel closed".to_owned()
    };

    // Re-sync: whatever the bot believed before the drop may be stale (the streamer may have
    // restarted and lost its state), so fetch a fresh snapshot before reporting "connected".
    let resync = async {
        let status = match shared.request(Command::Status).await {
            Ok(Reply::Status(status)) => Some(status),
            Ok(other) => {
                warn!(?other, "status request got an unexpected reply");
                None
            }
            Err(e) => {
                warn!(error = %e, "status re-sync failed");
                None
            }
        };
        shared.set_state(ConnectionState::Connected {
            version,
            capabilities,
            status,
        });
        std::future::pending::<String>().await
    };

    let reason = tokio::select! {
        reason = read => reason,
        reason = write => reason,
        reason = resync => reason,
    };

    *lock(&shared.conn) = None;
    // Dropping the senders wakes every waiter with `Disconnected` rather than a timeout.
    lock(&shared.pending).clear();
    reason
}
