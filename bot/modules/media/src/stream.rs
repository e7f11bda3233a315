//! `/stream`: the link to lounge-streamer, the companion daemon that streams media into voice.
//!
//! `start` joins a voice channel and plays a source, `pause`/`resume`/`seek`/`stop` control
//! it, `status` says what the streamer is doing. Every order goes over IPC; the streamer answers
//! each with success or an error kind whose sentence is shown here (details go to the log).

use std::time::Duration;

use chrono::{DateTime, Utc};
use lounge_ipc::to_bot::{Capabilities, PlaybackState, RefuseReason, Reply, Status};
use lounge_ipc::to_streamer::{Command as Order, Quality, Source};
use lounge_ipc::{ClientError, ConnectionState, Outdated};
use poise::serenity_prelude as serenity;

use crate::link::{Link, Snapshot};
use lounge_kit::Command;
use lounge_kit::{Context, Error, bail_user};

pub(crate) fn commands() -> Vec<Command> {
    vec![stream(), crate::plex::plex()]
}

/// A slash command must be answered within three seconds; leave room for the reply itself.
const STATUS_TIMEOUT: Duration = Duration::from_secs(2);

pub(crate) use text::NOT_SET_UP;

/// What users read, in one place.
mod text {
    pub const NOT_SET_UP: &str = "This bot isn't set up to use a streamer. Whoever runs the bot \
        can put the streamer's `ipc_secret` as `secret` under `[streamer]` in lounge.toml (or in \
        `LOUNGE_STREAMER__SECRET`), restart the bot and start `lounge-streamer run`.";
    pub const HOW_TO_START: &str = "Whoever runs the bot can start it with `lounge-streamer run` \
        on the same machine, with the same secret (and socket, if one is set) as the bot's \
        `[streamer]` settings. I connect by myself once it's up.";
    pub const SECRET_MISMATCH: &str = "the shared secret doesn't match. Whoever runs the bot \
        must give the bot's `streamer.secret` the same value as the streamer's `ipc_secret`; \
        I retry by myself.";
    pub const STREAMER_OUTDATED: &str = "it speaks an older protocol version than the bot: \
        update lounge-streamer to the bot's release; I retry by myself.";
    pub const BOT_OUTDATED: &str = "it speaks a newer protocol version than the bot: update \
        the bot to the streamer's release; I retry by myself.";
    pub const REFUSED_OTHER: &str = "its log says why. I retry by myself.";
    pub const ELSEWHERE: &str = "The streamer is busy streaming somewhere else (another server \
        or a call); only the people watching there can control it.";
    pub const NOT_IN_GUILD: &str = "Streams happen in a server's voice channel.";
}

