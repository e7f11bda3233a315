//! The soundboard: each server's short clips, played over the music (songbird mixes every
//! track of a call, so the music keeps playing under a clip).
//!
//! A clip is checked by decoding all of it (not by its name or type): at most 1 MB and 10 s.
//! Its bytes are stored once under the data directory, named by their SHA-256, so the same
//! clip added in two servers is one file, and a backup of the data directory holds them all.

use std::path::PathBuf;
use std::time::Duration;

use lounge_kit::{Context, Error, RefusalExt as _, bail_user};
use lounge_store::Sound;
use poise::serenity_prelude as serenity;
use sha2::{Digest as _, Sha256};
use symphonia::core::codecs::{CODEC_TYPE_NULL, DecoderOptions};
use symphonia::core::errors::Error as DecodeError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::commands::{control_for, guild_of, players};
use crate::text;

pub const MAX_BYTES: u32 = 1_048_576;
pub const MAX_LENGTH: Duration = Duration::from_secs(10);

/// Where the clips' files live.
#[derive(Clone, Debug)]
pub struct SoundFiles {
    pub dir: PathBuf,
}

impl SoundFiles {
    /// `<dir>/<first two hex digits>/<sha256>`: a few hundred files per folder at most.
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(&sha256[..2.min(sha256.len())]).join(sha256)
    }

    /// Writes `bytes` under their hash (once: an existing file is the same bytes).
    fn store(&self, sha256: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
        let path = self.path(sha256);
        if path.is_file() {
            return Ok(path);
        }
        let parent = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(parent)?;
        // Written aside and renamed, so a crash never leaves half a clip under its hash.
        let temp = parent.join(format!(".{sha256}.{}", std::process::id()));
        std::fs::write(&temp, bytes)?;
        std::fs::rename(&temp, &path)?;
        Ok(path)
    }
}

/// How long `bytes` play, found by decoding every packet; the refusal is a sentence.
pub fn clip_length(bytes: &[u8]) -> Result<Duration, String> {
    const NOT_AUDIO: &str =
        "That file isn't audio I can play: send an MP3, Ogg, Opus, WAV or FLAC clip.";
    let source = MediaSourceStream::new(
        Box::new(std::io::Cursor::new(bytes.to_vec())),
        MediaSourceStreamOptions::default(),
    );
    let probed = songbird::input::codecs::get_probe()
        .format(
            &Hint::new(),
            source,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|_| NOT_AUDIO.to_owned())?;
    let mut format = probed.format;
    let Some(track) = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
    else {
        return Err(NOT_AUDIO.to_owned());
    };
    let id = track.id;
    let rate = u64::from(
        track
            .codec_params
            .sample_rate
            .ok_or_else(|| NOT_AUDIO.to_owned())?,
    );
    let mut decoder = songbird::input::codecs::get_codec_registry()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|_| NOT_AUDIO.to_owned())?;
    // Stops as soon as the clip is known to be too long: bounded work for any input.
    let limit = MAX_LENGTH.as_secs() * rate + rate / 2;
    let mut frames: u64 = 0;
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(DecodeError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(_) if frames > 0 => break,
            Err(_) => return Err(NOT_AUDIO.to_owned()),
        };
        if packet.track_id() != id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(buffer) => frames += buffer.frames() as u64,
            Err(_) => return Err(NOT_AUDIO.to_owned()),
        }
        if frames > limit {
            return Err(format!(
                "That clip is longer than {} seconds: trim it and send it again.",
                MAX_LENGTH.as_secs()
            ));
        }
    }
    if frames == 0 {
        return Err(NOT_AUDIO.to_owned());
    }
    Ok(Duration::from_millis(frames * 1000 / rate))
}

/// A clip name: 1–32 lowercase letters, digits, `-` or `_`.
fn check_name(name: &str) -> Result<String, Error> {
    let name = name.trim().to_lowercase();
    if name.is_empty()
        || name.chars().count() > 32
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        bail_user!("A sound's name is 1 to 32 letters, digits, - or _ (like `airhorn`).");
    }
    Ok(name)
}

fn files(ctx: Context<'_>) -> Result<&SoundFiles, Error> {
    ctx.data().state::<SoundFiles>()
}

async fn autocomplete_sound(
    ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let Some(guild) = ctx.guild_id() else {
        return serenity::CreateAutocompleteResponse::new();
    };
    let names: Vec<String> = ctx
        .data()
        .store
        .sounds(guild.get())
        .await
        .map(|s| s.into_iter().map(|s| s.name).collect())
        .unwrap_or_default();
    lounge_kit::ui::autocomplete(names.iter().map(String::as_str), partial)
}

