//! Computer trainers: teams matched to the player's, and the choices they make in battle.

use lounge_pokemon::battle::{Action, Battle, Outcome, PokemonSet, random_team};
use lounge_pokemon::data::{Category, dex};
use lounge_pokemon::rng::scripted;
use lounge_pokemon::trainer::{
    CLASSES, base_level, candidates, choose_action, choose_replacement, generate, moveset,
    reachable, team_size,
};
use lounge_pokemon::types::Type;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::util::{ScriptedRng, set};

fn num(name: &str) -> u16 {
    dex().species_named(name).unwrap().num
}

fn hiker() -> usize {
    CLASSES.iter().position(|c| c.name == "Hiker").unwrap()
}

/// Where `name` is in the trainer's species pool, scripted for `below(pool.len())`.
fn pick(class: usize, level: u8, name: &str) -> u32 {
    let pool = candidates(&CLASSES[class], level);
    let i = pool
        .iter()
        .position(|s| s.name == name)
        .unwrap_or_else(|| panic!("{name} is not in the pool at {level}"));
    scripted(i as u32, pool.len() as u32)
}

#[test]
fn a_trainer_is_built_from_scripted_rolls_without_repeating_a_species() {
    let h = hiker();
    let natures = dex().natures().len() as u32;
    let mut rng = ScriptedRng::new(&[
        scripted(h as u32, CLASSES.len() as u32),
        scripted(0, CLASSES[h].names.len() as u32),
        // The lead: level offset +0, Graveler, the first nature.
        scripted(2, 4),
        pick(h, 30, "Graveler"),
        scripted(0, natures),
        // The ace, one level up from an offset of -1: Graveler again is drawn again.
        scripted(1, 4),
        pick(h, 30, "Graveler"),
        pick(h, 30, "Steelix"),
        scripted(3, natures),
    ]);
    let trainer = generate(&[30, 30], &mut rng);
    rng.assert_consumed();
    assert_eq!(trainer.title(), "Hiker Clarence");
    let names: Vec<(&str, u8)> = trainer
        .team
        .iter()
        .map(|p| (p.species.name, p.level))
        .collect();
    assert_eq!(names, [("Graveler", 30), ("Steelix", 30)]);
    assert_eq!(trainer.top_level(), 30);
    assert_eq!(trainer.team[0].nature, dex().natures()[0]);
    assert_eq!(trainer.team[1].nature, dex().natures()[3]);
    for p in &trainer.team {
        assert_eq!(p.moves, moveset(p.species, p.level));
        assert_eq!(p.spread.ivs.0, [20; 6]);
    }
    // Whatever the rolls, the team is valid for a battle.
    assert!(Battle::new([trainer.team.clone(), vec![set("Pikachu", 30, &["Tackle"])]]).is_ok());
}

#[test]
fn the_team_is_sized_and_levelled_after_the_players() {
    assert_eq!(team_size(1), 2, "more than a wild Pokémon");
    assert_eq!(team_size(3), 3);
    assert_eq!(team_size(9), 6);
    // Halfway between the lead (50) and the average (30).
    assert_eq!(base_level(&[50, 10]), 40);
    assert_eq!(base_level(&[25, 25, 25]), 25);
    // One Pokémon against two: three levels lower.
    assert_eq!(base_level(&[20]), 17);
    assert_eq!(base_level(&[2]), 1);
    assert_eq!(base_level(&[100; 6]), 100);
    assert_eq!(base_level(&[]), 5);

    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for levels in [vec![5], vec![40, 12, 12], vec![100; 6], vec![1]] {
        for _ in 0..20 {
            let t = generate(&levels, &mut rng);
            assert_eq!(t.team.len(), team_size(levels.len()));
            let base = base_level(&levels);
            for (i, p) in t.team.iter().enumerate() {
                let ace = u8::from(i + 1 == t.team.len());
                let (lo, hi) = (base.saturating_sub(2).max(1), (base + 1 + ace).min(100));
                assert!(
                    (lo..=hi).contains(&p.level),
                    "{levels:?}: {} at {}",
                    p.species.name,
                    p.level
                );
            }
            let mut species: Vec<u16> = t.team.iter().map(|p| p.species.num).collect();
            species.sort_unstable();
            species.dedup();
            assert_eq!(species.len(), t.team.len(), "a repeated species: {t:?}");
        }
    }
}

