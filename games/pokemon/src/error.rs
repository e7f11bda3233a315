use thiserror::Error;

/// Everything the engine refuses, with the offending input named so callers can show it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    #[error("unknown species: {0}")]
    UnknownSpecies(String),
    #[error("unknown move: {0}")]
    UnknownMove(String),
    #[error("unknown nature: {0}")]
    UnknownNature(String),
    #[error("unknown type: {0}")]
    UnknownType(String),
    #[error("unsupported ability: {0}")]
    UnsupportedAbility(String),
    #[error("unsupported item: {0}")]
    UnsupportedItem(String),
    #[error("unknown status: {0}")]
    UnknownStatus(String),
    #[error("unknown weather: {0}")]
    UnknownWeather(String),
    #[error("level must be 1..=100, got {0}")]
    BadLevel(u32),
    #[error("IV {stat} must be 0..=31, got {value}")]
    BadIv { stat: &'static str, value: u32 },
    #[error("EV {stat} must be 0..=252, got {value}")]
    BadEv { stat: &'static str, value: u32 },
    #[error("EVs total {0}, more than 510")]
    EvTotal(u32),
    #[error("boost {stat} must be -6..=6, got {value}")]
    BadBoost { stat: &'static str, value: i32 },
    #[error("{0}")]
    Invalid(String),
}
