//! Computer-controlled trainers: a team matched to the player's ([`generate`]) and the choices
//! it makes in battle ([`choose_action`], [`choose_replacement`]).
//!
//! A trainer has a class with a type theme (Hiker → Rock/Ground, Swimmer → Water...), from the
//! small roster in [`CLASSES`]. Its Pokémon are species of the class's types in the most evolved
//! form a trainer could have at their level (a Hiker's level-30 Pokémon is a Graveler, not a
//! Geodude), with a moveset from their level-up learnset. In battle it uses the move with the
//! best expected damage against the Pokémon in front of it (from the damage formula, with
//! accuracy and knock-outs counted), or a status, boosting or healing move when that is worth
//! more; one time in eight it takes its second-best choice instead. It replaces a fainted
//! Pokémon with the team member that matches up best, and switches out of a Pokémon that can do
//! nothing at all to the foe.

use rand::Rng;

use crate::battle::{Action, Battle, BattlePokemon, PokemonSet, SideId, move_supported};
use crate::damage::{Conditions, prepare};
use crate::data::{Category, EvolutionKind, Move, Species, Status, dex, flags};
use crate::effects::{Ability, Item, Weather};
use crate::rng::below;
use crate::stats::{Spread, StatTable};
use crate::types::Type;

/// A kind of trainer, with the types its Pokémon have and the names its trainers go by.
#[derive(Debug)]
pub struct TrainerClass {
    pub name: &'static str,
    pub types: &'static [Type],
    pub names: &'static [&'static str],
    /// Base prize money; what a win pays scales with it (see the bot's rewards).
    pub payout: u16,
}

/// The roster of trainer classes, each with a type theme as in the games.
pub const CLASSES: &[TrainerClass] = &[
    TrainerClass {
        name: "Hiker",
        types: &[Type::Rock, Type::Ground],
        names: &["Clarence", "Devan", "Marcos", "Brice", "Russell"],
        payout: 36,
    },
    TrainerClass {
        name: "Swimmer",
        types: &[Type::Water],
        names: &["Luis", "Alice", "Dana", "Kirk", "Misty"],
        payout: 16,
    },
    TrainerClass {
        name: "Bug Catcher",
        types: &[Type::Bug],
        names: &["Rick", "Doug", "Wade", "Kent"],
        payout: 16,
    },
    TrainerClass {
        name: "Bird Keeper",
        types: &[Type::Flying],
        names: &["Abe", "Toby", "Perry", "Bret"],
        payout: 25,
    },
    TrainerClass {
        name: "Kindler",
        types: &[Type::Fire],
        names: &["Bernie", "Cole", "Axle", "Keegan"],
        payout: 25,
    },
    TrainerClass {
        name: "Aroma Lady",
        types: &[Type::Grass],
        names: &["Rose", "Violet", "Daisy", "Jasmine"],
        payout: 30,
    },
    TrainerClass {
        name: "Guitarist",
        types: &[Type::Electric],
        names: &["Kirk", "Shawn", "Vincent", "Joseph"],
        payout: 30,
    },
    TrainerClass {
        name: "Psychic",
        types: &[Type::Psychic],
        names: &["Nathan", "Preston", "Cameron", "Edie"],
        payout: 30,
    },
    TrainerClass {
        name: "Black Belt",
        types: &[Type::Fighting],
        names: &["Kiyo", "Koichi", "Hitoshi", "Takashi"],
        payout: 30,
    },
    TrainerClass {
        name: "Hex Maniac",
        types: &[Type::Ghost, Type::Dark],
        names: &["Tamsin", "Valerie", "Luna", "Ashley"],
        payout: 30,
    },
    TrainerClass {
        name: "Skier",
        types: &[Type::Ice],
        names: &["Roxanne", "Brandon", "Jill", "Sasha"],
        payout: 30,
    },
    TrainerClass {
        name: "Worker",
        types: &[Type::Steel],
        names: &["Braden", "Duncan", "Zane", "Jules"],
        payout: 30,
    },
    TrainerClass {
        name: "Punk",
        types: &[Type::Poison],
        names: &["Jax", "Riley", "Toxel", "Skye"],
        payout: 25,
    },
    TrainerClass {
        name: "Fairy Tale Girl",
        types: &[Type::Fairy],
        names: &["Wendy", "Mary", "Gwen", "Belle"],
        payout: 30,
    },
    TrainerClass {
        name: "Dragon Tamer",
        types: &[Type::Dragon],
        names: &["Paul", "Keegan", "Aaron", "Lea"],
        payout: 48,
    },
    TrainerClass {
        name: "Youngster",
        types: &[Type::Normal],
        names: &["Joey", "Ben", "Calvin", "Mikey"],
        payout: 16,
    },
];

