//! Two tiers of errors. A [`UserError`] is the user's to fix and is shown as written
//! (ephemeral for slash commands); anything else is ours: it is logged with its context and the
//! user gets a short generic answer with a reference to find the log line.

use crate::reply::Text as _;
use std::fmt::Write as _;

use poise::serenity_prelude as serenity;

use lounge_store::Refusal;

use crate::{Context, Data};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A message for the user, shown as written.
#[derive(Debug)]
pub struct UserError(pub String);

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UserError {}

/// The global limiter refused a command: the member may try again after this long. Told
/// privately for slash commands and as a reaction for prefix messages (see
/// [`crate::messages::too_fast`]).
#[derive(Debug)]
pub struct TooFast(pub std::time::Duration);

impl std::fmt::Display for TooFast {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::messages::too_fast(self.0))
    }
}

impl std::error::Error for TooFast {}

/// Marks `msg` with [`crate::messages::SLOW_DOWN_REACTION`]: the limiter's answer to prefix
/// messages, which have no private reply.
pub async fn react_too_fast(
    http: &serenity::Http,
    msg: &serenity::Message,
) -> Result<(), serenity::Error> {
    msg.react(http, crate::messages::SLOW_DOWN_REACTION).await?;
    Ok(())
}

/// Whether Discord refused a request for good (a 4xx other than 429: the channel is gone,
/// access was lost, the body is wrong), so a post owed to it is given up rather than retried.
pub fn refused_for_good(e: &serenity::Error) -> bool {
    matches!(e, serenity::Error::Http(h)
        if h.status_code().is_some_and(|s| s.is_client_error() && s.as_u16() != 429))
}

/// Shorthand for returning a [`UserError`] from a command.
pub fn user_error(message: impl Into<String>) -> Error {
    Box::new(UserError(message.into()))
}

/// Store refusals become messages for the user; a store failure inside stays internal.
pub fn refusal(e: impl Refusal) -> Error {
    match e.into_failure() {
        Ok(failure) => failure.into(),
        Err(refused) => user_error(refused.to_string()),
    }
}

/// A refusal's sentence for messages that are not command errors (an edited trade window);
/// a store failure stays an internal error.
pub fn refusal_text(e: impl Refusal) -> Result<String, Error> {
    match e.into_failure() {
        Ok(failure) => Err(failure.into()),
        Err(refused) => Ok(refused.to_string()),
    }
}

/// [`refusal`] on a `Result`: `store.give(...).await.refused()?`.
pub trait RefusalExt<T> {
    fn refused(self) -> Result<T, Error>;
}

impl<T, E: Refusal> RefusalExt<T> for Result<T, E> {
    fn refused(self) -> Result<T, Error> {
        self.map_err(refusal)
    }
}

/// `Err(user_error(...))?`-style early return: `bail_user!("you need {} coins", n)`.
#[macro_export]
macro_rules! bail_user {
    ($($arg:tt)*) => {
        return Err($crate::error::user_error(format!($($arg)*)))
    };
}

/// Sends `text` to the invoker only where Discord allows it (slash commands); prefix commands
/// get a normal reply.
pub async fn reply_ephemeral(
    ctx: Context<'_>,
    text: impl Into<String>,
) -> Result<(), serenity::Error> {
    ctx.send(poise::CreateReply::default().text(text).ephemeral(true))
        .await?;
    Ok(())
}

