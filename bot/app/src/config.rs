//! `lounge.toml` plus environment overrides.
//!
//! Precedence, lowest first: built-in defaults, the config file (`--config PATH`, else
//! `<OS config dir>/lounge/lounge.toml` if it exists), `LOUNGE_*` variables (`__` separates
//! sections: `LOUNGE_DISCORD__DEV_GUILD=123`), then the conventional `DISCORD_TOKEN` and
//! `DATABASE_URL`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use lounge_ipc::Secret;
pub use lounge_kit::config::GamesConfig;
pub use lounge_module_media::StreamerSettings;
pub use lounge_module_music::{GiphyConfig, MusicConfig};

/// A shorter lease would be renewed more than once a second.
pub const MIN_INSTANCE_LEASE_SECONDS: u64 = 3;

/// Discord's real API host; serenity's routes are built on it and `api_base` replaces it.
pub const DISCORD_API_HOST: &str = "https://discord.com";

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub discord: DiscordConfig,
    #[serde(default)]
    pub database: DatabaseConfig,
    #[serde(default)]
    pub bot: BotConfig,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default)]
    pub streamer: StreamerConfig,
    #[serde(default)]
    pub plex: PlexConfig,
    #[serde(default)]
    pub music: MusicConfig,
    #[serde(default)]
    pub giphy: GiphyConfig,
    #[serde(default)]
    pub spotify: SpotifyConfig,
    pub games: GamesConfig,
    pub metrics: MetricsConfig,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordConfig {
    /// The bot token from the Developer Portal (Bot → Reset Token).
    pub token: Option<Secret>,
    /// A file holding the token instead, readable only by its owner (mode 0600 on Unix).
    pub token_file: Option<PathBuf>,
    /// Base URL that replaces `https://discord.com` for REST calls: a rate-limit proxy
    /// (twilight-http-proxy, nirn-proxy) or, in tests, the loopback fake Discord.
    pub api_base: Option<String>,
    /// Register slash commands in this guild only (instant) instead of globally.
    pub dev_guild: Option<u64>,
    /// Bot owners besides the application's owner (the team's owner for a team application;
    /// other team members are not owners).
    #[serde(default)]
    pub owners: Vec<u64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`; default: `lounge.db` in the data dir.
    pub url: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BotConfig {
    /// Prefix for text commands where a guild has not set its own. Mentions always work.
    pub prefix: String,
    /// Where the SQLite database and other state live; default: the OS data dir.
    pub data_dir: Option<PathBuf>,
    /// Commands one user may fire back to back before the global limiter steps in.
    pub command_burst: u32,
    /// Seconds after which a user regains one command of the burst.
    pub command_refill_seconds: u64,
    /// The instance lock's lease: how long a process serves without confirming it is the only
    /// one (renewed every third of it), and on SQLite how long a crashed process's lock
    /// outlives it.
    pub instance_lease_seconds: u64,
}

impl Default for BotConfig {
    fn default() -> Self {
        Self {
            prefix: "!".to_owned(),
            data_dir: None,
            command_burst: 5,
            command_refill_seconds: 3,
            instance_lease_seconds: 30,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A `tracing` filter: `info`, `debug`, `lounge=debug,serenity=warn`, ...
    pub level: String,
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".to_owned(),
            format: LogFormat::Human,
        }
    }
}

/// The metrics and health listener: `/metrics` (Prometheus text), `/livez` and `/readyz`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Serve the listener. On by default: it answers on loopback only, and a service manager
    /// or a local Prometheus can use it without further setup.
    pub enabled: bool,
    /// Where to listen. Port 0 takes a free port; the log line "metrics listening" names it.
    pub listen: SocketAddr,
    /// Allow a `listen` address other than loopback. Off by default: the endpoints have no
    /// authentication, and the metrics name commands and guild activity.
    pub allow_remote: bool,
}

/// The port OpenTelemetry's Prometheus exporters use by default, clear of the common node and
/// process exporters; loopback, because the endpoints have no authentication.
pub const DEFAULT_METRICS_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9464);

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: DEFAULT_METRICS_LISTEN,
            allow_remote: false,
        }
    }
}

/// Spotify links for `/play`: the Web API with client credentials (a free app at
/// developer.spotify.com). Without both, Spotify links get a sentence saying so.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpotifyConfig {
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    /// The Web API's base (default `https://api.spotify.com/v1`); tests point it at a fake.
    pub api_url: Option<String>,
    /// The accounts service's base (default `https://accounts.spotify.com`).
    pub accounts_url: Option<String>,
}

