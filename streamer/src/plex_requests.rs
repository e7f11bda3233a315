//! The Plex requests of the IPC protocol (`plex_search`, `plex_libraries`, `plex_browse`,
//! `plex_metadata`, `plex_poster`), answered by the daemon itself: they need no Go Live
//! session, only the Plex link, and the token never leaves this process.
//!
//! Each request runs in its own task, so a slow Plex server never holds up playback orders or
//! `status`. The connected [`Server`] is kept between requests (finding it through plex.tv
//! takes several round trips) and dropped on any failure, so a new token or a server that
//! moved is picked up by the next request.

use std::sync::Arc;

use base64::Engine as _;
use lounge_ipc::Responder;
use lounge_ipc::plex::{self as limits, MAX_POSTER_BYTES, PAGE_SIZE, POSTER_HEIGHT, POSTER_WIDTH};
use lounge_ipc::to_bot::{
    ErrorKind, PlexDetails, PlexItem, PlexItems, PlexLibrary, PlexPart, PlexPoster, Reply,
};
use lounge_ipc::to_streamer::{Command, PlexList, PlexSort};
use lounge_plex::model::{ItemType, Metadata};
use lounge_plex::{Page, Server, Sort};
use tokio::sync::Mutex;

use crate::config::Loaded;
use crate::plex::{Problem, connect, http, load_token, local_file};

/// Whether the daemon answers `command` here rather than the Go Live session.
pub fn handles(command: &Command) -> bool {
    matches!(
        command,
        Command::PlexSearch { .. }
            | Command::PlexLibraries
            | Command::PlexBrowse { .. }
            | Command::PlexMetadata { .. }
            | Command::PlexPoster { .. }
    )
}

/// A refusal: the kind the bot explains, the detail for its log.
type Refusal = (ErrorKind, String);

pub struct PlexRequests {
    loaded: Loaded,
    server: Mutex<Option<Server>>,
}

impl PlexRequests {
    pub fn new(loaded: Loaded) -> Arc<Self> {
        Arc::new(Self {
            loaded,
            server: Mutex::new(None),
        })
    }

    /// Answers `command` in a task of its own.
    pub fn submit(self: &Arc<Self>, command: Command, responder: Responder) {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            match this.answer(command).await {
                Ok(reply) => responder.respond(reply),
                Err((kind, detail)) => {
                    tracing::info!(?kind, %detail, "a Plex request failed");
                    responder.fail(kind, detail)
                }
            };
        });
    }

    async fn answer(&self, command: Command) -> Result<Reply, Refusal> {
        let server = self.server().await.map_err(|p| refusal(&p))?;
        let answer = answer(&server, command).await;
        if let Err((kind, _)) = &answer
            && matches!(kind, ErrorKind::PlexNotLinked | ErrorKind::PlexUnavailable)
        {
            *self.server.lock().await = None;
        }
        answer
    }

    async fn server(&self) -> Result<Server, Problem> {
        let mut cached = self.server.lock().await;
        if let Some(server) = cached.as_ref() {
            return Ok(server.clone());
        }
        let token = load_token(&self.loaded)?;
        let http = http(&self.loaded)?;
        let (server, _) = connect(&self.loaded, &http, token).await?;
        *cached = Some(server.clone());
        Ok(server)
    }
}

pub(crate) fn refusal(problem: &Problem) -> Refusal {
    let kind = match problem {
        Problem::NoToken(_) | Problem::Revoked(_) | Problem::NotLinked(_) => {
            ErrorKind::PlexNotLinked
        }
        Problem::Plex(lounge_plex::Error::NotFound { .. }) => ErrorKind::SourceNotFound,
        Problem::NotPlayable { .. } => ErrorKind::NotPlayable,
        Problem::Plex(_)
        | Problem::TokenFileTooOpen { .. }
        | Problem::Config(_)
        | Problem::Keyring { .. }
        | Problem::Io { .. } => ErrorKind::PlexUnavailable,
    };
    (kind, problem.to_string())
}

fn plex_error(e: lounge_plex::Error) -> Refusal {
    refusal(&Problem::from(e))
}

fn not_found(rating_key: &str) -> Refusal {
    (
        ErrorKind::SourceNotFound,
        format!(
            "no Plex item with rating key `{}`",
            limits::truncate(rating_key, 40)
        ),
    )
}

