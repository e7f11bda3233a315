//! Limits of the Plex answers, so that the largest possible answer still fits in one frame
//! ([`crate::frame::MAX_FRAME_LEN`]) and in what Discord shows.
//!
//! The streamer calls `fit` on every answer before sending it; what Plex says is the owner's
//! data, of any length, and a frame over the cap would close the connection.

use crate::to_bot::{PlexDetails, PlexItem, PlexItems, PlexLibrary, PlexPart};

/// Items per page of every Plex list: what one Discord embed or select menu holds.
pub const PAGE_SIZE: u32 = 25;
/// A title's length in characters: Discord's limit for a choice or a select option.
pub const MAX_TITLE: usize = 100;
/// A summary's length in characters: a readable embed, well under Discord's 4096.
pub const MAX_SUMMARY: usize = 1000;
/// Short labels (type, container, resolution), in characters.
pub const MAX_LABEL: usize = 32;
/// A rating key or library key, in bytes. Plex's are short numbers; an item whose key is
/// longer is left out rather than cut, since a cut key would name another item.
pub const MAX_KEY: usize = 32;
/// Libraries in one answer.
pub const MAX_LIBRARIES: usize = 100;
/// Versions (parts) listed for one item.
pub const MAX_PARTS: usize = 10;
/// Audio or subtitle tracks listed for one version.
pub const MAX_TRACKS: usize = 12;
/// A search query, in characters: Discord's limit for an option value.
pub const MAX_QUERY: usize = 100;
/// The largest poster sent, in bytes before base64.
pub const MAX_POSTER_BYTES: usize = 512 * 1024;
/// The poster's bounding box asked of Plex's photo transcoder.
pub const POSTER_WIDTH: u32 = 320;
pub const POSTER_HEIGHT: u32 = 480;

/// `text` cut to `max` characters, with an ellipsis when something was cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn fit_opt(text: &mut Option<String>, max: usize) {
    if let Some(t) = text {
        *t = truncate(t, max);
    }
}

/// Whether a key can travel: short enough that it was not cut.
pub fn key_fits(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY
}

impl PlexItem {
    /// Cuts every text to its limit.
    pub fn fit(&mut self) {
        self.kind = truncate(&self.kind, MAX_LABEL);
        self.title = truncate(&self.title, MAX_TITLE);
        fit_opt(&mut self.parent_title, MAX_TITLE);
        fit_opt(&mut self.grandparent_title, MAX_TITLE);
    }
}

impl PlexItems {
    /// At most [`PAGE_SIZE`] items, each cut to its limits; items whose key is too long to
    /// send are left out.
    pub fn fit(&mut self) {
        self.items.retain(|i| key_fits(&i.rating_key));
        self.items.truncate(PAGE_SIZE as usize);
        self.items.iter_mut().for_each(PlexItem::fit);
    }
}

impl PlexLibrary {
    pub fn fit(&mut self) {
        self.title = truncate(&self.title, MAX_TITLE);
        self.kind = truncate(&self.kind, MAX_LABEL);
    }
}

/// At most [`MAX_LIBRARIES`] libraries, each cut to its limits.
pub fn fit_libraries(libraries: &mut Vec<PlexLibrary>) {
    libraries.retain(|l| key_fits(&l.key));
    libraries.truncate(MAX_LIBRARIES);
    libraries.iter_mut().for_each(PlexLibrary::fit);
}

impl PlexPart {
    pub fn fit(&mut self) {
        fit_opt(&mut self.container, MAX_LABEL);
        fit_opt(&mut self.video_resolution, MAX_LABEL);
        for tracks in [&mut self.audio, &mut self.subtitles] {
            tracks.truncate(MAX_TRACKS);
            for t in tracks.iter_mut() {
                *t = truncate(t, MAX_LABEL);
            }
        }
    }
}

impl PlexDetails {
    pub fn fit(&mut self) {
        self.kind = truncate(&self.kind, MAX_LABEL);
        self.title = truncate(&self.title, MAX_TITLE);
        fit_opt(&mut self.summary, MAX_SUMMARY);
        fit_opt(&mut self.parent_title, MAX_TITLE);
        fit_opt(&mut self.grandparent_title, MAX_TITLE);
        fit_opt(&mut self.rating, MAX_LABEL);
        fit_opt(&mut self.content_rating, MAX_LABEL);
        // A cut key names nothing: one that doesn't fit is dropped.
        self.parent_rating_key = self.parent_rating_key.take().filter(|k| key_fits(k));
        self.parts.truncate(MAX_PARTS);
        self.parts.iter_mut().for_each(PlexPart::fit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_counts_characters_and_marks_the_cut() {
        assert_eq!(truncate("Heat", 4), "Heat");
        assert_eq!(truncate("Heat!", 4), "Hea…");
        assert_eq!(truncate("ééééé", 3), "éé…");
        assert_eq!(
            truncate(&"x".repeat(500), MAX_TITLE).chars().count(),
            MAX_TITLE
        );
    }
}
