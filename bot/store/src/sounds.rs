//! Soundboard clips per guild (their bytes live in content-addressed files the music module
//! keeps; the store knows each clip's name, hash and length) and the guild's GIF rating.

use sqlx::Row;

use super::{Store, StoreError, db_id, now_ms};

/// The most clips one guild keeps.
pub const MAX_SOUNDS: i64 = 100;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sound {
    pub name: String,
    pub sha256: String,
    pub duration_ms: i64,
    pub size_bytes: i64,
    pub added_by: u64,
    pub plays: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum SoundError {
    #[error("This server already has a sound called `{0}`: remove it first, or pick another name.")]
    Exists(String),
    #[error("This server has {MAX_SOUNDS} sounds, the most it may keep: remove some first.")]
    Full,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn sound(row: &sqlx::any::AnyRow) -> Result<Sound, sqlx::Error> {
    Ok(Sound {
        name: row.try_get("name")?,
        sha256: row.try_get("sha256")?,
        duration_ms: row.try_get("duration_ms")?,
        size_bytes: row.try_get("size_bytes")?,
        added_by: row.try_get::<i64, _>("added_by")?.cast_unsigned(),
        plays: row.try_get("plays")?,
    })
}

impl Store {
    /// Adds a clip under `name`; refused when the name is taken or the guild is full (one
    /// transaction holding the guild's row, so two adds at once can't pass the limit).
    pub async fn sound_add(&self, guild: u64, new: &Sound) -> Result<(), SoundError> {
        self.retry_lock_races(|| async {
            let mut tx = self.begin_write().await?;
            super::guilds::lock_guild_row(&mut tx, guild).await?;
            let count: i64 = sqlx::query("SELECT COUNT(*) FROM sounds WHERE guild_id = $1")
                .bind(db_id(guild))
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            if count >= MAX_SOUNDS {
                return Err(SoundError::Full);
            }
            let added = sqlx::query(
                "INSERT INTO sounds (guild_id, name, sha256, duration_ms, size_bytes, added_by, \
                 added_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (guild_id, name) DO NOTHING",
            )
            .bind(db_id(guild))
            .bind(&new.name)
            .bind(&new.sha256)
            .bind(new.duration_ms)
            .bind(new.size_bytes)
            .bind(db_id(new.added_by))
            .bind(now_ms())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if added == 0 {
                return Err(SoundError::Exists(new.name.clone()));
            }
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    pub async fn sound(&self, guild: u64, name: &str) -> Result<Option<Sound>, StoreError> {
        let row = sqlx::query(
            "SELECT name, sha256, duration_ms, size_bytes, added_by, plays FROM sounds \
             WHERE guild_id = $1 AND name = $2",
        )
        .bind(db_id(guild))
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(sound).transpose()?)
    }

    /// `guild`'s clips by name.
    pub async fn sounds(&self, guild: u64) -> Result<Vec<Sound>, StoreError> {
        Ok(sqlx::query(
            "SELECT name, sha256, duration_ms, size_bytes, added_by, plays FROM sounds \
             WHERE guild_id = $1 ORDER BY name",
        )
        .bind(db_id(guild))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(sound)
        .collect::<Result<_, _>>()?)
    }

    /// Removes a clip; returns it and whether any guild still uses its bytes.
    pub async fn sound_remove(
        &self,
        guild: u64,
        name: &str,
    ) -> Result<Option<(Sound, bool)>, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT name, sha256, duration_ms, size_bytes, added_by, plays FROM sounds \
             WHERE guild_id = $1 AND name = $2",
        )
        .bind(db_id(guild))
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(removed) = row.as_ref().map(sound).transpose()? else {
            return Ok(None);
        };
        sqlx::query("DELETE FROM sounds WHERE guild_id = $1 AND name = $2")
            .bind(db_id(guild))
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let still: i64 = sqlx::query("SELECT COUNT(*) FROM sounds WHERE sha256 = $1")
            .bind(&removed.sha256)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        tx.commit().await?;
        Ok(Some((removed, still > 0)))
    }

    /// Counts a play.
    pub async fn sound_played(&self, guild: u64, name: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE sounds SET plays = plays + 1 WHERE guild_id = $1 AND name = $2")
            .bind(db_id(guild))
            .bind(name)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// `guild`'s GIF rating, when it chose one.
    pub async fn gif_rating(&self, guild: u64) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT rating FROM gif_settings WHERE guild_id = $1")
            .bind(db_id(guild))
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get("rating")).transpose()?)
    }

    /// Sets `guild`'s GIF rating (`g`, `pg`, `pg-13` or `r`).
    pub async fn set_gif_rating(&self, guild: u64, rating: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO gif_settings (guild_id, rating) VALUES ($1, $2) \
             ON CONFLICT (guild_id) DO UPDATE SET rating = $2",
        )
        .bind(db_id(guild))
        .bind(rating)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
