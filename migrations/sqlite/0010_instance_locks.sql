-- One lounge process per bot (see bot/store/src/instance.rs). SQLite has no session locks that
-- outlive a statement, so the holder keeps a row and renews its lease; a process that crashed
-- leaves the row to expire, and the next one takes it then. PostgreSQL uses an advisory lock
-- instead and has no such table, which is why this migration exists for SQLite alone.
CREATE TABLE instance_locks (
    key TEXT PRIMARY KEY,
    -- Who holds it, in words for the process that waits: "pid 4242 on host1 since ...".
    holder TEXT NOT NULL,
    -- Unix milliseconds; the lock is free for the taking from then on.
    expires_at INTEGER NOT NULL
);
