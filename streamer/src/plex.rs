//! The streamer's Plex link: where the token and the client identifier live, how the server
//! is reached, and what `plex login`, `plex check`, `plex search` and `doctor` do with it.
//!
//! The token is kept like the Discord token: in a file only its owner can read or in the OS
//! keyring, never logged, never in an error (it is a [`Secret`] end to end, and
//! `lounge-plex` sends it only as a header).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lounge_plex::model::{Directory, ItemType, Metadata, User};
use lounge_plex::{ClientInfo, Http, LINK_PAGE, PlexTv, Secret, Server, Timeouts};
use serde::Serialize;

use crate::config::Loaded;
use crate::golive::token::KeyringEntry;

/// The keyring entry `plex_token_keyring = true` uses.
pub const KEYRING: KeyringEntry = KeyringEntry {
    service: "lounge-streamer",
    name: "plex-token",
};
pub const DEFAULT_PLEX_TV: &str = "https://plex.tv";
/// How long `plex login` waits for the owner to enter the code.
pub const LOGIN_TIMEOUT: Duration = Duration::from_mins(10);
/// How often `plex login` asks plex.tv whether the code was entered.
pub const LOGIN_POLL: Duration = Duration::from_secs(2);
const PRODUCT: &str = "Lounge";
const CLIENT_ID_FILE: &str = "plex-client-id";
const TOKEN_FILE: &str = "plex-token";
const LOGIN_HINT: &str = "run `lounge-streamer plex login`";

/// What is wrong with the Plex link, in words the owner can act on.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("no Plex token in {0}: link the Plex account with `lounge-streamer plex login`")]
    NoToken(TokenStore),
    #[error("{0}: {LOGIN_HINT}")]
    Revoked(lounge_plex::Error),
    #[error("{0}")]
    Plex(lounge_plex::Error),
    #[error(
        "the Plex token file {} can be read by other users (mode {mode:o}); it gives access to \
         the Plex account: run `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    TokenFileTooOpen { path: PathBuf, mode: u32 },
    #[error("{0}")]
    Config(String),
    #[error("could not use {entry}: {reason}; set `plex_token_file` instead")]
    Keyring { entry: KeyringEntry, reason: String },
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// The item exists but is not something Lounge plays (a show, a photo, music).
    #[error("Plex item {rating_key}: {reason}")]
    NotPlayable { rating_key: String, reason: String },
    #[error(
        "the code was not linked within {}: {LOGIN_HINT} again and enter the new code at \
         {LINK_PAGE}",
        spoken(*.0)
    )]
    NotLinked(Duration),
}

impl From<lounge_plex::Error> for Problem {
    fn from(e: lounge_plex::Error) -> Self {
        match e {
            lounge_plex::Error::TokenRevoked { .. } | lounge_plex::Error::NoToken => {
                Self::Revoked(e)
            }
            e => Self::Plex(e),
        }
    }
}

impl Problem {
    /// A stable name for `--json`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NoToken(_) => "no_token",
            Self::Revoked(e) | Self::Plex(e) => e.kind(),
            Self::TokenFileTooOpen { .. } => "token_file_too_open",
            Self::Config(_) => "config",
            Self::Keyring { .. } => "keyring",
            Self::Io { .. } => "io",
            Self::NotLinked(_) => "not_linked",
            Self::NotPlayable { .. } => "not_playable",
        }
    }
}

/// "10 minutes", "1 minute", "30 seconds".
fn spoken(d: Duration) -> String {
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if d.as_secs() >= 60 {
        plural(d.as_secs().div_ceil(60), "minute")
    } else {
        plural(d.as_secs_f64().ceil() as u64, "second")
    }
}

/// Where the Plex token is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenStore {
    File(PathBuf),
    Keyring(KeyringEntry),
}

impl fmt::Display for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p) => write!(f, "the file {}", p.display()),
            Self::Keyring(e) => e.fmt(f),
        }
    }
}

pub fn token_store(loaded: &Loaded) -> Result<TokenStore, Problem> {
    match (
        &loaded.config.plex_token_file,
        loaded.config.plex_token_keyring,
    ) {
        (Some(_), true) => Err(Problem::Config(format!(
            "both `plex_token_file` and `plex_token_keyring` are set in {}: keep one",
            loaded.suggested_file.display()
        ))),
        (Some(path), false) => Ok(TokenStore::File(path.clone())),
        (None, true) => Ok(TokenStore::Keyring(KEYRING)),
        (None, false) => Ok(TokenStore::File(loaded.state_dir().join(TOKEN_FILE))),
    }
}

fn too_open(path: &Path) -> Result<(), Problem> {
    let mode = crate::golive::token::too_open_mode(path).map_err(|source| Problem::Io {
        what: "could not read the Plex token file",
        path: path.to_owned(),
        source,
    })?;
    match mode {
        Some(mode) => Err(Problem::TokenFileTooOpen {
            path: path.to_owned(),
            mode,
        }),
        None => Ok(()),
    }
}

