//! The Gen 9 damage formula, modifier for modifier as the games (and @smogon/calc) apply it.
//!
//! Every step works on integers with the games' 4096-based fixed-point modifiers and their
//! "round half down" rounding, so results match Showdown's calculator exactly for the
//! supported abilities, items, moves and conditions (see `tests/differential.rs`).

use crate::data::{Category, Move, Special, Species, Status, flags};
use crate::effects::{Ability, Item, Weather};
use crate::error::Error;
use crate::stats::{StatTable, boosted};
use crate::types::Type;

/// One side of a damage calculation: a Pokémon as it stands on the field.
#[derive(Debug, Clone)]
pub struct Combatant {
    pub species: &'static Species,
    pub level: u8,
    /// Unboosted stats.
    pub stats: StatTable<u16>,
    /// Stages for atk, def, spa, spd, spe.
    pub boosts: [i8; 5],
    pub ability: Ability,
    pub item: Item,
    pub status: Option<Status>,
    pub hp: u16,
}

impl Combatant {
    fn types(&self) -> &[Type] {
        self.species.types()
    }

    fn max_hp(&self) -> u16 {
        self.stats.0[0]
    }
}

/// Conditions on the field for one attack; screens are the defender's side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Conditions {
    pub weather: Option<Weather>,
    pub reflect: bool,
    pub light_screen: bool,
    pub crit: bool,
}

/// The attack's result before the random roll, so a battle can roll once cheaply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prepared {
    /// Immune, absorbed or otherwise unaffected.
    NoEffect,
    /// Damage that ignores the formula (Seismic Toss, Dragon Rage...).
    Fixed(u16),
    Formula {
        base: u32,
        /// Type effectiveness in quarters (4 = neutral).
        eff_quarters: u8,
        stab: u32,
        burn: bool,
        final_mod: u32,
        crit: bool,
    },
}

impl Prepared {
    /// Damage for random roll `i` (0..16, i.e. 85 % to 100 %).
    pub fn roll(&self, i: u8) -> u16 {
        match *self {
            Prepared::NoEffect => 0,
            Prepared::Fixed(d) => d,
            Prepared::Formula {
                base,
                eff_quarters,
                stab,
                burn,
                final_mod,
                ..
            } => {
                let mut d = of32(u64::from(base) * (85 + u64::from(i))) / 100;
                if stab != 4096 {
                    d = round_4096(of32(d * u64::from(stab)));
                }
                d = of32(d * u64::from(eff_quarters)) / 4;
                if burn {
                    d /= 2;
                }
                let n = of32(d * u64::from(final_mod));
                let d = if n < 4096 { 1 } else { round_4096(n) };
                (d % 65536) as u16
            }
        }
    }

    /// All 16 rolls, lowest first.
    pub fn rolls(&self) -> [u16; 16] {
        std::array::from_fn(|i| self.roll(i as u8))
    }

    pub fn effectiveness_quarters(&self) -> u8 {
        match self {
            Prepared::NoEffect => 0,
            Prepared::Fixed(_) => 4,
            Prepared::Formula { eff_quarters, .. } => *eff_quarters,
        }
    }

    pub fn is_crit(&self) -> bool {
        matches!(self, Prepared::Formula { crit: true, .. })
    }
}

fn of32(n: u64) -> u64 {
    n % (1 << 32)
}

/// `n / 4096` rounded the games' way: halves round down.
fn round_4096(n: u64) -> u64 {
    // Adding 2047 carries into the quotient exactly when the remainder exceeds 2048.
    (n + 2047) >> 12
}

/// 4096-based modifiers chained the way the games do: each one rounds the running product, so
/// the order of `push` matters. The product is kept as it goes rather than collecting a list.
struct Mods(u32);

impl Mods {
    fn new() -> Mods {
        Mods(4096)
    }

    fn push(&mut self, x: u32) {
        if x != 4096 {
            self.0 = (self.0 * x + 2048) >> 12;
        }
    }

    /// The chained modifier, clamped to the given bounds.
    fn chain(&self, lo: u32, hi: u32) -> u32 {
        self.0.clamp(lo, hi)
    }

    /// Applies the chain to a stat or power: `max(1, round(v * m / 4096))`, 16-bit.
    fn apply(&self, v: u32, lo: u32, hi: u32) -> u32 {
        let r = round_4096(u64::from(v) * u64::from(self.chain(lo, hi))).max(1);
        (r % 65536) as u32
    }
}