/// A trainer the computer plays: its class, its name and its team, lead first.
#[derive(Debug, Clone)]
pub struct Trainer {
    pub class: &'static TrainerClass,
    pub name: &'static str,
    pub team: Vec<PokemonSet>,
}

impl Trainer {
    /// How the games introduce it: "Hiker Clarence".
    pub fn title(&self) -> String {
        format!("{} {}", self.class.name, self.name)
    }

    /// The level of its strongest Pokémon.
    pub fn top_level(&self) -> u8 {
        self.team.iter().map(|p| p.level).max().unwrap_or(1)
    }
}

/// IVs of every trainer's Pokémon: trained, not perfect.
const TRAINER_IVS: u8 = 20;

/// Moves whose cost the battle engine does not model (the user fainting, fixed damage equal to
/// its HP): a trainer would get them for free, so movesets leave them out.
const UNFAIR_MOVES: &[&str] = &[
    "Explosion",
    "Self-Destruct",
    "Misty Explosion",
    "Final Gambit",
    "Memento",
    "Healing Wish",
    "Lunar Dance",
];

/// How many Pokémon a trainer brings against a player with `player_team` of them: as many, but
/// at least two (a trainer is more than a wild Pokémon) and at most six.
pub fn team_size(player_team: usize) -> usize {
    player_team.clamp(2, 6)
}

/// The level a trainer's team is built around: halfway between the player's lead and their
/// team's average, so a strong lead with a weak bench meets something in between. A team
/// bigger than the player's is three levels lower per extra Pokémon, to stay winnable.
pub fn base_level(player_levels: &[u8]) -> u8 {
    let Some(&lead) = player_levels.first() else {
        return 5;
    };
    let n = player_levels.len() as u32;
    let sum: u32 = player_levels.iter().map(|&l| u32::from(l)).sum();
    // (lead + sum / n) / 2, rounded half up, without losing the average's fraction.
    let twice = u32::from(lead) * n + sum;
    let mid = (twice + n) / (2 * n);
    let extra = team_size(player_levels.len()).saturating_sub(player_levels.len()) as u32;
    mid.saturating_sub(3 * extra).clamp(1, 100) as u8
}

/// Builds a trainer for a player whose team has these levels (lead first). Draws: the class,
/// the name, then per team member its level offset, its species (again if it repeats an
/// earlier member's, up to 10 times) and its nature.
pub fn generate<R: Rng + ?Sized>(player_levels: &[u8], rng: &mut R) -> Trainer {
    let class = &CLASSES[below(rng, CLASSES.len() as u32) as usize];
    let name = class.names[below(rng, class.names.len() as u32) as usize];
    let size = team_size(player_levels.len());
    let base = base_level(player_levels);
    let natures = dex().natures();
    let mut team: Vec<PokemonSet> = Vec::with_capacity(size);
    for i in 0..size {
        // -2..=+1 around the base; the last one, the trainer's ace, one higher.
        let ace = u8::from(i + 1 == size);
        let level = (base + below(rng, 4) as u8 + ace)
            .saturating_sub(2)
            .clamp(1, 100);
        let pool = candidates(class, level);
        let mut species = pool[below(rng, pool.len() as u32) as usize];
        for _ in 0..10 {
            if !team.iter().any(|p| p.species.num == species.num) || pool.len() == 1 {
                break;
            }
            species = pool[below(rng, pool.len() as u32) as usize];
        }
        let ability = Ability::of_species(species);
        team.push(PokemonSet {
            species,
            level,
            nature: natures[below(rng, natures.len() as u32) as usize],
            spread: Spread {
                ivs: StatTable([TRAINER_IVS; 6]),
                evs: StatTable([0; 6]),
            },
            ability,
            item: Item::None,
            moves: moveset(species, level),
        });
    }
    Trainer { class, name, team }
}

