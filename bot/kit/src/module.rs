//! A module is a feature area ("cog"). Each declares, in one [`Module`] value, its commands,
//! the gateway events it wants, the prefix messages no command matched, and what it starts
//! (state, background tasks). The app lists the modules once; this file fans events out to
//! them and applies the module switch before any module sees an event, so no module checks
//! the switch itself.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use lounge_store::Store;
use poise::serenity_prelude as serenity;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::{Command, Error, FrameworkContext};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Called for each gateway event; for an event in a guild, only where the module is on.
pub type EventHook =
    for<'a> fn(FrameworkContext<'a>, &'a serenity::FullEvent) -> BoxFuture<'a, Result<(), Error>>;

/// Called for a prefix message whose first word is no command (aliases and tags use it).
pub type UnknownCommandHook = for<'a> fn(UnknownCommand<'a>) -> BoxFuture<'a, Result<(), Error>>;

/// Called once at start-up, after the bot is connected and before the first command.
pub type StartHook = fn(&mut Start<'_>) -> Result<(), Error>;

#[derive(Clone, Copy)]
pub struct Module {
    /// Stable name, used in settings and shown in help.
    pub name: &'static str,
    pub description: &'static str,
    /// Core modules cannot be switched off (that would lock admins out of the switches).
    pub core: bool,
    pub commands: fn() -> Vec<Command>,
    pub on_event: Option<EventHook>,
    pub on_unknown_command: Option<UnknownCommandHook>,
    pub start: Option<StartHook>,
}

impl Module {
    /// A module that can be switched off, with commands and nothing else.
    pub const fn new(
        name: &'static str,
        description: &'static str,
        commands: fn() -> Vec<Command>,
    ) -> Self {
        Self {
            name,
            description,
            core: false,
            commands,
            on_event: None,
            on_unknown_command: None,
            start: None,
        }
    }

    #[must_use]
    pub const fn core(mut self) -> Self {
        self.core = true;
        self
    }

    #[must_use]
    pub const fn on_event(mut self, hook: EventHook) -> Self {
        self.on_event = Some(hook);
        self
    }

    #[must_use]
    pub const fn on_unknown_command(mut self, hook: UnknownCommandHook) -> Self {
        self.on_unknown_command = Some(hook);
        self
    }

    #[must_use]
    pub const fn start(mut self, hook: StartHook) -> Self {
        self.start = Some(hook);
        self
    }
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.name)
            .field("core", &self.core)
            .finish_non_exhaustive()
    }
}

/// Values by type: the app puts in the config sections, each module's `start` its state.
/// Filled before the first command and never written after, so reading needs no lock.
#[derive(Default)]
pub struct State(HashMap<TypeId, Box<dyn Any + Send + Sync>>);

impl State {
    pub fn insert<T: Any + Send + Sync>(&mut self, value: T) {
        self.0.insert(TypeId::of::<T>(), Box::new(value));
    }

    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.0.get(&TypeId::of::<T>())?.downcast_ref()
    }
}

/// A background task a module started; the app stops it after the gateway closes and before
/// the database pool does.
pub struct Task {
    /// What it does, for the log line when it does not stop in time ("trip payouts").
    pub name: &'static str,
    pub handle: JoinHandle<()>,
}

/// What a module's [`StartHook`] gets.
pub struct Start<'a> {
    pub store: &'a Store,
    pub http: Arc<serenity::Http>,
    /// The gateway's cache (guilds, channels, voice states).
    pub cache: Arc<serenity::Cache>,
    pub state: &'a mut State,
    /// Turns true when the bot shuts down; background tasks finish their work and return.
    pub stop: watch::Receiver<bool>,
    pub tasks: &'a mut Vec<Task>,
}

