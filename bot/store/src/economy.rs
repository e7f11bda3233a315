//! Timed rewards: `/daily`, `/weekly` and `/work`. A claim is a conditional upsert of the
//! user's claim row (it only moves when the last claim is a whole period old) and the credit,
//! in one transaction: however many claims race, one pays, and a claim that fails to credit
//! leaves the row as it was.

use sqlx::Row;

use super::{Store, StoreError, db_id};

/// A streak longer than this stops counting (it has long since earned the largest bonus).
const MAX_STREAK: i64 = 1_000_000;

/// How one kind of reward is timed.
#[derive(Clone, Copy, Debug)]
pub struct ClaimRules {
    /// `daily`, `weekly`, `work`: the row's key.
    pub kind: &'static str,
    /// How long after a claim the next one opens.
    pub period_ms: i64,
    /// A claim within this long of the previous one continues the streak (a period plus the
    /// grace); later ones start again at 1.
    pub streak_window_ms: i64,
}

/// A reward paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claimed {
    pub amount: i64,
    /// Consecutive claims including this one.
    pub streak: i64,
    pub balance: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// Claimed within the period; the next one opens at this time (Unix milliseconds).
    #[error("Not yet: you can claim this again <t:{}:R>.", ready_at_ms / 1000 + 1)]
    TooSoon { ready_at_ms: i64 },
    /// The balance can't hold any more coins.
    #[error("Your balance can't hold any more coins.")]
    Overflow,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Pays `user` the reward `amount(streak)` if `rules.period_ms` has passed since their
    /// last claim of this kind (or they never claimed), at `now_ms`.
    pub async fn claim_reward(
        &self,
        user: u64,
        rules: ClaimRules,
        now_ms: i64,
        amount: impl Fn(i64) -> i64,
    ) -> Result<Claimed, ClaimError> {
        self.ensure_user(user).await?;
        self.retry_lock_races(|| self.try_claim(user, rules, now_ms, &amount))
            .await
    }

    async fn try_claim(
        &self,
        user: u64,
        rules: ClaimRules,
        now_ms: i64,
        amount: &impl Fn(i64) -> i64,
    ) -> Result<Claimed, ClaimError> {
        let mut tx = self.begin_write().await?;
        let claimed = sqlx::query(
            "INSERT INTO economy_claims (user_id, kind, last_at, streak) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (user_id, kind) DO UPDATE SET \
               streak = CASE WHEN economy_claims.last_at < $4 THEN 1 \
                             WHEN economy_claims.streak >= $6 THEN $6 \
                             ELSE economy_claims.streak + 1 END, \
               last_at = $3 \
             WHERE economy_claims.last_at <= $5 \
             RETURNING streak",
        )
        .bind(db_id(user))
        .bind(rules.kind)
        .bind(now_ms)
        .bind(now_ms.saturating_sub(rules.streak_window_ms))
        .bind(now_ms.saturating_sub(rules.period_ms))
        .bind(MAX_STREAK)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = claimed else {
            tx.rollback().await?;
            let last: i64 =
                sqlx::query("SELECT last_at FROM economy_claims WHERE user_id = $1 AND kind = $2")
                    .bind(db_id(user))
                    .bind(rules.kind)
                    .fetch_one(self.pool())
                    .await?
                    .try_get(0)?;
            return Err(ClaimError::TooSoon {
                ready_at_ms: last.saturating_add(rules.period_ms),
            });
        };
        let streak: i64 = row.try_get(0)?;
        let amount = amount(streak).max(0);
        // The guard keeps `currency + amount` from overflowing, which PostgreSQL refuses and
        // SQLite would turn into a float.
        let credited = sqlx::query(
            "UPDATE users SET currency = currency + $1 WHERE id = $2 AND currency <= $3 \
             RETURNING currency",
        )
        .bind(amount)
        .bind(db_id(user))
        .bind(i64::MAX - amount)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = credited else {
            tx.rollback().await?;
            return Err(ClaimError::Overflow);
        };
        let balance = row.try_get(0)?;
        tx.commit().await?;
        Ok(Claimed {
            amount,
            streak,
            balance,
        })
    }
}
