//! Per-guild settings.

use sqlx::Row;

use super::{Store, StoreError, db_id, now_ms};

impl Store {
    /// The guild's own command prefix, if it set one.
    pub async fn guild_prefix(&self, guild: u64) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT prefix FROM guild_settings WHERE guild_id = $1")
            .bind(db_id(guild))
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(row) => row.try_get(0)?,
            None => None,
        })
    }

    /// Sets (or with `None`, clears) the guild's prefix.
    pub async fn set_guild_prefix(
        &self,
        guild: u64,
        prefix: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO guild_settings (guild_id, prefix, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (guild_id) DO UPDATE SET prefix = excluded.prefix",
        )
        .bind(db_id(guild))
        .bind(prefix)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn guild_locale(&self, guild: u64) -> Result<String, StoreError> {
        let row = sqlx::query("SELECT locale FROM guild_settings WHERE guild_id = $1")
            .bind(db_id(guild))
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(row) => row.try_get(0)?,
            None => "en-US".to_owned(),
        })
    }
}

/// Takes `guild`'s settings row (made if missing) for the rest of `tx`: both backends hold it
/// until commit, so changes that check a guild-wide limit or order never interleave.
pub(crate) async fn lock_guild_row(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    guild: u64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO guild_settings (guild_id, created_at) VALUES ($1, $2) \
         ON CONFLICT (guild_id) DO UPDATE SET guild_id = guild_settings.guild_id",
    )
    .bind(super::db_id(guild))
    .bind(super::now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
