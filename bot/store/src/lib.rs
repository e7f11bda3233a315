//! The one owner of the database pool. Each domain adds its queries in its own file
//! (`users.rs`, `guilds.rs`, ...) as `impl Store` blocks.
//!
//! Both backends go through sqlx's `Any` driver so every query is written once; the SQL we use
//! (`$n` placeholders, `ON CONFLICT`, conditional `UPDATE`) means the same on SQLite and
//! PostgreSQL. The conformance suite in `tests/` runs every query file against both.
//!
#![doc = include_str!("../README.md")]

mod boards;
mod cooldowns;
mod economy;
mod guilds;
mod instance;
mod moderation;
mod modules;
mod music;
mod osrs;
pub mod permissions;
mod plex_queue;
mod pokemon;
mod reputation;
mod sounds;
mod tags;
mod users;

use std::borrow::Cow;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Row};

pub use boards::Ranking;
pub use economy::{ClaimError, ClaimRules, Claimed};
pub use instance::{InstanceLock, LockAttempt, RenewError, bot_instance_key};
pub use moderation::{Case, LOG_LEASE_MS, NewCase, OwedLog, UnwarnError};
pub use music::{
    Ended, LoopMode, MUSIC_HISTORY, MUSIC_MAX_QUEUE, MusicNow, MusicQueueError, MusicSettings,
    NewTrack, Track, TrackSource,
};
pub use osrs::{
    ANNOUNCE_LEASE_MS, AccountMode, Board, NewCharacter, NewTrip, OsrsCharacter, OsrsStoreError,
    Ranked, SlayerResult, SlayerStatus, StoredTask, Trip, TripFailure, TripKind,
};
pub use plex_queue::{MAX_QUEUE, NowPlaying, QueueEntry, QueueError};
pub use pokemon::{
    BattleRecord, Confirmation, Evolved, Finished, HeldFrom, NewPokemon, NewSpawn, OpenTrade,
    Payout, Pokemon, PokemonError, Progress, Spawn, TEAM_SIZE, TRADE_IDLE_MS, TRADE_MAX_POKEMON,
    TradeChange, TradeEvolution, TradeEvolver, TradeSide, no_trade_evolution, trade_evolution,
};
pub use reputation::{REP_PERIOD_MS, RepError};
pub use sounds::{MAX_SOUNDS, Sound, SoundError};
pub use tags::{Alias, NameError, Tag};
pub use users::{Transfer, TransferError};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");

/// Which database a [`Store`] talks to, chosen by the URL scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl {
                scheme: url.split(':').next().unwrap_or_default().to_owned(),
            })
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }

    fn migrator(self) -> &'static Migrator {
        match self {
            Self::Sqlite => &SQLITE_MIGRATIONS,
            Self::Postgres => &POSTGRES_MIGRATIONS,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "database.url uses the unsupported scheme `{scheme}:`; use `sqlite://PATH` or `postgres://USER@HOST/DB`"
    )]
    UnsupportedUrl { scheme: String },
    #[error("could not open the {backend} database: {source}")]
    Connect {
        backend: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("could not create the data directory {path}: {source}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the database schema is at version {database}, newer than this lounge binary knows (up to {known}); \
         upgrade lounge, or point database.url at a database made by this version"
    )]
    SchemaTooNew { database: i64, known: i64 },
    #[error("applying database migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Query(#[from] sqlx::Error),
}

impl StoreError {
    /// Whether waiting may cure this: the server is down, restarting or full, as opposed to a
    /// wrong URL, a refused login or a schema this binary cannot use. Start-up retries these.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Connect { source, .. }
            | Self::Query(source)
            | Self::Migrate(sqlx::migrate::MigrateError::Execute(source)) => transient_sqlx(source),
            _ => false,
        }
    }
}

fn transient_sqlx(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => true,
        // PostgreSQL's connection exceptions (08), operator intervention such as "the database
        // system is starting up" (57P0x), and too many connections (53300).
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P0") || c == "53300"),
        _ => false,
    }
}

/// A domain error that is either a refusal the user can act on (its `Display` says what to
/// do) or a failure of the store underneath, which must stay internal. The bot's kit turns
/// the first into a user-facing message and the second into a logged error with a reference.
pub trait Refusal: std::fmt::Display + Sized {
    /// The store failure inside, or the refusal itself.
    fn into_failure(self) -> Result<StoreError, Self>;
}

