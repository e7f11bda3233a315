//! One integration-test binary for the whole workspace, so it links once.
//!
//! Where a new test goes: one file per area (a module's commands end to end against the fake
//! Discord in `<module>.rs`, e.g. `pokemon.rs`; its queries in `store.rs` with the
//! `conformance!` macro, which runs each test on SQLite and PostgreSQL). A module's pure rules
//! are unit-tested next to them in its crate (`bot/modules/*/src/rules.rs`), an engine's in
//! `games/*/tests`. Fakes of outside services live in `tests/src/` and check what the real
//! service checks.

mod bot;
mod doctor;
mod fake_discord;
mod gif;
mod golive;
mod golive_gateway;
mod golive_voice;
mod layers;
mod lyrics;
mod metrics;
mod moderation;
mod modules;
mod music;
mod perm;
mod plex;
mod plex_golive;
mod pokemon;
mod settings;
mod spotify;
// Before the modules that use its `conformance!` macro.
#[macro_use]
mod store;
mod instance;
mod music_queue;
mod osrs;
mod plex_queue;
mod startup;
mod stream;
mod tags;
mod util;
