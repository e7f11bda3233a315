-- OSRS Slayer (SQLite). Keep in step with migrations/postgres/0007_osrs_slayer.sql.

-- Slayer points and the number of tasks completed (the streak the point bonuses follow).
CREATE TABLE osrs_slayer (
    user_id     INTEGER PRIMARY KEY REFERENCES osrs_characters (user_id) ON DELETE CASCADE,
    points      INTEGER NOT NULL DEFAULT 0 CHECK (points >= 0),
    streak      INTEGER NOT NULL DEFAULT 0 CHECK (streak >= 0)
);

-- Tasks, kept after they end for the record. `remaining` only falls, through the payout that
-- claims a kill trip (same transaction), so kills are counted exactly once.
CREATE TABLE osrs_slayer_tasks (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES osrs_characters (user_id) ON DELETE CASCADE,
    master      TEXT    NOT NULL,
    category    TEXT    NOT NULL,             -- Slayer category, e.g. 'goblins'
    quantity    INTEGER NOT NULL CHECK (quantity > 0),
    remaining   INTEGER NOT NULL CHECK (remaining >= 0),
    state       TEXT    NOT NULL CHECK (state IN ('active', 'done', 'skipped')),
    assigned_at INTEGER NOT NULL,
    finished_at INTEGER
);

-- One task at a time per character, whatever process assigns it.
CREATE UNIQUE INDEX osrs_slayer_tasks_one_active ON osrs_slayer_tasks (user_id) WHERE state = 'active';

-- The task a kill trip counts toward (NULL when off task), and what paying it did to the
-- task (JSON), fixed in the payout so every post of the result says the same.
ALTER TABLE osrs_trips ADD COLUMN slayer_task INTEGER;
ALTER TABLE osrs_trips ADD COLUMN slayer_result TEXT;
