//! The OSRS game: characters, banks and gear, worlds and travel, trips that finish while you
//! do something else, leaderboards and achievements. The pure engine (`lounge-osrs`)
//! simulates each trip when it starts, from a seed stored with it; the outcome is stored
//! and paid when the trip ends (see `worker`).
//!
#![doc = include_str!("../README.md")]

mod messages;
pub mod rules;
mod slayer;
mod worker;

use std::fmt::Write as _;
use std::sync::Arc;

use lounge_osrs::{
    Amount, Character, CombatStyle, Event, GameData, Skill, Spell, TripOutcome, TripRequest,
    counts_for, data, suggestions,
};
use poise::serenity_prelude as serenity;
use rand::SeedableRng;

use lounge_kit::config::GamesConfig;
use lounge_kit::user_error;
use lounge_kit::{Command, Module, Start};
use lounge_kit::{Context, Error, bail_user, ui};
use lounge_store::{
    AccountMode, Board, NewCharacter, NewTrip, OsrsCharacter, OsrsStoreError, TripKind, now_ms,
};

pub const MODULE: Module = Module::new(
    "osrs",
    "Old School RuneScape: characters, trips, banks and leaderboards",
    commands,
)
.start(start);

fn commands() -> Vec<Command> {
    vec![osrs()]
}

/// The trip clock, and the payout worker (which needs the connected client's HTTP and stops
/// before the database pool closes).
fn start(start: &mut Start<'_>) -> Result<(), Error> {
    let config = start.config::<GamesConfig>()?;
    let runtime = Runtime::new(config.trip_time_scale);
    let worker = worker::spawn(
        start.http.clone(),
        start.store.clone(),
        runtime.trips_changed.clone(),
        start.stop.clone(),
    );
    start.spawn("trip payouts", worker);
    start.provide(runtime);
    Ok(())
}

/// What the game needs beside the store, shared by commands and the payout worker.
#[derive(Clone, Debug)]
pub struct Runtime {
    /// Real time per unit of game time (`games.trip_time_scale`).
    pub trip_time_scale: f64,
    /// Wakes the payout worker when a trip starts, so a short trip is not paid late.
    pub trips_changed: Arc<tokio::sync::Notify>,
}

impl Runtime {
    pub fn new(trip_time_scale: f64) -> Self {
        Self {
            trip_time_scale,
            trips_changed: Arc::default(),
        }
    }
}

