//! Reusable Discord UI pieces.

mod choose;
mod paginate;

pub use choose::{Choice, Chosen, choose};
pub use paginate::paginate;

use std::pin::Pin;
use std::time::Duration;

use futures::{Stream, StreamExt};
use poise::serenity_prelude as serenity;

/// Embeds of `per_page` lines each, all titled `title`, for [`paginate`].
pub fn line_pages(title: &str, lines: &[String], per_page: usize) -> Vec<serenity::CreateEmbed> {
    lines
        .chunks(per_page)
        .map(|chunk| {
            serenity::CreateEmbed::new()
                .title(title)
                .description(chunk.join("\n"))
        })
        .collect()
}

/// Autocomplete choices: the names containing what the user typed so far (case-insensitive),
/// at most the 25 Discord accepts.
pub fn autocomplete<'a>(
    names: impl IntoIterator<Item = &'a str>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let partial = partial.to_lowercase();
    let choices = names
        .into_iter()
        .filter(|n| n.to_lowercase().contains(&partial))
        .take(25)
        .map(|n| serenity::AutocompleteChoice::new(n, n))
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// Answers a button press or pick privately ("these buttons aren't yours", why it was
/// refused), pinging nobody.
pub async fn answer_privately(
    ctx: crate::Context<'_>,
    press: &serenity::ComponentInteraction,
    content: impl Into<String>,
) -> Result<(), crate::Error> {
    use crate::reply::Text as _;
    press
        .create_response(
            ctx,
            serenity::CreateInteractionResponse::Message(
                serenity::CreateInteractionResponseMessage::new()
                    .text(content)
                    .ephemeral(true)
                    .allowed_mentions(serenity::CreateAllowedMentions::new()),
            ),
        )
        .await?;
    Ok(())
}

/// The presses on one conversation's buttons (custom ids starting with `prefix`), in order.
///
/// One collector serves the whole conversation: a press that arrives while the previous one
/// is still being handled waits in its queue, where a fresh collector per press would miss it.
pub struct ButtonPresses {
    stream: Pin<Box<dyn Stream<Item = serenity::ComponentInteraction> + Send>>,
}

impl ButtonPresses {
    pub fn new(shard: impl AsRef<serenity::ShardMessenger>, prefix: String) -> Self {
        let stream = serenity::ComponentInteractionCollector::new(shard)
            .filter(move |press| press.data.custom_id.starts_with(&prefix))
            .stream();
        Self {
            stream: Box::pin(stream),
        }
    }

    /// The next press, or `None` when none came within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<serenity::ComponentInteraction> {
        tokio::time::timeout(wait, self.stream.next())
            .await
            .ok()
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::autocomplete;

    #[test]
    fn autocomplete_ignores_case_and_caps_at_25() {
        let names = ["Yew tree", "Oak tree", "Goblin"];
        let json = serde_json::to_value(autocomplete(names, "TREE")).unwrap();
        let choices = json["choices"].as_array().unwrap();
        assert_eq!(choices.len(), 2, "{json}");
        let many: Vec<String> = (0..40).map(|i| format!("name {i}")).collect();
        let json = serde_json::to_value(autocomplete(many.iter().map(String::as_str), "")).unwrap();
        assert_eq!(json["choices"].as_array().unwrap().len(), 25);
    }
}
