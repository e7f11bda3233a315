//! Every feature area is a module that lists its commands in one place. [`all`] collects them
//! and applies policy by walking the command tree, so no command repeats those checks.

mod alias;
pub mod cooldown;
mod core;
mod economy;
pub mod messages;
mod moderation;
mod modules;
pub mod osrs;
mod perm;
pub mod pokemon;
pub mod reference;
mod settings;
mod stream;
mod tags;

pub use alias::on_unknown_command;

use poise::serenity_prelude as serenity;

use crate::error::user_error;
use crate::{Context, Data, Error};

pub type Command = poise::Command<Data, Error>;

/// A feature area ("cog").
pub struct Module {
    /// Stable name, used in settings and shown in help.
    pub name: &'static str,
    pub description: &'static str,
    /// Core modules cannot be switched off (that would lock admins out of the switches).
    pub core: bool,
    pub commands: fn() -> Vec<Command>,
}

const MODULES: &[Module] = &[
    Module {
        name: "core",
        description: "Latency, help and information about the bot",
        core: true,
        commands: core::commands,
    },
    Module {
        name: "admin",
        description: "Server settings: prefix, which modules are on and who may use what",
        core: true,
        commands: || {
            let mut all = modules::commands();
            all.extend(perm::commands());
            all.extend(settings::commands());
            all.extend(cooldown::commands());
            all.extend(alias::commands());
            all
        },
    },
    Module {
        name: "moderation",
        description: "Kick, ban and time out members, within Discord's role hierarchy",
        core: false,
        commands: moderation::commands,
    },
    Module {
        name: tags::MODULE,
        description: "Custom commands (tags) that answer with text this server saves",
        core: false,
        commands: tags::commands,
    },
    Module {
        name: "economy",
        description: "Coins: balances and gifts",
        core: false,
        commands: economy::commands,
    },
    Module {
        name: "stream",
        description: "Go Live: stream videos into a voice channel through lounge-streamer",
        core: false,
        commands: stream::commands,
    },
    Module {
        name: pokemon::MODULE,
        description: "Pokémon: catch wild ones as you chat, collect, trade and battle",
        core: false,
        commands: pokemon::commands,
    },
    Module {
        name: "osrs",
        description: "Old School RuneScape: characters, trips, banks and leaderboards",
        core: false,
        commands: osrs::commands,
    },
];

/// Every module the bot has, in help order.
pub fn modules() -> &'static [Module] {
    MODULES
}

/// All commands, with policy applied by walking the command tree: the module becomes the
/// category (help groups by it) and every command of a module that can be switched off gets
/// the module gate. Commands never repeat these checks themselves.
pub fn all() -> Vec<Command> {
    let mut all = Vec::new();
    for module in modules() {
        for mut command in (module.commands)() {
            apply_policy(&mut command, module);
            default_permissions(&mut command);
            all.push(command);
        }
    }
    // The framework does this at start-up; `lounge commands` and help need it without one.
    poise::set_qualified_names(&mut all);
    all
}

/// Discord only takes default member permissions on top-level commands, so a group whose
/// every subcommand needs a permission is hidden from members who lack what they all share:
/// the slash list then shows people only what they can use.
fn default_permissions(command: &mut Command) {
    fn leaves(c: &Command) -> Vec<serenity::Permissions> {
        if c.subcommands.is_empty() {
            vec![c.required_permissions]
        } else {
            c.subcommands.iter().flat_map(leaves).collect()
        }
    }
    if command.default_member_permissions.is_empty() {
        command.default_member_permissions = leaves(command)
            .into_iter()
            .reduce(|a, b| a & b)
            .unwrap_or_default();
    }
}

fn apply_policy(command: &mut Command, module: &Module) {
    command.category = Some(module.name.into());
    command.checks.push(|ctx| Box::pin(permission_gate(ctx)));
    if !module.core {
        command.checks.push(|ctx| Box::pin(module_gate(ctx)));
    }
    // Last, so an invocation refused by the gates above is not counted against a cooldown.
    command.checks.push(|ctx| Box::pin(cooldown::check(ctx)));
    for sub in &mut command.subcommands {
        apply_policy(sub, module);
    }
}

/// The guild of a `guild_only` command (poise refuses those outside guilds before they run).
fn guild_id(ctx: Context<'_>) -> u64 {
    ctx.guild_id()
        .map_or(0, poise::serenity_prelude::GuildId::get)
}

