//! Abilities, items and weather the engine models. Anything not listed here is either accepted
//! as having no effect on damage (any ability a species can have, a few common items) or
//! refused with an error, so an unsupported effect is never silently ignored.

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::data::{Species, dex};
use crate::error::Error;
use crate::id;
use crate::types::Type;

/// Abilities with modelled effects; `Other` is a real ability whose effect is not modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ability {
    Other,
    // Attacker side.
    Adaptability,
    HugePower,
    PurePower,
    Guts,
    Hustle,
    Technician,
    ToughClaws,
    IronFist,
    StrongJaw,
    MegaLauncher,
    Sharpness,
    Reckless,
    SandForce,
    Sniper,
    TintedLens,
    SolarPower,
    GorillaTactics,
    Blaze,
    Overgrow,
    Torrent,
    Swarm,
    Steelworker,
    DragonsMaw,
    RockyPayload,
    Transistor,
    WaterBubble,
    Scrappy,
    MoldBreaker,
    Teravolt,
    Turboblaze,
    // Either side.
    Unaware,
    // Defender side.
    ThickFat,
    Heatproof,
    FurCoat,
    IceScales,
    Multiscale,
    ShadowShield,
    Filter,
    SolidRock,
    PrismArmor,
    Levitate,
    WaterAbsorb,
    VoltAbsorb,
    FlashFire,
    SapSipper,
    LightningRod,
    StormDrain,
    MotorDrive,
    DrySkin,
    EarthEater,
    Bulletproof,
    Soundproof,
    WonderGuard,
    MarvelScale,
    Fluffy,
    PurifyingSalt,
    BattleArmor,
    ShellArmor,
    // Battle only.
    Intimidate,
    Drizzle,
    Drought,
    SandStream,
    SnowWarning,
    Static,
    FlameBody,
    PoisonPoint,
    Regenerator,
    NaturalCure,
    SpeedBoost,
    Sturdy,
}

const ABILITY_NAMES: &[(Ability, &str)] = &[
    (Ability::Adaptability, "Adaptability"),
    (Ability::HugePower, "Huge Power"),
    (Ability::PurePower, "Pure Power"),
    (Ability::Guts, "Guts"),
    (Ability::Hustle, "Hustle"),
    (Ability::Technician, "Technician"),
    (Ability::ToughClaws, "Tough Claws"),
    (Ability::IronFist, "Iron Fist"),
    (Ability::StrongJaw, "Strong Jaw"),
    (Ability::MegaLauncher, "Mega Launcher"),
    (Ability::Sharpness, "Sharpness"),
    (Ability::Reckless, "Reckless"),
    (Ability::SandForce, "Sand Force"),
    (Ability::Sniper, "Sniper"),
    (Ability::TintedLens, "Tinted Lens"),
    (Ability::SolarPower, "Solar Power"),
    (Ability::GorillaTactics, "Gorilla Tactics"),
    (Ability::Blaze, "Blaze"),
    (Ability::Overgrow, "Overgrow"),
    (Ability::Torrent, "Torrent"),
    (Ability::Swarm, "Swarm"),
    (Ability::Steelworker, "Steelworker"),
    (Ability::DragonsMaw, "Dragon's Maw"),
    (Ability::RockyPayload, "Rocky Payload"),
    (Ability::Transistor, "Transistor"),
    (Ability::WaterBubble, "Water Bubble"),
    (Ability::Scrappy, "Scrappy"),
    (Ability::MoldBreaker, "Mold Breaker"),
    (Ability::Teravolt, "Teravolt"),
    (Ability::Turboblaze, "Turboblaze"),
    (Ability::Unaware, "Unaware"),
    (Ability::ThickFat, "Thick Fat"),
    (Ability::Heatproof, "Heatproof"),
    (Ability::FurCoat, "Fur Coat"),
    (Ability::IceScales, "Ice Scales"),
    (Ability::Multiscale, "Multiscale"),
    (Ability::ShadowShield, "Shadow Shield"),
    (Ability::Filter, "Filter"),
    (Ability::SolidRock, "Solid Rock"),
    (Ability::PrismArmor, "Prism Armor"),
    (Ability::Levitate, "Levitate"),
    (Ability::WaterAbsorb, "Water Absorb"),
    (Ability::VoltAbsorb, "Volt Absorb"),
    (Ability::FlashFire, "Flash Fire"),
    (Ability::SapSipper, "Sap Sipper"),
    (Ability::LightningRod, "Lightning Rod"),
    (Ability::StormDrain, "Storm Drain"),
    (Ability::MotorDrive, "Motor Drive"),
    (Ability::DrySkin, "Dry Skin"),
    (Ability::EarthEater, "Earth Eater"),
    (Ability::Bulletproof, "Bulletproof"),
    (Ability::Soundproof, "Soundproof"),
    (Ability::WonderGuard, "Wonder Guard"),
    (Ability::MarvelScale, "Marvel Scale"),
    (Ability::Fluffy, "Fluffy"),
    (Ability::PurifyingSalt, "Purifying Salt"),
    (Ability::BattleArmor, "Battle Armor"),
    (Ability::ShellArmor, "Shell Armor"),
    (Ability::Intimidate, "Intimidate"),
    (Ability::Drizzle, "Drizzle"),
    (Ability::Drought, "Drought"),
    (Ability::SandStream, "Sand Stream"),
    (Ability::SnowWarning, "Snow Warning"),
    (Ability::Static, "Static"),
    (Ability::FlameBody, "Flame Body"),
    (Ability::PoisonPoint, "Poison Point"),
    (Ability::Regenerator, "Regenerator"),
    (Ability::NaturalCure, "Natural Cure"),
    (Ability::SpeedBoost, "Speed Boost"),
    (Ability::Sturdy, "Sturdy"),
];