#[test]
fn the_pool_keeps_the_theme_and_the_most_evolved_reachable_form() {
    let h = &CLASSES[hiker()];
    let at = |level| -> Vec<&str> { candidates(h, level).iter().map(|s| s.name).collect() };
    let (twenty, thirty, hundred) = (at(20), at(30), at(100));
    assert!(
        twenty.contains(&"Geodude") && !twenty.contains(&"Graveler"),
        "{twenty:?}"
    );
    assert!(
        thirty.contains(&"Graveler") && !thirty.contains(&"Geodude"),
        "{thirty:?}"
    );
    // Golem needs a trade: level 40 for a second stage without a level of its own.
    assert!(
        !thirty.contains(&"Golem") && hundred.contains(&"Golem"),
        "{thirty:?}"
    );
    assert!(
        !hundred.contains(&"Groudon") && !hundred.contains(&"Landorus"),
        "no legendaries"
    );
    for class in CLASSES {
        for level in [1, 5, 30, 100] {
            let pool = candidates(class, level);
            assert!(!pool.is_empty(), "{} at {level}", class.name);
            for s in pool {
                assert!(reachable(s, level), "{} at {level}", s.name);
                let hits = moveset(s, level)
                    .iter()
                    .any(|&m| dex().move_by_num(m).unwrap().category != Category::Status);
                assert!(hits, "{} at {level} can't damage anything", s.name);
                if level >= 5 {
                    assert!(
                        class.types.iter().any(|&t| s.has_type(t)),
                        "{}: {}",
                        class.name,
                        s.name
                    );
                }
            }
        }
    }
    assert!(reachable(dex().species_named("Charizard").unwrap(), 36));
    assert!(!reachable(dex().species_named("Charizard").unwrap(), 35));
}

#[test]
fn movesets_are_legal_and_lead_with_varied_attacks() {
    let d = dex();
    let names = |s: &str, level| -> Vec<&str> {
        moveset(d.species_named(s).unwrap(), level)
            .iter()
            .map(|&m| d.move_by_num(m).unwrap().name)
            .collect()
    };
    assert_eq!(
        names("Pikachu", 40),
        ["Thunderbolt", "Iron Tail", "Quick Attack", "Agility"]
    );
    assert_eq!(
        names("Gyarados", 40),
        ["Hydro Pump", "Crunch", "Ice Fang", "Dragon Dance"]
    );
    for s in d.species().iter().step_by(5) {
        for level in [5, 50, 100] {
            let moves = moveset(s, level);
            assert!(moves.len() <= 4, "{}: {moves:?}", s.name);
            let mut distinct = moves.clone();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), moves.len(), "{}", s.name);
            for &m in &moves {
                assert!(
                    d.learnset(s.num)
                        .iter()
                        .any(|lm| lm.move_num == m && lm.level <= level),
                    "{} can't know {m} at {level}",
                    s.name
                );
            }
            let damaging = moves
                .iter()
                .filter(|&&m| d.move_by_num(m).unwrap().category != Category::Status)
                .count();
            if !moves.is_empty() {
                assert!(damaging > 0 || moves.len() == 1, "{}: {moves:?}", s.name);
            }
        }
    }
}

fn battle(player: Vec<PokemonSet>, trainer: Vec<PokemonSet>) -> Battle {
    let mut b = Battle::new([player, trainer]).unwrap();
    b.clear_log();
    b
}

/// One roll, and whether it is the one-in-eight slip.
const BEST: u32 = 1 << 31;
const SLIP: u32 = 0;

fn choose(b: &Battle, roll: u32) -> Action {
    let mut rng = ScriptedRng::new(&[roll]);
    let a = choose_action(b, 1, &mut rng);
    rng.assert_consumed();
    a
}

#[test]
fn the_trainer_uses_its_best_move_and_sometimes_the_next_best() {
    let b = battle(
        vec![set("Gyarados", 50, &["Tackle"])],
        vec![set("Pikachu", 50, &["Tackle", "Thunderbolt"])],
    );
    assert_eq!(
        choose(&b, BEST),
        Action::Move(1),
        "Thunderbolt, four times as strong"
    );
    assert_eq!(
        choose(&b, SLIP),
        Action::Move(0),
        "one time in eight, the runner-up"
    );

    // Against a Ground type, the Electric move is worth nothing, even as a slip.
    let b = battle(
        vec![set("Golem", 50, &["Tackle"])],
        vec![set("Pikachu", 50, &["Thunderbolt", "Quick Attack"])],
    );
    assert_eq!(choose(&b, BEST), Action::Move(1));
    assert_eq!(choose(&b, SLIP), Action::Move(1));
}

