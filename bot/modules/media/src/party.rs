//! The watch party: each server's Plex queue (in the database, so it survives restarts),
//! votes for what plays next and to skip, and the background task that plays the next entry
//! when one ends, follows a finished episode with the next one (`plex.autoplay`), records the
//! position as it goes, and resumes what was playing after the bot or the streamer restarts.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use lounge_ipc::to_bot::{EndReason, ErrorKind, Event, PlaybackState, PlexDetails, Reply, Status};
use lounge_ipc::to_streamer::{Command as Order, PlexList, Source};
use lounge_ipc::{ClientError, ConnectionState};
use lounge_store::{NowPlaying, QueueError, Store};
use poise::serenity_prelude as serenity;
use rand::seq::SliceRandom as _;
use tokio::sync::{broadcast, watch};

use crate::link::Link;
use crate::stream::{caller_voice_channel, control_allowed, current_status, manages_channels};
use lounge_kit::{Context, Error, bail_user};

/// How often the position of what plays is written down, for a resume after a restart.
const POSITION_EVERY: Duration = Duration::from_secs(10);
/// Entries per page of `/plex queue list`.
const QUEUE_LINES: usize = 10;

mod text {
    pub const NOT_PLAYING_HERE: &str = "Nothing from Plex is playing in this server.";
    pub const QUEUE_EMPTY: &str = "The queue is empty: `/plex queue add` puts something in it.";
    pub const MANAGE_QUEUE: &str = "Only people in the stream's voice channel, or who can \
        manage channels, can change the queue.";
}

/// The watch party's skip votes: they last one item, so memory is enough.
#[derive(Default)]
pub struct Party {
    /// Guild → (the rating key voted on, who voted).
    skips: Mutex<HashMap<u64, (String, HashSet<u64>)>>,
}

impl Party {
    /// Adds `user`'s skip vote for `key` in `guild`; returns the votes so far.
    fn vote_skip(&self, guild: u64, key: &str, user: u64) -> usize {
        let mut skips = self.skips.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = skips
            .entry(guild)
            .or_insert_with(|| (key.to_owned(), HashSet::new()));
        if entry.0 != key {
            *entry = (key.to_owned(), HashSet::new());
        }
        entry.1.insert(user);
        entry.1.len()
    }

    fn forget_skips(&self, guild: u64) {
        self.skips
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&guild);
    }
}

/// More than half of those watching.
pub fn skip_passes(votes: usize, watching: usize) -> bool {
    votes * 2 > watching
}

