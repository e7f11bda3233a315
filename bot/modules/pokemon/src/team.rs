//! `/pokemon team`: the Pokémon a trainer battles with, up to six in order. Without a team,
//! the selected Pokémon battles alone.

use super::{messages, parse_ids};
use lounge_kit::Text as _;
use lounge_kit::{Context, Error, bail_user};
use lounge_store::{PokemonError, TEAM_SIZE};

/// Choose, show or clear the Pokémon you battle with
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    subcommands("set", "show", "clear"),
    subcommand_required
)]
pub async fn team(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Choose up to six of your Pokémon to battle with, in order (the first leads)
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn set(
    ctx: Context<'_>,
    #[description = "Pokémon numbers in battle order, e.g. 12, 15, 3 (see /pokemon list)"]
    #[rest]
    ids: String,
) -> Result<(), Error> {
    let ids = parse_ids(&ids);
    if ids.is_empty() {
        bail_user!("{}", messages::TEAM_USAGE);
    }
    if ids.len() > TEAM_SIZE {
        bail_user!(
            "A team has at most {TEAM_SIZE} Pokémon; you listed {}.",
            ids.len()
        );
    }
    let user = ctx.author().id.get();
    let team = match ctx.data().store.set_team(user, &ids).await {
        Ok(team) => team,
        Err(PokemonError::NotOwned { id, .. }) => bail_user!("You don't have a Pokémon #{id}."),
        Err(PokemonError::ListedTwice { id }) => {
            bail_user!("#{id} is in the list twice; a Pokémon can only be in a team once.")
        }
        Err(e) => return Err(lounge_kit::refusal(e)),
    };
    ctx.send(
        poise::CreateReply::default()
            .text("Your battle team is ready.")
            .embed(messages::team_embed(&ctx.author().name, &team)),
    )
    .await?;
    Ok(())
}

/// Show your battle team
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn show(ctx: Context<'_>) -> Result<(), Error> {
    let team = ctx.data().store.team(ctx.author().id.get()).await?;
    if team.is_empty() {
        lounge_kit::say(ctx, messages::NO_TEAM).await?;
        return Ok(());
    }
    ctx.send(poise::CreateReply::default().embed(messages::team_embed(&ctx.author().name, &team)))
        .await?;
    Ok(())
}

/// Clear your battle team (your selected Pokémon battles alone again)
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn clear(ctx: Context<'_>) -> Result<(), Error> {
    if !ctx.data().store.clear_team(ctx.author().id.get()).await? {
        bail_user!("{}", messages::NO_TEAM);
    }
    lounge_kit::say(
        ctx,
        "Your team is cleared: your selected Pokémon battles alone again.",
    )
    .await?;
    Ok(())
}
