//! Glue between the pure engine (`lounge-pokemon`) and what the bot stores: rolling wild
//! Pokémon, growing them with experience, evolving them and building battle sets. Still pure
//! (an RNG comes in, values go out), so it is unit-tested here without Discord or a database.

use lounge_pokemon::battle::{PokemonSet, move_supported};
use lounge_pokemon::data::{Species, TimeOfDay, dex};
use lounge_pokemon::effects::{Ability, Item};
use lounge_pokemon::evolution::{EvoState, Trigger, find_evolution, uses_held_item};
use lounge_pokemon::stats::{Spread, StatTable};
use lounge_pokemon::xp::{default_moves, gain_exp};
use rand::Rng;

use lounge_store::{NewPokemon, NewSpawn, Pokemon, Progress, Spawn};

/// Official artwork by national dex number.
pub fn artwork_url(species: u16, shiny: bool) -> String {
    let base = "https://raw.githubusercontent.com/PokeAPI/sprites/master/sprites/pokemon/other/official-artwork";
    if shiny {
        format!("{base}/shiny/{species}.png")
    } else {
        format!("{base}/{species}.png")
    }
}

pub fn species(num: u16) -> &'static Species {
    dex()
        .species_by_num(num)
        .or_else(|| dex().species_by_num(1))
        .expect("the dex has species")
}

/// Lower case ASCII letters and digits, with accents dropped, so "Flabébé", "flabebe" and
/// "FLABÉBÉ" all compare equal, as do "Mr. Mime" and "mr mime".
pub fn fold_name(s: &str) -> String {
    let plain: String = s
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
            'ç' => 'c',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ñ' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            _ => c,
        })
        .collect();
    lounge_pokemon::id(&plain)
}

pub fn name_matches(guess: &str, species: &Species) -> bool {
    let guess = fold_name(guess);
    !guess.is_empty() && guess == fold_name(species.name)
}

/// A wild Pokémon for `channel`. Species with a low catch rate (legendaries, pseudo-legendaries)
/// are proportionally rarer.
pub fn roll_spawn<R: Rng + ?Sized>(
    rng: &mut R,
    guild: u64,
    channel: u64,
    shiny_odds: u32,
) -> NewSpawn {
    let all = dex().species();
    let species = loop {
        let s = &all[rng.random_range(0..all.len())];
        if rng.random_range(0..255u32) < u32::from(s.catch_rate).max(3) + 20 {
            break s;
        }
    };
    NewSpawn {
        guild,
        channel,
        species: species.num,
        level: rng.random_range(2..=30),
        shiny: rng.random_range(0..shiny_odds.max(1)) == 0,
        nature: rng.random_range(0..dex().natures().len()) as u8,
        ivs: std::array::from_fn(|_| rng.random_range(0..=31)),
    }
}

/// What a caught spawn becomes.
pub fn caught(spawn: &Spawn) -> NewPokemon {
    let s = species(spawn.species);
    NewPokemon {
        species: spawn.species,
        level: spawn.level,
        exp: s.growth_rate.exp_for_level(spawn.level),
        nature: spawn.nature,
        ivs: spawn.ivs,
        shiny: spawn.shiny,
        friendship: s.base_friendship,
        moves: default_moves(spawn.species, spawn.level),
    }
}

/// What changed when a Pokémon grew.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Growth {
    pub progress: Progress,
    pub old_level: u8,
    pub evolved_from: Option<u16>,
    pub learnt: Vec<u16>,
}

impl AsRef<Progress> for Growth {
    fn as_ref(&self) -> &Progress {
        &self.progress
    }
}

impl Growth {
    pub fn levelled(&self) -> bool {
        self.progress.level > self.old_level
    }
}

pub fn time_of_day(hour: u32) -> TimeOfDay {
    match hour {
        6..=17 => TimeOfDay::Day,
        18..=19 => TimeOfDay::Dusk,
        _ => TimeOfDay::Night,
    }
}

