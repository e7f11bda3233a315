//! `/osrs kills`, `/osrs leaderboard` and `/osrs achievements`: what characters have done,
//! and how they rank.

use lounge_osrs::{Skill, data, suggestions};
use poise::serenity_prelude as serenity;

use crate::{messages, rules, someones_character};
use lounge_kit::user_error;
use lounge_kit::{Context, Error, bail_user, ui};
use lounge_store::Board;

/// Show a character's kill counts
#[poise::command(slash_command, prefix_command)]
pub async fn kills(
    ctx: Context<'_>,
    #[description = "Whose kill counts (default: yours)"] user: Option<serenity::User>,
) -> Result<(), Error> {
    let ch = someones_character(ctx, user.as_ref()).await?;
    let kills = ctx.data().store.osrs_kills(ch.user_id).await?;
    if kills.is_empty() {
        bail_user!("{}", messages::NO_KILLS);
    }
    let lines: Vec<String> = kills
        .iter()
        .take(40)
        .map(|(m, k)| format!("{m}: **{}**", messages::number(*k)))
        .collect();
    let embed = serenity::CreateEmbed::new()
        .title(format!("{}'s kill counts", ch.name))
        .description(lines.join("\n"));
    ctx.send(poise::CreateReply::default().embed(embed)).await?;
    Ok(())
}

const BOARD_SIZE: i64 = 50;
const BOARD_PAGE: usize = 10;

/// Rank characters by total level, a skill's XP or a monster's kill count
#[poise::command(slash_command, prefix_command)]
pub async fn leaderboard(
    ctx: Context<'_>,
    #[description = "Rank by this skill's experience"]
    #[autocomplete = "autocomplete_skill"]
    skill: Option<String>,
    #[description = "Rank by kill count of this monster"]
    #[autocomplete = "autocomplete_monster"]
    monster: Option<String>,
    #[description = "Rank every player, not only this server's"] everywhere: Option<bool>,
) -> Result<(), Error> {
    let data = data();
    let (board, title, unit) = match (skill, monster) {
        (Some(_), Some(_)) => bail_user!("{}", messages::BOARD_NEEDS_ONE),
        (Some(name), None) => {
            let Some(skill) = Skill::from_name(name.trim()) else {
                let names = Skill::ALL.iter().map(|s| s.name());
                bail_user!(
                    "{}",
                    messages::unknown_skill(&name, &suggestions(&name, names))
                );
            };
            (
                Board::Skill(skill),
                format!("{} experience", rules::title(skill.name())),
                "xp",
            )
        }
        (None, Some(name)) => {
            let found = data
                .monster(&name)
                .map_err(|e| user_error(messages::engine_error(&e)))?;
            (
                Board::Kills(&found.name),
                format!("{} kills", found.name),
                "kills",
            )
        }
        (None, None) => (Board::TotalLevel, "Total level".to_owned(), "total"),
    };
    let guild = ctx.guild_id().filter(|_| !everywhere.unwrap_or(false));
    let rows = ctx
        .data()
        .store
        .osrs_leaderboard(board, guild.map(serenity::GuildId::get), BOARD_SIZE)
        .await?;
    if rows.is_empty() {
        bail_user!("{}", messages::EMPTY_BOARD);
    }
    let scope = if guild.is_some() {
        "this server"
    } else {
        "everywhere"
    };
    let pages = rows
        .chunks(BOARD_PAGE)
        .enumerate()
        .map(|(page, chunk)| {
            let lines: Vec<String> = chunk
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    format!(
                        "**{}.** {} — {} {unit}",
                        page * BOARD_PAGE + i + 1,
                        r.name,
                        messages::number(r.value.max(0) as u64)
                    )
                })
                .collect();
            serenity::CreateEmbed::new()
                .title(format!("Leaderboard: {title} ({scope})"))
                .description(lines.join("\n"))
        })
        .collect();
    ui::paginate(ctx, pages).await
}

/// Show the milestones a character has reached
#[poise::command(slash_command, prefix_command)]
pub async fn achievements(
    ctx: Context<'_>,
    #[description = "Whose achievements (default: yours)"] user: Option<serenity::User>,
) -> Result<(), Error> {
    let ch = someones_character(ctx, user.as_ref()).await?;
    let store = &ctx.data().store;
    let earned = store.osrs_achievements(ch.user_id).await?;
    if earned.is_empty() {
        bail_user!("{}", messages::NO_ACHIEVEMENTS);
    }
    let kills = store.osrs_kills(ch.user_id).await?;
    let lines: Vec<String> = earned
        .iter()
        .map(|(key, at)| {
            format!(
                "🏆 {} — <t:{}:d>",
                rules::achievement_name(key, &ch.skills, &kills),
                at.div_euclid(1000)
            )
        })
        .collect();
    let pages = lines
        .chunks(15)
        .map(|chunk| {
            serenity::CreateEmbed::new()
                .title(format!("{}'s achievements ({})", ch.name, lines.len()))
                .description(chunk.join("\n"))
        })
        .collect();
    ui::paginate(ctx, pages).await
}

async fn autocomplete_monster(
    _: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    ui::autocomplete(data().monsters.iter().map(|m| m.name.as_str()), partial)
}

async fn autocomplete_skill(_: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    ui::autocomplete(Skill::ALL.iter().map(|s| s.name()), partial)
}
