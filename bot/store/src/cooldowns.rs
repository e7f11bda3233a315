//! Per-guild cooldown overrides.

use sqlx::Row;

use super::{Store, StoreError, db_id};

impl Store {
    /// The guild's overrides for one command: (bucket, seconds) pairs.
    pub async fn cooldown_overrides(
        &self,
        guild: u64,
        command: &str,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT bucket, seconds FROM cooldown_overrides WHERE guild_id = $1 AND command = $2 ORDER BY bucket",
        )
        .bind(db_id(guild))
        .bind(command)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Every override in the guild: (command, bucket, seconds).
    pub async fn all_cooldown_overrides(
        &self,
        guild: u64,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT command, bucket, seconds FROM cooldown_overrides WHERE guild_id = $1 ORDER BY command, bucket",
        )
        .bind(db_id(guild))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    pub async fn set_cooldown_override(
        &self,
        guild: u64,
        command: &str,
        bucket: &str,
        seconds: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cooldown_overrides (guild_id, command, bucket, seconds) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (guild_id, command, bucket) DO UPDATE SET seconds = excluded.seconds",
        )
        .bind(db_id(guild))
        .bind(command)
        .bind(bucket)
        .bind(seconds)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Drops a command's overrides; returns how many there were.
    pub async fn reset_cooldown_overrides(
        &self,
        guild: u64,
        command: &str,
    ) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM cooldown_overrides WHERE guild_id = $1 AND command = $2")
            .bind(db_id(guild))
            .bind(command)
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected())
    }
}
