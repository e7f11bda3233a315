//! Which prefix text commands use where: the configured default unless a guild changed it.
//! The framework's dynamic prefix, `/settings prefix` and the chat hooks (which must tell
//! commands from chat) all ask here.

use poise::serenity_prelude as serenity;

use crate::{Context, Data, Error, FrameworkContext};

/// The prefix in `guild` (the default outside guilds).
pub async fn for_guild(data: &Data, guild: Option<serenity::GuildId>) -> Result<String, Error> {
    let Some(guild) = guild else {
        return Ok(data.default_prefix.clone());
    };
    Ok(data
        .store
        .guild_prefix(guild.get())
        .await?
        .unwrap_or_else(|| data.default_prefix.clone()))
}

/// The prefix text commands use here (the configured default unless changed).
pub async fn current(ctx: Context<'_>) -> Result<String, Error> {
    Ok(ctx
        .data()
        .store
        .guild_prefix(crate::guild_id(ctx))
        .await?
        .unwrap_or_else(|| ctx.data().default_prefix.clone()))
}

/// Whether `msg` is addressed to the bot (its mention or the guild's prefix) rather than
/// chat: commands neither count as chat activity nor earn chat rewards.
pub async fn is_command(
    framework: FrameworkContext<'_>,
    guild: serenity::GuildId,
    msg: &serenity::Message,
) -> Result<bool, Error> {
    let bot = framework.bot_id();
    let content = msg.content.trim_start();
    if content.starts_with(&format!("<@{bot}>")) || content.starts_with(&format!("<@!{bot}>")) {
        return Ok(true);
    }
    let prefix = for_guild(framework.user_data, Some(guild)).await?;
    Ok(content.starts_with(&prefix))
}
