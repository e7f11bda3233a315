//! The music commands: voice, playing, the queue and the controls.

use std::sync::Arc;
use std::time::Duration;

use lounge_kit::reply::Text as _;
use lounge_kit::{Bounded, Command, Context, Error, RefusalExt as _, bail_user};
use lounge_store::{LoopMode, NewTrack, TrackSource};
use poise::serenity_prelude as serenity;

use crate::player::{Players, list_files, resolve_file};
use crate::text;
use crate::ytdlp::Entry;

pub fn commands() -> Vec<Command> {
    vec![
        join(),
        leave(),
        // The prefix form first: poise runs the first command a prefix message names.
        play_text(),
        play(),
        playnext(),
        pause(),
        resume(),
        skip(),
        stop(),
        seek(),
        volume(),
        loop_(),
        nowplaying(),
        queue(),
        music(),
        crate::lyrics::lyrics(),
        crate::sound::sound(),
        // The prefix form first: poise runs the first command a prefix message names.
        crate::gif::gif_text(),
        crate::gif::gif(),
        crate::gif::gifrating(),
    ]
}

pub(crate) fn players(ctx: Context<'_>) -> Result<&Arc<Players>, Error> {
    ctx.data().state::<Arc<Players>>()
}

pub(crate) fn guild_of(ctx: Context<'_>) -> Result<serenity::GuildId, Error> {
    ctx.guild_id()
        .ok_or_else(|| lounge_kit::user_error(text::NOT_IN_GUILD))
}

/// The voice channel `user` is in, in this guild.
fn voice_channel_of(ctx: Context<'_>, user: serenity::UserId) -> Option<serenity::ChannelId> {
    ctx.guild()?.voice_states.get(&user)?.channel_id
}

/// Whether `member` may manage channels here (administrators may).
fn manages_channels(ctx: Context<'_>, member: Option<&serenity::Member>) -> bool {
    member.is_some_and(|member| {
        ctx.guild().is_some_and(|g| {
            let p = g.member_permissions(member);
            p.administrator() || p.manage_channels()
        })
    })
}

fn has_role(member: Option<&serenity::Member>, role: u64) -> bool {
    member.is_some_and(|m| m.roles.iter().any(|r| r.get() == role))
}

/// Where a control may act: the guild, the bot's channel, and the member's standing there.
pub(crate) struct Control {
    pub guild: serenity::GuildId,
    pub channel: serenity::ChannelId,
    pub user: serenity::UserId,
    /// May change what others queued: owner, Manage Channels, the DJ role (or no DJ role set),
    /// or the only listener.
    pub dj: bool,
    /// Skips at once without a vote: owner, Manage Channels, the DJ role, or the only
    /// listener (the track's requester too; see [`skip_or_vote`]).
    pub skips_at_once: bool,
}

/// The member (`user`, whose guild membership is `member`) must be in the bot's voice channel
/// in this guild; the refusal is a sentence for them.
pub(crate) async fn control_for(
    ctx: Context<'_>,
    user: serenity::UserId,
    member: Option<&serenity::Member>,
) -> Result<Control, Error> {
    let guild = guild_of(ctx)?;
    let players = players(ctx)?;
    let Some(channel) = players.bot_channel(guild) else {
        bail_user!("{}", text::NOT_CONNECTED);
    };
    let owner = lounge_kit::policy::is_owner(ctx, user);
    if !owner && voice_channel_of(ctx, user) != Some(channel) {
        bail_user!("{}", text::not_in_bots_channel(channel));
    }
    let listeners = players.listeners(guild, channel).humans;
    let alone = listeners == [user.get()];
    let dj_role = ctx.data().store.music_settings(guild.get()).await?.dj_role;
    let strong = owner
        || alone
        || manages_channels(ctx, member)
        || dj_role.is_some_and(|role| has_role(member, role));
    Ok(Control {
        guild,
        channel,
        user,
        dj: strong || dj_role.is_none(),
        skips_at_once: strong,
    })
}

