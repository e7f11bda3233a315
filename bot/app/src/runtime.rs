//! Start-up, the Discord connection and graceful shutdown.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use poise::serenity_prelude as serenity;

use lounge_kit::{Data, Error, error, module};
use lounge_store::Store;

use crate::config::Loaded;

/// Why the bot stopped before or while running, worded for the operator.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Store(#[from] lounge_store::StoreError),
    #[error(
        "Discord rejected discord.token (401 Unauthorized): it is wrong or was reset. \
         Copy a fresh one from the Developer Portal (Bot → Reset Token) into discord.token or DISCORD_TOKEN"
    )]
    TokenRejected,
    #[error("could not reach Discord at {base}: {reason}")]
    Unreachable { base: String, reason: String },
    #[error("the Discord connection failed: {0}")]
    Gateway(String),
    /// Set-up after connecting failed for good; the bot closed the gateway rather than stay
    /// connected and answering nothing (poise runs its setup once).
    #[error("{0}")]
    Setup(String),
    /// Only ever a start-up step's transient error: the step waits for the lock.
    #[error(
        "another lounge process is serving this bot (application {application}, all shards; held by {holder}): \
         waiting for it to stop"
    )]
    InstanceBusy { application: u64, holder: String },
    /// The metrics listener could not be set up (its recorder, not its port: a busy port is
    /// retried in the background).
    #[error("{0}")]
    Metrics(String),
    #[error(
        "lost the instance lock: {0}. Stopped serving so that two processes never answer the same \
         commands; the next start waits until the lock is free"
    )]
    InstanceLockLost(String),
}

/// Start-up waits out outages (a database restarting, a Discord incident) instead of exiting:
/// a service manager restarting a failing unit every few seconds gives up after a burst
/// (systemd's `StartLimitBurst`), which turns a short outage into a dead bot.
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(30);
/// Registration is retried a few times only: past that, a bot that cannot register its slash
/// commands exits non-zero, so the service manager (and the operator) see it.
const REGISTER_ATTEMPTS: u32 = 5;

/// One start-up step's failure: worth waiting out, or final.
pub(crate) enum StepError {
    Transient(RunError),
    Fatal(RunError),
}

/// Runs `op` until it succeeds, fails fatally, or uses up `attempts` (`None`: no limit),
/// doubling the wait between tries up to [`RETRY_MAX`]. `Ok(None)` means SIGINT or SIGTERM
/// came while waiting: the caller stops cleanly.
pub(crate) async fn with_retries<T, F, Fut>(
    step: &'static str,
    attempts: Option<u32>,
    mut op: F,
) -> Result<Option<T>, RunError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StepError>>,
{
    let mut wait = RETRY_FIRST;
    let mut attempt = 1u32;
    loop {
        match op().await {
            Ok(value) => return Ok(Some(value)),
            Err(StepError::Fatal(e)) => return Err(e),
            Err(StepError::Transient(e)) if attempts.is_some_and(|n| attempt >= n) => {
                return Err(e);
            }
            Err(StepError::Transient(e)) => {
                tracing::warn!(
                    step,
                    attempt,
                    retry_in_s = wait.as_secs(),
                    "not ready: {e}; retrying"
                );
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = shutdown_signal() => {
                        tracing::info!(step, "shutting down while waiting");
                        return Ok(None);
                    }
                }
                wait = (wait * 2).min(RETRY_MAX);
                attempt = attempt.saturating_add(1);
            }
        }
    }
}

/// A 5xx or a request that never got an answer: Discord (or the way to it) is having trouble,
/// as opposed to refusing what we sent.
fn is_transient_http(e: &serenity::Error) -> bool {
    match e {
        serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(resp)) => {
            resp.status_code.is_server_error()
        }
        serenity::Error::Http(serenity::HttpError::Request(_)) => true,
        _ => false,
    }
}

/// Runs the bot until SIGINT/SIGTERM or a fatal gateway error. The metrics and health
/// listener comes first and goes last, so `/readyz` explains every wait in between.
pub async fn run(loaded: Loaded) -> Result<(), RunError> {
    loaded.validate()?;
    let health = Arc::new(crate::health::Health::default());
    let listener =
        crate::health::start(&loaded.config.metrics, health.clone()).map_err(RunError::Metrics)?;
    let result = serve(loaded, &health).await;
    if let Some(listener) = listener {
        listener.stop().await;
    }
    result
}