/// The watch party's Plex settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlexConfig {
    /// When an episode ends and the queue is empty, play the next episode of its season.
    pub autoplay: bool,
}

impl Default for PlexConfig {
    fn default() -> Self {
        Self { autoplay: true }
    }
}

/// The link to `lounge-streamer`. Optional: without a secret the bot never tries to connect.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamerConfig {
    /// Connect to the streamer. Default: yes when a secret is set, so a bot without a streamer
    /// needs no setting at all, and `false` switches a configured link off.
    pub enabled: Option<bool>,
    /// The streamer's socket; default: where the streamer listens by default
    /// ([`lounge_ipc::default_socket_path`]).
    pub socket: Option<PathBuf>,
    /// The streamer's `ipc_secret`.
    pub secret: Option<Secret>,
    /// A file holding the secret instead (surrounding whitespace ignored), to keep it out of
    /// lounge.toml and the environment.
    pub secret_file: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Human,
    Json,
}

/// A configuration problem, worded for the person fixing it: which setting, and where to put it.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    BadMusic(String),
    #[error("{0}")]
    BadGiphy(String),
    #[error("the config file {0} does not exist (given with --config)")]
    MissingFile(PathBuf),
    #[error("{0}")]
    Invalid(String),
    #[error(
        "discord.token is not set: put `token = \"...\"` under [discord] in {file}, or set DISCORD_TOKEN"
    )]
    MissingToken { file: String },
    #[error(
        "discord.token does not look like a bot token (expected three dot-separated parts, as the \
         Developer Portal shows under Bot → Reset Token); set it under [discord] in {file} or in DISCORD_TOKEN"
    )]
    MalformedToken { file: String },
    #[error("discord.api_base must be an http(s) URL such as `http://127.0.0.1:3000`, got `{0}`")]
    BadApiBase(String),
    #[error(
        "metrics.listen {0} is not a loopback address: the endpoints have no authentication. Set \
         metrics.allow_remote = true to serve them there anyway (behind a firewall), or use 127.0.0.1"
    )]
    MetricsNotLoopback(SocketAddr),
    #[error("bot.prefix must be 1 to 16 characters without spaces, got `{0}`")]
    BadPrefix(String),
    #[error("bot.command_burst and bot.command_refill_seconds must both be at least 1")]
    BadRateLimit,
    #[error(
        "bot.instance_lease_seconds must be at least {MIN_INSTANCE_LEASE_SECONDS} (it is renewed every third of it), got {0}"
    )]
    BadInstanceLease(u64),
    #[error(
        "games.spawn_every_messages, games.shiny_odds and games.battle_turn_seconds must all be at least 1"
    )]
    BadGames,
    #[error("games.trip_time_scale must be a number above 0 (1 is real time), got {0}")]
    BadTripTimeScale(f64),
    #[error(
        "no data directory: set bot.data_dir in {file} or LOUNGE_BOT__DATA_DIR (the OS gave no default)"
    )]
    NoDataDir { file: String },
    #[error(
        "streamer.enabled is true but no secret is set: put the streamer's ipc_secret as `secret = \"...\"` \
         (or `secret_file = \"PATH\"`) under [streamer] in {file}, or set LOUNGE_STREAMER__SECRET"
    )]
    StreamerNoSecret { file: String },
    #[error(
        "set only one of streamer.secret and streamer.secret_file (in {file} or LOUNGE_STREAMER__*)"
    )]
    StreamerSecretTwice { file: String },
    #[error(
        "set only one of discord.token (or DISCORD_TOKEN) and discord.token_file (in {file} or the environment)"
    )]
    TokenTwice { file: String },
    #[error("discord.token_file {path} could not be read: {reason}")]
    TokenFile { path: PathBuf, reason: String },
    #[error(
        "discord.token_file {path} can be read by other users (mode {mode:o}): make it private with `chmod 600 {path}`",
        path = .path.display()
    )]
    TokenFileOpen { path: PathBuf, mode: u32 },
    #[error("streamer.secret_file {path} could not be read: {reason}")]
    StreamerSecretFile { path: PathBuf, reason: String },
    #[error("streamer.secret_file {0} is empty")]
    StreamerSecretFileEmpty(PathBuf),
    #[error(
        "no default streamer socket on this OS: set streamer.socket in {file} or LOUNGE_STREAMER__SOCKET"
    )]
    StreamerNoSocket { file: String },
}

