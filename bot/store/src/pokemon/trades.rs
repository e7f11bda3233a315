//! Trades: open trade sessions, changes and confirmations, and the swap that moves everything
//! both members confirmed (evolving what trading evolves) or nothing.

use sqlx::Row;

use super::collection::{add_to_dex, leave_team};
use super::{POKEMON_COLUMNS, Pokemon, PokemonError, Tx, join, pokemon_from};
use crate::{Store, StoreError, db_id, now_ms};

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

impl Store {
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
                    // Amounts come from members; an offer past i64 is refused, not wrapped.
                    let Some(total) = before.coins[side].checked_add(coins) else {
                        tx.rollback().await?;
                        return Err(PokemonError::Invalid(
                            "That's more coins than anyone can hold.",
                        ));
                    };
                    total
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
                    before.coins[side].saturating_sub(coins).max(0)
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
