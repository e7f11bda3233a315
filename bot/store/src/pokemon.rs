//! The Pokémon game: spawns, catches, collections, items, trades and battle records.
//!
//! Every change of ownership follows `transfer_currency`'s pattern: one transaction, rows
//! changed only by conditional updates (`WHERE caught_by IS NULL`, `WHERE owner_id = $expected`)
//! whose affected-row count decides success, rows touched in a fixed order (users by id, then
//! Pokémon by id) and lock-race failures retried. So two catchers of one spawn get exactly one
//! winner, and a trade either moves everything it lists or nothing, across processes too.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{LockRace, Store, StoreError, db_id, now_ms};

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

/// An owned Pokémon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pokemon {
    pub id: i64,
    pub owner: u64,
    pub species: u16,
    pub nickname: Option<String>,
    pub level: u8,
    pub exp: u32,
    pub nature: u8,
    pub ivs: [u8; 6],
    pub shiny: bool,
    pub friendship: u8,
    pub moves: Vec<u16>,
    pub favourite: bool,
    pub evolve: bool,
    pub caught_at: i64,
    /// The item it holds, as the games spell it.
    pub held_item: Option<String>,
}

/// A Pokémon's growth after experience (and maybe an evolution).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    pub species: u16,
    pub level: u8,
    pub exp: u32,
    pub friendship: u8,
    pub moves: Vec<u16>,
    /// What it holds afterwards: the same item, or `None` when evolving used it up.
    pub held_item: Option<String>,
}

/// What trading does to a Pokémon that changed hands (Kadabra → Alakazam; Onix holding a
/// Metal Coat → Steelix, using the coat up). The game's rules decide; the store applies it in
/// the swap's transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TradeEvolution {
    pub into: u16,
    pub uses_item: bool,
}

/// The game's trade-evolution rule, given to the swap: the Pokémon as it arrives (new owner,
/// still its old species) in, what it becomes out.
pub type TradeEvolver<'a> = &'a (dyn Fn(&Pokemon) -> Option<TradeEvolution> + Send + Sync);

/// A swap's rule for stores without one: nothing evolves.
pub fn no_trade_evolution(_: &Pokemon) -> Option<TradeEvolution> {
    None
}

/// A Pokémon that evolved in a swap: as it arrived, and its new species.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evolved {
    pub before: Pokemon,
    pub into: u16,
    /// The held item evolving used up.
    pub used_item: Option<String>,
}

/// Where an item given to a Pokémon came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeldFrom {
    /// One from the member's bag.
    Bag,
    /// Bought for the price; the balance left.
    Bought { balance: i64 },
}

/// One side of a trade: who gives which Pokémon and how many coins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TradeSide {
    pub user: u64,
    pub pokemon: Vec<i64>,
    pub coins: i64,
}

/// A trade in progress, as both members see it. Index 0 is the member who proposed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenTrade {
    pub id: i64,
    pub guild: u64,
    pub users: [u64; 2],
    pub coins: [i64; 2],
    /// Offered Pokémon per side, in the order they were added.
    pub pokemon: [Vec<i64>; 2],
    pub confirmed: [bool; 2],
    pub updated_at: i64,
}

impl OpenTrade {
    /// 0 or 1, for a member of the trade.
    pub fn side_of(&self, user: u64) -> Option<usize> {
        self.users.iter().position(|&u| u == user)
    }

    pub fn is_empty(&self) -> bool {
        self.pokemon.iter().all(Vec::is_empty) && self.coins.iter().all(|&c| c == 0)
    }

    /// The other member of the trade.
    pub fn other_than(&self, user: u64) -> u64 {
        self.users[usize::from(self.users[0] == user)]
    }

    /// What each member gives, as the swap takes it.
    pub fn sides(&self) -> [TradeSide; 2] {
        [0, 1].map(|i| TradeSide {
            user: self.users[i],
            pokemon: self.pokemon[i].clone(),
            coins: self.coins[i],
        })
    }
}

/// A change a member makes to their side of an open trade.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TradeChange {
    Add { pokemon: Vec<i64>, coins: i64 },
    Remove { pokemon: Vec<i64>, coins: i64 },
}

/// What a confirmation did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirmation {
    /// Recorded; the other member has yet to confirm (this state of) the trade.
    Waiting(OpenTrade),
    /// Both had confirmed: the swap happened (`swap` is its id in the trade history), and
    /// these Pokémon evolved on arrival.
    Done {
        trade: OpenTrade,
        swap: i64,
        evolved: Vec<Evolved>,
    },
}

/// A trade left untouched this long is given up: what it held is free again.
pub const TRADE_IDLE_MS: i64 = 10 * 60 * 1000;
/// Pokémon one side may offer in one trade.
pub const TRADE_MAX_POKEMON: usize = 25;

/// Why a swap could not happen; the transaction is rolled back before it is explained.
enum SwapRefusal {
    Funds { user: u64, needed: i64 },
    NotOwned { id: i64, owner: u64 },
}

/// A finished battle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BattleRecord {
    pub guild: u64,
    pub challenger: u64,
    /// `None` for a wild opponent.
    pub opponent: Option<u64>,
    pub winner: Option<u64>,
    /// `win`, `loss`, `tie`, `forfeit` or `timeout`, from the challenger's side.
    pub outcome: &'static str,
    pub turns: u32,
    /// Whom the computer played ("Hiker Clarence", "wild Pidgey"); `None` between members.
    pub npc: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PokemonError {
    #[error("It was already caught by <@{by}>.")]
    AlreadyCaught { by: u64 },
    #[error("You have no {item} left.")]
    NoItem { item: String },
    #[error("<@{user}> doesn't have enough coins: {balance}, and this needs {needed}.")]
    InsufficientFunds {
        user: u64,
        balance: i64,
        needed: i64,
    },
    #[error("Pokémon #{id} doesn't belong to <@{owner}> (any more).")]
    NotOwned { id: i64, owner: u64 },
    #[error("Pokémon #{id} is a favourite; unfavourite it first.")]
    Favourite { id: i64 },
    #[error("<@{user}> is already in a trade; it has to be finished or cancelled first.")]
    InTrade { user: u64 },
    #[error("You're not in a trade. Start one with `/trade start`.")]
    NoTrade,
    #[error(
        "Pokémon #{id} is offered in an open trade: take it out with `/trade remove` or cancel the trade first."
    )]
    Offered { id: i64 },
    #[error("Pokémon #{id} isn't on your side of the trade.")]
    NotOffered { id: i64 },
    #[error("#{id} is listed twice.")]
    ListedTwice { id: i64 },
    #[error("#{id} already holds a {item}; take it with `/pokemon takeitem {id}` first.")]
    AlreadyHolding { id: i64, item: String },
    #[error("#{id} isn't holding anything.")]
    NotHolding { id: i64 },
    #[error("{0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for PokemonError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(StoreError::Query(e))
    }
}

