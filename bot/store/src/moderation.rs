//! Moderation cases: every warn, note, kick, ban and timeout, numbered per guild.
//!
//! A case's number comes from its guild's counter row, bumped in the same transaction that
//! inserts the case: concurrent moderators get distinct, gapless-in-order numbers, and a
//! deleted case's number is never handed out again (moderators quote them).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, db_id, now_ms};

/// A case to record.
#[derive(Clone, Debug)]
pub struct NewCase<'a> {
    pub guild: u64,
    /// `warn`, `note`, `kick`, `ban`, `timeout`, `untimeout`.
    pub kind: &'a str,
    pub target: u64,
    pub moderator: u64,
    pub reason: Option<&'a str>,
    pub duration_ms: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    pub number: i64,
    pub kind: String,
    pub target: u64,
    pub moderator: u64,
    pub reason: Option<String>,
    pub duration_ms: Option<i64>,
    pub created_at: i64,
    /// When a warning was taken back, and by whom.
    pub revoked: Option<(i64, u64)>,
}

/// Why `/unwarn` did nothing.
#[derive(Debug, thiserror::Error)]
pub enum UnwarnError {
    #[error("There is no case #{0} here.")]
    NoCase(i64),
    #[error("Case #{0} isn't a warning.")]
    NotAWarning(i64),
    #[error("Warning #{0} was already taken back.")]
    AlreadyRevoked(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The columns `case_from_row` reads, in its order (a macro so queries stay literals).
macro_rules! case_columns {
    () => {
        "case_no, kind, target_id, moderator_id, reason, duration_ms, created_at, revoked_at, \
         revoked_by"
    };
}

fn case_from_row(row: &AnyRow) -> Result<Case, sqlx::Error> {
    let revoked_at: Option<i64> = row.try_get(7)?;
    let revoked_by: Option<i64> = row.try_get(8)?;
    Ok(Case {
        number: row.try_get(0)?,
        kind: row.try_get(1)?,
        target: row.try_get::<i64, _>(2)? as u64,
        moderator: row.try_get::<i64, _>(3)? as u64,
        reason: row.try_get(4)?,
        duration_ms: row.try_get(5)?,
        created_at: row.try_get(6)?,
        revoked: revoked_at.map(|at| (at, revoked_by.unwrap_or(0) as u64)),
    })
}

/// How long a process has to post a case to the modlog before another one may.
pub const LOG_LEASE_MS: i64 = 10_000;

/// A case owed to a modlog channel.
#[derive(Clone, Debug)]
pub struct OwedLog {
    pub guild: u64,
    pub channel: u64,
    pub case: Case,
}

impl Store {
    /// The guild's modlog channel, if it has one.
    pub async fn modlog(&self, guild: u64) -> Result<Option<u64>, StoreError> {
        let row = sqlx::query("SELECT channel_id FROM mod_log_channels WHERE guild_id = $1")
            .bind(db_id(guild))
            .fetch_optional(self.pool())
            .await?;
        Ok(row
            .map(|r| r.try_get::<i64, _>(0))
            .transpose()?
            .map(|c| c as u64))
    }

    /// Sets or clears the guild's modlog channel; later cases are posted there.
    pub async fn set_modlog(&self, guild: u64, channel: Option<u64>) -> Result<(), StoreError> {
        match channel {
            Some(channel) => {
                sqlx::query(
                    "INSERT INTO mod_log_channels (guild_id, channel_id) VALUES ($1, $2) \
                     ON CONFLICT (guild_id) DO UPDATE SET channel_id = $2",
                )
                .bind(db_id(guild))
                .bind(db_id(channel))
                .execute(self.pool())
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM mod_log_channels WHERE guild_id = $1")
                    .bind(db_id(guild))
                    .execute(self.pool())
                    .await?;
            }
        }
        Ok(())
    }

    /// Cases still owed to a modlog whose lease has run out (the process that recorded them
    /// died, or a post failed for now), oldest first.
    pub async fn mod_owed_logs(&self, now: i64, limit: i64) -> Result<Vec<(u64, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT guild_id, case_no FROM mod_cases \
             WHERE log_channel IS NOT NULL AND logged_at IS NULL AND log_lease <= $1 \
             ORDER BY created_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<i64, _>(0)? as u64, r.try_get(1)?)))
            .collect()
    }

    /// Takes the lease on posting case `number` if it is owed and nobody holds the lease.
    pub async fn mod_take_log(
        &self,
        guild: u64,
        number: i64,
        now: i64,
    ) -> Result<Option<OwedLog>, StoreError> {
        let row = sqlx::query(concat!(
            "UPDATE mod_cases SET log_lease = $4 \
             WHERE guild_id = $1 AND case_no = $2 AND log_channel IS NOT NULL \
             AND logged_at IS NULL AND log_lease <= $3 RETURNING ",
            case_columns!(),
            ", log_channel"
        ))
        .bind(db_id(guild))
        .bind(number)
        .bind(now)
        .bind(now + LOG_LEASE_MS)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(OwedLog {
            guild,
            channel: row.try_get::<i64, _>(9)? as u64,
            case: case_from_row(&row)?,
        }))
    }

    /// The log channel a just-recorded case owes its post to, if any (its lease is the
    /// recording process's).
    pub async fn mod_log_owed_by(
        &self,
        guild: u64,
        number: i64,
    ) -> Result<Option<u64>, StoreError> {
        let row = sqlx::query(
            "SELECT log_channel FROM mod_cases WHERE guild_id = $1 AND case_no = $2 \
             AND logged_at IS NULL",
        )
        .bind(db_id(guild))
        .bind(number)
        .fetch_optional(self.pool())
        .await?;
        Ok(row
            .map(|r| r.try_get::<Option<i64>, _>(0))
            .transpose()?
            .flatten()
            .map(|c| c as u64))
    }

    /// Records that case `number` reached its modlog (or never can).
    pub async fn mod_mark_logged(
        &self,
        guild: u64,
        number: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE mod_cases SET logged_at = $3 WHERE guild_id = $1 AND case_no = $2 \
             AND logged_at IS NULL",
        )
        .bind(db_id(guild))
        .bind(number)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records a case under the guild's next number.
    pub async fn record_case(&self, case: &NewCase<'_>) -> Result<Case, StoreError> {
        self.retry_lock_races(|| self.try_record_case(case)).await
    }

    async fn try_record_case(&self, case: &NewCase<'_>) -> Result<Case, StoreError> {
        let mut tx = self.begin_write().await?;
        let number: i64 = sqlx::query(
            "INSERT INTO mod_case_counters (guild_id, last_case) VALUES ($1, 1) \
             ON CONFLICT (guild_id) DO UPDATE SET last_case = mod_case_counters.last_case + 1 \
             RETURNING last_case",
        )
        .bind(db_id(case.guild))
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let row = sqlx::query(concat!(
            "INSERT INTO mod_cases (guild_id, case_no, kind, target_id, moderator_id, reason, \
             duration_ms, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ",
            case_columns!()
        ))
        .bind(db_id(case.guild))
        .bind(number)
        .bind(case.kind)
        .bind(db_id(case.target))
        .bind(db_id(case.moderator))
        .bind(case.reason)
        .bind(case.duration_ms)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        let recorded = case_from_row(&row)?;
        // The post to the modlog is owed from this commit on; this process holds the lease
        // and posts it at once (see `mod_take_log`).
        sqlx::query(
            "UPDATE mod_cases SET log_channel = \
               (SELECT channel_id FROM mod_log_channels WHERE guild_id = $1), log_lease = $3 \
             WHERE guild_id = $1 AND case_no = $2",
        )
        .bind(db_id(case.guild))
        .bind(number)
        .bind(now_ms() + LOG_LEASE_MS)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(recorded)
    }

    pub async fn case(&self, guild: u64, number: i64) -> Result<Option<Case>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            case_columns!(),
            " FROM mod_cases WHERE guild_id = $1 AND case_no = $2"
        ))
        .bind(db_id(guild))
        .bind(number)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(case_from_row).transpose()?)
    }

    /// A member's cases here, newest first: all of them, or only warnings still in force.
    pub async fn cases_for(
        &self,
        guild: u64,
        target: u64,
        active_warnings_only: bool,
    ) -> Result<Vec<Case>, StoreError> {
        let query = if active_warnings_only {
            concat!(
                "SELECT ",
                case_columns!(),
                " FROM mod_cases WHERE guild_id = $1 AND target_id = $2 AND kind = 'warn' \
                 AND revoked_at IS NULL ORDER BY case_no DESC"
            )
        } else {
            concat!(
                "SELECT ",
                case_columns!(),
                " FROM mod_cases WHERE guild_id = $1 AND target_id = $2 ORDER BY case_no DESC"
            )
        };
        let rows = sqlx::query(query)
            .bind(db_id(guild))
            .bind(db_id(target))
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(case_from_row).collect::<Result<_, _>>()?)
    }

    /// Replaces a case's reason; false when there is no such case.
    pub async fn set_case_reason(
        &self,
        guild: u64,
        number: i64,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE mod_cases SET reason = $3 WHERE guild_id = $1 AND case_no = $2")
                .bind(db_id(guild))
                .bind(number)
                .bind(reason)
                .execute(self.pool())
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes a case; false when there is no such case. Its number is not reused.
    pub async fn delete_case(&self, guild: u64, number: i64) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM mod_cases WHERE guild_id = $1 AND case_no = $2")
            .bind(db_id(guild))
            .bind(number)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Takes a warning back (it stays in the history, marked). Conditional, so two moderators
    /// taking back the same warning at once can't both succeed.
    pub async fn revoke_warning(
        &self,
        guild: u64,
        number: i64,
        by: u64,
    ) -> Result<Case, UnwarnError> {
        let row = sqlx::query(concat!(
            "UPDATE mod_cases SET revoked_at = $3, revoked_by = $4 \
             WHERE guild_id = $1 AND case_no = $2 AND kind = 'warn' AND revoked_at IS NULL \
             RETURNING ",
            case_columns!()
        ))
        .bind(db_id(guild))
        .bind(number)
        .bind(now_ms())
        .bind(db_id(by))
        .fetch_optional(self.pool())
        .await
        .map_err(StoreError::from)?;
        if let Some(row) = row {
            return Ok(case_from_row(&row).map_err(StoreError::from)?);
        }
        match self.case(guild, number).await? {
            None => Err(UnwarnError::NoCase(number)),
            Some(c) if c.kind != "warn" => Err(UnwarnError::NotAWarning(number)),
            Some(_) => Err(UnwarnError::AlreadyRevoked(number)),
        }
    }
}
