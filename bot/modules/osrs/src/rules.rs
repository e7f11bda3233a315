//! Game rules the engine leaves to its caller: who may go where, how long trips and travel
//! take, what a new character gets and which milestones earn achievements. Pure, so they are
//! unit-tested without Discord or a database.

use lounge_osrs::{GameData, Location, Skill, Skills, Slot, World};

/// Longest trip in game time, like oldschoolbot's default for regular players: long enough to
/// matter, short enough that people come back.
pub const MAX_TRIP_MINUTES: u64 = 30;
pub const MAX_TRIP_SECS: u64 = MAX_TRIP_MINUTES * 60;

/// Where new characters appear.
pub const START_LOCATION: &str = "Lumbridge";

/// Skills only members can train.
// Source: Old School RuneScape Wiki, https://oldschool.runescape.wiki/w/Members
pub const MEMBERS_SKILLS: [Skill; 9] = [
    Skill::Agility,
    Skill::Herblore,
    Skill::Thieving,
    Skill::Fletching,
    Skill::Slayer,
    Skill::Farming,
    Skill::Construction,
    Skill::Hunter,
    Skill::Sailing,
];

/// The first world of the right kind: where a new character logs in.
pub fn home_world(data: &GameData, members: bool) -> Option<&World> {
    data.worlds.iter().find(|w| w.members == members)
}

/// A character name: 1 to 12 letters, digits, spaces, `-` or `_`, as the game allows.
pub fn valid_name(name: &str) -> bool {
    let len = name.chars().count();
    (1..=12).contains(&len)
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        && !name.starts_with(' ')
        && !name.ends_with(' ')
}

pub use lounge_osrs::starter_kit;

/// The slot an item is stored under, and the other slots it empties: a two-handed weapon is
/// kept in the weapon slot and takes the shield off.
pub fn slot_key(slot: Slot) -> (&'static str, &'static [&'static str]) {
    match slot {
        Slot::Head => ("head", &[]),
        Slot::Cape => ("cape", &[]),
        Slot::Neck => ("neck", &[]),
        Slot::Ammo => ("ammo", &[]),
        Slot::Weapon => ("weapon", &[]),
        Slot::TwoHanded => ("weapon", &["shield"]),
        Slot::Body => ("body", &[]),
        Slot::Shield => ("shield", &[]),
        Slot::Legs => ("legs", &[]),
        Slot::Hands => ("hands", &[]),
        Slot::Feet => ("feet", &[]),
        Slot::Ring => ("ring", &[]),
    }
}

/// Slots in the order the equipment screen shows them.
pub const SLOT_ORDER: [&str; 11] = [
    "head", "cape", "neck", "ammo", "weapon", "body", "shield", "legs", "hands", "feet", "ring",
];

pub fn location<'a>(data: &'a GameData, name: &str) -> Option<&'a Location> {
    data.locations
        .iter()
        .find(|l| l.name.eq_ignore_ascii_case(name.trim()))
}

/// Monster names with those found at `here` first, each group in data order (what `/osrs
/// kill` suggests).
pub fn monsters_here_first<'a>(data: &'a GameData, here: &str) -> Vec<&'a str> {
    let (mut names, elsewhere): (Vec<_>, Vec<_>) =
        data.monsters.iter().partition(|m| m.is_at(here));
    names.extend(elsewhere);
    names.into_iter().map(|m| m.name.as_str()).collect()
}

/// Game seconds to walk or teleport between two places. The data has regions but no map
/// coordinates, so this is by region: a short walk within one, a teleport and a run across,
/// and a careful walk into or out of the Wilderness (no teleports past level 20).
pub fn travel_secs(from: Option<&Location>, to: &Location) -> u64 {
    match from {
        Some(f) if f.wilderness || to.wilderness => 300,
        Some(f) if f.region == to.region => 60,
        _ => 180,
    }
}

/// Real milliseconds a trip of `game_secs` takes at `scale` (see `games.trip_time_scale`).
pub fn real_millis(game_secs: u64, scale: f64) -> i64 {
    (game_secs as f64 * 1000.0 * scale).round() as i64
}

/// One milestone.
pub struct Achievement {
    pub key: String,
    pub name: String,
}

/// Every achievement these skills and kill counts have earned (earned before or not).
pub fn achievements(skills: &Skills, kills: &[(String, u64)]) -> Vec<Achievement> {
    let mut out = Vec::new();
    let mut add = |key: String, name: String| out.push(Achievement { key, name });
    let total_kills: u64 = kills.iter().map(|k| k.1).sum();
    for (n, name) in [
        (1, "First blood: your first kill"),
        (100, "Slayer of a hundred: 100 kills"),
        (1_000, "Thousand cuts: 1,000 kills"),
    ] {
        if total_kills >= n {
            add(format!("kills_{n}"), name.to_owned());
        }
    }
    for (monster, count) in kills {
        if *count >= 100 {
            add(
                format!("kc_100_{}", monster.to_lowercase()),
                format!("100 {monster} kills"),
            );
        }
    }
    let total = skills.total_level();
    for n in [500, 1_000, 1_500, 2_000] {
        if total >= n {
            add(format!("total_{n}"), format!("Total level {n}"));
        }
    }
    let combat = skills.combat_level();
    for n in [50, 100, 126] {
        if combat >= n {
            add(format!("combat_{n}"), format!("Combat level {n}"));
        }
    }
    for skill in Skill::ALL {
        let level = skills.level(skill);
        for n in [50, 99] {
            if level >= n {
                add(
                    format!("level_{n}_{}", skill.name()),
                    format!("Level {n} {}", title(skill.name())),
                );
            }
        }
    }
    out
}