macro_rules! refusal_with_store_variant {
    ($($t:ty),*) => {$(
        impl Refusal for $t {
            fn into_failure(self) -> Result<StoreError, Self> {
                match self {
                    Self::Store(e) => Ok(e),
                    other => Err(other),
                }
            }
        }
    )*};
}
/// Refusal enums with a `Store(StoreError)` variant: a query error converts into it, and a
/// lock race inside it is retried like a bare one.
macro_rules! store_variant_from_queries {
    ($($t:ty),*) => {$(
        impl From<sqlx::Error> for $t {
            fn from(e: sqlx::Error) -> Self {
                Self::Store(StoreError::Query(e))
            }
        }

        impl LockRace for $t {
            fn query_error(&self) -> Option<&sqlx::Error> {
                match self {
                    Self::Store(StoreError::Query(e)) => Some(e),
                    _ => None,
                }
            }
        }
    )*};
}
store_variant_from_queries!(
    PokemonError,
    TransferError,
    OsrsStoreError,
    ClaimError,
    RepError,
    QueueError,
    MusicQueueError,
    SoundError
);

refusal_with_store_variant!(
    PokemonError,
    TransferError,
    NameError,
    OsrsStoreError,
    ClaimError,
    UnwarnError,
    RepError,
    QueueError,
    MusicQueueError,
    SoundError
);

/// The database: a pool plus the backend it speaks. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// How a pool may touch the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    ReadWrite,
    ReadOnly,
}

/// One of the migrations this binary carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownMigration {
    pub version: i64,
    pub description: String,
}

/// The schema compared with this binary's migrations (see [`Store::migration_status`]).
#[derive(Clone, Debug)]
pub struct MigrationStatus {
    /// Versions the database records as applied, oldest first (may include versions this
    /// binary does not know, from a newer one).
    pub applied: Vec<i64>,
    /// This binary's migrations the database does not have yet, oldest first.
    pub pending: Vec<KnownMigration>,
    /// A migration that started and failed (sqlx calls the database dirty): nothing more
    /// is applied until someone repairs it.
    pub failed: Option<i64>,
    /// The newest migration this binary carries.
    pub newest_known: i64,
}

impl MigrationStatus {
    /// The newest version applied, if any.
    pub fn version(&self) -> Option<i64> {
        self.applied.iter().copied().max()
    }

    /// The database's version when it is newer than anything this binary knows.
    pub fn too_new(&self) -> Option<i64> {
        self.version().filter(|v| *v > self.newest_known)
    }

    /// Every known migration applied, none failed, none unknown.
    pub fn is_current(&self) -> bool {
        self.pending.is_empty() && self.failed.is_none() && self.too_new().is_none()
    }
}

/// The default `DATABASE_URL` for a data directory: a SQLite file created on first start.
pub fn default_sqlite_url(data_dir: &Path) -> String {
    // No `mode=rwc` here: `Store::connect` creates every SQLite file that doesn't say
    // otherwise, so the default and a hand-written path behave alike.
    format!("sqlite://{}", data_dir.join("lounge.db").display())
}