/// Abilities whose damage effect Showdown applies but we do not: refusing them keeps our
/// numbers honest instead of quietly differing from the games.
const UNMODELLED_DAMAGE_ABILITIES: &[&str] = &[
    "aerilate",
    "pixilate",
    "refrigerate",
    "galvanize",
    "normalize",
    "liquidvoice",
    "dragonize",
    "sheerforce",
    "parentalbond",
    "protean",
    "libero",
    "analytic",
    "rivalry",
    "punkrock",
    "flareboost",
    "toxicboost",
    "steelyspirit",
    "supremeoverlord",
    "neuroforce",
    "slowstart",
    "defeatist",
    "stakeout",
    "flowergift",
    "plus",
    "minus",
    "protosynthesis",
    "quarkdrive",
    "orichalcumpulse",
    "hadronengine",
    "swordofruin",
    "beadsofruin",
    "tabletsofruin",
    "vesselofruin",
    "fairyaura",
    "darkaura",
    "aurabreak",
    "grasspelt",
    "terashell",
    "merciless",
    "icebody",
    "neutralizinggas",
    "electromorphosis",
    "windrider",
    "wellbakedbody",
    "queenlymajesty",
    "dazzling",
    "armortail",
    "download",
    "intrepidsword",
    "dauntlessshield",
    "embodyaspectcornerstone",
    "embodyaspecthearthflame",
    "embodyaspectteal",
    "embodyaspectwellspring",
    "forecast",
    "powerspot",
    "battery",
    "friendguard",
    "longreach",
    "unseenfist",
    "mindseye",
    "airlock",
    "cloudnine",
    "teraformzero",
    "ripen",
    "unnerve",
    "asoneglastrier",
    "asonespectrier",
    "simple",
    "contrary",
];

impl Ability {
    /// The first of a species' abilities that the engine models, else [`Ability::Other`]: what
    /// a Pokémon gets when nobody chose its ability (wild, computer trainers, stored Pokémon).
    pub fn of_species(species: &Species) -> Ability {
        species
            .abilities
            .iter()
            .flatten()
            .find_map(|a| Ability::parse(a).ok())
            .unwrap_or(Ability::Other)
    }

    pub fn parse(name: &str) -> Result<Ability, Error> {
        let want = id(name);
        if let Some((a, _)) = ABILITY_NAMES.iter().find(|(_, n)| id(n) == want) {
            return Ok(*a);
        }
        if UNMODELLED_DAMAGE_ABILITIES.contains(&want.as_str())
            || !known_abilities().contains(&want)
        {
            return Err(Error::UnsupportedAbility(name.to_owned()));
        }
        Ok(Ability::Other)
    }

    /// Abilities that Mold Breaker and friends switch off (of the ones we model).
    pub fn breakable(self) -> bool {
        matches!(
            self,
            Ability::Unaware
                | Ability::ThickFat
                | Ability::Heatproof
                | Ability::FurCoat
                | Ability::IceScales
                | Ability::Multiscale
                | Ability::Filter
                | Ability::SolidRock
                | Ability::Levitate
                | Ability::WaterAbsorb
                | Ability::VoltAbsorb
                | Ability::FlashFire
                | Ability::SapSipper
                | Ability::LightningRod
                | Ability::StormDrain
                | Ability::MotorDrive
                | Ability::DrySkin
                | Ability::EarthEater
                | Ability::Bulletproof
                | Ability::Soundproof
                | Ability::WonderGuard
                | Ability::MarvelScale
                | Ability::Fluffy
                | Ability::PurifyingSalt
                | Ability::WaterBubble
                | Ability::BattleArmor
                | Ability::ShellArmor
                | Ability::Sturdy
        )
    }