/// Applies the guild's allow/deny rules (see `crate::permissions` for the precedence).
async fn permission_gate(ctx: Context<'_>) -> Result<bool, Error> {
    let Some(guild) = ctx.guild_id() else {
        return Ok(true);
    };
    // Most guilds have no rules: answer from one query, before fetching the member.
    let rules = ctx.data().store.permission_rules(guild.get()).await?;
    if rules.is_empty() {
        return Ok(true);
    }
    let member = match ctx.author_member().await {
        Some(member) => member.into_owned(),
        None => return Ok(true),
    };
    let module = ctx.command().category.as_deref().unwrap_or("other");
    let name = ctx.command().qualified_name.to_string();
    let decision = perm::decide_for(ctx, &rules, &member, ctx.channel_id(), &name, module);
    if decision.allowed() == Some(false) {
        return Err(user_error(format!(
            "You can't use `{name}` here: {}.",
            decision.explain()
        )));
    }
    Ok(true)
}

/// Refuses commands of a module that is unloaded everywhere or disabled in this guild, with
/// a notice saying which and who can change it.
async fn module_gate(ctx: Context<'_>) -> Result<bool, Error> {
    let Some(module) = ctx.command().category.as_deref() else {
        return Ok(true);
    };
    let store = &ctx.data().store;
    if store.module_unloaded(module).await? {
        return Err(user_error(format!(
            "The `{module}` module is switched off everywhere by the bot's owners for now."
        )));
    }
    if let Some(guild) = ctx.guild_id()
        && !store.module_enabled_in(guild.get(), module).await?
    {
        return Err(user_error(format!(
            "The `{module}` module is turned off in this server. Someone with Manage Server can turn it \
             on with `/module enable {module}`."
        )));
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Discord rejects a command without a description (and each parameter's), and our
    /// `///` lines are those descriptions: check every one is there and within limits.
    #[test]
    fn every_command_and_parameter_is_described() {
        fn check(c: &Command) {
            let d = c.description.as_deref().unwrap_or_default();
            assert!(
                !d.is_empty() && d.chars().count() <= 100,
                "{}: bad description {d:?}",
                c.qualified_name
            );
            for p in &c.parameters {
                let d = p.description.as_deref().unwrap_or_default();
                assert!(
                    !d.is_empty() && d.chars().count() <= 100,
                    "{} {}: bad description",
                    c.qualified_name,
                    p.name
                );
            }
            c.subcommands.iter().for_each(check);
        }
        let all = all();
        assert!(!all.is_empty());
        all.iter().for_each(check);
    }

    /// A member who lacks a permission every subcommand requires never sees the group.
    #[test]
    fn groups_default_to_what_all_their_subcommands_require() {
        let find = |name: &str| all().into_iter().find(|c| c.name == name).unwrap();
        let manage = serenity::Permissions::MANAGE_GUILD;
        for name in ["perm", "cooldown", "alias", "settings"] {
            assert!(
                find(name).default_member_permissions.contains(manage),
                "{name}"
            );
        }
        // Anyone may use some `/tag` subcommands, so the group stays visible.
        assert!(find("tag").default_member_permissions.is_empty());
        assert!(find("ping").default_member_permissions.is_empty());
        assert_eq!(
            find("kick").default_member_permissions,
            serenity::Permissions::KICK_MEMBERS
        );
    }

    #[test]
    fn a_group_without_defaults_gets_the_permissions_its_leaves_share() {
        use poise::serenity_prelude::Permissions as P;
        let leaf = |p: P| Command {
            required_permissions: p,
            ..Default::default()
        };
        let mut group = Command {
            subcommands: vec![
                leaf(P::MANAGE_GUILD | P::BAN_MEMBERS),
                Command {
                    subcommands: vec![
                        leaf(P::MANAGE_GUILD),
                        leaf(P::MANAGE_GUILD | P::KICK_MEMBERS),
                    ],
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        default_permissions(&mut group);
        assert_eq!(group.default_member_permissions, P::MANAGE_GUILD);

        let mut open = Command {
            subcommands: vec![leaf(P::MANAGE_GUILD), leaf(P::empty())],
            ..Default::default()
        };
        default_permissions(&mut open);
        assert!(open.default_member_permissions.is_empty());

        let mut explicit = Command {
            default_member_permissions: P::ADMINISTRATOR,
            subcommands: vec![leaf(P::MANAGE_GUILD)],
            ..Default::default()
        };
        default_permissions(&mut explicit);
        assert_eq!(explicit.default_member_permissions, P::ADMINISTRATOR);
    }

    #[test]
    fn every_command_has_its_module_as_category() {
        for c in all() {
            assert!(c.category.is_some(), "{}", c.name);
        }
    }
}
