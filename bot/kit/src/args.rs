//! Parameter types whose bounds hold for prefix commands too. poise checks `#[min]`/`#[max]`
//! only on slash options (Discord enforces them there), so `!osrs kill Goblin 10000000` went
//! straight to the engine. A [`Bounded`] parameter is checked by the same code both ways, and
//! registers the same bounds with Discord.

use std::collections::VecDeque;
use std::sync::Mutex;

use poise::serenity_prelude as serenity;

/// The largest integer Discord's number options carry exactly (JavaScript's safe integer):
/// the upper bound for amounts with no smaller natural limit.
pub const MAX_SAFE: i64 = (1 << 53) - 1;

/// A whole number from `MIN` to `MAX`, inclusive, for slash options and prefix arguments alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bounded<const MIN: i64, const MAX: i64>(i64);

impl<const MIN: i64, const MAX: i64> Bounded<MIN, MAX> {
    pub fn new(value: i64) -> Result<Self, OutOfRange> {
        if (MIN..=MAX).contains(&value) {
            Ok(Self(value))
        } else {
            Err(OutOfRange { min: MIN, max: MAX })
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }

    /// The value as an unsigned count; bounds that start at 0 or above make this lossless.
    pub fn count(self) -> u64 {
        const { assert!(MIN >= 0, "count() needs a bound of at least 0") };
        self.0 as u64
    }
}

/// The sentence an out-of-range number gets (after "I couldn't understand `N`: ").
#[derive(Clone, Debug)]
pub struct OutOfRange {
    min: i64,
    max: i64,
}

impl std::fmt::Display for OutOfRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.max == MAX_SAFE {
            write!(f, "it must be a whole number of at least {}", self.min)
        } else {
            write!(
                f,
                "it must be a whole number from {} to {}",
                self.min, self.max
            )
        }
    }
}

/// Out-of-range prefix numbers, by message. poise parses an `Option<T>` argument by trying
/// `T` and, when that fails, going on without it, so `!osrs kill goblin 10000000` would end in
/// "too many arguments" with the real reason dropped; the error handler asks here for it.
/// Only the last few are kept: an entry matters only until that message's error is handled.
static REJECTED: Mutex<VecDeque<(serenity::MessageId, String, OutOfRange)>> =
    Mutex::new(VecDeque::new());
const REJECTED_KEPT: usize = 64;

fn remember_rejected(msg: serenity::MessageId, input: String, why: OutOfRange) {
    let mut rejected = REJECTED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if rejected.len() == REJECTED_KEPT {
        rejected.pop_front();
    }
    rejected.push_back((msg, input, why));
}

/// The out-of-range number that made parsing `msg` fail, if one did: its text and why.
pub fn take_rejected(msg: serenity::MessageId) -> Option<(String, OutOfRange)> {
    let mut rejected = REJECTED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let at = rejected.iter().rposition(|(id, ..)| *id == msg)?;
    rejected.remove(at).map(|(_, input, why)| (input, why))
}

impl std::error::Error for OutOfRange {}

#[poise::async_trait]
impl<const MIN: i64, const MAX: i64> poise::SlashArgument for Bounded<MIN, MAX> {
    async fn extract(
        _: &serenity::Context,
        _: &serenity::CommandInteraction,
        value: &serenity::ResolvedValue<'_>,
    ) -> Result<Self, poise::SlashArgError> {
        match *value {
            // Discord enforces the registered bounds, but a stale registration may not have
            // them.
            serenity::ResolvedValue::Integer(n) => Self::new(n)
                .map_err(|e| poise::SlashArgError::new_parse(Box::new(e), n.to_string())),
            _ => Err(poise::SlashArgError::new_command_structure_mismatch(
                "expected an integer",
            )),
        }
    }

    fn create(builder: serenity::CreateCommandOption) -> serenity::CreateCommandOption {
        builder
            .kind(serenity::CommandOptionType::Integer)
            .min_number_value(MIN as f64)
            .max_number_value(MAX as f64)
    }
}

#[poise::async_trait]
impl<'a, const MIN: i64, const MAX: i64> poise::PopArgument<'a> for Bounded<MIN, MAX> {
    async fn pop_from(
        args: &'a str,
        attachment_index: usize,
        ctx: &serenity::Context,
        msg: &serenity::Message,
    ) -> Result<(&'a str, usize, Self), (Box<dyn std::error::Error + Send + Sync>, Option<String>)>
    {
        let (rest, index, n) =
            <i64 as poise::PopArgument>::pop_from(args, attachment_index, ctx, msg).await?;
        match Self::new(n) {
            Ok(v) => Ok((rest, index, v)),
            Err(e) => {
                remember_rejected(msg.id, n.to_string(), e.clone());
                Err((Box::new(e), Some(n.to_string())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_inclusive_and_say_what_they_are() {
        type Q = Bounded<1, 100_000>;
        assert_eq!(Q::new(1).unwrap().get(), 1);
        assert_eq!(Q::new(100_000).unwrap().count(), 100_000);
        let e = Q::new(10_000_000).unwrap_err();
        assert_eq!(e.to_string(), "it must be a whole number from 1 to 100000");
        assert!(Q::new(0).is_err());
        assert!(Q::new(-5).is_err());
        let e = Bounded::<1, MAX_SAFE>::new(0).unwrap_err();
        assert_eq!(e.to_string(), "it must be a whole number of at least 1");
    }

    #[test]
    fn a_rejected_number_is_told_once_for_its_message() {
        let (a, b) = (serenity::MessageId::new(1), serenity::MessageId::new(2));
        let why = || Bounded::<1, 30>::new(99).unwrap_err();
        remember_rejected(a, "99".into(), why());
        remember_rejected(b, "77".into(), why());
        assert_eq!(
            take_rejected(a).map(|(input, _)| input).as_deref(),
            Some("99")
        );
        assert!(take_rejected(a).is_none());
        for i in 0..REJECTED_KEPT {
            remember_rejected(serenity::MessageId::new(100 + i as u64), "5".into(), why());
        }
        assert!(take_rejected(b).is_none(), "old entries are dropped");
    }
}
