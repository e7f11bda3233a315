//! Trips: starting one (taking its supplies), finding due ones, the payout claim that pays each
//! exactly once, and the announcement lease that makes sure its result is posted.

use lounge_osrs::{Bank, MAX_XP, Skill, TripOutcome, level_for_xp};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::bank::{credit_item, debit_item};
use super::slayer::{SlayerResult, count_toward_task};
use super::{OsrsStoreError, Tx};
use crate::{Store, StoreError, db_id, now_ms};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TripKind {
    Kill,
    Skill,
    Travel,
}

impl TripKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kill => "kill",
            Self::Skill => "skill",
            Self::Travel => "travel",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "kill" => Self::Kill,
            "skill" => Self::Skill,
            _ => Self::Travel,
        }
    }
}

/// A trip to store: its outcome was simulated already; `consumed` is taken from the bank now.
pub struct NewTrip {
    pub user: u64,
    pub guild: Option<u64>,
    pub channel: u64,
    pub kind: TripKind,
    pub target: String,
    pub seed: u64,
    /// `None` for travel.
    pub outcome: Option<TripOutcome>,
    pub consumed: Bank,
    pub started_at: i64,
    pub ends_at: i64,
    /// The Slayer task its kills count toward, if it is a kill trip on task.
    pub slayer_task: Option<i64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Trip {
    pub id: i64,
    pub user_id: u64,
    pub guild_id: Option<u64>,
    pub channel_id: u64,
    pub kind: TripKind,
    pub target: String,
    pub seed: u64,
    pub outcome: Option<TripOutcome>,
    pub active: bool,
    pub started_at: i64,
    pub ends_at: i64,
    pub finished_at: Option<i64>,
    /// Achievement names fixed for its announcement; `None` until first worked out.
    pub earned: Option<Vec<String>>,
    /// The Slayer task its kills count toward.
    pub slayer_task: Option<i64>,
    /// What paying it did to that task; `None` before the payout or when off task (or the
    /// task had ended by then).
    pub slayer: Option<SlayerResult>,
    /// Set when it could not be paid; `outcome` is then `None`.
    pub failure: Option<TripFailure>,
}

/// Why a trip was not paid, and what it gave back instead.
#[derive(Clone, Debug, PartialEq)]
pub struct TripFailure {
    /// For the log: why its stored outcome could not be read.
    pub error: String,
    /// The supplies returned to the bank; `None` when they could not be worked out either.
    pub refunded: Option<Bank>,
}

/// Longest decode error kept on a failed trip.
const FAILURE_MAX: usize = 500;

/// How long a process may take to post a trip result before another may post it instead.
/// Longer than a slow Discord request; short enough that a crash delays a result only a little.
pub const ANNOUNCE_LEASE_MS: i64 = 15_000;

/// The columns `trip_from_row` reads, in its order.
macro_rules! trip_columns {
    () => {
        "id, user_id, guild_id, channel_id, kind, target, seed, outcome, state, started_at, \
         ends_at, finished_at, earned, slayer_task, slayer_result, consumed, failure"
    };
}

impl Store {
    /// Stores a trip and takes its supplies from the bank, in one transaction. Refused when
    /// the character already has an active trip (a unique index guarantees that across
    /// processes) or the bank no longer holds the supplies.
    pub async fn osrs_start_trip(&self, trip: &NewTrip) -> Result<i64, OsrsStoreError> {
        self.retry_lock_races(|| self.try_start_trip(trip)).await
    }