async fn serve(loaded: Loaded, health: &crate::health::Health) -> Result<(), RunError> {
    let token = bare_token(loaded.token()?.expose());
    let api_base = loaded.api_base()?.map(str::to_owned);
    let default_prefix = loaded.config.bot.prefix.clone();
    let limiter = lounge_kit::limits::CommandLimiter::new(
        std::num::NonZeroU32::new(loaded.config.bot.command_burst)
            .unwrap_or(std::num::NonZeroU32::MIN),
        Duration::from_secs(loaded.config.bot.command_refill_seconds),
    );

    let http = discord_http(&token, api_base.as_deref());
    let discord = || async {
        check_token(&http, api_base.as_deref()).await?;
        application(&http)
            .await
            .map_err(|e| discord_step_error(&e, api_base.as_deref()))
    };
    let Some(application) = with_retries("Discord", None, discord).await? else {
        return Ok(());
    };

    let mut state = loaded.module_sections()?;
    // The music module plays through the voice manager the gateway client is built with.
    let voice = lounge_module_music::voice_manager();
    state.insert(voice.clone());
    let modules = crate::modules::all();

    let database_url = loaded.database_url()?;
    let open = || async {
        Store::open(&database_url).await.map_err(|e| {
            if e.is_transient() {
                StepError::Transient(e.into())
            } else {
                StepError::Fatal(e.into())
            }
        })
    };
    let Some(store) = with_retries("database", None, open).await? else {
        return Ok(());
    };
    tracing::info!(backend = store.backend().name(), "storage ready");
    health.set_store(&store);

    // Before the gateway: a second process with this token must not serve a single command.
    let lease = Duration::from_secs(loaded.config.bot.instance_lease_seconds);
    let Some(lock) = crate::instance::wait_for_lock(&store, application.id, lease).await? else {
        store.close().await;
        return Ok(());
    };
    let keeper = crate::instance::Keeper::start(lock);

    let dev_guild = loaded.config.discord.dev_guild.map(serenity::GuildId::new);
    // Only the application's owner and the configured users: poise would add every developer
    // of the application's team, and owners can drive the streamer's user account.
    let owners: std::collections::HashSet<_> = loaded
        .config
        .discord
        .owners
        .iter()
        .copied()
        .chain([application.owner])
        .map(serenity::UserId::new)
        .collect();
    tracing::info!(owners = ?owners.iter().map(|u| u.get()).collect::<Vec<_>>(), "bot owners");
    let setup_store = store.clone();
    // Module tasks are started by `setup` (they need the connected client's HTTP) and
    // stopped after the gateway closes, before the pool does.
    let (stop_tasks, tasks_stop) = tokio::sync::watch::channel(false);
    let tasks: Arc<std::sync::Mutex<Vec<module::Task>>> = Arc::default();
    let setup_tasks = tasks.clone();
    let setup_failure: Arc<Mutex<Option<String>>> = Arc::default();
    let failure_slot = setup_failure.clone();
    let commands = lounge_kit::policy::collect(&modules);
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands,
            on_error: |e| Box::pin(error::on_error(e)),
            command_check: Some(|ctx| Box::pin(rate_limit(ctx))),
            // Cooldowns are ours (per-guild overrides, started only on success).
            manual_cooldowns: true,
            pre_command: |ctx| Box::pin(lounge_kit::telemetry::pre_command(ctx)),
            post_command: |ctx| {
                Box::pin(async move {
                    lounge_kit::cooldown::start(ctx).await;
                    lounge_kit::telemetry::finished(ctx, lounge_kit::telemetry::Outcome::Ok);
                })
            },
            // Each module's hooks, where its switch is on.
            event_handler: |framework, event| Box::pin(module::dispatch_event(framework, event)),
            // Nothing the bot says pings anyone unless a command opts in explicitly.
            allowed_mentions: Some(serenity::CreateAllowedMentions::new().replied_user(false)),
            owners,
            prefix_options: poise::PrefixFrameworkOptions {
                dynamic_prefix: Some(|ctx| Box::pin(guild_prefix(ctx))),
                mention_as_prefix: true,
                edit_tracker: Some(Arc::new(poise::EditTracker::for_timespan(Duration::from_mins(5)))),
                ..Default::default()
            },
            ..Default::default()
        })
        // The builder's switch wins over the options' one: poise would add the team.
        .initialize_owners(false)
        .setup(move |ctx, ready, framework| {
            Box::pin(async move {
                tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "connected to Discord");
                // A failure here would otherwise leave the gateway connected and every
                // command unanswered: poise never retries setup. So it closes the gateway and
                // `run` exits non-zero with the reason.
                let fail = |reason: String| -> Error {
                    *failure_slot.lock().unwrap_or_else(PoisonError::into_inner) =
                        Some(reason.clone());
                    let shards = framework.shard_manager().clone();
                    tokio::spawn(async move { shards.shutdown_all().await });
                    reason.into()
                };
                let commands = &framework.options().commands;
                let register = || async {
                    let result = match dev_guild {
                        Some(guild) => poise::builtins::register_in_guild(ctx, commands, guild).await,
                        None => poise::builtins::register_globally(ctx, commands).await,
                    };
                    result.map_err(|e| {
                        let transient = is_transient_http(&e);
                        let e = RunError::Setup(format!(
                            "registering the slash commands failed: {}",
                            error_chain(&e)
                        ));
                        if transient { StepError::Transient(e) } else { StepError::Fatal(e) }
                    })
                };
                match with_retries("slash commands", Some(REGISTER_ATTEMPTS), register).await {
                    Ok(Some(())) => {}
                    Ok(None) => return Err(fail("shut down during start-up".to_owned())),
                    Err(e) => return Err(fail(e.to_string())),
                }
                tracing::info!(count = commands.len(), scope = ?dev_guild, "slash commands registered");
                let mut started = Vec::new();
                if let Err(e) = module::start_all(
                    &modules,
                    &mut module::Start {
                        store: &setup_store,
                        http: ctx.http.clone(),
                        cache: ctx.cache.clone(),
                        state: &mut state,
                        stop: tasks_stop,
                        tasks: &mut started,
                    },
                ) {
                    return Err(fail(format!("starting the modules' background tasks failed: {e}")));
                }
                *setup_tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = started;
                Ok(Data {
                    store: setup_store,
                    started: Instant::now(),
                    default_prefix,
                    limiter,
                    modules,
                    state,
                })
            })
        })
        .build();

    let intents = serenity::GatewayIntents::GUILDS
        | serenity::GatewayIntents::GUILD_MESSAGES
        | serenity::GatewayIntents::DIRECT_MESSAGES
        | serenity::GatewayIntents::MESSAGE_CONTENT
        | serenity::GatewayIntents::GUILD_VOICE_STATES;
    // Asked before the client is built, with retries: serenity asks once and, failing, falls
    // back to discord.com's gateway, whatever api_base says.
    let gateway = || async {
        http.get_bot_gateway().await.map_err(|e| {
            let transient = is_transient_http(&e);
            let e = RunError::Gateway(format!("asking for the gateway: {}", error_chain(&e)));
            if transient {
                StepError::Transient(e)
            } else {
                StepError::Fatal(e)
            }
        })
    };
    let Some(gateway) = with_retries("Discord gateway", None, gateway).await? else {
        keeper.stop().await;
        store.close().await;
        return Ok(());
    };
    if let Some(reason) = keeper.lost().borrow().clone() {
        keeper.stop().await;
        store.close().await;
        return Err(RunError::InstanceLockLost(reason));
    }
    let mut client = match serenity::ClientBuilder::new_with_http(http, intents)
        .framework(framework)
        .voice_manager_arc(voice)
        .await
    {
        Ok(client) => client,
        Err(e) => {
            keeper.stop().await;
            store.close().await;
            return Err(RunError::Gateway(e.to_string()));
        }
    };
    *client.ws_url.lock().await = gateway.url;

    let shard_manager = client.shard_manager.clone();
    health.set_shards(shard_manager.clone());
    let mut lost = keeper.lost();
    tokio::spawn(async move {
        tokio::select! {
            () = shutdown_signal() => tracing::info!("shutting down: closing the gateway"),
            // Only a lost lock matches; the keeper ending normally drops the sender.
            Ok(_) = lost.wait_for(Option::is_some) => {
                tracing::error!("shutting down: closing the gateway, the instance lock is lost");
            }
        }
        shard_manager.shutdown_all().await;
    });

    let result = client.start_shards(gateway.shards.max(1)).await;
    let _ = stop_tasks.send(true);
    let started = std::mem::take(
        &mut *tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    for task in started {
        if tokio::time::timeout(Duration::from_secs(10), task.handle)
            .await
            .is_err()
        {
            tracing::warn!("{} did not stop within 10 s", task.name);
        }
    }
    // Released only now: a successor must not start while our tasks still run.
    let lost = keeper.stop().await;
    store.close().await;
    tracing::info!("stopped");
    if let Some(reason) = setup_failure
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
    {
        return Err(RunError::Setup(reason));
    }
    if let Some(reason) = lost {
        return Err(RunError::InstanceLockLost(reason));
    }
    result.map_err(|e| match e {
        serenity::Error::Gateway(serenity::GatewayError::InvalidAuthentication) => {
            RunError::TokenRejected
        }
        other => RunError::Gateway(other.to_string()),
    })
}

