//! Slayer: points, streaks and the one active task, which the payout of a kill trip counts
//! kills toward.

use lounge_osrs::Assignment;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{OsrsStoreError, Tx};
use crate::{Store, StoreError, db_id, now_ms};

/// What a paid kill trip did to its Slayer task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlayerResult {
    pub master: String,
    pub category: String,
    /// Kills still to do (0 when this trip completed it).
    pub remaining: u64,
    pub completed: bool,
    /// Points this trip earned (only when it completed the task).
    pub points: u32,
    /// Tasks completed so far, this one included when it completed.
    pub streak: u64,
}

/// A Slayer task as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredTask {
    pub id: i64,
    pub master: String,
    pub category: String,
    pub quantity: u64,
    pub remaining: u64,
    pub assigned_at: i64,
}

/// A character's Slayer standing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlayerStatus {
    pub points: u32,
    /// Tasks completed.
    pub streak: u64,
    pub task: Option<StoredTask>,
}

impl Store {
    /// Points, tasks completed and the current task.
    pub async fn osrs_slayer_status(&self, user: u64) -> Result<SlayerStatus, StoreError> {
        let row = sqlx::query("SELECT points, streak FROM osrs_slayer WHERE user_id = $1")
            .bind(db_id(user))
            .fetch_optional(self.pool())
            .await?;
        let (points, streak) = match row {
            Some(r) => (r.try_get::<i64, _>(0)?, r.try_get::<i64, _>(1)?),
            None => (0, 0),
        };
        Ok(SlayerStatus {
            points: u32::try_from(points).unwrap_or(u32::MAX),
            streak: streak as u64,
            task: self.osrs_slayer_task(user).await?,
        })
    }

    /// The task the character is on, if any.
    pub async fn osrs_slayer_task(&self, user: u64) -> Result<Option<StoredTask>, StoreError> {
        let row = sqlx::query(
            "SELECT id, master, category, quantity, remaining, assigned_at FROM osrs_slayer_tasks \
             WHERE user_id = $1 AND state = 'active'",
        )
        .bind(db_id(user))
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(task_from_row).transpose()
    }

