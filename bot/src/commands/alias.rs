//! Aliases for prefix commands (`!b` → `!balance`), and what happens to a prefix message that
//! names no built-in command: an alias is expanded and dispatched again through poise (so the
//! target's checks, cooldowns and permissions all apply), else a tag answers, else nothing.
//!
//! Built-in commands always win: an alias can't be created with a built-in's name, and poise
//! only reports a message as unknown after the built-ins failed to match.

use std::collections::HashMap;

use poise::serenity_prelude as serenity;

use super::{Command, tags};
use crate::store::Alias;
use crate::{Context, Data, Error, bail_user, error::user_error};

pub const MAX_ALIASES: i64 = 100;
pub const MAX_EXPANSION_CHARS: usize = 200;
/// An alias may point at another alias; chains longer than this are refused as runaway.
const MAX_CHAIN: usize = 8;
const ALIASES_PER_PAGE: usize = 20;

pub fn commands() -> Vec<Command> {
    vec![alias()]
}

/// Short names for text commands, with fixed arguments if you like
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    subcommands("add", "remove", "list"),
    subcommand_required,
    default_member_permissions = "MANAGE_GUILD"
)]
#[allow(
    clippy::unused_async,
    reason = "poise commands are async; the parent only groups subcommands"
)]
pub async fn alias(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Make an alias: `<prefix>name rest` runs the command with its fixed args, then rest
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    required_permissions = "MANAGE_GUILD"
)]
pub async fn add(
    ctx: Context<'_>,
    #[description = "The new short name (letters, digits, - and _)"] name: String,
    #[description = "The command it runs, with any fixed arguments, e.g. `balance`"]
    #[rest]
    command: String,
) -> Result<(), Error> {
    let name = tags::valid_name(ctx, &name)?;
    let prefix = super::settings::current_prefix(ctx).await?;
    let expansion = command.trim();
    // People type the command as they would run it; the alias stores it without a prefix.
    let expansion = expansion
        .strip_prefix(prefix.as_str())
        .or_else(|| expansion.strip_prefix('/'))
        .unwrap_or(expansion)
        .trim()
        .to_owned();
    if expansion.is_empty() || expansion.chars().count() > MAX_EXPANSION_CHARS {
        bail_user!("The command must be 1 to {MAX_EXPANSION_CHARS} characters.");
    }
    let guild = super::guild_id(ctx);
    let commands = &ctx.framework().options().commands;
    let mut aliases = by_name(ctx.data().store.aliases(guild).await?);
    aliases.insert(name.clone(), expansion.clone());
    let resolved = resolve(commands, &aliases, &name, "").map_err(user_error)?;
    ctx.data()
        .store
        .create_alias(guild, &name, &expansion, ctx.author().id.get(), MAX_ALIASES)
        .await
        .map_err(tags::name_error)?;
    ctx.say(format!(
        "Done: `{prefix}{name}` now runs `{prefix}{}`.",
        resolved.trim_end()
    ))
    .await?;
    Ok(())
}

/// Remove an alias
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    required_permissions = "MANAGE_GUILD"
)]
pub async fn remove(
    ctx: Context<'_>,
    #[description = "The alias to remove"]
    #[autocomplete = "autocomplete_alias"]
    name: String,
) -> Result<(), Error> {
    let name = name.trim().to_lowercase();
    if !ctx
        .data()
        .store
        .delete_alias(super::guild_id(ctx), &name)
        .await?
    {
        bail_user!(
            "There is no alias `{}` here. `/alias list` shows them all.",
            crate::error::sanitize(&name)
        );
    }
    ctx.say(format!("Removed the alias `{name}`.")).await?;
    Ok(())
}

/// List this server's aliases
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn list(ctx: Context<'_>) -> Result<(), Error> {
    let aliases = ctx.data().store.aliases(super::guild_id(ctx)).await?;
    if aliases.is_empty() {
        ctx.say("This server has no aliases. Make one with `/alias add`.")
            .await?;
        return Ok(());
    }
    let prefix = super::settings::current_prefix(ctx).await?;
    let lines: Vec<String> = aliases
        .iter()
        .map(|a| format!("`{prefix}{}` → `{prefix}{}`", a.name, a.expansion))
        .collect();
    let title = format!("Aliases ({} of {MAX_ALIASES})", aliases.len());
    let pages = crate::ui::line_pages(&title, &lines, ALIASES_PER_PAGE);
    crate::ui::paginate(ctx, pages).await
}

async fn autocomplete_alias(
    ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let names = match ctx.guild_id() {
        Some(g) => ctx.data().store.aliases(g.get()).await.unwrap_or_default(),
        None => Vec::new(),
    };
    crate::ui::autocomplete(names.iter().map(|a| a.name.as_str()), partial)
}

fn by_name(aliases: Vec<Alias>) -> HashMap<String, String> {
    aliases.into_iter().map(|a| (a.name, a.expansion)).collect()
}

