//! Users and their currency. `transfer_currency` is the pattern every transfer of value
//! (items, Pokémon, trades) follows: one transaction, rows changed only by conditional
//! updates, rows touched in a fixed order.

use sqlx::Row;

use super::{Store, StoreError, db_id, now_ms};

/// A completed transfer with both balances after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transfer {
    pub from_balance: i64,
    pub to_balance: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error("The amount must be at least 1.")]
    NonPositive,
    #[error("You can't send coins to yourself.")]
    SameUser,
    #[error("Not enough coins: you have {balance}, this needs {needed}.")]
    InsufficientFunds { balance: i64, needed: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Creates the user row if it is missing.
    pub async fn ensure_user(&self, user: u64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO users (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
        )
        .bind(db_id(user))
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The user's balance; 0 for a user we have never seen.
    pub async fn balance(&self, user: u64) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT currency FROM users WHERE id = $1")
            .bind(db_id(user))
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(row) => row.try_get(0)?,
            None => 0,
        })
    }

    /// Adds `amount` (which may be negative) to a balance, refusing to go below zero.
    /// Returns the new balance. Used by rewards and by owners' grants.
    pub async fn adjust_currency(&self, user: u64, amount: i64) -> Result<i64, TransferError> {
        self.ensure_user(user).await?;
        let row = sqlx::query(
            "UPDATE users SET currency = currency + $1 WHERE id = $2 AND currency + $1 >= 0 \
             RETURNING currency",
        )
        .bind(amount)
        .bind(db_id(user))
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(row) => Ok(row.try_get(0)?),
            None => Err(TransferError::InsufficientFunds {
                balance: self.balance(user).await?,
                needed: -amount,
            }),
        }
    }

    /// Moves `amount` from one user to another in one transaction. The debit is conditional
    /// (`currency >= amount`), so no interleaving can make a balance negative, and the two rows
    /// are updated in ascending id order so two opposite transfers cannot deadlock.
    pub async fn transfer_currency(
        &self,
        from: u64,
        to: u64,
        amount: i64,
    ) -> Result<Transfer, TransferError> {
        if amount <= 0 {
            return Err(TransferError::NonPositive);
        }
        if from == to {
            return Err(TransferError::SameUser);
        }
        self.ensure_user(from).await?;
        self.ensure_user(to).await?;
        self.retry_lock_races(|| self.try_transfer(from, to, amount))
            .await
    }

    async fn try_transfer(
        &self,
        from: u64,
        to: u64,
        amount: i64,
    ) -> Result<Transfer, TransferError> {
        let mut tx = self.begin_write().await?;
        let (from_balance, to_balance);
        if from < to {
            from_balance = debit(&mut tx, from, amount).await?;
            to_balance = credit(&mut tx, to, amount).await?;
        } else {
            to_balance = credit(&mut tx, to, amount).await?;
            from_balance = debit(&mut tx, from, amount).await?;
        }
        let (Some(from_balance), to_balance) = (from_balance, to_balance) else {
            tx.rollback().await?;
            return Err(self.insufficient(from, amount).await);
        };
        tx.commit().await?;
        Ok(Transfer {
            from_balance,
            to_balance,
        })
    }

    async fn insufficient(&self, user: u64, needed: i64) -> TransferError {
        match self.balance(user).await {
            Ok(balance) => TransferError::InsufficientFunds { balance, needed },
            Err(e) => e.into(),
        }
    }
}

/// Takes `amount` from `from` only if the balance covers it; `None` when it does not.
async fn debit(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    from: u64,
    amount: i64,
) -> Result<Option<i64>, TransferError> {
    let row = sqlx::query(
        "UPDATE users SET currency = currency - $1 WHERE id = $2 AND currency >= $1 \
         RETURNING currency",
    )
    .bind(amount)
    .bind(db_id(from))
    .fetch_optional(&mut **tx)
    .await?;
    Ok(match row {
        Some(row) => Some(row.try_get(0)?),
        None => None,
    })
}

async fn credit(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    to: u64,
    amount: i64,
) -> Result<i64, TransferError> {
    let row =
        sqlx::query("UPDATE users SET currency = currency + $1 WHERE id = $2 RETURNING currency")
            .bind(amount)
            .bind(db_id(to))
            .fetch_one(&mut **tx)
            .await?;
    Ok(row.try_get(0)?)
}
