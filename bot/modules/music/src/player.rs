//! The players: one songbird call per guild, the track playing in it, and the background work
//! around them (the next track when one ends, positions saved every second, leaving when
//! alone or idle, and resuming after a restart).
//!
//! The database says what plays (`music_now`); this process holds only the songbird handles
//! for it. So a restarted bot rejoins and resumes from the database, and a stale end-of-track
//! event (a skip raced it) can't advance the queue twice: every advance names the play it
//! ends by its start stamp, and the store refuses a mismatch.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use lounge_kit::Error;
use lounge_store::{Ended, MusicNow, Store, TrackSource};
use poise::serenity_prelude as serenity;
use songbird::input::{File as FileInput, HttpRequest, Input};
use songbird::tracks::{PlayMode, Track, TrackHandle};
use songbird::{Event, EventContext, EventHandler, Songbird, TrackEvent};
use tokio::sync::{mpsc, watch};

use crate::config::MusicConfig;
use crate::text;
use crate::ytdlp::YtDlp;

/// How many tracks in a row may fail to start before the player gives up on the queue.
const MAX_FAILED_STARTS: usize = 5;

struct Playing {
    handle: TrackHandle,
    started_at: i64,
    channel: u64,
    requested_by: u64,
    /// Members who voted to skip this track.
    votes: HashSet<u64>,
}

/// A track ended in songbird (played out, or failed).
struct TrackDone {
    guild: u64,
    started_at: i64,
    error: Option<String>,
}

struct EndHandler {
    guild: u64,
    started_at: i64,
    done: mpsc::UnboundedSender<TrackDone>,
}

#[async_trait::async_trait]
impl EventHandler for EndHandler {
    async fn act(&self, ctx: &EventContext<'_>) -> Option<Event> {
        let error = match ctx {
            EventContext::Track(tracks) => {
                tracks.iter().find_map(|(state, _)| match &state.playing {
                    PlayMode::Errored(e) => Some(e.to_string()),
                    _ => None,
                })
            }
            _ => None,
        };
        let _ = self.done.send(TrackDone {
            guild: self.guild,
            started_at: self.started_at,
            error,
        });
        None
    }
}

pub struct Players {
    songbird: Arc<Songbird>,
    store: Store,
    http: Arc<serenity::Http>,
    cache: Arc<serenity::Cache>,
    pub(crate) config: MusicConfig,
    pub(crate) ytdlp: YtDlp,
    pub(crate) spotify: lounge_spotify::Spotify,
    client: reqwest::Client,
    playing: Mutex<HashMap<u64, Playing>>,
    /// Since when each guild's bot has been alone or idle in its channel.
    idle: Mutex<HashMap<u64, Instant>>,
    done: mpsc::UnboundedSender<TrackDone>,
}

/// Where a member stands relative to the player, for the controls.
pub struct Listeners {
    /// Non-bot members in the bot's channel.
    pub humans: Vec<u64>,
}

