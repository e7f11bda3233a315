//! The `lounge-spotify` client against the fake Spotify: each kind of link, what development
//! mode no longer allows (batch lookups, top tracks, `/tracks` of a playlist, search pages
//! over 10), the token's life, rate limits and refusals. Every test ends with no violations:
//! nothing Spotify would refuse, and neither the secret nor a token in a URL.

use std::time::{Duration, Instant};

use base64::Engine as _;
use lounge_spotify::{Config, Credentials, Link, Spotify, SpotifyError, isrc_query, parse_link};
use lounge_tests::spotify::{
    ALBUM_ID, ALBUM_NAME, ALBUM_TRACK_DURATIONS_MS, ALBUM_TRACK_TITLES, ARTIST_ID, ARTIST_NAME,
    CLIENT_ID, CLIENT_SECRET, FEATURED_ARTIST_NAME, FakeSpotify, MISSING_ID, PLAYLIST_ID,
    PLAYLIST_NAME, PLAYLIST_TRACKS, TOKEN_PREFIX, TRACK_DURATION_MS, TRACK_ID, TRACK_ISRC,
    TRACK_TITLE, TRIBUTE_ARTIST_NAME, query_param, road_trip_titles,
};

fn config(fake: &FakeSpotify) -> Config {
    Config {
        credentials: Some(Credentials {
            client_id: CLIENT_ID.to_owned(),
            client_secret: CLIENT_SECRET.to_owned(),
        }),
        api_url: format!("{}/v1", fake.url()),
        accounts_url: fake.url(),
        max_retry_wait: Duration::from_secs(5),
    }
}

fn client(fake: &FakeSpotify) -> Spotify {
    Spotify::new(config(fake))
}

async fn start() -> FakeSpotify {
    FakeSpotify::start(CLIENT_ID, CLIENT_SECRET).await
}

/// The API calls whose path (without the query) is `path`.
fn calls_to(fake: &FakeSpotify, path: &str) -> Vec<String> {
    fake.api_calls()
        .into_iter()
        .filter(|c| c.split('?').next() == Some(path))
        .collect()
}

