-- The modlog: a channel per guild where every case is posted. A case recorded while a modlog
-- is set owes a post there (log_channel); log_lease says which process is posting it until
-- when, and logged_at that it was posted, so a crash between recording and posting loses
-- nothing and (with the post's nonce) repeats nothing.
CREATE TABLE mod_log_channels (
    guild_id   INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL
);
ALTER TABLE mod_cases ADD COLUMN log_channel INTEGER;
ALTER TABLE mod_cases ADD COLUMN log_lease INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mod_cases ADD COLUMN logged_at INTEGER;
CREATE INDEX mod_cases_owed_logs ON mod_cases (logged_at, log_lease);