/// How long opening the pool may wait for its first connection.
const FIRST_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl Store {
    /// Opens the pool (creating a SQLite file and its directory if needed), refuses a schema
    /// newer than this binary, and applies pending migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens the pool without migrating; [`Store::open`] is what the bot uses.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        if backend == Backend::Sqlite {
            create_sqlite_parent_dir(url)?;
        }
        let url = if backend == Backend::Sqlite {
            creating_sqlite_file(url)
        } else {
            Cow::Borrowed(url)
        };
        Self::connect_with(&url, backend, Access::ReadWrite).await
    }

    /// Opens an existing database for looking only: nothing is created (no SQLite file or
    /// directory), migrated or written. SQLite opens the file read-only; PostgreSQL sessions
    /// default to read-only transactions. `Ok(None)` means the SQLite file does not exist
    /// yet, which is normal before the first start.
    pub async fn inspect(url: &str) -> Result<Option<Self>, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let url = match backend {
            Backend::Sqlite => {
                if sqlite_file(url).is_some_and(|path| !path.exists()) {
                    return Ok(None);
                }
                read_only_sqlite(url)
            }
            Backend::Postgres => Cow::Borrowed(url),
        };
        Self::connect_with(&url, backend, Access::ReadOnly)
            .await
            .map(Some)
    }

    async fn connect_with(url: &str, backend: Backend, access: Access) -> Result<Self, StoreError> {
        let connect_err = |source| StoreError::Connect {
            backend: backend.name(),
            source,
        };
        let options = AnyConnectOptions::from_str(url).map_err(connect_err)?;
        let pool = AnyPoolOptions::new()
            // SQLite serialises writers anyway; a few connections keep readers concurrent.
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    match (backend, access) {
                        // WAL lets readers run beside the writer; busy_timeout makes a writer
                        // wait for the lock instead of failing at once.
                        (Backend::Sqlite, Access::ReadWrite) => {
                            sqlx::raw_sql(
                                "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                                 PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                            )
                            .execute(conn)
                            .await?;
                        }
                        // Setting the journal mode is a write; a reader only waits for locks.
                        (Backend::Sqlite, Access::ReadOnly) => {
                            sqlx::raw_sql("PRAGMA busy_timeout = 10000;")
                                .execute(conn)
                                .await?;
                        }
                        // A guard, not a sandbox: a stray write fails instead of changing a
                        // database someone only wanted to look at.
                        (Backend::Postgres, Access::ReadOnly) => {
                            sqlx::raw_sql("SET default_transaction_read_only = on")
                                .execute(conn)
                                .await?;
                        }
                        (Backend::Postgres, Access::ReadWrite) => {}
                    }
                    Ok(())
                })
            })
            .connect_with(options);
        // One attempt is bounded well below the pool's acquire timeout: a server that is down
        // at start-up is the caller's to wait out (with its retries and reporting), not a
        // silent 30 s inside sqlx.
        let pool = tokio::time::timeout(FIRST_CONNECT_TIMEOUT, pool)
            .await
            .unwrap_or(Err(sqlx::Error::PoolTimedOut))
            .map_err(connect_err)?;
        Ok(Self { pool, backend })
    }

    /// Applies pending migrations and returns the ones it applied (none when the schema was
    /// current). A schema newer than this binary is refused before anything runs.
    pub async fn migrate(&self) -> Result<Vec<KnownMigration>, StoreError> {
        let status = self.migration_status().await?;
        if let Some(database) = status.too_new() {
            return Err(StoreError::SchemaTooNew {
                database,
                known: status.newest_known,
            });
        }
        self.backend.migrator().run(&self.pool).await?;
        Ok(status.pending)
    }

    /// Which of this binary's migrations the database has and which it still needs, read
    /// from sqlx's `_sqlx_migrations` table without changing anything.
    pub async fn migration_status(&self) -> Result<MigrationStatus, StoreError> {
        let known: Vec<KnownMigration> = self
            .backend
            .migrator()
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .map(|m| KnownMigration {
                version: m.version,
                description: m.description.to_string(),
            })
            .collect();
        let newest_known = known.iter().map(|m| m.version).max().unwrap_or(0);
        let (applied, failed) = if self.has_migrations_table().await? {
            let applied: Vec<i64> = sqlx::query(
                "SELECT version FROM _sqlx_migrations WHERE success = TRUE ORDER BY version",
            )
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?;
            let failed: Option<i64> =
                sqlx::query("SELECT MIN(version) FROM _sqlx_migrations WHERE success = FALSE")
                    .fetch_one(&self.pool)
                    .await?
                    .try_get(0)?;
            (applied, failed)
        } else {
            (Vec::new(), None)
        };
        let pending = known
            .into_iter()
            .filter(|m| !applied.contains(&m.version))
            .collect();
        Ok(MigrationStatus {
            applied,
            pending,
            failed,
            newest_known,
        })
    }

    /// The newest migration this build carries for its backend: what
    /// [`Store::applied_schema_version`] says once migrations are current.
    pub fn known_schema_version(&self) -> i64 {
        self.backend
            .migrator()
            .iter()
            .map(|m| m.version)
            .max()
            .unwrap_or(0)
    }

    /// The pool's connections: (open, idle). Cheap (no query), for the metrics sampler.
    pub fn pool_connections(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    async fn has_migrations_table(&self) -> Result<bool, StoreError> {
        let exists_sql = match self.backend {
            Backend::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
            }
            Backend::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'"
            }
        };
        let exists: i64 = sqlx::query(exists_sql)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        Ok(exists > 0)
    }

    /// The newest migration recorded in the database, if sqlx's bookkeeping table exists.
    pub async fn applied_schema_version(&self) -> Result<Option<i64>, StoreError> {
        if !self.has_migrations_table().await? {
            return Ok(None);
        }
        let row = sqlx::query("SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for tests and for query files in this module.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Waits for checked-out connections to return, then closes them (graceful shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a transaction that will write. SQLite takes the write lock up front
    /// (`BEGIN IMMEDIATE`) so a transaction never has to upgrade a read lock, which would fail
    /// at once with `SQLITE_BUSY` instead of waiting.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }
}

/// How often a transaction that lost a lock race is retried before giving up.
const MAX_ATTEMPTS: u32 = 8;

/// An error that may be a lock race a retry resolves.
trait LockRace {
    fn query_error(&self) -> Option<&sqlx::Error>;
}

impl LockRace for StoreError {
    fn query_error(&self) -> Option<&sqlx::Error> {
        match self {
            Self::Query(e) => Some(e),
            _ => None,
        }
    }
}

impl Store {
    /// Runs the transaction `op` again while it fails with a lock race (PostgreSQL
    /// serialization failure or deadlock, SQLite busy), a bounded number of times.
    async fn retry_lock_races<T, E, F, Fut>(&self, mut op: F) -> Result<T, E>
    where
        E: LockRace,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match op().await {
                Err(e)
                    if attempt < MAX_ATTEMPTS
                        && e.query_error()
                            .is_some_and(|q| is_transient(self.backend, q)) =>
                {
                    if let Some(q) = e.query_error() {
                        tracing::debug!(attempt, error = %q, "transaction lost a lock race; retrying");
                    }
                    tokio::time::sleep(Duration::from_millis(5 * u64::from(attempt))).await;
                }
                other => return other,
            }
        }
    }
}

