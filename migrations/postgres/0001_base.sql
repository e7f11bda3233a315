-- Base schema (PostgreSQL). Keep in step with migrations/sqlite/0001_base.sql: the same tables,
-- columns and constraints, so one query file per domain serves both backends.
-- Integers are BIGINT (to match SQLite's 64-bit INTEGER) and timestamps are Unix milliseconds, because sqlx's
-- Any driver moves only plain integers, text and blobs between backends reliably.

CREATE TABLE users (
    id          BIGINT  PRIMARY KEY,          -- Discord user id
    currency    BIGINT  NOT NULL DEFAULT 0 CHECK (currency >= 0),
    settings    TEXT    NOT NULL DEFAULT '{}', -- JSON object of per-user preferences
    created_at  BIGINT  NOT NULL
);

CREATE TABLE guild_settings (
    guild_id    BIGINT  PRIMARY KEY,          -- Discord guild id
    prefix      TEXT,                         -- NULL: the configured default prefix
    locale      TEXT    NOT NULL DEFAULT 'en-US',
    created_at  BIGINT  NOT NULL
);

-- Per-guild module switches; a module with no row uses its default.
CREATE TABLE guild_modules (
    guild_id    BIGINT  NOT NULL,
    module      TEXT    NOT NULL,
    enabled     BIGINT  NOT NULL CHECK (enabled IN (0, 1)),
    changed_by  BIGINT  NOT NULL,
    changed_at  BIGINT  NOT NULL,
    PRIMARY KEY (guild_id, module)
);

-- Bot-owner emergency switch: a module listed here is off in every guild.
CREATE TABLE unloaded_modules (
    module      TEXT    PRIMARY KEY,
    changed_by  BIGINT  NOT NULL,
    changed_at  BIGINT  NOT NULL
);

-- Allow/deny rules for a command or module, scoped to a user, role or channel.
CREATE TABLE permission_rules (
    guild_id     BIGINT  NOT NULL,
    target_kind  TEXT    NOT NULL CHECK (target_kind IN ('command', 'module')),
    target       TEXT    NOT NULL,
    subject_kind TEXT    NOT NULL CHECK (subject_kind IN ('user', 'role', 'channel')),
    subject_id   BIGINT  NOT NULL,
    allow        BIGINT  NOT NULL CHECK (allow IN (0, 1)),
    created_by   BIGINT  NOT NULL,
    created_at   BIGINT  NOT NULL,
    PRIMARY KEY (guild_id, target_kind, target, subject_kind, subject_id)
);

-- Custom commands ("tags").
CREATE TABLE tags (
    guild_id    BIGINT  NOT NULL,
    name        TEXT    NOT NULL,
    content     TEXT    NOT NULL,
    creator_id  BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    uses        BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, name)
);

CREATE TABLE aliases (
    guild_id    BIGINT  NOT NULL,
    name        TEXT    NOT NULL,
    expansion   TEXT    NOT NULL,
    creator_id  BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (guild_id, name)
);

-- Per-guild cooldown overrides; bucket is 'user', 'channel' or 'guild'.
CREATE TABLE cooldown_overrides (
    guild_id    BIGINT  NOT NULL,
    command     TEXT    NOT NULL,
    bucket      TEXT    NOT NULL CHECK (bucket IN ('user', 'channel', 'guild')),
    seconds     BIGINT  NOT NULL CHECK (seconds >= 0),
    PRIMARY KEY (guild_id, command, bucket)
);