/// Where the config came from, for messages.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub config: Config,
    /// The file that was read, if any.
    pub file: Option<PathBuf>,
    /// Where the user should put settings (the file read, or the default location).
    pub suggested_file: PathBuf,
    /// Why `discord.token_file` could not stand in for the token, reported by
    /// [`Loaded::token`] so commands that need no token still run.
    token_file_error: Option<ConfigError>,
}

impl Loaded {
    fn file_hint(&self) -> String {
        self.suggested_file.display().to_string()
    }

    /// Where the token comes from, in words for `lounge token check` (never the token).
    pub fn token_source(&self) -> String {
        if let Some(path) = &self.config.discord.token_file {
            return format!("the token file {}", path.display());
        }
        if std::env::var_os("DISCORD_TOKEN").is_some() {
            return "the DISCORD_TOKEN environment variable".to_owned();
        }
        if std::env::var_os("LOUNGE_DISCORD__TOKEN").is_some() {
            return "the LOUNGE_DISCORD__TOKEN environment variable".to_owned();
        }
        match &self.file {
            Some(file) => format!("discord.token in {}", file.display()),
            None => "nowhere yet".to_owned(),
        }
    }

    /// The token, checked for shape. Never include it in an error.
    pub fn token(&self) -> Result<&Secret, ConfigError> {
        let file = self.file_hint();
        if let Some(err) = &self.token_file_error {
            return Err(err.clone());
        }
        let token = self.config.discord.token.as_ref().filter(|t| !t.is_empty());
        let token = token.ok_or_else(|| ConfigError::MissingToken { file: file.clone() })?;
        let bare = token.expose().trim().trim_start_matches("Bot ");
        let parts: Vec<&str> = bare.split('.').collect();
        let well_formed = parts.len() == 3
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        if well_formed {
            Ok(token)
        } else {
            Err(ConfigError::MalformedToken { file })
        }
    }

    pub fn api_base(&self) -> Result<Option<&str>, ConfigError> {
        match self.config.discord.api_base.as_deref() {
            None => Ok(None),
            Some(base) if base.starts_with("http://") || base.starts_with("https://") => {
                Ok(Some(base.trim_end_matches('/')))
            }
            Some(other) => Err(ConfigError::BadApiBase(other.to_owned())),
        }
    }

    pub fn data_dir(&self) -> Result<PathBuf, ConfigError> {
        if let Some(dir) = &self.config.bot.data_dir {
            return Ok(dir.clone());
        }
        project_dirs()
            .map(|d| d.data_dir().to_path_buf())
            .ok_or_else(|| ConfigError::NoDataDir {
                file: self.file_hint(),
            })
    }

    pub fn database_url(&self) -> Result<String, ConfigError> {
        match &self.config.database.url {
            Some(url) => Ok(url.clone()),
            None => Ok(lounge_store::default_sqlite_url(&self.data_dir()?)),
        }
    }