/// Most Pokémon a battle team holds, as in the main series.
pub const TEAM_SIZE: usize = 6;

type Tx = sqlx::Transaction<'static, sqlx::Any>;

const POKEMON_COLUMNS: &str = "id, owner_id, species, nickname, level, exp, nature, ivs, shiny, \
     friendship, moves, favourite, evolve, caught_at, held_item";
const SPAWN_COLUMNS: &str =
    "id, guild_id, channel_id, species, level, shiny, nature, ivs, created_at, caught_by";

fn join<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_ivs(s: &str) -> [u8; 6] {
    let mut out = [0; 6];
    for (slot, v) in out.iter_mut().zip(s.split(',')) {
        *slot = v.trim().parse().unwrap_or(0);
    }
    out
}

fn parse_moves(s: &str) -> Vec<u16> {
    s.split(',').filter_map(|m| m.trim().parse().ok()).collect()
}

fn pokemon_from(row: &AnyRow) -> Result<Pokemon, sqlx::Error> {
    Ok(Pokemon {
        id: row.try_get(0)?,
        owner: row.try_get::<i64, _>(1)? as u64,
        species: row.try_get::<i64, _>(2)? as u16,
        nickname: row.try_get(3)?,
        level: row.try_get::<i64, _>(4)? as u8,
        exp: row.try_get::<i64, _>(5)? as u32,
        nature: row.try_get::<i64, _>(6)? as u8,
        ivs: parse_ivs(&row.try_get::<String, _>(7)?),
        shiny: row.try_get::<i64, _>(8)? != 0,
        friendship: row.try_get::<i64, _>(9)? as u8,
        moves: parse_moves(&row.try_get::<String, _>(10)?),
        favourite: row.try_get::<i64, _>(11)? != 0,
        evolve: row.try_get::<i64, _>(12)? != 0,
        caught_at: row.try_get(13)?,
        held_item: row.try_get(14)?,
    })
}

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

impl LockRace for PokemonError {
    fn query_error(&self) -> Option<&sqlx::Error> {
        match self {
            Self::Store(StoreError::Query(e)) => Some(e),
            _ => None,
        }
    }
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

    /// Uses up one item (a ball thrown that missed). `false` if the user has none.
    pub async fn use_item(&self, user: u64, item: &str) -> Result<bool, PokemonError> {
        self.retry_lock_races(|| async {
            let mut tx = self.begin_write().await?;
            let ok = take_item(&mut tx, user, item).await?;
            tx.commit().await?;
            Ok(ok)
        })
        .await
    }