async fn control(ctx: Context<'_>) -> Result<Control, Error> {
    let member = ctx.author_member().await;
    control_for(ctx, ctx.author().id, member.as_deref()).await
}

/// Skips at once for the track's requester and [`Control::skips_at_once`]; anyone else
/// votes, and a majority of the members listening skips. The answer says which happened.
pub(crate) async fn skip_or_vote(ctx: Context<'_>, c: &Control) -> Result<String, Error> {
    let players = players(ctx)?;
    let me = c.user.get();
    let Some(requester) = players.requester(c.guild) else {
        bail_user!("{}", text::NOTHING_PLAYING);
    };
    if requester != me && !c.skips_at_once {
        let listeners = players.listeners(c.guild, c.channel).humans;
        let (votes, needed) = players.vote_skip(c.guild, me, &listeners);
        if votes < needed {
            return Ok(format!(
                "Skip vote: {votes} of {needed} needed. Others in the channel can `/skip` too."
            ));
        }
    }
    if !players.skip(c.guild).await? {
        bail_user!("{}", text::NOTHING_PLAYING);
    }
    Ok(match ctx.data().store.music_now(c.guild.get()).await? {
        Some(now) => format!("Skipped. {}", text::now_playing_line(&now)),
        None => "Skipped. The queue is empty now.".to_owned(),
    })
}

pub(crate) fn need_dj(c: &Control) -> Result<(), Error> {
    if c.dj {
        Ok(())
    } else {
        Err(lounge_kit::user_error(
            "Only the DJ role (or someone who can manage channels) may do that while others listen.",
        ))
    }
}

/// Join your voice channel
#[poise::command(slash_command, prefix_command, guild_only, category = "Music")]
pub async fn join(ctx: Context<'_>) -> Result<(), Error> {
    let guild = guild_of(ctx)?;
    let Some(channel) = voice_channel_of(ctx, ctx.author().id) else {
        bail_user!("{}", text::NOT_IN_VOICE);
    };
    let players = players(ctx)?;
    if let Some(current) = players.bot_channel(guild)
        && current != channel
        && players.is_playing(guild)
        && !players.listeners(guild, current).humans.is_empty()
    {
        bail_user!("{}", text::busy_elsewhere(current));
    }
    ctx.defer().await?;
    players
        .join(guild, channel)
        .await
        .map_err(lounge_kit::user_error)?;
    lounge_kit::say(ctx, format!("Joined <#{channel}>.")).await?;
    Ok(())
}

/// Leave the voice channel (the queue is kept)
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    aliases("disconnect"),
    category = "Music"
)]
pub async fn leave(ctx: Context<'_>) -> Result<(), Error> {
    let c = control(ctx).await?;
    need_dj(&c)?;
    players(ctx)?.leave(c.guild).await?;
    lounge_kit::say(ctx, format!("Left <#{}>. The queue is kept.", c.channel)).await?;
    Ok(())
}

fn is_link(query: &str) -> bool {
    query.starts_with("https://") || query.starts_with("http://")
}

/// Play a link, a search or a music file, or add it to the queue
#[poise::command(slash_command, guild_only, category = "Music")]
pub async fn play(
    ctx: Context<'_>,
    #[description = "A link (YouTube, SoundCloud, Bandcamp, a media file...), words to search, or file:NAME"]
    #[autocomplete = "autocomplete_query"]
    query: String,
    #[description = "Play the first search result without asking"] first: Option<bool>,
    #[description = "Put it next in the queue instead of at the end"] next: Option<bool>,
) -> Result<(), Error> {
    play_query(ctx, query, first.unwrap_or(false), next.unwrap_or(false)).await
}

/// Play a link, a search or a music file, or add it to the queue
// The prefix form takes the rest of the message as the query (a slash command's optional
// options can't follow a rest argument, and Discord wants required options first).
#[poise::command(
    prefix_command,
    guild_only,
    rename = "play",
    aliases("p"),
    category = "Music"
)]
pub async fn play_text(
    ctx: Context<'_>,
    #[description = "A link, words to search, or file:NAME"]
    #[rest]
    query: String,
) -> Result<(), Error> {
    play_query(ctx, query, false, false).await
}

