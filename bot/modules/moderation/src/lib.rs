//! Moderation: kick, ban, timeout. Besides the Discord permission each needs (checked by poise
//! for the caller and for the bot), the role hierarchy must allow it: Discord itself refuses
//! the bot acting on someone at or above its highest role, and a moderator must not be able to
//! use the bot to act on someone above *them*. Both are checked here first, so the refusal
//! says which role is in the way instead of Discord's bare "Missing Permissions".
//!
#![doc = include_str!("../README.md")]

mod cases;
mod modlog;

use lounge_kit::Bounded;
use std::time::Duration;

use poise::serenity_prelude as serenity;

use lounge_kit::{Command, Module};
use lounge_kit::{Context, Error, bail_user};

/// Discord's longest timeout.
const MAX_TIMEOUT: Duration = Duration::from_hours(28 * 24);

pub const MODULE: Module = Module::new(
    "moderation",
    "Kick, ban, time out and warn members within Discord's role hierarchy; cases and a modlog",
    commands,
)
.start(start);

/// The modlog worker: posts cases whose post is still owed (needs the connected client's
/// HTTP; stops before the database pool closes).
#[allow(
    clippy::unnecessary_wraps,
    reason = "every module's start hook has the same signature"
)]
fn start(start: &mut lounge_kit::Start<'_>) -> Result<(), Error> {
    let worker = modlog::spawn(start.http.clone(), start.store.clone(), start.stop.clone());
    start.spawn("modlog posts", worker);
    Ok(())
}

fn commands() -> Vec<Command> {
    let mut commands = vec![kick(), ban(), timeout(), untimeout(), slowmode()];
    commands.extend(cases::commands());
    commands.extend(modlog::commands());
    commands
}

/// Remove a member from the server (they can rejoin with an invite)
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    default_member_permissions = "KICK_MEMBERS",
    required_permissions = "KICK_MEMBERS",
    required_bot_permissions = "KICK_MEMBERS"
)]
pub async fn kick(
    ctx: Context<'_>,
    #[description = "The member to kick"] member: serenity::Member,
    #[description = "Why (shown in the audit log)"]
    #[rest]
    reason: Option<String>,
) -> Result<(), Error> {
    let (guild, audit) = may_act_on(ctx, &member.user, "kick", reason.as_deref(), true).await?;
    guild.kick_with_reason(ctx, member.user.id, &audit).await?;
    let case = cases::record(ctx, "kick", member.user.id, reason.as_deref(), None).await?;
    lounge_kit::say(
        ctx,
        format!(
            "Kicked <@{}> (case #{case}). Reason: {audit}",
            member.user.id
        ),
    )
    .await?;
    Ok(())
}

/// Ban someone from the server, optionally deleting their recent messages
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    default_member_permissions = "BAN_MEMBERS",
    required_permissions = "BAN_MEMBERS",
    required_bot_permissions = "BAN_MEMBERS"
)]
pub async fn ban(
    ctx: Context<'_>,
    #[description = "Who to ban (they don't have to be in the server)"] user: serenity::User,
    #[description = "Delete their messages from the last 0-7 days (default 0)"] delete_days: Option<
        Bounded<0, 7>,
    >,
    #[description = "Why (shown in the audit log)"]
    #[rest]
    reason: Option<String>,
) -> Result<(), Error> {
    let days = delete_days.map_or(0, |d| d.count() as u8);
    let (guild, audit) = may_act_on(ctx, &user, "ban", reason.as_deref(), true).await?;
    guild.ban_with_reason(ctx, user.id, days, &audit).await?;
    let case = cases::record(ctx, "ban", user.id, reason.as_deref(), None).await?;
    lounge_kit::say(
        ctx,
        format!("Banned <@{}> (case #{case}). Reason: {audit}", user.id),
    )
    .await?;
    Ok(())
}

/// Stop a member from chatting, reacting and speaking for a while (up to 28 days)
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    default_member_permissions = "MODERATE_MEMBERS",
    required_permissions = "MODERATE_MEMBERS",
    required_bot_permissions = "MODERATE_MEMBERS"
)]
pub async fn timeout(
    ctx: Context<'_>,
    #[description = "The member to time out"] member: serenity::Member,
    #[description = "For how long, e.g. 10m, 1h30m, 2d (at most 28d)"] duration: String,
    #[description = "Why (shown in the audit log)"]
    #[rest]
    reason: Option<String>,
) -> Result<(), Error> {
    let length = parse_length(&duration)?;
    let why = reason;
    let (guild, reason) = may_act_on(ctx, &member.user, "time out", why.as_deref(), true).await?;
    let until = chrono::Utc::now() + length;
    guild
        .edit_member(
            ctx,
            member.user.id,
            serenity::EditMember::new()
                .disable_communication_until(until.to_rfc3339())
                .audit_log_reason(&reason),
        )
        .await?;
    let case = cases::record(
        ctx,
        "timeout",
        member.user.id,
        why.as_deref(),
        Some(length.num_milliseconds()),
    )
    .await?;
    lounge_kit::say(
        ctx,
        format!(
            "Timed out <@{}> until <t:{}:f> (case #{case}). Reason: {reason}",
            member.user.id,
            until.timestamp(),
        ),
    )
    .await?;
    Ok(())
}

