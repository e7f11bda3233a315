//! `lounge-streamer run`: the IPC server the bot talks to.
//!
//! Today it answers `status`, `set_quality` and `shutdown` for real, and `play` opens and checks
//! the source (a missing, unreadable or video-less file is answered with its own error kind).
//! Voice (Go Live) is not built yet, so every request that needs it then fails with the kind a
//! bot can explain (`not_in_voice`, `voice_connect_failed`) and a detail that says it is not
//! implemented, instead of pretending to succeed.

use lounge_ipc::to_bot::{Capabilities, ErrorKind, PlaybackState, Reply, Status};
use lounge_ipc::to_streamer::{Command, Quality, Request, Source};
use lounge_ipc::{Responder, Server, ServerConfig};
use tracing::{info, warn};

use crate::config::{ConfigError, Loaded};
use crate::encoder::{Selection, VideoBackend};
use crate::pipeline::{self, PipelineConfig};
use crate::source::{Resolved, SourcePolicy};

/// Printed by `run` every time: the owner must know what the opt-in means.
pub const SELFBOT_WARNING: &str = "warning: the Go Live feature logs in to Discord as a user \
account and automates it, which is against Discord's Terms of Service and can get that \
account banned. It stays off unless `accept_selfbot_risk = true` is set in the streamer's \
config; the rest of the streamer runs without it.";

const NOT_BUILT: &str = "voice streaming (Go Live) is not implemented in this lounge-streamer \
build yet";

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

/// What the daemon knows about itself; the answer to `status`.
#[derive(Debug)]
struct State {
    quality: Quality,
    go_live_allowed: bool,
    backend: Option<&'static dyn VideoBackend>,
    sources: SourcePolicy,
}

impl State {
    fn status(&self) -> Status {
        Status {
            state: PlaybackState::Disconnected,
            guild_id: None,
            channel_id: None,
            source: None,
            position_ms: 0,
            duration_ms: None,
            quality: self.quality,
        }
    }

    /// Answers one request; `true` means shut down.
    fn handle(&mut self, request: Request, responder: Responder) -> bool {
        match request.command {
            Command::Status => {
                responder.respond(Reply::Status(self.status()));
            }
            Command::Shutdown => {
                responder.respond(Reply::Ok);
                return true;
            }
            Command::SetQuality { quality } => match quality {
                Quality::Unknown => {
                    responder.fail(ErrorKind::InvalidRequest, "unknown quality");
                }
                q => {
                    self.quality = q;
                    responder.respond(Reply::Ok);
                }
            },
            Command::JoinVoice { .. } => {
                let detail = if self.go_live_allowed {
                    NOT_BUILT.to_owned()
                } else {
                    format!("{NOT_BUILT}; it is also disabled because accept_selfbot_risk is false")
                };
                responder.fail(ErrorKind::VoiceConnectFailed, detail);
            }
            Command::Play { source, .. } => {
                // Opening media blocks (probing, a network source): off the IPC task.
                let backend = self.backend;
                let policy = self.sources.clone();
                tokio::task::spawn_blocking(move || {
                    match check_source(&source, &policy, backend) {
                    Err((kind, detail)) => responder.fail(kind, detail),
                    Ok(_) => responder.fail(
                        ErrorKind::NotInVoice,
                        format!("the source plays, but the streamer is not in a voice channel: {NOT_BUILT}"),
                    ),
                }
                });
            }
            Command::LeaveVoice { .. }
            | Command::Pause
            | Command::Resume
            | Command::Seek { .. }
            | Command::Stop => {
                responder.fail(
                    ErrorKind::NotInVoice,
                    format!("the streamer is not in a voice channel: {NOT_BUILT}"),
                );
            }
            other => {
                responder.fail(
                    ErrorKind::InvalidRequest,
                    format!("this streamer does not handle {other:?}"),
                );
            }
        }
        false
    }
}

/// Opens `source` the way playing it would (demuxer, decoders, encoders), so a bad source is
/// reported before anything else is attempted.
fn check_source(
    source: &Source,
    policy: &SourcePolicy,
    backend: Option<&'static dyn VideoBackend>,
) -> Result<Resolved, (ErrorKind, String)> {
    let resolved = policy.resolve(source)?;
    let Some(backend) = backend else {
        return Err((
            ErrorKind::EncoderFailed,
            "no working video encoder was found; `lounge-streamer doctor` says why".to_owned(),
        ));
    };
    pipeline::check(
        resolved.input(),
        &PipelineConfig::new(backend, 640, 360, 30),
    )
    .map_err(|e| (e.kind(), e.to_string()))?;
    Ok(resolved)
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
    let capabilities = Capabilities {
        encoders: selection
            .reports
            .iter()
            .filter(|r| r.result.is_ok())
            .map(|r| r.backend.to_owned())
            .collect(),
        qualities: vec![Quality::Auto, Quality::P480, Quality::P720, Quality::P1080],
        // Nothing reaches Discord yet; the bot should not offer video.
        video: false,
    };
    let (server, mut requests) =
        Server::bind(ServerConfig::new(&socket, secret, capabilities)).await?;
    println!("lounge-streamer listening on {}", socket.display());
    let mut state = State {
        quality: Quality::Auto,
        go_live_allowed: loaded.config.accept_selfbot_risk,
        backend: selection.chosen,
        sources: SourcePolicy::new(&loaded.config.media_roots, loaded.config.allow_urls),
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