/// OSRS: train, fight, bank and compete with your own character
#[poise::command(
    slash_command,
    prefix_command,
    subcommands(
        "create",
        "stats",
        "bank",
        "equip",
        "unequip",
        "gear",
        "world",
        "travel",
        "kill",
        "skill",
        "slayer::slayer",
        "trip",
        "kills",
        "leaderboard",
        "achievements"
    ),
    subcommand_required
)]
pub async fn osrs(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

#[derive(Clone, Copy, Debug, poise::ChoiceParameter)]
pub enum Mode {
    #[name = "members"]
    Members,
    #[name = "free"]
    Free,
}

/// Make your character
#[poise::command(slash_command, prefix_command)]
pub async fn create(
    ctx: Context<'_>,
    #[description = "Its name: 1 to 12 letters, digits, spaces, - or _"] name: String,
    #[description = "members (every world) or free (free-to-play worlds only)"] mode: Mode,
) -> Result<(), Error> {
    let name = name.trim();
    if !rules::valid_name(name) {
        bail_user!("{}", messages::BAD_NAME);
    }
    let data = data();
    let (mode, members) = match mode {
        Mode::Members => (AccountMode::Members, true),
        Mode::Free => (AccountMode::Free, false),
    };
    let Some(world) = rules::home_world(data, members) else {
        bail_user!("There's no world for that mode.");
    };
    let (bank, equipment) = rules::starter_kit(data);
    let user = ctx.author().id.get();
    let created = ctx
        .data()
        .store
        .osrs_create_character(&NewCharacter {
            user,
            name,
            mode,
            world: world.number,
            location: rules::START_LOCATION,
            bank: &bank,
            equipment: &equipment,
        })
        .await;
    match created {
        Ok(()) => {}
        Err(OsrsStoreError::AlreadyHasCharacter) => bail_user!("{}", messages::ALREADY_HAVE),
        Err(OsrsStoreError::NameTaken) => bail_user!("{}", messages::NAME_TAKEN),
        Err(e) => return Err(e.into()),
    }
    note_guild(ctx, user).await?;
    ctx.say(format!(
        "Welcome, **{name}** ({} account)! You're in {} on world {}. Your bank has a few starter \
         items; try `/osrs kill goblin` or `/osrs stats`.",
        mode.as_str(),
        rules::START_LOCATION,
        world.number
    ))
    .await?;
    Ok(())
}

/// Show a character's skills, combat level and total level
#[poise::command(slash_command, prefix_command)]
pub async fn stats(
    ctx: Context<'_>,
    #[description = "Whose stats (default: yours)"] user: Option<serenity::User>,
) -> Result<(), Error> {
    let ch = someones_character(ctx, user.as_ref()).await?;
    let embed = messages::stats_embed(&ch.name, &ch.skills, ch.mode.as_str())
        .description(format!("World {} · {}", ch.world, ch.location));
    ctx.send(poise::CreateReply::default().embed(embed)).await?;
    Ok(())
}

#[derive(Clone, Copy, Debug, poise::ChoiceParameter)]
pub enum BankSort {
    #[name = "value"]
    Value,
    #[name = "quantity"]
    Quantity,
    #[name = "name"]
    Name,
}

const BANK_PAGE: usize = 20;

/// Show your bank with its value, sorted and filtered as you like
#[poise::command(slash_command, prefix_command)]
pub async fn bank(
    ctx: Context<'_>,
    #[description = "Sort by value (default), quantity or name"] sort: Option<BankSort>,
    #[description = "Only items whose name contains this"]
    #[rest]
    search: Option<String>,
) -> Result<(), Error> {
    let ch = own_character(ctx).await?;
    let data = data();
    let bank = ctx.data().store.osrs_bank(ch.user_id).await?;
    if bank.is_empty() {
        bail_user!("{}", messages::EMPTY_BANK);
    }
    let search = search.map(|s| s.trim().to_lowercase());
    let mut rows: Vec<(String, u64, u64)> = bank
        .iter()
        .filter_map(|(id, qty)| {
            let item = data.item(id)?;
            Some((item.name.clone(), qty, item.price.saturating_mul(qty)))
        })
        .filter(|(name, ..)| {
            search
                .as_deref()
                .is_none_or(|s| name.to_lowercase().contains(s))
        })
        .collect();
    if rows.is_empty() {
        bail_user!("{}", messages::NOTHING_MATCHES);
    }
    match sort.unwrap_or(BankSort::Value) {
        BankSort::Value => rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0))),
        BankSort::Quantity => rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0))),
        BankSort::Name => rows.sort_by(|a, b| a.0.cmp(&b.0)),
    }
    let total: u64 = rows.iter().map(|r| r.2).fold(0, u64::saturating_add);
    let pages = rows
        .chunks(BANK_PAGE)
        .map(|chunk| {
            let lines: Vec<String> = chunk
                .iter()
                .map(|(name, qty, value)| {
                    format!(
                        "{} × **{name}** — {} gp",
                        messages::number(*qty),
                        messages::number(*value)
                    )
                })
                .collect();
            serenity::CreateEmbed::new()
                .title(format!("{}'s bank", ch.name))
                .description(lines.join("\n"))
                .footer(serenity::CreateEmbedFooter::new(format!(
                    "{} items · worth {} gp",
                    rows.len(),
                    messages::number(total)
                )))
        })
        .collect();
    ui::paginate(ctx, pages).await
}

/// Wear an item from your bank
#[poise::command(slash_command, prefix_command)]
pub async fn equip(
    ctx: Context<'_>,
    #[description = "The item to wear"]
    #[autocomplete = "autocomplete_wearable"]
    #[rest]
    item: String,
) -> Result<(), Error> {
    let ch = own_character(ctx).await?;
    ensure_free(ctx, &ch, messages::busy).await?;
    let data = data();
    let found = data
        .item_by_name(&item)
        .map_err(|e| user_error(messages::engine_error(&e)))?;
    let Some(equip) = &found.equip else {
        bail_user!("{} can't be worn.", found.name);
    };
    let store = &ctx.data().store;
    let missing: Vec<String> = equip
        .req
        .iter()
        .filter(|(skill, level)| ch.skills.level(*skill) < *level)
        .map(|(skill, level)| format!("{} {level}", rules::title(skill.name())))
        .collect();
    if !missing.is_empty() {
        bail_user!("You need {} to wear {}.", missing.join(", "), found.name);
    }
    let (slot, clears) = rules::slot_key(equip.slot);
    let mut also: Vec<&str> = clears.to_vec();
    // A shield can't go beside a two-handed weapon.
    if slot == "shield" {
        let worn = store.osrs_equipment(ch.user_id).await?;
        let two_handed = worn.iter().any(|(s, id)| {
            s == "weapon"
                && data
                    .item(*id)
                    .and_then(|i| i.equip.as_ref())
                    .is_some_and(|e| e.slot == lounge_osrs::Slot::TwoHanded)
        });
        if two_handed {
            also.push("weapon");
        }
    }
    let removed = match store.osrs_equip(ch.user_id, found.id, slot, &also).await {
        Ok(removed) => removed,
        Err(OsrsStoreError::MissingItem { .. }) => {
            bail_user!("{}", messages::not_in_bank(&found.name))
        }
        Err(e) => return Err(e.into()),
    };
    let mut reply = format!("You put on your {}.", found.name);
    if !removed.is_empty() {
        let names: Vec<&str> = removed
            .iter()
            .filter_map(|id| data.item(*id).map(|i| i.name.as_str()))
            .collect();
        let _ = write!(reply, " Back to the bank: {}.", names.join(", "));
    }
    ctx.say(reply).await?;
    Ok(())
}