    /// The streamer link, or `None` when it is off (no secret, or `enabled = false`). Reads
    /// `secret_file`; its contents never appear in an error.
    pub fn streamer(&self) -> Result<Option<StreamerSettings>, ConfigError> {
        let config = &self.config.streamer;
        if config.enabled == Some(false) {
            return Ok(None);
        }
        let inline = config.secret.clone().filter(|s| !s.is_empty());
        let secret = match (inline, &config.secret_file) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::StreamerSecretTwice {
                    file: self.file_hint(),
                });
            }
            (Some(secret), None) => Some(secret),
            (None, Some(path)) => Some(read_secret_file(path)?),
            (None, None) => None,
        };
        let Some(secret) = secret else {
            return match config.enabled {
                Some(true) => Err(ConfigError::StreamerNoSecret {
                    file: self.file_hint(),
                }),
                _ => Ok(None),
            };
        };
        let socket = match &config.socket {
            Some(socket) => socket.clone(),
            None => {
                lounge_ipc::default_socket_path().ok_or_else(|| ConfigError::StreamerNoSocket {
                    file: self.file_hint(),
                })?
            }
        };
        Ok(Some(StreamerSettings {
            socket,
            secret,
            autoplay: self.config.plex.autoplay,
        }))
    }

    /// The sections modules read at start-up (see `lounge_kit::Start::config`), each as its
    /// own type; a section a module needs is missing only when it is switched off.
    pub fn module_sections(&self) -> Result<lounge_kit::State, ConfigError> {
        let mut sections = lounge_kit::State::default();
        sections.insert(self.config.games.clone());
        let mut music = self.config.music.clone();
        if music.sounds_dir.is_none() {
            music.sounds_dir = Some(self.data_dir()?.join("sounds"));
        }
        sections.insert(music);
        sections.insert(self.config.giphy.clone());
        let spotify = &self.config.spotify;
        let defaults = lounge_spotify::Config::default();
        sections.insert(lounge_spotify::Config {
            credentials: match (&spotify.client_id, &spotify.client_secret) {
                (Some(id), Some(secret)) => Some(lounge_spotify::Credentials {
                    client_id: id.clone(),
                    client_secret: secret.expose().to_owned(),
                }),
                _ => None,
            },
            api_url: spotify.api_url.clone().unwrap_or(defaults.api_url.clone()),
            accounts_url: spotify
                .accounts_url
                .clone()
                .unwrap_or(defaults.accounts_url.clone()),
            ..defaults
        });
        if let Some(streamer) = self.streamer()? {
            sections.insert(streamer);
        }
        Ok(sections)
    }

    /// Every check that does not need the network: what `lounge config check` runs.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.token()?;
        self.validate_settings()
    }

    /// Every check of [`Loaded::validate`] but the token's, which `lounge doctor` reports on
    /// its own line: a missing token must not hide a wrong prefix behind it.
    pub fn validate_settings(&self) -> Result<(), ConfigError> {
        self.api_base()?;
        let prefix = &self.config.bot.prefix;
        if prefix.is_empty() || prefix.chars().count() > 16 || prefix.contains(char::is_whitespace)
        {
            return Err(ConfigError::BadPrefix(prefix.clone()));
        }
        if self.config.bot.command_burst == 0 || self.config.bot.command_refill_seconds == 0 {
            return Err(ConfigError::BadRateLimit);
        }
        let lease = self.config.bot.instance_lease_seconds;
        if lease < MIN_INSTANCE_LEASE_SECONDS {
            return Err(ConfigError::BadInstanceLease(lease));
        }
        let games = &self.config.games;
        if games.spawn_every_messages == 0
            || games.shiny_odds == 0
            || games.battle_turn_seconds == 0
        {
            return Err(ConfigError::BadGames);
        }
        let scale = self.config.games.trip_time_scale;
        if !(scale.is_finite() && scale > 0.0) {
            return Err(ConfigError::BadTripTimeScale(scale));
        }
        let metrics = &self.config.metrics;
        if metrics.enabled && !metrics.allow_remote && !metrics.listen.ip().is_loopback() {
            return Err(ConfigError::MetricsNotLoopback(metrics.listen));
        }
        if let Some(problem) = self.config.music.problems().into_iter().next() {
            return Err(ConfigError::BadMusic(problem));
        }
        if let Some(problem) = self.config.giphy.problems().into_iter().next() {
            return Err(ConfigError::BadGiphy(problem));
        }
        let spotify = &self.config.spotify;
        if spotify.client_id.is_some() != spotify.client_secret.is_some() {
            return Err(ConfigError::BadMusic(
                "spotify.client_id and spotify.client_secret go together: set both, or neither"
                    .to_owned(),
            ));
        }
        self.database_url()?;
        self.streamer()?;
        Ok(())
    }
}

