//! `/module`: switch feature modules per server, and (owners) for every server.

use poise::serenity_prelude as serenity;

use lounge_kit::{Command, Module};
use lounge_kit::{Context, Error, bail_user};

pub fn commands() -> Vec<Command> {
    vec![module()]
}

/// Turn the bot's feature modules on or off in this server
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    subcommands("list", "enable", "disable", "load", "unload"),
    subcommand_required,
    default_member_permissions = "MANAGE_GUILD"
)]
pub async fn module(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Show every module and whether it is on in this server
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn list(ctx: Context<'_>) -> Result<(), Error> {
    let guild = lounge_kit::guild_id(ctx);
    let store = &ctx.data().store;
    let disabled = store.disabled_modules(guild).await?;
    let unloaded = store.unloaded_modules().await?;
    let mut embed = serenity::CreateEmbed::new().title("Modules");
    for m in &ctx.data().modules {
        let state = if m.core {
            "always on"
        } else if unloaded.iter().any(|u| u == m.name) {
            "off everywhere (unloaded by the bot's owners)"
        } else if disabled.iter().any(|d| d == m.name) {
            "off in this server"
        } else {
            "on"
        };
        embed = embed.field(format!("{} — {state}", m.name), m.description, false);
    }
    ctx.send(poise::CreateReply::default().embed(embed)).await?;
    Ok(())
}

/// Turn a module on in this server
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    required_permissions = "MANAGE_GUILD"
)]
pub async fn enable(
    ctx: Context<'_>,
    #[description = "The module to turn on"]
    #[autocomplete = "autocomplete_module"]
    name: String,
) -> Result<(), Error> {
    switch(ctx, &name, true).await
}

/// Turn a module off in this server
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    required_permissions = "MANAGE_GUILD"
)]
pub async fn disable(
    ctx: Context<'_>,
    #[description = "The module to turn off"]
    #[autocomplete = "autocomplete_module"]
    name: String,
) -> Result<(), Error> {
    switch(ctx, &name, false).await
}

async fn switch(ctx: Context<'_>, name: &str, enabled: bool) -> Result<(), Error> {
    let module = find_module(&ctx.data().modules, name)?;
    if module.core && !enabled {
        bail_user!(
            "The `{}` module can't be turned off: it holds the commands that manage the bot.",
            module.name
        );
    }
    let guild = lounge_kit::guild_id(ctx);
    let changed = ctx
        .data()
        .store
        .set_module_enabled(guild, module.name, enabled, ctx.author().id.get())
        .await?;
    let state = if enabled { "on" } else { "off" };
    let text = if changed {
        format!(
            "The `{}` module is now {state} in this server.",
            module.name
        )
    } else {
        format!(
            "The `{}` module was already {state} in this server.",
            module.name
        )
    };
    lounge_kit::say(ctx, text).await?;
    Ok(())
}

/// Switch a module off in every server at once (bot owners only)
#[poise::command(slash_command, prefix_command, owners_only, hide_in_help)]
pub async fn unload(
    ctx: Context<'_>,
    #[description = "The module to switch off everywhere"]
    #[autocomplete = "autocomplete_module"]
    name: String,
) -> Result<(), Error> {
    let module = find_module(&ctx.data().modules, &name)?;
    if module.core {
        bail_user!("The `{}` module can't be unloaded.", module.name);
    }
    let changed = ctx
        .data()
        .store
        .set_module_unloaded(module.name, true, ctx.author().id.get())
        .await?;
    tracing::warn!(
        module = module.name,
        by = ctx.author().id.get(),
        "module unloaded in every guild"
    );
    lounge_kit::say(
        ctx,
        if changed {
            format!(
                "Unloaded `{}` in every server. `module load {}` brings it back.",
                module.name, module.name
            )
        } else {
            format!("`{}` was already unloaded.", module.name)
        },
    )
    .await?;
    Ok(())
}

/// Switch an unloaded module back on everywhere (bot owners only)
#[poise::command(slash_command, prefix_command, owners_only, hide_in_help)]
pub async fn load(
    ctx: Context<'_>,
    #[description = "The module to switch back on"]
    #[autocomplete = "autocomplete_module"]
    name: String,
) -> Result<(), Error> {
    let module = find_module(&ctx.data().modules, &name)?;
    let changed = ctx
        .data()
        .store
        .set_module_unloaded(module.name, false, ctx.author().id.get())
        .await?;
    tracing::warn!(
        module = module.name,
        by = ctx.author().id.get(),
        "module loaded again"
    );
    lounge_kit::say(
        ctx,
        if changed {
            format!(
                "Loaded `{}` again; servers that had it on have it back.",
                module.name
            )
        } else {
            format!("`{}` was not unloaded.", module.name)
        },
    )
    .await?;
    Ok(())
}

fn find_module<'a>(modules: &'a [Module], name: &str) -> Result<&'a Module, Error> {
    let wanted = name.trim().to_lowercase();
    let names: Vec<&str> = modules.iter().map(|m| m.name).collect();
    let list = names.join("`, `");
    match modules.iter().find(|m| m.name == wanted) {
        Some(m) => Ok(m),
        None => Err(lounge_kit::user_error(format!(
            "There is no module called `{}`. Modules: `{list}`.",
            lounge_kit::error::sanitize(name)
        ))),
    }
}

async fn autocomplete_module(
    ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    lounge_kit::ui::autocomplete(ctx.data().modules.iter().map(|m| m.name), partial)
}
