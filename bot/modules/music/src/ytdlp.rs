//! yt-dlp, run as a child process: what a link or a search holds (titles, lengths, a
//! playlist's entries) when it is queued, and the media URL to fetch when it plays (those
//! expire, so they are resolved at play time, never stored).
//!
//! Every run has a timeout and is killed when it passes; what yt-dlp prints on failure
//! becomes a sentence for the member.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use tokio::process::Command;

/// One entry of a lookup: a track to queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub title: String,
    /// The page to resolve again when it plays.
    pub url: String,
    pub duration_ms: Option<i64>,
    pub live: bool,
}

/// What a link holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookup {
    /// The playlist's title, when it is one.
    pub playlist: Option<String>,
    pub entries: Vec<Entry>,
}

/// What to fetch to play a track.
#[derive(Clone, Debug)]
pub struct Stream {
    pub url: String,
    pub headers: HashMap<String, String>,
    pub title: String,
    pub duration_ms: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum YtDlpError {
    #[error(
        "I can't look links up: yt-dlp isn't installed on the bot's machine (the owner can install it, or set music.ytdlp)."
    )]
    Missing,
    #[error("Looking that up took too long (more than {0} s): try again, or another link.")]
    Timeout(u64),
    #[error("That video is private.")]
    Private,
    #[error("That video is age-restricted, and I can't sign in to play it.")]
    AgeRestricted,
    #[error("That video isn't available in the bot's country.")]
    RegionLocked,
    #[error("That link is gone: it was removed, or never existed.")]
    Removed,
    #[error("I don't know how to play that link: it holds no audio or video I can find.")]
    Unsupported,
    #[error("That's a live stream, and this server doesn't play live streams.")]
    Live,
    #[error("Nothing matched that search.")]
    NoResults,
    #[error("yt-dlp couldn't play that: {0}")]
    Other(String),
}

#[derive(Deserialize)]
struct Info {
    #[serde(rename = "_type")]
    kind: Option<String>,
    title: Option<String>,
    url: Option<String>,
    webpage_url: Option<String>,
    original_url: Option<String>,
    duration: Option<f64>,
    is_live: Option<bool>,
    live_status: Option<String>,
    #[serde(default)]
    entries: Vec<Option<Info>>,
    #[serde(default)]
    http_headers: HashMap<String, String>,
}

impl Info {
    fn live(&self) -> bool {
        self.is_live == Some(true) || self.live_status.as_deref() == Some("is_live")
    }

    fn page(&self) -> Option<String> {
        self.webpage_url
            .clone()
            .or_else(|| self.original_url.clone())
            .or_else(|| self.url.clone())
    }

    fn entry(&self) -> Option<Entry> {
        Some(Entry {
            title: clean_title(self.title.as_deref().unwrap_or("Untitled")),
            url: self.page()?,
            duration_ms: self.duration.and_then(seconds_to_ms),
            live: self.live(),
        })
    }
}

fn seconds_to_ms(seconds: f64) -> Option<i64> {
    (seconds.is_finite() && seconds >= 0.0).then(|| (seconds * 1000.0).round() as i64)
}

/// Titles go into embeds and select menus: one line, at most 100 characters.
fn clean_title(title: &str) -> String {
    let one_line: String = title
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = one_line.trim();
    if trimmed.is_empty() {
        return "Untitled".to_owned();
    }
    trimmed.chars().take(100).collect()
}

/// How to run yt-dlp.
#[derive(Clone, Debug)]
pub struct YtDlp {
    pub program: std::path::PathBuf,
    pub timeout: Duration,
}

