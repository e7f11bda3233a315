//! One integration-test binary for the whole workspace, so it links once.

mod bot;
mod fake_discord;
mod golive;
mod golive_gateway;
mod golive_voice;
mod moderation;
mod modules;
mod perm;
mod pokemon;
mod settings;
// Before the modules that use its `conformance!` macro.
#[macro_use]
mod store;
mod osrs;
mod stream;
mod tags;
mod util;
