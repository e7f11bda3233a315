//! `/perm`: allow or deny commands and modules per user, role or channel, and explain why a
//! member can or can't use something. Precedence is in `lounge_store::permissions`.

use poise::serenity_prelude as serenity;

use lounge_kit::policy::{decide_for, is_owner};
use lounge_kit::{Command, guild_id};
use lounge_kit::{Context, Error, bail_user, ui};
use lounge_store::permissions::{Rule, Subject, TargetKind};

pub fn commands() -> Vec<Command> {
    vec![perm()]
}

/// Allow or deny commands and modules for members, roles and channels
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    subcommands("allow", "deny", "reset", "list", "explain"),
    subcommand_required,
    default_member_permissions = "MANAGE_GUILD"
)]
pub async fn perm(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Let a member, role or channel use a command or module
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    required_permissions = "MANAGE_GUILD"
)]
pub async fn allow(
    ctx: Context<'_>,
    #[description = "A command (e.g. balance) or a module (e.g. economy)"] target: String,
    #[description = "The member the rule is for"] user: Option<serenity::User>,
    #[description = "The role the rule is for"] role: Option<serenity::Role>,
    #[description = "The channel the rule is for"] channel: Option<serenity::GuildChannel>,
) -> Result<(), Error> {
    set_rule(ctx, &target, one_subject(user, role, channel)?, true).await
}

/// Stop a member, role or channel from using a command or module
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    required_permissions = "MANAGE_GUILD"
)]
pub async fn deny(
    ctx: Context<'_>,
    #[description = "A command (e.g. balance) or a module (e.g. economy)"] target: String,
    #[description = "The member the rule is for"] user: Option<serenity::User>,
    #[description = "The role the rule is for"] role: Option<serenity::Role>,
    #[description = "The channel the rule is for"] channel: Option<serenity::GuildChannel>,
) -> Result<(), Error> {
    set_rule(ctx, &target, one_subject(user, role, channel)?, false).await
}

/// Remove the rules for a command or module (for one subject, or all)
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    required_permissions = "MANAGE_GUILD"
)]
pub async fn reset(
    ctx: Context<'_>,
    #[description = "A command or module"] target: String,
    #[description = "Only this member's rule"] user: Option<serenity::User>,
    #[description = "Only this role's rule"] role: Option<serenity::Role>,
    #[description = "Only this channel's rule"] channel: Option<serenity::GuildChannel>,
) -> Result<(), Error> {
    let (kind, name) = resolve_target(ctx, &target)?;
    let subject = subject_of(user, role, channel)?;
    let guild = guild_id(ctx);
    let removed = ctx
        .data()
        .store
        .reset_permission_rules(guild, kind, &name, subject)
        .await?;
    let whose = subject.map_or_else(|| "every".to_owned(), |s| format!("{}'s", s.mention()));
    lounge_kit::say(
        ctx,
        format!(
            "Removed {removed} rule(s): {whose} rule on {} `{name}`.",
            kind.as_str()
        ),
    )
    .await?;
    Ok(())
}

/// List this server's permission rules
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    required_permissions = "MANAGE_GUILD"
)]
pub async fn list(ctx: Context<'_>) -> Result<(), Error> {
    let rules = ctx.data().store.permission_rules(guild_id(ctx)).await?;
    if rules.is_empty() {
        lounge_kit::say(ctx, "This server has no permission rules: every command follows its Discord permission defaults.")
            .await?;
        return Ok(());
    }
    let lines: Vec<String> = rules
        .iter()
        .map(|r| {
            format!(
                "{} {} `{}` for {}",
                if r.allow { "✅ allow" } else { "⛔ deny" },
                r.target_kind.as_str(),
                r.target,
                r.subject.mention()
            )
        })
        .collect();
    let total = lines.len().div_ceil(15);
    let pages = lines
        .chunks(15)
        .enumerate()
        .map(|(i, chunk)| {
            serenity::CreateEmbed::new()
                .title("Permission rules")
                .description(chunk.join("\n"))
                .footer(serenity::CreateEmbedFooter::new(format!(
                    "Page {} of {total}",
                    i + 1
                )))
        })
        .collect();
    ui::paginate(ctx, pages).await
}

