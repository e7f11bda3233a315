//! The embedded data tables (`data/*.tsv`, made by `gen/generate.mjs`), parsed once on first use.
//!
//! The files are tab-separated text rather than generated Rust so the crate compiles fast; all
//! strings borrow from the embedded text, so parsing allocates only the lookup tables.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::error::Error;
use crate::id;
use crate::stats::{Stat, StatTable};
use crate::types::Type;
use crate::xp::GrowthRate;

/// Attack category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Physical,
    Special,
    Status,
}

/// Gender ratio as the games store it: `None` for genderless, else the chance of female in eighths.
pub type FemaleEighths = Option<u8>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeOfDay {
    Day,
    Dusk,
    Night,
}

/// How a species evolves from its pre-evolution (Showdown's `evoType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvolutionKind {
    Level,
    LevelFriendship,
    LevelHold,
    LevelMove,
    /// Level up with a condition the engine does not model (stats, party, location...).
    LevelExtra,
    UseItem,
    Trade,
    /// A method specific to one species (e.g. Galarian Farfetch'd's three critical hits).
    Other,
}

/// The method that turns `prevo` into this species.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evolution {
    pub kind: EvolutionKind,
    /// Minimum level; 0 when the method has none.
    pub level: u8,
    /// Evolution stone (`UseItem`), held item (`LevelHold`, `Trade`) or `None`.
    pub item: Option<&'static str>,
    pub time: Option<TimeOfDay>,
    /// Move the Pokémon must know (`LevelMove`), by move number.
    pub known_move: Option<u16>,
    /// Showdown's free-text condition, kept for display.
    pub condition: &'static str,
}

#[derive(Debug, Clone)]
pub struct Species {
    pub num: u16,
    pub name: &'static str,
    pub types: [Type; 2],
    /// 1 or 2: `types[1]` repeats `types[0]` for single-typed species.
    pub type_count: u8,
    pub base_stats: StatTable<u16>,
    /// Slot 0, slot 1, hidden.
    pub abilities: [Option<&'static str>; 3],
    pub growth_rate: GrowthRate,
    pub catch_rate: u8,
    pub female_eighths: FemaleEighths,
    pub base_friendship: u8,
    /// Weight in hectograms.
    pub weight_hg: u16,
    /// Not fully evolved (Eviolite works).
    pub nfe: bool,
    pub prevo: Option<u16>,
    pub evos: Vec<u16>,
    pub evolution: Option<Evolution>,
}

impl Species {
    pub fn types(&self) -> &[Type] {
        &self.types[..self.type_count as usize]
    }

    pub fn has_type(&self, t: Type) -> bool {
        // Both slots always hold a type (see `type_count`), so no slice is needed.
        self.types[0] == t || self.types[1] == t
    }
}

/// Bit flags of a move that abilities and items read.
pub mod flags {
    pub const CONTACT: u16 = 1;
    pub const PUNCH: u16 = 1 << 1;
    pub const BITE: u16 = 1 << 2;
    pub const PULSE: u16 = 1 << 3;
    pub const SLICING: u16 = 1 << 4;
    pub const SOUND: u16 = 1 << 5;
    pub const BULLET: u16 = 1 << 6;
    pub const WIND: u16 = 1 << 7;
    /// Psyshock and friends: special, but hits Defense.
    pub const HITS_DEF: u16 = 1 << 8;
    /// Ignores the target's defensive boosts.
    pub const IGNORE_DEF_BOOSTS: u16 = 1 << 9;
    pub const ALWAYS_CRIT: u16 = 1 << 10;
    pub const CRASH: u16 = 1 << 11;
    pub const CHARGE: u16 = 1 << 12;
    pub const RECHARGE: u16 = 1 << 13;
    /// Fixed damage or one-hit KO: the damage formula does not apply.
    pub const FIXED: u16 = 1 << 14;
    /// Power or type depends on something the engine does not model: refused.
    pub const UNMODELLED: u16 = 1 << 15;
}

/// A major status condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Burn,
    Freeze,
    Paralysis,
    Poison,
    Toxic,
    Sleep,
}

impl Status {
    pub fn parse(s: &str) -> Result<Status, Error> {
        Ok(match id(s).as_str() {
            "brn" | "burn" | "burned" => Status::Burn,
            "frz" | "freeze" | "frozen" => Status::Freeze,
            "par" | "paralysis" | "paralyzed" => Status::Paralysis,
            "psn" | "poison" | "poisoned" => Status::Poison,
            "tox" | "toxic" | "badlypoisoned" => Status::Toxic,
            "slp" | "sleep" | "asleep" => Status::Sleep,
            _ => return Err(Error::UnknownStatus(s.to_owned())),
        })
    }
}

