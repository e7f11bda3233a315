//! Configuration sections that modules read. The app owns the file format, loading and
//! validation, and composes these into its `Config`; a module gets its section from
//! [`crate::Start::config`].

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct GamesConfig {
    /// Chat messages in a server (not counting commands) between two wild Pokémon.
    pub spawn_every_messages: u32,
    /// One in this many wild Pokémon is shiny.
    pub shiny_odds: u32,
    /// Seconds between two chat-experience awards for the same member.
    pub chat_xp_cooldown_seconds: u64,
    /// Real time per unit of game time for trips: 1 plays trips in real time, 0.5 twice as
    /// fast. Exists so a test (or an impatient server) can run trips in milliseconds.
    pub trip_time_scale: f64,
    /// Seconds a battler has to choose a move or replacement before losing on time.
    pub battle_turn_seconds: u64,
}

impl Default for GamesConfig {
    fn default() -> Self {
        Self {
            spawn_every_messages: 25,
            shiny_odds: 4096,
            chat_xp_cooldown_seconds: 60,
            trip_time_scale: 1.0,
            battle_turn_seconds: 90,
        }
    }
}