impl Players {
    /// Starts the players' background work and returns them; `resume` rejoins and resumes what
    /// played when the bot last stopped.
    pub fn spawn(
        songbird: Arc<Songbird>,
        store: Store,
        http: Arc<serenity::Http>,
        cache: Arc<serenity::Cache>,
        config: MusicConfig,
        spotify: lounge_spotify::Config,
        mut stop: watch::Receiver<bool>,
    ) -> (Arc<Self>, tokio::task::JoinHandle<()>) {
        let (done, mut ended) = mpsc::unbounded_channel();
        let ytdlp = YtDlp {
            program: config.ytdlp.clone(),
            timeout: Duration::from_secs(config.ytdlp_timeout_seconds),
        };
        let players = Arc::new(Self {
            songbird,
            store,
            http,
            cache,
            config,
            ytdlp,
            spotify: lounge_spotify::Spotify::new(spotify),
            client: reqwest::Client::new(),
            playing: Mutex::default(),
            idle: Mutex::default(),
            done,
        });
        let me = players.clone();
        let task = tokio::spawn(async move {
            me.resume_all().await;
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    Some(done) = ended.recv() => me.track_done(done).await,
                    _ = tick.tick() => me.tick().await,
                }
            }
            // The last positions, so a restart resumes exactly where this process stopped.
            me.save_positions().await;
        });
        (players, task)
    }

    fn lock_playing(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Playing>> {
        self.playing.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The channel the bot is in, in `guild`.
    pub fn bot_channel(&self, guild: serenity::GuildId) -> Option<serenity::ChannelId> {
        let call = self.songbird.get(guild)?;
        let channel = call.try_lock().ok()?.current_channel()?;
        Some(serenity::ChannelId::new(channel.0.get()))
    }

    /// The members (not bots) in `channel`.
    pub fn listeners(&self, guild: serenity::GuildId, channel: serenity::ChannelId) -> Listeners {
        let humans = self
            .cache
            .guild(guild)
            .map(|g| {
                g.voice_states
                    .values()
                    .filter(|v| v.channel_id == Some(channel))
                    .filter(|v| {
                        let bot = v
                            .member
                            .as_ref()
                            .map(|m| m.user.bot)
                            .or_else(|| g.members.get(&v.user_id).map(|m| m.user.bot));
                        bot != Some(true) && v.user_id != self.cache.current_user().id
                    })
                    .map(|v| v.user_id.get())
                    .collect()
            })
            .unwrap_or_default();
        Listeners { humans }
    }

    /// Joins `channel` in `guild` (moving there if the bot is elsewhere in the guild); the
    /// refusal is a sentence for the member.
    pub async fn join(
        &self,
        guild: serenity::GuildId,
        channel: serenity::ChannelId,
    ) -> Result<(), String> {
        if let Some(problem) = self.cannot_join(guild, channel) {
            return Err(problem);
        }
        match tokio::time::timeout(Duration::from_secs(15), self.songbird.join(guild, channel))
            .await
        {
            Ok(Ok(_call)) => Ok(()),
            Ok(Err(e)) => {
                tracing::warn!(guild = guild.get(), channel = channel.get(), error = %e, "joining voice failed");
                // A half-made call would make the next join wait on it.
                let _ = self.songbird.remove(guild).await;
                Err(text::JOIN_FAILED.to_owned())
            }
            Err(_) => {
                tracing::warn!(
                    guild = guild.get(),
                    channel = channel.get(),
                    "joining voice timed out"
                );
                let _ = self.songbird.remove(guild).await;
                Err(text::JOIN_TIMED_OUT.to_owned())
            }
        }
    }

    /// Why the bot can't join `channel`, from its permissions there.
    fn cannot_join(
        &self,
        guild: serenity::GuildId,
        channel: serenity::ChannelId,
    ) -> Option<String> {
        let g = self.cache.guild(guild)?;
        let ch = g.channels.get(&channel)?;
        let me = self.cache.current_user().id;
        let member = g.members.get(&me)?;
        let p = g.user_permissions_in(ch, member);
        if !p.view_channel() || !p.connect() {
            return Some(text::no_connect(channel));
        }
        if !p.speak() {
            return Some(text::no_speak(channel));
        }
        None
    }

    /// Leaves `guild`'s voice channel; what played is stopped (the queue stays).
    pub async fn leave(&self, guild: serenity::GuildId) -> Result<(), Error> {
        self.stop_handle(guild.get());
        self.store.music_stop(guild.get()).await?;
        if self.songbird.get(guild).is_some() {
            self.songbird
                .remove(guild)
                .await
                .map_err(|e| format!("leaving voice in {guild}: {e}"))?;
        }
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&guild.get());
        Ok(())
    }

    fn stop_handle(&self, guild: u64) -> Option<Playing> {
        let playing = self.lock_playing().remove(&guild);
        if let Some(p) = &playing {
            let _ = p.handle.stop();
        }
        playing
    }

    /// Whether a track plays (or is paused) in `guild` in this process.
    pub fn is_playing(&self, guild: serenity::GuildId) -> bool {
        self.lock_playing().contains_key(&guild.get())
    }

    /// Starts the queue's next track in `channel` when nothing plays in `guild`.
    pub async fn start_if_idle(
        &self,
        guild: serenity::GuildId,
        channel: serenity::ChannelId,
        text_channel: serenity::ChannelId,
    ) -> Result<(), Error> {
        if self.is_playing(guild) {
            return Ok(());
        }
        // The command's own answer says what plays: no second line for it.
        self.advance(
            guild.get(),
            channel.get(),
            text_channel.get(),
            Ended::Skipped,
            None,
            false,
        )
        .await
    }

    /// Ends the play that started at `started_at` (or whatever plays) and starts the next.
    async fn advance(
        &self,
        guild: u64,
        channel: u64,
        text_channel: u64,
        ended: Ended,
        started_at: Option<i64>,
        announce: bool,
    ) -> Result<(), Error> {
        let mut ended = ended;
        let mut started_at = started_at;
        for _ in 0..MAX_FAILED_STARTS {
            let next = self
                .store
                .music_advance(guild, channel, text_channel, ended, started_at)
                .await
                .map_err(lounge_kit::refusal)?;
            let Some(now) = next else {
                self.stop_handle(guild);
                return Ok(());
            };
            if started_at.is_some_and(|s| s != now.started_at)
                && self
                    .lock_playing()
                    .get(&guild)
                    .is_some_and(|p| p.started_at == now.started_at)
            {
                // Another advance already started what plays now.
                return Ok(());
            }
            match self.play(&now).await {
                Ok(()) => {
                    if announce {
                        self.announce(&now).await;
                    }
                    return Ok(());
                }
                Err(reason) => {
                    tracing::info!(guild, title = %now.track.title, %reason, "a track could not start");
                    self.post(
                        now.text_channel_id,
                        text::could_not_play(&now.track.title, &reason),
                    )
                    .await;
                    ended = Ended::Skipped;
                    started_at = Some(now.started_at);
                }
            }
        }
        self.stop_handle(guild);
        self.store.music_stop(guild).await?;
        Ok(())
    }

    /// Plays `now` from its saved position (joining its channel if needed). The reason it
    /// can't is a sentence for the members.
    async fn play(&self, now: &MusicNow) -> Result<(), String> {
        let guild = serenity::GuildId::new(now.guild_id);
        let channel = serenity::ChannelId::new(now.channel_id);
        if self.bot_channel(guild) != Some(channel) {
            self.join(guild, channel).await?;
        }
        let input = self.input(now).await?;
        let volume = self
            .store
            .music_settings(now.guild_id)
            .await
            .map_or(100, |s| s.volume);
        let Some(call) = self.songbird.get(guild) else {
            return Err(text::JOIN_FAILED.to_owned());
        };
        let track = Track::from(input).volume(volume_of(volume)).pause();
        let handle = call.lock().await.play(track);
        let end = |done: &mpsc::UnboundedSender<TrackDone>| EndHandler {
            guild: now.guild_id,
            started_at: now.started_at,
            done: done.clone(),
        };
        let _ = handle.add_event(Event::Track(TrackEvent::End), end(&self.done));
        let _ = handle.add_event(Event::Track(TrackEvent::Error), end(&self.done));
        if let Err(e) = handle.make_playable_async().await {
            let _ = handle.stop();
            return Err(text::unplayable(&e.to_string()));
        }
        if now.position_ms > 0 {
            let at = Duration::from_millis(now.position_ms.cast_unsigned());
            if let Err(e) = handle.seek_async(at).await {
                tracing::info!(guild = now.guild_id, error = %e, "resuming at the saved position failed; playing from the start");
            }
        }
        if !now.paused {
            let _ = handle.play();
        }
        self.lock_playing().insert(
            now.guild_id,
            Playing {
                handle,
                started_at: now.started_at,
                channel: now.channel_id,
                requested_by: now.track.requested_by,
                votes: HashSet::new(),
            },
        );
        Ok(())
    }

    /// What yt-dlp should play for a Spotify track: a search by its ISRC first, then by
    /// "Artist - Title", each result taken only when its length is within 10 % of Spotify's
    /// (as `LavaSrc` matches).
    async fn match_spotify(&self, now: &MusicNow) -> Result<String, String> {
        let isrc = now
            .track
            .url
            .split_once("#isrc=")
            .map(|(_, isrc)| isrc.to_owned())
            .filter(|i| !i.is_empty());
        let duration = now.track.duration_ms.unwrap_or(0);
        let mut searches = Vec::new();
        if let Some(isrc) = isrc {
            searches.push(format!("\"{isrc}\""));
        }
        searches.push(now.track.title.clone());
        for query in searches {
            let Ok(found) = self.ytdlp.search(&query, 5).await else {
                continue;
            };
            let candidates: Vec<lounge_spotify::Candidate> = found
                .into_iter()
                .map(|e| lounge_spotify::Candidate {
                    title: e.title,
                    url: e.url,
                    duration_ms: e.duration_ms,
                })
                .collect();
            if let Some(hit) = lounge_spotify::pick_match(&candidates, duration) {
                tracing::info!(title = %now.track.title, matched = %hit.title, %query, "matched a Spotify track");
                return Ok(hit.url.clone());
            }
        }
        Err(text::no_match(&now.track.title))
    }

    async fn input(&self, now: &MusicNow) -> Result<Input, String> {
        match now.track.source {
            TrackSource::YtDlp | TrackSource::Spotify => {
                let page = if now.track.source == TrackSource::Spotify {
                    self.match_spotify(now).await?
                } else {
                    now.track.url.clone()
                };
                let stream = self.ytdlp.stream(&page).await.map_err(|e| e.to_string())?;
                if now.track.duration_ms.is_none()
                    && let Some(ms) = stream.duration_ms
                {
                    let _ = self
                        .store
                        .music_set_duration(now.guild_id, now.started_at, ms)
                        .await;
                }
                let mut headers = reqwest::header::HeaderMap::new();
                for (k, v) in &stream.headers {
                    if let (Ok(k), Ok(v)) = (
                        reqwest::header::HeaderName::from_bytes(k.as_bytes()),
                        reqwest::header::HeaderValue::from_str(v),
                    ) {
                        headers.insert(k, v);
                    }
                }
                Ok(HttpRequest::new_with_headers(self.client.clone(), stream.url, headers).into())
            }
            TrackSource::File => {
                let path = resolve_file(&self.config.roots, &now.track.url)?;
                Ok(FileInput::new(path).into())
            }
        }
    }

    async fn announce(&self, now: &MusicNow) {
        self.post(now.text_channel_id, text::now_playing_line(now))
            .await;
    }

    async fn post(&self, channel: u64, content: String) {
        use lounge_kit::Text as _;
        let message = serenity::CreateMessage::new()
            .text(content)
            .allowed_mentions(serenity::CreateAllowedMentions::new());
        if let Err(e) = serenity::ChannelId::new(channel)
            .send_message(&self.http, message)
            .await
        {
            tracing::info!(channel, error = %e, "posting what plays failed");
        }
    }

    async fn track_done(&self, done: TrackDone) {
        let current = self
            .lock_playing()
            .get(&done.guild)
            .map(|p| (p.started_at, p.channel));
        let Some((started_at, channel)) = current else {
            return;
        };
        if started_at != done.started_at {
            return;
        }
        let text_channel = match self.store.music_now(done.guild).await {
            Ok(Some(now)) if now.started_at == started_at => now.text_channel_id,
            _ => {
                self.lock_playing().remove(&done.guild);
                return;
            }
        };
        self.lock_playing().remove(&done.guild);
        let ended = if let Some(error) = &done.error {
            tracing::info!(guild = done.guild, %error, "a track failed while playing");
            Ended::Skipped
        } else {
            Ended::Finished
        };
        if let Err(e) = self
            .advance(
                done.guild,
                channel,
                text_channel,
                ended,
                Some(started_at),
                true,
            )
            .await
        {
            tracing::error!(guild = done.guild, error = %e, "starting the next track failed");
        }
    }

    /// Skips what plays in `guild` now; returns whether anything played.
    pub async fn skip(&self, guild: serenity::GuildId) -> Result<bool, Error> {
        let current = self
            .lock_playing()
            .get(&guild.get())
            .map(|p| (p.started_at, p.channel));
        let Some((started_at, channel)) = current else {
            return Ok(false);
        };
        let text_channel = self
            .store
            .music_now(guild.get())
            .await?
            .map_or(0, |n| n.text_channel_id);
        self.stop_handle(guild.get());
        // The skip's own answer names what plays next.
        self.advance(
            guild.get(),
            channel,
            text_channel,
            Ended::Skipped,
            Some(started_at),
            false,
        )
        .await?;
        Ok(true)
    }

    /// Stops what plays in `guild` and empties the queue; the bot stays in the channel.
    pub async fn stop(&self, guild: serenity::GuildId) -> Result<(), Error> {
        self.stop_handle(guild.get());
        self.store.music_stop(guild.get()).await?;
        self.store.music_clear(guild.get()).await?;
        Ok(())
    }

    /// Adds `user`'s skip vote; returns (votes, needed).
    pub fn vote_skip(
        &self,
        guild: serenity::GuildId,
        user: u64,
        listeners: &[u64],
    ) -> (usize, usize) {
        let mut playing = self.lock_playing();
        let Some(p) = playing.get_mut(&guild.get()) else {
            return (0, 0);
        };
        p.votes.insert(user);
        p.votes.retain(|v| listeners.contains(v));
        (p.votes.len(), listeners.len() / 2 + 1)
    }

    /// Who queued what plays now.
    pub fn requester(&self, guild: serenity::GuildId) -> Option<u64> {
        self.lock_playing()
            .get(&guild.get())
            .map(|p| p.requested_by)
    }

    pub fn handle(&self, guild: serenity::GuildId) -> Option<TrackHandle> {
        self.lock_playing()
            .get(&guild.get())
            .map(|p| p.handle.clone())
    }

    /// Position and whether it is paused, of what plays in `guild`.
    pub async fn position(&self, guild: serenity::GuildId) -> Option<(Duration, bool)> {
        let handle = self.handle(guild)?;
        let info = handle.get_info().await.ok()?;
        Some((info.position, info.playing == PlayMode::Pause))
    }

    /// Pauses or resumes; saves the state at once, so a restart keeps it.
    pub async fn set_paused(&self, guild: serenity::GuildId, paused: bool) -> Result<bool, Error> {
        let Some(handle) = self.handle(guild) else {
            return Ok(false);
        };
        if paused {
            handle.pause().map_err(|e| format!("pausing: {e}"))?;
        } else {
            handle.play().map_err(|e| format!("resuming: {e}"))?;
        }
        self.save_positions().await;
        Ok(true)
    }

    /// Seeks what plays in `guild` to `at`.
    pub async fn seek(&self, guild: serenity::GuildId, at: Duration) -> Result<Duration, Error> {
        let Some(handle) = self.handle(guild) else {
            return Err(lounge_kit::user_error(text::NOTHING_PLAYING));
        };
        let reached = handle
            .seek_async(at)
            .await
            .map_err(|_| lounge_kit::user_error(text::CANT_SEEK))?;
        self.save_positions().await;
        Ok(reached)
    }

    /// Plays a clip over whatever plays in `guild` (songbird mixes the two); the bot must be
    /// in voice there.
    pub async fn play_sound(
        &self,
        guild: serenity::GuildId,
        path: PathBuf,
        volume: i64,
    ) -> Result<(), String> {
        let Some(call) = self.songbird.get(guild) else {
            return Err(text::NOT_CONNECTED.to_owned());
        };
        let input: Input = FileInput::new(path).into();
        let _clip = call
            .lock()
            .await
            .play(Track::from(input).volume(volume_of(volume)));
        Ok(())
    }

    /// Sets the volume of what plays now (the setting itself is the caller's to store).
    pub fn set_volume(&self, guild: serenity::GuildId, percent: i64) {
        if let Some(handle) = self.handle(guild) {
            let _ = handle.set_volume(volume_of(percent));
        }
    }

    async fn save_positions(&self) {
        let handles: Vec<(u64, i64, TrackHandle)> = self
            .lock_playing()
            .iter()
            .map(|(g, p)| (*g, p.started_at, p.handle.clone()))
            .collect();
        for (guild, started_at, handle) in handles {
            let Ok(info) = handle.get_info().await else {
                continue;
            };
            let position = i64::try_from(info.position.as_millis()).unwrap_or(i64::MAX);
            let paused = info.playing == PlayMode::Pause;
            if let Err(e) = self
                .store
                .music_save_position(guild, started_at, position, paused)
                .await
            {
                tracing::warn!(guild, error = %e, "saving the track position failed");
            }
        }
    }

    /// Once a second: positions saved; channels left that have been alone or idle too long.
    async fn tick(&self) {
        self.save_positions().await;
        let in_voice: Vec<u64> = self
            .cache
            .guilds()
            .into_iter()
            .filter(|g| self.songbird.get(*g).is_some())
            .map(serenity::GuildId::get)
            .collect();
        let limit = Duration::from_secs(self.config.idle_minutes.saturating_mul(60));
        for guild in in_voice {
            let id = serenity::GuildId::new(guild);
            let Some(channel) = self.bot_channel(id) else {
                continue;
            };
            let alone = self.listeners(id, channel).humans.is_empty();
            let idle = alone || !self.is_playing(id);
            let since = {
                let mut map = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
                if idle {
                    Some(*map.entry(guild).or_insert_with(Instant::now))
                } else {
                    map.remove(&guild);
                    None
                }
            };
            let Some(since) = since else { continue };
            if since.elapsed() < limit {
                continue;
            }
            let always_on = self
                .store
                .music_settings(guild)
                .await
                .is_ok_and(|s| s.always_on);
            if always_on {
                continue;
            }
            tracing::info!(guild, alone, "leaving voice: idle for music.idle_minutes");
            let text_channel = self.store.music_now(guild).await.ok().flatten();
            if let Err(e) = self.leave(id).await {
                tracing::warn!(guild, error = %e, "leaving an idle voice channel failed");
            } else if let Some(now) = text_channel {
                self.post(now.text_channel_id, text::left_idle(alone)).await;
            }
        }
    }

    /// Rejoins and resumes every guild's track that played when the bot last stopped.
    async fn resume_all(&self) {
        let playing = match self.store.music_playing().await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "reading what played before the restart failed");
                return;
            }
        };
        for now in playing {
            if self.cache.guild(now.guild_id).is_none() && !self.wait_for_guild(now.guild_id).await
            {
                tracing::info!(
                    guild = now.guild_id,
                    "not resuming music: the bot isn't in that server"
                );
                continue;
            }
            tracing::info!(guild = now.guild_id, title = %now.track.title, position_ms = now.position_ms, "resuming after a restart");
            if let Err(reason) = self.play(&now).await {
                tracing::info!(guild = now.guild_id, %reason, "resuming failed");
                self.post(
                    now.text_channel_id,
                    text::could_not_resume(&now.track.title, &reason),
                )
                .await;
                let _ = self.store.music_stop(now.guild_id).await;
            }
        }
    }

    /// Waits a little for a guild to arrive in the cache (`GUILD_CREATE` follows `READY`).
    async fn wait_for_guild(&self, guild: u64) -> bool {
        for _ in 0..50 {
            if self.cache.guild(guild).is_some() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    /// The bot was moved or disconnected by someone else: follow Discord's word.
    pub async fn bot_moved(&self, guild: serenity::GuildId, channel: Option<serenity::ChannelId>) {
        match channel {
            None => {
                if self.is_playing(guild) || self.songbird.get(guild).is_some() {
                    tracing::info!(
                        guild = guild.get(),
                        "disconnected from voice by someone else"
                    );
                    let _ = self.leave(guild).await;
                }
            }
            Some(channel) => {
                if let Some(p) = self.lock_playing().get_mut(&guild.get()) {
                    p.channel = channel.get();
                }
            }
        }
    }
}

/// songbird's volume (1.0 = as recorded) for a percentage.
fn volume_of(percent: i64) -> f32 {
    (percent.clamp(0, 200) as f32) / 100.0
}

/// The file `name` names under one of `roots`: no escaping them through `..` or links.
pub fn resolve_file(roots: &[PathBuf], name: &str) -> Result<PathBuf, String> {
    let name = name.trim_start_matches("file:").trim();
    let relative = Path::new(name);
    if name.is_empty()
        || relative.is_absolute()
        || relative
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return Err(text::BAD_FILE_NAME.to_owned());
    }
    for root in roots {
        let Ok(root) = root.canonicalize() else {
            continue;
        };
        let Ok(path) = root.join(relative).canonicalize() else {
            continue;
        };
        if path.starts_with(&root) && path.is_file() {
            return Ok(path);
        }
    }
    Err(text::no_such_file(name))
}

