//! Lounge, the bot: commands, storage and the Discord connection.
//!
//! The binary (`src/main.rs`) parses the command line and calls [`run`]; everything else lives
//! here so the integration tests in `tests/` can use the same storage code.

pub mod commands;
pub mod config;
pub mod error;
pub mod limits;
pub mod logging;
pub mod permissions;
pub mod runtime;
pub mod secret;
pub mod store;
pub mod streamer;
pub mod template;
pub mod ui;

use std::time::Instant;

pub use error::{Error, UserError};
pub use runtime::run;

/// What every command can reach. Plain fields, cheap to share: no type map, no locks held
/// across awaits.
pub struct Data {
    pub store: store::Store,
    pub started: Instant,
    pub default_prefix: String,
    pub limiter: limits::CommandLimiter,
    /// The link to lounge-streamer; `None` when the config does not set one up.
    pub streamer: Option<streamer::Link>,
    /// The Pokémon game's in-process state (activity counters; the game itself is stored).
    pub pokemon: commands::pokemon::Runtime,
    /// The OSRS game's trip clock and payout wake-up.
    pub osrs: commands::osrs::Runtime,
}

pub type Context<'a> = poise::Context<'a, Data, Error>;