/// End a member's timeout early
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    default_member_permissions = "MODERATE_MEMBERS",
    required_permissions = "MODERATE_MEMBERS",
    required_bot_permissions = "MODERATE_MEMBERS"
)]
pub async fn untimeout(
    ctx: Context<'_>,
    #[description = "The member whose timeout ends now"] member: serenity::Member,
) -> Result<(), Error> {
    let (guild, reason) = may_act_on(ctx, &member.user, "lift the timeout of", None, true).await?;
    guild
        .edit_member(
            ctx,
            member.user.id,
            serenity::EditMember::new()
                .enable_communication()
                .audit_log_reason(&reason),
        )
        .await?;
    let case = cases::record(ctx, "untimeout", member.user.id, None, None).await?;
    lounge_kit::say(
        ctx,
        format!("<@{}> can talk again (case #{case}).", member.user.id),
    )
    .await?;
    Ok(())
}

/// The audit log shows the bot as the actor; the reason says who really did it.
fn audit_reason(ctx: Context<'_>, reason: Option<&str>) -> String {
    let why = reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or("no reason given");
    let text = format!("{why} (by {})", ctx.author().name);
    // Discord caps audit log reasons at 512 characters.
    text.chars().take(512).collect()
}

fn parse_length(text: &str) -> Result<chrono::Duration, Error> {
    let Ok(length) = humantime::parse_duration(text.trim()) else {
        bail_user!(
            "I couldn't read `{}` as a length of time. Try `10m`, `1h30m` or `2d`.",
            lounge_kit::error::sanitize(text)
        );
    };
    if length < Duration::from_secs(1) {
        bail_user!("A timeout must last at least a second.");
    }
    if length > MAX_TIMEOUT {
        bail_user!("Discord allows timeouts of at most 28 days.");
    }
    Ok(chrono::Duration::from_std(length)?)
}

/// A member's rank for the hierarchy: the guild owner outranks everyone, then the position of
/// their highest role (`@everyone` is 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rank {
    pub owner: bool,
    pub top_role: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    Caller,
    Bot,
}

/// Who may act on whom. `target` is `None` for someone who is not a member (a ban of a user
/// who already left): roles don't apply then.
pub fn hierarchy(caller: Rank, bot: Rank, target: Option<Rank>) -> Result<(), Who> {
    let Some(target) = target else {
        return Ok(());
    };
    let outranks = |actor: Rank| actor.owner || (!target.owner && actor.top_role > target.top_role);
    if !outranks(caller) {
        Err(Who::Caller)
    } else if !outranks(bot) {
        Err(Who::Bot)
    } else {
        Ok(())
    }
}

/// Checks the caller may `verb` the target; returns the guild and the audit-log reason.
/// `bot_acts`: the bot changes the member in Discord, so it must outrank them too (a warning
/// is only a record, so the caller's rank is all that counts).
async fn may_act_on(
    ctx: Context<'_>,
    target: &serenity::User,
    verb: &str,
    reason: Option<&str>,
    bot_acts: bool,
) -> Result<(serenity::GuildId, String), Error> {
    let author = ctx.author().id;
    let bot_id = ctx.framework().bot_id();
    if target.id == author {
        bail_user!("You can't {verb} yourself.");
    }
    if target.id == bot_id {
        bail_user!("I can't {verb} myself.");
    }
    let guild_id = ctx.guild_id().ok_or("guild_only")?;
    let target_member = match guild_id.member(ctx, target.id).await {
        Ok(m) => Some(m),
        Err(serenity::Error::Http(e))
            if e.status_code() == Some(serenity::StatusCode::NOT_FOUND) =>
        {
            None
        }
        Err(e) => return Err(e.into()),
    };
    let caller = guild_id.member(ctx, author).await?;
    let bot = guild_id.member(ctx, bot_id).await?;
    let (ranks, names) = {
        let guild = ctx.guild().ok_or("the server is not cached yet")?;
        let rank = |m: &serenity::Member| {
            let top = top_role(&guild, m);
            (
                Rank {
                    owner: guild.owner_id == m.user.id,
                    top_role: top.map_or(0, |r| r.position),
                },
                top.map_or_else(|| "no role".to_owned(), |r| format!("@{}", r.name)),
            )
        };
        let (c, cn) = rank(&caller);
        let (b, bn) = rank(&bot);
        let t = target_member.as_ref().map(rank);
        ((c, b, t.as_ref().map(|t| t.0)), (cn, bn, t.map(|t| t.1)))
    };
    let target_role = names.2.unwrap_or_default();
    if ranks.2.is_some_and(|t| t.owner) {
        bail_user!("Nobody can {verb} the server owner.");
    }
    match hierarchy(ranks.0, ranks.1, ranks.2) {
        Ok(()) => Ok((guild_id, audit_reason(ctx, reason))),
        Err(Who::Bot) if !bot_acts => Ok((guild_id, audit_reason(ctx, reason))),
        Err(Who::Caller) => bail_user!(
            "You can't {verb} <@{}>: your highest role ({}) must be above theirs ({target_role}).",
            target.id,
            names.0
        ),
        Err(Who::Bot) => bail_user!(
            "I can't {verb} <@{}>: my highest role ({}) must be above theirs ({target_role}). \
             Move my role up in Server Settings → Roles.",
            target.id,
            names.1
        ),
    }
}

