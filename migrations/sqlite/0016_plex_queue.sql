-- The watch party: each guild's Plex queue, the votes for what plays next, and what plays now
-- (with its last reported position, so a restart of the bot or the streamer resumes it).
-- Positions are dense (1..n) per guild; every change takes the guild's settings row first, so
-- changes to one queue never interleave.
CREATE TABLE plex_queue (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id     INTEGER NOT NULL,
    position     INTEGER NOT NULL CHECK (position >= 1),
    rating_key   TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    requested_by INTEGER NOT NULL,
    added_at     INTEGER NOT NULL             -- Unix milliseconds
);
CREATE INDEX plex_queue_by_guild ON plex_queue (guild_id, position);

CREATE TABLE plex_votes (
    entry_id INTEGER NOT NULL REFERENCES plex_queue (id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL,
    PRIMARY KEY (entry_id, user_id)
);

-- At most one row per guild; the bot keeps at most one row in all (the streamer plays in one
-- place at a time).
CREATE TABLE plex_now (
    guild_id     INTEGER PRIMARY KEY,
    channel_id   INTEGER NOT NULL,
    rating_key   TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    requested_by INTEGER NOT NULL,
    position_ms  INTEGER NOT NULL DEFAULT 0 CHECK (position_ms >= 0),
    updated_at   INTEGER NOT NULL
);
