//! `/battle wild`, `/battle trainer` and `/battle challenge`: team battles (up to six Pokémon a
//! side; the wild opponent is one Pokémon, a computer trainer's team is matched to the
//! player's), played by the engine turn by turn. Moves and switches are chosen with buttons;
//! in player battles each player picks from a private (ephemeral) message so the opponent can't
//! see the choice before the turn runs, and a player whose Pokémon fainted picks the
//! replacement the same way. Against the computer, one loop serves both kinds of opponent: a
//! wild Pokémon picks a random move, a trainer chooses with the engine's `trainer` module.
//! Results are stored and the winner's team gains experience.

use std::time::Duration;

use lounge_pokemon::battle::{Action, Battle, CantReason, Event, Outcome, PokemonSet};
use lounge_pokemon::data::Status;
use lounge_pokemon::trainer::{self as npc, Trainer};
use poise::serenity_prelude as serenity;
use rand::Rng;

use super::{game, messages, refusal, respond_private};
use lounge_kit::{Context, Error, bail_user};
use lounge_store::{BattleRecord, Pokemon};

/// How long a player may take to choose before the battle is lost on time
/// (`games.battle_turn_seconds`).
fn turn_timeout(ctx: Context<'_>) -> Result<Duration, Error> {
    let runtime = ctx.data().state::<crate::Runtime>()?;
    Ok(Duration::from_secs(runtime.config.battle_turn_seconds))
}

/// How long a challenge waits for an answer.
const CHALLENGE_TIMEOUT: Duration = Duration::from_mins(1);
/// Coins for beating a wild Pokémon.
const WILD_REWARD: i64 = 15;
/// Experience from a trainer's Pokémon is half as much again as from a wild one, as in the
/// games: (numerator, denominator).
const TRAINER_EXP: (u32, u32) = (3, 2);
/// Log lines shown per turn; long multi-hit turns are cut.
const LOG_LINES: usize = 15;