/// The REST client for `token`, sending to `api_base` when one is set.
pub(crate) fn discord_http(token: &str, api_base: Option<&str>) -> serenity::Http {
    let mut http = serenity::HttpBuilder::new(token);
    if let Some(base) = api_base {
        // serenity's own rate limiter always talks to discord.com, so with a different base
        // the limiting is the proxy's job (the design of twilight-http-proxy and nirn-proxy).
        http = http.proxy(base).ratelimiter_disabled(true);
    }
    http.build()
}

/// The token as the HTTP client wants it: without a pasted `Bot ` prefix or whitespace.
pub(crate) fn bare_token(token: &str) -> String {
    token.trim().trim_start_matches("Bot ").to_owned()
}

/// Asks Discord who we are before opening the gateway, so a bad token fails fast with a clear
/// message instead of a gateway close code.
async fn check_token(http: &serenity::Http, api_base: Option<&str>) -> Result<(), StepError> {
    match http.get_current_user().await {
        Ok(user) => {
            tracing::info!(user = %user.name, id = user.id.get(), "token accepted");
            Ok(())
        }
        Err(serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(resp)))
            if resp.status_code.as_u16() == 401 =>
        {
            Err(StepError::Fatal(RunError::TokenRejected))
        }
        Err(e) => Err(discord_step_error(&e, api_base)),
    }
}

