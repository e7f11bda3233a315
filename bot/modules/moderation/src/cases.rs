//! Cases: every moderation action is recorded under a number per server. `/warn` and `/note`
//! add records of their own; `/case`, `/cases` and `/warnings` read them; `/unwarn` takes a
//! warning back (it stays in the history, marked).

use lounge_kit::{Bounded, Command, Context, Error, RefusalExt, bail_user};
use lounge_store::{Case, NewCase};
use poise::serenity_prelude as serenity;

/// Discord's audit-log limit, and a sane one for a case's reason.
const MAX_REASON: usize = 512;
const CASES_PER_PAGE: usize = 10;

type CaseNumber = Bounded<1, { lounge_kit::args::MAX_SAFE }>;

mod text {
    pub const NO_CASES: &str = "No cases for that member here.";
    pub const NO_WARNINGS: &str = "That member has no warnings in force here.";
    pub fn no_case(n: i64) -> String {
        format!("There is no case #{n} here.")
    }
}

pub(crate) fn commands() -> Vec<Command> {
    vec![warn(), note(), unwarn(), warnings(), cases(), case()]
}

/// Records a case for an action taken in this server; returns its number.
pub(crate) async fn record(
    ctx: Context<'_>,
    kind: &str,
    target: serenity::UserId,
    reason: Option<&str>,
    duration_ms: Option<i64>,
) -> Result<i64, Error> {
    // Kick, ban and timeout reasons come from `#[rest]` text of any length; kept as the audit
    // log keeps them, so `/case show` and the modlog embed (1,024 a field) always fit.
    let reason = reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| lounge_kit::reply::fit(r, MAX_REASON));
    let reason = reason.as_deref();
    let guild = lounge_kit::guild_id(ctx);
    let case = ctx
        .data()
        .store
        .record_case(&NewCase {
            guild,
            kind,
            target: target.get(),
            moderator: ctx.author().id.get(),
            reason,
            duration_ms,
        })
        .await?;
    // The post is owed in the database now; posting it here is the fast path, and the
    // modlog worker posts it if this process can't.
    tokio::spawn(crate::modlog::post_recorded(
        ctx.serenity_context().http.clone(),
        ctx.data().store.clone(),
        guild,
        case.clone(),
    ));
    Ok(case.number)
}

fn valid_reason(reason: &str) -> Result<&str, Error> {
    let reason = reason.trim();
    if reason.is_empty() {
        bail_user!("Say why: the reason is what the case is for.");
    }
    if reason.chars().count() > MAX_REASON {
        bail_user!("A reason can be at most {MAX_REASON} characters.");
    }
    Ok(reason)
}

/// Warn a member; the warning is kept as a case
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    default_member_permissions = "MODERATE_MEMBERS",
    required_permissions = "MODERATE_MEMBERS"
)]
pub async fn warn(
    ctx: Context<'_>,
    #[description = "Who to warn"] user: serenity::User,
    #[description = "Why"]
    #[rest]
    reason: String,
) -> Result<(), Error> {
    let reason = valid_reason(&reason)?;
    if user.bot {
        bail_user!("Bots can't be warned.");
    }
    super::may_act_on(ctx, &user, "warn", Some(reason), false).await?;
    let number = record(ctx, "warn", user.id, Some(reason), None).await?;
    let active = ctx
        .data()
        .store
        .cases_for(lounge_kit::guild_id(ctx), user.id.get(), true)
        .await?
        .len();
    let s = if active == 1 { "" } else { "s" };
    lounge_kit::say(
        ctx,
        format!(
            "Warned <@{}> (case #{number}); {active} warning{s} in force. Reason: {reason}",
            user.id
        ),
    )
    .await?;
    Ok(())
}

/// Add a note about a member, seen only by moderators
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    ephemeral,
    default_member_permissions = "MODERATE_MEMBERS",
    required_permissions = "MODERATE_MEMBERS"
)]
pub async fn note(
    ctx: Context<'_>,
    #[description = "Who the note is about"] user: serenity::User,
    #[description = "The note"]
    #[rest]
    text: String,
) -> Result<(), Error> {
    let text = valid_reason(&text)?;
    let number = record(ctx, "note", user.id, Some(text), None).await?;
    lounge_kit::say(ctx, format!("Noted as case #{number}.")).await?;
    Ok(())
}

/// Take a warning back (it stays in the history, marked as taken back)
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    default_member_permissions = "MODERATE_MEMBERS",
    required_permissions = "MODERATE_MEMBERS"
)]
pub async fn unwarn(
    ctx: Context<'_>,
    #[description = "The warning's case number"] case: CaseNumber,
) -> Result<(), Error> {
    let case = ctx
        .data()
        .store
        .revoke_warning(lounge_kit::guild_id(ctx), case.get(), ctx.author().id.get())
        .await
        .refused()?;
    lounge_kit::say(
        ctx,
        format!("Took back warning #{} for <@{}>.", case.number, case.target),
    )
    .await?;
    Ok(())
}