/// The `/plex queue` commands.
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    subcommands("add", "list", "remove", "move_entry", "clear", "shuffle"),
    subcommand_required
)]
pub async fn queue(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Add a Plex film or episode to this server's queue (it starts if nothing plays)
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn add(
    ctx: Context<'_>,
    #[description = "The film or episode (start typing its title)"]
    #[autocomplete = "crate::plex::autocomplete_item"]
    item: String,
) -> Result<(), Error> {
    let guild = guild_of(ctx)?;
    let key = crate::plex::item_key(&item)?;
    ctx.defer().await?;
    let details = crate::plex::details(ctx, &key).await?;
    if !matches!(details.kind.as_str(), "movie" | "episode" | "clip") {
        bail_user!(
            "**{}** is a {}: add a film or an episode (`/plex browse` goes into shows and seasons).",
            crate::plex::shown_title(&details),
            details.kind
        );
    }
    let title = crate::plex::shown_title(&details);
    let store = &ctx.data().store;
    let at = store
        .queue_add(guild, &key, &title, ctx.author().id.get())
        .await
        .map_err(lounge_kit::refusal)?;
    // Nothing plays anywhere and the member is in voice: it starts at once.
    let free = current_status(ctx)
        .await?
        .is_some_and(|s| !s.state.has_source());
    if free && let Some(channel) = caller_voice_channel(ctx, serenity::GuildId::new(guild)) {
        let link = link(ctx)?;
        match advance(store, link, guild, channel.get()).await? {
            Some(now) => {
                lounge_kit::say(ctx, format!("Playing **{}** in <#{channel}>.", now.title)).await?;
                return Ok(());
            }
            None => bail_user!("{}", text::QUEUE_EMPTY),
        }
    }
    lounge_kit::say(
        ctx,
        format!("Added **{title}** to the queue at #{at}. `/plex queue list` shows it."),
    )
    .await?;
    Ok(())
}

/// Show this server's Plex queue
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn list(ctx: Context<'_>) -> Result<(), Error> {
    let guild = guild_of(ctx)?;
    let entries = ctx.data().store.queue(guild).await?;
    if entries.is_empty() {
        bail_user!("{}", text::QUEUE_EMPTY);
    }
    let lines: Vec<String> = entries
        .iter()
        .map(|e| {
            let votes = match e.votes {
                0 => String::new(),
                1 => " · 1 vote".to_owned(),
                n => format!(" · {n} votes"),
            };
            format!(
                "`#{}` **{}** · asked by <@{}>{votes}",
                e.position, e.title, e.requested_by
            )
        })
        .collect();
    let title = format!("Plex queue · {} entries", entries.len());
    lounge_kit::ui::paginate(ctx, lounge_kit::ui::line_pages(&title, &lines, QUEUE_LINES)).await
}

/// Take an entry out of the queue (your own, or any if you can manage the queue)
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn remove(
    ctx: Context<'_>,
    #[description = "The entry's number in /plex queue list"] entry: lounge_kit::Bounded<
        1,
        { lounge_store::MAX_QUEUE },
    >,
) -> Result<(), Error> {
    let guild = guild_of(ctx)?;
    let store = &ctx.data().store;
    let position = entry.get();
    let entries = store.queue(guild).await?;
    let Some(target) = entries.iter().find(|e| e.position == position) else {
        return Err(lounge_kit::refusal(QueueError::NoSuchEntry(position)));
    };
    if target.requested_by != ctx.author().id.get() {
        may_manage_queue(ctx).await?;
    }
    let removed = store
        .queue_remove(guild, position)
        .await
        .map_err(lounge_kit::refusal)?;
    lounge_kit::say(
        ctx,
        format!("Took **{}** (#{position}) out of the queue.", removed.title),
    )
    .await?;
    Ok(())
}

/// Move a queue entry to another place in line
#[poise::command(slash_command, prefix_command, guild_only, rename = "move")]
pub async fn move_entry(
    ctx: Context<'_>,
    #[description = "The entry's number in /plex queue list"] entry: lounge_kit::Bounded<
        1,
        { lounge_store::MAX_QUEUE },
    >,
    #[description = "Where it goes (1 is next)"] to: lounge_kit::Bounded<
        1,
        { lounge_store::MAX_QUEUE },
    >,
) -> Result<(), Error> {
    let guild = guild_of(ctx)?;
    may_manage_queue(ctx).await?;
    let moved = ctx
        .data()
        .store
        .queue_move(guild, entry.get(), to.get())
        .await
        .map_err(lounge_kit::refusal)?;
    lounge_kit::say(
        ctx,
        format!("Moved **{}** to #{}.", moved.title, moved.position),
    )
    .await?;
    Ok(())
}

/// Empty this server's queue
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn clear(ctx: Context<'_>) -> Result<(), Error> {
    let guild = guild_of(ctx)?;
    may_manage_queue(ctx).await?;
    let gone = ctx.data().store.queue_clear(guild).await?;
    let what = match gone {
        0 => "The queue was already empty.".to_owned(),
        1 => "Cleared the queue (1 entry).".to_owned(),
        n => format!("Cleared the queue ({n} entries)."),
    };
    lounge_kit::say(ctx, what).await?;
    Ok(())
}

/// Put this server's queue in a random order
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn shuffle(ctx: Context<'_>) -> Result<(), Error> {
    let guild = guild_of(ctx)?;
    may_manage_queue(ctx).await?;
    let shuffled = ctx
        .data()
        .store
        .queue_reorder(guild, |order| order.shuffle(&mut rand::rng()))
        .await
        .map_err(lounge_kit::refusal)?;
    if shuffled == 0 {
        bail_user!("{}", text::QUEUE_EMPTY);
    }
    lounge_kit::say(ctx, format!("Shuffled the queue ({shuffled} entries).")).await?;
    Ok(())
}

/// Vote for a queue entry to play next (for people in the stream's voice channel)
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn vote(
    ctx: Context<'_>,
    #[description = "The entry's number in /plex queue list"] entry: lounge_kit::Bounded<
        1,
        { lounge_store::MAX_QUEUE },
    >,
) -> Result<(), Error> {
    let guild = guild_of(ctx)?;
    watching_here(ctx, guild).await?;
    let votes = ctx
        .data()
        .store
        .queue_vote(guild, entry.get(), ctx.author().id.get())
        .await
        .map_err(lounge_kit::refusal)?;
    let plural = if votes == 1 { "vote" } else { "votes" };
    lounge_kit::say(
        ctx,
        format!(
            "Voted for #{}: it has {votes} {plural}. The entry with the most votes plays next.",
            entry.get()
        ),
    )
    .await?;
    Ok(())
}

/// Skip what plays (at once if you asked for it; else a majority of those watching must vote)
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn skip(ctx: Context<'_>) -> Result<(), Error> {
    let guild = guild_of(ctx)?;
    let status = watching_here(ctx, guild).await?;
    let store = &ctx.data().store;
    let now = store.now_playing().await?.filter(|n| n.guild_id == guild);
    let Some(Source::Plex { rating_key }) = status.source.clone() else {
        bail_user!("{}", text::NOT_PLAYING_HERE);
    };
    let user = ctx.author().id.get();
    let at_once = lounge_kit::policy::is_owner(ctx, ctx.author().id)
        || manages_channels(ctx).await
        || now.as_ref().is_some_and(|n| n.requested_by == user);
    let party = ctx.data().state::<Party>()?;
    if !at_once {
        let watching = watchers(ctx, &status);
        let votes = party.vote_skip(guild, &rating_key, user);
        if !skip_passes(votes, watching) {
            let needed = watching / 2 + 1;
            lounge_kit::say(
                ctx,
                format!(
                    "Voted to skip: {votes} of the {needed} needed (more than half of the \
                     {watching} watching)."
                ),
            )
            .await?;
            return Ok(());
        }
    }
    party.forget_skips(guild);
    ctx.defer().await?;
    let channel = status.channel_id.unwrap_or_default();
    let link = link(ctx)?;
    if let Some(next) = advance(store, link, guild, channel).await? {
        lounge_kit::say(ctx, format!("Skipped. Now playing **{}**.", next.title)).await?;
    } else {
        crate::stream::order(ctx, Order::Stop).await?;
        store.clear_now_playing(guild).await?;
        lounge_kit::say(ctx, "Skipped. The queue is empty, so the stream stopped.").await?;
    }
    Ok(())
}

fn guild_of(ctx: Context<'_>) -> Result<u64, Error> {
    match ctx.guild_id() {
        Some(g) => Ok(g.get()),
        None => bail_user!("The watch party happens in a server."),
    }
}

fn link(ctx: Context<'_>) -> Result<&Link, Error> {
    ctx.data()
        .state
        .get::<Link>()
        .ok_or_else(|| lounge_kit::user_error(crate::stream::NOT_SET_UP))
}

/// The stream playing in this server, if the member is in its voice channel (or may manage
/// channels, or owns the bot).
async fn watching_here(ctx: Context<'_>, guild: u64) -> Result<Status, Error> {
    let status = match current_status(ctx).await? {
        Some(s) if s.state.has_source() && s.guild_id == Some(guild) => s,
        _ => bail_user!("{}", text::NOT_PLAYING_HERE),
    };
    let manages = manages_channels(ctx).await;
    control_allowed(ctx, &status, ctx.author().id, manages).map_err(lounge_kit::user_error)?;
    Ok(status)
}

/// Reordering or clearing the queue: people in the stream's channel while it plays here,
/// those who manage channels, and bot owners.
async fn may_manage_queue(ctx: Context<'_>) -> Result<(), Error> {
    if lounge_kit::policy::is_owner(ctx, ctx.author().id) || manages_channels(ctx).await {
        return Ok(());
    }
    let watching = current_status(ctx)
        .await?
        .filter(|s| s.state.has_source())
        .is_some_and(|s| control_allowed(ctx, &s, ctx.author().id, false).is_ok());
    if !watching {
        bail_user!("{}", text::MANAGE_QUEUE);
    }
    Ok(())
}

/// The people watching: members in the stream's voice channel, without bots and without the
/// account that streams.
fn watchers(ctx: Context<'_>, status: &Status) -> usize {
    let (Some(guild), Some(channel)) = (ctx.guild(), status.channel_id) else {
        return 0;
    };
    guild
        .voice_states
        .values()
        .filter(|v| v.channel_id.map(serenity::ChannelId::get) == Some(channel))
        .filter(|v| Some(v.user_id.get()) != status.account_id)
        .filter(|v| {
            guild
                .members
                .get(&v.user_id)
                .or(v.member.as_ref())
                .is_none_or(|m| !m.user.bot)
        })
        .count()
}

/// Plays the entry that comes next in `guild`'s queue in `channel`, recording it as playing in
/// the same transaction that takes it from the queue. An entry the streamer refuses for good
/// (gone from Plex, not playable) is dropped and the next one tried; one that failed for
/// another reason goes back to the head of the queue. `None`: the queue is empty.
pub(crate) async fn advance(
    store: &Store,
    link: &Link,
    guild: u64,
    channel: u64,
) -> Result<Option<NowPlaying>, Error> {
    for _ in 0..lounge_store::MAX_QUEUE {
        let Some(next) = store
            .queue_take_next(guild, channel)
            .await
            .map_err(lounge_kit::refusal)?
        else {
            return Ok(None);
        };
        match start(link, &next).await {
            Ok(()) => return Ok(Some(next)),
            // Refused for good: drop it and try the next.
            Err(ClientError::Streamer {
                kind:
                    ErrorKind::SourceNotFound | ErrorKind::NotPlayable | ErrorKind::UnsupportedMedia,
                detail,
            }) => {
                tracing::warn!(rating_key = %next.rating_key, %detail, "dropped a queue entry that can't play");
                store.clear_now_playing(guild).await?;
            }
            Err(e) => {
                store
                    .queue_put_back(&next)
                    .await
                    .map_err(lounge_kit::refusal)?;
                let message = e.user_message();
                return Err(lounge_kit::user_error(message));
            }
        }
    }
    Ok(None)
}

/// Joins the channel and plays `now` from its recorded position.
async fn start(link: &Link, now: &NowPlaying) -> Result<(), ClientError> {
    link.request(Order::JoinVoice {
        guild_id: Some(now.guild_id),
        channel_id: now.channel_id,
    })
    .await?;
    link.request(Order::Play {
        source: Source::Plex {
            rating_key: now.rating_key.clone(),
        },
        start_offset_ms: u64::try_from(now.position_ms).unwrap_or(0),
        tracks: lounge_ipc::to_streamer::Tracks::default(),
    })
    .await
    .map(drop)
}

/// The episode after `finished` in its season, if Plex has one.
async fn next_episode(link: &Link, finished: &PlexDetails) -> Option<(String, String)> {
    if finished.kind != "episode" {
        return None;
    }
    let (season, index) = (finished.parent_rating_key.clone()?, finished.index?);
    let Ok(Reply::PlexItems(items)) = link
        .request(Order::PlexBrowse {
            list: PlexList::Children { rating_key: season },
            page: 0,
        })
        .await
    else {
        return None;
    };
    let next = items
        .items
        .into_iter()
        .find(|i| i.kind == "episode" && i.index == Some(index.saturating_add(1)))?;
    let title = match &next.grandparent_title {
        Some(show) => format!("{show} · {}", next.title),
        None => next.title.clone(),
    };
    Some((next.rating_key, title.replace(['*', '`'], "")))
}

/// Starts the watch party's task: it plays what comes next when an item finishes, writes
/// down the position as it plays, and resumes after a restart.
pub fn spawn(
    store: Store,
    link: Link,
    autoplay: bool,
    stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run(store, link, autoplay, stop))
}

