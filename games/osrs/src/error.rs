//! Errors returned to callers for bad input.

use thiserror::Error;

use crate::skills::Skill;

/// A requirement the character does not meet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingLevel {
    pub skill: Skill,
    pub needed: u8,
    pub have: u8,
}

/// Everything the engine refuses, with enough detail for a user-facing message.
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum OsrsError {
    #[error("unknown monster \"{name}\"{}", did_you_mean(.suggestions))]
    UnknownMonster {
        name: String,
        suggestions: Vec<String>,
    },
    #[error("unknown activity \"{name}\"{}", did_you_mean(.suggestions))]
    UnknownActivity {
        name: String,
        suggestions: Vec<String>,
    },
    #[error("unknown item \"{name}\"{}", did_you_mean(.suggestions))]
    UnknownItem {
        name: String,
        suggestions: Vec<String>,
    },
    #[error("requirements not met: {}", missing_list(.0))]
    RequirementsNotMet(Vec<MissingLevel>),
    #[error("quantity must be between 1 and {max}, got {got}")]
    BadQuantity { got: u64, max: u64 },
    #[error("{style} attacks cannot damage {monster} with this character's stats")]
    CannotDamage { monster: String, style: String },
    #[error("{0} cannot be worn")]
    NotEquipment(String),
    #[error("{0} needs a slot that another worn item already fills")]
    SlotTaken(String),
    #[error("item {0} is not food")]
    NotFood(u32),
    #[error("{activity} needs {item}, and none was carried")]
    MissingSupplies { activity: String, item: String },
    #[error("unknown Slayer master \"{name}\"{}", did_you_mean(.suggestions))]
    UnknownSlayerMaster {
        name: String,
        suggestions: Vec<String>,
    },
    /// The character is below the master's combat or Slayer level.
    #[error("{master} gives tasks from combat level {combat} and Slayer {slayer}")]
    MasterTooHigh {
        master: String,
        combat: u8,
        slayer: u8,
    },
    #[error("{master} has no task for this character's levels")]
    NoSlayerTask { master: String },
}

fn did_you_mean(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!("; did you mean: {}?", suggestions.join(", "))
    }
}

fn missing_list(missing: &[MissingLevel]) -> String {
    missing
        .iter()
        .map(|m| format!("{} {} (have {})", m.skill.name(), m.needed, m.have))
        .collect::<Vec<_>>()
        .join(", ")
}
