//! Cooldowns, enforced for every command: the durations its code declares, with the guild's
//! overrides from `/cooldown`. poise's own cooldown handling is off (`manual_cooldowns`) so
//! the overrides apply and a cooldown starts only when the command succeeded.

use std::time::Duration;

use crate::error::user_error;
use crate::{Context, Error};

/// The durations in force for this command here: its defaults with the guild's overrides.
async fn config_for(ctx: Context<'_>) -> Result<poise::CooldownConfig, Error> {
    let mut config = ctx
        .command()
        .cooldown_config
        .read()
        .map(|c| c.clone())
        .unwrap_or_default();
    if let Some(guild) = ctx.guild_id() {
        let name = ctx.command().qualified_name.to_string();
        for (bucket, seconds) in ctx
            .data()
            .store
            .cooldown_overrides(guild.get(), &name)
            .await?
        {
            let d = (seconds > 0).then(|| Duration::from_secs(seconds as u64));
            match bucket.as_str() {
                "user" => config.user = d,
                "channel" => config.channel = d,
                "guild" => config.guild = d,
                _ => {}
            }
        }
    }
    Ok(config)
}

/// The check: refuse while a cooldown runs, saying when the command is ready.
pub async fn check(ctx: Context<'_>) -> Result<bool, Error> {
    if ctx.framework().options().owners.contains(&ctx.author().id) {
        return Ok(true);
    }
    let config = config_for(ctx).await?;
    let remaining = ctx
        .command()
        .cooldowns
        .lock()
        .map_err(|_| "cooldown tracker poisoned")?
        .remaining_cooldown(ctx.cooldown_context(), &config);
    match remaining {
        None => Ok(true),
        Some(wait) => {
            let ready = chrono::Utc::now() + wait;
            Err(user_error(format!(
                "Slow down: `{}` can be used again <t:{}:R> (in {} s).",
                ctx.command().qualified_name,
                ready.timestamp() + 1,
                wait.as_secs() + 1
            )))
        }
    }
}

/// Starts the cooldowns after a command succeeded (the framework's `post_command`).
pub async fn start(ctx: Context<'_>) {
    if let Ok(mut tracker) = ctx.command().cooldowns.lock() {
        tracker.start_cooldown(ctx.cooldown_context());
    }
}