async fn run(store: Store, link: Link, autoplay: bool, mut stop: watch::Receiver<bool>) {
    let mut events = link.events();
    let mut state = link.state();
    let mut tick = tokio::time::interval(POSITION_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            event = events.recv() => match event {
                Ok(Event::Ended { reason: EndReason::Finished }) => {
                    if let Err(e) = finished(&store, &link, autoplay).await {
                        tracing::warn!(error = %e, "could not play what comes next");
                    }
                }
                Ok(Event::Ended { reason: EndReason::Failed }) => {
                    if let Ok(Some(now)) = store.now_playing().await {
                        // Voice lost or the stream ended by Discord: it isn't playing.
                        let _ = store.clear_now_playing(now.guild_id).await;
                    }
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            },
            changed = state.changed() => {
                if changed.is_err() {
                    return;
                }
                let connected = matches!(*state.borrow_and_update(), ConnectionState::Connected { .. });
                if connected && let Err(e) = resume(&store, &link).await {
                    tracing::warn!(error = %e, "could not resume what was playing");
                }
            }
            _ = tick.tick() => {
                if let Err(e) = record_position(&store, &link).await {
                    tracing::debug!(error = %e, "could not record the position");
                }
            }
        }
    }
}

/// What was playing finished: the next queue entry, else the next episode, else nothing.
async fn finished(store: &Store, link: &Link, autoplay: bool) -> Result<(), Error> {
    let Some(now) = store.now_playing().await? else {
        return Ok(());
    };
    // Someone may have started something else meanwhile, or the streamer went to another
    // server or a call (what finished was not the watch party's): leave it alone.
    let status = link.status(Duration::from_secs(5)).await?;
    if status.state.has_source() {
        return Ok(());
    }
    if status.guild_id != Some(now.guild_id) {
        store.clear_now_playing(now.guild_id).await?;
        return Ok(());
    }
    if advance(store, link, now.guild_id, now.channel_id)
        .await?
        .is_some()
    {
        return Ok(());
    }
    if autoplay
        && let Ok(Reply::PlexMetadata(details)) = link
            .request(Order::PlexMetadata {
                rating_key: now.rating_key.clone(),
            })
            .await
        && let Some((key, title)) = next_episode(link, &details).await
    {
        let next = NowPlaying {
            rating_key: key,
            title,
            position_ms: 0,
            ..now.clone()
        };
        store.set_now_playing(&next).await?;
        if let Err(e) = start(link, &next).await {
            store.clear_now_playing(next.guild_id).await?;
            return Err(e.into());
        }
        return Ok(());
    }
    store.clear_now_playing(now.guild_id).await?;
    Ok(())
}