/// Moves whose power or type depends on something the engine does not model; they are refused
/// rather than guessed.
pub fn is_variable_power(m: &Move) -> bool {
    m.has(flags::UNMODELLED)
        || (m.category != Category::Status
            && m.power == 0
            && !m.has(flags::FIXED)
            && !matches!(
                m.special,
                Special::LowKick | Special::HeavySlam | Special::Flail
            ))
}

fn poisoned(c: &Combatant) -> bool {
    matches!(c.status, Some(Status::Poison | Status::Toxic))
}

/// The move's type after Weather Ball's change.
fn move_type(mv: &Move, cond: Conditions) -> Type {
    if mv.special == Special::WeatherBall {
        match cond.weather {
            Some(Weather::Sun) => Type::Fire,
            Some(Weather::Rain) => Type::Water,
            Some(Weather::Sand) => Type::Rock,
            Some(Weather::Snow) => Type::Ice,
            None => Type::Normal,
        }
    } else {
        mv.move_type
    }
}

/// Base power before modifiers, for the moves whose power depends on the situation.
fn base_power(att: &Combatant, def: &Combatant, mv: &Move, cond: Conditions) -> u32 {
    let bp = u32::from(mv.power);
    let doubled = |yes: bool| if yes { bp * 2 } else { bp };
    let hp = u32::from(att.hp);
    let max = u32::from(att.max_hp()).max(1);
    match mv.special {
        Special::Acrobatics => doubled(att.item == Item::None),
        Special::BarbBarrage => doubled(poisoned(def)),
        Special::Hex => doubled(def.status.is_some()),
        Special::WakeUpSlap => doubled(def.status == Some(Status::Sleep)),
        Special::SmellingSalts => doubled(def.status == Some(Status::Paralysis)),
        Special::WeatherBall => doubled(cond.weather.is_some()),
        Special::Eruption => (150 * hp / max).max(1),
        Special::Flail => match 48 * hp / max {
            0..=1 => 200,
            2..=4 => 150,
            5..=9 => 100,
            10..=16 => 80,
            17..=32 => 40,
            _ => 20,
        },
        Special::StoredPower => {
            let ups: u32 = att
                .boosts
                .iter()
                .map(|&b| u32::from(b.max(0).unsigned_abs()))
                .sum();
            20 + 20 * ups
        }
        Special::LowKick => match def.species.weight_hg {
            2000.. => 120,
            1000..=1999 => 100,
            500..=999 => 80,
            250..=499 => 60,
            100..=249 => 40,
            _ => 20,
        },
        Special::HeavySlam => {
            let (a, d) = (
                u32::from(att.species.weight_hg),
                u32::from(def.species.weight_hg).max(1),
            );
            match a {
                _ if a >= 5 * d => 120,
                _ if a >= 4 * d => 100,
                _ if a >= 3 * d => 80,
                _ if a >= 2 * d => 60,
                _ => 40,
            }
        }
        _ => bp,
    }
}

