//! `/osrs world` and `/osrs travel`: where a character is. Travel is a trip like any other.

use lounge_osrs::{data, suggestions};
use poise::serenity_prelude as serenity;

use crate::trips::{Planned, start_trip};
use crate::{ensure_free, messages, own_character, rules};
use lounge_kit::{Context, Error, bail_user, ui};
use lounge_store::{AccountMode, TripKind};

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
    lounge_kit::say(
        ctx,
        format!(
            "You hop to world {} ({}, {}).",
            target.number,
            if target.members {
                "members"
            } else {
                "free-to-play"
            },
            target.location
        ),
    )
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

async fn autocomplete_location(
    _: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    ui::autocomplete(data().locations.iter().map(|l| l.name.as_str()), partial)
}
