//! `/osrs create` and `/osrs stats`: making a character and looking at one.

use lounge_osrs::data;
use poise::serenity_prelude as serenity;

use crate::{messages, note_guild, rules, someones_character};
use lounge_kit::{Context, Error, bail_user};
use lounge_store::{AccountMode, NewCharacter, OsrsStoreError};

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
    lounge_kit::say(ctx, format!(
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