fn keyring_problem(entry: KeyringEntry, e: &keyring::Error) -> Problem {
    Problem::Keyring {
        entry,
        reason: e.to_string(),
    }
}

/// Loads the token from where the configuration says; a missing one is
/// [`Problem::NoToken`].
pub fn load_token(loaded: &Loaded) -> Result<Secret, Problem> {
    load_from(token_store(loaded)?)
}

/// Loads the token from `store`; a missing one is [`Problem::NoToken`].
pub fn load_from(store: TokenStore) -> Result<Secret, Problem> {
    let raw = match &store {
        TokenStore::File(path) => {
            if !path.exists() {
                return Err(Problem::NoToken(store));
            }
            too_open(path)?;
            std::fs::read_to_string(path).map_err(|source| Problem::Io {
                what: "could not read the Plex token file",
                path: path.clone(),
                source,
            })?
        }
        TokenStore::Keyring(entry) => {
            let handle = keyring::Entry::new(entry.service, entry.name)
                .map_err(|e| keyring_problem(*entry, &e))?;
            match handle.get_password() {
                Ok(t) => t,
                Err(keyring::Error::NoEntry) => return Err(Problem::NoToken(store)),
                Err(e) => return Err(keyring_problem(*entry, &e)),
            }
        }
    };
    let token = Secret::new(raw.trim());
    if token.is_empty() {
        return Err(Problem::NoToken(store));
    }
    Ok(token)
}

/// Writes `contents` to `path` readable by its owner only, replacing it atomically, so a
/// crash never leaves half a token or a moment where the file is open to others.
fn write_private(path: &Path, contents: &str) -> Result<(), Problem> {
    use std::io::Write as _;
    let io = |what, source| Problem::Io {
        what,
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(|e| io("could not write", e))?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| io("could not write", e))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(|e| io("could not write", e))
}

fn create_private_dir(dir: &Path) -> Result<(), Problem> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| Problem::Io {
        what: "could not create the directory",
        path: dir.to_owned(),
        source,
    })
}

/// Stores the token in `store`, replacing what was there.
pub fn store_token(store: &TokenStore, token: &Secret) -> Result<(), Problem> {
    match store {
        TokenStore::File(path) => write_private(path, &format!("{}\n", token.expose())),
        TokenStore::Keyring(entry) => match keyring::Entry::new(entry.service, entry.name)
            .and_then(|h| h.set_password(token.expose()))
        {
            Ok(()) => Ok(()),
            // keyutils reports a refused link as a missing entry (see golive::token).
            Err(keyring::Error::NoEntry) => Err(Problem::Keyring {
                entry: *entry,
                reason: "the kernel keyring refused to keep the entry (this process has no \
                         session keyring of its own, as in containers and services started \
                         outside a login session)"
                    .to_owned(),
            }),
            Err(e) => Err(keyring_problem(*entry, &e)),
        },
    }
}

/// The install's Plex client identifier: generated the first time, then always the same, so
/// plex.tv lists this streamer as one device.
pub fn client_identifier(loaded: &Loaded) -> Result<String, Problem> {
    let path = loaded.state_dir().join(CLIENT_ID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => return Ok(id.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(Problem::Io {
                what: "could not read the Plex client identifier",
                path,
                source,
            });
        }
    }
    let id = format!("lounge-{:032x}", rand::random::<u128>());
    write_private(&path, &format!("{id}\n"))?;
    Ok(id)
}

pub fn http(loaded: &Loaded) -> Result<Http, Problem> {
    let mut info = ClientInfo::new(
        client_identifier(loaded)?,
        PRODUCT,
        env!("CARGO_PKG_VERSION"),
    );
    "Lounge streamer".clone_into(&mut info.device_name);
    Ok(Http::new(info, Timeouts::default())?)
}

fn plex_tv(loaded: &Loaded, http: &Http) -> Result<PlexTv, Problem> {
    let base = loaded
        .config
        .plex_tv_url
        .as_deref()
        .unwrap_or(DEFAULT_PLEX_TV);
    Ok(PlexTv::new(http, base)?)
}

/// How the server was reached, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Found {
    /// `plex_url` in the config.
    Configured,
    /// Through plex.tv's list of the account's servers.
    Discovered,
}

/// The server at `plex_url`, or the account's server found through plex.tv.
pub async fn connect(
    loaded: &Loaded,
    http: &Http,
    token: Secret,
) -> Result<(Server, Found), Problem> {
    match loaded.config.plex_url.as_deref().map(str::trim) {
        Some(url) if !url.is_empty() => {
            let server = Server::new(http, url, token)?;
            // `/identity` first: "not reachable" and TLS are told apart from a bad token.
            server.identity().await?;
            Ok((server, Found::Configured))
        }
        _ => {
            let server = plex_tv(loaded, http)?.discover(&token).await?;
            Ok((server, Found::Discovered))
        }
    }
}

