//! The one door every message text goes through. Replies echo what members typed, so any of
//! them can outgrow Discord's 2,000 characters, which Discord answers with a 400 and the member
//! with a generic error after the work was done. [`Text::text`] cuts every text to fit, on a
//! character boundary with an ellipsis; the raw `content` setters are disallowed in
//! `clippy.toml` so no reply can skip the cut.
#![allow(clippy::disallowed_methods)] // the one place the raw setters are used

use poise::serenity_prelude as serenity;

use crate::Context;

/// Discord's limit for a message's text.
pub const MAX_CONTENT: usize = serenity::constants::MESSAGE_CODE_LIMIT;

const ELLIPSIS: char = '…';
const FENCE: &str = "```";

/// `text` in at most `max` characters: unchanged when it fits, else cut with an ellipsis, and a
/// code block the cut left open closed again so the rest of the reply isn't swallowed by it.
pub fn fit(text: impl Into<String>, max: usize) -> String {
    let text = text.into();
    if text.chars().count() <= max {
        return text;
    }
    let cut = |keep: usize| -> String { text.chars().take(keep).collect() };
    let mut out = cut(max.saturating_sub(1));
    if out.matches(FENCE).count() % 2 == 1 {
        // Room for the ellipsis, a newline and the closing fence.
        out = cut(max.saturating_sub(1 + 1 + FENCE.len()));
        out.push(ELLIPSIS);
        out.push('\n');
        out.push_str(FENCE);
    } else {
        out.push(ELLIPSIS);
    }
    out
}

/// Builders that carry a message text: `.text(..)` is `.content(..)` cut to fit.
pub trait Text: Sized {
    #[must_use]
    fn text(self, text: impl Into<String>) -> Self;
}

macro_rules! text_via_content {
    ($($ty:ty),* $(,)?) => {$(
        impl Text for $ty {
            fn text(self, text: impl Into<String>) -> Self {
                self.content(fit(text, MAX_CONTENT))
            }
        }
    )*};
}

text_via_content!(
    poise::CreateReply,
    serenity::CreateMessage,
    serenity::EditMessage,
    serenity::CreateInteractionResponseMessage,
    serenity::EditInteractionResponse,
    serenity::CreateInteractionResponseFollowup,
);

/// `ctx.say`, cut to fit.
pub async fn say(
    ctx: Context<'_>,
    text: impl Into<String>,
) -> Result<poise::ReplyHandle<'_>, serenity::Error> {
    ctx.send(poise::CreateReply::default().text(text)).await
}

/// Text that pings nobody even where `allowed_mentions` is ignored (a Discord-compatible server
/// was seen doing so): `@everyone` and `@here` get a zero-width space after the `@`, and role
/// mentions become the role's name (`role_name` looks it up; unknown roles read
/// `@deleted-role`). Member mentions stay: `allowed_mentions` still governs those, and tags name
/// their invoker on purpose.
pub fn defuse(text: &str, role_name: impl Fn(u64) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(['@', '<']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix('@') {
            out.push('@');
            if after.starts_with("everyone") || after.starts_with("here") {
                out.push('\u{200b}');
            }
            rest = after;
        } else if let Some((id, len)) = role_mention(rest) {
            out.push('@');
            out.push_str(&role_name(id).unwrap_or_else(|| "deleted-role".to_owned()));
            rest = &rest[len..];
        } else {
            out.push('<');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

/// `<@&123>` at the start of `s`: the role id and the mention's length in bytes.
fn role_mention(s: &str) -> Option<(u64, usize)> {
    let digits = s.strip_prefix("<@&")?;
    let end = digits.find('>')?;
    let id = digits[..end].parse().ok()?;
    Some((id, 3 + end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_fits_is_untouched() {
        let s = "é".repeat(MAX_CONTENT);
        assert_eq!(fit(s.clone(), MAX_CONTENT), s);
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary_with_an_ellipsis() {
        let out = fit("é".repeat(3000), MAX_CONTENT);
        assert_eq!(out.chars().count(), MAX_CONTENT);
        assert!(out.ends_with("é…"), "{out:?}");
    }

    #[test]
    fn a_code_block_the_cut_opens_is_closed() {
        let out = fit(format!("see:\n```\n{}\n```", "x".repeat(3000)), 100);
        assert_eq!(out.chars().count(), 100);
        assert!(out.ends_with("x…\n```"), "{out:?}");
        assert_eq!(out.matches(FENCE).count(), 2);
        // A cut after a closed block adds no fence.
        let out = fit(format!("```a```{}", "y".repeat(200)), 50);
        assert!(out.ends_with("y…"), "{out:?}");
    }

    #[test]
    fn mass_and_role_mentions_are_defused() {
        let names = |id| (id == 7).then(|| "Mods".to_owned());
        assert_eq!(
            defuse("@everyone @here <@&7> <@&8> <@42> <@&x> a<b @bob", names),
            "@\u{200b}everyone @\u{200b}here @Mods @deleted-role <@42> <@&x> a<b @bob"
        );
        assert_eq!(defuse("<@&7", names), "<@&7");
        assert_eq!(defuse("", names), "");
    }
}
