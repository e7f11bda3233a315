//! `/battle challenge`: a battle between two members, each choosing in a private message so
//! the other can't see the choice before the turn runs.

use lounge_kit::Text as _;
use std::time::Duration;

use lounge_pokemon::battle::{Action, Battle, Outcome};
use poise::serenity_prelude as serenity;

use super::render::{choice_rows, describe, state_embed};
use super::{
    View, Winnings, actives, allowed, fighters, finish, note_sent_out, parse_action, to_choose,
    turn_timeout,
};
use crate::{game, messages, respond_private, update_message};
use lounge_kit::{Context, Error, bail_user};
use lounge_store::BattleRecord;

/// How long a challenge waits for an answer.
const CHALLENGE_TIMEOUT: Duration = Duration::from_mins(1);

/// Challenge another member to a battle of your teams (or your selected Pokémon)
///
/// Each side's team (`/pokemon team`, or the selected Pokémon alone) fights, the first one \
/// leading. Both choose a move or a switch privately each turn; a player whose Pokémon faints \
/// chooses the next one. Whoever doesn't choose in time (90 seconds by default) loses. Every \
/// one of the winner's Pokémon that was sent out gains experience for each opposing Pokémon \
/// that fainted \
/// (and the one still out at the end, after a forfeit or time-out).
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn challenge(
    ctx: Context<'_>,
    #[description = "Who you challenge"] user: serenity::User,
) -> Result<(), Error> {
    let me = ctx.author().id;
    if user.bot || user.id == me {
        bail_user!("Challenge another member (not yourself or a bot).");
    }
    let players = [me, user.id];
    let teams = [
        fighters(ctx, me.get()).await?,
        fighters(ctx, user.id.get()).await?,
    ];
    if teams.iter().any(Vec::is_empty) {
        bail_user!("{}", messages::NEED_A_POKEMON_EACH);
    }
    let id = ctx.id();
    let accept = format!("{id}:pvp:accept");
    let decline = format!("{id}:pvp:decline");
    let mut clicks = lounge_kit::ui::ButtonPresses::new(ctx, format!("{id}:pvp:"));
    let handle = ctx
        .send(
            poise::CreateReply::default()
                .text(format!(
                    "<@{}>, <@{me}> challenges you to a battle: their {} against your {}!",
                    user.id,
                    messages::team_summary(&teams[0]),
                    messages::team_summary(&teams[1]),
                ))
                .components(vec![serenity::CreateActionRow::Buttons(vec![
                    serenity::CreateButton::new(&accept)
                        .label("Accept")
                        .style(serenity::ButtonStyle::Success),
                    serenity::CreateButton::new(&decline)
                        .label("Decline")
                        .style(serenity::ButtonStyle::Danger),
                ])]),
        )
        .await?;
    let accepted = loop {
        let Some(press) = clicks.next(CHALLENGE_TIMEOUT).await else {
            handle
                .edit(
                    ctx,
                    poise::CreateReply::default()
                        .text("The challenge expired.")
                        .components(Vec::new()),
                )
                .await?;
            return Ok(());
        };
        let presser = press.user.id;
        if press.data.custom_id == decline && players.contains(&presser) {
            update_message(
                ctx,
                &press,
                format!("<@{presser}> called the battle off."),
                Vec::new(),
            )
            .await?;
            return Ok(());
        }
        if press.data.custom_id == accept && presser == user.id {
            break press;
        }
        respond_private(ctx, &press, "Only the challenged member can accept.").await?;
    };

    let mut battle = Battle::new([
        teams[0].iter().map(game::owned_set).collect(),
        teams[1].iter().map(game::owned_set).collect(),
    ])?;
    battle.clear_log();
    let trainers = [ctx.author().name.clone(), user.name.clone()];
    let short = teams
        .each_ref()
        .map(|t| t.iter().map(game::display_name).collect::<Vec<_>>());
    let view = View {
        names: [0, 1].map(|s| {
            short[s]
                .iter()
                .map(|n| format!("{n} ({})", trainers[s]))
                .collect()
        }),
        trainers,
        short,
    };
    let choose = format!("{id}:pvp:choose");
    let forfeit = format!("{id}:pvp:forfeit");
    let controls = |battle: &Battle| {
        let label = if battle.needs_replacement.contains(&true) {
            "Send in a Pokémon"
        } else {
            "Choose a move"
        };
        vec![serenity::CreateActionRow::Buttons(vec![
            serenity::CreateButton::new(&choose)
                .label(label)
                .style(serenity::ButtonStyle::Primary),
            serenity::CreateButton::new(&forfeit)
                .label("Forfeit")
                .style(serenity::ButtonStyle::Danger),
        ])]
    };
    let waiting = |battle: &Battle, chosen: &[Option<Action>; 2]| {
        let needed = to_choose(battle);
        let marks: Vec<String> = (0..2)
            .filter(|&i| needed[i])
            .map(|i| {
                let mark = if chosen[i].is_some() { "✅" } else { "⏳" };
                format!("{mark} <@{}>", players[i])
            })
            .collect();
        let what = if needed == [true, true] {
            "press **Choose a move** (only you see your moves)."
        } else {
            "a Pokémon fainted: press **Send in a Pokémon** to choose the next one."
        };
        format!("<@{me}> vs <@{}>: {what} {}", user.id, marks.join(" · "))
    };
    let mut chosen: [Option<Action>; 2] = [None, None];
    let mut lines = vec!["The battle begins!".to_owned()];
    accepted
        .create_response(
            ctx,
            serenity::CreateInteractionResponse::UpdateMessage(
                serenity::CreateInteractionResponseMessage::new()
                    .text(waiting(&battle, &chosen))
                    .embed(state_embed(&battle, &view, &lines))
                    .components(controls(&battle))
                    .allowed_mentions(serenity::CreateAllowedMentions::new()),
            ),
        )
        .await?;

    // Turns played, for the record; `round` also counts replacements, and private buttons
    // carry it so a choice left over from an earlier round is refused.
    let mut turns: u32 = 0;
    let mut round: u32 = 0;
    let mut sent_out = [1u8, 1];
    let mut deadline = tokio::time::Instant::now() + turn_timeout(ctx)?;
    let end = loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Some(press) = clicks.next(left).await else {
            // Whoever had to choose and did not loses; if both did not, nobody wins.
            let needed = to_choose(&battle);
            let late = [0, 1].map(|i| needed[i] && chosen[i].is_none());
            let end = match late {
                [false, true] => End::Won(0, "timeout"),
                [true, false] => End::Won(1, "timeout"),
                _ => End::Abandoned,
            };
            lines = vec!["Time's up!".to_owned()];
            break (end, None);
        };
        let presser = press.user.id;
        let Some(side) = players.iter().position(|&p| p == presser) else {
            respond_private(ctx, &press, messages::NOT_YOURS).await?;
            continue;
        };
        let custom = press.data.custom_id.as_str();
        if custom == forfeit {
            lines = vec![format!("<@{presser}> forfeited.")];
            break (End::Won(1 - side, "forfeit"), Some(press));
        }
        let needed = to_choose(&battle);
        if custom == choose {
            if !needed[side] {
                respond_private(ctx, &press, messages::OPPONENT_SENDS_IN).await?;
                continue;
            }
            if chosen[side].is_some() {
                respond_private(ctx, &press, "You've chosen; waiting for your opponent.").await?;
                continue;
            }
            let active = usize::from(battle.sides[side].active);
            let question = if battle.needs_replacement[side] {
                format!(
                    "{} fainted! Who will you send in?",
                    view.short[side][active]
                )
            } else {
                format!(
                    "Turn {}: what will {} do?",
                    turns + 1,
                    view.short[side][active]
                )
            };
            let rows = choice_rows(
                &battle,
                &view,
                side as u8,
                &format!("{id}:pvp:{round}"),
                None,
            );
            press
                .create_response(
                    ctx,
                    serenity::CreateInteractionResponse::Message(
                        serenity::CreateInteractionResponseMessage::new()
                            .text(question)
                            .components(rows)
                            .ephemeral(true)
                            .allowed_mentions(serenity::CreateAllowedMentions::new()),
                    ),
                )
                .await?;
            continue;
        }
        // A choice from a private message: `{id}:pvp:{round}:mv:{slot}` or `...:sw:{slot}`.
        let (for_round, choice) = custom
            .strip_prefix(&format!("{id}:pvp:"))
            .and_then(|rest| rest.split_once(':'))
            .unwrap_or_default();
        if for_round.parse() != Ok(round) || !needed[side] || chosen[side].is_some() {
            update_message(
                ctx,
                &press,
                "That choice is for a turn that's over.",
                Vec::new(),
            )
            .await?;
            continue;
        }
        let Some(action) = parse_action(choice).filter(|&a| allowed(&battle, side as u8, a)) else {
            respond_private(ctx, &press, messages::CANT_NOW).await?;
            continue;
        };
        chosen[side] = Some(action);
        update_message(
            ctx,
            &press,
            format!("You chose {}.", action_name(&battle, &view, side, action)),
            Vec::new(),
        )
        .await?;
        if (0..2).any(|i| needed[i] && chosen[i].is_none()) {
            handle
                .edit(
                    ctx,
                    poise::CreateReply::default()
                        .text(waiting(&battle, &chosen))
                        .embed(state_embed(&battle, &view, &lines))
                        .components(controls(&battle)),
                )
                .await?;
            continue;
        }
        let before = actives(&battle);
        if let [Some(first), Some(second)] = chosen
            && needed == [true, true]
        {
            battle.step([first, second], &mut rand::rng())?;
            turns += 1;
        } else {
            for (s, c) in chosen.iter().enumerate() {
                if let Some(Action::Switch(slot)) = c {
                    battle.replace(s as u8, *slot)?;
                }
            }
        }
        let events = battle.take_log();
        note_sent_out(&events, &mut sent_out);
        round += 1;
        chosen = [None, None];
        deadline = tokio::time::Instant::now() + turn_timeout(ctx)?;
        lines = describe(&events, &view, before);
        match battle.outcome() {
            None => {
                handle
                    .edit(
                        ctx,
                        poise::CreateReply::default()
                            .text(waiting(&battle, &chosen))
                            .embed(state_embed(&battle, &view, &lines))
                            .components(controls(&battle)),
                    )
                    .await?;
            }
            Some(Outcome::Win(side)) => break (End::Won(usize::from(side), "win"), None),
            Some(Outcome::Tie) => break (End::Tie, None),
        }
    };

    let (end, press) = end;
    let (winner, outcome) = match end {
        End::Won(side, how) => {
            // The outcome column is from the challenger's side.
            let outcome = match (side, how) {
                (0, "win") => "win",
                (1, "win") => "loss",
                (_, how) => how,
            };
            (Some(side), outcome)
        }
        End::Tie => (None, "tie"),
        End::Abandoned => (None, "timeout"),
    };
    let winnings = winner.map(|w| Winnings {
        team: &teams[w],
        sent_out: sent_out[w],
        battle: &battle,
        loser: 1 - w,
        exp: (1, 1),
        coins: 0,
    });
    let gained = finish(
        ctx,
        &BattleRecord {
            guild: lounge_kit::guild_id(ctx),
            challenger: me.get(),
            opponent: Some(user.id.get()),
            winner: winner.map(|w| players[w].get()),
            outcome,
            turns,
            npc: None,
        },
        winnings,
    )
    .await?;
    match winner {
        Some(w) => {
            lines.push(format!("🏆 <@{}> wins!", players[w]));
            lines.extend(gained);
        }
        None => lines.push("No winner this time.".to_owned()),
    }
    let reply_embed = state_embed(&battle, &view, &lines);
    let content = format!("Battle over: <@{me}> vs <@{}>.", user.id);
    match press {
        Some(press) => {
            press
                .create_response(
                    ctx,
                    serenity::CreateInteractionResponse::UpdateMessage(
                        serenity::CreateInteractionResponseMessage::new()
                            .text(content)
                            .embed(reply_embed)
                            .components(Vec::new())
                            .allowed_mentions(serenity::CreateAllowedMentions::new()),
                    ),
                )
                .await?;
        }
        None => {
            handle
                .edit(
                    ctx,
                    poise::CreateReply::default()
                        .text(content)
                        .embed(reply_embed)
                        .components(Vec::new()),
                )
                .await?;
        }
    }
    Ok(())
}

enum End {
    /// Side index and how: `win`, `forfeit` or `timeout`.
    Won(usize, &'static str),
    Tie,
    Abandoned,
}

fn action_name(battle: &Battle, view: &View, side: usize, action: Action) -> String {
    match action {
        Action::Move(i) => {
            game::move_name(battle.sides[side].active().moves[usize::from(i)]).to_owned()
        }
        Action::Struggle => "Struggle".to_owned(),
        Action::Switch(slot) => format!("to send in {}", view.short[side][usize::from(slot)]),
    }
}