/// Prepares the damage of `mv` used by `att` on `def`.
pub fn prepare(
    att: &Combatant,
    def: &Combatant,
    mv: &Move,
    cond: &Conditions,
) -> Result<Prepared, Error> {
    if mv.category == Category::Status {
        return Ok(Prepared::NoEffect);
    }
    if is_variable_power(mv) {
        return Err(Error::Invalid(format!(
            "{} depends on something the engine does not model",
            mv.name
        )));
    }
    let special = mv.special;
    let mt = move_type(mv, *cond);
    let def_ability = effective_def_ability(att, def, mv);
    let Some(eff) = effectiveness(att, def, def_ability, mv, mt) else {
        return Ok(Prepared::NoEffect);
    };
    let crit = (cond.crit || mv.has(flags::ALWAYS_CRIT))
        && !matches!(def_ability, Ability::BattleArmor | Ability::ShellArmor);
    if mv.has(flags::FIXED) {
        return Ok(Prepared::Fixed(fixed_damage(mv, att, def)));
    }

    let physical = mv.category == Category::Physical;
    let hits_def = physical || mv.has(flags::HITS_DEF);
    let screens_broken = special == Special::BreaksScreens;

    // Base power.
    let power = base_power(att, def, mv, *cond);
    let mut bp_mods = Mods::new();
    let aa = att.ability;
    let doubled = match special {
        Special::Facade => matches!(
            att.status,
            Some(Status::Burn | Status::Paralysis | Status::Poison | Status::Toxic)
        ),
        Special::Brine => u32::from(def.hp) * 2 <= u32::from(def.max_hp()),
        Special::Venoshock => poisoned(def),
        _ => false,
    };
    if doubled {
        bp_mods.push(8192);
    } else if special == Special::KnockOff && def.item != Item::None {
        bp_mods.push(6144);
    } else if special == Special::SolarBeam
        && matches!(
            cond.weather,
            Some(Weather::Rain | Weather::Sand | Weather::Snow)
        )
    {
        bp_mods.push(2048);
    } else if special == Special::CollisionCourse && eff >= 8 {
        bp_mods.push(5461);
    }
    // Each ability, and each item, has one modifier here: one `match` per holder finds it
    // (4096, the identity, when none applies) in place of a compare per ability.
    bp_mods.push(match aa {
        Ability::Technician if power <= 60 => 6144,
        Ability::MegaLauncher if mv.has(flags::PULSE) => 6144,
        Ability::StrongJaw if mv.has(flags::BITE) => 6144,
        Ability::Sharpness if mv.has(flags::SLICING) => 6144,
        Ability::SandForce
            if cond.weather == Some(Weather::Sand)
                && matches!(mt, Type::Rock | Type::Ground | Type::Steel) =>
        {
            5325
        }
        Ability::ToughClaws if mv.has(flags::CONTACT) => 5325,
        Ability::Reckless if mv.recoil.is_some() || mv.has(flags::CRASH) => 4915,
        Ability::IronFist if mv.has(flags::PUNCH) => 4915,
        _ => 4096,
    });
    if def_ability == Ability::DrySkin && mt == Type::Fire {
        bp_mods.push(5120);
    }
    match att.item {
        Item::TypeBoost(t) if t == mt => bp_mods.push(4915),
        Item::MuscleBand if physical => bp_mods.push(4505),
        Item::WiseGlasses if !physical => bp_mods.push(4505),
        _ => {}
    }
    let bp = bp_mods.apply(power, 41, 2_097_152);

    // Attack: Body Press uses the user's Defense, Foul Play the target's Attack.
    let (source, a_idx, raw_a) = match special {
        Special::BodyPress => (att, 1, att.stats.0[2]),
        Special::FoulPlay => (def, 0, def.stats.0[1]),
        _ if physical => (att, 0, att.stats.0[1]),
        _ => (att, 2, att.stats.0[3]),
    };
    let a_boost = source.boosts[a_idx];
    let mut attack = if a_boost == 0 || (crit && a_boost < 0) || def_ability == Ability::Unaware {
        u32::from(raw_a)
    } else {
        u32::from(boosted(raw_a, a_boost))
    };
    if aa == Ability::Hustle && physical {
        attack = attack * 3 / 2;
    }
    let mut at_mods = Mods::new();
    let pinch = u32::from(att.hp) * 3 <= u32::from(att.max_hp());
    // One attacker-ability modifier at most, as the games chain them with else-ifs; every
    // x1.5 ability is folded into one test.
    at_mods.push(match (aa, mt) {
        (Ability::SolarPower, _) if cond.weather == Some(Weather::Sun) && !physical => 6144,
        (Ability::GorillaTactics, _) if physical => 6144,
        (Ability::Guts, _) if att.status.is_some() && physical => 6144,
        (Ability::Overgrow, Type::Grass)
        | (Ability::Blaze, Type::Fire)
        | (Ability::Torrent, Type::Water)
        | (Ability::Swarm, Type::Bug)
            if pinch =>
        {
            6144
        }
        (Ability::Steelworker, Type::Steel)
        | (Ability::DragonsMaw, Type::Dragon)
        | (Ability::RockyPayload, Type::Rock) => 6144,
        (Ability::Transistor, Type::Electric) => 5325,
        (Ability::WaterBubble, Type::Water) => 8192,
        (Ability::HugePower | Ability::PurePower, _) if physical => 8192,
        _ => 4096,
    });
    at_mods.push(match (def_ability, mt) {
        (Ability::ThickFat, Type::Fire | Type::Ice)
        | (Ability::WaterBubble | Ability::Heatproof, Type::Fire)
        | (Ability::PurifyingSalt, Type::Ghost) => 2048,
        _ => 4096,
    });
    let sp = att.species.num;
    at_mods.push(match att.item {
        Item::ThickClub if matches!(sp, 104 | 105) && physical => 8192,
        Item::LightBall if sp == 25 => 8192,
        Item::ChoiceBand if physical => 6144,
        Item::ChoiceSpecs if !physical => 6144,
        _ => 4096,
    });
    let attack = at_mods.apply(attack, 410, 131_072);

    // Defense.
    let (d_idx, raw_d) = if hits_def {
        (1, def.stats.0[2])
    } else {
        (3, def.stats.0[4])
    };
    let d_boost = def.boosts[d_idx];
    let mut defense = if d_boost == 0
        || (crit && d_boost > 0)
        || mv.has(flags::IGNORE_DEF_BOOSTS)
        || aa == Ability::Unaware
    {
        u32::from(raw_d)
    } else {
        u32::from(boosted(raw_d, d_boost))
    };
    if (cond.weather == Some(Weather::Sand) && def.species.has_type(Type::Rock) && !hits_def)
        || (cond.weather == Some(Weather::Snow) && def.species.has_type(Type::Ice) && hits_def)
    {
        defense = defense * 3 / 2;
    }
    let mut df_mods = Mods::new();
    df_mods.push(match def_ability {
        Ability::MarvelScale if def.status.is_some() && hits_def => 6144,
        Ability::FurCoat if hits_def => 8192,
        _ => 4096,
    });
    df_mods.push(match def.item {
        Item::Eviolite if def.species.nfe => 6144,
        Item::AssaultVest if !hits_def => 6144,
        _ => 4096,
    });
    let defense = df_mods.apply(defense, 410, 131_072);

    // Base damage.
    let level = u64::from(att.level);
    let mut base = of32(of32((2 * level / 5 + 2) * u64::from(bp)) * u64::from(attack))
        / u64::from(defense)
        / 50
        + 2;
    match (cond.weather, mt) {
        (Some(Weather::Sun), _) if special == Special::HydroSteam => {
            base = round_4096(of32(base * 6144));
        }
        (Some(Weather::Sun), Type::Fire) | (Some(Weather::Rain), Type::Water) => {
            base = round_4096(of32(base * 6144));
        }
        (Some(Weather::Sun), Type::Water) | (Some(Weather::Rain), Type::Fire) => {
            base = round_4096(of32(base * 2048));
        }
        _ => {}
    }
    if crit {
        base = of32(base * 3) / 2;
    }

    let mut stab = 4096;
    if att.species.has_type(mt) {
        stab += 2048;
        if aa == Ability::Adaptability {
            stab += 2048;
        }
    }
    let burn = att.status == Some(Status::Burn)
        && physical
        && aa != Ability::Guts
        && special != Special::Facade;

    let mut fin = Mods::new();
    if ((cond.reflect && physical) || (cond.light_screen && !physical)) && !crit && !screens_broken
    {
        fin.push(2048);
    }
    fin.push(match aa {
        Ability::Sniper if crit => 6144,
        Ability::TintedLens if eff < 4 => 8192,
        _ => 4096,
    });
    match def_ability {
        Ability::Multiscale | Ability::ShadowShield if def.hp == def.max_hp() => fin.push(2048),
        Ability::IceScales if !physical => fin.push(2048),
        Ability::SolidRock | Ability::Filter | Ability::PrismArmor if eff > 4 => fin.push(3072),
        // Fluffy halves contact and doubles Fire, two modifiers in this order.
        Ability::Fluffy => {
            if mv.has(flags::CONTACT) {
                fin.push(2048);
            }
            if mt == Type::Fire {
                fin.push(8192);
            }
        }
        _ => {}
    }
    fin.push(match att.item {
        Item::ExpertBelt if eff > 4 => 4915,
        Item::LifeOrb => 5324,
        _ => 4096,
    });
    Ok(Prepared::Formula {
        base: base as u32,
        eff_quarters: eff,
        stab,
        burn,
        final_mod: fin.chain(41, 131_072),
        crit,
    })
}