/// Stage changes to atk, def, spa, spd, spe, accuracy, evasion.
pub type BoostChange = [i8; 7];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secondary {
    /// Percent chance.
    pub chance: u8,
    pub status: Option<Status>,
    pub flinch: bool,
    pub confusion: bool,
    pub target_boosts: Option<BoostChange>,
    pub self_boosts: Option<BoostChange>,
}

/// Moves with their own damage rule, resolved from the name once at load so the damage
/// formula never compares strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    None,
    /// x2 without a held item.
    Acrobatics,
    /// x2 on a poisoned target.
    BarbBarrage,
    /// Hex, Infernal Parade: x2 on a target with a status.
    Hex,
    WakeUpSlap,
    SmellingSalts,
    WeatherBall,
    /// Eruption, Water Spout, Dragon Energy: power scales with the user's HP.
    Eruption,
    /// Flail, Reversal.
    Flail,
    /// Stored Power, Power Trip.
    StoredPower,
    /// Low Kick, Grass Knot: power from the target's weight.
    LowKick,
    /// Heavy Slam, Heat Crash: power from the weight ratio.
    HeavySlam,
    Facade,
    Brine,
    Venoshock,
    KnockOff,
    /// Solar Beam, Solar Blade: halved in rain, sand and snow.
    SolarBeam,
    /// Collision Course, Electro Drift: x5461/4096 when super effective.
    CollisionCourse,
    /// Brick Break, Psychic Fangs, Raging Bull ignore Reflect and Light Screen.
    BreaksScreens,
    FreezeDry,
    FlyingPress,
    DreamEater,
    Poltergeist,
    SteelRoller,
    SkyDrop,
    Synchronoise,
    ThousandArrows,
    BodyPress,
    FoulPlay,
    HydroSteam,
    /// Moongeist Beam, Sunsteel Strike ignore the target's ability.
    IgnoresAbility,
    Struggle,
    /// Seismic Toss, Night Shade: damage equal to the user's level.
    LevelDamage,
    DragonRage,
    SonicBoom,
}