    /// Stores a new task; refused while one is assigned (a unique index guarantees that
    /// across processes).
    pub async fn osrs_assign_slayer_task(
        &self,
        user: u64,
        task: &Assignment,
    ) -> Result<StoredTask, OsrsStoreError> {
        let row = sqlx::query(
            "INSERT INTO osrs_slayer_tasks (user_id, master, category, quantity, remaining, state, \
             assigned_at) VALUES ($1, $2, $3, $4, $4, 'active', $5) \
             RETURNING id, master, category, quantity, remaining, assigned_at",
        )
        .bind(db_id(user))
        .bind(&task.master)
        .bind(&task.category)
        .bind(i64::from(task.quantity))
        .bind(now_ms())
        .fetch_one(self.pool())
        .await;
        match row {
            Ok(row) => Ok(task_from_row(&row)?),
            Err(e)
                if e.as_database_error()
                    .is_some_and(sqlx::error::DatabaseError::is_unique_violation) =>
            {
                Err(OsrsStoreError::TaskAssigned)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Ends the current task unfinished for `cost` points, both or neither. Returns the task
    /// and the points left.
    pub async fn osrs_skip_slayer_task(
        &self,
        user: u64,
        cost: u32,
    ) -> Result<(StoredTask, u32), OsrsStoreError> {
        self.retry_lock_races(|| self.try_skip_task(user, cost))
            .await
    }

    async fn try_skip_task(
        &self,
        user: u64,
        cost: u32,
    ) -> Result<(StoredTask, u32), OsrsStoreError> {
        let mut tx = self.begin_write().await?;
        let task = sqlx::query(
            "UPDATE osrs_slayer_tasks SET state = 'skipped', finished_at = $2 \
             WHERE user_id = $1 AND state = 'active' \
             RETURNING id, master, category, quantity, remaining, assigned_at",
        )
        .bind(db_id(user))
        .bind(now_ms())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(task) = task else {
            tx.rollback().await?;
            return Err(OsrsStoreError::NoTask);
        };
        let task = task_from_row(&task)?;
        let left = sqlx::query(
            "UPDATE osrs_slayer SET points = points - $2 WHERE user_id = $1 AND points >= $2 \
             RETURNING points",
        )
        .bind(db_id(user))
        .bind(i64::from(cost))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(left) = left else {
            let have = sqlx::query("SELECT points FROM osrs_slayer WHERE user_id = $1")
                .bind(db_id(user))
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get::<i64, _>(0))
                .transpose()?
                .unwrap_or(0);
            tx.rollback().await?;
            return Err(OsrsStoreError::NotEnoughPoints {
                needed: cost,
                have: u32::try_from(have).unwrap_or(u32::MAX),
            });
        };
        let left: i64 = left.try_get(0)?;
        tx.commit().await?;
        Ok((task, u32::try_from(left).unwrap_or(u32::MAX)))
    }
}

/// Counts `kills` toward task `task` if it is still the character's active task; completes it
/// (state, streak, points) when none remain. `None` if the task had ended (skipped) since the
/// trip started.
pub(super) async fn count_toward_task(
    tx: &mut Tx,
    user: u64,
    task: i64,
    kills: u64,
) -> Result<Option<SlayerResult>, sqlx::Error> {
    let row = sqlx::query(
        "UPDATE osrs_slayer_tasks \
         SET remaining = CASE WHEN remaining > $3 THEN remaining - $3 ELSE 0 END \
         WHERE id = $1 AND user_id = $2 AND state = 'active' RETURNING remaining, master, category",
    )
    .bind(task)
    .bind(db_id(user))
    .bind(kills as i64)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let remaining = row.try_get::<i64, _>(0)? as u64;
    let master: String = row.try_get(1)?;
    let category: String = row.try_get(2)?;
    sqlx::query(
        "INSERT INTO osrs_slayer (user_id, points, streak) VALUES ($1, 0, 0) \
         ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(db_id(user))
    .execute(&mut **tx)
    .await?;
    let (completed, points, streak) = if remaining == 0 {
        sqlx::query("UPDATE osrs_slayer_tasks SET state = 'done', finished_at = $2 WHERE id = $1")
            .bind(task)
            .bind(now_ms())
            .execute(&mut **tx)
            .await?;
        let streak = sqlx::query(
            "UPDATE osrs_slayer SET streak = streak + 1 WHERE user_id = $1 RETURNING streak",
        )
        .bind(db_id(user))
        .fetch_one(&mut **tx)
        .await?
        .try_get::<i64, _>(0)? as u64;
        // A master missing from newer data pays nothing rather than failing the payout.
        let points = lounge_osrs::data()
            .slayer_master(&master)
            .map_or(0, |m| lounge_osrs::task_points(m, streak));
        sqlx::query("UPDATE osrs_slayer SET points = points + $2 WHERE user_id = $1")
            .bind(db_id(user))
            .bind(i64::from(points))
            .execute(&mut **tx)
            .await?;
        (true, points, streak)
    } else {
        let streak = sqlx::query("SELECT streak FROM osrs_slayer WHERE user_id = $1")
            .bind(db_id(user))
            .fetch_one(&mut **tx)
            .await?
            .try_get::<i64, _>(0)? as u64;
        (false, 0, streak)
    };
    Ok(Some(SlayerResult {
        master,
        category,
        remaining,
        completed,
        points,
        streak,
    }))
}

fn task_from_row(r: &AnyRow) -> Result<StoredTask, StoreError> {
    Ok(StoredTask {
        id: r.try_get(0)?,
        master: r.try_get(1)?,
        category: r.try_get(2)?,
        quantity: r.try_get::<i64, _>(3)? as u64,
        remaining: r.try_get::<i64, _>(4)? as u64,
        assigned_at: r.try_get(5)?,
    })
}
