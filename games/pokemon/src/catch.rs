//! Catching wild Pokémon with the Gen 8/9 capture formula.
//!
//! Follows the formula as documented for Sword/Shield and Scarlet/Violet (The Cave of
//! Dragonflies' "Gen VIII/IX Capture Mechanics", from the games' decompiled routines):
//! `X = (3M - 2H) * C * B / 3M * L * S`, a critical-capture check, then shake checks against
//! `Y = 65536 / (255 / X)^(3/16)`. Values are kept in 1/4096 fixed point as the games do.
//! Not modelled: the grass modifier, the over-levelled "badge penalty" and raid difficulty.

use rand::Rng;

use crate::data::{Species, Status, TimeOfDay};
use crate::rng::below;
use crate::types::Type;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ball {
    Poke,
    Great,
    Ultra,
    Master,
    Premier,
    Luxury,
    Heal,
    Quick,
    Dusk,
    Net,
    Nest,
    Timer,
    Repeat,
    Dive,
    Fast,
    Level,
    Dream,
}

/// Which games' low-level bonus applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatchRules {
    /// Sword/Shield: x(30 - level)/10 below level 20.
    Gen8,
    /// Scarlet/Violet: x(36 - 2 level)/10 below level 13.
    Gen9,
}

/// Everything about one throw besides the RNG.
#[derive(Debug, Clone)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "independent facts about the throw that different balls read"
)]
pub struct Throw<'a> {
    pub rules: CatchRules,
    pub ball: Ball,
    pub species: &'a Species,
    pub level: u8,
    pub max_hp: u16,
    pub hp: u16,
    pub status: Option<Status>,
    /// 1 for the first turn of the battle.
    pub turn: u32,
    pub time: TimeOfDay,
    /// In a cave (Dusk Ball) or underwater (Dive Ball).
    pub dark_place: bool,
    pub underwater: bool,
    pub already_caught_species: bool,
    /// Level of the player's active Pokémon (Level Ball).
    pub own_level: u8,
    /// Species registered as caught in the Pokédex (critical captures).
    pub dex_caught: u32,
    pub catching_charm: bool,
}

/// What happened to the ball.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatchOutcome {
    pub caught: bool,
    pub critical: bool,
    /// Shake checks passed (the ball wobbles this many times before breaking open).
    pub shakes: u8,
    /// The final capture value X in 1/4096 units, for display and tests.
    pub capture_value: u64,
}

impl Ball {
    /// The ball's multiplier in 1/4096 units for this throw.
    pub fn bonus(self, t: &Throw<'_>) -> u64 {
        let x = |n: u64| n * 4096 / 10;
        match self {
            Ball::Great => x(15),
            Ball::Ultra => x(20),
            Ball::Quick if t.turn <= 1 => x(50),
            Ball::Dusk if t.time == TimeOfDay::Night || t.dark_place => x(30),
            Ball::Net if t.species.has_type(Type::Water) || t.species.has_type(Type::Bug) => x(35),
            Ball::Nest if t.level < 30 => x(u64::from(41 - t.level.min(30))),
            Ball::Timer => (4096 + u64::from(t.turn.saturating_sub(1)) * 1229).min(x(40)),
            Ball::Repeat if t.already_caught_species => x(35),
            Ball::Dive if t.underwater => x(35),
            Ball::Fast if t.species.base_stats.0[5] >= 100 => x(40),
            Ball::Dream if t.status == Some(Status::Sleep) => x(40),
            Ball::Level if t.own_level >= t.level.saturating_mul(4) => x(80),
            Ball::Level if t.own_level >= t.level.saturating_mul(2) => x(40),
            Ball::Level if t.own_level > t.level => x(20),
            _ => 4096,
        }
    }
}

/// The capture value X (1/4096 units) before any random roll.
pub fn capture_value(t: &Throw<'_>) -> u64 {
    let m = u64::from(t.max_hp.max(1));
    let h = u64::from(t.hp.clamp(1, t.max_hp.max(1)));
    let mut x = (3 * m - 2 * h) * u64::from(t.species.catch_rate) * t.ball.bonus(t) / (3 * m);
    let level = u64::from(t.level);
    match t.rules {
        CatchRules::Gen8 if level < 20 => x = x * (30 - level) / 10,
        CatchRules::Gen9 if level < 13 => x = x * (36 - 2 * level) / 10,
        _ => {}
    }
    match t.status {
        Some(Status::Sleep | Status::Freeze) => x = x * 5 / 2,
        Some(_) => x = x * 3 / 2,
        None => {}
    }
    x
}

/// Throws the ball. Draws one roll for the critical check when critical captures are possible,
/// then one per shake check until one fails.
pub fn throw_ball<R: Rng + ?Sized>(t: &Throw<'_>, rng: &mut R) -> CatchOutcome {
    let x = capture_value(t);
    let sure = CatchOutcome {
        caught: true,
        critical: false,
        shakes: 4,
        capture_value: x,
    };
    if t.ball == Ball::Master || x >= 255 * 4096 {
        return sure;
    }
    // Pokédex multiplier in tenths.
    let dex = match t.dex_caught {
        0..=30 => 0,
        31..=150 => 5,
        151..=300 => 10,
        301..=450 => 15,
        451..=600 => 20,
        _ => 25,
    };
    let charm = if t.catching_charm { 2 } else { 1 };
    let critical = dex > 0 && {
        let cc = x * dex * charm / 10 / 6 / 4096;
        u64::from(below(rng, 256)) < cc
    };
    // Y = 65536 / (255/X)^(3/16).
    let xv = x as f64 / 4096.0;
    let y = if xv <= 0.0 {
        0
    } else {
        (65536.0 / (255.0 / xv).powf(3.0 / 16.0)).floor() as u32
    };
    let checks = if critical { 1 } else { 4 };
    let mut shakes = 0;
    for _ in 0..checks {
        if below(rng, 65536) >= y {
            return CatchOutcome {
                caught: false,
                critical,
                shakes,
                capture_value: x,
            };
        }
        shakes += 1;
    }
    CatchOutcome {
        caught: true,
        critical,
        shakes,
        capture_value: x,
    }
}