    async fn try_start_trip(&self, trip: &NewTrip) -> Result<i64, OsrsStoreError> {
        let outcome = match &trip.outcome {
            Some(o) => serde_json::to_string(o).map_err(|e| sqlx::Error::Encode(e.into()))?,
            None => "{}".to_owned(),
        };
        let consumed =
            serde_json::to_string(&trip.consumed).map_err(|e| sqlx::Error::Encode(e.into()))?;
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO osrs_trips (user_id, guild_id, channel_id, kind, target, seed, outcome, \
             state, started_at, ends_at, slayer_task, consumed) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $9, $10, $11) RETURNING id",
        )
        .bind(db_id(trip.user))
        .bind(trip.guild.map(db_id))
        .bind(db_id(trip.channel))
        .bind(trip.kind.as_str())
        .bind(&trip.target)
        .bind(trip.seed as i64)
        .bind(outcome)
        .bind(trip.started_at)
        .bind(trip.ends_at)
        .bind(trip.slayer_task)
        .bind(consumed)
        .fetch_one(&mut *tx)
        .await;
        let id: i64 = match inserted {
            Ok(row) => row.try_get(0)?,
            Err(e)
                if e.as_database_error()
                    .is_some_and(sqlx::error::DatabaseError::is_unique_violation) =>
            {
                return Err(OsrsStoreError::TripRunning);
            }
            Err(e) => return Err(e.into()),
        };
        for (item, qty) in trip.consumed.iter() {
            debit_item(&mut tx, trip.user, item, qty).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    pub async fn osrs_active_trip(&self, user: u64) -> Result<Option<Trip>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            trip_columns!(),
            " FROM osrs_trips WHERE user_id = $1 AND state = 'active'"
        ))
        .bind(db_id(user))
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(trip_from_row).transpose()
    }

    /// The character's most recently finished trip.
    pub async fn osrs_last_trip(&self, user: u64) -> Result<Option<Trip>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            trip_columns!(),
            " FROM osrs_trips WHERE user_id = $1 AND state = 'done' ORDER BY id DESC LIMIT 1"
        ))
        .bind(db_id(user))
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(trip_from_row).transpose()
    }

    pub async fn osrs_trip(&self, id: i64) -> Result<Option<Trip>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            trip_columns!(),
            " FROM osrs_trips WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(trip_from_row).transpose()
    }

    /// Ids of active trips that ended at or before `now`, the earliest first.
    pub async fn osrs_due_trips(&self, now: i64, limit: i64) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM osrs_trips WHERE state = 'active' AND ends_at <= $1 \
             ORDER BY ends_at, id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// How many active trips ended at or before `now`: the payout backlog (an index range
    /// count on `osrs_trips_due`).
    pub async fn osrs_due_trip_count(&self, now: i64) -> Result<i64, StoreError> {
        let row =
            sqlx::query("SELECT COUNT(*) FROM osrs_trips WHERE state = 'active' AND ends_at <= $1")
                .bind(now)
                .fetch_one(self.pool())
                .await?;
        Ok(row.try_get(0)?)
    }

    /// When the next active trip ends after `now`, if one does.
    pub async fn osrs_next_trip_end(&self, now: i64) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "SELECT MIN(ends_at) FROM osrs_trips WHERE state = 'active' AND ends_at > $1",
        )
        .bind(now)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get(0)?)
    }

    /// Claims trip `id` and pays it: experience, loot, kill count or the new location, all in
    /// the transaction whose conditional update claims it. Returns the trip if this call paid
    /// it, `None` if it was not active (another process or an earlier call paid it).
    pub async fn osrs_claim_trip(&self, id: i64) -> Result<Option<Trip>, OsrsStoreError> {
        self.retry_lock_races(|| self.try_claim_trip(id)).await
    }

    async fn try_claim_trip(&self, id: i64) -> Result<Option<Trip>, OsrsStoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(concat!(
            "UPDATE osrs_trips SET state = 'done', finished_at = $2, announce_lease = $3 \
             WHERE id = $1 AND state = 'active' RETURNING ",
            trip_columns!()
        ))
        .bind(id)
        .bind(now_ms())
        .bind(now_ms() + ANNOUNCE_LEASE_MS)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(None);
        };
        let (mut trip, unreadable) = read_trip(&row)?;
        if let Some(error) = unreadable {
            // A result written by another version (or damaged) would fail here on every
            // round and hold up the trips behind it: end it, give its supplies back, and let
            // the announcement tell its owner.
            let raw: String = row.try_get(7)?;
            let consumed: Option<String> = row.try_get(15)?;
            let refunded = supplies(consumed.as_deref(), &raw);
            if let Some(bank) = &refunded {
                for (item, qty) in bank.iter() {
                    credit_item(&mut tx, trip.user_id, item, qty).await?;
                }
            }
            let mut error = error.to_string();
            if error.len() > FAILURE_MAX {
                let cut = (0..=FAILURE_MAX).rev().find(|&i| error.is_char_boundary(i));
                error.truncate(cut.unwrap_or(0));
            }
            let kept = refunded
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(|e| sqlx::Error::Encode(e.into()))?;
            sqlx::query("UPDATE osrs_trips SET failure = $2, consumed = $3 WHERE id = $1")
                .bind(trip.id)
                .bind(&error)
                .bind(kept)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            trip.failure = Some(TripFailure { error, refunded });
            return Ok(Some(trip));
        }
        let user = trip.user_id;
        if let Some(outcome) = &trip.outcome {
            for (&skill, &xp) in &outcome.xp {
                add_xp(&mut tx, user, skill, xp).await?;
            }
            for (item, qty) in outcome.loot.iter() {
                credit_item(&mut tx, user, item, qty).await?;
            }
            if trip.kind == TripKind::Kill && outcome.completed > 0 {
                sqlx::query(
                    "INSERT INTO osrs_kills (user_id, monster, kills) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id, monster) DO UPDATE SET kills = osrs_kills.kills + excluded.kills",
                )
                .bind(db_id(user))
                .bind(&trip.target)
                .bind(outcome.completed as i64)
                .execute(&mut *tx)
                .await?;
                if let Some(task) = trip.slayer_task {
                    trip.slayer = count_toward_task(&mut tx, user, task, outcome.completed).await?;
                    if let Some(result) = &trip.slayer {
                        let json = serde_json::to_string(result)
                            .map_err(|e| sqlx::Error::Encode(e.into()))?;
                        sqlx::query("UPDATE osrs_trips SET slayer_result = $2 WHERE id = $1")
                            .bind(trip.id)
                            .bind(json)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
        }
        if trip.kind == TripKind::Travel {
            sqlx::query("UPDATE osrs_characters SET location = $1 WHERE user_id = $2")
                .bind(&trip.target)
                .bind(db_id(user))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Some(trip))
    }

    /// Paid trips whose result is still owed to their channel and whose announcement lease
    /// has run out (the process holding it died or gave up for now), the oldest first.
    pub async fn osrs_owed_announcements(
        &self,
        now: i64,
        limit: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM osrs_trips WHERE state = 'done' AND announced_at IS NULL \
             AND announce_lease <= $1 ORDER BY id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// Takes the lease on announcing trip `id` if it is owed and nobody holds it; the trip if
    /// this call took it.
    pub async fn osrs_take_announcement(
        &self,
        id: i64,
        now: i64,
    ) -> Result<Option<Trip>, StoreError> {
        let row = sqlx::query(concat!(
            "UPDATE osrs_trips SET announce_lease = $3 \
             WHERE id = $1 AND state = 'done' AND announced_at IS NULL AND announce_lease <= $2 \
             RETURNING ",
            trip_columns!()
        ))
        .bind(id)
        .bind(now)
        .bind(now + ANNOUNCE_LEASE_MS)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(trip_from_row).transpose()
    }

    /// Fixes the achievements trip `id` announces, unless an earlier attempt already did;
    /// returns the ones fixed.
    pub async fn osrs_fix_earned(
        &self,
        id: i64,
        names: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let json = serde_json::to_string(names).map_err(|e| sqlx::Error::Encode(e.into()))?;
        let row = sqlx::query(
            "UPDATE osrs_trips SET earned = COALESCE(earned, $2) WHERE id = $1 RETURNING earned",
        )
        .bind(id)
        .bind(json)
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(row) => {
                let earned: Option<String> = row.try_get(0)?;
                Ok(earned
                    .map(|e| serde_json::from_str(&e).map_err(|e| sqlx::Error::Decode(e.into())))
                    .transpose()?
                    .unwrap_or_default())
            }
            None => Ok(names.to_vec()),
        }
    }

    /// Records that trip `id`'s result reached its channel (or never can).
    pub async fn osrs_mark_announced(&self, id: i64, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE osrs_trips SET announced_at = $2 WHERE id = $1 AND announced_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

fn trip_from_row(r: &AnyRow) -> Result<Trip, StoreError> {
    match read_trip(r)? {
        (trip, None) => Ok(trip),
        (_, Some(e)) => Err(sqlx::Error::Decode(e.into()).into()),
    }
}

/// The supplies a trip took: the column written at its start, or, for a trip started before
/// that column existed, the `consumed` part of its outcome if that much still reads.
fn supplies(column: Option<&str>, outcome: &str) -> Option<Bank> {
    if let Some(bank) = column.and_then(|c| serde_json::from_str(c).ok()) {
        return Some(bank);
    }
    let value: serde_json::Value = serde_json::from_str(outcome).ok()?;
    serde_json::from_value(value.get("consumed")?.clone()).ok()
}

/// A trip, and the error if its outcome does not decode (the trip then has none).
fn read_trip(r: &AnyRow) -> Result<(Trip, Option<serde_json::Error>), StoreError> {
    let kind = TripKind::parse(&r.try_get::<String, _>(4)?);
    let failure: Option<String> = r.try_get(16)?;
    let failure = match failure {
        Some(error) => Some(TripFailure {
            error,
            refunded: r
                .try_get::<Option<String>, _>(15)?
                .and_then(|c| serde_json::from_str(&c).ok()),
        }),
        None => None,
    };
    let outcome: String = r.try_get(7)?;
    let (outcome, unreadable) = match kind {
        TripKind::Travel => (None, None),
        _ if failure.is_some() => (None, None),
        _ => match serde_json::from_str(&outcome) {
            Ok(o) => (Some(o), None),
            Err(e) => (None, Some(e)),
        },
    };
    let trip = Trip {
        id: r.try_get(0)?,
        user_id: r.try_get::<i64, _>(1)? as u64,
        guild_id: r.try_get::<Option<i64>, _>(2)?.map(|g| g as u64),
        channel_id: r.try_get::<i64, _>(3)? as u64,
        kind,
        target: r.try_get(5)?,
        seed: r.try_get::<i64, _>(6)? as u64,
        outcome,
        active: r.try_get::<String, _>(8)? == "active",
        started_at: r.try_get(9)?,
        ends_at: r.try_get(10)?,
        finished_at: r.try_get(11)?,
        earned: r
            .try_get::<Option<String>, _>(12)?
            .map(|e| serde_json::from_str(&e).map_err(|e| sqlx::Error::Decode(e.into())))
            .transpose()?,
        slayer_task: r.try_get(13)?,
        slayer: r
            .try_get::<Option<String>, _>(14)?
            .map(|e| serde_json::from_str(&e).map_err(|e| sqlx::Error::Decode(e.into())))
            .transpose()?,
        failure,
    };
    Ok((trip, unreadable))
}

/// Adds experience (capped like the game's) and keeps the stored level in step.
async fn add_xp(tx: &mut Tx, user: u64, skill: Skill, xp: u64) -> Result<(), sqlx::Error> {
    let row = sqlx::query(
        "UPDATE osrs_skills SET xp = CASE WHEN xp + $1 > $2 THEN $2 ELSE xp + $1 END \
         WHERE user_id = $3 AND skill = $4 RETURNING xp",
    )
    .bind(xp.min(u64::from(MAX_XP)) as i64)
    .bind(i64::from(MAX_XP))
    .bind(db_id(user))
    .bind(skill.name())
    .fetch_one(&mut **tx)
    .await?;
    let total: i64 = row.try_get(0)?;
    sqlx::query("UPDATE osrs_skills SET level = $1 WHERE user_id = $2 AND skill = $3")
        .bind(i64::from(level_for_xp(
            u32::try_from(total).unwrap_or(MAX_XP),
        )))
        .bind(db_id(user))
        .bind(skill.name())
        .execute(&mut **tx)
        .await?;
    Ok(())
}
