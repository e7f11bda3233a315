//! Stats from base stats, level, IVs, EVs and nature, and stat stages.

use serde::{Deserialize, Serialize};

use crate::data::{Nature, Species};
use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stat {
    Hp,
    Atk,
    Def,
    Spa,
    Spd,
    Spe,
}

impl Stat {
    pub const ALL: [Stat; 6] = [
        Stat::Hp,
        Stat::Atk,
        Stat::Def,
        Stat::Spa,
        Stat::Spd,
        Stat::Spe,
    ];

    pub fn short(self) -> &'static str {
        match self {
            Stat::Hp => "hp",
            Stat::Atk => "atk",
            Stat::Def => "def",
            Stat::Spa => "spa",
            Stat::Spd => "spd",
            Stat::Spe => "spe",
        }
    }
}

/// Six values in the order hp, atk, def, spa, spd, spe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatTable<T>(pub [T; 6]);

impl<T: Copy> StatTable<T> {
    pub fn get(&self, s: Stat) -> T {
        self.0[s as usize]
    }
}

/// IVs or EVs as callers write them (`{"hp":31,...}`); missing stats take the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatSpread {
    pub hp: Option<u32>,
    pub atk: Option<u32>,
    pub def: Option<u32>,
    pub spa: Option<u32>,
    pub spd: Option<u32>,
    pub spe: Option<u32>,
}

impl StatSpread {
    pub fn to_table(self, default: u32) -> [u32; 6] {
        [self.hp, self.atk, self.def, self.spa, self.spd, self.spe].map(|v| v.unwrap_or(default))
    }
}

/// Validated IVs (0..=31 each) and EVs (0..=252 each, 510 total).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spread {
    pub ivs: StatTable<u8>,
    pub evs: StatTable<u8>,
}

impl Spread {
    pub fn new(ivs: [u32; 6], evs: [u32; 6]) -> Result<Spread, Error> {
        let mut out = Spread {
            ivs: StatTable([0; 6]),
            evs: StatTable([0; 6]),
        };
        for (i, s) in Stat::ALL.into_iter().enumerate() {
            if ivs[i] > 31 {
                return Err(Error::BadIv {
                    stat: s.short(),
                    value: ivs[i],
                });
            }
            if evs[i] > 252 {
                return Err(Error::BadEv {
                    stat: s.short(),
                    value: evs[i],
                });
            }
            out.ivs.0[i] = ivs[i] as u8;
            out.evs.0[i] = evs[i] as u8;
        }
        let total: u32 = evs.iter().sum();
        if total > 510 {
            return Err(Error::EvTotal(total));
        }
        Ok(out)
    }

    /// 31 IVs and no EVs.
    pub fn perfect_ivs() -> Spread {
        Spread {
            ivs: StatTable([31; 6]),
            evs: StatTable([0; 6]),
        }
    }
}

/// One stat as the games compute it (Gen 3 onwards).
pub fn calc_stat(stat: Stat, base: u16, level: u8, iv: u8, ev: u8, nature: Nature) -> u16 {
    let core = (2 * u32::from(base) + u32::from(iv) + u32::from(ev) / 4) * u32::from(level) / 100;
    if stat == Stat::Hp {
        return (core + u32::from(level) + 10) as u16;
    }
    ((core + 5) * u32::from(nature.tenths(stat)) / 10) as u16
}

/// All six stats of a Pokémon. Shedinja's HP is always 1.
pub fn calc_stats(species: &Species, level: u8, spread: &Spread, nature: Nature) -> StatTable<u16> {
    let mut out = [0u16; 6];
    for (i, s) in Stat::ALL.into_iter().enumerate() {
        out[i] = calc_stat(
            s,
            species.base_stats.0[i],
            level,
            spread.ivs.0[i],
            spread.evs.0[i],
            nature,
        );
    }
    if species.num == SHEDINJA {
        out[0] = 1;
    }
    StatTable(out)
}

const SHEDINJA: u16 = 292;

/// A stat after `stage` (-6..=6) boosts: x(2+s)/2 or x2/(2-s), floored.
pub fn boosted(stat: u16, stage: i8) -> u16 {
    if stage == 0 {
        return stat;
    }
    let stage = stage.clamp(-6, 6);
    let (num, den) = if stage >= 0 {
        (2 + stage as u32, 2)
    } else {
        (2, 2 + u32::from(stage.unsigned_abs()))
    };
    // Showdown's calc truncates the product to 16 bits before dividing, as the games do.
    ((u32::from(stat) * num) % 65536 / den) as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::dex;

    #[test]
    fn garchomp_level_78_matches_bulbapedia() {
        // see: Bulbapedia "Stat" page, the Garchomp example (Adamant, level 78).
        let d = dex();
        let chomp = d.species_named("Garchomp").unwrap();
        let spread = Spread::new([24, 12, 30, 16, 23, 5], [74, 190, 91, 48, 84, 23]).unwrap();
        let stats = calc_stats(chomp, 78, &spread, d.nature_named("Adamant").unwrap());
        assert_eq!(stats.0, [289, 278, 193, 135, 171, 171]);
    }

    #[test]
    fn shedinja_and_blissey() {
        let d = dex();
        let hardy = d.nature_named("Hardy").unwrap();
        let shed = d.species_named("Shedinja").unwrap();
        assert_eq!(
            calc_stats(shed, 100, &Spread::perfect_ivs(), hardy).get(Stat::Hp),
            1
        );
        let bliss = d.species_named("Blissey").unwrap();
        let max = Spread::new([31; 6], [252, 0, 0, 0, 252, 0]).unwrap();
        assert_eq!(calc_stats(bliss, 100, &max, hardy).get(Stat::Hp), 714);
    }

    #[test]
    fn bad_spreads_are_errors() {
        assert!(matches!(
            Spread::new([32, 0, 0, 0, 0, 0], [0; 6]),
            Err(Error::BadIv { .. })
        ));
        assert!(matches!(
            Spread::new([0; 6], [253, 0, 0, 0, 0, 0]),
            Err(Error::BadEv { .. })
        ));
        assert_eq!(
            Spread::new([0; 6], [252, 252, 8, 0, 0, 0]),
            Err(Error::EvTotal(512))
        );
    }

    #[test]
    fn stages() {
        assert_eq!(boosted(100, 0), 100);
        assert_eq!(boosted(100, 1), 150);
        assert_eq!(boosted(100, 6), 400);
        assert_eq!(boosted(100, -1), 66);
        assert_eq!(boosted(100, -6), 25);
    }
}
