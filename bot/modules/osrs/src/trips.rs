//! `/osrs kill`, `/osrs skill` and `/osrs trip`: trips simulated when they start and paid when
//! they end (see `worker`), and the start shared with travel.

use lounge_kit::Bounded;
use lounge_osrs::{
    Amount, Character, CombatStyle, Event, Spell, TripOutcome, TripRequest, counts_for, data,
};
use poise::serenity_prelude as serenity;
use rand::SeedableRng;

use crate::{Runtime, ensure_free, members_check, messages, note_guild, own_character, rules};
use lounge_kit::user_error;
use lounge_kit::{Context, Error, bail_user, ui};
use lounge_store::{NewTrip, OsrsCharacter, OsrsStoreError, TripKind, now_ms};

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
    #[description = "How many to kill (default: as many as fit in one trip)"] quantity: Option<
        Bounded<1, 100_000>,
    >,
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
    let amount = match (quantity.map(Bounded::count), &task) {
        (Some(q), Some(t)) => Amount::Count(q.min(t.remaining)),
        (Some(q), None) => Amount::Count(q),
        (None, Some(t)) => Amount::Count(t.remaining),
        (None, None) => whole_trip,
    };
    let (mut seed, mut outcome) = simulate(&character, &request(amount)).await?;
    // Without an amount, the rest of the task is the trip unless it doesn't fit in one.
    if quantity.is_none() && task.is_some() && outcome.duration_secs > rules::MAX_TRIP_SECS {
        (seed, outcome) = simulate(&character, &request(whole_trip)).await?;
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
    #[description = "Minutes of game time (default and most: 30)"] minutes: Option<Bounded<1, 30>>,
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
    let minutes = minutes
        .map_or(30, Bounded::count)
        .min(rules::MAX_TRIP_MINUTES);
    let request = TripRequest::Skilling {
        activity: found.name.clone(),
        amount: Amount::Minutes(minutes),
    };
    let (seed, outcome) = simulate(&character, &request).await?;
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
        lounge_kit::say(
            ctx,
            format!(
                "**{}** is {}: back <t:{}:R> ({} left).",
                ch.name,
                messages::doing(&trip),
                trip.ends_at.div_euclid(1000) + 1,
                messages::duration((left_ms as u64).div_ceil(1000))
            ),
        )
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

/// Engine runs at once. A trip is CPU work (up to 100,000 simulated kills, a few
/// milliseconds), so it runs on the blocking pool rather than the async workers that serve the
/// gateway, and a burst of trips waits here for a slot instead of taking every core.
static ENGINE_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Runs the engine with a fresh seed; the seed is stored with the trip so it replays exactly.
async fn simulate(
    character: &Character,
    request: &TripRequest,
) -> Result<(u64, TripOutcome), Error> {
    let _slot = ENGINE_SLOTS.acquire().await?;
    let seed = rand::random::<u64>();
    let (character, request) = (character.clone(), request.clone());
    let outcome = tokio::task::spawn_blocking(move || {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        lounge_osrs::simulate(data(), &character, &request, &mut rng)
    })
    .await?;
    outcome
        .map(|outcome| (seed, outcome))
        .map_err(|e| user_error(messages::engine_error(&e)))
}

/// A simulated trip, ready to store and announce.
pub(crate) struct Planned {
    pub(crate) kind: TripKind,
    pub(crate) target: String,
    pub(crate) seed: u64,
    pub(crate) outcome: Option<TripOutcome>,
    pub(crate) game_secs: u64,
    pub(crate) slayer_task: Option<i64>,
    /// Added to the "you're off" reply.
    pub(crate) note: String,
}

pub(crate) async fn start_trip(
    ctx: Context<'_>,
    ch: &OsrsCharacter,
    plan: Planned,
) -> Result<(), Error> {
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
        failure: None,
    };
    lounge_kit::say(ctx, format!(
        "**{}** is now {} ({} of game time). You'll be back <t:{}:R>; the result will be posted here.{note}",
        ch.name,
        messages::doing(&trip),
        messages::duration(game_secs),
        ends_at.div_euclid(1000) + 1
    ))
    .await?;
    Ok(())
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
