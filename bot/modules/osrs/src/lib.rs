//! The OSRS game: characters, banks and gear, worlds and travel, trips that finish while you
//! do something else, leaderboards and achievements. The pure engine (`lounge-osrs`)
//! simulates each trip when it starts, from a seed stored with it; the outcome is stored
//! and paid when the trip ends (see `worker`).
//!
#![doc = include_str!("../README.md")]

mod bank;
mod boards;
mod character;
mod messages;
pub mod rules;
mod slayer;
mod travel;
mod trips;
mod worker;

use std::sync::Arc;

use lounge_osrs::GameData;
use poise::serenity_prelude as serenity;

use lounge_kit::config::GamesConfig;
use lounge_kit::user_error;
use lounge_kit::{Command, Module, Start};
use lounge_kit::{Context, Error};
use lounge_store::OsrsCharacter;

pub const MODULE: Module = Module::new(
    "osrs",
    "Old School RuneScape: characters, trips, banks and leaderboards",
    commands,
)
.start(start);

fn commands() -> Vec<Command> {
    vec![osrs()]
}

/// The trip clock, and the payout worker (which needs the connected client's HTTP and stops
/// before the database pool closes).
fn start(start: &mut Start<'_>) -> Result<(), Error> {
    let config = start.config::<GamesConfig>()?;
    let runtime = Runtime::new(config.trip_time_scale);
    let worker = worker::spawn(
        start.http.clone(),
        start.store.clone(),
        runtime.trips_changed.clone(),
        start.stop.clone(),
    );
    start.spawn("trip payouts", worker);
    start.provide(runtime);
    Ok(())
}

/// What the game needs beside the store, shared by commands and the payout worker.
#[derive(Clone, Debug)]
pub struct Runtime {
    /// Real time per unit of game time (`games.trip_time_scale`).
    pub trip_time_scale: f64,
    /// Wakes the payout worker when a trip starts, so a short trip is not paid late.
    pub trips_changed: Arc<tokio::sync::Notify>,
}

impl Runtime {
    pub fn new(trip_time_scale: f64) -> Self {
        Self {
            trip_time_scale,
            trips_changed: Arc::default(),
        }
    }
}

/// OSRS: train, fight, bank and compete with your own character
#[poise::command(
    slash_command,
    prefix_command,
    subcommands(
        "character::create",
        "character::stats",
        "bank::bank",
        "bank::equip",
        "bank::unequip",
        "bank::gear",
        "travel::world",
        "travel::travel",
        "trips::kill",
        "trips::skill",
        "slayer::slayer",
        "trips::trip",
        "boards::kills",
        "boards::leaderboard",
        "boards::achievements"
    ),
    subcommand_required
)]
pub async fn osrs(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// The invoker's character, or the "make one first" error.
async fn own_character(ctx: Context<'_>) -> Result<OsrsCharacter, Error> {
    ctx.data()
        .store
        .osrs_character(ctx.author().id.get())
        .await?
        .ok_or_else(|| user_error(messages::NO_CHARACTER))
}

async fn someones_character(
    ctx: Context<'_>,
    user: Option<&serenity::User>,
) -> Result<OsrsCharacter, Error> {
    match user {
        Some(u) if u.id != ctx.author().id => ctx
            .data()
            .store
            .osrs_character(u.id.get())
            .await?
            .ok_or_else(|| user_error(messages::THEY_HAVE_NO_CHARACTER)),
        _ => own_character(ctx).await,
    }
}

/// Refuses while a trip runs, worded by `message` (starting another trip, hopping, gear).
async fn ensure_free(
    ctx: Context<'_>,
    ch: &OsrsCharacter,
    message: fn(&lounge_store::Trip) -> String,
) -> Result<(), Error> {
    match ctx.data().store.osrs_active_trip(ch.user_id).await? {
        Some(trip) => Err(user_error(message(&trip))),
        None => Ok(()),
    }
}

/// Members' content needs a members' world (free characters can never be on one).
fn members_check(
    data: &GameData,
    ch: &OsrsCharacter,
    members_content: bool,
    what: &str,
) -> Result<(), Error> {
    let on_members_world = data.world(ch.world).is_some_and(|w| w.members);
    if members_content && !on_members_world {
        return Err(user_error(messages::needs_members_world(what)));
    }
    Ok(())
}

async fn note_guild(ctx: Context<'_>, user: u64) -> Result<(), Error> {
    if let Some(guild) = ctx.guild_id() {
        ctx.data().store.osrs_note_guild(guild.get(), user).await?;
    }
    Ok(())
}
