//! Custom commands ("tags"): text templates a server keeps and anyone uses as `<prefix>name`.
//!
//! A template is parsed when it is saved, so a broken one is refused with the position of the
//! fault. What a tag sends is only ever a message with `allowed_mentions` parsing nothing, and
//! poise ignores bot messages, so a tag can neither ping @everyone/roles nor run a command.

use lounge_kit::Text as _;
use poise::serenity_prelude as serenity;

use lounge_kit::Command;
use lounge_kit::policy::{self, Refused};
use lounge_kit::template::{self, Vars};
use lounge_kit::{Context, Data, Error, RefusalExt, bail_user, user_error};
use lounge_store::Tag;

/// The most tags one server can keep.
pub const MAX_TAGS: i64 = 250;
pub const MAX_NAME_CHARS: usize = 32;
/// The module tag invocations belong to: switching it off silences tags too.
pub const MODULE: &str = "tags";
const TAGS_PER_PAGE: usize = 20;

pub fn commands() -> Vec<Command> {
    vec![tag()]
}

/// Custom commands: text this server saves and uses as `<prefix>name`
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    subcommands("create", "edit", "delete", "list", "info", "raw"),
    subcommand_required
)]
pub async fn tag(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Save a new tag; placeholders: {user} {user.name} {args} {1}-{9} {channel} {server} …
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn create(
    ctx: Context<'_>,
    #[description = "The tag's name, used as <prefix>name (letters, digits, - and _)"] name: String,
    #[description = "What the tag says; {choose:a|b} and {random:1-6} work too"]
    #[rest]
    content: String,
) -> Result<(), Error> {
    let name = valid_name(ctx, &name)?;
    check_template(&content)?;
    let guild = lounge_kit::guild_id(ctx);
    ctx.data()
        .store
        .create_tag(guild, &name, &content, ctx.author().id.get(), MAX_TAGS)
        .await
        .refused()?;
    let prefix = lounge_kit::prefix::current(ctx).await?;
    lounge_kit::say(
        ctx,
        format!("Saved tag `{name}`. Use it with `{prefix}{name}`."),
    )
    .await?;
    Ok(())
}

/// Change what a tag says (its creator or someone with Manage Server)
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn edit(
    ctx: Context<'_>,
    #[description = "The tag to change"]
    #[autocomplete = "autocomplete_tag"]
    name: String,
    #[description = "Its new text"]
    #[rest]
    content: String,
) -> Result<(), Error> {
    let tag = existing(ctx, &name).await?;
    may_manage(ctx, &tag, serenity::Permissions::MANAGE_GUILD).await?;
    check_template(&content)?;
    if !ctx
        .data()
        .store
        .edit_tag(lounge_kit::guild_id(ctx), &tag.name, &content)
        .await?
    {
        bail_user!("Tag `{}` was deleted meanwhile.", tag.name);
    }
    lounge_kit::say(ctx, format!("Updated tag `{}`.", tag.name)).await?;
    Ok(())
}

/// Delete a tag (its creator or someone with Manage Messages)
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn delete(
    ctx: Context<'_>,
    #[description = "The tag to delete"]
    #[autocomplete = "autocomplete_tag"]
    name: String,
) -> Result<(), Error> {
    let tag = existing(ctx, &name).await?;
    may_manage(ctx, &tag, serenity::Permissions::MANAGE_MESSAGES).await?;
    ctx.data()
        .store
        .delete_tag(lounge_kit::guild_id(ctx), &tag.name)
        .await?;
    lounge_kit::say(ctx, format!("Deleted tag `{}`.", tag.name)).await?;
    Ok(())
}

/// List this server's tags
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn list(ctx: Context<'_>) -> Result<(), Error> {
    let tags = ctx.data().store.tags(lounge_kit::guild_id(ctx)).await?;
    if tags.is_empty() {
        lounge_kit::say(
            ctx,
            "This server has no tags yet. Make one with `/tag create`.",
        )
        .await?;
        return Ok(());
    }
    let prefix = lounge_kit::prefix::current(ctx).await?;
    let lines: Vec<String> = tags
        .iter()
        .map(|t| format!("`{prefix}{}` · used {} times", t.name, t.uses))
        .collect();
    let title = format!("Tags ({} of {MAX_TAGS})", tags.len());
    let pages = lounge_kit::ui::line_pages(&title, &lines, TAGS_PER_PAGE);
    lounge_kit::ui::paginate(ctx, pages).await
}

/// Who made a tag, when, and how often it was used
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn info(
    ctx: Context<'_>,
    #[description = "The tag to describe"]
    #[autocomplete = "autocomplete_tag"]
    name: String,
) -> Result<(), Error> {
    let tag = existing(ctx, &name).await?;
    let embed = serenity::CreateEmbed::new()
        .title(format!("Tag `{}`", tag.name))
        .field("Creator", format!("<@{}>", tag.creator_id), true)
        .field("Uses", tag.uses.to_string(), true)
        .field("Created", format!("<t:{}:R>", tag.created_at / 1000), true)
        .field(
            "Last changed",
            format!("<t:{}:R>", tag.updated_at / 1000),
            true,
        )
        .field(
            "Length",
            format!("{} characters", tag.content.chars().count()),
            true,
        );
    ctx.send(poise::CreateReply::default().embed(embed)).await?;
    Ok(())
}

/// Show a tag's template as written, placeholders and all
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn raw(
    ctx: Context<'_>,
    #[description = "The tag to show"]
    #[autocomplete = "autocomplete_tag"]
    name: String,
) -> Result<(), Error> {
    let tag = existing(ctx, &name).await?;
    // A zero-width space after each backtick keeps the template from closing the code block.
    let body = tag.content.replace('`', "`\u{200b}");
    lounge_kit::say(ctx, format!("```\n{body}\n```")).await?;
    Ok(())
}

async fn autocomplete_tag(ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let names = match ctx.guild_id() {
        Some(g) => ctx.data().store.tags(g.get()).await.unwrap_or_default(),
        None => Vec::new(),
    };
    lounge_kit::ui::autocomplete(names.iter().map(|t| t.name.as_str()), partial)
}

/// Lower-cases `name` and checks it can be typed after a prefix and clashes with no command.
/// Aliases use the same rules, since both are invoked the same way.
pub fn valid_name(ctx: Context<'_>, name: &str) -> Result<String, Error> {
    let name = name.trim().to_lowercase();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    {
        bail_user!(
            "A name must be 1 to {MAX_NAME_CHARS} letters, digits, `-` or `_`, without spaces."
        );
    }
    if is_builtin(&ctx.framework().options().commands, &name) {
        bail_user!("`{name}` is one of the bot's own commands; pick another name.");
    }
    Ok(name)
}

/// Whether `name` is a top-level command or one of its aliases (`bal` for `balance`).
pub fn is_builtin(commands: &[Command], name: &str) -> bool {
    commands.iter().any(|c| {
        c.name.eq_ignore_ascii_case(name) || c.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

fn check_template(content: &str) -> Result<(), Error> {
    template::parse(content).map(|_| ()).map_err(|e| {
        user_error(format!(
            "That template has a mistake {e}.\n{}",
            pointer(content, e.position)
        ))
    })
}

/// A few characters around the fault with a caret under it, so the position is visible.
fn pointer(content: &str, position: usize) -> String {
    let chars: Vec<char> = content.chars().collect();
    let start = position.saturating_sub(16).max(1);
    let end = (position + 16).min(chars.len());
    if start > chars.len() {
        return String::new();
    }
    let excerpt: String = chars[start - 1..end]
        .iter()
        .map(|&c| if c == '`' || c == '\n' { ' ' } else { c })
        .collect();
    let caret = " ".repeat(position - start) + "^";
    format!("```\n{excerpt}\n{caret}\n```")
}

async fn existing(ctx: Context<'_>, name: &str) -> Result<Tag, Error> {
    let name = name.trim().to_lowercase();
    match ctx
        .data()
        .store
        .tag(lounge_kit::guild_id(ctx), &name)
        .await?
    {
        Some(tag) => Ok(tag),
        None => Err(user_error(format!(
            "There is no tag `{}` here. `/tag list` shows them all.",
            lounge_kit::error::sanitize(&name)
        ))),
    }
}

/// The creator may always change their tag; others need `permission` (or to own the server).
async fn may_manage(
    ctx: Context<'_>,
    tag: &Tag,
    permission: serenity::Permissions,
) -> Result<(), Error> {
    let author = ctx.author().id;
    if tag.creator_id == author.get() || lounge_kit::policy::is_owner(ctx, author) {
        return Ok(());
    }
    let allowed = match ctx.author_member().await {
        Some(member) => ctx.guild().is_some_and(|g| {
            let p = g.member_permissions(&member);
            p.administrator() || p.contains(permission)
        }),
        None => false,
    };
    if !allowed {
        bail_user!(
            "Only <@{}> (who made `{}`) or someone with {permission} can do that.",
            tag.creator_id,
            tag.name
        );
    }
    Ok(())
}

/// Runs the tag `name` for a prefix message, if this guild has one. Returns whether a tag
/// answered (so the caller stays quiet about unknown commands otherwise).
pub async fn invoke(
    framework: poise::FrameworkContext<'_, Data, Error>,
    msg: &serenity::Message,
    guild: serenity::GuildId,
    name: &str,
    args: &str,
) -> Result<bool, Error> {
    let data = framework.user_data;
    let store = &data.store;
    let Some(tag) = store.tag(guild.get(), name).await? else {
        return Ok(false);
    };
    let http = &framework.serenity_context.http;
    let refuse = |text: String| async move {
        msg.channel_id
            .send_message(http, notice(text))
            .await
            .map(|_| true)
            .map_err(Error::from)
    };
    match policy::check_message(framework, msg, guild, "tag", MODULE).await? {
        None => {}
        Some(Refused::ModuleOff) => {
            return refuse(format!(
                "Tags are turned off here. Someone with Manage Server can turn them on with `/module enable {MODULE}`."
            ))
            .await;
        }
        Some(Refused::TooFast) => {
            lounge_kit::error::react_too_fast(http, msg).await?;
            return Ok(true);
        }
        Some(Refused::Denied(decision)) => {
            return refuse(format!("You can't use tags here: {}.", decision.explain())).await;
        }
        Some(Refused::MemberUnknown) => {
            return refuse(lounge_kit::messages::MEMBER_UNKNOWN.to_owned()).await;
        }
    }

    // allowed_mentions already stops pings; defusing holds where a server ignores it.
    let cache = &framework.serenity_context.cache;
    let text = lounge_kit::reply::defuse(&render(framework, msg, guild, &tag, args), |role| {
        cache.guild(guild).and_then(|g| {
            g.roles
                .get(&serenity::RoleId::new(role))
                .map(|r| r.name.clone())
        })
    });
    msg.channel_id.send_message(http, notice(text)).await?;
    store.count_tag_use(guild.get(), &tag.name).await?;
    Ok(true)
}

/// A channel message that mentions nobody, whatever its text says.
fn notice(text: String) -> serenity::CreateMessage {
    serenity::CreateMessage::new()
        .text(text)
        .allowed_mentions(serenity::CreateAllowedMentions::new())
}

fn render(
    framework: poise::FrameworkContext<'_, Data, Error>,
    msg: &serenity::Message,
    guild: serenity::GuildId,
    tag: &Tag,
    args: &str,
) -> String {
    // Saved templates were parsed at creation; one that no longer parses (an older rule set)
    // is shown raw rather than failing every time.
    let Ok(parsed) = template::parse(&tag.content) else {
        return tag.content.clone();
    };
    let server = framework
        .serenity_context
        .cache
        .guild(guild)
        .map(|g| g.name.clone())
        .unwrap_or_default();
    let user_mention = format!("<@{}>", msg.author.id);
    let channel_mention = format!("<#{}>", msg.channel_id);
    let vars = Vars {
        user_mention: &user_mention,
        user_name: msg
            .author
            .global_name
            .as_deref()
            .unwrap_or(&msg.author.name),
        channel_mention: &channel_mention,
        server_name: &server,
        args,
    };
    let text = parsed.render(&vars, &mut rand::rng());
    if text.trim().is_empty() {
        return format!("(`{}` has nothing to say without arguments.)", tag.name);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_marks_the_faulty_column() {
        let p = pointer("hello {nope} there", 7);
        assert_eq!(p, "```\nhello {nope} there\n      ^\n```");
    }

    #[test]
    fn pointer_clips_long_templates_around_the_fault() {
        let content = format!("{}{{bad", "a".repeat(40));
        let p = pointer(&content, 41);
        let lines: Vec<&str> = p.lines().collect();
        assert_eq!(lines[1], format!("{}{{bad", "a".repeat(16)));
        assert_eq!(lines[2], format!("{}^", " ".repeat(16)));
    }
}