/// Adds experience and friendship, learns moves (the oldest is forgotten past four) and
/// evolves on level-up unless the owner opted out, using up the held item when that is how it
/// evolves (Sneasel's Razor Claw at night). `None` when nothing would change.
pub fn grow(p: &Pokemon, exp: u32, friendship: u8, time: TimeOfDay) -> Option<Growth> {
    let s = species(p.species);
    let up = gain_exp(p.species, s.growth_rate, p.exp, exp);
    let friendship = p.friendship.saturating_add(friendship);
    if up.exp == p.exp && friendship == p.friendship {
        return None;
    }
    let mut moves = p.moves.clone();
    let mut learnt = Vec::new();
    for m in up.new_moves {
        if moves.contains(&m) {
            continue;
        }
        if moves.len() == 4 {
            moves.remove(0);
        }
        moves.push(m);
        learnt.push(m);
    }
    let mut species_num = p.species;
    let mut evolved_from = None;
    let mut held_item = p.held_item.clone();
    if p.evolve && up.new_level > up.old_level {
        let state = EvoState {
            level: up.new_level,
            friendship,
            held_item: p.held_item.as_deref(),
            time,
            known_moves: &moves,
        };
        if let Some((next, how)) = find_evolution(p.species, Trigger::LevelUp, &state) {
            evolved_from = Some(p.species);
            species_num = next.num;
            if uses_held_item(how) {
                held_item = None;
            }
        }
    }
    Some(Growth {
        progress: Progress {
            species: species_num,
            level: up.new_level,
            exp: up.exp,
            friendship,
            moves,
            held_item,
        },
        old_level: up.old_level,
        evolved_from,
        learnt,
    })
}

pub use lounge_pokemon::xp::battle_exp;
pub use lounge_store::trade_evolution;

/// Up to four moves the battle engine can run: the Pokémon's own, else what it would know
/// at its level, else Tackle.
pub fn battle_moves(species_num: u16, level: u8, own: &[u16]) -> Vec<u16> {
    let d = dex();
    let ok = |m: &u16| d.move_by_num(*m).is_some_and(move_supported);
    let mut moves: Vec<u16> = own.iter().copied().filter(ok).take(4).collect();
    if moves.is_empty() {
        let mut pool: Vec<u16> = d
            .learnset(species_num)
            .iter()
            .filter(|m| m.level <= level)
            .map(|m| m.move_num)
            .filter(ok)
            .collect();
        pool.dedup();
        let skip = pool.len().saturating_sub(4);
        moves = pool.into_iter().skip(skip).collect();
    }
    if moves.is_empty() {
        moves.push(d.move_named("Tackle").map_or(33, |m| m.num));
    }
    moves
}

pub fn battle_set(
    species_num: u16,
    level: u8,
    nature: u8,
    ivs: [u8; 6],
    moves: &[u16],
) -> PokemonSet {
    let s = species(species_num);
    let natures = dex().natures();
    let ability = Ability::of_species(s);
    PokemonSet {
        species: s,
        level: level.clamp(1, 100),
        nature: natures[usize::from(nature) % natures.len()],
        spread: Spread {
            ivs: StatTable(ivs.map(|iv| iv.min(31))),
            evs: StatTable([0; 6]),
        },
        ability,
        item: Item::None,
        moves: battle_moves(species_num, level, moves),
    }
}

/// A member's Pokémon as it battles, with its held item (every holdable item is one the
/// battle engine knows; one it does not, from an older version, is left out).
pub fn owned_set(p: &Pokemon) -> PokemonSet {
    let mut set = battle_set(p.species, p.level, p.nature, p.ivs, &p.moves);
    set.item = p
        .held_item
        .as_deref()
        .and_then(|i| Item::parse(i).ok())
        .unwrap_or(Item::None);
    set
}

/// A wild opponent near `level`.
pub fn wild_opponent<R: Rng + ?Sized>(rng: &mut R, level: u8) -> (PokemonSet, bool) {
    let spawn = roll_spawn(rng, 0, 0, 4096);
    let level = level
        .saturating_add(rng.random_range(0..=4))
        .saturating_sub(2)
        .clamp(1, 100);
    let set = battle_set(
        spawn.species,
        level,
        spawn.nature,
        spawn.ivs,
        &default_moves(spawn.species, level),
    );
    (set, spawn.shiny)
}

pub fn move_name(num: u16) -> &'static str {
    dex().move_by_num(num).map_or("?", |m| m.name)
}

