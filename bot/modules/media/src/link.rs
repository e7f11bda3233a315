//! The bot's end of the link to `lounge-streamer`: the IPC client, started in the background
//! so the bot never waits for (or needs) a streamer, plus when its state last changed, which
//! the client itself does not record.

use std::mem::discriminant;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use lounge_ipc::to_bot::{Reply, Status};
use lounge_ipc::to_streamer::Command;
use lounge_ipc::{Client, ClientConfig, ClientError, ConnectionState};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What `/stream status` needs: the state and the times that make it readable.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub state: ConnectionState,
    /// When the link entered this kind of state. Retries that fail for a different reason
    /// keep it, so "offline since" means since the link was last up.
    pub since: DateTime<Utc>,
    /// Whether the link has ever been up since the bot started: "never reached it" and "it
    /// went away" call for different advice.
    pub ever_connected: bool,
}

impl Snapshot {
    fn update(&mut self, state: ConnectionState, now: DateTime<Utc>) {
        if discriminant(&state) != discriminant(&self.state) {
            self.since = now;
        }
        self.ever_connected |= state.is_connected();
        self.state = state;
    }
}

/// A resolved, enabled streamer link (the app reads it from the `[streamer]` section).
#[derive(Clone, Debug)]
pub struct StreamerSettings {
    pub socket: std::path::PathBuf,
    pub secret: lounge_ipc::Secret,
    /// `plex.autoplay`: the next episode follows when the queue is empty.
    pub autoplay: bool,
}

/// The longest any order may take before the bot gives up on an answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(40);

/// The running link; clones share it (the commands and the watch party's task). Dropping the
/// last clone closes the connection and stops reconnecting.
#[derive(Clone)]
pub struct Link {
    client: Arc<Client>,
    snapshot: Arc<Mutex<Snapshot>>,
    // Held for its Drop.
    _watcher: Arc<Watcher>,
}

/// Stops the state watcher with the last clone of the link.
struct Watcher(JoinHandle<()>);

impl Drop for Watcher {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Link {
    /// Starts connecting in the background and returns at once. Needs a tokio runtime.
    pub fn spawn(settings: StreamerSettings) -> Self {
        tracing::info!(socket = %settings.socket.display(), "connecting to lounge-streamer in the background");
        let mut config = ClientConfig::new(settings.socket, settings.secret);
        // Joining a channel means a Discord login, a voice handshake and a DAVE group; the
        // streamer bounds each step itself and answers with the step that failed.
        config.request_timeout = REQUEST_TIMEOUT;
        let client = Client::spawn(config);
        let state = client.state();
        let snapshot = Arc::new(Mutex::new(Snapshot {
            state: state.borrow().clone(),
            since: Utc::now(),
            ever_connected: false,
        }));
        let watcher = tokio::spawn(watch_state(state, Arc::clone(&snapshot)));
        Self {
            client: Arc::new(client),
            snapshot,
            _watcher: Arc::new(Watcher(watcher)),
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        self.snapshot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Events the streamer pushes (playback ended, state changes).
    pub fn events(&self) -> tokio::sync::broadcast::Receiver<lounge_ipc::to_bot::Event> {
        self.client.events()
    }

    /// The connection state, updated on every change.
    pub fn state(&self) -> watch::Receiver<ConnectionState> {
        self.client.state()
    }

    /// Sends one order and waits for its answer (at most [`REQUEST_TIMEOUT`]).
    pub async fn request(&self, command: Command) -> Result<Reply, ClientError> {
        self.client.request(command).await
    }

    /// Asks the streamer what it is doing now, waiting at most `timeout` (a slash command
    /// must be answered within three seconds).
    pub async fn status(&self, timeout: Duration) -> Result<Status, ClientError> {
        match tokio::time::timeout(timeout, self.client.request(Command::Status)).await {
            Err(_) => Err(ClientError::Timeout),
            Ok(Ok(lounge_ipc::to_bot::Reply::Status(status))) => Ok(status),
            Ok(Ok(other)) => Err(ClientError::Streamer {
                kind: lounge_ipc::to_bot::ErrorKind::InvalidRequest,
                detail: format!("status got an unexpected reply: {other:?}"),
            }),
            Ok(Err(e)) => Err(e),
        }
    }
}

async fn watch_state(mut state: watch::Receiver<ConnectionState>, snapshot: Arc<Mutex<Snapshot>>) {
    loop {
        let current = state.borrow_and_update().clone();
        // The facade only: the app's recorder exports it (a no-op without one).
        let connected = matches!(current, ConnectionState::Connected { .. });
        metrics::gauge!("lounge_streamer_connected").set(f64::from(u8::from(connected)));
        snapshot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .update(current, Utc::now());
        if state.changed().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_moves_only_when_the_kind_of_state_changes() {
        let t0 = DateTime::from_timestamp(1_000, 0).unwrap();
        let t1 = DateTime::from_timestamp(2_000, 0).unwrap();
        let t2 = DateTime::from_timestamp(3_000, 0).unwrap();
        let offline = |reason: &str| ConnectionState::Offline {
            reason: reason.to_owned(),
        };
        let mut s = Snapshot {
            state: ConnectionState::Connecting,
            since: t0,
            ever_connected: false,
        };
        s.update(offline("connect: refused"), t1);
        assert_eq!(s.since, t1);
        s.update(offline("handshake timed out"), t2);
        assert_eq!(s.since, t1, "another failed retry is not a new outage");
        assert!(!s.ever_connected);
        s.update(
            ConnectionState::Connected {
                version: 1,
                capabilities: lounge_ipc::to_bot::Capabilities::default(),
                status: None,
            },
            t2,
        );
        assert!(s.ever_connected);
        assert_eq!(s.since, t2);
        s.update(offline("streamer closed the connection"), t2);
        assert!(s.ever_connected, "remembered after the link drops");
    }
}
