//! Chat activity: every `games.spawn_every_messages` chat messages in a server a wild Pokémon
//! appears, and members' selected Pokémon gain experience from chatting.
//!
//! Counters live in memory: a guild is served by exactly one shard, so one process sees all of
//! its messages, and losing a partial count on restart costs nothing. Whether a spawn was
//! caught is in the database, where the catch race is decided.

use lounge_kit::Text as _;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use poise::serenity_prelude as serenity;

use lounge_kit::config::GamesConfig;
use lounge_kit::{BoxFuture, Data, Error, FrameworkContext};

use crate::{game, messages};

/// Experience a selected Pokémon gets per rewarded chat message.
const CHAT_EXP: u32 = 25;

/// The game's in-process state. Locks are never held across an await.
pub struct Runtime {
    pub config: GamesConfig,
    activity: Mutex<HashMap<u64, u32>>,
    chat_xp: Mutex<HashMap<u64, Instant>>,
}

impl Runtime {
    pub fn new(config: GamesConfig) -> Self {
        Self {
            config,
            activity: Mutex::new(HashMap::new()),
            chat_xp: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one chat message in `guild`; true when it is time for a spawn.
    fn count_message(&self, guild: u64) -> bool {
        let mut activity = self
            .activity
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = activity.entry(guild).or_insert(0);
        *count += 1;
        if *count >= self.config.spawn_every_messages.max(1) {
            *count = 0;
            true
        } else {
            false
        }
    }

    /// True when `user` may earn chat experience again (and starts their cooldown).
    fn chat_xp_due(&self, user: u64) -> bool {
        let cooldown = Duration::from_secs(self.config.chat_xp_cooldown_seconds);
        let now = Instant::now();
        let mut last = self
            .chat_xp
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.len() > 10_000 {
            last.retain(|_, t| now.duration_since(*t) < cooldown);
        }
        match last.get(&user) {
            Some(t) if now.duration_since(*t) < cooldown => false,
            _ => {
                last.insert(user, now);
                true
            }
        }
    }
}

/// The module's event hook: chat messages (the app has checked the module is on).
pub fn on_event<'a>(
    framework: FrameworkContext<'a>,
    event: &'a serenity::FullEvent,
) -> BoxFuture<'a, Result<(), Error>> {
    Box::pin(async move {
        if let serenity::FullEvent::Message { new_message } = event {
            on_message(framework, new_message).await?;
        }
        Ok(())
    })
}

async fn on_message(framework: FrameworkContext<'_>, msg: &serenity::Message) -> Result<(), Error> {
    let data = framework.user_data;
    let Some(guild) = msg.guild_id else {
        return Ok(());
    };
    if msg.author.bot
        || msg.webhook_id.is_some()
        || lounge_kit::prefix::is_command(framework, guild, msg).await?
    {
        return Ok(());
    }
    let ctx = framework.serenity_context;
    let runtime = data.state::<Runtime>()?;
    let spawn_due = runtime.count_message(guild.get());
    let xp_due = runtime.chat_xp_due(msg.author.id.get());
    if !(spawn_due || xp_due) {
        return Ok(());
    }
    if xp_due {
        chat_experience(ctx, data, msg).await?;
    }
    if spawn_due {
        spawn(ctx, data, guild.get(), msg.channel_id.get()).await?;
    }
    Ok(())
}

/// Posts a wild Pokémon where the guild wants spawns (else where the chat happened).
pub async fn spawn(
    ctx: &serenity::Context,
    data: &Data,
    guild: u64,
    active_channel: u64,
) -> Result<(), Error> {
    let channel = data
        .store
        .spawn_channel(guild)
        .await?
        .unwrap_or(active_channel);
    let wild = game::roll_spawn(
        &mut rand::rng(),
        guild,
        channel,
        data.state::<Runtime>()?.config.shiny_odds,
    );
    data.store.create_spawn(&wild).await?;
    tracing::debug!(
        guild,
        channel,
        species = wild.species,
        "a wild Pokémon appeared"
    );
    serenity::ChannelId::new(channel)
        .send_message(
            ctx,
            serenity::CreateMessage::new()
                .embed(messages::spawn_embed(&wild))
                .allowed_mentions(serenity::CreateAllowedMentions::new()),
        )
        .await?;
    Ok(())
}

async fn chat_experience(
    ctx: &serenity::Context,
    data: &Data,
    msg: &serenity::Message,
) -> Result<(), Error> {
    let user = msg.author.id.get();
    let Some(p) = data.store.selected_pokemon(user).await? else {
        return Ok(());
    };
    let time = game::time_of_day(chrono::Timelike::hour(&chrono::Utc::now()));
    let Some(growth) = game::grow(&p, CHAT_EXP, 1, time) else {
        return Ok(());
    };
    // A concurrent change (a trade, a battle) wins; this bit of experience is simply dropped.
    if data.store.save_progress(&p, &growth.progress).await? && growth.evolved_from.is_some() {
        msg.channel_id
            .send_message(
                ctx,
                serenity::CreateMessage::new()
                    .text(messages::evolved(user, &p, growth.progress.species))
                    .allowed_mentions(serenity::CreateAllowedMentions::new()),
            )
            .await?;
    }
    Ok(())
}