/// One library as `plex check` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Library {
    pub key: String,
    pub title: String,
    #[serde(rename = "type")]
    pub kind: String,
}

impl From<Directory> for Library {
    fn from(d: Directory) -> Self {
        Self {
            key: d.key,
            title: d.title,
            kind: d.kind.map(|k| k.to_string()).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ServerReport {
    pub name: String,
    pub version: String,
    pub machine_identifier: String,
    pub url: String,
    pub found: Found,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub server: ServerReport,
    pub libraries: Vec<Library>,
}

/// Everything `plex check` and `doctor` say about the link.
pub async fn check(loaded: &Loaded) -> Result<CheckReport, Problem> {
    let token = load_token(loaded)?;
    let http = http(loaded)?;
    let (server, found) = connect(loaded, &http, token).await?;
    let info = server.info().await?;
    let libraries = server.libraries().await?;
    Ok(CheckReport {
        server: ServerReport {
            name: info.name,
            version: info.version,
            machine_identifier: info.machine_identifier,
            url: server.base_shown(),
            found,
        },
        libraries: libraries.into_iter().map(Library::from).collect(),
    })
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = match self.server.found {
            Found::Configured => "plex_url",
            Found::Discovered => "found through plex.tv",
        };
        writeln!(
            f,
            "Plex server: {} (version {}) at {} ({how})",
            self.server.name, self.server.version, self.server.url
        )?;
        if self.libraries.is_empty() {
            writeln!(f, "libraries: none")?;
        }
        for l in &self.libraries {
            writeln!(f, "  library {:<4} {:<24} {}", l.key, l.title, l.kind)?;
        }
        Ok(())
    }
}

/// One search result as `plex search` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResult {
    pub rating_key: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// The show of an episode or season.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show: Option<String>,
    /// The season number of an episode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub season: Option<u32>,
    /// The episode number in its season, the season number in its show.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
}

impl From<Metadata> for SearchResult {
    fn from(m: Metadata) -> Self {
        let (show, season, index) = match m.kind {
            ItemType::Episode => (m.grandparent_title, m.parent_index, m.index),
            ItemType::Season => (m.parent_title, None, m.index),
            _ => (None, None, None),
        };
        Self {
            rating_key: m.rating_key,
            kind: m.kind.to_string(),
            title: m.title,
            year: m.year,
            show,
            season,
            index,
        }
    }
}

impl fmt::Display for SearchResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<8} {:<10} ", self.kind, self.rating_key)?;
        match (&self.show, self.season, self.index) {
            (Some(show), Some(s), Some(e)) => write!(f, "{show} S{s:02}E{e:02} {}", self.title)?,
            (Some(show), None, _) => write!(f, "{show}: {}", self.title)?,
            _ => f.write_str(&self.title)?,
        }
        if let Some(year) = self.year {
            write!(f, " ({year})")?;
        }
        Ok(())
    }
}

/// Results per type `plex search` asks for.
const SEARCH_LIMIT: u32 = 10;

pub async fn search(loaded: &Loaded, query: &str) -> Result<Vec<SearchResult>, Problem> {
    let token = load_token(loaded)?;
    let http = http(loaded)?;
    let (server, _) = connect(loaded, &http, token).await?;
    Ok(server
        .search(query, SEARCH_LIMIT)
        .await?
        .into_iter()
        .map(SearchResult::from)
        .collect())
}

/// How `plex login` links the account.
#[derive(Debug, Clone)]
pub enum Login {
    /// A token the owner pasted (from stdin).
    Token(Secret),
    /// plex.tv's PIN flow.
    Pin { poll: Duration, give_up: Duration },
}