/// Take off a worn item and put it in your bank
#[poise::command(slash_command, prefix_command)]
pub async fn unequip(
    ctx: Context<'_>,
    #[description = "The worn item to take off"]
    #[autocomplete = "autocomplete_worn"]
    #[rest]
    item: String,
) -> Result<(), Error> {
    let ch = own_character(ctx).await?;
    ensure_free(ctx, &ch, messages::busy).await?;
    let data = data();
    let store = &ctx.data().store;
    let worn = store.osrs_equipment(ch.user_id).await?;
    let wanted = item.trim();
    let Some((slot, id)) = worn.iter().find(|(slot, id)| {
        slot.eq_ignore_ascii_case(wanted)
            || data
                .item(*id)
                .is_some_and(|i| i.name.eq_ignore_ascii_case(wanted))
    }) else {
        bail_user!("{}", messages::not_worn(wanted));
    };
    store.osrs_unequip(ch.user_id, slot).await?;
    let name = data.item(*id).map_or("item", |i| i.name.as_str());
    ctx.say(format!("You took off your {name}; it's in your bank."))
        .await?;
    Ok(())
}

/// Show what a character wears and the bonuses it adds up to
#[poise::command(slash_command, prefix_command)]
pub async fn gear(
    ctx: Context<'_>,
    #[description = "Whose gear (default: yours)"] user: Option<serenity::User>,
) -> Result<(), Error> {
    let ch = someones_character(ctx, user.as_ref()).await?;
    let data = data();
    let worn = ctx.data().store.osrs_equipment(ch.user_id).await?;
    let mut totals = [0i32; 14];
    let mut lines = Vec::new();
    for slot in rules::SLOT_ORDER {
        let item = worn
            .iter()
            .find(|(s, _)| s == slot)
            .and_then(|(_, id)| data.item(*id));
        if let Some(e) = item.and_then(|i| i.equip.as_ref()) {
            for (t, v) in totals.iter_mut().zip(e.stats) {
                *t += v;
            }
        }
        lines.push(format!(
            "{}: {}",
            rules::title(slot),
            item.map_or("—", |i| i.name.as_str())
        ));
    }
    let [
        stab,
        slash,
        crush,
        magic,
        ranged,
        dstab,
        dslash,
        dcrush,
        dmagic,
        dranged,
        str_,
        rstr,
        mdmg,
        prayer,
    ] = totals;
    let embed = serenity::CreateEmbed::new()
        .title(format!("{}'s gear", ch.name))
        .description(lines.join("\n"))
        .field(
            "Attack",
            format!("Stab {stab:+} · Slash {slash:+} · Crush {crush:+}\nMagic {magic:+} · Ranged {ranged:+}"),
            false,
        )
        .field(
            "Defence",
            format!("Stab {dstab:+} · Slash {dslash:+} · Crush {dcrush:+}\nMagic {dmagic:+} · Ranged {dranged:+}"),
            false,
        )
        .field(
            "Other",
            format!("Melee strength {str_:+} · Ranged strength {rstr:+} · Magic damage {mdmg:+}% · Prayer {prayer:+}"),
            false,
        );
    ctx.send(poise::CreateReply::default().embed(embed)).await?;
    Ok(())
}