/// The name shown for an achievement key (keys are what the database stores).
pub fn achievement_name(key: &str, skills: &Skills, kills: &[(String, u64)]) -> String {
    achievements(skills, kills)
        .into_iter()
        .find(|a| a.key == key)
        .map_or_else(|| key.replace('_', " "), |a| a.name)
}

/// "woodcutting" → "Woodcutting".
pub fn title(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| {
        f.to_uppercase().collect::<String>() + c.as_str()
    })
}

#[cfg(test)]
mod tests {
    use lounge_osrs::{Skills, data};

    use super::*;

    #[test]
    fn names_follow_the_games_rules() {
        assert!(valid_name("Zezima"));
        assert!(valid_name("Iron 8-man_"));
        assert!(!valid_name(""));
        assert!(!valid_name("thirteen char"));
        assert!(!valid_name(" lead"));
        assert!(!valid_name("<@123>"));
    }

    #[test]
    fn starter_kit_exists_in_the_data_and_is_wearable() {
        let data = data();
        let (bank, worn) = starter_kit(data);
        assert!(bank.amount(data.item_by_name("Shrimps").unwrap().id) > 0);
        assert_eq!(worn.len(), 2);
        for (slot, item) in worn {
            let equip = data.item(item).unwrap().equip.as_ref().unwrap();
            assert_eq!(slot_key(equip.slot).0, slot);
        }
    }

    #[test]
    fn every_home_world_and_activity_location_exists() {
        let data = data();
        assert!(!home_world(data, false).unwrap().members);
        assert!(home_world(data, true).unwrap().members);
        assert!(location(data, START_LOCATION).is_some());
        for a in &data.activities {
            assert!(location(data, &a.location).is_some(), "{}", a.location);
        }
    }

    #[test]
    fn monsters_where_the_character_is_are_suggested_first() {
        let data = data();
        let names = monsters_here_first(data, "Slayer Tower");
        assert_eq!(names.len(), data.monsters.len());
        let here = data
            .monsters
            .iter()
            .filter(|m| m.is_at("Slayer Tower"))
            .count();
        assert!(here > 5, "{here}");
        assert!(names[..here].contains(&"Abyssal Demon"));
        assert!(names[here..].contains(&"Goblin"));
        assert!(
            names[..here]
                .iter()
                .all(|n| data.monster(n).unwrap().is_at("Slayer Tower"))
        );
        // Nowhere (no character): the data's own order.
        let plain: Vec<&str> = data.monsters.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(monsters_here_first(data, ""), plain);
    }

    #[test]
    fn every_monster_location_and_slayer_master_home_exists() {
        let data = data();
        for m in &data.monsters {
            assert!(!m.locations.is_empty(), "{}", m.name);
            for l in &m.locations {
                assert!(location(data, l).is_some(), "{}: {l}", m.name);
            }
        }
        for m in &data.slayer_masters {
            assert!(location(data, &m.location).is_some(), "{}", m.name);
        }
        // Starting out, there is something to fight where a new character stands.
        assert!(data.monsters.iter().any(|m| m.is_at(START_LOCATION)));
    }

    #[test]
    fn travel_takes_longer_across_regions_and_into_the_wilderness() {
        let data = data();
        let at = |n| location(data, n).unwrap();
        let near = travel_secs(Some(at("Lumbridge")), at("Draynor Village"));
        let far = travel_secs(Some(at("Lumbridge")), at("Catherby"));
        let wild = travel_secs(Some(at("Edgeville")), at("Wilderness"));
        assert!(near < far && far < wild, "{near} {far} {wild}");
    }

    #[test]
    fn milestones_follow_levels_and_kills() {
        let fresh = achievements(&Skills::default(), &[]);
        assert!(
            fresh.is_empty(),
            "{:?}",
            fresh.iter().map(|a| &a.key).collect::<Vec<_>>()
        );
        let kills = vec![("Goblin".to_owned(), 120)];
        let keys: Vec<String> = achievements(&Skills::all_at(99), &kills)
            .into_iter()
            .map(|a| a.key)
            .collect();
        for key in [
            "kills_1",
            "kills_100",
            "kc_100_goblin",
            "total_2000",
            "combat_126",
            "level_99_sailing",
        ] {
            assert!(keys.iter().any(|k| k == key), "{key} missing");
        }
        assert!(!keys.iter().any(|k| k == "kills_1000"));
        assert_eq!(
            achievement_name("level_99_attack", &Skills::all_at(99), &[]),
            "Level 99 Attack"
        );
    }

    #[test]
    fn real_time_follows_the_scale() {
        assert_eq!(real_millis(60, 1.0), 60_000);
        assert_eq!(real_millis(60, 0.001), 60);
    }
}