fn effective_def_ability(att: &Combatant, def: &Combatant, mv: &Move) -> Ability {
    let breaks = att.ability.breaks_abilities() || mv.special == Special::IgnoresAbility;
    if breaks && def.ability.breakable() {
        Ability::Other
    } else {
        def.ability
    }
}

/// Type effectiveness in quarters, or `None` when the move cannot affect the target at all
/// (type or ability immunity, Air Balloon against Ground, a move that fails on this target).
fn effectiveness(
    att: &Combatant,
    def: &Combatant,
    def_ability: Ability,
    mv: &Move,
    mt: Type,
) -> Option<u8> {
    let scrappy = att.ability == Ability::Scrappy && matches!(mt, Type::Normal | Type::Fighting);
    let mut eff: u8 = if scrappy || matches!(mv.special, Special::FreezeDry | Special::FlyingPress)
    {
        def.types()
            .iter()
            .map(|&t| {
                if scrappy && t == Type::Ghost {
                    2
                } else if mv.special == Special::FreezeDry && t == Type::Water {
                    4
                } else if mv.special == Special::FlyingPress {
                    mt.halves_against(t) * Type::Flying.halves_against(t) / 2
                } else {
                    mt.halves_against(t)
                }
            })
            .fold(4u8, |acc, h| acc * h / 2)
    } else {
        // The usual case: the chart alone.
        mt.quarters_against(def.types())
    };
    let arrows = mv.special == Special::ThousandArrows;
    if eff == 0 && arrows {
        eff = 4;
    }
    if eff == 0 {
        return None;
    }
    let fails = match mv.special {
        Special::SkyDrop => def.species.has_type(Type::Flying) || def.species.weight_hg >= 2000,
        Special::Synchronoise => !att.types().iter().any(|&t| def.species.has_type(t)),
        Special::DreamEater => def.status != Some(Status::Sleep),
        // Needs a terrain, which the engine does not model.
        Special::SteelRoller => true,
        Special::Poltergeist => def.item == Item::None,
        _ => false,
    };
    let immune = match def_ability {
        Ability::WonderGuard => eff <= 4,
        Ability::SapSipper => mt == Type::Grass,
        Ability::FlashFire => mt == Type::Fire,
        Ability::DrySkin | Ability::StormDrain | Ability::WaterAbsorb => mt == Type::Water,
        Ability::LightningRod | Ability::MotorDrive | Ability::VoltAbsorb => mt == Type::Electric,
        Ability::Levitate => mt == Type::Ground && !arrows,
        Ability::EarthEater => mt == Type::Ground,
        Ability::Bulletproof => mv.has(flags::BULLET),
        Ability::Soundproof => mv.has(flags::SOUND),
        _ => false,
    };
    if fails || immune || (mt == Type::Ground && !arrows && def.item == Item::AirBalloon) {
        return None;
    }
    Some(eff)
}