    /// Buys `count` of `item` at `unit_price` coins each: the debit and the credit are one
    /// transaction, and the debit is conditional on the balance.
    pub async fn buy_item(
        &self,
        user: u64,
        item: &str,
        count: i64,
        unit_price: i64,
    ) -> Result<(i64, i64), PokemonError> {
        if count <= 0 {
            return Err(PokemonError::Invalid("Buy at least one."));
        }
        let cost = count
            .checked_mul(unit_price)
            .ok_or(PokemonError::Invalid("That is far too many."))?;
        self.ensure_user(user).await?;
        self.retry_lock_races(|| async {
            let mut tx = self.begin_write().await?;
            let row = sqlx::query(
                "UPDATE users SET currency = currency - $1 WHERE id = $2 AND currency >= $1 RETURNING currency",
            )
            .bind(cost)
            .bind(db_id(user))
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                tx.rollback().await?;
                return Err(PokemonError::InsufficientFunds {
                    user,
                    balance: self.balance(user).await?,
                    needed: cost,
                });
            };
            let balance: i64 = row.try_get(0)?;
            let row = sqlx::query(
                "INSERT INTO pokemon_items (user_id, item, count) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id, item) DO UPDATE SET count = pokemon_items.count + excluded.count \
                 RETURNING count",
            )
            .bind(db_id(user))
            .bind(item)
            .bind(count)
            .fetch_one(&mut *tx)
            .await?;
            let owned: i64 = row.try_get(0)?;
            tx.commit().await?;
            Ok((owned, balance))
        })
        .await
    }

    /// The user's items with a non-zero count, by name.
    pub async fn items(&self, user: u64) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT item, count FROM pokemon_items WHERE user_id = $1 AND count > 0 ORDER BY item",
        )
        .bind(db_id(user))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    pub async fn item_count(&self, user: u64, item: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT count FROM pokemon_items WHERE user_id = $1 AND item = $2")
            .bind(db_id(user))
            .bind(item)
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => r.try_get(0)?,
            None => 0,
        })
    }

    /// Every Pokémon a user owns, oldest first.
    pub async fn owned_pokemon(&self, owner: u64) -> Result<Vec<Pokemon>, StoreError> {
        let sql = format!("SELECT {POKEMON_COLUMNS} FROM pokemon WHERE owner_id = $1 ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(db_id(owner))
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(pokemon_from).collect::<Result<_, _>>()?)
    }

    pub async fn pokemon(&self, id: i64) -> Result<Option<Pokemon>, StoreError> {
        let sql = format!("SELECT {POKEMON_COLUMNS} FROM pokemon WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(pokemon_from).transpose()?)
    }

    /// How many Pokémon each user owns (for tests and stats).
    pub async fn pokemon_count(&self, owner: u64) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) FROM pokemon WHERE owner_id = $1")
            .bind(db_id(owner))
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get(0)?)
    }

    /// Sets or clears a nickname. `false` if the owner does not own that Pokémon.
    pub async fn set_nickname(
        &self,
        id: i64,
        owner: u64,
        nickname: Option<&str>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE pokemon SET nickname = $1 WHERE id = $2 AND owner_id = $3")
            .bind(nickname)
            .bind(id)
            .bind(db_id(owner))
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(done == 1)
    }

    pub async fn set_favourite(&self, id: i64, owner: u64, on: bool) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE pokemon SET favourite = $1 WHERE id = $2 AND owner_id = $3")
            .bind(i64::from(on))
            .bind(id)
            .bind(db_id(owner))
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(done == 1)
    }

    /// Opts a Pokémon in or out of evolving.
    pub async fn set_evolve(&self, id: i64, owner: u64, on: bool) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE pokemon SET evolve = $1 WHERE id = $2 AND owner_id = $3")
            .bind(i64::from(on))
            .bind(id)
            .bind(db_id(owner))
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(done == 1)
    }

    /// Releases (deletes) a Pokémon, only if `owner` still owns it and it is no favourite; it
    /// leaves its battle team and the item it held goes back to the owner's bag, in the same
    /// transaction.
    pub async fn release_pokemon(&self, id: i64, owner: u64) -> Result<Pokemon, PokemonError> {
        for _ in 0..HELD_ITEM_RACES {
            let released = self
                .retry_lock_races(|| async {
                    let mut tx = self.begin_write().await?;
                    // The bag row is written before the Pokémon's (items, then Pokémon, as
                    // `hold_item` locks them), so the delete is guarded by the item read here.
                    let held = held_item_of(&mut tx, id, owner).await?.flatten();
                    if let Some(item) = &held {
                        add_to_bag(&mut tx, owner, item).await?;
                    }
                    let sql = format!(
                        "DELETE FROM pokemon WHERE id = $1 AND owner_id = $2 AND favourite = 0 \
                         AND COALESCE(held_item, '') = $3 \
                         AND NOT EXISTS (SELECT 1 FROM pokemon_trade_offers WHERE pokemon_id = $1) \
                         RETURNING {POKEMON_COLUMNS}"
                    );
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(id)
                        .bind(db_id(owner))
                        .bind(held.unwrap_or_default())
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some(row) = row else {
                        tx.rollback().await?;
                        return Ok::<_, PokemonError>(None);
                    };
                    leave_team(&mut tx, id).await?;
                    tx.commit().await?;
                    Ok(Some(pokemon_from(&row)?))
                })
                .await?;
            if let Some(p) = released {
                return Ok(p);
            }
            match self.pokemon(id).await? {
                Some(p) if p.owner == owner && p.favourite => {
                    return Err(PokemonError::Favourite { id });
                }
                Some(p) if p.owner == owner && self.is_offered(id).await? => {
                    return Err(PokemonError::Offered { id });
                }
                // Its item changed between the read and the delete: look again.
                Some(p) if p.owner == owner => {}
                _ => return Err(PokemonError::NotOwned { id, owner }),
            }
        }
        Err(PokemonError::Invalid(CHANGED))
    }

    /// Gives Pokémon `id` the item `item` to hold: one from the owner's bag if there is one,
    /// else bought for `price` coins (a conditional debit), in one transaction with the
    /// conditional update that gives it, so a Pokémon released, traded, offered or given
    /// something else meanwhile costs nothing.
    pub async fn hold_item(
        &self,
        id: i64,
        owner: u64,
        item: &str,
        price: i64,
    ) -> Result<HeldFrom, PokemonError> {
        // Said before anything is charged; the transaction decides.
        self.why_not_holdable(id, owner).await?;
        self.ensure_user(owner).await?;
        self.retry_lock_races(|| async {
            let mut tx = self.begin_write().await?;
            let from = if take_item(&mut tx, owner, item).await? {
                HeldFrom::Bag
            } else {
                let row = sqlx::query(
                    "UPDATE users SET currency = currency - $1 WHERE id = $2 AND currency >= $1 RETURNING currency",
                )
                .bind(price)
                .bind(db_id(owner))
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else {
                    tx.rollback().await?;
                    return Err(PokemonError::InsufficientFunds {
                        user: owner,
                        balance: self.balance(owner).await?,
                        needed: price,
                    });
                };
                HeldFrom::Bought {
                    balance: row.try_get(0)?,
                }
            };
            let done = sqlx::query(
                "UPDATE pokemon SET held_item = $1 WHERE id = $2 AND owner_id = $3 AND held_item IS NULL \
                 AND NOT EXISTS (SELECT 1 FROM pokemon_trade_offers WHERE pokemon_id = $2)",
            )
            .bind(item)
            .bind(id)
            .bind(db_id(owner))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done != 1 {
                tx.rollback().await?;
                self.why_not_holdable(id, owner).await?;
                return Err(PokemonError::Invalid(CHANGED));
            }
            tx.commit().await?;
            Ok(from)
        })
        .await
    }

    /// Why Pokémon `id` can't be given an item by `owner` now, if it can't.
    async fn why_not_holdable(&self, id: i64, owner: u64) -> Result<(), PokemonError> {
        match self.pokemon(id).await? {
            Some(p) if p.owner == owner => {
                if let Some(item) = p.held_item {
                    return Err(PokemonError::AlreadyHolding { id, item });
                }
                if self.is_offered(id).await? {
                    return Err(PokemonError::Offered { id });
                }
                Ok(())
            }
            _ => Err(PokemonError::NotOwned { id, owner }),
        }
    }

    /// Takes the item Pokémon `id` holds and puts it in the owner's bag, in one transaction;
    /// returns the item. Refused for a Pokémon offered in an open trade, which is what the
    /// other member agreed to.
    pub async fn take_held_item(&self, id: i64, owner: u64) -> Result<String, PokemonError> {
        for _ in 0..HELD_ITEM_RACES {
            let taken = self
                .retry_lock_races(|| async {
                    let mut tx = self.begin_write().await?;
                    let Some(held) = held_item_of(&mut tx, id, owner).await? else {
                        tx.rollback().await?;
                        return Err(PokemonError::NotOwned { id, owner });
                    };
                    let Some(item) = held else {
                        tx.rollback().await?;
                        return Err(PokemonError::NotHolding { id });
                    };
                    add_to_bag(&mut tx, owner, &item).await?;
                    let done = sqlx::query(
                        "UPDATE pokemon SET held_item = NULL WHERE id = $1 AND owner_id = $2 AND held_item = $3 \
                         AND NOT EXISTS (SELECT 1 FROM pokemon_trade_offers WHERE pokemon_id = $1)",
                    )
                    .bind(id)
                    .bind(db_id(owner))
                    .bind(&item)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if done != 1 {
                        tx.rollback().await?;
                        if self.is_offered(id).await? {
                            return Err(PokemonError::Offered { id });
                        }
                        // Taken, traded or swapped for another item since the read: look again.
                        return Ok(None);
                    }
                    tx.commit().await?;
                    Ok(Some(item))
                })
                .await?;
            if let Some(item) = taken {
                return Ok(item);
            }
        }
        Err(PokemonError::Invalid(CHANGED))
    }

    /// The user's battle team in order: only the members they still own, so a team saved
    /// while one of them was being traded away never fights with it.
    pub async fn team(&self, owner: u64) -> Result<Vec<Pokemon>, StoreError> {
        let sql = format!(
            "SELECT {POKEMON_COLUMNS} FROM pokemon_teams JOIN pokemon \
             ON pokemon.id = pokemon_teams.pokemon_id AND pokemon.owner_id = pokemon_teams.user_id \
             WHERE pokemon_teams.user_id = $1 ORDER BY pokemon_teams.slot"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(db_id(owner))
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(pokemon_from).collect::<Result<_, _>>()?)
    }

    /// Makes `ids`, in this order, the user's battle team, replacing the old one. Refused
    /// whole, leaving the old team, if the list is empty or longer than [`TEAM_SIZE`], names a
    /// Pokémon twice or names one the user doesn't own.
    pub async fn set_team(&self, owner: u64, ids: &[i64]) -> Result<Vec<Pokemon>, PokemonError> {
        if ids.is_empty() {
            return Err(PokemonError::Invalid("A team needs at least one Pokémon."));
        }
        if ids.len() > TEAM_SIZE {
            return Err(PokemonError::Invalid("A team has at most six Pokémon."));
        }
        if let Some((_, &id)) = ids
            .iter()
            .enumerate()
            .find(|&(i, id)| ids[..i].contains(id))
        {
            return Err(PokemonError::ListedTwice { id });
        }
        self.retry_lock_races(|| async {
            let mut tx = self.begin_write().await?;
            sqlx::query("DELETE FROM pokemon_teams WHERE user_id = $1")
                .bind(db_id(owner))
                .execute(&mut *tx)
                .await?;
            for (slot, &id) in ids.iter().enumerate() {
                // A former owner's row can outlive a trade that raced their team change; the
                // insert below proves the Pokémon is this user's now, so that row is stale.
                leave_team(&mut tx, id).await?;
                let done = sqlx::query(
                    "INSERT INTO pokemon_teams (user_id, slot, pokemon_id) \
                     SELECT owner_id, $1, id FROM pokemon WHERE id = $2 AND owner_id = $3",
                )
                .bind(slot as i64)
                .bind(id)
                .bind(db_id(owner))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if done != 1 {
                    tx.rollback().await?;
                    return Err(PokemonError::NotOwned { id, owner });
                }
            }
            tx.commit().await?;
            Ok(())
        })
        .await?;
        Ok(self.team(owner).await?)
    }

    /// Empties the user's battle team; `false` if there was none.
    pub async fn clear_team(&self, owner: u64) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM pokemon_teams WHERE user_id = $1")
            .bind(db_id(owner))
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(done > 0)
    }

    /// Chooses the Pokémon that gains chat experience and battles. `false` if not owned.
    pub async fn select_pokemon(&self, owner: u64, id: i64) -> Result<bool, StoreError> {
        if self.pokemon(id).await?.is_none_or(|p| p.owner != owner) {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO pokemon_trainers (user_id, selected_id) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO UPDATE SET selected_id = excluded.selected_id",
        )
        .bind(db_id(owner))
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(true)
    }

    /// The selected Pokémon if the user still owns it, else their oldest one.
    pub async fn selected_pokemon(&self, owner: u64) -> Result<Option<Pokemon>, StoreError> {
        let selected: Option<i64> =
            sqlx::query("SELECT selected_id FROM pokemon_trainers WHERE user_id = $1")
                .bind(db_id(owner))
                .fetch_optional(self.pool())
                .await?
                .map(|r| r.try_get(0))
                .transpose()?
                .flatten();
        if let Some(id) = selected
            && let Some(p) = self.pokemon(id).await?.filter(|p| p.owner == owner)
        {
            return Ok(Some(p));
        }
        let sql = format!(
            "SELECT {POKEMON_COLUMNS} FROM pokemon WHERE owner_id = $1 ORDER BY id LIMIT 1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(db_id(owner))
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(pokemon_from).transpose()?)
    }

    /// Writes experience, level, moves and maybe a new species (and the held item it used up),
    /// only if the Pokémon is still owned by `owner` and unchanged since `before` was read, its
    /// held item included (another write in between wins, and this one reports `false` rather
    /// than overwriting it).
    pub async fn save_progress(
        &self,
        before: &Pokemon,
        progress: &Progress,
    ) -> Result<bool, PokemonError> {
        self.retry_lock_races(|| async {
            let mut tx = self.begin_write().await?;
            let done = sqlx::query(
                "UPDATE pokemon SET species = $1, level = $2, exp = $3, friendship = $4, moves = $5, \
                 held_item = $11 \
                 WHERE id = $6 AND owner_id = $7 AND exp = $8 AND species = $9 AND friendship = $10 \
                 AND COALESCE(held_item, '') = $12",
            )
            .bind(i64::from(progress.species))
            .bind(i64::from(progress.level))
            .bind(i64::from(progress.exp))
            .bind(i64::from(progress.friendship))
            .bind(join(&progress.moves))
            .bind(before.id)
            .bind(db_id(before.owner))
            .bind(i64::from(before.exp))
            .bind(i64::from(before.species))
            .bind(i64::from(before.friendship))
            .bind(progress.held_item.as_deref())
            .bind(before.held_item.as_deref().unwrap_or_default())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done != 1 {
                tx.rollback().await?;
                return Ok(false);
            }
            if progress.species != before.species {
                add_to_dex(&mut tx, before.owner, progress.species).await?;
            }
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    /// Evolves `before` into `into` for `price` coins, in one transaction: the debit is
    /// conditional on the balance and the species change on the Pokémon being still the
    /// owner's and unchanged, so a Pokémon traded, released or evolved meanwhile costs nothing.
    /// Returns the balance left.
    pub async fn evolve_with_item(
        &self,
        before: &Pokemon,
        into: u16,
        price: i64,
    ) -> Result<i64, PokemonError> {
        self.ensure_user(before.owner).await?;
        self.retry_lock_races(|| async {
            let mut tx = self.begin_write().await?;
            let row = sqlx::query(
                "UPDATE users SET currency = currency - $1 WHERE id = $2 AND currency >= $1 RETURNING currency",
            )
            .bind(price)
            .bind(db_id(before.owner))
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                tx.rollback().await?;
                return Err(PokemonError::InsufficientFunds {
                    user: before.owner,
                    balance: self.balance(before.owner).await?,
                    needed: price,
                });
            };
            let balance: i64 = row.try_get(0)?;
            let done = sqlx::query(
                "UPDATE pokemon SET species = $1 WHERE id = $2 AND owner_id = $3 AND species = $4 \
                 AND NOT EXISTS (SELECT 1 FROM pokemon_trade_offers WHERE pokemon_id = $2)",
            )
            .bind(i64::from(into))
            .bind(before.id)
            .bind(db_id(before.owner))
            .bind(i64::from(before.species))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done != 1 {
                tx.rollback().await?;
                return Err(match self.pokemon(before.id).await? {
                    Some(p) if p.owner == before.owner && self.is_offered(p.id).await? => {
                        PokemonError::Offered { id: p.id }
                    }
                    Some(p) if p.owner == before.owner => {
                        PokemonError::Invalid("It changed in the meantime; nothing was charged.")
                    }
                    _ => PokemonError::NotOwned {
                        id: before.id,
                        owner: before.owner,
                    },
                });
            }
            add_to_dex(&mut tx, before.owner, into).await?;
            tx.commit().await?;
            Ok(balance)
        })
        .await
    }

    /// Whether Pokémon `id` is offered in an open trade.
    pub async fn is_offered(&self, id: i64) -> Result<bool, StoreError> {
        Ok(
            sqlx::query("SELECT 1 FROM pokemon_trade_offers WHERE pokemon_id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?
                .is_some(),
        )
    }

    /// Species the user has ever owned, in Pokédex order.
    pub async fn dex(&self, user: u64) -> Result<Vec<u16>, StoreError> {
        let rows =
            sqlx::query("SELECT species FROM pokemon_dex WHERE user_id = $1 ORDER BY species")
                .bind(db_id(user))
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<i64, _>(0)? as u16))
            .collect()
    }

    /// Gives up trades idle since before `now - TRADE_IDLE_MS`, freeing what they held.
    pub async fn trade_expire(&self, now: i64) -> Result<u64, StoreError> {
        self.retry_lock_races(|| async {
            let mut tx = self.begin_write().await?;
            let expired = sqlx::query(
                "UPDATE pokemon_open_trades SET state = 'expired' \
                     WHERE state = 'open' AND updated_at < $1",
            )
            .bind(now - TRADE_IDLE_MS)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if expired > 0 {
                release_closed_trades(&mut tx).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(expired)
        })
        .await
    }

    /// Opens a trade between `a` (who proposes it) and `b`; each may be in one open trade.
    pub async fn trade_open(
        &self,
        guild: u64,
        a: u64,
        b: u64,
        now: i64,
    ) -> Result<OpenTrade, PokemonError> {
        if a == b {
            return Err(PokemonError::Invalid("You can't trade with yourself."));
        }
        self.trade_expire(now).await?;
        // The swap credits coins to both rows, which must exist by then.
        self.ensure_user(a).await?;
        self.ensure_user(b).await?;
        self.retry_lock_races(|| async {
            let mut tx = self.begin_write().await?;
            let row = sqlx::query(
                "INSERT INTO pokemon_open_trades (guild_id, user_a, user_b, state, opened_at, updated_at) \
                 VALUES ($1, $2, $3, 'open', $4, $4) RETURNING id",
            )
            .bind(db_id(guild))
            .bind(db_id(a))
            .bind(db_id(b))
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let id: i64 = row.try_get(0)?;
            for user in [a, b] {
                let joined = sqlx::query(
                    "INSERT INTO pokemon_trade_members (user_id, trade) VALUES ($1, $2) \
                     ON CONFLICT (user_id) DO NOTHING",
                )
                .bind(db_id(user))
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if joined != 1 {
                    tx.rollback().await?;
                    return Err(PokemonError::InTrade { user });
                }
            }
            let trade = load_trade(&mut tx, id).await?;
            tx.commit().await?;
            Ok(trade)
        })
        .await
    }

    /// The open trade `user` is in, if any.
    pub async fn trade_of(&self, user: u64, now: i64) -> Result<Option<OpenTrade>, StoreError> {
        self.trade_expire(now).await?;
        let mut tx = self.begin_write().await?;
        let trade = match trade_id_of(&mut tx, user).await? {
            Some(id) => Some(load_trade(&mut tx, id).await?),
            None => None,
        };
        tx.commit().await?;
        Ok(trade)
    }

    /// Adds to or takes from `user`'s side of their trade. Any change clears both
    /// confirmations, so nobody is held to a deal they did not see.
    pub async fn trade_change(
        &self,
        user: u64,
        change: &TradeChange,
        now: i64,
    ) -> Result<OpenTrade, PokemonError> {
        let (pokemon, coins) = match change {
            TradeChange::Add { pokemon, coins } | TradeChange::Remove { pokemon, coins } => {
                (pokemon, *coins)
            }
        };
        if coins < 0 {
            return Err(PokemonError::Invalid("Coin amounts can't be negative."));
        }
        if pokemon.is_empty() && coins == 0 {
            return Err(PokemonError::Invalid(
                "Say what: Pokémon numbers (`pokemon`), coins (`coins`) or both.",
            ));
        }
        self.trade_expire(now).await?;
        self.retry_lock_races(|| async {
            let mut tx = self.begin_write().await?;
            let Some(id) = trade_id_of(&mut tx, user).await? else {
                tx.rollback().await?;
                return Err(PokemonError::NoTrade);
            };
            // Taking the trade's row lock first orders this against a concurrent confirm; a
            // trade the other member ended meanwhile matches no row.
            let open = sqlx::query(
                "UPDATE pokemon_open_trades SET confirmed_a = 0, confirmed_b = 0, updated_at = $2 \
                 WHERE id = $1 AND state = 'open'",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if open != 1 {
                tx.rollback().await?;
                return Err(PokemonError::NoTrade);
            }
            let before = load_trade(&mut tx, id).await?;
            let side = before.side_of(user).unwrap_or(0);
            let new_coins = match change {
                TradeChange::Add { pokemon, .. } => {
                    if before.pokemon[side].len() + pokemon.len() > TRADE_MAX_POKEMON {
                        tx.rollback().await?;
                        return Err(PokemonError::Invalid(
                            "A side can offer at most 25 Pokémon in one trade.",
                        ));
                    }
                    for &p in pokemon {
                        if let Err(e) = offer(&mut tx, id, user, p, now).await? {
                            tx.rollback().await?;
                            return Err(e);
                        }
                    }
                    before.coins[side] + coins
                }
                TradeChange::Remove { pokemon, .. } => {
                    for &p in pokemon {
                        let gone = sqlx::query(
                            "DELETE FROM pokemon_trade_offers WHERE pokemon_id = $1 AND trade = $2 AND user_id = $3",
                        )
                        .bind(p)
                        .bind(id)
                        .bind(db_id(user))
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                        if gone != 1 {
                            tx.rollback().await?;
                            return Err(PokemonError::NotOffered { id: p });
                        }
                    }
                    (before.coins[side] - coins).max(0)
                }
            };
            if new_coins != before.coins[side] {
                // Checked now so the member hears it now; the swap checks again.
                let balance: i64 = sqlx::query("SELECT currency FROM users WHERE id = $1")
                    .bind(db_id(user))
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|r| r.try_get(0))
                    .transpose()?
                    .unwrap_or(0);
                if new_coins > balance {
                    tx.rollback().await?;
                    return Err(PokemonError::InsufficientFunds {
                        user,
                        balance,
                        needed: new_coins,
                    });
                }
                let sql = if side == 0 {
                    "UPDATE pokemon_open_trades SET coins_a = $2 WHERE id = $1"
                } else {
                    "UPDATE pokemon_open_trades SET coins_b = $2 WHERE id = $1"
                };
                sqlx::query(sql)
                    .bind(id)
                    .bind(new_coins)
                    .execute(&mut *tx)
                    .await?;
            }
            let trade = load_trade(&mut tx, id).await?;
            tx.commit().await?;
            Ok(trade)
        })
        .await
    }

    /// Confirms `user`'s trade as it stands. The second confirmation swaps, in the same
    /// transaction, so the swap is exactly what both confirmed.
    pub async fn trade_confirm(
        &self,
        user: u64,
        now: i64,
        evolve: TradeEvolver<'_>,
    ) -> Result<Confirmation, PokemonError> {
        self.trade_expire(now).await?;
        self.retry_lock_races(|| async {
            let mut tx = self.begin_write().await?;
            let Some(id) = trade_id_of(&mut tx, user).await? else {
                tx.rollback().await?;
                return Err(PokemonError::NoTrade);
            };
            let current = load_trade(&mut tx, id).await?;
            if current.is_empty() {
                tx.rollback().await?;
                return Err(PokemonError::Invalid(
                    "The trade is empty: add Pokémon or coins with `/trade add` first.",
                ));
            }
            let sql = if current.side_of(user) == Some(0) {
                "UPDATE pokemon_open_trades SET confirmed_a = 1, updated_at = $2 \
                 WHERE id = $1 AND state = 'open' RETURNING confirmed_a, confirmed_b"
            } else {
                "UPDATE pokemon_open_trades SET confirmed_b = 1, updated_at = $2 \
                 WHERE id = $1 AND state = 'open' RETURNING confirmed_a, confirmed_b"
            };
            let Some(row) = sqlx::query(sql)
                .bind(id)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?
            else {
                // The other member cancelled it, or it completed, since we looked it up.
                tx.rollback().await?;
                return Err(PokemonError::NoTrade);
            };
            let both = row.try_get::<i64, _>(0)? == 1 && row.try_get::<i64, _>(1)? == 1;
            // Re-read under the row lock: a change committed meanwhile is what was confirmed.
            let trade = load_trade(&mut tx, id).await?;
            if !both {
                tx.commit().await?;
                return Ok(Confirmation::Waiting(trade));
            }
            let [a, b] = trade.sides();
            let (swap, evolved) = match swap_in(&mut tx, &a, &b, evolve).await? {
                Ok(swapped) => swapped,
                Err(refusal) => {
                    tx.rollback().await?;
                    return Err(self.explain(refusal).await);
                }
            };
            sqlx::query(
                "UPDATE pokemon_open_trades SET state = 'done', trade_id = $2, updated_at = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(swap)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            release_closed_trades(&mut tx).await?;
            tx.commit().await?;
            Ok(Confirmation::Done {
                trade,
                swap,
                evolved,
            })
        })
        .await
    }

    /// Cancels `user`'s trade; returns it as it was.
    pub async fn trade_cancel(&self, user: u64, now: i64) -> Result<OpenTrade, PokemonError> {
        self.trade_expire(now).await?;
        self.retry_lock_races(|| async {
            let mut tx = self.begin_write().await?;
            let Some(id) = trade_id_of(&mut tx, user).await? else {
                tx.rollback().await?;
                return Err(PokemonError::NoTrade);
            };
            let trade = load_trade(&mut tx, id).await?;
            let cancelled = sqlx::query(
                "UPDATE pokemon_open_trades SET state = 'cancelled', updated_at = $2 \
                 WHERE id = $1 AND state = 'open'",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if cancelled != 1 {
                tx.rollback().await?;
                return Err(PokemonError::NoTrade);
            }
            release_closed_trades(&mut tx).await?;
            tx.commit().await?;
            Ok(trade)
        })
        .await
    }

    /// Swaps what `a` gives for what `b` gives, in one transaction: every Pokémon moves only if
    /// its owner is still the one named, every coin balance only if it covers the net amount,
    /// and otherwise nothing at all changes; what `evolve` says trading does to a Pokémon
    /// happens in the same transaction. Rows are locked users first, then Pokémon, each in
    /// ascending id order, so concurrent trades cannot deadlock.
    pub async fn trade(
        &self,
        a: &TradeSide,
        b: &TradeSide,
        evolve: TradeEvolver<'_>,
    ) -> Result<i64, PokemonError> {
        if a.user == b.user {
            return Err(PokemonError::Invalid("You can't trade with yourself."));
        }
        if a.coins < 0 || b.coins < 0 {
            return Err(PokemonError::Invalid("Coin amounts can't be negative."));
        }
        let mut all: Vec<i64> = a.pokemon.iter().chain(&b.pokemon).copied().collect();
        all.sort_unstable();
        let before = all.len();
        all.dedup();
        if all.len() != before {
            return Err(PokemonError::Invalid("A Pokémon is listed twice."));
        }
        if all.is_empty() && a.coins == 0 && b.coins == 0 {
            return Err(PokemonError::Invalid("The trade is empty."));
        }
        self.ensure_user(a.user).await?;
        self.ensure_user(b.user).await?;
        self.retry_lock_races(|| self.try_trade(a, b, evolve)).await
    }

    async fn try_trade(
        &self,
        a: &TradeSide,
        b: &TradeSide,
        evolve: TradeEvolver<'_>,
    ) -> Result<i64, PokemonError> {
        let mut tx = self.begin_write().await?;
        match swap_in(&mut tx, a, b, evolve).await? {
            Ok((id, _)) => {
                tx.commit().await?;
                Ok(id)
            }
            Err(refusal) => {
                tx.rollback().await?;
                Err(self.explain(refusal).await)
            }
        }
    }

    async fn explain(&self, refusal: SwapRefusal) -> PokemonError {
        match refusal {
            SwapRefusal::Funds { user, needed } => match self.balance(user).await {
                Ok(balance) => PokemonError::InsufficientFunds {
                    user,
                    balance,
                    needed,
                },
                Err(e) => e.into(),
            },
            SwapRefusal::NotOwned { id, owner } => PokemonError::NotOwned { id, owner },
        }
    }

    /// Stores a finished battle and updates both trainers' records.
    pub async fn record_battle(&self, r: &BattleRecord) -> Result<i64, PokemonError> {
        self.retry_lock_races(|| async {
            let mut tx = self.begin_write().await?;
            let row = sqlx::query(
                "INSERT INTO pokemon_battles (guild_id, challenger_id, opponent_id, winner_id, outcome, turns, finished_at, npc) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(db_id(r.guild))
            .bind(db_id(r.challenger))
            .bind(r.opponent.map(db_id))
            .bind(r.winner.map(db_id))
            .bind(r.outcome)
            .bind(i64::from(r.turns))
            .bind(now_ms())
            .bind(r.npc.as_deref())
            .fetch_one(&mut *tx)
            .await?;
            let id: i64 = row.try_get(0)?;
            let mut players = vec![r.challenger];
            players.extend(r.opponent);
            players.sort_unstable();
            for p in players {
                let (win, loss) = match r.winner {
                    Some(w) if w == p => (1, 0),
                    _ if r.outcome == "tie" => (0, 0),
                    // Against the wild, the winner column is empty: the outcome says.
                    None if r.opponent.is_none() && r.outcome == "win" => (1, 0),
                    _ => (0, 1),
                };
                sqlx::query(
                    "INSERT INTO pokemon_trainers (user_id, wins, losses) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id) DO UPDATE SET wins = pokemon_trainers.wins + excluded.wins, \
                     losses = pokemon_trainers.losses + excluded.losses",
                )
                .bind(db_id(p))
                .bind(win)
                .bind(loss)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(id)
        })
        .await
    }

    /// Battles won and lost.
    pub async fn battle_record(&self, user: u64) -> Result<(i64, i64), StoreError> {
        let row = sqlx::query("SELECT wins, losses FROM pokemon_trainers WHERE user_id = $1")
            .bind(db_id(user))
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => (r.try_get(0)?, r.try_get(1)?),
            None => (0, 0),
        })
    }
}

/// Times a held-item change is retried when the item changed between its read and its
/// conditional write (another command on the same Pokémon won the race).
const HELD_ITEM_RACES: usize = 5;
const CHANGED: &str = "It changed in the meantime; nothing was done. Try again.";

/// The item Pokémon `id` holds if `owner` owns it: `None` if not, `Some(None)` if it holds nothing.
async fn held_item_of(
    tx: &mut Tx,
    id: i64,
    owner: u64,
) -> Result<Option<Option<String>>, sqlx::Error> {
    let row = sqlx::query("SELECT held_item FROM pokemon WHERE id = $1 AND owner_id = $2")
        .bind(id)
        .bind(db_id(owner))
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| r.try_get(0)).transpose()
}

async fn add_to_bag(tx: &mut Tx, user: u64, item: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO pokemon_items (user_id, item, count) VALUES ($1, $2, 1) \
         ON CONFLICT (user_id, item) DO UPDATE SET count = pokemon_items.count + 1",
    )
    .bind(db_id(user))
    .bind(item)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn take_item(tx: &mut Tx, user: u64, item: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE pokemon_items SET count = count - 1 WHERE user_id = $1 AND item = $2 AND count > 0",
    )
    .bind(db_id(user))
    .bind(item)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// The open trade `user` is a member of.
async fn trade_id_of(tx: &mut Tx, user: u64) -> Result<Option<i64>, sqlx::Error> {
    let row = sqlx::query("SELECT trade FROM pokemon_trade_members WHERE user_id = $1")
        .bind(db_id(user))
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| r.try_get(0)).transpose()
}

async fn load_trade(tx: &mut Tx, id: i64) -> Result<OpenTrade, sqlx::Error> {
    let row = sqlx::query(
        "SELECT guild_id, user_a, user_b, coins_a, coins_b, confirmed_a, confirmed_b, updated_at \
         FROM pokemon_open_trades WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    let users = [
        row.try_get::<i64, _>(1)? as u64,
        row.try_get::<i64, _>(2)? as u64,
    ];
    let offers = sqlx::query(
        "SELECT pokemon_id, user_id FROM pokemon_trade_offers WHERE trade = $1 \
         ORDER BY added_at, pokemon_id",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    let mut pokemon = [Vec::new(), Vec::new()];
    for offer in offers {
        let from = offer.try_get::<i64, _>(1)? as u64;
        pokemon[usize::from(from != users[0])].push(offer.try_get(0)?);
    }
    Ok(OpenTrade {
        id,
        guild: row.try_get::<i64, _>(0)? as u64,
        users,
        coins: [row.try_get(3)?, row.try_get(4)?],
        pokemon,
        confirmed: [
            row.try_get::<i64, _>(5)? == 1,
            row.try_get::<i64, _>(6)? == 1,
        ],
        updated_at: row.try_get(7)?,
    })
}

/// Puts Pokémon `p` on `user`'s side of trade `id`, if `user` owns it and no open trade holds it.
async fn offer(
    tx: &mut Tx,
    id: i64,
    user: u64,
    p: i64,
    now: i64,
) -> Result<Result<(), PokemonError>, sqlx::Error> {
    let added = sqlx::query(
        "INSERT INTO pokemon_trade_offers (pokemon_id, trade, user_id, added_at) \
         SELECT id, $2, $3, $4 FROM pokemon WHERE id = $1 AND owner_id = $3 \
         ON CONFLICT (pokemon_id) DO NOTHING",
    )
    .bind(p)
    .bind(id)
    .bind(db_id(user))
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if added == 1 {
        return Ok(Ok(()));
    }
    let owned = sqlx::query("SELECT 1 FROM pokemon WHERE id = $1 AND owner_id = $2")
        .bind(p)
        .bind(db_id(user))
        .fetch_optional(&mut **tx)
        .await?
        .is_some();
    Ok(Err(if owned {
        PokemonError::Offered { id: p }
    } else {
        PokemonError::NotOwned { id: p, owner: user }
    }))
}

/// Frees the members and offers of trades that are no longer open.
async fn release_closed_trades(tx: &mut Tx) -> Result<(), sqlx::Error> {
    for sql in [
        "DELETE FROM pokemon_trade_offers WHERE trade IN \
         (SELECT id FROM pokemon_open_trades WHERE state <> 'open')",
        "DELETE FROM pokemon_trade_members WHERE trade IN \
         (SELECT id FROM pokemon_open_trades WHERE state <> 'open')",
    ] {
        sqlx::query(sql).execute(&mut **tx).await?;
    }
    Ok(())
}

/// The swap itself, inside the caller's transaction: coins first (users in ascending id
/// order), then Pokémon (ascending), so concurrent swaps cannot deadlock. Each Pokémon that
/// arrives evolves as `evolve` says, using up its held item if that is how it evolves; held
/// items otherwise travel with their Pokémon. A refusal leaves the transaction for the caller
/// to roll back.
async fn swap_in(
    tx: &mut Tx,
    a: &TradeSide,
    b: &TradeSide,
    evolve: TradeEvolver<'_>,
) -> Result<Result<(i64, Vec<Evolved>), SwapRefusal>, sqlx::Error> {
    let mut users = [(a.user, b.coins - a.coins), (b.user, a.coins - b.coins)];
    users.sort_unstable_by_key(|(u, _)| *u);
    for (user, delta) in users {
        if delta == 0 {
            continue;
        }
        let done = sqlx::query(
            "UPDATE users SET currency = currency + $1 WHERE id = $2 AND currency + $1 >= 0",
        )
        .bind(delta)
        .bind(db_id(user))
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if done != 1 {
            return Ok(Err(SwapRefusal::Funds {
                user,
                needed: -delta,
            }));
        }
    }
    let mut moves: Vec<(i64, u64, u64)> = a
        .pokemon
        .iter()
        .map(|&p| (p, a.user, b.user))
        .chain(b.pokemon.iter().map(|&p| (p, b.user, a.user)))
        .collect();
    moves.sort_unstable();
    let mut evolved = Vec::new();
    for (id, from, to) in moves {
        // Favourites are a protection against accidents, not part of what is traded.
        let done = sqlx::query(
            "UPDATE pokemon SET owner_id = $1, favourite = 0 WHERE id = $2 AND owner_id = $3",
        )
        .bind(db_id(to))
        .bind(id)
        .bind(db_id(from))
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if done != 1 {
            return Ok(Err(SwapRefusal::NotOwned { id, owner: from }));
        }
        leave_team(tx, id).await?;
        sqlx::query(
            "INSERT INTO pokemon_dex (user_id, species, first_at) \
                 SELECT $1, species, $2 FROM pokemon WHERE id = $3 \
                 ON CONFLICT (user_id, species) DO NOTHING",
        )
        .bind(db_id(to))
        .bind(now_ms())
        .bind(id)
        .execute(&mut **tx)
        .await?;
        // Read under the row lock the owner change took, so the rule sees what is stored.
        let sql = format!("SELECT {POKEMON_COLUMNS} FROM pokemon WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_one(&mut **tx)
            .await?;
        let arrived = pokemon_from(&row)?;
        if let Some(e) = evolve(&arrived) {
            let sql = if e.uses_item {
                "UPDATE pokemon SET species = $1, held_item = NULL WHERE id = $2"
            } else {
                "UPDATE pokemon SET species = $1 WHERE id = $2"
            };
            sqlx::query(sql)
                .bind(i64::from(e.into))
                .bind(id)
                .execute(&mut **tx)
                .await?;
            add_to_dex(tx, to, e.into).await?;
            evolved.push(Evolved {
                used_item: arrived.held_item.clone().filter(|_| e.uses_item),
                before: arrived,
                into: e.into,
            });
        }
    }
    let row = sqlx::query(
            "INSERT INTO pokemon_trades (user_a, user_b, a_pokemon, b_pokemon, a_coins, b_coins, traded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(db_id(a.user))
        .bind(db_id(b.user))
        .bind(join(&a.pokemon))
        .bind(join(&b.pokemon))
        .bind(a.coins)
        .bind(b.coins)
        .bind(now_ms())
        .fetch_one(&mut **tx)
        .await?;
    Ok(Ok((row.try_get(0)?, evolved)))
}

/// Takes a Pokémon out of whichever battle team holds it (it changed hands or is gone).
async fn leave_team(tx: &mut Tx, pokemon: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM pokemon_teams WHERE pokemon_id = $1")
        .bind(pokemon)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn add_to_dex(tx: &mut Tx, user: u64, species: u16) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO pokemon_dex (user_id, species, first_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id, species) DO NOTHING",
    )
    .bind(db_id(user))
    .bind(i64::from(species))
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What a traded Pokémon turns into, if trading evolves it (with its held item, for those that
/// need one) and its owner allows it.
pub fn trade_evolution(
    p: &Pokemon,
    time: lounge_pokemon::data::TimeOfDay,
) -> Option<TradeEvolution> {
    if !p.evolve {
        return None;
    }
    let state = lounge_pokemon::evolution::EvoState {
        level: p.level,
        friendship: p.friendship,
        held_item: p.held_item.as_deref(),
        time,
        known_moves: &p.moves,
    };
    lounge_pokemon::evolution::find_evolution(
        p.species,
        lounge_pokemon::evolution::Trigger::Trade,
        &state,
    )
    .map(|(s, how)| TradeEvolution {
        into: s.num,
        uses_item: lounge_pokemon::evolution::uses_held_item(how),
    })
}