/// Show the worlds, or hop to another one (members' worlds need a members account)
#[poise::command(slash_command, prefix_command)]
pub async fn world(
    ctx: Context<'_>,
    #[description = "The world to hop to (leave out to list them)"] number: Option<u32>,
) -> Result<(), Error> {
    let ch = own_character(ctx).await?;
    let data = data();
    let Some(number) = number else {
        let lines: Vec<String> = data
            .worlds
            .iter()
            .map(|w| {
                let here = if w.number == ch.world { " ← you" } else { "" };
                let activity = if w.activity.is_empty() {
                    String::new()
                } else {
                    format!(" · {}", w.activity)
                };
                format!(
                    "**{}** {} · {}{activity}{here}",
                    w.number,
                    if w.members { "members" } else { "free" },
                    w.location
                )
            })
            .collect();
        let embed = serenity::CreateEmbed::new()
            .title("Worlds")
            .description(lines.join("\n"))
            .footer(serenity::CreateEmbedFooter::new(
                "Hop with /osrs world <number>. Members' content needs a members' world.",
            ));
        ctx.send(poise::CreateReply::default().embed(embed)).await?;
        return Ok(());
    };
    let Some(target) = data.world(number) else {
        let list: Vec<String> = data.worlds.iter().map(|w| w.number.to_string()).collect();
        bail_user!("{}", messages::unknown_world(number, &list.join(", ")));
    };
    if target.members && ch.mode == AccountMode::Free {
        bail_user!("{}", messages::MEMBERS_ONLY_WORLD);
    }
    ensure_free(ctx, &ch, messages::busy).await?;
    if target.number == ch.world {
        bail_user!("You're already on world {number}.");
    }
    ctx.data()
        .store
        .osrs_set_world(ch.user_id, target.number)
        .await?;
    ctx.say(format!(
        "You hop to world {} ({}, {}).",
        target.number,
        if target.members {
            "members"
        } else {
            "free-to-play"
        },
        target.location
    ))
    .await?;
    Ok(())
}

/// Travel somewhere; activities only happen in their own places
#[poise::command(slash_command, prefix_command)]
pub async fn travel(
    ctx: Context<'_>,
    #[description = "Where to go"]
    #[autocomplete = "autocomplete_location"]
    #[rest]
    location: String,
) -> Result<(), Error> {
    let ch = own_character(ctx).await?;
    let data = data();
    let Some(to) = rules::location(data, &location) else {
        let names = data.locations.iter().map(|l| l.name.as_str());
        bail_user!(
            "{}",
            messages::unknown_location(&location, &suggestions(&location, names))
        );
    };
    if to.name == ch.location {
        bail_user!("{}", messages::already_there(&to.name));
    }
    let secs = rules::travel_secs(rules::location(data, &ch.location), to);
    start_trip(
        ctx,
        &ch,
        Planned {
            kind: TripKind::Travel,
            target: to.name.clone(),
            seed: 0,
            outcome: None,
            game_secs: secs,
            slayer_task: None,
            note: String::new(),
        },
    )
    .await
}

#[derive(Clone, Copy, Debug, poise::ChoiceParameter)]
pub enum Style {
    #[name = "melee"]
    Melee,
    #[name = "ranged"]
    Ranged,
    #[name = "wind strike"]
    WindStrike,
    #[name = "fire strike"]
    FireStrike,
    #[name = "fire bolt"]
    FireBolt,
    #[name = "fire blast"]
    FireBlast,
    #[name = "fire wave"]
    FireWave,
}

impl Style {
    fn engine(self) -> CombatStyle {
        match self {
            Self::Melee => CombatStyle::Melee,
            Self::Ranged => CombatStyle::Ranged,
            Self::WindStrike => CombatStyle::Magic(Spell::WindStrike),
            Self::FireStrike => CombatStyle::Magic(Spell::FireStrike),
            Self::FireBolt => CombatStyle::Magic(Spell::FireBolt),
            Self::FireBlast => CombatStyle::Magic(Spell::FireBlast),
            Self::FireWave => CombatStyle::Magic(Spell::FireWave),
        }
    }
}