#[test]
fn the_trainer_finishes_a_weakened_foe_first_and_heals_when_low() {
    let mut b = battle(
        vec![set("Snorlax", 50, &["Tackle"])],
        vec![set(
            "Starmie",
            50,
            &["Hydro Pump", "Quick Attack", "Recover"],
        )],
    );
    assert_eq!(
        choose(&b, BEST),
        Action::Move(0),
        "Hydro Pump while the foe is healthy"
    );
    b.sides[0].team[0].hp = 5;
    assert_eq!(
        choose(&b, BEST),
        Action::Move(1),
        "a sure knock-out that goes first"
    );
    b.sides[0].team[0].hp = b.sides[0].team[0].stats.0[0];
    b.sides[1].team[0].hp = b.sides[1].team[0].stats.0[0] / 4;
    assert_eq!(
        choose(&b, BEST),
        Action::Move(2),
        "Recover at a quarter of its HP"
    );
}

#[test]
fn a_trainer_that_cannot_touch_its_foe_switches_and_replacements_match_up() {
    let mut b = battle(
        vec![set("Gengar", 50, &["Shadow Ball"])],
        vec![
            set("Rattata", 50, &["Tackle", "Quick Attack"]),
            set("Geodude", 50, &["Tackle"]),
            set("Houndoom", 50, &["Crunch"]),
        ],
    );
    assert_eq!(
        choose(&b, BEST),
        Action::Switch(2),
        "only Houndoom can hurt a Ghost"
    );

    let mut b2 = battle(
        vec![set("Charizard", 50, &["Flamethrower"])],
        vec![
            set("Bulbasaur", 50, &["Vine Whip"]),
            set("Squirtle", 50, &["Water Gun"]),
            set("Golem", 50, &["Rock Slide"]),
        ],
    );
    b2.sides[1].team[0].hp = 0;
    assert_eq!(
        choose_replacement(&b2, 1),
        Some(2),
        "Golem: Rock Slide at four times"
    );
    b2.sides[1].team[2].hp = 0;
    assert_eq!(choose_replacement(&b2, 1), Some(1));
    b2.sides[1].team[1].hp = 0;
    assert_eq!(choose_replacement(&b2, 1), None);
    b.sides[1].team[2].hp = 0;
    b.sides[1].team[1].hp = 0;
    assert_eq!(
        choose(&b, BEST),
        Action::Move(0),
        "nobody to switch to: it tries anyway"
    );
}

/// Mirror matches of random teams, each played twice with the sides swapped: the trainer's
/// choices beat uniformly random ones most of the time.
#[test]
fn the_trainer_beats_random_play() {
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let (mut wins, mut games) = (0, 0);
    for _ in 0..60 {
        let teams = [random_team(3, 50, &mut rng), random_team(3, 50, &mut rng)];
        for ai in [0u8, 1] {
            let mut b = Battle::new(teams.clone()).unwrap();
            let outcome = loop {
                if let Some(o) = b.outcome() {
                    break o;
                }
                for s in 0..2u8 {
                    if b.needs_replacement[usize::from(s)] {
                        let pick = if s == ai {
                            choose_replacement(&b, s)
                        } else {
                            let bench: Vec<u8> = (0..b.sides[usize::from(s)].team.len() as u8)
                                .filter(|&i| {
                                    !b.sides[usize::from(s)].team[usize::from(i)].fainted()
                                })
                                .collect();
                            bench.first().copied()
                        };
                        b.replace(s, pick.unwrap()).unwrap();
                    }
                }
                let mut legal = Vec::new();
                let actions = [0u8, 1].map(|s| {
                    if s == ai {
                        choose_action(&b, s, &mut rng)
                    } else {
                        b.legal_actions(s, &mut legal);
                        legal[rand::Rng::random_range(&mut rng, 0..legal.len())]
                    }
                });
                b.step(actions, &mut rng).unwrap();
            };
            games += 1;
            if outcome == Outcome::Win(ai) {
                wins += 1;
            }
        }
    }
    assert!(
        wins * 100 >= games * 75,
        "the trainer won {wins} of {games}"
    );
}

#[test]
fn every_class_has_a_theme_and_names() {
    for c in CLASSES {
        assert!(
            !c.types.is_empty() && !c.names.is_empty() && c.payout > 0,
            "{}",
            c.name
        );
    }
    let hiker = &CLASSES[hiker()];
    assert_eq!(hiker.types, [Type::Rock, Type::Ground]);
    assert!(
        candidates(hiker, 30)
            .iter()
            .any(|s| s.num == num("Onix") || s.num == num("Steelix"))
    );
}
