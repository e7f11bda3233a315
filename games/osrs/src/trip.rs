//! Trips: a character does one activity for a number of kills/actions or a length of time.
//!
//! Only drops and fractional action counts are random. Combat damage uses expected values
//! (accuracy times average hit, the game's accuracy and max-hit formulas), so kill time,
//! food eaten, ammo and runes used and whether the character dies follow from stats alone; this
//! keeps trips cheap and makes every RNG call a drop roll that tests can script.

use std::collections::BTreeMap;

use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::data::{Activity, GameData, Monster, Slot, Stat};
use crate::error::{MissingLevel, OsrsError};
use crate::loot::{Bank, LootAcc, roll_table, unit};
use crate::skills::{MAX_LEVEL, Skill, Skills};

/// Seconds per game tick.
pub const TICK_SECONDS: f64 = 0.6;
/// Ticks between kills for respawn and moving to the next target; a flat estimate.
pub const RESPAWN_TICKS: f64 = 5.0;
/// Most kills or actions one trip may ask for.
pub const MAX_QUANTITY: u64 = 10_000_000;
/// Longest trip, in minutes (one week).
pub const MAX_MINUTES: u64 = 7 * 24 * 60;
/// Ticks per hitpoint regenerated (one every 100 ticks without boosts).
pub const REGEN_TICKS: f64 = 100.0;
/// Share of fired ammunition that is lost (the rest is picked up again).
pub const AMMO_LOSS: f64 = 0.2;

/// A player character as the engine sees it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Character {
    pub skills: Skills,
    /// Ids of worn items, at most one per slot; their stats are summed.
    pub equipment: Vec<u32>,
    /// What is carried into the trip and can be used up: food, ammunition, logs.
    pub inventory: Bank,
}

/// How a combat trip fights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CombatStyle {
    /// Aggressive melee with the best of stab, slash and crush; trains Strength.
    Melee,
    /// Ranged on the "accurate" stance; needs a stack of the worn ammunition in the
    /// inventory.
    Ranged,
    /// Autocasting a combat spell; its runes come from the inventory (no elemental staves).
    Magic(Spell),
}

impl CombatStyle {
    /// Lower-case name for messages.
    pub fn name(self) -> &'static str {
        match self {
            CombatStyle::Melee => "melee",
            CombatStyle::Ranged => "ranged",
            CombatStyle::Magic(_) => "magic",
        }
    }
}

/// Combat spells the engine can autocast.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Spell {
    WindStrike,
    FireStrike,
    FireBolt,
    FireBlast,
    FireWave,
}

/// Facts about one spell.
#[derive(Clone, Copy, Debug)]
pub struct SpellFacts {
    pub name: &'static str,
    /// Magic level needed.
    pub level: u8,
    pub max_hit: u32,
    /// Base experience per cast.
    pub xp: f64,
    /// Runes used per cast: (item name, quantity).
    pub runes: &'static [(&'static str, u32)],
}

impl Spell {
    /// Level, max hit, experience and rune cost.
    // Source: Old School RuneScape Wiki, https://oldschool.runescape.wiki/w/Standard_spellbook
    pub fn facts(self) -> SpellFacts {
        let (name, level, max_hit, xp, runes): (_, _, _, _, &'static [(&'static str, u32)]) =
            match self {
                Spell::WindStrike => (
                    "Wind Strike",
                    1,
                    2,
                    5.5,
                    &[("Air rune", 1), ("Mind rune", 1)],
                ),
                Spell::FireStrike => (
                    "Fire Strike",
                    13,
                    8,
                    11.5,
                    &[("Air rune", 2), ("Fire rune", 3), ("Mind rune", 1)],
                ),
                Spell::FireBolt => (
                    "Fire Bolt",
                    35,
                    12,
                    22.5,
                    &[("Air rune", 3), ("Fire rune", 4), ("Chaos rune", 1)],
                ),
                Spell::FireBlast => (
                    "Fire Blast",
                    59,
                    16,
                    34.5,
                    &[("Air rune", 4), ("Fire rune", 5), ("Death rune", 1)],
                ),
                Spell::FireWave => (
                    "Fire Wave",
                    75,
                    20,
                    42.5,
                    &[("Air rune", 5), ("Fire rune", 7), ("Blood rune", 1)],
                ),
            };
        SpellFacts {
            name,
            level,
            max_hit,
            xp,
            runes,
        }
    }
}