/// The files under `roots` (relative names), for autocomplete: at most `limit`, found without
/// following links, never deeper than four folders.
pub fn list_files(roots: &[PathBuf], limit: usize) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, depth: usize, out: &mut Vec<String>, limit: usize) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            if out.len() >= limit {
                return;
            }
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() && depth < 4 {
                walk(root, &path, depth + 1, out, limit);
            } else if kind.is_file()
                && let Ok(rel) = path.strip_prefix(root)
            {
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    for root in roots {
        walk(root, root, 0, &mut out, limit);
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_stay_under_their_roots() {
        let dir = std::env::temp_dir().join(format!("lounge-music-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a")).unwrap();
        std::fs::write(dir.join("a/song.ogg"), b"x").unwrap();
        let roots = vec![dir.clone()];
        assert_eq!(
            resolve_file(&roots, "file:a/song.ogg").unwrap(),
            dir.join("a/song.ogg").canonicalize().unwrap()
        );
        for bad in ["../etc/passwd", "/etc/passwd", "a/../../x", "", "a"] {
            assert!(resolve_file(&roots, bad).is_err(), "{bad}");
        }
        assert_eq!(list_files(&roots, 10), vec!["a/song.ogg".to_owned()]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn volume_is_clamped() {
        assert!((volume_of(-5) - 0.0).abs() < f32::EPSILON);
        assert!((volume_of(150) - 1.5).abs() < f32::EPSILON);
        assert!((volume_of(900) - 2.0).abs() < f32::EPSILON);
    }
}