/// Nothing the client says about an error may contain the secret or a token.
fn assert_no_secret(e: &SpotifyError) {
    for text in [e.to_string(), format!("{e:?}")] {
        assert!(
            !text.contains(CLIENT_SECRET) && !text.contains(TOKEN_PREFIX),
            "a secret leaked: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_track_link_gives_its_title_artists_length_and_isrc() {
    let fake = start().await;
    let spotify = client(&fake);
    let link = parse_link(&format!(
        "https://open.spotify.com/intl-de/track/{TRACK_ID}?si=9f2a1c0b7d3e4f56"
    ))
    .expect("a track link");
    assert_eq!(link, Link::Track(TRACK_ID.to_owned()));

    let got = spotify.resolve(&link, 100).await.expect("resolved");
    assert_eq!(got.name, None);
    let [track] = got.tracks.as_slice() else {
        panic!("one track: {got:?}");
    };
    assert_eq!(track.title, TRACK_TITLE);
    assert_eq!(track.artists, [ARTIST_NAME, FEATURED_ARTIST_NAME]);
    assert_eq!(track.duration_ms, TRACK_DURATION_MS);
    assert_eq!(track.isrc.as_deref(), Some(TRACK_ISRC));
    assert_eq!(
        track.url,
        format!("https://open.spotify.com/track/{TRACK_ID}")
    );
    assert_eq!(
        track.query(),
        format!("{ARTIST_NAME}, {FEATURED_ARTIST_NAME} - {TRACK_TITLE}")
    );
    assert_eq!(isrc_query(track), Some(format!("\"{TRACK_ISRC}\"")));
    assert_eq!(fake.api_calls(), [format!("/v1/tracks/{TRACK_ID}")]);

    // The URI form, and the same token for the second call.
    let again = parse_link(&format!("spotify:track:{TRACK_ID}")).expect("a track URI");
    let got = spotify.resolve(&again, 100).await.expect("resolved again");
    assert_eq!(got.tracks.len(), 1);
    assert_eq!(fake.tokens_issued(), 1);
    fake.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_album_gives_its_name_and_tracks_without_isrcs() {
    let fake = start().await;
    let link =
        parse_link(&format!("https://open.spotify.com/album/{ALBUM_ID}?si=abc")).expect("link");
    let got = client(&fake).resolve(&link, 100).await.expect("resolved");
    assert_eq!(got.name.as_deref(), Some(ALBUM_NAME));
    let titles: Vec<&str> = got.tracks.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ALBUM_TRACK_TITLES);
    let durations: Vec<i64> = got.tracks.iter().map(|t| t.duration_ms).collect();
    assert_eq!(durations, ALBUM_TRACK_DURATIONS_MS);
    for t in &got.tracks {
        assert_eq!(t.artists, [ARTIST_NAME]);
        // Album listings carry no external ids, so the bot searches by name for these.
        assert_eq!(t.isrc, None);
        assert!(
            t.url.starts_with("https://open.spotify.com/track/"),
            "{}",
            t.url
        );
    }
    assert_eq!(calls_to(&fake, &format!("/v1/albums/{ALBUM_ID}")).len(), 1);
    let pages = calls_to(&fake, &format!("/v1/albums/{ALBUM_ID}/tracks"));
    assert_eq!(pages.len(), 1, "{pages:?}");
    assert_eq!(query_param(&pages[0], "offset").as_deref(), Some("0"));
    fake.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_playlist_gives_every_track_across_pages_and_skips_the_rest() {
    let fake = start().await;
    let link = parse_link(&format!(
        "https://open.spotify.com/playlist/{PLAYLIST_ID}?si=x1y2"
    ))
    .expect("link");
    let got = client(&fake).resolve(&link, 500).await.expect("resolved");
    assert_eq!(got.name.as_deref(), Some(PLAYLIST_NAME));
    assert_eq!(got.tracks.len(), PLAYLIST_TRACKS);
    let titles: Vec<String> = got.tracks.iter().map(|t| t.title.clone()).collect();
    assert_eq!(titles, road_trip_titles());
    assert!(got.tracks.iter().all(|t| t.isrc.is_some()));

    let name = calls_to(&fake, &format!("/v1/playlists/{PLAYLIST_ID}"));
    assert_eq!(name.len(), 1);
    assert_eq!(query_param(&name[0], "fields").as_deref(), Some("name"));
    let pages = calls_to(&fake, &format!("/v1/playlists/{PLAYLIST_ID}/items"));
    let offsets: Vec<String> = pages
        .iter()
        .map(|p| query_param(p, "offset").unwrap_or_default())
        .collect();
    assert_eq!(offsets, ["0", "50"], "{pages:?}");
    for p in &pages {
        let limit: usize = query_param(p, "limit")
            .and_then(|l| l.parse().ok())
            .expect("limit");
        assert!(limit <= 50, "{p}");
    }
    fake.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_playlist_stops_at_max_tracks() {
    let fake = start().await;
    let spotify = client(&fake);
    let link = Link::Playlist(PLAYLIST_ID.to_owned());
    let got = spotify.resolve(&link, 20).await.expect("resolved");
    assert_eq!(got.tracks.len(), 20);
    let titles: Vec<String> = got.tracks.iter().map(|t| t.title.clone()).collect();
    assert_eq!(titles, road_trip_titles()[..20]);
    assert_eq!(
        calls_to(&fake, &format!("/v1/playlists/{PLAYLIST_ID}/items")).len(),
        1,
        "one page holds twenty tracks"
    );

    let got = spotify.resolve(&link, 55).await.expect("resolved");
    assert_eq!(got.tracks.len(), 55);
    assert_eq!(got.tracks[54].title, road_trip_titles()[54]);
    fake.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_artist_goes_through_search_and_keeps_only_their_tracks() {
    let fake = start().await;
    let link = parse_link(&format!("spotify:artist:{ARTIST_ID}")).expect("an artist URI");
    let got = client(&fake).resolve(&link, 25).await.expect("resolved");
    assert_eq!(got.name.as_deref(), Some(ARTIST_NAME));
    // The first ten results hold one by the tribute band, whose name contains the artist's.
    assert_eq!(got.tracks.len(), 9, "{got:?}");
    for t in &got.tracks {
        assert!(t.artists.iter().any(|a| a == ARTIST_NAME), "{t:?}");
        assert!(!t.artists.iter().any(|a| a == TRIBUTE_ARTIST_NAME), "{t:?}");
    }
    let searches = calls_to(&fake, "/v1/search");
    assert_eq!(searches.len(), 1, "{searches:?}");
    let limit: usize = query_param(&searches[0], "limit")
        .and_then(|l| l.parse().ok())
        .expect("a limit");
    assert!(limit <= 10, "{}", searches[0]);
    assert_eq!(
        query_param(&searches[0], "q"),
        Some(format!("artist:\"{ARTIST_NAME}\""))
    );
    assert_eq!(query_param(&searches[0], "type").as_deref(), Some("track"));
    assert!(
        fake.api_calls().iter().all(|c| !c.contains("top-tracks")),
        "{:?}",
        fake.api_calls()
    );
    fake.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_credentials_nothing_is_asked() {
    let fake = start().await;
    let link = Link::Track(TRACK_ID.to_owned());
    let none = Spotify::new(Config {
        credentials: None,
        ..config(&fake)
    });
    assert_eq!(
        none.resolve(&link, 10).await,
        Err(SpotifyError::NoCredentials)
    );
    let blank = Spotify::new(Config {
        credentials: Some(Credentials {
            client_id: " ".to_owned(),
            client_secret: String::new(),
        }),
        ..config(&fake)
    });
    assert_eq!(
        blank.resolve(&link, 10).await,
        Err(SpotifyError::NoCredentials)
    );
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
    assert!(
        SpotifyError::NoCredentials
            .to_string()
            .contains("spotify.client_id and spotify.client_secret")
    );
    fake.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_is_the_owners_to_fix() {
    let fake = start().await;
    let spotify = Spotify::new(Config {
        credentials: Some(Credentials {
            client_id: CLIENT_ID.to_owned(),
            client_secret: "not-the-secret-at-all-0000000000".to_owned(),
        }),
        ..config(&fake)
    });
    let err = spotify
        .resolve(&Link::Track(TRACK_ID.to_owned()), 10)
        .await
        .expect_err("refused");
    assert_eq!(err, SpotifyError::InvalidCredentials);
    assert_no_secret(&err);
    assert!(fake.api_calls().is_empty(), "{:?}", fake.api_calls());
    assert_eq!(fake.tokens_issued(), 0);
    fake.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_retry_after_is_waited_out() {
    let fake = start().await;
    fake.fail_next(429, Some(1), 1);
    let started = Instant::now();
    let got = client(&fake)
        .resolve(&Link::Track(TRACK_ID.to_owned()), 10)
        .await
        .expect("resolved after the wait");
    let took = started.elapsed();
    assert_eq!(got.tracks[0].title, TRACK_TITLE);
    assert!(took >= Duration::from_secs(1), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(fake.api_calls().len(), 2);
    fake.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_retry_after_is_reported_at_once() {
    let fake = start().await;
    fake.fail_next(429, Some(120), 1);
    let started = Instant::now();
    let err = client(&fake)
        .resolve(&Link::Track(TRACK_ID.to_owned()), 10)
        .await
        .expect_err("rate-limited");
    assert_eq!(err, SpotifyError::RateLimited(Duration::from_mins(2)));
    assert_eq!(
        err.to_string(),
        "Spotify is rate-limiting the bot: try again in 120 s."
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(fake.api_calls().len(), 1);
    fake.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_stop_after_two() {
    let fake = start().await;
    fake.fail_next(429, Some(1), 3);
    let err = client(&fake)
        .resolve(&Link::Track(TRACK_ID.to_owned()), 10)
        .await
        .expect_err("still rate-limited");
    assert_eq!(err, SpotifyError::RateLimited(Duration::from_secs(1)));
    assert_eq!(fake.api_calls().len(), 3);
    fake.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_and_failures_read_as_sentences() {
    let fake = start().await;
    let spotify = client(&fake);
    let link = Link::Playlist(PLAYLIST_ID.to_owned());

    fake.fail_next(403, None, 1);
    let err = spotify.resolve(&link, 10).await.expect_err("forbidden");
    assert_eq!(err, SpotifyError::Forbidden);
    assert_eq!(
        err.to_string(),
        "Spotify refused to share that (a private playlist, or one this app may not read)."
    );

    fake.fail_next(500, None, 1);
    let err = spotify.resolve(&link, 10).await.expect_err("server error");
    assert!(matches!(err, SpotifyError::Other(_)), "{err:?}");
    assert!(err.to_string().contains("500"), "{err}");
    assert_no_secret(&err);

    fake.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_id_is_not_found() {
    let fake = start().await;
    let spotify = client(&fake);
    for link in [
        Link::Track(MISSING_ID.to_owned()),
        Link::Album(MISSING_ID.to_owned()),
        Link::Playlist(MISSING_ID.to_owned()),
        Link::Artist(MISSING_ID.to_owned()),
    ] {
        let err = spotify.resolve(&link, 10).await.expect_err("nothing there");
        assert_eq!(err, SpotifyError::NotFound, "{link:?}");
        assert_eq!(err.to_string(), "Spotify has nothing at that link.");
    }
    // A hand-built link with a malformed id never reaches Spotify.
    let before = fake.api_calls().len();
    let err = spotify
        .resolve(&Link::Track("../albums/x".to_owned()), 10)
        .await
        .expect_err("not an id");
    assert_eq!(err, SpotifyError::NotFound);
    assert_eq!(fake.api_calls().len(), before);
    fake.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_replaced_once() {
    let fake = start().await;
    let spotify = client(&fake);
    spotify
        .resolve(&Link::Track(TRACK_ID.to_owned()), 10)
        .await
        .expect("first");
    assert_eq!(fake.tokens_issued(), 1);
    fake.expire_tokens();
    let got = spotify
        .resolve(&Link::Album(ALBUM_ID.to_owned()), 10)
        .await
        .expect("after a new token");
    assert_eq!(got.name.as_deref(), Some(ALBUM_NAME));
    assert_eq!(fake.tokens_issued(), 2);
    // The refused call, its retry, and the album's track page.
    assert_eq!(fake.api_calls().len(), 4, "{:?}", fake.api_calls());
    fake.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_resolves_share_one_token() {
    let fake = start().await;
    let spotify = client(&fake);
    let other = spotify.clone();
    let track = Link::Track(TRACK_ID.to_owned());
    let album = Link::Album(ALBUM_ID.to_owned());
    let (a, b) = tokio::join!(spotify.resolve(&track, 10), other.resolve(&album, 10));
    a.expect("track");
    b.expect("album");
    assert_eq!(fake.tokens_issued(), 1);
    fake.assert_no_violations();
}

#[test]
fn debug_output_hides_the_secret() {
    let credentials = Credentials {
        client_id: CLIENT_ID.to_owned(),
        client_secret: CLIENT_SECRET.to_owned(),
    };
    let spotify = Spotify::new(Config {
        credentials: Some(credentials.clone()),
        ..Config::default()
    });
    for text in [format!("{credentials:?}"), format!("{spotify:?}")] {
        assert!(!text.contains(CLIENT_SECRET), "{text}");
        assert!(text.contains(CLIENT_ID), "{text}");
    }
}

/// The fake itself refuses what development mode lost, so a client that calls it fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_refuses_what_development_mode_lost() {
    let fake = start().await;
    let http = reqwest::Client::new();
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    let token: serde_json::Value = http
        .post(format!("{}/api/token", fake.url()))
        .header("authorization", format!("Basic {basic}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("token JSON");
    let token = token["access_token"].as_str().expect("a token").to_owned();
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());

    let api = format!("{}/v1", fake.url());
    for (path, status) in [
        (format!("/tracks?ids={TRACK_ID}"), 403),
        (format!("/playlists/{PLAYLIST_ID}/tracks"), 403),
        (format!("/artists/{ARTIST_ID}/top-tracks"), 403),
        ("/search?q=neon&type=track&limit=20".to_owned(), 400),
        ("/search?q=neon&type=track".to_owned(), 400),
        (format!("/playlists/{PLAYLIST_ID}/items?limit=100"), 400),
    ] {
        let response = http
            .get(format!("{api}{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), status, "{path}");
    }
    let unauthorized = http
        .get(format!("{api}/tracks/{TRACK_ID}"))
        .send()
        .await
        .expect("request");
    assert_eq!(unauthorized.status().as_u16(), 401);
    let body: serde_json::Value = unauthorized.json().await.expect("error JSON");
    assert_eq!(body["error"]["status"], 401);
    assert_eq!(fake.violations().len(), 7, "{:#?}", fake.violations());
}