/// How long a trip lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Amount {
    /// Kills or actions.
    Count(u64),
    /// Minutes of game time.
    Minutes(u64),
}

/// What the trip does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum TripRequest {
    Combat {
        /// Monster name or alias.
        monster: String,
        amount: Amount,
        style: CombatStyle,
        /// Food item to eat from the inventory, if any.
        food: Option<u32>,
        /// On a Slayer task for this monster: Slayer experience per kill.
        on_task: bool,
    },
    Skilling {
        /// Activity name, e.g. "Yew tree".
        activity: String,
        amount: Amount,
    },
}

/// Something noteworthy that happened during a trip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The character died after finishing `completed` kills; the trip stops there.
    Died { completed: u64 },
    /// A supply ran out after `completed` kills/actions; the trip stops there.
    OutOfSupplies { item: u32, completed: u64 },
    /// A skill reached a new level.
    LevelUp { skill: Skill, level: u8 },
}

/// The result of a trip; the caller applies it (adds loot and XP, removes consumed items).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TripOutcome {
    /// Game time taken, in seconds.
    pub duration_secs: u64,
    /// Kills or actions completed.
    pub completed: u64,
    /// Experience gained per skill.
    pub xp: BTreeMap<Skill, u64>,
    pub loot: Bank,
    /// Items used up (food, ammunition, logs).
    pub consumed: Bank,
    pub events: Vec<Event>,
}

