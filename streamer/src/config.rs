//! `lounge-streamer.toml` plus environment overrides.
//!
//! Precedence, lowest first: built-in defaults, the config file (`--config PATH`, else
//! `<OS config dir>/lounge-streamer/lounge-streamer.toml` if it exists), then
//! `LOUNGE_STREAMER_*` variables (`LOUNGE_STREAMER_IPC_SECRET`, `LOUNGE_STREAMER_ENCODER`, ...).
//! Unknown keys are errors so a typo is never silently ignored.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use lounge_ipc::Secret;
use serde::Deserialize;

use crate::encoder;

// Each bool is an independent switch the owner writes in the TOML file; an enum per switch
// would only rename `true`.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the IPC socket (or Windows pipe) is created; default: the OS runtime/data dir.
    pub socket: Option<PathBuf>,
    /// The shared secret the bot must present; required for `run`.
    pub ipc_secret: Option<String>,
    /// Skip probing and use this encoder backend (`x264`, `nvenc`, `h264_qsv`, ...).
    pub encoder: Option<String>,
    /// The Go Live feature logs in as a user account, against Discord's terms; it stays off
    /// unless the owner sets this.
    #[serde(default)]
    pub accept_selfbot_risk: bool,
    /// A `tracing` filter for the streamer's logs.
    pub log_level: Option<String>,
    /// Folders whose files members may play (a relative name is looked up in each); nothing
    /// outside them, symlinks included. Empty: no local file plays.
    #[serde(default)]
    pub media_roots: Vec<PathBuf>,
    /// Let members play `http(s)://` URLs. Off by default: FFmpeg would fetch whatever a member
    /// types, from inside the owner's network.
    #[serde(default)]
    pub allow_urls: bool,
    /// Go Live: a file holding the owner account's Discord user token (one line). It must be
    /// readable by its owner only (`chmod 600`).
    pub token_file: Option<PathBuf>,
    /// Go Live: read the token from the OS keyring (service `lounge-streamer`, entry
    /// `discord-token`), where `lounge-streamer token set` puts it. On Linux that is the
    /// kernel keyring, which forgets it at reboot; prefer `token_file` on servers.
    #[serde(default)]
    pub token_keyring: bool,
    /// Go Live: the main gateway's URL; default `wss://gateway.discord.gg`. Plain `ws://` is
    /// accepted only for loopback addresses (the test fakes).
    pub gateway_url: Option<String>,
    /// Where the streamer keeps what it generates once (the Plex client identifier, and the
    /// Plex token unless `plex_token_file` or `plex_token_keyring` say otherwise). Default:
    /// systemd's `$STATE_DIRECTORY`, else the OS data dir.
    pub state_dir: Option<PathBuf>,
    /// The Plex server, e.g. `http://127.0.0.1:32400`. Unset: found through plex.tv (local
    /// connections first, then remote, then relay).
    pub plex_url: Option<String>,
    /// plex.tv's base URL; only tests change it.
    pub plex_tv_url: Option<String>,
    /// A file holding the Plex token (`plex login` writes it, 0600). Default:
    /// `<state_dir>/plex-token`.
    pub plex_token_file: Option<PathBuf>,
    /// Keep the Plex token in the OS keyring (service `lounge-streamer`, entry `plex-token`)
    /// instead of a file.
    #[serde(default)]
    pub plex_token_keyring: bool,
    /// How often, in seconds, a playing Plex item's position is reported to Plex (Continue
    /// Watching); default 10, as Plex's own players do. 1 to 3600.
    pub plex_timeline_seconds: Option<u64>,
    /// The audio language to play when a member names none (`en`, `eng`, `English`, ...);
    /// a source without it plays its default track.
    pub audio_language: Option<String>,
    /// Burn in text subtitles in this language when a member names none; a source without
    /// them plays without.
    pub subtitle_language: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the config file {0} does not exist (given with --config)")]
    MissingFile(PathBuf),
    #[error("{0}")]
    Invalid(String),
    #[error(
        "ipc_secret is not set: put `ipc_secret = \"...\"` in {file}, or set LOUNGE_STREAMER_IPC_SECRET \
         (the bot's config must hold the same value)"
    )]
    MissingSecret { file: String },
    #[error("encoder `{name}` (from {file} or LOUNGE_STREAMER_ENCODER) is not one of: {known}")]
    UnknownEncoder {
        name: String,
        file: String,
        known: String,
    },
    #[error("no default socket path on this OS: set `socket` in {file} or LOUNGE_STREAMER_SOCKET")]
    NoSocketPath { file: String },
}

#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub file: Option<PathBuf>,
    pub suggested_file: PathBuf,
}

pub(crate) fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "lounge-streamer")
}

