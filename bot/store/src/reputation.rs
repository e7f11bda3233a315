//! Reputation: members vouch for each other once a day. Giving is one transaction: the
//! giver's row moves only when their last point is a day old (a conditional upsert), and the
//! receiver's count rises in the same transaction, so racing `/rep`s give one point.

use sqlx::Row;

use super::{Store, StoreError, db_id};

/// How long a giver waits between two points.
pub const REP_PERIOD_MS: i64 = 24 * 3_600_000;

#[derive(Debug, thiserror::Error)]
pub enum RepError {
    #[error("You can't give reputation to yourself.")]
    SelfRep,
    #[error("You gave reputation recently; you can give again <t:{}:R>.", ready_at_ms / 1000 + 1)]
    TooSoon { ready_at_ms: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// `giver` vouches for `to` at `now_ms`; returns `to`'s points after it.
    pub async fn give_reputation(&self, giver: u64, to: u64, now_ms: i64) -> Result<i64, RepError> {
        if giver == to {
            return Err(RepError::SelfRep);
        }
        self.ensure_user(giver).await?;
        self.ensure_user(to).await?;
        self.retry_lock_races(|| self.try_give_reputation(giver, to, now_ms))
            .await
    }

    async fn try_give_reputation(&self, giver: u64, to: u64, now_ms: i64) -> Result<i64, RepError> {
        let mut tx = self.begin_write().await?;
        let moved = sqlx::query(
            "INSERT INTO reputation_given (giver_id, last_at, last_to) VALUES ($1, $2, $3) \
             ON CONFLICT (giver_id) DO UPDATE SET last_at = $2, last_to = $3 \
             WHERE reputation_given.last_at <= $4",
        )
        .bind(db_id(giver))
        .bind(now_ms)
        .bind(db_id(to))
        .bind(now_ms.saturating_sub(REP_PERIOD_MS))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved != 1 {
            tx.rollback().await?;
            let last: i64 = sqlx::query("SELECT last_at FROM reputation_given WHERE giver_id = $1")
                .bind(db_id(giver))
                .fetch_one(self.pool())
                .await?
                .try_get(0)?;
            return Err(RepError::TooSoon {
                ready_at_ms: last.saturating_add(REP_PERIOD_MS),
            });
        }
        let points: i64 = sqlx::query(
            "INSERT INTO reputation (user_id, points) VALUES ($1, 1) \
             ON CONFLICT (user_id) DO UPDATE SET points = reputation.points + 1 \
             RETURNING points",
        )
        .bind(db_id(to))
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        tx.commit().await?;
        Ok(points)
    }

    /// A user's reputation points (0 for someone nobody vouched for).
    pub async fn reputation(&self, user: u64) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT points FROM reputation WHERE user_id = $1")
            .bind(db_id(user))
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(row) => row.try_get(0)?,
            None => 0,
        })
    }
}
