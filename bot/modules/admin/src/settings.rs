//! `/settings`: per-server settings.

use lounge_kit::Command;
use lounge_kit::{Context, Error, bail_user};

pub fn commands() -> Vec<Command> {
    vec![settings()]
}

/// Change this server's bot settings
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    subcommands("prefix"),
    subcommand_required,
    default_member_permissions = "MANAGE_GUILD"
)]
pub async fn settings(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Show or change the prefix for text commands here (mentioning the bot always works)
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    required_permissions = "MANAGE_GUILD"
)]
pub async fn prefix(
    ctx: Context<'_>,
    #[description = "The new prefix, or `reset` for the default"] new: Option<String>,
) -> Result<(), Error> {
    let guild = lounge_kit::guild_id(ctx);
    let store = &ctx.data().store;
    let default = &ctx.data().default_prefix;
    let Some(new) = new else {
        let current = lounge_kit::prefix::current(ctx).await?;
        lounge_kit::say(
            ctx,
            format!("The prefix here is `{current}`. Mentioning me works too."),
        )
        .await?;
        return Ok(());
    };
    let new = new.trim();
    if new.eq_ignore_ascii_case("reset") {
        store.set_guild_prefix(guild, None).await?;
        lounge_kit::say(
            ctx,
            format!("The prefix here is back to the default, `{default}`."),
        )
        .await?;
        return Ok(());
    }
    if new.is_empty()
        || new.chars().count() > 16
        || new.contains(char::is_whitespace)
        || new.contains('`')
    {
        bail_user!("A prefix must be 1 to 16 characters, without spaces or backticks.");
    }
    if new.starts_with("<@") || new.starts_with('/') {
        bail_user!("`{new}` would clash with mentions or slash commands; pick another prefix.");
    }
    store.set_guild_prefix(guild, Some(new)).await?;
    lounge_kit::say(
        ctx,
        format!("Done: text commands here now start with `{new}`, e.g. `{new}help`."),
    )
    .await?;
    Ok(())
}
