//! Economy: balances, sending coins to each other, and timed rewards.
//!
#![doc = include_str!("../README.md")]

mod boards;
mod reputation;
mod rewards;

use lounge_kit::Bounded;
use poise::serenity_prelude as serenity;

use lounge_kit::{Command, Module};
use lounge_kit::{Context, Error, bail_user};

pub const MODULE: Module = Module::new(
    "economy",
    "Coins and reputation: balances, gifts, daily, weekly and work rewards, /rep",
    commands,
);

fn commands() -> Vec<Command> {
    let mut commands = vec![balance(), give()];
    commands.extend(rewards::commands());
    commands.extend(reputation::commands());
    commands.extend(boards::commands());
    commands
}

/// Show your coins, or someone else's
#[poise::command(slash_command, prefix_command, aliases("bal"))]
pub async fn balance(
    ctx: Context<'_>,
    #[description = "Whose balance to show (default: yours)"] user: Option<serenity::User>,
) -> Result<(), Error> {
    let user = user.as_ref().unwrap_or_else(|| ctx.author());
    let coins = ctx.data().store.balance(user.id.get()).await?;
    lounge_kit::say(ctx, format!("<@{}> has {coins} coins.", user.id)).await?;
    Ok(())
}

/// Send some of your coins to another member
#[poise::command(slash_command, prefix_command, guild_only, user_cooldown = 5)]
pub async fn give(
    ctx: Context<'_>,
    #[description = "Who gets the coins"] user: serenity::User,
    #[description = "How many coins to send"] amount: Bounded<1, { lounge_kit::args::MAX_SAFE }>,
) -> Result<(), Error> {
    let amount = amount.get();
    if user.bot {
        bail_user!("Bots can't hold coins.");
    }
    match ctx
        .data()
        .store
        .transfer_currency(ctx.author().id.get(), user.id.get(), amount)
        .await
    {
        Ok(t) => {
            lounge_kit::say(
                ctx,
                format!(
                    "Sent {amount} coins to <@{}>. You have {} left.",
                    user.id, t.from_balance
                ),
            )
            .await?;
            Ok(())
        }
        // Everything but a store failure is the user's to fix, and its message says how.
        Err(e) => Err(lounge_kit::refusal(e)),
    }
}
