//! Policy, applied once by walking the command tree: the module becomes the category (help
//! groups by it), and every command gets the permission gate, the module switch (unless its
//! module is core) and the cooldown check. Commands never repeat these checks themselves.

use lounge_store::permissions::{self, Decision, Invocation, Rule};
use poise::serenity_prelude as serenity;

use crate::error::user_error;
use crate::{Command, Context, Error, FrameworkContext, Module};

/// Every module's commands, with policy applied.
pub fn collect(modules: &[Module]) -> Vec<Command> {
    let mut all = Vec::new();
    for module in modules {
        for mut command in (module.commands)() {
            apply_policy(&mut command, module);
            default_permissions(&mut command);
            enforce_default_permissions(&mut command);
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
pub fn default_permissions(command: &mut Command) {
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

/// Discord enforces `default_member_permissions` only for slash use; typed with the prefix a
/// command would be open to everyone. poise checks `required_permissions` of every command on
/// the path (group, then subcommand) for both kinds of invocation, and refuses when it can't
/// work the member's permissions out, so the default becomes a requirement here, once.
pub fn enforce_default_permissions(command: &mut Command) {
    command.required_permissions |= command.default_member_permissions;
}

fn apply_policy(command: &mut Command, module: &Module) {
    command.category = Some(module.name.into());
    command.checks.push(|ctx| Box::pin(permission_gate(ctx)));
    if !module.core {
        command.checks.push(|ctx| Box::pin(module_gate(ctx)));
    }
    // Last, so an invocation refused by the gates above is not counted against a cooldown.
    command
        .checks
        .push(|ctx| Box::pin(crate::cooldown::check(ctx)));
    for sub in &mut command.subcommands {
        apply_policy(sub, module);
    }
}

/// The guild of a `guild_only` command (poise refuses those outside guilds before they run).
pub fn guild_id(ctx: Context<'_>) -> u64 {
    ctx.guild_id()
        .map_or(0, poise::serenity_prelude::GuildId::get)
}

/// Applies the guild's allow/deny rules (see `lounge_store::permissions` for the precedence).
async fn permission_gate(ctx: Context<'_>) -> Result<bool, Error> {
    let Some(guild) = ctx.guild_id() else {
        return Ok(true);
    };
    // Most guilds have no rules: answer from one query, before fetching the member.
    let rules = ctx.data().store.permission_rules(guild.get()).await?;
    if rules.is_empty() {
        return Ok(true);
    }
    // Rules can deny by role, so without the member's roles the answer is unknown: refuse
    // rather than let a denied member through while Discord or the cache is unavailable.
    let Some(member) = ctx.author_member().await else {
        return Err(user_error(crate::messages::MEMBER_UNKNOWN));
    };
    let module = ctx.command().category.as_deref().unwrap_or("other");
    let name = ctx.command().qualified_name.to_string();
    let decision = decide_for(ctx, &rules, &member, ctx.channel_id(), &name, module);
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

/// The guild's `rules` decided for `member` running `command` in `channel`.
pub fn decide_for(
    ctx: Context<'_>,
    rules: &[Rule],
    member: &serenity::Member,
    channel: serenity::ChannelId,
    command: &str,
    module: &str,
) -> Decision {
    if rules.is_empty() && !is_owner(ctx, member.user.id) {
        return Decision::Default;
    }
    let member_roles = role_positions(ctx.guild().as_deref(), &member.roles);
    permissions::decide(
        rules,
        &Invocation {
            user: member.user.id.get(),
            roles: &member_roles,
            channel: channel.get(),
            command,
            module,
            is_owner: is_owner(ctx, member.user.id),
        },
    )
}

/// Bot owners and the server's owner.
pub fn is_owner(ctx: Context<'_>, user: serenity::UserId) -> bool {
    ctx.framework().options().owners.contains(&user)
        || ctx.guild().is_some_and(|g| g.owner_id == user)
}

/// Each role with its position in `guild` (0 when the guild or role is not cached), as
/// `permissions::decide` ranks them.
pub fn role_positions(
    guild: Option<&serenity::Guild>,
    roles: &[serenity::RoleId],
) -> Vec<(u64, u16)> {
    roles
        .iter()
        .map(|r| {
            let position = guild
                .and_then(|g| g.roles.get(r))
                .map_or(0, |role| role.position);
            (r.get(), position)
        })
        .collect()
}

/// Finds a command by its qualified name ("module enable") or an alias.
pub fn find_command<'a>(commands: &'a [Command], query: &str) -> Option<&'a Command> {
    let mut words = query.split_whitespace();
    let first = words.next()?.to_lowercase();
    let mut current = commands
        .iter()
        .find(|c| c.name == first || c.aliases.iter().any(|a| *a == first))?;
    for word in words {
        let word = word.to_lowercase();
        match current.subcommands.iter().find(|c| c.name == word) {
            Some(sub) => current = sub,
            None => break,
        }
    }
    Some(current)
}

/// Why a prefix message that runs something outside poise (a tag) is refused.
#[derive(Debug)]
pub enum Refused {
    /// The module is unloaded everywhere or switched off in this guild.
    ModuleOff,
    /// The global rate limit (answered with a reaction only, so no wait is carried).
    TooFast,
    /// The guild's permission rules.
    Denied(Decision),
    /// The guild has rules but the member's roles couldn't be looked up: refused, as the rules
    /// might deny them (say so with [`crate::messages::MEMBER_UNKNOWN`]).
    MemberUnknown,
}

/// The same policy commands get, for a prefix message handled outside poise: the module
/// switch, then for everyone but the bot's owners the global rate limit and the guild's rules
/// for `command` in `module`.
pub async fn check_message(
    framework: FrameworkContext<'_>,
    msg: &serenity::Message,
    guild: serenity::GuildId,
    command: &str,
    module: &str,
) -> Result<Option<Refused>, Error> {
    let data = framework.user_data;
    let store = &data.store;
    if !store.module_on(guild.get(), module).await? {
        return Ok(Some(Refused::ModuleOff));
    }
    if framework.options.owners.contains(&msg.author.id) {
        return Ok(None);
    }
    if data.limiter.check(msg.author.id.get()).is_err() {
        return Ok(Some(Refused::TooFast));
    }
    let rules = store.permission_rules(guild.get()).await?;
    if rules.is_empty() {
        return Ok(None);
    }
    // Guild messages normally carry the member's roles; when one doesn't, they are looked up
    // (cache, then Discord), and the message is refused if that fails.
    let member_roles = match &msg.member {
        Some(member) => member.roles.clone(),
        None => match guild
            .member(framework.serenity_context, msg.author.id)
            .await
        {
            Ok(member) => member.roles,
            Err(e) => {
                tracing::warn!(guild = guild.get(), user = msg.author.id.get(), error = %e, "member lookup failed; refusing");
                return Ok(Some(Refused::MemberUnknown));
            }
        },
    };
    let (positions, is_owner) = {
        let guild = framework.serenity_context.cache.guild(guild);
        (
            role_positions(guild.as_deref(), &member_roles),
            guild.is_some_and(|g| g.owner_id == msg.author.id),
        )
    };
    let decision = permissions::decide(
        &rules,
        &Invocation {
            user: msg.author.id.get(),
            roles: &positions,
            channel: msg.channel_id.get(),
            command,
            module,
            is_owner,
        },
    );
    Ok((decision.allowed() == Some(false)).then_some(Refused::Denied(decision)))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