/// Lock-race failures that a retry resolves: PostgreSQL serialization failure and deadlock,
/// SQLite busy/locked (only after `busy_timeout` expired).
fn is_transient(backend: Backend, e: &sqlx::Error) -> bool {
    let Some(db) = e.as_database_error() else {
        return false;
    };
    let code = db.code();
    match backend {
        Backend::Postgres => matches!(code.as_deref(), Some("40001" | "40P01")),
        Backend::Sqlite => matches!(code.as_deref(), Some("5" | "6" | "517")),
    }
}

/// A SQLite URL that creates its file when missing. sqlx opens read-write without creating
/// unless the URL says `mode=rwc`, so a hand-written `sqlite:///var/lib/lounge/lounge.db` would
/// fail on first start with "unable to open database file"; an explicit `mode` is left alone.
fn creating_sqlite_file(url: &str) -> Cow<'_, str> {
    let query = url.split_once('?').map(|(_, q)| q);
    if query.is_some_and(|q| q.split('&').any(|p| p.starts_with("mode="))) {
        return Cow::Borrowed(url);
    }
    let sep = if query.is_some() { '&' } else { '?' };
    Cow::Owned(format!("{url}{sep}mode=rwc"))
}

/// A SQLite URL that opens its file read-only, whatever `mode` it asked for.
fn read_only_sqlite(url: &str) -> Cow<'_, str> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("mode="))
        .collect();
    params.push("mode=ro");
    Cow::Owned(format!("{base}?{}", params.join("&")))
}

/// The file a SQLite URL names; `None` for an in-memory database or another backend's URL.
pub fn sqlite_file(url: &str) -> Option<&Path> {
    if !url.starts_with("sqlite:") {
        return None;
    }
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = path.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| Path::new(path))
}

fn create_sqlite_parent_dir(url: &str) -> Result<(), StoreError> {
    let Some(path) = sqlite_file(url) else {
        return Ok(());
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| StoreError::DataDir {
            path: parent.display().to_string(),
            source,
        })?;
    }
    Ok(())
}

/// Now, in the Unix milliseconds every timestamp column holds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Discord snowflakes are u64 but stay below 2^63 for centuries; the database stores them as
/// signed 64-bit integers.
pub(crate) fn db_id(id: u64) -> i64 {
    id as i64
}
