//! Throwaway databases for tests: a SQLite file in a temp dir, or a fresh PostgreSQL database
//! on the local server (127.0.0.1:5432, user `postgres`; override with `LOUNGE_TEST_POSTGRES`).

use std::sync::atomic::{AtomicU32, Ordering};

use lounge_store::{Backend, Store};
use sqlx::Connection;

pub const DEFAULT_POSTGRES_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn postgres_admin_url() -> String {
    std::env::var("LOUNGE_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_POSTGRES_ADMIN.to_owned())
}

/// `host:port` of the test PostgreSQL (`tests/run` may start a throwaway one on another port).
pub fn postgres_address() -> String {
    let url = postgres_admin_url();
    let after_user = url.rsplit_once('@').map_or(url.as_str(), |(_, rest)| rest);
    after_user
        .split('/')
        .next()
        .unwrap_or(after_user)
        .to_owned()
}

/// A database that exists for one test. PostgreSQL databases are dropped by [`TestDb::cleanup`]
/// or, failing that, when the value is dropped.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::sqlite(),
            Backend::Postgres => Self::postgres().await,
        }
    }

    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = lounge_store::default_sqlite_url(dir.path());
        Self {
            backend: Backend::Sqlite,
            url,
            pg_name: None,
            _dir: Some(dir),
        }
    }

    pub async fn postgres() -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let admin = postgres_admin_url();
        let name = format!(
            "lounge_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL is needed for this test at {admin} (set LOUNGE_TEST_POSTGRES): {e}"
                )
            });
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create database");
        let _ = conn.close().await;
        let base = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(base, _)| base);
        Self {
            backend: Backend::Postgres,
            url: format!("{base}/{name}"),
            pg_name: Some(name),
            _dir: None,
        }
    }

    /// Opens and migrates the store.
    pub async fn store(&self) -> Store {
        Store::open(&self.url).await.expect("open store")
    }

    pub async fn cleanup(mut self) {
        if let Some(name) = self.pg_name.take() {
            drop_pg(&name).await;
        }
    }
}

async fn drop_pg(name: &str) {
    if let Ok(mut conn) = sqlx::PgConnection::connect(&postgres_admin_url()).await {
        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
        {
            eprintln!("could not drop test database {name}: {e}");
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            // Drop runs inside the test's runtime; a fresh one on a plain thread avoids
            // blocking it.
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(drop_pg(&name));
                }
            })
            .join();
        }
    }
}
