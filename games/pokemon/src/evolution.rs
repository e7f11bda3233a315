//! Evolution queries and checks.

use crate::data::{Evolution, EvolutionKind, Species, TimeOfDay, dex};
use crate::id;

/// Friendship needed for friendship evolutions (160 since Gen 8; 220 before).
pub const FRIENDSHIP_THRESHOLD: u8 = 160;

/// What just happened to the Pokémon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger<'a> {
    LevelUp,
    UseItem(&'a str),
    Trade,
}

/// The Pokémon's state when the trigger happens.
#[derive(Debug, Clone)]
pub struct EvoState<'a> {
    pub level: u8,
    pub friendship: u8,
    pub held_item: Option<&'a str>,
    pub time: TimeOfDay,
    pub known_moves: &'a [u16],
}

/// Every species this one can evolve into, with how.
pub fn evolves_into(species_num: u16) -> Vec<(&'static Species, &'static Evolution)> {
    let d = dex();
    let Some(s) = d.species_by_num(species_num) else {
        return Vec::new();
    };
    s.evos
        .iter()
        .filter_map(|&n| d.species_by_num(n))
        .filter_map(|e| e.evolution.as_ref().map(|how| (e, how)))
        .collect()
}

/// The species this one evolves from.
pub fn evolves_from(species_num: u16) -> Option<&'static Species> {
    let d = dex();
    d.species_by_num(species_num)?
        .prevo
        .and_then(|n| d.species_by_num(n))
}

/// Every item some species evolves by using (stones, apples, ...), sorted by name.
pub fn evolution_items() -> Vec<&'static str> {
    let mut items: Vec<&'static str> = dex()
        .species()
        .iter()
        .filter_map(|s| s.evolution.as_ref())
        .filter(|how| how.kind == EvolutionKind::UseItem)
        .filter_map(|how| how.item)
        .collect();
    items.sort_unstable();
    items.dedup();
    items
}

/// The evolution item named `name` (case, spaces and accents forgiven), as the data spells it.
pub fn evolution_item(name: &str) -> Option<&'static str> {
    let wanted = id(name);
    evolution_items().into_iter().find(|i| id(i) == wanted)
}

/// What this species becomes with each item it can use: (item, species).
pub fn item_evolutions(species_num: u16) -> Vec<(&'static str, &'static Species)> {
    evolves_into(species_num)
        .into_iter()
        .filter(|(_, how)| how.kind == EvolutionKind::UseItem)
        .filter_map(|(s, how)| how.item.map(|i| (i, s)))
        .collect()
}

fn same_item(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| id(a) == id(b))
}

/// Whether `how` is satisfied. Kinds whose conditions the engine does not track
/// (`LevelExtra`, `Other`) never fire automatically; the caller can still show them.
pub fn satisfied(how: &Evolution, trigger: Trigger<'_>, st: &EvoState<'_>) -> bool {
    if let Some(t) = how.time
        && t != st.time
    {
        return false;
    }
    // A free-text condition that is not a time of day (Tyrogue's stat comparisons, party
    // members...) is something the engine does not track, so it never fires on its own.
    if !how.condition.is_empty() && how.time.is_none() {
        return false;
    }
    match (how.kind, trigger) {
        (EvolutionKind::Level, Trigger::LevelUp) => st.level >= how.level.max(1),
        (EvolutionKind::LevelFriendship, Trigger::LevelUp) => st.friendship >= FRIENDSHIP_THRESHOLD,
        (EvolutionKind::LevelHold, Trigger::LevelUp) => {
            how.item.is_some_and(|i| same_item(st.held_item, i)) && st.level >= how.level
        }
        (EvolutionKind::LevelMove, Trigger::LevelUp) => {
            how.known_move.is_some_and(|m| st.known_moves.contains(&m))
        }
        (EvolutionKind::UseItem, Trigger::UseItem(used)) => {
            how.item.is_some_and(|i| id(i) == id(used))
        }
        (EvolutionKind::Trade, Trigger::Trade) => match how.item {
            None => true,
            Some(i) => same_item(st.held_item, i),
        },
        _ => false,
    }
}

/// The species the Pokémon evolves into now, if any (the first match in Pokédex order).
pub fn check_evolution(
    species_num: u16,
    trigger: Trigger<'_>,
    st: &EvoState<'_>,
) -> Option<&'static Species> {
    find_evolution(species_num, trigger, st).map(|(s, _)| s)
}

/// Like [`check_evolution`], with the method that fired, so the caller knows whether the
/// held item is used up ([`uses_held_item`]). A Pokémon holding an Everstone does not evolve
/// by levelling up or trading (an evolution stone still works, as in the games).
pub fn find_evolution(
    species_num: u16,
    trigger: Trigger<'_>,
    st: &EvoState<'_>,
) -> Option<(&'static Species, &'static Evolution)> {
    if same_item(st.held_item, EVERSTONE) && !matches!(trigger, Trigger::UseItem(_)) {
        return None;
    }
    evolves_into(species_num)
        .into_iter()
        .find(|(_, how)| satisfied(how, trigger, st))
}

/// The item that stops its holder from evolving.
pub const EVERSTONE: &str = "Everstone";

/// Whether evolving this way uses up the held item (Onix's Metal Coat, Sneasel's Razor Claw),
/// as it does in the games; a plain trade or level evolution leaves the item where it is.
pub fn uses_held_item(how: &Evolution) -> bool {
    how.item.is_some() && matches!(how.kind, EvolutionKind::LevelHold | EvolutionKind::Trade)
}

/// Every item some species must hold to evolve (by levelling up or by being traded), sorted.
pub fn held_evolution_items() -> Vec<&'static str> {
    let mut items: Vec<&'static str> = dex()
        .species()
        .iter()
        .filter_map(|s| s.evolution.as_ref())
        .filter(|how| uses_held_item(how))
        .filter_map(|how| how.item)
        .collect();
    items.sort_unstable();
    items.dedup();
    items
}

/// What this species becomes while holding each item, and how: (item, species, method).
pub fn held_item_evolutions(
    species_num: u16,
) -> Vec<(&'static str, &'static Species, &'static Evolution)> {
    evolves_into(species_num)
        .into_iter()
        .filter(|(_, how)| uses_held_item(how))
        .filter_map(|(s, how)| how.item.map(|i| (i, s, how)))
        .collect()
}
