//! Skills, the experience table and the level formulas.

use serde::{Deserialize, Serialize};

/// The 24 skills, in the order of the in-game skills tab.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Skill {
    Attack,
    Hitpoints,
    Mining,
    Strength,
    Agility,
    Smithing,
    Defence,
    Herblore,
    Fishing,
    Ranged,
    Thieving,
    Cooking,
    Prayer,
    Crafting,
    Firemaking,
    Magic,
    Fletching,
    Woodcutting,
    Runecraft,
    Slayer,
    Farming,
    Construction,
    Hunter,
    Sailing,
}

/// Number of skills.
pub const SKILL_COUNT: usize = 24;

impl Skill {
    /// Every skill, in skills-tab order (the same order as [`Skill::index`]).
    pub const ALL: [Skill; SKILL_COUNT] = [
        Skill::Attack,
        Skill::Hitpoints,
        Skill::Mining,
        Skill::Strength,
        Skill::Agility,
        Skill::Smithing,
        Skill::Defence,
        Skill::Herblore,
        Skill::Fishing,
        Skill::Ranged,
        Skill::Thieving,
        Skill::Cooking,
        Skill::Prayer,
        Skill::Crafting,
        Skill::Firemaking,
        Skill::Magic,
        Skill::Fletching,
        Skill::Woodcutting,
        Skill::Runecraft,
        Skill::Slayer,
        Skill::Farming,
        Skill::Construction,
        Skill::Hunter,
        Skill::Sailing,
    ];

    /// Position in [`Skill::ALL`], for array-indexed skill maps.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Lower-case name, as used in the data files and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Skill::Attack => "attack",
            Skill::Hitpoints => "hitpoints",
            Skill::Mining => "mining",
            Skill::Strength => "strength",
            Skill::Agility => "agility",
            Skill::Smithing => "smithing",
            Skill::Defence => "defence",
            Skill::Herblore => "herblore",
            Skill::Fishing => "fishing",
            Skill::Ranged => "ranged",
            Skill::Thieving => "thieving",
            Skill::Cooking => "cooking",
            Skill::Prayer => "prayer",
            Skill::Crafting => "crafting",
            Skill::Firemaking => "firemaking",
            Skill::Magic => "magic",
            Skill::Fletching => "fletching",
            Skill::Woodcutting => "woodcutting",
            Skill::Runecraft => "runecraft",
            Skill::Slayer => "slayer",
            Skill::Farming => "farming",
            Skill::Construction => "construction",
            Skill::Hunter => "hunter",
            Skill::Sailing => "sailing",
        }
    }

    /// Parses a lower-case skill name.
    pub fn from_name(name: &str) -> Option<Skill> {
        Skill::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }
}

/// Highest normal level.
pub const MAX_LEVEL: u8 = 99;
/// Experience can never exceed this in any skill.
pub const MAX_XP: u32 = 200_000_000;

/// `XP_TABLE[l - 1]` is the experience needed for level `l` (1..=99).
pub const XP_TABLE: [u32; MAX_LEVEL as usize] = build_xp_table();

// The game's formula: xp(L) = floor(1/4 * sum_{l=1}^{L-1} floor(l + 300 * 2^(l/7))).
// Computed in f64 at compile time, which matches the published table exactly (tested).
const fn build_xp_table() -> [u32; MAX_LEVEL as usize] {
    let mut table = [0u32; MAX_LEVEL as usize];
    let mut points = 0.0f64;
    let mut level = 1;
    while level < MAX_LEVEL as usize {
        let l = level as f64;
        points += floor(l + 300.0 * pow2(l / 7.0));
        table[level] = floor(points / 4.0) as u32;
        level += 1;
    }
    table
}

const fn floor(x: f64) -> f64 {
    let t = x as u64 as f64;
    if t > x { t - 1.0 } else { t }
}