/// Soundboard clips for this server: add, play, list, remove
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    subcommands(
        "sound_play",
        "sound_add",
        "sound_list",
        "sound_remove",
        "sound_discord"
    ),
    subcommand_required,
    category = "Music"
)]
pub async fn sound(_ctx: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Add a clip (at most 1 MB and 10 seconds)
#[poise::command(slash_command, prefix_command, guild_only, rename = "add")]
pub async fn sound_add(
    ctx: Context<'_>,
    #[description = "Its name: letters, digits, - or _"] name: String,
    #[description = "The clip: MP3, Ogg, Opus, WAV or FLAC, at most 1 MB and 10 s"]
    clip: serenity::Attachment,
) -> Result<(), Error> {
    let guild = guild_of(ctx)?;
    let name = check_name(&name)?;
    if clip.size > MAX_BYTES {
        bail_user!(
            "That file is {} KB: a clip may be at most 1 MB.",
            clip.size / 1024
        );
    }
    ctx.defer().await?;
    let bytes = match clip.download().await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::info!(error = %e, "downloading a sound clip failed");
            bail_user!("I couldn't download that file from Discord: try again.");
        }
    };
    if bytes.len() > MAX_BYTES as usize {
        bail_user!("That file is over 1 MB: a clip may be at most 1 MB.");
    }
    let checked = bytes.clone();
    let length = tokio::task::spawn_blocking(move || clip_length(&checked))
        .await
        .map_err(|e| format!("checking a clip: {e}"))?
        .map_err(lounge_kit::user_error)?;
    let sha256 = hex(&Sha256::digest(&bytes));
    let files = files(ctx)?.clone();
    let (hash, data) = (sha256.clone(), bytes);
    tokio::task::spawn_blocking(move || files.store(&hash, &data))
        .await
        .map_err(|e| format!("storing a clip: {e}"))?
        .map_err(|e| format!("writing a clip under the data directory: {e}"))?;
    ctx.data()
        .store
        .sound_add(
            guild.get(),
            &Sound {
                name: name.clone(),
                sha256,
                duration_ms: i64::try_from(length.as_millis()).unwrap_or(i64::MAX),
                size_bytes: i64::from(clip.size),
                added_by: ctx.author().id.get(),
                plays: 0,
            },
        )
        .await
        .refused()?;
    lounge_kit::say(
        ctx,
        format!(
            "Added **{name}** ({:.1} s). `/sound play {name}` plays it.",
            length.as_secs_f64()
        ),
    )
    .await?;
    Ok(())
}

/// Play a clip over the music in your voice channel
#[poise::command(slash_command, prefix_command, guild_only, rename = "play")]
pub async fn sound_play(
    ctx: Context<'_>,
    #[description = "The clip"]
    #[autocomplete = "autocomplete_sound"]
    name: String,
) -> Result<(), Error> {
    let guild = guild_of(ctx)?;
    let name = check_name(&name)?;
    let Some(found) = ctx.data().store.sound(guild.get(), &name).await? else {
        bail_user!("There's no sound `{name}` here: `/sound list` shows them.");
    };
    let players = players(ctx)?;
    if players.bot_channel(guild).is_none() {
        let Some(channel) = ctx
            .guild()
            .and_then(|g| g.voice_states.get(&ctx.author().id)?.channel_id)
        else {
            bail_user!("{}", text::NOT_IN_VOICE);
        };
        ctx.defer().await?;
        players
            .join(guild, channel)
            .await
            .map_err(lounge_kit::user_error)?;
    } else {
        // Only where the member is.
        let member = ctx.author_member().await;
        control_for(ctx, ctx.author().id, member.as_deref()).await?;
    }
    let path = files(ctx)?.path(&found.sha256);
    let volume = ctx.data().store.music_settings(guild.get()).await?.volume;
    players
        .play_sound(guild, path, volume)
        .await
        .map_err(lounge_kit::user_error)?;
    ctx.data().store.sound_played(guild.get(), &name).await?;
    lounge_kit::say(ctx, format!("🔊 **{name}**")).await?;
    Ok(())
}

/// This server's clips
#[poise::command(slash_command, prefix_command, guild_only, rename = "list")]
pub async fn sound_list(ctx: Context<'_>) -> Result<(), Error> {
    let guild = guild_of(ctx)?;
    let sounds = ctx.data().store.sounds(guild.get()).await?;
    if sounds.is_empty() {
        lounge_kit::say(
            ctx,
            "No sounds yet: `/sound add NAME` with a clip attached adds one.",
        )
        .await?;
        return Ok(());
    }
    let lines: Vec<String> = sounds
        .iter()
        .map(|s| {
            format!(
                "**{}** · {:.1} s · {} plays · <@{}>",
                s.name,
                s.duration_ms as f64 / 1000.0,
                s.plays,
                s.added_by
            )
        })
        .collect();
    let title = format!("Sounds ({} of {})", sounds.len(), lounge_store::MAX_SOUNDS);
    lounge_kit::ui::paginate(ctx, lounge_kit::ui::line_pages(&title, &lines, 15)).await
}