fn read_secret_file(path: &Path) -> Result<Secret, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::StreamerSecretFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let secret = text.trim();
    if secret.is_empty() {
        return Err(ConfigError::StreamerSecretFileEmpty(path.to_path_buf()));
    }
    Ok(Secret::new(secret))
}

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "lounge")
}

/// The default config path: `<OS config dir>/lounge/lounge.toml`.
pub fn default_config_path() -> PathBuf {
    project_dirs().map_or_else(
        || PathBuf::from("lounge.toml"),
        |d| d.config_dir().join("lounge.toml"),
    )
}

/// Loads the configuration. `explicit` is `--config`; it must exist when given.
pub fn load(explicit: Option<&Path>) -> Result<Loaded, ConfigError> {
    let (file, suggested_file) = match explicit {
        Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.to_path_buf())),
        Some(path) => (Some(path.to_path_buf()), path.to_path_buf()),
        None => {
            let default = default_config_path();
            (default.exists().then(|| default.clone()), default)
        }
    };
    let mut figment = Figment::new()
        .merge(Serialized::default("bot", BotConfig::default()))
        .merge(Serialized::default("log", LogConfig::default()))
        .merge(Serialized::default("games", GamesConfig::default()))
        .merge(Serialized::default("metrics", MetricsConfig::default()));
    if let Some(file) = &file {
        figment = figment.merge(Toml::file_exact(file));
    }
    figment = figment
        // `LOUNGE_STREAMER_*` (one underscore) belongs to lounge-streamer; an environment shared
        // by both processes must not make the bot refuse those as unknown keys.
        .merge(
            Env::prefixed("LOUNGE_")
                .filter(|key| !key.starts_with("streamer_") || key.starts_with("streamer__"))
                .split("__"),
        )
        .merge(
            Env::raw()
                .only(&["DISCORD_TOKEN"])
                .map(|_| "discord.token".into()),
        )
        .merge(
            Env::raw()
                .only(&["DATABASE_URL"])
                .map(|_| "database.url".into()),
        );
    let mut config: Config = figment
        .extract()
        .map_err(|e| ConfigError::Invalid(describe(&e)))?;
    let token_file_error = match config.discord.token_file.clone() {
        None => None,
        Some(_) if config.discord.token.as_ref().is_some_and(|t| !t.is_empty()) => {
            Some(ConfigError::TokenTwice {
                file: suggested_file.display().to_string(),
            })
        }
        Some(path) => match read_token_file(&path) {
            Ok(token) => {
                config.discord.token = Some(token);
                None
            }
            Err(e) => Some(e),
        },
    };
    Ok(Loaded {
        config,
        file,
        suggested_file,
        token_file_error,
    })
}

/// The token from `discord.token_file`, refused when others may read the file: the token is
/// the bot's password.
fn read_token_file(path: &Path) -> Result<Secret, ConfigError> {
    let unreadable = |e: std::io::Error| ConfigError::TokenFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)
            .map_err(unreadable)?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(ConfigError::TokenFileOpen {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    let text = std::fs::read_to_string(path).map_err(unreadable)?;
    Ok(Secret::new(text.trim()))
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

#[cfg(test)]
#[allow(
    clippy::result_large_err,
    reason = "figment::Jail fixes the closures' error type"
)]
mod tests {
    use super::*;