/// How a member sees a Pokémon: its nickname, else its species, with a sparkle if shiny.
pub fn display_name(p: &Pokemon) -> String {
    let name = p
        .nickname
        .clone()
        .unwrap_or_else(|| species(p.species).name.to_owned());
    if p.shiny { format!("✨ {name}") } else { name }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lounge_store::TradeEvolution;
    use rand::SeedableRng;

    #[test]
    fn names_forgive_case_accents_and_punctuation() {
        let d = dex();
        let flabebe = d.species_named("Flabébé").unwrap();
        // Precomposed and combining accents alike (the data uses combining ones).
        for guess in [
            "flabebe",
            "FLABÉBÉ",
            " Flabébé ",
            "flabébe",
            "Flabe\u{301}be\u{301}",
        ] {
            assert!(name_matches(guess, flabebe), "{guess}");
        }
        assert!(!name_matches("flabby", flabebe));
        assert!(!name_matches("", flabebe));
        let mime = d.species_named("Mr. Mime").unwrap();
        assert!(name_matches("mr mime", mime));
    }

    #[test]
    fn spawns_are_valid() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for _ in 0..200 {
            let s = roll_spawn(&mut rng, 1, 2, 2);
            assert!(dex().species_by_num(s.species).is_some());
            assert!((2..=30).contains(&s.level));
            assert!(s.ivs.iter().all(|&iv| iv <= 31));
        }
    }

    fn mon(species_name: &str, level: u8) -> Pokemon {
        let s = dex().species_named(species_name).unwrap();
        Pokemon {
            id: 1,
            owner: 2,
            species: s.num,
            nickname: None,
            level,
            exp: s.growth_rate.exp_for_level(level),
            nature: 0,
            ivs: [31; 6],
            shiny: false,
            friendship: 70,
            moves: default_moves(s.num, level),
            favourite: false,
            evolve: true,
            caught_at: 0,
            held_item: None,
        }
    }

    #[test]
    fn levelling_evolves_unless_opted_out() {
        let p = mon("Charmander", 15);
        let g = grow(&p, 100_000, 1, TimeOfDay::Day).unwrap();
        assert!(g.levelled());
        assert_eq!(g.evolved_from, Some(p.species));
        assert_eq!(species(g.progress.species).name, "Charmeleon");
        assert!(g.progress.moves.len() <= 4);

        let mut stay = p.clone();
        stay.evolve = false;
        let g = grow(&stay, 100_000, 1, TimeOfDay::Day).unwrap();
        assert_eq!(g.progress.species, p.species);
        assert_eq!(g.evolved_from, None);
    }

    #[test]
    fn a_held_item_evolves_on_level_up_at_the_right_time_and_is_used_up() {
        let mut sneasel = mon("Sneasel", 30);
        sneasel.held_item = Some("Razor Claw".to_owned());
        let g = grow(&sneasel, 100_000, 1, TimeOfDay::Day).unwrap();
        assert_eq!(g.evolved_from, None, "Weavile needs the night");
        assert_eq!(g.progress.held_item.as_deref(), Some("Razor Claw"));
        let g = grow(&sneasel, 100_000, 1, TimeOfDay::Night).unwrap();
        assert_eq!(species(g.progress.species).name, "Weavile");
        assert_eq!(g.progress.held_item, None, "the claw is used up");

        let mut charmander = mon("Charmander", 15);
        charmander.held_item = Some("Leftovers".to_owned());
        let g = grow(&charmander, 100_000, 1, TimeOfDay::Day).unwrap();
        assert_eq!(species(g.progress.species).name, "Charmeleon");
        assert_eq!(g.progress.held_item.as_deref(), Some("Leftovers"), "kept");
        charmander.held_item = Some("Everstone".to_owned());
        let g = grow(&charmander, 100_000, 1, TimeOfDay::Day).unwrap();
        assert_eq!(g.evolved_from, None);
    }

    #[test]
    fn trading_evolves_with_the_held_item_and_the_owners_consent() {
        let mut onix = mon("Onix", 20);
        assert_eq!(trade_evolution(&onix, TimeOfDay::Day), None);
        onix.held_item = Some("Metal Coat".to_owned());
        let steelix = dex().species_named("Steelix").unwrap().num;
        assert_eq!(
            trade_evolution(&onix, TimeOfDay::Day),
            Some(TradeEvolution {
                into: steelix,
                uses_item: true
            })
        );
        onix.evolve = false;
        assert_eq!(trade_evolution(&onix, TimeOfDay::Day), None);
        let mut kadabra = mon("Kadabra", 20);
        kadabra.held_item = Some("Leftovers".to_owned());
        assert!(trade_evolution(&kadabra, TimeOfDay::Day).is_some_and(|e| !e.uses_item));
        assert_eq!(owned_set(&kadabra).item, Item::Leftovers);
    }

    #[test]
    fn battle_sets_always_have_a_supported_move() {
        for s in dex().species().iter().step_by(7) {
            let set = battle_set(s.num, 5, 0, [0; 6], &[]);
            assert!(!set.moves.is_empty() && set.moves.len() <= 4, "{}", s.name);
        }
    }
}