/// Put a link, a search or a music file next in the queue
#[poise::command(slash_command, prefix_command, guild_only, category = "Music")]
pub async fn playnext(
    ctx: Context<'_>,
    #[description = "A link, words to search, or file:NAME"]
    #[rest]
    query: String,
) -> Result<(), Error> {
    play_query(ctx, query, false, true).await
}

async fn play_query(ctx: Context<'_>, query: String, first: bool, next: bool) -> Result<(), Error> {
    let guild = guild_of(ctx)?;
    let query = query.trim().to_owned();
    if query.is_empty() {
        bail_user!("{}", text::EMPTY_QUERY);
    }
    if query.chars().count() > if is_link(&query) { 2000 } else { 200 } {
        bail_user!("{}", text::QUERY_TOO_LONG);
    }
    let Some(channel) = voice_channel_of(ctx, ctx.author().id) else {
        bail_user!("{}", text::NOT_IN_VOICE);
    };
    let players = players(ctx)?;
    if let Some(current) = players.bot_channel(guild)
        && current != channel
        && players.is_playing(guild)
    {
        bail_user!("{}", text::busy_elsewhere(current));
    }
    ctx.defer().await?;
    let config = &players.config;
    let (tracks, playlist) = if query.starts_with("file:") {
        if config.roots.is_empty() {
            bail_user!("{}", text::NO_ROOTS);
        }
        let path = resolve_file(&config.roots, &query).map_err(lounge_kit::user_error)?;
        let title = path
            .file_stem()
            .map_or_else(|| query.clone(), |s| s.to_string_lossy().into_owned());
        let name = query.trim_start_matches("file:").trim().to_owned();
        (
            vec![NewTrack {
                title,
                url: name,
                source: TrackSource::File,
                duration_ms: None,
            }],
            None,
        )
    } else if let Some(link) = lounge_spotify::parse_link(&query) {
        let found = players
            .spotify
            .resolve(&link, config.max_playlist)
            .await
            .map_err(|e| lounge_kit::user_error(e.to_string()))?;
        let entries: Vec<Entry> = found
            .tracks
            .iter()
            .map(|t| Entry {
                title: t.query(),
                url: format!("{}#isrc={}", t.url, t.isrc.as_deref().unwrap_or_default()),
                duration_ms: Some(t.duration_ms),
                live: false,
            })
            .collect();
        let mut tracks = checked(config, &entries)?;
        for t in &mut tracks {
            t.source = TrackSource::Spotify;
        }
        let name = match link {
            lounge_spotify::Link::Track(_) => None,
            _ => found.name,
        };
        (tracks, name)
    } else if query.contains("open.spotify.com/") || query.starts_with("spotify:") {
        bail_user!("{}", text::SPOTIFY_KINDS);
    } else if is_link(&query) {
        check_host(&query, config.allow_private_hosts).await?;
        let lookup = players
            .ytdlp
            .lookup(&query, config.max_playlist)
            .await
            .map_err(|e| lounge_kit::user_error(e.to_string()))?;
        let tracks = checked(config, &lookup.entries)?;
        (tracks, lookup.playlist)
    } else {
        let results = players
            .ytdlp
            .search(&query, 5)
            .await
            .map_err(|e| lounge_kit::user_error(e.to_string()))?;
        let picked = if first || results.len() == 1 {
            results[0].clone()
        } else {
            match pick(ctx, &results).await? {
                Some(entry) => entry,
                None => return Ok(()),
            }
        };
        (checked(config, std::slice::from_ref(&picked))?, None)
    };
    let was_playing = players.is_playing(guild);
    if players.bot_channel(guild) != Some(channel) {
        players
            .join(guild, channel)
            .await
            .map_err(lounge_kit::user_error)?;
    }
    let per_member = (config.max_queued_per_member > 0).then_some(config.max_queued_per_member);
    let position = ctx
        .data()
        .store
        .music_add(
            guild.get(),
            &tracks,
            ctx.author().id.get(),
            next,
            per_member,
        )
        .await
        .refused()?;
    players
        .start_if_idle(guild, channel, ctx.channel_id())
        .await?;
    let answer = match (&playlist, tracks.as_slice()) {
        (Some(name), _) => format!(
            "Queued {} tracks from **{}**.",
            tracks.len(),
            text::escape(name)
        ),
        (None, [one]) if !was_playing => format!("Playing **{}**.", text::escape(&one.title)),
        (None, [one, ..]) => format!("Queued **{}** at #{position}.", text::escape(&one.title)),
        (None, []) => "Nothing to queue.".to_owned(),
    };
    lounge_kit::say(ctx, answer).await?;
    Ok(())
}

