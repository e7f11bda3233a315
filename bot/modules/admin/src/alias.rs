//! Aliases for prefix commands (`!b` → `!balance`), and what happens to a prefix message that
//! names no built-in command: an alias is expanded and dispatched again through poise (so the
//! target's checks, cooldowns and permissions all apply), else a tag answers, else nothing.
//!
//! Built-in commands always win: an alias can't be created with a built-in's name, and poise
//! only reports a message as unknown after the built-ins failed to match.

use lounge_kit::Text as _;
use std::collections::HashMap;

use poise::serenity_prelude as serenity;

use lounge_kit::Command;
use lounge_kit::module::UnknownCommand;

use crate::tags;
use lounge_kit::{Context, Error, RefusalExt, bail_user, user_error};
use lounge_store::Alias;

pub const MAX_ALIASES: i64 = 100;
pub const MAX_EXPANSION_CHARS: usize = 200;
/// An alias may point at another alias; chains longer than this are refused as runaway.
pub const MAX_CHAIN: usize = 8;
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
    let prefix = lounge_kit::prefix::current(ctx).await?;
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
    let guild = lounge_kit::guild_id(ctx);
    let commands = &ctx.framework().options().commands;
    let mut aliases = by_name(ctx.data().store.aliases(guild).await?);
    aliases.insert(name.clone(), expansion.clone());
    let resolved = resolve(commands, &aliases, &name, "").map_err(user_error)?;
    ctx.data()
        .store
        .create_alias(guild, &name, &expansion, ctx.author().id.get(), MAX_ALIASES)
        .await
        .refused()?;
    lounge_kit::say(
        ctx,
        format!(
            "Done: `{prefix}{name}` now runs `{prefix}{}`.",
            resolved.trim_end()
        ),
    )
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
        .delete_alias(lounge_kit::guild_id(ctx), &name)
        .await?
    {
        bail_user!(
            "There is no alias `{}` here. `/alias list` shows them all.",
            lounge_kit::error::sanitize(&name)
        );
    }
    lounge_kit::say(ctx, format!("Removed the alias `{name}`.")).await?;
    Ok(())
}

/// List this server's aliases
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn list(ctx: Context<'_>) -> Result<(), Error> {
    let aliases = ctx.data().store.aliases(lounge_kit::guild_id(ctx)).await?;
    if aliases.is_empty() {
        lounge_kit::say(
            ctx,
            "This server has no aliases. Make one with `/alias add`.",
        )
        .await?;
        return Ok(());
    }
    let prefix = lounge_kit::prefix::current(ctx).await?;
    let lines: Vec<String> = aliases
        .iter()
        .map(|a| format!("`{prefix}{}` → `{prefix}{}`", a.name, a.expansion))
        .collect();
    let title = format!("Aliases ({} of {MAX_ALIASES})", aliases.len());
    let pages = lounge_kit::ui::line_pages(&title, &lines, ALIASES_PER_PAGE);
    lounge_kit::ui::paginate(ctx, pages).await
}

async fn autocomplete_alias(
    ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let names = match ctx.guild_id() {
        Some(g) => ctx.data().store.aliases(g.get()).await.unwrap_or_default(),
        None => Vec::new(),
    };
    lounge_kit::ui::autocomplete(names.iter().map(|a| a.name.as_str()), partial)
}

fn by_name(aliases: Vec<Alias>) -> HashMap<String, String> {
    aliases.into_iter().map(|a| (a.name, a.expansion)).collect()
}

/// Expands alias `name` called with `args` into a built-in invocation (without prefix):
/// each alias's fixed arguments come before the caller's. Fails, with a message for the
/// user, on a loop, a runaway chain, or an alias whose target is neither a built-in command
/// nor another alias.
#[allow(
    clippy::implicit_hasher,
    reason = "the map is always the one `by_name` builds; public only for the app's tests"
)]
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
pub async fn on_unknown_command(unknown: UnknownCommand<'_>) -> Result<(), Error> {
    let UnknownCommand {
        framework,
        msg,
        content_start,
        invocation_data,
        trigger,
    } = unknown;
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
                        .text(format!("The alias `{name}` is broken: {why}"))
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