/// A failed request to Discord at start-up, retried when Discord is the one in trouble.
fn discord_step_error(e: &serenity::Error, api_base: Option<&str>) -> StepError {
    let transient = is_transient_http(e);
    let e = RunError::Unreachable {
        base: api_base
            .unwrap_or(crate::config::DISCORD_API_HOST)
            .to_owned(),
        reason: error_chain(e),
    };
    if transient {
        StepError::Transient(e)
    } else {
        StepError::Fatal(e)
    }
}

/// The bot's application, as far as start-up and `lounge doctor` need it.
pub(crate) struct Application {
    /// What the instance lock is keyed on.
    pub(crate) id: u64,
    /// The one person who owns it: the team's owner when a team holds it (then the
    /// application's `owner` is the team's pseudo-user), else its owner.
    pub(crate) owner: u64,
    pub(crate) name: String,
    /// The public flags, where Discord says which privileged intents are switched on.
    pub(crate) flags: u64,
}

pub(crate) async fn application(http: &serenity::Http) -> Result<Application, serenity::Error> {
    // Only the ids are read, so serenity's full model (which insists on team-member fields
    // Discord no longer documents) can't turn a team application into a start-up failure.
    #[derive(serde::Deserialize)]
    struct Wire {
        id: serenity::ApplicationId,
        owner: Option<Id>,
        team: Option<Team>,
        #[serde(default)]
        name: String,
        #[serde(default)]
        flags: Option<u64>,
    }
    #[derive(serde::Deserialize)]
    struct Team {
        owner_user_id: serenity::UserId,
    }
    #[derive(serde::Deserialize)]
    struct Id {
        id: serenity::UserId,
    }
    let response = http
        .request(serenity::Request::new(
            serenity::Route::Oauth2ApplicationCurrent,
            serenity::LightMethod::Get,
        ))
        .await?;
    let app: Wire = serde_json::from_slice(&response.bytes().await?)?;
    let owner = match (app.team, app.owner) {
        (Some(team), _) => team.owner_user_id.get(),
        (None, Some(owner)) => owner.id.get(),
        (None, None) => {
            return Err(serenity::Error::Other(
                "Discord named no owner for the bot's application",
            ));
        }
    };
    Ok(Application {
        id: app.id.get(),
        owner,
        name: app.name,
        flags: app.flags.unwrap_or(0),
    })
}

async fn guild_prefix(
    ctx: poise::PartialContext<'_, Data, Error>,
) -> Result<Option<std::borrow::Cow<'static, str>>, Error> {
    let prefix = lounge_kit::prefix::for_guild(ctx.framework.user_data, ctx.guild_id).await?;
    Ok(Some(prefix.into()))
}

/// The global limiter, checked before every command (owners are exempt).
async fn rate_limit(ctx: lounge_kit::Context<'_>) -> Result<bool, Error> {
    if ctx.framework().options().owners.contains(&ctx.author().id) {
        return Ok(true);
    }
    // Memory hygiene piggybacks on traffic: cheap, and idle bots need none.
    if rand::random::<u8>() == 0 {
        ctx.data().limiter.forget_idle();
    }
    match ctx.data().limiter.check(ctx.author().id.get()) {
        Ok(()) => Ok(true),
        Err(wait) => Err(Box::new(lounge_kit::error::TooFast(wait))),
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler cannot fail on Unix");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// An error and its sources on one line: reqwest's top-level message alone ("error sending
/// request") does not say whether DNS, TLS or the connection failed.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
