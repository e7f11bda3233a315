//! `/lyrics` from LRCLIB (no key): by artist, title and length when the title reads
//! "Artist - Title", else by search; shown in pages.

use std::time::Duration;

use lounge_kit::{Context, Error, bail_user};
use poise::serenity_prelude as serenity;
use serde::Deserialize;

use crate::commands::{guild_of, players};
use crate::text;

/// One page of an embed holds at most 4,096 characters; shorter pages read better.
const PAGE_CHARS: usize = 1800;
/// LRCLIB asks clients to name themselves.
const USER_AGENT: &str = concat!(
    "Lounge/",
    env!("CARGO_PKG_VERSION"),
    " (Discord bot; lyrics)"
);

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Found {
    track_name: Option<String>,
    artist_name: Option<String>,
    plain_lyrics: Option<String>,
    synced_lyrics: Option<String>,
    #[serde(default)]
    instrumental: bool,
}

impl Found {
    /// The words, from the plain lyrics or the synced ones with their timestamps taken out.
    fn words(&self) -> Option<String> {
        if let Some(plain) = self
            .plain_lyrics
            .as_deref()
            .filter(|p| !p.trim().is_empty())
        {
            return Some(plain.trim().to_owned());
        }
        let synced = self.synced_lyrics.as_deref()?;
        let lines: Vec<&str> = synced
            .lines()
            .map(|l| match l.find(']') {
                Some(end) if l.starts_with('[') => l[end + 1..].trim(),
                _ => l.trim(),
            })
            .collect();
        let words = lines.join("\n").trim().to_owned();
        (!words.is_empty()).then_some(words)
    }
}

/// "Artist - Title (Official Video)" → ("Artist", "Title").
fn split_title(title: &str) -> Option<(String, String)> {
    let (artist, rest) = title.split_once(" - ")?;
    let mut song = rest.to_owned();
    for open in ['(', '['] {
        if let Some(at) = song.find(open) {
            song.truncate(at);
        }
    }
    let (artist, song) = (artist.trim(), song.trim());
    (!artist.is_empty() && !song.is_empty()).then(|| (artist.to_owned(), song.to_owned()))
}

async fn fetch(
    base: &str,
    title: &str,
    duration: Option<Duration>,
) -> Result<Option<Found>, reqwest::Error> {
    let client = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .timeout(Duration::from_secs(10))
        .build()?;
    let base = base.trim_end_matches('/');
    if let Some((artist, song)) = split_title(title) {
        let mut query = vec![
            ("artist_name", artist.clone()),
            ("track_name", song.clone()),
        ];
        if let Some(d) = duration {
            query.push(("duration", d.as_secs().to_string()));
        }
        let response = client
            .get(format!("{base}/api/get"))
            .query(&query)
            .send()
            .await?;
        if response.status().is_success() {
            let found: Found = response.json().await?;
            if found.instrumental || found.words().is_some() {
                return Ok(Some(found));
            }
        } else if response.status() != reqwest::StatusCode::NOT_FOUND {
            response.error_for_status()?;
        }
    }
    let results: Vec<Found> = client
        .get(format!("{base}/api/search"))
        .query(&[("q", title)])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(results
        .into_iter()
        .find(|f| f.instrumental || f.words().is_some()))
}

/// Pages of at most [`PAGE_CHARS`], broken between lines.
fn pages(words: &str) -> Vec<String> {
    let mut pages = vec![String::new()];
    for line in words.lines() {
        let line: String = line.chars().take(PAGE_CHARS).collect();
        let last = pages.last_mut().expect("never empty");
        if last.chars().count() + line.chars().count() + 1 > PAGE_CHARS {
            pages.push(String::new());
        }
        let last = pages.last_mut().expect("never empty");
        if !last.is_empty() {
            last.push('\n');
        }
        last.push_str(&line);
    }
    pages.retain(|p| !p.trim().is_empty());
    pages
}

/// The lyrics of what plays, or of a song you name
#[poise::command(slash_command, prefix_command, guild_only, category = "Music")]
pub async fn lyrics(
    ctx: Context<'_>,
    #[description = "Artist - title (leave out for what plays now)"]
    #[rest]
    song: Option<String>,
) -> Result<(), Error> {
    let guild = guild_of(ctx)?;
    let (title, duration) = match song.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > 200 => bail_user!("{}", text::QUERY_TOO_LONG),
        Some(s) => (s, None),
        None => match ctx.data().store.music_now(guild.get()).await? {
            Some(now) => (
                now.track.title,
                now.track
                    .duration_ms
                    .map(|ms| Duration::from_millis(ms.cast_unsigned())),
            ),
            None => bail_user!(
                "Nothing is playing: name a song, like `/lyrics Queen - Bohemian Rhapsody`."
            ),
        },
    };
    ctx.defer().await?;
    let base = players(ctx)?.config.lrclib_url.clone();
    let found = match fetch(&base, &title, duration).await {
        Ok(found) => found,
        Err(e) => {
            tracing::info!(error = %e, "LRCLIB failed");
            bail_user!("The lyrics service didn't answer: try again in a moment.");
        }
    };
    let Some(found) = found else {
        bail_user!("I found no lyrics for **{}**.", text::escape(&title));
    };
    let heading = format!(
        "{} — {}",
        found.artist_name.as_deref().unwrap_or("?"),
        found.track_name.as_deref().unwrap_or(&title)
    );
    let Some(words) = found.words() else {
        lounge_kit::say(
            ctx,
            format!("**{}** is instrumental.", text::escape(&heading)),
        )
        .await?;
        return Ok(());
    };
    let embeds: Vec<serenity::CreateEmbed> = pages(&words)
        .into_iter()
        .map(|page| {
            serenity::CreateEmbed::new()
                .title(heading.chars().take(250).collect::<String>())
                .description(page)
                .footer(serenity::CreateEmbedFooter::new("Lyrics from LRCLIB"))
        })
        .collect();
    lounge_kit::ui::paginate(ctx, embeds).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_split_into_artist_and_song() {
        assert_eq!(
            split_title("Queen - Bohemian Rhapsody (Official Video Remastered)"),
            Some(("Queen".to_owned(), "Bohemian Rhapsody".to_owned()))
        );
        assert_eq!(split_title("just a title"), None);
    }

    #[test]
    fn synced_lyrics_lose_their_timestamps_and_pages_break_between_lines() {
        let found = Found {
            track_name: None,
            artist_name: None,
            plain_lyrics: None,
            synced_lyrics: Some("[00:01.00] Hello\n[00:02.50] world".to_owned()),
            instrumental: false,
        };
        assert_eq!(found.words().as_deref(), Some("Hello\nworld"));
        let long = (0..400)
            .map(|i| format!("line {i}"))
            .collect::<Vec<_>>()
            .join("\n");
        let pages = pages(&long);
        assert!(pages.len() > 1);
        assert!(pages.iter().all(|p| p.chars().count() <= PAGE_CHARS));
        assert_eq!(pages.join("\n"), long);
    }
}
