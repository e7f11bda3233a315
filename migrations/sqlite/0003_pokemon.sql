-- The Pokémon game (SQLite). Keep in step with migrations/postgres/0003_pokemon.sql.
-- Ownership only ever changes through conditional updates (`... WHERE owner_id = $expected`)
-- inside one transaction, so a Pokémon can never have two owners or vanish in a trade.

-- Where a guild's wild Pokémon appear; no row (or NULL) means "wherever people are chatting".
CREATE TABLE pokemon_guilds (
    guild_id         INTEGER PRIMARY KEY,
    spawn_channel_id INTEGER,
    changed_by       INTEGER NOT NULL,
    changed_at       INTEGER NOT NULL
);

-- A wild Pokémon posted in a channel. `caught_by` is set exactly once, by the conditional
-- update that wins the catch race; the newest row of a channel is the one that can be caught.
CREATE TABLE pokemon_spawns (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id    INTEGER NOT NULL,
    channel_id  INTEGER NOT NULL,
    species     INTEGER NOT NULL,
    level       INTEGER NOT NULL CHECK (level BETWEEN 1 AND 100),
    shiny       INTEGER NOT NULL CHECK (shiny IN (0, 1)),
    nature      INTEGER NOT NULL,
    ivs         TEXT    NOT NULL,             -- six comma-separated IVs: hp,atk,def,spa,spd,spe
    created_at  INTEGER NOT NULL,
    caught_by   INTEGER,
    caught_at   INTEGER
);
CREATE INDEX pokemon_spawns_channel ON pokemon_spawns (channel_id, id);

CREATE TABLE pokemon (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id    INTEGER NOT NULL,
    species     INTEGER NOT NULL,
    nickname    TEXT,
    level       INTEGER NOT NULL CHECK (level BETWEEN 1 AND 100),
    exp         INTEGER NOT NULL CHECK (exp >= 0),
    nature      INTEGER NOT NULL,
    ivs         TEXT    NOT NULL,
    shiny       INTEGER NOT NULL CHECK (shiny IN (0, 1)),
    friendship  INTEGER NOT NULL CHECK (friendship BETWEEN 0 AND 255),
    moves       TEXT    NOT NULL,             -- up to four comma-separated move numbers
    favourite   INTEGER NOT NULL DEFAULT 0 CHECK (favourite IN (0, 1)),
    evolve      INTEGER NOT NULL DEFAULT 1 CHECK (evolve IN (0, 1)), -- 0: the owner opted out
    spawn_id    INTEGER UNIQUE,               -- the spawn it was caught from
    caught_at   INTEGER NOT NULL
);
CREATE INDEX pokemon_owner ON pokemon (owner_id, id);

-- Species a user has ever owned (caught, evolved or received).
CREATE TABLE pokemon_dex (
    user_id     INTEGER NOT NULL,
    species     INTEGER NOT NULL,
    first_at    INTEGER NOT NULL,
    PRIMARY KEY (user_id, species)
);

-- Balls and other items.
CREATE TABLE pokemon_items (
    user_id     INTEGER NOT NULL,
    item        TEXT    NOT NULL,
    count       INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (user_id, item)
);

-- The Pokémon a trainer chats and battles with, and their record.
CREATE TABLE pokemon_trainers (
    user_id     INTEGER PRIMARY KEY,
    selected_id INTEGER,
    wins        INTEGER NOT NULL DEFAULT 0,
    losses      INTEGER NOT NULL DEFAULT 0
);

-- Completed trades, written in the trade's own transaction.
CREATE TABLE pokemon_trades (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_a      INTEGER NOT NULL,
    user_b      INTEGER NOT NULL,
    a_pokemon   TEXT    NOT NULL,             -- comma-separated ids user_a gave
    b_pokemon   TEXT    NOT NULL,
    a_coins     INTEGER NOT NULL CHECK (a_coins >= 0),
    b_coins     INTEGER NOT NULL CHECK (b_coins >= 0),
    traded_at   INTEGER NOT NULL
);

-- Finished battles. `opponent_id` is NULL against a wild Pokémon; `winner_id` NULL for a
-- wild win or a tie.
CREATE TABLE pokemon_battles (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id     INTEGER NOT NULL,
    challenger_id INTEGER NOT NULL,
    opponent_id  INTEGER,
    winner_id    INTEGER,
    outcome      TEXT    NOT NULL CHECK (outcome IN ('win', 'loss', 'tie', 'forfeit', 'timeout')),
    turns        INTEGER NOT NULL,
    finished_at  INTEGER NOT NULL
);
