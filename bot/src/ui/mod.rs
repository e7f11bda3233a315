//! Reusable Discord UI pieces.

mod paginate;

pub use paginate::paginate;

use poise::serenity_prelude as serenity;

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