    /// Runs `check` on a config file with `body`, inside figment's jail: its lock keeps
    /// tests that set environment variables from racing each other.
    fn with_file(body: &str, check: impl FnOnce(Result<Loaded, ConfigError>)) {
        figment::Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file("lounge.toml", body)?;
            check(load(Some(Path::new("lounge.toml"))));
            Ok(())
        });
    }

    #[test]
    fn unknown_key_is_named_with_its_file() {
        with_file("[discord]\ntokn = \"x\"\n", |r| {
            let err = r.unwrap_err().to_string();
            assert!(err.contains("discord"), "{err}");
            assert!(err.contains("tokn"), "{err}");
            assert!(err.contains("lounge.toml"), "{err}");
        });
    }

    #[test]
    fn malformed_token_is_refused_without_echoing_it() {
        with_file("[discord]\ntoken = \"hunter2-secret\"\n", |r| {
            let err = r.unwrap().validate().unwrap_err().to_string();
            assert!(err.contains("discord.token"), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        });
    }

    #[test]
    fn env_overrides_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "lounge.toml",
                "[bot]\nprefix = \"?\"\n[discord]\ntoken = \"a.b.c\"\n",
            )?;
            jail.set_env("LOUNGE_BOT__PREFIX", "$");
            jail.set_env("DISCORD_TOKEN", "x.y.z");
            jail.set_env("DATABASE_URL", "postgres://u@h/db");
            let loaded = load(Some(Path::new("lounge.toml"))).unwrap();
            assert_eq!(loaded.config.bot.prefix, "$");
            assert_eq!(loaded.token().unwrap().expose(), "x.y.z");
            assert_eq!(loaded.database_url().unwrap(), "postgres://u@h/db");
            Ok(())
        });
    }

    #[test]
    fn streamer_is_off_without_a_secret_and_on_with_one() {
        with_file("", |r| assert!(r.unwrap().streamer().unwrap().is_none()));
        with_file(
            "[streamer]\nsecret = \"s3cret\"\nsocket = \"/tmp/x.sock\"\n",
            |r| {
                let s = r.unwrap().streamer().unwrap().unwrap();
                assert_eq!(s.secret.expose(), "s3cret");
                assert_eq!(s.socket, Path::new("/tmp/x.sock"));
            },
        );
        with_file("[streamer]\nsecret = \"s3cret\"\nenabled = false\n", |r| {
            assert!(r.unwrap().streamer().unwrap().is_none());
        });
    }

    #[test]
    fn streamer_defaults_to_the_streamers_own_socket() {
        with_file("[streamer]\nsecret = \"s3cret\"\n", |r| {
            let s = r.unwrap().streamer().unwrap().unwrap();
            assert_eq!(Some(s.socket), lounge_ipc::default_socket_path());
        });
    }

    #[test]
    fn streamer_secret_problems_are_named_without_the_secret() {
        with_file("[streamer]\nenabled = true\n", |r| {
            let err = r.unwrap().streamer().unwrap_err().to_string();
            assert!(
                err.contains("streamer.enabled") && err.contains("secret"),
                "{err}"
            );
        });
        with_file(
            "[streamer]\nsecret = \"s3cret\"\nsecret_file = \"s\"\n",
            |r| {
                let err = r.unwrap().streamer().unwrap_err().to_string();
                assert!(err.contains("only one"), "{err}");
                assert!(!err.contains("s3cret"), "{err}");
            },
        );
        with_file("[streamer]\nsecret_file = \"missing\"\n", |r| {
            let err = r.unwrap().streamer().unwrap_err().to_string();
            assert!(err.contains("streamer.secret_file missing"), "{err}");
        });
    }

    #[test]
    fn streamer_secret_file_is_read_and_trimmed() {
        figment::Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file("secret", "  s3cret\n")?;
            jail.create_file("empty", "\n")?;
            jail.create_file("lounge.toml", "[streamer]\nsecret_file = \"secret\"\n")?;
            let s = load(Some(Path::new("lounge.toml"))).unwrap().streamer();
            assert_eq!(s.unwrap().unwrap().secret.expose(), "s3cret");
            jail.create_file("lounge.toml", "[streamer]\nsecret_file = \"empty\"\n")?;
            let s = load(Some(Path::new("lounge.toml"))).unwrap().streamer();
            assert!(matches!(s, Err(ConfigError::StreamerSecretFileEmpty(_))));
            Ok(())
        });
    }

    #[test]
    fn streamer_env_is_split_and_the_streamers_own_variables_are_ignored() {
        figment::Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file("lounge.toml", "")?;
            jail.set_env("LOUNGE_STREAMER__SECRET", "from-env");
            jail.set_env("LOUNGE_STREAMER__SOCKET", "/tmp/env.sock");
            // lounge-streamer's own settings, from a shared environment.
            jail.set_env("LOUNGE_STREAMER_IPC_SECRET", "from-env");
            jail.set_env("LOUNGE_STREAMER_ENCODER", "x264");
            let s = load(Some(Path::new("lounge.toml")))
                .unwrap()
                .streamer()
                .unwrap()
                .unwrap();
            assert_eq!(s.secret.expose(), "from-env");
            assert_eq!(s.socket, Path::new("/tmp/env.sock"));
            Ok(())
        });
    }

    #[test]
    fn trip_time_scale_must_be_positive() {
        with_file(
            "[discord]\ntoken = \"a.b.c\"\n[games]\ntrip_time_scale = 0.0\n",
            |r| {
                assert!(matches!(
                    r.unwrap().validate(),
                    Err(ConfigError::BadTripTimeScale(_))
                ));
            },
        );
    }

    #[test]
    fn instance_lease_has_a_floor() {
        with_file(
            "[discord]\ntoken = \"a.b.c\"\n[bot]\ninstance_lease_seconds = 2\n",
            |r| {
                let err = r.unwrap().validate().unwrap_err();
                assert!(matches!(err, ConfigError::BadInstanceLease(2)), "{err}");
                assert!(err.to_string().contains("at least 3"), "{err}");
            },
        );
    }

    #[test]
    fn metrics_listen_defaults_to_loopback_and_refuses_others_unless_allowed() {
        with_file("[discord]\ntoken = \"a.b.c\"\n", |r| {
            let loaded = r.unwrap();
            assert!(loaded.config.metrics.enabled);
            assert_eq!(loaded.config.metrics.listen, DEFAULT_METRICS_LISTEN);
            loaded.validate().unwrap();
        });
        with_file(
            "[discord]\ntoken = \"a.b.c\"\n[metrics]\nlisten = \"0.0.0.0:9464\"\n",
            |r| {
                let err = r.unwrap().validate().unwrap_err();
                assert!(matches!(err, ConfigError::MetricsNotLoopback(_)), "{err}");
                assert!(err.to_string().contains("metrics.allow_remote"), "{err}");
            },
        );
        with_file(
            "[discord]\ntoken = \"a.b.c\"\n[metrics]\nlisten = \"0.0.0.0:9464\"\nallow_remote = true\n",
            |r| r.unwrap().validate().unwrap(),
        );
        with_file(
            "[discord]\ntoken = \"a.b.c\"\n[metrics]\nlisten = \"0.0.0.0:9464\"\nenabled = false\n",
            |r| r.unwrap().validate().unwrap(),
        );
    }

    #[test]
    fn api_base_must_be_http() {
        with_file(
            "[discord]\ntoken = \"a.b.c\"\napi_base = \"ftp://x\"\n",
            |r| {
                assert!(matches!(
                    r.unwrap().validate(),
                    Err(ConfigError::BadApiBase(_))
                ));
            },
        );
    }
}