/// Checks levels for the trip and the worn equipment; lists everything missing.
pub fn check_requirements(
    data: &GameData,
    character: &Character,
    request: &TripRequest,
) -> Result<(), OsrsError> {
    let mut missing = Vec::new();
    let mut need = |skill: Skill, needed: u8| {
        let have = character.skills.level(skill);
        if have < needed && !missing.iter().any(|m: &MissingLevel| m.skill == skill) {
            missing.push(MissingLevel {
                skill,
                needed,
                have,
            });
        }
    };
    match request {
        TripRequest::Combat { monster, style, .. } => {
            need(Skill::Slayer, data.monster(monster)?.slayer_level);
            if let CombatStyle::Magic(spell) = style {
                need(Skill::Magic, spell.facts().level);
            }
        }
        TripRequest::Skilling { activity, .. } => {
            let a = data.activity(activity)?;
            need(a.skill, a.level);
        }
    }
    for &id in &character.equipment {
        let item = data.item(id).ok_or_else(|| unknown_item_id(id))?;
        for &(skill, level) in item.equip.iter().flat_map(|e| &e.req) {
            need(skill, level);
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(OsrsError::RequirementsNotMet(missing))
    }
}

fn unknown_item_id(id: u32) -> OsrsError {
    OsrsError::UnknownItem {
        name: format!("#{id}"),
        suggestions: Vec::new(),
    }
}

/// Runs one trip. Validates everything first, so a bad request consumes no randomness.
pub fn simulate(
    data: &GameData,
    character: &Character,
    request: &TripRequest,
    rng: &mut impl RngCore,
) -> Result<TripOutcome, OsrsError> {
    check_requirements(data, character, request)?;
    // Validates worn items (one per slot, all wearable) for skilling trips too.
    gear(data, &character.equipment)?;
    let mut outcome = match request {
        TripRequest::Combat {
            monster,
            amount,
            style,
            food,
            on_task,
        } => {
            let monster = data.monster(monster)?;
            let plan = CombatPlan::new(data, character, monster, *style, *food, *on_task)?;
            plan.run(data, character, *amount, rng)?
        }
        TripRequest::Skilling { activity, amount } => {
            skilling(data, character, data.activity(activity)?, *amount, rng)?
        }
    };
    let mut skills = character.skills.clone();
    for (&skill, &xp) in &outcome.xp {
        if let Some(level) = skills.add_xp(skill, u32::try_from(xp).unwrap_or(u32::MAX)) {
            outcome.events.push(Event::LevelUp { skill, level });
        }
    }
    Ok(outcome)
}

fn validate(amount: Amount) -> Result<(), OsrsError> {
    let (got, max) = match amount {
        Amount::Count(n) => (n, MAX_QUANTITY),
        Amount::Minutes(m) => (m, MAX_MINUTES),
    };
    if got == 0 || got > max {
        return Err(OsrsError::BadQuantity { got, max });
    }
    Ok(())
}

/// What the worn items add up to.
struct Gear {
    stats: [i32; 14],
    /// Weapon attack speed, if a weapon is worn.
    speed: Option<u32>,
    /// Ammunition item, if worn.
    ammo: Option<u32>,
}

fn gear(data: &GameData, equipment: &[u32]) -> Result<Gear, OsrsError> {
    let mut stats = [0; 14];
    let mut speed = None;
    let mut ammo = None;
    let mut taken: Vec<Slot> = Vec::new();
    for &id in equipment {
        let item = data.item(id).ok_or_else(|| unknown_item_id(id))?;
        let Some(e) = &item.equip else {
            return Err(OsrsError::NotEquipment(item.name.clone()));
        };
        // A two-handed weapon fills both hands.
        let fills: &[Slot] = match e.slot {
            Slot::TwoHanded => &[Slot::Weapon, Slot::Shield],
            Slot::Weapon => &[Slot::Weapon],
            Slot::Shield => &[Slot::Shield],
            ref other => std::slice::from_ref(other),
        };
        if fills.iter().any(|s| taken.contains(s)) {
            return Err(OsrsError::SlotTaken(item.name.clone()));
        }
        taken.extend_from_slice(fills);
        for (s, v) in stats.iter_mut().zip(e.stats) {
            *s += v;
        }
        match e.slot {
            Slot::Weapon | Slot::TwoHanded => speed = Some(e.speed),
            Slot::Ammo => ammo = Some(id),
            _ => {}
        }
    }
    Ok(Gear { stats, speed, ammo })
}

/// The game's hit chance from attack and defence rolls.
pub fn hit_chance(attack_roll: f64, defence_roll: f64) -> f64 {
    if attack_roll > defence_roll {
        1.0 - (defence_roll + 2.0) / (2.0 * (attack_roll + 1.0))
    } else {
        attack_roll / (2.0 * (defence_roll + 1.0))
    }
}

/// The game's max hit from an effective level and a strength bonus.
pub fn max_hit(effective_level: u32, strength_bonus: i32) -> u32 {
    let bonus = u32::try_from(strength_bonus + 64).unwrap_or(0);
    (effective_level * bonus + 320) / 640
}

fn roll(level: u32, bonus: i32) -> f64 {
    f64::from(level) * f64::from((bonus + 64).max(0))
}

/// Everything about a combat trip that does not depend on luck, worked out once.
struct CombatPlan<'a> {
    monster: &'a Monster,
    style: CombatStyle,
    /// Ticks per kill, including respawn.
    kill_ticks: f64,
    /// Player attacks per kill.
    attacks: f64,
    /// Expected damage taken per kill.
    damage: f64,
    food: Option<(u32, u32)>,
    /// Items used up per attack: (item, quantity per attack, quantity carried).
    per_attack: Vec<(u32, f64, u64)>,
    on_task: bool,
    /// The drop table rolled: the on-task one when on task and the monster has one.
    table: u32,
}

