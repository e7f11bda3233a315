//! A fingerprint of seeded random battles: one hash over every event, outcome, final team state
//! and the number of random draws. Performance work must leave it unchanged; a change means a
//! battle somewhere played out differently.
//!
//! `examples/fingerprint.rs` runs the same function over many more battles in release.

use lounge_pokemon::battle::{
    Action, Battle, Event, Outcome, PokemonSet, play_random, random_battles, random_team,
};
use lounge_pokemon::effects::{Ability, Item};
use lounge_pokemon::rng::below;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Items with a modelled battle effect, plus a type booster, an inert item and none: random
/// teams hold nothing, so without these the item paths would go unchecked.
const ITEMS: &[&str] = &[
    "",
    "Choice Band",
    "Choice Specs",
    "Choice Scarf",
    "Life Orb",
    "Expert Belt",
    "Muscle Band",
    "Wise Glasses",
    "Assault Vest",
    "Eviolite",
    "Light Ball",
    "Thick Club",
    "Air Balloon",
    "Leftovers",
    "Focus Sash",
    "Heavy-Duty Boots",
    "Rocky Helmet",
    "Charcoal",
    "Mystic Water",
    "Everstone",
];

/// FxHash-style mixing: stable across Rust versions and platforms, unlike `DefaultHasher`.
struct Fingerprint(u64);

impl Fingerprint {
    fn add(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn event(&mut self, e: Event) {
        let (tag, a, b, c): (u64, u64, u64, u64) = match e {
            Event::Turn(t) => (0, u64::from(t), 0, 0),
            Event::SwitchIn {
                side,
                slot,
                species,
            } => (1, side.into(), slot.into(), species.into()),
            Event::UseMove { side, move_num } => (2, side.into(), move_num.into(), 0),
            Event::Cant { side, reason } => (3, side.into(), reason as u64, 0),
            Event::Miss { side } => (4, side.into(), 0, 0),
            Event::NoEffect { side } => (5, side.into(), 0, 0),
            Event::Crit { side } => (6, side.into(), 0, 0),
            Event::Effectiveness { side, quarters } => (7, side.into(), quarters.into(), 0),
            Event::Damage { side, amount, hp } => (8, side.into(), amount.into(), hp.into()),
            Event::Heal { side, amount, hp } => (9, side.into(), amount.into(), hp.into()),
            Event::Hits { side, count } => (10, side.into(), count.into(), 0),
            Event::Status { side, status } => (11, side.into(), status as u64, 0),
            Event::Cured { side } => (12, side.into(), 0, 0),
            Event::Boost { side, stat, by } => (13, side.into(), stat.into(), by as u64),
            Event::Endured { side } => (14, side.into(), 0, 0),
            Event::Weather(w) => (15, w.map_or(9, |w| w as u64), 0, 0),
            Event::Faint { side } => (16, side.into(), 0, 0),
            Event::Win { side } => (17, side.into(), 0, 0),
            Event::Tie => (18, 0, 0, 0),
        };
        self.add(tag | a << 8 | b << 16 | c << 32);
    }

    fn battle_state(&mut self, b: &Battle) {
        self.add(u64::from(b.turn));
        self.add(match b.outcome() {
            None => 0,
            Some(Outcome::Win(side)) => 1 + u64::from(side),
            Some(Outcome::Tie) => 3,
        });
        for side in &b.sides {
            self.add(u64::from(side.active));
            for p in &side.team {
                self.add(u64::from(p.hp));
                self.add(u64::from(u32::from_le_bytes(p.pp)));
                self.add(p.status.map_or(9, |s| s as u64));
                for &x in &p.boosts {
                    self.add(x as u64);
                }
            }
        }
    }
}

/// A random team with random items, levels and (legal, modelled) abilities.
fn varied_team(rng: &mut ChaCha8Rng) -> Vec<PokemonSet> {
    let mut team = random_team(6, 100, rng);
    for p in &mut team {
        p.level = 50 + below(rng, 51) as u8;
        p.item = Item::parse(ITEMS[below(rng, ITEMS.len() as u32) as usize])
            .expect("listed items parse");
        let abilities: Vec<Ability> = p
            .species
            .abilities
            .iter()
            .flatten()
            .filter_map(|a| Ability::parse(a).ok())
            .collect();
        if !abilities.is_empty() {
            p.ability = abilities[below(rng, abilities.len() as u32) as usize];
        }
    }
    team
}

/// Plays a battle through the public API with `play_random`'s policy, hashing every event.
fn play_logged(b: &mut Battle, rng: &mut ChaCha8Rng, fp: &mut Fingerprint) {
    let mut legal = Vec::new();
    for e in b.log() {
        fp.event(*e);
    }
    b.clear_log();
    while b.outcome().is_none() {
        for s in 0..2u8 {
            if b.needs_replacement[usize::from(s)] {
                let healthy: Vec<u8> = (0..b.sides[usize::from(s)].team.len() as u8)
                    .filter(|&i| !b.sides[usize::from(s)].team[usize::from(i)].fainted())
                    .collect();
                let pick = healthy[below(rng, healthy.len() as u32) as usize];
                b.replace(s, pick).expect("a healthy Pokémon can come in");
                for e in b.log() {
                    fp.event(*e);
                }
                b.clear_log();
            }
        }
        let mut actions = [Action::Struggle; 2];
        for (s, a) in actions.iter_mut().enumerate() {
            b.legal_actions(s as u8, &mut legal);
            let moves = legal
                .iter()
                .filter(|a| !matches!(a, Action::Switch(_)))
                .count();
            let pick = if moves < legal.len() && below(rng, 4) == 0 {
                moves + below(rng, (legal.len() - moves) as u32) as usize
            } else {
                below(rng, moves as u32) as usize
            };
            *a = legal[pick];
        }
        for e in b.step(actions, rng).expect("legal actions") {
            fp.event(*e);
        }
        b.clear_log();
    }
}

/// Hash of `n` battles as the benchmark plays them (`play_random` on clones of 64 prepared
/// 6v6 battles) and `n` event-logged battles of varied teams.
pub fn fingerprint(n: usize) -> u64 {
    let mut fp = Fingerprint(0);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let pool = random_battles(6, 64, 100, &mut rng);
    for i in 0..n {
        let mut b = pool[i % pool.len()].clone();
        play_random(&mut b, &mut rng);
        fp.battle_state(&b);
    }
    fp.add(rng.next_u64());

    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
    for _ in 0..n {
        let teams = [varied_team(&mut rng), varied_team(&mut rng)];
        let mut b = Battle::new(teams).expect("varied teams are valid");
        play_logged(&mut b, &mut rng, &mut fp);
        fp.battle_state(&b);
    }
    fp.add(rng.next_u64());
    fp.0
}

#[test]
fn random_battles_match_the_pinned_fingerprint() {
    assert_eq!(fingerprint(2_500), 0x5c9c_5e99_d620_3585);
}
