//! The Plex requests of protocol v2: their exact JSON, the limits that keep the largest answer
//! under the frame cap (checked by a round trip over a real socket), and how the client tells
//! which side to update when the versions differ.

use interprocess::local_socket::tokio::prelude::*;
use interprocess::local_socket::{GenericFilePath, ListenerOptions};
use lounge_ipc::frame::{self, MAX_FRAME_LEN};
use lounge_ipc::plex::{
    self, MAX_KEY, MAX_LABEL, MAX_POSTER_BYTES, MAX_SUMMARY, MAX_TITLE, PAGE_SIZE,
};
use lounge_ipc::to_bot::{
    PlexDetails, PlexItem, PlexItems, PlexLibrary, PlexPart, PlexPoster, RefuseReason, Reply, ToBot,
};
use lounge_ipc::to_streamer::{Command, Hello, PlexList, PlexSort};
use lounge_ipc::{Client, ConnectionState, Outdated, PROTOCOL_VERSION, Server};

use crate::util::{self, Fixture, SECRET, pin, request};

#[test]
fn plex_requests() {
    request(
        1,
        Command::PlexSearch {
            query: "heat".into(),
        },
        r#"{"id":1,"op":"plex_search","query":"heat"}"#,
    );
    request(
        2,
        Command::PlexLibraries,
        r#"{"id":2,"op":"plex_libraries"}"#,
    );
    request(
        3,
        Command::PlexBrowse {
            list: PlexList::Library {
                key: "1".into(),
                sort: PlexSort::Title,
            },
            page: 4,
        },
        r#"{"id":3,"op":"plex_browse","list":{"kind":"library","key":"1","sort":"title"},"page":4}"#,
    );
    request(
        4,
        Command::PlexBrowse {
            list: PlexList::Children {
                rating_key: "161".into(),
            },
            page: 0,
        },
        r#"{"id":4,"op":"plex_browse","list":{"kind":"children","rating_key":"161"},"page":0}"#,
    );
    request(
        5,
        Command::PlexBrowse {
            list: PlexList::OnDeck,
            page: 0,
        },
        r#"{"id":5,"op":"plex_browse","list":{"kind":"on_deck"},"page":0}"#,
    );
    request(
        6,
        Command::PlexBrowse {
            list: PlexList::RecentlyAdded,
            page: 1,
        },
        r#"{"id":6,"op":"plex_browse","list":{"kind":"recently_added"},"page":1}"#,
    );
    request(
        7,
        Command::PlexMetadata {
            rating_key: "108".into(),
        },
        r#"{"id":7,"op":"plex_metadata","rating_key":"108"}"#,
    );
    request(
        8,
        Command::PlexPoster {
            rating_key: "108".into(),
        },
        r#"{"id":8,"op":"plex_poster","rating_key":"108"}"#,
    );
    for (sort, name) in [
        (PlexSort::RecentlyAdded, "recently_added"),
        (PlexSort::Title, "title"),
        (PlexSort::Year, "year"),
        (PlexSort::Rating, "rating"),
    ] {
        pin(&sort, &format!("\"{name}\""));
    }
}

#[test]
fn plex_answers() {
    pin(
        &Reply::PlexItems(PlexItems {
            items: vec![
                PlexItem {
                    rating_key: "108".into(),
                    kind: "movie".into(),
                    title: "Heat".into(),
                    year: Some(1995),
                    parent_title: None,
                    grandparent_title: None,
                    index: None,
                    parent_index: None,
                    has_children: false,
                },
                PlexItem {
                    rating_key: "91".into(),
                    kind: "episode".into(),
                    title: "Earth Skills".into(),
                    year: None,
                    parent_title: Some("Season 1".into()),
                    grandparent_title: Some("The 100".into()),
                    index: Some(2),
                    parent_index: Some(1),
                    has_children: false,
                },
            ],
            page: 0,
            total: 2,
        }),
        r#"{"result":"plex_items","items":[{"rating_key":"108","type":"movie","title":"Heat","year":1995,"has_children":false},{"rating_key":"91","type":"episode","title":"Earth Skills","parent_title":"Season 1","grandparent_title":"The 100","index":2,"parent_index":1,"has_children":false}],"page":0,"total":2}"#,
    );
    pin(
        &Reply::PlexLibraries {
            libraries: vec![PlexLibrary {
                key: "1".into(),
                title: "Movies".into(),
                kind: "movie".into(),
            }],
        },
        r#"{"result":"plex_libraries","libraries":[{"key":"1","title":"Movies","type":"movie"}]}"#,
    );
    pin(
        &Reply::PlexMetadata(Box::new(PlexDetails {
            rating_key: "108".into(),
            kind: "movie".into(),
            title: "Heat".into(),
            year: Some(1995),
            summary: Some("A heist.".into()),
            duration_ms: Some(10_200_000),
            view_offset_ms: Some(60_000),
            parent_title: None,
            grandparent_title: None,
            parent_rating_key: None,
            index: None,
            rating: None,
            content_rating: None,
            parts: vec![PlexPart {
                available: true,
                container: Some("mkv".into()),
                video_resolution: Some("1080".into()),
                duration_ms: Some(10_200_000),
                audio: Vec::new(),
                subtitles: Vec::new(),
            }],
            has_poster: true,
        })),
        r#"{"result":"plex_metadata","rating_key":"108","type":"movie","title":"Heat","year":1995,"summary":"A heist.","duration_ms":10200000,"view_offset_ms":60000,"parts":[{"available":true,"container":"mkv","video_resolution":"1080","duration_ms":10200000}],"has_poster":true}"#,
    );
    pin(
        &Reply::PlexPoster(PlexPoster {
            content_type: "image/jpeg".into(),
            data_base64: "/9j/".into(),
        }),
        r#"{"result":"plex_poster","content_type":"image/jpeg","data_base64":"/9j/"}"#,
    );
}

