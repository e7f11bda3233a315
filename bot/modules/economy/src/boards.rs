//! `/leaderboard`: the richest and the most vouched-for members, with your own place.

use lounge_kit::{Command, Context, Error, bail_user};
use lounge_store::Ranking;

/// The top this many are listed, ten to a page.
const SHOWN: i64 = 100;
const PER_PAGE: usize = 10;

pub fn commands() -> Vec<Command> {
    vec![leaderboard()]
}

#[derive(Clone, Copy, Debug, poise::ChoiceParameter)]
pub enum Which {
    #[name = "coins"]
    Coins,
    #[name = "reputation"]
    Reputation,
}

/// The members with the most coins or reputation, and your place
#[poise::command(slash_command, prefix_command, aliases("lb", "top"))]
pub async fn leaderboard(
    ctx: Context<'_>,
    #[description = "Which board (default: coins)"] board: Option<Which>,
) -> Result<(), Error> {
    let (board, unit, title) = match board.unwrap_or(Which::Coins) {
        Which::Coins => (Ranking::Coins, "coins", "Richest members"),
        Which::Reputation => (
            Ranking::Reputation,
            "reputation",
            "Most vouched-for members",
        ),
    };
    let store = &ctx.data().store;
    let top = store.leaderboard(board, SHOWN).await?;
    if top.is_empty() {
        bail_user!("Nobody is on this board yet.");
    }
    let lines: Vec<String> = top
        .iter()
        .enumerate()
        .map(|(i, (user, score))| format!("**{}.** <@{user}> · {score} {unit}", i + 1))
        .collect();
    let you = match store.rank(board, ctx.author().id.get()).await? {
        Some((place, mine)) => format!("You are #{place} with {mine} {unit}."),
        None => format!("You have no {unit} yet."),
    };
    let pages = lounge_kit::ui::line_pages(title, &lines, PER_PAGE)
        .into_iter()
        .map(|p| p.footer(poise::serenity_prelude::CreateEmbedFooter::new(you.clone())))
        .collect();
    lounge_kit::ui::paginate(ctx, pages).await
}
