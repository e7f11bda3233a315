//! What the kit measures about commands and gateway events, through the `metrics` facade:
//! the app installs the recorder (the Prometheus exporter) and serves it; without one every
//! call here is a no-op. Modules record their own metrics through the facade the same way.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::Instant;

use poise::serenity_prelude as serenity;

use crate::error::{TooFast, UserError};
use crate::{Context, Data, Error};

/// `lounge_commands_total{command,outcome}`: every command invocation that reached the
/// framework, by qualified name ("osrs kill") and [`Outcome`].
pub const COMMANDS_TOTAL: &str = "lounge_commands_total";
/// `lounge_command_duration_seconds{command}`: from `pre_command` to the answer or the error,
/// for commands that ran (a refused command never starts).
pub const COMMAND_DURATION_SECONDS: &str = "lounge_command_duration_seconds";
/// `lounge_gateway_events_total{event}`: gateway events by serenity's snake-case name.
pub const GATEWAY_EVENTS_TOTAL: &str = "lounge_gateway_events_total";

/// How an invocation ended, as the `outcome` label says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The command returned `Ok`.
    Ok,
    /// The user's to fix: a [`UserError`] (store refusals included) or arguments poise could
    /// not parse.
    UserError,
    /// Ours: anything logged with a reference, a panic, a permission lookup that failed.
    Error,
    /// A check said no before the command ran: permissions, the module switch, cooldowns, the
    /// rate limit, owner-only, guild-only.
    Refused,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::UserError => "user_error",
            Self::Error => "error",
            Self::Refused => "refused",
        }
    }

    /// What a framework error says about its invocation; `None` for errors that are no
    /// command's (an unknown command, an event handler, set-up).
    pub fn of(error: &poise::FrameworkError<'_, Data, Error>) -> Option<Self> {
        use poise::FrameworkError as E;
        error.ctx()?;
        Some(match error {
            E::Command { error, .. } => Self::of_error(error, Self::UserError),
            E::ArgumentParse { .. } => Self::UserError,
            // A check's own sentence ("Slow down: ...", "turned off here") is a refusal, not
            // something the user got wrong in the command.
            E::CommandCheckFailed { error: Some(e), .. } => Self::of_error(e, Self::Refused),
            E::CommandCheckFailed { error: None, .. }
            | E::CooldownHit { .. }
            | E::MissingBotPermissions { .. }
            | E::MissingUserPermissions { .. }
            | E::NotAnOwner { .. }
            | E::GuildOnly { .. }
            | E::DmOnly { .. }
            | E::NsfwOnly { .. }
            | E::SubcommandRequired { .. } => Self::Refused,
            _ => Self::Error,
        })
    }

    /// `user` is what a [`UserError`] counts as where it came from.
    fn of_error(error: &Error, user: Self) -> Self {
        if error.is::<TooFast>() {
            Self::Refused
        } else if error.is::<UserError>() {
            user
        } else {
            Self::Error
        }
    }
}

/// When each running invocation started, by [`poise::Context::id`] (the message or
/// interaction id, unique per invocation and per edit). A plain mutex: held for one map
/// operation, never across an await.
static STARTED: LazyLock<Mutex<HashMap<u64, Instant>>> = LazyLock::new(Mutex::default);

/// An invocation that started but never finished (a hook poise skipped) must not grow the map
/// for ever; past this many in flight the oldest are forgotten.
const MAX_IN_FLIGHT: usize = 10_000;

/// The framework's `pre_command`: the command is about to run.
pub async fn pre_command(ctx: Context<'_>) {
    let mut started = STARTED.lock().unwrap_or_else(PoisonError::into_inner);
    if started.len() >= MAX_IN_FLIGHT {
        started.clear();
    }
    started.insert(ctx.id(), Instant::now());
}

/// Counts an invocation once it ended, and its duration when it had started.
pub fn finished(ctx: Context<'_>, outcome: Outcome) {
    let command = ctx.command().qualified_name.clone();
    let started = STARTED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&ctx.id());
    if let Some(started) = started {
        metrics::histogram!(COMMAND_DURATION_SECONDS, "command" => command.clone())
            .record(started.elapsed().as_secs_f64());
    }
    metrics::counter!(COMMANDS_TOTAL, "command" => command, "outcome" => outcome.label())
        .increment(1);
}

/// Counts one gateway event.
pub fn event(event: &serenity::FullEvent) {
    metrics::counter!(GATEWAY_EVENTS_TOTAL, "event" => event.snake_case_name()).increment(1);
}

/// The HELP lines for the kit's metrics; the app calls it once the recorder is installed.
pub fn describe() {
    metrics::describe_counter!(
        COMMANDS_TOTAL,
        "Command invocations by qualified name and outcome (ok, user_error, error, refused)"
    );
    metrics::describe_histogram!(
        COMMAND_DURATION_SECONDS,
        metrics::Unit::Seconds,
        "Time from the start of a command to its answer or error"
    );
    metrics::describe_counter!(GATEWAY_EVENTS_TOTAL, "Gateway events received, by type");
}
