//! `/osrs slayer`: tasks from Slayer masters, counted by `/osrs kill` and paid with points.
//! The engine picks the task (`lounge_osrs::assign_task`); the store keeps it and counts
//! kills toward it in the trip payout.

use lounge_osrs::{
    GameData, OsrsError, SKIP_COST, Skill, assign_task, best_master, data, task_name,
};
use poise::serenity_prelude as serenity;
use rand::SeedableRng;

use super::{ensure_free, members_check, messages, own_character};
use lounge_kit::user_error;
use lounge_kit::{Context, Error, bail_user, ui};
use lounge_store::{OsrsStoreError, StoredTask};

/// Slayer: get a task from a master, see how it goes, or skip it for points
#[poise::command(
    slash_command,
    prefix_command,
    subcommands("task", "status", "skip"),
    subcommand_required
)]
pub async fn slayer(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Get a Slayer task from a master (the best one your combat level allows if you name none)
#[poise::command(slash_command, prefix_command)]
pub async fn task(
    ctx: Context<'_>,
    #[description = "Turael, Mazchna, Vannaka, Chaeldar, Nieve or Duradel"]
    #[autocomplete = "autocomplete_master"]
    #[rest]
    master: Option<String>,
) -> Result<(), Error> {
    let ch = own_character(ctx).await?;
    let data = data();
    members_check(data, &ch, true, "Slayer")?;
    let store = &ctx.data().store;
    if let Some(t) = store.osrs_slayer_task(ch.user_id).await? {
        bail_user!("{}", messages::already_on_task(&t.category, t.remaining));
    }
    let master = match master {
        Some(name) => data
            .slayer_master(&name)
            .map_err(|e| user_error(messages::engine_error(&e)))?,
        None => best_master(data, &ch.skills)
            .ok_or_else(|| user_error("No Slayer master has a task for you yet."))?,
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(rand::random());
    let assignment = assign_task(master, &ch.skills, &mut rng).map_err(|e| match e {
        OsrsError::MasterTooHigh {
            master,
            combat,
            slayer,
        } => user_error(messages::master_too_high(
            &master,
            combat,
            slayer,
            ch.skills.combat_level(),
            ch.skills.level(Skill::Slayer),
        )),
        other => user_error(messages::engine_error(&other)),
    })?;
    let stored = match store.osrs_assign_slayer_task(ch.user_id, &assignment).await {
        Ok(stored) => stored,
        // Another command gave one in the meantime.
        Err(OsrsStoreError::TaskAssigned) => {
            let t = store.osrs_slayer_task(ch.user_id).await?;
            bail_user!(
                "{}",
                t.map_or_else(
                    || "You already have a Slayer task.".to_owned(),
                    |t| messages::already_on_task(&t.category, t.remaining)
                )
            );
        }
        Err(e) => return Err(e.into()),
    };
    lounge_kit::say(
        ctx,
        messages::task_assigned(
            &stored.master,
            &stored.category,
            stored.quantity,
            &places(data, &stored, ch.skills.level(Skill::Slayer)),
        ),
    )
    .await?;
    Ok(())
}

/// Show your Slayer task, points and completed tasks
#[poise::command(slash_command, prefix_command)]
pub async fn status(ctx: Context<'_>) -> Result<(), Error> {
    let ch = own_character(ctx).await?;
    let status = ctx.data().store.osrs_slayer_status(ch.user_id).await?;
    let task = match &status.task {
        Some(t) => format!(
            "{}: kill **{} more** of {} ({} assigned by {}). Found in {}.",
            task_name(&t.category),
            messages::number(t.remaining),
            t.category,
            messages::number(t.quantity),
            t.master,
            places(data(), t, ch.skills.level(Skill::Slayer)),
        ),
        None => messages::NO_TASK.to_owned(),
    };
    let embed = serenity::CreateEmbed::new()
        .title(format!("{}'s Slayer", ch.name))
        .description(task)
        .field(
            "Slayer points",
            messages::number(u64::from(status.points)),
            true,
        )
        .field("Tasks completed", messages::number(status.streak), true)
        .field(
            "Slayer level",
            ch.skills.level(Skill::Slayer).to_string(),
            true,
        );
    ctx.send(poise::CreateReply::default().embed(embed)).await?;
    Ok(())
}

/// Cancel your Slayer task for 30 Slayer points
#[poise::command(slash_command, prefix_command)]
pub async fn skip(ctx: Context<'_>) -> Result<(), Error> {
    let ch = own_character(ctx).await?;
    // A trip on the task would otherwise end after the task did, counting nothing.
    ensure_free(ctx, &ch, messages::busy).await?;
    match ctx
        .data()
        .store
        .osrs_skip_slayer_task(ch.user_id, SKIP_COST)
        .await
    {
        Ok((task, left)) => {
            lounge_kit::say(ctx, messages::skipped(&task.category, left)).await?;
            Ok(())
        }
        Err(OsrsStoreError::NoTask) => Err(user_error(messages::NO_TASK)),
        Err(OsrsStoreError::NotEnoughPoints { have, .. }) => {
            Err(user_error(messages::not_enough_points(have)))
        }
        Err(e) => Err(e.into()),
    }
}

/// Where the task's monsters the character can hurt are found: the first few places.
fn places(data: &GameData, task: &StoredTask, slayer_level: u8) -> String {
    let mut at: Vec<&str> = Vec::new();
    for m in data
        .task_monsters(&task.category)
        .filter(|m| m.slayer_level <= slayer_level)
    {
        for l in &m.locations {
            if !at.contains(&l.as_str()) {
                at.push(l);
            }
        }
    }
    match at.len() {
        0 => "places your Slayer level doesn't reach yet".to_owned(),
        1..=4 => at.join(", "),
        n => format!("{} and {} more places", at[..4].join(", "), n - 4),
    }
}

async fn autocomplete_master(
    _: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    ui::autocomplete(
        data().slayer_masters.iter().map(|m| m.name.as_str()),
        partial,
    )
}
