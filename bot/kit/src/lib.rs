#![doc = include_str!("../README.md")]

pub mod args;
pub mod config;
pub mod cooldown;
pub mod error;
pub mod limits;
pub mod messages;
pub mod module;
pub mod policy;
pub mod prefix;
pub mod reply;
pub mod telemetry;
pub mod template;
pub mod ui;

use std::time::Instant;

pub use args::Bounded;
pub use error::{Error, RefusalExt, UserError, refusal, user_error};
pub use module::{BoxFuture, Module, Start, State, Task};
pub use policy::{find_command, guild_id};
pub use reply::{Text, say};

/// What every command can reach. Plain fields, cheap to share: no locks held across awaits.
/// Each module's own state sits in [`State`], filled once at start-up and read-only after.
pub struct Data {
    pub store: lounge_store::Store,
    pub started: Instant,
    pub default_prefix: String,
    pub limiter: limits::CommandLimiter,
    /// Every module the bot has, in help order (the app's list).
    pub modules: Vec<Module>,
    pub state: State,
}

impl Data {
    /// A module's state, or an internal error naming it when the module's `start` never
    /// provided it (a wiring mistake, reported like any other failure rather than a panic).
    pub fn state<T: std::any::Any + Send + Sync>(&self) -> Result<&T, Error> {
        self.state.get::<T>().ok_or_else(|| {
            format!(
                "module state {} was never provided at start-up",
                std::any::type_name::<T>()
            )
            .into()
        })
    }

    /// The module called `name`, if the bot has one.
    pub fn module(&self, name: &str) -> Option<&Module> {
        self.modules.iter().find(|m| m.name == name)
    }
}

pub type Context<'a> = poise::Context<'a, Data, Error>;
pub type FrameworkContext<'a> = poise::FrameworkContext<'a, Data, Error>;
pub type Command = poise::Command<Data, Error>;