// 2^x for x >= 0 without std (not const): integer part by doubling, fraction by a series
// precise far beyond what the floor above needs.
const fn pow2(x: f64) -> f64 {
    let whole = x as u32;
    let frac = x - whole as f64;
    let mut result = 1.0;
    let mut i = 0;
    while i < whole {
        result *= 2.0;
        i += 1;
    }
    // e^(frac * ln 2) by Taylor series.
    let y = frac * core::f64::consts::LN_2;
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut n = 1;
    while n < 30 {
        term = term * y / n as f64;
        sum += term;
        n += 1;
    }
    result * sum
}

/// Experience needed to reach `level` (clamped to 1..=99).
pub fn xp_for_level(level: u8) -> u32 {
    let l = level.clamp(1, MAX_LEVEL);
    XP_TABLE[usize::from(l) - 1]
}

/// Level reached with `xp` experience (1..=99).
pub fn level_for_xp(xp: u32) -> u8 {
    // partition_point counts the levels whose threshold is <= xp, i.e. the level itself.
    XP_TABLE.partition_point(|&need| need <= xp) as u8
}

/// Experience in every skill, indexed by [`Skill::index`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skills {
    xp: [u32; SKILL_COUNT],
}

impl Default for Skills {
    /// A new account: level 10 Hitpoints, level 1 everywhere else.
    fn default() -> Self {
        let mut xp = [0; SKILL_COUNT];
        xp[Skill::Hitpoints.index()] = xp_for_level(10);
        Skills { xp }
    }
}

impl Skills {
    /// Skills with the given levels; unlisted skills keep their default.
    pub fn with_levels(levels: &[(Skill, u8)]) -> Self {
        let mut s = Skills::default();
        for &(skill, level) in levels {
            s.xp[skill.index()] = xp_for_level(level);
        }
        s
    }

    /// The same level in every skill.
    pub fn all_at(level: u8) -> Self {
        Skills {
            xp: [xp_for_level(level); SKILL_COUNT],
        }
    }

    /// Experience in `skill`.
    pub fn xp(&self, skill: Skill) -> u32 {
        self.xp[skill.index()]
    }

    /// Level in `skill`.
    pub fn level(&self, skill: Skill) -> u8 {
        level_for_xp(self.xp(skill))
    }

    /// Adds experience, capped at [`MAX_XP`]; returns the new level if it went up.
    pub fn add_xp(&mut self, skill: Skill, amount: u32) -> Option<u8> {
        let before = self.level(skill);
        let slot = &mut self.xp[skill.index()];
        *slot = slot.saturating_add(amount).min(MAX_XP);
        let after = self.level(skill);
        (after > before).then_some(after)
    }

    /// Sum of all levels (24 to 2376).
    pub fn total_level(&self) -> u32 {
        Skill::ALL.iter().map(|&s| u32::from(self.level(s))).sum()
    }

    /// Sum of all experience.
    pub fn total_xp(&self) -> u64 {
        self.xp.iter().map(|&x| u64::from(x)).sum()
    }

    /// Combat level from these skills.
    pub fn combat_level(&self) -> u8 {
        combat_level(
            self.level(Skill::Attack),
            self.level(Skill::Strength),
            self.level(Skill::Defence),
            self.level(Skill::Hitpoints),
            self.level(Skill::Ranged),
            self.level(Skill::Magic),
            self.level(Skill::Prayer),
        )
    }
}

/// The game's combat level formula (3 to 126).
pub fn combat_level(
    attack: u8,
    strength: u8,
    defence: u8,
    hitpoints: u8,
    ranged: u8,
    magic: u8,
    prayer: u8,
) -> u8 {
    // Integer form of base + max(melee, ranged, magic) scaled by 40 so nothing rounds early:
    // base = (def + hp + floor(pray/2)) / 4, melee = 13/40 (att + str),
    // ranged = 13/40 floor(3 ranged / 2), magic = 13/40 floor(3 magic / 2).
    let base = 10 * (u32::from(defence) + u32::from(hitpoints) + u32::from(prayer) / 2);
    let melee = 13 * (u32::from(attack) + u32::from(strength));
    let range = 13 * (3 * u32::from(ranged) / 2);
    let mage = 13 * (3 * u32::from(magic) / 2);
    ((base + melee.max(range).max(mage)) / 40) as u8
}
