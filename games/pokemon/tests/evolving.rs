//! "Evolves into" queries and evolution checks.

use lounge_pokemon::data::{EvolutionKind, TimeOfDay, dex};
use lounge_pokemon::evolution::{
    EvoState, Trigger, check_evolution, evolution_item, evolution_items, evolves_from,
    evolves_into, item_evolutions,
};

fn num(name: &str) -> u16 {
    dex().species_named(name).unwrap().num
}

fn state(level: u8) -> EvoState<'static> {
    EvoState {
        level,
        friendship: 70,
        held_item: None,
        time: TimeOfDay::Day,
        known_moves: &[],
    }
}

fn evolved(from: &str, trigger: Trigger<'_>, st: &EvoState<'_>) -> Option<&'static str> {
    check_evolution(num(from), trigger, st).map(|s| s.name)
}

#[test]
fn evolves_into_lists_every_branch() {
    let eevee: Vec<&str> = evolves_into(num("Eevee"))
        .iter()
        .map(|(s, _)| s.name)
        .collect();
    assert_eq!(eevee.len(), 8);
    assert!(eevee.contains(&"Sylveon") && eevee.contains(&"Umbreon"));
    assert!(evolves_into(num("Mewtwo")).is_empty());
    assert_eq!(
        evolves_from(num("Ivysaur")).map(|s| s.name),
        Some("Bulbasaur")
    );
    assert_eq!(evolves_from(num("Bulbasaur")).map(|s| s.name), None);
    let (_, how) = evolves_into(num("Charmander"))[0];
    assert_eq!((how.kind, how.level), (EvolutionKind::Level, 16));
}

#[test]
fn level_evolution() {
    assert_eq!(evolved("Charmander", Trigger::LevelUp, &state(15)), None);
    assert_eq!(
        evolved("Charmander", Trigger::LevelUp, &state(16)),
        Some("Charmeleon")
    );
    // Tyrogue's stat comparison is not tracked, so it never evolves on its own.
    assert_eq!(evolved("Tyrogue", Trigger::LevelUp, &state(20)), None);
}

#[test]
fn item_evolution() {
    assert_eq!(
        evolved("Pikachu", Trigger::UseItem("Thunder Stone"), &state(5)),
        Some("Raichu")
    );
    assert_eq!(
        evolved("Pikachu", Trigger::UseItem("Fire Stone"), &state(5)),
        None
    );
    assert_eq!(
        evolved("Eevee", Trigger::UseItem("water stone"), &state(5)),
        Some("Vaporeon")
    );
    assert_eq!(evolved("Pikachu", Trigger::LevelUp, &state(100)), None);
}

