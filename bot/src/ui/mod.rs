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
