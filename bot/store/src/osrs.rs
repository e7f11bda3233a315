//! OSRS characters, banks, gear, trips and leaderboards.
//!
//! Items change hands only through conditional updates inside one transaction: supplies are
//! taken when a trip starts (`qty >= needed`), and a trip is paid by the transaction that
//! claims it (`UPDATE ... WHERE id = $1 AND state = 'active'`), so several bot processes
//! catching up on the same due trip pay it exactly once. Posting the result is owed from that
//! commit on: a lease taken in the same transaction says who posts it, and `announced_at` that
//! it was posted, so a crash between paying and posting delays the result but never loses it.
//!
//! Slayer tasks are rows too: the payout that claims a kill trip also counts its kills toward
//! the task the trip was started on (a conditional update of the task, in the claim's
//! transaction), completes the task and awards its points, so concurrent claimers count kills
//! once; a skip is a conditional debit of points and a conditional end of the task together.

use lounge_osrs::{Assignment, Bank, MAX_XP, Skill, Skills, TripOutcome, level_for_xp};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{LockRace, Store, StoreError, db_id, now_ms};

/// Members can use every world and all content; free-to-play characters only F2P worlds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountMode {
    Members,
    Free,
}

impl AccountMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Members => "members",
            Self::Free => "free",
        }
    }

    fn parse(s: &str) -> Self {
        if s == "free" {
            Self::Free
        } else {
            Self::Members
        }
    }
}

#[derive(Clone, Debug)]
pub struct OsrsCharacter {
    pub user_id: u64,
    pub name: String,
    pub mode: AccountMode,
    pub world: u32,
    pub location: String,
    pub skills: Skills,
    pub created_at: i64,
}

/// What a new character starts with.
pub struct NewCharacter<'a> {
    pub user: u64,
    pub name: &'a str,
    pub mode: AccountMode,
    pub world: u32,
    pub location: &'a str,
    pub bank: &'a Bank,
    /// (slot, item id) pairs.
    pub equipment: &'a [(&'a str, u32)],
}

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
}

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

