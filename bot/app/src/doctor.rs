//! `lounge doctor`: every check of what the bot needs, each failure with its fix.
//!
//! Read-only like `config check`, but it does talk to Discord (with the token, to the same
//! `discord.api_base` the bot uses) and to the streamer. Its wording is all in this file.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use poise::serenity_prelude as serenity;
use serde::Serialize;

use lounge_ipc::client::{Client, ClientConfig, ConnectionState};
use lounge_ipc::to_bot::{ErrorKind, RefuseReason, Reply};
use lounge_ipc::to_streamer::Command;

use crate::config::{self, ConfigError, Loaded};
use crate::runtime;

/// The application flags that say the Message Content intent is switched on: the full one
/// (verified bots Discord approved) and the one any bot in under 100 servers can turn on.
const GATEWAY_MESSAGE_CONTENT: u64 = serenity::ApplicationFlags::GATEWAY_MESSAGE_CONTENT.bits();
const GATEWAY_MESSAGE_CONTENT_LIMITED: u64 =
    serenity::ApplicationFlags::GATEWAY_MESSAGE_CONTENT_LIMITED.bits();

/// A request to Discord or a tool that takes longer than this is reported as failed.
const PROBE_TIMEOUT: Duration = Duration::from_secs(15);

const PORTAL: &str = "https://discord.com/developers/applications";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
    Info,
}

impl Status {
    fn symbol(self) -> &'static str {
        match self {
            Self::Ok => "✓",
            Self::Warn => "!",
            Self::Fail => "✗",
            Self::Info => "-",
        }
    }
}

/// One line of the report: a check and what it found.
#[derive(Debug, Serialize)]
pub struct Finding {
    pub check: &'static str,
    pub status: Status,
    pub detail: String,
    pub fix: Option<String>,
}

impl Finding {
    fn new(check: &'static str, status: Status, detail: impl Into<String>) -> Self {
        Self {
            check,
            status,
            detail: detail.into(),
            fix: None,
        }
    }

    fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// Runs every check, prints the report and fails when a required check failed.
pub fn main(config_path: Option<&Path>, json: bool) -> ExitCode {
    report(&on_runtime(run(config_path)), json)
}

/// `lounge token check`: where the token comes from, and the token, application and intent
/// checks of `doctor`. The token itself is never printed.
pub fn token_check(config_path: Option<&Path>) -> ExitCode {
    let checks = match config::load(config_path) {
        Err(e) => vec![config_failure(&e)],
        Ok(loaded) => on_runtime(async {
            let mut checks = vec![Finding::new(
                "token source",
                Status::Info,
                loaded.token_source(),
            )];
            checks.extend(discord(&loaded).await);
            checks
        }),
    };
    report(&checks, false)
}

/// Runs `checks` on a runtime of their own, or reports that none could be started.
fn on_runtime(checks: impl Future<Output = Vec<Finding>>) -> Vec<Finding> {
    match tokio::runtime::Runtime::new() {
        Ok(rt) => rt.block_on(checks),
        Err(e) => vec![Finding::new(
            "runtime",
            Status::Fail,
            format!("could not start the async runtime: {e}"),
        )],
    }
}

fn report(checks: &[Finding], json: bool) -> ExitCode {
    if json {
        match serde_json::to_string_pretty(checks) {
            Ok(text) => println!("{text}"),
            Err(e) => eprintln!("error: could not encode the report: {e}"),
        }
    } else {
        for c in checks {
            match &c.fix {
                Some(fix) => println!(
                    "{} {}: {} — fix: {fix}",
                    c.status.symbol(),
                    c.check,
                    c.detail
                ),
                None => println!("{} {}: {}", c.status.symbol(), c.check, c.detail),
            }
        }
    }
    if checks.iter().any(|c| c.status == Status::Fail) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

async fn run(config_path: Option<&Path>) -> Vec<Finding> {
    let mut checks = Vec::new();
    let loaded = match config::load(config_path) {
        Ok(loaded) => loaded,
        Err(e) => {
            checks.push(config_failure(&e));
            // Nothing else can be judged without a configuration; the tools still can.
            checks.extend(tools(Path::new("yt-dlp")).await);
            return checks;
        }
    };
    let source = match &loaded.file {
        Some(file) => format!("loaded from {}", file.display()),
        None => format!(
            "no file (looked for {}); defaults and the environment",
            loaded.suggested_file.display()
        ),
    };
    match loaded.validate_settings() {
        Ok(()) => checks.push(Finding::new("configuration", Status::Ok, source)),
        Err(e) => checks.push(config_failure(&e)),
    }

    checks.extend(discord(&loaded).await);
    checks.push(database(&loaded).await);
    let streamer = streamer(&loaded).await;
    checks.push(streamer.check);
    checks.extend(tools(&loaded.config.music.ytdlp).await);
    checks.push(plex(streamer.client.as_ref()).await);
    checks
}

fn config_failure(e: &ConfigError) -> Finding {
    // The configuration's errors already say which setting and where to put it.
    Finding::new(
        "configuration",
        Status::Fail,
        "the configuration is not usable",
    )
    .fix(e.to_string())
}

/// Token, application and the Message Content intent.
async fn discord(loaded: &Loaded) -> Vec<Finding> {
    let skipped = |check| Finding::new(check, Status::Info, "not checked: needs a working token");
    let token = match loaded.token() {
        Ok(token) => runtime::bare_token(token.expose()),
        Err(e) => {
            let detail = match e {
                ConfigError::MissingToken { .. } => "not set",
                ConfigError::MalformedToken { .. } => "not a bot token",
                _ => "unusable",
            };
            return vec![
                Finding::new("token", Status::Fail, detail).fix(e.to_string()),
                skipped("application"),
                skipped("message content intent"),
            ];
        }
    };
    let Ok(api_base) = loaded.api_base() else {
        // Reported by the configuration check.
        return vec![
            skipped("token"),
            skipped("application"),
            skipped("message content intent"),
        ];
    };
    let base = api_base.unwrap_or(config::DISCORD_API_HOST).to_owned();
    let http = runtime::discord_http(&token, api_base);
    let unreachable = |check, reason: String| {
        Finding::new(check, Status::Fail, format!("could not reach Discord at {base}: {reason}"))
            .fix("check the network (and discord.api_base, if set); https://discordstatus.com says whether Discord is down")
    };

    let user = tokio::time::timeout(PROBE_TIMEOUT, http.get_current_user()).await;
    let token_check = match user {
        Ok(Ok(user)) => Finding::new(
            "token",
            Status::Ok,
            format!("accepted: bot user {} ({})", user.name, user.id),
        ),
        Ok(Err(serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(resp))))
            if resp.status_code.as_u16() == 401 =>
        {
            return vec![
                Finding::new(
                    "token",
                    Status::Fail,
                    "Discord rejected discord.token (401 Unauthorized): it is wrong or was reset",
                )
                .fix(format!(
                    "copy a fresh token from {PORTAL} (your application → Bot → Reset Token) into discord.token or DISCORD_TOKEN"
                )),
                skipped("application"),
                skipped("message content intent"),
            ];
        }
        Ok(Err(e)) => {
            return vec![
                unreachable("token", runtime::error_chain(&e)),
                skipped("application"),
                skipped("message content intent"),
            ];
        }
        Err(_) => {
            return vec![
                unreachable("token", "no answer in 15 s".to_owned()),
                skipped("application"),
                skipped("message content intent"),
            ];
        }
    };

    let app = match tokio::time::timeout(PROBE_TIMEOUT, runtime::application(&http)).await {
        Ok(Ok(app)) => app,
        Ok(Err(e)) => {
            return vec![
                token_check,
                unreachable("application", runtime::error_chain(&e)),
                Finding::new(
                    "message content intent",
                    Status::Info,
                    "not checked: needs the application",
                ),
            ];
        }
        Err(_) => {
            return vec![
                token_check,
                unreachable("application", "no answer in 15 s".to_owned()),
                Finding::new(
                    "message content intent",
                    Status::Info,
                    "not checked: needs the application",
                ),
            ];
        }
    };
    let app_check = Finding::new(
        "application",
        Status::Ok,
        format!("{} (id {}, owner {})", app.name, app.id, app.owner),
    );
    let intent = if app.flags & GATEWAY_MESSAGE_CONTENT != 0 {
        Finding::new("message content intent", Status::Ok, "enabled")
    } else if app.flags & GATEWAY_MESSAGE_CONTENT_LIMITED != 0 {
        Finding::new(
            "message content intent",
            Status::Ok,
            "enabled (limited: fine below 100 servers; past that Discord must approve it)",
        )
    } else {
        // The bot asks for the intent, and Discord closes the gateway (4014) without it.
        Finding::new(
            "message content intent",
            Status::Fail,
            "off: Discord would refuse the bot's gateway connection, and prefix commands need it",
        )
        .fix(format!(
            "turn on Message Content Intent at {PORTAL} → your application ({}) → Bot → Privileged Gateway Intents, then save",
            app.id
        ))
    };
    vec![token_check, app_check, intent]
}

async fn database(loaded: &Loaded) -> Finding {
    let url = match loaded.database_url() {
        Ok(url) => url,
        Err(e) => {
            return Finding::new("database", Status::Fail, "no database URL").fix(e.to_string());
        }
    };
    let store = match lounge_store::Store::inspect(&url).await {
        Ok(Some(store)) => store,
        Ok(None) => {
            let path = lounge_store::sqlite_file(&url)
                .map_or_else(String::new, |p| p.display().to_string());
            return Finding::new(
                "database",
                Status::Ok,
                format!("SQLite file {path} does not exist yet; it will be created on first run"),
            );
        }
        Err(e) => {
            return Finding::new("database", Status::Fail, e.to_string()).fix(
                "check database.url (or DATABASE_URL) and that the database server is running and lets this user in",
            );
        }
    };
    let backend = store.backend().name();
    let status = store.migration_status().await;
    store.close().await;
    let status = match status {
        Ok(status) => status,
        Err(e) => {
            return Finding::new("database", Status::Fail, format!("{backend}: {e}"))
                .fix("check that the database user may read the schema");
        }
    };
    if let Some(database) = status.too_new() {
        return Finding::new(
            "database",
            Status::Fail,
            format!(
                "{backend}: schema at version {database}, newer than this lounge knows (up to {})",
                status.newest_known
            ),
        )
        .fix("upgrade lounge, or point database.url at a database made by this version");
    }
    if status.failed.is_some() {
        return Finding::new(
            "database",
            Status::Fail,
            format!("{backend}: {}", crate::schema_summary(&status)),
        )
        .fix("restore the database from a backup, or repair the failed migration by hand");
    }
    if status.is_current() {
        return Finding::new(
            "database",
            Status::Ok,
            format!("{backend} reachable, {}", crate::schema_summary(&status)),
        );
    }
    let at = status
        .version()
        .map_or_else(|| "empty".to_owned(), |v| format!("at version {v}"));
    Finding::new(
        "database",
        Status::Warn,
        format!(
            "{backend} reachable, schema {at}, {} migration{} pending",
            status.pending.len(),
            if status.pending.len() == 1 { "" } else { "s" }
        ),
    )
    .fix("`lounge run` applies them at start-up; `lounge db migrate` applies them now")
}

struct StreamerCheck {
    check: Finding,
    /// The connected client, for the checks that go through the streamer.
    client: Option<Client>,
}

async fn streamer(loaded: &Loaded) -> StreamerCheck {
    let settings = match loaded.streamer() {
        Ok(Some(settings)) => settings,
        Ok(None) => {
            return StreamerCheck {
                check: Finding::new(
                    "streamer",
                    Status::Info,
                    "off (no streamer.secret, or streamer.enabled = false)",
                ),
                client: None,
            };
        }
        Err(e) => {
            return StreamerCheck {
                check: Finding::new("streamer", Status::Fail, "misconfigured").fix(e.to_string()),
                client: None,
            };
        }
    };
    let socket = settings.socket.display().to_string();
    let client = Client::spawn(ClientConfig::new(&settings.socket, settings.secret));
    let mut state = client.state();
    // The first attempt ends connected, refused or offline; the handshake's own timeout
    // bounds it, and this one only guards against a streamer that never answers.
    let settled = tokio::time::timeout(
        PROBE_TIMEOUT,
        state.wait_for(|s| !matches!(s, ConnectionState::Connecting)),
    )
    .await
    .ok()
    .and_then(Result::ok)
    .map(|s| s.clone());
    let check = match settled {
        Some(ConnectionState::Connected {
            version,
            capabilities,
            ..
        }) => {
            let encoders = if capabilities.encoders.is_empty() {
                "none".to_owned()
            } else {
                capabilities.encoders.join(", ")
            };
            let check = Finding::new(
                "streamer",
                Status::Ok,
                format!(
                    "connected at {socket} (protocol {version}, encoders: {encoders}, Go Live video: {})",
                    if capabilities.video { "yes" } else { "no" }
                ),
            );
            return StreamerCheck {
                check,
                client: Some(client),
            };
        }
        Some(ConnectionState::Refused {
            reason, message, ..
        }) => {
            let fix = match reason {
                RefuseReason::BadSecret => {
                    "set streamer.secret (or streamer.secret_file) to the streamer's ipc_secret"
                }
                RefuseReason::VersionMismatch => {
                    "install the same Lounge release of lounge and lounge-streamer"
                }
                _ => "check that streamer.socket is lounge-streamer's socket",
            };
            Finding::new("streamer", Status::Fail, format!("refused at {socket}: {message}")).fix(fix)
        }
        Some(ConnectionState::Offline { reason }) => Finding::new(
            "streamer",
            Status::Warn,
            format!("offline at {socket}: {reason}"),
        )
        .fix("start lounge-streamer (systemctl start lounge-streamer), or set streamer.socket to where it listens"),
        _ => Finding::new(
            "streamer",
            Status::Warn,
            format!("no answer at {socket} in 15 s"),
        )
        .fix("check that lounge-streamer is running and not stuck"),
    };
    StreamerCheck {
        check,
        client: None,
    }
}

async fn plex(client: Option<&Client>) -> Finding {
    let Some(client) = client else {
        return Finding::new(
            "plex",
            Status::Info,
            "needs the streamer (only it talks to Plex)",
        );
    };
    match client.request(Command::PlexLibraries).await {
        Ok(Reply::PlexLibraries { libraries }) => Finding::new(
            "plex",
            Status::Ok,
            format!("linked, {} librar{}", libraries.len(), if libraries.len() == 1 { "y" } else { "ies" }),
        ),
        Ok(_) => Finding::new("plex", Status::Info, "the streamer answered something unexpected"),
        Err(lounge_ipc::ClientError::Streamer {
            kind: ErrorKind::PlexNotLinked,
            ..
        }) => Finding::new("plex", Status::Info, "not linked")
            .fix("run `lounge-streamer plex login` where the streamer runs"),
        Err(e) => Finding::new("plex", Status::Warn, e.to_string())
            .fix("run `lounge-streamer plex check` where the streamer runs; it says exactly what is wrong"),
    }
}

/// yt-dlp (`music.ytdlp`), its JavaScript runtime and FFmpeg, looked for on PATH.
async fn tools(ytdlp_program: &Path) -> Vec<Finding> {
    let mut checks = Vec::new();
    let program = ytdlp_program.to_string_lossy();
    let ytdlp = version(&program, &["--version"]).await;
    checks.push(match &ytdlp {
        Some(v) => Finding::new("yt-dlp", Status::Ok, format!("{v} ({program})")),
        None => Finding::new(
            "yt-dlp",
            Status::Warn,
            format!("{program} not found: /play can't look up links or searches"),
        )
        .fix("install yt-dlp (https://github.com/yt-dlp/yt-dlp#installation; Debian's package is too old for YouTube: pipx install yt-dlp), or set music.ytdlp to its path"),
    });
    let mut runtime = None;
    for (name, args) in [("deno", &["--version"][..]), ("node", &["--version"][..])] {
        if let Some(v) = version(name, args).await {
            runtime = Some(format!("{name} {v}"));
            break;
        }
    }
    checks.push(match (runtime, ytdlp.is_some()) {
        (Some(r), _) => Finding::new("javascript runtime", Status::Ok, format!("{r} on PATH")),
        // YouTube's player needs JavaScript run for yt-dlp to get the media.
        (None, true) => Finding::new(
            "javascript runtime",
            Status::Warn,
            "neither deno nor node on PATH: yt-dlp cannot fetch YouTube without one",
        )
        .fix("install deno (https://deno.com) or Node.js"),
        (None, false) => Finding::new(
            "javascript runtime",
            Status::Info,
            "neither deno nor node on PATH (only yt-dlp needs one)",
        ),
    });
    checks.push(match version("ffmpeg", &["-version"]).await {
        Some(v) => Finding::new("ffmpeg", Status::Ok, v),
        None => Finding::new("ffmpeg", Status::Warn, "not on PATH")
            .fix("install FFmpeg (apt install ffmpeg, brew install ffmpeg)"),
    });
    checks
}

/// The first line a tool prints for its version, or `None` when it is not on PATH, fails or
/// hangs.
async fn version(program: &str, args: &[&str]) -> Option<String> {
    let output = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(PROBE_TIMEOUT, output)
        .await
        .ok()?
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().next()?.trim();
    (!line.is_empty()).then(|| line.to_owned())
}
