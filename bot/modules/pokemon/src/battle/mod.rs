//! `/battle wild`, `/battle trainer` and `/battle challenge`: team battles (up to six Pokémon a
//! side; the wild opponent is one Pokémon, a computer trainer's team is matched to the
//! player's), played by the engine turn by turn. Moves and switches are chosen with buttons;
//! in player battles each player picks from a private (ephemeral) message so the opponent can't
//! see the choice before the turn runs, and a player whose Pokémon fainted picks the
//! replacement the same way. Against the computer, one loop serves both kinds of opponent: a
//! wild Pokémon picks a random move, a trainer chooses with the engine's `trainer` module.
//! Results are stored and the winner's team gains experience.

mod pvp;
mod render;
mod wild;

use std::time::Duration;

use lounge_pokemon::battle::{Action, Battle, Event};

use super::{game, messages};
use lounge_kit::{Context, Error, RefusalExt};
use lounge_store::{BattleRecord, Pokemon};

/// How long a player may take to choose before the battle is lost on time
/// (`games.battle_turn_seconds`).
fn turn_timeout(ctx: Context<'_>) -> Result<Duration, Error> {
    let runtime = ctx.data().state::<crate::Runtime>()?;
    Ok(Duration::from_secs(runtime.config.battle_turn_seconds))
}

/// Battle a wild Pokémon or another trainer with your team (or your selected Pokémon)
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    subcommands("wild::wild", "wild::trainer", "pvp::challenge"),
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

/// The button beside the moves in a battle against the computer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Run {
    /// From a wild Pokémon.
    Run,
    /// A trainer battle can't be run from, only given up.
    Forfeit,
}

async fn save(ctx: Context<'_>, record: &BattleRecord) -> Result<(), Error> {
    ctx.data().store.record_battle(record).await.refused()?;
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
        .refused()?
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choice_ids_are_read_back() {
        assert_eq!(parse_action("mv:2"), Some(Action::Move(2)));
        assert_eq!(parse_action("mv:struggle"), Some(Action::Struggle));
        assert_eq!(parse_action("sw:5"), Some(Action::Switch(5)));
        assert_eq!(parse_action("run"), None);
        assert_eq!(parse_action("sw:x"), None);
    }
}
