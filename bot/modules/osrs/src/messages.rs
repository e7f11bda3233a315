//! What the OSRS game says, in one place: error texts, trip summaries and embeds.

use std::fmt::Write as _;

use lounge_osrs::{Event, GameData, OsrsError, Skill, TripOutcome};
use poise::serenity_prelude as serenity;

use super::rules::{MAX_TRIP_MINUTES, MAX_TRIP_SECS, title};
use lounge_store::{Trip, TripKind};

pub const NO_CHARACTER: &str =
    "You don't have a character yet. Make one with `/osrs create <name> <mode>`.";
pub const THEY_HAVE_NO_CHARACTER: &str = "They don't have a character yet.";
pub const BAD_NAME: &str =
    "A name is 1 to 12 letters, digits, spaces, `-` or `_` (no space at either end).";
pub const NAME_TAKEN: &str = "That name is taken; pick another.";
pub const ALREADY_HAVE: &str = "You already have a character: see `/osrs stats`.";
pub const EMPTY_BANK: &str = "Your bank is empty.";
pub const NOTHING_MATCHES: &str = "Nothing in your bank matches that.";
pub const NO_TRIPS_YET: &str =
    "You're not on a trip and haven't been on one yet. Try `/osrs kill` or `/osrs skill`.";
pub const NO_KILLS: &str = "No kills yet.";
pub const NO_ACHIEVEMENTS: &str = "No achievements yet: they come with levels and kills.";
pub const EMPTY_BOARD: &str = "Nobody is on this leaderboard yet.";
pub const BOARD_NEEDS_ONE: &str = "Rank by a skill or by a monster's kill count, not both.";

pub const MEMBERS_ONLY_WORLD: &str = "That's a members' world and your character is free-to-play.";

pub fn trip_running(trip: &Trip) -> String {
    format!(
        "You're already {}; you'll be back <t:{}:R>. One trip at a time!",
        doing(trip),
        trip.ends_at.div_euclid(1000) + 1
    )
}

pub fn busy(trip: &Trip) -> String {
    format!(
        "You can't do that while {}; you'll be back <t:{}:R>.",
        doing(trip),
        trip.ends_at.div_euclid(1000) + 1
    )
}

pub fn needs_members_world(what: &str) -> String {
    format!(
        "{what} is members-only content. Hop to a members' world first (`/osrs world`); \
         free-to-play characters can't."
    )
}

pub fn wrong_place(activity: &str, at: &str, here: &str) -> String {
    format!("{activity} happens at {at}, and you're in {here}. Go there with `/osrs travel {at}`.")
}

/// A monster fought somewhere else than `here`; `nearest` is where travel is suggested.
pub fn monster_elsewhere(monster: &str, at: &[String], here: &str, nearest: &str) -> String {
    let places = match at {
        [] => String::from("nowhere"),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    };
    format!(
        "You can't fight {monster} in {here}: it's found in {places}. \
         Go there with `/osrs travel {nearest}`."
    )
}

/// Added to the reply of a kill trip on a Slayer task.
pub fn on_task(category: &str, remaining: u64) -> String {
    format!(
        " It counts toward your Slayer task ({} {} left).",
        number(remaining),
        category
    )
}

pub const NO_TASK: &str = "You have no Slayer task. Get one with `/osrs slayer task` (a master near your combat level is picked if you name none).";

pub fn task_assigned(master: &str, category: &str, quantity: u64, places: &str) -> String {
    format!(
        "{master} gives you a Slayer task: kill **{} {category}**. They can be found in {places}. \
         Kills with `/osrs kill` count toward it.",
        number(quantity)
    )
}

pub fn already_on_task(category: &str, remaining: u64) -> String {
    format!(
        "You already have a Slayer task: {} {category} left. Finish it, or skip it with \
         `/osrs slayer skip` ({} points).",
        number(remaining),
        lounge_osrs::SKIP_COST
    )
}

pub fn master_too_high(
    master: &str,
    combat: u8,
    slayer: u8,
    have_combat: u8,
    have_slayer: u8,
) -> String {
    let mut need = format!("combat level {combat}");
    if slayer > 1 {
        let _ = write!(need, " and Slayer {slayer}");
    }
    format!(
        "{master} only gives tasks to adventurers with {need}; you have combat level \
         {have_combat} and Slayer {have_slayer}. Try a lower master (`/osrs slayer task`)."
    )
}

pub fn skipped(category: &str, left: u32) -> String {
    format!(
        "Your {category} task is cancelled for {} Slayer points; {left} left. Get a new one with \
         `/osrs slayer task`.",
        lounge_osrs::SKIP_COST
    )
}

pub fn not_enough_points(have: u32) -> String {
    format!(
        "Skipping a task costs {} Slayer points and you have {have}. Finish it instead: \
         points come with completed tasks.",
        lounge_osrs::SKIP_COST
    )
}

