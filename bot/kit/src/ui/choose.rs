//! One question with a few buttons, answered by the member who ran the command: "Resume at
//! 1:02:03 or start over?". Others pressing get a private "not yours"; no answer in time
//! takes the default, said in the message.

use std::time::Duration;

use poise::serenity_prelude as serenity;

use crate::reply::Text as _;
use crate::{Context, Error, messages};

/// One button: its label and whether it is the highlighted (primary) choice.
pub struct Choice<'a> {
    pub label: &'a str,
    pub primary: bool,
}

/// What the member chose, and the press to answer (or `None` when the wait ran out and
/// `default` was taken; the message then says so).
pub struct Chosen {
    pub index: usize,
    pub press: Option<serenity::ComponentInteraction>,
}

/// Asks `question` with one button per choice; returns the index pressed by the invoker, or
/// `default` after `wait` (the buttons are removed either way).
pub async fn choose(
    ctx: Context<'_>,
    question: &str,
    choices: &[Choice<'_>],
    default: usize,
    wait: Duration,
) -> Result<Chosen, Error> {
    let prefix = format!("{}:choose:", ctx.id());
    let buttons = vec![serenity::CreateActionRow::Buttons(
        choices
            .iter()
            .enumerate()
            .map(|(i, c)| {
                serenity::CreateButton::new(format!("{prefix}{i}"))
                    .label(c.label)
                    .style(if c.primary {
                        serenity::ButtonStyle::Primary
                    } else {
                        serenity::ButtonStyle::Secondary
                    })
            })
            .collect(),
    )];
    let mut presses = super::ButtonPresses::new(ctx, prefix.clone());
    let handle = ctx
        .send(
            poise::CreateReply::default()
                .text(question)
                .components(buttons),
        )
        .await?;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Some(press) = presses.next(left).await else {
            let taken = choices.get(default).map_or("", |c| c.label);
            handle
                .edit(
                    ctx,
                    poise::CreateReply::default()
                        .text(format!("{question}\nNo answer: {taken}."))
                        .components(Vec::new()),
                )
                .await?;
            return Ok(Chosen {
                index: default,
                press: None,
            });
        };
        if press.user.id != ctx.author().id {
            super::answer_privately(ctx, &press, messages::NOT_YOUR_QUESTION).await?;
            continue;
        }
        let index = press
            .data
            .custom_id
            .strip_prefix(&prefix)
            .and_then(|i| i.parse::<usize>().ok())
            .filter(|&i| i < choices.len())
            .unwrap_or(default);
        let taken = choices.get(index).map_or("", |c| c.label);
        press
            .create_response(
                ctx,
                serenity::CreateInteractionResponse::UpdateMessage(
                    serenity::CreateInteractionResponseMessage::new()
                        .text(format!("{question}\n{taken}."))
                        .components(Vec::new()),
                ),
            )
            .await?;
        return Ok(Chosen {
            index,
            press: Some(press),
        });
    }
}
