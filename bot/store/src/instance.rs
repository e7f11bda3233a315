//! The instance lock: at most one process serves a bot. Two processes with the same token
//! would both receive every gateway event and both answer every command (double transfers,
//! double spawns), and nothing in Discord stops a second one from connecting, so the database
//! both share decides.
//!
//! - PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) held on one connection
//!   taken out of the pool for the lock's lifetime. The server drops it when that session ends,
//!   so a process that dies frees the lock at once, without a lease to wait out.
//! - SQLite: a row in `instance_locks`, taken only when absent or expired and renewed by its
//!   holder; a process that dies leaves the row to expire. SQLite has no lock that outlives a
//!   statement and a connection, which is why this one is a lease.
//!
//! On both, a holder that cannot confirm its lock for a whole lease gives it up, because another
//! process may have taken it by then.

use std::time::{Duration, Instant};

use sqlx::{AnyConnection, Connection, Row};

use super::{Backend, Store, StoreError, now_ms};

/// The key lounge locks for a bot: one per Discord application. It covers every shard because a
/// lounge process always runs all of its application's shards (as many as `GET /gateway/bot`
/// says); a key per shard count would let two processes that were told different counts both
/// serve. Never derived from the token, which must not reach the database.
pub fn bot_instance_key(application_id: u64) -> String {
    format!("discord application {application_id}, all shards")
}

/// What [`Store::acquire_instance_lock`] found.
#[derive(Debug)]
pub enum LockAttempt {
    /// The lock is ours until released, dropped (SQLite: until the lease runs out) or lost.
    Taken(InstanceLock),
    /// Another process holds it; `holder` says who, where the database knows.
    Busy { holder: Option<String> },
}

/// Why [`InstanceLock::renew`] did not confirm the lock.
#[derive(Debug, thiserror::Error)]
pub enum RenewError {
    /// Another process holds it now: ours ran out, or our session ended and another took it.
    #[error("another process holds it now ({})", holder.as_deref().unwrap_or("holder unknown"))]
    Taken { holder: Option<String> },
    /// It went unconfirmed for a whole lease, so another process may hold it now.
    #[error("it could not be confirmed for {lease_s} s: {source}")]
    Expired {
        lease_s: u64,
        #[source]
        source: StoreError,
    },
    /// This attempt failed, but the lock is still ours for the rest of its lease: try again.
    #[error("renewing it failed: {0}")]
    Failed(StoreError),
}

impl RenewError {
    /// Whether the lock must be counted as gone (as opposed to one failed renewal).
    pub fn is_lost(&self) -> bool {
        !matches!(self, Self::Failed(_))
    }
}

/// A held instance lock. Keep it for the process's lifetime, call [`InstanceLock::renew`] well
/// within every lease, and [`InstanceLock::release`] it on a clean shutdown.
#[derive(Debug)]
pub struct InstanceLock {
    store: Store,
    key: String,
    holder: String,
    lease: Duration,
    /// The last confirmation plus the lease (measured from before the query, so it errs early):
    /// until then no other process can have taken the lock.
    confirmed_until: Instant,
    hold: Hold,
}

#[derive(Debug)]
enum Hold {
    /// SQLite: our row in `instance_locks`.
    Row,
    /// PostgreSQL: the advisory lock `id` held by the session of `conn`, which is `None` after
    /// that connection failed until a renewal takes the lock again.
    Session {
        id: i64,
        conn: Option<AnyConnection>,
    },
}

/// Takes the lock if nobody has it or its lease ran out; `rows_affected` is 1 only then.
const TAKE_ROW: &str = "INSERT INTO instance_locks (key, holder, expires_at) VALUES ($1, $2, $3) \
     ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
     WHERE instance_locks.expires_at <= $4";

/// Prefix of the lock session's `application_name`, so a waiting process can find the holder.
const SESSION_NAME: &str = "lounge: ";

impl Store {
    /// Takes the instance lock `key` for `holder` (a description for whoever waits, also used to
    /// recognise our own row), or says who holds it. On SQLite the lease is how long the lock
    /// outlives a holder that stops renewing; on both backends it is how long the holder keeps
    /// serving without being able to confirm the lock.
    pub async fn acquire_instance_lock(
        &self,
        key: &str,
        holder: &str,
        lease: Duration,
    ) -> Result<LockAttempt, StoreError> {
        let asked = Instant::now();
        let hold = match self.backend {
            Backend::Sqlite => {
                let now = now_ms();
                let taken = sqlx::query(TAKE_ROW)
                    .bind(key)
                    .bind(holder)
                    .bind(now + lease_ms(lease))
                    .bind(now)
                    .execute(self.pool())
                    .await?
                    .rows_affected()
                    == 1;
                if !taken {
                    return Ok(LockAttempt::Busy {
                        holder: self.row_holder(key).await?,
                    });
                }
                Hold::Row
            }
            Backend::Postgres => {
                let id = advisory_id(key);
                let Some(conn) = self.take_advisory(id, holder).await? else {
                    return Ok(LockAttempt::Busy {
                        holder: self.advisory_holder(id).await?,
                    });
                };
                Hold::Session {
                    id,
                    conn: Some(conn),
                }
            }
        };
        Ok(LockAttempt::Taken(InstanceLock {
            store: self.clone(),
            key: key.to_owned(),
            holder: holder.to_owned(),
            lease,
            confirmed_until: asked + lease,
            hold,
        }))
    }