/// Species a trainer of `class` may have at `level`, in Pokédex order: of one of the class's
/// types, no legendary, reachable by that level, in the most evolved form of the class's types
/// reachable by then, and with at least one damaging move the battle engine supports (a
/// trainer that can't hurt anything would make a battle that never ends). Never empty: a
/// level too low for any of the class's types falls back to every type.
pub fn candidates(class: &TrainerClass, level: u8) -> Vec<&'static Species> {
    let themed = pool(level, |s| class.types.iter().any(|&t| s.has_type(t)));
    if themed.is_empty() {
        pool(level, |_| true)
    } else {
        themed
    }
}

fn pool(level: u8, themed: impl Fn(&Species) -> bool) -> Vec<&'static Species> {
    let d = dex();
    d.species()
        .iter()
        .filter(|s| themed(s) && ordinary(s) && reachable(s, level))
        .filter(|s| {
            // A trainer would have evolved it already, unless the evolution leaves the theme.
            !s.evos
                .iter()
                .filter_map(|&n| d.species_by_num(n))
                .any(|e| themed(e) && ordinary(e) && reachable(e, level))
        })
        .filter(|s| {
            moveset(s, level).iter().any(|&m| {
                dex()
                    .move_by_num(m)
                    .is_some_and(|m| m.category != Category::Status)
            })
        })
        .collect()
}

/// Not a legendary, mythical or similar one-of-a-kind Pokémon: those have a tiny catch rate or,
/// when they start no evolution line, a base stat total of 570 and more.
fn ordinary(s: &Species) -> bool {
    let total: u32 = s.base_stats.0.iter().map(|&b| u32::from(b)).sum();
    s.catch_rate >= 10 && (s.prevo.is_some() || total < 570)
}

/// Whether a trainer could have `s` at `level`: each evolution on the way by its own level, or
/// for evolutions without one (stones, trading, friendship) from level 20 + 10 per stage.
pub fn reachable(s: &Species, level: u8) -> bool {
    let d = dex();
    let mut current = s;
    let mut stage = 0u8;
    let mut steps = Vec::new();
    while let (Some(prevo), Some(how)) = (current.prevo, current.evolution.as_ref()) {
        let Some(p) = d.species_by_num(prevo) else {
            break;
        };
        steps.push(how);
        stage += 1;
        current = p;
    }
    // `steps` runs from the last evolution back to the first; stage counts from the base.
    steps.iter().enumerate().all(|(i, how)| {
        let this_stage = stage - i as u8;
        let needed = match how.kind {
            EvolutionKind::Level => how.level.max(1),
            _ => 20 + 10 * this_stage,
        };
        level >= needed
    })
}

/// A sensible moveset from the species' level-up learnset up to `level`: the best damaging
/// move of each type it can use (by power, accuracy, hits and same-type bonus), up to three,
/// then its most recently learnt status move that boosts, inflicts a status or heals, then the
/// next best damaging moves, four at most. Empty if it knows no move the engine supports.
pub fn moveset(species: &Species, level: u8) -> Vec<u16> {
    let d = dex();
    let mut pool: Vec<&'static Move> = Vec::new();
    for lm in d.learnset(species.num) {
        if lm.level > level {
            continue;
        }
        let Some(m) = d.move_by_num(lm.move_num) else {
            continue;
        };
        if move_supported(m)
            && !UNFAIR_MOVES.contains(&m.name)
            && !pool.iter().any(|p| p.num == m.num)
        {
            pool.push(m);
        }
    }
    let mut damaging: Vec<(&Move, u32)> = pool
        .iter()
        .filter(|m| m.category != Category::Status)
        .map(|m| (*m, move_score(species, m)))
        .collect();
    // Stable: equal scores keep the learnset's order.
    damaging.sort_by_key(|m| std::cmp::Reverse(m.1));
    let mut chosen: Vec<u16> = Vec::with_capacity(4);
    let mut types: Vec<Type> = Vec::new();
    for (m, _) in &damaging {
        if chosen.len() == 3 {
            break;
        }
        if !types.contains(&m.move_type) {
            types.push(m.move_type);
            chosen.push(m.num);
        }
    }
    let useful_status = pool.iter().rev().find(|m| {
        m.category == Category::Status
            && (m.status.is_some()
                || m.heal.is_some()
                || m.self_boosts
                    .is_some_and(|b| b.iter().map(|&x| i32::from(x)).sum::<i32>() >= 2))
    });
    if let Some(m) = useful_status {
        chosen.push(m.num);
    }
    for (m, _) in &damaging {
        if chosen.len() == 4 {
            break;
        }
        if !chosen.contains(&m.num) {
            chosen.push(m.num);
        }
    }
    chosen
}

