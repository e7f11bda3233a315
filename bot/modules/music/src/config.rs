//! The `[music]` section of lounge.toml.

use std::path::PathBuf;

use serde::Deserialize;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MusicConfig {
    /// Leave a voice channel after this many minutes alone or with nothing playing (unless the
    /// server set `/music 247`). 1–1440.
    pub idle_minutes: u64,
    /// The most tracks one playlist link adds. 1–500.
    pub max_playlist: usize,
    /// The most tracks one member may have queued at once in a server; 0 = no limit.
    pub max_queued_per_member: i64,
    /// The longest track anyone may queue, in minutes; 0 = no limit.
    pub max_track_minutes: i64,
    /// Play live streams (they never end on their own).
    pub allow_live: bool,
    /// Play links to this machine or its private network (loopback, RFC 1918, link-local...).
    /// Off: a member's link must not make the bot fetch from inside its network.
    pub allow_private_hosts: bool,
    /// The yt-dlp program: a name on PATH or a path.
    pub ytdlp: PathBuf,
    /// How long one yt-dlp run may take, in seconds. 1–300.
    pub ytdlp_timeout_seconds: u64,
    /// Folders on the bot's machine whose files `/play file:NAME` plays.
    pub roots: Vec<PathBuf>,
    /// LRCLIB's base URL, for `/lyrics`.
    pub lrclib_url: String,
    /// Where soundboard clips are kept; default: `sounds/` in the data directory.
    pub sounds_dir: Option<PathBuf>,
}

impl Default for MusicConfig {
    fn default() -> Self {
        Self {
            idle_minutes: 5,
            max_playlist: 100,
            max_queued_per_member: 50,
            max_track_minutes: 180,
            allow_live: false,
            allow_private_hosts: false,
            ytdlp: PathBuf::from("yt-dlp"),
            ytdlp_timeout_seconds: 30,
            roots: Vec::new(),
            lrclib_url: "https://lrclib.net".to_owned(),
            sounds_dir: None,
        }
    }
}

impl MusicConfig {
    /// What is wrong with these settings, for `lounge config check`.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !(1..=1440).contains(&self.idle_minutes) {
            out.push(format!(
                "music.idle_minutes is {}: it must be from 1 to 1440",
                self.idle_minutes
            ));
        }
        if !(1..=500).contains(&self.max_playlist) {
            out.push(format!(
                "music.max_playlist is {}: it must be from 1 to 500",
                self.max_playlist
            ));
        }
        if self.max_queued_per_member < 0 || self.max_track_minutes < 0 {
            out.push("music.max_queued_per_member and music.max_track_minutes can't be negative (0 = no limit)".to_owned());
        }
        if !(1..=300).contains(&self.ytdlp_timeout_seconds) {
            out.push(format!(
                "music.ytdlp_timeout_seconds is {}: it must be from 1 to 300",
                self.ytdlp_timeout_seconds
            ));
        }
        if !(self.lrclib_url.starts_with("https://") || self.lrclib_url.starts_with("http://")) {
            out.push(format!(
                "music.lrclib_url {:?} must start with https:// or http://",
                self.lrclib_url
            ));
        }
        out
    }
}
