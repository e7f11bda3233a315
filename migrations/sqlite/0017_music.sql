-- Music: each guild's queue, what plays now (with its position, saved every second, so a
-- restarted bot rejoins and resumes it), the last tracks played, and the guild's player
-- settings. Positions are dense (1..n) per guild; every change takes the guild's settings row
-- first, so changes to one queue never interleave.
CREATE TABLE music_queue (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id     INTEGER NOT NULL,
    position     INTEGER NOT NULL CHECK (position >= 1),
    title        TEXT    NOT NULL,
    url          TEXT    NOT NULL,            -- a page yt-dlp resolves, or a file under music.roots
    source       TEXT    NOT NULL,            -- 'ytdlp' | 'file'
    duration_ms  INTEGER,                     -- NULL: not known until it plays
    requested_by INTEGER NOT NULL,
    added_at     INTEGER NOT NULL             -- Unix milliseconds
);
CREATE INDEX music_queue_by_guild ON music_queue (guild_id, position);

CREATE TABLE music_now (
    guild_id        INTEGER PRIMARY KEY,
    channel_id      INTEGER NOT NULL,
    text_channel_id INTEGER NOT NULL,
    title           TEXT    NOT NULL,
    url             TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    duration_ms     INTEGER,
    requested_by    INTEGER NOT NULL,
    position_ms     INTEGER NOT NULL DEFAULT 0 CHECK (position_ms >= 0),
    paused          INTEGER NOT NULL DEFAULT 0,
    started_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE music_history (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id     INTEGER NOT NULL,
    title        TEXT    NOT NULL,
    url          TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    duration_ms  INTEGER,
    requested_by INTEGER NOT NULL,
    played_at    INTEGER NOT NULL
);
CREATE INDEX music_history_by_guild ON music_history (guild_id, id);

CREATE TABLE music_settings (
    guild_id  INTEGER PRIMARY KEY,
    volume    INTEGER NOT NULL DEFAULT 100 CHECK (volume BETWEEN 0 AND 200),
    loop_mode TEXT    NOT NULL DEFAULT 'off' CHECK (loop_mode IN ('off', 'track', 'queue')),
    dj_role   INTEGER,
    always_on INTEGER NOT NULL DEFAULT 0
);