    async fn row_holder(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT holder FROM instance_locks WHERE key = $1")
            .bind(key)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// A connection of its own whose session holds advisory lock `id`, or `None` when another
    /// session holds it. Detached from the pool: the lock lives exactly as long as the session,
    /// and a pooled connection would go back to the pool (and to other queries) still holding it.
    async fn take_advisory(
        &self,
        id: i64,
        holder: &str,
    ) -> Result<Option<AnyConnection>, StoreError> {
        let mut conn = self.pool().acquire().await?.detach();
        // Named before locking, so whoever finds the lock taken finds the name with it.
        sqlx::query("SELECT set_config('application_name', $1, false)")
            .bind(format!("{SESSION_NAME}{holder}"))
            .execute(&mut conn)
            .await?;
        let taken: bool = sqlx::query("SELECT pg_try_advisory_lock($1)")
            .bind(id)
            .fetch_one(&mut conn)
            .await?
            .try_get(0)?;
        if taken {
            Ok(Some(conn))
        } else {
            let _ = conn.close().await;
            Ok(None)
        }
    }

    /// The `application_name` of the session holding advisory lock `id` in this database.
    async fn advisory_holder(&self, id: i64) -> Result<Option<String>, StoreError> {
        // A bigint advisory key shows in pg_locks as its high half in classid and its low half
        // in objid, with objsubid 1.
        let bits = id as u64;
        let row = sqlx::query(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
             AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             AND l.classid::bigint = $1 AND l.objid::bigint = $2",
        )
        .bind((bits >> 32) as i64)
        .bind((bits & 0xffff_ffff) as i64)
        .fetch_optional(self.pool())
        .await?;
        let name: Option<String> = row.map(|r| r.try_get(0)).transpose()?;
        Ok(name.filter(|n| !n.is_empty()).map(|n| {
            n.strip_prefix(SESSION_NAME)
                .map_or(n.clone(), str::to_owned)
        }))
    }
}

impl InstanceLock {
    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// Confirms the lock is still ours, extending its lease on SQLite. On PostgreSQL a session
    /// that died is replaced: the lock is taken again on a new connection unless another
    /// process took it meanwhile.
    pub async fn renew(&mut self) -> Result<(), RenewError> {
        let asked = Instant::now();
        let outcome = match &mut self.hold {
            Hold::Row => renew_row(&self.store, &self.key, &self.holder, self.lease).await,
            Hold::Session { id, conn } => renew_session(&self.store, *id, conn, &self.holder).await,
        };
        match outcome {
            Ok(()) => {
                self.confirmed_until = asked + self.lease;
                Ok(())
            }
            Err(RenewError::Failed(source)) if Instant::now() >= self.confirmed_until => {
                Err(RenewError::Expired {
                    lease_s: self.lease.as_secs(),
                    source,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Gives the lock up so another process can take it at once.
    pub async fn release(self) -> Result<(), StoreError> {
        match self.hold {
            Hold::Row => {
                sqlx::query("DELETE FROM instance_locks WHERE key = $1 AND holder = $2")
                    .bind(&self.key)
                    .bind(&self.holder)
                    .execute(self.store.pool())
                    .await?;
            }
            Hold::Session { id, conn } => {
                let Some(mut conn) = conn else {
                    return Ok(());
                };
                let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(id)
                    .execute(&mut conn)
                    .await;
                // Closing ends the session, which releases the lock even if unlocking failed.
                let closed = conn.close().await;
                unlocked?;
                closed?;
            }
        }
        Ok(())
    }
}

async fn renew_row(
    store: &Store,
    key: &str,
    holder: &str,
    lease: Duration,
) -> Result<(), RenewError> {
    // Still ours even if the lease ran out meanwhile: taking it would have changed the holder.
    let renewed =
        sqlx::query("UPDATE instance_locks SET expires_at = $1 WHERE key = $2 AND holder = $3")
            .bind(now_ms() + lease_ms(lease))
            .bind(key)
            .bind(holder)
            .execute(store.pool())
            .await
            .map_err(|e| RenewError::Failed(e.into()))?
            .rows_affected();
    if renewed == 1 {
        return Ok(());
    }
    Err(RenewError::Taken {
        holder: store.row_holder(key).await.ok().flatten(),
    })
}

async fn renew_session(
    store: &Store,
    id: i64,
    conn: &mut Option<AnyConnection>,
    holder: &str,
) -> Result<(), RenewError> {
    if let Some(live) = conn {
        // While the session lives the lock is ours: only this session could unlock it.
        match sqlx::query("SELECT 1").execute(&mut *live).await {
            Ok(_) => return Ok(()),
            Err(e) => {
                tracing::warn!(
                    "the instance lock's database session failed ({e}); taking the lock again"
                );
                *conn = None;
            }
        }
    }
    match store.take_advisory(id, holder).await {
        Ok(Some(fresh)) => {
            tracing::info!("instance lock taken again on a new database session");
            *conn = Some(fresh);
            Ok(())
        }
        Ok(None) => Err(RenewError::Taken {
            holder: store.advisory_holder(id).await.ok().flatten(),
        }),
        Err(e) => Err(RenewError::Failed(e)),
    }
}

fn lease_ms(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2)
}

/// The advisory lock id for `key`: FNV-1a, because every lounge version must compute the same
/// id for the same key (std's hasher makes no such promise across Rust releases).
fn advisory_id(key: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in "lounge instance lock\0".bytes().chain(key.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advisory_ids_are_stable_and_distinct() {
        // Pinned: a changed id would let two lounge versions serve the same bot at once.
        assert_eq!(
            advisory_id(&bot_instance_key(1_000_000_000_000_000_001)),
            3_495_116_820_511_390_259
        );
        assert_ne!(
            advisory_id(&bot_instance_key(1)),
            advisory_id(&bot_instance_key(2))
        );
    }
}
