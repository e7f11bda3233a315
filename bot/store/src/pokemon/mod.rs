//! The Pokémon game: spawns, catches, collections, items, trades and battle records.
//!
//! Every change of ownership follows `transfer_currency`'s pattern: one transaction, rows
//! changed only by conditional updates (`WHERE caught_by IS NULL`, `WHERE owner_id = $expected`)
//! whose affected-row count decides success, rows touched in a fixed order (users by id, then
//! Pokémon by id) and lock-race failures retried. So two catchers of one spawn get exactly one
//! winner, and a trade either moves everything it lists or nothing, across processes too.

mod battles;
mod collection;
mod items;
mod spawns;
mod trades;

use sqlx::Row;
use sqlx::any::AnyRow;

use super::StoreError;

pub use battles::{BattleRecord, Finished, Payout};
pub use collection::{Progress, TEAM_SIZE};
pub use items::HeldFrom;
pub use spawns::{NewPokemon, NewSpawn, Spawn};
pub use trades::{
    Confirmation, Evolved, OpenTrade, TRADE_IDLE_MS, TRADE_MAX_POKEMON, TradeChange,
    TradeEvolution, TradeEvolver, TradeSide, no_trade_evolution, trade_evolution,
};

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

type Tx = sqlx::Transaction<'static, sqlx::Any>;

const POKEMON_COLUMNS: &str = "id, owner_id, species, nickname, level, exp, nature, ivs, shiny, \
     friendship, moves, favourite, evolve, caught_at, held_item";

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