/// Go on a trip to kill a monster (as many as fit in a trip if you leave out the amount)
#[poise::command(slash_command, prefix_command)]
pub async fn kill(
    ctx: Context<'_>,
    #[description = "The monster to fight (those where you are come first)"]
    #[autocomplete = "autocomplete_monster_here"]
    monster: String,
    #[description = "How many to kill (default: as many as fit in one trip)"]
    #[min = 1]
    #[max = 100_000]
    quantity: Option<u32>,
    #[description = "How to fight (default: melee)"] style: Option<Style>,
) -> Result<(), Error> {
    let ch = own_character(ctx).await?;
    ensure_free(ctx, &ch, messages::trip_running).await?;
    let data = data();
    let found = data
        .monster(&monster)
        .map_err(|e| user_error(messages::engine_error(&e)))?;
    members_check(data, &ch, found.members, &found.name)?;
    if !found.is_at(&ch.location) {
        let nearest = found
            .locations
            .iter()
            .min_by_key(|l| {
                rules::location(data, l).map_or(u64::MAX, |to| {
                    rules::travel_secs(rules::location(data, &ch.location), to)
                })
            })
            .map_or("", String::as_str);
        bail_user!(
            "{}",
            messages::monster_elsewhere(&found.name, &found.locations, &ch.location, nearest)
        );
    }
    let store = &ctx.data().store;
    // Kills of a monster of the task's category count toward it; a trip stops when the task
    // is done, as the game gives no Slayer experience past it.
    let task = store
        .osrs_slayer_task(ch.user_id)
        .await?
        .filter(|t| counts_for(found, &t.category));
    let character = engine_character(ctx, &ch).await?;
    // The best food in the bank; the engine eats only what it must.
    let food = character
        .inventory
        .iter()
        .filter_map(|(id, _)| Some((data.food_heal(id)?, id)))
        .max()
        .map(|(_, id)| id);
    let style = style.unwrap_or(Style::Melee).engine();
    let request = |amount| TripRequest::Combat {
        monster: found.name.clone(),
        amount,
        style,
        food,
        on_task: task.is_some(),
    };
    let whole_trip = Amount::Minutes(rules::MAX_TRIP_MINUTES);
    let amount = match (quantity.map(u64::from), &task) {
        (Some(q), Some(t)) => Amount::Count(q.min(t.remaining)),
        (Some(q), None) => Amount::Count(q),
        (None, Some(t)) => Amount::Count(t.remaining),
        (None, None) => whole_trip,
    };
    let (mut seed, mut outcome) = simulate(&character, &request(amount))?;
    // Without an amount, the rest of the task is the trip unless it doesn't fit in one.
    if quantity.is_none() && task.is_some() && outcome.duration_secs > rules::MAX_TRIP_SECS {
        (seed, outcome) = simulate(&character, &request(whole_trip))?;
    }
    if outcome.completed == 0 {
        if let Some(Event::OutOfSupplies { item, .. }) = outcome.events.first() {
            let name = data.item(*item).map_or("supplies", |i| i.name.as_str());
            bail_user!("You'd run out of {name} before the first kill.");
        }
        bail_user!("{}", messages::dies_at_once(&found.name));
    }
    if outcome.duration_secs > rules::MAX_TRIP_SECS {
        let per_kill = outcome.duration_secs / outcome.completed.max(1);
        bail_user!("{}", messages::too_long(&found.name, per_kill));
    }
    let note = task
        .as_ref()
        .map(|t| messages::on_task(&t.category, t.remaining))
        .unwrap_or_default();
    start_trip(
        ctx,
        &ch,
        Planned {
            kind: TripKind::Kill,
            target: found.name.clone(),
            seed,
            game_secs: outcome.duration_secs,
            outcome: Some(outcome),
            slayer_task: task.map(|t| t.id),
            note,
        },
    )
    .await
}

/// Go on a skilling trip (woodcutting, mining, fishing, ...) where the activity happens
#[poise::command(slash_command, prefix_command)]
pub async fn skill(
    ctx: Context<'_>,
    #[description = "The activity, e.g. Oak tree"]
    #[autocomplete = "autocomplete_activity"]
    activity: String,
    #[description = "Minutes of game time (default and most: 30)"]
    #[min = 1]
    #[max = 30]
    minutes: Option<u32>,
) -> Result<(), Error> {
    let ch = own_character(ctx).await?;
    ensure_free(ctx, &ch, messages::trip_running).await?;
    let data = data();
    let found = data
        .activity(&activity)
        .map_err(|e| user_error(messages::engine_error(&e)))?;
    members_check(
        data,
        &ch,
        rules::MEMBERS_SKILLS.contains(&found.skill),
        &found.name,
    )?;
    if !found.location.eq_ignore_ascii_case(&ch.location) {
        bail_user!(
            "{}",
            messages::wrong_place(&found.name, &found.location, &ch.location)
        );
    }
    let character = engine_character(ctx, &ch).await?;
    let minutes = u64::from(minutes.unwrap_or(30)).min(rules::MAX_TRIP_MINUTES);
    let request = TripRequest::Skilling {
        activity: found.name.clone(),
        amount: Amount::Minutes(minutes),
    };
    let (seed, outcome) = simulate(&character, &request)?;
    if outcome.completed == 0 {
        bail_user!("{}", messages::nothing_done(&found.name));
    }
    start_trip(
        ctx,
        &ch,
        Planned {
            kind: TripKind::Skill,
            target: found.name.clone(),
            seed,
            game_secs: outcome.duration_secs,
            outcome: Some(outcome),
            slayer_task: None,
            note: String::new(),
        },
    )
    .await
}

