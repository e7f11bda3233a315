//! Core: latency, help, about.

use lounge_kit::Text as _;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use poise::serenity_prelude as serenity;

use lounge_kit::{Command, Module, find_command};
use lounge_kit::{Context, Error, ui};

pub fn commands() -> Vec<Command> {
    vec![ping(), help(), about()]
}

/// Check the bot's latency to Discord
#[poise::command(slash_command, prefix_command)]
pub async fn ping(ctx: Context<'_>) -> Result<(), Error> {
    let started = Instant::now();
    let reply = lounge_kit::say(ctx, "Pinging…").await?;
    let rest = started.elapsed();
    let gateway = gateway_latency(ctx).await;
    let text = format!(
        "Pong! Gateway heartbeat: {}. REST round trip: {} ms.",
        gateway.map_or_else(
            || "not measured yet".to_owned(),
            |d| format!("{} ms", d.as_millis())
        ),
        rest.as_millis()
    );
    reply
        .edit(ctx, poise::CreateReply::default().text(text))
        .await?;
    Ok(())
}

/// The last heartbeat's round trip, once the shard has had one acknowledged.
async fn gateway_latency(ctx: Context<'_>) -> Option<Duration> {
    let runners = ctx.framework().shard_manager.runners.lock().await;
    runners
        .get(&ctx.serenity_context().shard_id)
        .and_then(|r| r.latency)
}

/// Show what the bot can do, or the details of one command
#[poise::command(slash_command, prefix_command, track_edits)]
pub async fn help(
    ctx: Context<'_>,
    #[description = "A command to explain (for example: ping)"]
    #[autocomplete = "autocomplete_command"]
    #[rest]
    command: Option<String>,
) -> Result<(), Error> {
    let prefix = invocation_prefix(ctx);
    let commands = &ctx.framework().options().commands;
    if let Some(query) = command {
        let query = query.trim().trim_start_matches(['/', '!']);
        let Some(found) = find_command(commands, query) else {
            lounge_kit::bail_user!(
                "There is no command called `{}`. Use `{prefix}help` to see them all.",
                lounge_kit::error::sanitize(query)
            );
        };
        ctx.send(poise::CreateReply::default().embed(command_embed(found, &prefix)))
            .await?;
        return Ok(());
    }
    let pages = help_pages(commands, &ctx.data().modules, &prefix);
    ui::paginate(ctx, pages).await
}

/// Show the bot's version, uptime, storage and shard
#[poise::command(slash_command, prefix_command, channel_cooldown = 10)]
pub async fn about(ctx: Context<'_>) -> Result<(), Error> {
    let data = ctx.data();
    let shard = ctx.serenity_context().shard_id;
    let shard_total = ctx.cache().shard_count();
    let embed = serenity::CreateEmbed::new()
        .title("Lounge")
        .description("Games, music, moderation and social for your community's lounge.")
        .field("Version", env!("CARGO_PKG_VERSION"), true)
        .field("Uptime", humanize(data.started.elapsed()), true)
        .field("Storage", data.store.backend().name(), true)
        .field("Shard", format!("{} of {}", shard.0 + 1, shard_total), true)
        .field("Servers", ctx.cache().guild_count().to_string(), true);
    ctx.send(poise::CreateReply::default().embed(embed)).await?;
    Ok(())
}

fn invocation_prefix(ctx: Context<'_>) -> String {
    match ctx {
        poise::Context::Prefix(p) if !p.prefix().starts_with("<@") => p.prefix().to_owned(),
        _ => "/".to_owned(),
    }
}

async fn autocomplete_command(
    ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let mut names = Vec::new();
    for c in &ctx.framework().options().commands {
        collect_names(c, &mut names);
    }
    ui::autocomplete(names.iter().map(String::as_str), partial)
}

fn collect_names(c: &Command, out: &mut Vec<String>) {
    if !c.hide_in_help {
        out.push(c.qualified_name.to_string());
    }
    for sub in &c.subcommands {
        collect_names(sub, out);
    }
}

/// Commands per page in the overview: enough to be useful, few enough to read on a phone.
const COMMANDS_PER_PAGE: usize = 10;