async fn answer(server: &Server, command: Command) -> Result<Reply, Refusal> {
    match command {
        Command::PlexSearch { query } => {
            let query = limits::truncate(query.trim(), limits::MAX_QUERY);
            if query.is_empty() {
                return Ok(Reply::PlexItems(PlexItems {
                    items: Vec::new(),
                    page: 0,
                    total: 0,
                }));
            }
            let found = server.search(&query, PAGE_SIZE).await.map_err(plex_error)?;
            let items: Vec<PlexItem> = found.into_iter().map(item).collect();
            let mut page = PlexItems {
                total: items.len().min(PAGE_SIZE as usize) as u64,
                items,
                page: 0,
            };
            page.fit();
            Ok(Reply::PlexItems(page))
        }
        Command::PlexLibraries => {
            let mut libraries: Vec<PlexLibrary> = server
                .libraries()
                .await
                .map_err(plex_error)?
                .into_iter()
                .map(|d| PlexLibrary {
                    key: d.key,
                    title: d.title,
                    kind: d.kind.map(|k| k.as_str().to_owned()).unwrap_or_default(),
                })
                .collect();
            limits::fit_libraries(&mut libraries);
            Ok(Reply::PlexLibraries { libraries })
        }
        Command::PlexBrowse { list, page } => {
            let at = Page {
                start: page.saturating_mul(PAGE_SIZE),
                size: PAGE_SIZE,
            };
            let found = match &list {
                PlexList::Library { key, sort } => {
                    check_key(key)?;
                    server.library_items(key, sort_of(*sort), at).await
                }
                PlexList::Children { rating_key } => {
                    check_key(rating_key)?;
                    server.children(rating_key, at).await
                }
                PlexList::OnDeck => server.on_deck(at).await,
                PlexList::RecentlyAdded => server.recently_added(at).await,
                _ => {
                    return Err((
                        ErrorKind::InvalidRequest,
                        "a Plex list this streamer does not know".to_owned(),
                    ));
                }
            }
            .map_err(plex_error)?;
            let shown = found.items.len() as u64;
            let mut answer = PlexItems {
                total: found.total.unwrap_or(found.offset + shown),
                items: found.items.into_iter().map(item).collect(),
                page,
            };
            answer.fit();
            Ok(Reply::PlexItems(answer))
        }
        Command::PlexMetadata { rating_key } => {
            check_key(&rating_key)?;
            let m = server.metadata(&rating_key).await.map_err(plex_error)?;
            let mut details = details(m);
            details.fit();
            Ok(Reply::PlexMetadata(Box::new(details)))
        }
        Command::PlexPoster { rating_key } => {
            check_key(&rating_key)?;
            let m = server.metadata(&rating_key).await.map_err(plex_error)?;
            let Some(image) = poster_of(&m) else {
                return Err((
                    ErrorKind::SourceNotFound,
                    format!("Plex item {rating_key} has no poster"),
                ));
            };
            let (bytes, content_type) = server
                .photo(image, POSTER_WIDTH, POSTER_HEIGHT)
                .await
                .map_err(plex_error)?;
            if !content_type.starts_with("image/") {
                return Err((
                    ErrorKind::PlexUnavailable,
                    format!("Plex's photo transcoder answered {content_type}, not an image"),
                ));
            }
            if bytes.len() > MAX_POSTER_BYTES {
                return Err((
                    ErrorKind::UnsupportedMedia,
                    format!(
                        "the poster of {rating_key} is {} bytes at {POSTER_WIDTH}x{POSTER_HEIGHT}, \
                         over the {MAX_POSTER_BYTES}-byte limit",
                        bytes.len()
                    ),
                ));
            }
            Ok(Reply::PlexPoster(PlexPoster {
                content_type: limits::truncate(&content_type, limits::MAX_LABEL),
                data_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
            }))
        }
        other => Err((
            ErrorKind::InvalidRequest,
            format!("not a Plex request: {other:?}"),
        )),
    }
}

/// A key the bot sends must be one the streamer could have sent it.
fn check_key(key: &str) -> Result<(), Refusal> {
    if limits::key_fits(key) {
        Ok(())
    } else {
        Err(not_found(key))
    }
}

fn sort_of(sort: PlexSort) -> Sort {
    match sort {
        PlexSort::Title => Sort::Title,
        PlexSort::Year => Sort::Year,
        PlexSort::Rating => Sort::Rating,
        _ => Sort::RecentlyAdded,
    }
}

/// The picture to show: the item's own, else its show's (episodes often have a still only).
fn poster_of(m: &Metadata) -> Option<&str> {
    [&m.thumb, &m.parent_thumb, &m.grandparent_thumb]
        .into_iter()
        .find_map(|t| t.as_deref().filter(|t| !t.is_empty()))
}

fn item(m: Metadata) -> PlexItem {
    let has_children = matches!(
        m.kind,
        ItemType::Show | ItemType::Season | ItemType::Artist | ItemType::Album
    );
    PlexItem {
        rating_key: m.rating_key,
        kind: m.kind.as_str().to_owned(),
        title: m.title,
        year: m.year,
        parent_title: m.parent_title,
        grandparent_title: m.grandparent_title,
        index: m.index,
        parent_index: m.parent_index,
        has_children,
    }
}

/// A part's tracks of one kind, named as Plex names them.
fn tracks(part: &lounge_plex::model::Part, kind: u32) -> Vec<String> {
    part.stream
        .iter()
        .filter(|s| s.stream_type == kind)
        .filter_map(|s| {
            s.display_title
                .clone()
                .or_else(|| s.language.clone())
                .or_else(|| s.codec.clone())
        })
        .collect()
}

fn details(m: Metadata) -> PlexDetails {
    let has_poster = poster_of(&m).is_some();
    let parts = m
        .media
        .iter()
        .flat_map(|media| {
            media.part.iter().map(move |p| PlexPart {
                // The file on this machine's disk, or a download from the server.
                available: p.key.is_some() || local_file(p).is_some(),
                container: p.container.clone().or_else(|| media.container.clone()),
                video_resolution: media.video_resolution.clone(),
                duration_ms: p.duration.or(media.duration),
                audio: tracks(p, lounge_plex::model::stream_type::AUDIO),
                subtitles: tracks(p, lounge_plex::model::stream_type::SUBTITLE),
            })
        })
        .collect();
    PlexDetails {
        rating_key: m.rating_key,
        kind: m.kind.as_str().to_owned(),
        title: m.title,
        year: m.year,
        summary: m.summary.filter(|s| !s.trim().is_empty()),
        duration_ms: m.duration,
        view_offset_ms: m.view_offset,
        parent_title: m.parent_title,
        grandparent_title: m.grandparent_title,
        parent_rating_key: m.parent_rating_key,
        index: m.index,
        rating: m
            .rating
            .filter(|r| r.is_finite())
            .map(|r| format!("{r:.1}")),
        content_rating: m.content_rating,
        parts,
        has_poster,
    }
}