/// Whether `mv` would do nothing to `def` (checked before accuracy, as the games do).
pub fn has_no_effect(att: &Combatant, def: &Combatant, mv: &Move) -> bool {
    mv.category == Category::Status
        || is_variable_power(mv)
        || effectiveness(
            att,
            def,
            effective_def_ability(att, def, mv),
            mv,
            move_type(mv, Conditions::default()),
        )
        .is_none()
}

fn fixed_damage(mv: &Move, att: &Combatant, def: &Combatant) -> u16 {
    match mv.special {
        Special::LevelDamage => u16::from(att.level),
        Special::DragonRage => 40,
        Special::SonicBoom => 20,
        // One-hit KO moves.
        _ => def.hp,
    }
}

/// The 16 possible damage values of one hit.
pub fn damage_rolls(
    att: &Combatant,
    def: &Combatant,
    mv: &Move,
    cond: &Conditions,
) -> Result<[u16; 16], Error> {
    Ok(prepare(att, def, mv, cond)?.rolls())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_helpers() {
        assert_eq!(round_4096(4096 + 2048), 1);
        assert_eq!(round_4096(4096 + 2049), 2);
        for n in (0..5 * 4096).chain(u64::from(u32::MAX) - 4096..u64::from(u32::MAX) + 4096) {
            let (q, r) = (n / 4096, n % 4096);
            assert_eq!(round_4096(n), if r > 2048 { q + 1 } else { q }, "{n}");
        }
        let chain = |mods: &[u32]| {
            let mut m = Mods::new();
            for &x in mods {
                m.push(x);
            }
            m.chain(41, 131_072)
        };
        assert_eq!(chain(&[6144, 6144]), 9216);
        assert_eq!(chain(&[5324]), 5324);
    }
}