pub fn unknown_location(name: &str, suggestions: &[String]) -> String {
    let mut msg = format!(
        "There's no place called `{}`",
        lounge_kit::error::sanitize(name)
    );
    did_you_mean(&mut msg, suggestions);
    msg
}

pub fn unknown_world(number: u32, worlds: &str) -> String {
    format!("There's no world {number}. Worlds: {worlds}.")
}

pub fn unknown_skill(name: &str, suggestions: &[String]) -> String {
    let mut msg = format!(
        "There's no skill called `{}`",
        lounge_kit::error::sanitize(name)
    );
    did_you_mean(&mut msg, suggestions);
    msg
}

pub fn not_in_bank(item: &str) -> String {
    format!("You don't have a {item} in your bank.")
}

pub fn not_worn(name: &str) -> String {
    format!(
        "You're not wearing `{}`.",
        lounge_kit::error::sanitize(name)
    )
}

pub fn too_long(what: &str, per_kill_secs: u64) -> String {
    let fits = MAX_TRIP_SECS / per_kill_secs.max(1);
    if fits == 0 {
        return format!(
            "Even one {what} kill takes you longer than the {MAX_TRIP_MINUTES}-minute trip limit."
        );
    }
    format!(
        "That would take longer than the {MAX_TRIP_MINUTES}-minute trip limit: about {fits} {what} kills fit in one trip."
    )
}

pub fn dies_at_once(monster: &str) -> String {
    format!(
        "You'd die before your first {monster} kill. Bring food (see `/osrs bank`), better gear or more Defence."
    )
}

pub fn nothing_done(activity: &str) -> String {
    format!("You wouldn't finish a single {activity} action in that time; try more minutes.")
}

pub fn already_there(place: &str) -> String {
    format!("You're already in {place}.")
}

/// The engine's refusals, worded for players.
pub fn engine_error(e: &OsrsError) -> String {
    match e {
        OsrsError::RequirementsNotMet(missing) => {
            let list: Vec<String> = missing
                .iter()
                .map(|m| {
                    format!(
                        "{} {} (you have {})",
                        title(m.skill.name()),
                        m.needed,
                        m.have
                    )
                })
                .collect();
            format!("You need {} for that.", list.join(", "))
        }
        OsrsError::CannotDamage { monster, style } => {
            format!("Your {style} attacks can't hurt {monster} yet. Train up or change style.")
        }
        OsrsError::MissingSupplies { activity, item } => {
            format!("{activity} needs {item} in your bank (or worn).")
        }
        other => {
            let text = title(&other.to_string());
            if text.ends_with('?') {
                text
            } else {
                text + "."
            }
        }
    }
}

fn did_you_mean(msg: &mut String, suggestions: &[String]) {
    if suggestions.is_empty() {
        msg.push('.');
    } else {
        let _ = write!(msg, ". Did you mean: {}?", suggestions.join(", "));
    }
}

/// "killing 10 × Goblin", for status lines.
pub fn doing(trip: &Trip) -> String {
    let count = trip.outcome.as_ref().map_or(0, |o| o.completed);
    match trip.kind {
        TripKind::Kill => format!("killing {count} × {}", trip.target),
        TripKind::Skill => format!("at the {} ({count} actions)", trip.target),
        TripKind::Travel => format!("travelling to {}", trip.target),
    }
}

/// "killed 10 × Goblin", for results.
fn done(trip: &Trip) -> String {
    let count = trip.outcome.as_ref().map_or(0, |o| o.completed);
    match trip.kind {
        TripKind::Kill => format!("killed {count} × {}", trip.target),
        TripKind::Skill => format!("finished {count} × {}", trip.target),
        TripKind::Travel => format!("arrived in {}", trip.target),
    }
}

/// "1h 05m", "3m 20s", "12s".
pub fn duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