/// Battle a wild Pokémon or another trainer with your team (or your selected Pokémon)
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    subcommands("wild", "trainer", "challenge"),
    subcommand_required
)]
pub async fn battle(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// A trainer's fighters in order: their team, or without one their selected Pokémon alone.
async fn fighters(ctx: Context<'_>, user: u64) -> Result<Vec<Pokemon>, Error> {
    let store = &ctx.data().store;
    let team = store.team(user).await?;
    if !team.is_empty() {
        return Ok(team);
    }
    Ok(store.selected_pokemon(user).await?.into_iter().collect())
}

/// How the battle names things: each side's trainer (or the wild Pokémon) and each team
/// member, in the log (`names`, unambiguous in a mirror match) and on buttons (`short`).
struct View {
    trainers: [String; 2],
    names: [Vec<String>; 2],
    short: [Vec<String>; 2],
}

/// Battle a wild Pokémon near your lead Pokémon's level
///
/// Your team (`/pokemon team`) fights, the first one leading; without a team, your selected \
/// Pokémon fights alone. Each turn, use a move, switch to a healthy team member or run; when \
/// yours faints, choose who comes in next. Win and every team member that was sent out gains \
/// experience for the wild Pokémon, plus coins.
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn wild(ctx: Context<'_>) -> Result<(), Error> {
    let team = fighters(ctx, ctx.author().id.get()).await?;
    let Some(lead) = team.first() else {
        bail_user!("{}", messages::NO_POKEMON);
    };
    let (foe, shiny) = game::wild_opponent(&mut rand::rng(), lead.level);
    let sparkle = if shiny { "✨ " } else { "" };
    let name = foe.species.name;
    let opponent = Opponent {
        intro: format!(
            "A wild {sparkle}{name} (level {}) wants to battle!",
            foe.level
        ),
        title: format!("the wild {sparkle}{name}"),
        names: vec![format!("the wild {sparkle}{name}")],
        short: vec![format!("{sparkle}{name}")],
        record: format!("wild {name}"),
        reward: WILD_REWARD,
        exp: (1, 1),
        team: vec![foe],
        trainer: None,
    };
    against_computer(ctx, team, opponent).await
}

/// Battle a computer trainer whose team is matched to yours
///
/// A trainer with a type theme (a Hiker's Rock and Ground types, a Swimmer's Water types...) \
/// brings as many Pokémon as your team (at least two), near your lead's and team's levels, and \
/// picks its moves to hit hard. Each turn, use a move or switch; when yours faints, choose who \
/// comes in next; there's no running, only forfeiting. Win for more coins than a wild battle, \
/// and every team member that was sent out gains half as much experience again.
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn trainer(ctx: Context<'_>) -> Result<(), Error> {
    let team = fighters(ctx, ctx.author().id.get()).await?;
    if team.is_empty() {
        bail_user!("{}", messages::NO_POKEMON);
    }
    let levels: Vec<u8> = team.iter().map(|p| p.level).collect();
    let foe = npc::generate(&levels, &mut rand::rng());
    let title = foe.title();
    let opponent = Opponent {
        intro: format!(
            "**{title}** wants to battle! They have {} Pokémon.",
            foe.team.len()
        ),
        names: foe
            .team
            .iter()
            .map(|p| format!("{title}'s {}", p.species.name))
            .collect(),
        short: foe.team.iter().map(|p| p.species.name.to_owned()).collect(),
        record: title.clone(),
        reward: trainer_reward(&foe),
        exp: TRAINER_EXP,
        team: foe.team.clone(),
        title,
        trainer: Some(foe),
    };
    against_computer(ctx, team, opponent).await
}

/// Coins for beating a trainer: its class's prize money scaled by its strongest Pokémon's
/// level, as the games pay, brought to this economy's scale (always more than a wild win).
fn trainer_reward(t: &Trainer) -> i64 {
    WILD_REWARD + i64::from(t.class.payout) * i64::from(t.top_level()) / 16
}

/// Whom the computer plays, and how the battle names and pays for it.
struct Opponent {
    /// The first line of the battle.
    intro: String,
    /// The opponent as the battle's title and its field name: "the wild Pidgey", "Hiker Clarence".
    title: String,
    /// Each team member in the log, and on buttons.
    names: Vec<String>,
    short: Vec<String>,
    /// Stored with the result.
    record: String,
    /// Coins for a win.
    reward: i64,
    /// Experience multiplier for a win: (numerator, denominator).
    exp: (u32, u32),
    team: Vec<PokemonSet>,
    /// `Some` for a trainer, which chooses with the engine's trainer AI and can't be run from;
    /// a wild Pokémon picks moves at random.
    trainer: Option<Trainer>,
}

/// A battle of the member's team against the computer, one button press per turn.
async fn against_computer(
    ctx: Context<'_>,
    team: Vec<Pokemon>,
    opponent: Opponent,
) -> Result<(), Error> {
    let store = &ctx.data().store;
    let user = ctx.author().id;
    let is_trainer = opponent.trainer.is_some();
    let mut battle = Battle::new([
        team.iter().map(game::owned_set).collect(),
        opponent.team.clone(),
    ])?;
    battle.clear_log();
    let own: Vec<String> = team.iter().map(game::display_name).collect();
    let view = View {
        trainers: [ctx.author().name.clone(), opponent.title.clone()],
        names: [own.clone(), opponent.names.clone()],
        short: [own, opponent.short.clone()],
    };
    let id = ctx.id();
    let prefix = format!("{id}:{}", if is_trainer { "npc" } else { "wild" });
    let run = if is_trainer { Run::Forfeit } else { Run::Run };
    let mut clicks = lounge_kit::ui::ButtonPresses::new(ctx, format!("{prefix}:"));
    let handle = ctx
        .send(
            poise::CreateReply::default()
                .embed(state_embed(
                    &battle,
                    &view,
                    std::slice::from_ref(&opponent.intro),
                ))
                .components(choice_rows(&battle, &view, 0, &prefix, Some(run))),
        )
        .await?;
    let record = |outcome, turns| BattleRecord {
        guild: lounge_kit::guild_id(ctx),
        challenger: user.get(),
        opponent: None,
        winner: None,
        outcome,
        turns,
        npc: Some(opponent.record.clone()),
    };
    let mut turns = 0;
    let mut sent_out = [1u8, 1];
    loop {
        let Some(press) = clicks.next(turn_timeout(ctx)?).await else {
            save(ctx, &record("timeout", turns)).await?;
            let why = if is_trainer {
                format!("You took too long; {} left.", opponent.title)
            } else {
                "You took too long; the wild Pokémon wandered off.".to_owned()
            };
            handle
                .edit(
                    ctx,
                    poise::CreateReply::default()
                        .embed(state_embed(&battle, &view, &[why]))
                        .components(Vec::new()),
                )
                .await?;
            return Ok(());
        };
        if press.user.id != user {
            respond_private(ctx, &press, messages::NOT_YOURS).await?;
            continue;
        }
        let choice = press
            .data
            .custom_id
            .strip_prefix(&format!("{prefix}:"))
            .unwrap_or_default();
        if choice == "run" {
            save(ctx, &record("forfeit", turns)).await?;
            let line = if is_trainer {
                format!("You forfeited; {} wins.", opponent.title)
            } else {
                format!("You got away safely from {}.", opponent.title)
            };
            update_battle(
                ctx,
                &press,
                state_embed(&battle, &view, &[line]),
                Vec::new(),
            )
            .await?;
            return Ok(());
        }
        let Some(action) = parse_action(choice).filter(|&a| allowed(&battle, 0, a)) else {
            respond_private(ctx, &press, messages::CANT_NOW).await?;
            continue;
        };
        let before = actives(&battle);
        if let (true, Action::Switch(slot)) = (battle.needs_replacement[0], action) {
            battle.replace(0, slot)?;
        } else {
            let foe_action = match &opponent.trainer {
                Some(_) => npc::choose_action(&battle, 1, &mut rand::rng()),
                None => random_action(&battle, 1),
            };
            battle.step([action, foe_action], &mut rand::rng())?;
            turns += 1;
        }
        // The computer sends in its next Pokémon at once (a wild one has none, so its faint
        // ends the battle); after a double knock-out the member then chooses theirs.
        if battle.outcome().is_none()
            && battle.needs_replacement[1]
            && let Some(slot) = npc::choose_replacement(&battle, 1)
        {
            battle.replace(1, slot)?;
        }
        let events = battle.take_log();
        note_sent_out(&events, &mut sent_out);
        let mut lines = describe(&events, &view, before);
        match battle.outcome() {
            None => {
                if battle.needs_replacement[0] {
                    lines.push(messages::SEND_IN_NEXT.to_owned());
                }
                update_battle(
                    ctx,
                    &press,
                    state_embed(&battle, &view, &lines),
                    choice_rows(&battle, &view, 0, &prefix, Some(run)),
                )
                .await?;
            }
            Some(outcome) => {
                let result = match outcome {
                    Outcome::Win(0) => "win",
                    Outcome::Win(_) => "loss",
                    Outcome::Tie => "tie",
                };
                save(ctx, &record(result, turns)).await?;
                if result == "win" {
                    store
                        .adjust_currency(user.get(), opponent.reward)
                        .await
                        .map_err(|e| -> Error { Box::new(e) })?;
                    lines.push(if is_trainer {
                        format!(
                            "You defeated {}! +{} coins.",
                            opponent.title, opponent.reward
                        )
                    } else {
                        format!("You won! +{} coins.", opponent.reward)
                    });
                    lines.extend(
                        reward_team(ctx, &team, sent_out[0], &battle, 1, opponent.exp).await?,
                    );
                } else if result == "loss" {
                    let who = if team.len() > 1 {
                        "All your Pokémon".to_owned()
                    } else {
                        view.names[0][0].clone()
                    };
                    lines.push(format!("{who} fainted. Better luck next time!"));
                } else {
                    lines.push("It's a draw.".to_owned());
                }
                update_battle(ctx, &press, state_embed(&battle, &view, &lines), Vec::new()).await?;
                return Ok(());
            }
        }
    }
}

/// The button beside the moves in a battle against the computer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Run {
    /// From a wild Pokémon.
    Run,
    /// A trainer battle can't be run from, only given up.
    Forfeit,
}

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
                .content(format!(
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
                    .content(waiting(&battle, &chosen))
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
                            .content(question)
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
            super::update_message(
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
        super::update_message(
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
                        .content(waiting(&battle, &chosen))
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
                            .content(waiting(&battle, &chosen))
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
    save(
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
    )
    .await?;
    match winner {
        Some(w) => {
            lines.push(format!("🏆 <@{}> wins!", players[w]));
            lines.extend(reward_team(ctx, &teams[w], sent_out[w], &battle, 1 - w, (1, 1)).await?);
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

async fn save(ctx: Context<'_>, record: &BattleRecord) -> Result<(), Error> {
    ctx.data()
        .store
        .record_battle(record)
        .await
        .map_err(refusal)?;
    Ok(())
}

/// Experience for the winning side: each team member that was sent out gains the
/// experience of every opposing Pokémon that fainted, plus the one still out at the end (so a
/// win by forfeit or on time counts the Pokémon that was facing it), times `(num, den)`.
async fn reward_team(
    ctx: Context<'_>,
    team: &[Pokemon],
    sent_out: u8,
    battle: &Battle,
    loser: usize,
    (num, den): (u32, u32),
) -> Result<Vec<String>, Error> {
    let foes = &battle.sides[loser];
    let exp: u32 = foes
        .team
        .iter()
        .enumerate()
        .filter(|&(i, p)| p.fainted() || i == usize::from(foes.active))
        .map(|(_, p)| game::battle_exp(p.species.num, p.level))
        .sum::<u32>()
        * num
        / den;
    let mut lines = Vec::new();
    for (i, p) in team.iter().enumerate() {
        if sent_out & (1 << i) != 0 {
            lines.extend(reward_exp(ctx, p, exp).await?);
        }
    }
    Ok(lines)
}

/// Experience for one Pokémon (re-read, so it stacks on what happened meanwhile).
async fn reward_exp(ctx: Context<'_>, winner: &Pokemon, exp: u32) -> Result<Vec<String>, Error> {
    let store = &ctx.data().store;
    let Some(now) = store
        .pokemon(winner.id)
        .await?
        .filter(|p| p.owner == winner.owner)
    else {
        return Ok(Vec::new());
    };
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
        lines.push(messages::evolved(now.owner, &now, growth.progress.species));
    }
    Ok(lines)
}

/// The action a choice button stands for: `mv:{slot}`, `mv:struggle` or `sw:{team member}`.
fn parse_action(choice: &str) -> Option<Action> {
    match choice.split_once(':')? {
        ("mv", "struggle") => Some(Action::Struggle),
        ("mv", slot) => Some(Action::Move(slot.parse().ok()?)),
        ("sw", slot) => Some(Action::Switch(slot.parse().ok()?)),
        _ => None,
    }
}

/// Which sides choose now: both on a normal turn; only those replacing a fainted Pokémon
/// while a replacement is pending (the engine plays no turn until it is made).
fn to_choose(battle: &Battle) -> [bool; 2] {
    if battle.needs_replacement.contains(&true) {
        battle.needs_replacement
    } else {
        [true, true]
    }
}

/// Whether `side` may choose `action` now. A side replacing a fainted Pokémon may only send in
/// a healthy one (`Switch`), which [`Battle::legal_actions`] does not list for a fainted side.
fn allowed(battle: &Battle, side: u8, action: Action) -> bool {
    if !to_choose(battle)[usize::from(side)] {
        return false;
    }
    if battle.needs_replacement[usize::from(side)] {
        return matches!(action, Action::Switch(slot) if bench(battle, side).contains(&slot));
    }
    let mut legal = Vec::new();
    battle.legal_actions(side, &mut legal);
    legal.contains(&action)
}

/// Team members that can still battle, other than the one out.
fn bench(battle: &Battle, side: u8) -> Vec<u8> {
    let s = &battle.sides[usize::from(side)];
    (0..s.team.len() as u8)
        .filter(|&i| i != s.active && !s.team[usize::from(i)].fainted())
        .collect()
}

/// A move for the wild Pokémon, which has no team to switch to.
fn random_action(battle: &Battle, side: u8) -> Action {
    let mut legal = Vec::new();
    battle.legal_actions(side, &mut legal);
    legal.retain(|a| !matches!(a, Action::Switch(_)));
    if legal.is_empty() {
        return Action::Struggle;
    }
    legal[rand::rng().random_range(0..legal.len())]
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

fn actives(battle: &Battle) -> [u8; 2] {
    [battle.sides[0].active, battle.sides[1].active]
}

/// Marks the team members that came in (as bits per side): they share the experience.
fn note_sent_out(events: &[Event], sent_out: &mut [u8; 2]) {
    for e in events {
        if let Event::SwitchIn { side, slot, .. } = *e {
            sent_out[usize::from(side.min(1))] |= 1 << slot;
        }
    }
}

/// The buttons for `side`'s choice, ids under `prefix`: when its Pokémon fainted, one per
/// healthy team member to send in; otherwise a row of moves (greyed out without PP, or
/// Struggle when nothing else is left), with Run (or Forfeit) beside them against the computer,
/// and a row switching to each healthy team member. At most five per row, as Discord allows:
/// four moves and Run, five team members on the bench.
fn choice_rows(
    battle: &Battle,
    view: &View,
    side: u8,
    prefix: &str,
    run: Option<Run>,
) -> Vec<serenity::CreateActionRow> {
    let s = &battle.sides[usize::from(side)];
    let replacing = battle.needs_replacement[usize::from(side)];
    let switches: Vec<serenity::CreateButton> = bench(battle, side)
        .into_iter()
        .map(|slot| {
            let p = &s.team[usize::from(slot)];
            let name = &view.short[usize::from(side)][usize::from(slot)];
            let verb = if replacing { "Send in" } else { "Switch to" };
            serenity::CreateButton::new(format!("{prefix}:sw:{slot}"))
                .label(format!("{verb} {name} ({}/{} HP)", p.hp, p.stats.0[0]))
                .style(if replacing {
                    serenity::ButtonStyle::Success
                } else {
                    serenity::ButtonStyle::Secondary
                })
        })
        .collect();
    if replacing {
        return vec![serenity::CreateActionRow::Buttons(switches)];
    }
    let p = s.active();
    let mut legal = Vec::new();
    battle.legal_actions(side, &mut legal);
    let mut moves: Vec<serenity::CreateButton> = if legal.contains(&Action::Struggle) {
        vec![
            serenity::CreateButton::new(format!("{prefix}:mv:struggle"))
                .label("Struggle")
                .style(serenity::ButtonStyle::Primary),
        ]
    } else {
        (0..usize::from(p.move_count))
            .map(|i| {
                let name = game::move_name(p.moves[i]);
                serenity::CreateButton::new(format!("{prefix}:mv:{i}"))
                    .label(format!("{name} ({} PP)", p.pp[i]))
                    .style(serenity::ButtonStyle::Primary)
                    .disabled(!legal.contains(&Action::Move(i as u8)))
            })
            .collect()
    };
    if let Some(run) = run {
        let (label, style) = match run {
            Run::Run => ("Run", serenity::ButtonStyle::Secondary),
            Run::Forfeit => ("Forfeit", serenity::ButtonStyle::Danger),
        };
        moves.push(
            serenity::CreateButton::new(format!("{prefix}:run"))
                .label(label)
                .style(style),
        );
    }
    let mut rows = vec![serenity::CreateActionRow::Buttons(moves)];
    if !switches.is_empty() {
        rows.push(serenity::CreateActionRow::Buttons(switches));
    }
    rows
}

fn hp_bar(hp: u16, max: u16) -> String {
    let filled = if max == 0 {
        0
    } else {
        (usize::from(hp) * 10).div_ceil(usize::from(max))
    };
    format!("{}{}", "█".repeat(filled), "░".repeat(10 - filled.min(10)))
}

/// A team's standing: ● for each Pokémon that can battle, ○ for each that fainted.
fn team_left(side: &lounge_pokemon::battle::Side) -> String {
    let dots: String = side
        .team
        .iter()
        .map(|p| if p.fainted() { '○' } else { '●' })
        .collect();
    let left = side.team.iter().filter(|p| !p.fainted()).count();
    format!("{dots} {left}/{} left", side.team.len())
}

fn state_embed(battle: &Battle, view: &View, lines: &[String]) -> serenity::CreateEmbed {
    let mut e = serenity::CreateEmbed::new()
        .title(format!("{} vs {}", view.trainers[0], view.trainers[1]))
        .colour(messages::COLOUR);
    let mut shown: Vec<String> = lines.iter().take(LOG_LINES).cloned().collect();
    if lines.len() > LOG_LINES {
        shown.push("…".to_owned());
    }
    if !shown.is_empty() {
        e = e.description(shown.join("\n"));
    }
    for (i, side) in battle.sides.iter().enumerate() {
        let p = side.active();
        let status = p
            .status
            .map_or(String::new(), |s| format!(" · {}", status_name(s)));
        let left = if side.team.len() > 1 {
            format!("\n{}", team_left(side))
        } else {
            String::new()
        };
        e = e.field(
            &view.trainers[i],
            format!(
                "**{}** · Lv {} · HP {}/{}{status}\n{}{left}",
                view.short[i][usize::from(side.active)],
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

/// The turn's events as sentences. `active` is who was out on each side before them; switches
/// in the events move it on, so every line names the Pokémon that was out at that moment.
fn describe(events: &[Event], view: &View, mut active: [u8; 2]) -> Vec<String> {
    let stats = [
        "Attack", "Defense", "Sp. Atk", "Sp. Def", "Speed", "accuracy", "evasion",
    ];
    let mut lines = Vec::new();
    for e in events {
        if let Event::SwitchIn { side, slot, .. } = *e {
            active[usize::from(side.min(1))] = slot;
        }
        let name = |side: u8| {
            let side = usize::from(side.min(1));
            view.names[side][usize::from(active[side])].as_str()
        };
        lines.push(match *e {
            Event::SwitchIn { side, slot, .. } => format!(
                "{} sent out **{}**!",
                view.trainers[usize::from(side.min(1))],
                view.short[usize::from(side.min(1))][usize::from(slot)]
            ),
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
            _ => continue,
        });
    }
    lines
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

#[cfg(test)]
mod tests {
    use lounge_pokemon::battle::random_team;
    use rand::SeedableRng;

    use super::*;

    fn view(name: &str) -> View {
        let short: Vec<String> = (0..6).map(|i| format!("{name}{i}")).collect();
        let names = |trainer: &str| short.iter().map(|n| format!("{n} ({trainer})")).collect();
        View {
            trainers: ["ash".to_owned(), "gary".to_owned()],
            names: [names("ash"), names("gary")],
            short: [short.clone(), short.clone()],
        }
    }

    /// Discord takes at most five buttons a row, five rows, 100-character ids and 80-character
    /// labels: a full team's choices fit, with Run, the longest ids a battle makes and the
    /// longest names a member can give.
    #[test]
    fn a_full_team_fits_discords_component_limits() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let battle =
            Battle::new([random_team(6, 50, &mut rng), random_team(6, 50, &mut rng)]).unwrap();
        let longest = format!("✨ {}", "W".repeat(20));
        let view = view(&longest);
        let prefix = format!("{}:pvp:{}", u64::MAX, u32::MAX);
        for run in [Some(Run::Run), Some(Run::Forfeit), None] {
            let rows = serde_json::to_value(choice_rows(&battle, &view, 0, &prefix, run)).unwrap();
            let rows = rows.as_array().unwrap();
            assert!((1..=5).contains(&rows.len()), "{rows:?}");
            let mut switches = 0;
            for row in rows {
                let buttons = row["components"].as_array().unwrap();
                assert!((1..=5).contains(&buttons.len()), "{row}");
                for b in buttons {
                    let id = b["custom_id"].as_str().unwrap();
                    assert!(id.len() <= 100, "{id}");
                    assert!(b["label"].as_str().unwrap().chars().count() <= 80, "{b}");
                    switches += usize::from(id.contains(":sw:"));
                }
            }
            assert_eq!(switches, 5, "one per healthy team member on the bench");
        }
    }

    /// Each line names the Pokémon that was out when it happened, across a switch.
    #[test]
    fn the_log_follows_switches() {
        let view = view("mon");
        let events = [
            Event::UseMove {
                side: 1,
                move_num: 33,
            },
            Event::SwitchIn {
                side: 0,
                slot: 2,
                species: 25,
            },
            Event::Damage {
                side: 0,
                amount: 10,
                hp: 0,
            },
            Event::Faint { side: 0 },
        ];
        let lines = describe(&events, &view, [0, 4]);
        assert_eq!(
            lines,
            [
                "mon4 (gary) used **Tackle**!",
                "ash sent out **mon2**!",
                "mon2 (ash) lost 10 HP.",
                "mon2 (ash) fainted!",
            ]
        );
    }

    #[test]
    fn team_standing_counts_the_fainted() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut battle =
            Battle::new([random_team(3, 50, &mut rng), random_team(1, 50, &mut rng)]).unwrap();
        assert_eq!(team_left(&battle.sides[0]), "●●● 3/3 left");
        battle.sides[0].team[1].hp = 0;
        assert_eq!(team_left(&battle.sides[0]), "●○● 2/3 left");
    }

    #[test]
    fn choice_ids_are_read_back() {
        assert_eq!(parse_action("mv:2"), Some(Action::Move(2)));
        assert_eq!(parse_action("mv:struggle"), Some(Action::Struggle));
        assert_eq!(parse_action("sw:5"), Some(Action::Switch(5)));
        assert_eq!(parse_action("run"), None);
        assert_eq!(parse_action("sw:x"), None);
    }
}
