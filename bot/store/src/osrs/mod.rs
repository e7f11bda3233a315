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

mod bank;
mod boards;
mod characters;
mod slayer;
mod trips;

use super::StoreError;

pub use boards::{Board, Ranked};
pub use characters::{AccountMode, NewCharacter, OsrsCharacter};
pub use slayer::{SlayerResult, SlayerStatus, StoredTask};
pub use trips::{ANNOUNCE_LEASE_MS, NewTrip, Trip, TripFailure, TripKind};

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

type Tx = sqlx::Transaction<'static, sqlx::Any>;
