//! Pokémon engine: pure and synchronous (no I/O, no async, no clock).
//!
//! Callers pass input and `&mut impl Rng`; they get an outcome and an event log back. Data for
//! all 1,025 species, the moves, natures and type chart is embedded (see `gen/generate.mjs`).
//!
#![doc = include_str!("../README.md")]

pub mod battle;
pub mod calc;
pub mod catch;
pub mod damage;
pub mod data;
pub mod effects;
pub mod error;
pub mod evolution;
pub mod rng;
pub mod stats;
pub mod trainer;
pub mod types;
pub mod xp;

pub use error::Error;

/// Showdown-style id: lower case ASCII letters and digits only ("Mr. Mime" -> "mrmime").
pub fn id(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'é' | 'É' => 'e',
            _ => c,
        })
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}
