//! User-facing text shared across commands, kept in one place for consistent wording.

pub const INTERNAL_ERROR: &str =
    "Something went wrong on our side while running that. It has been logged";
pub const NOT_ALLOWED: &str = "You can't use this command here.";
pub const ONLY_INVOKER_PAGES: &str = "Only the person who ran the command can turn these pages.";
/// When a member's permissions can't be worked out (guild not cached yet), a command that
/// needs some is refused rather than run.
pub const PERMISSIONS_UNKNOWN: &str =
    "I couldn't work out your permissions here, so I didn't run that. Try again in a moment.";