/// Links the account and stores the token; `say` prints progress for the owner.
pub async fn login(
    loaded: &Loaded,
    how: Login,
    mut say: impl FnMut(&str),
) -> Result<(User, TokenStore), Problem> {
    // A store that cannot work is found before the owner enters a code.
    let store = token_store(loaded)?;
    let http = http(loaded)?;
    let tv = plex_tv(loaded, &http)?;
    let token = match how {
        Login::Token(token) => {
            if token.is_empty() {
                return Err(Problem::Config(
                    "no token on stdin: paste the Plex token (one line), or run `lounge-streamer \
                     plex login` without --token-stdin to link with a code"
                        .to_owned(),
                ));
            }
            token
        }
        Login::Pin { poll, give_up } => {
            let pin = tv.create_pin().await?;
            say(&format!(
                "To link Lounge to your Plex account, open {LINK_PAGE} and enter the code: {}\n\
                 (waiting up to {})",
                pin.code,
                spoken(give_up)
            ));
            let deadline = Instant::now() + give_up;
            loop {
                if Instant::now() >= deadline {
                    return Err(Problem::NotLinked(give_up));
                }
                tokio::time::sleep(poll.min(deadline.saturating_duration_since(Instant::now())))
                    .await;
                match tv.check_pin(pin.id).await {
                    Ok(p) => {
                        if let Some(token) = p.auth_token.filter(|t| !t.is_empty()) {
                            break token;
                        }
                    }
                    // The PIN expired (plex.tv forgets it after 15 minutes).
                    Err(lounge_plex::Error::NotFound { .. }) => {
                        return Err(Problem::NotLinked(give_up));
                    }
                    // A dropped connection while the owner types is not the end of the login.
                    Err(e) => tracing::warn!(error = %e, "polling the Plex PIN failed; retrying"),
                }
            }
        }
    };
    // The token must work before it replaces whatever is stored.
    let user = tv.user(&token).await?;
    store_token(&store, &token)?;
    Ok((user, store))
}

/// What `plex:RATING_KEY` plays.
#[derive(Debug)]
pub struct Resolved {
    pub item: Metadata,
    pub input: crate::pipeline::Input,
    /// The server it came from, for progress reports.
    pub server: Server,
}

impl Resolved {
    /// Where it is read from, as it may be shown (never the token).
    pub fn describe(&self) -> String {
        match &self.input {
            crate::pipeline::Input::File(path) => format!("the file {}", path.display()),
            crate::pipeline::Input::Http { url, .. } => format!("{url} (download from Plex)"),
        }
    }
}

/// The part's file, when this machine can read it at the path Plex has for it (the streamer
/// beside the server): played from disk, with no HTTP at all. Plex's path is trusted as the
/// server owner's, unlike a member's `media_roots` path.
pub fn local_file(part: &lounge_plex::model::Part) -> Option<PathBuf> {
    let file = PathBuf::from(part.file.as_deref()?);
    std::fs::File::open(&file)
        .is_ok_and(|f| f.metadata().is_ok_and(|m| m.is_file()))
        .then_some(file)
}

/// A Plex item's media, for the pipeline: the best version's part, read straight from disk
/// when the streamer can open the path Plex has for it (the same machine: no HTTP at all),
/// else downloaded from the server with the token in a header.
pub async fn resolve(loaded: &Loaded, rating_key: &str) -> Result<Resolved, Problem> {
    let token = load_token(loaded)?;
    let http = http(loaded)?;
    let (server, _) = connect(loaded, &http, token).await?;
    let item = server.metadata(rating_key).await?;
    let not_playable = |reason: String| Problem::NotPlayable {
        rating_key: rating_key.to_owned(),
        reason,
    };
    lounge_plex::playable(&item).map_err(not_playable)?;
    let (_, part) = lounge_plex::best_version(&item)
        .ok_or_else(|| not_playable(format!("{} has no media file in Plex", item.title)))?;
    if let Some(file) = local_file(part) {
        return Ok(Resolved {
            item,
            input: crate::pipeline::Input::File(file),
            server,
        });
    }
    let key = part
        .key
        .as_deref()
        .ok_or_else(|| not_playable(format!("{} has no downloadable part", item.title)))?;
    let download = server.part_url(key)?;
    Ok(Resolved {
        input: crate::pipeline::Input::Http {
            url: download.url.to_string(),
            headers: download.header_block(),
        },
        item,
        server,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_results_name_show_season_and_episode() {
        let m: Metadata = serde_json::from_str(
            r#"{"ratingKey":"91","type":"episode","title":"Earth Skills","grandparentTitle":"The 100","parentIndex":1,"index":2,"year":2014}"#,
        )
        .unwrap();
        let r = SearchResult::from(m);
        assert_eq!(
            r.to_string(),
            "episode  91         The 100 S01E02 Earth Skills (2014)"
        );
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["show"], "The 100");
        assert_eq!(
            (v["season"].clone(), v["index"].clone()),
            (1.into(), 2.into())
        );
    }

    #[test]
    fn waits_are_said_in_words() {
        assert_eq!(spoken(LOGIN_TIMEOUT), "10 minutes");
        assert_eq!(spoken(Duration::from_mins(1)), "1 minute");
        assert_eq!(spoken(Duration::from_millis(300)), "1 second");
        assert_eq!(spoken(Duration::from_secs(30)), "30 seconds");
    }

    #[test]
    fn a_token_file_is_written_owner_only_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("plex-token");
        store_token(&TokenStore::File(path.clone()), &Secret::new("abc")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "abc\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let e = too_open(&path).unwrap_err();
            assert!(e.to_string().contains("chmod 600"), "{e}");
        }
    }
}
