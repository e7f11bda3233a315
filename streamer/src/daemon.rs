//! `lounge-streamer run`: the IPC server the bot talks to.
//!
//! `status`, `shutdown` and the Plex requests (see [`crate::plex_requests`]) are answered
//! here; every other order goes to the Go Live
//! [`Session`], which logs in as the owner's account (only with `accept_selfbot_risk`), joins
//! voice, starts the stream and plays the source, and answers with the step that failed.

use std::sync::Arc;

use lounge_ipc::to_bot::{Capabilities, Reply};
use lounge_ipc::to_streamer::{Command, Quality, Request};
use lounge_ipc::{Responder, Server, ServerConfig};
use tracing::{info, warn};

use crate::config::{ConfigError, Loaded};
use crate::encoder::Selection;
use crate::golive::session::{Session, Settings};
use crate::golive::voice::VoiceOptions;
use crate::plex_requests::{self, PlexRequests};
use crate::source::SourcePolicy;

/// Printed by `run` every time: the owner must know what the opt-in means.
pub const SELFBOT_WARNING: &str = "warning: the Go Live feature logs in to Discord as a user \
account and automates it, which is against Discord's Terms of Service and can get that \
account banned. It stays off unless `accept_selfbot_risk = true` is set in the streamer's \
config; the rest of the streamer runs without it.";

/// How long a `shutdown` reply gets to reach the bot before connections are closed.
const REPLY_FLUSH_GRACE: std::time::Duration = std::time::Duration::from_millis(250);

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Server(#[from] lounge_ipc::ServerError),
    #[error("could not listen for shutdown signals: {0}")]
    Signal(std::io::Error),
}

/// Routes orders: `shutdown` ends the loop, `status` is answered from the session's snapshot
/// at once (even while a join is under way), the rest go to the Go Live session in order.
struct State {
    session: Session,
    plex: Arc<PlexRequests>,
}

impl State {
    /// Answers one request; `true` means shut down.
    fn handle(&self, request: Request, responder: Responder) -> bool {
        match request.command {
            Command::Status => {
                responder.respond(Reply::Status(self.session.status()));
            }
            Command::Shutdown => {
                responder.respond(Reply::Ok);
                return true;
            }
            command if plex_requests::handles(&command) => self.plex.submit(command, responder),
            command => self.session.submit(command, responder),
        }
        false
    }
}

/// Serves until a `shutdown` request, SIGINT or SIGTERM.
pub async fn run(loaded: &Loaded, selection: &Selection) -> Result<(), DaemonError> {
    let secret = loaded.secret()?;
    let socket = loaded.socket()?;
    if let Some(parent) = socket.parent()
        && !parent.as_os_str().is_empty()
        && !cfg!(windows)
    {
        // The runtime dir may not exist yet on a fresh login; a failure shows up at bind.
        let _ = std::fs::create_dir_all(parent);
    }
    let go_live = loaded.config.accept_selfbot_risk && selection.chosen.is_some();
    let capabilities = Capabilities {
        encoders: selection
            .reports
            .iter()
            .filter(|r| r.result.is_ok())
            .map(|r| r.backend.to_owned())
            .collect(),
        qualities: vec![Quality::Auto, Quality::P480, Quality::P720, Quality::P1080],
        video: go_live,
        tracks: true,
    };
    let (server, mut requests) =
        Server::bind(ServerConfig::new(&socket, secret, capabilities)).await?;
    println!("lounge-streamer listening on {}", socket.display());
    let token_config = loaded.clone();
    let settings = Settings {
        enabled: loaded.config.accept_selfbot_risk,
        token: Box::new(move || token_config.token()),
        gateway_url: loaded.config.gateway_url.clone(),
        backend: selection.chosen,
        sources: SourcePolicy::new(&loaded.config.media_roots, loaded.config.allow_urls)
            .exempting(loaded.config.plex_url.as_deref()),
        voice: VoiceOptions::default(),
        plex: loaded.clone(),
        plex_timeline_every: loaded.plex_timeline_every()?,
        default_tracks: lounge_ipc::to_streamer::Tracks {
            audio_language: loaded.config.audio_language.clone(),
            subtitle_language: loaded.config.subtitle_language.clone(),
        },
    };
    let state = State {
        session: Session::spawn(settings, server.events()),
        plex: PlexRequests::new(loaded.clone()),
    };
    let mut terminate = terminate_signal()?;
    loop {
        tokio::select! {
            next = requests.next() => match next {
                Some((request, responder)) => {
                    if state.handle(request, responder) {
                        info!("shutdown requested over IPC");
                        // `Server::shutdown` aborts connection tasks at once, which can drop
                        // the `ok` just queued for this request; give the writer a moment to
                        // send it. (lounge-ipc has no graceful close that flushes replies.)
                        tokio::time::sleep(REPLY_FLUSH_GRACE).await;
                        break;
                    }
                }
                None => break,
            },
            _ = tokio::signal::ctrl_c() => {
                info!("interrupted; shutting down");
                break;
            }
            () = &mut terminate => {
                info!("terminated; shutting down");
                break;
            }
        }
    }
    server.shutdown().await;
    if let Err(e) = std::fs::remove_file(&socket)
        && e.kind() != std::io::ErrorKind::NotFound
        && !cfg!(windows)
    {
        warn!(error = %e, "could not remove the socket file");
    }
    Ok(())
}

#[cfg(unix)]
fn terminate_signal() -> Result<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>, DaemonError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut sig = signal(SignalKind::terminate()).map_err(DaemonError::Signal)?;
    Ok(Box::pin(async move {
        sig.recv().await;
    }))
}

#[cfg(not(unix))]
#[allow(
    clippy::unnecessary_wraps,
    reason = "fallible on Unix; one signature for both"
)]
fn terminate_signal() -> Result<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>, DaemonError> {
    Ok(Box::pin(std::future::pending()))
}
