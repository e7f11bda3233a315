//! Choosing, among another service's search results, the recording a Spotify track names.
//!
//! Spotify streams only to its own apps, so the bot plays a Spotify track by finding it
//! elsewhere (`YouTube` through yt-dlp), as `LavaSrc` does for Lavalink: first a search for the
//! quoted ISRC ([`isrc_query`]), which finds the exact recording when an uploader put the code
//! in the description, then one for `Artist - Title` ([`crate::Track::query`]). Either way the
//! result must be about as long as the track ([`pick_match`]), which keeps out hour-long
//! mixes, live cuts and ten-second previews.

use crate::Track;

/// One search result from wherever the bot looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub title: String,
    pub url: String,
    /// Unknown for some results (a live stream, an extractor that gives none).
    pub duration_ms: Option<i64>,
}

/// The search to try first for `t`: its ISRC in double quotes (an exact-phrase search), or
/// `None` when Spotify gave no ISRC (album listings never do), in which case the bot goes
/// straight to [`Track::query`].
pub fn isrc_query(t: &Track) -> Option<String> {
    t.isrc
        .as_deref()
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .map(|i| format!("\"{i}\""))
}

/// The first candidate whose duration is within ±10 % of `duration_ms`, in the search's own
/// order (its best guess first). A candidate without a duration never matches, nor does
/// anything when `duration_ms` is not positive: with nothing to compare, a wrong song would
/// pass as easily as the right one.
pub fn pick_match(candidates: &[Candidate], duration_ms: i64) -> Option<&Candidate> {
    if duration_ms <= 0 {
        return None;
    }
    let target = duration_ms.unsigned_abs();
    candidates.iter().find(|c| {
        c.duration_ms
            .is_some_and(|d| d.abs_diff(duration_ms).saturating_mul(10) <= target)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(title: &str, duration_ms: Option<i64>) -> Candidate {
        Candidate {
            title: title.to_owned(),
            url: format!("https://example.invalid/{title}"),
            duration_ms,
        }
    }

    #[test]
    fn the_first_candidate_within_ten_percent_wins() {
        let list = [
            c("hour-long mix", Some(3_600_000)),
            c("no duration", None),
            c("preview", Some(30_000)),
            c("official audio", Some(205_000)),
            c("lyric video", Some(200_000)),
        ];
        let got = pick_match(&list, 200_000).expect("a match");
        assert_eq!(got.title, "official audio");
    }

    #[test]
    fn ten_percent_is_inclusive_and_anything_past_it_is_out() {
        let edge = [c("low", Some(180_000)), c("high", Some(220_000))];
        assert_eq!(
            pick_match(&edge, 200_000).map(|c| c.title.as_str()),
            Some("low")
        );
        assert_eq!(
            pick_match(&edge[1..], 200_000).map(|c| c.title.as_str()),
            Some("high")
        );
        let out = [c("short", Some(179_999)), c("long", Some(220_001))];
        assert_eq!(pick_match(&out, 200_000), None);
    }

    #[test]
    fn nothing_matches_without_durations() {
        assert_eq!(pick_match(&[c("a", None), c("b", None)], 200_000), None);
        assert_eq!(pick_match(&[c("a", Some(0))], 0), None);
        assert_eq!(pick_match(&[c("a", Some(1000))], -1000), None);
        assert_eq!(pick_match(&[], 200_000), None);
        assert_eq!(pick_match(&[c("a", Some(i64::MIN))], i64::MAX), None);
    }

    #[test]
    fn the_isrc_search_is_the_quoted_code() {
        let mut t = Track {
            title: "T".into(),
            artists: vec!["A".into()],
            duration_ms: 1,
            isrc: Some("USLNG2600001".into()),
            url: String::new(),
        };
        assert_eq!(isrc_query(&t).as_deref(), Some("\"USLNG2600001\""));
        t.isrc = Some("  ".into());
        assert_eq!(isrc_query(&t), None);
        t.isrc = None;
        assert_eq!(isrc_query(&t), None);
    }
}