/// Show your current trip and the time left, or how your last one went
#[poise::command(slash_command, prefix_command)]
pub async fn trip(ctx: Context<'_>) -> Result<(), Error> {
    let ch = own_character(ctx).await?;
    let store = &ctx.data().store;
    if let Some(trip) = store.osrs_active_trip(ch.user_id).await? {
        let left_ms = (trip.ends_at - now_ms()).max(0);
        ctx.say(format!(
            "**{}** is {}: back <t:{}:R> ({} left).",
            ch.name,
            messages::doing(&trip),
            trip.ends_at.div_euclid(1000) + 1,
            messages::duration((left_ms as u64).div_ceil(1000))
        ))
        .await?;
        return Ok(());
    }
    let Some(last) = store.osrs_last_trip(ch.user_id).await? else {
        bail_user!("{}", messages::NO_TRIPS_YET);
    };
    let embed = messages::trip_result(data(), &last, &ch.name, &[]).footer(
        serenity::CreateEmbedFooter::new("Your last trip. You're free for another."),
    );
    ctx.send(poise::CreateReply::default().embed(embed)).await?;
    Ok(())
}

/// Show a character's kill counts
#[poise::command(slash_command, prefix_command)]
pub async fn kills(
    ctx: Context<'_>,
    #[description = "Whose kill counts (default: yours)"] user: Option<serenity::User>,
) -> Result<(), Error> {
    let ch = someones_character(ctx, user.as_ref()).await?;
    let kills = ctx.data().store.osrs_kills(ch.user_id).await?;
    if kills.is_empty() {
        bail_user!("{}", messages::NO_KILLS);
    }
    let lines: Vec<String> = kills
        .iter()
        .take(40)
        .map(|(m, k)| format!("{m}: **{}**", messages::number(*k)))
        .collect();
    let embed = serenity::CreateEmbed::new()
        .title(format!("{}'s kill counts", ch.name))
        .description(lines.join("\n"));
    ctx.send(poise::CreateReply::default().embed(embed)).await?;
    Ok(())
}

const BOARD_SIZE: i64 = 50;
const BOARD_PAGE: usize = 10;

/// Rank characters by total level, a skill's XP or a monster's kill count
#[poise::command(slash_command, prefix_command)]
pub async fn leaderboard(
    ctx: Context<'_>,
    #[description = "Rank by this skill's experience"]
    #[autocomplete = "autocomplete_skill"]
    skill: Option<String>,
    #[description = "Rank by kill count of this monster"]
    #[autocomplete = "autocomplete_monster"]
    monster: Option<String>,
    #[description = "Rank every player, not only this server's"] everywhere: Option<bool>,
) -> Result<(), Error> {
    let data = data();
    let (board, title, unit) = match (skill, monster) {
        (Some(_), Some(_)) => bail_user!("{}", messages::BOARD_NEEDS_ONE),
        (Some(name), None) => {
            let Some(skill) = Skill::from_name(name.trim()) else {
                let names = Skill::ALL.iter().map(|s| s.name());
                bail_user!(
                    "{}",
                    messages::unknown_skill(&name, &suggestions(&name, names))
                );
            };
            (
                Board::Skill(skill),
                format!("{} experience", rules::title(skill.name())),
                "xp",
            )
        }
        (None, Some(name)) => {
            let found = data
                .monster(&name)
                .map_err(|e| user_error(messages::engine_error(&e)))?;
            (
                Board::Kills(&found.name),
                format!("{} kills", found.name),
                "kills",
            )
        }
        (None, None) => (Board::TotalLevel, "Total level".to_owned(), "total"),
    };
    let guild = ctx.guild_id().filter(|_| !everywhere.unwrap_or(false));
    let rows = ctx
        .data()
        .store
        .osrs_leaderboard(board, guild.map(serenity::GuildId::get), BOARD_SIZE)
        .await?;
    if rows.is_empty() {
        bail_user!("{}", messages::EMPTY_BOARD);
    }
    let scope = if guild.is_some() {
        "this server"
    } else {
        "everywhere"
    };
    let pages = rows
        .chunks(BOARD_PAGE)
        .enumerate()
        .map(|(page, chunk)| {
            let lines: Vec<String> = chunk
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    format!(
                        "**{}.** {} — {} {unit}",
                        page * BOARD_PAGE + i + 1,
                        r.name,
                        messages::number(r.value.max(0) as u64)
                    )
                })
                .collect();
            serenity::CreateEmbed::new()
                .title(format!("Leaderboard: {title} ({scope})"))
                .description(lines.join("\n"))
        })
        .collect();
    ui::paginate(ctx, pages).await
}