/// Expands alias `name` called with `args` into a built-in invocation (without prefix):
/// each alias's fixed arguments come before the caller's. Fails, with a message for the
/// user, on a loop, a runaway chain, or an alias whose target is neither a built-in command
/// nor another alias.
pub fn resolve(
    commands: &[Command],
    aliases: &HashMap<String, String>,
    name: &str,
    args: &str,
) -> Result<String, String> {
    let mut seen = vec![name.to_owned()];
    let mut tail = args.trim().to_owned();
    let mut current = name.to_owned();
    loop {
        let Some(expansion) = aliases.get(&current) else {
            return Err(format!("`{current}` is not an alias."));
        };
        let (head, fixed) = split_head(expansion);
        tail = join(fixed, &tail);
        if tags::is_builtin(commands, &head) {
            return Ok(join(&head, &tail));
        }
        let head = head.to_lowercase();
        if seen.contains(&head) {
            seen.push(head);
            return Err(format!(
                "That would make a loop: {}. Point the alias at a command instead.",
                seen.iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(" → ")
            ));
        }
        if !aliases.contains_key(&head) {
            return Err(format!(
                "`{head}` is not a command or alias here. `/help` lists the commands."
            ));
        }
        seen.push(head.clone());
        if seen.len() > MAX_CHAIN {
            return Err(format!(
                "That alias chain is longer than {MAX_CHAIN} steps; point it at a command directly."
            ));
        }
        current = head;
    }
}

fn split_head(s: &str) -> (String, &str) {
    let s = s.trim();
    match s.split_once(char::is_whitespace) {
        Some((head, rest)) => (head.to_owned(), rest.trim_start()),
        None => (s.to_owned(), ""),
    }
}

fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_owned(),
        (_, true) => a.to_owned(),
        _ => format!("{a} {b}"),
    }
}

/// poise's `UnknownCommand`: a prefix message whose first word is no built-in command.
pub async fn on_unknown_command(
    framework: poise::FrameworkContext<'_, Data, Error>,
    msg: &serenity::Message,
    content_start: u16,
    invocation_data: &tokio::sync::Mutex<Box<dyn std::any::Any + Send + Sync>>,
    trigger: poise::MessageDispatchTrigger,
) -> Result<(), Error> {
    // Edits would run a tag twice; aliases and tags answer the message as first sent.
    let (Some(guild), poise::MessageDispatchTrigger::MessageCreate) = (msg.guild_id, trigger)
    else {
        return Ok(());
    };
    let start = usize::from(content_start);
    let Some(rest) = msg.content.get(start..) else {
        return Ok(());
    };
    let (name, args) = split_head(rest);
    let name = name.to_lowercase();
    if name.is_empty() {
        return Ok(());
    }
    let store = &framework.user_data.store;
    if store.alias(guild.get(), &name).await?.is_none() {
        tags::invoke(framework, msg, guild, &name, args).await?;
        return Ok(());
    }
    let aliases = by_name(store.aliases(guild.get()).await?);
    let expanded = match resolve(&framework.options.commands, &aliases, &name, args) {
        Ok(expanded) => expanded,
        Err(why) => {
            msg.channel_id
                .send_message(
                    &framework.serenity_context.http,
                    serenity::CreateMessage::new()
                        .content(format!("The alias `{name}` is broken: {why}"))
                        .allowed_mentions(serenity::CreateAllowedMentions::new()),
                )
                .await?;
            return Ok(());
        }
    };
    let mut rewritten = msg.clone();
    rewritten.content = format!("{}{expanded}", &msg.content[..start]);
    let mut tree = Vec::new();
    if let Err(e) =
        poise::dispatch_message(framework, &rewritten, trigger, invocation_data, &mut tree).await
    {
        (framework.options.on_error)(e).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtins() -> Vec<Command> {
        crate::commands::all()
    }

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn expands_to_the_command_with_fixed_then_caller_args() {
        let aliases = map(&[("gift", "give"), ("p", "settings prefix")]);
        let c = builtins();
        assert_eq!(
            resolve(&c, &aliases, "gift", "@bob 5").unwrap(),
            "give @bob 5"
        );
        assert_eq!(resolve(&c, &aliases, "p", "").unwrap(), "settings prefix");
        assert_eq!(
            resolve(&c, &aliases, "p", "?").unwrap(),
            "settings prefix ?"
        );
    }

    #[test]
    fn follows_chains_and_keeps_each_steps_fixed_args() {
        let aliases = map(&[("a", "b x"), ("b", "c y"), ("c", "help")]);
        assert_eq!(
            resolve(&builtins(), &aliases, "a", "z").unwrap(),
            "help y x z"
        );
    }

    #[test]
    fn builtin_command_aliases_count_as_builtins() {
        let aliases = map(&[("money", "bal")]);
        assert_eq!(resolve(&builtins(), &aliases, "money", "").unwrap(), "bal");
    }

    #[test]
    fn refuses_loops_naming_the_cycle() {
        let aliases = map(&[("a", "b"), ("b", "a 1")]);
        let err = resolve(&builtins(), &aliases, "a", "").unwrap_err();
        assert!(err.contains("`a` → `b` → `a`"), "{err}");
        let selfish = map(&[("me", "me")]);
        assert!(
            resolve(&builtins(), &selfish, "me", "")
                .unwrap_err()
                .contains("loop")
        );
    }

    #[test]
    fn refuses_unknown_targets_and_runaway_chains() {
        let dangling = map(&[("a", "nothing-here")]);
        let err = resolve(&builtins(), &dangling, "a", "").unwrap_err();
        assert!(err.contains("`nothing-here` is not a command"), "{err}");

        let chain: Vec<(String, String)> = (0..=MAX_CHAIN)
            .map(|i| (format!("s{i}"), format!("s{}", i + 1)))
            .chain([(format!("s{}", MAX_CHAIN + 1), "ping".to_owned())])
            .collect();
        let long: HashMap<String, String> = chain.into_iter().collect();
        assert!(
            resolve(&builtins(), &long, "s0", "")
                .unwrap_err()
                .contains("longer")
        );
        assert_eq!(
            resolve(&builtins(), &long, &format!("s{}", MAX_CHAIN - 6), "").unwrap(),
            "ping"
        );
    }
}
