//! Everything the music module says, in one place.

use std::time::Duration;

use lounge_store::MusicNow;

pub const NOT_IN_GUILD: &str = "Music plays in servers, not in DMs.";
pub const NOT_IN_VOICE: &str = "Join a voice channel first, then ask again.";
pub const NOTHING_PLAYING: &str = "Nothing is playing.";
pub const NOT_CONNECTED: &str = "I'm not in a voice channel here: `/join` or `/play` brings me in.";
pub const JOIN_FAILED: &str =
    "I couldn't connect to that voice channel: Discord didn't let me in. Try again in a moment.";
pub const JOIN_TIMED_OUT: &str =
    "Connecting to voice took too long: Discord didn't answer. Try again in a moment.";
pub const CANT_SEEK: &str = "This track can't be sought: its source doesn't allow jumping.";
pub const BAD_FILE_NAME: &str = "That isn't a file name I can play: name a file in the music folders, like `file:album/song.mp3`.";
pub const NO_ROOTS: &str = "This bot has no music folders (music.roots), so it plays no files.";
pub const EMPTY_QUERY: &str = "Tell me what to play: a link, or words to search for.";
pub const QUERY_TOO_LONG: &str = "That's too long to search for: keep it under 200 characters.";

pub fn no_connect(channel: impl std::fmt::Display) -> String {
    format!("I'm not allowed to connect to <#{channel}>: give me the Connect permission there.")
}

pub fn no_speak(channel: impl std::fmt::Display) -> String {
    format!(
        "I can join <#{channel}> but I'm not allowed to speak there: give me the Speak permission."
    )
}

pub fn not_in_bots_channel(channel: impl std::fmt::Display) -> String {
    format!("I'm playing in <#{channel}>: join it to control the music.")
}

pub fn busy_elsewhere(channel: impl std::fmt::Display) -> String {
    format!("I'm already playing in <#{channel}>: join it, or ask someone there to `/leave` first.")
}

pub fn no_such_file(name: &str) -> String {
    format!(
        "There's no file `{}` in the music folders.",
        name.replace('`', "'")
    )
}

pub fn could_not_play(title: &str, reason: &str) -> String {
    format!("Skipping **{}**: {reason}", escape(title))
}

pub fn could_not_resume(title: &str, reason: &str) -> String {
    format!(
        "I couldn't resume **{}** after restarting: {reason}",
        escape(title)
    )
}

pub fn unplayable(detail: &str) -> String {
    tracing::info!(detail, "a track could not be decoded");
    "I couldn't play it: its audio isn't something I can decode.".to_owned()
}

pub fn left_idle(alone: bool) -> String {
    if alone {
        "Everyone left, so I left the voice channel too. The queue is kept: `/play` brings me back."
            .to_owned()
    } else {
        "Nothing was playing for a while, so I left the voice channel.".to_owned()
    }
}

pub fn no_match(title: &str) -> String {
    format!(
        "I found nothing to play for **{}**: no result by its ISRC or its name had its length.",
        escape(title)
    )
}

pub const SPOTIFY_KINDS: &str =
    "I can play Spotify tracks, albums, playlists and artists, not that kind of link.";

pub fn too_long(limit_minutes: i64) -> String {
    format!("That's longer than {limit_minutes} minutes, the longest track this bot plays.")
}

pub fn now_playing_line(now: &MusicNow) -> String {
    format!(
        "Now playing **{}**{} (queued by <@{}>)",
        escape(&now.track.title),
        now.track
            .duration_ms
            .map(|ms| format!(" [{}]", clock(Duration::from_millis(ms.cast_unsigned()))))
            .unwrap_or_default(),
        now.track.requested_by
    )
}

/// `1:02:03` or `2:03`.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// A 20-cell progress bar.
pub fn progress_bar(position: Duration, total: Option<Duration>) -> String {
    const CELLS: usize = 20;
    let Some(total) = total.filter(|t| !t.is_zero()) else {
        return format!("{} / live", clock(position));
    };
    let filled = ((position.as_secs_f64() / total.as_secs_f64()).clamp(0.0, 1.0) * CELLS as f64)
        .round() as usize;
    format!(
        "{}🔘{} {} / {}",
        "▬".repeat(filled.min(CELLS)),
        "▬".repeat(CELLS - filled.min(CELLS)),
        clock(position),
        clock(total)
    )
}

/// Markdown in titles stays text.
pub fn escape(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    for c in title.chars() {
        if matches!(c, '*' | '_' | '`' | '~' | '|' | '>' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_and_bars() {
        assert_eq!(clock(Duration::from_secs(3723)), "1:02:03");
        assert_eq!(clock(Duration::from_secs(65)), "1:05");
        let bar = progress_bar(Duration::from_secs(30), Some(Duration::from_mins(1)));
        assert!(bar.starts_with(&"▬".repeat(10)), "{bar}");
        assert!(bar.ends_with("0:30 / 1:00"), "{bar}");
        assert_eq!(progress_bar(Duration::from_secs(5), None), "0:05 / live");
    }

    #[test]
    fn titles_keep_their_markdown_as_text() {
        assert_eq!(escape("*a* _b_"), "\\*a\\* \\_b\\_");
    }
}