/// Show the milestones a character has reached
#[poise::command(slash_command, prefix_command)]
pub async fn achievements(
    ctx: Context<'_>,
    #[description = "Whose achievements (default: yours)"] user: Option<serenity::User>,
) -> Result<(), Error> {
    let ch = someones_character(ctx, user.as_ref()).await?;
    let store = &ctx.data().store;
    let earned = store.osrs_achievements(ch.user_id).await?;
    if earned.is_empty() {
        bail_user!("{}", messages::NO_ACHIEVEMENTS);
    }
    let kills = store.osrs_kills(ch.user_id).await?;
    let lines: Vec<String> = earned
        .iter()
        .map(|(key, at)| {
            format!(
                "🏆 {} — <t:{}:d>",
                rules::achievement_name(key, &ch.skills, &kills),
                at.div_euclid(1000)
            )
        })
        .collect();
    let pages = lines
        .chunks(15)
        .map(|chunk| {
            serenity::CreateEmbed::new()
                .title(format!("{}'s achievements ({})", ch.name, lines.len()))
                .description(chunk.join("\n"))
        })
        .collect();
    ui::paginate(ctx, pages).await
}

/// The invoker's character, or the "make one first" error.
async fn own_character(ctx: Context<'_>) -> Result<OsrsCharacter, Error> {
    ctx.data()
        .store
        .osrs_character(ctx.author().id.get())
        .await?
        .ok_or_else(|| user_error(messages::NO_CHARACTER))
}

async fn someones_character(
    ctx: Context<'_>,
    user: Option<&serenity::User>,
) -> Result<OsrsCharacter, Error> {
    match user {
        Some(u) if u.id != ctx.author().id => ctx
            .data()
            .store
            .osrs_character(u.id.get())
            .await?
            .ok_or_else(|| user_error(messages::THEY_HAVE_NO_CHARACTER)),
        _ => own_character(ctx).await,
    }
}

/// Refuses while a trip runs, worded by `message` (starting another trip, hopping, gear).
async fn ensure_free(
    ctx: Context<'_>,
    ch: &OsrsCharacter,
    message: fn(&lounge_store::Trip) -> String,
) -> Result<(), Error> {
    match ctx.data().store.osrs_active_trip(ch.user_id).await? {
        Some(trip) => Err(user_error(message(&trip))),
        None => Ok(()),
    }
}

/// Members' content needs a members' world (free characters can never be on one).
fn members_check(
    data: &GameData,
    ch: &OsrsCharacter,
    members_content: bool,
    what: &str,
) -> Result<(), Error> {
    let on_members_world = data.world(ch.world).is_some_and(|w| w.members);
    if members_content && !on_members_world {
        return Err(user_error(messages::needs_members_world(what)));
    }
    Ok(())
}

/// The character as the engine sees it: skills, worn items, and the whole bank as what it
/// carries (food, ammunition, runes, tools and logs come from there).
async fn engine_character(ctx: Context<'_>, ch: &OsrsCharacter) -> Result<Character, Error> {
    let store = &ctx.data().store;
    let equipment = store
        .osrs_equipment(ch.user_id)
        .await?
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    Ok(Character {
        skills: ch.skills.clone(),
        equipment,
        inventory: store.osrs_bank(ch.user_id).await?,
    })
}

/// Runs the engine with a fresh seed; the seed is stored with the trip so it replays exactly.
fn simulate(character: &Character, request: &TripRequest) -> Result<(u64, TripOutcome), Error> {
    let seed = rand::random::<u64>();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    lounge_osrs::simulate(data(), character, request, &mut rng)
        .map(|outcome| (seed, outcome))
        .map_err(|e| user_error(messages::engine_error(&e)))
}

/// A simulated trip, ready to store and announce.
struct Planned {
    kind: TripKind,
    target: String,
    seed: u64,
    outcome: Option<TripOutcome>,
    game_secs: u64,
    slayer_task: Option<i64>,
    /// Added to the "you're off" reply.
    note: String,
}

