-- OSRS game (SQLite). Keep in step with migrations/postgres/0002_osrs.sql: the same tables,
-- columns and constraints.

-- One character per Discord user, shared across guilds.
CREATE TABLE osrs_characters (
    user_id     INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    name_key    TEXT    NOT NULL UNIQUE,      -- lower-cased name: names are unique ignoring case
    mode        TEXT    NOT NULL CHECK (mode IN ('members', 'free')),
    world       INTEGER NOT NULL,
    location    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Experience per skill; `level` is derived from `xp` and stored for leaderboards.
CREATE TABLE osrs_skills (
    user_id     INTEGER NOT NULL REFERENCES osrs_characters (user_id) ON DELETE CASCADE,
    skill       TEXT    NOT NULL,
    xp          INTEGER NOT NULL CHECK (xp >= 0),
    level       INTEGER NOT NULL CHECK (level BETWEEN 1 AND 99),
    PRIMARY KEY (user_id, skill)
);

CREATE INDEX osrs_skills_by_xp ON osrs_skills (skill, xp);

CREATE TABLE osrs_bank (
    user_id     INTEGER NOT NULL REFERENCES osrs_characters (user_id) ON DELETE CASCADE,
    item_id     INTEGER NOT NULL,
    qty         INTEGER NOT NULL CHECK (qty >= 0),
    PRIMARY KEY (user_id, item_id)
);

-- Worn items, one per slot; a two-handed weapon is kept in the weapon slot.
CREATE TABLE osrs_equipment (
    user_id     INTEGER NOT NULL REFERENCES osrs_characters (user_id) ON DELETE CASCADE,
    slot        TEXT    NOT NULL,
    item_id     INTEGER NOT NULL,
    PRIMARY KEY (user_id, slot)
);

CREATE TABLE osrs_kills (
    user_id     INTEGER NOT NULL REFERENCES osrs_characters (user_id) ON DELETE CASCADE,
    monster     TEXT    NOT NULL,
    kills       INTEGER NOT NULL CHECK (kills >= 0),
    PRIMARY KEY (user_id, monster)
);

CREATE INDEX osrs_kills_by_monster ON osrs_kills (monster, kills);

CREATE TABLE osrs_achievements (
    user_id     INTEGER NOT NULL REFERENCES osrs_characters (user_id) ON DELETE CASCADE,
    achievement TEXT    NOT NULL,
    earned_at   INTEGER NOT NULL,
    PRIMARY KEY (user_id, achievement)
);

-- Guilds a character has played in, for per-guild leaderboards.
CREATE TABLE osrs_guild_players (
    guild_id    INTEGER NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES osrs_characters (user_id) ON DELETE CASCADE,
    PRIMARY KEY (guild_id, user_id)
);

-- Trips. The outcome is simulated when the trip starts (from `seed`) and paid when it ends:
-- the payout claims the row with `UPDATE ... WHERE id = $1 AND state = 'active'` in the same
-- transaction that credits experience and items, so it happens exactly once.
CREATE TABLE osrs_trips (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES osrs_characters (user_id) ON DELETE CASCADE,
    guild_id    INTEGER,                      -- NULL for trips started in DMs
    channel_id  INTEGER NOT NULL,             -- where the result is posted
    kind        TEXT    NOT NULL CHECK (kind IN ('kill', 'skill', 'travel')),
    target      TEXT    NOT NULL,             -- monster, activity or destination
    seed        INTEGER NOT NULL,
    outcome     TEXT    NOT NULL,             -- JSON of the engine's TripOutcome ('{}' for travel)
    state       TEXT    NOT NULL CHECK (state IN ('active', 'done')),
    started_at  INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL,
    finished_at INTEGER
);

-- One trip at a time per character, whatever process starts it.
CREATE UNIQUE INDEX osrs_trips_one_active ON osrs_trips (user_id) WHERE state = 'active';
CREATE INDEX osrs_trips_due ON osrs_trips (state, ends_at);
CREATE INDEX osrs_trips_by_user ON osrs_trips (user_id, id);