    pub fn breaks_abilities(self) -> bool {
        matches!(
            self,
            Ability::MoldBreaker | Ability::Teravolt | Ability::Turboblaze
        )
    }
}

fn known_abilities() -> &'static HashSet<String> {
    static SET: OnceLock<HashSet<String>> = OnceLock::new();
    SET.get_or_init(|| {
        dex()
            .species()
            .iter()
            .flat_map(|s| s.abilities.iter().flatten())
            .map(|a| id(a))
            .collect()
    })
}

/// Held items with modelled effects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Item {
    #[default]
    None,
    ChoiceBand,
    ChoiceSpecs,
    ChoiceScarf,
    LifeOrb,
    ExpertBelt,
    MuscleBand,
    WiseGlasses,
    AssaultVest,
    Eviolite,
    LightBall,
    ThickClub,
    AirBalloon,
    /// Charcoal, Mystic Water, the Plates, the Incenses...: x1.2 to one type.
    TypeBoost(Type),
    Leftovers,
    FocusSash,
    HeavyDutyBoots,
    RockyHelmet,
    /// Evolution stones and other items with no battle effect we model.
    Inert,
}

const ITEM_NAMES: &[(Item, &str)] = &[
    (Item::ChoiceBand, "Choice Band"),
    (Item::ChoiceSpecs, "Choice Specs"),
    (Item::ChoiceScarf, "Choice Scarf"),
    (Item::LifeOrb, "Life Orb"),
    (Item::ExpertBelt, "Expert Belt"),
    (Item::MuscleBand, "Muscle Band"),
    (Item::WiseGlasses, "Wise Glasses"),
    (Item::AssaultVest, "Assault Vest"),
    (Item::Eviolite, "Eviolite"),
    (Item::LightBall, "Light Ball"),
    (Item::ThickClub, "Thick Club"),
    (Item::AirBalloon, "Air Balloon"),
    (Item::Leftovers, "Leftovers"),
    (Item::FocusSash, "Focus Sash"),
    (Item::HeavyDutyBoots, "Heavy-Duty Boots"),
    (Item::RockyHelmet, "Rocky Helmet"),
];

const TYPE_ITEMS: &[(&str, Type)] = &[
    ("Silk Scarf", Type::Normal),
    ("Charcoal", Type::Fire),
    ("Flame Plate", Type::Fire),
    ("Mystic Water", Type::Water),
    ("Splash Plate", Type::Water),
    ("Sea Incense", Type::Water),
    ("Wave Incense", Type::Water),
    ("Magnet", Type::Electric),
    ("Zap Plate", Type::Electric),
    ("Miracle Seed", Type::Grass),
    ("Meadow Plate", Type::Grass),
    ("Rose Incense", Type::Grass),
    ("Never-Melt Ice", Type::Ice),
    ("Icicle Plate", Type::Ice),
    ("Black Belt", Type::Fighting),
    ("Fist Plate", Type::Fighting),
    ("Poison Barb", Type::Poison),
    ("Toxic Plate", Type::Poison),
    ("Soft Sand", Type::Ground),
    ("Earth Plate", Type::Ground),
    ("Sharp Beak", Type::Flying),
    ("Sky Plate", Type::Flying),
    ("Twisted Spoon", Type::Psychic),
    ("Mind Plate", Type::Psychic),
    ("Odd Incense", Type::Psychic),
    ("Silver Powder", Type::Bug),
    ("Insect Plate", Type::Bug),
    ("Hard Stone", Type::Rock),
    ("Stone Plate", Type::Rock),
    ("Rock Incense", Type::Rock),
    ("Spell Tag", Type::Ghost),
    ("Spooky Plate", Type::Ghost),
    ("Dragon Fang", Type::Dragon),
    ("Draco Plate", Type::Dragon),
    ("Black Glasses", Type::Dark),
    ("Dread Plate", Type::Dark),
    ("Metal Coat", Type::Steel),
    ("Iron Plate", Type::Steel),
    ("Fairy Feather", Type::Fairy),
    ("Pixie Plate", Type::Fairy),
];

/// Items that matter only outside battle (evolution), so holding them changes no damage.
const INERT_ITEMS: &[&str] = &[
    "Everstone",
    "Fire Stone",
    "Water Stone",
    "Thunder Stone",
    "Leaf Stone",
    "Moon Stone",
    "Sun Stone",
    "Shiny Stone",
    "Dusk Stone",
    "Dawn Stone",
    "Ice Stone",
    "King's Rock",
    "Dragon Scale",
    "Up-Grade",
    "Dubious Disc",
    "Protector",
    "Electirizer",
    "Magmarizer",
    "Reaper Cloth",
    "Razor Claw",
    "Razor Fang",
    "Oval Stone",
    "Prism Scale",
    "Whipped Dream",
    "Sachet",
    "Deep Sea Scale",
    "Deep Sea Tooth",
];

