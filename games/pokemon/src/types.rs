//! The 18 types and the Gen 6+ type chart (generated into `data/types.txt`).

use std::fmt;

use crate::error::Error;
use crate::id;

/// A Pokémon or move type, in the order the chart file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    Normal,
    Fire,
    Water,
    Electric,
    Grass,
    Ice,
    Fighting,
    Poison,
    Ground,
    Flying,
    Psychic,
    Bug,
    Rock,
    Ghost,
    Dragon,
    Dark,
    Steel,
    Fairy,
}

impl Type {
    pub const ALL: [Type; 18] = [
        Type::Normal,
        Type::Fire,
        Type::Water,
        Type::Electric,
        Type::Grass,
        Type::Ice,
        Type::Fighting,
        Type::Poison,
        Type::Ground,
        Type::Flying,
        Type::Psychic,
        Type::Bug,
        Type::Rock,
        Type::Ghost,
        Type::Dragon,
        Type::Dark,
        Type::Steel,
        Type::Fairy,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Type::Normal => "Normal",
            Type::Fire => "Fire",
            Type::Water => "Water",
            Type::Electric => "Electric",
            Type::Grass => "Grass",
            Type::Ice => "Ice",
            Type::Fighting => "Fighting",
            Type::Poison => "Poison",
            Type::Ground => "Ground",
            Type::Flying => "Flying",
            Type::Psychic => "Psychic",
            Type::Bug => "Bug",
            Type::Rock => "Rock",
            Type::Ghost => "Ghost",
            Type::Dragon => "Dragon",
            Type::Dark => "Dark",
            Type::Steel => "Steel",
            Type::Fairy => "Fairy",
        }
    }

    pub fn parse(s: &str) -> Result<Type, Error> {
        let want = id(s);
        Type::ALL
            .into_iter()
            .find(|t| id(t.name()) == want)
            .ok_or_else(|| Error::UnknownType(s.to_owned()))
    }

    /// Effectiveness of an attack of this type on one defending type, in halves:
    /// 0 immune, 1 not very effective, 2 neutral, 4 super effective.
    pub fn halves_against(self, defender: Type) -> u8 {
        chart()[self as usize][defender as usize]
    }

    /// Effectiveness against a (possibly dual-typed) defender as a multiplier
    /// numerator over 4: 0, 1 (x0.25), 2 (x0.5), 4, 8, 16 (x4).
    pub fn quarters_against(self, defender: &[Type]) -> u8 {
        match defender {
            [a] => self.halves_against(*a) * 2,
            [a, b] => self.halves_against(*a) * self.halves_against(*b),
            _ => 4,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The chart, parsed at compile time from the generated file (18 lines of 18 digits), so a
/// lookup is a plain array read.
static CHART: [[u8; 18]; 18] = parse_chart(include_bytes!("../data/types.txt"));

const fn parse_chart(text: &[u8]) -> [[u8; 18]; 18] {
    let mut out = [[2u8; 18]; 18];
    let (mut row, mut col, mut i) = (0, 0, 0);
    while i < text.len() {
        let c = text[i];
        if c == b'\n' {
            assert!(col == 18, "types.txt: a row without 18 entries");
            row += 1;
            col = 0;
        } else {
            out[row][col] = c - b'0';
            col += 1;
        }
        i += 1;
    }
    assert!(row == 18, "types.txt: not 18 rows");
    out
}

fn chart() -> &'static [[u8; 18]; 18] {
    &CHART
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_spot_checks() {
        assert_eq!(Type::Fire.halves_against(Type::Grass), 4);
        assert_eq!(Type::Normal.halves_against(Type::Ghost), 0);
        assert_eq!(Type::Ground.halves_against(Type::Flying), 0);
        assert_eq!(Type::Dragon.halves_against(Type::Fairy), 0);
        assert_eq!(Type::Steel.halves_against(Type::Fairy), 4);
        assert_eq!(Type::Water.halves_against(Type::Water), 1);
        assert_eq!(
            Type::Ice.quarters_against(&[Type::Ground, Type::Flying]),
            16
        );
        assert_eq!(Type::Fire.quarters_against(&[Type::Water, Type::Rock]), 1);
    }
}