impl YtDlp {
    async fn run(&self, args: &[&str]) -> Result<Info, YtDlpError> {
        let mut command = Command::new(&self.program);
        command
            .args(["-J", "--no-warnings", "--no-progress", "--ignore-config"])
            .args(args)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        let output = match tokio::time::timeout(self.timeout, command.output()).await {
            Err(_) => return Err(YtDlpError::Timeout(self.timeout.as_secs())),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(YtDlpError::Missing);
            }
            Ok(Err(e)) => return Err(YtDlpError::Other(format!("it didn't start ({e})"))),
            Ok(Ok(output)) => output,
        };
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            tracing::info!(program = %self.program.display(), status = %output.status, stderr = %stderr.trim(), "yt-dlp failed");
            return Err(classify(&stderr));
        }
        serde_json::from_slice(&output.stdout)
            .map_err(|e| YtDlpError::Other(format!("its answer wasn't readable ({e})")))
    }

    /// What `url` holds: one track, or a playlist's first `max_playlist` entries (listed
    /// flat: each is resolved when it plays).
    pub async fn lookup(&self, url: &str, max_playlist: usize) -> Result<Lookup, YtDlpError> {
        let end = max_playlist.max(1).to_string();
        let info = self
            .run(&["--flat-playlist", "--playlist-end", &end, "--", url])
            .await?;
        if info.kind.as_deref() == Some("playlist") {
            let entries: Vec<Entry> = info
                .entries
                .iter()
                .flatten()
                .filter_map(Info::entry)
                .take(max_playlist)
                .collect();
            if entries.is_empty() {
                return Err(YtDlpError::NoResults);
            }
            return Ok(Lookup {
                playlist: Some(clean_title(info.title.as_deref().unwrap_or("Playlist"))),
                entries,
            });
        }
        let mut entry = info.entry().ok_or(YtDlpError::Unsupported)?;
        // The generic extractor names a bare file by its name; the link is the page.
        if entry.url.is_empty() {
            url.clone_into(&mut entry.url);
        }
        Ok(Lookup {
            playlist: None,
            entries: vec![entry],
        })
    }

    /// The top `n` results of a search.
    pub async fn search(&self, query: &str, n: usize) -> Result<Vec<Entry>, YtDlpError> {
        let term = format!("ytsearch{}:{query}", n.clamp(1, 10));
        let info = self.run(&["--flat-playlist", "--", &term]).await?;
        let entries: Vec<Entry> = info
            .entries
            .iter()
            .flatten()
            .filter_map(Info::entry)
            .collect();
        if entries.is_empty() {
            return Err(YtDlpError::NoResults);
        }
        Ok(entries)
    }

    /// The media URL (and the headers it needs) to play `page` now.
    pub async fn stream(&self, page: &str) -> Result<Stream, YtDlpError> {
        let info = self
            .run(&["--no-playlist", "-f", "bestaudio/best", "--", page])
            .await?;
        let url = info.url.clone().ok_or(YtDlpError::Unsupported)?;
        Ok(Stream {
            url,
            headers: info.http_headers.clone(),
            title: clean_title(info.title.as_deref().unwrap_or("Untitled")),
            duration_ms: info.duration.and_then(seconds_to_ms),
        })
    }

    /// yt-dlp's version, for `lounge doctor`.
    pub async fn version(program: &Path) -> Result<String, YtDlpError> {
        let run = Command::new(program)
            .arg("--version")
            .kill_on_drop(true)
            .output();
        match tokio::time::timeout(Duration::from_secs(10), run).await {
            Err(_) => Err(YtDlpError::Timeout(10)),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => Err(YtDlpError::Missing),
            Ok(Err(e)) => Err(YtDlpError::Other(e.to_string())),
            Ok(Ok(o)) => Ok(String::from_utf8_lossy(&o.stdout).trim().to_owned()),
        }
    }
}

/// yt-dlp's failure, from the `ERROR:` lines it prints (its extractors' own wording).
fn classify(stderr: &str) -> YtDlpError {
    let lower = stderr.to_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    if has(&["private video", "this video is private"]) {
        YtDlpError::Private
    } else if has(&[
        "sign in to confirm your age",
        "age-restricted",
        "age restricted",
        "inappropriate for some users",
    ]) {
        YtDlpError::AgeRestricted
    } else if has(&[
        "not available in your country",
        "geo restriction",
        "geo-restricted",
        "not made this video available in your country",
    ]) {
        YtDlpError::RegionLocked
    } else if has(&[
        "video unavailable",
        "has been removed",
        "http error 404",
        "http error 410",
        "does not exist",
        "no longer available",
    ]) {
        YtDlpError::Removed
    } else if has(&[
        "unsupported url",
        "no video formats found",
        "requested format is not available",
    ]) {
        YtDlpError::Unsupported
    } else {
        let line = stderr
            .lines()
            .rev()
            .find(|l| l.starts_with("ERROR:"))
            .unwrap_or("it failed without saying why")
            .trim_start_matches("ERROR:")
            .trim();
        // yt-dlp's own words, cut short: they may name URLs but never our secrets.
        YtDlpError::Other(line.chars().take(200).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_become_sentences() {
        // Each line as yt-dlp's extractors print it.
        let cases = [
            (
                "ERROR: [youtube] abc: Private video. Sign in if you've been granted access to this video",
                YtDlpError::Private,
            ),
            (
                "ERROR: [youtube] abc: Sign in to confirm your age. This video may be inappropriate for some users.",
                YtDlpError::AgeRestricted,
            ),
            (
                "ERROR: [youtube] abc: The uploader has not made this video available in your country",
                YtDlpError::RegionLocked,
            ),
            (
                "ERROR: [youtube] abc: Video unavailable. This video has been removed by the uploader",
                YtDlpError::Removed,
            ),
            (
                "ERROR: [generic] Unable to download webpage: HTTP Error 404: Not Found (caused by <HTTPError 404>)",
                YtDlpError::Removed,
            ),
            (
                "ERROR: Unsupported URL: http://127.0.0.1:1/page",
                YtDlpError::Unsupported,
            ),
        ];
        for (stderr, want) in cases {
            assert_eq!(classify(stderr), want, "{stderr}");
        }
        assert_eq!(
            classify("WARNING: x\nERROR: something new happened\n"),
            YtDlpError::Other("something new happened".to_owned())
        );
    }

    #[test]
    fn titles_are_one_short_line() {
        assert_eq!(clean_title("  a\nb\t "), "a b");
        assert_eq!(clean_title(""), "Untitled");
        assert_eq!(clean_title(&"x".repeat(300)).chars().count(), 100);
    }

    #[test]
    fn a_flat_playlist_lists_its_entries() {
        let json = r#"{"_type":"playlist","title":"Mix","entries":[
            {"_type":"url","title":"One","url":"https://example.invalid/1","duration":61.5},
            null,
            {"_type":"url","title":"Two","url":"https://example.invalid/2"}]}"#;
        let info: Info = serde_json::from_str(json).unwrap();
        let entries: Vec<Entry> = info
            .entries
            .iter()
            .flatten()
            .filter_map(Info::entry)
            .collect();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].duration_ms, Some(61_500));
        assert_eq!(entries[1].url, "https://example.invalid/2");
    }
}