/// Refuses a link to the bot's own machine or network (unless `music.allow_private_hosts`):
/// yt-dlp would fetch it from inside. Names are resolved and every address checked.
async fn check_host(link: &str, allow: bool) -> Result<(), Error> {
    if allow {
        return Ok(());
    }
    let Ok(url) = reqwest::Url::parse(link) else {
        bail_user!("That link isn't a web address I can read.");
    };
    let port = url.port_or_known_default().unwrap_or(443);
    let Some(host) = url.host_str() else {
        bail_user!("That link isn't a web address I can read.");
    };
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<std::net::IpAddr> = if let Ok(ip) = literal.parse() {
        vec![ip]
    } else {
        let lookup = tokio::net::lookup_host((host, port));
        match tokio::time::timeout(Duration::from_secs(5), lookup).await {
            Ok(Ok(found)) => found.map(|a| a.ip()).collect(),
            _ => bail_user!("I couldn't find the site that link points at."),
        }
    };
    if addresses.iter().any(|ip| lounge_ipc::net::internal(*ip)) {
        bail_user!("I don't play links to the bot's own machine or network.");
    }
    Ok(())
}

/// Refuses live streams (unless allowed) and tracks over the length limit; with a playlist,
/// those are left out and the rest queued.
fn checked(config: &crate::MusicConfig, entries: &[Entry]) -> Result<Vec<NewTrack>, Error> {
    let limit_ms = config.max_track_minutes.saturating_mul(60_000);
    let mut refusal = None;
    let tracks: Vec<NewTrack> = entries
        .iter()
        .filter(|e| {
            if e.live && !config.allow_live {
                refusal = Some(crate::ytdlp::YtDlpError::Live.to_string());
                return false;
            }
            if limit_ms > 0 && e.duration_ms.is_some_and(|d| d > limit_ms) {
                refusal = Some(text::too_long(config.max_track_minutes));
                return false;
            }
            true
        })
        .map(|e| NewTrack {
            title: e.title.clone(),
            url: e.url.clone(),
            source: TrackSource::YtDlp,
            duration_ms: e.duration_ms,
        })
        .collect();
    if tracks.is_empty() {
        return Err(lounge_kit::user_error(refusal.unwrap_or_else(|| {
            crate::ytdlp::YtDlpError::NoResults.to_string()
        })));
    }
    Ok(tracks)
}

