//! User-facing text shared across commands, kept in one place for consistent wording.

pub const INTERNAL_ERROR: &str =
    "Something went wrong on our side while running that. It has been logged";
pub const NOT_ALLOWED: &str = "You can't use this command here.";
pub const NOT_YOUR_QUESTION: &str = "That question is for the person who ran the command.";
pub const ONLY_INVOKER_PAGES: &str = "Only the person who ran the command can turn these pages.";
/// When a member's permissions can't be worked out (guild not cached yet), a command that
/// needs some is refused rather than run.
pub const PERMISSIONS_UNKNOWN: &str =
    "I couldn't work out your permissions here, so I didn't run that. Try again in a moment.";
/// When a server has permission rules and the member's roles can't be looked up, the command
/// is refused: the rules might deny them.
pub const MEMBER_UNKNOWN: &str = "I couldn't look up your roles in this server just now, and its permission rules depend on them, so I didn't run that. Try again in a moment.";
/// The global limiter's refusal. Slash commands get it privately; a prefix message gets only
/// [`SLOW_DOWN_REACTION`], so a spammer's flood is not mirrored by the bot's own messages.
pub fn too_fast(wait: std::time::Duration) -> String {
    format!(
        "You're using commands too fast. Try again in {} s.",
        wait.as_secs() + 1
    )
}
pub const SLOW_DOWN_REACTION: char = '⏳';
/// A slash command whose options don't match this build (Discord still has the previous
/// registration during a rollout).
pub const COMMAND_OUT_OF_DATE: &str = "I couldn't read that command's options: Discord still has an older version of it. It updates within a minute or two (restarting Discord helps); try again then.";