#[test]
fn evolution_items_are_listed_and_found_forgivingly() {
    let items = evolution_items();
    for stone in [
        "Fire Stone",
        "Water Stone",
        "Thunder Stone",
        "Leaf Stone",
        "Moon Stone",
    ] {
        assert!(items.contains(&stone), "{stone} missing from {items:?}");
    }
    assert!(items.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
    // Held items for trading or levelling are not used up by evolving.
    assert!(!items.contains(&"Metal Coat"), "{items:?}");
    assert_eq!(evolution_item("thunderstone"), Some("Thunder Stone"));
    assert_eq!(evolution_item("  FIRE stone"), Some("Fire Stone"));
    assert_eq!(evolution_item("Rare Candy"), None);

    let eevee: Vec<(&str, &str)> = item_evolutions(num("Eevee"))
        .iter()
        .map(|(i, s)| (*i, s.name))
        .collect();
    assert!(eevee.contains(&("Fire Stone", "Flareon")), "{eevee:?}");
    assert!(eevee.contains(&("Water Stone", "Vaporeon")), "{eevee:?}");
    assert!(!eevee.iter().any(|(_, s)| *s == "Umbreon"), "{eevee:?}");
    assert!(item_evolutions(num("Charmander")).is_empty());
}

#[test]
fn trade_evolution_with_and_without_item() {
    assert_eq!(
        evolved("Kadabra", Trigger::Trade, &state(20)),
        Some("Alakazam")
    );
    assert_eq!(evolved("Onix", Trigger::Trade, &state(20)), None);
    let holding = EvoState {
        held_item: Some("Metal Coat"),
        ..state(20)
    };
    assert_eq!(evolved("Onix", Trigger::Trade, &holding), Some("Steelix"));
}

#[test]
fn friendship_and_time_of_day() {
    let happy_day = EvoState {
        friendship: 160,
        ..state(10)
    };
    assert_eq!(
        evolved("Eevee", Trigger::LevelUp, &happy_day),
        Some("Espeon")
    );
    let happy_night = EvoState {
        time: TimeOfDay::Night,
        ..happy_day.clone()
    };
    assert_eq!(
        evolved("Eevee", Trigger::LevelUp, &happy_night),
        Some("Umbreon")
    );
    let unhappy = EvoState {
        friendship: 159,
        ..happy_day
    };
    assert_eq!(evolved("Eevee", Trigger::LevelUp, &unhappy), None);
}

#[test]
fn held_item_at_a_time_of_day() {
    let fang = EvoState {
        held_item: Some("Razor Fang"),
        time: TimeOfDay::Night,
        ..state(30)
    };
    assert_eq!(evolved("Gligar", Trigger::LevelUp, &fang), Some("Gliscor"));
    let by_day = EvoState {
        time: TimeOfDay::Day,
        ..fang
    };
    assert_eq!(evolved("Gligar", Trigger::LevelUp, &by_day), None);
}

#[test]
fn move_evolution() {
    let ancient_power = dex().move_named("Ancient Power").unwrap().num;
    let knows = [ancient_power];
    let st = EvoState {
        known_moves: &knows,
        ..state(30)
    };
    assert_eq!(evolved("Tangela", Trigger::LevelUp, &st), Some("Tangrowth"));
    assert_eq!(evolved("Tangela", Trigger::LevelUp, &state(30)), None);
}

#[test]
fn held_items_evolve_on_level_up_and_are_used_up() {
    use lounge_pokemon::evolution::{
        find_evolution, held_evolution_items, held_item_evolutions, uses_held_item,
    };
    let night = |item| EvoState {
        held_item: Some(item),
        time: TimeOfDay::Night,
        ..state(30)
    };
    let (weavile, how) = find_evolution(num("Sneasel"), Trigger::LevelUp, &night("Razor Claw"))
        .expect("Sneasel with a Razor Claw at night");
    assert_eq!(weavile.name, "Weavile");
    assert!(uses_held_item(how));
    let day = EvoState {
        time: TimeOfDay::Day,
        ..night("Razor Claw")
    };
    // Weavile needs the night (Sneasler comes from Hisuian Sneasel, which is not modelled).
    assert_eq!(evolved("Sneasel", Trigger::LevelUp, &day), None);
    assert_eq!(evolved("Sneasel", Trigger::LevelUp, &state(30)), None);
    assert_eq!(
        evolved(
            "Happiny",
            Trigger::LevelUp,
            &EvoState {
                held_item: Some("oval stone"),
                ..state(5)
            }
        ),
        Some("Chansey")
    );
    // A trade with an item uses it; a trade or level-up without one leaves the item alone.
    let (_, steelix) = find_evolution(num("Onix"), Trigger::Trade, &night("Metal Coat")).unwrap();
    assert!(uses_held_item(steelix));
    let (_, alakazam) =
        find_evolution(num("Kadabra"), Trigger::Trade, &night("Leftovers")).unwrap();
    assert!(!uses_held_item(alakazam));
    let (_, charmeleon) =
        find_evolution(num("Charmander"), Trigger::LevelUp, &night("Leftovers")).unwrap();
    assert!(!uses_held_item(charmeleon));

    let items = held_evolution_items();
    for item in [
        "Metal Coat",
        "Razor Claw",
        "Oval Stone",
        "King's Rock",
        "Up-Grade",
    ] {
        assert!(items.contains(&item), "{item} missing from {items:?}");
    }
    assert!(!items.contains(&"Fire Stone"));
    let onix: Vec<(&str, &str)> = held_item_evolutions(num("Onix"))
        .iter()
        .map(|(i, s, _)| (*i, s.name))
        .collect();
    assert_eq!(onix, [("Metal Coat", "Steelix")]);
}

#[test]
fn an_everstone_stops_levelling_and_trading_evolutions() {
    let everstone = EvoState {
        held_item: Some("Everstone"),
        ..state(50)
    };
    assert_eq!(evolved("Charmander", Trigger::LevelUp, &everstone), None);
    assert_eq!(evolved("Kadabra", Trigger::Trade, &everstone), None);
    // An evolution stone still works, as in the games.
    assert_eq!(
        evolved("Pikachu", Trigger::UseItem("Thunder Stone"), &everstone),
        Some("Raichu")
    );
    assert_eq!(
        evolved("Charmander", Trigger::LevelUp, &state(50)),
        Some("Charmeleon")
    );
}
