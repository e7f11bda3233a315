//! Button pagination for any list of embeds: only the invoker turns pages, and the buttons go
//! away when nobody has pressed one for a while.

use std::time::Duration;

use poise::serenity_prelude as serenity;

use crate::{Context, Error, messages};

const IDLE_TIMEOUT: Duration = Duration::from_mins(2);

pub async fn paginate(ctx: Context<'_>, pages: Vec<serenity::CreateEmbed>) -> Result<(), Error> {
    let Some(first) = pages.first().cloned() else {
        crate::reply::say(ctx, "Nothing to show.").await?;
        return Ok(());
    };
    if pages.len() == 1 {
        ctx.send(poise::CreateReply::default().embed(first)).await?;
        return Ok(());
    }
    let id = ctx.id();
    let prev_id = format!("{id}:prev");
    let next_id = format!("{id}:next");
    let buttons = |page: usize| {
        vec![serenity::CreateActionRow::Buttons(vec![
            serenity::CreateButton::new(&prev_id)
                .label("◀ Prev")
                .style(serenity::ButtonStyle::Secondary),
            serenity::CreateButton::new(format!("{id}:page"))
                .label(format!("{} / {}", page + 1, pages.len()))
                .style(serenity::ButtonStyle::Secondary)
                .disabled(true),
            serenity::CreateButton::new(&next_id)
                .label("Next ▶")
                .style(serenity::ButtonStyle::Secondary),
        ])]
    };
    let handle = ctx
        .send(
            poise::CreateReply::default()
                .embed(first)
                .components(buttons(0)),
        )
        .await?;

    let mut page = 0;
    let mut presses = super::ButtonPresses::new(ctx, format!("{id}:"));
    while let Some(press) = presses.next(IDLE_TIMEOUT).await {
        if press.user.id != ctx.author().id {
            super::answer_privately(ctx, &press, messages::ONLY_INVOKER_PAGES).await?;
            continue;
        }
        page = if press.data.custom_id == next_id {
            (page + 1) % pages.len()
        } else if press.data.custom_id == prev_id {
            page.checked_sub(1).unwrap_or(pages.len() - 1)
        } else {
            page
        };
        press
            .create_response(
                ctx,
                serenity::CreateInteractionResponse::UpdateMessage(
                    serenity::CreateInteractionResponseMessage::new()
                        .embed(pages[page].clone())
                        .components(buttons(page)),
                ),
            )
            .await?;
    }
    // Timed out: leave the current page, drop the dead buttons.
    handle
        .edit(
            ctx,
            poise::CreateReply::default()
                .embed(pages[page].clone())
                .components(Vec::new()),
        )
        .await?;
    Ok(())
}
