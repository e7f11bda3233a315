//! Module switches: per guild, and the owners' global unload.
//!
//! Read on every command rather than cached in memory, so that every bot process and shard
//! sees a switch at once; both lookups are primary-key reads.

use sqlx::Row;

use super::{Store, StoreError, db_id, now_ms};

impl Store {
    /// Modules explicitly switched off in this guild.
    pub async fn disabled_modules(&self, guild: u64) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT module FROM guild_modules WHERE guild_id = $1 AND enabled = 0 ORDER BY module",
        )
        .bind(db_id(guild))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| r.try_get(0).map_err(StoreError::from))
            .collect()
    }

    pub async fn module_enabled_in(&self, guild: u64, module: &str) -> Result<bool, StoreError> {
        let row =
            sqlx::query("SELECT enabled FROM guild_modules WHERE guild_id = $1 AND module = $2")
                .bind(db_id(guild))
                .bind(module)
                .fetch_optional(self.pool())
                .await?;
        Ok(match row {
            Some(row) => row.try_get::<i64, _>(0)? != 0,
            None => true,
        })
    }

    /// Whether `module` may act in `guild`: not unloaded by the owners and not switched off
    /// there. Event hooks are gated by this once, before any module sees the event.
    pub async fn module_on(&self, guild: u64, module: &str) -> Result<bool, StoreError> {
        Ok(!self.module_unloaded(module).await? && self.module_enabled_in(guild, module).await?)
    }

    /// Switches a module on or off for one guild. Returns whether anything changed.
    pub async fn set_module_enabled(
        &self,
        guild: u64,
        module: &str,
        enabled: bool,
        by: u64,
    ) -> Result<bool, StoreError> {
        let was = self.module_enabled_in(guild, module).await?;
        sqlx::query(
            "INSERT INTO guild_modules (guild_id, module, enabled, changed_by, changed_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (guild_id, module) DO UPDATE SET enabled = excluded.enabled, \
             changed_by = excluded.changed_by, changed_at = excluded.changed_at",
        )
        .bind(db_id(guild))
        .bind(module)
        .bind(i64::from(enabled))
        .bind(db_id(by))
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(was != enabled)
    }

    /// Modules the bot's owners switched off everywhere.
    pub async fn unloaded_modules(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT module FROM unloaded_modules ORDER BY module")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| r.try_get(0).map_err(StoreError::from))
            .collect()
    }

    pub async fn module_unloaded(&self, module: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM unloaded_modules WHERE module = $1")
            .bind(module)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.is_some())
    }

    /// Unloads (or loads again) a module for every guild. Returns whether anything changed.
    pub async fn set_module_unloaded(
        &self,
        module: &str,
        unloaded: bool,
        by: u64,
    ) -> Result<bool, StoreError> {
        let result = if unloaded {
            sqlx::query(
                "INSERT INTO unloaded_modules (module, changed_by, changed_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (module) DO NOTHING",
            )
            .bind(module)
            .bind(db_id(by))
            .bind(now_ms())
            .execute(self.pool())
            .await?
        } else {
            sqlx::query("DELETE FROM unloaded_modules WHERE module = $1")
                .bind(module)
                .execute(self.pool())
                .await?
        };
        Ok(result.rows_affected() > 0)
    }
}