impl<'a> CombatPlan<'a> {
    fn new(
        data: &GameData,
        character: &Character,
        monster: &'a Monster,
        style: CombatStyle,
        food: Option<u32>,
        on_task: bool,
    ) -> Result<Self, OsrsError> {
        let lvl = |s| u32::from(character.skills.level(s));
        let Gear { stats, speed, ammo } = gear(data, &character.equipment)?;
        let stat = |s: Stat| stats[s as usize];
        let mdef = monster.levels[2] + 9;
        let mut per_attack = Vec::new();
        let (dps_tick, speed) = match style {
            CombatStyle::Melee => {
                // Aggressive stance: +3 invisible Strength levels.
                let eff_att = lvl(Skill::Attack) + 8;
                let hit = f64::from(max_hit(
                    lvl(Skill::Strength) + 11,
                    stat(Stat::MeleeStrength),
                ));
                let best = [
                    (Stat::AttackStab, 0),
                    (Stat::AttackSlash, 1),
                    (Stat::AttackCrush, 2),
                ]
                .into_iter()
                .map(|(s, d)| hit_chance(roll(eff_att, stat(s)), roll(mdef, monster.defence[d])))
                .fold(0.0, f64::max);
                (best * hit / 2.0, speed.unwrap_or(4))
            }
            CombatStyle::Ranged => {
                let Some(speed) = speed else {
                    return Err(missing(data, "Ranged combat", None));
                };
                let Some(ammo) = ammo.filter(|&a| character.inventory.amount(a) > 0) else {
                    return Err(missing(data, "Ranged combat", ammo));
                };
                per_attack.push((ammo, AMMO_LOSS, character.inventory.amount(ammo)));
                // Accurate stance: +3 invisible Ranged levels for accuracy.
                let eff = lvl(Skill::Ranged) + 11;
                let hit = f64::from(max_hit(lvl(Skill::Ranged) + 8, stat(Stat::RangedStrength)));
                let chance = hit_chance(
                    roll(eff, stat(Stat::AttackRanged)),
                    roll(mdef, monster.defence[4]),
                );
                (chance * hit / 2.0, speed)
            }
            CombatStyle::Magic(spell) => {
                let facts = spell.facts();
                for &(rune, qty) in facts.runes {
                    let id = data.item_by_name(rune)?.id;
                    if character.inventory.amount(id) == 0 {
                        return Err(missing(data, facts.name, Some(id)));
                    }
                    per_attack.push((id, f64::from(qty), character.inventory.amount(id)));
                }
                // NPCs defend against magic with their Magic level.
                let eff = lvl(Skill::Magic) + 9;
                let chance = hit_chance(
                    roll(eff, stat(Stat::AttackMagic)),
                    roll(monster.levels[3] + 9, monster.defence[3]),
                );
                // Magic damage bonus is a percentage of the spell's max hit.
                let hit = f64::from(facts.max_hit)
                    * (1.0 + f64::from(stat(Stat::MagicDamage).max(0)) / 100.0);
                (chance * hit.floor() / 2.0, 5)
            }
        };
        let dps_tick = dps_tick / f64::from(speed.max(1));
        if dps_tick <= 0.0 || monster.hitpoints == 0 {
            return Err(OsrsError::CannotDamage {
                monster: monster.name.clone(),
                style: style.name().to_owned(),
            });
        }
        let fight_ticks = f64::from(monster.hitpoints) / dps_tick;
        let damage = monster_dps_tick(character, &stats, monster) * fight_ticks;
        let food = match food {
            Some(id) => Some((id, data.food_heal(id).ok_or(OsrsError::NotFood(id))?)),
            None => None,
        };
        Ok(CombatPlan {
            monster,
            style,
            kill_ticks: fight_ticks + RESPAWN_TICKS,
            attacks: fight_ticks / f64::from(speed.max(1)),
            damage,
            food,
            per_attack,
            on_task,
            table: match monster.on_task_table {
                Some(t) if on_task => t,
                _ => monster.table,
            },
        })
    }

