//! The modlog: every case is posted to the guild's modlog channel, exactly once.
//!
//! Recording a case also records that its post is owed, with a lease for the recording
//! process, which posts it straight away. A post still owed when its lease runs out (the
//! process died, or Discord failed for now) is posted by the worker of whichever process looks
//! next. A process that dies after posting but before recording it would post twice, so every
//! post carries a nonce for its case with `enforce_nonce`, which makes Discord return the
//! earlier message instead.

use std::sync::Arc;
use std::time::Duration;

use lounge_kit::{Command, Context, Error};
use lounge_store::{Case, OwedLog, Store, now_ms};
use poise::serenity_prelude as serenity;
use tokio::sync::watch;

/// How often the worker looks for posts still owed.
const POLL: Duration = Duration::from_secs(2);
const BATCH: i64 = 50;

pub(crate) fn commands() -> Vec<Command> {
    vec![modlog()]
}

/// Where moderation cases are posted
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    subcommands("set", "off"),
    subcommand_required
)]
pub async fn modlog(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Post every new case in this channel
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    required_permissions = "MANAGE_GUILD"
)]
pub async fn set(
    ctx: Context<'_>,
    #[description = "The channel for the modlog"]
    #[channel_types("Text")]
    channel: serenity::GuildChannel,
) -> Result<(), Error> {
    let guild = lounge_kit::guild_id(ctx);
    if channel.guild_id.get() != guild {
        lounge_kit::bail_user!("Pick a channel in this server.");
    }
    ctx.data()
        .store
        .set_modlog(guild, Some(channel.id.get()))
        .await?;
    lounge_kit::say(
        ctx,
        format!("New cases will be posted in <#{}>.", channel.id),
    )
    .await?;
    Ok(())
}

/// Stop posting cases
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    required_permissions = "MANAGE_GUILD"
)]
pub async fn off(ctx: Context<'_>) -> Result<(), Error> {
    ctx.data()
        .store
        .set_modlog(lounge_kit::guild_id(ctx), None)
        .await?;
    lounge_kit::say(ctx, "Cases are no longer posted anywhere.").await?;
    Ok(())
}

/// Posts a case this process just recorded, if its guild has a modlog.
pub(crate) async fn post_recorded(http: Arc<serenity::Http>, store: Store, guild: u64, case: Case) {
    match store.mod_log_owed_by(guild, case.number).await {
        Ok(Some(channel)) => {
            deliver(
                &http,
                &store,
                &OwedLog {
                    guild,
                    channel,
                    case,
                },
            )
            .await;
        }
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(error = %e, guild, case = case.number, "could not look up the modlog; the worker posts it");
        }
    }
}

/// Runs until `stop` turns true, posting what is owed.
pub(crate) fn spawn(
    http: Arc<serenity::Http>,
    store: Store,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if *stop.borrow() {
                break;
            }
            if let Err(e) = post_owed(&http, &store).await {
                tracing::error!(error = %e, "posting owed modlog entries failed; retrying shortly");
            }
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                _ = stop.changed() => {}
            }
        }
    })
}

async fn post_owed(http: &serenity::Http, store: &Store) -> Result<(), Error> {
    for (guild, number) in store.mod_owed_logs(now_ms(), BATCH).await? {
        if let Some(owed) = store.mod_take_log(guild, number, now_ms()).await? {
            tracing::info!(
                guild,
                case = number,
                "posting a modlog entry that was still owed"
            );
            deliver(http, store, &owed).await;
        }
    }
    Ok(())
}

/// Posts and records the post, unless the failure was transient (then the lease runs out and
/// the worker tries again).
async fn deliver(http: &serenity::Http, store: &Store, owed: &OwedLog) {
    let message = serenity::CreateMessage::new()
        .embed(crate::cases::embed(&owed.case))
        .allowed_mentions(serenity::CreateAllowedMentions::new())
        .nonce(serenity::Nonce::String(nonce(owed.guild, owed.case.number)))
        .enforce_nonce(true);
    let done = match serenity::ChannelId::new(owed.channel)
        .send_message(http, message)
        .await
    {
        Ok(_) => true,
        Err(e) => {
            let permanent = lounge_kit::error::refused_for_good(&e);
            tracing::warn!(error = %e, guild = owed.guild, case = owed.case.number, retried = !permanent, "could not post to the modlog");
            permanent
        }
    };
    if done
        && let Err(e) = store
            .mod_mark_logged(owed.guild, owed.case.number, now_ms())
            .await
    {
        // Owed again once the lease runs out; the nonce keeps the re-post from doubling.
        tracing::warn!(error = %e, case = owed.case.number, "could not record a modlog post");
    }
}

/// At most 25 characters, unique to the case among this bot's recent posts.
fn nonce(guild: u64, case: i64) -> String {
    format!("case-{}-{case}", guild % 1_000_000_000)
}
