//! User-facing text shared across commands, kept in one place for consistent wording.

pub const INTERNAL_ERROR: &str =
    "Something went wrong on our side while running that. It has been logged";
pub const NOT_ALLOWED: &str = "You can't use this command here.";
pub const ONLY_INVOKER_PAGES: &str = "Only the person who ran the command can turn these pages.";
/// When a member's permissions can't be worked out (guild not cached yet), a command that
/// needs some is refused rather than run.
pub const PERMISSIONS_UNKNOWN: &str =
    "I couldn't work out your permissions here, so I didn't run that. Try again in a moment.";
/// When a server has permission rules and the member's roles can't be looked up, the command
/// is refused: the rules might deny them.
pub const MEMBER_UNKNOWN: &str = "I couldn't look up your roles in this server just now, and its permission rules depend on them, so I didn't run that. Try again in a moment.";