/// The search results in a select menu; the invoker's pick, or `None` after a minute.
async fn pick(ctx: Context<'_>, results: &[Entry]) -> Result<Option<Entry>, Error> {
    let id = format!("{}:music-pick", ctx.id());
    let options = results
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let label: String = e.title.chars().take(100).collect();
            let mut option = serenity::CreateSelectMenuOption::new(label, i.to_string());
            if let Some(ms) = e.duration_ms {
                option = option.description(text::clock(Duration::from_millis(ms.cast_unsigned())));
            }
            option
        })
        .collect();
    let menu =
        serenity::CreateSelectMenu::new(&id, serenity::CreateSelectMenuKind::String { options })
            .placeholder("Pick a track");
    let handle = ctx
        .send(
            poise::CreateReply::default()
                .text("Which one?")
                .components(vec![serenity::CreateActionRow::SelectMenu(menu)]),
        )
        .await?;
    let author = ctx.author().id;
    let deadline = tokio::time::Instant::now() + Duration::from_mins(1);
    let mut presses = lounge_kit::ui::ButtonPresses::new(ctx, id.clone());
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Some(press) = presses.next(left).await else {
            handle
                .edit(
                    ctx,
                    poise::CreateReply::default()
                        .text("No pick, so nothing was queued.")
                        .components(vec![]),
                )
                .await?;
            return Ok(None);
        };
        if press.user.id != author {
            lounge_kit::ui::answer_privately(
                ctx,
                &press,
                "This pick isn't yours: run `/play` yourself.",
            )
            .await?;
            continue;
        }
        let chosen = match &press.data.kind {
            serenity::ComponentInteractionDataKind::StringSelect { values } => values
                .first()
                .and_then(|v| v.parse::<usize>().ok())
                .and_then(|i| results.get(i))
                .cloned(),
            _ => None,
        };
        press
            .create_response(
                ctx,
                serenity::CreateInteractionResponse::UpdateMessage(
                    serenity::CreateInteractionResponseMessage::new()
                        .text(match &chosen {
                            Some(e) => format!("Picked **{}**.", text::escape(&e.title)),
                            None => "That pick wasn't one of the results.".to_owned(),
                        })
                        .components(vec![]),
                ),
            )
            .await?;
        return Ok(chosen);
    }
}

async fn autocomplete_query(
    ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let Some(rest) = partial.strip_prefix("file:") else {
        return serenity::CreateAutocompleteResponse::new();
    };
    let Ok(players) = players(ctx) else {
        return serenity::CreateAutocompleteResponse::new();
    };
    let files = list_files(&players.config.roots, 1000);
    let rest = rest.to_lowercase();
    let choices = files
        .iter()
        .filter(|f| f.to_lowercase().contains(&rest))
        .take(25)
        .map(|f| {
            let value = format!("file:{f}");
            serenity::AutocompleteChoice::new(value.chars().take(100).collect::<String>(), value)
        })
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// May `c`'s member control what plays now (their own track, or as a DJ)?
pub(crate) fn own_or_dj(ctx: Context<'_>, c: &Control) -> Result<(), Error> {
    let players = players(ctx)?;
    if c.dj || players.requester(c.guild) == Some(c.user.get()) {
        Ok(())
    } else {
        need_dj(c)
    }
}

/// Pauses or resumes for `c`'s member (their own track, or as a DJ): `/pause`, `/resume` and
/// the now-playing buttons.
pub(crate) async fn set_paused(ctx: Context<'_>, c: &Control, pause: bool) -> Result<(), Error> {
    own_or_dj(ctx, c)?;
    if !players(ctx)?.set_paused(c.guild, pause).await? {
        bail_user!("{}", text::NOTHING_PLAYING);
    }
    Ok(())
}

/// Shuffles the queue for a DJ; returns how many tracks: `/queue shuffle` and its button.
pub(crate) async fn shuffle(ctx: Context<'_>, c: &Control) -> Result<usize, Error> {
    need_dj(c)?;
    ctx.data()
        .store
        .music_reorder(c.guild.get(), |order| {
            use rand::seq::SliceRandom as _;
            order.shuffle(&mut rand::rng());
        })
        .await
        .refused()
}

/// Pause the music
#[poise::command(slash_command, prefix_command, guild_only, category = "Music")]
pub async fn pause(ctx: Context<'_>) -> Result<(), Error> {
    let c = control(ctx).await?;
    set_paused(ctx, &c, true).await?;
    lounge_kit::say(ctx, "Paused. `/resume` plays on.").await?;
    Ok(())
}

/// Resume the music
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    aliases("unpause"),
    category = "Music"
)]
pub async fn resume(ctx: Context<'_>) -> Result<(), Error> {
    let c = control(ctx).await?;
    set_paused(ctx, &c, false).await?;
    lounge_kit::say(ctx, "Playing on.").await?;
    Ok(())
}

