//! Reading what a member pasted: an `open.spotify.com` link or a `spotify:` URI.

/// What a Spotify link points at, by its 22-character base62 id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Link {
    Track(String),
    Album(String),
    Playlist(String),
    Artist(String),
}

impl Link {
    fn new(kind: &str, id: &str) -> Option<Self> {
        if !is_id(id) {
            return None;
        }
        let id = id.to_owned();
        match kind {
            "track" => Some(Self::Track(id)),
            "album" => Some(Self::Album(id)),
            "playlist" => Some(Self::Playlist(id)),
            "artist" => Some(Self::Artist(id)),
            _ => None,
        }
    }

    /// The id, whatever it names.
    pub fn id(&self) -> &str {
        match self {
            Self::Track(id) | Self::Album(id) | Self::Playlist(id) | Self::Artist(id) => id,
        }
    }
}

/// A Spotify id: exactly 22 base62 characters. The client checks it again before putting it
/// in a request path, since a [`Link`] can be built by hand.
pub fn is_id(id: &str) -> bool {
    id.len() == 22 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Reads `https://open.spotify.com/{track|album|playlist|artist}/ID` (any `?si=…` query or
/// `#` fragment, an `intl-xx/` segment, `http://` or no scheme) and `spotify:KIND:ID`.
/// Surrounding spaces and Discord's embed-suppressing `<…>` are ignored. Anything else, a
/// malformed id included, is `None`, so the caller can treat the input as a search instead.
pub fn parse_link(input: &str) -> Option<Link> {
    let input = input.trim();
    let input = input
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(input)
        .trim();
    if let Some(rest) = strip_prefix_ignore_case(input, "spotify:") {
        let mut parts = rest.split(':');
        let (kind, id) = (parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        return Link::new(kind, id);
    }
    let rest = strip_prefix_ignore_case(input, "https://")
        .or_else(|| strip_prefix_ignore_case(input, "http://"))
        .unwrap_or(input);
    let (host, path) = rest.split_once('/')?;
    if !host.eq_ignore_ascii_case("open.spotify.com") {
        return None;
    }
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let mut segments: Vec<&str> = path.split('/').collect();
    // A trailing slash is harmless; any other empty segment means a mangled link.
    if segments.last() == Some(&"") {
        segments.pop();
    }
    if segments.first().is_some_and(|s| is_intl(s)) {
        segments.remove(0);
    }
    match segments.as_slice() {
        [kind, id] => Link::new(kind, id),
        _ => None,
    }
}

/// Spotify's localised links, e.g. `intl-de` or `intl-pt-br`.
fn is_intl(segment: &str) -> bool {
    segment.strip_prefix("intl-").is_some_and(|lang| {
        !lang.is_empty() && lang.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-')
    })
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.get(..prefix.len())?.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "4uLU6hMCjMI75M1A2tKUQC";

    #[test]
    fn links_and_uris_of_every_kind_are_read() {
        let cases = [
            (
                format!("https://open.spotify.com/track/{ID}"),
                Link::Track(ID.into()),
            ),
            (
                format!("https://open.spotify.com/track/{ID}?si=a1b2c3d4e5f60718"),
                Link::Track(ID.into()),
            ),
            (
                format!("https://open.spotify.com/intl-de/track/{ID}?si=x"),
                Link::Track(ID.into()),
            ),
            (
                format!("https://open.spotify.com/intl-pt-br/album/{ID}"),
                Link::Album(ID.into()),
            ),
            (
                format!("https://open.spotify.com/playlist/{ID}?si=abc&pt=def"),
                Link::Playlist(ID.into()),
            ),
            (
                format!("https://open.spotify.com/artist/{ID}/"),
                Link::Artist(ID.into()),
            ),
            (
                format!("http://open.spotify.com/album/{ID}"),
                Link::Album(ID.into()),
            ),
            (
                format!("open.spotify.com/track/{ID}#x"),
                Link::Track(ID.into()),
            ),
            (
                format!("  <https://OPEN.spotify.com/track/{ID}>  "),
                Link::Track(ID.into()),
            ),
            (format!("spotify:track:{ID}"), Link::Track(ID.into())),
            (format!("spotify:album:{ID}"), Link::Album(ID.into())),
            (format!("spotify:playlist:{ID}"), Link::Playlist(ID.into())),
            (format!("spotify:artist:{ID}"), Link::Artist(ID.into())),
        ];
        for (input, want) in cases {
            assert_eq!(parse_link(&input), Some(want), "{input}");
        }
    }

    #[test]
    fn anything_else_is_not_a_link() {
        let short = &ID[..21];
        let long = format!("{ID}x");
        let bad = [
            String::new(),
            "hello world".to_owned(),
            ID.to_owned(),
            format!("https://open.spotify.com/track/{short}"),
            format!("https://open.spotify.com/track/{long}"),
            format!("https://open.spotify.com/track/{}-", &ID[..21]),
            format!("https://open.spotify.com/episode/{ID}"),
            format!("https://open.spotify.com/show/{ID}"),
            format!("https://open.spotify.com/user/someone/playlist/{ID}"),
            format!("https://open.spotify.com/track/{ID}/extra"),
            format!("https://open.spotify.com//track/{ID}"),
            format!("https://open.spotify.com/intl-/track/{ID}"),
            format!("https://open.spotify.com/intl-d3/track/{ID}"),
            format!("https://evil.example/track/{ID}"),
            format!("https://open.spotify.com.evil.example/track/{ID}"),
            format!("https://www.youtube.com/watch?v={ID}"),
            format!("spotify:track:{ID}:extra"),
            format!("spotify:episode:{ID}"),
            format!("spotify:track:{short}"),
            "spotify:track:".to_owned(),
            "https://open.spotify.com/".to_owned(),
            format!("https://open.spotify.com/track/{}é", &ID[..20]),
        ];
        for input in bad {
            assert_eq!(parse_link(&input), None, "{input:?}");
        }
    }

    #[test]
    fn ids_are_22_base62_characters() {
        assert!(is_id(ID));
        assert!(!is_id(&ID[..21]));
        assert!(!is_id("../../../../../etc/pas"));
        assert!(!is_id("4uLU6hMCjMI75M1A2tKU%2"));
    }
}
