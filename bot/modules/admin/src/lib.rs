#![doc = include_str!("../README.md")]

pub mod alias;
mod cooldown;
mod core;
mod modules;
mod perm;
mod settings;
pub mod tags;

use lounge_kit::{BoxFuture, Command, Error, Module};

/// Latency, help and information about the bot.
pub const CORE: Module = Module::new(
    "core",
    "Latency, help and information about the bot",
    core::commands,
)
.core();

/// Server settings; also where prefix messages that name no command go (aliases, tags).
pub const ADMIN: Module = Module::new(
    "admin",
    "Server settings: prefix, which modules are on and who may use what",
    admin_commands,
)
.core()
.on_unknown_command(unknown_command);

/// Custom commands. A module of its own so servers can switch tags off.
pub const TAGS: Module = Module::new(
    tags::MODULE,
    "Custom commands (tags) that answer with text this server saves",
    tags::commands,
);

fn admin_commands() -> Vec<Command> {
    let mut all = modules::commands();
    all.extend(perm::commands());
    all.extend(settings::commands());
    all.extend(cooldown::commands());
    all.extend(alias::commands());
    all
}

fn unknown_command(
    unknown: lounge_kit::module::UnknownCommand<'_>,
) -> BoxFuture<'_, Result<(), Error>> {
    Box::pin(alias::on_unknown_command(unknown))
}
