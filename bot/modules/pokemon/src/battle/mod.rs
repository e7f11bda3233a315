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
use lounge_store::{BattleRecord, Payout, Pokemon};

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

/// What the winning side of a battle earns.
struct Winnings<'a> {
    team: &'a [Pokemon],
    /// Bit `i` set: `team[i]` was sent out and shares the experience.
    sent_out: u8,
    battle: &'a Battle,
    loser: usize,
    /// Experience times `(num, den)`.
    exp: (u32, u32),
    /// For the challenger.
    coins: i64,
}

/// Stores the battle and pays the winner in one transaction; returns the lines that say what
/// the Pokémon gained (the caller words the coins).
async fn finish(
    ctx: Context<'_>,
    record: &BattleRecord,
    winnings: Option<Winnings<'_>>,
) -> Result<Vec<String>, Error> {
    let store = &ctx.data().store;
    let Some(w) = winnings else {
        store.record_battle(record).await.refused()?;
        return Ok(Vec::new());
    };
    let exp = team_exp(w.battle, w.loser, w.exp);
    let ids = w
        .team
        .iter()
        .enumerate()
        .filter(|&(i, _)| w.sent_out & (1 << i) != 0)
        .map(|(_, p)| p.id)
        .collect();
    let payout = Payout {
        coins: w.coins,
        winner: w.team.first().map(|p| (p.owner, ids)),
    };
    let time = super::now_time();
    let finished = store
        .finish_battle(record, &payout, |now| game::grow(now, exp, 2, time))
        .await
        .refused()?;
    let mut lines = Vec::new();
    for (before, growth) in &finished.grown {
        lines.push(format!("{} gained {exp} XP.", game::display_name(before)));
        let Some(growth) = growth else { continue };
        if growth.levelled() {
            lines.push(format!(
                "{} grew to level {}!",
                game::display_name(before),
                growth.progress.level
            ));
        }
        for m in &growth.learnt {
            lines.push(format!("It learnt {}.", game::move_name(*m)));
        }
        if growth.evolved_from.is_some() {
            lines.push(messages::evolved(
                before.owner,
                before,
                growth.progress.species,
            ));
        }
    }
    Ok(lines)
}

/// Experience for the winning side: each team member that was sent out gains the
/// experience of every opposing Pokémon that fainted, plus the one still out at the end (so a
/// win by forfeit or on time counts the Pokémon that was facing it), times `(num, den)`.
fn team_exp(battle: &Battle, loser: usize, (num, den): (u32, u32)) -> u32 {
    let foes = &battle.sides[loser];
    foes.team
        .iter()
        .enumerate()
        .filter(|&(i, p)| p.fainted() || i == usize::from(foes.active))
        .map(|(_, p)| game::battle_exp(p.species.num, p.level))
        .sum::<u32>()
        * num
        / den
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
