#![doc = include_str!("../README.md")]

mod commands;
mod config;
mod gif;
mod lyrics;
mod nowplaying;
mod parse;
mod player;
mod sound;
mod text;
mod ytdlp;

use std::sync::Arc;

pub use config::MusicConfig;
pub use gif::GiphyConfig;
use lounge_kit::{Error, FrameworkContext, Module, Start};
use poise::serenity_prelude as serenity;
pub use songbird::Songbird;
pub use ytdlp::YtDlp;

pub const MODULE: Module = Module::new(
    "music",
    "Music in voice: links, searches and files, a queue that survives restarts, lyrics",
    commands::commands,
)
.on_event(on_event)
.start(start);

/// The voice manager the app registers with the gateway client before it connects; the music
/// module plays through it.
pub fn voice_manager() -> Arc<Songbird> {
    Songbird::serenity()
}

fn start(start: &mut Start<'_>) -> Result<(), Error> {
    let config: MusicConfig = start.config()?;
    let songbird: Arc<Songbird> = start.config()?;
    let Some(sounds) = config.sounds_dir.clone() else {
        return Err(
            "music.sounds_dir was not resolved (the app sets it from the data directory)".into(),
        );
    };
    start.provide(sound::SoundFiles { dir: sounds });
    let spotify: lounge_spotify::Config = start.config()?;
    let (players, task) = player::Players::spawn(
        songbird,
        start.store.clone(),
        start.http.clone(),
        start.cache.clone(),
        config,
        spotify,
        start.stop.clone(),
    );
    start.spawn("the music players", task);
    start.provide(players);
    let giphy: gif::GiphyConfig = start.config()?;
    start.provide(gif::Gifs::new(giphy));
    Ok(())
}

fn on_event<'a>(
    framework: FrameworkContext<'a>,
    event: &'a serenity::FullEvent,
) -> lounge_kit::BoxFuture<'a, Result<(), Error>> {
    Box::pin(async move {
        let serenity::FullEvent::VoiceStateUpdate { new, .. } = event else {
            return Ok(());
        };
        let me = framework.serenity_context.cache.current_user().id;
        if new.user_id != me {
            return Ok(());
        }
        let (Some(guild), Ok(players)) = (
            new.guild_id,
            framework.user_data.state::<Arc<player::Players>>(),
        ) else {
            return Ok(());
        };
        players.bot_moved(guild, new.channel_id).await;
        Ok(())
    })
}