/// How good a damaging move is for this species out of battle: power × accuracy × hits, with
/// the same-type bonus; fixed-damage moves count as 40 power, recharging ones as half.
fn move_score(species: &Species, m: &Move) -> u32 {
    let power = if m.has(flags::FIXED) {
        40
    } else {
        u32::from(m.power)
    };
    let hits = match m.multihit {
        None => 2,
        Some((a, b)) if a == b => 2 * u32::from(a),
        Some(_) => 6,
    };
    let acc = u32::from(m.accuracy.unwrap_or(100));
    let stab = if species.has_type(m.move_type) { 3 } else { 2 };
    let mut score = power * hits * acc * stab;
    if m.has(flags::RECHARGE) {
        score /= 2;
    }
    score
}

/// The expected damage of `mv` used by `attacker` on `defender` in `battle`'s weather: the
/// average of the 16 rolls, times the hits and the chance to hit, no more than the defender's
/// HP. Zero for a status move or one the defender is immune to.
pub fn expected_damage(
    attacker: &BattlePokemon,
    defender: &BattlePokemon,
    mv: &Move,
    weather: Option<Weather>,
) -> u32 {
    if mv.category == Category::Status || defender.fainted() {
        return 0;
    }
    let cond = Conditions {
        weather,
        ..Conditions::default()
    };
    let Ok(prepared) = prepare(&attacker.combatant(), &defender.combatant(), mv, &cond) else {
        return 0;
    };
    let rolls: u32 = prepared.rolls().iter().map(|&r| u32::from(r)).sum();
    // In sixteenths of a hit, so the averages stay exact until the end.
    let hits16 = match mv.multihit {
        None => 16,
        Some((a, b)) if a == b => 16 * u32::from(a),
        // 2-5 hits average 3.1 (35 %, 35 %, 15 %, 15 %).
        Some(_) => 50,
    };
    let acc = u32::from(mv.accuracy.unwrap_or(100).min(100));
    let damage = rolls * hits16 / 16 * acc / 100 / 16;
    damage.min(u32::from(defender.hp))
}

/// What a move is worth now, in hit points of the foe (or the equivalent): expected damage,
/// with a bonus for a knock-out (more for one that goes first), or for a status move what its
/// effect is worth here; zero when it would do nothing.
fn action_value(battle: &Battle, side: SideId, slot: u8) -> u32 {
    let me = battle.sides[usize::from(side)].active();
    let foe = battle.sides[usize::from(1 - side)].active();
    let Some(mv) = dex().move_by_num(me.moves[usize::from(slot)]) else {
        return 0;
    };
    let max = u32::from(me.stats.0[0]);
    let foe_max = u32::from(foe.stats.0[0]);
    if mv.category != Category::Status {
        let damage = expected_damage(me, foe, mv, battle.weather);
        if damage > 0 && damage >= u32::from(foe.hp) {
            let first = if mv.priority > 0 { foe_max / 4 } else { 0 };
            return damage + foe_max / 4 + first;
        }
        return damage;
    }
    if let Some(st) = mv.status {
        let immune = mv.move_type.quarters_against(foe.species.types()) == 0
            || foe.status.is_some()
            || !can_have(foe, st, battle.weather);
        if immune {
            return 0;
        }
        let acc = u32::from(mv.accuracy.unwrap_or(100).min(100));
        let worth = if st == Status::Sleep {
            foe_max / 3
        } else {
            foe_max / 4
        };
        return worth * acc / 100;
    }
    if let Some((n, d)) = mv.heal {
        let missing = max - u32::from(me.hp);
        if u32::from(me.hp) * 2 > max {
            return 0;
        }
        return (max * u32::from(n) / u32::from(d)).min(missing);
    }
    if let Some(b) = mv.self_boosts {
        let healthy = u32::from(me.hp) * 3 >= max * 2;
        let room = b
            .iter()
            .zip(me.boosts.iter())
            .any(|(&by, &now)| by > 0 && now < 2);
        return if healthy && room { foe_max / 5 } else { 0 };
    }
    // Lowering the foe's stats: better than nothing, worse than anything else.
    u32::from(mv.target_boosts.is_some())
}