/// 1234567 → "1,234,567".
pub fn number(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Keeps a field value within Discord's 1024 characters, saying how much was left out.
fn clip(lines: &[String]) -> String {
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if out.len() + line.len() + 40 > 1024 {
            let _ = write!(out, "… and {} more", lines.len() - i);
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The message a finished trip is announced with (and `/osrs trip` shows afterwards).
pub fn trip_result(
    data: &GameData,
    trip: &Trip,
    character: &str,
    achievements: &[String],
) -> serenity::CreateEmbed {
    if let Some(failure) = &trip.failure {
        return trip_failed(data, trip, character, failure);
    }
    let mut embed = serenity::CreateEmbed::new()
        .title(format!("{character} {}", done(trip)))
        .colour(serenity::Colour::DARK_GOLD);
    if let Some(o) = &trip.outcome {
        embed = embed.description(format!("Trip time: {}", duration(o.duration_secs)));
        embed = outcome_fields(data, o, embed);
    }
    if let Some(slayer) = &trip.slayer {
        embed = embed.field("Slayer task", slayer_progress(slayer), false);
    }
    if !achievements.is_empty() {
        let lines: Vec<String> = achievements.iter().map(|a| format!("🏆 {a}")).collect();
        embed = embed.field("Achievements", clip(&lines), false);
    }
    embed
}

/// A trip that could not be paid: what happened, and what came back.
fn trip_failed(
    data: &GameData,
    trip: &Trip,
    character: &str,
    failure: &lounge_store::TripFailure,
) -> serenity::CreateEmbed {
    let what = match trip.kind {
        TripKind::Kill => format!("killing {}", trip.target),
        TripKind::Skill => format!("at the {}", trip.target),
        TripKind::Travel => format!("travelling to {}", trip.target),
    };
    let back = match &failure.refunded {
        Some(bank) if bank.is_empty() => "It had used no supplies.".to_owned(),
        Some(bank) => {
            let items: Vec<String> = bank
                .named(data)
                .into_iter()
                .map(|(n, q)| format!("{} × {n}", number(q)))
                .collect();
            format!("Its supplies are back in your bank: {}.", items.join(", "))
        }
        None => "Its supplies couldn't be worked out either; the bot's owner can see why in \
                 the log."
            .to_owned(),
    };
    serenity::CreateEmbed::new()
        .title(format!("{character}'s trip ({what}) couldn't be finished"))
        .description(format!(
            "Its saved result can't be read by this version of the bot, so it earned \
             nothing. {back} You can start a new trip now."
        ))
        .colour(serenity::Colour::RED)
}

fn slayer_progress(s: &lounge_store::SlayerResult) -> String {
    if s.completed {
        format!(
            "Task complete: {} for {}! +{} Slayer points ({} tasks done). \
             Get another with `/osrs slayer task`.",
            s.category,
            s.master,
            number(u64::from(s.points)),
            number(s.streak)
        )
    } else {
        format!("{} {} left on your task.", number(s.remaining), s.category)
    }
}

fn outcome_fields(
    data: &GameData,
    o: &TripOutcome,
    mut embed: serenity::CreateEmbed,
) -> serenity::CreateEmbed {
    let xp: Vec<String> =
        o.xp.iter()
            .map(|(s, x)| format!("{} +{}", title(s.name()), number(*x)))
            .collect();
    if !xp.is_empty() {
        embed = embed.field("Experience", clip(&xp), true);
    }
    let mut loot: Vec<(u64, String)> = o
        .loot
        .iter()
        .map(|(id, q)| {
            let item = data.item(id);
            let value = item.map_or(0, |i| i.price.saturating_mul(q));
            let name = item.map_or_else(|| format!("item {id}"), |i| i.name.clone());
            (value, format!("{} × {name}", number(q)))
        })
        .collect();
    loot.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    if !loot.is_empty() {
        let lines: Vec<String> = loot.into_iter().map(|l| l.1).collect();
        embed = embed.field(
            format!("Loot ({} gp)", number(o.loot.value(data))),
            clip(&lines),
            true,
        );
    }
    if !o.consumed.is_empty() {
        let used: Vec<String> = o
            .consumed
            .named(data)
            .into_iter()
            .map(|(n, q)| format!("{} × {n}", number(q)))
            .collect();
        embed = embed.field("Used up", clip(&used), true);
    }
    let mut notes = Vec::new();
    for e in &o.events {
        match e {
            Event::LevelUp { skill, level } => {
                notes.push(format!("⬆️ {} level {level}", title(skill.name())));
            }
            Event::Died { completed } => {
                notes.push(format!(
                    "☠️ You died after {completed} kills; the trip ended there."
                ));
            }
            Event::OutOfSupplies { item, completed } => {
                let name = data.item(*item).map_or("supplies", |i| i.name.as_str());
                notes.push(format!("📦 Ran out of {name} after {completed}."));
            }
        }
    }
    if !notes.is_empty() {
        embed = embed.field("Notes", clip(&notes), false);
    }
    embed
}

/// Skills in the skills tab's three columns.
pub fn stats_embed(name: &str, skills: &lounge_osrs::Skills, mode: &str) -> serenity::CreateEmbed {
    let mut columns = [String::new(), String::new(), String::new()];
    for (i, skill) in Skill::ALL.iter().enumerate() {
        let _ = writeln!(
            columns[i % 3],
            "{} **{}**",
            title(skill.name()),
            skills.level(*skill)
        );
    }
    let mut embed = serenity::CreateEmbed::new()
        .title(format!("{name}'s stats"))
        .colour(serenity::Colour::DARK_GREEN);
    for column in columns {
        embed = embed.field("\u{200b}", column, true);
    }
    embed
        .field("Combat level", skills.combat_level().to_string(), true)
        .field("Total level", skills.total_level().to_string(), true)
        .field("Total XP", number(skills.total_xp()), true)
        .footer(serenity::CreateEmbedFooter::new(format!("Account: {mode}")))
}
