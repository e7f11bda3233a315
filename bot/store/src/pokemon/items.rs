//! The bag and held items. A held item is either in the bag or on one Pokémon, never both:
//! each move between them is one transaction guarded by what the Pokémon held when read.

use sqlx::Row;

use super::{PokemonError, Tx};
use crate::{Store, StoreError, db_id};

/// Where an item given to a Pokémon came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeldFrom {
    /// One from the member's bag.
    Bag,
    /// Bought for the price; the balance left.
    Bought { balance: i64 },
}

impl Store {
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
}

/// Times a held-item change is retried when the item changed between its read and its
/// conditional write (another command on the same Pokémon won the race).
pub(super) const HELD_ITEM_RACES: usize = 5;

pub(super) const CHANGED: &str = "It changed in the meantime; nothing was done. Try again.";

/// The item Pokémon `id` holds if `owner` owns it: `None` if not, `Some(None)` if it holds nothing.
pub(super) async fn held_item_of(
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

pub(super) async fn add_to_bag(tx: &mut Tx, user: u64, item: &str) -> Result<(), sqlx::Error> {
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

pub(super) async fn take_item(tx: &mut Tx, user: u64, item: &str) -> Result<bool, sqlx::Error> {
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