fn top_role<'a>(
    guild: &'a serenity::Guild,
    member: &serenity::Member,
) -> Option<&'a serenity::Role> {
    member
        .roles
        .iter()
        .filter_map(|id| guild.roles.get(id))
        .max_by_key(|r| (r.position, std::cmp::Reverse(r.id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rank(top_role: u16) -> Rank {
        Rank {
            owner: false,
            top_role,
        }
    }
    const OWNER: Rank = Rank {
        owner: true,
        top_role: 0,
    };

    #[test]
    fn the_caller_and_the_bot_must_both_be_above_the_target() {
        assert_eq!(hierarchy(rank(3), rank(5), Some(rank(2))), Ok(()));
        assert_eq!(hierarchy(rank(2), rank(5), Some(rank(2))), Err(Who::Caller));
        assert_eq!(hierarchy(rank(1), rank(5), Some(rank(2))), Err(Who::Caller));
        assert_eq!(hierarchy(rank(3), rank(2), Some(rank(2))), Err(Who::Bot));
        assert_eq!(hierarchy(rank(3), rank(1), Some(rank(2))), Err(Who::Bot));
    }

    #[test]
    fn the_owner_outranks_everyone_and_nobody_outranks_the_owner() {
        assert_eq!(hierarchy(OWNER, rank(5), Some(rank(4))), Ok(()));
        assert_eq!(hierarchy(OWNER, rank(4), Some(rank(9))), Err(Who::Bot));
        assert_eq!(hierarchy(rank(9), rank(9), Some(OWNER)), Err(Who::Caller));
    }

    #[test]
    fn people_outside_the_server_have_no_rank() {
        assert_eq!(hierarchy(rank(0), rank(0), None), Ok(()));
    }

    #[test]
    fn lengths_are_read_like_people_write_them() {
        assert_eq!(parse_length("10m").unwrap(), chrono::Duration::minutes(10));
        assert_eq!(
            parse_length("1h30m").unwrap(),
            chrono::Duration::minutes(90)
        );
        assert_eq!(parse_length(" 2d ").unwrap(), chrono::Duration::days(2));
        assert!(parse_length("28d").is_ok());
        for bad in ["29d", "soon", "0s", ""] {
            assert!(parse_length(bad).is_err(), "{bad}");
        }
    }
}

/// Discord's longest slow mode, in seconds.
const MAX_SLOWMODE: i64 = 21_600;

/// Set how long members wait between messages in a channel (0 turns slow mode off)
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    default_member_permissions = "MANAGE_CHANNELS",
    required_permissions = "MANAGE_CHANNELS",
    required_bot_permissions = "MANAGE_CHANNELS"
)]
pub async fn slowmode(
    ctx: Context<'_>,
    #[description = "Seconds between a member's messages, 0 to 21600 (6 hours)"] seconds: Bounded<
        0,
        MAX_SLOWMODE,
    >,
    #[description = "The channel (default: this one)"]
    #[channel_types("Text")]
    channel: Option<serenity::GuildChannel>,
) -> Result<(), Error> {
    let guild = ctx.guild_id().ok_or("guild_only")?;
    let channel_id = match &channel {
        Some(c) if c.guild_id != guild => bail_user!("Pick a channel in this server."),
        Some(c) => c.id,
        None => ctx.channel_id(),
    };
    let secs = seconds.count() as u16;
    channel_id
        .edit(
            ctx,
            serenity::EditChannel::new()
                .rate_limit_per_user(secs)
                .audit_log_reason(&audit_reason(ctx, Some("slow mode"))),
        )
        .await?;
    let text = if secs == 0 {
        format!("Slow mode is off in <#{channel_id}>.")
    } else {
        format!("Members can now send one message every {secs} s in <#{channel_id}>.")
    };
    lounge_kit::say(ctx, text).await?;
    Ok(())
}