/// After the link comes (back) up: if the streamer isn't in voice but something was playing,
/// it plays again from its last recorded position.
async fn resume(store: &Store, link: &Link) -> Result<(), Error> {
    let Some(now) = store.now_playing().await? else {
        return Ok(());
    };
    let status = link.status(Duration::from_secs(5)).await?;
    if status.state != PlaybackState::Disconnected {
        return Ok(());
    }
    tracing::info!(guild = now.guild_id, rating_key = %now.rating_key, position_ms = now.position_ms, "resuming the watch party");
    start(link, &now).await?;
    Ok(())
}

async fn record_position(store: &Store, link: &Link) -> Result<(), Error> {
    let Some(now) = store.now_playing().await? else {
        return Ok(());
    };
    let status = link.status(Duration::from_secs(5)).await?;
    if status.state.has_source()
        && status.guild_id == Some(now.guild_id)
        && status.source
            == Some(Source::Plex {
                rating_key: now.rating_key.clone(),
            })
    {
        let at = i64::try_from(status.position_ms).unwrap_or(i64::MAX);
        store
            .set_now_position(now.guild_id, &now.rating_key, at)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skip_needs_more_than_half() {
        assert!(skip_passes(1, 1));
        assert!(!skip_passes(1, 2));
        assert!(skip_passes(2, 3));
        assert!(!skip_passes(2, 4));
        assert!(!skip_passes(0, 0));
    }

    #[test]
    fn skip_votes_count_once_and_reset_with_the_item() {
        let party = Party::default();
        assert_eq!(party.vote_skip(1, "10", 7), 1);
        assert_eq!(party.vote_skip(1, "10", 7), 1);
        assert_eq!(party.vote_skip(1, "10", 8), 2);
        assert_eq!(
            party.vote_skip(2, "10", 8),
            1,
            "another server counts apart"
        );
        assert_eq!(party.vote_skip(1, "11", 8), 1, "a new item starts afresh");
        party.forget_skips(1);
        assert_eq!(party.vote_skip(1, "11", 9), 1);
    }
}
