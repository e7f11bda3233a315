//! `/trade`: one member proposes a swap of Pokémon and coins, both press Confirm, and the swap
//! happens in one database transaction (`Store::trade`), which re-checks every owner and
//! balance at that moment: whatever happened since the proposal, nothing is lost or duplicated.

use std::time::Duration;

use poise::serenity_prelude as serenity;

use super::{game, parse_ids, refusal, respond_private, text, update_message};
use crate::store::{PokemonError, Progress, TradeSide};
use crate::{Context, Error, bail_user};

const TRADE_TIMEOUT: Duration = Duration::from_mins(3);

/// Offer Pokémon and coins to another member for theirs; both confirm with buttons
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn trade(
    ctx: Context<'_>,
    #[description = "Who you trade with"] user: serenity::User,
    #[description = "Numbers of the Pokémon you give, e.g. \"12, 15\""] give: Option<String>,
    #[description = "Coins you give"]
    #[min = 0]
    coins: Option<i64>,
    #[description = "Numbers of their Pokémon you want"] ask: Option<String>,
    #[description = "Coins you want from them"]
    #[min = 0]
    ask_coins: Option<i64>,
) -> Result<(), Error> {
    let me = ctx.author().id;
    if user.bot {
        bail_user!("Bots don't trade.");
    }
    if user.id == me {
        bail_user!("You can't trade with yourself.");
    }
    let a = TradeSide {
        user: me.get(),
        pokemon: parse_ids(give.as_deref().unwrap_or_default()),
        coins: coins.unwrap_or(0),
    };
    let b = TradeSide {
        user: user.id.get(),
        pokemon: parse_ids(ask.as_deref().unwrap_or_default()),
        coins: ask_coins.unwrap_or(0),
    };
    if a.coins < 0 || b.coins < 0 {
        bail_user!("Coin amounts can't be negative.");
    }
    if a.pokemon.is_empty() && b.pokemon.is_empty() && a.coins == 0 && b.coins == 0 {
        bail_user!("Say what to trade: `give`, `coins`, `ask` or `ask_coins`.");
    }
    let store = &ctx.data().store;
    let mut sides_text = Vec::new();
    for side in [&a, &b] {
        let mut lines = Vec::new();
        for &id in &side.pokemon {
            match store.pokemon(id).await? {
                Some(p) if p.owner == side.user => lines.push(text::list_line(&p)),
                _ => bail_user!("<@{}> doesn't have a Pokémon #{id}.", side.user),
            }
        }
        if side.coins > 0 {
            let balance = store.balance(side.user).await?;
            if balance < side.coins {
                bail_user!(
                    "<@{}> has only {balance} coins, not {}.",
                    side.user,
                    side.coins
                );
            }
            lines.push(format!("{} coins", side.coins));
        }
        if lines.is_empty() {
            lines.push("nothing".to_owned());
        }
        sides_text.push(lines.join("\n"));
    }

    let id = ctx.id();
    let confirm = format!("{id}:trade:confirm");
    let cancel = format!("{id}:trade:cancel");
    let buttons = || {
        vec![serenity::CreateActionRow::Buttons(vec![
            serenity::CreateButton::new(&confirm)
                .label("Confirm")
                .style(serenity::ButtonStyle::Success),
            serenity::CreateButton::new(&cancel)
                .label("Cancel")
                .style(serenity::ButtonStyle::Danger),
        ])]
    };
    let embed = serenity::CreateEmbed::new()
        .title("Trade offer")
        .field(format!("{} gives", ctx.author().name), &sides_text[0], true)
        .field(format!("{} gives", user.name), &sides_text[1], true)
        .colour(text::COLOUR);
    let status = |confirmed: &[serenity::UserId]| {
        let who = |u: serenity::UserId| {
            if confirmed.contains(&u) {
                format!("✅ <@{u}>")
            } else {
                format!("⏳ <@{u}>")
            }
        };
        format!(
            "Trade between <@{me}> and <@{}>: both press **Confirm** to swap.\n{} · {}",
            user.id,
            who(me),
            who(user.id)
        )
    };
    let mut clicks = crate::ui::ButtonPresses::new(ctx, format!("{id}:trade:"));
    let handle = ctx
        .send(
            poise::CreateReply::default()
                .content(status(&[]))
                .embed(embed.clone())
                .components(buttons()),
        )
        .await?;

    let mut confirmed: Vec<serenity::UserId> = Vec::new();
    loop {
        let Some(press) = clicks.next(TRADE_TIMEOUT).await else {
            handle
                .edit(
                    ctx,
                    poise::CreateReply::default()
                        .content("This trade offer expired; nothing was traded.")
                        .embed(embed)
                        .components(Vec::new()),
                )
                .await?;
            return Ok(());
        };
        let presser = press.user.id;
        if presser != me && presser != user.id {
            respond_private(ctx, &press, text::NOT_YOURS).await?;
            continue;
        }
        if press.data.custom_id == cancel {
            update_message(
                ctx,
                &press,
                format!("<@{presser}> cancelled the trade; nothing was traded."),
                Vec::new(),
            )
            .await?;
            return Ok(());
        }
        if !confirmed.contains(&presser) {
            confirmed.push(presser);
        }
        if confirmed.len() < 2 {
            update_message(ctx, &press, status(&confirmed), buttons()).await?;
            continue;
        }
        let result = match store.trade(&a, &b).await {
            Ok(_) => {
                let mut msg = format!("🤝 Trade complete between <@{me}> and <@{}>!", user.id);
                for line in trade_evolutions(ctx, &a, &b).await? {
                    msg.push('\n');
                    msg.push_str(&line);
                }
                msg
            }
            Err(PokemonError::Store(e)) => return Err(e.into()),
            Err(e) => format!("The trade didn't happen: {e} Nothing was traded."),
        };
        update_message(ctx, &press, result, Vec::new()).await?;
        return Ok(());
    }
}

/// Evolves traded Pokémon that evolve by trading (Kadabra, Machoke...), unless opted out.
async fn trade_evolutions(
    ctx: Context<'_>,
    a: &TradeSide,
    b: &TradeSide,
) -> Result<Vec<String>, Error> {
    let store = &ctx.data().store;
    let mut lines = Vec::new();
    for &id in a.pokemon.iter().chain(&b.pokemon) {
        let Some(p) = store.pokemon(id).await? else {
            continue;
        };
        let Some(into) = game::trade_evolution(&p, super::now_time()) else {
            continue;
        };
        let progress = Progress {
            species: into,
            level: p.level,
            exp: p.exp,
            friendship: p.friendship,
            moves: p.moves.clone(),
        };
        if store.save_progress(&p, &progress).await.map_err(refusal)? {
            lines.push(text::evolved(p.owner, &p, into));
        }
    }
    Ok(lines)
}
