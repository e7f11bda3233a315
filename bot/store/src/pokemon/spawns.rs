//! Wild spawns and catching them: the race between catchers is decided by one conditional
//! update of the spawn row.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::collection::add_to_dex;
use super::items::take_item;
use super::{POKEMON_COLUMNS, Pokemon, PokemonError, join, parse_ivs, pokemon_from};
use crate::{Store, StoreError, db_id, now_ms};

/// A wild Pokémon about to be posted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSpawn {
    pub guild: u64,
    pub channel: u64,
    pub species: u16,
    pub level: u8,
    pub shiny: bool,
    pub nature: u8,
    pub ivs: [u8; 6],
}

/// A posted wild Pokémon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spawn {
    pub id: i64,
    pub guild: u64,
    pub channel: u64,
    pub species: u16,
    pub level: u8,
    pub shiny: bool,
    pub nature: u8,
    pub ivs: [u8; 6],
    pub created_at: i64,
    pub caught_by: Option<u64>,
}

/// What a caught Pokémon starts as (the caller fills in experience and moves).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPokemon {
    pub species: u16,
    pub level: u8,
    pub exp: u32,
    pub nature: u8,
    pub ivs: [u8; 6],
    pub shiny: bool,
    pub friendship: u8,
    pub moves: Vec<u16>,
}

const SPAWN_COLUMNS: &str =
    "id, guild_id, channel_id, species, level, shiny, nature, ivs, created_at, caught_by";

fn spawn_from(row: &AnyRow) -> Result<Spawn, sqlx::Error> {
    Ok(Spawn {
        id: row.try_get(0)?,
        guild: row.try_get::<i64, _>(1)? as u64,
        channel: row.try_get::<i64, _>(2)? as u64,
        species: row.try_get::<i64, _>(3)? as u16,
        level: row.try_get::<i64, _>(4)? as u8,
        shiny: row.try_get::<i64, _>(5)? != 0,
        nature: row.try_get::<i64, _>(6)? as u8,
        ivs: parse_ivs(&row.try_get::<String, _>(7)?),
        created_at: row.try_get(8)?,
        caught_by: row.try_get::<Option<i64>, _>(9)?.map(|u| u as u64),
    })
}

impl Store {
    /// Where the guild's spawns go; `None`: wherever people chat.
    pub async fn spawn_channel(&self, guild: u64) -> Result<Option<u64>, StoreError> {
        let row = sqlx::query("SELECT spawn_channel_id FROM pokemon_guilds WHERE guild_id = $1")
            .bind(db_id(guild))
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(row) => row.try_get::<Option<i64>, _>(0)?.map(|c| c as u64),
            None => None,
        })
    }

    pub async fn set_spawn_channel(
        &self,
        guild: u64,
        channel: Option<u64>,
        by: u64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO pokemon_guilds (guild_id, spawn_channel_id, changed_by, changed_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (guild_id) DO UPDATE SET \
             spawn_channel_id = excluded.spawn_channel_id, changed_by = excluded.changed_by, \
             changed_at = excluded.changed_at",
        )
        .bind(db_id(guild))
        .bind(channel.map(db_id))
        .bind(db_id(by))
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records a wild Pokémon; it becomes the one `/catch` aims at in its channel.
    pub async fn create_spawn(&self, s: &NewSpawn) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO pokemon_spawns (guild_id, channel_id, species, level, shiny, nature, ivs, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(db_id(s.guild))
        .bind(db_id(s.channel))
        .bind(i64::from(s.species))
        .bind(i64::from(s.level))
        .bind(i64::from(s.shiny))
        .bind(i64::from(s.nature))
        .bind(join(&s.ivs))
        .bind(now_ms())
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get(0)?)
    }

    /// The newest spawn in a channel, caught or not.
    pub async fn latest_spawn(&self, channel: u64) -> Result<Option<Spawn>, StoreError> {
        let sql = format!(
            "SELECT {SPAWN_COLUMNS} FROM pokemon_spawns WHERE channel_id = $1 ORDER BY id DESC LIMIT 1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(db_id(channel))
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(spawn_from).transpose()?)
    }

    /// Catches spawn `spawn` for `user`: marks the spawn caught (only if nobody has), takes one
    /// `ball` from the bag if given, creates the Pokémon and pays `reward` coins, all in one
    /// transaction. Among any number of concurrent catchers exactly one gets `Ok`; the others
    /// get [`PokemonError::AlreadyCaught`] and keep their ball.
    pub async fn catch_spawn(
        &self,
        spawn: i64,
        user: u64,
        new: &NewPokemon,
        ball: Option<&str>,
        reward: i64,
    ) -> Result<Pokemon, PokemonError> {
        self.ensure_user(user).await?;
        self.retry_lock_races(|| self.try_catch(spawn, user, new, ball, reward))
            .await
    }

    async fn try_catch(
        &self,
        spawn: i64,
        user: u64,
        new: &NewPokemon,
        ball: Option<&str>,
        reward: i64,
    ) -> Result<Pokemon, PokemonError> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let won = sqlx::query(
            "UPDATE pokemon_spawns SET caught_by = $1, caught_at = $2 WHERE id = $3 AND caught_by IS NULL",
        )
        .bind(db_id(user))
        .bind(now)
        .bind(spawn)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if won != 1 {
            tx.rollback().await?;
            let by: Option<i64> = sqlx::query("SELECT caught_by FROM pokemon_spawns WHERE id = $1")
                .bind(spawn)
                .fetch_optional(self.pool())
                .await?
                .map(|r| r.try_get(0))
                .transpose()?
                .flatten();
            return Err(match by {
                Some(by) => PokemonError::AlreadyCaught { by: by as u64 },
                None => PokemonError::Invalid("There is no wild Pokémon here to catch."),
            });
        }
        if let Some(ball) = ball
            && !take_item(&mut tx, user, ball).await?
        {
            tx.rollback().await?;
            return Err(PokemonError::NoItem {
                item: ball.to_owned(),
            });
        }
        let sql = format!(
            "INSERT INTO pokemon (owner_id, species, level, exp, nature, ivs, shiny, friendship, moves, spawn_id, caught_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {POKEMON_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(db_id(user))
            .bind(i64::from(new.species))
            .bind(i64::from(new.level))
            .bind(i64::from(new.exp))
            .bind(i64::from(new.nature))
            .bind(join(&new.ivs))
            .bind(i64::from(new.shiny))
            .bind(i64::from(new.friendship))
            .bind(join(&new.moves))
            .bind(spawn)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
        let caught = pokemon_from(&row)?;
        add_to_dex(&mut tx, user, new.species).await?;
        if reward > 0 {
            sqlx::query("UPDATE users SET currency = currency + $1 WHERE id = $2")
                .bind(reward)
                .bind(db_id(user))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(caught)
    }
}
