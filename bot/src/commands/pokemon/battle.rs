//! `/battle wild` and `/battle challenge`: one-on-one battles with the trainers' selected
//! Pokémon, played by the engine turn by turn. Moves are chosen with buttons; in player
//! battles each player picks from a private (ephemeral) message so the opponent can't see the
//! choice before the turn runs. Results are stored and the winner's Pokémon gains experience.

use std::time::Duration;

use lounge_pokemon::battle::{Action, Battle, CantReason, Event, Outcome};
use lounge_pokemon::data::Status;
use poise::serenity_prelude as serenity;
use rand::Rng;

use super::{game, refusal, respond_private, text};
use crate::store::{BattleRecord, Pokemon};
use crate::{Context, Error, bail_user};

/// How long a player may take to choose a move before the battle is lost on time.
const TURN_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a challenge waits for an answer.
const CHALLENGE_TIMEOUT: Duration = Duration::from_mins(1);
/// Coins for beating a wild Pokémon.
const WILD_REWARD: i64 = 15;
/// Log lines shown per turn; long multi-hit turns are cut.
const LOG_LINES: usize = 15;

/// Battle a wild Pokémon or another trainer with your selected Pokémon
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    subcommands("wild", "challenge"),
    subcommand_required
)]
#[allow(
    clippy::unused_async,
    reason = "poise commands are async; the parent only groups subcommands"
)]
pub async fn battle(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Battle a wild Pokémon near your selected Pokémon's level
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn wild(ctx: Context<'_>) -> Result<(), Error> {
    let store = &ctx.data().store;
    let user = ctx.author().id;
    let Some(mine) = store.selected_pokemon(user.get()).await? else {
        bail_user!("{}", text::NO_POKEMON);
    };
    let (foe, foe_shiny) = game::wild_opponent(&mut rand::rng(), mine.level);
    let (foe_species, foe_level, foe_name) = (foe.species.num, foe.level, foe.species.name);
    let mut battle = Battle::new([vec![game::owned_set(&mine)], vec![foe]])?;
    battle.clear_log();
    let sparkle = if foe_shiny { "✨ " } else { "" };
    let names = [
        game::display_name(&mine),
        format!("the wild {sparkle}{foe_name}"),
    ];
    let id = ctx.id();
    let intro = format!("A wild {sparkle}{foe_name} (level {foe_level}) wants to battle!");
    let mut clicks = crate::ui::ButtonPresses::new(ctx, format!("{id}:wild:"));
    let handle = ctx
        .send(
            poise::CreateReply::default()
                .embed(state_embed(&battle, &names, std::slice::from_ref(&intro)))
                .components(move_buttons(&battle, 0, &format!("{id}:wild:mv"), true)),
        )
        .await?;
    let mut turns = 0;
    loop {
        let Some(press) = clicks.next(TURN_TIMEOUT).await else {
            record(ctx, user.get(), None, None, "timeout", turns).await?;
            handle
                .edit(
                    ctx,
                    poise::CreateReply::default()
                        .embed(state_embed(
                            &battle,
                            &names,
                            &["You took too long; the wild Pokémon wandered off.".to_owned()],
                        ))
                        .components(Vec::new()),
                )
                .await?;
            return Ok(());
        };
        if press.user.id != user {
            respond_private(ctx, &press, text::NOT_YOURS).await?;
            continue;
        }
        let choice = press.data.custom_id.rsplit(':').next().unwrap_or_default();
        if choice == "run" {
            record(ctx, user.get(), None, None, "forfeit", turns).await?;
            let lines = vec![format!("You got away safely from {}.", names[1])];
            update_battle(
                ctx,
                &press,
                state_embed(&battle, &names, &lines),
                Vec::new(),
            )
            .await?;
            return Ok(());
        }
        let Some(action) = pick(&battle, 0, choice) else {
            respond_private(ctx, &press, "That move can't be used right now.").await?;
            continue;
        };
        let foe_action = random_action(&battle, 1);
        let events = battle
            .step([action, foe_action], &mut rand::rng())?
            .to_vec();
        battle.clear_log();
        turns += 1;
        let mut lines = describe(&events, &names);
        match battle.outcome() {
            None => {
                update_battle(
                    ctx,
                    &press,
                    state_embed(&battle, &names, &lines),
                    move_buttons(&battle, 0, &format!("{id}:wild:mv"), true),
                )
                .await?;
            }
            Some(outcome) => {
                let result = match outcome {
                    Outcome::Win(0) => "win",
                    Outcome::Win(_) => "loss",
                    Outcome::Tie => "tie",
                };
                record(ctx, user.get(), None, None, result, turns).await?;
                if result == "win" {
                    store
                        .adjust_currency(user.get(), WILD_REWARD)
                        .await
                        .map_err(|e| -> Error { Box::new(e) })?;
                    lines.push(format!("You won! +{WILD_REWARD} coins."));
                    lines.extend(reward_exp(ctx, &mine, foe_species, foe_level).await?);
                } else if result == "loss" {
                    lines.push(format!("{} fainted. Better luck next time!", names[0]));
                } else {
                    lines.push("It's a draw.".to_owned());
                }
                update_battle(
                    ctx,
                    &press,
                    state_embed(&battle, &names, &lines),
                    Vec::new(),
                )
                .await?;
                return Ok(());
            }
        }
    }
}

/// Challenge another member to a battle of your selected Pokémon
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn challenge(
    ctx: Context<'_>,
    #[description = "Who you challenge"] user: serenity::User,
) -> Result<(), Error> {
    let store = &ctx.data().store;
    let me = ctx.author().id;
    if user.bot || user.id == me {
        bail_user!("Challenge another member (not yourself or a bot).");
    }
    let players = [me, user.id];
    let (Some(a), Some(b)) = (
        store.selected_pokemon(me.get()).await?,
        store.selected_pokemon(user.id.get()).await?,
    ) else {
        bail_user!("{}", text::NEED_A_POKEMON_EACH);
    };
    let id = ctx.id();
    let accept = format!("{id}:pvp:accept");
    let decline = format!("{id}:pvp:decline");
    let mut clicks = crate::ui::ButtonPresses::new(ctx, format!("{id}:pvp:"));
    let handle = ctx
        .send(
            poise::CreateReply::default()
                .content(format!(
                    "<@{}>, <@{me}> challenges you to a battle: their {} (level {}) against your {} (level {})!",
                    user.id,
                    game::display_name(&a),
                    a.level,
                    game::display_name(&b),
                    b.level
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
                        .content("The challenge expired.")
                        .components(Vec::new()),
                )
                .await?;
            return Ok(());
        };
        let presser = press.user.id;
        if press.data.custom_id == decline && players.contains(&presser) {
            super::update_message(
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

    let mut battle = Battle::new([vec![game::owned_set(&a)], vec![game::owned_set(&b)]])?;
    battle.clear_log();
    let names = [
        format!("{} ({})", game::display_name(&a), ctx.author().name),
        format!("{} ({})", game::display_name(&b), user.name),
    ];
    let choose = format!("{id}:pvp:choose");
    let forfeit = format!("{id}:pvp:forfeit");
    let controls = || {
        vec![serenity::CreateActionRow::Buttons(vec![
            serenity::CreateButton::new(&choose)
                .label("Choose a move")
                .style(serenity::ButtonStyle::Primary),
            serenity::CreateButton::new(&forfeit)
                .label("Forfeit")
                .style(serenity::ButtonStyle::Danger),
        ])]
    };
    let waiting = |chosen: &[Option<Action>; 2]| {
        let mark = |i: usize| if chosen[i].is_some() { "✅" } else { "⏳" };
        format!(
            "<@{me}> vs <@{}>: press **Choose a move** (only you see your moves). {} <@{me}> · {} <@{}>",
            user.id,
            mark(0),
            mark(1),
            user.id
        )
    };
    let mut chosen: [Option<Action>; 2] = [None, None];
    let mut lines = vec!["The battle begins!".to_owned()];
    accepted
        .create_response(
            ctx,
            serenity::CreateInteractionResponse::UpdateMessage(
                serenity::CreateInteractionResponseMessage::new()
                    .content(waiting(&chosen))
                    .embed(state_embed(&battle, &names, &lines))
                    .components(controls())
                    .allowed_mentions(serenity::CreateAllowedMentions::new()),
            ),
        )
        .await?;

    let mut turn: u32 = 0;
    let mut deadline = tokio::time::Instant::now() + TURN_TIMEOUT;
    let end = loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Some(press) = clicks.next(left).await else {
            // Whoever did not choose in time loses; if neither did, nobody wins.
            let end = match chosen {
                [Some(_), None] => End::Won(0, "timeout"),
                [None, Some(_)] => End::Won(1, "timeout"),
                _ => End::Abandoned,
            };
            lines = vec!["Time's up!".to_owned()];
            break (end, None);
        };
        let presser = press.user.id;
        let Some(side) = players.iter().position(|&p| p == presser) else {
            respond_private(ctx, &press, text::NOT_YOURS).await?;
            continue;
        };
        let custom = press.data.custom_id.as_str();
        if custom == forfeit {
            lines = vec![format!("<@{presser}> forfeited.")];
            break (End::Won(1 - side, "forfeit"), Some(press));
        }
        if custom == choose {
            if chosen[side].is_some() {
                respond_private(ctx, &press, "You've chosen; waiting for your opponent.").await?;
                continue;
            }
            let buttons = move_buttons(&battle, side as u8, &format!("{id}:pvp:mv:{turn}"), false);
            press
                .create_response(
                    ctx,
                    serenity::CreateInteractionResponse::Message(
                        serenity::CreateInteractionResponseMessage::new()
                            .content(format!("Turn {}: what will {} do?", turn + 1, names[side]))
                            .components(buttons)
                            .ephemeral(true)
                            .allowed_mentions(serenity::CreateAllowedMentions::new()),
                    ),
                )
                .await?;
            continue;
        }
        // A move button from a private message: `{id}:pvp:mv:{turn}:{slot}`.
        let mut parts = custom.rsplit(':');
        let slot = parts.next().unwrap_or_default();
        let for_turn: Option<u32> = parts.next().and_then(|t| t.parse().ok());
        if for_turn != Some(turn) || chosen[side].is_some() {
            super::update_message(
                ctx,
                &press,
                "That choice is for a turn that's over.",
                Vec::new(),
            )
            .await?;
            continue;
        }
        let Some(action) = pick(&battle, side as u8, slot) else {
            respond_private(ctx, &press, "That move can't be used right now.").await?;
            continue;
        };
        chosen[side] = Some(action);
        super::update_message(
            ctx,
            &press,
            format!("You chose {}.", action_name(&battle, side as u8, action)),
            Vec::new(),
        )
        .await?;
        let [Some(first), Some(second)] = chosen else {
            handle
                .edit(
                    ctx,
                    poise::CreateReply::default()
                        .content(waiting(&chosen))
                        .embed(state_embed(&battle, &names, &lines))
                        .components(controls()),
                )
                .await?;
            continue;
        };
        let events = battle.step([first, second], &mut rand::rng())?.to_vec();
        battle.clear_log();
        turn += 1;
        chosen = [None, None];
        deadline = tokio::time::Instant::now() + TURN_TIMEOUT;
        lines = describe(&events, &names);
        match battle.outcome() {
            None => {
                handle
                    .edit(
                        ctx,
                        poise::CreateReply::default()
                            .content(waiting(&chosen))
                            .embed(state_embed(&battle, &names, &lines))
                            .components(controls()),
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
    record(
        ctx,
        me.get(),
        Some(user.id.get()),
        winner.map(|w| players[w].get()),
        outcome,
        turn,
    )
    .await?;
    match winner {
        Some(w) => {
            lines.push(format!("🏆 <@{}> wins!", players[w]));
            let (loser_pokemon, winner_pokemon) = if w == 0 { (&b, &a) } else { (&a, &b) };
            lines.extend(
                reward_exp(
                    ctx,
                    winner_pokemon,
                    loser_pokemon.species,
                    loser_pokemon.level,
                )
                .await?,
            );
        }
        None => lines.push("No winner this time.".to_owned()),
    }
    let reply_embed = state_embed(&battle, &names, &lines);
    let content = format!("Battle over: <@{me}> vs <@{}>.", user.id);
    match press {
        Some(press) => {
            press
                .create_response(
                    ctx,
                    serenity::CreateInteractionResponse::UpdateMessage(
                        serenity::CreateInteractionResponseMessage::new()
                            .content(content)
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
                        .content(content)
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

async fn record(
    ctx: Context<'_>,
    challenger: u64,
    opponent: Option<u64>,
    winner: Option<u64>,
    outcome: &'static str,
    turns: u32,
) -> Result<(), Error> {
    ctx.data()
        .store
        .record_battle(&BattleRecord {
            guild: super::super::guild_id(ctx),
            challenger,
            opponent,
            winner,
            outcome,
            turns,
        })
        .await
        .map_err(refusal)?;
    Ok(())
}

/// Experience for the winner's Pokémon (re-read, so it stacks on what happened meanwhile).
async fn reward_exp(
    ctx: Context<'_>,
    winner: &Pokemon,
    defeated: u16,
    level: u8,
) -> Result<Vec<String>, Error> {
    let store = &ctx.data().store;
    let Some(now) = store
        .pokemon(winner.id)
        .await?
        .filter(|p| p.owner == winner.owner)
    else {
        return Ok(Vec::new());
    };
    let exp = game::battle_exp(defeated, level);
    let mut lines = vec![format!("{} gained {exp} XP.", game::display_name(&now))];
    let Some(growth) = game::grow(&now, exp, 2, super::now_time()) else {
        return Ok(lines);
    };
    if !store
        .save_progress(&now, &growth.progress)
        .await
        .map_err(refusal)?
    {
        return Ok(Vec::new());
    }
    if growth.levelled() {
        lines.push(format!(
            "{} grew to level {}!",
            game::display_name(&now),
            growth.progress.level
        ));
    }
    for m in &growth.learnt {
        lines.push(format!("It learnt {}.", game::move_name(*m)));
    }
    if growth.evolved_from.is_some() {
        lines.push(text::evolved(now.owner, &now, growth.progress.species));
    }
    Ok(lines)
}

/// The action a button stands for, if it is legal now: a move slot's digit or `struggle`.
fn pick(battle: &Battle, side: u8, choice: &str) -> Option<Action> {
    let mut legal = Vec::new();
    battle.legal_actions(side, &mut legal);
    let wanted = if choice == "struggle" {
        Action::Struggle
    } else {
        Action::Move(choice.parse().ok()?)
    };
    legal.contains(&wanted).then_some(wanted)
}

fn random_action(battle: &Battle, side: u8) -> Action {
    let mut legal = Vec::new();
    battle.legal_actions(side, &mut legal);
    legal.retain(|a| !matches!(a, Action::Switch(_)));
    if legal.is_empty() {
        return Action::Struggle;
    }
    legal[rand::rng().random_range(0..legal.len())]
}

fn action_name(battle: &Battle, side: u8, action: Action) -> &'static str {
    match action {
        Action::Move(i) => {
            game::move_name(battle.sides[usize::from(side)].active().moves[usize::from(i)])
        }
        Action::Struggle => "Struggle",
        Action::Switch(_) => "to switch",
    }
}

/// One button per move (greyed out without PP), or Struggle when nothing else is left.
fn move_buttons(
    battle: &Battle,
    side: u8,
    prefix: &str,
    with_run: bool,
) -> Vec<serenity::CreateActionRow> {
    let p = battle.sides[usize::from(side)].active();
    let mut legal = Vec::new();
    battle.legal_actions(side, &mut legal);
    let mut buttons: Vec<serenity::CreateButton> = if legal.contains(&Action::Struggle) {
        vec![
            serenity::CreateButton::new(format!("{prefix}:struggle"))
                .label("Struggle")
                .style(serenity::ButtonStyle::Primary),
        ]
    } else {
        (0..usize::from(p.move_count))
            .map(|i| {
                let name = game::move_name(p.moves[i]);
                serenity::CreateButton::new(format!("{prefix}:{i}"))
                    .label(format!("{name} ({} PP)", p.pp[i]))
                    .style(serenity::ButtonStyle::Primary)
                    .disabled(!legal.contains(&Action::Move(i as u8)))
            })
            .collect()
    };
    if with_run {
        // The wild battle's prefix ends in `:mv`; `run` sits beside it.
        let run = format!("{}:run", prefix.trim_end_matches(":mv"));
        buttons.push(
            serenity::CreateButton::new(run)
                .label("Run")
                .style(serenity::ButtonStyle::Secondary),
        );
    }
    vec![serenity::CreateActionRow::Buttons(buttons)]
}

fn hp_bar(hp: u16, max: u16) -> String {
    let filled = if max == 0 {
        0
    } else {
        (usize::from(hp) * 10).div_ceil(usize::from(max))
    };
    format!("{}{}", "█".repeat(filled), "░".repeat(10 - filled.min(10)))
}

fn state_embed(battle: &Battle, names: &[String; 2], lines: &[String]) -> serenity::CreateEmbed {
    let mut e = serenity::CreateEmbed::new()
        .title(format!("{} vs {}", names[0], names[1]))
        .colour(text::COLOUR);
    let mut shown: Vec<String> = lines.iter().take(LOG_LINES).cloned().collect();
    if lines.len() > LOG_LINES {
        shown.push("…".to_owned());
    }
    if !shown.is_empty() {
        e = e.description(shown.join("\n"));
    }
    for (side, name) in battle.sides.iter().zip(names) {
        let p = side.active();
        let status = p
            .status
            .map_or(String::new(), |s| format!(" · {}", status_name(s)));
        e = e.field(
            name,
            format!(
                "Lv {} · HP {}/{}{status}\n{}",
                p.level,
                p.hp,
                p.stats.0[0],
                hp_bar(p.hp, p.stats.0[0])
            ),
            true,
        );
    }
    e.thumbnail(game::artwork_url(
        battle.sides[1].active().species.num,
        false,
    ))
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Burn => "burned",
        Status::Freeze => "frozen",
        Status::Paralysis => "paralysed",
        Status::Poison => "poisoned",
        Status::Toxic => "badly poisoned",
        Status::Sleep => "asleep",
    }
}

/// The turn's events as sentences.
fn describe(events: &[Event], names: &[String; 2]) -> Vec<String> {
    let name = |side: u8| names[usize::from(side.min(1))].as_str();
    let stats = [
        "Attack", "Defense", "Sp. Atk", "Sp. Def", "Speed", "accuracy", "evasion",
    ];
    events
        .iter()
        .filter_map(|e| {
            Some(match *e {
                Event::UseMove { side, move_num } => {
                    format!("{} used **{}**!", name(side), game::move_name(move_num))
                }
                Event::Cant { side, reason } => match reason {
                    CantReason::Asleep => format!("{} is fast asleep.", name(side)),
                    CantReason::Frozen => format!("{} is frozen solid!", name(side)),
                    CantReason::Paralyzed => format!("{} is paralysed! It can't move!", name(side)),
                    CantReason::Flinched => format!("{} flinched!", name(side)),
                    CantReason::Recharging => format!("{} must recharge!", name(side)),
                },
                Event::Miss { .. } => "The attack missed!".to_owned(),
                Event::NoEffect { side } => format!("It doesn't affect {}…", name(side)),
                Event::Crit { .. } => "A critical hit!".to_owned(),
                Event::Effectiveness { quarters, .. } if quarters > 4 => {
                    "It's super effective!".to_owned()
                }
                Event::Effectiveness { quarters, .. } if quarters < 4 && quarters > 0 => {
                    "It's not very effective…".to_owned()
                }
                Event::Damage { side, amount, .. } => format!("{} lost {amount} HP.", name(side)),
                Event::Heal { side, amount, .. } => {
                    format!("{} recovered {amount} HP.", name(side))
                }
                Event::Hits { count, .. } => format!("Hit {count} times!"),
                Event::Status { side, status } => {
                    format!("{} is {}!", name(side), status_name(status))
                }
                Event::Cured { side } => format!("{} is cured.", name(side)),
                Event::Boost { side, stat, by } => {
                    let stat = stats.get(usize::from(stat)).copied().unwrap_or("a stat");
                    let how = if by > 0 { "rose" } else { "fell" };
                    format!("{}'s {stat} {how}!", name(side))
                }
                Event::Endured { side } => format!("{} endured the hit!", name(side)),
                Event::Weather(Some(_)) => "The weather changed.".to_owned(),
                Event::Weather(None) => "The weather cleared.".to_owned(),
                Event::Faint { side } => format!("{} fainted!", name(side)),
                _ => return None,
            })
        })
        .collect()
}

async fn update_battle(
    ctx: Context<'_>,
    press: &serenity::ComponentInteraction,
    embed: serenity::CreateEmbed,
    components: Vec<serenity::CreateActionRow>,
) -> Result<(), Error> {
    press
        .create_response(
            ctx,
            serenity::CreateInteractionResponse::UpdateMessage(
                serenity::CreateInteractionResponseMessage::new()
                    .embed(embed)
                    .components(components)
                    .allowed_mentions(serenity::CreateAllowedMentions::new()),
            ),
        )
        .await?;
    Ok(())
}
