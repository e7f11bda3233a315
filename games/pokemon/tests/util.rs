//! Shared test helpers.

use lounge_pokemon::battle::PokemonSet;
use lounge_pokemon::data::dex;
use lounge_pokemon::effects::{Ability, Item};
use lounge_pokemon::stats::Spread;
use rand::RngCore;

/// A Hardy, perfect-IV, ability-less and item-less set of `species` with `moves`.
pub fn set(species: &str, level: u8, moves: &[&str]) -> PokemonSet {
    let d = dex();
    PokemonSet {
        species: d.species_named(species).unwrap(),
        level,
        nature: d.nature_named("Hardy").unwrap(),
        spread: Spread::perfect_ivs(),
        ability: Ability::Other,
        item: Item::None,
        moves: moves.iter().map(|m| d.move_named(m).unwrap().num).collect(),
    }
}

/// An RNG fed a fixed script of `u32` rolls. It panics when a roll is asked for that the script
/// does not have, and `assert_consumed` fails when rolls were left over: either way a test learns
/// that the engine drew a different number of random values than it expected.
pub struct ScriptedRng {
    rolls: Vec<u32>,
    next: usize,
}

#[allow(dead_code, reason = "not every test module uses every helper")]
impl ScriptedRng {
    pub fn new(rolls: &[u32]) -> ScriptedRng {
        ScriptedRng {
            rolls: rolls.to_vec(),
            next: 0,
        }
    }

    pub fn assert_consumed(&self) {
        assert_eq!(
            self.next,
            self.rolls.len(),
            "only {} of {} scripted rolls were used",
            self.next,
            self.rolls.len()
        );
    }
}

impl RngCore for ScriptedRng {
    fn next_u32(&mut self) -> u32 {
        let r = *self
            .rolls
            .get(self.next)
            .unwrap_or_else(|| panic!("scripted RNG exhausted after {} rolls", self.next));
        self.next += 1;
        r
    }

    fn next_u64(&mut self) -> u64 {
        u64::from(self.next_u32())
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for b in dst {
            *b = self.next_u32() as u8;
        }
    }
}
