-- Base schema (SQLite). Keep in step with migrations/postgres/0001_base.sql: the same tables,
-- columns and constraints, so one query file per domain serves both backends.
-- Integers are INTEGER (64-bit in SQLite) and timestamps are Unix milliseconds, because sqlx's
-- Any driver moves only plain integers, text and blobs between backends reliably.

CREATE TABLE users (
    id          INTEGER PRIMARY KEY,          -- Discord user id
    currency    INTEGER NOT NULL DEFAULT 0 CHECK (currency >= 0),
    settings    TEXT    NOT NULL DEFAULT '{}', -- JSON object of per-user preferences
    created_at  INTEGER NOT NULL
);

CREATE TABLE guild_settings (
    guild_id    INTEGER PRIMARY KEY,          -- Discord guild id
    prefix      TEXT,                         -- NULL: the configured default prefix
    locale      TEXT    NOT NULL DEFAULT 'en-US',
    created_at  INTEGER NOT NULL
);

-- Per-guild module switches; a module with no row uses its default.
CREATE TABLE guild_modules (
    guild_id    INTEGER NOT NULL,
    module      TEXT    NOT NULL,
    enabled     INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    changed_by  INTEGER NOT NULL,
    changed_at  INTEGER NOT NULL,
    PRIMARY KEY (guild_id, module)
);

-- Bot-owner emergency switch: a module listed here is off in every guild.
CREATE TABLE unloaded_modules (
    module      TEXT    PRIMARY KEY,
    changed_by  INTEGER NOT NULL,
    changed_at  INTEGER NOT NULL
);

-- Allow/deny rules for a command or module, scoped to a user, role or channel.
CREATE TABLE permission_rules (
    guild_id     INTEGER NOT NULL,
    target_kind  TEXT    NOT NULL CHECK (target_kind IN ('command', 'module')),
    target       TEXT    NOT NULL,
    subject_kind TEXT    NOT NULL CHECK (subject_kind IN ('user', 'role', 'channel')),
    subject_id   INTEGER NOT NULL,
    allow        INTEGER NOT NULL CHECK (allow IN (0, 1)),
    created_by   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (guild_id, target_kind, target, subject_kind, subject_id)
);

-- Custom commands ("tags").
CREATE TABLE tags (
    guild_id    INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    content     TEXT    NOT NULL,
    creator_id  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    uses        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, name)
);

CREATE TABLE aliases (
    guild_id    INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    expansion   TEXT    NOT NULL,
    creator_id  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (guild_id, name)
);

-- Per-guild cooldown overrides; bucket is 'user', 'channel' or 'guild'.
CREATE TABLE cooldown_overrides (
    guild_id    INTEGER NOT NULL,
    command     TEXT    NOT NULL,
    bucket      TEXT    NOT NULL CHECK (bucket IN ('user', 'channel', 'guild')),
    seconds     INTEGER NOT NULL CHECK (seconds >= 0),
    PRIMARY KEY (guild_id, command, bucket)
);