impl Item {
    pub fn parse(name: &str) -> Result<Item, Error> {
        let want = id(name);
        if want.is_empty() || want == "none" || want == "nothing" {
            return Ok(Item::None);
        }
        if let Some((i, _)) = ITEM_NAMES.iter().find(|(_, n)| id(n) == want) {
            return Ok(*i);
        }
        if let Some((_, t)) = TYPE_ITEMS.iter().find(|(n, _)| id(n) == want) {
            return Ok(Item::TypeBoost(*t));
        }
        if INERT_ITEMS.iter().any(|n| id(n) == want) {
            return Ok(Item::Inert);
        }
        Err(Error::UnsupportedItem(name.to_owned()))
    }
}

/// Every item a Pokémon can be given to hold, by the name the games use, sorted: the items
/// with a battle effect the engine models, the Everstone, and the items species hold to evolve
/// (evolution stones are used, not held, so they are not listed).
pub fn holdable_items() -> &'static [&'static str] {
    static ITEMS: OnceLock<Vec<&'static str>> = OnceLock::new();
    ITEMS.get_or_init(|| {
        let mut items: Vec<&'static str> = ITEM_NAMES
            .iter()
            .map(|(_, n)| *n)
            .chain(TYPE_ITEMS.iter().map(|(n, _)| *n))
            .chain([crate::evolution::EVERSTONE])
            .chain(crate::evolution::held_evolution_items())
            .collect();
        items.sort_unstable();
        items.dedup();
        items
    })
}

/// The holdable item named `name` (case, spaces and punctuation forgiven), as the games spell it.
pub fn holdable_item(name: &str) -> Option<&'static str> {
    let wanted = id(name);
    holdable_items().iter().copied().find(|i| id(i) == wanted)
}

/// Whether holding `name` does something in battle (Leftovers, Choice Band, Charcoal...).
pub fn has_battle_effect(name: &str) -> bool {
    !matches!(Item::parse(name), Ok(Item::None | Item::Inert) | Err(_))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Weather {
    Sun,
    Rain,
    Sand,
    Snow,
}

impl Weather {
    pub fn parse(s: &str) -> Result<Option<Weather>, Error> {
        Ok(Some(match id(s).as_str() {
            "" | "none" | "clear" => return Ok(None),
            "sun" | "sunnyday" | "harshsunlight" => Weather::Sun,
            "rain" | "raindance" => Weather::Rain,
            "sand" | "sandstorm" => Weather::Sand,
            "snow" | "snowscape" => Weather::Snow,
            _ => return Err(Error::UnknownWeather(s.to_owned())),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing() {
        assert_eq!(Ability::parse("huge power"), Ok(Ability::HugePower));
        assert_eq!(Ability::parse("Pressure"), Ok(Ability::Other));
        assert!(Ability::parse("Sheer Force").is_err());
        assert!(Ability::parse("Not An Ability").is_err());
        assert_eq!(Item::parse("Charcoal"), Ok(Item::TypeBoost(Type::Fire)));
        assert_eq!(Item::parse(""), Ok(Item::None));
        assert!(Item::parse("Master Ball").is_err());
        assert_eq!(Weather::parse("Sun"), Ok(Some(Weather::Sun)));
        assert!(Weather::parse("Fog").is_err());
    }

    #[test]
    fn holdable_items_are_known_to_battles_and_evolutions() {
        let items = holdable_items();
        assert!(items.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
        for item in [
            "Leftovers",
            "Choice Band",
            "Metal Coat",
            "Razor Claw",
            "Oval Stone",
            "Everstone",
        ] {
            assert!(items.contains(&item), "{item} missing");
        }
        assert!(!items.contains(&"Fire Stone"), "stones are used, not held");
        // Every one is understood by the battle engine, so a held item never breaks a battle.
        for item in items {
            assert!(Item::parse(item).is_ok(), "{item}");
        }
        assert_eq!(holdable_item("metal coat"), Some("Metal Coat"));
        assert_eq!(holdable_item("KINGS ROCK"), Some("King's Rock"));
        assert_eq!(holdable_item("banana"), None);
        assert!(has_battle_effect("Leftovers") && has_battle_effect("Metal Coat"));
        assert!(!has_battle_effect("Razor Claw") && !has_battle_effect("Everstone"));
    }
}
