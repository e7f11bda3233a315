-- Each guild's soundboard clips (the bytes are content-addressed files under the data
-- directory, named by their SHA-256, so two guilds' identical clips share one file), and the
-- guild's GIF rating.
CREATE TABLE sounds (
    guild_id    BIGINT  NOT NULL,
    name        TEXT    NOT NULL,
    sha256      TEXT    NOT NULL,
    duration_ms BIGINT  NOT NULL CHECK (duration_ms >= 0),
    size_bytes  BIGINT  NOT NULL CHECK (size_bytes >= 0),
    added_by    BIGINT  NOT NULL,
    added_at    BIGINT  NOT NULL,             -- Unix milliseconds
    plays       BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, name)
);
CREATE INDEX sounds_by_hash ON sounds (sha256);

CREATE TABLE gif_settings (
    guild_id BIGINT  PRIMARY KEY,
    rating   TEXT    NOT NULL CHECK (rating IN ('g', 'pg', 'pg-13', 'r'))
);
