//! Finished battles and the win/loss record they add to.

use sqlx::Row;

use super::collection::{Progress, add_to_dex};
use super::{POKEMON_COLUMNS, Pokemon, PokemonError, Tx, join, pokemon_from};
use crate::{Store, StoreError, db_id, now_ms};

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

/// What the winner of a battle is paid.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Payout {
    /// Coins for the challenger (0 for none).
    pub coins: i64,
    /// The winning side's owner and the Pokémon of theirs that fought and gain experience.
    pub winner: Option<(u64, Vec<i64>)>,
}

/// A stored battle and what its payout did; `G` is the caller's growth, which carries the
/// [`Progress`] saved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finished<G> {
    pub id: i64,
    /// The challenger's balance after the coins, when there were any.
    pub balance: Option<i64>,
    /// Each winning Pokémon still its owner's when the battle was stored, as it was before,
    /// with its growth (`None`: it gained experience without changing, e.g. at level 100).
    pub grown: Vec<(Pokemon, Option<G>)>,
}

impl Store {
    /// Stores a finished battle and updates both trainers' records.
    pub async fn record_battle(&self, r: &BattleRecord) -> Result<i64, PokemonError> {
        let none = |_: &Pokemon| None::<Progress>;
        Ok(self.finish_battle(r, &Payout::default(), none).await?.id)
    }

    /// Stores a finished battle, the trainers' records, the winner's coins and the experience
    /// of each winning Pokémon in one transaction, so a crash or a concurrent trade can never
    /// leave a result without its reward, or pay one twice. `grow` works out a Pokémon's growth
    /// from its state as read under the row's lock, so experience stacks on whatever happened
    /// to it before; a Pokémon traded or released meanwhile gains nothing.
    pub async fn finish_battle<G: AsRef<Progress>>(
        &self,
        r: &BattleRecord,
        payout: &Payout,
        grow: impl Fn(&Pokemon) -> Option<G>,
    ) -> Result<Finished<G>, PokemonError> {
        if payout.coins < 0 {
            return Err(PokemonError::Invalid("A battle can't cost coins."));
        }
        if payout.coins > 0 {
            self.ensure_user(r.challenger).await?;
        }
        self.retry_lock_races(|| async {
            let mut tx = self.begin_write().await?;
            let id = insert_battle(&mut tx, r).await?;
            let balance = if payout.coins > 0 {
                Some(credit(&mut tx, r.challenger, payout.coins).await?)
            } else {
                None
            };
            let mut grown = Vec::new();
            if let Some((owner, ids)) = &payout.winner {
                for &pokemon in ids {
                    if let Some(before) = lock_owned(&mut tx, pokemon, *owner).await? {
                        let progress = grow(&before);
                        if let Some(p) = &progress {
                            save_growth(&mut tx, &before, p.as_ref()).await?;
                        }
                        grown.push((before, progress));
                    }
                }
            }
            tx.commit().await?;
            Ok(Finished { id, balance, grown })
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

async fn insert_battle(tx: &mut Tx, r: &BattleRecord) -> Result<i64, sqlx::Error> {
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
    .fetch_one(&mut **tx)
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
        .execute(&mut **tx)
        .await?;
    }
    Ok(id)
}

/// Adds `coins` to a balance, refusing rather than overflowing (SQLite would turn an
/// overflowing integer into a float).
async fn credit(tx: &mut Tx, user: u64, coins: i64) -> Result<i64, PokemonError> {
    let row = sqlx::query(
        "UPDATE users SET currency = currency + $1 WHERE id = $2 AND currency <= $3 - $1 \
         RETURNING currency",
    )
    .bind(coins)
    .bind(db_id(user))
    .bind(i64::MAX)
    .fetch_optional(&mut **tx)
    .await?;
    match row {
        Some(row) => Ok(row.try_get(0)?),
        None => Err(PokemonError::Invalid(
            "Your balance is as high as it can go: spend some coins first.",
        )),
    }
}

/// The Pokémon as stored, if `owner` still has it, with its row locked for the rest of the
/// transaction (the no-op update takes the lock on both backends; SQLite has no FOR UPDATE).
async fn lock_owned(tx: &mut Tx, id: i64, owner: u64) -> Result<Option<Pokemon>, PokemonError> {
    let locked = sqlx::query("UPDATE pokemon SET exp = exp WHERE id = $1 AND owner_id = $2")
        .bind(id)
        .bind(db_id(owner))
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if locked != 1 {
        return Ok(None);
    }
    let sql = format!("SELECT {POKEMON_COLUMNS} FROM pokemon WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(Some(pokemon_from(&row)?))
}

async fn save_growth(tx: &mut Tx, before: &Pokemon, p: &Progress) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE pokemon SET species = $1, level = $2, exp = $3, friendship = $4, moves = $5, \
         held_item = $6 WHERE id = $7",
    )
    .bind(i64::from(p.species))
    .bind(i64::from(p.level))
    .bind(i64::from(p.exp))
    .bind(i64::from(p.friendship))
    .bind(join(&p.moves))
    .bind(p.held_item.as_deref())
    .bind(before.id)
    .execute(&mut **tx)
    .await?;
    if p.species != before.species {
        add_to_dex(tx, before.owner, p.species).await?;
    }
    Ok(())
}