async fn start_trip(ctx: Context<'_>, ch: &OsrsCharacter, plan: Planned) -> Result<(), Error> {
    let Planned {
        kind,
        target,
        seed,
        outcome,
        game_secs,
        slayer_task,
        note,
    } = plan;
    let now = now_ms();
    let ends_at =
        now + rules::real_millis(game_secs, ctx.data().state::<Runtime>()?.trip_time_scale);
    let consumed = outcome
        .as_ref()
        .map(|o| o.consumed.clone())
        .unwrap_or_default();
    let new = NewTrip {
        user: ch.user_id,
        guild: ctx.guild_id().map(serenity::GuildId::get),
        channel: ctx.channel_id().get(),
        kind,
        target,
        seed,
        outcome,
        consumed,
        started_at: now,
        ends_at,
        slayer_task,
    };
    let store = &ctx.data().store;
    match store.osrs_start_trip(&new).await {
        Ok(_) => {}
        Err(OsrsStoreError::TripRunning) => {
            let running = store.osrs_active_trip(ch.user_id).await?;
            bail_user!(
                "{}",
                running.map_or_else(
                    || "You're already on a trip.".to_owned(),
                    |t| messages::trip_running(&t)
                )
            );
        }
        // The bank changed between the simulation and now (another trip's supplies).
        Err(OsrsStoreError::MissingItem { item, .. }) => {
            let name = data().item(item).map_or("supplies", |i| i.name.as_str());
            bail_user!("You no longer have enough {name} for that trip.");
        }
        Err(e) => return Err(e.into()),
    }
    note_guild(ctx, ch.user_id).await?;
    ctx.data().state::<Runtime>()?.trips_changed.notify_one();
    let trip = lounge_store::Trip {
        id: 0,
        user_id: ch.user_id,
        guild_id: new.guild,
        channel_id: new.channel,
        kind,
        target: new.target,
        seed,
        outcome: new.outcome,
        active: true,
        started_at: now,
        ends_at,
        finished_at: None,
        earned: None,
        slayer_task,
        slayer: None,
    };
    ctx.say(format!(
        "**{}** is now {} ({} of game time). You'll be back <t:{}:R>; the result will be posted here.{note}",
        ch.name,
        messages::doing(&trip),
        messages::duration(game_secs),
        ends_at.div_euclid(1000) + 1
    ))
    .await?;
    Ok(())
}

async fn note_guild(ctx: Context<'_>, user: u64) -> Result<(), Error> {
    if let Some(guild) = ctx.guild_id() {
        ctx.data().store.osrs_note_guild(guild.get(), user).await?;
    }
    Ok(())
}

async fn autocomplete_monster(
    _: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    ui::autocomplete(data().monsters.iter().map(|m| m.name.as_str()), partial)
}

/// Monsters for `/osrs kill`: those where the character is come first (nobody is anywhere
/// without a character, so then it is the plain list).
async fn autocomplete_monster_here(
    ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let here = ctx
        .data()
        .store
        .osrs_character(ctx.author().id.get())
        .await
        .ok()
        .flatten()
        .map(|ch| ch.location)
        .unwrap_or_default();
    ui::autocomplete(rules::monsters_here_first(data(), &here), partial)
}

async fn autocomplete_activity(
    _: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    ui::autocomplete(data().activities.iter().map(|a| a.name.as_str()), partial)
}

async fn autocomplete_location(
    _: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    ui::autocomplete(data().locations.iter().map(|l| l.name.as_str()), partial)
}

async fn autocomplete_skill(_: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    ui::autocomplete(Skill::ALL.iter().map(|s| s.name()), partial)
}

async fn autocomplete_wearable(
    ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let data = data();
    let bank = ctx
        .data()
        .store
        .osrs_bank(ctx.author().id.get())
        .await
        .unwrap_or_default();
    let names: Vec<&str> = bank
        .iter()
        .filter_map(|(id, _)| data.item(id))
        .filter(|i| i.equip.is_some())
        .map(|i| i.name.as_str())
        .collect();
    ui::autocomplete(names, partial)
}

async fn autocomplete_worn(
    ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let data = data();
    let worn = ctx
        .data()
        .store
        .osrs_equipment(ctx.author().id.get())
        .await
        .unwrap_or_default();
    let names: Vec<&str> = worn
        .iter()
        .filter_map(|(_, id)| data.item(*id))
        .map(|i| i.name.as_str())
        .collect();
    ui::autocomplete(names, partial)
}