/// Remove a clip (yours, or any with Manage Server)
#[poise::command(slash_command, prefix_command, guild_only, rename = "remove")]
pub async fn sound_remove(
    ctx: Context<'_>,
    #[description = "The clip"]
    #[autocomplete = "autocomplete_sound"]
    name: String,
) -> Result<(), Error> {
    let guild = guild_of(ctx)?;
    let name = check_name(&name)?;
    let store = &ctx.data().store;
    let Some(found) = store.sound(guild.get(), &name).await? else {
        bail_user!("There's no sound `{name}` here: `/sound list` shows them.");
    };
    let manages = match ctx.author_member().await {
        Some(m) => ctx.guild().is_some_and(|g| {
            let p = g.member_permissions(&m);
            p.administrator() || p.manage_guild()
        }),
        None => false,
    };
    if found.added_by != ctx.author().id.get() && !manages {
        bail_user!("Only whoever added **{name}** (or someone with Manage Server) may remove it.");
    }
    if let Some((removed, still_used)) = store.sound_remove(guild.get(), &name).await?
        && !still_used
    {
        let path = files(ctx)?.path(&removed.sha256);
        if let Err(e) = std::fs::remove_file(&path) {
            tracing::warn!(path = %path.display(), error = %e, "removing an unused clip's file failed");
        }
    }
    lounge_kit::say(ctx, format!("Removed **{name}**.")).await?;
    Ok(())
}

/// Discord's soundboard sounds this server may play: its own, then Discord's defaults, as
/// (label, value) where the value is `ID` or `ID@GUILD` for the server's own.
async fn discord_sounds(ctx: Context<'_>) -> Result<Vec<(String, String)>, serenity::Error> {
    let mut out = Vec::new();
    if let Some(guild) = ctx.guild_id() {
        for s in ctx.http().get_guild_soundboards(guild).await? {
            if s.available {
                out.push((
                    format!("{} (this server)", s.name),
                    format!("{}@{guild}", s.id),
                ));
            }
        }
    }
    for s in ctx.http().list_default_soundboard_sounds().await? {
        out.push((format!("{} (Discord)", s.name), s.id.to_string()));
    }
    Ok(out)
}

async fn autocomplete_discord_sound(
    ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let sounds = discord_sounds(ctx).await.unwrap_or_default();
    let partial = partial.to_lowercase();
    let choices = sounds
        .into_iter()
        .filter(|(label, _)| label.to_lowercase().contains(&partial))
        .take(25)
        .map(|(label, value)| serenity::AutocompleteChoice::new(label, value))
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// Play one of Discord's soundboard sounds (this server's or the defaults) in the bot's channel
#[poise::command(slash_command, prefix_command, guild_only, rename = "discord")]
pub async fn sound_discord(
    ctx: Context<'_>,
    #[description = "The sound (its name, or pick one)"]
    #[autocomplete = "autocomplete_discord_sound"]
    sound: String,
) -> Result<(), Error> {
    let guild = guild_of(ctx)?;
    let member = ctx.author_member().await;
    // Discord plays it where the bot is connected: the member must be there too.
    let c = control_for(ctx, ctx.author().id, member.as_deref()).await?;
    let wanted = sound.trim().to_lowercase();
    let sounds = discord_sounds(ctx)
        .await
        .map_err(|e| format!("listing soundboard sounds: {e}"))?;
    // A pick from the autocomplete is its value; a typed name matches a label.
    let Some((label, value)) = sounds.into_iter().find(|(label, value)| {
        *value == wanted
            || label
                .to_lowercase()
                .split(" (")
                .next()
                .is_some_and(|name| name == wanted)
    }) else {
        bail_user!(
            "There's no soundboard sound `{}` here.",
            wanted.replace('`', "'")
        );
    };
    let (id, source) = match value.split_once('@') {
        Some((id, source)) => (id.to_owned(), Some(source.to_owned())),
        None => (value.clone(), None),
    };
    let mut body = serde_json::json!({ "sound_id": id });
    if let Some(source) = source {
        body["source_guild_id"] = serde_json::json!(source);
    }
    if let Err(e) = ctx.http().send_soundboard_sound(c.channel, &body).await {
        tracing::info!(guild = guild.get(), error = %e, "sending a soundboard sound failed");
        bail_user!(
            "Discord didn't play it: I need the Speak and Use Soundboard permissions in <#{}>.",
            c.channel
        );
    }
    let name = label.split(" (").next().unwrap_or(&label).to_owned();
    lounge_kit::say(ctx, format!("🔊 **{name}**")).await?;
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert_eq!(check_name(" AirHorn ").unwrap(), "airhorn");
        for bad in ["", "a b", "x".repeat(33).as_str(), "é"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn garbage_is_not_audio() {
        assert!(clip_length(b"definitely not audio").is_err());
        assert!(clip_length(&[]).is_err());
    }

    #[test]
    fn hashes_are_lowercase_hex() {
        assert_eq!(hex(&[0x0a, 0xff]), "0aff");
    }
}
