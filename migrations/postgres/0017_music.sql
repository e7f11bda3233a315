-- Music: each guild's queue, what plays now (with its position, saved every second, so a
-- restarted bot rejoins and resumes it), the last tracks played, and the guild's player
-- settings. Positions are dense (1..n) per guild; every change takes the guild's settings row
-- first, so changes to one queue never interleave.
CREATE TABLE music_queue (
    id           BIGSERIAL PRIMARY KEY,
    guild_id     BIGINT  NOT NULL,
    position     BIGINT  NOT NULL CHECK (position >= 1),
    title        TEXT    NOT NULL,
    url          TEXT    NOT NULL,            -- a page yt-dlp resolves, or a file under music.roots
    source       TEXT    NOT NULL,            -- 'ytdlp' | 'file'
    duration_ms  BIGINT,                     -- NULL: not known until it plays
    requested_by BIGINT  NOT NULL,
    added_at     BIGINT  NOT NULL             -- Unix milliseconds
);
CREATE INDEX music_queue_by_guild ON music_queue (guild_id, position);

CREATE TABLE music_now (
    guild_id        BIGINT  PRIMARY KEY,
    channel_id      BIGINT  NOT NULL,
    text_channel_id BIGINT  NOT NULL,
    title           TEXT    NOT NULL,
    url             TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    duration_ms     BIGINT,
    requested_by    BIGINT  NOT NULL,
    position_ms     BIGINT  NOT NULL DEFAULT 0 CHECK (position_ms >= 0),
    paused          BIGINT  NOT NULL DEFAULT 0,
    started_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);

CREATE TABLE music_history (
    id           BIGSERIAL PRIMARY KEY,
    guild_id     BIGINT  NOT NULL,
    title        TEXT    NOT NULL,
    url          TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    duration_ms  BIGINT,
    requested_by BIGINT  NOT NULL,
    played_at    BIGINT  NOT NULL
);
CREATE INDEX music_history_by_guild ON music_history (guild_id, id);

CREATE TABLE music_settings (
    guild_id  BIGINT  PRIMARY KEY,
    volume    BIGINT  NOT NULL DEFAULT 100 CHECK (volume BETWEEN 0 AND 200),
    loop_mode TEXT    NOT NULL DEFAULT 'off' CHECK (loop_mode IN ('off', 'track', 'queue')),
    dj_role   BIGINT,
    always_on BIGINT  NOT NULL DEFAULT 0
);
