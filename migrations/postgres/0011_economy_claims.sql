-- Timed rewards (/daily, /weekly, /work): when each user last claimed each kind, and the run of
-- consecutive claims. A claim is one conditional upsert on this row plus the credit, in one
-- transaction, so concurrent claims pay once (see bot/store/src/economy.rs).
CREATE TABLE economy_claims (
    user_id BIGINT  NOT NULL REFERENCES users (id),
    kind    TEXT    NOT NULL,                 -- 'daily', 'weekly', 'work'
    last_at BIGINT  NOT NULL,                 -- Unix milliseconds
    streak  BIGINT  NOT NULL CHECK (streak >= 1),
    PRIMARY KEY (user_id, kind)
);