/// The character JSON escapes at the greatest cost (`\u0001`: six bytes for one character).
const WORST: char = '\u{1}';

fn worst(len: usize) -> String {
    std::iter::repeat_n(WORST, len).collect()
}

/// A page whose every text is far over its limit, fitted as the streamer fits it.
fn largest_page() -> PlexItems {
    let item = |i: usize| PlexItem {
        rating_key: format!("{i:0>MAX_KEY$}"),
        kind: worst(10 * MAX_LABEL),
        title: worst(10 * MAX_TITLE),
        year: Some(i32::MIN),
        parent_title: Some(worst(10 * MAX_TITLE)),
        grandparent_title: Some(worst(10 * MAX_TITLE)),
        index: Some(u32::MAX),
        parent_index: Some(u32::MAX),
        has_children: true,
    };
    let mut page = PlexItems {
        items: (0..3 * PAGE_SIZE as usize).map(item).collect(),
        page: u32::MAX,
        total: u64::MAX,
    };
    page.fit();
    page
}

fn largest_details() -> PlexDetails {
    let part = PlexPart {
        available: true,
        container: Some(worst(10 * MAX_LABEL)),
        video_resolution: Some(worst(10 * MAX_LABEL)),
        duration_ms: Some(u64::MAX),
        audio: vec![worst(10 * MAX_LABEL); 100],
        subtitles: vec![worst(10 * MAX_LABEL); 100],
    };
    let mut details = PlexDetails {
        rating_key: "9".repeat(MAX_KEY),
        kind: worst(10 * MAX_LABEL),
        title: worst(10 * MAX_TITLE),
        year: Some(i32::MIN),
        summary: Some(worst(10 * MAX_SUMMARY)),
        duration_ms: Some(u64::MAX),
        view_offset_ms: Some(u64::MAX),
        parent_title: Some(worst(10 * MAX_TITLE)),
        grandparent_title: Some(worst(10 * MAX_TITLE)),
        parent_rating_key: Some("9".repeat(10 * MAX_KEY)),
        index: Some(u32::MAX),
        rating: Some(worst(10 * MAX_LABEL)),
        content_rating: Some(worst(10 * MAX_LABEL)),
        parts: vec![part; 100],
        has_poster: true,
    };
    details.fit();
    details
}

fn largest_libraries() -> Vec<PlexLibrary> {
    let mut libraries: Vec<PlexLibrary> = (0..1000)
        .map(|i| PlexLibrary {
            key: format!("{i:0>MAX_KEY$}"),
            title: worst(10 * MAX_TITLE),
            kind: worst(10 * MAX_LABEL),
        })
        .collect();
    plex::fit_libraries(&mut libraries);
    libraries
}

fn largest_poster() -> PlexPoster {
    // Base64 of MAX_POSTER_BYTES bytes, the longest the streamer sends.
    let len = MAX_POSTER_BYTES.div_ceil(3) * 4;
    PlexPoster {
        content_type: worst(MAX_LABEL),
        data_base64: "A".repeat(len),
    }
}