/// A leaderboard to rank by.
#[derive(Clone, Copy, Debug)]
pub enum Board<'a> {
    /// Total level, ties broken by total experience.
    TotalLevel,
    Skill(Skill),
    /// Kill count of one monster (its canonical name).
    Kills(&'a str),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ranked {
    pub user_id: u64,
    pub name: String,
    pub value: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum OsrsStoreError {
    #[error("this user already has a character")]
    AlreadyHasCharacter,
    #[error("the name is taken")]
    NameTaken,
    #[error("a trip is already running")]
    TripRunning,
    #[error("item {item}: {needed} needed, {have} in the bank")]
    MissingItem { item: u32, needed: u64, have: u64 },
    #[error("a Slayer task is already assigned")]
    TaskAssigned,
    #[error("no Slayer task is assigned")]
    NoTask,
    #[error("{needed} Slayer points needed, {have} held")]
    NotEnoughPoints { needed: u32, have: u32 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for OsrsStoreError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(StoreError::Query(e))
    }
}

impl LockRace for OsrsStoreError {
    fn query_error(&self) -> Option<&sqlx::Error> {
        match self {
            Self::Store(StoreError::Query(e)) => Some(e),
            _ => None,
        }
    }
}

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// How long a process may take to post a trip result before another may post it instead.
/// Longer than a slow Discord request; short enough that a crash delays a result only a little.
pub const ANNOUNCE_LEASE_MS: i64 = 15_000;

/// The columns `trip_from_row` reads, in its order.
macro_rules! trip_columns {
    () => {
        "id, user_id, guild_id, channel_id, kind, target, seed, outcome, state, started_at, \
         ends_at, finished_at, earned, slayer_task, slayer_result"
    };
}

impl Store {
    pub async fn osrs_create_character(
        &self,
        new: &NewCharacter<'_>,
    ) -> Result<(), OsrsStoreError> {
        if self.osrs_character(new.user).await?.is_some() {
            return Err(OsrsStoreError::AlreadyHasCharacter);
        }
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO osrs_characters (user_id, name, name_key, mode, world, location, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING user_id",
        )
        .bind(db_id(new.user))
        .bind(new.name)
        .bind(new.name.to_lowercase())
        .bind(new.mode.as_str())
        .bind(i64::from(new.world))
        .bind(new.location)
        .bind(now_ms())
        .fetch_optional(&mut *tx)
        .await?;
        if inserted.is_none() {
            tx.rollback().await?;
            // Either constraint may have stopped it; the user one was checked just above, but
            // another process can have created the character in between.
            return Err(if self.osrs_character(new.user).await?.is_some() {
                OsrsStoreError::AlreadyHasCharacter
            } else {
                OsrsStoreError::NameTaken
            });
        }
        let skills = Skills::default();
        for skill in Skill::ALL {
            let xp = skills.xp(skill);
            sqlx::query(
                "INSERT INTO osrs_skills (user_id, skill, xp, level) VALUES ($1, $2, $3, $4)",
            )
            .bind(db_id(new.user))
            .bind(skill.name())
            .bind(i64::from(xp))
            .bind(i64::from(level_for_xp(xp)))
            .execute(&mut *tx)
            .await?;
        }
        for (item, qty) in new.bank.iter() {
            credit_item(&mut tx, new.user, item, qty).await?;
        }
        for &(slot, item) in new.equipment {
            sqlx::query("INSERT INTO osrs_equipment (user_id, slot, item_id) VALUES ($1, $2, $3)")
                .bind(db_id(new.user))
                .bind(slot)
                .bind(i64::from(item))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn osrs_character(&self, user: u64) -> Result<Option<OsrsCharacter>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT name, mode, world, location, created_at FROM osrs_characters WHERE user_id = $1",
        )
        .bind(db_id(user))
        .fetch_optional(self.pool())
        .await?
        else {
            return Ok(None);
        };
        let rows = sqlx::query("SELECT skill, xp FROM osrs_skills WHERE user_id = $1")
            .bind(db_id(user))
            .fetch_all(self.pool())
            .await?;
        // Level 1 everywhere is 0 experience, so adding each stored total reproduces it.
        let mut skills = Skills::all_at(1);
        for r in rows {
            let name: String = r.try_get(0)?;
            let xp: i64 = r.try_get(1)?;
            if let Some(skill) = Skill::from_name(&name) {
                skills.add_xp(skill, u32::try_from(xp).unwrap_or(MAX_XP));
            }
        }
        let mode: String = row.try_get(1)?;
        let world: i64 = row.try_get(2)?;
        Ok(Some(OsrsCharacter {
            user_id: user,
            name: row.try_get(0)?,
            mode: AccountMode::parse(&mode),
            world: world as u32,
            location: row.try_get(3)?,
            skills,
            created_at: row.try_get(4)?,
        }))
    }

    pub async fn osrs_bank(&self, user: u64) -> Result<Bank, StoreError> {
        let rows = sqlx::query("SELECT item_id, qty FROM osrs_bank WHERE user_id = $1 AND qty > 0")
            .bind(db_id(user))
            .fetch_all(self.pool())
            .await?;
        let mut bank = Bank::new();
        for r in rows {
            let (item, qty): (i64, i64) = (r.try_get(0)?, r.try_get(1)?);
            bank.add(item as u32, qty as u64);
        }
        Ok(bank)
    }

    /// Worn items as (slot, item id), by slot name.
    pub async fn osrs_equipment(&self, user: u64) -> Result<Vec<(String, u32)>, StoreError> {
        let rows = sqlx::query(
            "SELECT slot, item_id FROM osrs_equipment WHERE user_id = $1 ORDER BY slot",
        )
        .bind(db_id(user))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get::<i64, _>(1)? as u32)))
            .collect()
    }

    /// Moves one `item` from the bank into `slot`, first returning whatever is worn in `slot`
    /// and in each of `also_clear` to the bank. Returns the items taken off.
    pub async fn osrs_equip(
        &self,
        user: u64,
        item: u32,
        slot: &str,
        also_clear: &[&str],
    ) -> Result<Vec<u32>, OsrsStoreError> {
        let mut tx = self.begin_write().await?;
        debit_item(&mut tx, user, item, 1).await?;
        let mut removed = Vec::new();
        for clear in std::iter::once(slot).chain(also_clear.iter().copied()) {
            if let Some(old) = take_off(&mut tx, user, clear).await? {
                removed.push(old);
            }
        }
        sqlx::query("INSERT INTO osrs_equipment (user_id, slot, item_id) VALUES ($1, $2, $3)")
            .bind(db_id(user))
            .bind(slot)
            .bind(i64::from(item))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(removed)
    }

    /// Returns the item worn in `slot` to the bank.
    pub async fn osrs_unequip(&self, user: u64, slot: &str) -> Result<Option<u32>, OsrsStoreError> {
        let mut tx = self.begin_write().await?;
        let removed = take_off(&mut tx, user, slot).await?;
        tx.commit().await?;
        Ok(removed)
    }

    pub async fn osrs_set_world(&self, user: u64, world: u32) -> Result<(), StoreError> {
        sqlx::query("UPDATE osrs_characters SET world = $1 WHERE user_id = $2")
            .bind(i64::from(world))
            .bind(db_id(user))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Records that the character plays in `guild`, for that guild's leaderboards.
    pub async fn osrs_note_guild(&self, guild: u64, user: u64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO osrs_guild_players (guild_id, user_id) VALUES ($1, $2) \
             ON CONFLICT (guild_id, user_id) DO NOTHING",
        )
        .bind(db_id(guild))
        .bind(db_id(user))
        .execute(self.pool())
        .await?;
        Ok(())
    }

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
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO osrs_trips (user_id, guild_id, channel_id, kind, target, seed, outcome, \
             state, started_at, ends_at, slayer_task) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $9, $10) RETURNING id",
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
        let mut trip = trip_from_row(&row)?;
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

    /// Records achievements; returns those the character did not have before (each is
    /// returned to exactly one caller, however many race).
    pub async fn osrs_grant_achievements(
        &self,
        user: u64,
        keys: &[&str],
    ) -> Result<Vec<String>, StoreError> {
        let mut new = Vec::new();
        if keys.is_empty() {
            return Ok(new);
        }
        let mut tx = self.begin_write().await?;
        for key in keys {
            let row = sqlx::query(
                "INSERT INTO osrs_achievements (user_id, achievement, earned_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id, achievement) DO NOTHING RETURNING achievement",
            )
            .bind(db_id(user))
            .bind(*key)
            .bind(now_ms())
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = row {
                new.push(row.try_get(0)?);
            }
        }
        tx.commit().await?;
        Ok(new)
    }

    /// Achievements as (key, earned at), oldest first.
    pub async fn osrs_achievements(&self, user: u64) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT achievement, earned_at FROM osrs_achievements WHERE user_id = $1 \
             ORDER BY earned_at, achievement",
        )
        .bind(db_id(user))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Kill counts as (monster, kills), most killed first.
    pub async fn osrs_kills(&self, user: u64) -> Result<Vec<(String, u64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT monster, kills FROM osrs_kills WHERE user_id = $1 ORDER BY kills DESC, monster",
        )
        .bind(db_id(user))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get::<i64, _>(1)? as u64)))
            .collect()
    }

    /// The top `limit` characters on a board, in `guild` (characters that played there) or
    /// everywhere.
    pub async fn osrs_leaderboard(
        &self,
        board: Board<'_>,
        guild: Option<u64>,
        limit: i64,
    ) -> Result<Vec<Ranked>, StoreError> {
        // The guild filter is $1 when present, so the board's own parameters follow it.
        let (join, first) = match guild {
            Some(_) => (
                "JOIN osrs_guild_players g ON g.user_id = c.user_id AND g.guild_id = $1",
                2,
            ),
            None => ("", 1),
        };
        let (a, b) = (first, first + 1);
        let sql = match board {
            Board::TotalLevel => format!(
                "SELECT c.user_id, c.name, CAST(SUM(s.level) AS BIGINT) AS total, \
                 CAST(SUM(s.xp) AS BIGINT) AS xp FROM osrs_characters c {join} \
                 JOIN osrs_skills s ON s.user_id = c.user_id \
                 GROUP BY c.user_id, c.name ORDER BY total DESC, xp DESC, c.user_id LIMIT ${a}"
            ),
            Board::Skill(_) => format!(
                "SELECT c.user_id, c.name, s.xp FROM osrs_characters c {join} \
                 JOIN osrs_skills s ON s.user_id = c.user_id AND s.skill = ${a} \
                 ORDER BY s.xp DESC, c.user_id LIMIT ${b}"
            ),
            Board::Kills(_) => format!(
                "SELECT c.user_id, c.name, k.kills FROM osrs_characters c {join} \
                 JOIN osrs_kills k ON k.user_id = c.user_id AND k.monster = ${a} \
                 WHERE k.kills > 0 ORDER BY k.kills DESC, c.user_id LIMIT ${b}"
            ),
        };
        // Built only from the fixed fragments above; every value is a bound parameter.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(guild) = guild {
            query = query.bind(db_id(guild));
        }
        query = match board {
            Board::TotalLevel => query,
            Board::Skill(skill) => query.bind(skill.name()),
            Board::Kills(monster) => query.bind(monster),
        };
        let rows = query.bind(limit).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(Ranked {
                    user_id: r.try_get::<i64, _>(0)? as u64,
                    name: r.try_get(1)?,
                    value: r.try_get(2)?,
                })
            })
            .collect()
    }

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
async fn count_toward_task(
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

fn trip_from_row(r: &AnyRow) -> Result<Trip, StoreError> {
    let kind = TripKind::parse(&r.try_get::<String, _>(4)?);
    let outcome: String = r.try_get(7)?;
    let outcome = match kind {
        TripKind::Travel => None,
        _ => Some(serde_json::from_str(&outcome).map_err(|e| sqlx::Error::Decode(e.into()))?),
    };
    Ok(Trip {
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
    })
}

async fn credit_item(tx: &mut Tx, user: u64, item: u32, qty: u64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO osrs_bank (user_id, item_id, qty) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id, item_id) DO UPDATE SET qty = osrs_bank.qty + excluded.qty",
    )
    .bind(db_id(user))
    .bind(i64::from(item))
    .bind(qty as i64)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Takes `qty` of `item` only if the bank holds that many.
