//! Cooldowns: each command's defaults (set on the command), per-guild overrides in the
//! database, enforced by one check that the policy walk gives every command.
//!
//! A cooldown starts only when a command succeeds, so an invocation refused for bad input or a
//! missing permission doesn't make the user wait.

use lounge_kit::Bounded;
use lounge_kit::Command;
use lounge_kit::user_error;
use lounge_kit::{Context, Error};

pub fn commands() -> Vec<Command> {
    vec![cooldown()]
}

/// Change how often commands can be used in this server
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    subcommands("set", "reset", "list"),
    subcommand_required,
    default_member_permissions = "MANAGE_GUILD"
)]
pub async fn cooldown(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum Bucket {
    #[name = "user"]
    User,
    #[name = "channel"]
    Channel,
    #[name = "guild"]
    Guild,
}

impl Bucket {
    fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Channel => "channel",
            Self::Guild => "guild",
        }
    }
}

/// Longest cooldown a server may set: a day.
const MAX_SECONDS: i64 = 86_400;

/// Set a command's cooldown here (0 turns it off)
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    required_permissions = "MANAGE_GUILD"
)]
pub async fn set(
    ctx: Context<'_>,
    #[description = "The command (e.g. give)"] command: String,
    #[description = "Per user, per channel or for the whole server"] bucket: Bucket,
    #[description = "Seconds between uses (0 = no cooldown)"] seconds: Bounded<0, MAX_SECONDS>,
) -> Result<(), Error> {
    let seconds = seconds.get();
    let name = command_name(ctx, &command)?;
    let guild = lounge_kit::guild_id(ctx);
    ctx.data()
        .store
        .set_cooldown_override(guild, &name, bucket.as_str(), seconds)
        .await?;
    let text = if seconds == 0 {
        format!("`{name}` now has no {} cooldown here.", bucket.as_str())
    } else {
        format!(
            "`{name}` can now be used once every {seconds} s per {} here.",
            bucket.as_str()
        )
    };
    lounge_kit::say(ctx, text).await?;
    Ok(())
}

/// Go back to a command's default cooldowns here
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    required_permissions = "MANAGE_GUILD"
)]
pub async fn reset(
    ctx: Context<'_>,
    #[description = "The command (e.g. give)"] command: String,
) -> Result<(), Error> {
    let name = command_name(ctx, &command)?;
    let guild = lounge_kit::guild_id(ctx);
    let n = ctx
        .data()
        .store
        .reset_cooldown_overrides(guild, &name)
        .await?;
    lounge_kit::say(
        ctx,
        format!("Removed {n} override(s): `{name}` uses its default cooldowns here again."),
    )
    .await?;
    Ok(())
}

/// List this server's cooldown overrides
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    required_permissions = "MANAGE_GUILD"
)]
pub async fn list(ctx: Context<'_>) -> Result<(), Error> {
    let guild = lounge_kit::guild_id(ctx);
    let all = ctx.data().store.all_cooldown_overrides(guild).await?;
    if all.is_empty() {
        lounge_kit::say(
            ctx,
            "No overrides: every command uses its default cooldowns.",
        )
        .await?;
        return Ok(());
    }
    let lines: Vec<String> = all
        .iter()
        .map(|(c, b, s)| format!("`{c}` — {s} s per {b}"))
        .collect();
    lounge_kit::say(ctx, lines.join("\n")).await?;
    Ok(())
}

fn command_name(ctx: Context<'_>, query: &str) -> Result<String, Error> {
    match lounge_kit::find_command(&ctx.framework().options().commands, query) {
        Some(c) if c.subcommands.is_empty() => Ok(c.qualified_name.to_string()),
        Some(c) => Err(user_error(format!(
            "`{}` is a group; name one of its subcommands.",
            c.qualified_name
        ))),
        None => Err(user_error(format!(
            "There is no command called `{}`.",
            lounge_kit::error::sanitize(query)
        ))),
    }
}