/// Whether `p` could get `status` at all (types and weather, as the battle checks them).
fn can_have(p: &BattlePokemon, status: Status, weather: Option<Weather>) -> bool {
    let t = p.species;
    !match status {
        Status::Burn => t.has_type(Type::Fire),
        Status::Freeze => t.has_type(Type::Ice) || weather == Some(Weather::Sun),
        Status::Paralysis => t.has_type(Type::Electric),
        Status::Poison | Status::Toxic => t.has_type(Type::Poison) || t.has_type(Type::Steel),
        Status::Sleep => false,
    }
}

/// The best expected damage any of `attacker`'s moves with PP does to `defender`.
fn best_damage(
    attacker: &BattlePokemon,
    defender: &BattlePokemon,
    weather: Option<Weather>,
) -> u32 {
    let d = dex();
    (0..usize::from(attacker.move_count))
        .filter(|&i| attacker.pp[i] > 0)
        .filter_map(|i| d.move_by_num(attacker.moves[i]))
        .map(|m| expected_damage(attacker, defender, m, weather))
        .max()
        .unwrap_or(0)
}

/// How well team member `slot` of `side` would do against the foe's active Pokémon: the share
/// of the foe's HP it takes per turn minus the share of its own HP it loses, in thousandths.
fn matchup(battle: &Battle, side: SideId, slot: u8) -> i64 {
    let me = &battle.sides[usize::from(side)].team[usize::from(slot)];
    let foe = battle.sides[usize::from(1 - side)].active();
    if foe.fainted() {
        // Nothing to face yet: the healthiest one goes in.
        return i64::from(me.hp) * 1000 / i64::from(me.stats.0[0].max(1));
    }
    let dealt = i64::from(best_damage(me, foe, battle.weather)) * 1000 / i64::from(foe.hp.max(1));
    let taken = i64::from(best_damage(foe, me, battle.weather)) * 1000 / i64::from(me.hp.max(1));
    dealt.min(1000) - taken.min(1000)
}

/// Healthy team members of `side` other than the one out.
fn bench(battle: &Battle, side: SideId) -> impl Iterator<Item = u8> + '_ {
    let s = &battle.sides[usize::from(side)];
    (0..s.team.len() as u8).filter(move |&i| i != s.active && !s.team[usize::from(i)].fainted())
}

/// Who `side` sends in after its Pokémon fainted: the team member that matches up best against
/// the foe's Pokémon (the first of equals). `None` when nobody is left.
pub fn choose_replacement(battle: &Battle, side: SideId) -> Option<u8> {
    let mut best: Option<(i64, u8)> = None;
    for slot in bench(battle, side) {
        let score = matchup(battle, side, slot);
        if best.is_none_or(|(b, _)| score > b) {
            best = Some((score, slot));
        }
    }
    best.map(|(_, slot)| slot)
}

/// The computer's action for `side` this turn: usually the move worth the most (see the
/// module docs), one time in eight the runner-up if that is worth anything. A Pokémon that can
/// do nothing at all to its foe switches to the team member that matches up best, if that one
/// can. Struggle when nothing else is left. Always draws exactly one roll.
pub fn choose_action<R: Rng + ?Sized>(battle: &Battle, side: SideId, rng: &mut R) -> Action {
    let mistake = below(rng, 8) == 0;
    let mut legal = Vec::new();
    battle.legal_actions(side, &mut legal);
    let mut scored: Vec<(u32, Action)> = legal
        .iter()
        .filter_map(|&a| match a {
            Action::Move(slot) => Some((action_value(battle, side, slot), a)),
            _ => None,
        })
        .collect();
    if scored.is_empty() {
        return if legal.contains(&Action::Struggle) {
            Action::Struggle
        } else {
            legal.first().copied().unwrap_or(Action::Struggle)
        };
    }
    // Stable: equal values keep the move order.
    scored.sort_by_key(|s| std::cmp::Reverse(s.0));
    if scored[0].0 == 0 {
        let foe = battle.sides[usize::from(1 - side)].active();
        let helper = bench(battle, side)
            .filter(|&slot| {
                let p = &battle.sides[usize::from(side)].team[usize::from(slot)];
                best_damage(p, foe, battle.weather) > 0
            })
            .max_by_key(|&slot| (matchup(battle, side, slot), std::cmp::Reverse(slot)));
        if let Some(slot) = helper {
            return Action::Switch(slot);
        }
    }
    match scored.get(1) {
        Some(&(value, action)) if mistake && value > 0 => action,
        _ => scored[0].1,
    }
}