pub fn default_config_path() -> PathBuf {
    project_dirs().map_or_else(
        || PathBuf::from("lounge-streamer.toml"),
        |d| d.config_dir().join("lounge-streamer.toml"),
    )
}

pub fn load(explicit: Option<&Path>) -> Result<Loaded, ConfigError> {
    let (file, suggested_file) = match explicit {
        Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.to_path_buf())),
        Some(path) => (Some(path.to_path_buf()), path.to_path_buf()),
        None => {
            let default = default_config_path();
            (default.exists().then(|| default.clone()), default)
        }
    };
    let mut figment = Figment::new();
    if let Some(file) = &file {
        figment = figment.merge(Toml::file_exact(file));
    }
    // `LOUNGE_STREAMER__*` (two underscores) is the bot's `[streamer]` section; an environment
    // shared by both processes must not make the streamer refuse those as unknown keys.
    figment = figment.merge(Env::prefixed("LOUNGE_STREAMER_").filter(|key| !key.starts_with("_")));
    let config: Config = figment
        .extract()
        .map_err(|e| ConfigError::Invalid(describe(&e)))?;
    Ok(Loaded {
        config,
        file,
        suggested_file,
    })
}

impl Loaded {
    fn file_hint(&self) -> String {
        self.suggested_file.display().to_string()
    }

    pub fn secret(&self) -> Result<Secret, ConfigError> {
        match self.config.ipc_secret.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => Ok(Secret::new(s)),
            _ => Err(ConfigError::MissingSecret {
                file: self.file_hint(),
            }),
        }
    }

    pub fn socket(&self) -> Result<PathBuf, ConfigError> {
        if let Some(path) = &self.config.socket {
            return Ok(path.clone());
        }
        lounge_ipc::default_socket_path().ok_or_else(|| ConfigError::NoSocketPath {
            file: self.file_hint(),
        })
    }

    /// The forced encoder backend, checked against the registry.
    pub fn encoder(&self) -> Result<Option<&'static dyn encoder::VideoBackend>, ConfigError> {
        match self.config.encoder.as_deref().map(str::trim) {
            None | Some("" | "auto") => Ok(None),
            Some(name) => {
                encoder::by_name(name)
                    .map(Some)
                    .ok_or_else(|| ConfigError::UnknownEncoder {
                        name: name.to_owned(),
                        file: self.file_hint(),
                        known: encoder::BACKENDS
                            .iter()
                            .map(|b| b.name())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })
            }
        }
    }

    /// The owner's Discord user token for Go Live, from `token_file` or the OS keyring.
    pub fn token(&self) -> Result<crate::golive::token::Token, crate::golive::token::TokenError> {
        crate::golive::token::load(
            self.config.token_file.as_deref(),
            self.config.token_keyring,
            &self.file_hint(),
        )
    }

    /// Where generated state lives (see [`Config::state_dir`]).
    pub fn state_dir(&self) -> PathBuf {
        if let Some(dir) = &self.config.state_dir {
            return dir.clone();
        }
        if let Some(dir) = std::env::var_os("STATE_DIRECTORY").filter(|d| !d.is_empty()) {
            // systemd may list several, separated by colons; the first is ours.
            let first = dir
                .to_string_lossy()
                .split(':')
                .next()
                .unwrap_or_default()
                .to_owned();
            return PathBuf::from(first);
        }
        project_dirs().map_or_else(
            || PathBuf::from("lounge-streamer-state"),
            |d| d.data_local_dir().to_path_buf(),
        )
    }

    /// Every check `config check` and `run` share.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.secret()?;
        self.socket()?;
        self.encoder()?;
        self.plex_timeline_every()?;
        Ok(())
    }

    /// `plex_timeline_seconds`, checked.
    pub fn plex_timeline_every(&self) -> Result<std::time::Duration, ConfigError> {
        match self.config.plex_timeline_seconds {
            None => Ok(crate::golive::progress::DEFAULT_EVERY),
            Some(s @ 1..=3600) => Ok(std::time::Duration::from_secs(s)),
            Some(s) => Err(ConfigError::Invalid(format!(
                "plex_timeline_seconds is {s}: it must be between 1 and 3600 (Plex's own players \
                 report every 10)"
            ))),
        }
    }
}

/// Figment's errors name the key and the source; reword them for people, without values.
fn describe(e: &figment::Error) -> String {
    e.clone()
        .into_iter()
        .map(|e| {
            let key = if e.path.is_empty() {
                "the configuration".to_owned()
            } else {
                e.path.join(".")
            };
            let source = e
                .metadata
                .as_ref()
                .map(|m| match &m.source {
                    Some(figment::Source::File(p)) => format!(" in {}", p.display()),
                    _ => format!(" (from {})", m.name),
                })
                .unwrap_or_default();
            format!("invalid setting `{key}`{source}: {}", e.kind)
        })
        .collect::<Vec<_>>()
        .join("; ")
}
