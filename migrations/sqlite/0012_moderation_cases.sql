-- Moderation cases: every warn, note, kick, ban and timeout, numbered per guild. Numbers come
-- from mod_case_counters (one row per guild, bumped in the case's transaction), so they are
-- never reused, not even after a case is deleted.
CREATE TABLE mod_cases (
    guild_id     INTEGER NOT NULL,
    case_no      INTEGER NOT NULL,
    kind         TEXT    NOT NULL,            -- warn, note, kick, ban, timeout, untimeout
    target_id    INTEGER NOT NULL,
    moderator_id INTEGER NOT NULL,
    reason       TEXT,
    duration_ms  INTEGER,                     -- timeouts
    created_at   INTEGER NOT NULL,            -- Unix milliseconds
    revoked_at   INTEGER,                     -- a warning taken back with /unwarn
    revoked_by   INTEGER,
    PRIMARY KEY (guild_id, case_no)
);
CREATE INDEX mod_cases_by_target ON mod_cases (guild_id, target_id, case_no);

CREATE TABLE mod_case_counters (
    guild_id  INTEGER PRIMARY KEY,
    last_case INTEGER NOT NULL
);
