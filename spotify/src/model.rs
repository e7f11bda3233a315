//! What a link resolves to, and the parts of Spotify's JSON the client reads.

use serde::Deserialize;

/// One track as the bot needs it to find the same recording elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    pub title: String,
    pub artists: Vec<String>,
    pub duration_ms: i64,
    /// The recording's ISRC. Album track listings carry none, only full track objects do.
    pub isrc: Option<String>,
    /// `https://open.spotify.com/track/ID`.
    pub url: String,
}

impl Track {
    /// `Artist1, Artist2 - Title`, the search that finds a track by its name; just the title
    /// when Spotify lists no artist.
    pub fn query(&self) -> String {
        if self.artists.is_empty() {
            self.title.clone()
        } else {
            format!("{} - {}", self.artists.join(", "), self.title)
        }
    }
}

/// What a link resolves to: an album's, playlist's or artist's name (none for a single
/// track) and its tracks in Spotify's order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Collection {
    pub name: Option<String>,
    pub tracks: Vec<Track>,
}

/// A full or simplified track object. Every field the client does not need for a match may
/// be absent, so an odd entry is skipped rather than failing the whole page.
#[derive(Debug, Deserialize)]
pub(crate) struct ApiTrack {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub duration_ms: i64,
    #[serde(default)]
    pub artists: Vec<ApiArtist>,
    #[serde(default)]
    pub external_ids: Option<ExternalIds>,
    #[serde(default)]
    pub is_local: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ApiArtist {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ExternalIds {
    #[serde(default)]
    pub isrc: Option<String>,
}

/// Anything with a name: an album, a playlist (`fields=name`), an artist.
#[derive(Debug, Deserialize)]
pub(crate) struct Named {
    #[serde(default)]
    pub name: Option<String>,
}

/// One page of a paging object.
#[derive(Debug, Deserialize)]
pub(crate) struct Page<T> {
    // A path rather than plain `default`, which would make serde demand `T: Default`.
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
    #[serde(default)]
    pub next: Option<String>,
}

/// One entry of `GET /playlists/{id}/items`. Its `item` is kept as raw JSON because it may be
/// null (a track since removed from Spotify) or an episode, whose shape is not a track's.
#[derive(Debug, Deserialize)]
pub(crate) struct PlaylistEntry {
    #[serde(default)]
    pub item: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SearchAnswer {
    pub tracks: Option<Page<ApiTrack>>,
}

/// No `Debug`: it holds the access token.
#[derive(Deserialize)]
pub(crate) struct TokenAnswer {
    pub access_token: String,
    #[serde(default)]
    pub token_type: Option<String>,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// The accounts service's error body (`{"error": "invalid_client", ...}`).
#[derive(Debug, Deserialize)]
pub(crate) struct AccountsError {
    #[serde(default)]
    pub error: Option<String>,
}

impl ApiTrack {
    /// `None` for a local file (it exists only on the playlist owner's device, so its URL names
    /// nothing) or an entry without an id.
    pub fn into_track(self) -> Option<Track> {
        if self.is_local {
            return None;
        }
        let id = self.id.filter(|id| crate::is_id(id))?;
        Some(Track {
            title: self.name,
            artists: self
                .artists
                .into_iter()
                .map(|a| a.name)
                .filter(|n| !n.is_empty())
                .collect(),
            duration_ms: self.duration_ms,
            isrc: self
                .external_ids
                .and_then(|e| e.isrc)
                .map(|i| i.trim().to_owned())
                .filter(|i| !i.is_empty()),
            url: format!("https://open.spotify.com/track/{id}"),
        })
    }

    pub fn has_artist(&self, artist_id: &str) -> bool {
        self.artists
            .iter()
            .any(|a| a.id.as_deref() == Some(artist_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_names_every_artist_then_the_title() {
        let mut t = Track {
            title: "Neon Harbor".into(),
            artists: vec!["The Velvet Static".into(), "Mira Sol".into()],
            duration_ms: 213_000,
            isrc: None,
            url: String::new(),
        };
        assert_eq!(t.query(), "The Velvet Static, Mira Sol - Neon Harbor");
        t.artists.clear();
        assert_eq!(t.query(), "Neon Harbor");
    }

    #[test]
    fn local_files_and_entries_without_an_id_are_skipped() {
        let parse = |v: serde_json::Value| {
            serde_json::from_value::<ApiTrack>(v)
                .expect("a track object")
                .into_track()
        };
        let id = "4uLU6hMCjMI75M1A2tKUQC";
        let t = parse(serde_json::json!({
            "id": id, "name": "A", "duration_ms": 1000,
            "artists": [{"id": "x", "name": "B"}],
            "external_ids": {"isrc": "USAAA2600001"}
        }))
        .expect("kept");
        assert_eq!(t.isrc.as_deref(), Some("USAAA2600001"));
        assert_eq!(t.url, format!("https://open.spotify.com/track/{id}"));
        assert!(parse(serde_json::json!({"id": null, "name": "A", "is_local": true})).is_none());
        assert!(parse(serde_json::json!({"id": id, "name": "A", "is_local": true})).is_none());
        assert!(parse(serde_json::json!({"name": "A"})).is_none());
    }
}
