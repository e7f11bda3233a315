-- Moderation cases: every warn, note, kick, ban and timeout, numbered per guild. Numbers come
-- from mod_case_counters (one row per guild, bumped in the case's transaction), so they are
-- never reused, not even after a case is deleted.
CREATE TABLE mod_cases (
    guild_id     BIGINT  NOT NULL,
    case_no      BIGINT  NOT NULL,
    kind         TEXT    NOT NULL,            -- warn, note, kick, ban, timeout, untimeout
    target_id    BIGINT  NOT NULL,
    moderator_id BIGINT  NOT NULL,
    reason       TEXT,
    duration_ms  BIGINT,                      -- timeouts
    created_at   BIGINT  NOT NULL,            -- Unix milliseconds
    revoked_at   BIGINT,                      -- a warning taken back with /unwarn
    revoked_by   BIGINT,
    PRIMARY KEY (guild_id, case_no)
);
CREATE INDEX mod_cases_by_target ON mod_cases (guild_id, target_id, case_no);

CREATE TABLE mod_case_counters (
    guild_id  BIGINT  PRIMARY KEY,
    last_case BIGINT  NOT NULL
);