    fn run(
        &self,
        data: &GameData,
        character: &Character,
        amount: Amount,
        rng: &mut impl RngCore,
    ) -> Result<TripOutcome, OsrsError> {
        validate(amount)?;
        let kills = match amount {
            Amount::Count(n) => n,
            Amount::Minutes(m) => {
                // Whole kills that fit; at least one so a short trip still does something.
                ((m as f64 * 60.0 / TICK_SECONDS / self.kill_ticks) as u64).max(1)
            }
        };
        let max_hp = f64::from(character.skills.level(Skill::Hitpoints));
        let mut hp = max_hp;
        let mut food_left = self
            .food
            .map_or(0, |(id, _)| character.inventory.amount(id));
        let mut eaten = 0u64;
        let mut used = vec![0u64; self.per_attack.len()];
        let mut events = Vec::new();
        let mut acc = LootAcc::new(data);
        let mut done = 0u64;
        'kills: while done < kills {
            for (slot, &(id, per, carried)) in used.iter_mut().zip(&self.per_attack) {
                // Cumulative, so fractions of an arrow carry over between kills.
                let needed = ((done + 1) as f64 * self.attacks * per).ceil() as u64;
                if needed > carried {
                    events.push(Event::OutOfSupplies {
                        item: id,
                        completed: done,
                    });
                    break 'kills;
                }
                *slot = needed;
            }
            if self.damage > 0.0 {
                hp -= self.damage;
                let heal = f64::from(self.food.map_or(0, |f| f.1));
                // Eat mid-fight only to stay alive, then top up below half without overhealing.
                while hp <= 0.0 && food_left > 0 {
                    hp = (hp + heal).min(max_hp);
                    food_left -= 1;
                    eaten += 1;
                }
                if hp <= 0.0 {
                    events.push(Event::Died { completed: done });
                    break;
                }
                hp = (hp + self.kill_ticks / REGEN_TICKS).min(max_hp);
                while hp < max_hp / 2.0 && hp + heal <= max_hp && food_left > 0 {
                    hp += heal;
                    food_left -= 1;
                    eaten += 1;
                }
            }
            roll_table(data, self.table, 1, &mut acc, rng);
            done += 1;
        }
        let hp_dealt = done * u64::from(self.monster.hitpoints);
        let mut xp = BTreeMap::new();
        if hp_dealt > 0 {
            match self.style {
                CombatStyle::Melee => {
                    xp.insert(Skill::Strength, hp_dealt * 4);
                }
                CombatStyle::Ranged => {
                    xp.insert(Skill::Ranged, hp_dealt * 4);
                }
                CombatStyle::Magic(spell) => {
                    // Base experience per cast plus 2 per damage.
                    let casts = done as f64 * self.attacks;
                    let base = (casts * spell.facts().xp) as u64;
                    xp.insert(Skill::Magic, base + hp_dealt * 2);
                }
            }
            xp.insert(Skill::Hitpoints, hp_dealt * 4 / 3);
            if self.on_task && self.monster.slayer_xp > 0.0 {
                xp.insert(Skill::Slayer, (done as f64 * self.monster.slayer_xp) as u64);
            }
        }
        let mut consumed = Bank::new();
        if let Some((id, _)) = self.food {
            consumed.add(id, eaten);
        }
        for (&(id, _, _), &n) in self.per_attack.iter().zip(&used) {
            consumed.add(id, n);
        }
        Ok(TripOutcome {
            duration_secs: (done as f64 * self.kill_ticks * TICK_SECONDS).round() as u64,
            completed: done,
            xp,
            loot: acc.into_bank(data),
            consumed,
            events,
        })
    }
}