/// Explain whether a member can use a command here, and which rule decides
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn explain(
    ctx: Context<'_>,
    #[description = "The command to check (e.g. balance)"] command: String,
    #[description = "The member to check"] member: serenity::Member,
    #[description = "The channel to check in (default: this one)"] channel: Option<
        serenity::GuildChannel,
    >,
) -> Result<(), Error> {
    let commands = &ctx.framework().options().commands;
    let Some(found) = lounge_kit::find_command(commands, &command) else {
        bail_user!(
            "There is no command called `{}`.",
            lounge_kit::error::sanitize(&command)
        );
    };
    let channel_id = channel.map_or(ctx.channel_id(), |c| c.id);
    let module = found.category.as_deref().unwrap_or("other");
    let rules = ctx.data().store.permission_rules(guild_id(ctx)).await?;
    let decision = decide_for(
        ctx,
        &rules,
        &member,
        channel_id,
        &found.qualified_name,
        module,
    );
    let verdict = match decision.allowed() {
        Some(true) => "can use".to_owned(),
        Some(false) => "can't use".to_owned(),
        None if found.required_permissions.is_empty()
            && found.default_member_permissions.is_empty() =>
        {
            "can use".to_owned()
        }
        None => {
            let needed = found.required_permissions | found.default_member_permissions;
            format!("can use it only with the Discord permissions {needed}, so")
        }
    };
    lounge_kit::say(
        ctx,
        format!(
            "<@{}> {verdict} `{}` in <#{channel_id}>: {}.",
            member.user.id,
            found.qualified_name,
            decision.explain()
        ),
    )
    .await?;
    Ok(())
}

fn subject_of(
    user: Option<serenity::User>,
    role: Option<serenity::Role>,
    channel: Option<serenity::GuildChannel>,
) -> Result<Option<Subject>, Error> {
    let given: Vec<Subject> = [
        user.map(|u| Subject::User(u.id.get())),
        role.map(|r| Subject::Role(r.id.get())),
        channel.map(|c| Subject::Channel(c.id.get())),
    ]
    .into_iter()
    .flatten()
    .collect();
    match given.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        _ => bail_user!("Give one member, role or channel per rule, not several."),
    }
}

fn one_subject(
    user: Option<serenity::User>,
    role: Option<serenity::Role>,
    channel: Option<serenity::GuildChannel>,
) -> Result<Subject, Error> {
    match subject_of(user, role, channel)? {
        Some(s) => Ok(s),
        None => bail_user!("Say whom the rule is for: a member, a role or a channel."),
    }
}

/// A module name or a command's qualified name.
fn resolve_target(ctx: Context<'_>, target: &str) -> Result<(TargetKind, String), Error> {
    let wanted = target.trim().trim_start_matches(['/', '!']).to_lowercase();
    if let Some(m) = ctx.data().module(&wanted) {
        return Ok((TargetKind::Module, m.name.to_owned()));
    }
    match lounge_kit::find_command(&ctx.framework().options().commands, &wanted) {
        Some(c) if c.qualified_name == wanted || c.name == wanted => {
            Ok((TargetKind::Command, c.qualified_name.to_string()))
        }
        _ => bail_user!(
            "`{}` is neither a command nor a module. Use `/help` for commands and `/module list` for modules.",
            lounge_kit::error::sanitize(target)
        ),
    }
}

async fn set_rule(
    ctx: Context<'_>,
    target: &str,
    subject: Subject,
    allow: bool,
) -> Result<(), Error> {
    let (kind, name) = resolve_target(ctx, target)?;
    let rule = Rule {
        target_kind: kind,
        target: name.clone(),
        subject,
        allow,
    };
    ctx.data()
        .store
        .set_permission_rule(guild_id(ctx), &rule, ctx.author().id.get())
        .await?;
    let verb = if allow {
        "can now use"
    } else {
        "can no longer use"
    };
    let mut text = format!("{} {verb} {} `{name}`.", subject.mention(), kind.as_str());
    if !allow
        && matches!(subject, Subject::User(_))
        && is_owner(ctx, serenity::UserId::new(subject.id()))
    {
        text.push_str(" (They own the server or the bot, so rules don't apply to them.)");
    }
    lounge_kit::say(ctx, text).await?;
    Ok(())
}