/// Skip the track (at once for its requester and DJs; others vote)
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    aliases("s"),
    category = "Music"
)]
pub async fn skip(ctx: Context<'_>) -> Result<(), Error> {
    let c = control(ctx).await?;
    ctx.defer().await?;
    let answer = skip_or_vote(ctx, &c).await?;
    lounge_kit::say(ctx, answer).await?;
    Ok(())
}

/// Stop the music and empty the queue
#[poise::command(slash_command, prefix_command, guild_only, category = "Music")]
pub async fn stop(ctx: Context<'_>) -> Result<(), Error> {
    let c = control(ctx).await?;
    need_dj(&c)?;
    players(ctx)?.stop(c.guild).await?;
    lounge_kit::say(ctx, "Stopped, and the queue is empty.").await?;
    Ok(())
}

/// Jump to a point in the track: 1:23, 90, +30s, -10s
#[poise::command(slash_command, prefix_command, guild_only, category = "Music")]
pub async fn seek(
    ctx: Context<'_>,
    #[description = "Where to: 1:23 or 90 (seconds), or +30s / -10s from here"] position: String,
) -> Result<(), Error> {
    let c = control(ctx).await?;
    own_or_dj(ctx, &c)?;
    let players = players(ctx)?;
    let Some((now, _)) = players.position(c.guild).await else {
        bail_user!("{}", text::NOTHING_PLAYING);
    };
    let target = crate::parse::seek_target(&position, now).map_err(lounge_kit::user_error)?;
    let duration = ctx
        .data()
        .store
        .music_now(c.guild.get())
        .await?
        .and_then(|n| n.track.duration_ms)
        .map(|ms| Duration::from_millis(ms.cast_unsigned()));
    if let Some(total) = duration
        && target >= total
    {
        bail_user!(
            "The track is only {} long: pick a point before its end.",
            text::clock(total)
        );
    }
    ctx.defer().await?;
    let reached = players.seek(c.guild, target).await?;
    lounge_kit::say(ctx, format!("Now at {}.", text::clock(reached))).await?;
    Ok(())
}

/// Show or set the volume for this server (0–200 %)
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    aliases("vol"),
    category = "Music"
)]
pub async fn volume(
    ctx: Context<'_>,
    #[description = "The volume in percent, 0–200 (leave out to see it)"] percent: Option<
        Bounded<0, 200>,
    >,
) -> Result<(), Error> {
    let guild = guild_of(ctx)?;
    let store = &ctx.data().store;
    let mut settings = store.music_settings(guild.get()).await?;
    let Some(percent) = percent else {
        lounge_kit::say(ctx, format!("The volume is {} %.", settings.volume)).await?;
        return Ok(());
    };
    let c = control(ctx).await?;
    need_dj(&c)?;
    settings.volume = percent.get();
    store.set_music_settings(guild.get(), &settings).await?;
    players(ctx)?.set_volume(guild, settings.volume);
    lounge_kit::say(ctx, format!("Volume set to {} %.", settings.volume)).await?;
    Ok(())
}

#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum LoopChoice {
    #[name = "off"]
    Off,
    #[name = "track"]
    Track,
    #[name = "queue"]
    Queue,
}

/// Loop the track, the queue, or nothing
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    rename = "loop",
    category = "Music"
)]
pub async fn loop_(
    ctx: Context<'_>,
    #[description = "off, track (repeat this one) or queue (played tracks go back in line)"]
    mode: LoopChoice,
) -> Result<(), Error> {
    let c = control(ctx).await?;
    need_dj(&c)?;
    let store = &ctx.data().store;
    let mut settings = store.music_settings(c.guild.get()).await?;
    settings.loop_mode = match mode {
        LoopChoice::Off => LoopMode::Off,
        LoopChoice::Track => LoopMode::Track,
        LoopChoice::Queue => LoopMode::Queue,
    };
    store.set_music_settings(c.guild.get(), &settings).await?;
    lounge_kit::say(ctx, format!("Loop: {}.", settings.loop_mode.as_str())).await?;
    Ok(())
}