/// The overview: one or more pages per module, each line a command and its description.
pub fn help_pages(
    commands: &[Command],
    modules: &[Module],
    prefix: &str,
) -> Vec<serenity::CreateEmbed> {
    let mut lines_by_module: Vec<(String, Vec<String>)> = Vec::new();
    for c in commands.iter().filter(|c| !c.hide_in_help) {
        let module = c.category.as_deref().unwrap_or("other").to_owned();
        let mut lines = Vec::new();
        command_lines(c, prefix, &mut lines);
        match lines_by_module.iter_mut().find(|(m, _)| *m == module) {
            Some((_, existing)) => existing.extend(lines),
            None => lines_by_module.push((module, lines)),
        }
    }
    let mut overview = serenity::CreateEmbed::new()
        .title("Lounge help")
        .description(format!(
            "Turn the pages to browse each module, or use `{prefix}help <command>` for details."
        ));
    for (module, lines) in &lines_by_module {
        let description = modules
            .iter()
            .find(|m| m.name == module)
            .map_or("", |m| m.description);
        overview = overview.field(
            module.clone(),
            format!("{description} ({} commands)", lines.len()),
            false,
        );
    }
    let mut pages = vec![overview];
    for (module, lines) in &lines_by_module {
        for chunk in lines.chunks(COMMANDS_PER_PAGE) {
            pages.push(
                serenity::CreateEmbed::new()
                    .title(format!("Help — {module}"))
                    .description(chunk.join("\n")),
            );
        }
    }
    let total = pages.len();
    pages
        .into_iter()
        .enumerate()
        .map(|(i, page)| {
            page.footer(serenity::CreateEmbedFooter::new(format!(
                "Page {} of {total} · {prefix}help <command> for details",
                i + 1
            )))
        })
        .collect()
}

fn command_lines(c: &Command, prefix: &str, out: &mut Vec<String>) {
    if c.subcommands.is_empty() {
        out.push(format!(
            "`{prefix}{}` — {}",
            c.qualified_name,
            c.description.as_deref().unwrap_or("No description")
        ));
    }
    for sub in c.subcommands.iter().filter(|s| !s.hide_in_help) {
        command_lines(sub, prefix, out);
    }
}

/// The detail page for one command: description, usage, parameters, limits.
pub fn command_embed(c: &Command, prefix: &str) -> serenity::CreateEmbed {
    let mut usage = format!("{prefix}{}", c.qualified_name);
    let mut params = String::new();
    for p in &c.parameters {
        if p.required {
            let _ = write!(usage, " <{}>", p.name);
        } else {
            let _ = write!(usage, " [{}]", p.name);
        }
        let _ = writeln!(
            params,
            "`{}` — {}",
            p.name,
            p.description.as_deref().unwrap_or("")
        );
    }
    let mut embed = serenity::CreateEmbed::new()
        .title(format!("{prefix}{}", c.qualified_name))
        .description(
            c.help_text
                .as_deref()
                .or(c.description.as_deref())
                .unwrap_or("No description"),
        )
        .field("Usage", format!("`{usage}`"), false);
    if !params.is_empty() {
        embed = embed.field("Parameters", params, false);
    }
    if !c.subcommands.is_empty() {
        let subs: Vec<String> = c
            .subcommands
            .iter()
            .map(|s| format!("`{}`", s.name))
            .collect();
        embed = embed.field("Subcommands", subs.join(", "), false);
    }
    if !c.aliases.is_empty() {
        embed = embed.field("Aliases", c.aliases.join(", "), false);
    }
    if let Some(module) = &c.category {
        embed = embed.field("Module", module.clone(), true);
    }
    embed
}

fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    let (days, hours, minutes, seconds) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{seconds}s"),
        (0, 0, _) => format!("{minutes}m {seconds}s"),
        (0, _, _) => format!("{hours}h {minutes}m"),
        _ => format!("{days}d {hours}h {minutes}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humanize_picks_the_two_largest_units() {
        assert_eq!(humanize(Duration::from_secs(5)), "5s");
        assert_eq!(humanize(Duration::from_secs(65)), "1m 5s");
        assert_eq!(humanize(Duration::from_mins(3 * 60 + 2)), "3h 2m");
        assert_eq!(humanize(Duration::from_hours(2 * 24 + 1)), "2d 1h 0m");
    }
}