impl Start<'_> {
    /// A config section the app provided, or an internal error naming it.
    pub fn config<T: Any + Send + Sync + Clone>(&self) -> Result<T, Error> {
        self.state.get::<T>().cloned().ok_or_else(|| {
            format!(
                "config section {} was not provided",
                std::any::type_name::<T>()
            )
            .into()
        })
    }

    /// Makes `value` reachable from commands through [`Data::state`].
    pub fn provide<T: Any + Send + Sync>(&mut self, value: T) {
        self.state.insert(value);
    }

    pub fn spawn(&mut self, name: &'static str, handle: JoinHandle<()>) {
        self.tasks.push(Task { name, handle });
    }
}

/// Runs every module's start hook, in list order.
pub fn start_all(modules: &[Module], start: &mut Start<'_>) -> Result<(), Error> {
    for module in modules {
        if let Some(hook) = module.start {
            hook(start).map_err(|e| format!("starting the {} module: {e}", module.name))?;
        }
    }
    Ok(())
}

/// The guild an event happened in, for the module switch. Events without one reach every
/// module that asks for events.
fn event_guild(event: &serenity::FullEvent) -> Option<serenity::GuildId> {
    use serenity::FullEvent as E;
    match event {
        E::Message { new_message } => new_message.guild_id,
        E::MessageUpdate { event, .. } => event.guild_id,
        E::VoiceStateUpdate { new, .. } => new.guild_id,
        E::GuildMemberAddition { new_member } => Some(new_member.guild_id),
        E::GuildMemberRemoval { guild_id, .. } => Some(*guild_id),
        E::ReactionAdd { add_reaction } => add_reaction.guild_id,
        E::ReactionRemove { removed_reaction } => removed_reaction.guild_id,
        E::InteractionCreate { interaction } => match interaction {
            serenity::Interaction::Command(c) | serenity::Interaction::Autocomplete(c) => {
                c.guild_id
            }
            serenity::Interaction::Component(c) => c.guild_id,
            serenity::Interaction::Modal(m) => m.guild_id,
            _ => None,
        },
        _ => None,
    }
}

/// The framework's event handler: each module that asked for events gets the event, in list
/// order, where its switch is on. A failing hook is logged and the others still run.
pub async fn dispatch_event(
    framework: FrameworkContext<'_>,
    event: &serenity::FullEvent,
) -> Result<(), Error> {
    crate::telemetry::event(event);
    let data = framework.user_data;
    let guild = event_guild(event);
    for module in &data.modules {
        let Some(hook) = module.on_event else {
            continue;
        };
        if !module.core
            && let Some(guild) = guild
        {
            match data.store.module_on(guild.get(), module.name).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::error!(module = module.name, error = %e, "checking the module switch failed");
                    continue;
                }
            }
        }
        if let Err(e) = hook(framework, event).await {
            tracing::error!(module = module.name, event = event.snake_case_name(), guild = ?guild.map(serenity::GuildId::get), error = %e, "event hook failed");
        }
    }
    Ok(())
}

/// poise's `UnknownCommand`, for [`UnknownCommandHook`]s.
#[derive(Clone, Copy)]
pub struct UnknownCommand<'a> {
    pub framework: FrameworkContext<'a>,
    pub msg: &'a serenity::Message,
    pub content_start: u16,
    pub invocation_data: &'a tokio::sync::Mutex<Box<dyn Any + Send + Sync>>,
    pub trigger: poise::MessageDispatchTrigger,
}

/// Offers a prefix message no command matched to each module that handles those. Anything
/// else is ordinary chat ("!!!", "!lol") and staying quiet is right.
pub(crate) async fn on_unknown_command(unknown: UnknownCommand<'_>) {
    let data = unknown.framework.user_data;
    for module in &data.modules {
        let Some(hook) = module.on_unknown_command else {
            continue;
        };
        if let Err(e) = hook(unknown).await {
            tracing::error!(module = module.name, error = %e, guild = ?unknown.msg.guild_id, channel = %unknown.msg.channel_id, "handling an unknown command failed");
        }
    }
}