/// A member's warnings that are still in force
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    default_member_permissions = "MODERATE_MEMBERS",
    required_permissions = "MODERATE_MEMBERS"
)]
pub async fn warnings(
    ctx: Context<'_>,
    #[description = "Whose warnings"] user: serenity::User,
) -> Result<(), Error> {
    history(ctx, &user, true).await
}

/// A member's whole moderation history here
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    default_member_permissions = "MODERATE_MEMBERS",
    required_permissions = "MODERATE_MEMBERS"
)]
pub async fn cases(
    ctx: Context<'_>,
    #[description = "Whose cases"] user: serenity::User,
) -> Result<(), Error> {
    history(ctx, &user, false).await
}

async fn history(ctx: Context<'_>, user: &serenity::User, warnings: bool) -> Result<(), Error> {
    let cases = ctx
        .data()
        .store
        .cases_for(lounge_kit::guild_id(ctx), user.id.get(), warnings)
        .await?;
    if cases.is_empty() {
        bail_user!(
            "{}",
            if warnings {
                text::NO_WARNINGS
            } else {
                text::NO_CASES
            }
        );
    }
    let lines: Vec<String> = cases.iter().map(line).collect();
    let what = if warnings { "Warnings" } else { "Cases" };
    let title = format!("{what} for {} ({})", user.name, cases.len());
    let pages = lounge_kit::ui::line_pages(&title, &lines, CASES_PER_PAGE);
    lounge_kit::ui::paginate(ctx, pages).await
}

fn line(c: &Case) -> String {
    let reason = c.reason.as_deref().unwrap_or("no reason given");
    // Rows stay one line each; /case shows the whole reason.
    let reason = lounge_kit::reply::fit(reason.replace('\n', " "), 120);
    let revoked = if c.revoked.is_some() {
        " · ~~taken back~~"
    } else {
        ""
    };
    format!(
        "**#{}** {} · <t:{}:d> · by <@{}>{revoked} · {reason}",
        c.number,
        c.kind,
        c.created_at / 1000,
        c.moderator
    )
}

/// Look up, edit or delete one case
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    subcommands("show", "reason", "delete"),
    subcommand_required
)]
pub async fn case(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Show one case
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    required_permissions = "MODERATE_MEMBERS"
)]
pub async fn show(
    ctx: Context<'_>,
    #[description = "The case number"] number: CaseNumber,
) -> Result<(), Error> {
    let guild = lounge_kit::guild_id(ctx);
    let Some(c) = ctx.data().store.case(guild, number.get()).await? else {
        bail_user!("{}", text::no_case(number.get()));
    };
    ctx.send(poise::CreateReply::default().embed(embed(&c)))
        .await?;
    Ok(())
}

/// A case as `/case show` and the modlog show it.
pub(crate) fn embed(c: &Case) -> serenity::CreateEmbed {
    let mut embed = serenity::CreateEmbed::new()
        .title(format!("Case #{} · {}", c.number, c.kind))
        .field("Member", format!("<@{}>", c.target), true)
        .field("Moderator", format!("<@{}>", c.moderator), true)
        .field("When", format!("<t:{}:f>", c.created_at / 1000), true)
        .field(
            "Reason",
            c.reason.clone().unwrap_or_else(|| "no reason given".into()),
            false,
        );
    if let Some(ms) = c.duration_ms {
        let length = humantime::format_duration(std::time::Duration::from_secs(
            u64::try_from(ms / 1000).unwrap_or(0),
        ));
        embed = embed.field("Length", length.to_string(), true);
    }
    if let Some((at, by)) = c.revoked {
        embed = embed.field(
            "Taken back",
            format!("<t:{}:f> by <@{by}>", at / 1000),
            true,
        );
    }
    embed
}

/// Change a case's reason
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    required_permissions = "MODERATE_MEMBERS"
)]
pub async fn reason(
    ctx: Context<'_>,
    #[description = "The case number"] number: CaseNumber,
    #[description = "The new reason"]
    #[rest]
    reason: String,
) -> Result<(), Error> {
    let reason = valid_reason(&reason)?;
    let guild = lounge_kit::guild_id(ctx);
    if !ctx
        .data()
        .store
        .set_case_reason(guild, number.get(), reason)
        .await?
    {
        bail_user!("{}", text::no_case(number.get()));
    }
    lounge_kit::say(ctx, format!("Case #{} now reads: {reason}", number.get())).await?;
    Ok(())
}

/// Delete a case (for mistakes; its number is not reused)
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    required_permissions = "MANAGE_GUILD"
)]
pub async fn delete(
    ctx: Context<'_>,
    #[description = "The case number"] number: CaseNumber,
) -> Result<(), Error> {
    let guild = lounge_kit::guild_id(ctx);
    if !ctx.data().store.delete_case(guild, number.get()).await? {
        bail_user!("{}", text::no_case(number.get()));
    }
    lounge_kit::say(ctx, format!("Deleted case #{}.", number.get())).await?;
    Ok(())
}