async fn debit_item(tx: &mut Tx, user: u64, item: u32, qty: u64) -> Result<(), OsrsStoreError> {
    let row = sqlx::query(
        "UPDATE osrs_bank SET qty = qty - $1 WHERE user_id = $2 AND item_id = $3 AND qty >= $1 \
         RETURNING qty",
    )
    .bind(qty as i64)
    .bind(db_id(user))
    .bind(i64::from(item))
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        let have = sqlx::query("SELECT qty FROM osrs_bank WHERE user_id = $1 AND item_id = $2")
            .bind(db_id(user))
            .bind(i64::from(item))
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| r.try_get::<i64, _>(0))
            .transpose()?
            .unwrap_or(0);
        return Err(OsrsStoreError::MissingItem {
            item,
            needed: qty,
            have: have as u64,
        });
    };
    // An emptied slot leaves the bank, so listings never show "0 ×".
    if row.try_get::<i64, _>(0)? == 0 {
        sqlx::query("DELETE FROM osrs_bank WHERE user_id = $1 AND item_id = $2 AND qty = 0")
            .bind(db_id(user))
            .bind(i64::from(item))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn take_off(tx: &mut Tx, user: u64, slot: &str) -> Result<Option<u32>, sqlx::Error> {
    let row = sqlx::query(
        "DELETE FROM osrs_equipment WHERE user_id = $1 AND slot = $2 RETURNING item_id",
    )
    .bind(db_id(user))
    .bind(slot)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let item = row.try_get::<i64, _>(0)? as u32;
    credit_item(tx, user, item, 1).await?;
    Ok(Some(item))
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