/// What's playing, with its progress and controls
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    aliases("np"),
    category = "Music"
)]
pub async fn nowplaying(ctx: Context<'_>) -> Result<(), Error> {
    crate::nowplaying::show(ctx).await
}

/// The queue: show it, or change it
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    aliases("q"),
    subcommands(
        "queue_show",
        "queue_remove",
        "queue_move",
        "queue_shuffle",
        "queue_clear",
        "queue_history"
    ),
    subcommand_required,
    category = "Music"
)]
pub async fn queue(_ctx: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Show the queue, with who added each track and the total time
#[poise::command(slash_command, prefix_command, guild_only, rename = "show")]
pub async fn queue_show(ctx: Context<'_>) -> Result<(), Error> {
    let guild = guild_of(ctx)?;
    let store = &ctx.data().store;
    let tracks = store.music_queue(guild.get()).await?;
    let now = store.music_now(guild.get()).await?;
    let mut lines = Vec::new();
    if let Some(now) = &now {
        lines.push(format!("**Now:** {}", text::now_playing_line(now)));
    }
    let mut total_ms: i64 = 0;
    let mut unknown = 0;
    for t in &tracks {
        match t.duration_ms {
            Some(ms) => total_ms = total_ms.saturating_add(ms),
            None => unknown += 1,
        }
        lines.push(format!(
            "`{}.` {}{} (<@{}>)",
            t.position,
            text::escape(&t.title),
            t.duration_ms
                .map(|ms| format!(
                    " [{}]",
                    text::clock(Duration::from_millis(ms.cast_unsigned()))
                ))
                .unwrap_or_default(),
            t.requested_by
        ));
    }
    if lines.is_empty() {
        lounge_kit::say(ctx, "The queue is empty: `/play` adds to it.").await?;
        return Ok(());
    }
    let title = format!(
        "Queue: {} tracks, {}{}",
        tracks.len(),
        text::clock(Duration::from_millis(total_ms.cast_unsigned())),
        if unknown > 0 { " and more" } else { "" }
    );
    lounge_kit::ui::paginate(ctx, lounge_kit::ui::line_pages(&title, &lines, 10)).await
}

/// Remove a track from the queue
#[poise::command(slash_command, prefix_command, guild_only, rename = "remove")]
pub async fn queue_remove(
    ctx: Context<'_>,
    #[description = "Its number in /queue show"] position: Bounded<1, 500>,
) -> Result<(), Error> {
    let c = control(ctx).await?;
    let store = &ctx.data().store;
    let tracks = store.music_queue(c.guild.get()).await?;
    if let Some(t) = tracks.iter().find(|t| t.position == position.get())
        && t.requested_by != ctx.author().id.get()
    {
        need_dj(&c)?;
    }
    let removed = store
        .music_remove(c.guild.get(), position.get())
        .await
        .refused()?;
    lounge_kit::say(
        ctx,
        format!("Removed **{}**.", text::escape(&removed.title)),
    )
    .await?;
    Ok(())
}

/// Move a track to another place in the queue
#[poise::command(slash_command, prefix_command, guild_only, rename = "move")]
pub async fn queue_move(
    ctx: Context<'_>,
    #[description = "Its number in /queue show"] from: Bounded<1, 500>,
    #[description = "Where it goes (1 = next)"] to: Bounded<1, 500>,
) -> Result<(), Error> {
    let c = control(ctx).await?;
    need_dj(&c)?;
    let moved = ctx
        .data()
        .store
        .music_move(c.guild.get(), from.get(), to.get())
        .await
        .refused()?;
    lounge_kit::say(
        ctx,
        format!(
            "Moved **{}** to #{}.",
            text::escape(&moved.title),
            moved.position
        ),
    )
    .await?;
    Ok(())
}

/// Shuffle the queue
#[poise::command(slash_command, prefix_command, guild_only, rename = "shuffle")]
pub async fn queue_shuffle(ctx: Context<'_>) -> Result<(), Error> {
    let c = control(ctx).await?;
    let n = shuffle(ctx, &c).await?;
    lounge_kit::say(ctx, format!("Shuffled {n} tracks.")).await?;
    Ok(())
}

/// Empty the queue (what plays keeps playing)
#[poise::command(slash_command, prefix_command, guild_only, rename = "clear")]
pub async fn queue_clear(ctx: Context<'_>) -> Result<(), Error> {
    let c = control(ctx).await?;
    need_dj(&c)?;
    let n = ctx.data().store.music_clear(c.guild.get()).await?;
    lounge_kit::say(ctx, format!("Cleared {n} tracks from the queue.")).await?;
    Ok(())
}

/// The tracks played last
#[poise::command(slash_command, prefix_command, guild_only, rename = "history")]
pub async fn queue_history(ctx: Context<'_>) -> Result<(), Error> {
    let guild = guild_of(ctx)?;
    let played = ctx.data().store.music_history(guild.get()).await?;
    if played.is_empty() {
        lounge_kit::say(ctx, "Nothing has played here yet.").await?;
        return Ok(());
    }
    let lines: Vec<String> = played
        .iter()
        .enumerate()
        .map(|(i, t)| {
            format!(
                "`{}.` {} (<@{}>)",
                i + 1,
                text::escape(&t.title),
                t.requested_by
            )
        })
        .collect();
    lounge_kit::ui::paginate(ctx, lounge_kit::ui::line_pages("Played last", &lines, 10)).await
}

/// Music settings for this server
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    subcommands("music_dj", "music_stay"),
    subcommand_required,
    default_member_permissions = "MANAGE_GUILD",
    category = "Music"
)]
pub async fn music(_ctx: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Set the DJ role: who may control tracks others queued (leave out to clear it)
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    rename = "dj",
    required_permissions = "MANAGE_GUILD"
)]
pub async fn music_dj(
    ctx: Context<'_>,
    #[description = "The DJ role (leave out: everyone in the bot's channel)"] role: Option<
        serenity::Role,
    >,
) -> Result<(), Error> {
    let guild = guild_of(ctx)?;
    let store = &ctx.data().store;
    let mut settings = store.music_settings(guild.get()).await?;
    settings.dj_role = role.as_ref().map(|r| r.id.get());
    store.set_music_settings(guild.get(), &settings).await?;
    let answer = match role {
        Some(r) => format!(
            "DJ role: **{}**. Members with it (and those who can manage channels) control every track.",
            text::escape(&r.name)
        ),
        None => "No DJ role: everyone in the bot's channel controls the music.".to_owned(),
    };
    lounge_kit::say(ctx, answer).await?;
    Ok(())
}

/// Stay in voice all the time (24/7), or leave when alone or idle
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    rename = "247",
    required_permissions = "MANAGE_GUILD"
)]
pub async fn music_stay(
    ctx: Context<'_>,
    #[description = "true: stay 24/7; false: leave after music.idle_minutes alone or idle"]
    stay: bool,
) -> Result<(), Error> {
    let guild = guild_of(ctx)?;
    let store = &ctx.data().store;
    let mut settings = store.music_settings(guild.get()).await?;
    settings.always_on = stay;
    store.set_music_settings(guild.get(), &settings).await?;
    let minutes = players(ctx)?.config.idle_minutes;
    let answer = if stay {
        "24/7 on: I stay in voice even when alone or idle.".to_owned()
    } else {
        format!("24/7 off: I leave after {minutes} minutes alone or idle.")
    };
    lounge_kit::say(ctx, answer).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_are_told_from_searches() {
        assert!(super::is_link("https://youtu.be/x"));
        assert!(!super::is_link("never gonna give you up"));
    }
}