pub async fn on_error(error: poise::FrameworkError<'_, Data, Error>) {
    use poise::FrameworkError as E;
    if let (Some(ctx), Some(outcome)) = (error.ctx(), crate::telemetry::Outcome::of(&error)) {
        crate::telemetry::finished(ctx, outcome);
    }
    let result = match error {
        E::Command { error, ctx, .. } => handle_command_error(ctx, error).await,
        E::ArgumentParse {
            error, input, ctx, ..
        } => {
            // A number out of range under an optional parameter surfaces as "too many
            // arguments"; say what was really wrong.
            let rejected = match ctx {
                poise::Context::Prefix(p) => crate::args::take_rejected(p.msg.id),
                poise::Context::Application(_) => None,
            };
            let (error, input) = match rejected {
                Some((input, why)) => (why.to_string(), Some(input)),
                None => (error.to_string(), input),
            };
            let mut msg = match input {
                Some(input) => format!("I couldn't understand `{}`: {error}.", sanitize(&input)),
                None => format!("Missing or invalid arguments: {error}."),
            };
            let _ = write!(msg, " Try `/help {}`.", ctx.command().qualified_name);
            reply_ephemeral(ctx, msg).await
        }
        E::CommandCheckFailed { error, ctx, .. } => match error {
            Some(error) => handle_command_error(ctx, error).await,
            None => reply_ephemeral(ctx, crate::messages::NOT_ALLOWED).await,
        },
        E::CooldownHit {
            remaining_cooldown,
            ctx,
            ..
        } => {
            let ready_at = chrono::Utc::now() + remaining_cooldown;
            reply_ephemeral(
                ctx,
                format!(
                    "Slow down: `{}` can be used again <t:{}:R>.",
                    ctx.command().qualified_name,
                    ready_at.timestamp() + 1
                ),
            )
            .await
        }
        E::MissingBotPermissions {
            missing_permissions,
            ctx,
            ..
        } => {
            reply_ephemeral(
                ctx,
                format!("I need these permissions here first: {missing_permissions}."),
            )
            .await
        }
        E::MissingUserPermissions {
            missing_permissions,
            ctx,
            ..
        } => {
            let msg = match missing_permissions {
                Some(p) => format!("You need these permissions to use this: {p}."),
                None => "I couldn't check your permissions; try again in a moment.".to_owned(),
            };
            reply_ephemeral(ctx, msg).await
        }
        E::PermissionFetchFailed { ctx, .. } => {
            reply_ephemeral(ctx, crate::messages::PERMISSIONS_UNKNOWN).await
        }
        E::NotAnOwner { ctx, .. } => {
            reply_ephemeral(ctx, "Only the bot's owners can use this.").await
        }
        E::GuildOnly { ctx, .. } => {
            reply_ephemeral(ctx, "This command only works in a server.").await
        }
        E::DmOnly { ctx, .. } => reply_ephemeral(ctx, "This command only works in DMs.").await,
        E::NsfwOnly { ctx, .. } => {
            reply_ephemeral(ctx, "This command only works in age-restricted channels.").await
        }
        // Aliases and tags are not poise commands: they come through here. Anything else is
        // ordinary chat ("!!!", "!lol") and staying quiet is right.
        E::UnknownCommand {
            msg,
            content_start,
            framework,
            invocation_data,
            trigger,
            ..
        } => {
            crate::module::on_unknown_command(crate::module::UnknownCommand {
                framework,
                msg,
                content_start,
                invocation_data,
                trigger,
            })
            .await;
            Ok(())
        }
        E::CommandStructureMismatch {
            ctx, description, ..
        } => {
            tracing::warn!(
                command = %ctx.command().qualified_name,
                description,
                "slash options don't match this build (registration out of date?)"
            );
            reply_ephemeral(
                poise::Context::Application(ctx),
                crate::messages::COMMAND_OUT_OF_DATE,
            )
            .await
        }
        E::UnknownInteraction { .. } => Ok(()),
        other => {
            if let Err(e) = poise::builtins::on_error(other).await {
                tracing::error!(error = %e, "error while handling a framework error");
            }
            Ok(())
        }
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not tell the user about an error");
    }
}

async fn handle_command_error(ctx: Context<'_>, error: Error) -> Result<(), serenity::Error> {
    if let Some(user) = error.downcast_ref::<UserError>() {
        return reply_ephemeral(ctx, user.0.clone()).await;
    }
    if let Some(too_fast) = error.downcast_ref::<TooFast>() {
        return match ctx {
            poise::Context::Prefix(p) => react_too_fast(&ctx.serenity_context().http, p.msg).await,
            poise::Context::Application(_) => reply_ephemeral(ctx, too_fast.to_string()).await,
        };
    }
    reply_ephemeral(ctx, internal(ctx, &error)).await
}

/// The sentence for `error` where a command answers it itself (a button press in a view the
/// command keeps open): a [`UserError`] as written; anything else logged with context and
/// answered generically with a reference, as the framework's error path does.
pub fn user_facing(ctx: Context<'_>, error: &Error) -> String {
    match error.downcast_ref::<UserError>() {
        Some(user) => user.0.clone(),
        None => internal(ctx, error),
    }
}

/// Logs a failure with the command's context; returns the generic answer naming its reference.
fn internal(ctx: Context<'_>, error: &Error) -> String {
    let reference = format!("{:08x}", rand::random::<u32>());
    tracing::error!(
        reference,
        command = %ctx.command().qualified_name,
        guild = ?ctx.guild_id().map(serenity::GuildId::get),
        channel = ctx.channel_id().get(),
        user = ctx.author().id.get(),
        invocation = %ctx.invocation_string(),
        error = %error,
        "command failed"
    );
    format!(
        "{} (reference `{reference}`)",
        crate::messages::INTERNAL_ERROR
    )
}

/// Keeps user input from breaking out of inline code in our replies.
pub fn sanitize(input: &str) -> String {
    let trimmed: String = input.chars().take(100).collect();
    trimmed.replace('`', "'")
}
