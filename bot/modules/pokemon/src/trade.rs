//! `/trade`: one member proposes a trade and the other accepts; then both add Pokémon and
//! coins (`/trade add`, `/trade remove`) and both confirm. The state lives in the database
//! (`Store::trade_*`): what a trade offers is held until it ends, any change clears both
//! confirmations, and the second confirmation swaps in its own transaction, so the swap is
//! exactly what both saw and nothing is lost or duplicated.

use lounge_kit::Bounded;
use lounge_kit::Text as _;
use std::fmt::Write as _;
use std::time::Duration;

use poise::serenity_prelude as serenity;

use super::{game, messages, parse_ids, respond_private, update_message};
use lounge_kit::{Context, Error, RefusalExt, bail_user};
use lounge_store::{Confirmation, OpenTrade, TradeChange, now_ms};

/// How long an invitation waits for the other member's answer.
const INVITE_TIMEOUT: Duration = Duration::from_mins(1);

/// Trade Pokémon and coins with another member
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    subcommands("start", "add", "remove", "show", "confirm", "cancel"),
    subcommand_required
)]
pub async fn trade(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Propose a trade to another member; they accept with a button
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn start(
    ctx: Context<'_>,
    #[description = "Who you want to trade with"] user: serenity::User,
) -> Result<(), Error> {
    let me = ctx.author().id;
    if user.bot {
        bail_user!("Bots don't trade.");
    }
    if user.id == me {
        bail_user!("You can't trade with yourself.");
    }
    let store = &ctx.data().store;
    let now = now_ms();
    if store.trade_of(me.get(), now).await?.is_some() {
        bail_user!("You're already in a trade: `/trade show` shows it, `/trade cancel` ends it.");
    }
    if store.trade_of(user.id.get(), now).await?.is_some() {
        bail_user!("<@{}> is already in a trade.", user.id);
    }

    let id = ctx.id();
    let accept = format!("{id}:trade:accept");
    let decline = format!("{id}:trade:decline");
    let mut clicks = lounge_kit::ui::ButtonPresses::new(ctx, format!("{id}:trade:"));
    let handle = ctx
        .send(
            poise::CreateReply::default()
                .text(format!(
                    "<@{}>, <@{me}> wants to trade with you. Accept within a minute?",
                    user.id
                ))
                .components(vec![serenity::CreateActionRow::Buttons(vec![
                    serenity::CreateButton::new(&accept)
                        .label("Accept")
                        .style(serenity::ButtonStyle::Success),
                    serenity::CreateButton::new(&decline)
                        .label("Decline")
                        .style(serenity::ButtonStyle::Danger),
                ])])
                // The invitee is pinged; nobody else.
                .allowed_mentions(serenity::CreateAllowedMentions::new().users([user.id])),
        )
        .await?;
    loop {
        let Some(press) = clicks.next(INVITE_TIMEOUT).await else {
            handle
                .edit(
                    ctx,
                    poise::CreateReply::default()
                        .text(format!(
                            "<@{}> didn't answer <@{me}>'s trade offer in time.",
                            user.id
                        ))
                        .components(Vec::new()),
                )
                .await?;
            return Ok(());
        };
        let presser = press.user.id;
        if presser != user.id {
            let why = if presser == me {
                "It's up to them to accept; `/trade start` again later if they don't."
            } else {
                messages::NOT_YOURS
            };
            respond_private(ctx, &press, why).await?;
            continue;
        }
        if press.data.custom_id == decline {
            update_message(
                ctx,
                &press,
                format!("<@{presser}> declined the trade."),
                Vec::new(),
            )
            .await?;
            return Ok(());
        }
        let guild = lounge_kit::guild_id(ctx);
        let opened = store
            .trade_open(guild, me.get(), user.id.get(), now_ms())
            .await;
        let answer = match opened {
            Ok(trade) => format!(
                "Trade open between <@{me}> and <@{}>.\n{}\n{}",
                user.id,
                summary(ctx, &trade).await?,
                HOW
            ),
            Err(e) => format!(
                "The trade couldn't start: {}",
                lounge_kit::error::refusal_text(e)?
            ),
        };
        update_message(ctx, &press, answer, Vec::new()).await?;
        return Ok(());
    }
}

const HOW: &str = "Add with `/trade add`, take back with `/trade remove`, then both `/trade confirm`. \
    Any change clears both confirmations; `/trade cancel` ends it.";

/// Coins in a trade offer: Discord's whole number range, from nothing up.
type Coins = Bounded<0, { lounge_kit::args::MAX_SAFE }>;

/// Add Pokémon or coins to your side of your trade
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn add(
    ctx: Context<'_>,
    #[description = "Numbers of your Pokémon to offer, e.g. \"12, 15\""] pokemon: Option<String>,
    #[description = "Coins to add to your offer"] coins: Option<Coins>,
) -> Result<(), Error> {
    let change = TradeChange::Add {
        pokemon: parse_ids(pokemon.as_deref().unwrap_or_default()),
        coins: coins.map_or(0, Bounded::get),
    };
    changed(ctx, &change).await
}

/// Take Pokémon or coins back from your side of your trade
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn remove(
    ctx: Context<'_>,
    #[description = "Numbers of your offered Pokémon to take back"] pokemon: Option<String>,
    #[description = "Coins to take back"] coins: Option<Coins>,
) -> Result<(), Error> {
    let change = TradeChange::Remove {
        pokemon: parse_ids(pokemon.as_deref().unwrap_or_default()),
        coins: coins.map_or(0, Bounded::get),
    };
    changed(ctx, &change).await
}

async fn changed(ctx: Context<'_>, change: &TradeChange) -> Result<(), Error> {
    let trade = ctx
        .data()
        .store
        .trade_change(ctx.author().id.get(), change, now_ms())
        .await
        .refused()?;
    lounge_kit::say(
        ctx,
        format!(
            "Trade updated; confirmations cleared.\n{}",
            summary(ctx, &trade).await?
        ),
    )
    .await?;
    Ok(())
}

/// Show your open trade
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn show(ctx: Context<'_>) -> Result<(), Error> {
    let Some(trade) = ctx
        .data()
        .store
        .trade_of(ctx.author().id.get(), now_ms())
        .await?
    else {
        bail_user!("You're not in a trade. Start one with `/trade start`.");
    };
    lounge_kit::say(ctx, format!("{}\n{HOW}", summary(ctx, &trade).await?)).await?;
    Ok(())
}

/// Confirm your trade as it stands; it happens when both have confirmed
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn confirm(ctx: Context<'_>) -> Result<(), Error> {
    let me = ctx.author().id.get();
    let time = super::now_time();
    // Trading evolves what arrives (Kadabra; Onix holding a Metal Coat) in the swap itself.
    let evolve = move |p: &lounge_store::Pokemon| game::trade_evolution(p, time);
    let confirmed = ctx
        .data()
        .store
        .trade_confirm(me, now_ms(), &evolve)
        .await
        .refused()?;
    match confirmed {
        Confirmation::Waiting(trade) => {
            let other = trade.other_than(me);
            lounge_kit::say(
                ctx,
                format!(
                    "You confirmed. Waiting for <@{other}>.\n{}",
                    summary(ctx, &trade).await?
                ),
            )
            .await?;
        }
        Confirmation::Done { trade, evolved, .. } => {
            let mut msg = format!(
                "🤝 Trade complete between <@{}> and <@{}>!",
                trade.users[0], trade.users[1]
            );
            for e in &evolved {
                msg.push('\n');
                msg.push_str(&messages::evolved(e.before.owner, &e.before, e.into));
                if let Some(item) = &e.used_item {
                    let _ = write!(msg, " It used up its {item}.");
                }
            }
            lounge_kit::say(ctx, msg).await?;
        }
    }
    Ok(())
}

/// Cancel your open trade; nothing changes hands
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn cancel(ctx: Context<'_>) -> Result<(), Error> {
    let me = ctx.author().id.get();
    let trade = ctx
        .data()
        .store
        .trade_cancel(me, now_ms())
        .await
        .refused()?;
    let other = trade.other_than(me);
    lounge_kit::say(
        ctx,
        format!("<@{me}> cancelled the trade with <@{other}>; nothing was traded."),
    )
    .await?;
    Ok(())
}

/// Both sides of the trade and who has confirmed, as message text.
async fn summary(ctx: Context<'_>, trade: &OpenTrade) -> Result<String, Error> {
    let store = &ctx.data().store;
    let mut out = String::new();
    for side in 0..2 {
        let tick = if trade.confirmed[side] { "✅" } else { "⏳" };
        let _ = write!(out, "{tick} <@{}> gives:", trade.users[side]);
        let mut any = false;
        for &id in &trade.pokemon[side] {
            if let Some(p) = store.pokemon(id).await? {
                let _ = write!(out, "\n  {}", messages::list_line(&p));
                any = true;
            }
        }
        if trade.coins[side] > 0 {
            let _ = write!(out, "\n  {} coins", trade.coins[side]);
            any = true;
        }
        if !any {
            out.push_str(" nothing yet");
        }
        out.push('\n');
    }
    Ok(out.trim_end().to_owned())
}
