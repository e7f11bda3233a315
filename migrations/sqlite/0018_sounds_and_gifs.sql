-- Each guild's soundboard clips (the bytes are content-addressed files under the data
-- directory, named by their SHA-256, so two guilds' identical clips share one file), and the
-- guild's GIF rating.
CREATE TABLE sounds (
    guild_id    INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    sha256      TEXT    NOT NULL,
    duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
    size_bytes  INTEGER NOT NULL CHECK (size_bytes >= 0),
    added_by    INTEGER NOT NULL,
    added_at    INTEGER NOT NULL,             -- Unix milliseconds
    plays       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, name)
);
CREATE INDEX sounds_by_hash ON sounds (sha256);

CREATE TABLE gif_settings (
    guild_id INTEGER PRIMARY KEY,
    rating   TEXT    NOT NULL CHECK (rating IN ('g', 'pg', 'pg-13', 'r'))
);