/// Streaming from lounge-streamer, the companion daemon
#[poise::command(
    slash_command,
    prefix_command,
    subcommands(
        "start", "call", "pause", "resume", "seek", "stop", "hangup", "quality", "status"
    ),
    subcommand_required
)]
pub async fn stream(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Join a voice channel and stream a video into it with Go Live
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn start(
    ctx: Context<'_>,
    #[description = "What to play: a media file or URL the streamer can open"] source: String,
    #[description = "The voice channel to stream in (default: the one you are in)"]
    #[channel_types("Voice", "Stage")]
    channel: Option<serenity::GuildChannel>,
) -> Result<(), Error> {
    let source = playable(&source)?;
    let (guild_id, channel_id) = target_channel(ctx, channel.as_ref()).await?;
    play_in(
        ctx,
        Some(guild_id.get()),
        channel_id.get(),
        Source::Url {
            url: source.to_owned(),
        },
        0,
        lounge_ipc::to_streamer::Tracks::default(),
    )
    .await?;
    // A file or link replaced whatever the watch party played.
    ctx.data().store.clear_now_playing(guild_id.get()).await?;
    lounge_kit::say(
        ctx,
        format!(
            "Streaming `{}` in <#{channel_id}>. Open the stream from the channel to watch; \
         `/stream pause`, `/stream seek` and `/stream stop` control it.",
            source.replace('`', "'")
        ),
    )
    .await?;
    Ok(())
}

/// Stream a video into a DM or group DM call the streamer's account is in (bot owners only)
#[poise::command(slash_command, prefix_command, owners_only)]
pub async fn call(
    ctx: Context<'_>,
    #[description = "The call's DM or group DM channel id (right-click the conversation, Copy Channel ID)"]
    call: String,
    #[description = "What to play: a media file or URL the streamer can open"] source: String,
) -> Result<(), Error> {
    // Bots can't see their owners' DMs, so the id is taken as given and Discord decides.
    let Ok(channel_id) = call.trim().parse::<u64>() else {
        bail_user!(
            "`{}` is not a channel id: turn on Developer Mode in Discord, right-click the DM or \
             group in your conversation list and use Copy Channel ID.",
            call.trim().replace('`', "'")
        );
    };
    let source = playable(&source)?;
    play_in(
        ctx,
        None,
        channel_id,
        Source::Url {
            url: source.to_owned(),
        },
        0,
        lounge_ipc::to_streamer::Tracks::default(),
    )
    .await?;
    // The call replaced whatever the watch party played in a server.
    if let Some(now) = ctx.data().store.now_playing().await? {
        ctx.data().store.clear_now_playing(now.guild_id).await?;
    }
    lounge_kit::say(
        ctx,
        format!(
            "Streaming `{}` in the call. `/stream pause`, `/stream seek` and `/stream hangup` \
         control it.",
            source.replace('`', "'")
        ),
    )
    .await?;
    Ok(())
}

/// Stop streaming into a DM or group DM call and leave it (bot owners only)
#[poise::command(slash_command, prefix_command, owners_only)]
pub async fn hangup(ctx: Context<'_>) -> Result<(), Error> {
    order(ctx, Order::LeaveVoice { guild_id: None }).await?;
    lounge_kit::say(ctx, "Stopped the stream and left the call.").await?;
    Ok(())
}

/// The `source` option, trimmed, or why there is nothing to play.
fn playable(source: &str) -> Result<&str, Error> {
    let source = source.trim();
    if source.is_empty() {
        bail_user!("Tell me what to play: a media file or URL the streamer can open.");
    }
    Ok(source)
}

/// Where a member's start order streams: the channel they named (which they must be able to
/// see and connect to) or the one they are in. Refused while the streamer is busy in another
/// server or call, or in this server for members who may not control that stream.
pub(crate) async fn target_channel(
    ctx: Context<'_>,
    channel: Option<&serenity::GuildChannel>,
) -> Result<(serenity::GuildId, serenity::ChannelId), Error> {
    let Some(guild_id) = ctx.guild_id() else {
        bail_user!("{}", text::NOT_IN_GUILD);
    };
    let channel_id = match channel {
        Some(c) => {
            if c.guild_id != guild_id {
                bail_user!("Pick a voice channel in this server.");
            }
            let member = ctx.author_member().await;
            let may_connect = member.as_deref().is_some_and(|m| {
                ctx.guild().is_some_and(|g| {
                    let p = g.user_permissions_in(c, m);
                    p.view_channel() && p.connect()
                })
            });
            if !may_connect {
                bail_user!(
                    "You can't connect to <#{}>, so I won't stream there for you: pick a \
                     channel you can join.",
                    c.id
                );
            }
            c.id
        }
        None => match caller_voice_channel(ctx, guild_id) {
            Some(id) => id,
            None => {
                bail_user!("Join a voice channel first, or pick one with the `channel` option.")
            }
        },
    };
    // Starting anew replaces whatever plays: the same say as pausing or stopping it.
    if let Some(status) = current_status(ctx).await? {
        let busy = !matches!(status.state, PlaybackState::Disconnected);
        if busy && status.guild_id != Some(guild_id.get()) {
            bail_user!("{}", text::ELSEWHERE);
        }
        if busy && status.channel_id != Some(channel_id.get()) {
            may_control(ctx, &status).await?;
        }
    }
    Ok((guild_id, channel_id))
}

/// The streamer's state now, or `None` when it can't be asked (the order that follows then
/// explains why).
pub(crate) async fn current_status(ctx: Context<'_>) -> Result<Option<Status>, Error> {
    let Some(link) = ctx.data().state.get::<Link>() else {
        return Ok(None);
    };
    if !link.snapshot().state.is_connected() {
        return Ok(None);
    }
    Ok(link.status(STATUS_TIMEOUT).await.ok())
}

/// Refuses unless the member may control the stream described by `status`: it plays in this
/// server, and they are in its voice channel or may manage channels (bot owners always may).
pub(crate) async fn may_control(ctx: Context<'_>, status: &Status) -> Result<(), Error> {
    let manages = manages_channels(ctx).await;
    control_allowed(ctx, status, ctx.author().id, manages).map_err(lounge_kit::user_error)
}

/// Whether the member may manage channels here (administrators may).
pub(crate) async fn manages_channels(ctx: Context<'_>) -> bool {
    match ctx.author_member().await {
        Some(member) => ctx.guild().is_some_and(|g| {
            let p = g.member_permissions(&member);
            p.administrator() || p.manage_channels()
        }),
        None => false,
    }
}

/// [`may_control`] for anyone (a button press): `manages` is whether they may manage
/// channels here. The refusal is the sentence to show them.
pub(crate) fn control_allowed(
    ctx: Context<'_>,
    status: &Status,
    user: serenity::UserId,
    manages: bool,
) -> Result<(), String> {
    if lounge_kit::policy::is_owner(ctx, user) {
        return Ok(());
    }
    let Some(guild_id) = ctx.guild_id() else {
        return Err(text::NOT_IN_GUILD.to_owned());
    };
    if status.guild_id != Some(guild_id.get()) {
        return Err(text::ELSEWHERE.to_owned());
    }
    let Some(channel) = status.channel_id else {
        return Ok(());
    };
    if manages
        || voice_channel_of(ctx, guild_id, user).map(serenity::ChannelId::get) == Some(channel)
    {
        return Ok(());
    }
    Err(format!(
        "Join <#{channel}> to control the stream there (or ask someone who can manage channels)."
    ))
}

/// Checks, for a pause, resume, seek or stop, that the member may control what plays.
pub(crate) async fn check_control(ctx: Context<'_>) -> Result<(), Error> {
    match current_status(ctx).await? {
        Some(status) if status.state != PlaybackState::Disconnected => {
            may_control(ctx, &status).await
        }
        // Nothing to control: the order itself says so.
        _ => Ok(()),
    }
}

/// Joins `channel_id` (in `guild_id`, or a DM call) and plays `source` there from
/// `start_offset_ms`; leaves again if the source can't play and the account wasn't in voice
/// before.
pub(crate) async fn play_in(
    ctx: Context<'_>,
    guild_id: Option<u64>,
    channel_id: u64,
    source: Source,
    start_offset_ms: u64,
    tracks: lounge_ipc::to_streamer::Tracks,
) -> Result<(), Error> {
    // Logging in, the voice handshake and DAVE take a few seconds: answer within Discord's
    // three-second window first.
    ctx.defer().await?;
    // A bad source must not leave the account sitting in a channel it joined for nothing.
    let was_in_voice = match ctx.data().state.get::<Link>() {
        Some(link) => link
            .status(STATUS_TIMEOUT)
            .await
            .is_ok_and(|s| s.state != PlaybackState::Disconnected),
        None => false,
    };
    order(
        ctx,
        Order::JoinVoice {
            guild_id,
            channel_id,
        },
    )
    .await?;
    let played = order(
        ctx,
        Order::Play {
            source,
            start_offset_ms,
            tracks,
        },
    )
    .await;
    if played.is_err()
        && !was_in_voice
        && let Some(link) = ctx.data().state.get::<Link>()
        && let Err(e) = link.request(Order::LeaveVoice { guild_id }).await
    {
        tracing::warn!(error = %e, "could not leave after a failed start");
    }
    played
}

/// Pause the stream
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn pause(ctx: Context<'_>) -> Result<(), Error> {
    check_control(ctx).await?;
    order(ctx, Order::Pause).await?;
    lounge_kit::say(ctx, "Paused. `/stream resume` carries on.").await?;
    Ok(())
}

/// Resume a paused stream
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn resume(ctx: Context<'_>) -> Result<(), Error> {
    check_control(ctx).await?;
    order(ctx, Order::Resume).await?;
    lounge_kit::say(ctx, "Resumed.").await?;
    Ok(())
}

/// Jump to a position in the video
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn seek(
    ctx: Context<'_>,
    #[description = "Where to jump: 1:23:45, 12:30, 90 (seconds) or 1h5m"] position: String,
) -> Result<(), Error> {
    let to = match parse_position(&position) {
        Ok(to) => to,
        Err(why) => bail_user!("{why}"),
    };
    check_control(ctx).await?;
    order(
        ctx,
        Order::Seek {
            position_ms: u64::try_from(to.as_millis()).unwrap_or(u64::MAX),
        },
    )
    .await?;
    lounge_kit::say(
        ctx,
        format!(
            "Jumped to {}.",
            self::position(u64::try_from(to.as_millis()).unwrap_or(u64::MAX), None)
        ),
    )
    .await?;
    Ok(())
}

/// Stop the stream and leave the voice channel
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn stop(ctx: Context<'_>) -> Result<(), Error> {
    let Some(guild_id) = ctx.guild_id() else {
        bail_user!("{}", text::NOT_IN_GUILD);
    };
    check_control(ctx).await?;
    order(
        ctx,
        Order::LeaveVoice {
            guild_id: Some(guild_id.get()),
        },
    )
    .await?;
    ctx.data().store.clear_now_playing(guild_id.get()).await?;
    lounge_kit::say(ctx, "Stopped the stream and left the voice channel.").await?;
    Ok(())
}

#[derive(Clone, Copy, Debug, poise::ChoiceParameter)]
pub enum QualityChoice {
    #[name = "auto"]
    Auto,
    #[name = "480p"]
    P480,
    #[name = "720p"]
    P720,
    #[name = "1080p"]
    P1080,
}

/// Set the picture size for the next video the streamer plays
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn quality(
    ctx: Context<'_>,
    #[description = "480p, 720p, 1080p, or auto (720p)"] quality: QualityChoice,
) -> Result<(), Error> {
    let quality = match quality {
        QualityChoice::Auto => Quality::Auto,
        QualityChoice::P480 => Quality::P480,
        QualityChoice::P720 => Quality::P720,
        QualityChoice::P1080 => Quality::P1080,
    };
    order(ctx, Order::SetQuality { quality }).await?;
    lounge_kit::say(
        ctx,
        format!(
            "Quality set to {}: it applies from the next `/stream start` (a stream that is \
         already live keeps its size).",
            quality_name(quality)
        ),
    )
    .await?;
    Ok(())
}

/// Sends one order; a refusal becomes the streamer's user-facing sentence.
pub(crate) async fn order(ctx: Context<'_>, command: Order) -> Result<(), Error> {
    ask(ctx, command).await.map(|_| ())
}

/// Sends one request and returns the streamer's answer; not being set up or connected, and a
/// refusal, become the user-facing sentence.
pub(crate) async fn ask(ctx: Context<'_>, command: Order) -> Result<Reply, Error> {
    let Some(link) = ctx.data().state.get::<Link>() else {
        bail_user!("{}", text::NOT_SET_UP);
    };
    let snapshot = link.snapshot();
    if !snapshot.state.is_connected() {
        bail_user!("{}", not_connected(&snapshot));
    }
    let op = format!("{command:?}");
    match link.request(command).await {
        Ok(reply) => Ok(reply),
        Err(e) => {
            // The detail (paths, codec names, Discord close codes) is for the owner's log.
            tracing::warn!(order = %op, error = %e, "streamer refused an order");
            if let ClientError::Streamer { .. } | ClientError::Timeout = e {
                bail_user!("{}", e.user_message());
            }
            bail_user!("{} {}", e.user_message(), text::HOW_TO_START)
        }
    }
}

/// The caller's current voice channel in this guild, from the gateway cache.
pub(crate) fn caller_voice_channel(
    ctx: Context<'_>,
    guild_id: serenity::GuildId,
) -> Option<serenity::ChannelId> {
    voice_channel_of(ctx, guild_id, ctx.author().id)
}

pub(crate) fn voice_channel_of(
    ctx: Context<'_>,
    guild_id: serenity::GuildId,
    user: serenity::UserId,
) -> Option<serenity::ChannelId> {
    let guild = ctx.cache().guild(guild_id)?;
    guild
        .voice_states
        .get(&user)
        .and_then(|state| state.channel_id)
}

/// `1:23:45`, `12:30`, `90` (seconds), or a humantime span like `1h5m` / `90s`.
fn parse_position(input: &str) -> Result<Duration, String> {
    let input = input.trim();
    let bad = || {
        format!(
            "`{}` isn't a position. Use hours:minutes:seconds (1:23:45), minutes:seconds \
             (12:30), seconds (90) or a span like 1h5m.",
            input.replace('`', "'")
        )
    };
    if input.is_empty() {
        return Err(bad());
    }
    if input.chars().all(|c| c.is_ascii_digit() || c == ':') {
        let parts: Vec<&str> = input.split(':').collect();
        if parts.len() > 3 || parts.iter().any(|p| p.is_empty() || p.len() > 6) {
            return Err(bad());
        }
        let mut seconds: u64 = 0;
        for (i, part) in parts.iter().enumerate() {
            let n: u64 = part.parse().map_err(|_| bad())?;
            // Only the leading field may exceed 59 (`90` or `75:00` are fine, `1:75` is not).
            if i > 0 && n > 59 {
                return Err(bad());
            }
            seconds = seconds * 60 + n;
        }
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(input).map_err(|_| bad())
}

/// Show whether the streamer is connected, what it can do and what it is doing
#[poise::command(slash_command, prefix_command)]
pub async fn status(ctx: Context<'_>) -> Result<(), Error> {
    let Some(link) = ctx.data().state.get::<Link>() else {
        bail_user!("{}", text::NOT_SET_UP);
    };
    let snapshot = link.snapshot();
    let ConnectionState::Connected {
        version,
        capabilities,
        status: resynced,
    } = &snapshot.state
    else {
        bail_user!("{}", not_connected(&snapshot));
    };
    // The snapshot from the last (re)connect may be stale; ask for the state now.
    let (status, fresh) = match link.status(STATUS_TIMEOUT).await {
        Ok(status) => (Some(status), true),
        Err(e) => {
            tracing::warn!(error = %e, "streamer status request failed");
            if resynced.is_none() {
                bail_user!("{}", e.user_message());
            }
            (resynced.clone(), false)
        }
    };
    let embed = connected_embed(
        *version,
        capabilities,
        status.as_ref(),
        fresh,
        snapshot.since,
    );
    ctx.send(poise::CreateReply::default().embed(embed)).await?;
    Ok(())
}

fn relative(at: DateTime<Utc>) -> String {
    format!("<t:{}:R>", at.timestamp())
}

/// Why the streamer can't be used right now, and what to do about it.
fn not_connected(snapshot: &Snapshot) -> String {
    let since = relative(snapshot.since);
    match &snapshot.state {
        ConnectionState::Connecting => format!(
            "The streamer is not connected yet: I'm still making my first attempt (since {since}). \
             Try again in a moment."
        ),
        ConnectionState::Refused { reason, .. } => {
            let why = match reason {
                RefuseReason::BadSecret => text::SECRET_MISMATCH,
                RefuseReason::VersionMismatch => match snapshot.state.outdated() {
                    Some(Outdated::Bot) => text::BOT_OUTDATED,
                    _ => text::STREAMER_OUTDATED,
                },
                _ => text::REFUSED_OTHER,
            };
            format!("The streamer is running but refused my connection (since {since}): {why}")
        }
        _ if snapshot.ever_connected => format!(
            "The streamer is not connected: the connection dropped {since} (it stopped or is \
             restarting). {}",
            text::HOW_TO_START
        ),
        _ => format!(
            "The streamer is not connected: I haven't reached it since I started ({since}), so \
             it's probably not running. {}",
            text::HOW_TO_START
        ),
    }
}

fn connected_embed(
    version: u32,
    capabilities: &Capabilities,
    status: Option<&Status>,
    fresh: bool,
    since: DateTime<Utc>,
) -> serenity::CreateEmbed {
    let encoder = match capabilities.encoders.split_first() {
        None => "none reported".to_owned(),
        Some((chosen, [])) => format!("`{chosen}`"),
        Some((chosen, others)) => format!(
            "`{chosen}` (also works: {})",
            others
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let qualities = if capabilities.qualities.is_empty() {
        "none reported".to_owned()
    } else {
        capabilities
            .qualities
            .iter()
            .map(|q| quality_name(*q))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut doing = status.map_or_else(|| "Unknown: it didn't answer.".to_owned(), describe);
    if !fresh {
        doing.push_str(" (as of the last reconnect: it didn't answer just now)");
    }
    serenity::CreateEmbed::new()
        .title("Streamer: connected")
        .description(format!(
            "Connected since {}, IPC protocol v{version}.",
            relative(since)
        ))
        .field("Doing", doing, false)
        .field("Video encoder", encoder, true)
        .field(
            "Go Live video",
            if capabilities.video {
                "available"
            } else {
                "not available in this streamer yet"
            },
            true,
        )
        .field("Qualities", qualities, true)
}

fn describe(status: &Status) -> String {
    let quality = quality_name(status.quality);
    match status.state {
        PlaybackState::Disconnected => "Nothing: not in a voice channel.".to_owned(),
        // A DM call is private to the owner's account: say that it is one, not which.
        PlaybackState::Idle if status.guild_id.is_none() && status.channel_id.is_some() => {
            "In a DM call, nothing playing.".to_owned()
        }
        PlaybackState::Idle => "In a voice channel, nothing playing.".to_owned(),
        PlaybackState::Buffering => format!("Buffering (quality {quality})."),
        PlaybackState::Playing => format!(
            "Playing at {} (quality {quality}).",
            position(status.position_ms, status.duration_ms)
        ),
        PlaybackState::Paused => format!(
            "Paused at {}.",
            position(status.position_ms, status.duration_ms)
        ),
        _ => "Something this bot doesn't know yet (the streamer is newer).".to_owned(),
    }
}

fn position(position_ms: u64, duration_ms: Option<u64>) -> String {
    let clock = |ms: u64| {
        let s = ms / 1000;
        if s >= 3600 {
            format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
        } else {
            format!("{}:{:02}", s / 60, s % 60)
        }
    };
    match duration_ms {
        Some(d) => format!("{} of {}", clock(position_ms), clock(d)),
        None => clock(position_ms),
    }
}

fn quality_name(q: Quality) -> &'static str {
    match q {
        Quality::Auto => "auto",
        Quality::P480 => "480p",
        Quality::P720 => "720p",
        Quality::P1080 => "1080p",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(state: ConnectionState, ever_connected: bool) -> Snapshot {
        Snapshot {
            state,
            since: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            ever_connected,
        }
    }

    #[test]
    fn not_connected_says_what_happened_and_what_to_do() {
        let offline = ConnectionState::Offline {
            reason: "connect: No such file or directory (os error 2)".into(),
        };
        let never = not_connected(&snapshot(offline.clone(), false));
        assert!(
            never.contains("not running") && never.contains("lounge-streamer run"),
            "{never}"
        );
        assert!(never.contains("<t:1700000000:R>"), "{never}");
        assert!(!never.contains("os error"), "log detail leaked: {never}");
        let dropped = not_connected(&snapshot(offline, true));
        assert!(dropped.contains("dropped"), "{dropped}");
        let refused = not_connected(&snapshot(
            ConnectionState::Refused {
                reason: RefuseReason::BadSecret,
                message: "the shared secret does not match the streamer's config".into(),
                server_version: lounge_ipc::PROTOCOL_VERSION,
            },
            false,
        ));
        assert!(
            refused.contains("secret doesn't match") && refused.contains("ipc_secret"),
            "{refused}"
        );
        let mismatch = |server_version| {
            not_connected(&snapshot(
                ConnectionState::Refused {
                    reason: RefuseReason::VersionMismatch,
                    message: "versions differ".into(),
                    server_version,
                },
                false,
            ))
        };
        let older = mismatch(lounge_ipc::PROTOCOL_VERSION - 1);
        assert!(older.contains("update lounge-streamer"), "{older}");
        let bot_behind = mismatch(lounge_ipc::PROTOCOL_VERSION + 1);
        assert!(bot_behind.contains("update the bot"), "{bot_behind}");
    }

    #[test]
    fn seek_positions_parse_like_people_write_them() {
        let ok = |s: &str, secs: u64| {
            assert_eq!(parse_position(s), Ok(Duration::from_secs(secs)), "{s}");
        };
        ok("90", 90);
        ok("1:30", 90);
        ok("75:00", 4500);
        ok("1:02:03", 3723);
        ok(" 0:05 ", 5);
        ok("1h5m", 3900);
        ok("90s", 90);
        for bad in ["", "1:75", "1:2:3:4", "1::2", "soon", "-5", "1:`@everyone`"] {
            let err = parse_position(bad).unwrap_err();
            assert!(err.contains("isn't a position"), "{bad}: {err}");
            assert!(
                !err.contains("`@everyone`"),
                "backticks must not break out: {err}"
            );
        }
    }

    #[test]
    fn positions_read_like_a_player() {
        assert_eq!(position(61_000, None), "1:01");
        assert_eq!(position(3_723_000, Some(7_200_000)), "1:02:03 of 2:00:00");
    }

    #[test]
    fn messages_fit_discord() {
        for s in [
            not_connected(&snapshot(ConnectionState::Connecting, false)),
            not_connected(&snapshot(
                ConnectionState::Offline { reason: "x".into() },
                true,
            )),
            text::NOT_SET_UP.to_owned(),
        ] {
            assert!(s.chars().count() < 2000, "{s}");
        }
    }
}
