//! `/rep give` and `/rep check`: members vouch for each other, once a day per giver. The
//! store gives each point in one transaction (see `lounge_store::RepError`).

use lounge_kit::{Command, Context, Error, RefusalExt, bail_user};
use poise::serenity_prelude as serenity;

pub fn commands() -> Vec<Command> {
    vec![rep()]
}

/// Reputation: vouch for members who helped you
#[poise::command(
    slash_command,
    prefix_command,
    subcommands("give", "check"),
    subcommand_required
)]
pub async fn rep(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Give a member a reputation point (once a day)
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn give(
    ctx: Context<'_>,
    #[description = "Who helped you"] user: serenity::User,
) -> Result<(), Error> {
    if user.bot {
        bail_user!("Bots don't collect reputation.");
    }
    let points = ctx
        .data()
        .store
        .give_reputation(
            ctx.author().id.get(),
            user.id.get(),
            chrono::Utc::now().timestamp_millis(),
        )
        .await
        .refused()?;
    let s = if points == 1 { "" } else { "s" };
    lounge_kit::say(
        ctx,
        format!(
            "You vouched for <@{}>; they have {points} reputation point{s}.",
            user.id
        ),
    )
    .await?;
    Ok(())
}

/// Show a member's reputation (default: yours)
#[poise::command(slash_command, prefix_command)]
pub async fn check(
    ctx: Context<'_>,
    #[description = "Whose reputation (default: yours)"] user: Option<serenity::User>,
) -> Result<(), Error> {
    let user = user.as_ref().unwrap_or_else(|| ctx.author());
    let points = ctx.data().store.reputation(user.id.get()).await?;
    let s = if points == 1 { "" } else { "s" };
    lounge_kit::say(
        ctx,
        format!("<@{}> has {points} reputation point{s}.", user.id),
    )
    .await?;
    Ok(())
}
