//! One integration-test binary for the whole workspace, so it links once.

mod bot;
mod fake_discord;
mod moderation;
mod modules;
mod perm;
mod pokemon;
mod settings;
mod store;
mod stream;
mod tags;
mod util;
