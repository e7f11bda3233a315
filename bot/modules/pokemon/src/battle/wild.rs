//! Battles against the computer: a wild Pokémon or a computer trainer, played in the one
//! message the member answers with buttons.

use lounge_pokemon::battle::{Action, Battle, Outcome, PokemonSet};
use lounge_pokemon::trainer::{self as npc, Trainer};
use rand::Rng;

use super::render::{choice_rows, describe, state_embed, update_battle};
use super::{
    Run, View, Winnings, actives, allowed, fighters, finish, note_sent_out, parse_action,
    turn_timeout,
};
use crate::{game, messages, respond_private};
use lounge_kit::{Context, Error, bail_user};
use lounge_store::{BattleRecord, Pokemon};

/// Coins for beating a wild Pokémon.
const WILD_REWARD: i64 = 15;
/// Experience from a trainer's Pokémon is half as much again as from a wild one, as in the
/// games: (numerator, denominator).
const TRAINER_EXP: (u32, u32) = (3, 2);

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
            finish(ctx, &record("timeout", turns), None).await?;
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
            finish(ctx, &record("forfeit", turns), None).await?;
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
                let winnings = (result == "win").then(|| Winnings {
                    team: &team,
                    sent_out: sent_out[0],
                    battle: &battle,
                    loser: 1,
                    exp: opponent.exp,
                    coins: opponent.reward,
                });
                let gained = finish(ctx, &record(result, turns), winnings).await?;
                if result == "win" {
                    lines.push(if is_trainer {
                        format!(
                            "You defeated {}! +{} coins.",
                            opponent.title, opponent.reward
                        )
                    } else {
                        format!("You won! +{} coins.", opponent.reward)
                    });
                    lines.extend(gained);
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