/// Expected damage per tick the monster deals to the character.
fn monster_dps_tick(character: &Character, stats: &[i32; 14], monster: &Monster) -> f64 {
    if monster.max_hit == 0 {
        return 0.0;
    }
    let lvl = |s| u32::from(character.skills.level(s));
    let (att_level, def_level, def_bonus) = match monster.attack_type.as_str() {
        // Magic defence uses 70% Magic and 30% Defence.
        "magic" => (
            monster.levels[3],
            (lvl(Skill::Magic) * 7 + lvl(Skill::Defence) * 3) / 10,
            stats[Stat::DefenceMagic as usize],
        ),
        "ranged" => (
            monster.levels[4],
            lvl(Skill::Defence),
            stats[Stat::DefenceRanged as usize],
        ),
        "stab" => (
            monster.levels[0],
            lvl(Skill::Defence),
            stats[Stat::DefenceStab as usize],
        ),
        "slash" => (
            monster.levels[0],
            lvl(Skill::Defence),
            stats[Stat::DefenceSlash as usize],
        ),
        _ => (
            monster.levels[0],
            lvl(Skill::Defence),
            stats[Stat::DefenceCrush as usize],
        ),
    };
    let chance = hit_chance(
        roll(att_level + 9, monster.attack_bonus),
        roll(def_level + 9, def_bonus),
    );
    chance * f64::from(monster.max_hit) / 2.0 / f64::from(monster.attack_speed.max(1))
}

fn missing(data: &GameData, activity: &str, item: Option<u32>) -> OsrsError {
    OsrsError::MissingSupplies {
        activity: activity.to_owned(),
        item: item
            .and_then(|id| data.item(id))
            .map_or_else(|| "a weapon and ammunition".to_owned(), |i| i.name.clone()),
    }
}

/// Actions per hour at `level` for `activity`, before tools.
pub fn base_rate(activity: &Activity, level: u8) -> f64 {
    let span = f64::from(MAX_LEVEL.saturating_sub(activity.level));
    if span == 0.0 {
        return activity.hi;
    }
    let progress = f64::from(level.saturating_sub(activity.level)).min(span) / span;
    activity.lo + (activity.hi - activity.lo) * progress
}

fn skilling(
    data: &GameData,
    character: &Character,
    activity: &Activity,
    amount: Amount,
    rng: &mut impl RngCore,
) -> Result<TripOutcome, OsrsError> {
    validate(amount)?;
    let has = |id: u32| character.equipment.contains(&id) || character.inventory.amount(id) > 0;
    let tool = if activity.tools.is_empty() {
        1.0
    } else {
        activity
            .tools
            .iter()
            .filter(|(id, _)| has(*id))
            .map(|(_, m)| *m)
            .fold(None, |best: Option<f64>, m| {
                Some(best.map_or(m, |b| b.max(m)))
            })
            .ok_or_else(|| missing(data, &activity.name, Some(activity.tools[0].0)))?
    };
    let per_hour = base_rate(activity, character.skills.level(activity.skill)) * tool;
    let mut actions = match amount {
        Amount::Count(n) => n,
        Amount::Minutes(m) => {
            let expected = per_hour * m as f64 / 60.0;
            // One roll settles the fractional action, so the mean stays exact.
            let whole = expected.floor();
            whole as u64 + u64::from(unit(rng) < expected - whole)
        }
    };
    let mut events = Vec::new();
    let mut consumed = Bank::new();
    if let Some(id) = activity.consumes {
        let have = character.inventory.amount(id);
        if have == 0 {
            return Err(missing(data, &activity.name, Some(id)));
        }
        if actions > have {
            actions = have;
            events.push(Event::OutOfSupplies {
                item: id,
                completed: have,
            });
        }
        consumed.add(id, actions);
    }
    let mut loot = Bank::new();
    if let Some(id) = activity.product {
        loot.add(id, actions);
    }
    let mut xp = BTreeMap::new();
    if actions > 0 {
        xp.insert(activity.skill, (actions as f64 * activity.xp) as u64);
    }
    Ok(TripOutcome {
        duration_secs: (actions as f64 * 3600.0 / per_hour).round() as u64,
        completed: actions,
        xp,
        loot,
        consumed,
        events,
    })
}

/// Rolls one monster's drop table `kills` times and returns the loot; no combat model.
pub fn roll_kills(data: &GameData, monster: &Monster, kills: u64, rng: &mut impl RngCore) -> Bank {
    let mut acc = LootAcc::new(data);
    for _ in 0..kills {
        roll_table(data, monster.table, 1, &mut acc, rng);
    }
    acc.into_bank(data)
}
