//! `/nowplaying`: what plays, a progress bar kept current, and buttons (pause/resume, skip,
//! loop, shuffle, stop) that follow the same rules as the commands, for whoever presses.

use std::time::Duration;

use lounge_kit::reply::Text as _;
use lounge_kit::{Context, Error};
use lounge_store::LoopMode;
use poise::serenity_prelude as serenity;

use crate::commands::{control_for, guild_of, need_dj, players, set_paused, shuffle, skip_or_vote};
use crate::text;

/// How often the bar moves while the message is watched.
const REFRESH: Duration = Duration::from_secs(10);
/// The buttons go away after this long without a press.
const IDLE: Duration = Duration::from_mins(5);

async fn render(
    ctx: Context<'_>,
    guild: serenity::GuildId,
) -> Result<Option<serenity::CreateEmbed>, Error> {
    let store = &ctx.data().store;
    let Some(now) = store.music_now(guild.get()).await? else {
        return Ok(None);
    };
    let settings = store.music_settings(guild.get()).await?;
    let (position, paused) = players(ctx)?.position(guild).await.unwrap_or((
        Duration::from_millis(now.position_ms.cast_unsigned()),
        now.paused,
    ));
    let total = now
        .track
        .duration_ms
        .map(|ms| Duration::from_millis(ms.cast_unsigned()));
    let queued = store.music_queue(guild.get()).await?.len();
    let mut description = format!(
        "{}{}\n{}\nQueued by <@{}> · volume {} % · loop {} · {} up next",
        if paused { "⏸ " } else { "▶ " },
        text::escape(&now.track.title),
        text::progress_bar(position, total),
        now.track.requested_by,
        settings.volume,
        settings.loop_mode.as_str(),
        queued
    );
    if now.track.url.starts_with("https://") || now.track.url.starts_with("http://") {
        description.push_str("\n<");
        description.push_str(&now.track.url);
        description.push('>');
    }
    Ok(Some(
        serenity::CreateEmbed::new()
            .title("Now playing")
            .description(description),
    ))
}

fn buttons(prefix: &str, paused: bool) -> Vec<serenity::CreateActionRow> {
    let button = |id: &str, label: &str, style| {
        serenity::CreateButton::new(format!("{prefix}{id}"))
            .label(label)
            .style(style)
    };
    vec![serenity::CreateActionRow::Buttons(vec![
        if paused {
            button("resume", "Resume", serenity::ButtonStyle::Primary)
        } else {
            button("pause", "Pause", serenity::ButtonStyle::Secondary)
        },
        button("skip", "Skip", serenity::ButtonStyle::Secondary),
        button("loop", "Loop", serenity::ButtonStyle::Secondary),
        button("shuffle", "Shuffle", serenity::ButtonStyle::Secondary),
        button("stop", "Stop", serenity::ButtonStyle::Danger),
    ])]
}

pub async fn show(ctx: Context<'_>) -> Result<(), Error> {
    let guild = guild_of(ctx)?;
    let Some(embed) = render(ctx, guild).await? else {
        lounge_kit::say(ctx, text::NOTHING_PLAYING).await?;
        return Ok(());
    };
    let prefix = format!("{}:music-np:", ctx.id());
    let paused = players(ctx)?.position(guild).await.is_some_and(|(_, p)| p);
    let mut presses = lounge_kit::ui::ButtonPresses::new(ctx, prefix.clone());
    let handle = ctx
        .send(
            poise::CreateReply::default()
                .embed(embed)
                .components(buttons(&prefix, paused)),
        )
        .await?;
    let mut last_press = tokio::time::Instant::now();
    loop {
        if last_press.elapsed() >= IDLE {
            break;
        }
        let press = presses.next(REFRESH).await;
        if let Some(press) = press {
            last_press = tokio::time::Instant::now();
            let answer = act(ctx, &press).await;
            let message = match answer {
                Ok(message) => message,
                Err(e) => lounge_kit::error::user_facing(ctx, &e),
            };
            lounge_kit::ui::answer_privately(ctx, &press, message).await?;
        }
        let paused = players(ctx)?.position(guild).await.map(|(_, p)| p);
        let (Some(embed), Some(paused)) = (render(ctx, guild).await?, paused) else {
            handle
                .edit(
                    ctx,
                    poise::CreateReply::default()
                        .text(text::NOTHING_PLAYING)
                        .components(vec![]),
                )
                .await?;
            return Ok(());
        };
        handle
            .edit(
                ctx,
                poise::CreateReply::default()
                    .embed(embed)
                    .components(buttons(&prefix, paused)),
            )
            .await?;
    }
    handle
        .edit(ctx, poise::CreateReply::default().components(vec![]))
        .await?;
    Ok(())
}

/// One press, under the rules of the command it stands for; the answer to show its presser.
async fn act(ctx: Context<'_>, press: &serenity::ComponentInteraction) -> Result<String, Error> {
    let c = control_for(ctx, press.user.id, press.member.as_ref()).await?;
    let players = players(ctx)?;
    let store = &ctx.data().store;
    let action = press.data.custom_id.rsplit(':').next().unwrap_or_default();
    match action {
        "pause" | "resume" => {
            let pause = action == "pause";
            set_paused(ctx, &c, pause).await?;
            Ok(if pause { "Paused." } else { "Playing on." }.to_owned())
        }
        "skip" => skip_or_vote(ctx, &c).await,
        "loop" => {
            need_dj(&c)?;
            let mut settings = store.music_settings(c.guild.get()).await?;
            settings.loop_mode = match settings.loop_mode {
                LoopMode::Off => LoopMode::Track,
                LoopMode::Track => LoopMode::Queue,
                LoopMode::Queue => LoopMode::Off,
            };
            store.set_music_settings(c.guild.get(), &settings).await?;
            Ok(format!("Loop: {}.", settings.loop_mode.as_str()))
        }
        "shuffle" => Ok(format!("Shuffled {} tracks.", shuffle(ctx, &c).await?)),
        "stop" => {
            need_dj(&c)?;
            players.stop(c.guild).await?;
            Ok("Stopped, and the queue is empty.".to_owned())
        }
        _ => Ok("That button isn't one of mine.".to_owned()),
    }
}
