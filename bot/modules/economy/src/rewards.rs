//! `/daily`, `/weekly` and `/work`: coins on a timer. The store pays each claim exactly once
//! (see `lounge_store::ClaimRules`); this file holds the amounts and the wording.

use lounge_kit::{Command, Context, Error, RefusalExt};
use lounge_store::{ClaimRules, Claimed};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// A day between claims; a day's grace after that keeps the streak.
pub const DAILY: ClaimRules = ClaimRules {
    kind: "daily",
    period_ms: DAY_MS,
    streak_window_ms: 2 * DAY_MS,
};
pub const WEEKLY: ClaimRules = ClaimRules {
    kind: "weekly",
    period_ms: 7 * DAY_MS,
    streak_window_ms: 8 * DAY_MS,
};
pub const WORK: ClaimRules = ClaimRules {
    kind: "work",
    period_ms: HOUR_MS,
    streak_window_ms: HOUR_MS,
};

const DAILY_BASE: i64 = 100;
const DAILY_BONUS_PER_DAY: i64 = 10;
/// The bonus stops growing after ten days in a row.
const DAILY_MAX_BONUS: i64 = 100;
const WEEKLY_AMOUNT: i64 = 700;
const WORK_PAY: std::ops::RangeInclusive<i64> = 20..=60;

/// Day `streak` of a daily run pays the base plus 10 for every day before it, up to 100.
pub fn daily_amount(streak: i64) -> i64 {
    let bonus = streak
        .saturating_sub(1)
        .saturating_mul(DAILY_BONUS_PER_DAY)
        .clamp(0, DAILY_MAX_BONUS);
    DAILY_BASE + bonus
}

mod text {
    pub const JOBS: &[&str] = &[
        "You walked the server's dogs.",
        "You fixed a bug nobody had reported yet.",
        "You moderated a very heated debate about pineapple on pizza.",
        "You delivered pizza (with pineapple).",
        "You reorganised the emoji list by colour.",
        "You caught a Magikarp and sold the story to the papers.",
        "You chopped oak logs until your arms gave out.",
        "You translated the rules into pirate.",
    ];

    pub fn daily(c: &super::Claimed, next_at_s: i64) -> String {
        let days = if c.streak == 1 { "day" } else { "days" };
        format!(
            "You claimed **{} coins** for today (streak: {} {days}). You have {} coins. \
             Next daily <t:{next_at_s}:R>; miss a whole day and the streak starts over.",
            c.amount, c.streak, c.balance
        )
    }

    pub fn weekly(c: &super::Claimed, next_at_s: i64) -> String {
        format!(
            "You claimed **{} coins** for this week. You have {} coins. Next weekly \
             <t:{next_at_s}:R>.",
            c.amount, c.balance
        )
    }

    pub fn work(job: &str, c: &super::Claimed, next_at_s: i64) -> String {
        format!(
            "{job} You earned **{} coins** and have {}. You can work again <t:{next_at_s}:R>.",
            c.amount, c.balance
        )
    }
}

pub fn commands() -> Vec<Command> {
    vec![daily(), weekly(), work()]
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

async fn claim(
    ctx: Context<'_>,
    rules: ClaimRules,
    amount: impl Fn(i64) -> i64,
) -> Result<(Claimed, i64), Error> {
    let now = now_ms();
    let claimed = ctx
        .data()
        .store
        .claim_reward(ctx.author().id.get(), rules, now, amount)
        .await
        .refused()?;
    Ok((claimed, (now + rules.period_ms) / 1000 + 1))
}

/// Claim your daily coins; days in a row earn a bonus
#[poise::command(slash_command, prefix_command)]
pub async fn daily(ctx: Context<'_>) -> Result<(), Error> {
    let (claimed, next) = claim(ctx, DAILY, daily_amount).await?;
    lounge_kit::say(ctx, text::daily(&claimed, next)).await?;
    Ok(())
}

/// Claim your weekly coins
#[poise::command(slash_command, prefix_command)]
pub async fn weekly(ctx: Context<'_>) -> Result<(), Error> {
    let (claimed, next) = claim(ctx, WEEKLY, |_| WEEKLY_AMOUNT).await?;
    lounge_kit::say(ctx, text::weekly(&claimed, next)).await?;
    Ok(())
}

/// Do an odd job for a few coins, once an hour
#[poise::command(slash_command, prefix_command)]
pub async fn work(ctx: Context<'_>) -> Result<(), Error> {
    let pay = rand::random_range(WORK_PAY);
    let job = text::JOBS[rand::random_range(0..text::JOBS.len())];
    let (claimed, next) = claim(ctx, WORK, |_| pay).await?;
    lounge_kit::say(ctx, text::work(job, &claimed, next)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daily_bonus_grows_ten_a_day_up_to_a_hundred() {
        assert_eq!(daily_amount(1), 100);
        assert_eq!(daily_amount(2), 110);
        assert_eq!(daily_amount(11), 200);
        assert_eq!(daily_amount(500), 200);
        assert_eq!(daily_amount(i64::MAX), 200);
        assert_eq!(daily_amount(0), 100);
    }
}