impl Special {
    fn of(name: &str) -> Special {
        match name {
            "Acrobatics" => Special::Acrobatics,
            "Barb Barrage" => Special::BarbBarrage,
            "Hex" | "Infernal Parade" => Special::Hex,
            "Wake-Up Slap" => Special::WakeUpSlap,
            "Smelling Salts" => Special::SmellingSalts,
            "Weather Ball" => Special::WeatherBall,
            "Eruption" | "Water Spout" | "Dragon Energy" => Special::Eruption,
            "Flail" | "Reversal" => Special::Flail,
            "Stored Power" | "Power Trip" => Special::StoredPower,
            "Low Kick" | "Grass Knot" => Special::LowKick,
            "Heavy Slam" | "Heat Crash" => Special::HeavySlam,
            "Facade" => Special::Facade,
            "Brine" => Special::Brine,
            "Venoshock" => Special::Venoshock,
            "Knock Off" => Special::KnockOff,
            "Solar Beam" | "Solar Blade" => Special::SolarBeam,
            "Collision Course" | "Electro Drift" => Special::CollisionCourse,
            "Brick Break" | "Psychic Fangs" | "Raging Bull" => Special::BreaksScreens,
            "Freeze-Dry" => Special::FreezeDry,
            "Flying Press" => Special::FlyingPress,
            "Dream Eater" => Special::DreamEater,
            "Poltergeist" => Special::Poltergeist,
            "Steel Roller" => Special::SteelRoller,
            "Sky Drop" => Special::SkyDrop,
            "Synchronoise" => Special::Synchronoise,
            "Thousand Arrows" => Special::ThousandArrows,
            "Body Press" => Special::BodyPress,
            "Foul Play" => Special::FoulPlay,
            "Hydro Steam" => Special::HydroSteam,
            "Moongeist Beam" | "Sunsteel Strike" => Special::IgnoresAbility,
            "Struggle" => Special::Struggle,
            "Seismic Toss" | "Night Shade" => Special::LevelDamage,
            "Dragon Rage" => Special::DragonRage,
            "Sonic Boom" => Special::SonicBoom,
            _ => Special::None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Move {
    pub num: u16,
    pub name: &'static str,
    pub move_type: Type,
    pub category: Category,
    pub power: u16,
    /// `None` never misses.
    pub accuracy: Option<u8>,
    pub pp: u8,
    pub priority: i8,
    pub flags: u16,
    /// Critical-hit stage bonus + 1 (Showdown's `critRatio`).
    pub crit_ratio: u8,
    pub target: &'static str,
    pub secondary: Option<Secondary>,
    /// Status a status move inflicts.
    pub status: Option<Status>,
    /// Stage changes a status move applies to the target.
    pub target_boosts: Option<BoostChange>,
    /// Stage changes applied to the user (status move or after an attack).
    pub self_boosts: Option<BoostChange>,
    pub drain: Option<(u8, u8)>,
    pub recoil: Option<(u8, u8)>,
    /// Fraction of max HP healed by a status move.
    pub heal: Option<(u8, u8)>,
    pub multihit: Option<(u8, u8)>,
    pub volatile: &'static str,
    pub special: Special,
}

impl Move {
    pub fn has(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nature {
    pub index: u8,
    pub name: &'static str,
    pub plus: Option<Stat>,
    pub minus: Option<Stat>,
}

impl Nature {
    /// The nature's effect on `stat` in tenths: 11, 10 or 9.
    pub fn tenths(self, stat: Stat) -> u16 {
        if self.plus == self.minus {
            10
        } else if self.plus == Some(stat) {
            11
        } else if self.minus == Some(stat) {
            9
        } else {
            10
        }
    }
}

/// One level-up move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelMove {
    /// 0 means "learned on evolution".
    pub level: u8,
    pub move_num: u16,
}

/// The whole data set.
pub struct Dex {
    species: Vec<Species>,
    species_by_id: HashMap<String, u16>,
    moves: Vec<Move>,
    /// Index into `moves` by move number (`u16::MAX` for none); battles look moves up per turn.
    moves_by_num: Vec<u16>,
    moves_by_id: HashMap<String, usize>,
    natures: Vec<Nature>,
    learnsets: Vec<Vec<LevelMove>>,
}

/// The embedded data, parsed on first use.
pub fn dex() -> &'static Dex {
    static DEX: OnceLock<Dex> = OnceLock::new();
    DEX.get_or_init(Dex::parse_embedded)
}

fn num<T: std::str::FromStr>(s: &str) -> T {
    s.parse()
        .unwrap_or_else(|_| panic!("embedded data: bad number {s:?}"))
}

fn opt_str(s: &'static str) -> Option<&'static str> {
    (!s.is_empty()).then_some(s)
}

fn boosts(s: &str) -> Option<BoostChange> {
    if s.is_empty() {
        return None;
    }
    let mut out = [0i8; 7];
    for (slot, v) in out.iter_mut().zip(s.split(',')) {
        *slot = num(v);
    }
    Some(out)
}

fn fraction(s: &str) -> Option<(u8, u8)> {
    let (a, b) = s.split_once('/')?;
    Some((num(a), num(b)))
}

fn typ(s: &str) -> Type {
    Type::parse(s).expect("embedded data: bad type")
}

fn stat_named(s: &str) -> Option<Stat> {
    match s {
        "atk" => Some(Stat::Atk),
        "def" => Some(Stat::Def),
        "spa" => Some(Stat::Spa),
        "spd" => Some(Stat::Spd),
        "spe" => Some(Stat::Spe),
        _ => None,
    }
}

impl Dex {
    // The embedded files are produced by our generator; a malformed one is a build defect,
    // so parsing panics instead of threading errors through every lookup.
    fn parse_embedded() -> Dex {
        let species = include_str!("../data/species.tsv")
            .lines()
            .map(parse_species)
            .collect::<Vec<_>>();
        let species_by_id = species.iter().map(|s| (id(s.name), s.num)).collect();
        let moves = include_str!("../data/moves.tsv")
            .lines()
            .map(parse_move)
            .collect::<Vec<_>>();
        let max_num = moves.iter().map(|m| usize::from(m.num)).max().unwrap_or(0);
        let mut moves_by_num = vec![u16::MAX; max_num + 1];
        for (i, m) in moves.iter().enumerate() {
            moves_by_num[usize::from(m.num)] = i as u16;
        }
        let moves_by_id = moves
            .iter()
            .enumerate()
            .map(|(i, m)| (id(m.name), i))
            .collect();
        let natures = include_str!("../data/natures.tsv")
            .lines()
            .enumerate()
            .map(|(i, line)| {
                let f: Vec<&'static str> = line.split('\t').collect();
                Nature {
                    index: i as u8,
                    name: f[0],
                    plus: stat_named(f[1]),
                    minus: stat_named(f[2]),
                }
            })
            .collect();
        let learnsets = include_str!("../data/learnsets.tsv")
            .lines()
            .map(|line| {
                let f: Vec<&str> = line.split('\t').collect();
                f.get(2)
                    .filter(|s| !s.is_empty())
                    .map(|list| {
                        list.split(',')
                            .map(|e| {
                                let (l, m) = e.split_once(':').expect("embedded learnset");
                                LevelMove {
                                    level: num(l),
                                    move_num: num(m),
                                }
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .collect();
        Dex {
            species,
            species_by_id,
            moves,
            moves_by_num,
            moves_by_id,
            natures,
            learnsets,
        }
    }

    pub fn species(&self) -> &[Species] {
        &self.species
    }

    pub fn species_by_num(&self, num: u16) -> Option<&Species> {
        self.species.get(usize::from(num).checked_sub(1)?)
    }

    /// Looks a species up by name, ignoring case, spaces and punctuation.
    pub fn species_named(&self, name: &str) -> Result<&Species, Error> {
        self.species_by_id
            .get(&id(name))
            .and_then(|&n| self.species_by_num(n))
            .ok_or_else(|| Error::UnknownSpecies(name.to_owned()))
    }

    pub fn moves(&self) -> &[Move] {
        &self.moves
    }

    pub fn move_by_num(&self, num: u16) -> Option<&Move> {
        match self.moves_by_num.get(usize::from(num)) {
            Some(&i) if i != u16::MAX => Some(&self.moves[usize::from(i)]),
            _ => None,
        }
    }

    pub fn move_named(&self, name: &str) -> Result<&Move, Error> {
        self.moves_by_id
            .get(&id(name))
            .map(|&i| &self.moves[i])
            .ok_or_else(|| Error::UnknownMove(name.to_owned()))
    }

    pub fn natures(&self) -> &[Nature] {
        &self.natures
    }

    pub fn nature_named(&self, name: &str) -> Result<Nature, Error> {
        let want = id(name);
        self.natures
            .iter()
            .find(|n| id(n.name) == want)
            .copied()
            .ok_or_else(|| Error::UnknownNature(name.to_owned()))
    }

    /// Level-up moves of a species, by level (Gen 9's list, or the newest one Showdown has).
    pub fn learnset(&self, species_num: u16) -> &[LevelMove] {
        usize::from(species_num)
            .checked_sub(1)
            .and_then(|i| self.learnsets.get(i))
            .map_or(&[], Vec::as_slice)
    }
}

fn parse_species(line: &'static str) -> Species {
    let f: Vec<&'static str> = line.split('\t').collect();
    let t1 = typ(f[2]);
    let (t2, count) = if f[3].is_empty() {
        (t1, 1)
    } else {
        (typ(f[3]), 2)
    };
    let gender: i8 = num(f[15]);
    let prevo: u16 = num(f[19]);
    let evolution = (prevo != 0).then(|| Evolution {
        kind: match f[21] {
            "levelFriendship" => EvolutionKind::LevelFriendship,
            "levelHold" => EvolutionKind::LevelHold,
            "levelMove" => EvolutionKind::LevelMove,
            "levelExtra" => EvolutionKind::LevelExtra,
            "useItem" => EvolutionKind::UseItem,
            "trade" => EvolutionKind::Trade,
            "other" => EvolutionKind::Other,
            _ => EvolutionKind::Level,
        },
        level: num(f[22]),
        item: opt_str(f[23]),
        time: match f[24] {
            "day" => Some(TimeOfDay::Day),
            "dusk" => Some(TimeOfDay::Dusk),
            "night" => Some(TimeOfDay::Night),
            _ => None,
        },
        known_move: match num::<u16>(f[25]) {
            0 => None,
            n => Some(n),
        },
        condition: f.get(26).copied().unwrap_or(""),
    });
    Species {
        num: num(f[0]),
        name: f[1],
        types: [t1, t2],
        type_count: count,
        base_stats: StatTable([
            num(f[4]),
            num(f[5]),
            num(f[6]),
            num(f[7]),
            num(f[8]),
            num(f[9]),
        ]),
        abilities: [opt_str(f[10]), opt_str(f[11]), opt_str(f[12])],
        growth_rate: GrowthRate::parse(f[13]).expect("embedded growth rate"),
        catch_rate: num(f[14]),
        female_eighths: u8::try_from(gender).ok(),
        base_friendship: num(f[16]),
        weight_hg: num(f[17]),
        nfe: f[18] == "1",
        prevo: (prevo != 0).then_some(prevo),
        evos: f[20]
            .split(',')
            .filter(|s| !s.is_empty())
            .map(num)
            .collect(),
        evolution,
    }
}

fn parse_move(line: &'static str) -> Move {
    let f: Vec<&'static str> = line.split('\t').collect();
    let mut flags = 0u16;
    for c in f[8].chars() {
        flags |= match c {
            'c' => flags::CONTACT,
            'p' => flags::PUNCH,
            'b' => flags::BITE,
            'u' => flags::PULSE,
            's' => flags::SLICING,
            'o' => flags::SOUND,
            'l' => flags::BULLET,
            'w' => flags::WIND,
            _ => 0,
        };
    }
    for c in f[24].chars() {
        flags |= match c {
            'd' => flags::HITS_DEF,
            'i' => flags::IGNORE_DEF_BOOSTS,
            'k' => flags::ALWAYS_CRIT,
            'x' => flags::CRASH,
            't' => flags::CHARGE,
            'r' => flags::RECHARGE,
            'f' => flags::FIXED,
            'n' => flags::UNMODELLED,
            _ => 0,
        };
    }
    let chance: u8 = num(f[11]);
    let secondary = (chance > 0).then(|| Secondary {
        chance,
        status: Status::parse(f[12]).ok(),
        flinch: f[13] == "flinch",
        confusion: f[13] == "confusion",
        target_boosts: boosts(f[14]),
        self_boosts: boosts(f[15]),
    });
    let acc: u8 = num(f[5]);
    Move {
        num: num(f[0]),
        name: f[1],
        move_type: typ(f[2]),
        category: match f[3] {
            "Physical" => Category::Physical,
            "Special" => Category::Special,
            _ => Category::Status,
        },
        power: num(f[4]),
        accuracy: (acc != 0).then_some(acc),
        pp: num(f[6]),
        priority: num(f[7]),
        flags,
        crit_ratio: num(f[9]),
        target: f[10],
        secondary,
        status: Status::parse(f[16]).ok(),
        target_boosts: boosts(f[17]),
        self_boosts: boosts(f[18]),
        drain: fraction(f[19]),
        recoil: fraction(f[20]),
        heal: fraction(f[21]),
        multihit: if f[22].is_empty() {
            None
        } else if let Some((a, b)) = f[22].split_once('-') {
            Some((num(a), num(b)))
        } else {
            let n = num(f[22]);
            Some((n, n))
        },
        volatile: f[23],
        special: Special::of(f[1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_species_load() {
        let d = dex();
        assert_eq!(d.species().len(), 1025);
        for (i, s) in d.species().iter().enumerate() {
            assert_eq!(usize::from(s.num), i + 1);
        }
        let g = d.species_named("Garchomp").unwrap();
        assert_eq!(g.num, 445);
        assert_eq!(g.types(), &[Type::Dragon, Type::Ground]);
        assert_eq!(g.base_stats.0, [108, 130, 95, 80, 85, 102]);
        assert_eq!(g.catch_rate, 45);
        assert_eq!(g.growth_rate, GrowthRate::Slow);
        assert_eq!(d.species_named("pecharunt").unwrap().num, 1025);
        assert_eq!(d.species_named("Mr. Mime").unwrap().num, 122);
        assert!(d.species_named("Missingno").is_err());
    }

    #[test]
    fn moves_and_natures_load() {
        let d = dex();
        let m = d.move_named("flamethrower").unwrap();
        assert_eq!((m.power, m.accuracy, m.pp), (90, Some(100), 15));
        assert_eq!(m.secondary.as_ref().unwrap().status, Some(Status::Burn));
        assert!(d.move_named("Close Combat").unwrap().has(flags::CONTACT));
        assert_eq!(d.move_named("quick attack").unwrap().priority, 1);
        assert_eq!(d.natures().len(), 25);
        let adamant = d.nature_named("Adamant").unwrap();
        assert_eq!(
            (adamant.plus, adamant.minus),
            (Some(Stat::Atk), Some(Stat::Spa))
        );
        assert!(!d.learnset(445).is_empty());
    }
}
