//! Owned Pokémon: listing, naming, releasing, the battle team and selection, the Pokédex, and
//! saving growth and evolutions only over the state they were worked out from.

use sqlx::Row;

use super::items::{CHANGED, HELD_ITEM_RACES, add_to_bag, held_item_of};
use super::{POKEMON_COLUMNS, Pokemon, PokemonError, Tx, join, pokemon_from};
use crate::{Store, StoreError, db_id, now_ms};

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

impl AsRef<Progress> for Progress {
    fn as_ref(&self) -> &Progress {
        self
    }
}

/// Most Pokémon a battle team holds, as in the main series.
pub const TEAM_SIZE: usize = 6;

impl Store {
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
}

/// Takes a Pokémon out of whichever battle team holds it (it changed hands or is gone).
pub(super) async fn leave_team(tx: &mut Tx, pokemon: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM pokemon_teams WHERE pokemon_id = $1")
        .bind(pokemon)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(super) async fn add_to_dex(tx: &mut Tx, user: u64, species: u16) -> Result<(), sqlx::Error> {
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