#[test]
fn fitting_cuts_every_text_and_keeps_a_page_to_25() {
    let page = largest_page();
    assert_eq!(page.items.len(), PAGE_SIZE as usize);
    for item in &page.items {
        assert_eq!(item.title.chars().count(), MAX_TITLE);
        assert!(item.title.ends_with('…'));
        assert_eq!(item.kind.chars().count(), MAX_LABEL);
    }
    let details = largest_details();
    assert_eq!(
        details.summary.as_deref().map(|s| s.chars().count()),
        Some(MAX_SUMMARY)
    );
    assert_eq!(details.parts.len(), plex::MAX_PARTS);
    assert_eq!(largest_libraries().len(), plex::MAX_LIBRARIES);
    // A key too long to send is left out, never cut into another item's key.
    let mut page = PlexItems {
        items: vec![PlexItem {
            rating_key: "1".repeat(MAX_KEY + 1),
            kind: "movie".into(),
            title: "Too long a key".into(),
            year: None,
            parent_title: None,
            grandparent_title: None,
            index: None,
            parent_index: None,
            has_children: false,
        }],
        page: 0,
        total: 1,
    };
    page.fit();
    assert!(page.items.is_empty());
}

#[tokio::test]
async fn the_largest_answers_cross_a_real_socket_whole() {
    let answers = vec![
        Reply::PlexItems(largest_page()),
        Reply::PlexLibraries {
            libraries: largest_libraries(),
        },
        Reply::PlexMetadata(Box::new(largest_details())),
        Reply::PlexPoster(largest_poster()),
    ];
    for answer in &answers {
        let bytes = frame::encode(&ToBot::Response {
            id: u64::MAX,
            reply: answer.clone(),
        })
        .expect("the largest answer fits in a frame");
        assert!(bytes.len() <= MAX_FRAME_LEN, "{} bytes", bytes.len());
    }
    let fx = Fixture::new();
    let (_server, mut requests) = Server::bind(fx.server_config()).await.expect("bind");
    let served = answers.clone();
    tokio::spawn(async move {
        while let Some((request, responder)) = requests.next().await {
            let reply = match request.command {
                Command::PlexSearch { .. } => served[0].clone(),
                Command::PlexLibraries => served[1].clone(),
                Command::PlexMetadata { .. } => served[2].clone(),
                Command::PlexPoster { .. } => served[3].clone(),
                Command::Status => {
                    Reply::Status(util::status(lounge_ipc::to_bot::PlaybackState::Idle, 0))
                }
                _ => Reply::Ok,
            };
            responder.respond(reply);
        }
    });
    let client = Client::spawn(fx.client_config(SECRET));
    client.wait_connected(util::WAIT).await.expect("connected");
    let asks = [
        Command::PlexSearch { query: "x".into() },
        Command::PlexLibraries,
        Command::PlexMetadata {
            rating_key: "1".into(),
        },
        Command::PlexPoster {
            rating_key: "1".into(),
        },
    ];
    for (ask, expected) in asks.into_iter().zip(&answers) {
        let got = client.request(ask).await.expect("answered");
        assert_eq!(&got, expected);
    }
    // The connection survived all of them.
    assert!(client.state().borrow().is_connected());
}

/// A streamer of another protocol version: refuses every hello, saying which version it
/// speaks, as a real one does.
async fn streamer_speaking(fx: &Fixture, version: u32) -> tokio::task::JoinHandle<()> {
    let name = fx
        .socket
        .as_path()
        .to_fs_name::<GenericFilePath>()
        .expect("name");
    let listener = ListenerOptions::new()
        .name(name)
        .create_tokio()
        .expect("listen");
    tokio::spawn(async move {
        loop {
            let Ok(stream) = listener.accept().await else {
                return;
            };
            let Ok(Some(body)) = frame::read_frame(&mut &stream).await else {
                continue;
            };
            let hello: Hello = frame::parse(&body).expect("a hello");
            let refused = ToBot::Refused {
                reason: RefuseReason::VersionMismatch,
                server_version: version,
                message: format!(
                    "the bot speaks IPC protocol v{} but the streamer speaks v{version}",
                    hello.version
                ),
            };
            let _ = frame::send(&mut &stream, &refused).await;
        }
    })
}

#[tokio::test]
async fn a_version_refusal_names_the_side_to_update() {
    for (version, side) in [
        (PROTOCOL_VERSION - 1, Outdated::Streamer),
        (PROTOCOL_VERSION + 1, Outdated::Bot),
    ] {
        let fx = Fixture::new();
        let task = streamer_speaking(&fx, version).await;
        let client = Client::spawn(fx.client_config(SECRET));
        let state = util::wait_for_state(&client, "a refusal", |s| {
            matches!(s, ConnectionState::Refused { .. })
        })
        .await;
        let ConnectionState::Refused { server_version, .. } = state else {
            unreachable!()
        };
        assert_eq!(server_version, version);
        assert_eq!(state.outdated(), Some(side), "streamer v{version}");
        task.abort();
    }
    assert_eq!(ConnectionState::Connecting.outdated(), None);
}
